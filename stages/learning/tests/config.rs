//! `[learning]` from TOML, validation and construction errors.

mod util;

use tradeflow_learning::{LearningConfig, LearningError, LearningStage};
use util::catalog;

#[test]
fn parses_every_table_and_defaults_the_rest() {
    let cfg: LearningConfig = toml::from_str(
        r#"
        [sizing]
        arms = [0.5, 1.0]
        risk_aversion = 0.1
        [meta]
        enabled = false
        [supervisor]
        window = 30
        disable_below_win_rate = 0.2
        [drift]
        lambda = 30.0
        [clm]
        min_trades = 40
        challengers = [{ challenger = "m2", incumbent = "m1" }]
        "#,
    )
    .expect("parses");
    assert_eq!(cfg.sizing.arms, vec![0.5, 1.0]);
    assert_eq!(cfg.sizing.learning_rate, 0.1, "default kept");
    assert!(!cfg.meta.enabled);
    assert_eq!(cfg.supervisor.disable_below_win_rate, Some(0.2));
    assert_eq!(cfg.drift.lambda, 30.0);
    assert_eq!(cfg.clm.challengers[0].challenger, "m2");
    assert!(cfg.validate("learning").is_empty());
    assert!(LearningStage::try_new(&cfg, catalog(&["m1", "m2"])).is_ok());
    let empty: LearningConfig = toml::from_str("").expect("parses");
    assert_eq!(empty, LearningConfig::default());
}

#[test]
fn rejects_unknown_fields() {
    for bad in ["bogus = 1", "[sizing]\nbogus = 1", "[clm]\nchallengers = [{ challenger = \"a\", x = \"b\" }]"] {
        assert!(toml::from_str::<LearningConfig>(bad).is_err(), "{bad}");
    }
}

#[test]
fn try_new_lists_every_problem_including_unknown_models() {
    let mut cfg = LearningConfig::default();
    cfg.drift.delta = -1.0;
    cfg.clm.challengers = vec![tradeflow_learning::ChallengerPair { challenger: "m9".into(), incumbent: "m1".into() }];
    let Err(LearningError::Config(errs)) = LearningStage::try_new(&cfg, catalog(&["m1"])) else {
        panic!("expected a config error");
    };
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("learning.drift.delta: "));
    assert_eq!(errs[1], "learning.clm.challengers[0].challenger: unknown model \"m9\"");
    let msg = LearningError::Config(errs).to_string();
    assert!(msg.contains("learning.drift.delta") && msg.contains("m9"), "{msg}");
}
