//! Rate limits: `REQUEST_WEIGHT` per minute and `ORDERS` per 10 s and per minute, counted in
//! fixed-boundary windows (a minute window starts on each whole minute). One set of counters
//! per mock (one IP, as on Binance; orders are counted across accounts too). The first request
//! over a limit gets `429`; any request before that window ends gets `418` (banned until then).

use serde_json::{json, Value};

use super::config::MockLimits;
use super::params::ApiError;

#[derive(Debug, Clone, Copy)]
struct Window {
    len_ms: i64,
    start_ms: i64,
    count: u32,
}

impl Window {
    const fn new(len_ms: i64) -> Window {
        Window { len_ms, start_ms: 0, count: 0 }
    }

    fn roll(&mut self, now_ms: i64) {
        let start = now_ms - now_ms.rem_euclid(self.len_ms);
        if start != self.start_ms {
            self.start_ms = start;
            self.count = 0;
        }
    }

    fn end_ms(&self) -> i64 {
        self.start_ms + self.len_ms
    }
}

/// Counters of one mock exchange.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: MockLimits,
    weight: Window,
    orders_10s: Window,
    orders_min: Window,
    throttled_until_ms: i64,
}

impl RateLimiter {
    pub fn new(limits: MockLimits) -> RateLimiter {
        RateLimiter {
            limits,
            weight: Window::new(60_000),
            orders_10s: Window::new(10_000),
            orders_min: Window::new(60_000),
            throttled_until_ms: 0,
        }
    }

    /// Counts a request of `weight` (and one order if `order`); the error is the 429/418 answer.
    pub fn admit(&mut self, now_ms: i64, weight: u32, order: bool) -> Result<(), ApiError> {
        self.roll(now_ms);
        if now_ms < self.throttled_until_ms {
            return Err(banned(self.throttled_until_ms));
        }
        self.weight.count = self.weight.count.saturating_add(weight);
        if self.weight.count > self.limits.weight_per_min {
            let until = self.weight.end_ms();
            self.throttled_until_ms = until;
            let msg = format!(
                "Too much request weight used; current limit is {} request weight per 1 MINUTE. \
                 Please use WebSocket Streams for live updates to avoid bans.",
                self.limits.weight_per_min
            );
            return Err(ApiError { status: 429, code: -1003, msg, retry_after_ms: Some(until) });
        }
        if order {
            let over_10s = self.orders_10s.count >= self.limits.orders_per_10s;
            if over_10s || self.orders_min.count >= self.limits.orders_per_min {
                let (until, n, per) = if over_10s {
                    (self.orders_10s.end_ms(), self.limits.orders_per_10s, "10 SECOND")
                } else {
                    (self.orders_min.end_ms(), self.limits.orders_per_min, "1 MINUTE")
                };
                self.throttled_until_ms = until;
                let msg = format!("Too many new orders; current limit is {n} orders per {per}.");
                return Err(ApiError { status: 429, code: -1015, msg, retry_after_ms: Some(until) });
            }
            self.orders_10s.count += 1;
            self.orders_min.count += 1;
        }
        Ok(())
    }

    fn roll(&mut self, now_ms: i64) {
        self.weight.roll(now_ms);
        self.orders_10s.roll(now_ms);
        self.orders_min.roll(now_ms);
    }

    /// The `rateLimits` array: weight, plus the order counters when `orders`.
    pub fn snapshot(&mut self, now_ms: i64, orders: bool) -> Value {
        self.roll(now_ms);
        let entry = |t: &str, interval: &str, num: u32, limit: u32, count: u32| json!({"rateLimitType": t, "interval": interval, "intervalNum": num, "limit": limit, "count": count});
        let mut v = vec![entry("REQUEST_WEIGHT", "MINUTE", 1, self.limits.weight_per_min, self.weight.count)];
        if orders {
            v.push(entry("ORDERS", "SECOND", 10, self.limits.orders_per_10s, self.orders_10s.count));
            v.push(entry("ORDERS", "MINUTE", 1, self.limits.orders_per_min, self.orders_min.count));
        }
        Value::Array(v)
    }

    /// Current weight count (for REST headers).
    pub fn used_weight(&self) -> u32 {
        self.weight.count
    }
}

/// The `418` answer for a client banned until `until_ms`.
pub(crate) fn banned(until_ms: i64) -> ApiError {
    let msg = format!(
        "Way too much request weight used; IP banned until {until_ms}. \
         Please use WebSocket Streams for live updates to avoid bans."
    );
    ApiError { status: 418, code: -1003, msg, retry_after_ms: Some(until_ms) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_fixed_windows_then_429_then_418_until_the_window_ends() {
        let mut r = RateLimiter::new(MockLimits { weight_per_min: 100, orders_per_10s: 2, orders_per_min: 10 });
        let t0 = 1_700_000_005_000; // 5 s into a 10 s window
        assert!(r.admit(t0, 1, true).is_ok());
        assert!(r.admit(t0 + 1, 1, true).is_ok());
        let e = r.admit(t0 + 2, 1, true).err();
        assert_eq!(e.as_ref().map(|e| (e.status, e.code)), Some((429, -1015)));
        assert_eq!(e.and_then(|e| e.retry_after_ms), Some(1_700_000_010_000));
        let e = r.admit(t0 + 3, 1, false).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((418, -1003)));
        assert!(r.admit(1_700_000_010_000, 1, true).is_ok(), "a new 10 s window");
        assert_eq!(r.snapshot(1_700_000_010_001, true)[1]["count"], 1);
    }
}
