//! The synthetic source: determinism, schedule-based pacing, limits, phases.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod util;

use tradeflow_core::{Event, Phase, SourceState, Stage};
use tradeflow_ingress::{IngressConfig, IngressStage, SourceKind, MAX_EMITS_PER_POLL};
use util::*;

fn synthetic(count: u64, rate: f64, seed: u64) -> IngressStage {
    let mut cfg = IngressConfig::default();
    cfg.synthetic.count = count;
    cfg.synthetic.rate_per_sec = rate;
    cfg.synthetic.seed = seed;
    IngressStage::try_new(&cfg, catalog(), SourceKind::Synthetic).unwrap()
}

fn signals(events: &[Event]) -> Vec<tradeflow_core::SignalGenerated> {
    events
        .iter()
        .map(|e| match e {
            Event::SignalGenerated(s) => *s,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let run = |seed| {
        let mut s = synthetic(500, 0.0, seed);
        run_to_end(&mut s, &mut ctx(42))
    };
    let a = run(42);
    assert_eq!(a.len(), 500);
    assert_eq!(a, run(42));
    let b = run(43);
    assert_ne!(signals(&a)[0].header.trace_id, signals(&b)[0].header.trace_id);
    let sig = signals(&a);
    for (i, s) in sig.iter().enumerate() {
        assert_eq!(s.header.seq, i as u64 + 1);
        assert!((0.5..=0.95).contains(&s.confidence));
        assert_eq!(s.signal_ts_us, (42 + 1_700_000_000_000_000_000) / 1000);
    }
    // Both instruments, both models and both sides appear.
    for pred in [
        |s: &tradeflow_core::SignalGenerated| s.header.instrument.0 == 1,
        |s: &tradeflow_core::SignalGenerated| s.model.0 == 1,
        |s: &tradeflow_core::SignalGenerated| s.side == tradeflow_core::Side::Sell,
    ] {
        assert!(sig.iter().any(pred) && !sig.iter().all(pred));
    }
}

#[test]
fn paced_signals_are_due_on_schedule_with_intended_origins() {
    let mut stage = synthetic(100, 1000.0, 1); // one per ms
    let mut c = ctx(10_000_000);
    assert_eq!(stage.next_wakeup_ns(), Some(0));
    assert_eq!(stage.poll(&mut c), 1, "signal 0 is due at the start");
    assert_eq!(stage.next_wakeup_ns(), Some(11_000_000));
    assert_eq!(stage.poll(&mut c), 0, "nothing more is due yet");
    c.now_ns = 13_500_000;
    assert_eq!(stage.poll(&mut c), 3);
    let origins: Vec<_> =
        c.take().iter().map(|e| (e.header().seq, e.header().ts_origin_ns, e.header().ts_emit_ns)).collect();
    assert_eq!(
        origins,
        [
            (1, 10_000_000, 10_000_000),
            (2, 11_000_000, 13_500_000),
            (3, 12_000_000, 13_500_000),
            (4, 13_000_000, 13_500_000)
        ]
    );
    assert_eq!(stage.next_wakeup_ns(), Some(14_000_000));
    // Far behind schedule: one poll emits at most the cap, the rest follow.
    c.now_ns = 10_000_000 + 60_000_000;
    assert_eq!(stage.poll(&mut c), MAX_EMITS_PER_POLL);
    let last = c.take().last().unwrap().header().ts_origin_ns;
    assert_eq!(last, 10_000_000 + (4 + MAX_EMITS_PER_POLL as u64 - 1) * 1_000_000);
    assert_eq!(stage.next_wakeup_ns(), Some(last + 1_000_000));
}

#[test]
fn unpaced_source_is_always_due_and_exhausts_at_count() {
    let mut stage = synthetic(40, 0.0, 1);
    let mut c = ctx(777);
    assert_eq!(stage.poll(&mut c), MAX_EMITS_PER_POLL);
    assert_eq!(stage.next_wakeup_ns(), Some(777));
    assert_eq!(stage.source_state(), SourceState::Active);
    assert_eq!(stage.poll(&mut c), 8);
    assert_eq!(stage.source_state(), SourceState::Exhausted);
    assert_eq!(stage.next_wakeup_ns(), None);
    assert_eq!(stage.poll(&mut c), 0);
    assert_eq!(stage.stats().produced, 40);
}

#[test]
fn zero_count_is_unbounded() {
    let mut stage = synthetic(0, 0.0, 1);
    let mut c = ctx(1);
    for _ in 0..100 {
        assert_eq!(stage.poll(&mut c), MAX_EMITS_PER_POLL);
    }
    assert_eq!(stage.source_state(), SourceState::Active);
    assert_eq!(c.take().last().unwrap().header().seq, 100 * MAX_EMITS_PER_POLL as u64);
}

#[test]
fn stops_producing_when_the_run_leaves_running() {
    for phase in [Phase::Draining, Phase::Flatten, Phase::Stopping] {
        let mut stage = synthetic(100, 0.0, 1);
        let mut c = ctx(1);
        assert!(stage.poll(&mut c) > 0);
        c.phase = phase;
        assert_eq!(stage.poll(&mut c), 0);
        assert_eq!(stage.source_state(), SourceState::Exhausted);
        assert_eq!(stage.next_wakeup_ns(), None);
    }
}

#[test]
fn config_subsets_and_validation_against_the_catalog() {
    let mut cfg = IngressConfig::default();
    cfg.synthetic.symbols = vec!["ETHUSDT".into()];
    cfg.synthetic.models = vec!["lstm_v1".into()];
    cfg.synthetic.count = 50;
    cfg.synthetic.rate_per_sec = 0.0;
    let mut stage = IngressStage::try_new(&cfg, catalog(), SourceKind::Synthetic).unwrap();
    for s in signals(&run_to_end(&mut stage, &mut ctx(1))) {
        assert_eq!((s.header.instrument.0, s.model.0), (1, 1));
    }
    cfg.synthetic.symbols.push("XRPUSDT".into());
    cfg.synthetic.models.push("nope".into());
    let err = IngressStage::try_new(&cfg, catalog(), SourceKind::Synthetic).unwrap_err().to_string();
    assert!(err.contains("ingress.synthetic.symbols: \"XRPUSDT\""), "{err}");
    assert!(err.contains("ingress.synthetic.models: \"nope\""), "{err}");
    let empty = std::sync::Arc::new(tradeflow_core::Catalog::default());
    assert!(IngressStage::try_new(&IngressConfig::default(), empty, SourceKind::Synthetic).is_err());
}

#[test]
fn duplicate_ratio_reuses_earlier_trace_ids() {
    let mut cfg = IngressConfig::default();
    cfg.synthetic.count = 1000;
    cfg.synthetic.rate_per_sec = 0.0;
    cfg.synthetic.duplicate_ratio = 0.1;
    let mut stage = IngressStage::try_new(&cfg, catalog(), SourceKind::Synthetic).unwrap();
    let sig = signals(&run_to_end(&mut stage, &mut ctx(1)));
    let unique: std::collections::HashSet<_> = sig.iter().map(|s| s.header.trace_id).collect();
    let dups = sig.len() - unique.len();
    assert!((50..150).contains(&dups), "{dups} duplicates of 1000 at ratio 0.1");
}

#[test]
fn source_kind_follows_the_config() {
    use tradeflow_ingress::IngressSource;
    let mut cfg = IngressConfig::default();
    assert!(matches!(SourceKind::from_config(&cfg, false), Ok(SourceKind::Synthetic)));
    cfg.source = IngressSource::File;
    assert!(matches!(SourceKind::from_config(&cfg, true), Ok(SourceKind::FileDirect)));
    assert!(matches!(SourceKind::from_config(&cfg, false), Ok(SourceKind::FileThreaded { .. })));
    cfg.file.path.clear();
    assert!(SourceKind::from_config(&cfg, true).is_err());
}
