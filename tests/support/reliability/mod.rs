//! Helpers for the reliability and security tests (fault matrix, cancellation, secrets, resource
//! bounds): the provider driven over gRPC, an echoing HTTP server, and /proc inspection.

pub mod echo;
pub mod grpc;
pub mod procs;
