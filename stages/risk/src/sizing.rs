//! Position sizing, as in the reference's SignalSubscriber:
//! `leverage = max_leverage × 0.8`,
//! `position_size_usd = min(balance × risk_pct / 100 × leverage, position_size_cap_usd)`,
//! then scaled by the learners' sizing multiplier and model weight (never above the cap), and
//! turned into a step-size quantity at the reference price with integer arithmetic.

use crate::config::RiskProfileConfig;
use tradeflow_core::{InstrumentSpec, Price, Qty, Usd};

/// Fraction of the profile's maximum leverage that orders use.
pub const LEVERAGE_FRACTION: f64 = 0.8;

/// What the learning stage (and config) says about one model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Multipliers {
    /// Scales the position size (RL sizing agent).
    pub sizing: f64,
    /// Scales the leverage (RL sizing agent).
    pub leverage: f64,
    /// Scales the position size (meta-strategy model weight).
    pub weight: f64,
}

impl Multipliers {
    /// Every multiplier 1.
    pub const ONE: Multipliers = Multipliers { sizing: 1.0, leverage: 1.0, weight: 1.0 };
}

impl Default for Multipliers {
    fn default() -> Self {
        Multipliers::ONE
    }
}

/// The outcome of sizing, before the reference price is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizing {
    /// Leverage of the order (`max_leverage × 0.8 × leverage multiplier`).
    pub leverage: f64,
    /// Percent of the balance put at risk (the profile's `max_risk_pct_per_trade`).
    pub trade_risk_pct: f64,
    /// Intended position notional, in `[0, position_size_cap_usd]`.
    pub position_size_usd: Usd,
}

/// Sizes a position for `profile` at account `balance`.
///
/// The size uses the profile's base leverage (`max_leverage × 0.8`, the reference formula); the
/// leverage multiplier changes only the order's leverage (which RiskGuard caps). The sizing
/// multiplier and the model weight scale the size, which never exceeds the profile's cap.
/// Non-positive balances and non-finite or negative inputs give a zero size.
pub fn size_position(profile: &RiskProfileConfig, balance: Usd, m: Multipliers) -> Sizing {
    let base_leverage = profile.max_leverage * LEVERAGE_FRACTION;
    let cap = Usd::from_f64(profile.position_size_cap_usd).map_or(0.0, |c| c.0.max(0) as f64);
    let raw = balance.0.max(0) as f64 * profile.max_risk_pct_per_trade / 100.0 * base_leverage;
    let scaled = raw.min(cap) * m.sizing * m.weight;
    let units = if scaled.is_finite() && scaled > 0.0 { scaled.min(cap).floor() as i64 } else { 0 };
    Sizing {
        leverage: non_negative(base_leverage * m.leverage),
        trade_risk_pct: profile.max_risk_pct_per_trade,
        position_size_usd: Usd(units),
    }
}

fn non_negative(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v
    } else {
        0.0
    }
}

/// An order's quantity and notional.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderSize {
    /// Base-asset quantity, a multiple of the instrument's step size.
    pub qty: Qty,
    /// `qty × price`, never above the intended size.
    pub notional: Usd,
}

/// Turns an intended notional into a quantity at `price`, floored to the step size.
pub fn size_order(size: Usd, price: Price, spec: &InstrumentSpec) -> OrderSize {
    let qty = price.qty_for(size).floor_to(spec.step_size);
    OrderSize { qty, notional: price.notional(qty) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(v: f64) -> Usd {
        Usd::from_f64(v).unwrap()
    }

    #[test]
    fn normal_profile_at_ten_thousand() {
        let s = size_position(&RiskProfileConfig::normal(), usd(10_000.0), Multipliers::ONE);
        assert_eq!(s.leverage, 8.0);
        assert_eq!(s.trade_risk_pct, 1.5);
        assert_eq!(s.position_size_usd, usd(1000.0));
        let mut p = RiskProfileConfig::normal();
        p.position_size_cap_usd = 5000.0;
        assert_eq!(size_position(&p, usd(10_000.0), Multipliers::ONE).position_size_usd, usd(1200.0));
    }

    #[test]
    fn bad_inputs_give_zero() {
        let p = RiskProfileConfig::normal();
        assert_eq!(size_position(&p, usd(-5.0), Multipliers::ONE).position_size_usd, Usd::ZERO);
        let nan = Multipliers { sizing: f64::NAN, ..Multipliers::ONE };
        assert_eq!(size_position(&p, usd(5000.0), nan).position_size_usd, Usd::ZERO);
        let neg = Multipliers { leverage: -1.0, ..Multipliers::ONE };
        assert_eq!(size_position(&p, usd(5000.0), neg).leverage, 0.0);
    }

    #[test]
    fn order_size_is_step_rounded() {
        let spec = InstrumentSpec {
            symbol: "BTCUSDT".into(),
            tick_size: Price(10_000_000),
            step_size: Qty(100_000),
            min_qty: Qty(100_000),
            min_notional: usd(5.0),
        };
        let o = size_order(usd(1000.0), Price::from_f64(40_000.0).unwrap(), &spec);
        assert_eq!(o.qty, Qty::from_f64(0.025).unwrap());
        assert_eq!(o.notional, usd(1000.0));
        let o = size_order(usd(1000.0), Price::from_f64(30_000.0).unwrap(), &spec);
        assert_eq!(o.qty, Qty::from_f64(0.033).unwrap());
        assert_eq!(o.notional, usd(990.0));
    }
}
