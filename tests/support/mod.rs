//! Shared test support: starting the provider the way Terraform does, gRPC clients over (m)TLS,
//! the simulator, the real Terraform CLI, processes with time limits, a static HTTPS server
//! (a network mirror), hand-made loopback HTTP answers, and bounded waits for a condition.
#![allow(dead_code)]

pub mod auth;
pub mod grpc;
pub mod https;
pub mod loopback;
pub mod plugin;
pub mod proc;
pub mod reliability;
pub mod sim;
pub mod terraform;
pub mod wait;
