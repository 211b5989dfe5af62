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

/// A deadline that may be unset, kept in one u64: `u64::MAX` means none (a
/// deadline saturated at the end of time never comes anyway). Half the size
/// of an `Option<Instant>`, and cheaper to test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deadline(u64);

impl Deadline {
    /// No deadline.
    pub(crate) const NONE: Deadline = Deadline(u64::MAX);

    /// A deadline at `at`.
    pub(crate) const fn at(at: Instant) -> Self {
        Deadline(at.0)
    }

    /// The deadline, if one is set.
    pub(crate) fn get(self) -> Option<Instant> {
        (self != Self::NONE).then_some(Instant(self.0))
    }

    /// True when a deadline is set.
    pub(crate) fn is_set(self) -> bool {
        self != Self::NONE
    }

    /// True when a deadline is set and `now` has reached it.
    pub(crate) fn passed(self, now: Instant) -> bool {
        self.is_set() && self.0 <= now.0
    }

    /// The earlier of two deadlines (none when neither is set).
    pub(crate) fn min(self, other: Deadline) -> Deadline {
        Deadline(self.0.min(other.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_deadline_never_passes() {
        let (nine, ten) = (Instant::from_millis(9), Instant::from_millis(10));
        assert!(!Deadline::NONE.passed(Instant::from_millis(u64::MAX)));
        assert_eq!(Deadline::NONE.get(), None);
        let d = Deadline::at(ten);
        assert!(d.is_set() && !d.passed(nine) && d.passed(ten));
        assert_eq!(d.min(Deadline::NONE), d);
        assert_eq!(Deadline::NONE.min(d).get(), Some(ten));
        assert_eq!(Deadline::at(nine).min(d).get(), Some(nine));
    }
}
