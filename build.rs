//! Compiles the gRPC definitions in `proto/` without a system `protoc`: `protox` parses them in
//! pure Rust and tonic-prost-build generates the Rust types and service stubs from that descriptor set.

use std::path::Path;

const PROTOS: &[&str] = &["proto/tfplugin6.proto", "proto/plugin.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let files: Vec<&str> = PROTOS.iter().copied().filter(|p| Path::new(p).exists()).collect();
    let descriptors = protox::compile(&files, ["proto"])?;
    tonic_prost_build::configure()
        // Clients are generated for the tests; they do not need tonic's transport layer.
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
