//! Closing: PnL net of both fees (exact fixed-point), position.closed fields, ExposureUpdate.

mod util;

use tradeflow_core::{
    Event, EventKind, ExitReason, Leverage, MarketCondition, ModelIdx, RecordingCtx, Side, Stage, Usd,
};
use tradeflow_position::PositionStats;
use util::*;

#[test]
fn long_pnl_is_net_of_entry_and_exit_fees() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(1_000 * MS);
    // 0.0125 BTC @ 40 000 = 500 USD notional; entry fee 0.2 (4 bps).
    st.on_event(&Event::TradeExecuted(entry(7, BTC, Side::Buy, 40_000.0, 0.0125, 0.2)), &mut ctx);
    st.on_event(&tick(BTC, 39_800.0, 1), &mut ctx); // worst: 0.5% adverse
    st.on_event(&tick(BTC, 41_300.0, 2), &mut ctx); // TP
    ctx.take();
    ctx.now_ns = 3_500 * MS;
    // Exit at 41 000, fee 41 000 × 0.0125 × 4 bps = 0.205.
    let fill = exit_fill(7, BTC, Side::Sell, 41_000.0, 0.0125, 0.205, ExitReason::TakeProfit);
    st.on_event(&Event::from(fill), &mut ctx);
    let ev = ctx.take();
    assert_eq!(kinds(&ev), [EventKind::PositionClosed, EventKind::ExposureUpdate]);
    let Event::PositionClosed(c) = ev[0] else { unreachable!() };
    // 12.5 gross − 0.2 − 0.205 = 12.095
    assert_eq!(c.pnl_usd, Usd(1_209_500_000));
    assert!((c.pnl_pct - 2.419).abs() < 1e-5, "{}", c.pnl_pct);
    assert_eq!((c.entry_price, c.exit_price, c.size_usd), (px(40_000.0), px(41_000.0), usd(500.0)));
    assert!((c.max_drawdown_pct - 0.5).abs() < 1e-6, "{}", c.max_drawdown_pct);
    assert_eq!((c.duration_ms, c.exit_reason, c.side), (2_500, ExitReason::TakeProfit, Side::Buy));
    assert_eq!((c.entry_confidence, c.model, c.leverage), (0.75, ModelIdx(1), Leverage(500)));
    assert_eq!(c.market_condition, MarketCondition::Bullish, "39 800 → 41 300 is an up move");
    assert_eq!((c.header.seq, c.header.trace_id.as_str(), c.header.ts_emit_ns), (7, "trace-7", 3_500 * MS));

    let Event::ExposureUpdate(x) = ev[1] else { unreachable!() };
    assert_eq!((x.closed, x.released_usd, x.realized_pnl_usd, x.header.seq), (true, usd(500.0), Usd(1_209_500_000), 7));
    assert_eq!(x.header.trace_id.as_str(), "trace-7");

    let s = st.stats();
    assert_eq!(
        s,
        PositionStats {
            opened: 1,
            closed: 1,
            wins: 1,
            losses: 0,
            realized_pnl_usd: Usd(1_209_500_000),
            open: 0,
            fees_usd: Usd(40_500_000),
            exits_requested: 1,
            ..PositionStats::default()
        }
    );
    assert_eq!(st.equity_usd(), usd(10_012.095));
}

#[test]
fn short_pnl_is_net_of_fees_and_can_lose() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    // 1.5 ETH short @ 2 000 = 3 000 notional, fee 1.2; bought back @ 2 100, fee 1.26.
    st.on_event(&Event::TradeExecuted(entry(3, ETH, Side::Sell, 2_000.0, 1.5, 1.2)), &mut ctx);
    st.on_event(&tick(ETH, 2_100.0, 1), &mut ctx);
    ctx.take();
    st.on_event(&Event::from(exit_fill(3, ETH, Side::Buy, 2_100.0, 1.5, 1.26, ExitReason::StopLoss)), &mut ctx);
    let ev = ctx.take();
    let Event::PositionClosed(c) = ev[0] else { panic!("{ev:?}") };
    // −150 gross − 1.2 − 1.26 = −152.46
    assert_eq!(c.pnl_usd, Usd(-15_246_000_000));
    assert!((c.pnl_pct + 5.082).abs() < 1e-5, "{}", c.pnl_pct);
    assert!((c.max_drawdown_pct - 5.0).abs() < 1e-6);
    assert_eq!((c.exit_reason, c.side, c.size_usd), (ExitReason::StopLoss, Side::Sell, usd(3_000.0)));
    let Event::ExposureUpdate(x) = ev[1] else { panic!("{ev:?}") };
    assert_eq!((x.realized_pnl_usd, x.released_usd), (Usd(-15_246_000_000), usd(3_000.0)));
    let s = st.stats();
    assert_eq!((s.wins, s.losses, s.closed, s.open), (0, 1, 1, 0));
    assert_eq!(s.fees_usd, usd(2.46));
}

#[test]
fn short_wins_when_price_falls() {
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(3, ETH, Side::Sell, 2_000.0, 1.5, 0.0)), &mut ctx);
    st.on_event(&Event::from(exit_fill(3, ETH, Side::Buy, 1_900.0, 1.5, 0.0, ExitReason::TakeProfit)), &mut ctx);
    let Event::PositionClosed(c) = ctx.take()[1] else { panic!() };
    assert_eq!(c.pnl_usd, usd(150.0));
    assert_eq!(c.market_condition, MarketCondition::Sideways, "no ticks, no trend");
    assert_eq!(st.stats().wins, 1);
}
