//! Shared helpers for the whole-pipeline tests.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers: a failure must stop the test

pub mod redis;

use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use tradeflow::config::{CoreSpec, WaitStrategy};
use tradeflow::core::Side;
use tradeflow::core::{Event, EventKind, FillPurpose, TraceId};
use tradeflow::{Config, EventCopy, OperatorHandle, Pipeline, PipelineBuilder, SignalPublisher, SignalSpec};

/// The embedded default config made polite for a shared test machine: no pinning, no spinning,
/// no progress display.
pub fn test_config() -> Config {
    let mut cfg = Config::embedded_default().expect("embedded default config is valid");
    for t in &mut cfg.topology.threads {
        t.core = CoreSpec::None;
        if t.wait == WaitStrategy::Spin {
            t.wait = WaitStrategy::Yield;
        }
    }
    cfg.run.progress = false;
    cfg
}

/// Waits (up to 20 s) until `cond` holds.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until the pipeline has emitted at least `n` events of `kind`.
pub fn wait_count(p: &Pipeline, kind: EventKind, n: u64) {
    wait_until(&format!("{n} × {}", kind.name()), || p.progress().count(kind) >= n);
}

/// Every copy received so far.
pub fn drain(rx: &Receiver<EventCopy>) -> Vec<EventCopy> {
    rx.try_iter().collect()
}

/// Events grouped by trace id, in arrival order.
pub fn by_trace(events: &[EventCopy]) -> HashMap<TraceId, Vec<Event>> {
    let mut m: HashMap<TraceId, Vec<Event>> = HashMap::new();
    for c in events {
        m.entry(c.event.header().trace_id).or_default().push(c.event);
    }
    m
}

/// The kinds in a list of events.
pub fn kinds(evs: &[Event]) -> Vec<EventKind> {
    evs.iter().map(Event::kind).collect()
}

/// A temp file path unique to this test process.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tradeflow-test-{}-{name}", std::process::id()))
}

/// A started threaded pipeline fed by the in-process publisher, with a subscription to every
/// event copy, once the first reference prices are out.
pub struct Harness {
    /// The running pipeline.
    pub pipeline: Pipeline,
    /// Every event copy.
    pub events: Receiver<EventCopy>,
    /// The signal publisher (drop it to end the input).
    pub publisher: SignalPublisher,
    /// The operator handle.
    pub operator: OperatorHandle,
}

/// Starts `cfg` with a publisher and a subscription; waits for market ticks.
pub fn start_with_publisher(cfg: Config) -> Harness {
    let mut builder = PipelineBuilder::new(cfg).with_publisher();
    let events = builder.subscribe(1 << 16);
    let mut pipeline = builder.start().expect("pipeline starts");
    wait_count(&pipeline, EventKind::MarketTick, 10);
    let publisher = pipeline.take_publisher().expect("publisher requested");
    let operator = pipeline.take_operator().expect("operator handle");
    Harness { pipeline, events, publisher, operator }
}

/// Checks every signal of `ids` in `events`: it starts with `signal.generated`; denied ones
/// carry no order; approved ones go through execution request, entry and exit fills,
/// `position.opened` and `position.closed`, all with the signal's trace id and seq. Returns how
/// many reached `position.closed`. `what` prefixes failure messages.
pub fn check_chains(what: &str, events: &[EventCopy], ids: &[String]) -> u64 {
    let chains = by_trace(events);
    let mut closed = 0;
    for id in ids {
        let trace = TraceId::try_new(id).expect("test trace ids are valid");
        let chain = chains.get(&trace).unwrap_or_else(|| panic!("{what}: no events for {id}"));
        let k = kinds(chain);
        assert_eq!(k[0], EventKind::SignalGenerated, "{what} {id}: {k:?}");
        if k.contains(&EventKind::SignalDenied) {
            assert!(!k.contains(&EventKind::ExecutionRequested), "{what} {id}: denied and approved: {k:?}");
            continue;
        }
        for want in [
            EventKind::ExecutionRequested,
            EventKind::TradeExecuted,
            EventKind::PositionOpened,
            EventKind::TradeExitExecuted,
            EventKind::PositionClosed,
        ] {
            assert!(k.contains(&want), "{what} {id}: missing {}: {k:?}", want.name());
        }
        let fills: Vec<_> = chain.iter().filter_map(|e| e.fill().map(|t| (e.kind(), t.purpose))).collect();
        let want = [(EventKind::TradeExecuted, FillPurpose::Entry), (EventKind::TradeExitExecuted, FillPurpose::Exit)];
        assert_eq!(fills, want, "{what} {id}");
        // Every derived event carries the signal's origin and sequence.
        let seq = chain[0].header().seq;
        assert!(chain.iter().all(|e| e.header().seq == seq), "{what} {id}: seq changed along the chain");
        closed += 1;
    }
    closed
}

/// Publishes 20 signals (`<what>-000`…) into a pipeline on `cfg`, waits for the run to end, and
/// checks the run drained and every approved signal reached `position.closed` with its trace
/// id (at least 15 of 20, and as many as the report counts as trades).
pub fn signals_flow_to_position_closed(what: &str, cfg: Config) {
    let Harness { pipeline, events, mut publisher, .. } = start_with_publisher(cfg);
    let ids: Vec<String> = (0..20).map(|i| format!("{what}-{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let spec = SignalSpec::new("BTCUSDT", side, 0.9, "1h", "ensemble_v2").with_trace_id(id);
        publisher.publish_blocking(&spec).expect("valid signal");
    }
    drop(publisher);
    let report = pipeline.wait();
    assert!(report.drained, "{what}: shutdown did not drain");
    assert_eq!(report.signals(), 20, "{what}");
    let closed = check_chains(what, &drain(&events), &ids);
    assert!(closed >= 15, "{what}: only {closed} of 20 signals reached position.closed");
    assert_eq!(report.trades(), closed, "{what}");
}
