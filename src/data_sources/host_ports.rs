//! `hss_host_ports`: every open port of one server, as HSS lists it, in a stable order.
//!
//! The arguments mirror the query parameters of `GET /v5/{project_id}/asset/ports`. The result
//! is complete or an error: drift checks compare it with what a host should expose, and a
//! silently short list would hide exactly what they look for. `hss_host_port_drift` takes the
//! same arguments ([`PortArgs`]) and reads through [`read_ports`].

use super::DataSource;
use crate::diagnostics::Diagnostic;
use crate::hss::{PortList, PortQuery, PortRecord};
use crate::model::{Len, OneOf, Range, terraform_model, terraform_object};
use crate::provider::ReadContext;

pub(crate) struct HostPorts;

/// The page size we ask for unless told otherwise: the API's maximum, for the fewest requests.
const DEFAULT_PAGE_SIZE: u32 = 200;

terraform_model! {
    /// The arguments: the API's query parameters.
    pub(crate) struct PortArgs {
        required host_id: String, "Server ID (1 to 128 characters).", Len(1, 128);
        optional host_name: String, "Only ports of the server with this name (at most 128 characters).", Len(0, 128);
        optional host_ip: String, "Only ports of the server with this IP address (at most 128 characters).", Len(0, 128);
        optional port: i64, "Only this port number (1 to 65535).", Range(1, 65535);
        optional r#type: String, "Only ports of this protocol: `TCP` or `UDP`.", OneOf(&["TCP", "UDP"]);
        optional status: String,
            "Only ports with this status: `danger` or `unknown` (`unknow`, the API's own spelling in responses, \
             is accepted too, and sent as `unknown`).",
            OneOf(&["danger", "unknown", "unknow"]);
        optional enterprise_project_id: String,
            "Enterprise project of the server (at most 256 characters); `all_granted_eps` searches all of them. \
             Defaults to the provider's `enterprise_project_id`.",
            Len(0, 256);
        optional category: String, "`host` (the API's default) or `container`.", OneOf(&["host", "container"]);
        optional page_size: i64, "Records per request, 10 to 200, sent as the API's `limit`. Default `200`.", Range(10, 200);
    }
}

terraform_object! {
    /// One open port. The fields are declared in the documented sort order, so the derived
    /// ordering is the order of `ports`: port, type, laddr, pid, path, container_id, then the
    /// rest, so that even records equal on those keys always come out in the same order.
    pub(crate) struct Port {
        port: i64, "Port number.";
        r#type: String, "`TCP` or `UDP`.";
        laddr: String, "Listening IP address, such as `0.0.0.0`.";
        pid: i64, "ID of the listening process.";
        path: String, "Executable of the listening process.";
        container_id: String, "Container ID; empty for a port of the host itself.";
        status: String, "Port status as HSS reports it: `normal`, `danger` or `unknow` (sic).";
        agent_id: String, "ID of the HSS agent that reported the port.";
        host_id: String, "Server ID.";
    }
}

impl From<PortRecord> for Port {
    fn from(r: PortRecord) -> Self {
        Port {
            port: r.port,
            r#type: r.port_type,
            laddr: r.laddr,
            pid: r.pid,
            path: r.path,
            container_id: r.container_id,
            status: r.status,
            agent_id: r.agent_id,
            host_id: r.host_id,
        }
    }
}

terraform_model! {
    /// What a read computes.
    pub(crate) struct PortsState {
        computed id: String,
            "Identifies the query: the host ID followed by the filters in use. The same query always has the same ID.";
        computed total_num: i64, "Number of open ports, as counted by HSS.";
        computed ports: Vec<Port>, "Every open port that matches, from all pages. Each element has:";
    }
}

impl DataSource for HostPorts {
    type Args = PortArgs;
    type State = PortsState;

    fn type_name(&self) -> &'static str {
        "hss_host_ports"
    }

    fn description(&self) -> String {
        "Lists every open port of one server protected by HSS, reading all pages of \
         `GET /v5/{project_id}/asset/ports`. The list is complete or the read fails, and it is \
         sorted by port, type, laddr, pid, path and container_id, so that repeated reads give the \
         same value."
            .into()
    }

    async fn read(&self, ctx: &ReadContext, args: &PortArgs) -> Result<PortsState, Vec<Diagnostic>> {
        let (query, list) = read_ports(ctx, args).await?;
        Ok(state(&query, list))
    }
}

/// Reads every page for `args`; the error names the host.
pub(crate) async fn read_ports(ctx: &ReadContext, args: &PortArgs) -> Result<(PortQuery, PortList), Vec<Diagnostic>> {
    let query = query(args, ctx.enterprise_project_id.as_deref());
    let started = std::time::Instant::now();
    let list = ctx.client.list_ports(&query, &ctx.cancel).await.map_err(|err| {
        vec![Diagnostic::error(format!("Cannot list the open ports of host {:?}", query.host_id), err.to_string())]
    })?;
    tracing::debug!(
        host_id = %query.host_id,
        ports = list.ports.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read open ports"
    );
    Ok((query, list))
}

/// The state once `list` is read: `id`, `total_num` and `ports` in the documented order.
pub(crate) fn state(query: &PortQuery, list: PortList) -> PortsState {
    PortsState {
        id: query_id(query),
        total_num: i64::try_from(list.total_num).unwrap_or(i64::MAX),
        ports: super::sorted::<_, Port>(list.ports),
    }
}

/// The API query for `args`. The ranges were checked when parsing, so the conversions hold.
pub(crate) fn query(args: &PortArgs, default_enterprise_project: Option<&str>) -> PortQuery {
    PortQuery {
        host_id: args.host_id.clone(),
        host_name: args.host_name.clone(),
        host_ip: args.host_ip.clone(),
        port: args.port.and_then(|p| u32::try_from(p).ok()),
        port_type: args.r#type.clone(),
        // `unknow` is how the API spells the status in responses; the filter it accepts is
        // `unknown`.
        status: args.status.as_deref().map(|s| if s == "unknow" { "unknown" } else { s }.to_owned()),
        enterprise_project_id: args
            .enterprise_project_id
            .clone()
            .or_else(|| default_enterprise_project.map(str::to_owned)),
        category: args.category.clone(),
        page_size: args.page_size.and_then(|p| u32::try_from(p).ok()).unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

/// `host_id`, then `?name=value&...` for each filter in use, in a fixed order. The page size is
/// left out: it changes how the list is fetched, not what it holds.
pub(crate) fn query_id(query: &PortQuery) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::Registered;
    use crate::model::{AttrType, BlockModel};
    use crate::value::{Number, Value};

    fn config(pairs: &[(&str, Value)]) -> Value {
        crate::model::config_of::<PortArgs>(pairs)
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn n(v: i64) -> Value {
        Value::Number(Number::from_i64(v))
    }

    fn invalid(diags: &[Diagnostic]) -> Vec<String> {
        diags.iter().map(|d| d.summary.trim_start_matches("Invalid ").to_owned()).collect()
    }

    #[test]
    fn accepts_a_plain_query() {
        assert!(HostPorts.validate(&config(&[("host_id", s("h"))])).is_empty());
    }

    #[test]
    fn each_bad_argument_is_named() {
        let diags = HostPorts.validate(&config(&[
            ("host_id", s("h")),
            ("port", n(70000)),
            ("type", s("SCTP")),
            ("page_size", n(5)),
            ("status", s("bad")),
            ("category", s("vm")),
        ]));
        assert_eq!(invalid(&diags), ["port", "type", "status", "category", "page_size"]);
        assert!(diags[1].detail.contains("\"TCP\", \"UDP\""), "{}", diags[1].detail);
    }

    #[test]
    fn fractional_port_and_long_host_are_rejected() {
        let half = Value::Number(Number::parse("22.5").expect("number"));
        let diags = HostPorts.validate(&config(&[("host_id", s(&"x".repeat(129))), ("port", half)]));
        assert_eq!(invalid(&diags), ["host_id", "port"]);
    }

    #[test]
    fn missing_host_is_reported_and_unknowns_are_skipped() {
        assert_eq!(HostPorts.validate(&config(&[]))[0].summary, "Missing host_id");
        let diags = HostPorts.validate(&config(&[
            ("host_id", Value::Unknown),
            ("port", Value::Unknown),
            ("type", Value::Unknown),
        ]));
        assert!(diags.is_empty());
    }

    #[test]
    fn status_unknow_is_sent_as_unknown() {
        let args =
            PortArgs::parse(&config(&[("host_id", s("h")), ("status", s("unknow"))])).into_result().expect("valid");
        assert_eq!(query(&args, None).status.as_deref(), Some("unknown"));
        assert_eq!(args.status.as_deref(), Some("unknow"), "the state keeps what the user wrote");
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
        let ports = crate::data_sources::sorted::<_, Port>(vec![
            rec(443, "TCP", "::"),
            rec(22, "UDP", "0.0.0.0"),
            rec(22, "TCP", "127.0.0.1"),
            rec(22, "TCP", "0.0.0.0"),
        ]);
        let keys: Vec<_> = ports.iter().map(|p| (p.port, p.r#type.clone(), p.laddr.clone())).collect();
        assert_eq!(keys[0], (Some(22), Some("TCP".into()), Some("0.0.0.0".into())));
        assert_eq!(keys[1].2.as_deref(), Some("127.0.0.1"));
        assert_eq!(keys[2].1.as_deref(), Some("UDP"));
        assert_eq!(keys[3].0, Some(443));
    }

    #[test]
    fn absent_record_fields_become_null() {
        let v = Port::from(PortRecord { port: Some(68), ..Default::default() }).render();
        assert_eq!(v.get("port").and_then(Value::as_number).and_then(Number::as_i64), Some(68));
        assert!(v.get("path").is_some_and(Value::is_null));
    }
}
