//! Exchange filters (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL) in integer
//! arithmetic, and the decimal text Binance sends and expects.
//!
//! Every decimal is held as `i64` units of 1e-8 (the scale of [`tradeflow_core::Price`] and
//! [`tradeflow_core::Qty`]). Text with more than 8 decimals is refused rather than rounded.
//! Futures rules (USDⓈ-M `exchangeInfo`): price in `[minPrice, maxPrice]` and
//! `(price - minPrice) % tickSize == 0`; quantity in `[minQty, maxQty]` and
//! `(qty - minQty) % stepSize == 0` (MARKET orders use MARKET_LOT_SIZE when present);
//! `price × qty ≥ notional` unless the order is reduce-only. A zero bound disables its rule.

use std::fmt::Write as _;

use serde_json::Value;
use tradeflow_core::SCALE;

/// Why decimal text is not a valid amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Empty, a sign in the wrong place, or a non-digit.
    #[error("not a decimal number: {0:?}")]
    Malformed(String),
    /// More than 8 decimals.
    #[error("too much precision (more than 8 decimals): {0:?}")]
    TooPrecise(String),
    /// Does not fit in 1e-8 units of an i64.
    #[error("out of range: {0:?}")]
    OutOfRange(String),
}

/// Parses decimal text (`"0.00100000"`, `"-12.5"`, `"7"`) into 1e-8 units.
pub fn parse_units(s: &str) -> Result<i64, DecimalError> {
    let bad = || DecimalError::Malformed(s.to_owned());
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > 8 {
        return Err(DecimalError::TooPrecise(s.to_owned()));
    }
    let range = || DecimalError::OutOfRange(s.to_owned());
    let mut units: i64 = 0;
    for b in int.bytes() {
        units = units.checked_mul(10).and_then(|u| u.checked_add(i64::from(b - b'0'))).ok_or_else(range)?;
    }
    units = units.checked_mul(SCALE).ok_or_else(range)?;
    let mut f: i64 = 0;
    for (i, b) in frac_trimmed.bytes().enumerate() {
        f += i64::from(b - b'0') * 10_i64.pow(7 - i as u32);
    }
    units = units.checked_add(f).ok_or_else(range)?;
    Ok(if neg { -units } else { units })
}

/// Number of decimals needed to write multiples of `step` (units of 1e-8): `0.00100000` → 3.
pub fn decimals_of(step: i64) -> u32 {
    if step <= 0 {
        return 8;
    }
    let mut d = 8;
    let mut s = step;
    while d > 0 && s % 10 == 0 {
        s /= 10;
        d -= 1;
    }
    d
}

/// Writes `units` (1e-8) with exactly `decimals` decimals (truncating any finer digits).
pub fn write_units(units: i64, decimals: u32, out: &mut String) {
    let decimals = decimals.min(8);
    if units < 0 {
        out.push('-');
    }
    let a = units.unsigned_abs();
    let scale = SCALE as u64;
    let _ = write!(out, "{}", a / scale);
    if decimals > 0 {
        let frac = (a % scale) / 10_u64.pow(8 - decimals);
        let _ = write!(out, ".{:0width$}", frac, width = decimals as usize);
    }
}

/// `units` as text with `decimals` decimals.
pub fn format_units(units: i64, decimals: u32) -> String {
    let mut s = String::with_capacity(24);
    write_units(units, decimals, &mut s);
    s
}

/// A symbol's trading filters, in 1e-8 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SymbolFilters {
    /// PRICE_FILTER `minPrice` (0 = no minimum).
    pub min_price: i64,
    /// PRICE_FILTER `maxPrice` (0 = no maximum).
    pub max_price: i64,
    /// PRICE_FILTER `tickSize` (0 = any price).
    pub tick_size: i64,
    /// LOT_SIZE `minQty`.
    pub min_qty: i64,
    /// LOT_SIZE `maxQty` (0 = no maximum).
    pub max_qty: i64,
    /// LOT_SIZE `stepSize`.
    pub step_size: i64,
    /// MARKET_LOT_SIZE `minQty` (falls back to LOT_SIZE when absent).
    pub market_min_qty: i64,
    /// MARKET_LOT_SIZE `maxQty`.
    pub market_max_qty: i64,
    /// MARKET_LOT_SIZE `stepSize`.
    pub market_step_size: i64,
    /// MIN_NOTIONAL `notional` (quote units, 1e-8).
    pub min_notional: i64,
}

/// A filter violation, with the futures error code the exchange answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterError {
    /// `-4013` price below `minPrice`.
    PriceTooLow,
    /// `-4016`-like: price above `maxPrice` (futures answers `-4016`).
    PriceTooHigh,
    /// `-4014` price not a multiple of the tick size.
    PriceNotTick,
    /// `-4004` quantity below the minimum.
    QtyTooLow,
    /// `-4005` quantity above the maximum.
    QtyTooHigh,
    /// `-4023` quantity not a multiple of the step size.
    QtyNotStep,
    /// `-4164` notional below the minimum (reduce-only orders are exempt).
    NotionalTooSmall,
}

impl FilterError {
    /// The futures error code.
    pub const fn code(self) -> i32 {
        match self {
            FilterError::PriceTooLow => -4013,
            FilterError::PriceTooHigh => -4016,
            FilterError::PriceNotTick => -4014,
            FilterError::QtyTooLow => -4004,
            FilterError::QtyTooHigh => -4005,
            FilterError::QtyNotStep => -4023,
            FilterError::NotionalTooSmall => -4164,
        }
    }

    /// The exchange's message.
    pub const fn message(self) -> &'static str {
        match self {
            FilterError::PriceTooLow => "Price less than min price.",
            FilterError::PriceTooHigh => "Price greater than max price.",
            FilterError::PriceNotTick => "Price not increased by tick size.",
            FilterError::QtyTooLow => "Quantity less than or equal to zero.",
            FilterError::QtyTooHigh => "Quantity greater than max quantity.",
            FilterError::QtyNotStep => "Quantity not increased by step size.",
            FilterError::NotionalTooSmall => {
                "Order's notional must be no smaller than the minimum (unless you choose reduce only)."
            }
        }
    }
}

/// Why an `exchangeInfo` symbol cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("exchangeInfo symbol {symbol}: {what}")]
pub struct FilterParseError {
    /// The symbol (or `?`).
    pub symbol: String,
    /// What is wrong.
    pub what: String,
}

impl SymbolFilters {
    /// Reads the `filters` array of one `exchangeInfo` symbol object.
    pub fn from_exchange_info(symbol: &Value) -> Result<SymbolFilters, FilterParseError> {
        let name = symbol.get("symbol").and_then(Value::as_str).unwrap_or("?").to_owned();
        let err = |what: String| FilterParseError { symbol: name.clone(), what };
        let filters = symbol.get("filters").and_then(Value::as_array).ok_or_else(|| err("no filters array".into()))?;
        let mut f = SymbolFilters::default();
        let mut have_lot = false;
        let mut have_market = false;
        for filt in filters {
            let typ = filt.get("filterType").and_then(Value::as_str).unwrap_or("");
            let num = |key: &str| -> Result<i64, FilterParseError> {
                let s = filt.get(key).and_then(Value::as_str).ok_or_else(|| err(format!("{typ}.{key} missing")))?;
                parse_units(s).map_err(|e| err(format!("{typ}.{key}: {e}")))
            };
            match typ {
                "PRICE_FILTER" => {
                    f.min_price = num("minPrice")?;
                    f.max_price = num("maxPrice")?;
                    f.tick_size = num("tickSize")?;
                }
                "LOT_SIZE" => {
                    f.min_qty = num("minQty")?;
                    f.max_qty = num("maxQty")?;
                    f.step_size = num("stepSize")?;
                    have_lot = true;
                }
                "MARKET_LOT_SIZE" => {
                    f.market_min_qty = num("minQty")?;
                    f.market_max_qty = num("maxQty")?;
                    f.market_step_size = num("stepSize")?;
                    have_market = true;
                }
                "MIN_NOTIONAL" => f.min_notional = num("notional")?,
                _ => {}
            }
        }
        if !have_lot || f.step_size <= 0 {
            return Err(err("LOT_SIZE filter missing or stepSize is zero".into()));
        }
        if !have_market {
            f.market_min_qty = f.min_qty;
            f.market_max_qty = f.max_qty;
            f.market_step_size = f.step_size;
        }
        Ok(f)
    }

    /// Decimals for writing prices of this symbol.
    pub fn price_decimals(&self) -> u32 {
        decimals_of(self.tick_size)
    }

    /// Decimals for writing quantities of this symbol.
    pub fn qty_decimals(&self) -> u32 {
        decimals_of(self.step_size.min(if self.market_step_size > 0 { self.market_step_size } else { i64::MAX }))
    }

    /// Rounds a quantity down onto the lot grid (`minQty + k·step`) for a MARKET or LIMIT order.
    pub fn floor_qty(&self, qty: i64, market: bool) -> i64 {
        let (min, step) = self.lot(market);
        if qty < min || step <= 0 {
            return if step > 0 && qty > 0 { qty - qty % step } else { qty };
        }
        min + (qty - min) / step * step
    }

    /// Rounds a price onto the tick grid: down (`up = false`) or up.
    pub fn round_price(&self, price: i64, up: bool) -> i64 {
        if self.tick_size <= 0 {
            return price;
        }
        let base = self.min_price.max(0);
        let off = price - base;
        let down = base + off.div_euclid(self.tick_size) * self.tick_size;
        if up && down != price {
            down + self.tick_size
        } else {
            down
        }
    }

    fn lot(&self, market: bool) -> (i64, i64) {
        if market {
            (self.market_min_qty, self.market_step_size)
        } else {
            (self.min_qty, self.step_size)
        }
    }

    /// Checks an order as the exchange would. `price` is the limit price, or for MARKET
    /// orders the reference (mark) price used for the notional check.
    pub fn check(&self, price: i64, qty: i64, market: bool, reduce_only: bool) -> Result<(), FilterError> {
        if !market {
            if self.min_price > 0 && price < self.min_price {
                return Err(FilterError::PriceTooLow);
            }
            if price <= 0 {
                return Err(FilterError::PriceTooLow);
            }
            if self.max_price > 0 && price > self.max_price {
                return Err(FilterError::PriceTooHigh);
            }
            if self.tick_size > 0 && (price - self.min_price) % self.tick_size != 0 {
                return Err(FilterError::PriceNotTick);
            }
        }
        let (min, step) = self.lot(market);
        let max = if market { self.market_max_qty } else { self.max_qty };
        if qty <= 0 || qty < min {
            return Err(FilterError::QtyTooLow);
        }
        if max > 0 && qty > max {
            return Err(FilterError::QtyTooHigh);
        }
        if step > 0 && (qty - min) % step != 0 {
            return Err(FilterError::QtyNotStep);
        }
        if !reduce_only && self.min_notional > 0 && notional_units(price, qty) < i128::from(self.min_notional) {
            return Err(FilterError::NotionalTooSmall);
        }
        Ok(())
    }
}

/// `price × qty` in 1e-8 quote units (exact, i128).
pub fn notional_units(price: i64, qty: i64) -> i128 {
    i128::from(price) * i128::from(qty) / i128::from(SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> SymbolFilters {
        let v: Value = serde_json::from_str(
            r#"{"symbol":"BTCUSDT","filters":[
            {"filterType":"PRICE_FILTER","minPrice":"556.80","maxPrice":"4529764","tickSize":"0.10"},
            {"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"1000","stepSize":"0.001"},
            {"filterType":"MARKET_LOT_SIZE","minQty":"0.001","maxQty":"120","stepSize":"0.001"},
            {"filterType":"MIN_NOTIONAL","notional":"100"},
            {"filterType":"MAX_NUM_ORDERS","limit":200}]}"#,
        )
        .unwrap_or_default();
        match SymbolFilters::from_exchange_info(&v) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn parses_and_writes_decimals_exactly() {
        assert_eq!(parse_units("0.00100000"), Ok(100_000));
        assert_eq!(parse_units("52000.00"), Ok(5_200_000_000_000));
        assert_eq!(parse_units("-1.5"), Ok(-150_000_000));
        assert_eq!(parse_units(".5"), Ok(50_000_000));
        assert_eq!(parse_units("7"), Ok(700_000_000));
        assert!(matches!(parse_units("0.000000001"), Err(DecimalError::TooPrecise(_))));
        assert_eq!(parse_units("0.100000000"), Ok(10_000_000), "trailing zeros beyond 8 dp are fine");
        for bad in ["", "-", ".", "1e5", "1.2.3", "+1", " 1", "0x10", "١"] {
            assert!(matches!(parse_units(bad), Err(DecimalError::Malformed(_))), "{bad:?}");
        }
        assert!(matches!(parse_units("99999999999999999999"), Err(DecimalError::OutOfRange(_))));
        assert_eq!(decimals_of(100_000), 3);
        assert_eq!(decimals_of(10_000_000), 1);
        assert_eq!(decimals_of(SCALE), 0);
        assert_eq!(format_units(4_318_700_000_000, 2), "43187.00");
        assert_eq!(format_units(10_000_000, 3), "0.100");
        assert_eq!(format_units(-150_000_000, 1), "-1.5");
        assert_eq!(format_units(123, 8), "0.00000123");
    }

    #[test]
    fn futures_filters_round_and_check_like_the_exchange() {
        let f = btc();
        assert_eq!(f.price_decimals(), 1);
        assert_eq!(f.qty_decimals(), 3);
        let q = parse_units("0.12345").unwrap_or(0);
        assert_eq!(f.floor_qty(q, true), parse_units("0.123").unwrap_or(0));
        let p = parse_units("43187.06").unwrap_or(0);
        assert_eq!(f.round_price(p, false), parse_units("43187.0").unwrap_or(0));
        assert_eq!(f.round_price(p, true), parse_units("43187.1").unwrap_or(0));
        let px = parse_units("43187.0").unwrap_or(0);
        assert_eq!(f.check(px, parse_units("0.123").unwrap_or(0), false, false), Ok(()));
        assert_eq!(f.check(px + 1, 12_300_000, false, false), Err(FilterError::PriceNotTick));
        assert_eq!(f.check(px, 12_300_001, false, false), Err(FilterError::QtyNotStep));
        assert_eq!(f.check(px, 50_000, false, false), Err(FilterError::QtyTooLow));
        assert_eq!(f.check(px, 200 * SCALE, true, false), Err(FilterError::QtyTooHigh), "market max 120");
        assert_eq!(f.check(100, 100_000, false, false), Err(FilterError::PriceTooLow));
        // 0.002 × 43187 = 86.37 < 100.
        assert_eq!(f.check(px, 200_000, false, false), Err(FilterError::NotionalTooSmall));
        assert_eq!(f.check(px, 200_000, false, true), Ok(()), "reduce-only is exempt");
        assert_eq!(FilterError::NotionalTooSmall.code(), -4164);
    }

    #[test]
    fn missing_lot_size_is_an_error() {
        let v: Value = serde_json::from_str(r#"{"symbol":"X","filters":[]}"#).unwrap_or_default();
        let e = SymbolFilters::from_exchange_info(&v);
        assert!(matches!(e, Err(FilterParseError { ref symbol, .. }) if symbol == "X"), "{e:?}");
    }
}
