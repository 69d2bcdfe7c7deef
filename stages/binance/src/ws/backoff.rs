//! Reconnect delays: exponential backoff with full jitter, deterministic for a seed.

use std::time::Duration;

/// Exponential backoff with full jitter: attempt `n` waits a uniformly drawn delay in
/// `[0, min(max, base · 2ⁿ)]`. The draw uses a xorshift64 generator, so a given seed always
/// yields the same sequence (tests and replays are reproducible).
///
/// ```
/// use std::time::Duration;
/// use tradeflow_binance::ws::Backoff;
///
/// let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30), 7);
/// assert!(b.next_delay() <= Duration::from_millis(100));
/// assert!(b.next_delay() <= Duration::from_millis(200));
/// b.reset();
/// assert!(b.next_delay() <= Duration::from_millis(100));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    base_ns: u64,
    max_ns: u64,
    attempt: u32,
    state: u64,
}

impl Backoff {
    /// A backoff starting at `base` and never exceeding `max`. A zero seed is replaced by a
    /// fixed non-zero constant (xorshift has no zero state).
    pub fn new(base: Duration, max: Duration, seed: u64) -> Backoff {
        let seed = if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed };
        let max_ns = duration_ns(max);
        Backoff { base_ns: duration_ns(base).min(max_ns), max_ns, attempt: 0, state: seed }
    }

    /// The delay before the next attempt; each call doubles the ceiling up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling_ns();
        self.attempt = self.attempt.saturating_add(1);
        let r = self.next_u64();
        let delay = if ceiling == u64::MAX { r } else { r % (ceiling + 1) };
        Duration::from_nanos(delay)
    }

    /// The upper bound of the delay the next [`Backoff::next_delay`] call draws from.
    pub fn ceiling(&self) -> Duration {
        Duration::from_nanos(self.ceiling_ns())
    }

    /// How many delays were drawn since construction or the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Back to the first attempt (after a connection stayed up long enough). The random
    /// sequence continues; it is still fully determined by the seed and the calls made.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    fn ceiling_ns(&self) -> u64 {
        let factor = 1u64.checked_shl(self.attempt.min(63)).unwrap_or(u64::MAX);
        self.base_ns.saturating_mul(factor).min(self.max_ns)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
