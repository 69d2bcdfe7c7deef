//! Ten thousand mixed signals: exactly one `ExecutionRequested` or `SignalDenied` each.

mod util;

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tradeflow_core::{DenialCode, Event, Side, Timeframe};
use tradeflow_risk::RiskConfig;
use util::*;

#[test]
fn one_outcome_per_signal() {
    let mut h = Harness::new(RiskConfig::default());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let mut open: Vec<u64> = Vec::new();
    let (mut approved, mut denied) = (0u64, 0u64);
    for i in 0..10_000u64 {
        let r = rng.next_u64();
        h.advance_ms(r % 50);
        if r % 7 == 0 {
            let price = if r % 2 == 0 { BTC_PRICE } else { BTC_PRICE * 1.01 };
            h.tick(BTC, price);
            h.tick(ETH, ETH_PRICE);
        }
        if r % 5 == 0 && !open.is_empty() {
            let seq = open.swap_remove((r >> 8) as usize % open.len());
            h.release(seq, 1000.0, ((r >> 16) % 200) as f64 - 100.0, true);
        }
        let trace = if r % 31 == 0 && i > 0 { Some(format!("sig-{}", i / 2 + 1)) } else { None };
        let sig = Sig {
            trace,
            instrument: (r >> 20) as u32 % 3, // 2 = not in the catalog
            model: (r >> 24) as u16 % 3,      // 2 = not in the catalog
            confidence: ((r >> 32) % 1000) as f32 / 1000.0,
            side: if r >> 40 & 1 == 0 { Side::Buy } else { Side::Sell },
            timeframe: Timeframe::ALL[(r >> 41) as usize % Timeframe::ALL.len()],
            age_ms: ((r >> 44) % 400_000) as i64 - 5_000,
            ..Sig::default()
        };
        let built = h.build(&sig);
        h.feed(Event::SignalGenerated(built));
        let out = h.ctx.take();
        assert_eq!(out.len(), 1, "signal {i}: {out:?}");
        assert_eq!(out[0].header().trace_id, built.header.trace_id);
        assert_eq!(out[0].header().seq, built.header.seq);
        match out[0] {
            Event::ExecutionRequested(e) => {
                approved += 1;
                open.push(e.header.seq);
            }
            Event::SignalDenied(d) => {
                denied += 1;
                assert_ne!(d.code, DenialCode::VenueRejected);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let s = h.stage.stats();
    assert_eq!((s.signals, s.approved, s.denied_total()), (10_000, approved, denied));
    assert!(approved > 100 && denied > 100, "approved {approved} denied {denied}");
    assert_eq!(s.open_positions as usize, open.len());
}
