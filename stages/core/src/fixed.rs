//! Fixed-point money: prices, quantities and USD amounts in units of 1e-8, leverage in 1e-2.
//!
//! Binance quotes with 8 decimals, so every venue value is exact here. Products use `i128`
//! intermediates; exchange filters (tick, step, min notional) are integer operations.

use std::fmt;

/// Scale of [`Price`], [`Qty`] and [`Usd`]: 1.0 = 100_000_000 units.
pub const SCALE: i64 = 100_000_000;

macro_rules! fixed_point {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// Zero.
            pub const ZERO: $name = $name(0);

            /// From a float, rounded to the nearest unit; `None` when not finite or out of range.
            pub fn from_f64(v: f64) -> Option<$name> {
                let scaled = (v * SCALE as f64).round();
                if scaled.is_finite() && scaled.abs() < 9.0e18 {
                    Some($name(scaled as i64))
                } else {
                    None
                }
            }

            /// As a float (for ratios and JSON output).
            #[inline]
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / SCALE as f64
            }

            /// Raw units of 1e-8.
            #[inline]
            pub const fn units(self) -> i64 {
                self.0
            }

            /// Rounds toward zero to a multiple of `step` (a filter's tick or step size).
            /// A non-positive step leaves the value unchanged.
            #[inline]
            pub const fn floor_to(self, step: $name) -> $name {
                if step.0 <= 0 {
                    self
                } else {
                    $name(self.0 / step.0 * step.0)
                }
            }

            /// True when the value is a multiple of `step` (always true for a non-positive step).
            #[inline]
            pub const fn is_multiple_of(self, step: $name) -> bool {
                step.0 <= 0 || self.0 % step.0 == 0
            }

            /// Saturating sum.
            #[inline]
            pub const fn saturating_add(self, o: $name) -> $name {
                $name(self.0.saturating_add(o.0))
            }

            /// Saturating difference.
            #[inline]
            pub const fn saturating_sub(self, o: $name) -> $name {
                $name(self.0.saturating_sub(o.0))
            }

            /// Absolute value.
            #[inline]
            pub const fn abs(self) -> $name {
                $name(self.0.saturating_abs())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.to_f64())
            }
        }
    };
}

fixed_point!(
    /// A price in quote currency (USDT), 1e-8 units.
    Price
);
fixed_point!(
    /// A base-asset quantity, 1e-8 units.
    Qty
);
fixed_point!(
    /// A USD (USDT) amount, 1e-8 units.
    Usd
);

/// Clamps an `i128` into `i64`.
#[inline]
fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

impl Price {
    /// The notional value of `qty` at this price.
    #[inline]
    pub fn notional(self, qty: Qty) -> Usd {
        Usd(clamp_i64(i128::from(self.0) * i128::from(qty.0) / i128::from(SCALE)))
    }

    /// How much of the base asset `usd` buys at this price, rounded toward zero
    /// (zero for a non-positive price).
    #[inline]
    pub fn qty_for(self, usd: Usd) -> Qty {
        if self.0 <= 0 {
            return Qty::ZERO;
        }
        Qty(clamp_i64(i128::from(usd.0) * i128::from(SCALE) / i128::from(self.0)))
    }

    /// This price moved by `bps` basis points (positive = up), rounded to the nearest unit.
    #[inline]
    pub fn offset_bps(self, bps: f64) -> Price {
        Price((self.0 as f64 * (1.0 + bps / 10_000.0)).round() as i64)
    }

    /// This price moved by `pct` percent (positive = up), rounded to the nearest unit.
    #[inline]
    pub fn offset_pct(self, pct: f64) -> Price {
        Price((self.0 as f64 * (1.0 + pct / 100.0)).round() as i64)
    }
}

impl Usd {
    /// This amount times a float factor (sizing multipliers), rounded toward zero.
    #[inline]
    pub fn scale(self, factor: f64) -> Usd {
        let v = self.0 as f64 * factor;
        if v.is_finite() {
            Usd(v.clamp(i64::MIN as f64, i64::MAX as f64) as i64)
        } else {
            Usd::ZERO
        }
    }

    /// `bps` basis points of this amount (fees), rounded to the nearest unit.
    #[inline]
    pub fn bps(self, bps: f64) -> Usd {
        Usd((self.0 as f64 * bps / 10_000.0).round() as i64)
    }
}

/// Leverage in hundredths (`500` = 5.00x). Binance leverage is an integer; sizing may produce
/// fractions (0.8 × max leverage), which the venue rounds.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Leverage(pub u16);

impl Leverage {
    /// 1x.
    pub const ONE: Leverage = Leverage(100);

    /// From a float, rounded to hundredths and clamped to 0..=655.35.
    pub fn from_f64(v: f64) -> Leverage {
        if v.is_finite() {
            Leverage((v * 100.0).round().clamp(0.0, f64::from(u16::MAX)) as u16)
        } else {
            Leverage(0)
        }
    }

    /// As a float.
    #[inline]
    pub fn to_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn notional_and_qty_are_exact_on_binance_decimals() {
        let p = Price::from_f64(40_000.0).unwrap();
        let q = Qty::from_f64(0.0125).unwrap();
        assert_eq!(p.notional(q), Usd::from_f64(500.0).unwrap());
        assert_eq!(p.qty_for(Usd::from_f64(500.0).unwrap()), q);
        assert_eq!(Price::ZERO.qty_for(Usd(5)), Qty::ZERO);
    }

    #[test]
    fn floor_to_step() {
        let q = Qty::from_f64(0.123_456).unwrap();
        let step = Qty::from_f64(0.001).unwrap();
        assert_eq!(q.floor_to(step), Qty::from_f64(0.123).unwrap());
        assert!(q.floor_to(step).is_multiple_of(step));
        assert_eq!(q.floor_to(Qty::ZERO), q);
    }

    #[test]
    fn from_f64_rejects_non_finite() {
        assert_eq!(Price::from_f64(f64::NAN), None);
        assert_eq!(Usd::from_f64(f64::INFINITY), None);
        assert_eq!(Usd::from_f64(1e10), Some(Usd(1_000_000_000_000_000_000)));
        assert_eq!(Usd::from_f64(1e12), None);
        assert_eq!(Leverage::from_f64(4.0), Leverage(400));
        assert_eq!(Leverage::from_f64(-1.0), Leverage(0));
    }

    proptest! {
        #[test]
        fn floor_never_exceeds_and_is_a_multiple(v in 0i64..1_000_000_000_000, step in 1i64..10_000_000) {
            let f = Qty(v).floor_to(Qty(step));
            prop_assert!(f.0 <= v);
            prop_assert!(v - f.0 < step);
            prop_assert!(f.is_multiple_of(Qty(step)));
        }

        #[test]
        fn qty_for_then_notional_does_not_exceed_budget(price in 1i64..10_000_000_000_000, usd in 0i64..1_000_000_000_000_000) {
            let q = Price(price).qty_for(Usd(usd));
            let n = Price(price).notional(q);
            prop_assert!(n.0 <= usd);
        }

        #[test]
        fn f64_round_trip_within_one_unit(v in -1.0e9f64..1.0e9) {
            let p = Price::from_f64(v).unwrap();
            prop_assert!((p.to_f64() - v).abs() <= 1.0 / SCALE as f64 * 2.0 + v.abs() * 1e-15);
        }
    }
}
