//! The shipped defaults contain no limit that cannot fire: the exposure alert sits below the
//! RiskGuard cap that stops new orders, and check-config's warnings find such contradictions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use tradeflow::core::{AlertType, DenialCode, Event, EventKind};
use tradeflow::{Config, PipelineBuilder};
use util::*;

/// Every warning of a config: the position and risk sections' contradictions.
fn warnings(cfg: &Config) -> Vec<String> {
    cfg.warnings()
}

#[test]
fn shipped_configs_have_no_unreachable_limits() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for name in ["default.toml", "paper.toml", "testnet.toml", "bench.toml"] {
        let cfg = Config::from_file(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(warnings(&cfg), Vec::<String>::new(), "{name}");
    }
    let mut old = Config::embedded_default().unwrap();
    old.position.max_exposure_usd = 60_000.0;
    let w = warnings(&old);
    assert!(w.len() == 1 && w[0].starts_with("position.max_exposure_usd: 60000 "), "{w:?}");
}

/// An inline run of the default config that fills the book up to RiskGuard's exposure cap:
/// the exposure alerts raised, and whether the cap (or the position count) denied orders.
fn fill_the_book(max_exposure_usd: Option<f64>) -> (usize, u64) {
    let mut cfg = test_config();
    cfg.ingress.synthetic.count = 4_000;
    cfg.ingress.synthetic.rate_per_sec = 2_000.0;
    cfg.position.max_hold_ms = 60_000;
    if let Some(v) = max_exposure_usd {
        cfg.position.max_exposure_usd = v;
    }
    let mut builder = PipelineBuilder::new(cfg);
    let rx = builder.subscribe(1 << 20);
    let report = builder.run_inline().expect("inline run");
    let alerts = rx
        .try_iter()
        .filter(|c| matches!(c.event, Event::RiskAlert(a) if a.alert_type == AlertType::ExposureLimit))
        .count();
    let capped = [DenialCode::MaxExposureTotal, DenialCode::MaxPositionsTotal]
        .iter()
        .map(|d| report.tally.denials[usize::from(d.code())])
        .sum();
    assert!(report.tally.count(EventKind::PositionOpened) > 0);
    (alerts, capped)
}

#[test]
fn the_default_exposure_alert_fires_before_the_guard_stops_new_orders() {
    let (alerts, capped) = fill_the_book(None);
    assert!(capped > 0, "the run reached RiskGuard's caps");
    assert!(alerts >= 1, "the default EXPOSURE_LIMIT alert fired");
    // The old default (60,000 over a 50,000 cap) never fires in the same run.
    let (alerts, capped) = fill_the_book(Some(60_000.0));
    assert!(capped > 0);
    assert_eq!(alerts, 0, "an alert above the cap is unreachable");
}
