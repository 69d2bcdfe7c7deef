//! One test per denial code: it fires for the right input, and a passing input next to it is
//! approved.

mod util;

use tradeflow_core::{DenialCode, PolicyKind, StageId, Timeframe, TradingState, Usd};
use tradeflow_risk::RiskConfig;
use util::*;

fn cfg() -> RiskConfig {
    RiskConfig::default()
}

#[track_caller]
fn assert_denied(o: Outcome, code: DenialCode, observed: f64, limit: f64) {
    let d = o.denied();
    assert_eq!(d.code, code);
    assert_eq!(d.source, StageId::Risk);
    assert!((d.observed - observed).abs() < 1e-6, "observed {} expected {observed}", d.observed);
    assert!((d.limit - limit).abs() < 1e-6, "limit {} expected {limit}", d.limit);
}

#[test]
fn kill_switch_halted() {
    let mut h = Harness::new(cfg());
    h.send_default().approved();
    h.kill.escalate(TradingState::Halted);
    let d = h.send_default().denied();
    assert_eq!(d.code, DenialCode::KillSwitchHalted);
    h.kill.reset();
    h.send_default().approved();
}

#[test]
fn trading_reducing() {
    let mut h = Harness::new(cfg());
    h.kill.escalate(TradingState::Reducing);
    assert_eq!(h.send_default().code(), Some(DenialCode::TradingReducing));
    h.kill.escalate(TradingState::Halted);
    assert_eq!(h.send_default().code(), Some(DenialCode::KillSwitchHalted));
    h.kill.reset();
    h.send_default().approved();
}

#[test]
fn low_confidence() {
    let mut h = Harness::new(cfg());
    assert_denied(h.send(Sig { confidence: 0.59, ..Sig::default() }), DenialCode::LowConfidence, 0.59, 0.6);
    assert_eq!(h.send(Sig { confidence: f32::NAN, ..Sig::default() }).code(), Some(DenialCode::LowConfidence));
    h.send(Sig { confidence: 0.6, ..Sig::default() }).approved();
}

#[test]
fn stale_signal() {
    let mut h = Harness::new(cfg());
    let m1 = Timeframe::M1;
    assert_denied(
        h.send(Sig { timeframe: m1, age_ms: 60_001, ..Sig::default() }),
        DenialCode::StaleSignal,
        60_001.0,
        60_000.0,
    );
    h.send(Sig { timeframe: m1, age_ms: 59_000, ..Sig::default() }).approved();
    h.send(Sig { timeframe: Timeframe::H1, age_ms: 60_001, ..Sig::default() }).approved();
    let mut c = cfg();
    c.guard.max_signal_age_ratio = 0.0;
    let mut h = Harness::new(c);
    h.send(Sig { timeframe: m1, age_ms: 10_000_000, ..Sig::default() }).approved();
}

#[test]
fn future_signal() {
    let mut h = Harness::new(cfg());
    assert_denied(h.send(Sig { age_ms: -2_500, ..Sig::default() }), DenialCode::FutureSignal, 2_500.0, 2_000.0);
    h.send(Sig { age_ms: -1_500, ..Sig::default() }).approved();
}

#[test]
fn duplicate_trace_id() {
    let mut h = Harness::new(cfg());
    let t = Some("abc-123".to_string());
    h.send(Sig { trace: t.clone(), ..Sig::default() }).approved();
    assert_denied(h.send(Sig { trace: t, ..Sig::default() }), DenialCode::DuplicateTraceId, 1.0, 0.0);
    h.send(Sig { trace: Some("abc-124".into()), ..Sig::default() }).approved();
}

#[test]
fn duplicate_of_a_denied_signal_is_denied_as_duplicate() {
    let mut h = Harness::new(cfg());
    let t = Some("once".to_string());
    assert_eq!(
        h.send(Sig { trace: t.clone(), confidence: 0.1, ..Sig::default() }).code(),
        Some(DenialCode::LowConfidence)
    );
    assert_eq!(h.send(Sig { trace: t, ..Sig::default() }).code(), Some(DenialCode::DuplicateTraceId));
}

#[test]
fn duplicate_seq_is_denied_as_duplicate() {
    let mut h = Harness::new(cfg());
    h.send(Sig { seq: Some(7), trace: Some("a".into()), ..Sig::default() }).approved();
    let d = h.send(Sig { seq: Some(7), trace: Some("b".into()), ..Sig::default() }).denied();
    assert_eq!((d.code, d.observed), (DenialCode::DuplicateTraceId, 7.0));
    assert_eq!(h.stage.stats().open_positions, 1);
}

#[test]
fn model_not_allowed() {
    let mut c = cfg();
    c.guard.allowed_models = vec!["m0".into()];
    let mut h = Harness::new(c);
    assert_eq!(h.send(Sig { model: 1, ..Sig::default() }).code(), Some(DenialCode::ModelNotAllowed));
    assert_eq!(h.send(Sig { model: 5, ..Sig::default() }).code(), Some(DenialCode::ModelNotAllowed));
    assert_eq!(h.send(Sig { model: u16::MAX, ..Sig::default() }).code(), Some(DenialCode::ModelNotAllowed));
    h.send(Sig { model: 0, ..Sig::default() }).approved();
    h.policy(PolicyKind::ModelAllowed, 1, 1.0, 0);
    h.send(Sig { model: 1, ..Sig::default() }).approved();
    h.policy(PolicyKind::ModelAllowed, 0, 0.0, 0);
    assert_eq!(h.send(Sig { model: 0, ..Sig::default() }).code(), Some(DenialCode::ModelNotAllowed));
}

#[test]
fn price_missing() {
    let mut h = Harness::bare(cfg(), default_instruments());
    h.tick(BTC, BTC_PRICE);
    assert_eq!(h.send(Sig { instrument: ETH, ..Sig::default() }).code(), Some(DenialCode::PriceMissing));
    assert_eq!(h.send(Sig { instrument: 9, ..Sig::default() }).code(), Some(DenialCode::PriceMissing));
    h.send(Sig { instrument: BTC, ..Sig::default() }).approved();
    h.tick(ETH, ETH_PRICE);
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
}

#[test]
fn price_stale() {
    let mut h = Harness::new(cfg());
    h.advance_ms(5_000);
    h.send_default().approved();
    h.advance_ms(1);
    assert_denied(h.send_default(), DenialCode::PriceStale, 5_001.0, 5_000.0);
    h.tick(BTC, BTC_PRICE);
    h.send_default().approved();
}

#[test]
fn price_collar() {
    let mut h = Harness::new(cfg());
    h.tick(BTC, 41_000.0); // 2.5 % above the EMA (40000)
    h.send_default().approved();
    let mut h = Harness::new(cfg());
    h.tick(BTC, 42_400.0); // 6 % above
    assert_denied(h.send_default(), DenialCode::PriceCollar, 6.0, 5.0);
    h.tick(BTC, 40_200.0); // EMA now 40120: 0.2 % away
    h.send_default().approved();
}

#[test]
fn zero_size() {
    let mut h = Harness::new(cfg());
    h.policy(PolicyKind::SizingMultiplier, 0, 0.0, 0);
    assert_denied(h.send_default(), DenialCode::ZeroSize, 0.0, 0.0);
    h.send(Sig { model: 1, ..Sig::default() }).approved();
    h.policy(PolicyKind::ModelWeight, 1, 0.0, 0);
    assert_eq!(h.send(Sig { model: 1, ..Sig::default() }).code(), Some(DenialCode::ZeroSize));
    h.policy(PolicyKind::SizingMultiplier, 0, 1.0, 0);
    h.policy(PolicyKind::LeverageMultiplier, 0, 0.0, 0);
    assert_eq!(h.send_default().code(), Some(DenialCode::ZeroSize));
    h.policy(PolicyKind::LeverageMultiplier, 0, 1.0, 0);
    h.send_default().approved();
}

#[test]
fn max_notional() {
    let mut c = cfg();
    c.guard.max_notional_per_order_usd = 999.0;
    let d = Harness::new(c.clone()).send_default().denied();
    assert_eq!((d.code, d.observed, d.limit), (DenialCode::MaxNotional, 1000.0, 999.0));
    assert_eq!(d.position_size_usd, usd(1000.0));
    assert_eq!(d.leverage.0, 800);
    c.guard.max_notional_per_order_usd = 1000.0;
    Harness::new(c).send_default().approved();
}

#[test]
fn max_leverage() {
    let mut c = cfg();
    c.guard.max_leverage = 7.99;
    assert_denied(Harness::new(c.clone()).send_default(), DenialCode::MaxLeverage, 8.0, 7.99);
    c.guard.max_leverage = 8.0;
    let mut h = Harness::new(c);
    h.send_default().approved();
    h.policy(PolicyKind::LeverageMultiplier, 0, 1.5, 0); // 12x > 8x: the hard cap wins
    assert_denied(h.send_default(), DenialCode::MaxLeverage, 12.0, 8.0);
}

#[test]
fn max_positions_total() {
    let mut c = cfg();
    c.guard.max_open_positions = 2;
    let mut h = Harness::new(c);
    let first = h.send_default().approved();
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
    assert_denied(h.send(Sig { instrument: ETH, ..Sig::default() }), DenialCode::MaxPositionsTotal, 2.0, 2.0);
    h.release(first.header.seq, 1000.0, 0.0, true);
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
}

#[test]
fn max_positions_symbol() {
    let mut c = cfg();
    c.guard.max_positions_per_symbol = 1;
    let mut h = Harness::new(c);
    h.send_default().approved();
    assert_denied(h.send_default(), DenialCode::MaxPositionsSymbol, 1.0, 1.0);
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
}

#[test]
fn max_exposure_symbol() {
    let mut c = cfg();
    c.guard.max_exposure_per_symbol_usd = 1500.0;
    let mut h = Harness::new(c);
    h.send_default().approved();
    assert_denied(h.send_default(), DenialCode::MaxExposureSymbol, 2000.0, 1500.0);
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
}

#[test]
fn max_exposure_total() {
    let mut c = cfg();
    c.guard.max_exposure_total_usd = 1500.0;
    let mut h = Harness::new(c);
    h.send_default().approved();
    assert_denied(h.send(Sig { instrument: ETH, ..Sig::default() }), DenialCode::MaxExposureTotal, 2000.0, 1500.0);
    h.policy(PolicyKind::SizingMultiplier, 0, 0.5, 0);
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
}

#[test]
fn order_rate() {
    let mut c = cfg();
    c.guard.max_orders_per_sec = 1.0;
    c.guard.order_burst = 2;
    c.guard.max_positions_per_symbol = 10;
    let mut h = Harness::new(c);
    h.send_default().approved();
    // A denied signal uses no token.
    assert_eq!(h.send(Sig { confidence: 0.1, ..Sig::default() }).code(), Some(DenialCode::LowConfidence));
    h.send_default().approved();
    assert_denied(h.send_default(), DenialCode::OrderRate, 0.0, 1.0);
    h.advance_ms(1_000);
    h.tick(BTC, BTC_PRICE);
    h.send_default().approved();
    assert_eq!(h.send_default().code(), Some(DenialCode::OrderRate));
}

#[test]
fn order_rate_off_when_zero() {
    let mut c = cfg();
    open_limits(&mut c, 100, 1.0e6);
    c.guard.order_burst = 0;
    let mut h = Harness::new(c);
    for _ in 0..50 {
        h.send_default().approved();
    }
}

#[test]
fn daily_loss_limit() {
    let mut h = Harness::new(cfg());
    let a = h.send_default().approved();
    h.release(a.header.seq, 1000.0, -499.99, true);
    let b = h.send_default().approved();
    h.release(b.header.seq, 1000.0, -0.01, true);
    assert_denied(h.send_default(), DenialCode::DailyLossLimit, 500.0, 500.0);
    assert_eq!(h.stage.stats().balance_usd, usd(9_500.0));
}

#[test]
fn drawdown_limit() {
    let mut c = cfg();
    c.guard.daily_loss_limit_usd = 0.0;
    c.guard.max_drawdown_pct = 10.0;
    let mut h = Harness::new(c);
    let a = h.send_default().approved();
    h.release(a.header.seq, 1000.0, 1000.0, true); // peak 11000
    let b = h.send_default().approved();
    h.release(b.header.seq, 1000.0, -1099.0, true); // 9901: 9.99 %
    let c2 = h.send_default().approved();
    h.release(c2.header.seq, 1000.0, -1.0, true); // 9900: 10 %
    let d = h.send_default().denied();
    assert_eq!(d.code, DenialCode::DrawdownLimit);
    assert!((d.observed - 10.0).abs() < 1e-9 && d.limit == 10.0, "{d:?}");
    let s = h.stage.stats();
    assert_eq!((s.balance_usd, s.peak_balance_usd), (usd(9_900.0), usd(11_000.0)));
}

#[test]
fn filter_min_qty() {
    let btc_big_lot = spec("BTCUSDT", 0.1, 0.001, 0.05, 5.0);
    let eth = spec("ETHUSDT", 0.01, 0.001, 0.001, 5.0);
    let mut h = Harness::with_instruments(cfg(), vec![btc_big_lot, eth.clone()]);
    assert_denied(h.send_default(), DenialCode::FilterMinQty, 0.025, 0.05);
    h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
    // A price so high that the quantity floors to zero.
    let coarse = spec("BTCUSDT", 0.1, 1.0, 1.0, 5.0);
    let mut h = Harness::with_instruments(cfg(), vec![coarse, eth]);
    let d = h.send_default().denied();
    assert_eq!((d.code, d.observed, d.position_size_usd), (DenialCode::FilterMinQty, 0.0, Usd::ZERO));
}

#[test]
fn filter_min_notional() {
    let eth = spec("ETHUSDT", 0.01, 0.001, 0.001, 5.0);
    let mut h = Harness::with_instruments(cfg(), vec![spec("BTCUSDT", 0.1, 0.001, 0.001, 1000.01), eth.clone()]);
    assert_denied(h.send_default(), DenialCode::FilterMinNotional, 1000.0, 1000.01);
    let mut h = Harness::with_instruments(cfg(), vec![spec("BTCUSDT", 0.1, 0.001, 0.001, 1000.0), eth]);
    h.send_default().approved();
}

#[test]
fn every_denial_is_counted_by_code() {
    let mut h = Harness::new(cfg());
    h.send(Sig { confidence: 0.1, ..Sig::default() }).denied();
    h.send(Sig { confidence: 0.1, ..Sig::default() }).denied();
    h.send(Sig { age_ms: -10_000, ..Sig::default() }).denied();
    h.send_default().approved();
    let s = h.stage.stats();
    assert_eq!((s.signals, s.approved, s.denied_total()), (4, 1, 3));
    assert_eq!(s.denied(DenialCode::LowConfidence), 2);
    assert_eq!(s.denied(DenialCode::FutureSignal), 1);
    assert_eq!(s.denied(DenialCode::StaleSignal), 0);
}
