//! Serde types for the "list open ports of a server" API (`GET /v5/{project_id}/asset/ports`):
//! the query the caller asks for, one page as the API returns it, and the assembled list.
//!
//! A page (of this or any list API) is decoded by [`Page::from_json`], which tells a body that is not JSON or is cut
//! short (worth another attempt) from JSON of the wrong shape (the same again next time), and
//! names the field at fault.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The largest page the API accepts (`limit`), and the default page size.
pub const MAX_PAGE_SIZE: u32 = 200;
/// The smallest page the API accepts (`limit`).
pub const MIN_PAGE_SIZE: u32 = 10;
/// The largest `offset` the API accepts.
pub const MAX_OFFSET: u64 = 2_000_000;

/// The largest response body the client reads: 4 MiB, far above a full page and small enough
/// that even `max_concurrent_requests` (8 by default) oversized answers at once stay bounded
/// (8 × 4 MiB). A page of 200 records is about 100 to 200 KiB: each record holds at most about
/// 720 characters of strings at the API's documented maximum lengths (host_id, laddr and
/// container_id 128, path 256, agent_id 64, status and type a few), plus about 130 bytes of
/// keys, numbers and punctuation. Even if every character were non-ASCII and sent as a `\uXXXX`
/// escape (6 bytes), a page would be under 1 MiB; with every character an escaped surrogate
/// pair (12 bytes), under 1.8 MiB. An answer over the limit is refused from its
/// `Content-Length`, or as soon as the bytes read pass it, and is not retried.
pub const MAX_RESPONSE_BYTES: u64 = 4 << 20;

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
        page_size_or_default(self.page_size)
    }

    /// The list to read: `asset/ports` with this query's filters (unescaped, `host_id` first).
    pub fn request(&self) -> ListRequest {
        let port = self.port.map(|p| p.to_string());
        let filters = set_filters(&[
            ("host_id", Some(&self.host_id)),
            ("host_name", self.host_name.as_deref()),
            ("host_ip", self.host_ip.as_deref()),
            ("type", self.port_type.as_deref()),
            ("status", self.status.as_deref()),
            ("enterprise_project_id", self.enterprise_project_id.as_deref()),
            ("category", self.category.as_deref()),
            ("port", port.as_deref()),
        ]);
        ListRequest::new("port list", PORTS_PATH, filters, self.page_size)
    }
}

/// `(name, value)` for every filter that is set, in the order given: a query's parameters.
pub(crate) fn set_filters(pairs: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    pairs.iter().filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v.to_owned()))).collect()
}

/// A query's page size: `n`, or the API's maximum, 200, when it is 0 (unset).
fn page_size_or_default(n: u32) -> u32 {
    if n == 0 { MAX_PAGE_SIZE } else { n }
}

/// The path of the port list (ListHostPorts), after `/v5/{project_id}/`.
pub const PORTS_PATH: &str = "asset/ports";

/// One list to read, of any list API: where, with which filters, in pages of which size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRequest {
    /// What the list is, for messages: `port list`, `host list`, ...
    pub what: &'static str,
    /// The API path after `/v5/{project_id}/`, such as `host-management/hosts`.
    pub path: String,
    /// The query parameters other than `limit` and `offset` (unescaped).
    pub filters: Vec<(String, String)>,
    /// Records per page, sent as `limit` (10 to 200).
    pub page_size: u32,
}

impl ListRequest {
    /// The list `what` at `path`, with `filters`, in pages of `page_size` (0: the default, 200).
    pub fn new(what: &'static str, path: &str, filters: Vec<(String, String)>, page_size: u32) -> Self {
        ListRequest { what, path: path.to_owned(), filters, page_size: page_size_or_default(page_size) }
    }

    /// The query of the page at `offset`: the filters, then `limit` and `offset` (unsorted,
    /// unescaped).
    pub fn pairs(&self, offset: u64) -> Vec<(String, String)> {
        let mut pairs = self.filters.clone();
        pairs.push(("limit".to_owned(), self.page_size.to_string()));
        pairs.push(("offset".to_owned(), offset.to_string()));
        pairs
    }
}

/// A complete list of any list API.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing<T> {
    /// `total_num` as the API reported it (equal to `records.len()`).
    pub total_num: u64,
    /// Every record, in the API's order.
    pub records: Vec<T>,
    /// HTTP requests sent for it, retries and re-reads included.
    pub requests: u64,
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

/// One page of a `{"total_num": N, "data_list": [...]}` list, as every list API returns it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    /// Total number of records (all pages).
    pub total_num: u64,
    /// The records of this page; `null` or absent is an empty page.
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    pub data_list: Vec<T>,
}

/// One page of the port list.
pub type PortPage = Page<PortRecord>;

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A record of a list API: what paging needs of it (decoding, comparing the overlap of two
/// pages), and the fields a diagnostic can name when a page has the wrong shape.
pub trait Record: serde::de::DeserializeOwned + PartialEq + Send + Sync + 'static {
    /// Fields that must be an integer or `null`.
    const INTEGER_FIELDS: &'static [&'static str];
    /// Fields that must be a string or `null`.
    const TEXT_FIELDS: &'static [&'static str];
}

impl Record for PortRecord {
    const INTEGER_FIELDS: &'static [&'static str] = &["port", "pid"];
    const TEXT_FIELDS: &'static [&'static str] =
        &["host_id", "laddr", "status", "type", "path", "agent_id", "container_id"];
}

/// Why a 2xx body is not a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PageError {
    /// Not JSON, or JSON cut short: another attempt may get the whole answer.
    NotJson(String),
    /// JSON, but not a page: `field` (e.g. `data_list[3].port`) is missing or of the wrong type.
    Shape { field: String, reason: String },
}

impl<T: Record> Page<T> {
    /// Decodes a page. The common case costs one pass; only a body that fails to decode is
    /// looked at again, to tell a truncated body from one of the wrong shape and to name the
    /// field.
    pub(crate) fn from_json(body: &[u8]) -> Result<Page<T>, PageError> {
        let err = match serde_json::from_slice::<Page<T>>(body) {
            Ok(page) => return Ok(page),
            Err(e) => e,
        };
        if !err.is_data() {
            return Err(PageError::NotJson(err.to_string()));
        }
        // A type error can come before the end of a body that is also cut short.
        let value: Value = serde_json::from_slice(body).map_err(|e| PageError::NotJson(e.to_string()))?;
        let (field, reason) = shape_problem::<T>(&value).unwrap_or_else(|| ("(the body)".to_owned(), err.to_string()));
        Err(PageError::Shape { field, reason })
    }
}

/// The first field of `v` that does not fit a page of `T`, with what is wrong with it.
fn shape_problem<T: Record>(v: &Value) -> Option<(String, String)> {
    let Value::Object(page) = v else {
        return Some(("(the body)".to_owned(), format!("expected an object, got {}", kind(v))));
    };
    match page.get("total_num") {
        None => return Some(("total_num".to_owned(), "missing".to_owned())),
        Some(n) if n.as_u64().is_none() => {
            return Some(("total_num".to_owned(), format!("expected a non-negative integer, got {}", kind(n))));
        }
        Some(_) => {}
    }
    let records = match page.get("data_list") {
        None | Some(Value::Null) => return None,
        Some(Value::Array(records)) => records,
        Some(other) => {
            return Some(("data_list".to_owned(), format!("expected an array or null, got {}", kind(other))));
        }
    };
    for (i, record) in records.iter().enumerate() {
        let Value::Object(fields) = record else {
            return Some((format!("data_list[{i}]"), format!("expected an object, got {}", kind(record))));
        };
        for (name, value) in fields {
            let integer = T::INTEGER_FIELDS.contains(&name.as_str());
            let text = T::TEXT_FIELDS.contains(&name.as_str());
            let fits = value.is_null() || (integer && value.as_i64().is_some()) || (text && value.is_string());
            if (integer || text) && !fits {
                let want = if integer { "an integer or null" } else { "a string or null" };
                return Some((format!("data_list[{i}].{name}"), format!("expected {want}, got {}", kind(value))));
            }
        }
    }
    None
}

/// `a string`, `the number 1.5`, ... (never a string's value: it may echo anything).
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
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
    fn null_data_list_is_an_empty_page() {
        let p = PortPage::from_json(br#"{"data_list":null,"total_num":0}"#).unwrap();
        assert_eq!(p, PortPage { total_num: 0, data_list: Vec::new() });
    }

    #[test]
    fn cut_short_or_not_json_is_told_from_the_wrong_shape() {
        let full = br#"{"data_list":[{"port":22,"type":"TCP"},{"port":80,"type":"TCP"}],"total_num":2}"#;
        assert_eq!(PortPage::from_json(full).unwrap().data_list.len(), 2);
        // Cut anywhere: not JSON (retried), even where a type error comes first.
        for cut in 1..full.len() {
            let e = PortPage::from_json(&full[..cut]).unwrap_err();
            assert!(matches!(e, PageError::NotJson(_)), "cut at {cut}: {e:?}");
        }
        let cut_after_type_error = br#"{"total_num":"2","data_list":[{"port":22"#;
        assert!(matches!(PortPage::from_json(cut_after_type_error), Err(PageError::NotJson(_))));
        assert!(matches!(PortPage::from_json(b"<html>"), Err(PageError::NotJson(_))));
        // Whole JSON of the wrong shape: the field is named.
        let shape = |body: &str| match PortPage::from_json(body.as_bytes()) {
            Err(PageError::Shape { field, reason }) => format!("{field}: {reason}"),
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(shape("[]"), "(the body): expected an object, got an array");
        assert_eq!(shape(r#"{"data_list":[]}"#), "total_num: missing");
        assert_eq!(shape(r#"{"total_num":-1}"#), "total_num: expected a non-negative integer, got the number -1");
        assert_eq!(shape(r#"{"total_num":"2"}"#), "total_num: expected a non-negative integer, got a string");
        assert_eq!(shape(r#"{"total_num":1,"data_list":{}}"#), "data_list: expected an array or null, got an object");
        assert_eq!(shape(r#"{"total_num":1,"data_list":[7]}"#), "data_list[0]: expected an object, got the number 7");
        assert_eq!(
            shape(r#"{"total_num":2,"data_list":[{"port":1},{"port":"22"}]}"#),
            "data_list[1].port: expected an integer or null, got a string"
        );
        assert_eq!(
            shape(r#"{"total_num":1,"data_list":[{"port":1,"path":["/bin/x"]}]}"#),
            "data_list[0].path: expected a string or null, got an array"
        );
        // Unknown fields and nulls are fine.
        let p = PortPage::from_json(br#"{"total_num":1,"data_list":[{"port":null,"extra":[1]}],"more":{}}"#).unwrap();
        assert_eq!(p.data_list[0].port, None);
    }

    #[test]
    fn query_pairs() {
        let mut q = PortQuery::new("h");
        q.port = Some(22);
        q.port_type = Some("TCP".into());
        q.enterprise_project_id = Some("all_granted_eps".into());
        let pairs = q.request().pairs(400);
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
