//! A signal flows through the threaded runtime to position.closed with the same trace id on
//! every derived event; sizing follows the reference formula; profile switches apply.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use tradeflow::core::{Event, EventKind, ExitReason, Side};
use tradeflow::SignalSpec;
use util::*;

#[test]
fn every_approved_signal_reaches_position_closed_with_its_trace_id() {
    signals_flow_to_position_closed("flow", test_config());
}

#[test]
fn sizing_follows_the_reference_formula_and_profile_switches_apply() {
    let cfg = test_config();
    let balance = cfg.risk.initial_balance_usd;
    let normal = cfg.risk.profiles["NORMAL"];
    let safe = cfg.risk.profiles["SAFE"];
    let Harness { pipeline: p, events: rx, mut publisher, mut operator } = start_with_publisher(cfg);
    publisher
        .publish_blocking(&SignalSpec::new("BTCUSDT", Side::Buy, 0.9, "1h", "ensemble_v2").with_trace_id("size-normal"))
        .unwrap();
    wait_count(&p, EventKind::ExecutionRequested, 1);
    operator.switch_profile("SAFE").unwrap();
    assert!(operator.switch_profile("NOPE").is_err());
    std::thread::sleep(std::time::Duration::from_millis(50));
    publisher
        .publish_blocking(&SignalSpec::new("ETHUSDT", Side::Buy, 0.9, "1h", "ensemble_v2").with_trace_id("size-safe"))
        .unwrap();
    wait_count(&p, EventKind::ExecutionRequested, 2);
    drop(publisher);
    let _ = p.wait();
    let events = drain(&rx);
    let req = |id: &str| {
        events
            .iter()
            .find_map(|c| match c.event {
                Event::ExecutionRequested(r) if r.header.trace_id.as_str() == id => Some(r),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no execution request for {id}"))
    };
    for (id, prof) in [("size-normal", &normal), ("size-safe", &safe)] {
        let r = req(id);
        let leverage = prof.max_leverage * 0.8;
        let formula = (balance * prof.max_risk_pct_per_trade / 100.0 * leverage).min(prof.position_size_cap_usd);
        let size = r.position_size_usd.to_f64();
        let one_step = r.ref_price.to_f64() * 0.001 + 1e-6;
        assert!(size <= formula + 1e-6 && size >= formula - one_step, "{id}: size {size} vs formula {formula}");
        assert!((r.leverage.to_f64() - leverage).abs() < 0.011, "{id}: leverage {} vs {leverage}", r.leverage.to_f64());
        assert!((f64::from(r.stop_loss_pct) - prof.stop_loss_pct).abs() < 1e-6);
    }
}

#[test]
fn shutdown_flattens_open_positions() {
    let mut cfg = test_config();
    cfg.position.max_hold_ms = 0;
    cfg.market.model = tradeflow_market::PriceModel::Fixed;
    let Harness { pipeline: p, events: rx, mut publisher, .. } = start_with_publisher(cfg);
    publisher
        .publish_blocking(&SignalSpec::new("BTCUSDT", Side::Sell, 0.9, "1h", "ensemble_v2").with_trace_id("flat-1"))
        .unwrap();
    wait_count(&p, EventKind::PositionOpened, 1);
    drop(publisher);
    let report = p.wait();
    assert!(report.drained, "shutdown did not drain");
    let closed: Vec<_> = drain(&rx)
        .into_iter()
        .filter_map(|c| if let Event::PositionClosed(c) = c.event { Some(c) } else { None })
        .collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].exit_reason, ExitReason::Shutdown);
    assert_eq!(report.trades(), 1);
}

/// The reference `trade.executed` schema's required fields.
const TRADE_EXECUTED_REQUIRED: [&str; 8] =
    ["symbol", "side", "entry_price", "position_size_usd", "leverage", "order_id", "trace_id", "timestamp"];

#[test]
fn event_log_has_trade_executed_for_entries_only_and_one_exit_event_per_close() {
    let mut cfg = test_config();
    cfg.ingress.synthetic.count = 2_000;
    cfg.ingress.synthetic.rate_per_sec = 2_000.0;
    let path = temp_path("fills.jsonl");
    let report =
        tradeflow::PipelineBuilder::new(cfg).events_out(path.display().to_string()).run_inline().expect("inline run");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of = |ty: &str| lines.iter().filter(|v| v["event_type"] == ty).map(|v| &v["payload"]).collect::<Vec<_>>();
    let (entries, exits, opened, closed) =
        (of("trade.executed"), of("trade.exit_executed"), of("position.opened"), of("position.closed"));
    assert!(!closed.is_empty(), "the run closed positions");
    assert_eq!(entries.len(), opened.len(), "one trade.executed per opened position");
    for p in &entries {
        for f in TRADE_EXECUTED_REQUIRED {
            assert!(!p[f].is_null(), "trade.executed lacks {f}: {p}");
        }
        assert!(p.get("exit_price").is_none(), "an exit in trade.executed: {p}");
    }
    assert_eq!(exits.len(), closed.len(), "one exit event per closed position");
    let trace = |p: &&serde_json::Value| p["trace_id"].as_str().unwrap().to_owned();
    let mut exit_traces: Vec<String> = exits.iter().map(trace).collect();
    let mut closed_traces: Vec<String> = closed.iter().map(trace).collect();
    exit_traces.sort();
    closed_traces.sort();
    assert_eq!(exit_traces, closed_traces, "each closed position has its own exit fill");
    for p in &exits {
        assert!(p["exit_price"].as_f64().is_some() && p["exit_reason"].is_string(), "{p}");
        assert!(p.get("entry_price").is_none(), "{p}");
    }
    assert_eq!(report.tally.count(EventKind::TradeExitExecuted), exits.len() as u64);
}
