//! `[gateway]` configuration.

use serde::Deserialize;

/// Names of the venues this build knows.
pub const KNOWN_VENUES: &[&str] = &["sim"];

/// `[gateway]`: which venue orders go to, and that venue's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// The venue: `"sim"` (in-process fills). Other names are rejected by [`GatewayConfig::validate`].
    pub venue: String,
    /// `[gateway.sim]`: the simulated venue.
    pub sim: SimVenueConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig { venue: "sim".to_owned(), sim: SimVenueConfig::default() }
    }
}

impl GatewayConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if !KNOWN_VENUES.contains(&self.venue.as_str()) {
            errs.push(format!(
                "{path}.venue: unknown venue {:?} (this build supports: {})",
                self.venue,
                KNOWN_VENUES.join(", ")
            ));
        }
        errs.extend(self.sim.validate(&format!("{path}.sim")));
        errs
    }
}

/// `[gateway.sim]`: fills at the reference price, moved adversely by a fixed slippage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimVenueConfig {
    /// Adverse price move applied to every fill, basis points (buys higher, sells lower).
    pub slippage_bps: f64,
    /// Commission on the filled notional, basis points (4.0 = Binance taker 0.04%).
    pub commission_bps: f64,
    /// Order-to-fill latency, µs. 0 fills inside `on_event`; otherwise fills are released by
    /// `poll` once due.
    pub latency_us: u64,
    /// Capacity of the queue of orders waiting for their fill (preallocated).
    pub max_pending: usize,
}

/// Largest accepted slippage (10%).
const MAX_SLIPPAGE_BPS: f64 = 1_000.0;
/// Largest accepted commission (1%).
const MAX_COMMISSION_BPS: f64 = 100.0;
/// Largest accepted latency (60 s).
const MAX_LATENCY_US: u64 = 60_000_000;
/// Largest accepted pending queue.
const MAX_PENDING: usize = 1 << 20;

impl Default for SimVenueConfig {
    fn default() -> Self {
        SimVenueConfig { slippage_bps: 1.0, commission_bps: 4.0, latency_us: 0, max_pending: 1024 }
    }
}

impl SimVenueConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if !(self.slippage_bps.is_finite() && (0.0..=MAX_SLIPPAGE_BPS).contains(&self.slippage_bps)) {
            errs.push(format!("{path}.slippage_bps: must be a finite number in 0..={MAX_SLIPPAGE_BPS}"));
        }
        if !(self.commission_bps.is_finite() && (0.0..=MAX_COMMISSION_BPS).contains(&self.commission_bps)) {
            errs.push(format!("{path}.commission_bps: must be a finite number in 0..={MAX_COMMISSION_BPS}"));
        }
        if self.latency_us > MAX_LATENCY_US {
            errs.push(format!("{path}.latency_us: must be at most {MAX_LATENCY_US} (60 s)"));
        }
        if !(1..=MAX_PENDING).contains(&self.max_pending) {
            errs.push(format!("{path}.max_pending: must be in 1..={MAX_PENDING}"));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(GatewayConfig::default().validate("gateway").is_empty());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let cfg = GatewayConfig {
            venue: "binance".into(),
            sim: SimVenueConfig { slippage_bps: f64::NAN, commission_bps: -1.0, latency_us: u64::MAX, max_pending: 0 },
        };
        let errs = cfg.validate("gateway");
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert!(errs[0].starts_with("gateway.venue: unknown venue \"binance\""), "{errs:?}");
        for field in ["slippage_bps", "commission_bps", "latency_us", "max_pending"] {
            assert!(errs.iter().any(|e| e.starts_with(&format!("gateway.sim.{field}: "))), "{field}: {errs:?}");
        }
    }
}
