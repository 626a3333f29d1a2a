//! Query-string decoding and validation of `GET /v5/{project_id}/asset/ports`, exactly as
//! the API reference documents the parameters.

/// Port-status filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusFilter {
    /// `status=danger`.
    Danger,
    /// `status=unknown`. The API spells the value `unknow` in its responses, but refuses that
    /// spelling as a filter (`400`, `HSS.1001`), as the simulator does.
    Unknown,
}

/// `category` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Category {
    Host,
    Container,
}

/// A validated query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Query {
    pub host_id: String,
    pub host_name: Option<String>,
    pub host_ip: Option<String>,
    pub port: Option<u32>,
    pub port_type: Option<String>,
    pub status: Option<StatusFilter>,
    pub enterprise_project_id: Option<String>,
    pub limit: usize,
    pub offset: usize,
    pub category: Category,
}

/// A rejected query: the parameter at fault and a message naming it (the `error_msg`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub(crate) struct ValidationError {
    pub param: &'static str,
    pub msg: String,
}

/// The error code of all validation failures.
pub(crate) const INVALID_PARAM_CODE: &str = "HSS.1001";

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (RFC 3986). `+` stays a literal plus; malformed escapes are kept
/// as-is; invalid UTF-8 is replaced with U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Splits a raw query string into decoded `(key, value)` pairs, in order. Empty segments are
/// skipped; a segment without `=` has an empty value.
pub(crate) fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(seg), String::new()),
        })
        .collect()
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn shown(v: &str) -> String {
    let mut s: String = v.chars().take(64).collect();
    if v.chars().count() > 64 {
        s.push_str("...");
    }
    format!("{s:?}")
}

fn err(param: &'static str, what: String) -> ValidationError {
    ValidationError { param, msg: format!("Invalid parameter '{param}': {what}") }
}

fn string_param(
    pairs: &[(String, String)],
    param: &'static str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match first(pairs, param) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(err(param, format!("must contain 0 to {max} characters"))),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// A strict decimal integer: optional `-`, then ASCII digits only.
fn parse_int(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn int_param(
    pairs: &[(String, String)],
    param: &'static str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ValidationError> {
    match first(pairs, param) {
        None => Ok(None),
        Some(v) => match parse_int(v) {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(err(param, format!("must be an integer from {min} to {max}, got {}", shown(v)))),
        },
    }
}

fn enum_param<T: Copy>(
    pairs: &[(String, String)],
    param: &'static str,
    allowed: &[(&str, T)],
    doc: &str,
) -> Result<Option<T>, ValidationError> {
    match first(pairs, param) {
        None => Ok(None),
        Some(v) => allowed
            .iter()
            .find(|(name, _)| *name == v)
            .map(|(_, t)| Some(*t))
            .ok_or_else(|| err(param, format!("must be {doc}, got {}", shown(v)))),
    }
}

/// Validates decoded pairs. The first occurrence of a repeated parameter wins; unknown
/// parameters are ignored. Parameters are checked in the reference's table order.
pub(crate) fn validate(pairs: &[(String, String)]) -> Result<Query, ValidationError> {
    let host_id = match first(pairs, "host_id") {
        None => return Err(err("host_id", "is required".to_string())),
        Some("") => return Err(err("host_id", "must not be empty".to_string())),
        Some(v) if v.chars().count() > 128 => {
            return Err(err("host_id", "must contain 1 to 128 characters".to_string()));
        }
        Some(v) => v.to_string(),
    };
    let host_name = string_param(pairs, "host_name", 128)?.filter(|s| !s.is_empty());
    let host_ip = string_param(pairs, "host_ip", 128)?.filter(|s| !s.is_empty());
    let port = int_param(pairs, "port", 1, 65_535)?.map(|n| n as u32);
    let port_type = enum_param(pairs, "type", &[("TCP", "TCP"), ("UDP", "UDP")], "TCP or UDP")?.map(str::to_string);
    let status = enum_param(
        pairs,
        "status",
        &[("danger", StatusFilter::Danger), ("unknown", StatusFilter::Unknown)],
        "danger or unknown",
    )?;
    let enterprise_project_id = string_param(pairs, "enterprise_project_id", 256)?;
    let limit = int_param(pairs, "limit", 10, 200)?.unwrap_or(10) as usize;
    let offset = int_param(pairs, "offset", 0, 2_000_000)?.unwrap_or(0) as usize;
    let category = enum_param(
        pairs,
        "category",
        &[("host", Category::Host), ("container", Category::Container)],
        "host or container",
    )?
    .unwrap_or(Category::Host);
    Ok(Query { host_id, host_name, host_ip, port, port_type, status, enterprise_project_id, limit, offset, category })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> Result<Query, ValidationError> {
        validate(&parse_pairs(raw))
    }

    fn bad(raw: &str, param: &str) {
        let e = v(raw).expect_err(raw);
        assert_eq!(e.param, param, "{raw}");
        assert!(e.msg.contains(param), "{}", e.msg);
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b+c"), "a b+c");
        assert_eq!(percent_decode("%e4%B8%AD"), "中");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
        assert_eq!(
            parse_pairs("a=1&&b&c=x%3Dy=z&%68ost_id=h"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "x=y=z".into()),
                ("host_id".into(), "h".into())
            ]
        );
    }

    #[test]
    fn defaults_and_values() {
        let q = v("host_id=h").unwrap();
        assert_eq!((q.limit, q.offset, q.category), (10, 0, Category::Host));
        assert_eq!(q.status, None);
        let q = v("host_id=h&limit=200&offset=2000000&port=65535&type=UDP&status=unknown\
                   &category=container&enterprise_project_id=all_granted_eps&bogus=1")
        .unwrap();
        assert_eq!((q.limit, q.offset, q.port), (200, 2_000_000, Some(65_535)));
        assert_eq!(q.port_type.as_deref(), Some("UDP"));
        assert_eq!(q.status, Some(StatusFilter::Unknown));
        assert_eq!(q.category, Category::Container);
        assert_eq!(v("host_id=h&status=unknown").unwrap().status, Some(StatusFilter::Unknown));
        assert_eq!(v("host_id=h&status=danger").unwrap().status, Some(StatusFilter::Danger));
        assert_eq!(v("host_id=a&host_id=b").unwrap().host_id, "a");
        assert_eq!(v("host_id=h&host_name=").unwrap().host_name, None);
        assert_eq!(v(&format!("host_id={}", "x".repeat(128))).unwrap().host_id.len(), 128);
    }

    #[test]
    fn rejections() {
        bad("", "host_id");
        bad("limit=10", "host_id");
        bad("host_id=", "host_id");
        bad(&format!("host_id={}", "x".repeat(129)), "host_id");
        bad(&format!("host_id=h&host_name={}", "x".repeat(129)), "host_name");
        bad(&format!("host_id=h&host_ip={}", "x".repeat(129)), "host_ip");
        bad(&format!("host_id=h&enterprise_project_id={}", "x".repeat(257)), "enterprise_project_id");
        for l in ["9", "201", "0", "-1", "abc", "", "1.5", "+10", " 10", "99999999999999999999"] {
            bad(&format!("host_id=h&limit={l}"), "limit");
        }
        for o in ["-1", "2000001", "x", ""] {
            bad(&format!("host_id=h&offset={o}"), "offset");
        }
        for p in ["0", "65536", "http", ""] {
            bad(&format!("host_id=h&port={p}"), "port");
        }
        for t in ["tcp", "ICMP", ""] {
            bad(&format!("host_id=h&type={t}"), "type");
        }
        // `unknow` is how responses spell the status; the filter takes only `unknown`.
        for s in ["normal", "DANGER", "", "unknow", "Unknown"] {
            bad(&format!("host_id=h&status={s}"), "status");
        }
        for c in ["all", "Host", ""] {
            bad(&format!("host_id=h&category={c}"), "category");
        }
        assert!(v("host_id=h&limit=010").is_ok());
    }
}
