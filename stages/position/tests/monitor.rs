//! position.updated cadence and spreading; drawdown and exposure alerts once per crossing.

mod util;

use tradeflow_core::{AlertAction, AlertType, Event, EventKind, RecordingCtx, Severity, Side, Stage, StageId, Usd};
use tradeflow_position::PositionConfig;
use util::*;

fn updates(ev: &[Event]) -> Vec<tradeflow_core::PositionUpdated> {
    ev.iter().filter_map(|e| if let Event::PositionUpdated(u) = e { Some(*u) } else { None }).collect()
}

fn alerts(ev: &[Event]) -> Vec<tradeflow_core::RiskAlert> {
    ev.iter().filter_map(|e| if let Event::RiskAlert(a) = e { Some(*a) } else { None }).collect()
}

#[test]
fn updates_every_interval_with_unrealized_pnl() {
    let cfg = PositionConfig { update_interval_ms: 1_000, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    assert_eq!(st.next_wakeup_ns(), None, "no positions, no timer");
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    st.on_event(&Event::TradeExecuted(entry(2, ETH, Side::Sell, 2_000.0, 1.0, 0.0)), &mut ctx);
    ctx.take();
    assert_eq!(st.next_wakeup_ns(), Some(1_000 * MS));

    st.on_event(&tick(BTC, 40_400.0, 1), &mut ctx);
    ctx.now_ns = 999 * MS;
    assert_eq!(st.poll(&mut ctx), 0);
    ctx.now_ns = 1_000 * MS;
    assert_eq!(st.poll(&mut ctx), 2);
    let u = updates(&ctx.take());
    assert_eq!(u.len(), 2);
    assert_eq!((u[0].header.seq, u[0].mark_price, u[0].unrealized_pnl_usd), (1, px(40_400.0), usd(5.0)));
    assert!((u[0].unrealized_pnl_pct - 1.0).abs() < 1e-6);
    assert_eq!((u[1].header.seq, u[1].mark_price, u[1].unrealized_pnl_usd), (2, px(2_000.0), Usd::ZERO));
    assert_eq!(u[0].header.trace_id.as_str(), "trace-1");

    assert_eq!(st.next_wakeup_ns(), Some(2_000 * MS));
    ctx.now_ns = 1_500 * MS;
    assert_eq!(st.poll(&mut ctx), 0);
    // Polled late: the cadence holds (next at 3 000, not 3 100).
    ctx.now_ns = 2_100 * MS;
    assert_eq!(st.poll(&mut ctx), 2);
    assert_eq!(st.next_wakeup_ns(), Some(3_000 * MS));
    assert_eq!(st.stats().updates, 4);
}

#[test]
fn update_interval_zero_means_none() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    ctx.now_ns = 3_600_000 * MS;
    assert_eq!(st.poll(&mut ctx), 0);
    assert_eq!(st.next_wakeup_ns(), None);
}

#[test]
fn a_large_sweep_is_spread_over_polls() {
    let cfg = PositionConfig { update_interval_ms: 1_000, max_open_positions: 64, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=40 {
        st.on_event(&Event::TradeExecuted(entry(seq, BTC, Side::Buy, 100.0, 1.0, 0.0)), &mut ctx);
    }
    ctx.take();
    ctx.now_ns = 1_000 * MS;
    let budget = st.max_emits_per_call();
    let mut got = Vec::new();
    for expected in [budget, budget, 40 - 2 * budget] {
        assert_eq!(st.poll(&mut ctx), expected);
        got.extend(updates(&ctx.take()).iter().map(|u| u.header.seq));
    }
    assert_eq!(got, (1..=40).collect::<Vec<u64>>(), "each position once, oldest first");
    assert_eq!(st.poll(&mut ctx), 0);
    assert_eq!(st.next_wakeup_ns(), Some(2_000 * MS));
}

#[test]
fn a_position_closed_mid_sweep_is_skipped() {
    let cfg = PositionConfig { update_interval_ms: 1_000, max_open_positions: 64, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=20 {
        st.on_event(&Event::TradeExecuted(entry(seq, BTC, Side::Buy, 100.0, 1.0, 0.0)), &mut ctx);
    }
    ctx.now_ns = 1_000 * MS;
    st.poll(&mut ctx);
    ctx.take();
    let next = st.max_emits_per_call() as u64 + 1; // where the sweep stands
    let fill = exit_fill(next, BTC, Side::Sell, 100.0, 1.0, 0.0, tradeflow_core::ExitReason::Manual);
    st.on_event(&Event::from(fill), &mut ctx);
    ctx.take();
    st.poll(&mut ctx);
    let seqs: Vec<u64> = updates(&ctx.take()).iter().map(|u| u.header.seq).collect();
    assert_eq!(seqs, (next + 1..=20).collect::<Vec<u64>>());
}

#[test]
fn drawdown_alerts_fire_once_per_crossing() {
    let cfg = PositionConfig { initial_balance_usd: 10_000.0, max_exposure_usd: 1e9, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    // 1 BTC long: every 100 USD of price is 1% of equity.
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 1.0, 0.0)), &mut ctx);
    let cfg_ok = st.poll(&mut ctx);
    assert_eq!(cfg_ok, 0);
    ctx.take();

    let mut step = |price: f64, ctx: &mut RecordingCtx| {
        st.on_event(&tick(BTC, price, 1), ctx);
        ctx.take();
        st.poll(ctx);
        alerts(&ctx.take())
    };
    let a = step(39_400.0, &mut ctx); // −6%
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].alert_type, a[0].severity, a[0].action),
        (AlertType::DrawdownWarning, Severity::High, AlertAction::ReduceOnly)
    );
    assert!((a[0].observed - 6.0).abs() < 1e-9 && a[0].limit == 5.0);
    assert_eq!((a[0].source, a[0].open_positions, a[0].max_positions), (StageId::Position, 1, 4096));
    assert_eq!(a[0].header.trace_id.as_str(), "position-000001");
    assert!(step(39_300.0, &mut ctx).is_empty(), "still below: no repeat");
    let a = step(38_900.0, &mut ctx); // −11%
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].alert_type, a[0].severity, a[0].action),
        (AlertType::MaxDrawdownBreached, Severity::Critical, AlertAction::EmergencyStop)
    );
    assert!((f64::from(a[0].current_drawdown_pct) - 11.0).abs() < 1e-4);
    assert!(step(38_000.0, &mut ctx).is_empty());
    assert!(step(40_000.0, &mut ctx).is_empty(), "recovery re-arms");
    let a = step(38_800.0, &mut ctx); // −12% again: both cross again
    assert_eq!(
        a.iter().map(|a| a.alert_type).collect::<Vec<_>>(),
        [AlertType::DrawdownWarning, AlertType::MaxDrawdownBreached]
    );
    assert_eq!(st.stats().alerts, 4);
}

#[test]
fn exposure_alert_fires_once_per_crossing() {
    let cfg = PositionConfig { max_exposure_usd: 50_000.0, initial_balance_usd: 1e9, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 1.0, 0.0)), &mut ctx);
    st.poll(&mut ctx);
    assert!(alerts(&ctx.take()).is_empty());
    st.on_event(&Event::TradeExecuted(entry(2, ETH, Side::Sell, 2_000.0, 6.0, 0.0)), &mut ctx);
    st.poll(&mut ctx);
    let a = alerts(&ctx.take());
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].alert_type, a[0].severity, a[0].action),
        (AlertType::ExposureLimit, Severity::Medium, AlertAction::Logged)
    );
    assert_eq!((a[0].observed, a[0].limit), (52_000.0, 50_000.0));
    st.poll(&mut ctx);
    assert!(alerts(&ctx.take()).is_empty());
    assert_eq!(kinds(&ctx.take()), Vec::<EventKind>::new());
}
