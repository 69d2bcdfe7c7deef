//! A sliding count of errors over a time window: a fixed ring of buckets, no allocation.

/// Buckets per window (the window slides in steps of window / `BUCKETS`).
pub const BUCKETS: usize = 10;

/// Errors counted over the last window.
#[derive(Debug, Clone)]
pub struct ErrorWindow {
    bucket_ns: u64,
    window_ns: u64,
    buckets: [u32; BUCKETS],
    epoch: u64,
    total: u32,
}

impl ErrorWindow {
    /// A window of `window_ns` (at least `BUCKETS` ns).
    pub fn new(window_ns: u64) -> ErrorWindow {
        let bucket_ns = (window_ns / BUCKETS as u64).max(1);
        ErrorWindow { bucket_ns, window_ns: bucket_ns * BUCKETS as u64, buckets: [0; BUCKETS], epoch: 0, total: 0 }
    }

    /// Moves the window to `now_ns`, dropping buckets that fell out of it.
    fn advance(&mut self, now_ns: u64) {
        let e = now_ns / self.bucket_ns;
        if e <= self.epoch {
            return;
        }
        if e - self.epoch >= BUCKETS as u64 {
            self.buckets = [0; BUCKETS];
            self.total = 0;
        } else {
            for k in self.epoch + 1..=e {
                let b = &mut self.buckets[(k % BUCKETS as u64) as usize];
                self.total -= *b;
                *b = 0;
            }
        }
        self.epoch = e;
    }

    /// Counts one error at `now_ns`.
    pub fn record(&mut self, now_ns: u64) {
        self.advance(now_ns);
        let b = &mut self.buckets[(self.epoch % BUCKETS as u64) as usize];
        if *b < u32::MAX {
            *b += 1;
            self.total += 1;
        }
    }

    /// Errors per second over the window ending at `now_ns`.
    pub fn rate_per_sec(&mut self, now_ns: u64) -> f64 {
        self.advance(now_ns);
        f64::from(self.total) * 1e9 / self.window_ns as f64
    }

    /// When the oldest counted bucket leaves the window (None when empty).
    pub fn next_expiry_ns(&self) -> Option<u64> {
        (self.total > 0).then(|| (self.epoch + 1) * self.bucket_ns)
    }

    /// The window's length, ns.
    pub fn window_ns(&self) -> u64 {
        self.window_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn slides_and_expires() {
        let mut w = ErrorWindow::new(1000 * MS);
        for i in 0..50 {
            w.record(i * MS);
        }
        assert_eq!(w.rate_per_sec(60 * MS), 50.0);
        assert_eq!(w.next_expiry_ns(), Some(100 * MS));
        assert_eq!(w.rate_per_sec(1050 * MS), 0.0, "first bucket expired");
        assert_eq!(w.next_expiry_ns(), None);
        w.record(5000 * MS);
        assert_eq!(w.rate_per_sec(5999 * MS), 1.0);
        assert_eq!(w.rate_per_sec(10_000_000 * MS), 0.0, "long gap clears everything");
    }

    proptest! {
        // The bucketed count equals the exact count of errors in (now − window, now], up to
        // one bucket of slack at the old end.
        #[test]
        fn matches_exact_count(gaps in proptest::collection::vec(0u64..300, 1..300)) {
            let mut w = ErrorWindow::new(1000 * MS);
            let mut times = Vec::new();
            let mut t = 0;
            for g in gaps {
                t += g * MS;
                w.record(t);
                times.push(t);
                let got = w.rate_per_sec(t) as usize;
                let inside = |lo: u64| times.iter().filter(|&&x| x + lo > t).count();
                prop_assert!(got >= inside(900 * MS) && got <= inside(1000 * MS), "{got}");
            }
        }
    }
}
