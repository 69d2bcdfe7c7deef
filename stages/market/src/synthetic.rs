//! Synthetic price paths: geometric Brownian motion (or constant prices), one step per tick.
//!
//! `S ← S·exp((μ − σ²/2)·dt + σ·√dt·Z)`, with `dt` the tick interval in simulated years. The
//! unrounded price is the state; what is published is rounded to the instrument's tick size
//! and never below one tick.

use crate::config::{MarketConfig, PathParams, PriceModel};
use crate::normal::StandardNormal;
use rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use tradeflow_core::{InstrumentSpec, Price, SCALE};

/// Seconds in a (Julian) year, the unit of annualized drift and volatility.
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// One instrument's path.
#[derive(Debug, Clone)]
struct Path {
    /// Unrounded price in quote units (not fixed point).
    price: f64,
    /// `(μ − σ²/2)·dt`
    drift_step: f64,
    /// `σ·√dt`
    vol_step: f64,
    /// Tick size in fixed-point units (≥ 1).
    tick_units: i64,
}

/// All instruments' paths, stepped together from one seeded generator.
#[derive(Debug, Clone)]
pub struct SyntheticMarket {
    paths: Vec<Path>,
    rng: Xoshiro256PlusPlus,
    normal: StandardNormal,
    model: PriceModel,
}

impl SyntheticMarket {
    /// Paths for `specs` (tick sizes) with `params` (same length, validated by the caller).
    pub fn new(cfg: &MarketConfig, specs: &[InstrumentSpec], params: &[PathParams]) -> SyntheticMarket {
        let dt = cfg.tick_interval_us as f64 * 1e-6 * cfg.time_scale / SECONDS_PER_YEAR;
        let paths = specs
            .iter()
            .zip(params)
            .map(|(spec, p)| Path {
                price: p.initial_price.to_f64(),
                drift_step: (p.annual_drift - 0.5 * p.annual_volatility * p.annual_volatility) * dt,
                vol_step: p.annual_volatility * dt.sqrt(),
                tick_units: spec.tick_size.units().max(1),
            })
            .collect();
        SyntheticMarket {
            paths,
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            normal: StandardNormal::new(),
            model: cfg.model,
        }
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are no instruments.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The published (tick-rounded) price of instrument `i` now.
    #[inline]
    pub fn price(&self, i: usize) -> Option<Price> {
        self.paths.get(i).map(|p| round_to_tick(p.price, p.tick_units))
    }

    /// Moves every instrument one tick forward.
    #[inline]
    pub fn step(&mut self) {
        if self.model == PriceModel::Fixed {
            return;
        }
        for p in &mut self.paths {
            let z = self.normal.sample(&mut self.rng);
            let next = p.price * (p.drift_step + p.vol_step * z).exp();
            // Keep the state positive and finite whatever the parameters.
            p.price = if next.is_finite() && next > 0.0 { next } else { p.price };
        }
    }
}

/// Rounds a price to the nearest multiple of the tick, at least one tick.
#[inline]
pub fn round_to_tick(price: f64, tick_units: i64) -> Price {
    let tick = tick_units.max(1) as f64;
    let ticks = (price * SCALE as f64 / tick).round().clamp(1.0, (i64::MAX / tick_units.max(1)) as f64);
    Price(ticks as i64 * tick_units.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_nearest_tick_never_below_one() {
        let tick = Price::from_f64(0.1).unwrap().units();
        assert_eq!(round_to_tick(100.04, tick), Price::from_f64(100.0).unwrap());
        assert_eq!(round_to_tick(100.06, tick), Price::from_f64(100.1).unwrap());
        assert_eq!(round_to_tick(0.0, tick), Price(tick));
        assert_eq!(round_to_tick(1e-12, 1), Price(1));
        assert_eq!(round_to_tick(f64::MAX, tick).units() % tick, 0);
    }
}
