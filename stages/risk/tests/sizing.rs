//! Sizing: the reference formula, learners' multipliers, profile switches, and properties.

mod util;

use proptest::prelude::*;
use tradeflow_core::{InstrumentSpec, Leverage, PolicyKind, Price, ProfileIdx, Qty, Usd};
use tradeflow_risk::{size_order, size_position, Multipliers, RiskConfig, RiskProfileConfig};
use util::*;

#[test]
fn normal_profile_formula() {
    let s = size_position(&RiskProfileConfig::normal(), usd(10_000.0), Multipliers::ONE);
    assert_eq!(s.leverage, 8.0);
    assert_eq!(s.trade_risk_pct, 1.5);
    assert_eq!(s.position_size_usd, usd(1000.0)); // min(10000 × 1.5 / 100 × 8 = 1200, 1000)
    let s = size_position(&RiskProfileConfig::normal(), usd(5_000.0), Multipliers::ONE);
    assert_eq!(s.position_size_usd, usd(600.0));
}

#[test]
fn approved_order_carries_sizing_and_profile() {
    let mut h = Harness::new(RiskConfig::default());
    let e = h.send_default().approved();
    assert_eq!(e.position_size_usd, usd(1000.0));
    assert_eq!(e.qty, Qty::from_f64(0.025).unwrap());
    assert_eq!(e.ref_price, Price::from_f64(BTC_PRICE).unwrap());
    assert_eq!(e.leverage, Leverage(800));
    assert_eq!((e.trade_risk_pct, e.stop_loss_pct, e.take_profit_pct), (1.5, 2.0, 5.0));
    assert_eq!(e.profile, ProfileIdx(1)); // AGGRESSIVE, NORMAL, SAFE
    assert_eq!(e.confidence, 0.8);
}

#[test]
fn quantity_is_floored_to_the_step() {
    let mut c = RiskConfig::default();
    c.guard.collar_pct = 0.0;
    let mut h = Harness::new(c);
    h.tick(BTC, 30_000.0); // 1000 / 30000 = 0.0333… → 0.033
    let e = h.send_default().approved();
    assert_eq!(e.qty, Qty::from_f64(0.033).unwrap());
    assert_eq!(e.position_size_usd, usd(990.0));
}

fn eth() -> Sig {
    // ETH at 2500 with a 0.001 step: every size below is an exact quantity.
    Sig { instrument: ETH, ..Sig::default() }
}

#[test]
fn policy_updates_change_size_and_leverage() {
    let mut h = Harness::new(RiskConfig::default());
    h.policy(PolicyKind::SizingMultiplier, 0, 0.5, 0);
    assert_eq!(h.send(eth()).approved().position_size_usd, usd(500.0));
    h.policy(PolicyKind::ModelWeight, 0, 0.5, 0);
    let e = h.send(eth()).approved();
    assert_eq!((e.position_size_usd, e.qty), (usd(250.0), Qty::from_f64(0.1).unwrap()));
    // Model m1 is untouched.
    let e = h.send(Sig { model: 1, ..eth() }).approved();
    assert_eq!(e.position_size_usd, usd(1000.0));
    h.policy(PolicyKind::LeverageMultiplier, 1, 0.5, 0);
    let e = h.send(Sig { model: 1, instrument: BTC, ..eth() }).approved();
    assert_eq!((e.leverage, e.position_size_usd), (Leverage(400), usd(1000.0)));
    // Multipliers never lift the size above the profile cap.
    h.policy(PolicyKind::SizingMultiplier, 1, 3.0, 0);
    let e = h.send(Sig { model: 1, instrument: BTC, ..eth() }).approved();
    assert_eq!(e.position_size_usd, usd(1000.0));
    let s = h.stage.stats();
    assert_eq!((s.policy_applied, s.policy_rejected), (4, 0));
}

#[test]
fn bad_policy_updates_are_refused_and_counted() {
    let mut h = Harness::new(RiskConfig::default());
    h.policy(PolicyKind::SizingMultiplier, 0, f64::NAN, 0);
    h.policy(PolicyKind::SizingMultiplier, 0, -1.0, 0);
    h.policy(PolicyKind::ModelWeight, 7, 0.5, 0);
    h.policy(PolicyKind::ModelAllowed, 0, 2.0, 0);
    h.policy(PolicyKind::ActiveProfile, 0, 0.0, 3);
    assert_eq!(h.stage.stats().policy_rejected, 5);
    let e = h.send_default().approved();
    assert_eq!((e.position_size_usd, e.profile), (usd(1000.0), ProfileIdx(1)));
}

#[test]
fn profile_switch() {
    let mut h = Harness::new(RiskConfig::default());
    let names = h.catalog.profiles().to_vec();
    assert_eq!(names, ["AGGRESSIVE", "NORMAL", "SAFE"]);
    h.policy(PolicyKind::ActiveProfile, 0, 0.0, 2); // SAFE: min(10000 × 1 % × 4 = 400, 500)
    let e = h.send(eth()).approved();
    assert_eq!((e.position_size_usd, e.leverage, e.profile), (usd(400.0), Leverage(400), ProfileIdx(2)));
    assert_eq!((e.stop_loss_pct, e.take_profit_pct), (1.5, 3.0));
    assert_eq!(h.stage.stats().active_profile, ProfileIdx(2));
    // SAFE needs confidence 0.7.
    assert!(h.send(Sig { confidence: 0.65, ..Sig::default() }).denied().limit > 0.69);
    h.policy(PolicyKind::ActiveProfile, 0, 0.0, 0); // AGGRESSIVE: min(10000 × 2.5 % × 16 = 4000, 2500)
    let e = h.send(Sig { confidence: 0.65, ..eth() }).approved();
    assert_eq!((e.position_size_usd, e.leverage, e.profile), (usd(2500.0), Leverage(1600), ProfileIdx(0)));
}

#[test]
fn realized_pnl_changes_the_balance_used_for_sizing() {
    let mut c = RiskConfig::default();
    c.profiles.get_mut("NORMAL").unwrap().position_size_cap_usd = 10_000.0;
    c.guard.daily_loss_limit_usd = 0.0;
    c.guard.max_drawdown_pct = 0.0;
    let mut h = Harness::new(c);
    let e = h.send(eth()).approved();
    assert_eq!(e.position_size_usd, usd(1200.0));
    h.release(e.header.seq, 1200.0, -2_000.0, true); // balance 8000 → 960
    assert_eq!(h.send(eth()).approved().position_size_usd, usd(960.0));
    h.release(e.header.seq + 1, 960.0, 12_000.0, true); // balance 20000 → 2400
    assert_eq!(h.send(eth()).approved().position_size_usd, usd(2400.0));
}

fn profile() -> impl Strategy<Value = RiskProfileConfig> {
    (1.0f64..125.0, 0.01f64..100.0, 1.0f64..1.0e7).prop_map(|(lev, pct, cap)| RiskProfileConfig {
        max_leverage: lev,
        max_risk_pct_per_trade: pct,
        position_size_cap_usd: cap,
        ..RiskProfileConfig::normal()
    })
}

fn multipliers() -> impl Strategy<Value = Multipliers> {
    (0.0f64..10.0, 0.0f64..10.0, 0.0f64..10.0).prop_map(|(sizing, leverage, weight)| Multipliers {
        sizing,
        leverage,
        weight,
    })
}

proptest! {
    #[test]
    fn never_above_cap(p in profile(), balance in 0i64..1_000_000_000_000_000_000, m in multipliers()) {
        let s = size_position(&p, Usd(balance), m);
        prop_assert!(s.position_size_usd >= Usd::ZERO);
        prop_assert!(s.position_size_usd <= Usd::from_f64(p.position_size_cap_usd).unwrap());
    }

    #[test]
    fn monotone_in_balance(p in profile(), a in 0i64..1_000_000_000_000_000_000, b in 0i64..1_000_000_000_000_000_000, m in multipliers()) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(size_position(&p, Usd(lo), m).position_size_usd <= size_position(&p, Usd(hi), m).position_size_usd);
    }

    #[test]
    fn zero_or_negative_balance_gives_zero(p in profile(), balance in -1_000_000_000_000i64..=0, m in multipliers()) {
        prop_assert_eq!(size_position(&p, Usd(balance), m).position_size_usd, Usd::ZERO);
    }

    #[test]
    fn monotone_in_multipliers(p in profile(), balance in 0i64..1_000_000_000_000_000, m in multipliers(), k in 1.0f64..3.0) {
        let more = Multipliers { sizing: m.sizing * k, ..m };
        prop_assert!(size_position(&p, Usd(balance), m).position_size_usd <= size_position(&p, Usd(balance), more).position_size_usd);
    }

    #[test]
    fn order_never_exceeds_size_and_is_on_step(size in 0i64..1_000_000_000_000_000, price in 1i64..10_000_000_000_000, step in 1i64..100_000_000) {
        let spec = InstrumentSpec {
            symbol: "X".into(),
            tick_size: Price(1),
            step_size: Qty(step),
            min_qty: Qty(step),
            min_notional: Usd::ZERO,
        };
        let o = size_order(Usd(size), Price(price), &spec);
        prop_assert!(o.notional <= Usd(size));
        prop_assert!(o.qty.is_multiple_of(Qty(step)));
        prop_assert_eq!(o.notional, Price(price).notional(o.qty));
    }
}
