//! `[position]` configuration.

use serde::Deserialize;

/// Largest position table accepted (slot indices are `u32`; the table is preallocated).
pub const MAX_TABLE: u32 = 1 << 22;

/// `[position]`: the position table, exit timing, trend filter and equity monitor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PositionConfig {
    /// Capacity of the position table (preallocated).
    pub max_open_positions: u32,
    /// Positions held this long are closed (`TIME`); 0 = no limit.
    pub max_hold_ms: u64,
    /// Interval of `position.updated` per open position; 0 = none.
    pub update_interval_ms: u64,
    /// After the venue refuses an exit, wait this long before asking again (0 = at once).
    /// Keeps a refusing exchange from being flooded with exit orders.
    pub exit_retry_ms: u64,
    /// Smoothing factor of the fast trend EMA, in (0, 1].
    pub trend_fast_alpha: f64,
    /// Smoothing factor of the slow trend EMA, in (0, fast).
    pub trend_slow_alpha: f64,
    /// Fast-vs-slow gap (percent of slow) inside which the market is SIDEWAYS.
    pub sideways_band_pct: f64,
    /// Starting equity of the drawdown monitor, USD.
    pub initial_balance_usd: f64,
    /// Drawdown that raises a HIGH `DRAWDOWN_WARNING` (REDUCE_ONLY), percent.
    pub drawdown_warning_pct: f64,
    /// Drawdown that raises a CRITICAL `MAX_DRAWDOWN_BREACHED` (EMERGENCY_STOP), percent.
    pub drawdown_critical_pct: f64,
    /// Open exposure (at mark) that raises a MEDIUM `EXPOSURE_LIMIT`, USD. Keep it below
    /// RiskGuard's `max_exposure_total_usd`, or it can hardly fire (see [`Self::warnings`]).
    pub max_exposure_usd: f64,
}

impl Default for PositionConfig {
    fn default() -> Self {
        PositionConfig {
            max_open_positions: 4096,
            max_hold_ms: 30_000,
            update_interval_ms: 1_000,
            exit_retry_ms: 250,
            trend_fast_alpha: 0.2,
            trend_slow_alpha: 0.02,
            sideways_band_pct: 0.05,
            initial_balance_usd: 10_000.0,
            drawdown_warning_pct: 5.0,
            drawdown_critical_pct: 10.0,
            // 90 % of the default RiskGuard total-exposure cap (20,000): a warning before the
            // guard starts denying.
            max_exposure_usd: 18_000.0,
        }
    }
}

/// Largest USD amount accepted (fixed-point range is ~9.2e10).
const MAX_USD: f64 = 1.0e10;

fn finite_in(v: f64, lo_exclusive: f64, hi_inclusive: f64) -> bool {
    v.is_finite() && v > lo_exclusive && v <= hi_inclusive
}

impl PositionConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        let mut check = |ok: bool, field: &str, what: &str| {
            if !ok {
                errs.push(format!("{path}.{field}: {what}"));
            }
        };
        check((1..=MAX_TABLE).contains(&self.max_open_positions), "max_open_positions", "must be in 1..=4194304");
        check(self.max_hold_ms <= 86_400_000 * 365, "max_hold_ms", "must be at most one year (0 = no limit)");
        check(self.exit_retry_ms <= 3_600_000, "exit_retry_ms", "must be at most one hour");
        check(self.update_interval_ms <= 86_400_000, "update_interval_ms", "must be at most one day (0 = off)");
        check(finite_in(self.trend_fast_alpha, 0.0, 1.0), "trend_fast_alpha", "must be a finite number in (0, 1]");
        check(
            finite_in(self.trend_slow_alpha, 0.0, 1.0) && self.trend_slow_alpha < self.trend_fast_alpha,
            "trend_slow_alpha",
            "must be a finite number in (0, 1] below trend_fast_alpha",
        );
        let band = self.sideways_band_pct;
        check(band.is_finite() && (0.0..=100.0).contains(&band), "sideways_band_pct", "must be in 0..=100");
        check(finite_in(self.initial_balance_usd, 0.0, MAX_USD), "initial_balance_usd", "must be in (0, 1e10]");
        check(finite_in(self.drawdown_warning_pct, 0.0, 100.0), "drawdown_warning_pct", "must be in (0, 100]");
        check(
            finite_in(self.drawdown_critical_pct, 0.0, 100.0) && self.drawdown_critical_pct > self.drawdown_warning_pct,
            "drawdown_critical_pct",
            "must be in (0, 100] and above drawdown_warning_pct",
        );
        check(finite_in(self.max_exposure_usd, 0.0, MAX_USD), "max_exposure_usd", "must be in (0, 1e10]");
        errs
    }

    /// Settings that are valid but contradict RiskGuard's `total_exposure_cap_usd`
    /// (`risk.guard.max_exposure_total_usd`), as `"<path>.<field>: …"`: an exposure alert at
    /// or above the cap can fire only once marks have risen past the cap on a book risk has
    /// already filled to it, so in practice never.
    pub fn warnings(&self, path: &str, total_exposure_cap_usd: f64) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_exposure_usd >= total_exposure_cap_usd {
            out.push(format!(
                "{path}.max_exposure_usd: {} is not below risk.guard.max_exposure_total_usd ({}), which denies new \
                 orders first: the EXPOSURE_LIMIT alert is unreachable unless prices rise {:.0}% over a full book; \
                 set it below the cap (e.g. {})",
                self.max_exposure_usd,
                total_exposure_cap_usd,
                (self.max_exposure_usd / total_exposure_cap_usd - 1.0) * 100.0,
                total_exposure_cap_usd * 0.9
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(PositionConfig::default().validate("position").is_empty());
    }

    #[test]
    fn an_exposure_alert_at_or_above_the_risk_cap_warns() {
        // The default RiskGuard total-exposure cap is 20,000.
        assert!(PositionConfig::default().warnings("position", 20_000.0).is_empty());
        for alert in [20_000.0, 60_000.0] {
            let cfg = PositionConfig { max_exposure_usd: alert, ..PositionConfig::default() };
            let w = cfg.warnings("position", 20_000.0);
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(w[0].starts_with("position.max_exposure_usd: ") && w[0].contains("unreachable"), "{w:?}");
        }
        let below = PositionConfig { max_exposure_usd: 45_000.0, ..PositionConfig::default() };
        assert!(below.warnings("position", 50_000.0).is_empty());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let cfg = PositionConfig {
            max_open_positions: 0,
            max_hold_ms: u64::MAX,
            update_interval_ms: u64::MAX,
            exit_retry_ms: u64::MAX,
            trend_fast_alpha: f64::NAN,
            trend_slow_alpha: 0.0,
            sideways_band_pct: -1.0,
            initial_balance_usd: f64::INFINITY,
            drawdown_warning_pct: 0.0,
            drawdown_critical_pct: 101.0,
            max_exposure_usd: -5.0,
        };
        let errs = cfg.validate("position");
        assert_eq!(errs.len(), 11, "{errs:#?}");
        assert!(errs.iter().all(|e| e.starts_with("position.")), "{errs:#?}");
    }

    #[test]
    fn ordering_constraints() {
        let cfg = PositionConfig {
            trend_slow_alpha: 0.3,
            drawdown_warning_pct: 10.0,
            drawdown_critical_pct: 5.0,
            ..PositionConfig::default()
        };
        let errs = cfg.validate("p");
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert!(errs[0].starts_with("p.trend_slow_alpha:"));
        assert!(errs[1].starts_with("p.drawdown_critical_pct:"));
        let zero_band = PositionConfig { sideways_band_pct: 0.0, ..PositionConfig::default() };
        assert!(zero_band.validate("p").is_empty());
    }
}
