//! Per-instrument latest price and trend filter (fast and slow EMA of the price).

use tradeflow_core::{MarketCondition, Price};

/// The latest reference price of one instrument and its trend.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Mark {
    /// Latest price (zero before the first tick or fill).
    pub price: Price,
    fast: f64,
    slow: f64,
    seeded: bool,
}

impl Mark {
    /// Takes a new price into the latest price and both EMAs (seeded by the first price).
    #[inline]
    pub fn update(&mut self, price: Price, fast_alpha: f64, slow_alpha: f64) {
        self.price = price;
        let p = price.to_f64();
        if self.seeded {
            self.fast += fast_alpha * (p - self.fast);
            self.slow += slow_alpha * (p - self.slow);
        } else {
            self.fast = p;
            self.slow = p;
            self.seeded = true;
        }
    }

    /// Sets the price only if none is known yet (a fill before any tick).
    #[inline]
    pub fn seed(&mut self, price: Price) {
        if self.price.units() <= 0 {
            self.price = price;
        }
    }

    /// BULLISH when the fast EMA is above the slow one by more than `band_pct` percent of it,
    /// BEARISH when below by more, else SIDEWAYS.
    pub fn condition(&self, band_pct: f64) -> MarketCondition {
        if !self.seeded || self.slow <= 0.0 {
            return MarketCondition::Sideways;
        }
        let gap_pct = (self.fast - self.slow) / self.slow * 100.0;
        if gap_pct > band_pct {
            MarketCondition::Bullish
        } else if gap_pct < -band_pct {
            MarketCondition::Bearish
        } else {
            MarketCondition::Sideways
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(prices: &[f64]) -> Mark {
        let mut m = Mark::default();
        for &p in prices {
            m.update(Price::from_f64(p).unwrap(), 0.5, 0.1);
        }
        m
    }

    #[test]
    fn trend_follows_the_price() {
        assert_eq!(Mark::default().condition(0.05), MarketCondition::Sideways);
        assert_eq!(feed(&[100.0; 10]).condition(0.05), MarketCondition::Sideways);
        assert_eq!(feed(&[100.0, 101.0, 102.0, 103.0]).condition(0.05), MarketCondition::Bullish);
        assert_eq!(feed(&[100.0, 99.0, 98.0, 97.0]).condition(0.05), MarketCondition::Bearish);
        // A small move stays inside a wide band.
        assert_eq!(feed(&[100.0, 100.1]).condition(1.0), MarketCondition::Sideways);
    }

    #[test]
    fn seed_only_sets_a_missing_price() {
        let mut m = Mark::default();
        m.seed(Price(5));
        m.seed(Price(7));
        assert_eq!(m.price, Price(5));
    }
}
