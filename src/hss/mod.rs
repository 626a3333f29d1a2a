//! HSS API client: configuration, authentication (token or AK/SK signature), the single request
//! builder, complete concurrent paging in overlapping pages, the single retry loop, provider-wide limits and typed
//! errors. No Terraform types in here: the data source maps these types to Terraform values.
//!
//! Layout:
//! - [`config`]: [`ClientConfig`] and [`Credentials`] with their defaults;
//! - [`secret`]: [`Secret`], a string that never prints itself;
//! - [`sign`]: Huawei `SDK-HMAC-SHA256` signing and RFC 3986 escaping;
//! - `request`: builds one signed request (URL, canonical query, headers, auth), signed with
//!   the credentials of the moment;
//! - `credentials`: fixed or temporary credentials (assumed agency, ECS agency), renewed
//!   before they expire, single-flight;
//! - `iam`: the project ID lookup and `assume_role`'s security tokens;
//! - `limits`: concurrency gate, token bucket and adaptive back-off shared by all clones;
//! - `transport`: what every request shares, and one HTTP exchange (limits, signed request,
//!   timeout, decoding, classification of the outcome);
//! - `retry`: the retry loop over attempts, back-off with full jitter, `Retry-After`;
//! - `paging`: reads every page of a list (the port list, the hosts, ...), in overlapping
//!   pages, and checks the result is complete and consistent;
//! - [`fleet`]: serde types of the fleet APIs (hosts, servers with a port open, port statistics);
//! - [`model`]: serde types of the port list, and what every list shares ([`Page`],
//!   [`ListRequest`], [`Listing`]); [`error`]: the [`Error`] type and its hints;
//! - `client`: [`Client`], tying it together.
//!
//! Dependencies run one way: `client` → `paging` → `retry` → `transport` → `request`, `limits`;
//! `client` → `iam`, `credentials` → `iam` → `retry`, `transport` (bounded bodies), and `request`
//! reads `credentials`; errors and their classification (`error`) are below them all.

mod client;
pub mod config;
mod credentials;
pub mod error;
pub mod fleet;
mod iam;
mod limits;
pub mod model;
pub(crate) mod paging;
mod request;
mod retry;
pub mod secret;
pub mod sign;
mod transport;

pub use client::{Client, user_agent};
pub use config::{
    ASSUME_ROLE_DURATION_RANGE, AssumeRole, ClientConfig, CredentialSource, Credentials, DEFAULT_ASSUME_ROLE_DURATION,
    DEFAULT_CLOUD, DEFAULT_ECS_METADATA_ENDPOINT,
};
pub use error::{Error, ErrorKind};
pub use fleet::{HostQuery, HostRecord, PortHostQuery, PortHostRecord, PortStatistic, PortStatisticsQuery};
pub use model::{ListRequest, Listing, Page, PortList, PortPage, PortQuery, PortRecord, Record};
pub use request::{AUTH_TOKEN_HEADER, PROJECT_ID_HEADER, SECURITY_TOKEN_HEADER};
pub use secret::Secret;
