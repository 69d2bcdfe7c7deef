//! Immediate fills (latency 0): prices, rounding, commission, kill-switch rules, refusals.

mod util;

use tradeflow_core::{
    DenialCode, ErrorCode, Event, EventKind, ExitReason, FillPurpose, InstrumentIdx, Leverage, ModelIdx, Price, Qty,
    RecordingCtx, Side, Stage, StageId, TradeExecuted, TradingState, Usd,
};
use util::*;

fn only_fill(events: Vec<Event>) -> TradeExecuted {
    assert_eq!(events.len(), 1, "{events:?}");
    match events[0].fill() {
        Some(t) => *t,
        None => panic!("expected a fill, got {:?}", events[0]),
    }
}

#[test]
fn buy_fills_above_reference_rounded_up_to_tick_with_commission() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(5_000);
    let req = entry(7, Side::Buy, 40_000.05, 0.0125);
    gw.on_event(&Event::ExecutionRequested(req), &mut ctx);
    let t = only_fill(ctx.take());
    // 40000.05 × 1.0001 = 40004.050005 → next tick up 40004.1; qty 0.0125 → step 0.012.
    assert_eq!(t.fill_price, Price(4_000_410_000_000));
    assert_eq!(t.qty, Qty(1_200_000));
    // notional 480.0492 × 4 bps = 0.19201968
    assert_eq!(t.commission_usd, Usd(19_201_968));
    let expected_slip = (40_004.1 - 40_000.05) / 40_000.05 * 100.0;
    assert!((f64::from(t.slippage_pct) - expected_slip).abs() < 1e-6, "{}", t.slippage_pct);
    assert!(t.slippage_pct > 0.0);
    assert_eq!(t.purpose, FillPurpose::Entry);
    assert_eq!(t.order_id, 1);
    assert_eq!(t.header.trace_id, req.header.trace_id);
    assert_eq!(t.header.seq, 7);
    assert_eq!(t.header.ts_origin_ns, req.header.ts_origin_ns);
    assert_eq!(t.header.ts_emit_ns, 5_000);
    assert_eq!((t.confidence, t.stop_loss_pct, t.take_profit_pct), (0.8, 2.0, 3.0));
    assert_eq!((t.leverage, t.model, t.side), (Leverage(400), ModelIdx(1), Side::Buy));
}

#[test]
fn sell_fills_below_reference_rounded_down_to_tick() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Sell, 40_000.05, 0.0125)), &mut ctx);
    let t = only_fill(ctx.take());
    // 40000.05 × 0.9999 = 39996.049995 → tick down 39996.0
    assert_eq!(t.fill_price, px(39_996.0));
    assert!(t.slippage_pct > 0.0, "adverse for a sell is a lower price: {}", t.slippage_pct);
    // notional 479.952 × 4 bps = 0.1919808
    assert_eq!(t.commission_usd, Usd(19_198_080));
}

#[test]
fn zero_slippage_on_tick_fills_at_reference() {
    let mut cfg = config(0, 16);
    cfg.sim.slippage_bps = 0.0;
    cfg.sim.commission_bps = 0.0;
    let (mut gw, _) = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 100.0, 1.0)), &mut ctx);
    let t = only_fill(ctx.take());
    assert_eq!((t.fill_price, t.commission_usd, t.slippage_pct), (px(100.0), Usd::ZERO, 0.0));
}

#[test]
fn order_ids_count_from_one() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=3 {
        gw.on_event(&Event::ExecutionRequested(entry(seq, Side::Buy, 100.0, 1.0)), &mut ctx);
    }
    gw.on_event(&Event::ExitRequest(exit(1, Side::Sell, 100.0, 1.0, ExitReason::StopLoss)), &mut ctx);
    let ids: Vec<u64> = ctx.take().iter().map(|e| e.fill().map_or(0, |t| t.order_id)).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
}

fn assert_halted_rejection(events: &[Event], seq: u64) {
    assert_eq!(events.len(), 2, "{events:?}");
    let Event::OrderRejected(r) = events[0] else { panic!("{events:?}") };
    assert_eq!(
        (r.code, r.purpose, r.venue_code, r.header.seq),
        (DenialCode::GatewayHalted, FillPurpose::Entry, 0, seq)
    );
    assert_eq!(r.position_size_usd, Usd(100 * tradeflow_core::SCALE));
    let Event::SignalDenied(d) = events[1] else { panic!("{events:?}") };
    assert_eq!((d.code, d.source, d.header.seq), (DenialCode::GatewayHalted, StageId::Gateway, seq));
    assert_eq!(d.header.trace_id, r.header.trace_id);
}

#[test]
fn halted_or_reducing_entry_is_refused_but_exits_still_fill() {
    for state in [TradingState::Reducing, TradingState::Halted] {
        let (mut gw, kill) = stage(&config(0, 16));
        kill.escalate(state);
        let mut ctx = RecordingCtx::new(0);
        gw.on_event(&Event::ExecutionRequested(entry(3, Side::Buy, 100.0, 1.0)), &mut ctx);
        assert_halted_rejection(&ctx.take(), 3);

        gw.on_event(&Event::ExitRequest(exit(2, Side::Sell, 100.0, 1.0, ExitReason::KillSwitch)), &mut ctx);
        let t = only_fill(ctx.take());
        assert_eq!((t.purpose, t.exit_reason, t.side), (FillPurpose::Exit, ExitReason::KillSwitch, Side::Sell));
        assert_eq!((t.confidence, t.stop_loss_pct, t.take_profit_pct), (0.7, 0.0, 0.0));
        assert_eq!(t.order_id, 1, "the refused entry never became an order");
        let s = gw.stats();
        assert_eq!((s.orders, s.fills, s.exit_fills, s.rejects, s.halted_rejects), (1, 1, 1, 1, 1));
    }
}

#[test]
fn exit_fill_carries_the_reason() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    for reason in ExitReason::ALL {
        gw.on_event(&Event::ExitRequest(exit(9, Side::Buy, 100.0, 1.0, *reason)), &mut ctx);
        let ev = ctx.take();
        assert_eq!(ev[0].kind(), EventKind::TradeExitExecuted, "an exit fill is not a trade.executed");
        let t = only_fill(ev);
        assert_eq!((t.exit_reason, t.purpose), (*reason, FillPurpose::Exit));
        assert!(t.fill_price > px(100.0), "buying back a short slips up");
    }
}

#[test]
fn quantity_below_step_is_a_venue_rejection() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(4, Side::Buy, 100.0, 0.0009)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(ev.len(), 3, "{ev:?}");
    let Event::OrderRejected(r) = ev[0] else { panic!("{ev:?}") };
    assert_eq!((r.code, r.purpose), (DenialCode::VenueRejected, FillPurpose::Entry));
    let Event::SignalDenied(d) = ev[1] else { panic!("{ev:?}") };
    assert_eq!(d.code, DenialCode::VenueRejected);
    let Event::SystemEventError(e) = ev[2] else { panic!("{ev:?}") };
    assert_eq!(
        (e.code, e.component, e.event_kind),
        (ErrorCode::OrderRejected, StageId::Gateway, EventKind::ExecutionRequested)
    );
    assert_eq!(e.raw(), b"venue: quantity below minimum");
    assert_eq!(gw.stats().venue_rejects, 1);
}

#[test]
fn unknown_instrument_and_missing_price_are_refused() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    let mut req = exit(4, Side::Sell, 100.0, 1.0, ExitReason::MaxHold);
    req.header.instrument = InstrumentIdx(5);
    gw.on_event(&Event::ExitRequest(req), &mut ctx);
    let ev = ctx.take();
    assert_eq!(ev.len(), 2, "exits get no signal.denied: {ev:?}");
    assert!(
        matches!(ev[0], Event::OrderRejected(r) if r.purpose == FillPurpose::Exit && r.code == DenialCode::VenueRejected)
    );
    assert!(matches!(ev[1], Event::SystemEventError(e) if e.raw() == b"venue: unknown instrument"));

    let mut req = entry(5, Side::Buy, 100.0, 1.0);
    req.ref_price = Price::ZERO;
    gw.on_event(&Event::ExecutionRequested(req), &mut ctx);
    let ev = ctx.take();
    assert!(matches!(ev[2], Event::SystemEventError(e) if e.raw() == b"venue: no reference price"), "{ev:?}");
}

#[test]
fn stats_add_up_fees() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Sell, 40_000.05, 0.0125)), &mut ctx);
    gw.on_event(&Event::ExecutionRequested(entry(2, Side::Buy, 40_000.05, 0.0125)), &mut ctx);
    let s = gw.stats();
    assert_eq!((s.orders, s.fills, s.entry_fills, s.rejects), (2, 2, 2, 0));
    assert_eq!(s.fees_usd, Usd(19_198_080 + 19_201_968));
}

#[test]
fn ignores_other_events() {
    let (mut gw, _) = stage(&config(0, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&command(tradeflow_core::CommandKind::FlattenAll), &mut ctx);
    assert!(ctx.take().is_empty());
    assert_eq!(gw.id(), StageId::Gateway);
    assert_eq!(gw.poll(&mut ctx), 0);
    assert_eq!(gw.next_wakeup_ns(), None);
}
