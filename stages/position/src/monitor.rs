//! The equity monitor: drawdown from peak equity and open exposure, each alert raised once per
//! crossing of its threshold and re-armed when the value falls back below it.

use tradeflow_core::{AlertAction, AlertType, Severity};

/// An alert the monitor wants raised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Alert {
    pub alert_type: AlertType,
    pub severity: Severity,
    pub action: AlertAction,
    /// Observed value (drawdown % or exposure USD).
    pub observed: f64,
    /// The threshold crossed.
    pub limit: f64,
}

/// Alerts of one check, at most one of each kind.
pub(crate) type Alerts = [Option<Alert>; 3];

/// A threshold that fires once per upward crossing.
#[derive(Clone, Copy, Debug, Default)]
struct Latch {
    above: bool,
}

impl Latch {
    /// True when `value` has just reached `limit` from below.
    fn crossed(&mut self, value: f64, limit: f64) -> bool {
        let above = value >= limit;
        let fired = above && !self.above;
        self.above = above;
        fired
    }
}

/// Drawdown and exposure watcher.
#[derive(Clone, Debug)]
pub(crate) struct EquityMonitor {
    peak_usd: f64,
    drawdown_pct: f64,
    warning_pct: f64,
    critical_pct: f64,
    max_exposure_usd: f64,
    warning: Latch,
    critical: Latch,
    exposure: Latch,
}

impl EquityMonitor {
    pub fn new(initial_usd: f64, warning_pct: f64, critical_pct: f64, max_exposure_usd: f64) -> EquityMonitor {
        EquityMonitor {
            peak_usd: initial_usd,
            drawdown_pct: 0.0,
            warning_pct,
            critical_pct,
            max_exposure_usd,
            warning: Latch::default(),
            critical: Latch::default(),
            exposure: Latch::default(),
        }
    }

    /// The drawdown at the last check, percent.
    pub fn drawdown_pct(&self) -> f64 {
        self.drawdown_pct
    }

    /// Takes the current equity and exposure; returns the alerts that just became due.
    pub fn check(&mut self, equity_usd: f64, exposure_usd: f64) -> Alerts {
        self.peak_usd = self.peak_usd.max(equity_usd);
        let dd =
            if self.peak_usd > 0.0 { ((self.peak_usd - equity_usd) / self.peak_usd * 100.0).max(0.0) } else { 0.0 };
        self.drawdown_pct = dd;
        let mut out: Alerts = [None; 3];
        if self.warning.crossed(dd, self.warning_pct) {
            out[0] = Some(Alert {
                alert_type: AlertType::DrawdownWarning,
                severity: Severity::High,
                action: AlertAction::ReduceOnly,
                observed: dd,
                limit: self.warning_pct,
            });
        }
        if self.critical.crossed(dd, self.critical_pct) {
            out[1] = Some(Alert {
                alert_type: AlertType::MaxDrawdownBreached,
                severity: Severity::Critical,
                action: AlertAction::EmergencyStop,
                observed: dd,
                limit: self.critical_pct,
            });
        }
        if self.exposure.crossed(exposure_usd, self.max_exposure_usd) {
            out[2] = Some(Alert {
                alert_type: AlertType::ExposureLimit,
                severity: Severity::Medium,
                action: AlertAction::Logged,
                observed: exposure_usd,
                limit: self.max_exposure_usd,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(a: Alerts) -> Vec<AlertType> {
        a.iter().flatten().map(|a| a.alert_type).collect()
    }

    #[test]
    fn each_threshold_fires_once_per_crossing() {
        let mut m = EquityMonitor::new(1_000.0, 5.0, 10.0, 500.0);
        assert!(types(m.check(1_000.0, 0.0)).is_empty());
        assert_eq!(types(m.check(940.0, 0.0)), [AlertType::DrawdownWarning]);
        assert!(types(m.check(930.0, 0.0)).is_empty());
        assert_eq!(types(m.check(890.0, 0.0)), [AlertType::MaxDrawdownBreached]);
        assert!(types(m.check(880.0, 0.0)).is_empty());
        assert!(types(m.check(990.0, 0.0)).is_empty(), "recovery re-arms silently");
        assert_eq!(types(m.check(800.0, 0.0)), [AlertType::DrawdownWarning, AlertType::MaxDrawdownBreached]);
        assert_eq!(types(m.check(800.0, 600.0)), [AlertType::ExposureLimit]);
        assert!(types(m.check(800.0, 700.0)).is_empty());
        assert!(types(m.check(800.0, 100.0)).is_empty());
        assert_eq!(types(m.check(800.0, 500.0)), [AlertType::ExposureLimit]);
    }

    #[test]
    fn drawdown_is_measured_from_the_peak() {
        let mut m = EquityMonitor::new(1_000.0, 5.0, 10.0, 500.0);
        m.check(2_000.0, 0.0);
        m.check(1_900.0, 0.0);
        assert!((m.drawdown_pct() - 5.0).abs() < 1e-9);
    }
}
