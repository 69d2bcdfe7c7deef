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
