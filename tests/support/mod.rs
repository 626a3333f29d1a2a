//! Shared test support: starting the provider the way Terraform does, gRPC clients over (m)TLS,
//! the simulator, and the real Terraform CLI.
#![allow(dead_code)]

pub mod auth;
pub mod grpc;
pub mod plugin;
pub mod reliability;
pub mod sim;
pub mod terraform;
