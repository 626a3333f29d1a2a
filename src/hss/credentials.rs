//! The credentials provider: what every request of one client is signed with.
//!
//! - Fixed credentials (a token, or AK/SK with an optional security token) never change.
//! - Temporary credentials come from assuming an agency with the base credentials
//!   (`assume_role`, see `iam`) or from the ECS metadata service (`use_ecs_agency`), or both
//!   (the ECS agency's credentials assume another agency). They expire, so they are renewed
//!   ahead of time: when less than a third of their lifetime is left, and at most 10 minutes
//!   before `expires_at`.
//!
//! Renewal is single-flight. The current credentials sit behind a `std::sync::RwLock` that
//! signing reads without waiting; renewing takes a `tokio::sync::Mutex`, and whoever gets it
//! second finds fresh credentials and sends nothing. A failed renewal is remembered for a
//! second, so that the reads waiting for it share the failure instead of each repeating it.
//!
//! Who renews: every read awaits [`CredentialProvider::current`] before it starts, and runs
//! [`CredentialProvider::keep_fresh`] next to its pages, which sleeps until the renewal time
//! and renews then. Fifty concurrent reads wake together and make one renewal; an idle
//! provider makes none, and nothing runs in the background once the reads are done.
//!
//! Every secret the provider has held (secret keys, security tokens, metadata tokens) is kept
//! in a short list for redaction: [`CredentialProvider::secrets`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::config::{AssumeRole, ClientConfig, CredentialSource};
use super::error::Error;
use super::iam::{self, Iam};
use super::request::Signer;
use super::retry::Policy;
use super::{Credentials, Secret};

/// Renew this long before `expires_at` at the most (the `huaweicloud` provider's margin).
const MAX_RENEW_MARGIN: Duration = Duration::from_secs(10 * 60);
/// Renewals are at least this far apart, whatever the credentials' lifetime claims.
const MIN_RENEW_INTERVAL: Duration = Duration::from_secs(1);
/// A failed renewal is shared with every caller for this long before anyone tries again.
const FAILURE_SHARED_FOR: Duration = Duration::from_secs(1);
/// How many temporary secrets are remembered for redaction.
const SECRETS_KEPT: usize = 32;
/// `X-Metadata-Token-Ttl-Seconds` of the metadata token (only used for one renewal).
const METADATA_TOKEN_TTL: &str = "300";
/// Connection timeout of the metadata service: it is on the local link, or not there at all.
const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Temporary credentials as IAM and the metadata service return them:
/// `{"credential":{"access","secret","securitytoken","expires_at"}}`.
pub(crate) struct Temporary {
    pub access: String,
    pub secret: Secret,
    pub security_token: Secret,
    pub expires_at: SystemTime,
}

impl Temporary {
    /// Reads the `credential` object of `body`. Errors name the missing or bad field, never a
    /// value: the body holds secrets. `from` says who answered.
    pub fn parse(body: &[u8], from: &str) -> Result<Temporary, String> {
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| format!("{from} answered with a body that is not JSON ({})", e.classify_name()))?;
        let credential = json
            .get("credential")
            .filter(|c| c.is_object())
            .ok_or_else(|| format!("{from} answered without a \"credential\" object"))?;
        let field = |name: &str| -> Result<String, String> {
            match credential.get(name).and_then(|v| v.as_str()).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(format!("{from} answered without credential.{name}")),
            }
        };
        let access = field("access")?;
        let secret = field("secret")?;
        let security_token = field("securitytoken")?;
        let expires_at = parse_timestamp(&field("expires_at")?)
            .ok_or_else(|| format!("{from} answered with a credential.expires_at that is not an RFC 3339 UTC time"))?;
        if HeaderValue::from_str(&access).is_err() || access.contains(',') || access.contains(' ') {
            return Err(format!("{from} answered with a credential.access that is not a valid access key"));
        }
        if HeaderValue::from_str(&security_token).is_err() {
            return Err(format!("{from} answered with a credential.securitytoken that cannot be sent in a header"));
        }
        Ok(Temporary { access, secret: Secret::new(secret), security_token: Secret::new(security_token), expires_at })
    }

    fn signer(&self) -> Result<Signer, String> {
        Signer::from_credentials(&Credentials::AkSk {
            access_key: self.access.clone(),
            secret_key: self.secret.clone(),
            security_token: Some(self.security_token.clone()),
        })
        .map_err(|e| e.to_string())
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    /// The kind of a JSON error, without the parts of the input serde may quote.
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

/// Parses `2026-12-01T20:00:00.000000Z` (RFC 3339, UTC: `Z` or `+00:00`, any fraction).
pub(crate) fn parse_timestamp(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let body = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00"))?;
    let (date, time) = body.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (year, month, day) =
        (d.next()?.parse::<i32>().ok()?, d.next()?.parse::<u8>().ok()?, d.next()?.parse::<u8>().ok()?);
    if d.next().is_some() {
        return None;
    }
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (hms, f),
        Some(_) => return None,
        None => (time, ""),
    };
    let mut t = hms.split(':');
    let (hour, minute, second) =
        (t.next()?.parse::<u8>().ok()?, t.next()?.parse::<u8>().ok()?, t.next()?.parse::<u8>().ok()?);
    if t.next().is_some() {
        return None;
    }
    let nanos: u32 = format!("{:0<9}", &fraction[..fraction.len().min(9)]).parse().ok()?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let time = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let unix = time::PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp_nanos();
    let unix = u64::try_from(unix).ok()?;
    Some(UNIX_EPOCH + Duration::from_nanos(unix))
}

/// The credentials in use, with when to renew them.
pub(crate) struct Current {
    pub signer: Signer,
    /// `None` for credentials that never expire.
    pub expires_at: Option<SystemTime>,
    renew_at: Option<SystemTime>,
}

impl Current {
    fn fixed(signer: Signer) -> Current {
        Current { signer, expires_at: None, renew_at: None }
    }

    /// Credentials obtained at `obtained` that expire at `expires_at`: renewed when a third of
    /// their lifetime is left (10 minutes at most), and never sooner than a second after.
    fn temporary(signer: Signer, obtained: SystemTime, expires_at: SystemTime) -> Current {
        let lifetime = expires_at.duration_since(obtained).unwrap_or(Duration::ZERO);
        let margin = (lifetime / 3).min(MAX_RENEW_MARGIN);
        let renew_at = (expires_at - margin).max(obtained + MIN_RENEW_INTERVAL);
        Current { signer, expires_at: Some(expires_at), renew_at: Some(renew_at) }
    }

    fn due(&self, now: SystemTime) -> bool {
        self.renew_at.is_some_and(|at| now >= at)
    }

    fn expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// How temporary credentials are obtained.
struct Renewal {
    http: reqwest::Client,
    /// A client that never uses a proxy, for the metadata service (created only when used).
    metadata_http: Option<reqwest::Client>,
    source: CredentialSource,
    /// Base credentials (static source).
    base: Option<Signer>,
    assume_role: Option<AssumeRole>,
    iam: Option<Iam>,
    policy: Policy,
    timeout: Duration,
}

/// The credentials of one client; see the module docs.
pub(crate) struct CredentialProvider {
    renewal: Option<Renewal>,
    current: RwLock<Option<Arc<Current>>>,
    renewing: tokio::sync::Mutex<()>,
    failure: Mutex<Option<(Instant, String)>>,
    /// Secrets of the fixed or base credentials, kept for the client's lifetime.
    fixed_secrets: Vec<Secret>,
    /// The temporary ones, most recent last.
    temporary_secrets: Mutex<Vec<Secret>>,
    renewals: AtomicU64,
}

/// Has the logger scrub the secrets of `signer` from every line.
fn protect(signer: &Signer) {
    for secret in signer.secrets() {
        crate::logging::protect(secret.expose());
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl CredentialProvider {
    /// Credentials that never change.
    pub fn fixed(signer: Signer) -> CredentialProvider {
        protect(&signer);
        CredentialProvider {
            fixed_secrets: signer.secrets(),
            renewal: None,
            current: RwLock::new(Some(Arc::new(Current::fixed(signer)))),
            renewing: tokio::sync::Mutex::new(()),
            failure: Mutex::new(None),
            temporary_secrets: Mutex::new(Vec::new()),
            renewals: AtomicU64::new(0),
        }
    }

    /// The provider `config` describes: fixed credentials, or temporary ones obtained with
    /// `http` (IAM) on first use. Sends nothing.
    pub fn from_config(
        config: &ClientConfig,
        http: &reqwest::Client,
        iam: Option<Iam>,
    ) -> Result<CredentialProvider, Error> {
        let base = match config.credential_source {
            CredentialSource::Static => Some(Signer::from_credentials(&config.credentials)?),
            CredentialSource::EcsMetadata(_) => None,
        };
        if !config.renews_credentials() {
            return Ok(CredentialProvider::fixed(base.expect("static credentials")));
        }
        if config.assume_role.is_some() && iam.is_none() {
            return Err(Error::config("assume_role needs an IAM endpoint: set auth_url or region"));
        }
        let metadata_http = match &config.credential_source {
            CredentialSource::EcsMetadata(url) => {
                let parsed = Url::parse(url)
                    .map_err(|e| Error::config(format!("HW_ECS_METADATA_ENDPOINT {url:?} is not a valid URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(Error::config(format!("HW_ECS_METADATA_ENDPOINT {url:?} must be an http:// URL")));
                }
                let client = reqwest::Client::builder()
                    .no_proxy()
                    .connect_timeout(METADATA_CONNECT_TIMEOUT)
                    .user_agent(super::user_agent(config.terraform_version.as_deref()))
                    .build()
                    .map_err(|e| Error::config(format!("cannot create the HTTP client: {e}")))?;
                Some(client)
            }
            CredentialSource::Static => None,
        };
        if let Some(base) = &base {
            protect(base);
        }
        let fixed_secrets = base.as_ref().map(Signer::secrets).unwrap_or_default();
        Ok(CredentialProvider {
            renewal: Some(Renewal {
                http: http.clone(),
                metadata_http,
                source: config.credential_source.clone(),
                base,
                assume_role: config.assume_role.clone(),
                iam,
                policy: Policy::from_config(config),
                timeout: config.request_timeout,
            }),
            current: RwLock::new(None),
            renewing: tokio::sync::Mutex::new(()),
            failure: Mutex::new(None),
            fixed_secrets,
            temporary_secrets: Mutex::new(Vec::new()),
            renewals: AtomicU64::new(0),
        })
    }

    /// Whether the credentials are temporary (and renewed).
    pub fn rotates(&self) -> bool {
        self.renewal.is_some()
    }

    /// How many times temporary credentials were obtained.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    fn snapshot(&self) -> Option<Arc<Current>> {
        read(&self.current).clone()
    }

    /// The credentials to sign with right now, without waiting. Only `None` before the first
    /// [`CredentialProvider::current`] of temporary credentials; the client awaits that before
    /// any request.
    pub fn signer(&self) -> Result<Arc<Current>, Error> {
        self.snapshot().ok_or_else(|| Error::config("the temporary credentials have not been obtained yet"))
    }

    /// Credentials fit for a new read: renewed first when they are due. A failed renewal is an
    /// error only once the credentials in hand have expired.
    pub async fn current(&self) -> Result<Arc<Current>, Error> {
        match self.renew_if_due().await {
            Ok(c) => Ok(c),
            Err(message) => match self.snapshot() {
                Some(c) if !c.expired(SystemTime::now()) => {
                    tracing::warn!(error = %message, "renewing the temporary credentials failed; using the current ones");
                    Ok(c)
                }
                _ => Err(Error::config(message)),
            },
        }
    }

    /// Runs next to a read: renews the credentials whenever they fall due, for as long as it is
    /// polled. Returns only when renewal failed and the credentials have expired.
    pub async fn keep_fresh(&self) -> Error {
        let mut backoff = Duration::from_millis(250);
        loop {
            let Some(renew_at) = self.snapshot().and_then(|c| c.renew_at) else {
                return std::future::pending().await;
            };
            let wait = renew_at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait).await;
            match self.renew_if_due().await {
                Ok(_) => backoff = Duration::from_millis(250),
                Err(message) => {
                    if self.snapshot().is_none_or(|c| c.expired(SystemTime::now())) {
                        return Error::config(message);
                    }
                    tracing::warn!(error = %message, "renewing the temporary credentials failed; trying again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Single-flight renewal: the current credentials when they are not due, else new ones.
    async fn renew_if_due(&self) -> Result<Arc<Current>, String> {
        let fresh = || self.snapshot().filter(|c| !c.due(SystemTime::now()));
        if let Some(c) = fresh() {
            return Ok(c);
        }
        let Some(renewal) = &self.renewal else {
            return self.snapshot().ok_or_else(|| "no credentials".to_owned());
        };
        if let Some(message) = self.recent_failure() {
            return Err(message);
        }
        let _guard = self.renewing.lock().await;
        if let Some(c) = fresh() {
            return Ok(c);
        }
        if let Some(message) = self.recent_failure() {
            return Err(message);
        }
        let obtained = SystemTime::now();
        match self.obtain(renewal).await {
            Ok(temporary) => {
                let signer = temporary.signer()?;
                self.remember(&temporary.secret);
                self.remember(&temporary.security_token);
                let current = Arc::new(Current::temporary(signer, obtained, temporary.expires_at));
                let n = self.renewals.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::debug!(
                    renewal = n,
                    expires_in_s = temporary.expires_at.duration_since(SystemTime::now()).unwrap_or_default().as_secs(),
                    "temporary credentials obtained"
                );
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(current.clone());
                *lock(&self.failure) = None;
                Ok(current)
            }
            Err(message) => {
                let message = self.redact(&message);
                *lock(&self.failure) = Some((Instant::now(), message.clone()));
                Err(message)
            }
        }
    }

    fn recent_failure(&self) -> Option<String> {
        lock(&self.failure)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FAILURE_SHARED_FOR)
            .map(|(_, message)| message.clone())
    }

    /// Keeps `secret` for redaction, and has the logger scrub it from every line from now on.
    fn remember(&self, secret: &Secret) {
        if secret.is_empty() {
            return;
        }
        crate::logging::protect(secret.expose());
        let mut kept = lock(&self.temporary_secrets);
        if kept.contains(secret) {
            return;
        }
        if kept.len() >= SECRETS_KEPT {
            kept.remove(0);
        }
        kept.push(secret.clone());
    }

    /// Every secret held so far: the fixed ones and the recent temporary ones.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out = self.fixed_secrets.clone();
        out.extend(lock(&self.temporary_secrets).iter().cloned());
        out.retain(|s| !s.is_empty());
        out
    }

    /// `text` with every secret held replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let mut secrets = self.secrets();
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        for secret in secrets {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), "***");
            }
        }
        out
    }

    async fn obtain(&self, renewal: &Renewal) -> Result<Temporary, String> {
        let base = match (&renewal.source, &renewal.base) {
            (CredentialSource::EcsMetadata(url), _) => {
                let http = renewal.metadata_http.as_ref().ok_or("no metadata client")?;
                let temporary = self.fetch_metadata(http, url, renewal.timeout).await?;
                if renewal.assume_role.is_none() {
                    return Ok(temporary);
                }
                self.remember(&temporary.secret);
                self.remember(&temporary.security_token);
                temporary.signer()?
            }
            (CredentialSource::Static, Some(base)) => base.clone(),
            (CredentialSource::Static, None) => return Err("no base credentials".into()),
        };
        let (Some(role), Some(iam)) = (&renewal.assume_role, &renewal.iam) else {
            return Err("no agency to assume".into());
        };
        iam::assume_role(&renewal.http, iam, &base, role, renewal.policy, renewal.timeout).await
    }

    /// The ECS agency's credentials: the session token first (`PUT .../api/token`), then the
    /// key with it; without a token when the metadata service does not offer one.
    async fn fetch_metadata(&self, http: &reqwest::Client, base: &str, timeout: Duration) -> Result<Temporary, String> {
        let base = base.trim_end_matches('/');
        let unreachable = |what: &str, e: &reqwest::Error| {
            format!(
                "use_ecs_agency is set, but the ECS metadata service at {base} cannot be reached ({what}: {}). \
                 ECS agency credentials exist only on a Huawei Cloud ECS with an agency attached; elsewhere, \
                 give credentials another way. HW_ECS_METADATA_ENDPOINT overrides the address (for tests and \
                 unusual networks).",
                super::error::chain(e)
            )
        };
        let token_url = format!("{base}/meta-data/latest/api/token");
        let response = tokio::time::timeout(
            timeout,
            http.request(Method::PUT, &token_url).header("X-Metadata-Token-Ttl-Seconds", METADATA_TOKEN_TTL).send(),
        )
        .await
        .map_err(|_| format!("the ECS metadata service at {base} did not answer within {} s", timeout.as_secs()))?
        .map_err(|e| unreachable("token request", &e))?;
        let status = response.status().as_u16();
        let token = match status {
            200..=299 => {
                let body = response.bytes().await.map_err(|e| unreachable("token request", &e))?;
                let token = String::from_utf8_lossy(&body).trim().to_owned();
                let value = HeaderValue::from_str(&token).map_err(|_| {
                    "the ECS metadata service answered with a token that cannot be sent back".to_owned()
                })?;
                self.remember(&Secret::new(token));
                Some(value)
            }
            // Older metadata services have no session tokens: ask without one.
            404 | 405 | 501 => None,
            other => return Err(format!("the ECS metadata service at {base} refused a session token (HTTP {other})")),
        };
        let key_url = format!("{base}/openstack/latest/securitykey");
        let mut headers = HeaderMap::new();
        if let Some(mut token) = token {
            token.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-metadata-token"), token);
        }
        let response = tokio::time::timeout(timeout, http.get(&key_url).headers(headers).send())
            .await
            .map_err(|_| format!("the ECS metadata service at {base} did not answer within {} s", timeout.as_secs()))?
            .map_err(|e| unreachable("security key request", &e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| unreachable("security key request", &e))?;
        match status {
            200..=299 => Temporary::parse(&body, "the ECS metadata service"),
            404 => Err(format!(
                "use_ecs_agency is set, but the ECS metadata service at {base} has no agency credentials (HTTP 404): \
                 attach an agency to this ECS (ECS console > the instance > Management Information > Agency), or \
                 give credentials another way"
            )),
            other => Err(format!("the ECS metadata service at {base} answered HTTP {other} for the security key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2026-12-01T20:00:00.000000Z").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_796_155_200);
        let t = parse_timestamp("2026-12-01T20:00:00.25Z").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_millis() % 1000, 250);
        assert!(parse_timestamp("2026-12-01T20:00:00+00:00").is_some());
        for bad in ["", "2026-12-01", "2026-12-01T20:00:00", "2026-13-01T20:00:00Z", "2026-12-01T20:00:00.Z", "x"] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn parsing_never_echoes_a_value() {
        let body = br#"{"credential":{"access":"AK TMP","secret":"s3cr3t-value","securitytoken":"tok","expires_at":"2026-12-01T20:00:00Z"}}"#;
        let e = Temporary::parse(body, "IAM").err().unwrap();
        assert!(e.contains("credential.access") && !e.contains("AK TMP") && !e.contains("s3cr3t"), "{e}");
        let e = Temporary::parse(br#"{"credential":{"access":"AK","secret":"s3cr3t-value"}}"#, "IAM").err().unwrap();
        assert!(e.contains("credential.securitytoken"), "{e}");
        let e = Temporary::parse(br#"{"credential":"s3cr3t-value"#, "IAM").err().unwrap();
        assert!(!e.contains("s3cr3t"), "{e}");
        let ok = br#"{"credential":{"access":"AK","secret":"sk","securitytoken":"tok","expires_at":"2026-12-01T20:00:00.000000Z"}}"#;
        let t = Temporary::parse(ok, "IAM").unwrap();
        assert_eq!((t.access.as_str(), t.secret.expose(), t.security_token.expose()), ("AK", "sk", "tok"));
    }

    #[test]
    fn renewal_time() {
        let now = SystemTime::now();
        let signer = || Signer::Token(HeaderValue::from_static("t"));
        // A third of the lifetime, at most ten minutes, at least a second after obtaining.
        let c = Current::temporary(signer(), now, now + Duration::from_secs(3));
        assert_eq!(c.renew_at, Some(now + Duration::from_secs(2)));
        let c = Current::temporary(signer(), now, now + Duration::from_secs(3600));
        assert_eq!(c.renew_at, Some(now + Duration::from_secs(3000)));
        let c = Current::temporary(signer(), now, now - Duration::from_secs(5));
        assert_eq!(c.renew_at, Some(now + MIN_RENEW_INTERVAL));
        assert!(c.expired(now) && !c.due(now) && c.due(now + MIN_RENEW_INTERVAL));
        let fixed = Current::fixed(signer());
        assert!(!fixed.due(now + Duration::from_secs(1 << 30)));
    }

    #[test]
    fn redaction_covers_every_secret_held() {
        let p = CredentialProvider::fixed(
            Signer::from_credentials(&Credentials::AkSk {
                access_key: "AK".into(),
                secret_key: Secret::new("base-secret-key".into()),
                security_token: None,
            })
            .unwrap(),
        );
        p.remember(&Secret::new("temp-token-abc".into()));
        assert_eq!(p.redact("x base-secret-key y temp-token-abc"), "x *** y ***");
        assert_eq!(p.secrets().len(), 2);
    }
}
