//! Reservations, their release by `ExposureUpdate`, realized PnL and the UTC day.

mod util;

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tradeflow_core::{DenialCode, InstrumentIdx, Usd};
use tradeflow_risk::{RiskConfig, SymbolExposure, DAY_NS};
use util::*;

#[test]
fn reservations_are_released_exactly() {
    let mut h = Harness::new(RiskConfig::default());
    let btc = h.send_default().approved();
    let eth = h.send(Sig { instrument: ETH, ..Sig::default() }).approved();
    let s = h.stage.stats();
    assert_eq!((s.open_positions, s.exposure_total_usd), (2, usd(2000.0)));
    assert_eq!(h.stage.symbol_exposure(InstrumentIdx(BTC)), SymbolExposure { positions: 1, exposure_usd: usd(1000.0) });
    // The entry never filled; the event's amount differs from the reservation: the reservation wins.
    h.release(btc.header.seq, 1234.0, -77.0, false);
    let s = h.stage.stats();
    assert_eq!((s.open_positions, s.exposure_total_usd, s.balance_usd), (1, usd(1000.0), usd(10_000.0)));
    assert_eq!(h.stage.symbol_exposure(InstrumentIdx(BTC)), SymbolExposure::default());
    h.release(eth.header.seq, 990.0, 50.0, true);
    let s = h.stage.stats();
    assert_eq!((s.open_positions, s.exposure_total_usd), (0, Usd::ZERO));
    assert_eq!((s.balance_usd, s.peak_balance_usd, s.daily_pnl_usd), (usd(10_050.0), usd(10_050.0), usd(50.0)));
    assert_eq!(s.released, 2);
}

#[test]
fn unknown_seq_changes_nothing() {
    let mut h = Harness::new(RiskConfig::default());
    let e = h.send_default().approved();
    let before = h.stage.stats();
    h.release(999, 1000.0, -300.0, true);
    let after = h.stage.stats();
    assert_eq!(after.unknown_releases, 1);
    assert_eq!(after, tradeflow_risk::RiskStats { unknown_releases: 1, ..before });
    h.release(e.header.seq, 1000.0, 10.0, true);
    h.release(e.header.seq, 1000.0, 10.0, true); // the second is unknown
    let s = h.stage.stats();
    assert_eq!((s.released, s.unknown_releases, s.open_positions), (1, 2, 0));
    assert_eq!(s.balance_usd, usd(10_010.0));
}

#[test]
fn reservation_table_is_twice_the_position_limit() {
    for (max_open, cap) in [(1, 16), (10, 32), (16, 32), (100, 256)] {
        let mut c = RiskConfig::default();
        c.guard.max_open_positions = max_open;
        let h = Harness::new(c);
        assert_eq!(h.stage.reservation_capacity(), cap, "max_open {max_open}");
    }
}

#[test]
fn daily_loss_resets_at_utc_midnight() {
    let mut h = Harness::new(RiskConfig::default());
    // Put the wall clock 10 s before a UTC midnight.
    let midnight = 19_700 * DAY_NS;
    h.ctx.wall_offset_ns = midnight - 10_000_000_000 - T0 as i64;
    let a = h.send_default().approved();
    h.release(a.header.seq, 1000.0, -600.0, true);
    assert_eq!(h.send_default().code(), Some(DenialCode::DailyLossLimit));
    h.advance_ms(9_000);
    h.tick(BTC, BTC_PRICE);
    assert_eq!(h.send_default().code(), Some(DenialCode::DailyLossLimit));
    h.advance_ms(1_000); // exactly midnight
    h.tick(BTC, BTC_PRICE);
    let b = h.send_default().approved();
    assert_eq!(h.stage.stats().daily_pnl_usd, Usd::ZERO);
    // Losses of the new day count from zero; the balance keeps every loss.
    h.release(b.header.seq, 1000.0, -499.0, true);
    h.send_default().approved();
    let s = h.stage.stats();
    assert_eq!((s.daily_pnl_usd, s.balance_usd), (usd(-499.0), usd(8_901.0)));
}

#[test]
fn random_approve_release_cycles_keep_counts_consistent() {
    let mut c = RiskConfig::default();
    open_limits(&mut c, 8, 100_000.0);
    c.guard.daily_loss_limit_usd = 0.0;
    c.guard.max_drawdown_pct = 0.0;
    let mut h = Harness::new(c);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let mut open: Vec<(u64, u32, Usd)> = Vec::new();
    for _ in 0..5_000 {
        if rng.next_u64() % 2 == 0 {
            let instrument = (rng.next_u64() % 2) as u32;
            match h.send(Sig { instrument, ..Sig::default() }) {
                Outcome::Approved(e) => open.push((e.header.seq, instrument, e.position_size_usd)),
                Outcome::Denied(d) => {
                    assert_eq!(d.code, DenialCode::MaxPositionsTotal);
                    assert_eq!(open.len(), 8);
                }
            }
        } else if !open.is_empty() {
            let (seq, _, _) = open.swap_remove((rng.next_u64() % open.len() as u64) as usize);
            h.release(seq, 1.0, 0.0, rng.next_u64() % 2 == 0);
        }
        let s = h.stage.stats();
        assert_eq!(s.open_positions as usize, open.len());
        let total = open.iter().fold(Usd::ZERO, |a, o| a.saturating_add(o.2));
        assert_eq!(s.exposure_total_usd, total);
        for i in [BTC, ETH] {
            let n = open.iter().filter(|o| o.1 == i).count() as u32;
            assert_eq!(h.stage.symbol_exposure(InstrumentIdx(i)).positions, n);
        }
    }
}
