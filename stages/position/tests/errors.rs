//! Error paths: table full, duplicate seq, unknown exit, rejected entry, config.

mod util;

use tradeflow_core::{
    DenialCode, ErrorCode, Event, EventKind, ExitReason, FillPurpose, InstrumentIdx, OrderRejected, RecordingCtx, Side,
    Stage, StageId, Usd,
};
use tradeflow_position::{PositionConfig, PositionError, PositionStage};
use util::*;

#[test]
fn table_full_reports_and_closes_the_untracked_fill_at_once() {
    let cfg = PositionConfig { max_open_positions: 2, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=2 {
        st.on_event(&Event::TradeExecuted(entry(seq, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    }
    ctx.take();
    st.on_event(&Event::TradeExecuted(entry(3, BTC, Side::Buy, 40_000.0, 0.0125, 0.2)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::SystemEventError, EventKind::ExitRequest]);
    let Event::SystemEventError(e) = ev[0] else { unreachable!() };
    assert_eq!(
        (e.code, e.component, e.event_kind, e.detail),
        (ErrorCode::PositionTableFull, StageId::Position, EventKind::TradeExecuted, 3)
    );
    assert_eq!(e.raw(), b"position table full");
    let Event::ExitRequest(x) = ev[1] else { unreachable!() };
    assert_eq!(
        (x.header.seq, x.side, x.qty, x.reason),
        (3, Side::Sell, entry(3, BTC, Side::Buy, 1.0, 0.0125, 0.0).qty, ExitReason::Manual)
    );
    assert_eq!(st.open_positions(), 2);

    // Its exit fill settles the PnL for risk without a position.closed or an error.
    st.on_event(&Event::from(exit_fill(3, BTC, Side::Sell, 40_100.0, 0.0125, 0.2, ExitReason::Manual)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::ExposureUpdate]);
    let Event::ExposureUpdate(u) = ev[0] else { unreachable!() };
    assert_eq!((u.closed, u.released_usd, u.realized_pnl_usd), (true, usd(500.0), usd(1.25 - 0.4)));
    let s = st.stats();
    assert_eq!((s.untracked, s.errors, s.opened, s.closed), (1, 1, 2, 0));
    assert_eq!(s.realized_pnl_usd, usd(0.85));
}

#[test]
fn rejected_exit_of_an_untracked_fill_is_retried_on_the_next_tick() {
    let cfg = PositionConfig { max_open_positions: 1, exit_retry_ms: 0, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    st.on_event(&Event::TradeExecuted(entry(2, BTC, Side::Sell, 40_000.0, 0.0125, 0.0)), &mut ctx);
    ctx.take();
    let rej = OrderRejected {
        header: header(2, BTC),
        position_size_usd: Usd::ZERO,
        venue_code: 0,
        code: DenialCode::VenueRejected,
        purpose: FillPurpose::Exit,
    };
    st.on_event(&Event::OrderRejected(rej), &mut ctx);
    st.on_event(&tick(BTC, 40_000.0, 1), &mut ctx);
    let x = exits(&ctx.take());
    assert_eq!(x.iter().map(|x| (x.header.seq, x.side)).collect::<Vec<_>>(), [(2, Side::Buy)]);
    st.on_event(&tick(BTC, 40_000.0, 2), &mut ctx);
    assert!(ctx.take().is_empty(), "once");
}

#[test]
fn a_duplicate_entry_seq_is_not_tracked_twice() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    ctx.take();
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::SystemEventError, EventKind::ExitRequest]);
    assert!(matches!(ev[0], Event::SystemEventError(e) if e.raw() == b"duplicate position seq"));
    assert_eq!(st.open_positions(), 1);
}

#[test]
fn exit_fill_for_an_unknown_position_is_an_error() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::from(exit_fill(42, BTC, Side::Sell, 40_000.0, 0.0125, 0.0, ExitReason::StopLoss)), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::SystemEventError]);
    let Event::SystemEventError(e) = ev[0] else { unreachable!() };
    assert_eq!(
        (e.code, e.detail, e.header.seq, e.header.trace_id.as_str()),
        (ErrorCode::UnknownPosition, 42, 42, "trace-42")
    );
    assert_eq!(e.event_kind, EventKind::TradeExitExecuted, "the error names the exit fill's event type");
    assert_eq!(st.stats().errors, 1);
}

#[test]
fn fill_for_an_unknown_instrument_is_an_error() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, InstrumentIdx(7), Side::Buy, 1.0, 1.0, 0.0)), &mut ctx);
    let ev = ctx.take();
    assert!(matches!(ev[..], [Event::SystemEventError(e)] if e.code == ErrorCode::UnknownSymbol), "{ev:?}");
}

#[test]
fn rejected_entry_releases_the_reservation() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    let rej = OrderRejected {
        header: header(9, BTC),
        position_size_usd: usd(500.0),
        venue_code: 0,
        code: DenialCode::GatewayHalted,
        purpose: FillPurpose::Entry,
    };
    st.on_event(&Event::OrderRejected(rej), &mut ctx);
    let ev = ctx.take();
    let [Event::ExposureUpdate(u)] = ev[..] else { panic!("{ev:?}") };
    assert_eq!((u.closed, u.released_usd, u.realized_pnl_usd, u.header.seq), (false, usd(500.0), Usd::ZERO, 9));
    assert_eq!(u.header.trace_id.as_str(), "trace-9");
    assert_eq!(st.id(), StageId::Position);
}

#[test]
fn config_parses_from_toml_and_is_validated() {
    let cfg: PositionConfig = toml::from_str("max_hold_ms = 0\nmax_exposure_usd = 1000.0\n").unwrap();
    assert_eq!(cfg, PositionConfig { max_hold_ms: 0, max_exposure_usd: 1_000.0, ..PositionConfig::default() });
    assert_eq!(PositionConfig::default().max_open_positions, 4096);
    assert!(toml::from_str::<PositionConfig>("max_hold_s = 1\n").is_err());
    let bad = PositionConfig { drawdown_warning_pct: 20.0, ..PositionConfig::default() };
    let err = PositionStage::try_new(&bad, catalog()).unwrap_err();
    let PositionError::InvalidConfig(errs) = &err;
    assert_eq!(errs.len(), 1);
    assert!(err.to_string().contains("position.drawdown_critical_pct:"), "{err}");
}

#[test]
fn a_refused_exit_is_asked_again_only_after_exit_retry_ms() {
    let cfg = PositionConfig { exit_retry_ms: 250, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.0125, 0.0)), &mut ctx);
    st.on_event(&flatten_all(), &mut ctx);
    st.poll(&mut ctx);
    assert_eq!(exits(&ctx.take()).len(), 1, "flatten asks for the exit");
    let rej = OrderRejected {
        header: header(1, BTC),
        position_size_usd: Usd::ZERO,
        venue_code: -2022,
        code: DenialCode::VenueRejected,
        purpose: FillPurpose::Exit,
    };
    st.on_event(&Event::OrderRejected(rej), &mut ctx);
    assert!(st.pending_work() > 0, "a waiting retry is work the run waits for");
    for now_ms in [1, 100, 249] {
        ctx.now_ns = now_ms * 1_000_000;
        st.on_event(&tick(BTC, 40_000.0, now_ms), &mut ctx);
        st.poll(&mut ctx);
        assert!(exits(&ctx.take()).is_empty(), "no exit before the retry delay ({now_ms} ms)");
    }
    assert_eq!(st.next_wakeup_ns(), Some(250_000_000));
    ctx.now_ns = 250_000_000;
    st.poll(&mut ctx);
    st.on_event(&flatten_all(), &mut ctx);
    st.poll(&mut ctx);
    assert_eq!(exits(&ctx.take()).len(), 1, "asked again after 250 ms");
}
