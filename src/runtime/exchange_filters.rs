//! The exchange's trading filters for risk sizing: with `gateway.venue = "binance"`, risk's
//! tick / step / minimum quantity / minimum notional checks use the values of the exchange's
//! `GET /fapi/v1/exchangeInfo` (the call the venue's startup also makes), not the config's
//! `[[instruments]]` values, so risk never denies an order the exchange accepts (a config
//! minimum notional of 100 against the exchange's 5) nor approves one it refuses. Each value
//! that differs from the config is logged as a warning naming the symbol, the field and both
//! values.
//!
//! Fields (USDⓈ-M futures exchangeInfo, `symbols[].filters[]`; see
//! /work/shared/reference/binance-api-notes.md, "Filter shapes and rules", from the official
//! `market-data/rest-api/Exchange-Information` page): `PRICE_FILTER.tickSize`,
//! `LOT_SIZE.stepSize`/`minQty` (`MARKET_LOT_SIZE` for MARKET orders when present) and
//! `MIN_NOTIONAL.notional` (futures name the key `notional`).
//!
//! Risk reads filters from the one shared [`Catalog`] (which also holds the model registry the
//! stages share), so the exchange's values go into the catalog before it is shared — before
//! any stage or sink is built — rather than into a second catalog for risk alone.

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use tradeflow_binance::filters::{FilterParseError, SymbolFilters};
use tradeflow_binance::rest::{RestClient, RestError};
use tradeflow_core::{Catalog, SCALE};
use tradeflow_gateway::EntryType;

use super::RuntimeError;
use crate::config::Config;

/// One instrument filter whose config value differs from the exchange's.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterMismatch {
    /// The symbol.
    pub symbol: String,
    /// `tick_size`, `step_size`, `min_qty` or `min_notional`.
    pub field: &'static str,
    /// The config's value.
    pub config: f64,
    /// The exchange's value (the one used).
    pub exchange: f64,
}

impl fmt::Display for FilterMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: config {} but the exchange says {} (risk uses the exchange's value)",
            self.symbol, self.field, self.config, self.exchange
        )
    }
}

/// Why the exchange's filters could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeFilterError {
    /// `gateway.binance.ca_file` could not be read.
    #[error("ca_file {path}: {source}")]
    CaFile {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The REST call failed.
    #[error("GET {url}/fapi/v1/exchangeInfo: {source}")]
    Rest {
        /// `gateway.binance.rest_url`.
        url: String,
        /// The error.
        source: RestError,
    },
    /// A symbol's filters could not be read.
    #[error(transparent)]
    Parse(#[from] FilterParseError),
}

/// The catalog the stages share: the config's, with the exchange's filters when trading on
/// Binance (a warning per value that differs from the config).
pub fn trading_catalog(cfg: &Config) -> Result<Catalog, RuntimeError> {
    if cfg.gateway.venue != "binance" {
        return Ok(cfg.catalog()?);
    }
    let gateway_err = |e: ExchangeFilterError| RuntimeError::Stage { stage: "gateway", message: e.to_string() };
    let info = fetch_exchange_info(&cfg.gateway.binance).map_err(gateway_err)?;
    let mut exchange = cfg.clone();
    let market = cfg.gateway.binance.entry_type == EntryType::Market;
    for m in apply_exchange_filters(&mut exchange, &info, market).map_err(gateway_err)? {
        tracing::warn!(symbol = %m.symbol, field = m.field, config = m.config, exchange = m.exchange, "exchange filters: {m}");
    }
    Ok(exchange.catalog()?)
}

fn fetch_exchange_info(b: &tradeflow_gateway::BinanceVenueConfig) -> Result<Value, ExchangeFilterError> {
    let ca = match &b.ca_file {
        Some(p) => Some(
            std::fs::read(p).map_err(|source| ExchangeFilterError::CaFile { path: p.display().to_string(), source })?,
        ),
        None => None,
    };
    let rest_err = |source| ExchangeFilterError::Rest { url: b.rest_url.clone(), source };
    let timeout = Duration::from_millis(b.connect_timeout_ms);
    let rest = RestClient::new(&b.rest_url, None, timeout, ca.as_deref()).map_err(rest_err)?;
    rest.exchange_info().map_err(rest_err)
}

/// Replaces each `[[instruments]]` filter of `cfg` with the exchange's value from `info` (an
/// exchangeInfo answer); `market`: entries are MARKET orders (MARKET_LOT_SIZE applies).
/// Symbols the exchange does not list keep the config's values (the venue refuses to start
/// on them). Returns every value that changed.
pub fn apply_exchange_filters(
    cfg: &mut Config,
    info: &Value,
    market: bool,
) -> Result<Vec<FilterMismatch>, ExchangeFilterError> {
    let listed = info.get("symbols").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let mut changed = Vec::new();
    for inst in &mut cfg.instruments {
        let Some(spec) = listed.iter().find(|s| s.get("symbol").and_then(Value::as_str) == Some(&inst.symbol)) else {
            continue;
        };
        let f = SymbolFilters::from_exchange_info(spec)?;
        let (step, min_qty) = if market { (f.market_step_size, f.market_min_qty) } else { (f.step_size, f.min_qty) };
        for (field, value, units) in [
            ("tick_size", &mut inst.tick_size, f.tick_size),
            ("step_size", &mut inst.step_size, step),
            ("min_qty", &mut inst.min_qty, min_qty),
            ("min_notional", &mut inst.min_notional, f.min_notional),
        ] {
            let exchange = units as f64 / SCALE as f64;
            if units > 0 && (*value - exchange).abs() > f64::EPSILON * exchange.max(1.0) {
                changed.push(FilterMismatch { symbol: inst.symbol.clone(), field, config: *value, exchange });
                *value = exchange;
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> Value {
        serde_json::json!({"symbols": [{
            "symbol": "BTCUSDT", "status": "TRADING",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.10", "maxPrice": "1000000", "tickSize": "0.10"},
                {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.002", "maxQty": "120", "stepSize": "0.002"},
                {"filterType": "MIN_NOTIONAL", "notional": "5"}
            ]
        }]})
    }

    fn config() -> Config {
        Config::from_toml_str(include_str!("../../config/paper.toml")).unwrap_or_default()
    }

    #[test]
    fn the_exchange_values_replace_the_config_and_each_difference_is_named() {
        let mut cfg = config();
        let btc = cfg.instruments.iter().position(|i| i.symbol == "BTCUSDT");
        let Some(btc) = btc else { panic!("paper.toml lists BTCUSDT") };
        cfg.instruments[btc].min_notional = 100.0;
        cfg.instruments[btc].tick_size = 0.1;
        let eth_before = cfg.instruments.iter().find(|i| i.symbol == "ETHUSDT").cloned();
        let changed = apply_exchange_filters(&mut cfg, &info(), false).unwrap_or_default();
        let fields: Vec<_> = changed.iter().map(|m| (m.symbol.as_str(), m.field, m.config, m.exchange)).collect();
        assert_eq!(fields, [("BTCUSDT", "min_notional", 100.0, 5.0)], "only what differs: {changed:?}");
        assert!(changed[0].to_string().contains("BTCUSDT min_notional: config 100 but the exchange says 5"));
        assert_eq!(cfg.instruments[btc].min_notional, 5.0);
        assert_eq!(cfg.instruments.iter().find(|i| i.symbol == "ETHUSDT").cloned(), eth_before, "not listed: kept");
    }

    #[test]
    fn market_entries_use_the_market_lot_size() {
        let mut cfg = config();
        let changed = apply_exchange_filters(&mut cfg, &info(), true).unwrap_or_default();
        let got: Vec<_> = changed.iter().filter(|m| m.symbol == "BTCUSDT").map(|m| (m.field, m.exchange)).collect();
        assert!(got.contains(&("step_size", 0.002)) && got.contains(&("min_qty", 0.002)), "{got:?}");
    }

    #[test]
    fn a_malformed_filter_is_an_error() {
        let bad = serde_json::json!({"symbols": [{"symbol": "BTCUSDT", "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "x", "maxPrice": "1", "tickSize": "0.1"}]}]});
        assert!(apply_exchange_filters(&mut config(), &bad, false).is_err());
    }
}
