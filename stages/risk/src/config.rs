//! The `[risk]` configuration: account, named risk profiles (the PolicyStore's defaults) and the
//! RiskGuard's hard limits. Validation reports every problem at once.

use std::collections::BTreeMap;
use tradeflow_core::Catalog;

/// Largest USD amount accepted in config (fixed-point `Usd` holds about 9.2e10).
pub const MAX_USD: f64 = 1.0e10;
/// Largest leverage accepted in config (`Leverage` holds 655.35).
pub const MAX_LEVERAGE: f64 = 600.0;
/// Largest duplicate-detection window.
pub const MAX_DEDUPE_WINDOW: usize = 1 << 24;
/// Largest number of open positions (the reservation table is twice this, rounded up).
pub const MAX_OPEN_POSITIONS: u32 = 1 << 20;

/// One named risk profile (PolicyStore v2's `RiskProfile`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskProfileConfig {
    /// Highest leverage of the profile; orders use 0.8 × this (× the leverage multiplier).
    pub max_leverage: f64,
    /// Percent of the balance put at risk per trade.
    pub max_risk_pct_per_trade: f64,
    /// Largest position notional, USD.
    pub position_size_cap_usd: f64,
    /// Smallest signal confidence traded (0..=1).
    pub min_confidence: f64,
    /// Stop-loss distance, percent of entry price.
    pub stop_loss_pct: f64,
    /// Take-profit distance, percent of entry price.
    pub take_profit_pct: f64,
}

impl RiskProfileConfig {
    /// The SAFE profile: 5x, 1 %, 500 USD, confidence 0.7, SL 1.5 %, TP 3 %.
    pub fn safe() -> Self {
        Self::new(5.0, 1.0, 500.0, 0.7, 1.5, 3.0)
    }

    /// The NORMAL profile: 10x, 1.5 %, 1000 USD, confidence 0.6, SL 2 %, TP 5 %.
    pub fn normal() -> Self {
        Self::new(10.0, 1.5, 1000.0, 0.6, 2.0, 5.0)
    }

    /// The AGGRESSIVE profile: 20x, 2.5 %, 2500 USD, confidence 0.5, SL 3 %, TP 8 %.
    pub fn aggressive() -> Self {
        Self::new(20.0, 2.5, 2500.0, 0.5, 3.0, 8.0)
    }

    fn new(lev: f64, risk: f64, cap: f64, conf: f64, sl: f64, tp: f64) -> Self {
        RiskProfileConfig {
            max_leverage: lev,
            max_risk_pct_per_trade: risk,
            position_size_cap_usd: cap,
            min_confidence: conf,
            stop_loss_pct: sl,
            take_profit_pct: tp,
        }
    }

    /// Every problem, as `"<path>.<field>: ..."`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        range(&mut out, path, "max_leverage", self.max_leverage, Open(0.0), Closed(MAX_LEVERAGE));
        range(&mut out, path, "max_risk_pct_per_trade", self.max_risk_pct_per_trade, Open(0.0), Closed(100.0));
        range(&mut out, path, "position_size_cap_usd", self.position_size_cap_usd, Open(0.0), Closed(MAX_USD));
        range(&mut out, path, "min_confidence", self.min_confidence, Closed(0.0), Closed(1.0));
        range(&mut out, path, "stop_loss_pct", self.stop_loss_pct, Open(0.0), Open(100.0));
        range(&mut out, path, "take_profit_pct", self.take_profit_pct, Open(0.0), Closed(10_000.0));
        out
    }
}

impl Default for RiskProfileConfig {
    fn default() -> Self {
        Self::normal()
    }
}

/// RiskGuard's hard limits. A limit documented "0 = off" is not checked when zero.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Largest order notional, USD (5000).
    pub max_notional_per_order_usd: f64,
    /// Hard leverage cap, whatever profile and learners say (20).
    pub max_leverage: f64,
    /// Most open positions in total (10).
    pub max_open_positions: u32,
    /// Most open positions per symbol (3).
    pub max_positions_per_symbol: u32,
    /// Largest open notional per symbol, USD (5000).
    pub max_exposure_per_symbol_usd: f64,
    /// Largest open notional in total, USD (20000).
    pub max_exposure_total_usd: f64,
    /// Oldest usable reference price, ms (5000).
    pub price_max_age_ms: u64,
    /// Deny when the latest reference price is more than this percent away from its EMA
    /// (5; 0 = off).
    pub collar_pct: f64,
    /// Smoothing factor of the reference-price EMA, in (0, 1] (0.05).
    pub collar_ema_alpha: f64,
    /// Token-bucket refill rate, orders per second (100; 0 = off).
    pub max_orders_per_sec: f64,
    /// Token-bucket size (20).
    pub order_burst: u32,
    /// Realized loss per UTC day that stops new orders, USD (500; 0 = off).
    pub daily_loss_limit_usd: f64,
    /// Equity drawdown from its peak that stops new orders, percent (20; 0 = off).
    pub max_drawdown_pct: f64,
    /// A signal may be this many of its timeframes old (1.0; 0 = off).
    pub max_signal_age_ratio: f64,
    /// How far a signal's timestamp may lie in the future, ms (2000).
    pub future_tolerance_ms: u64,
    /// How many recent trace ids are remembered for duplicate detection; a power of two (4096).
    pub dedupe_window: usize,
    /// Opt-in allow-list: only these models may trade (`MODEL_NOT_ALLOWED` otherwise); empty =
    /// any model, including those ingress registers at run time. May name models not yet seen.
    pub allowed_models: Vec<String>,
    /// Initial weight per model (missing = 1.0); may name models not yet seen.
    pub model_weights: BTreeMap<String, f64>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            max_notional_per_order_usd: 5000.0,
            max_leverage: 20.0,
            max_open_positions: 10,
            max_positions_per_symbol: 3,
            max_exposure_per_symbol_usd: 5000.0,
            max_exposure_total_usd: 20_000.0,
            price_max_age_ms: 5000,
            collar_pct: 5.0,
            collar_ema_alpha: 0.05,
            max_orders_per_sec: 100.0,
            order_burst: 20,
            daily_loss_limit_usd: 500.0,
            max_drawdown_pct: 20.0,
            max_signal_age_ratio: 1.0,
            future_tolerance_ms: 2000,
            dedupe_window: 4096,
            allowed_models: Vec::new(),
            model_weights: BTreeMap::new(),
        }
    }
}

impl GuardConfig {
    /// Every problem, as `"<path>.<field>: ..."`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let p = path;
        range(&mut out, p, "max_notional_per_order_usd", self.max_notional_per_order_usd, Open(0.0), Closed(MAX_USD));
        range(&mut out, p, "max_leverage", self.max_leverage, Open(0.0), Closed(MAX_LEVERAGE));
        count(&mut out, p, "max_open_positions", self.max_open_positions, MAX_OPEN_POSITIONS);
        count(&mut out, p, "max_positions_per_symbol", self.max_positions_per_symbol, MAX_OPEN_POSITIONS);
        range(&mut out, p, "max_exposure_per_symbol_usd", self.max_exposure_per_symbol_usd, Open(0.0), Closed(MAX_USD));
        range(&mut out, p, "max_exposure_total_usd", self.max_exposure_total_usd, Open(0.0), Closed(MAX_USD));
        if self.price_max_age_ms == 0 || self.price_max_age_ms > 86_400_000 {
            out.push(format!("{p}.price_max_age_ms: must be in 1..=86400000, got {}", self.price_max_age_ms));
        }
        range(&mut out, p, "collar_pct", self.collar_pct, Closed(0.0), Closed(1000.0));
        range(&mut out, p, "collar_ema_alpha", self.collar_ema_alpha, Open(0.0), Closed(1.0));
        range(&mut out, p, "max_orders_per_sec", self.max_orders_per_sec, Closed(0.0), Closed(1.0e9));
        if self.max_orders_per_sec > 0.0 && self.order_burst == 0 {
            out.push(format!("{p}.order_burst: must be at least 1 when max_orders_per_sec is set"));
        }
        range(&mut out, p, "daily_loss_limit_usd", self.daily_loss_limit_usd, Closed(0.0), Closed(MAX_USD));
        range(&mut out, p, "max_drawdown_pct", self.max_drawdown_pct, Closed(0.0), Closed(100.0));
        range(&mut out, p, "max_signal_age_ratio", self.max_signal_age_ratio, Closed(0.0), Closed(1.0e6));
        if self.future_tolerance_ms > 86_400_000 {
            out.push(format!("{p}.future_tolerance_ms: must be at most 86400000, got {}", self.future_tolerance_ms));
        }
        let w = self.dedupe_window;
        if !w.is_power_of_two() || w > MAX_DEDUPE_WINDOW {
            out.push(format!("{p}.dedupe_window: must be a power of two in 1..={MAX_DEDUPE_WINDOW}, got {w}"));
        }
        for (i, m) in self.allowed_models.iter().enumerate() {
            if self.allowed_models[..i].contains(m) {
                out.push(format!("{p}.allowed_models: {m:?} is listed twice"));
            }
        }
        for (m, v) in &self.model_weights {
            range(&mut out, p, &format!("model_weights.{m}"), *v, Closed(0.0), Closed(1000.0));
        }
        out
    }
}

/// The `[risk]` section.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Account balance at start, USD (10000); realized PnL is added to it.
    pub initial_balance_usd: f64,
    /// The profile in force at start ("NORMAL").
    pub active_profile: String,
    /// Named profiles (SAFE / NORMAL / AGGRESSIVE by default). Giving any replaces all defaults.
    pub profiles: BTreeMap<String, RiskProfileConfig>,
    /// RiskGuard's hard limits.
    pub guard: GuardConfig,
}

impl Default for RiskConfig {
    fn default() -> Self {
        let profiles = [
            ("SAFE", RiskProfileConfig::safe()),
            ("NORMAL", RiskProfileConfig::normal()),
            ("AGGRESSIVE", RiskProfileConfig::aggressive()),
        ]
        .into_iter()
        .map(|(n, p)| (n.to_owned(), p))
        .collect();
        RiskConfig {
            initial_balance_usd: 10_000.0,
            active_profile: "NORMAL".to_owned(),
            profiles,
            guard: GuardConfig::default(),
        }
    }
}

impl RiskConfig {
    /// Every problem, as `"<path>.<field>: ..."` (`path` is the TOML prefix, e.g. `"risk"`).
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        range(&mut out, path, "initial_balance_usd", self.initial_balance_usd, Open(0.0), Closed(MAX_USD));
        if self.profiles.is_empty() {
            out.push(format!("{path}.profiles: at least one profile is required"));
        }
        if self.profiles.len() > usize::from(u8::MAX) {
            out.push(format!("{path}.profiles: at most {} profiles", u8::MAX));
        }
        if !self.profiles.contains_key(&self.active_profile) {
            out.push(format!("{path}.active_profile: {:?} names no profile in {path}.profiles", self.active_profile));
        }
        for (name, profile) in &self.profiles {
            out.extend(profile.validate(&format!("{path}.profiles.{name}")));
        }
        out.extend(self.guard.validate(&format!("{path}.guard")));
        out
    }

    /// Problems that need the catalog: model names in the guard that no signal could carry
    /// (models need not be configured: they register on first sight), and a catalog whose
    /// profile list is not [`profile_names`] of this config.
    pub fn validate_against(&self, catalog: &Catalog) -> Vec<String> {
        let mut out = Vec::new();
        let usable = |m: &str| tradeflow_core::is_valid_model_name(m.as_bytes());
        for m in self.guard.allowed_models.iter().filter(|m| !usable(m)) {
            out.push(format!("risk.guard.allowed_models: {m:?} is not a valid model name"));
        }
        for m in self.guard.model_weights.keys().filter(|m| !usable(m)) {
            out.push(format!("risk.guard.model_weights: {m:?} is not a valid model name"));
        }
        if catalog.profiles() != profile_names(self).as_slice() {
            out.push(format!(
                "risk.profiles: the catalog's profiles {:?} differ from the configured {:?}",
                catalog.profiles(),
                profile_names(self)
            ));
        }
        out
    }
}

/// The profile names in `ProfileIdx` order (the `BTreeMap` order of `cfg.profiles`): the list
/// the caller passes to `Catalog::try_new`.
pub fn profile_names(cfg: &RiskConfig) -> Vec<String> {
    cfg.profiles.keys().cloned().collect()
}

/// A range bound.
#[derive(Clone, Copy)]
enum Bound {
    Open(f64),
    Closed(f64),
}
use Bound::{Closed, Open};

fn range(out: &mut Vec<String>, path: &str, field: &str, v: f64, lo: Bound, hi: Bound) {
    let lo_ok = match lo {
        Open(l) => v > l,
        Closed(l) => v >= l,
    };
    let hi_ok = match hi {
        Open(h) => v < h,
        Closed(h) => v <= h,
    };
    if !v.is_finite() || !lo_ok || !hi_ok {
        let (lb, l) = match lo {
            Open(l) => ('(', l),
            Closed(l) => ('[', l),
        };
        let (hb, h) = match hi {
            Open(h) => (')', h),
            Closed(h) => (']', h),
        };
        out.push(format!("{path}.{field}: must be a finite number in {lb}{l}, {h}{hb}, got {v}"));
    }
}

fn count(out: &mut Vec<String>, path: &str, field: &str, v: u32, max: u32) {
    if v == 0 || v > max {
        out.push(format!("{path}.{field}: must be in 1..={max}, got {v}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(RiskConfig::default().validate("risk"), Vec::<String>::new());
        assert_eq!(profile_names(&RiskConfig::default()), ["AGGRESSIVE", "NORMAL", "SAFE"]);
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let mut c =
            RiskConfig { initial_balance_usd: f64::NAN, active_profile: "YOLO".into(), ..RiskConfig::default() };
        c.profiles.get_mut("SAFE").unwrap().min_confidence = 1.5;
        c.guard.dedupe_window = 1000;
        c.guard.collar_ema_alpha = 0.0;
        c.guard.order_burst = 0;
        c.guard.max_open_positions = 0;
        c.guard.allowed_models = vec!["a".into(), "a".into()];
        c.guard.model_weights.insert("a".into(), -1.0);
        let errs = c.validate("risk");
        let expect = [
            "risk.initial_balance_usd:",
            "risk.active_profile:",
            "risk.profiles.SAFE.min_confidence:",
            "risk.guard.dedupe_window:",
            "risk.guard.collar_ema_alpha:",
            "risk.guard.order_burst:",
            "risk.guard.max_open_positions:",
            "risk.guard.allowed_models:",
            "risk.guard.model_weights.a:",
        ];
        assert_eq!(errs.len(), expect.len(), "{errs:#?}");
        for e in expect {
            assert!(errs.iter().any(|x| x.starts_with(e)), "missing {e}: {errs:#?}");
        }
    }

    #[test]
    fn empty_profiles_are_rejected() {
        let mut c = RiskConfig::default();
        c.profiles.clear();
        let errs = c.validate("risk");
        assert!(errs.iter().any(|e| e.starts_with("risk.profiles:")), "{errs:?}");
        assert!(errs.iter().any(|e| e.starts_with("risk.active_profile:")), "{errs:?}");
    }
}
