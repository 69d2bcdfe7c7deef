//! A per-connection token bucket for the network sources' `max_rate_per_connection`.

/// Up to `rate` signals per second with bursts of one second's worth; `rate` 0 = no limit.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    rate: f64,
    tokens: f64,
    last_ns: u64,
}

impl TokenBucket {
    /// A full bucket for `rate` signals/s (0 = unlimited).
    pub(crate) fn new(rate: f64, now_ns: u64) -> TokenBucket {
        TokenBucket { rate, tokens: rate.max(1.0), last_ns: now_ns }
    }

    /// Whether a signal may pass now (refills first; does not take the token).
    pub(crate) fn ready(&mut self, now_ns: u64) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        if now_ns > self.last_ns {
            let dt = (now_ns - self.last_ns) as f64 * 1e-9;
            self.tokens = (self.tokens + dt * self.rate).min(self.rate.max(1.0));
            self.last_ns = now_ns;
        }
        self.tokens >= 1.0
    }

    /// Takes one token (after [`TokenBucket::ready`] said yes).
    pub(crate) fn take(&mut self) {
        if self.rate > 0.0 {
            self.tokens -= 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_a_burst_then_the_rate() {
        let mut b = TokenBucket::new(10.0, 0);
        let mut passed = 0;
        for _ in 0..100 {
            if b.ready(0) {
                b.take();
                passed += 1;
            }
        }
        assert_eq!(passed, 10, "one second's worth at once");
        // 0.5 s later: five more.
        let mut more = 0;
        for _ in 0..100 {
            if b.ready(500_000_000) {
                b.take();
                more += 1;
            }
        }
        assert_eq!(more, 5);
        // A long pause refills only up to the burst.
        let mut after = 0;
        for _ in 0..100 {
            if b.ready(60_000_000_000) {
                b.take();
                after += 1;
            }
        }
        assert_eq!(after, 10);
    }

    #[test]
    fn zero_rate_is_unlimited_and_a_slow_rate_still_passes_one() {
        let mut b = TokenBucket::new(0.0, 0);
        assert!((0..10_000).all(|_| b.ready(0)));
        let mut slow = TokenBucket::new(0.5, 0);
        assert!(slow.ready(0));
        slow.take();
        assert!(!slow.ready(1_000_000_000), "0.5/s: the next one after 2 s");
        assert!(slow.ready(2_000_000_001));
    }
}
