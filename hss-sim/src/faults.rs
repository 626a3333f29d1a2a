//! Seeded deterministic randomness (splitmix64) and the per-request fault decision.

use super::config::Faults;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 finaliser: a fast, well-mixed bijection on `u64`.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic 64-bit value for `(seed, n, salt)`.
pub(crate) fn mix(seed: u64, n: u64, salt: u64) -> u64 {
    splitmix64(seed ^ splitmix64(n ^ splitmix64(salt.wrapping_mul(GOLDEN))))
}

/// A deterministic value in `[0, 1)` for `(seed, n, salt)`.
pub(crate) fn unit(seed: u64, n: u64, salt: u64) -> f64 {
    (mix(seed, n, salt) >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether an event of probability `rate` happens for `(seed, n, salt)`.
pub(crate) fn hit(rate: f64, seed: u64, n: u64, salt: u64) -> bool {
    if rate.is_nan() || rate <= 0.0 {
        return false;
    }
    rate >= 1.0 || unit(seed, n, salt) < rate
}

/// FNV-1a, a stable string hash (std's hasher is not guaranteed stable across releases).
pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// A small sequential generator for deterministic data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(splitmix64(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        splitmix64(self.0)
    }

    /// Uniform-enough value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Seeded Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

// Salts: one independent stream per decision.
const SALT_DROP: u64 = 1;
const SALT_429: u64 = 2;
const SALT_5XX: u64 = 3;
const SALT_MALFORMED: u64 = 4;
const SALT_REPEAT: u64 = 5;
const SALT_SHORT: u64 = 6;
const SALT_5XX_CODE: u64 = 7;
pub(crate) const SALT_SHORT_LEN: u64 = 8;
pub(crate) const SALT_DRIFT: u64 = 9;

/// What happens to the whole response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Normal,
    Drop,
    Throttle,
    ServerError(u16),
    Malformed,
}

/// What happens to the page content (only when the outcome is `Normal` or `Malformed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageFault {
    None,
    Repeat,
    Short,
}

/// The fault decision for the `n`-th fault-eligible request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub outcome: Outcome,
    pub page: PageFault,
}

/// Decides, in priority order: drop, 429, 5xx, malformed; then independently repeat page,
/// else short page.
pub(crate) fn decide(f: &Faults, seed: u64, n: u64) -> Decision {
    let outcome = if hit(f.rate_drop, seed, n, SALT_DROP) {
        Outcome::Drop
    } else if hit(f.rate_429, seed, n, SALT_429) {
        Outcome::Throttle
    } else if hit(f.rate_5xx, seed, n, SALT_5XX) {
        const CODES: [u16; 4] = [500, 502, 503, 504];
        Outcome::ServerError(CODES[(mix(seed, n, SALT_5XX_CODE) % 4) as usize])
    } else if hit(f.rate_malformed, seed, n, SALT_MALFORMED) {
        Outcome::Malformed
    } else {
        Outcome::Normal
    };
    let page = if hit(f.rate_repeat_page, seed, n, SALT_REPEAT) {
        PageFault::Repeat
    } else if hit(f.rate_short_page, seed, n, SALT_SHORT) {
        PageFault::Short
    } else {
        PageFault::None
    };
    Decision { outcome, page }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_rate_respected() {
        let f = Faults { rate_429: 0.3, ..Default::default() };
        let a: Vec<_> = (0..1000).map(|n| decide(&f, 42, n)).collect();
        let b: Vec<_> = (0..1000).map(|n| decide(&f, 42, n)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|d| d.outcome == Outcome::Throttle).count();
        assert!((200..400).contains(&hits), "{hits}");
        let c: Vec<_> = (0..1000).map(|n| decide(&f, 43, n)).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn extremes() {
        let none = Faults::default();
        assert!((0..100).all(|n| decide(&none, 1, n) == Decision { outcome: Outcome::Normal, page: PageFault::None }));
        let all = Faults { rate_5xx: 1.0, rate_short_page: 1.0, ..Default::default() };
        for n in 0..100 {
            let d = decide(&all, 1, n);
            assert!(matches!(d.outcome, Outcome::ServerError(500 | 502 | 503 | 504)));
            assert_eq!(d.page, PageFault::Short);
        }
        let nan = Faults { rate_drop: f64::NAN, ..Default::default() };
        assert_eq!(decide(&nan, 1, 1).outcome, Outcome::Normal);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..100).collect();
        Rng::new(5).shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..100).collect::<Vec<_>>());
        let mut w: Vec<u32> = (0..100).collect();
        Rng::new(5).shuffle(&mut w);
        assert_eq!(v, w);
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
