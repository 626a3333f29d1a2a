//! terraform-provider-hss: a Terraform provider that reads the open ports of a server from
//! Huawei Cloud Host Security Service (HSS).

mod civil;
mod data_sources;
mod diagnostics;
#[doc(hidden)]
pub mod docs;
#[doc(hidden)]
pub mod fuzzing;
pub mod hss;
mod logging;
pub mod plugin;
pub mod proto;
pub mod protocol;
mod provider;
mod schema;
pub mod sim;
pub mod value;

/// Installs the stderr logger Terraform reads, at the level from `TF_LOG_PROVIDER`/`TF_LOG`.
pub fn init_logging() {
    logging::init();
}
