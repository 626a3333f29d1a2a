//! The Rust types generated from `proto/` by `build.rs`: the Terraform plugin protocol
//! (`tfplugin6`) and go-plugin's own services (`plugin`).
//!
//! Public only so that the integration tests can drive the provider with generated clients;
//! it is not a stable API.

#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
