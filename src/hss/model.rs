//! Serde types for the "list open ports of a server" API (`GET /v5/{project_id}/asset/ports`):
//! the query the caller asks for, one page as the API returns it, and the assembled list.

use serde::{Deserialize, Serialize};

/// The largest page the API accepts (`limit`), and the default page size.
pub const MAX_PAGE_SIZE: u32 = 200;
/// The smallest page the API accepts (`limit`).
pub const MIN_PAGE_SIZE: u32 = 10;
/// The largest `offset` the API accepts.
pub const MAX_OFFSET: u64 = 2_000_000;

/// What to list. `host_id` is required by the API; the other filters are sent only when set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortQuery {
    /// Server ID (`host_id`).
    pub host_id: String,
    /// Server name filter (`host_name`).
    pub host_name: Option<String>,
    /// Server IP filter (`host_ip`).
    pub host_ip: Option<String>,
    /// Port number filter (`port`).
    pub port: Option<u32>,
    /// `TCP` or `UDP` (API name `type`).
    pub port_type: Option<String>,
    /// `danger` or `unknown` (`status`).
    pub status: Option<String>,
    /// Enterprise project (`enterprise_project_id`), e.g. `all_granted_eps`.
    pub enterprise_project_id: Option<String>,
    /// `host` or `container` (`category`).
    pub category: Option<String>,
    /// Records per page, sent as `limit` (10..=200); 0 means the default, 200.
    pub page_size: u32,
}

impl PortQuery {
    /// A query for all open ports of one server, with the default page size.
    pub fn new(host_id: impl Into<String>) -> Self {
        PortQuery { host_id: host_id.into(), page_size: MAX_PAGE_SIZE, ..Default::default() }
    }

    /// The page size to use: `page_size`, or 200 when it is 0.
    pub fn effective_page_size(&self) -> u32 {
        if self.page_size == 0 { MAX_PAGE_SIZE } else { self.page_size }
    }

    /// The query parameters for the page at `offset` (unsorted, unescaped).
    pub fn pairs(&self, offset: u64) -> Vec<(String, String)> {
        let mut p = vec![("host_id".to_owned(), self.host_id.clone())];
        let mut opt = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                p.push((k.to_owned(), v.clone()));
            }
        };
        opt("host_name", &self.host_name);
        opt("host_ip", &self.host_ip);
        opt("type", &self.port_type);
        opt("status", &self.status);
        opt("enterprise_project_id", &self.enterprise_project_id);
        opt("category", &self.category);
        if let Some(port) = self.port {
            p.push(("port".to_owned(), port.to_string()));
        }
        p.push(("limit".to_owned(), self.effective_page_size().to_string()));
        p.push(("offset".to_owned(), offset.to_string()));
        p
    }
}

/// One open port, with values exactly as the API returned them; an absent or `null` field is
/// `None`. Serializing skips `None` fields, so a record round-trips unchanged.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRecord {
    /// Server ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// Listening IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub laddr: Option<String>,
    /// Port status (`normal`, `danger`, `unknown`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Port number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// `TCP` or `UDP` (API name `type`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub port_type: Option<String>,
    /// Process ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    /// Path of the process's executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Agent ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Container ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
}

/// One page as the API returns it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PortPage {
    /// Total number of open ports (all pages).
    pub total_num: u64,
    /// The records of this page.
    #[serde(default)]
    pub data_list: Vec<PortRecord>,
}

/// The complete list: every page read, assembled in offset order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortList {
    /// `total_num` as reported by the API (equal to `ports.len()`).
    pub total_num: u64,
    /// All records, in the order the API returned them.
    pub ports: Vec<PortRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_documented_example() {
        let body = r#"{
          "data_list" : [ {
            "agent_id" : "eb5d", "container_id" : "", "host_id" : "dd91",
            "laddr" : "0.0.0.0", "path" : "/usr/sbin/dhclient", "pid" : 1507,
            "port" : 68, "status" : "unknow", "type" : "UDP"
          }, { "laddr": "127.0.0.1", "port": 323, "pid": null, "extra": 1 } ],
          "total_num" : 2
        }"#;
        let page: PortPage = serde_json::from_str(body).unwrap();
        assert_eq!(page.total_num, 2);
        let r = &page.data_list[0];
        assert_eq!(r.status.as_deref(), Some("unknow"));
        assert_eq!(r.container_id.as_deref(), Some(""));
        assert_eq!(r.port_type.as_deref(), Some("UDP"));
        assert_eq!(r.pid, Some(1507));
        let r = &page.data_list[1];
        assert_eq!(r.pid, None);
        assert_eq!(r.host_id, None);
        assert_eq!(r.port, Some(323));
        // Round trip keeps absent fields absent.
        let json = serde_json::to_string(r).unwrap();
        assert_eq!(json, r#"{"laddr":"127.0.0.1","port":323}"#);
    }

    #[test]
    fn missing_data_list_is_empty_but_total_num_is_required() {
        let p: PortPage = serde_json::from_str(r#"{"total_num":0}"#).unwrap();
        assert!(p.data_list.is_empty());
        assert!(serde_json::from_str::<PortPage>(r#"{"data_list":[]}"#).is_err());
    }

    #[test]
    fn query_pairs() {
        let mut q = PortQuery::new("h");
        q.port = Some(22);
        q.port_type = Some("TCP".into());
        q.enterprise_project_id = Some("all_granted_eps".into());
        let pairs = q.pairs(400);
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("host_id"), Some("h"));
        assert_eq!(get("type"), Some("TCP"));
        assert_eq!(get("port"), Some("22"));
        assert_eq!(get("limit"), Some("200"));
        assert_eq!(get("offset"), Some("400"));
        assert_eq!(get("enterprise_project_id"), Some("all_granted_eps"));
        assert_eq!(get("host_name"), None);
        assert_eq!(PortQuery::default().effective_page_size(), 200);
    }
}
