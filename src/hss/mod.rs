//! HSS API client: configuration, authentication (token or AK/SK signature), the single request
//! builder, complete concurrent paging, the single retry loop, provider-wide limits and typed
//! errors. No Terraform types in here: the data source maps these types to Terraform values.
//!
//! Layout:
//! - [`config`]: [`ClientConfig`] and [`Credentials`] with their defaults;
//! - [`secret`]: [`Secret`], a string that never prints itself;
//! - [`sign`]: Huawei `SDK-HMAC-SHA256` signing and RFC 3986 escaping;
//! - `request`: builds one signed request (URL, canonical query, headers, auth);
//! - `limits`: concurrency gate, token bucket and adaptive back-off shared by all clones;
//! - `transport`: what every request shares, and one HTTP exchange (limits, signed request,
//!   timeout, decoding, classification of the outcome);
//! - `retry`: the retry loop over attempts, back-off with full jitter, `Retry-After`;
//! - `paging`: reads every page and checks the result is complete;
//! - `listing`: the same for any `{total_num, data_list}` API, in overlapping pages;
//! - [`fleet`]: serde types of the fleet APIs (hosts, servers with a port open, port statistics);
//! - [`model`]: serde types of the API; [`error`]: the [`Error`] type and its hints;
//! - `client`: [`Client`], tying it together.
//!
//! Dependencies run one way: `client` → `paging` → `retry` → `transport` → `request`, `limits`.

mod client;
pub mod config;
pub mod error;
pub mod fleet;
mod limits;
pub(crate) mod listing;
pub mod model;
pub(crate) mod paging;
mod request;
mod retry;
pub mod secret;
pub mod sign;
mod transport;

pub use client::{Client, user_agent};
pub use config::{ClientConfig, Credentials, DEFAULT_CLOUD};
pub use error::{Error, ErrorKind};
pub use fleet::{HostQuery, HostRecord, PortHostQuery, PortHostRecord, PortStatistic, PortStatisticsQuery};
pub use listing::{ListRequest, Listing};
pub use model::{PortList, PortPage, PortQuery, PortRecord};
pub use request::{AUTH_TOKEN_HEADER, PROJECT_ID_HEADER, SECURITY_TOKEN_HEADER};
pub use secret::Secret;
