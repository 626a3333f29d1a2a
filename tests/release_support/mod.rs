//! Helpers for tests/release.rs: bounded processes, the provider started from a release binary
//! (in an empty root or under qemu), a static HTTPS server for the network mirror, and Terraform
//! run with a CLI configuration of our own.
#![allow(dead_code)]

pub mod https;
pub mod msgpack;
pub mod plugin;
pub mod proc;
pub mod terraform;
