//! Every exit reason: TP, SL, TIME (tick and poll), KILL_SWITCH (FlattenAll), SHUTDOWN
//! (Phase::Flatten); exits requested once; retries after a rejected exit; bursts.

mod util;

use tradeflow_core::{
    DenialCode, Event, EventKind, ExitReason, FillPurpose, InstrumentIdx, Leverage, ModelIdx, OrderRejected, Phase,
    Qty, RecordingCtx, Side, Stage, Usd,
};
use tradeflow_position::PositionStage;
use util::*;

fn open(st: &mut PositionStage, ctx: &mut RecordingCtx, seq: u64, inst: InstrumentIdx, side: Side, price: f64) {
    st.on_event(&Event::TradeExecuted(entry(seq, inst, side, price, 0.0125, 0.0)), ctx);
    assert_eq!(kinds(&ctx.take()), [EventKind::PositionOpened]);
}

fn rejected_exit(seq: u64, inst: InstrumentIdx) -> Event {
    Event::OrderRejected(OrderRejected {
        header: header(seq, inst),
        position_size_usd: Usd::ZERO,
        venue_code: 0,
        code: DenialCode::VenueRejected,
        purpose: FillPurpose::Exit,
    })
}

#[test]
fn long_opens_with_sl_below_and_tp_above_and_exits_at_tp_once() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(7, BTC, Side::Buy, 40_000.0, 0.0125, 0.2)), &mut ctx);
    let ev = ctx.take();
    let Event::PositionOpened(o) = ev[0] else { panic!("{ev:?}") };
    assert_eq!((o.stop_loss_price, o.take_profit_price), (px(39_200.0), px(41_200.0)));
    assert_eq!((o.entry_price, o.qty, o.side, o.header.seq), (px(40_000.0), Qty(1_250_000), Side::Buy, 7));
    assert_eq!(o.header.trace_id.as_str(), "trace-7");

    st.on_event(&tick(BTC, 41_199.9, 10), &mut ctx);
    assert!(ctx.take().is_empty());
    ctx.now_ns = 20;
    st.on_event(&tick(BTC, 41_200.0, 15), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!(x.len(), 1);
    assert_eq!(
        (x[0].reason, x[0].side, x[0].qty, x[0].ref_price),
        (ExitReason::TakeProfit, Side::Sell, Qty(1_250_000), px(41_200.0))
    );
    assert_eq!((x[0].header.seq, x[0].header.trace_id.as_str(), x[0].header.ts_origin_ns), (7, "trace-7", 15));
    assert_eq!((x[0].confidence, x[0].model, x[0].leverage), (0.75, ModelIdx(1), Leverage(500)));

    st.on_event(&tick(BTC, 41_500.0, 30), &mut ctx);
    st.on_event(&tick(BTC, 30_000.0, 40), &mut ctx);
    assert!(ctx.take().is_empty(), "the exit is requested once");
    assert_eq!(st.stats().exits_requested, 1);
}

#[test]
fn short_stops_out_above_and_takes_profit_below() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, ETH, Side::Sell, 2_000.0, 1.0, 0.0)), &mut ctx);
    let Event::PositionOpened(o) = ctx.take()[0] else { panic!() };
    assert_eq!((o.stop_loss_price, o.take_profit_price), (px(2_040.0), px(1_940.0)));
    st.on_event(&Event::TradeExecuted(entry(2, ETH, Side::Sell, 2_000.0, 1.0, 0.0)), &mut ctx);
    ctx.take();

    st.on_event(&tick(ETH, 2_040.0, 1), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!(x.len(), 2);
    assert!(x.iter().all(|x| x.reason == ExitReason::StopLoss && x.side == Side::Buy));

    let mut st = stage(&quiet_config());
    st.on_event(&Event::TradeExecuted(entry(3, ETH, Side::Sell, 2_000.0, 1.0, 0.0)), &mut ctx);
    ctx.take();
    st.on_event(&tick(ETH, 1_940.0, 1), &mut ctx);
    assert_eq!(exits(&ctx.take())[0].reason, ExitReason::TakeProfit);
}

#[test]
fn ticks_on_another_instrument_do_not_touch_a_position() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    open(&mut st, &mut ctx, 1, BTC, Side::Buy, 40_000.0);
    st.on_event(&tick(ETH, 1.0, 1), &mut ctx);
    st.on_event(&tick(InstrumentIdx(9), 1.0, 1), &mut ctx);
    assert!(ctx.take().is_empty());
}

#[test]
fn max_hold_exits_on_a_tick_and_from_poll() {
    let cfg = tradeflow_position::PositionConfig { max_hold_ms: 30_000, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(5 * MS);
    open(&mut st, &mut ctx, 1, BTC, Side::Buy, 40_000.0);
    ctx.now_ns = 6 * MS;
    open(&mut st, &mut ctx, 2, ETH, Side::Buy, 2_000.0);
    assert_eq!(st.next_wakeup_ns(), Some(30_005 * MS));

    // A tick at the deadline closes the BTC position.
    ctx.now_ns = 30_005 * MS;
    st.on_event(&tick(BTC, 40_000.0, 1), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!((x.len(), x[0].reason, x[0].header.seq), (1, ExitReason::MaxHold, 1));
    assert_eq!(st.next_wakeup_ns(), Some(30_006 * MS), "the closing one no longer sets the wakeup");

    // No ETH ticks: poll finds the deadline.
    ctx.now_ns = 30_006 * MS - 1;
    assert_eq!(st.poll(&mut ctx), 0);
    ctx.now_ns = 30_006 * MS;
    assert_eq!(st.poll(&mut ctx), 1);
    let x = exits(&ctx.take());
    assert_eq!((x[0].reason, x[0].header.seq, x[0].side), (ExitReason::MaxHold, 2, Side::Sell));
    assert_eq!(st.poll(&mut ctx), 0, "once");
    assert_eq!(st.next_wakeup_ns(), None);
}

#[test]
fn flatten_all_exits_every_open_position_with_the_command_reason() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    open(&mut st, &mut ctx, 1, BTC, Side::Buy, 40_000.0);
    open(&mut st, &mut ctx, 2, ETH, Side::Sell, 2_000.0);
    open(&mut st, &mut ctx, 3, BTC, Side::Sell, 40_000.0);
    // Position 3 is already on its way out (its short stop at 40 800 is hit).
    st.on_event(&tick(BTC, 40_800.0, 1), &mut ctx);
    assert_eq!(exits(&ctx.take()).iter().map(|x| x.header.seq).collect::<Vec<_>>(), [3]);

    st.on_event(&flatten_all(), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!(
        x.iter().map(|x| (x.header.seq, x.reason)).collect::<Vec<_>>(),
        [(1, ExitReason::KillSwitch), (2, ExitReason::KillSwitch)]
    );
    assert_eq!(x[1].side, Side::Buy);
    assert_eq!(st.poll(&mut ctx), 0);
    assert_eq!(st.next_wakeup_ns(), None);

    // The fill of a flattened position closes it with the fill's reason.
    st.on_event(&Event::from(exit_fill(1, BTC, Side::Sell, 40_700.0, 0.0125, 0.0, ExitReason::KillSwitch)), &mut ctx);
    let ev = ctx.take();
    let Event::PositionClosed(c) = ev[0] else { panic!("{ev:?}") };
    assert_eq!(c.exit_reason, ExitReason::KillSwitch);

    // Position 3's stop-loss exit is rejected: the retry now uses the flatten's reason.
    st.on_event(&rejected_exit(3, BTC), &mut ctx);
    st.on_event(&tick(BTC, 40_700.0, 2), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!(x.iter().map(|x| (x.header.seq, x.reason)).collect::<Vec<_>>(), [(3, ExitReason::KillSwitch)]);
}

#[test]
fn flatten_phase_exits_every_position_once_with_shutdown() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    open(&mut st, &mut ctx, 1, BTC, Side::Buy, 40_000.0);
    open(&mut st, &mut ctx, 2, ETH, Side::Buy, 2_000.0);
    assert_eq!(st.poll(&mut ctx), 0, "nothing while running");
    ctx.phase = Phase::Flatten;
    assert_eq!(st.poll(&mut ctx), 2);
    let x = exits(&ctx.take());
    assert!(x.iter().all(|x| x.reason == ExitReason::Shutdown), "{x:?}");
    assert_eq!(st.poll(&mut ctx), 0);
    assert_eq!(st.poll(&mut ctx), 0);
    // A rejected exit is asked for again while flattening.
    st.on_event(&rejected_exit(2, ETH), &mut ctx);
    assert_eq!(st.poll(&mut ctx), 1);
    assert_eq!(exits(&ctx.take())[0].header.seq, 2);
}

#[test]
fn rejected_exit_is_retried_on_the_next_tick() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    open(&mut st, &mut ctx, 1, BTC, Side::Buy, 40_000.0);
    st.on_event(&tick(BTC, 39_000.0, 1), &mut ctx);
    assert_eq!(exits(&ctx.take())[0].reason, ExitReason::StopLoss);
    st.on_event(&rejected_exit(1, BTC), &mut ctx);
    assert!(ctx.take().is_empty(), "no immediate retry");
    assert_eq!(st.poll(&mut ctx), 0);
    st.on_event(&tick(BTC, 39_100.0, 2), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!((x.len(), x[0].reason, x[0].ref_price), (1, ExitReason::StopLoss, px(39_100.0)));
    assert_eq!(st.stats().exits_requested, 2);
}

#[test]
fn a_mass_stop_out_is_spread_over_calls_and_each_exit_sent_once() {
    let cfg = tradeflow_position::PositionConfig { max_open_positions: 64, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=40 {
        open(&mut st, &mut ctx, seq, BTC, Side::Buy, 40_000.0);
    }
    st.on_event(&tick(BTC, 39_000.0, 1), &mut ctx);
    let budget = st.max_emits_per_call();
    assert_eq!(exits(&ctx.take()).len(), budget);
    ctx.now_ns = 10;
    assert_eq!(st.next_wakeup_ns(), Some(0), "more are due now (the last time seen)");
    assert!(st.pending_work() > 0);
    let mut polls = 0;
    while st.next_wakeup_ns().is_some() {
        let n = st.poll(&mut ctx);
        assert!(n <= budget);
        polls += 1;
        assert!(polls < 10);
    }
    let mut seqs: Vec<u64> = exits(&ctx.take()).iter().map(|x| x.header.seq).collect();
    assert_eq!(seqs.len(), 40 - budget);
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 40 - budget);
    assert_eq!(st.stats().exits_requested, 40);
    assert_eq!(st.pending_work(), 0);
}

#[test]
fn a_large_flatten_is_spread_over_polls() {
    let cfg = tradeflow_position::PositionConfig { max_open_positions: 64, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=40 {
        open(&mut st, &mut ctx, seq, if seq % 2 == 0 { BTC } else { ETH }, Side::Buy, 100.0);
    }
    st.on_event(&flatten_all(), &mut ctx);
    let mut total = exits(&ctx.take()).len();
    assert_eq!(total, st.max_emits_per_call());
    while st.next_wakeup_ns().is_some() {
        total += st.poll(&mut ctx);
    }
    let x = exits(&ctx.take());
    assert_eq!(total, 40);
    assert!(x.iter().all(|x| x.reason == ExitReason::KillSwitch));
    // Oldest first.
    assert_eq!(x[0].header.seq, st.max_emits_per_call() as u64 + 1);
}
