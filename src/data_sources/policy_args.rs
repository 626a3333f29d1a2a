//! The policy arguments shared by the drift data sources: rule lists parsed once into
//! [`policy::Rule`]s, each error at its list index (`allowed[2]`), and the drift report's text.

use crate::diagnostics::Diagnostic;
use crate::model::{AttrType, terraform_model};
use crate::policy::{self, Listener, Rule};
use crate::value::{AttributePath, Type, Value};

use super::host_ports::Port;

/// One rule as the user wrote it, and what it means. The state echoes the text unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleText {
    pub(crate) text: String,
    pub(crate) rule: Option<Rule>,
}

impl RuleText {
    pub(crate) fn matches(&self, listener: &Listener<'_>) -> bool {
        self.rule.as_ref().is_some_and(|r| r.matches(listener))
    }
}

impl AttrType for RuleText {
    fn ty() -> Type {
        Type::String
    }

    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        let text = String::parse(value, path)?;
        match Rule::parse(&text) {
            Ok(rule) => Ok(RuleText { text, rule: Some(rule) }),
            Err(err) => Err(vec![
                Diagnostic::error(format!("Invalid rule at {path}"), format!("{path}: rule {text:?}: {err}."))
                    .at(path.clone()),
            ]),
        }
    }

    fn render(&self) -> Value {
        Value::String(self.text.clone())
    }
}

/// The rule language, for the descriptions.
pub(crate) const GRAMMAR: &str = "Each rule is `ports[/proto][@address]`: `ports` is `*`, `N` or `N-M` \
    (1 to 65535), `proto` is `tcp` or `udp` (both when left out), and `address` is an IP, a CIDR, \
    `loopback` (127.0.0.0/8 and ::1) or `any` (the default). A listener on `0.0.0.0` or `::` \
    matches only `any`, `0.0.0.0/0` or `::/0`, or the same wildcard written out: `22/tcp@127.0.0.1` \
    does not allow sshd on `0.0.0.0`. Examples: `22/tcp`, `8000-8100/tcp`, `*/udp@loopback`, \
    `5432/tcp@10.0.0.0/8`.";

terraform_model! {
    /// What may be open, what must be, and whether drift fails the read.
    pub(crate) struct PolicyArgs {
        required allowed: Vec<RuleText>,
            "What may be open: a port record that matches none of these rules is unexpected. See the \
             rule language in the data source's description.";
        optional required: Vec<RuleText>,
            "What must be open, such as `22/tcp` for a host you must be able to reach: a rule that no \
             record matches is missing. Default: none.";
        optional fail_on_drift: bool,
            "When `true`, drift (anything unexpected or missing) fails the read with an error that lists \
             it, so the plan stops. Default `false`.";
    }
}

/// The view of a port record the matcher needs.
pub(crate) fn listener(port: &Port) -> Listener<'_> {
    Listener { port: port.port, protocol: port.r#type.as_deref(), laddr: port.laddr.as_deref() }
}

/// The records no `allowed` rule matches, in their order.
pub(crate) fn unexpected<'a>(ports: &'a [Port], allowed: &[RuleText]) -> Vec<&'a Port> {
    ports.iter().filter(|p| !allowed.iter().any(|r| r.matches(&listener(p)))).collect()
}

/// The `required` rules no record matches, in their order.
pub(crate) fn missing(ports: &[Port], required: &[RuleText]) -> Vec<String> {
    required.iter().filter(|r| !ports.iter().any(|p| r.matches(&listener(p)))).map(|r| r.text.clone()).collect()
}

/// `TCP/8080 on 0.0.0.0 by /opt/app/bin/server (pid 4242)`.
pub(crate) fn describe(port: &Port) -> String {
    let proto = port.r#type.as_deref().unwrap_or("?");
    let number = port.port.map_or_else(|| "?".to_owned(), |p| p.to_string());
    let laddr = port.laddr.as_deref().unwrap_or("?");
    let mut out = format!("{proto}/{number} on {laddr}");
    if let Some(path) = port.path.as_deref().filter(|p| !p.is_empty()) {
        out.push_str(&format!(" by {path}"));
    }
    if let Some(pid) = port.pid {
        out.push_str(&format!(" (pid {pid})"));
    }
    if let Some(container) = port.container_id.as_deref().filter(|c| !c.is_empty()) {
        out.push_str(&format!(" in container {container}"));
    }
    out
}

/// How many items the summary line and the error detail name before "and N more".
pub(crate) const SUMMARY_ITEMS: usize = 5;
pub(crate) const DETAIL_ITEMS: usize = 50;

/// `a, b, c and 3 more`: at most `limit` items.
pub(crate) fn capped(items: &[String], limit: usize) -> String {
    let shown = items.iter().take(limit).cloned().collect::<Vec<_>>().join(", ");
    match items.len().saturating_sub(limit) {
        0 => shown,
        rest => format!("{shown} and {rest} more"),
    }
}

/// Lines of an error detail, at most `limit`, then a count of the rest.
pub(crate) fn capped_lines(lines: &[String], limit: usize) -> String {
    let mut out: Vec<String> = lines.iter().take(limit).map(|l| format!("  - {l}")).collect();
    if lines.len() > limit {
        out.push(format!("  ... and {} more", lines.len() - limit));
    }
    out.join("\n")
}

/// A stable 64-bit FNV-1a hash, hex: the part of an `id` that stands for a rule list.
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The rule texts of a list, for ids and messages.
pub(crate) fn texts(rules: &[RuleText]) -> Vec<&str> {
    rules.iter().map(|r| r.text.as_str()).collect()
}

/// Parses rule strings outside a model (provider functions): every bad rule, with its index.
pub(crate) fn parse_rules(texts: &[String]) -> Result<Vec<Rule>, (usize, String)> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| policy::Rule::parse(t).map_err(|e| (i, format!("allowed[{i}]: rule {t:?}: {e}"))))
        .collect()
}
