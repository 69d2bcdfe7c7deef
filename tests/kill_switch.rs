//! A CRITICAL risk.alert halts trading — no execution request leaves after it — until an
//! explicit reset; a HIGH alert moves to REDUCING.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use std::collections::HashSet;
use tradeflow::core::{DenialCode, Event, EventKind, Severity, Side, TradingState};
use tradeflow::SignalSpec;
use util::*;

#[test]
fn critical_alert_halts_until_reset() {
    let cfg = test_config();
    let Harness { pipeline: p, events: rx, mut publisher, mut operator } = start_with_publisher(cfg);
    let publish_batch = |publisher: &mut tradeflow::SignalPublisher, tag: &str| {
        for i in 0..5 {
            let id = format!("{tag}-{i}");
            let spec = SignalSpec::new("BTCUSDT", Side::Buy, 0.9, "1h", "ensemble_v2").with_trace_id(&id);
            publisher.publish_blocking(&spec).unwrap();
        }
    };
    publish_batch(&mut publisher, "before");
    wait_count(&p, EventKind::ExecutionRequested, 5);

    operator.raise_alert(Severity::Critical).unwrap();
    wait_until("kill switch HALTED", || p.kill_switch().state() == TradingState::Halted);
    publish_batch(&mut publisher, "halted");
    wait_count(&p, EventKind::SignalDenied, 5);
    assert_eq!(p.progress().count(EventKind::ExecutionRequested), 5, "an order was requested while HALTED");

    operator.reset_kill_switch().unwrap();
    wait_until("kill switch ACTIVE", || p.kill_switch().state() == TradingState::Active);
    publish_batch(&mut publisher, "after");
    wait_count(&p, EventKind::ExecutionRequested, 10);
    drop(publisher);
    let report = p.wait();
    assert!(report.drained, "shutdown did not drain");
    assert_eq!(report.trading_state, TradingState::Active);
    assert!(report.kill_trips >= 1);

    let events = drain(&rx);
    let halted: HashSet<String> = (0..5).map(|i| format!("halted-{i}")).collect();
    let mut denied_halted = 0;
    let mut alert_seen = false;
    for c in &events {
        match &c.event {
            Event::RiskAlert(a) if a.severity == Severity::Critical => alert_seen = true,
            Event::ExecutionRequested(r) => {
                assert!(!halted.contains(r.header.trace_id.as_str()), "order requested for {}", r.header.trace_id);
                assert!(
                    !(alert_seen && r.header.trace_id.as_str().starts_with("before")),
                    "pre-halt order after alert"
                );
            }
            Event::SignalDenied(d) if halted.contains(d.header.trace_id.as_str()) => {
                assert_eq!(d.code, DenialCode::KillSwitchHalted);
                denied_halted += 1;
            }
            _ => {}
        }
    }
    assert!(alert_seen, "the CRITICAL risk.alert was not published");
    assert_eq!(denied_halted, 5);
}

#[test]
fn high_alert_reduces_and_denies_new_positions() {
    let cfg = test_config();
    let Harness { pipeline: p, events: rx, mut publisher, mut operator } = start_with_publisher(cfg);
    operator.raise_alert(Severity::High).unwrap();
    wait_until("kill switch REDUCING", || p.kill_switch().state() == TradingState::Reducing);
    publisher
        .publish_blocking(&SignalSpec::new("BTCUSDT", Side::Buy, 0.9, "1h", "ensemble_v2").with_trace_id("reducing-1"))
        .unwrap();
    wait_count(&p, EventKind::SignalDenied, 1);
    drop(publisher);
    let report = p.wait();
    assert!(report.drained, "shutdown did not drain");
    assert_eq!(report.trading_state, TradingState::Reducing);
    let denied: Vec<_> = drain(&rx)
        .into_iter()
        .filter_map(|c| if let Event::SignalDenied(d) = c.event { Some(d.code) } else { None })
        .collect();
    assert_eq!(denied, vec![DenialCode::TradingReducing]);
}
