//! The single retry loop around `attempt`: retries 429 (honouring `Retry-After`, capped),
//! 500/502/503/504, 2xx bodies that are not JSON or are cut short, transport failures and
//! timeouts, with exponential back-off and full jitter. Never what would come back the same:
//! other 4xx, JSON of the wrong shape, an oversized answer, a TLS certificate that cannot be
//! verified ([`Error::is_retryable`]). Cancellation stops every wait and request at once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::error::Error;
use super::transport::Failure;

/// Back-off before retry number `retry` (0 = first retry): a uniformly random duration between
/// zero and `min(max, base * 2^retry)` ("full jitter"). `jitter` is in `[0, 1)`.
pub(crate) fn backoff_delay(retry: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let ceiling = base.checked_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX)).unwrap_or(max).min(max);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// A random number in `[0, 1)` from the system RNG.
pub(crate) fn jitter() -> f64 {
    let mut b = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// How failed attempts are retried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: u32,
    /// Back-off ceiling of the first retry, doubled each retry.
    pub base_delay: Duration,
    /// Cap of the back-off and of `Retry-After`.
    pub max_delay: Duration,
}

impl Policy {
    pub fn from_config(cfg: &ClientConfig) -> Policy {
        Policy { max_retries: cfg.max_retries, base_delay: cfg.retry_base_delay, max_delay: cfg.retry_max_delay }
    }
}

/// The retry loop. `attempt(n)` makes attempt number `n` (1-based). Retries what
/// [`Error::is_retryable`] allows, up to `policy.max_retries` times, waiting `Retry-After`
/// (capped) or the jittered back-off between attempts. When `cancel` fires, the attempt in
/// flight or the wait is abandoned at once and the result is a cancellation error.
pub(crate) async fn run<T, F, Fut>(
    policy: Policy,
    offset: u64,
    cancel: &CancellationToken,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut retries = 0u32;
    loop {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let outcome = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::cancelled()),
            r = attempt(retries.saturating_add(1)) => r,
        };
        let failure = match outcome {
            Ok(v) => return Ok(v),
            Err(f) => f,
        };
        let error = failure.error;
        if !error.is_retryable() || retries >= policy.max_retries {
            if error.is_retryable() && policy.max_retries > 0 {
                tracing::warn!(offset, retries, error = %error, "HSS request failed; giving up");
            }
            return Err(error.with_retries(retries));
        }
        let delay = match failure.retry_after {
            Some(d) => d.min(policy.max_delay),
            None => backoff_delay(retries, policy.base_delay, policy.max_delay, jitter()),
        };
        retries += 1;
        tracing::debug!(
            offset,
            retry = retries,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error = %error,
            "HSS request failed; retrying"
        );
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::cancelled()),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hss::transport::parse_retry_after;
    use std::time::UNIX_EPOCH;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn backoff_doubles_and_caps() {
        let base = 500 * MS;
        let max = Duration::from_secs(30);
        // jitter just below 1 gives (almost) the ceiling.
        let top = |r| backoff_delay(r, base, max, 1.0);
        assert_eq!(top(0), 500 * MS);
        assert_eq!(top(1), 1000 * MS);
        assert_eq!(top(2), 2000 * MS);
        assert_eq!(top(5), 16_000 * MS);
        assert_eq!(top(6), max);
        assert_eq!(top(31), max);
        assert_eq!(top(40), max);
        assert_eq!(top(u32::MAX), max);
        assert_eq!(backoff_delay(3, base, max, 0.0), Duration::ZERO);
        assert_eq!(backoff_delay(3, base, max, 0.5), 2000 * MS);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_704_164_645); // Tue, 02 Jan 2024 03:04:05 GMT
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", now), Some(1500 * MS));
        assert_eq!(parse_retry_after("Tue, 02 Jan 2024 03:04:15 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Tue, 02 Jan 2024 03:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::from_secs(u64::MAX)));
    }

    // The retry loop with scripted attempts and tokio's paused clock.

    use std::sync::Mutex;
    use tokio::time::Instant;

    fn policy(max_retries: u32) -> Policy {
        Policy { max_retries, base_delay: 500 * MS, max_delay: Duration::from_secs(30) }
    }

    fn api(status: u16) -> Error {
        Error::from_response(status, br#"{"error_code":"X.1","error_msg":"m"}"#, Some("rid".into()))
    }

    /// Runs the loop with attempts answering from `script` (then succeeding), and returns the
    /// result, the 1-based attempt numbers seen and the paused-clock time each started at.
    async fn scripted(
        p: Policy,
        script: Vec<Failure>,
        cancel: &CancellationToken,
    ) -> (Result<u32, Error>, Vec<(u32, Duration)>) {
        let start = Instant::now();
        let script = Mutex::new(script.into_iter());
        let seen = Mutex::new(Vec::new());
        let result = run(p, 0, cancel, |n| {
            seen.lock().unwrap().push((n, start.elapsed()));
            let next = script.lock().unwrap().next();
            async move {
                match next {
                    Some(f) => Err(f),
                    None => Ok(n),
                }
            }
        })
        .await;
        (result, seen.into_inner().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_waited_exactly_and_capped() {
        let cancel = CancellationToken::new();
        let throttled = |secs| Failure { error: api(429), retry_after: Some(Duration::from_secs(secs)) };
        let (r, seen) = scripted(policy(5), vec![throttled(3), throttled(3600)], &cancel).await;
        assert_eq!(r.unwrap(), 3);
        let starts: Vec<Duration> = seen.iter().map(|(_, t)| *t).collect();
        // 3 s as asked, then 3600 s capped to retry_max_delay (30 s).
        assert_eq!(starts, vec![Duration::ZERO, Duration::from_secs(3), Duration::from_secs(33)]);
        assert_eq!(seen.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_waits_stay_under_the_doubling_ceiling() {
        let cancel = CancellationToken::new();
        let script = [500, 502, 503, 504, 500].into_iter().map(|s| Failure::from(api(s))).collect();
        let (r, seen) = scripted(policy(5), script, &cancel).await;
        assert_eq!(r.unwrap(), 6);
        for (i, pair) in seen.windows(2).enumerate() {
            let waited = pair[1].1 - pair[0].1;
            assert!(waited <= (500 * MS) * (1 << i), "retry {i} waited {waited:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_retries_with_the_count() {
        let cancel = CancellationToken::new();
        let script = (0..10).map(|_| Failure::from(api(503))).collect();
        let (r, seen) = scripted(policy(2), script, &cancel).await;
        let e = r.unwrap_err();
        assert_eq!(e.status(), Some(503));
        assert_eq!(e.retries(), 2);
        assert_eq!(seen.len(), 3);
        let script = (0..10).map(|_| Failure::from(api(503))).collect();
        let (r, seen) = scripted(policy(0), script, &cancel).await;
        assert_eq!(r.unwrap_err().retries(), 0);
        assert_eq!(seen.len(), 1, "max_retries 0 disables retries");
    }

    #[tokio::test(start_paused = true)]
    async fn other_client_errors_are_never_retried() {
        let cancel = CancellationToken::new();
        for status in [400, 401, 403, 404, 409] {
            let (r, seen) = scripted(policy(5), vec![Failure::from(api(status))], &cancel).await;
            assert_eq!(r.unwrap_err().status(), Some(status));
            assert_eq!(seen.len(), 1, "{status}");
        }
        let (r, seen) = scripted(policy(5), vec![Failure::from(Error::config("x"))], &cancel).await;
        assert!(r.unwrap_err().is_config());
        assert_eq!(seen.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_that_would_come_back_the_same_are_never_retried() {
        use crate::hss::ErrorKind;
        let cancel = CancellationToken::new();
        let kinds = [
            ErrorKind::Tls { message: "invalid peer certificate: UnknownIssuer".into(), certificate: true },
            ErrorKind::UnexpectedShape {
                status: 200,
                field: "total_num".into(),
                reason: "missing".into(),
                request_id: None,
            },
            ErrorKind::ResponseTooLarge { status: 200, limit: 16 << 20, declared: None, request_id: None },
        ];
        for kind in kinds {
            let (r, seen) = scripted(policy(5), vec![Failure::from(Error::new(kind))], &cancel).await;
            let e = r.unwrap_err();
            assert_eq!((seen.len(), e.retries()), (1, 0), "{e}");
        }
        // A body cut short is worth another attempt.
        let cut = Error::new(ErrorKind::Transport { message: "error reading the response".into(), retries: 0 });
        let (r, seen) = scripted(policy(5), vec![Failure::from(cut)], &cancel).await;
        assert_eq!((r.unwrap(), seen.len()), (2, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_stops_a_wait_at_once() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            trigger.cancel();
        });
        let start = Instant::now();
        let long = Failure { error: api(429), retry_after: Some(Duration::from_secs(20)) };
        let (r, seen) = scripted(policy(5), vec![long], &cancel).await;
        assert!(r.unwrap_err().is_cancelled());
        assert_eq!(seen.len(), 1);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_stops_an_attempt_in_flight() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            trigger.cancel();
        });
        let start = Instant::now();
        let r: Result<(), Error> = run(policy(5), 0, &cancel, |_| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .await;
        assert!(r.unwrap_err().is_cancelled());
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        // Already cancelled: no attempt is made.
        let (r, seen) = scripted(policy(5), vec![], &cancel).await;
        assert!(r.unwrap_err().is_cancelled());
        assert!(seen.is_empty());
    }
}
