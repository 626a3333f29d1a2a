//! Provider-wide request limits shared by every clone of the client: a FIFO semaphore on
//! requests in flight (held only while a request is in flight, never during back-off nor while
//! waiting for the rate limit), a token bucket for `requests_per_second`, and adaptive back-off
//! that halves the allowed concurrency for a while after the API answers 429.
//!
//! The gate is a [`tokio::sync::Semaphore`]: a released permit goes to the longest waiter, and
//! wakes only that one (200 hosts read at once used to wake every waiter on every release). The
//! adaptive back-off resizes it: halving forgets the free permits at once and the busy ones as
//! their requests end (a debt); the cool-down's end adds back what is missing, from a timer, so
//! that waiters get the restored permits even when no request ends meanwhile.
//!
//! A request first waits for its rate-limit slot (each request reserves its own slot, so that
//! waking is one by one too), then for a concurrency permit. Slots are `1 / rate` apart, so the
//! rate holds over time; a request that also had to wait for a permit starts late, and when
//! several permits free up together, as many such requests may start together.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// How long concurrency stays lowered after a 429.
pub(crate) const THROTTLE_COOL_DOWN: Duration = Duration::from_secs(10);
/// 429s closer together than this count as one throttling event (one halving).
const THROTTLE_COALESCE: Duration = Duration::from_secs(1);

/// The shared limits of one provider instance.
#[derive(Debug)]
pub(crate) struct Limits {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    max: usize,
    permits: Semaphore,
    gate: Mutex<Gate>,
    bucket: Option<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Gate {
    /// The concurrency allowed now (`max`, or less after a 429).
    limit: usize,
    /// Permits in use that are forgotten when released, because the limit was lowered while
    /// they were out: the semaphore holds `limit + debt` permits in all.
    debt: usize,
    /// When the lowered limit goes back to `max`.
    restore_at: Option<Instant>,
    last_throttle: Option<Instant>,
    /// Whether a timer task is waiting to restore the limit.
    timer: bool,
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
    permit: Option<SemaphorePermit<'a>>,
    shared: &'a Shared,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else { return };
        let mut g = self.shared.lock();
        if g.debt > 0 {
            g.debt -= 1;
            permit.forget();
        }
        // Otherwise the permit goes back to the semaphore, and to its longest waiter.
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Restores the full limit when the cool-down is over; returns the limit in force.
    fn refresh(&self, g: &mut Gate, now: Instant) -> usize {
        if let Some(t) = g.restore_at
            && now >= t
        {
            let missing = self.max - g.limit;
            let cancelled = missing.min(g.debt);
            g.debt -= cancelled;
            self.permits.add_permits(missing - cancelled);
            g.limit = self.max;
            g.restore_at = None;
            tracing::debug!(limit = self.max, "HSS concurrency limit restored");
        }
        g.limit
    }
}

impl Limits {
    pub fn new(max_concurrent: usize, requests_per_second: f64) -> Limits {
        let max = max_concurrent.clamp(1, Semaphore::MAX_PERMITS);
        let bucket = (requests_per_second > 0.0).then(|| {
            Mutex::new(Bucket {
                interval: Duration::from_secs_f64((1.0 / requests_per_second).min(3600.0)),
                next: None,
            })
        });
        Limits {
            shared: Arc::new(Shared {
                max,
                permits: Semaphore::new(max),
                gate: Mutex::new(Gate { limit: max, debt: 0, restore_at: None, last_throttle: None, timer: false }),
                bucket,
            }),
        }
    }

    /// The concurrency limit in force now (restores the full limit when the cool-down is over).
    #[cfg(test)]
    pub fn current_limit(&self) -> usize {
        let mut g = self.shared.lock();
        self.shared.refresh(&mut g, Instant::now())
    }

    /// Waits for the rate limiter (holding nothing), then for a free slot, first come first
    /// served. Cancel by dropping the future: a slot not yet granted is given to the next waiter.
    pub async fn acquire(&self) -> Permit<'_> {
        if let Some(bucket) = &self.shared.bucket {
            let wait = bucket.lock().unwrap_or_else(|e| e.into_inner()).reserve(Instant::now());
            if !wait.is_zero() {
                tracing::trace!(wait_ms = wait.as_millis() as u64, "rate limit");
                tokio::time::sleep(wait).await;
            }
        }
        {
            // A cool-down over without a timer to end it (no runtime when it began).
            let mut g = self.shared.lock();
            self.shared.refresh(&mut g, Instant::now());
        }
        // Never closed (were it, the request would simply not be limited).
        let permit = self.shared.permits.acquire().await.ok();
        Permit { permit, shared: &self.shared }
    }

    /// Records a 429: halves the concurrency limit (minimum 1) for [`THROTTLE_COOL_DOWN`].
    /// 429s within a second of each other count once.
    pub fn on_throttled(&self) {
        let now = Instant::now();
        let shared = &self.shared;
        let mut g = shared.lock();
        let current = shared.refresh(&mut g, now);
        let recent = g.last_throttle.is_some_and(|t| now.duration_since(t) < THROTTLE_COALESCE);
        if !recent {
            let lowered = (current / 2).max(1);
            let excess = current - lowered;
            let forgotten = shared.permits.forget_permits(excess);
            g.debt += excess - forgotten;
            g.limit = lowered;
            g.last_throttle = Some(now);
            tracing::debug!(
                limit = g.limit,
                max = shared.max,
                "HSS throttled (429): lowering concurrency for {}s",
                THROTTLE_COOL_DOWN.as_secs()
            );
        }
        g.restore_at = Some(now + THROTTLE_COOL_DOWN);
        if !g.timer
            && g.limit < shared.max
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            g.timer = true;
            runtime.spawn(restore_when_due(self.shared.clone()));
        }
    }

    /// Requests in flight now.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        let g = self.shared.lock();
        g.limit + g.debt - self.shared.permits.available_permits()
    }
}

/// Sleeps until the cool-down ends (later 429s push it back), then restores the limit.
async fn restore_when_due(shared: Arc<Shared>) {
    loop {
        let due = {
            let mut g = shared.lock();
            shared.refresh(&mut g, Instant::now());
            match g.restore_at {
                Some(t) => t,
                None => {
                    g.timer = false;
                    return;
                }
            }
        };
        tokio::time::sleep_until(due).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

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
        assert_eq!(limits.shared.permits.available_permits(), 1);
        tokio::time::advance(THROTTLE_COOL_DOWN - Duration::from_millis(1)).await;
        assert_eq!(limits.current_limit(), 1);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(limits.current_limit(), 8);
        assert_eq!(limits.shared.permits.available_permits(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lowered_limit_takes_back_busy_permits_as_they_end() {
        let limits = Limits::new(4, 0.0);
        let held: Vec<Permit<'_>> = vec![limits.acquire().await, limits.acquire().await, limits.acquire().await];
        limits.on_throttled(); // 4 -> 2: one free permit forgotten now, one busy one owed
        assert_eq!(limits.shared.permits.available_permits(), 0);
        assert_eq!(limits.shared.lock().debt, 1);
        drop(held);
        // Of the three released, one paid the debt: two may run, as the limit says.
        assert_eq!(limits.shared.permits.available_permits(), 2);
        assert_eq!(limits.in_flight(), 0);
        let a = limits.acquire().await;
        let _b = limits.acquire().await;
        assert!(tokio::time::timeout(Duration::from_millis(1), limits.acquire()).await.is_err());
        drop(a);
        tokio::time::advance(THROTTLE_COOL_DOWN).await;
        assert_eq!(limits.current_limit(), 4);
        assert_eq!(limits.shared.permits.available_permits(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn restoring_cancels_a_debt_not_yet_paid() {
        let limits = Limits::new(8, 0.0);
        let held: Vec<Permit<'_>> = futures_util::future::join_all((0..8).map(|_| limits.acquire())).await;
        limits.on_throttled(); // 8 -> 4, all busy: a debt of 4
        assert_eq!(limits.shared.lock().debt, 4);
        tokio::time::advance(THROTTLE_COOL_DOWN).await;
        assert_eq!(limits.current_limit(), 8);
        assert_eq!(limits.shared.lock().debt, 0);
        drop(held);
        assert_eq!(limits.shared.permits.available_permits(), 8, "no permit lost or added");
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
    async fn waiting_for_the_rate_limit_holds_no_concurrency_permit() {
        let limits = Arc::new(Limits::new(2, 1.0));
        let t0 = Instant::now();
        let first = limits.acquire().await; // slot at 0 s, in flight
        let waiter = {
            let limits = limits.clone();
            tokio::spawn(async move {
                let _p = limits.acquire().await; // slot at 1 s
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(limits.in_flight(), 1, "the waiter holds no permit while it waits for its slot");
        let started = waiter.await.unwrap();
        assert_eq!(started - t0, Duration::from_secs(1), "it starts at its slot");
        drop(first);
    }

    /// Counts how often the future inside is polled.
    struct Counted<'a, F> {
        inner: Pin<Box<F>>,
        polls: &'a AtomicUsize,
    }

    impl<F: Future> Future for Counted<'_, F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            self.inner.as_mut().poll(cx)
        }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn waiters_are_served_in_order_and_woken_one_at_a_time() {
        const WAITERS: usize = 50;
        let limits = Arc::new(Limits::new(1, 0.0));
        let polls = Arc::new(AtomicUsize::new(0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = limits.acquire().await;
        let mut tasks = Vec::new();
        for i in 0..WAITERS {
            let (limits, polls, order) = (limits.clone(), polls.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let p = Counted { inner: Box::pin(limits.acquire()), polls: &polls }.await;
                order.lock().unwrap().push(i);
                tokio::task::yield_now().await;
                drop(p);
            }));
            // Let the task queue up before the next one starts.
            tokio::task::yield_now().await;
        }
        assert_eq!(polls.load(Ordering::SeqCst), WAITERS, "each waiter polled once to queue up");
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..WAITERS).collect::<Vec<_>>(), "first come, first served");
        // Each waiter is polled when it queues and when it is granted its permit: waking every
        // waiter on every release would poll about WAITERS² / 2 times.
        assert!(polls.load(Ordering::SeqCst) <= 2 * WAITERS, "{} polls", polls.load(Ordering::SeqCst));
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
