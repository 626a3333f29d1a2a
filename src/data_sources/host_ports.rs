//! `hss_host_ports`: every open port of one server, as HSS lists it, in a stable order.
//!
//! The arguments mirror the query parameters of `GET /v5/{project_id}/asset/ports`. The result
//! is complete or an error: drift checks compare it with what a host should expose, and a
//! silently short list would hide exactly what they look for.

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostic;
use crate::hss::{PortList, PortQuery, PortRecord};
use crate::provider::ReadContext;
use crate::schema::{Attribute, Mode, Schema};
use crate::value::{Number, Type, Value};

pub(crate) const TYPE_NAME: &str = "hss_host_ports";

/// The page size we ask for unless told otherwise: the API's maximum, for the fewest requests.
const DEFAULT_PAGE_SIZE: u32 = 200;

/// The attributes of one element of `ports`, with their types and descriptions.
const PORT_FIELDS: &[(&str, Type, &str)] = &[
    ("host_id", Type::String, "Server ID."),
    ("laddr", Type::String, "Listening IP address, such as `0.0.0.0`."),
    ("status", Type::String, "Port status as HSS reports it: `normal`, `danger` or `unknow` (sic)."),
    ("port", Type::Number, "Port number."),
    ("type", Type::String, "`TCP` or `UDP`."),
    ("pid", Type::Number, "ID of the listening process."),
    ("path", Type::String, "Executable of the listening process."),
    ("agent_id", Type::String, "ID of the HSS agent that reported the port."),
    ("container_id", Type::String, "Container ID; empty for a port of the host itself."),
];

fn port_type() -> Type {
    Type::Object(PORT_FIELDS.iter().map(|(name, ty, _)| ((*name).to_owned(), ty.clone())).collect())
}

pub(crate) fn schema() -> Schema {
    let fields: String = PORT_FIELDS.iter().map(|(name, _, doc)| format!("\n  - `{name}`: {doc}")).collect();
    let optional = |name, ty, doc: &str| Attribute::new(name, ty, Mode::Optional, doc);
    Schema {
        version: 0,
        description: "Lists every open port of one server protected by HSS, reading all pages of \
                      `GET /v5/{project_id}/asset/ports`. The list is complete or the read fails, and it is \
                      sorted by port, type, laddr, pid, path and container_id, so that repeated reads give the \
                      same value."
            .into(),
        attributes: vec![
            Attribute::new("host_id", Type::String, Mode::Required, "Server ID (1 to 128 characters)."),
            optional("host_name", Type::String, "Only ports of the server with this name (at most 128 characters)."),
            optional(
                "host_ip",
                Type::String,
                "Only ports of the server with this IP address (at most 128 characters).",
            ),
            optional("port", Type::Number, "Only this port number (1 to 65535)."),
            optional("type", Type::String, "Only ports of this protocol: `TCP` or `UDP`."),
            optional(
                "status",
                Type::String,
                "Only ports with this status: `danger` or `unknown` (`unknow`, the API's own spelling, is accepted too).",
            ),
            optional(
                "enterprise_project_id",
                Type::String,
                "Enterprise project of the server (at most 256 characters); `all_granted_eps` searches all of them. \
                 Defaults to the provider's `enterprise_project_id`.",
            ),
            optional("category", Type::String, "`host` (the API's default) or `container`."),
            optional(
                "page_size",
                Type::Number,
                "Records per request, 10 to 200, sent as the API's `limit`. Default `200`.",
            ),
            Attribute::new(
                "id",
                Type::String,
                Mode::Computed,
                "Identifies the query: the host ID followed by the filters in use. The same query always has the same ID.",
            ),
            Attribute::new("total_num", Type::Number, Mode::Computed, "Number of open ports, as counted by HSS."),
            Attribute::new(
                "ports",
                Type::List(Box::new(port_type())),
                Mode::Computed,
                format!("Every open port that matches, from all pages. Each element has:{fields}"),
            ),
        ],
    }
}

/// String arguments: (name, minimum length, maximum length, allowed values or empty for any).
const STRING_RULES: &[(&str, usize, usize, &[&str])] = &[
    ("host_id", 1, 128, &[]),
    ("host_name", 0, 128, &[]),
    ("host_ip", 0, 128, &[]),
    ("type", 0, 16, &["TCP", "UDP"]),
    ("status", 0, 16, &["danger", "unknown", "unknow"]),
    ("enterprise_project_id", 0, 256, &[]),
    ("category", 0, 16, &["host", "container"]),
];

/// Whole-number arguments: (name, minimum, maximum).
const NUMBER_RULES: &[(&str, i64, i64)] = &[("port", 1, 65535), ("page_size", 10, 200)];

/// Checks the arguments against the API's documented ranges. Unknown values are skipped: they
/// are checked again when known, just before the read.
pub(crate) fn validate(config: &Value) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if config.get("host_id").is_some_and(Value::is_null) {
        diags.push(Diagnostic::attribute("host_id", "Missing host_id", "host_id is required: the ID of the server."));
    }
    for &(name, min, max, allowed) in STRING_RULES {
        let Some(s) = config.get(name).and_then(Value::as_str) else { continue };
        let len = s.chars().count();
        if !allowed.is_empty() && !allowed.contains(&s) {
            diags.push(Diagnostic::attribute(
                name,
                format!("Invalid {name}"),
                format!("{name} must be one of {}, got {s:?}.", quoted(allowed)),
            ));
        } else if len < min || len > max {
            diags.push(Diagnostic::attribute(
                name,
                format!("Invalid {name}"),
                format!("{name} must have {min} to {max} characters, got {len}."),
            ));
        }
    }
    for &(name, min, max) in NUMBER_RULES {
        let Some(n) = config.get(name).and_then(Value::as_number) else { continue };
        if !n.as_i64().is_some_and(|v| (min..=max).contains(&v)) {
            diags.push(Diagnostic::attribute(
                name,
                format!("Invalid {name}"),
                format!("{name} must be a whole number from {min} to {max}, got {n}."),
            ));
        }
    }
    diags
}

fn quoted(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    quoted.join(", ")
}

/// Reads all pages and builds the state: the arguments as configured plus `id`, `total_num`
/// and the sorted `ports`.
pub(crate) async fn read(ctx: &ReadContext, config: &Value) -> Result<Value, Vec<Diagnostic>> {
    let diags = validate(config);
    if !diags.is_empty() {
        return Err(diags);
    }
    let query = query_from(config, ctx.enterprise_project_id.as_deref());
    let started = std::time::Instant::now();
    let list = ctx.client.list_ports(&query, &ctx.cancel).await.map_err(|err| {
        vec![Diagnostic::error(format!("Cannot list the open ports of host {:?}", query.host_id), err.to_string())]
    })?;
    tracing::debug!(
        host_id = %query.host_id,
        ports = list.ports.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read hss_host_ports"
    );
    Ok(state(config, &query, list))
}

/// The state for `config` once `list` is read: the arguments as configured, `id`, `total_num`
/// and `ports` in the documented order.
pub(crate) fn state(config: &Value, query: &PortQuery, list: PortList) -> Value {
    let mut ports = list.ports;
    sort_ports(&mut ports);
    let mut state: BTreeMap<String, Value> = match config {
        Value::Object(attrs) => attrs.clone(),
        _ => BTreeMap::new(),
    };
    state.insert("id".into(), Value::String(query_id(query)));
    state.insert("total_num".into(), number(i64::try_from(list.total_num).unwrap_or(i64::MAX)));
    state.insert("ports".into(), Value::List(ports.iter().map(port_value).collect()));
    Value::Object(state)
}

pub(crate) fn query_from(config: &Value, default_enterprise_project: Option<&str>) -> PortQuery {
    let text = |name| config.get(name).and_then(Value::as_str).map(str::to_owned);
    let whole = |name| config.get(name).and_then(Value::as_number).and_then(Number::as_i64);
    PortQuery {
        host_id: text("host_id").unwrap_or_default(),
        host_name: text("host_name"),
        host_ip: text("host_ip"),
        port: whole("port").and_then(|p| u32::try_from(p).ok()),
        port_type: text("type"),
        status: text("status"),
        enterprise_project_id: text("enterprise_project_id").or_else(|| default_enterprise_project.map(str::to_owned)),
        category: text("category"),
        page_size: whole("page_size").and_then(|p| u32::try_from(p).ok()).unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

/// `host_id`, then `?name=value&...` for each filter in use, in a fixed order. The page size is
/// left out: it changes how the list is fetched, not what it holds.
fn query_id(query: &PortQuery) -> String {
    let port = query.port.map(|p| p.to_string());
    let filters: Vec<String> = [
        ("host_name", query.host_name.as_deref()),
        ("host_ip", query.host_ip.as_deref()),
        ("port", port.as_deref()),
        ("type", query.port_type.as_deref()),
        ("status", query.status.as_deref()),
        ("enterprise_project_id", query.enterprise_project_id.as_deref()),
        ("category", query.category.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k}={}", crate::hss::sign::escape(v))))
    .collect();
    if filters.is_empty() { query.host_id.clone() } else { format!("{}?{}", query.host_id, filters.join("&")) }
}

/// The documented order: port, type, laddr, pid, path, container_id; then the remaining fields,
/// so that even records equal on those keys always come out in the same order.
fn sort_ports(ports: &mut [PortRecord]) {
    ports.sort_unstable_by(|a, b| {
        (a.port, &a.port_type, &a.laddr, a.pid, &a.path, &a.container_id, &a.status, &a.agent_id, &a.host_id).cmp(&(
            b.port,
            &b.port_type,
            &b.laddr,
            b.pid,
            &b.path,
            &b.container_id,
            &b.status,
            &b.agent_id,
            &b.host_id,
        ))
    });
}

fn number(n: i64) -> Value {
    Value::Number(Number::from_i64(n))
}

fn port_value(p: &PortRecord) -> Value {
    let text = |s: &Option<String>| s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()));
    let num = |n: Option<i64>| n.map_or(Value::Null, number);
    Value::Object(BTreeMap::from([
        ("host_id".to_owned(), text(&p.host_id)),
        ("laddr".to_owned(), text(&p.laddr)),
        ("status".to_owned(), text(&p.status)),
        ("port".to_owned(), num(p.port)),
        ("type".to_owned(), text(&p.port_type)),
        ("pid".to_owned(), num(p.pid)),
        ("path".to_owned(), text(&p.path)),
        ("agent_id".to_owned(), text(&p.agent_id)),
        ("container_id".to_owned(), text(&p.container_id)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<String, Value> =
            schema().attributes.iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), v.clone());
        }
        Value::Object(map)
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn invalid(diags: &[Diagnostic]) -> Vec<String> {
        diags.iter().map(|d| d.summary.trim_start_matches("Invalid ").to_owned()).collect()
    }

    #[test]
    fn accepts_a_plain_query() {
        assert!(validate(&config(&[("host_id", s("h"))])).is_empty());
    }

    #[test]
    fn each_bad_argument_is_named() {
        let diags = validate(&config(&[
            ("host_id", s("h")),
            ("port", number(70000)),
            ("type", s("SCTP")),
            ("page_size", number(5)),
            ("status", s("bad")),
            ("category", s("vm")),
        ]));
        assert_eq!(invalid(&diags), ["type", "status", "category", "port", "page_size"]);
        assert!(diags[0].detail.contains("\"TCP\", \"UDP\""), "{}", diags[0].detail);
    }

    #[test]
    fn fractional_port_and_long_host_are_rejected() {
        let half = Value::Number(Number::parse("22.5").expect("number"));
        let diags = validate(&config(&[("host_id", s(&"x".repeat(129))), ("port", half)]));
        assert_eq!(invalid(&diags), ["host_id", "port"]);
    }

    #[test]
    fn missing_host_is_reported_and_unknowns_are_skipped() {
        assert_eq!(validate(&config(&[]))[0].summary, "Missing host_id");
        let diags =
            validate(&config(&[("host_id", Value::Unknown), ("port", Value::Unknown), ("type", Value::Unknown)]));
        assert!(diags.is_empty());
    }

    #[test]
    fn id_is_stable_and_names_the_filters() {
        let mut q = PortQuery { host_id: "h1".into(), page_size: 50, ..Default::default() };
        assert_eq!(query_id(&q), "h1");
        q.port = Some(22);
        q.port_type = Some("TCP".into());
        q.host_name = Some("web 1".into());
        assert_eq!(query_id(&q), "h1?host_name=web%201&port=22&type=TCP");
    }

    #[test]
    fn sorted_by_port_then_type_then_laddr() {
        let rec = |port, ty: &str, laddr: &str| PortRecord {
            port: Some(port),
            port_type: Some(ty.into()),
            laddr: Some(laddr.into()),
            ..Default::default()
        };
        let mut ports = vec![
            rec(443, "TCP", "::"),
            rec(22, "UDP", "0.0.0.0"),
            rec(22, "TCP", "127.0.0.1"),
            rec(22, "TCP", "0.0.0.0"),
        ];
        sort_ports(&mut ports);
        let keys: Vec<_> = ports.iter().map(|p| (p.port, p.port_type.clone(), p.laddr.clone())).collect();
        assert_eq!(keys[0], (Some(22), Some("TCP".into()), Some("0.0.0.0".into())));
        assert_eq!(keys[1].2.as_deref(), Some("127.0.0.1"));
        assert_eq!(keys[2].1.as_deref(), Some("UDP"));
        assert_eq!(keys[3].0, Some(443));
    }

    #[test]
    fn absent_record_fields_become_null() {
        let v = port_value(&PortRecord { port: Some(68), ..Default::default() });
        assert_eq!(v.get("port").and_then(Value::as_number).and_then(Number::as_i64), Some(68));
        assert!(v.get("path").is_some_and(Value::is_null));
    }
}
