//! terraform-provider-hss: a Terraform provider that reads what servers protected by Huawei
//! Cloud Host Security Service (HSS) listen on, one server or the whole fleet, and checks it
//! against port policies.
//!
//! # How one read travels
//!
//! A user writes `host_id = "abc"`; Terraform encodes the configuration as msgpack and calls
//! `ReadDataSource` over gRPC with mutual TLS.
//!
//! 1. [`plugin`] accepted the connection (only from the client certificate Terraform gave us)
//!    and hands the call to the protocol layer;
//! 2. `protocol` finds the data source by type name;
//! 3. [`value`] decodes the bytes into a typed value, keeping null and unknown apart;
//! 4. the data source's typed model parses it once, with attribute paths in every diagnostic
//!    (`model`: parse, don't validate);
//! 5. [`hss`] signs the request, reads page 0, fetches the other pages concurrently within the
//!    provider-wide limits, retries what is worth retrying, and checks that the pages account
//!    for `total_num` exactly and that each overlaps the one before by one record (so that a
//!    list that shifted during the read is read again, never returned mixed);
//! 6. the data source sorts the records and builds the state;
//! 7. [`value`] encodes the state to msgpack, and the answer goes back to Terraform.
//!
//! Each step crosses one module boundary and nothing reaches back up: `hss` knows nothing of
//! Terraform, `value` nothing of gRPC, and only `protocol` knows the generated protocol types.
//!
//! # Layout
//!
//! - [`plugin`]: the go-plugin transport: handshake, AutoMTLS, serving, debug mode.
//! - `protocol`: the tfplugin6 service; requests in, diagnostics and states out.
//! - [`value`]: Terraform's value model, the msgpack codec, types and attribute paths.
//! - `schema`: the schema model; `diagnostics`: what users are told.
//! - `model`: typed block models, from which schemas, parsing and rendering derive.
//! - `provider`: the provider block, its `HW_*` fallbacks, and the client every read shares.
//! - `data_sources`: the `DataSource` trait, the registry, one file per data source.
//! - `functions`: the provider functions (Terraform ≥ 1.8) over the same matcher.
//! - `policy`: the port-policy rules and their matcher, free of Terraform types.
//! - [`hss`]: the HSS API client: signing, transport, retries, paging, limits, errors.
//! - `logging`: JSON log lines on stderr in the shape Terraform re-logs.
//!
//! The simulator is the separate `hss-sim` crate, a dev-dependency of the tests only. The
//! `internals` feature (off by default) exposes entry points for the fuzz targets, property
//! tests, benchmarks and the docs renderer.

mod data_sources;
mod diagnostics;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod docs;
mod functions;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod fuzzing;
pub mod hss;
mod logging;
mod model;
pub mod plugin;
mod policy;
pub mod proto;
pub mod protocol;
mod provider;
mod schema;
pub mod value;

/// The provider's version: the release version when `scripts/release.sh` builds it (it sets
/// `HSS_PROVIDER_VERSION`), else the crate version. `--version` and the User-Agent show it.
pub const VERSION: &str = match option_env!("HSS_PROVIDER_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

/// Installs the stderr logger Terraform reads, at the level from `TF_LOG_PROVIDER`/`TF_LOG`.
pub fn init_logging() {
    logging::init();
}
