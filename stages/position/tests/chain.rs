//! gateway → position → gateway → position, feeding each stage's output to the other:
//! entry fill → opened → tick past TP → exit request → exit fill → closed, one trace id.

mod util;

use std::sync::Arc;

use tradeflow_core::{
    Event, EventKind, ExecutionRequested, ExitReason, Header, KillSwitch, Leverage, ModelIdx, ProfileIdx, Qty,
    RecordingCtx, Side, Stage, TraceId, TradingState, Usd,
};
use tradeflow_gateway::{GatewayConfig, GatewayStage};
use util::*;

#[allow(clippy::unwrap_used)] // fixture: a bad literal should fail the test loudly
fn request(side: Side) -> ExecutionRequested {
    ExecutionRequested {
        header: Header::origin(11, TraceId::try_new("abc-123").unwrap(), BTC, 100),
        position_size_usd: usd(500.0),
        qty: Qty::from_f64(0.0125).unwrap(),
        ref_price: px(40_000.0),
        confidence: 0.9,
        trade_risk_pct: 1.0,
        stop_loss_pct: 2.0,
        take_profit_pct: 3.0,
        leverage: Leverage(400),
        model: ModelIdx(0),
        side,
        profile: ProfileIdx(0),
    }
}

/// Feeds `events` of the kinds `to` consumes into it; returns what it emitted.
fn feed<S: Stage>(to: &mut S, events: Vec<Event>, ctx: &mut RecordingCtx) -> Vec<Event> {
    let id = to.id();
    for ev in events.iter().filter(|e| e.kind().consumers().contains(&id)) {
        to.on_event(ev, ctx);
    }
    ctx.take()
}

#[test]
fn entry_to_close_through_both_stages_keeps_the_trace() {
    let kill = Arc::new(KillSwitch::new());
    let mut gw = GatewayStage::try_new(&GatewayConfig::default(), catalog(), kill).unwrap();
    let mut pos = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(1_000);

    let fills = feed(&mut gw, vec![Event::ExecutionRequested(request(Side::Buy))], &mut ctx);
    assert_eq!(kinds(&fills), [EventKind::TradeExecuted]);
    let Event::TradeExecuted(entry_fill) = fills[0] else { unreachable!() };
    assert_eq!(entry_fill.fill_price, px(40_004.0), "1 bp adverse");

    let opened = feed(&mut pos, fills, &mut ctx);
    let Event::PositionOpened(o) = opened[0] else { panic!("{opened:?}") };
    assert_eq!(o.take_profit_price, px(41_204.1), "40 004 × 1.03 = 41 204.12 → tick 41 204.1");

    ctx.now_ns = 2_000_000_000;
    let out = feed(&mut pos, vec![tick(BTC, 41_250.0, 1_999_000_000)], &mut ctx);
    assert_eq!(kinds(&out), [EventKind::ExitRequest]);
    let exit_fills = feed(&mut gw, out, &mut ctx);
    assert_eq!(kinds(&exit_fills), [EventKind::TradeExitExecuted], "an exit fill is not a trade.executed");
    let Event::TradeExitExecuted(xf) = exit_fills[0] else { unreachable!() };
    assert_eq!(
        (xf.exit_reason, xf.side, xf.fill_price, xf.order_id),
        (ExitReason::TakeProfit, Side::Sell, px(41_245.8), 2)
    );

    let closed = feed(&mut pos, exit_fills, &mut ctx);
    assert_eq!(kinds(&closed), [EventKind::PositionClosed, EventKind::ExposureUpdate]);
    let Event::PositionClosed(c) = closed[0] else { unreachable!() };
    // qty 0.0125 → step 0.012; gross (41 245.8 − 40 004) × 0.012 = 14.9016;
    // fees 480.048 × 4 bps + 494.9496 × 4 bps = 0.1920192 + 0.19797984 → net 14.51160096
    assert_eq!(c.pnl_usd, Usd(1_451_160_096));
    assert_eq!(c.size_usd, usd(480.048));
    assert_eq!((c.exit_reason, c.entry_confidence, c.duration_ms), (ExitReason::TakeProfit, 0.9, 1_999));

    let all = [&entry_fill.header, &o.header, &xf.header, &c.header, closed[1].header()];
    assert!(all.iter().all(|h| h.trace_id.as_str() == "abc-123" && h.seq == 11), "{all:?}");
}

#[test]
fn a_halted_entry_releases_the_reservation_and_exits_still_close() {
    let kill = Arc::new(KillSwitch::new());
    let mut gw = GatewayStage::try_new(&GatewayConfig::default(), catalog(), kill.clone()).unwrap();
    let mut pos = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    let fills = feed(&mut gw, vec![Event::ExecutionRequested(request(Side::Sell))], &mut ctx);
    feed(&mut pos, fills, &mut ctx);

    kill.escalate(TradingState::Halted);
    let mut second = request(Side::Buy);
    second.header.seq = 12;
    let out = feed(&mut gw, vec![Event::ExecutionRequested(second)], &mut ctx);
    assert_eq!(kinds(&out), [EventKind::OrderRejected, EventKind::SignalDenied]);
    let released = feed(&mut pos, out, &mut ctx);
    let [Event::ExposureUpdate(u)] = released[..] else { panic!("{released:?}") };
    assert_eq!((u.closed, u.released_usd, u.header.seq), (false, usd(500.0), 12));

    let exits = feed(&mut pos, vec![flatten_all()], &mut ctx);
    let fills = feed(&mut gw, exits, &mut ctx);
    let closed = feed(&mut pos, fills, &mut ctx);
    let Event::PositionClosed(c) = closed[0] else { panic!("{closed:?}") };
    assert_eq!((c.exit_reason, c.side, c.header.seq), (ExitReason::KillSwitch, Side::Sell, 11));
    assert_eq!(pos.open_positions(), 0);
}
