//! `[market]`: the synthetic price model, and per-instrument path parameters.

use serde::Deserialize;
use tradeflow_core::Price;

/// Longest accepted tick interval (one minute).
pub const MAX_TICK_INTERVAL_US: u64 = 60_000_000;

/// How synthetic prices move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PriceModel {
    /// Geometric Brownian motion with each instrument's drift and volatility.
    #[default]
    Gbm,
    /// Each instrument's initial price, forever.
    Fixed,
}

/// Where reference prices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PriceSourceKind {
    /// Seeded synthetic paths (`model`, `tick_interval_us`, `seed`, `time_scale`).
    #[default]
    Synthetic,
    /// Binance USDⓈ-M market streams (`[market.binance]`), or the mock exchange's.
    Binance,
}

/// Which Binance stream gives the reference price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum BinanceStream {
    /// `<symbol>@markPrice@1s` (the price SL/TP algo orders trigger on with MARK_PRICE).
    #[default]
    #[serde(rename = "markPrice")]
    MarkPrice,
    /// `<symbol>@bookTicker` (best bid/ask, real time; the mid is the reference).
    #[serde(rename = "bookTicker")]
    BookTicker,
}

/// `[market.binance]`: the stream connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BinanceMarketConfig {
    /// Stream base URL (`wss://fstream.binance.com`, or the mock's `ws://127.0.0.1:PORT`).
    pub url: String,
    /// `"markPrice"` or `"bookTicker"`.
    pub stream: BinanceStream,
    /// Extra trusted root certificate (PEM file) for TLS.
    pub ca_file: Option<std::path::PathBuf>,
    /// Reconnect backoff: first and largest delay, ms.
    pub reconnect_base_ms: u64,
    /// Reconnect backoff: largest delay, ms.
    pub reconnect_max_ms: u64,
    /// Close and reconnect when nothing arrived for this long, ms.
    pub idle_timeout_ms: u64,
}

impl Default for BinanceMarketConfig {
    fn default() -> Self {
        BinanceMarketConfig {
            url: "wss://fstream.binance.com".into(),
            stream: BinanceStream::MarkPrice,
            ca_file: None,
            reconnect_base_ms: 100,
            reconnect_max_ms: 10_000,
            idle_timeout_ms: 30_000,
        }
    }
}

/// `[market]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketConfig {
    /// `"synthetic"` (default) or `"binance"`.
    pub source: PriceSourceKind,
    /// `[market.binance]`, used when `source = "binance"`.
    pub binance: BinanceMarketConfig,
    /// `"gbm"` or `"fixed"`.
    pub model: PriceModel,
    /// Time between ticks (each tick prices every instrument), µs.
    pub tick_interval_us: u64,
    /// RNG seed of the price paths.
    pub seed: u64,
    /// Simulated market seconds per pipeline second (so SL/TP are reached in a short run).
    pub time_scale: f64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            source: PriceSourceKind::Synthetic,
            binance: BinanceMarketConfig::default(),
            model: PriceModel::Gbm,
            tick_interval_us: 1000,
            seed: 7,
            time_scale: 3600.0,
        }
    }
}

impl MarketConfig {
    /// Every problem of the section, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut e = Vec::new();
        if !(1..=MAX_TICK_INTERVAL_US).contains(&self.tick_interval_us) {
            e.push(format!(
                "{path}.tick_interval_us: must be in 1..={MAX_TICK_INTERVAL_US} (got {})",
                self.tick_interval_us
            ));
        }
        if !self.time_scale.is_finite() || self.time_scale <= 0.0 {
            e.push(format!("{path}.time_scale: must be a finite number > 0 (got {})", self.time_scale));
        }
        if self.source == PriceSourceKind::Binance {
            let b = &self.binance;
            if !(b.url.starts_with("ws://") || b.url.starts_with("wss://")) {
                e.push(format!("{path}.binance.url: must start with ws:// or wss://"));
            }
            if b.reconnect_base_ms == 0 || b.reconnect_max_ms < b.reconnect_base_ms {
                e.push(format!("{path}.binance.reconnect_base_ms/reconnect_max_ms: need 0 < base ≤ max"));
            }
            if b.idle_timeout_ms == 0 {
                e.push(format!("{path}.binance.idle_timeout_ms: must be > 0"));
            }
        }
        e
    }
}

/// One instrument's synthetic price path (given by the caller, indexed like the catalog).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathParams {
    /// Price at the start of the run (> 0).
    pub initial_price: Price,
    /// Annualized volatility σ (e.g. 0.6 = 60 %), finite, ≥ 0.
    pub annual_volatility: f64,
    /// Annualized drift μ (e.g. 0.05), finite.
    pub annual_drift: f64,
}

impl PathParams {
    /// Every problem of instrument `index`'s parameters.
    pub fn validate(&self, index: usize) -> Vec<String> {
        let mut e = Vec::new();
        if self.initial_price.units() <= 0 {
            e.push(format!("paths[{index}].initial_price: must be > 0"));
        }
        if !self.annual_volatility.is_finite() || !(0.0..=100.0).contains(&self.annual_volatility) {
            e.push(format!("paths[{index}].annual_volatility: must be a finite number in 0..=100"));
        }
        if !self.annual_drift.is_finite() || self.annual_drift.abs() > 100.0 {
            e.push(format!("paths[{index}].annual_drift: must be a finite number in -100..=100"));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_valid_and_every_problem_reported() {
        assert!(MarketConfig::default().validate("market").is_empty());
        let c = MarketConfig { tick_interval_us: 0, time_scale: f64::INFINITY, ..Default::default() };
        let e = c.validate("market");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("market.tick_interval_us:"));
        assert!(e[1].starts_with("market.time_scale:"));
        let p = PathParams { initial_price: Price(0), annual_volatility: -1.0, annual_drift: f64::NAN };
        assert_eq!(p.validate(2).len(), 3);
    }

    #[test]
    fn model_names_parse() {
        let c: MarketConfig = serde_json::from_str(r#"{"model":"fixed"}"#).unwrap();
        assert_eq!(c.model, PriceModel::Fixed);
        assert!(serde_json::from_str::<MarketConfig>(r#"{"model":"walk"}"#).is_err());
        assert!(serde_json::from_str::<MarketConfig>(r#"{"seeds":1}"#).is_err());
    }
}
