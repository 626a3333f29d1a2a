//! Serde types of the three fleet APIs, which look at the whole project instead of one server:
//! ListHostStatus (`GET /v5/{project_id}/host-management/hosts`), ListPortHost
//! (`GET /v5/{project_id}/asset/ports/detail`) and ListPortStatistics
//! (`GET /v5/{project_id}/asset/port/statistics`). Each query turns into a
//! [`ListRequest`]; [`Client::list`] reads it completely, in overlapping pages.
//!
//! Every record field is optional: the APIs may leave any of them out. Records keep the values
//! exactly as the API sent them.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::client::Client;
use super::error::Error;
use super::model::{ListRequest, Listing, Record, set_filters};

/// The path of ListHostStatus.
pub const HOSTS_PATH: &str = "host-management/hosts";
/// The path of ListPortHost.
pub const PORT_HOSTS_PATH: &str = "asset/ports/detail";
/// The path of ListPortStatistics.
pub const PORT_STATISTICS_PATH: &str = "asset/port/statistics";

/// The filters of ListHostStatus; unset ones are not sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
/// Each field is the query parameter of the same name.
pub struct HostQuery {
    pub enterprise_project_id: Option<String>,
    pub host_name: Option<String>,
    pub host_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub ip_addr: Option<String>,
    pub os_type: Option<String>,
    pub host_status: Option<String>,
    pub agent_status: Option<String>,
    pub protect_status: Option<String>,
    pub version: Option<String>,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub policy_group_id: Option<String>,
    pub policy_group_name: Option<String>,
    pub label: Option<String>,
    pub asset_value: Option<String>,
    pub vpc_id: Option<String>,
    /// Records per page (`limit`, 10 to 200); 0 means 200.
    pub page_size: u32,
}

impl HostQuery {
    /// The filters in use, `(name, value)`, in a fixed order (also that of the data source's `id`).
    pub fn filters(&self) -> Vec<(String, String)> {
        set_filters(&[
            ("enterprise_project_id", self.enterprise_project_id.as_deref()),
            ("host_name", self.host_name.as_deref()),
            ("host_id", self.host_id.as_deref()),
            ("private_ip", self.private_ip.as_deref()),
            ("public_ip", self.public_ip.as_deref()),
            ("ip_addr", self.ip_addr.as_deref()),
            ("os_type", self.os_type.as_deref()),
            ("host_status", self.host_status.as_deref()),
            ("agent_status", self.agent_status.as_deref()),
            ("protect_status", self.protect_status.as_deref()),
            ("version", self.version.as_deref()),
            ("group_id", self.group_id.as_deref()),
            ("group_name", self.group_name.as_deref()),
            ("policy_group_id", self.policy_group_id.as_deref()),
            ("policy_group_name", self.policy_group_name.as_deref()),
            ("label", self.label.as_deref()),
            ("asset_value", self.asset_value.as_deref()),
            ("vpc_id", self.vpc_id.as_deref()),
        ])
    }

    /// The list to read.
    pub fn request(&self) -> ListRequest {
        ListRequest::new("host list", HOSTS_PATH, self.filters(), self.page_size)
    }
}

/// One server as ListHostStatus describes it (the fields a drift check and an inventory use;
/// the others are ignored).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
/// Each field is the response field of the same name.
pub struct HostRecord {
    pub host_id: Option<String>,
    pub host_name: Option<String>,
    pub agent_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub enterprise_project_name: Option<String>,
    pub os_type: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub host_status: Option<String>,
    pub agent_status: Option<String>,
    pub protect_status: Option<String>,
    pub version: Option<String>,
    pub detect_result: Option<String>,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub policy_group_id: Option<String>,
    pub policy_group_name: Option<String>,
    pub asset_value: Option<String>,
    pub labels: Option<Vec<String>>,
    pub vpc_id: Option<String>,
    pub agent_version: Option<String>,
    /// Asset risks.
    pub asset: Option<i64>,
    /// Vulnerabilities.
    pub vulnerability: Option<i64>,
    /// Baseline risks.
    pub baseline: Option<i64>,
    /// Intrusion alarms.
    pub intrusion: Option<i64>,
}

/// The filters of ListPortHost: the servers (or containers) with `port` open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortHostQuery {
    /// The port (required by the API).
    pub port: u16,
    /// `TCP` or `UDP` (API name `type`).
    pub port_type: Option<String>,
    /// `host` (the API's default) or `container`.
    pub category: Option<String>,
    /// Server name filter.
    pub host_name: Option<String>,
    /// Server IP filter.
    pub host_ip: Option<String>,
    /// Enterprise project.
    pub enterprise_project_id: Option<String>,
    /// Records per page (`limit`, 10 to 200); 0 means 200.
    pub page_size: u32,
}

impl PortHostQuery {
    /// The parameters in use, `port` first, in a fixed order.
    pub fn filters(&self) -> Vec<(String, String)> {
        let port = self.port.to_string();
        set_filters(&[
            ("port", Some(&port)),
            ("type", self.port_type.as_deref()),
            ("category", self.category.as_deref()),
            ("host_name", self.host_name.as_deref()),
            ("host_ip", self.host_ip.as_deref()),
            ("enterprise_project_id", self.enterprise_project_id.as_deref()),
        ])
    }

    /// The list to read.
    pub fn request(&self) -> ListRequest {
        ListRequest::new("list of servers with the port open", PORT_HOSTS_PATH, self.filters(), self.page_size)
    }
}

/// One server (or container) with the port open.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
/// Each field is the response field of the same name.
pub struct PortHostRecord {
    pub host_id: Option<String>,
    pub host_name: Option<String>,
    pub host_ip: Option<String>,
    pub laddr: Option<String>,
    pub port: Option<i64>,
    /// `TCP` or `UDP` (API name `type`).
    #[serde(rename = "type")]
    pub port_type: Option<String>,
    pub pid: Option<i64>,
    pub path: Option<String>,
    pub status: Option<String>,
    pub container_id: Option<String>,
    pub container_name: Option<String>,
    pub agent_id: Option<String>,
}

/// The filters of ListPortStatistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
/// Each field is the query parameter of the same name.
pub struct PortStatisticsQuery {
    pub enterprise_project_id: Option<String>,
    pub category: Option<String>,
    pub port: Option<u16>,
    pub port_string: Option<String>,
    /// `TCP`, `TCP6`, `UDP` or `UDP6` (API name `type`).
    pub port_type: Option<String>,
    pub status: Option<String>,
    /// Only `port`.
    pub sort_key: Option<String>,
    /// `asc` (the default) or `desc`.
    pub sort_dir: Option<String>,
    /// Records per page (`limit`, 10 to 200); 0 means 200.
    pub page_size: u32,
}

impl PortStatisticsQuery {
    /// The filters in use, in a fixed order.
    pub fn filters(&self) -> Vec<(String, String)> {
        let port = self.port.map(|p| p.to_string());
        set_filters(&[
            ("enterprise_project_id", self.enterprise_project_id.as_deref()),
            ("category", self.category.as_deref()),
            ("port", port.as_deref()),
            ("port_string", self.port_string.as_deref()),
            ("type", self.port_type.as_deref()),
            ("status", self.status.as_deref()),
            ("sort_key", self.sort_key.as_deref()),
            ("sort_dir", self.sort_dir.as_deref()),
        ])
    }

    /// The list to read.
    pub fn request(&self) -> ListRequest {
        ListRequest::new("port statistics", PORT_STATISTICS_PATH, self.filters(), self.page_size)
    }
}

/// One distinct open port of the fleet.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PortStatistic {
    /// Port number.
    pub port: Option<i64>,
    /// `TCP`, `TCP6`, `UDP` or `UDP6`: IPv6 listeners are counted apart.
    #[serde(rename = "type")]
    pub port_type: Option<String>,
    /// How many servers have it open.
    pub num: Option<i64>,
    /// `danger`, `normal` or `unknown`.
    pub status: Option<String>,
}

impl Record for HostRecord {
    const INTEGER_FIELDS: &'static [&'static str] = &["asset", "vulnerability", "baseline", "intrusion"];
    const TEXT_FIELDS: &'static [&'static str] = &[
        "host_id",
        "host_name",
        "agent_id",
        "private_ip",
        "public_ip",
        "enterprise_project_id",
        "enterprise_project_name",
        "os_type",
        "os_name",
        "os_version",
        "host_status",
        "agent_status",
        "protect_status",
        "version",
        "detect_result",
        "group_id",
        "group_name",
        "policy_group_id",
        "policy_group_name",
        "asset_value",
        "vpc_id",
        "agent_version",
    ];
}

impl Record for PortHostRecord {
    const INTEGER_FIELDS: &'static [&'static str] = &["port", "pid"];
    const TEXT_FIELDS: &'static [&'static str] = &[
        "host_id",
        "host_name",
        "host_ip",
        "laddr",
        "type",
        "path",
        "status",
        "container_id",
        "container_name",
        "agent_id",
    ];
}

impl Record for PortStatistic {
    const INTEGER_FIELDS: &'static [&'static str] = &["port", "num"];
    const TEXT_FIELDS: &'static [&'static str] = &["type", "status"];
}

impl Client {
    /// Every server that matches `query` (ListHostStatus), complete or an error.
    pub async fn list_hosts(
        &self,
        query: &HostQuery,
        cancel: &CancellationToken,
    ) -> Result<Listing<HostRecord>, Error> {
        self.list(&query.request(), cancel).await
    }

    /// Every server (or container) with the port open (ListPortHost), complete or an error.
    pub async fn list_port_hosts(
        &self,
        query: &PortHostQuery,
        cancel: &CancellationToken,
    ) -> Result<Listing<PortHostRecord>, Error> {
        self.list(&query.request(), cancel).await
    }

    /// The fleet's distinct open ports (ListPortStatistics), complete or an error.
    pub async fn list_port_statistics(
        &self,
        query: &PortStatisticsQuery,
        cancel: &CancellationToken,
    ) -> Result<Listing<PortStatistic>, Error> {
        self.list(&query.request(), cancel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hss::model::Page;

    #[test]
    fn decodes_hosts_with_absent_and_unknown_fields() {
        let body = r#"{"total_num": 2, "data_list": [
            {"host_id": "h1", "host_name": "web-1", "labels": ["prod", "dmz"], "asset": 3,
             "agent_status": "online", "open_time": 1700000000, "extra": {"x": 1}},
            {"host_id": "h2", "public_ip": null}
        ]}"#;
        let page: Page<HostRecord> = serde_json::from_str(body).unwrap();
        assert_eq!(page.total_num, 2);
        assert_eq!(page.data_list[0].labels.as_deref(), Some(&["prod".to_owned(), "dmz".to_owned()][..]));
        assert_eq!(page.data_list[0].asset, Some(3));
        assert_eq!(page.data_list[1], HostRecord { host_id: Some("h2".into()), ..Default::default() });
    }

    #[test]
    fn decodes_port_hosts_and_statistics() {
        let body = r#"{"total_num": 1, "data_list": [{"host_id": "h", "host_name": "n", "host_ip": "10.0.0.1",
            "laddr": "::", "port": 22, "type": "TCP", "pid": 0, "path": "", "status": "normal",
            "container_id": "", "container_name": "", "agent_id": "a"}]}"#;
        let page: Page<PortHostRecord> = serde_json::from_str(body).unwrap();
        assert_eq!(page.data_list[0].port_type.as_deref(), Some("TCP"));
        assert_eq!(page.data_list[0].pid, Some(0));
        let body = r#"{"total_num": 1, "data_list": [{"port": 22, "type": "TCP6", "num": 7, "status": "normal"}]}"#;
        let page: Page<PortStatistic> = serde_json::from_str(body).unwrap();
        assert_eq!(page.data_list[0].num, Some(7));
        assert!(serde_json::from_str::<Page<PortStatistic>>(r#"{"data_list": []}"#).is_err(), "total_num is required");
    }

    #[test]
    fn requests_name_their_path_and_filters() {
        let q = HostQuery { os_type: Some("Linux".into()), host_name: Some("web 1".into()), ..Default::default() };
        let r = q.request();
        assert_eq!((r.path.as_str(), r.page_size), (HOSTS_PATH, 200));
        assert_eq!(r.filters, [("host_name".to_owned(), "web 1".to_owned()), ("os_type".into(), "Linux".into())]);
        let q = PortHostQuery { port: 22, port_type: Some("TCP".into()), page_size: 50, ..Default::default() };
        let r = q.request();
        assert_eq!((r.path.as_str(), r.page_size), (PORT_HOSTS_PATH, 50));
        assert_eq!(r.filters, [("port".to_owned(), "22".to_owned()), ("type".into(), "TCP".into())]);
        let q = PortStatisticsQuery { sort_key: Some("port".into()), ..Default::default() };
        assert_eq!(q.request().filters, [("sort_key".to_owned(), "port".to_owned())]);
        assert_eq!(q.request().path, PORT_STATISTICS_PATH);
    }
}
