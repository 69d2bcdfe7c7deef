//! The `[risk]` TOML section and construction errors.

mod util;

use std::sync::Arc;
use tradeflow_core::{Catalog, KillSwitch};
use tradeflow_risk::{profile_names, RiskConfig, RiskError, RiskStage};
use util::*;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Root {
    risk: RiskConfig,
}

#[test]
fn parses_a_toml_section_with_defaults_for_the_rest() {
    let text = r#"
        [risk]
        initial_balance_usd = 25000
        active_profile = "CALM"

        [risk.profiles.CALM]
        max_leverage = 3
        max_risk_pct_per_trade = 0.5

        [risk.guard]
        max_open_positions = 4
        allowed_models = ["m0"]
        model_weights = { m1 = 0.25 }
    "#;
    let cfg = toml::from_str::<Root>(text).unwrap().risk;
    assert_eq!(cfg.initial_balance_usd, 25_000.0);
    assert_eq!(profile_names(&cfg), ["CALM"]);
    let calm = cfg.profiles["CALM"];
    assert_eq!((calm.max_leverage, calm.position_size_cap_usd), (3.0, 1000.0));
    assert_eq!(cfg.guard.max_open_positions, 4);
    assert_eq!(cfg.guard.dedupe_window, 4096);
    assert_eq!(cfg.guard.model_weights["m1"], 0.25);
    assert!(cfg.validate("risk").is_empty());
    let cat = catalog(&cfg, default_instruments());
    assert!(cfg.validate_against(&cat).is_empty());
    assert!(RiskStage::try_new(&cfg, cat, Arc::new(KillSwitch::new())).is_ok());
}

#[test]
fn unknown_fields_are_rejected() {
    for text in ["[risk]\nbalance = 1", "[risk.guard]\nmax_orders = 1", "[risk.profiles.X]\nleverage = 1"] {
        let err = toml::from_str::<Root>(text).err().expect(text).to_string();
        assert!(err.contains("unknown field"), "{err}");
    }
}

#[test]
fn try_new_reports_every_problem() {
    let mut cfg = RiskConfig::default();
    cfg.guard.allowed_models = vec!["gh ost".into()];
    cfg.guard.model_weights.insert("phan\"tom".into(), 1.0);
    cfg.guard.collar_ema_alpha = 2.0;
    let cat = catalog(&RiskConfig::default(), default_instruments());
    let Err(RiskError::Config(problems)) = RiskStage::try_new(&cfg, cat.clone(), Arc::new(KillSwitch::new())) else {
        panic!("expected a config error");
    };
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("gh ost")));
    assert!(problems.iter().any(|p| p.contains("phan")));
    assert!(problems.iter().any(|p| p.starts_with("risk.guard.collar_ema_alpha")));
    // Models not configured (yet) are fine: they register when a signal names them.
    let mut cfg = RiskConfig::default();
    cfg.guard.allowed_models = vec!["ghost".into()];
    cfg.guard.model_weights.insert("phantom".into(), 0.5);
    assert_eq!(cfg.validate_against(&cat), Vec::<String>::new());
}

#[test]
fn catalog_profiles_must_follow_the_config() {
    let cfg = RiskConfig::default();
    let wrong = Arc::new(
        Catalog::try_new(default_instruments(), vec![], vec!["NORMAL".into(), "SAFE".into(), "AGGRESSIVE".into()])
            .unwrap(),
    );
    let problems = cfg.validate_against(&wrong);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("risk.profiles:"), "{problems:?}");
    let err = RiskStage::try_new(&cfg, wrong, Arc::new(KillSwitch::new())).unwrap_err();
    assert!(err.to_string().starts_with("invalid risk config: risk.profiles:"), "{err}");
}
