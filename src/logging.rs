//! Logging to stderr as JSON lines in the shape Terraform's plugin client re-logs.
//!
//! Terraform reads a provider's stderr line by line. A JSON object with string `@level`,
//! `@message` and `@timestamp` keys is re-logged under the provider's name, other keys becoming
//! fields; anything else is logged as plain text. `@timestamp` must have exactly six fractional
//! digits, and all three keys must be strings (Terraform 1.0.3's reader crashes otherwise).
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`; unset means silent, which keeps
//! start-up free of any logging work.
//!
//! # Secrets
//!
//! Every text that reaches the log (the message and every field, from this crate or from a
//! dependency) is scrubbed of the secrets registered with [`protect`] before it is written:
//! the HSS client registers its token, secret key and security tokens (also temporary ones) as
//! it uses them. A secret of fewer than [`MIN_REDACTED_CHARS`] characters cannot be scrubbed
//! safely: replacing every occurrence of a 1 to 3 character string would blank out random parts
//! of ordinary words (and tell a reader the secret by what went missing); such a secret is not
//! scrubbed, and `protect` warns once about it instead.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Secrets shorter than this (in characters) are not redacted; see the module docs.
pub(crate) const MIN_REDACTED_CHARS: usize = 4;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "***";

/// The registered secrets, longest first (so that a secret containing another is replaced
/// whole), and the short ones already warned about.
struct Registry {
    secrets: Vec<String>,
    warned: Vec<String>,
}

static REGISTRY: RwLock<Registry> = RwLock::new(Registry { secrets: Vec::new(), warned: Vec::new() });

/// Registers `secret` for scrubbing from every log line from now on. Cheap when it is already
/// registered. A secret too short to be scrubbed safely gets one warning instead.
pub(crate) fn protect(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let short = !redactable(secret);
    {
        let r = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        let known = if short { &r.warned } else { &r.secrets };
        if known.iter().any(|s| s == secret) {
            return;
        }
    }
    {
        let mut r = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        let known = if short { &mut r.warned } else { &mut r.secrets };
        if known.iter().any(|s| s == secret) {
            return;
        }
        known.push(secret.to_owned());
        if !short {
            r.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            return;
        }
    }
    // Outside the lock: the warning goes through the logger too.
    tracing::warn!(
        characters = secret.chars().count(),
        min_characters = MIN_REDACTED_CHARS,
        "a configured secret is too short to be redacted from logs and error messages; use a real credential"
    );
}

/// Whether `secret` is long enough to be scrubbed safely.
pub(crate) fn redactable(secret: &str) -> bool {
    secret.chars().count() >= MIN_REDACTED_CHARS
}

/// `text` with every one of `secrets` (those long enough, longest first) replaced by
/// [`REDACTED`].
pub(crate) fn scrub<'a, S: AsRef<str>>(text: &'a str, secrets: &[S]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter().map(AsRef::as_ref).filter(|s| redactable(s)) {
        if out.contains(secret) {
            out = Cow::Owned(out.replace(secret, REDACTED));
        }
    }
    out
}

/// `text` without any registered secret.
pub(crate) fn scrub_registered(text: &str) -> Cow<'_, str> {
    let r = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    if r.secrets.is_empty() {
        return Cow::Borrowed(text);
    }
    match scrub(text, &r.secrets) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Installs the stderr JSON logger at the level Terraform asked for, if any.
pub(crate) fn init() {
    let provider = std::env::var("TF_LOG_PROVIDER").ok();
    let core = std::env::var("TF_LOG").ok();
    let Some(level) = level_from_env(provider.as_deref(), core.as_deref()) else {
        return;
    };
    let filter = tracing_subscriber::filter::LevelFilter::from_level(level);
    // Ignore the error: a global subscriber already set (tests) keeps working.
    let _ = tracing_subscriber::registry().with(TerraformJson.with_filter(filter)).try_init();
}

/// Picks the level: `TF_LOG_PROVIDER` wins over `TF_LOG`; `JSON` and unrecognised non-empty
/// values mean TRACE (as Terraform itself does); `OFF` or unset means no logging.
pub(crate) fn level_from_env(provider: Option<&str>, core: Option<&str>) -> Option<Level> {
    let raw = provider.filter(|v| !v.is_empty()).or(core.filter(|v| !v.is_empty()))?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "OFF" => None,
        "ERROR" => Some(Level::ERROR),
        "WARN" => Some(Level::WARN),
        "INFO" => Some(Level::INFO),
        "DEBUG" => Some(Level::DEBUG),
        _ => Some(Level::TRACE),
    }
}

/// A `tracing` layer that writes one JSON object per event to stderr.
struct TerraformJson;

impl<S: Subscriber> Layer<S> for TerraformJson {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = render(event.metadata().level(), event.metadata().target(), SystemTime::now(), |v| event.record(v));
        // One write per line so that concurrent events never interleave within a line.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Builds one log line; `record` feeds the event's fields to the visitor.
fn render(level: &Level, target: &str, now: SystemTime, record: impl FnOnce(&mut JsonFields)) -> String {
    let mut fields = JsonFields::default();
    record(&mut fields);
    let level = match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    };
    let module = module_name(target);
    let mut line = String::with_capacity(128 + fields.rest.len());
    line.push_str("{\"@level\":\"");
    line.push_str(level);
    line.push_str("\",\"@message\":");
    push_json_string(&mut line, &fields.message);
    line.push_str(",\"@module\":");
    push_json_string(&mut line, &module);
    line.push_str(",\"@timestamp\":\"");
    line.push_str(&timestamp(now));
    line.push('"');
    line.push_str(&fields.rest);
    line.push_str("}\n");
    line
}

/// `hss_provider::hss::paging` becomes `hss.hss.paging`: short, and grep-able in Terraform's log.
fn module_name(target: &str) -> String {
    let rest = target.strip_prefix("hss_provider").unwrap_or(target);
    let rest = rest.trim_start_matches("::");
    if rest.is_empty() { "hss".to_owned() } else { format!("hss.{}", rest.replace("::", ".")) }
}

/// Collects an event's message and its other fields, already JSON-encoded.
#[derive(Default)]
struct JsonFields {
    message: String,
    rest: String,
}

impl JsonFields {
    fn push_key(&mut self, field: &Field) {
        self.push_name(field.name());
    }

    fn push_name(&mut self, name: &str) {
        self.rest.push(',');
        // Field names starting with '@' would shadow Terraform's keys.
        let name = name.trim_start_matches('@');
        push_json_string(&mut self.rest, name);
        self.rest.push(':');
    }

    /// A text field (or the message), scrubbed of every registered secret: whoever logs it, a
    /// header echoing a token or an error quoting a body never shows the secret.
    fn text(&mut self, name: &str, value: &str) {
        let value = scrub_registered(value);
        if name == "message" {
            self.message.push_str(&value);
        } else {
            self.push_name(name);
            push_json_string(&mut self.rest, &value);
        }
    }
}

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        self.record_str(field, &text);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push_key(field);
        let _ = write!(self.rest, "{value}");
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push_key(field);
        let _ = write!(self.rest, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push_key(field);
        self.rest.push_str(if value { "true" } else { "false" });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push_key(field);
        if value.is_finite() {
            let _ = write!(self.rest, "{value}");
        } else {
            push_json_string(&mut self.rest, &value.to_string());
        }
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    // Serialising a string cannot fail; the fallback only keeps the line valid JSON.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\"")));
}

/// `2006-01-02T15:04:05.000000Z`: UTC with exactly six fractional digits.
fn timestamp(now: SystemTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    // Formatting a UTC time with this description cannot fail; an empty stamp keeps the line.
    time::OffsetDateTime::from(now.max(UNIX_EPOCH)).format(format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn provider_variable_wins_and_json_means_trace() {
        assert_eq!(level_from_env(Some("debug"), Some("ERROR")), Some(Level::DEBUG));
        assert_eq!(level_from_env(None, Some("JSON")), Some(Level::TRACE));
        assert_eq!(level_from_env(Some(""), Some("warn")), Some(Level::WARN));
        assert_eq!(level_from_env(Some("off"), Some("TRACE")), None);
        assert_eq!(level_from_env(None, None), None);
        assert_eq!(level_from_env(None, Some("verbose")), Some(Level::TRACE));
    }

    #[test]
    fn line_has_terraform_keys_as_strings() {
        let when = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        let line = render(&Level::INFO, "hss_provider::hss::paging", when, |v| {
            v.message.push_str("read \"done\"\n");
            v.rest.push_str(",\"pages\":3");
        });
        assert_eq!(
            line,
            "{\"@level\":\"info\",\"@message\":\"read \\\"done\\\"\\n\",\"@module\":\"hss.hss.paging\",\
             \"@timestamp\":\"2023-11-14T22:13:20.123456Z\",\"pages\":3}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert!(parsed["@timestamp"].is_string());
    }

    #[test]
    fn registered_secrets_are_scrubbed_from_every_text() {
        // Unique values: the registry is shared by the whole test binary.
        const TOKEN: &str = "logging-test-token-\"quoted\"-9f8e7d";
        const SHORT: &str = "q7";
        protect(TOKEN);
        protect(TOKEN);
        protect(SHORT);
        protect("");
        let line = render(&Level::DEBUG, "hss_provider::hss::transport", UNIX_EPOCH, |v| {
            v.text("message", &format!("HSS request {TOKEN}"));
            v.text("request_id", &format!("id-{TOKEN}-end"));
        });
        assert!(!line.contains("logging-test-token"), "{line}");
        assert!(line.contains("HSS request ***") && line.contains("id-***-end"), "{line}");
        // The short one is not scrubbed (it would blank out "q7" anywhere), only warned about.
        assert_eq!(scrub_registered("q7 stays"), "q7 stays");
        let r = REGISTRY.read().unwrap();
        assert_eq!(r.secrets.iter().filter(|s| *s == TOKEN).count(), 1);
        assert!(r.warned.iter().any(|s| s == SHORT));
    }

    #[test]
    fn scrub_replaces_the_longest_secret_first_and_skips_short_ones() {
        let secrets = ["abcdefgh", "abcd", "xy"];
        assert_eq!(scrub("k=abcdefgh;abcd;xy", &secrets), "k=***;***;xy");
        assert!(matches!(scrub("nothing here", &secrets), Cow::Borrowed(_)));
        assert!(redactable("abcd") && !redactable("abc") && redactable("éééé") && !redactable("ééé"));
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut s = String::new();
        push_json_string(&mut s, "a\u{1}b\"");
        assert_eq!(s, "\"a\\u0001b\\\"\"");
    }
}
