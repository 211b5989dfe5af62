//! Reconnect delays: exponential backoff with full jitter, for applications
//! that own the MQTT connection (the sample uses it).

/// Exponential backoff: the n-th delay is a random value in
/// `[base/2, min(cap, base × 2ⁿ)]` ("equal jitter": never hammers, never
/// sleeps for nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    base_ms: u32,
    cap_ms: u32,
    attempt: u32,
}

impl Backoff {
    /// Delays start at `base_ms` and stop growing at `cap_ms`.
    pub const fn new(base_ms: u32, cap_ms: u32) -> Self {
        Backoff {
            base_ms,
            cap_ms,
            attempt: 0,
        }
    }

    /// The delay before the next attempt; `random` is any 32-bit random value.
    pub fn next_delay_ms(&mut self, random: u32) -> u32 {
        let ceiling = self
            .base_ms
            .saturating_mul(1u32.checked_shl(self.attempt).unwrap_or(u32::MAX))
            .min(self.cap_ms)
            .max(1);
        self.attempt = self.attempt.saturating_add(1);
        let floor = (self.base_ms / 2).min(ceiling);
        floor + random % (ceiling - floor + 1).max(1)
    }

    /// The connection worked: start again from the base delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_within_jitter() {
        let ceilings = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000];
        let mut low = Backoff::new(1000, 60_000);
        let mut high = Backoff::new(1000, 60_000);
        let mut top = Backoff::new(1000, 60_000);
        for c in ceilings {
            assert_eq!(low.next_delay_ms(0), 500);
            assert!((500..=c).contains(&high.next_delay_ms(u32::MAX)));
            assert_eq!(top.next_delay_ms(c - 500), c);
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(100, 10_000);
        for _ in 0..5 {
            b.next_delay_ms(1);
        }
        b.reset();
        assert!(b.next_delay_ms(u32::MAX) <= 100);
    }
}
