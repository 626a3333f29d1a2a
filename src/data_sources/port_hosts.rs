//! `hss_port_hosts`: every server (or container) with one given port open (ListPortHost): the
//! fleet seen from the port's side, for checks such as "no server listens on 23/TCP".
//!
//! Complete and sorted like the other lists; `hss_fleet_port_drift` reports its violations in
//! the same record shape ([`PortHost`]).

use super::DataSource;
use super::hosts::{ENTERPRISE_PROJECT_DOC, query_id};
use crate::diagnostics::Diagnostic;
use crate::hss::{PortHostQuery, PortHostRecord};
use crate::model::{Len, OneOf, Range, terraform_model, terraform_object};
use crate::provider::ReadContext;

pub(crate) struct PortHosts;

const DEFAULT_PAGE_SIZE: u32 = 200;

terraform_model! {
    /// The arguments: the API's query parameters.
    pub(crate) struct PortHostArgs {
        required port: i64, "The port (1 to 65535).", Range(1, 65535);
        optional r#type: String, "Only listeners of this protocol: `TCP` or `UDP`.", OneOf(&["TCP", "UDP"]);
        optional category: String,
            "`host` (the API's default: processes of the servers themselves) or `container`.",
            OneOf(&["host", "container"]);
        optional host_name: String, "Only servers whose name contains this (1 to 256 characters).", Len(1, 256);
        optional host_ip: String, "Only servers with this IP address (1 to 256 characters).", Len(1, 256);
        optional enterprise_project_id: String, ENTERPRISE_PROJECT_DOC, Len(1, 256);
        optional page_size: i64, "Records per request, 10 to 200, sent as the API's `limit`. Default `200`.", Range(10, 200);
    }
}

terraform_object! {
    /// One server (or container) with the port open. The fields are declared in the documented
    /// sort order: host, then port, type, laddr, pid, path, container_id, then the rest.
    pub(crate) struct PortHost {
        host_id: String, "Server ID.";
        port: i64, "Port number.";
        r#type: String, "`TCP` or `UDP`.";
        laddr: String, "Listening IP address (`0.0.0.0` or `::` = every address).";
        pid: i64, "ID of the listening process (0 when none is known).";
        path: String, "Executable of the listening process.";
        container_id: String, "Container ID; empty for a process of the server itself.";
        host_name: String, "Server name.";
        host_ip: String, "Server IP address.";
        status: String, "Port status as HSS reports it.";
        container_name: String, "Container name.";
        agent_id: String, "ID of the HSS agent that reported the port.";
    }
}

impl From<PortHostRecord> for PortHost {
    fn from(r: PortHostRecord) -> Self {
        PortHost {
            host_id: r.host_id,
            port: r.port,
            r#type: r.port_type,
            laddr: r.laddr,
            pid: r.pid,
            path: r.path,
            container_id: r.container_id,
            host_name: r.host_name,
            host_ip: r.host_ip,
            status: r.status,
            container_name: r.container_name,
            agent_id: r.agent_id,
        }
    }
}

terraform_model! {
    /// What a read computes.
    pub(crate) struct PortHostsState {
        computed id: String,
            "Identifies the query: the port, then the filters in use. The same query always has the same ID.";
        computed total_num: i64, "Number of records, as counted by HSS.";
        computed hosts: Vec<PortHost>,
            "Every server (or container) with the port open, from all pages, sorted by host, then port, type, \
             laddr, pid, path and container_id. Each element has:";
    }
}

impl DataSource for PortHosts {
    type Args = PortHostArgs;
    type State = PortHostsState;

    fn type_name(&self) -> &'static str {
        "hss_port_hosts"
    }

    fn description(&self) -> String {
        "Lists every server (or container) that has one given port open, reading all pages of \
         `GET /v5/{project_id}/asset/ports/detail` (ListPortHost). The list is complete or the read fails, and \
         it is sorted by host, then port, type, laddr, pid, path and container_id."
            .into()
    }

    async fn read(&self, ctx: &ReadContext, args: &PortHostArgs) -> Result<PortHostsState, Vec<Diagnostic>> {
        let query = query(args, ctx.enterprise_project_id.as_deref());
        let listing = ctx.client.list_port_hosts(&query, &ctx.cancel).await.map_err(|err| {
            vec![Diagnostic::error(format!("Cannot list the servers with port {} open", query.port), err.to_string())]
        })?;
        let mut filters = query.filters();
        let port = filters.remove(0).1;
        Ok(PortHostsState {
            id: query_id(&port, &filters),
            total_num: i64::try_from(listing.total_num).unwrap_or(i64::MAX),
            hosts: super::sorted(listing.records),
        })
    }
}

/// The API query for `args`; the port's range was checked when parsing.
fn query(args: &PortHostArgs, default_enterprise_project: Option<&str>) -> PortHostQuery {
    PortHostQuery {
        port: u16::try_from(args.port).unwrap_or_default(),
        port_type: args.r#type.clone(),
        category: args.category.clone(),
        host_name: args.host_name.clone(),
        host_ip: args.host_ip.clone(),
        enterprise_project_id: args
            .enterprise_project_id
            .clone()
            .or_else(|| default_enterprise_project.map(str::to_owned)),
        page_size: args.page_size.and_then(|p| u32::try_from(p).ok()).unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::Registered;
    use crate::model::BlockModel;
    use crate::value::{Number, Value};

    fn config(pairs: &[(&str, Value)]) -> Value {
        crate::model::config_of::<PortHostArgs>(pairs)
    }

    fn n(v: i64) -> Value {
        Value::Number(Number::from_i64(v))
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn port_is_required_and_every_argument_checked() {
        assert_eq!(PortHosts.validate(&config(&[]))[0].summary, "Missing port");
        assert!(PortHosts.validate(&config(&[("port", n(22)), ("type", s("UDP"))])).is_empty());
        let diags = PortHosts.validate(&config(&[
            ("port", n(0)),
            ("type", s("TCP6")),
            ("category", s("vm")),
            ("host_name", s("")),
            ("page_size", n(9)),
        ]));
        let names: Vec<_> = diags.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            names,
            ["Invalid port", "Invalid type", "Invalid category", "Invalid host_name", "Invalid page_size"]
        );
    }

    #[test]
    fn records_sort_by_host_then_port_type_laddr() {
        let rec = |host: &str, port, ty: &str, laddr: &str| PortHostRecord {
            host_id: Some(host.into()),
            port: Some(port),
            port_type: Some(ty.into()),
            laddr: Some(laddr.into()),
            ..Default::default()
        };
        let got = crate::data_sources::sorted::<_, PortHost>(vec![
            rec("b", 22, "TCP", "0.0.0.0"),
            rec("a", 22, "TCP", "::"),
            rec("a", 22, "TCP", "0.0.0.0"),
        ]);
        let keys: Vec<_> = got.iter().map(|p| (p.host_id.clone().unwrap(), p.laddr.clone().unwrap())).collect();
        assert_eq!(keys, [("a".into(), "0.0.0.0".into()), ("a".into(), "::".into()), ("b".into(), "0.0.0.0".into())]);
    }

    #[test]
    fn id_is_the_port_then_the_filters() {
        let args = PortHostArgs::parse(&config(&[("port", n(23)), ("type", s("TCP")), ("host_name", s("web 1"))]))
            .into_result()
            .expect("valid");
        let q = query(&args, None);
        let mut filters = q.filters();
        let port = filters.remove(0).1;
        assert_eq!(query_id(&port, &filters), "23?type=TCP&host_name=web%201");
    }
}
