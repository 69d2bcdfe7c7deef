//! The same pipeline over every trading-ring transport (rtrb, crossbeam, disruptor): signals
//! reach position.closed with their trace ids, shutdown drains, and at fixed prices every
//! transport makes the same risk decision for every signal as rtrb.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use tradeflow::config::{CopyPolicy, TransportKind, DEFAULT_TOML};
use tradeflow::core::{DenialCode, Event};
use tradeflow::runtime::transport::{Crossbeam, Disruptor, Rtrb, Transport};
use tradeflow::{Config, EventCopy, PipelineBuilder, RunReport};
use util::*;

fn config_on(transport: TransportKind) -> Config {
    let mut cfg = test_config();
    cfg.topology.transport = transport;
    cfg
}

/// Publishes 20 signals and checks each approved one reaches position.closed with its trace id.
fn flow_on(transport: TransportKind) {
    signals_flow_to_position_closed(transport.name(), config_on(transport));
}

#[test]
fn rtrb_signals_flow_to_position_closed() {
    flow_on(TransportKind::Rtrb);
}

#[test]
fn crossbeam_signals_flow_to_position_closed() {
    flow_on(TransportKind::Crossbeam);
}

#[test]
fn disruptor_signals_flow_to_position_closed() {
    flow_on(TransportKind::Disruptor);
}

type Decisions = BTreeMap<(u64, String), Option<DenialCode>>;

/// (seq, trace id) → None (approved) or the denial code, and the number of position.opened,
/// read while the run goes on.
fn collect_decisions(rx: Receiver<EventCopy>) -> std::thread::JoinHandle<(Decisions, usize)> {
    std::thread::spawn(move || {
        let mut m = BTreeMap::new();
        let mut opened = 0;
        for c in rx.iter() {
            match &c.event {
                Event::PositionOpened(_) => opened += 1,
                Event::ExecutionRequested(r) => {
                    m.insert((r.header.seq, r.header.trace_id.to_string()), None);
                }
                Event::SignalDenied(d) => {
                    m.insert((d.header.seq, d.header.trace_id.to_string()), Some(d.code));
                }
                _ => {}
            }
        }
        (m, opened)
    })
}

/// How a synthetic run is driven.
#[derive(Clone, Copy)]
struct Load {
    signals: u64,
    rate_per_sec: f64,
    ring_capacity: usize,
}

/// A synthetic run at fixed prices, with every time-dependent check off (as in
/// tests/determinism.rs), so decisions depend on the signals' order only. Position and exposure
/// limits are opened so that most signals are approved and go all the way to an open position
/// (otherwise the limits deny nearly every signal after the first 50). Returns the decisions
/// and the report after checking that nothing was lost.
fn synthetic_run(transport: TransportKind, load: Load) -> (Decisions, RunReport) {
    let mut cfg = config_on(transport);
    cfg.ingress.synthetic.count = load.signals;
    cfg.ingress.synthetic.rate_per_sec = load.rate_per_sec;
    cfg.ingress.synthetic.seed = 5;
    cfg.ingress.synthetic.duplicate_ratio = 0.02;
    cfg.market.model = tradeflow_market::PriceModel::Fixed;
    cfg.position.max_hold_ms = 0;
    cfg.risk.guard.max_orders_per_sec = 0.0;
    cfg.risk.guard.max_signal_age_ratio = 0.0;
    cfg.topology.copy_policy = CopyPolicy::Wait;
    cfg.topology.ring_capacity = load.ring_capacity;
    open_position_limits(&mut cfg);
    let mut b = PipelineBuilder::new(cfg);
    let collector = collect_decisions(b.subscribe(1 << 16));
    let report = b.start().expect("threaded run").wait();
    let name = transport.name();
    assert!(report.drained, "{name}: shutdown did not drain");
    assert_eq!(report.signals(), load.signals, "{name}");
    let (decisions, opened) = collector.join().expect("collector thread");
    assert_eq!(decisions.len() as u64, load.signals, "{name}: a decision per signal");
    let approved = decisions.values().filter(|d| d.is_none()).count();
    assert_eq!(opened, approved, "{name}: every approved signal opens a position");
    (decisions, report)
}

const PACED: Load = Load { signals: 20_000, rate_per_sec: 20_000.0, ring_capacity: 4096 };

fn open_position_limits(cfg: &mut Config) {
    let guard = &mut cfg.risk.guard;
    guard.max_open_positions = 32_768;
    guard.max_positions_per_symbol = 32_768;
    guard.max_exposure_per_symbol_usd = 1e10;
    guard.max_exposure_total_usd = 1e10;
    guard.max_drawdown_pct = 0.0;
    guard.daily_loss_limit_usd = 0.0;
    cfg.position.max_open_positions = 32_768;
    cfg.position.update_interval_ms = 0;
    cfg.position.drawdown_warning_pct = 99.0;
    cfg.position.drawdown_critical_pct = 100.0;
    cfg.position.max_exposure_usd = 1e10;
}

#[test]
fn every_transport_makes_the_same_risk_decisions_as_rtrb() {
    let (rtrb, _) = synthetic_run(TransportKind::Rtrb, PACED);
    assert!(rtrb.values().filter(|d| d.is_none()).count() > 10_000, "too few approved to compare");
    assert!(rtrb.values().any(Option::is_some), "nothing denied");
    for transport in [TransportKind::Crossbeam, TransportKind::Disruptor] {
        let (other, _) = synthetic_run(transport, PACED);
        let name = transport.name();
        let diff: Vec<_> = rtrb.iter().filter(|(k, v)| other.get(*k) != Some(v)).take(5).collect();
        assert!(diff.is_empty(), "{name}: decisions differ from rtrb (first 5, rtrb side): {diff:?}");
    }
}

#[test]
fn tiny_rings_overflow_and_lose_nothing_on_every_transport() {
    let burst = Load { signals: 3_000, rate_per_sec: 0.0, ring_capacity: 4 };
    let (paced, _) = synthetic_run(TransportKind::Rtrb, Load { ring_capacity: 4096, rate_per_sec: 3_000.0, ..burst });
    for transport in TransportKind::ALL {
        let name = transport.name();
        let (decisions, report) = synthetic_run(transport, burst);
        assert!(report.tally.overflowed > 0, "{name}: 4-slot rings never overflowed");
        // Overflow keeps per-ring FIFO order, so duplicates are still caught on the same copy.
        assert!(decisions == paced, "{name}: decisions under backpressure differ from a paced rtrb run");
    }
}

#[test]
fn transport_is_read_from_config_and_names_match() {
    assert_eq!(Config::embedded_default().unwrap().topology.transport, TransportKind::Rtrb);
    assert!(DEFAULT_TOML.contains("transport = \"rtrb\""));
    for kind in TransportKind::ALL {
        let text = DEFAULT_TOML.replace("transport = \"rtrb\"", &format!("transport = \"{}\"", kind.name()));
        assert_eq!(Config::from_toml_str(&text).unwrap().topology.transport, kind);
    }
    let bad = DEFAULT_TOML.replace("transport = \"rtrb\"", "transport = \"carrier-pigeon\"");
    let errors = Config::from_toml_str(&bad).unwrap_err();
    assert!(errors.0.iter().any(|e| e.starts_with("topology:")), "{errors}");
    let names: Vec<_> = TransportKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names, [Rtrb::NAME, Crossbeam::NAME, Disruptor::NAME]);
}
