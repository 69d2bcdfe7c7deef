//! `[control]` configuration.

/// `[control]`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// On a CRITICAL alert, also close every open position (`FLATTEN_ALL`, reason KILL_SWITCH).
    pub flatten_on_halt: bool,
    /// Length of the sliding error-rate window, ms (10..=3,600,000).
    pub error_window_ms: u64,
    /// Error rate (per second, over the window) that makes the system UNHEALTHY and raises a
    /// HIGH `ERROR_RATE` alert once per episode; finite, > 0.
    pub error_rate_alert_per_sec: f64,
    /// Error rate at or above which the system is DEGRADED; an error-rate episode ends when the
    /// rate falls below it. Finite, > 0, ≤ `error_rate_alert_per_sec`.
    pub degraded_error_rate_per_sec: f64,
    /// An unrecoverable error raises a CRITICAL `FATAL_ERROR` alert (once until the kill switch
    /// is reset).
    pub unrecoverable_is_critical: bool,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            flatten_on_halt: true,
            error_window_ms: 1000,
            error_rate_alert_per_sec: 100.0,
            degraded_error_rate_per_sec: 10.0,
            unrecoverable_is_critical: true,
        }
    }
}

impl ControlConfig {
    /// Every problem of the configuration, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !(10..=3_600_000).contains(&self.error_window_ms) {
            out.push(format!("{path}.error_window_ms: must be 10..=3600000, got {}", self.error_window_ms));
        }
        let rates = [
            ("error_rate_alert_per_sec", self.error_rate_alert_per_sec),
            ("degraded_error_rate_per_sec", self.degraded_error_rate_per_sec),
        ];
        for (field, v) in rates {
            if !v.is_finite() || v <= 0.0 {
                out.push(format!("{path}.{field}: must be a finite number > 0, got {v}"));
            }
        }
        if self.degraded_error_rate_per_sec > self.error_rate_alert_per_sec {
            out.push(format!(
                "{path}.degraded_error_rate_per_sec: must be <= error_rate_alert_per_sec ({})",
                self.error_rate_alert_per_sec
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
        assert!(ControlConfig::default().validate("control").is_empty());
    }

    #[test]
    fn reports_every_problem() {
        let c = ControlConfig {
            error_window_ms: 5,
            error_rate_alert_per_sec: f64::NAN,
            degraded_error_rate_per_sec: 0.0,
            ..ControlConfig::default()
        };
        let errs = c.validate("control");
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("control.error_window_ms: "));
        assert!(errs[1].starts_with("control.error_rate_alert_per_sec: "));
        assert!(errs[2].starts_with("control.degraded_error_rate_per_sec: must be a finite"));
        let c = ControlConfig { degraded_error_rate_per_sec: 200.0, ..ControlConfig::default() };
        assert_eq!(c.validate("c"), vec!["c.degraded_error_rate_per_sec: must be <= error_rate_alert_per_sec (100)"]);
    }
}
