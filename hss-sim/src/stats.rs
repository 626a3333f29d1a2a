//! Request counters and the bounded log of received query strings.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// How many query strings `SimHandle::queries` keeps (the most recent ones).
pub const QUERY_LOG_CAPACITY: usize = 100_000;

/// Counters over API requests (everything except `/_sim/*`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Requests received (including rejected and dropped ones).
    pub requests: u64,
    /// Highest number of requests being handled at the same time.
    pub max_in_flight: u64,
    /// Requests being handled right now.
    pub in_flight: u64,
    /// Responses sent, by HTTP status (dropped connections have no status).
    pub status_counts: BTreeMap<u16, u64>,
    /// Faults injected: drops, 429s, 5xx, malformed bodies, repeated or short pages and
    /// drift events.
    pub faults_injected: u64,
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub stats: Stats,
    pub queries: VecDeque<String>,
}

impl Recorder {
    pub(crate) fn begin(&mut self, raw_query: &str) {
        self.stats.requests += 1;
        self.stats.in_flight += 1;
        self.stats.max_in_flight = self.stats.max_in_flight.max(self.stats.in_flight);
        if self.queries.len() >= QUERY_LOG_CAPACITY {
            self.queries.pop_front();
        }
        self.queries.push_back(raw_query.to_string());
    }

    pub(crate) fn end(&mut self) {
        self.stats.in_flight = self.stats.in_flight.saturating_sub(1);
    }

    pub(crate) fn status(&mut self, status: u16) {
        *self.stats.status_counts.entry(status).or_default() += 1;
    }

    pub(crate) fn fault(&mut self) {
        self.stats.faults_injected += 1;
    }

    /// Zeroes the counters (keeping the current `in_flight`) and clears the query log.
    pub(crate) fn reset(&mut self) {
        let in_flight = self.stats.in_flight;
        self.stats = Stats { in_flight, max_in_flight: in_flight, ..Stats::default() };
        self.queries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_and_reset() {
        let mut r = Recorder::default();
        r.begin("a=1");
        r.begin("b=2");
        r.status(200);
        r.end();
        r.fault();
        assert_eq!(r.stats.requests, 2);
        assert_eq!(r.stats.max_in_flight, 2);
        assert_eq!(r.stats.in_flight, 1);
        assert_eq!(r.stats.status_counts.get(&200), Some(&1));
        assert_eq!(r.stats.faults_injected, 1);
        assert_eq!(r.queries, ["a=1", "b=2"]);
        r.reset();
        assert_eq!(r.stats, Stats { in_flight: 1, max_in_flight: 1, ..Default::default() });
        assert!(r.queries.is_empty());
    }

    #[test]
    fn query_log_is_bounded() {
        let mut r = Recorder::default();
        for i in 0..QUERY_LOG_CAPACITY + 5 {
            r.begin(&i.to_string());
            r.end();
        }
        assert_eq!(r.queries.len(), QUERY_LOG_CAPACITY);
        assert_eq!(r.queries.front().map(String::as_str), Some("5"));
    }
}
