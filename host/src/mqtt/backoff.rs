//! Reconnect pacing: exponential backoff with "equal jitter" (half of each
//! delay fixed, half random), so a fleet that lost its broker does not come
//! back in lockstep.

use std::time::Duration;

/// How long to wait before each reconnect attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry after a failure.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    /// 500 ms, doubling up to 30 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 = the first retry after a
    /// failure): `min(max, initial << attempt)`, of which the upper half is
    /// drawn from `rng`.
    pub(crate) fn delay(&self, attempt: u32, rng: &mut Jitter) -> Duration {
        let ceiling = self
            .initial
            .checked_mul(1u32 << attempt.min(20))
            .unwrap_or(self.max)
            .min(self.max);
        let half = ceiling / 2;
        let nanos = half.as_nanos().min(u128::from(u64::MAX)) as u64;
        let random = if nanos == 0 {
            0
        } else {
            rng.next() % (nanos + 1)
        };
        half + Duration::from_nanos(random)
    }
}

/// A small PRNG (splitmix64) for jitter: no cryptographic use.
#[derive(Clone, Debug)]
pub(crate) struct Jitter(u64);

impl Jitter {
    /// A generator seeded from `seed` (e.g. a hash of the client id and the time).
    pub(crate) fn new(seed: u64) -> Self {
        Jitter(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_bounds_and_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        let mut rng = Jitter::new(7);
        for attempt in 0..40 {
            let ceiling = Duration::from_millis((100u64 << attempt.min(10)).min(1000));
            for _ in 0..20 {
                let d = b.delay(attempt, &mut rng);
                assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn jitter_spreads_devices_apart() {
        let b = Backoff::default();
        let delays: Vec<Duration> = (0..8)
            .map(|seed| b.delay(3, &mut Jitter::new(seed)))
            .collect();
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() >= 6, "{delays:?}");
    }
}
