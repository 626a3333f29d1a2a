//! Bounded waits for a condition: polled every few milliseconds up to a deadline. A wait that
//! runs out fails the test naming what it waited for; none waits for a fixed time and hopes.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is checked.
pub const POLL: Duration = Duration::from_millis(5);

/// Checks `done` every [`POLL`] until it holds or `limit` has passed (checking once more at the
/// deadline); returns whether it held.
pub fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return done();
        }
        std::thread::sleep(POLL);
    }
}

/// [`within`] for async tests: sleeps on the runtime's timer between checks.
pub async fn within_async(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return done();
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits up to `limit` for `done`; panics with "`what`: not within …" if it never holds.
pub fn eventually(limit: Duration, what: &str, done: impl FnMut() -> bool) {
    assert!(within(limit, done), "{what}: not within {limit:?}");
}

/// [`eventually`] for async tests.
pub async fn eventually_async(limit: Duration, what: &str, done: impl FnMut() -> bool) {
    assert!(within_async(limit, done).await, "{what}: not within {limit:?}");
}

/// [`eventually_async`] for a condition that is itself async (a request, say); a check that
/// has not answered by the deadline fails the wait too.
pub async fn eventually_await<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, done()).await {
            Ok(true) => return,
            Ok(false) if tokio::time::Instant::now() < deadline => tokio::time::sleep(POLL).await,
            _ => panic!("{what}: not within {limit:?}"),
        }
    }
}
