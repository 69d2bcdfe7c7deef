//! The run's monotonic clock (TSC via `quanta`), in nanoseconds since the run started.

use std::time::{SystemTime, UNIX_EPOCH};

/// A TSC-based monotonic clock. Cheap to clone; clones share the same zero.
#[derive(Clone, Debug)]
pub struct MonoClock {
    clock: quanta::Clock,
    base: u64,
    wall_offset_ns: i64,
}

impl MonoClock {
    /// Calibrates the TSC (once, a few ms) and starts at zero now.
    pub fn new() -> MonoClock {
        let clock = quanta::Clock::new();
        let base = clock.raw();
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
        MonoClock { clock, base, wall_offset_ns: wall }
    }

    /// As [`MonoClock::new`], but the run's epoch time starts at `epoch_ns` instead of the
    /// wall clock (event time: a recording replayed on its own clock).
    pub fn starting_at_epoch_ns(epoch_ns: i64) -> MonoClock {
        MonoClock { wall_offset_ns: epoch_ns, ..MonoClock::new() }
    }

    /// Nanoseconds since the clock was created.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.clock.delta_as_nanos(self.base, self.clock.raw())
    }

    /// Add to a reading to get Unix-epoch nanoseconds.
    #[inline]
    pub fn wall_offset_ns(&self) -> i64 {
        self.wall_offset_ns
    }
}

impl Default for MonoClock {
    fn default() -> Self {
        MonoClock::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_anchored_to_wall_time() {
        let c = MonoClock::new();
        let a = c.now_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = c.clone().now_ns();
        assert!(b > a + 1_000_000, "{a} {b}");
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
        assert!((c.now_ns() as i64 + c.wall_offset_ns() - wall).abs() < 1_000_000_000);
    }
}
