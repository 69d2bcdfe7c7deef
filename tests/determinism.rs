//! Inline runs are reproducible; inline and threaded runs agree on every signal's risk
//! decision when prices are held fixed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use std::collections::BTreeMap;
use tradeflow::core::{DenialCode, Event};
use tradeflow::{Config, PipelineBuilder};
use util::*;

fn inline_log(cfg: Config, name: &str) -> Vec<u8> {
    let path = temp_path(name);
    let report = PipelineBuilder::new(cfg).events_out(path.display().to_string()).run_inline().expect("inline run");
    assert!(report.signals() > 0);
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(path);
    bytes
}

fn small(seed: u64) -> Config {
    let mut cfg = test_config();
    cfg.ingress.synthetic.count = 3_000;
    cfg.ingress.synthetic.rate_per_sec = 2_000.0;
    cfg.ingress.synthetic.seed = seed;
    cfg.ingress.synthetic.duplicate_ratio = 0.02;
    cfg
}

#[test]
fn same_seed_same_event_log_byte_for_byte() {
    let a = inline_log(small(11), "repro-a.jsonl");
    let b = inline_log(small(11), "repro-b.jsonl");
    assert!(a.len() > 10_000);
    assert!(a == b, "two inline runs with the same seed differ");
    let c = inline_log(small(12), "repro-c.jsonl");
    assert!(a != c, "a different seed gave the same log");
    let text = String::from_utf8(a).unwrap();
    for kind in [
        "signal.generated",
        "trade.execution_requested",
        "trade.executed",
        "trade.exit_executed",
        "position.opened",
        "position.closed",
        "signal.denied",
    ] {
        assert!(text.contains(&format!("\"event_type\":\"{kind}\"")), "no {kind} in the log");
    }
}

/// trace id → None (approved) or the denial code, for the signal.generated events of a run.
fn decisions(events: &[tradeflow::EventCopy]) -> BTreeMap<(u64, String), Option<DenialCode>> {
    let mut m = BTreeMap::new();
    for c in events {
        match &c.event {
            Event::ExecutionRequested(r) => {
                m.insert((r.header.seq, r.header.trace_id.to_string()), None);
            }
            Event::SignalDenied(d) => {
                m.insert((d.header.seq, d.header.trace_id.to_string()), Some(d.code));
            }
            _ => {}
        }
    }
    m
}

#[test]
fn inline_and_threaded_agree_on_risk_decisions_at_fixed_prices() {
    let mut cfg = small(5);
    cfg.market.model = tradeflow_market::PriceModel::Fixed;
    cfg.position.max_hold_ms = 0;
    cfg.risk.guard.max_orders_per_sec = 0.0;
    cfg.risk.guard.max_signal_age_ratio = 0.0;
    cfg.ingress.synthetic.count = 2_000;
    cfg.topology.copy_policy = tradeflow::config::CopyPolicy::Wait;

    let mut b = PipelineBuilder::new(cfg.clone());
    let rx = b.subscribe(1 << 20);
    b.run_inline().expect("inline run");
    let inline = decisions(&drain(&rx));

    let mut b = PipelineBuilder::new(cfg);
    let rx = b.subscribe(1 << 20);
    b.start().expect("threaded run").wait();
    let threaded = decisions(&drain(&rx));

    assert_eq!(inline.len(), 2_000);
    assert!(inline.values().any(Option::is_none), "nothing approved");
    assert!(inline.values().any(Option::is_some), "nothing denied");
    let diff: Vec<_> = inline.iter().filter(|(k, v)| threaded.get(*k) != Some(v)).take(5).collect();
    assert!(diff.is_empty(), "decisions differ (first 5, inline side): {diff:?}");
    assert_eq!(inline.len(), threaded.len());
}
