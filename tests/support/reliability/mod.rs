//! Helpers for the reliability and security tests (fault matrix, cancellation, secrets, resource
//! bounds): an echoing HTTP server and /proc inspection (the gRPC driver is `support::grpc`).

pub mod echo;
pub mod procs;
