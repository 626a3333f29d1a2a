//! Provider-wide request limits shared by every clone of the client: a semaphore-like gate on
//! requests in flight (held only while a request is in flight, never during back-off), a token
//! bucket for `requests_per_second`, and adaptive back-off that halves the allowed concurrency
//! for a while after the API answers 429.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long concurrency stays lowered after a 429.
pub(crate) const THROTTLE_COOL_DOWN: Duration = Duration::from_secs(10);
/// 429s closer together than this count as one throttling event (one halving).
const THROTTLE_COALESCE: Duration = Duration::from_secs(1);

/// The shared limits of one provider instance.
#[derive(Debug)]
pub(crate) struct Limits {
    max: usize,
    gate: Mutex<Gate>,
    released: Notify,
    bucket: Option<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Gate {
    in_flight: usize,
    limit: usize,
    /// When the lowered limit goes back to `max`.
    restore_at: Option<Instant>,
    last_throttle: Option<Instant>,
}

/// A token bucket with capacity 1 that lets callers reserve future tokens: requests are spaced
/// at least `1 / rate` apart.
#[derive(Debug)]
struct Bucket {
    interval: Duration,
    /// The earliest time the next request may start.
    next: Option<Instant>,
}

impl Bucket {
    /// Reserves the next slot and returns how long to wait for it.
    fn reserve(&mut self, now: Instant) -> Duration {
        let slot = match self.next {
            Some(t) if t > now => t,
            _ => now,
        };
        self.next = Some(slot + self.interval);
        slot - now
    }
}

/// Permission to have one request in flight; released on drop.
#[must_use]
pub(crate) struct Permit<'a> {
    limits: &'a Limits,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        {
            let mut g = self.limits.gate.lock().unwrap_or_else(|e| e.into_inner());
            g.in_flight -= 1;
        }
        self.limits.released.notify_waiters();
    }
}

impl Limits {
    pub fn new(max_concurrent: usize, requests_per_second: f64) -> Limits {
        let max = max_concurrent.max(1);
        let bucket = (requests_per_second > 0.0).then(|| {
            Mutex::new(Bucket {
                interval: Duration::from_secs_f64((1.0 / requests_per_second).min(3600.0)),
                next: None,
            })
        });
        Limits {
            max,
            gate: Mutex::new(Gate { in_flight: 0, limit: max, restore_at: None, last_throttle: None }),
            released: Notify::new(),
            bucket,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The concurrency limit in force now (restores the full limit when the cool-down is over).
    #[cfg(test)]
    pub fn current_limit(&self) -> usize {
        let mut g = self.lock();
        self.refresh(&mut g, Instant::now())
    }

    fn refresh(&self, g: &mut Gate, now: Instant) -> usize {
        if let Some(t) = g.restore_at
            && now >= t
        {
            g.limit = self.max;
            g.restore_at = None;
            tracing::debug!(limit = self.max, "HSS concurrency limit restored");
        }
        g.limit
    }

    /// Waits for a free slot, then for the rate limiter. Cancel by dropping the future.
    pub async fn acquire(&self) -> Permit<'_> {
        let permit = loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let wake_at = {
                let mut g = self.lock();
                let limit = self.refresh(&mut g, Instant::now());
                if g.in_flight < limit {
                    g.in_flight += 1;
                    break Permit { limits: self };
                }
                g.restore_at
            };
            match wake_at {
                Some(t) => {
                    tokio::select! {
                        _ = &mut released => {}
                        _ = tokio::time::sleep_until(t) => {}
                    }
                }
                None => released.await,
            }
        };
        if let Some(bucket) = &self.bucket {
            let wait = bucket.lock().unwrap_or_else(|e| e.into_inner()).reserve(Instant::now());
            if !wait.is_zero() {
                tracing::trace!(wait_ms = wait.as_millis() as u64, "rate limit");
                tokio::time::sleep(wait).await;
            }
        }
        permit
    }

    /// Records a 429: halves the concurrency limit (minimum 1) for [`THROTTLE_COOL_DOWN`].
    /// 429s within a second of each other count once.
    pub fn on_throttled(&self) {
        let now = Instant::now();
        let mut g = self.lock();
        let current = self.refresh(&mut g, now);
        let recent = g.last_throttle.is_some_and(|t| now.duration_since(t) < THROTTLE_COALESCE);
        if !recent {
            g.limit = (current / 2).max(1);
            g.last_throttle = Some(now);
            tracing::debug!(
                limit = g.limit,
                max = self.max,
                "HSS throttled (429): lowering concurrency for {}s",
                THROTTLE_COOL_DOWN.as_secs()
            );
        }
        g.restore_at = Some(now + THROTTLE_COOL_DOWN);
    }

    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.lock().in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn bounds_concurrency() {
        let limits = Arc::new(Limits::new(3, 0.0));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (limits, now, peak) = (limits.clone(), now.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let _p = limits.acquire().await;
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(limits.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_then_restores() {
        let limits = Limits::new(8, 0.0);
        limits.on_throttled();
        assert_eq!(limits.current_limit(), 4);
        limits.on_throttled(); // same burst: counted once
        assert_eq!(limits.current_limit(), 4);
        tokio::time::advance(Duration::from_secs(2)).await;
        limits.on_throttled();
        assert_eq!(limits.current_limit(), 2);
        tokio::time::advance(Duration::from_secs(2)).await;
        limits.on_throttled();
        tokio::time::advance(Duration::from_secs(2)).await;
        limits.on_throttled();
        assert_eq!(limits.current_limit(), 1);
        tokio::time::advance(THROTTLE_COOL_DOWN - Duration::from_millis(1)).await;
        assert_eq!(limits.current_limit(), 1);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(limits.current_limit(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn waiter_wakes_when_limit_is_restored() {
        let limits = Limits::new(2, 0.0);
        limits.on_throttled(); // limit 1
        let _held = limits.acquire().await;
        let start = Instant::now();
        // No permit is released; the waiter must wake when the cool-down ends.
        let _second = limits.acquire().await;
        assert_eq!(start.elapsed(), THROTTLE_COOL_DOWN);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_spaces_requests() {
        let limits = Limits::new(8, 4.0);
        let start = Instant::now();
        for _ in 0..9 {
            let _p = limits.acquire().await;
        }
        // First is immediate, then one every 250 ms.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_acquire_releases_nothing() {
        let limits = Limits::new(1, 0.0);
        let held = limits.acquire().await;
        let waited = tokio::time::timeout(Duration::from_millis(50), limits.acquire()).await;
        assert!(waited.is_err());
        drop(held);
        assert_eq!(limits.in_flight(), 0);
        let _p = limits.acquire().await;
        assert_eq!(limits.in_flight(), 1);
    }
}
