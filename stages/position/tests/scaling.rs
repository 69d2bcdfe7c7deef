//! Many open positions on one instrument: ticks that trigger nothing emit nothing, and (in the
//! ignored timing test) their cost does not grow with the number of open positions.

mod util;

use std::time::Instant;

use tradeflow_core::{Event, EventKind, RecordingCtx, Side, Stage};
use tradeflow_position::{PositionConfig, PositionStage};
use util::*;

const OPEN: u64 = 100_000;
const TICKS: u64 = 10_000;

/// A stage with `OPEN` positions on BTC (alternating sides, SL 2% / TP 3% around 40,000).
fn loaded() -> (PositionStage, RecordingCtx) {
    let cfg = PositionConfig { max_open_positions: OPEN as u32, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(0);
    for seq in 1..=OPEN {
        let side = if seq % 2 == 0 { Side::Buy } else { Side::Sell };
        st.on_event(&Event::TradeExecuted(entry(seq, BTC, side, 40_000.0, 0.001, 0.0)), &mut ctx);
        if seq % 4096 == 0 {
            assert!(ctx.take().iter().all(|e| e.kind() == EventKind::PositionOpened));
        }
    }
    assert!(ctx.take().iter().all(|e| e.kind() == EventKind::PositionOpened));
    assert_eq!(st.open_positions(), OPEN as usize);
    (st, ctx)
}

/// Runs `TICKS` ticks inside the SL/TP band (39,600 .. 40,400); returns the events emitted.
fn quiet_ticks(st: &mut PositionStage, ctx: &mut RecordingCtx) -> usize {
    let mut emitted = 0;
    for k in 0..TICKS {
        ctx.now_ns = 1_000 + k;
        // Scattered over the band (a long monotonic run would overflow the excursion window
        // and fall back to visiting every position: exact, but O(n), and counted in stats).
        let price = 39_600.0 + (k * 7_919 % 8_000) as f64 / 10.0;
        st.on_event(&tick(BTC, price, 1_000 + k), ctx);
        emitted += ctx.take().len();
    }
    emitted
}

#[test]
fn hundred_thousand_positions_and_quiet_ticks_emit_nothing() {
    let (mut st, mut ctx) = loaded();
    assert_eq!(quiet_ticks(&mut st, &mut ctx), 0);
    assert_eq!(st.open_positions(), OPEN as usize);
    assert_eq!(st.stats().exits_requested, 0);
    assert_eq!(st.stats().excursion_fallbacks, 0);
    // One tick through every stop: every position exits (16 now, the rest over polls).
    st.on_event(&tick(BTC, 100.0, 50_000), &mut ctx);
    let mut n = exits(&ctx.take()).len();
    while st.pending_work() > 0 {
        st.poll(&mut ctx);
        n += exits(&ctx.take()).len();
    }
    assert_eq!(n, OPEN as usize);
}

/// `cargo test --release -p tradeflow-position --test scaling -- --ignored --nocapture`
#[test]
#[ignore = "timing, run by hand in release"]
fn time_quiet_ticks_with_many_positions() {
    let (mut st, mut ctx) = loaded();
    let t = Instant::now();
    let emitted = quiet_ticks(&mut st, &mut ctx);
    let dt = t.elapsed();
    assert_eq!(emitted, 0);
    println!("{TICKS} ticks with {OPEN} open positions: {:?} ({:.0} ns/tick)", dt, dt.as_nanos() as f64 / TICKS as f64);
}

#[test]
fn a_long_monotonic_run_falls_back_and_stays_exact() {
    use tradeflow_core::{ExitReason, Side};
    use tradeflow_position::pnl::adverse_excursion_pct;
    let mut st = stage(&quiet_config());
    let mut ctx = RecordingCtx::new(0);
    st.on_event(&Event::TradeExecuted(entry(1, BTC, Side::Buy, 40_000.0, 0.01, 0.0)), &mut ctx);
    // Rising prices: every tick is a new suffix minimum, so the window overflows once.
    for k in 0..6_000u64 {
        st.on_event(&tick(BTC, 39_300.0 + k as f64 / 10.0, k), &mut ctx);
    }
    st.on_event(&tick(BTC, 39_250.0, 7_000), &mut ctx);
    assert!(exits(&ctx.take()).is_empty());
    assert_eq!(st.stats().excursion_fallbacks, 1);
    st.on_event(&Event::from(exit_fill(1, BTC, Side::Sell, 39_900.0, 0.01, 0.0, ExitReason::Manual)), &mut ctx);
    let ev = ctx.take();
    let Event::PositionClosed(c) = ev[0] else { panic!("{ev:?}") };
    assert_eq!(c.max_drawdown_pct, adverse_excursion_pct(Side::Buy, px(40_000.0), px(39_250.0)));
}
