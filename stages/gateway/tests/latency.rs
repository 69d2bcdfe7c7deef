//! The sim venue's latency queue: due-time release, halts, CancelAll, queue full, budgets.

mod util;

use tradeflow_core::{
    CommandKind, DenialCode, ErrorCode, Event, EventKind, ExitReason, FillPurpose, RecordingCtx, Side, Stage,
    TradingState,
};
use tradeflow_gateway::REPORT_BUDGET;
use util::*;

const LAT_US: u64 = 500;
const LAT_NS: u64 = LAT_US * 1_000;

fn kinds(ev: &[Event]) -> Vec<EventKind> {
    ev.iter().map(Event::kind).collect()
}

#[test]
fn fill_is_released_by_poll_at_its_due_time() {
    let (mut gw, _) = stage(&config(LAT_US, 16));
    let mut ctx = RecordingCtx::new(1_000_000);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 100.0, 1.0)), &mut ctx);
    assert!(ctx.take().is_empty(), "nothing fills inside on_event");
    assert_eq!(gw.next_wakeup_ns(), Some(1_000_000 + LAT_NS));
    assert_eq!(gw.working_orders(), 1);
    assert_eq!(gw.pending_work(), 1, "the runtime must wait for it");

    ctx.now_ns = 1_000_000 + LAT_NS - 1;
    assert_eq!(gw.poll(&mut ctx), 0);
    assert!(ctx.take().is_empty());

    ctx.now_ns = 1_000_000 + LAT_NS;
    assert_eq!(gw.poll(&mut ctx), 1);
    let ev = ctx.take();
    let Event::TradeExecuted(t) = ev[0] else { panic!("{ev:?}") };
    assert_eq!((t.header.seq, t.header.ts_emit_ns, t.order_id), (1, 1_000_000 + LAT_NS, 1));
    assert_eq!(gw.next_wakeup_ns(), None);
    assert_eq!((gw.working_orders(), gw.pending_work()), (0, 0));
}

#[test]
fn fills_come_out_in_order_and_wakeup_tracks_the_earliest() {
    let (mut gw, _) = stage(&config(LAT_US, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 100.0, 1.0)), &mut ctx);
    ctx.now_ns = 100;
    gw.on_event(&Event::ExitRequest(exit(2, Side::Sell, 100.0, 1.0, ExitReason::TakeProfit)), &mut ctx);
    ctx.now_ns = LAT_NS;
    assert_eq!(gw.poll(&mut ctx), 1);
    assert_eq!(gw.next_wakeup_ns(), Some(100 + LAT_NS));
    ctx.now_ns = 100 + LAT_NS;
    assert_eq!(gw.poll(&mut ctx), 1);
    let seqs: Vec<u64> = ctx.take().iter().map(|e| e.header().seq).collect();
    assert_eq!(seqs, [1, 2]);
}

#[test]
fn entry_due_after_a_halt_is_cancelled_but_exit_fills() {
    let (mut gw, kill) = stage(&config(LAT_US, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 100.0, 1.0)), &mut ctx);
    gw.on_event(&Event::ExitRequest(exit(2, Side::Sell, 100.0, 1.0, ExitReason::StopLoss)), &mut ctx);
    kill.escalate(TradingState::Halted);
    ctx.now_ns = LAT_NS;
    assert_eq!(gw.poll(&mut ctx), 3);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::OrderRejected, EventKind::SignalDenied, EventKind::TradeExitExecuted]);
    let Event::OrderRejected(r) = ev[0] else { unreachable!() };
    assert_eq!((r.code, r.purpose, r.header.seq), (DenialCode::GatewayHalted, FillPurpose::Entry, 1));
    let Event::SignalDenied(d) = ev[1] else { unreachable!() };
    assert_eq!(d.code, DenialCode::GatewayHalted);
    let Event::TradeExitExecuted(t) = ev[2] else { unreachable!() };
    assert_eq!((t.purpose, t.header.seq), (FillPurpose::Exit, 2));
    assert_eq!(gw.stats().halted_rejects, 1);
}

#[test]
fn cancel_all_cancels_working_entries_only() {
    let (mut gw, _) = stage(&config(LAT_US, 16));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 100.0, 1.0)), &mut ctx);
    gw.on_event(&Event::ExitRequest(exit(2, Side::Sell, 100.0, 1.0, ExitReason::MaxHold)), &mut ctx);
    gw.on_event(&Event::ExecutionRequested(entry(3, Side::Sell, 100.0, 1.0)), &mut ctx);
    ctx.now_ns = 10;
    gw.on_event(&command(CommandKind::CancelAll), &mut ctx);
    let ev = ctx.take();
    assert_eq!(
        kinds(&ev),
        [EventKind::OrderRejected, EventKind::SignalDenied, EventKind::OrderRejected, EventKind::SignalDenied]
    );
    let seqs: Vec<u64> = ev.iter().map(|e| e.header().seq).collect();
    assert_eq!(seqs, [1, 1, 3, 3]);
    assert!(ev.iter().all(|e| match e {
        Event::OrderRejected(r) => r.code == DenialCode::GatewayHalted,
        Event::SignalDenied(d) => d.code == DenialCode::GatewayHalted,
        _ => false,
    }));
    assert_eq!(gw.stats().cancelled, 2);
    assert_eq!(gw.next_wakeup_ns(), Some(LAT_NS), "the exit is still working");
    ctx.now_ns = LAT_NS;
    assert_eq!(gw.poll(&mut ctx), 1);
    assert!(matches!(ctx.take()[0], Event::TradeExitExecuted(t) if t.purpose == FillPurpose::Exit));
}

#[test]
fn large_cancel_all_is_spread_over_polls() {
    let (mut gw, _) = stage(&config(LAT_US, 64));
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=10 {
        gw.on_event(&Event::ExecutionRequested(entry(seq, Side::Buy, 100.0, 1.0)), &mut ctx);
    }
    ctx.now_ns = 50;
    gw.on_event(&command(CommandKind::CancelAll), &mut ctx);
    assert_eq!(ctx.take().len(), REPORT_BUDGET);
    assert_eq!(gw.next_wakeup_ns(), Some(50), "the rest is due now");
    let mut total = REPORT_BUDGET;
    while gw.next_wakeup_ns().is_some() {
        let n = gw.poll(&mut ctx);
        assert!(n > 0 && n <= gw.max_emits_per_call());
        total += n;
    }
    assert_eq!(total, 20);
    assert_eq!(ctx.take().len(), 20 - REPORT_BUDGET);
    assert_eq!(gw.stats().cancelled, 10);
}

#[test]
fn due_burst_respects_the_emit_budget() {
    let (mut gw, _) = stage(&config(LAT_US, 64));
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=20 {
        gw.on_event(&Event::ExitRequest(exit(seq, Side::Sell, 100.0, 1.0, ExitReason::Shutdown)), &mut ctx);
    }
    ctx.now_ns = LAT_NS;
    let budget = REPORT_BUDGET;
    // A report may cost two events, so a call stops when fewer than two are left.
    let first = gw.poll(&mut ctx);
    assert!(first <= budget && first + 1 >= budget, "{first}");
    assert_eq!(ctx.take().len(), first);
    let mut rest = 0;
    while gw.next_wakeup_ns().is_some() {
        let n = gw.poll(&mut ctx);
        assert!(n > 0 && n <= budget);
        rest += n;
    }
    assert_eq!(first + rest, 20);
}

#[test]
fn full_queue_rejects_with_venue_rejected_and_an_error() {
    let (mut gw, _) = stage(&config(LAT_US, 2));
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 100.0, 1.0)), &mut ctx);
    gw.on_event(&Event::ExecutionRequested(entry(2, Side::Buy, 100.0, 1.0)), &mut ctx);
    gw.on_event(&Event::ExecutionRequested(entry(3, Side::Buy, 100.0, 1.0)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::OrderRejected, EventKind::SignalDenied, EventKind::SystemEventError]);
    let Event::OrderRejected(r) = ev[0] else { unreachable!() };
    assert_eq!((r.code, r.purpose, r.header.seq), (DenialCode::VenueRejected, FillPurpose::Entry, 3));
    let Event::SystemEventError(e) = ev[2] else { unreachable!() };
    assert_eq!((e.code, e.raw()), (ErrorCode::OrderRejected, &b"venue: pending order queue full"[..]));

    gw.on_event(&Event::ExitRequest(exit(1, Side::Sell, 100.0, 1.0, ExitReason::StopLoss)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::OrderRejected, EventKind::SystemEventError]);
    assert!(matches!(ev[0], Event::OrderRejected(r) if r.purpose == FillPurpose::Exit));

    // Cancelled-but-unreported orders still count: the queues never grow past max_pending.
    gw.on_event(&command(CommandKind::CancelAll), &mut ctx);
    ctx.take();
    assert_eq!(gw.working_orders(), 0);
    gw.on_event(&Event::ExecutionRequested(entry(4, Side::Buy, 100.0, 1.0)), &mut ctx);
    assert!(ctx.take().is_empty());
    assert_eq!(gw.stats().venue_rejects, 2);
}
