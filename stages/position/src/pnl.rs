//! Position arithmetic on fixed-point values: trigger prices, PnL, excursion.

use tradeflow_core::{Price, Qty, Side, Usd, SCALE};

/// Rounds a positive price to the nearest multiple of `tick` (halves up); unchanged for a
/// non-positive tick.
#[inline]
pub fn round_to_tick(p: Price, tick: Price) -> Price {
    if tick.units() <= 0 {
        return p;
    }
    Price(p.units().saturating_add(tick.units() / 2).div_euclid(tick.units()) * tick.units())
}

/// Stop-loss and take-profit trigger prices for a position entered at `entry`: a long stops
/// below and takes profit above, a short the reverse. A percentage that is not finite and
/// positive means "none" (zero price).
pub fn trigger_prices(side: Side, entry: Price, sl_pct: f32, tp_pct: f32, tick: Price) -> (Price, Price) {
    let at = |pct: f32, adverse: bool| {
        if !(pct.is_finite() && pct > 0.0) {
            return Price::ZERO;
        }
        let up = (side == Side::Buy) != adverse;
        let pct = f64::from(pct);
        round_to_tick(entry.offset_pct(if up { pct } else { -pct }), tick)
    };
    (at(sl_pct, true), at(tp_pct, false))
}

/// `side × (exit − entry) × qty`, rounded toward zero (before fees). Saturates symmetrically
/// at ±i64::MAX units so long and short stay exact opposites.
#[inline]
pub fn gross_pnl(side: Side, entry: Price, exit: Price, qty: Qty) -> Usd {
    let diff = i128::from(exit.units()) - i128::from(entry.units());
    let v = i128::from(side.sign()) * diff * i128::from(qty.units()) / i128::from(SCALE);
    Usd(v.clamp(-i128::from(i64::MAX), i128::from(i64::MAX)) as i64)
}

/// Realized PnL net of both commissions.
#[inline]
pub fn net_pnl(side: Side, entry: Price, exit: Price, qty: Qty, fees: Usd) -> Usd {
    gross_pnl(side, entry, exit, qty).saturating_sub(fees)
}

/// `amount` in percent of `base` (0 for a non-positive base).
#[inline]
pub fn pct_of(amount: Usd, base: Usd) -> f32 {
    if base.units() <= 0 {
        0.0
    } else {
        (amount.units() as f64 / base.units() as f64 * 100.0) as f32
    }
}

/// Worst adverse excursion of a position that saw `worst` at its worst, percent of entry (≥ 0).
#[inline]
pub fn adverse_excursion_pct(side: Side, entry: Price, worst: Price) -> f32 {
    if entry.units() <= 0 {
        return 0.0;
    }
    let adverse = (entry.units() - worst.units()) as f64 * side.sign() as f64;
    (adverse / entry.units() as f64 * 100.0).max(0.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn px(v: f64) -> Price {
        Price::from_f64(v).unwrap()
    }

    #[test]
    fn triggers_straddle_the_entry_on_the_right_sides() {
        let tick = px(0.1);
        assert_eq!(trigger_prices(Side::Buy, px(40_000.0), 2.0, 3.0, tick), (px(39_200.0), px(41_200.0)));
        assert_eq!(trigger_prices(Side::Sell, px(40_000.0), 2.0, 3.0, tick), (px(40_800.0), px(38_800.0)));
        // 100.03 × 1.01 = 101.0303 → 101.0; × 0.99 = 99.0297 → 99.0
        assert_eq!(trigger_prices(Side::Buy, px(100.03), 1.0, 1.0, tick), (px(99.0), px(101.0)));
        assert_eq!(trigger_prices(Side::Buy, px(100.0), 0.0, f32::NAN, tick), (Price::ZERO, Price::ZERO));
    }

    #[test]
    fn round_to_tick_goes_to_the_nearest() {
        assert_eq!(round_to_tick(Price(104), Price(10)), Price(100));
        assert_eq!(round_to_tick(Price(105), Price(10)), Price(110));
        assert_eq!(round_to_tick(Price(105), Price(0)), Price(105));
    }

    #[test]
    fn pnl_is_exact_for_long_and_short() {
        let q = Qty::from_f64(0.0125).unwrap();
        assert_eq!(gross_pnl(Side::Buy, px(40_000.0), px(41_000.0), q), Usd::from_f64(12.5).unwrap());
        assert_eq!(gross_pnl(Side::Sell, px(40_000.0), px(41_000.0), q), Usd::from_f64(-12.5).unwrap());
        assert_eq!(net_pnl(Side::Buy, px(40_000.0), px(41_000.0), q, Usd(40_500_000)), Usd(1_209_500_000));
        assert_eq!(pct_of(Usd(50), Usd(1_000)), 5.0);
        assert_eq!(pct_of(Usd(50), Usd::ZERO), 0.0);
    }

    #[test]
    fn excursion_is_adverse_only() {
        assert_eq!(adverse_excursion_pct(Side::Buy, px(100.0), px(98.0)), 2.0);
        assert_eq!(adverse_excursion_pct(Side::Sell, px(100.0), px(103.0)), 3.0);
        assert_eq!(adverse_excursion_pct(Side::Buy, px(100.0), px(101.0)), 0.0);
    }

    proptest! {
        #[test]
        fn long_and_short_pnl_are_opposite(entry in 1i64..1_000_000_000_000_000, exit in 1i64..1_000_000_000_000_000, q in 0i64..1_000_000_000_000) {
            let long = gross_pnl(Side::Buy, Price(entry), Price(exit), Qty(q));
            let short = gross_pnl(Side::Sell, Price(entry), Price(exit), Qty(q));
            prop_assert_eq!(long.units(), -short.units());
            prop_assert_eq!(long.units() > 0, exit > entry && long.units() != 0);
        }

        #[test]
        fn triggers_are_on_tick_and_on_their_side(entry in 1_000_000i64..10_000_000_000_000, sl in 0.1f32..50.0, tp in 0.1f32..50.0) {
            let tick = Price(1_000);
            let (s, t) = trigger_prices(Side::Buy, Price(entry), sl, tp, tick);
            prop_assert!(s.is_multiple_of(tick) && t.is_multiple_of(tick));
            prop_assert!(s.units() <= entry + 500 && t.units() >= entry - 500);
            let (s, t) = trigger_prices(Side::Sell, Price(entry), sl, tp, tick);
            prop_assert!(s.units() >= entry - 500 && t.units() <= entry + 500);
        }
    }
}
