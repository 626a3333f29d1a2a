//! Entry points for the fuzz targets in `fuzz/`, the property tests and the codec benchmarks:
//! thin wrappers that reach the crate's internal code. Not a stable API.
//!
//! Each function feeds untrusted bytes to the same code the provider runs on Terraform's or the
//! HSS API's input, and must return, never panic, whatever the bytes. The [`Verdict`] lets the
//! property tests check more than "did not panic" (a well-formed input is accepted).

use crate::data_sources::Registered;
use crate::diagnostics::{Diagnostic, has_errors};
use crate::hss::{Error, PortPage};
use crate::provider::HssProvider;
use crate::value::{self, Type, Value};

/// What an entry point made of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Refused, with the message the user would see (a decode error or an error diagnostic).
    Rejected(String),
    /// Accepted; the number is the entry point's count: records parsed, warnings raised, ...
    Accepted(usize),
}

impl Verdict {
    /// Whether the input was accepted.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Verdict::Accepted(_))
    }
}

/// The types a fuzzed DynamicValue is decoded as, picked by its first byte: the two schemas
/// the provider really decodes, `dynamic` (type JSON on the wire) and each kind of container.
pub fn value_types() -> Vec<Type> {
    vec![
        provider_type(),
        host_ports_type(),
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Bool),
        Type::tuple([Type::String, Type::Number, Type::Dynamic]),
        Type::object([("a", Type::list(Type::Dynamic)), ("b", Type::map(Type::list(Type::Number)))]),
    ]
}

/// The provider block's object type, as `ConfigureProvider` decodes it.
pub fn provider_type() -> Type {
    crate::provider::config::schema().object_type()
}

/// `hss_host_ports`'s object type, as `ReadDataSource` decodes its config and encodes its state.
pub fn host_ports_type() -> Type {
    host_ports().schema().object_type()
}

fn host_ports() -> &'static dyn Registered {
    &crate::data_sources::host_ports::HostPorts
}

fn pick_type(selector: u8) -> Type {
    let types = value_types();
    let i = usize::from(selector) % types.len();
    types.into_iter().nth(i).unwrap_or(Type::Dynamic)
}

/// Decodes msgpack `bytes` as the type `selector` picks; a decoded value is encoded again
/// (which may fail, e.g. for a `dynamic` list of mixed types, but must not panic).
pub fn msgpack_value(selector: u8, bytes: &[u8]) -> Verdict {
    let ty = pick_type(selector);
    match value::decode_msgpack(bytes, &ty) {
        Ok(v) => {
            let encoded = value::encode_msgpack(&v, &ty);
            Verdict::Accepted(encoded.map_or(0, |b| b.len()))
        }
        Err(e) => Verdict::Rejected(e.to_string()),
    }
}

/// Parses Terraform's type JSON (what a `dynamic` value carries on the wire).
pub fn type_json(bytes: &[u8]) -> Verdict {
    match Type::from_json(bytes) {
        Ok(t) => Verdict::Accepted(t.to_json().len()),
        Err(e) => Verdict::Rejected(e.to_string()),
    }
}

/// The DynamicValue fuzz target: the first byte picks the type, the rest is decoded as msgpack
/// and as JSON, and parsed as type JSON. Returns the msgpack verdict.
pub fn dynamic_value(data: &[u8]) -> Verdict {
    let (selector, rest) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    let verdict = msgpack_value(selector, rest);
    let _ = type_json(rest);
    verdict
}

/// Decodes a config the way `protocol.rs` does.
fn decode_config(bytes: &[u8], ty: &Type) -> Result<Value, String> {
    value::decode_msgpack(bytes, ty).map_err(|e| e.to_string())
}

fn first_error(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .find(|d| d.severity == crate::diagnostics::Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .unwrap_or_default()
}

/// The provider block as `ValidateProviderConfig` and `ConfigureProvider` handle it: decode,
/// validate, then build the client (HTTP client included; nothing is sent). A `cacert_file` is
/// not read: the fuzzer must not open files its input names. Returns the warnings' count.
pub fn provider_config(bytes: &[u8]) -> Verdict {
    let config = match decode_config(bytes, &provider_type()) {
        Ok(c) => c,
        Err(e) => return Verdict::Rejected(e),
    };
    // No environment: the verdict depends on the input alone, never on the developer's shell.
    let provider = HssProvider::new(Box::new(|_| None));
    let diags = provider.validate(&config);
    if has_errors(&diags) {
        return Verdict::Rejected(first_error(&diags));
    }
    if config.get("cacert_file").is_some_and(|v| !v.is_null()) {
        return Verdict::Accepted(diags.len());
    }
    let diags = provider.configure(&config, Some("1.0.3".to_owned()));
    if has_errors(&diags) {
        return Verdict::Rejected(first_error(&diags));
    }
    match provider.read_context() {
        Ok(_) => Verdict::Accepted(diags.len()),
        Err(d) => Verdict::Rejected(first_error(&[d])),
    }
}

/// An `hss_host_ports` config as `ValidateDataResourceConfig` and `ReadDataSource` check it
/// before any request: decode, validate. Returns the warnings' count.
pub fn host_ports_config(bytes: &[u8]) -> Verdict {
    let config = match decode_config(bytes, &host_ports_type()) {
        Ok(c) => c,
        Err(e) => return Verdict::Rejected(e),
    };
    let _ = config.is_wholly_known();
    let diags = host_ports().validate(&config);
    if has_errors(&diags) { Verdict::Rejected(first_error(&diags)) } else { Verdict::Accepted(diags.len()) }
}

/// An HSS API response body: parsed as a page of the port list (a 2xx answer), and as the
/// error of a throttled, failed and refused answer. Returns the page's record count.
pub fn api_page(bytes: &[u8]) -> Verdict {
    for status in [400, 429, 502] {
        let _ = Error::from_response(status, bytes, Some("fuzz".to_owned())).to_string();
    }
    match serde_json::from_slice::<PortPage>(bytes) {
        Ok(page) => Verdict::Accepted(page.data_list.len()),
        Err(e) => Verdict::Rejected(e.to_string()),
    }
}

/// Checks pages `(offset, page)` in offset order against `total` and concatenates them, as a
/// read does after the last page arrives; `Err` says what did not add up.
pub fn assemble_pages(
    total: u64,
    page_size: u64,
    pages: Vec<(u64, crate::hss::PortPage)>,
) -> Result<crate::hss::PortList, String> {
    crate::hss::paging::assemble(total, page_size, pages).map(|ports| crate::hss::PortList { total_num: total, ports })
}

/// The `hss_host_ports` state for `config` once `list` is read: what `ReadDataSource` encodes.
/// `None` when `config` is not a valid, known configuration.
pub fn host_ports_state(config: &crate::value::Value, list: crate::hss::PortList) -> Option<crate::value::Value> {
    use crate::data_sources::host_ports::{self, PortArgs};
    use crate::model::BlockModel;
    let args = PortArgs::parse(config).into_result().ok()?;
    let query = host_ports::query(&args, None);
    let mut fields = Vec::new();
    args.render_into(&mut fields);
    host_ports::state(&query, list).render_into(&mut fields);
    Some(crate::model::object(fields))
}
