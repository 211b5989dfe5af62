//! Time as the port tells it: the core never reads a clock.

/// A point in time, in milliseconds since an arbitrary epoch chosen by the port
/// (boot, process start, simulated time zero). Only differences are used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `ms` milliseconds later (saturating, never wraps).
    pub const fn plus_millis(self, ms: u32) -> Self {
        Instant(self.0.saturating_add(ms as u64))
    }

    /// Milliseconds from `earlier` to `self`, zero if `earlier` is later.
    pub const fn millis_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
