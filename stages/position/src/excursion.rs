//! [`Window`]: one instrument's recent prices, answering "lowest and highest price observed
//! since observation k" in O(log n), so a position's worst adverse excursion is computed when
//! it closes instead of on every tick.
//!
//! Observations are numbered; each is kept in two monotonic rings (suffix minima and suffix
//! maxima, keyed by number): the extreme since k is the first entry numbered ≥ k (binary
//! search). Entries older than the instrument's oldest open position are evicted. When a ring
//! is full the window reports [`Overflow`]; the stage then falls back to tracking every
//! position on every tick (the exact eager behaviour) until the instrument has no position.
//! Memory: instruments × 2 × [`WINDOW_CAPACITY`] × 16 bytes, allocated at construction.

use tradeflow_core::Price;

/// Entries per ring per instrument.
pub(crate) const WINDOW_CAPACITY: usize = 4096;

/// The rings are full: this window cannot stay exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overflow;

/// How an instrument's excursions are tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tracking {
    /// From the window, when a position closes.
    Lazy,
    /// On every tick, into each position (after an overflow).
    Eager,
}

/// A fixed-capacity deque of (observation number, price units).
#[derive(Debug)]
struct Ring {
    nums: Vec<u64>,
    prices: Vec<i64>,
    head: usize,
    len: usize,
}

impl Ring {
    fn with_capacity(cap: usize) -> Ring {
        Ring { nums: vec![0; cap], prices: vec![0; cap], head: 0, len: 0 }
    }

    #[inline]
    fn phys(&self, i: usize) -> usize {
        (self.head + i) % self.nums.len()
    }

    fn is_full(&self) -> bool {
        self.len == self.nums.len()
    }

    fn back_price(&self) -> Option<i64> {
        (self.len > 0).then(|| self.prices[self.phys(self.len - 1)])
    }

    fn push_back(&mut self, num: u64, price: i64) {
        let i = self.phys(self.len);
        self.nums[i] = num;
        self.prices[i] = price;
        self.len += 1;
    }

    /// Drops entries numbered below `num`.
    fn evict_before(&mut self, num: u64) {
        while self.len > 0 && self.nums[self.head] < num {
            self.head = (self.head + 1) % self.nums.len();
            self.len -= 1;
        }
    }

    /// The price of the first entry numbered ≥ `num`.
    fn first_from(&self, num: u64) -> Option<i64> {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.nums[self.phys(mid)] < num {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo < self.len).then(|| self.prices[self.phys(lo)])
    }
}

/// One instrument's observed prices.
#[derive(Debug)]
pub(crate) struct Window {
    /// Observations so far (the next one's number).
    count: u64,
    lows: Ring,
    highs: Ring,
    pub tracking: Tracking,
}

impl Window {
    pub fn with_capacity(cap: usize) -> Window {
        Window { count: 0, lows: Ring::with_capacity(cap), highs: Ring::with_capacity(cap), tracking: Tracking::Lazy }
    }

    /// The number the next observation gets.
    #[inline]
    pub fn next_num(&self) -> u64 {
        self.count
    }

    /// Records `price`, first evicting what no open position needs (`oldest`: the lowest first
    /// observation number among open positions, `None` when there is none).
    pub fn observe(&mut self, price: Price, oldest: Option<u64>) -> Result<(), Overflow> {
        let keep_from = oldest.unwrap_or(u64::MAX);
        self.lows.evict_before(keep_from);
        self.highs.evict_before(keep_from);
        if self.lows.is_full() || self.highs.is_full() {
            return Err(Overflow);
        }
        let p = price.units();
        while self.lows.back_price().is_some_and(|b| b >= p) {
            self.lows.len -= 1;
        }
        while self.highs.back_price().is_some_and(|b| b <= p) {
            self.highs.len -= 1;
        }
        self.lows.push_back(self.count, p);
        self.highs.push_back(self.count, p);
        self.count += 1;
        Ok(())
    }

    /// The lowest and highest prices observed from observation `num` on, if any.
    pub fn since(&self, num: u64) -> Option<(Price, Price)> {
        Some((Price(self.lows.first_from(num)?), Price(self.highs.first_from(num)?)))
    }

    /// Empties the rings and returns to lazy tracking (numbering continues).
    pub fn reset(&mut self) {
        self.lows.evict_before(u64::MAX);
        self.highs.evict_before(u64::MAX);
        self.tracking = Tracking::Lazy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn extremes_since_match_a_scan(prices in proptest::collection::vec(1i64..20, 1..200), from in 0usize..200) {
            let mut w = Window::with_capacity(8);
            let mut seen = Vec::new();
            let keep = from.min(prices.len()) as u64;
            for &p in &prices {
                match w.observe(Price(p), Some(keep)) {
                    Ok(()) => seen.push(p),
                    Err(Overflow) => return Ok(()),
                }
            }
            let tail = &seen[keep as usize..];
            let want = tail.iter().min().map(|&lo| (Price(lo), Price(*tail.iter().max().unwrap_or(&lo))));
            prop_assert_eq!(w.since(keep), want);
        }
    }
}
