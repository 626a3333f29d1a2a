//! `hss_hosts`: the servers HSS knows (ListHostStatus), with their agent and protection state,
//! complete and sorted by `host_id`; `ids` feeds `for_each`.
//!
//! The arguments mirror the API's filters, each checked at plan time against the documented
//! values. The read has the same guarantee as `hss_host_ports`: every page, read concurrently,
//! consistent, or a clear error.

use super::DataSource;
use crate::diagnostics::Diagnostic;
use crate::hss::{HostQuery, HostRecord};
use crate::model::{Check, Len, OneOf, Range, terraform_model, terraform_object};
use crate::provider::ReadContext;

pub(crate) struct Hosts;

/// The page size unless told otherwise: the API's maximum, for the fewest requests.
const DEFAULT_PAGE_SIZE: u32 = 200;

/// A string of 1 to 128 characters that is an IPv4 or IPv6 address.
pub(crate) struct IpAddress;

impl Check<String> for IpAddress {
    fn check(&self, value: &String) -> Result<(), String> {
        Len(1, 128).check(value)?;
        value
            .parse::<std::net::IpAddr>()
            .map(|_| ())
            .map_err(|_| format!("must be an IPv4 or IPv6 address, got {value:?}"))
    }
}

pub(crate) const OS_TYPES: &[&str] = &["Linux", "Windows"];
pub(crate) const HOST_STATUSES: &[&str] = &["ACTIVE", "SHUTOFF", "BUILDING", "ERROR"];
pub(crate) const AGENT_STATUSES: &[&str] =
    &["installed", "not_installed", "online", "offline", "install_failed", "installing", "not_online"];
pub(crate) const PROTECT_STATUSES: &[&str] = &["closed", "opened", "protection_exception"];
pub(crate) const VERSIONS: &[&str] = &[
    "hss.version.null",
    "hss.version.basic",
    "hss.version.advanced",
    "hss.version.enterprise",
    "hss.version.premium",
    "hss.version.wtp",
    "hss.version.container.enterprise",
];
pub(crate) const ASSET_VALUES: &[&str] = &["important", "common", "test"];

/// The description of `enterprise_project_id` for the fleet data sources.
pub(crate) const ENTERPRISE_PROJECT_DOC: &str = "Enterprise project (1 to 256 characters): the API's default is `0`, the \
    default project; `all_granted_eps` means every project the caller may see. Defaults to the provider's \
    `enterprise_project_id`.";

terraform_model! {
    /// The arguments: the API's filters.
    pub(crate) struct HostArgs {
        optional enterprise_project_id: String, ENTERPRISE_PROJECT_DOC, Len(1, 256);
        optional host_name: String, "Only servers whose name contains this (1 to 256 characters).", Len(1, 256);
        optional host_id: String, "Only the server with this ID (1 to 64 characters).", Len(1, 64);
        optional private_ip: String, "Only servers with this private IP address (1 to 128 characters).", Len(1, 128);
        optional public_ip: String, "Only servers with this public IP address (an IPv4 or IPv6 address).", IpAddress;
        optional ip_addr: String,
            "Only servers with this private or public IP address (1 to 128 characters).", Len(1, 128);
        optional os_type: String, "`Linux` or `Windows`.", OneOf(OS_TYPES);
        optional host_status: String, "`ACTIVE`, `SHUTOFF`, `BUILDING` or `ERROR`.", OneOf(HOST_STATUSES);
        optional agent_status: String,
            "`installed`, `not_installed`, `online`, `offline`, `install_failed`, `installing`, or `not_online` \
             (anything but `online`).",
            OneOf(AGENT_STATUSES);
        optional protect_status: String, "`closed`, `opened` or `protection_exception`.", OneOf(PROTECT_STATUSES);
        optional version: String,
            "HSS edition: `hss.version.null`, `hss.version.basic`, `hss.version.advanced`, `hss.version.enterprise`, \
             `hss.version.premium`, `hss.version.wtp` or `hss.version.container.enterprise`.",
            OneOf(VERSIONS);
        optional group_id: String, "Only servers of this server group (1 to 128 characters).", Len(1, 128);
        optional group_name: String, "Only servers of the server group with this name (1 to 64 characters).", Len(1, 64);
        optional policy_group_id: String, "Only servers with this policy group (0 to 128 characters).", Len(0, 128);
        optional policy_group_name: String,
            "Only servers with the policy group of this name (1 to 256 characters).", Len(1, 256);
        optional label: String, "Only servers with this label (1 to 64 characters).", Len(1, 64);
        optional asset_value: String, "`important`, `common` or `test`.", OneOf(ASSET_VALUES);
        optional vpc_id: String, "Only servers in this VPC (1 to 128 characters).", Len(1, 128);
        optional page_size: i64, "Records per request, 10 to 200, sent as the API's `limit`. Default `200`.", Range(10, 200);
    }
}

terraform_object! {
    /// One server. `host_id` comes first, so the derived order is that of `hosts`.
    pub(crate) struct Host {
        host_id: String, "Server ID.";
        host_name: String, "Server name.";
        agent_id: String, "ID of the HSS agent.";
        private_ip: String, "Private IP address.";
        public_ip: String, "Elastic (public) IP address.";
        enterprise_project_id: String, "Enterprise project ID.";
        enterprise_project_name: String, "Enterprise project name.";
        os_type: String, "`Linux` or `Windows`.";
        os_name: String, "Operating system name.";
        os_version: String, "Operating system version.";
        host_status: String, "`ACTIVE`, `SHUTOFF`, `BUILDING` or `ERROR`.";
        agent_status: String, "Agent status, such as `online`.";
        protect_status: String, "`closed`, `opened` or `protection_exception`.";
        version: String, "HSS edition, such as `hss.version.enterprise`.";
        detect_result: String, "`undetected`, `clean`, `risk` or `scanning`.";
        group_id: String, "Server group ID.";
        group_name: String, "Server group name.";
        policy_group_id: String, "Policy group ID.";
        policy_group_name: String, "Policy group name.";
        asset_value: String, "`important`, `common` or `test`.";
        labels: Vec<String>, "Labels.";
        vpc_id: String, "VPC ID.";
        agent_version: String, "Agent version.";
        asset: i64, "Number of asset risks.";
        vulnerability: i64, "Number of vulnerabilities.";
        baseline: i64, "Number of baseline risks.";
        intrusion: i64, "Number of intrusion alarms.";
    }
}

impl From<HostRecord> for Host {
    fn from(r: HostRecord) -> Self {
        Host {
            host_id: r.host_id,
            host_name: r.host_name,
            agent_id: r.agent_id,
            private_ip: r.private_ip,
            public_ip: r.public_ip,
            enterprise_project_id: r.enterprise_project_id,
            enterprise_project_name: r.enterprise_project_name,
            os_type: r.os_type,
            os_name: r.os_name,
            os_version: r.os_version,
            host_status: r.host_status,
            agent_status: r.agent_status,
            protect_status: r.protect_status,
            version: r.version,
            detect_result: r.detect_result,
            group_id: r.group_id,
            group_name: r.group_name,
            policy_group_id: r.policy_group_id,
            policy_group_name: r.policy_group_name,
            asset_value: r.asset_value,
            labels: r.labels,
            vpc_id: r.vpc_id,
            agent_version: r.agent_version,
            asset: r.asset,
            vulnerability: r.vulnerability,
            baseline: r.baseline,
            intrusion: r.intrusion,
        }
    }
}

terraform_model! {
    /// What a read computes.
    pub(crate) struct HostsState {
        computed id: String,
            "Identifies the query: `hosts`, then the filters in use. The same query always has the same ID.";
        computed total_num: i64, "Number of servers, as counted by HSS.";
        computed ids: Vec<String>,
            "The distinct `host_id`s, sorted: `for_each = toset(data.hss_hosts.all.ids)`.";
        computed hosts: Vec<Host>, "Every matching server, from all pages, sorted by `host_id`. Each element has:";
    }
}

impl DataSource for Hosts {
    type Args = HostArgs;
    type State = HostsState;

    fn type_name(&self) -> &'static str {
        "hss_hosts"
    }

    fn description(&self) -> String {
        "Lists the servers HSS protects, with their agent and protection state, reading all pages of \
         `GET /v5/{project_id}/host-management/hosts` (ListHostStatus). The list is complete or the read fails, \
         and it is sorted by `host_id`; `ids` is ready for `for_each`."
            .into()
    }

    async fn read(&self, ctx: &ReadContext, args: &HostArgs) -> Result<HostsState, Vec<Diagnostic>> {
        let query = query(args, ctx.enterprise_project_id.as_deref());
        let listing = ctx
            .client
            .list_hosts(&query, &ctx.cancel)
            .await
            .map_err(|err| vec![Diagnostic::error("Cannot list the servers", err.to_string())])?;
        let hosts: Vec<Host> = super::sorted(listing.records);
        let mut ids: Vec<String> = hosts.iter().filter_map(|h| h.host_id.clone()).collect();
        ids.dedup();
        Ok(HostsState {
            id: query_id("hosts", &query.filters()),
            total_num: i64::try_from(listing.total_num).unwrap_or(i64::MAX),
            ids,
            hosts,
        })
    }
}

/// The API query for `args`.
pub(crate) fn query(args: &HostArgs, default_enterprise_project: Option<&str>) -> HostQuery {
    HostQuery {
        enterprise_project_id: args
            .enterprise_project_id
            .clone()
            .or_else(|| default_enterprise_project.map(str::to_owned)),
        host_name: args.host_name.clone(),
        host_id: args.host_id.clone(),
        private_ip: args.private_ip.clone(),
        public_ip: args.public_ip.clone(),
        ip_addr: args.ip_addr.clone(),
        os_type: args.os_type.clone(),
        host_status: args.host_status.clone(),
        agent_status: args.agent_status.clone(),
        protect_status: args.protect_status.clone(),
        version: args.version.clone(),
        group_id: args.group_id.clone(),
        group_name: args.group_name.clone(),
        policy_group_id: args.policy_group_id.clone(),
        policy_group_name: args.policy_group_name.clone(),
        label: args.label.clone(),
        asset_value: args.asset_value.clone(),
        vpc_id: args.vpc_id.clone(),
        page_size: args.page_size.and_then(|p| u32::try_from(p).ok()).unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

/// `name`, then `?k=v&...` for the filters (percent-encoded), in their fixed order. The page size
/// is left out: it changes how the list is fetched, not what it holds.
pub(crate) fn query_id(name: &str, filters: &[(String, String)]) -> String {
    if filters.is_empty() {
        return name.to_owned();
    }
    let parts: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={}", crate::hss::sign::escape(v))).collect();
    format!("{name}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::Registered;
    use crate::model::{AttrType, BlockModel};
    use crate::value::{Number, Value};

    fn config(pairs: &[(&str, Value)]) -> Value {
        crate::model::config_of::<HostArgs>(pairs)
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn invalid(diags: &[Diagnostic]) -> Vec<String> {
        diags.iter().map(|d| d.summary.trim_start_matches("Invalid ").to_owned()).collect()
    }

    #[test]
    fn every_filter_is_optional_and_documented_values_pass() {
        assert!(Hosts.validate(&config(&[])).is_empty());
        let ok = config(&[
            ("os_type", s("Windows")),
            ("agent_status", s("not_online")),
            ("version", s("hss.version.container.enterprise")),
            ("public_ip", s("2001:db8::1")),
            ("policy_group_id", s("")),
            ("enterprise_project_id", s("all_granted_eps")),
        ]);
        assert!(Hosts.validate(&ok).is_empty(), "{:?}", Hosts.validate(&ok));
    }

    #[test]
    fn each_bad_filter_is_named() {
        let diags = Hosts.validate(&config(&[
            ("enterprise_project_id", s("")),
            ("host_id", s(&"x".repeat(65))),
            ("public_ip", s("example.com")),
            ("os_type", s("linux")),
            ("host_status", s("RUNNING")),
            ("agent_status", s("dead")),
            ("protect_status", s("on")),
            ("version", s("hss.version.gold")),
            ("group_name", s(&"g".repeat(65))),
            ("asset_value", s("critical")),
            ("page_size", Value::Number(Number::from_i64(500))),
        ]));
        assert_eq!(
            invalid(&diags),
            [
                "enterprise_project_id",
                "host_id",
                "public_ip",
                "os_type",
                "host_status",
                "agent_status",
                "protect_status",
                "version",
                "group_name",
                "asset_value",
                "page_size"
            ]
        );
        assert!(diags[2].detail.contains("must be an IPv4 or IPv6 address"), "{}", diags[2].detail);
        assert!(diags[5].detail.contains("\"not_online\""), "{}", diags[5].detail);
    }

    #[test]
    fn the_provider_project_is_the_default_and_the_id_names_the_filters() {
        let args = HostArgs::parse(&config(&[("host_name", s("web 1"))])).into_result().expect("valid");
        let q = query(&args, Some("ep-1"));
        assert_eq!(q.enterprise_project_id.as_deref(), Some("ep-1"));
        assert_eq!(q.page_size, 200);
        assert_eq!(query_id("hosts", &q.filters()), "hosts?enterprise_project_id=ep-1&host_name=web%201");
        assert_eq!(query_id("hosts", &[]), "hosts");
    }

    #[test]
    fn hosts_sort_by_id_and_absent_fields_are_null() {
        let rec = |id: &str| HostRecord { host_id: Some(id.into()), ..Default::default() };
        let mut hosts: Vec<Host> = [rec("b"), rec("a"), rec("c")].into_iter().map(Host::from).collect();
        hosts.sort_unstable();
        let ids: Vec<_> = hosts.iter().map(|h| h.host_id.as_deref().unwrap_or_default()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let v = Host::from(HostRecord { labels: Some(vec!["prod".into()]), ..rec("a") }).render();
        assert_eq!(v.get("labels"), Some(&Value::List(vec![s("prod")])));
        assert!(v.get("public_ip").is_some_and(Value::is_null));
    }
}
