//! Settings of `[risk]` that are valid but contradict each other, so a limit can never be the
//! one that denies (a narrower limit always denies first). `check-config` prints them.

use crate::config::RiskConfig;
use crate::sizing::LEVERAGE_FRACTION;

impl RiskConfig {
    /// Limits that can never fire, as `"<path>.<field>: …"` (`path` is the TOML prefix, e.g.
    /// `"risk"`). Empty for the shipped configs.
    pub fn warnings(&self, path: &str) -> Vec<String> {
        let g = &self.guard;
        let p = format!("{path}.guard");
        let mut out = Vec::new();
        if g.max_exposure_per_symbol_usd > g.max_exposure_total_usd {
            out.push(format!(
                "{p}.max_exposure_per_symbol_usd: {} is above max_exposure_total_usd ({}): the per-symbol limit \
                 can never deny (MAX_EXPOSURE_TOTAL always comes first)",
                g.max_exposure_per_symbol_usd, g.max_exposure_total_usd
            ));
        }
        if g.max_positions_per_symbol > g.max_open_positions {
            out.push(format!(
                "{p}.max_positions_per_symbol: {} is above max_open_positions ({}): the per-symbol limit can never \
                 deny (MAX_POSITIONS_TOTAL always comes first)",
                g.max_positions_per_symbol, g.max_open_positions
            ));
        }
        for (name, prof) in &self.profiles {
            let leverage = prof.max_leverage * LEVERAGE_FRACTION;
            if leverage > g.max_leverage {
                out.push(format!(
                    "{path}.profiles.{name}.max_leverage: its orders use {leverage} × leverage, above \
                     {p}.max_leverage ({}): every order of the profile is denied MAX_LEVERAGE",
                    g.max_leverage
                ));
            }
            if prof.position_size_cap_usd > g.max_notional_per_order_usd {
                out.push(format!(
                    "{path}.profiles.{name}.position_size_cap_usd: {} is above {p}.max_notional_per_order_usd ({}): \
                     the cap never binds; orders above the per-order maximum are denied MAX_NOTIONAL instead",
                    prof.position_size_cap_usd, g.max_notional_per_order_usd
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::config::RiskConfig;

    #[test]
    fn defaults_have_no_contradictions() {
        assert_eq!(RiskConfig::default().warnings("risk"), Vec::<String>::new());
    }

    #[test]
    fn limits_that_cannot_fire_are_named() {
        let mut c = RiskConfig::default();
        c.guard.max_exposure_per_symbol_usd = c.guard.max_exposure_total_usd + 1.0;
        c.guard.max_positions_per_symbol = c.guard.max_open_positions + 1;
        c.guard.max_leverage = 10.0; // AGGRESSIVE orders use 0.8 × 20 = 16
        c.guard.max_notional_per_order_usd = 800.0; // NORMAL (1000) and AGGRESSIVE (2500) caps above it
        let w = c.warnings("risk");
        let expect = [
            "risk.guard.max_exposure_per_symbol_usd:",
            "risk.guard.max_positions_per_symbol:",
            "risk.profiles.AGGRESSIVE.max_leverage:",
            "risk.profiles.AGGRESSIVE.position_size_cap_usd:",
            "risk.profiles.NORMAL.position_size_cap_usd:",
        ];
        assert_eq!(w.len(), expect.len(), "{w:#?}");
        for e in expect {
            assert!(w.iter().any(|x| x.starts_with(e)), "missing {e}: {w:#?}");
        }
    }
}
