//! Config files: shipped configs parse, unknown fields are rejected, every problem is
//! reported at once, a missing core is a startup error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use tradeflow::config::{Config, CoreSpec};
use tradeflow::runtime::RuntimeError;
use tradeflow::PipelineBuilder;

#[test]
fn shipped_configs_are_valid() {
    let d = Config::embedded_default().unwrap();
    assert!(!d.instruments.is_empty());
    let b = Config::from_file(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/bench.toml"))).unwrap();
    assert!(b.topology.threads.iter().any(|t| matches!(t.core, CoreSpec::Core(_))));
}

#[test]
fn unknown_fields_and_sections_are_rejected_all_at_once() {
    let text =
        format!("{}\n[nonsense]\nx = 1\n", tradeflow::config::DEFAULT_TOML.replace("[run]", "[run]\nbogus_key = 3"));
    let err = Config::from_toml_str(&text).unwrap_err();
    let all = err.0.join("\n");
    assert!(all.contains("bogus_key"), "{all}");
    assert!(all.contains("nonsense"), "{all}");
}

#[test]
fn semantic_problems_are_all_listed() {
    let mut cfg = Config::embedded_default().unwrap();
    cfg.topology.ring_capacity = 1000;
    cfg.topology.threads[0].stages.push("nope".into());
    cfg.instruments[0].tick_size = -1.0;
    cfg.models.clear();
    let problems = cfg.validate();
    for want in ["ring_capacity", "nope", "tick_size", "models"] {
        assert!(problems.iter().any(|p| p.contains(want)), "no problem mentions {want}: {problems:?}");
    }
}

#[test]
fn a_missing_core_fails_startup_clearly() {
    let mut cfg = Config::embedded_default().unwrap();
    cfg.topology.threads[0].core = CoreSpec::Core(4096);
    match PipelineBuilder::new(cfg).start() {
        Err(RuntimeError::MissingCore { core, .. }) => assert_eq!(core, 4096),
        other => panic!("expected MissingCore, got {other:?}"),
    }
}
