//! Model check: random opens, ticks, exit fills, rejected exits, flattens and polls on two
//! instruments, both sides, against a brute-force reference that scans every position on every
//! tick and the whole tick history at every close.

mod util;

use proptest::prelude::*;
use tradeflow_core::{
    DenialCode, Event, ExitReason, FillPurpose, InstrumentIdx, OrderRejected, Price, RecordingCtx, Side, Stage, Usd,
};
use tradeflow_position::pnl::adverse_excursion_pct;
use tradeflow_position::PositionConfig;
use util::*;

/// Few enough opens that no call exceeds its emit budget (16, alerts included).
const MAX_OPENS: usize = 12;
const HOLD_MS: u64 = 40;

#[derive(Clone, Debug)]
enum Op {
    Open { eth: bool, buy: bool, level: u32 },
    Tick { eth: bool, level: u32 },
    ExitFill { pick: usize, level: u32 },
    RejectExit { pick: usize },
    Advance { ms: u64 },
    Poll,
    Flatten,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), any::<bool>(), 0u32..40).prop_map(|(eth, buy, level)| Op::Open { eth, buy, level }),
        6 => (any::<bool>(), 0u32..40).prop_map(|(eth, level)| Op::Tick { eth, level }),
        2 => (any::<usize>(), 0u32..40).prop_map(|(pick, level)| Op::ExitFill { pick, level }),
        1 => any::<usize>().prop_map(|pick| Op::RejectExit { pick }),
        2 => (1u64..30).prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::Poll),
        1 => Just(Op::Flatten),
    ]
}

/// Prices 95.0 .. 114.5 in steps of 0.5 (on both instruments' tick grids).
fn level_price(level: u32) -> f64 {
    95.0 + f64::from(level) * 0.5
}

#[derive(Clone, Debug)]
struct RefPos {
    seq: u64,
    inst: InstrumentIdx,
    side: Side,
    entry: Price,
    sl: Price,
    tp: Price,
    opened_ns: u64,
    closing: bool,
    forced: Option<ExitReason>,
    /// Index into the tick history of the first tick this position sees.
    first_tick: usize,
}

impl RefPos {
    /// The brute-force trigger: forced reason, SL, TP, then max hold.
    fn trigger(&self, price: Price, now: u64) -> Option<ExitReason> {
        if let Some(r) = self.forced {
            return Some(r);
        }
        let (sl_hit, tp_hit) = match self.side {
            Side::Buy => (price <= self.sl, price >= self.tp),
            Side::Sell => (price >= self.sl, price <= self.tp),
        };
        if self.sl.units() > 0 && sl_hit {
            return Some(ExitReason::StopLoss);
        }
        if self.tp.units() > 0 && tp_hit {
            return Some(ExitReason::TakeProfit);
        }
        (now >= self.opened_ns + HOLD_MS * MS).then_some(ExitReason::MaxHold)
    }
}

fn exit_set(ev: &[Event]) -> Vec<(u64, ExitReason)> {
    let mut v: Vec<_> = exits(ev).iter().map(|x| (x.header.seq, x.reason)).collect();
    v.sort_unstable_by_key(|e| e.0);
    v
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let cfg = PositionConfig { max_open_positions: 64, max_hold_ms: HOLD_MS, ..quiet_config() };
    let mut st = stage(&cfg);
    let mut ctx = RecordingCtx::new(1_000 * MS);
    let mut model: Vec<RefPos> = Vec::new();
    let mut history: Vec<(InstrumentIdx, Price)> = Vec::new();
    let (mut seq, mut opens) = (0u64, 0usize);
    for op in ops {
        let now = ctx.now_ns;
        let mut want: Vec<(u64, ExitReason)> = Vec::new();
        match op {
            Op::Open { eth, buy, level } => {
                if opens == MAX_OPENS {
                    continue;
                }
                opens += 1;
                seq += 1;
                let (inst, side) = (if eth { ETH } else { BTC }, if buy { Side::Buy } else { Side::Sell });
                st.on_event(&Event::TradeExecuted(entry(seq, inst, side, level_price(level), 0.01, 0.0)), &mut ctx);
                let ev = ctx.take();
                let Some(Event::PositionOpened(o)) = ev.first() else { return Err(TestCaseError::fail("no open")) };
                model.push(RefPos {
                    seq,
                    inst,
                    side,
                    entry: o.entry_price,
                    sl: o.stop_loss_price,
                    tp: o.take_profit_price,
                    opened_ns: now,
                    closing: false,
                    forced: None,
                    first_tick: history.len(),
                });
            }
            Op::Tick { eth, level } => {
                let (inst, price) = (if eth { ETH } else { BTC }, px(level_price(level)));
                history.push((inst, price));
                for p in model.iter_mut().filter(|p| p.inst == inst && !p.closing) {
                    if let Some(r) = p.trigger(price, now) {
                        p.closing = true;
                        want.push((p.seq, r));
                    }
                }
                st.on_event(&tick(inst, level_price(level), now), &mut ctx);
            }
            Op::ExitFill { pick, level } => {
                if model.is_empty() {
                    continue;
                }
                let p = model.remove(pick % model.len());
                let fill = px(level_price(level));
                let mut worst = p.entry;
                let seen = history[p.first_tick..].iter().filter(|h| h.0 == p.inst).map(|h| h.1);
                for price in seen.chain([fill]) {
                    let worse = match p.side {
                        Side::Buy => price < worst,
                        Side::Sell => price > worst,
                    };
                    if worse {
                        worst = price;
                    }
                }
                let order_side = p.side.opposite();
                let f = exit_fill(p.seq, p.inst, order_side, level_price(level), 0.01, 0.0, ExitReason::Manual);
                st.on_event(&Event::from(f), &mut ctx);
                let ev = ctx.take();
                let Some(Event::PositionClosed(c)) = ev.first() else { return Err(TestCaseError::fail("no close")) };
                prop_assert_eq!(c.header.seq, p.seq);
                prop_assert_eq!(c.max_drawdown_pct, adverse_excursion_pct(p.side, p.entry, worst));
                continue;
            }
            Op::RejectExit { pick } => {
                if model.is_empty() {
                    continue;
                }
                let k = pick % model.len();
                let p = &mut model[k];
                p.closing = false;
                st.on_event(
                    &Event::OrderRejected(OrderRejected {
                        header: header(p.seq, p.inst),
                        position_size_usd: Usd::ZERO,
                        venue_code: 0,
                        code: DenialCode::VenueRejected,
                        purpose: FillPurpose::Exit,
                    }),
                    &mut ctx,
                );
            }
            Op::Advance { ms } => {
                ctx.now_ns += ms * MS;
                continue;
            }
            Op::Poll => {
                // Between ticks only max-hold deadlines fire (with a flatten's reason if set).
                for p in model.iter_mut().filter(|p| !p.closing && now >= p.opened_ns + HOLD_MS * MS) {
                    p.closing = true;
                    want.push((p.seq, p.forced.unwrap_or(ExitReason::MaxHold)));
                }
                st.poll(&mut ctx);
            }
            Op::Flatten => {
                for p in model.iter_mut() {
                    p.forced = Some(ExitReason::KillSwitch);
                    if !p.closing {
                        p.closing = true;
                        want.push((p.seq, ExitReason::KillSwitch));
                    }
                }
                st.on_event(&flatten_all(), &mut ctx);
            }
        }
        want.sort_unstable_by_key(|e| e.0);
        prop_assert_eq!(exit_set(&ctx.take()), want);
        prop_assert_eq!(st.pending_work(), 0);
    }
    prop_assert_eq!(st.open_positions(), model.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn exits_and_excursions_match_a_brute_force_reference(ops in proptest::collection::vec(op(), 0..120)) {
        run(ops)?;
    }
}
