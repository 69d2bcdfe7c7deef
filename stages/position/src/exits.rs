//! Exit decisions: SL/TP/max-hold on ticks, flattens, retries of untracked fills.
//!
//! Every decision marks the position closing so its exit is requested once; a rejected exit
//! clears the mark and the next check asks again. Each call requests at most its emit budget;
//! what is left over (an instrument marked dirty, a flatten cursor) continues in `poll`.

use tradeflow_core::{Ctx, Event, ExitReason, InstrumentIdx, MarketTick, Price, Side};

use crate::book::{Cursor, Position, NIL};
use crate::events::exit_request;
use crate::excursion::Tracking;
use crate::stage::{PositionStage, MAX_EMITS_PER_CALL};

/// Why `p` should close at `price` and `now_ns`, if it should: a flatten's reason first, then
/// stop-loss, take-profit, and max hold (`max_hold_ns` 0 = none).
#[inline]
pub(crate) fn exit_trigger(p: &Position, price: Price, now_ns: u64, max_hold_ns: u64) -> Option<ExitReason> {
    if let Some(reason) = p.forced {
        return Some(reason);
    }
    let (sl, tp) = (p.stop_loss, p.take_profit);
    let (sl_hit, tp_hit) = match p.side {
        Side::Buy => (price <= sl, price >= tp),
        Side::Sell => (price >= sl, price <= tp),
    };
    if sl.units() > 0 && sl_hit {
        Some(ExitReason::StopLoss)
    } else if tp.units() > 0 && tp_hit {
        Some(ExitReason::TakeProfit)
    } else if max_hold_ns > 0 && now_ns >= p.opened_ns.saturating_add(max_hold_ns) {
        Some(ExitReason::MaxHold)
    } else {
        None
    }
}

impl PositionStage {
    pub(crate) fn on_tick<C: Ctx>(&mut self, m: &MarketTick, ctx: &mut C) {
        let inst = m.header.instrument;
        let Some(mark) = self.marks.get_mut(inst.get()) else { return };
        if m.price.units() <= 0 {
            return;
        }
        mark.update(m.price, self.params.fast_alpha, self.params.slow_alpha);
        let cause = m.header.ts_origin_ns;
        let n = self.scan_instrument(inst, cause, MAX_EMITS_PER_CALL, ctx);
        if !self.orphans.is_empty() {
            self.retry_orphans(inst, cause, MAX_EMITS_PER_CALL - n, ctx);
        }
    }

    /// Notes the latest price of `inst` for its positions' excursions, then requests up to
    /// `budget` of the exits it triggers (found in the trigger index, O(log n) each); marks the
    /// instrument dirty when more are due. Returns the exits requested.
    pub(crate) fn scan_instrument<C: Ctx>(
        &mut self,
        inst: InstrumentIdx,
        cause_ns: u64,
        budget: usize,
        ctx: &mut C,
    ) -> usize {
        let price = self.marks[inst.get()].price;
        let now = ctx.now_ns();
        self.observe(inst, price);
        let mut emitted = 0;
        while emitted < budget {
            let Some(s) = self.book.triggered(inst, price, now) else { break };
            // The index holds exactly the positions `exit_trigger` fires for.
            let Some(reason) = exit_trigger(self.book.get(s), price, now, self.params.max_hold_ns) else { break };
            self.request_exit(s, reason, cause_ns, ctx);
            emitted += 1;
        }
        let backlog = self.book.triggered(inst, price, now).is_some();
        self.set_dirty(inst.get(), backlog);
        emitted
    }

    /// Records `price` in the excursion window of `inst`; tracks it into every position there
    /// instead when the window cannot stay exact (counted once per fallback).
    fn observe(&mut self, inst: InstrumentIdx, price: Price) {
        let oldest = self.book.inst_oldest(inst);
        let w = &mut self.windows[inst.get()];
        if oldest == NIL && w.tracking == Tracking::Eager {
            w.reset();
        }
        if w.tracking == Tracking::Lazy {
            let first = (oldest != NIL).then(|| self.first_obs[oldest as usize]);
            if w.observe(price, first).is_ok() {
                return;
            }
            self.fall_back(inst);
        }
        let mut s = self.book.inst_first(inst);
        while s != NIL {
            self.book.get_mut(s).track(price);
            s = self.book.inst_next(s);
        }
    }

    /// Moves `inst` to eager excursion tracking: each position takes its extremes so far.
    fn fall_back(&mut self, inst: InstrumentIdx) {
        self.stats.excursion_fallbacks += 1;
        let w = &mut self.windows[inst.get()];
        w.tracking = Tracking::Eager;
        let mut s = self.book.inst_first(inst);
        while s != NIL {
            if let Some((low, high)) = w.since(self.first_obs[s as usize]) {
                let p = self.book.get_mut(s);
                p.track(low);
                p.track(high);
            }
            s = self.book.inst_next(s);
        }
    }

    fn set_dirty(&mut self, i: usize, dirty: bool) {
        if self.dirty[i] != dirty {
            self.dirty[i] = dirty;
            if dirty {
                self.dirty_count += 1;
            } else {
                self.dirty_count -= 1;
            }
        }
    }

    /// Marks slot `s` closing and sends its exit at the instrument's latest price.
    pub(crate) fn request_exit<C: Ctx>(&mut self, s: u32, reason: ExitReason, cause_ns: u64, ctx: &mut C) {
        self.book.set_closing(s, true);
        let p = self.book.get(s);
        let price = self.marks[p.entry.instrument.get()].price;
        ctx.emit(Event::ExitRequest(exit_request(p, reason, price, cause_ns)));
        self.stats.exits_requested += 1;
    }

    /// Rescans instruments left dirty by an exhausted budget; returns the exits requested.
    pub(crate) fn rescan_dirty<C: Ctx>(&mut self, budget: usize, ctx: &mut C) -> usize {
        let mut emitted = 0;
        let mut i = 0;
        while self.dirty_count > 0 && i < self.dirty.len() && emitted < budget {
            if self.dirty[i] {
                emitted += self.scan_instrument(InstrumentIdx(i as u32), ctx.now_ns(), budget - emitted, ctx);
            }
            i += 1;
        }
        emitted
    }

    /// Starts closing every open position with `reason` (oldest first, spread over calls).
    pub(crate) fn start_flatten(&mut self, reason: ExitReason) {
        self.flatten = Some(reason);
        self.book.set_cursor(Cursor::Flatten, self.book.age_first());
    }

    /// Continues a flatten within `budget` exits; returns the exits requested.
    pub(crate) fn flatten_step<C: Ctx>(&mut self, budget: usize, ctx: &mut C) -> usize {
        let Some(reason) = self.flatten else { return 0 };
        let now = ctx.now_ns();
        let mut emitted = 0;
        loop {
            let s = self.book.cursor(Cursor::Flatten);
            if s == NIL {
                self.flatten = None;
                break;
            }
            // Positions already closing keep their exit, but a retry will use this reason.
            self.book.set_forced(s, reason);
            if !self.book.get(s).closing {
                if emitted == budget {
                    break;
                }
                self.request_exit(s, reason, now, ctx);
                emitted += 1;
            }
            self.book.set_cursor(Cursor::Flatten, self.book.age_next(s));
        }
        emitted
    }

    /// Closes positions past their max-hold deadline (ticks may be sparse); oldest first.
    pub(crate) fn max_hold_step<C: Ctx>(&mut self, budget: usize, ctx: &mut C) -> usize {
        let hold = self.params.max_hold_ns;
        if hold == 0 {
            return 0;
        }
        let now = ctx.now_ns();
        let mut emitted = 0;
        let mut s = self.book.age_first();
        while s != NIL && emitted < budget {
            let p = self.book.get(s);
            if now < p.opened_ns.saturating_add(hold) {
                break;
            }
            let next = self.book.age_next(s);
            if !p.closing {
                let reason = p.forced.unwrap_or(ExitReason::MaxHold);
                self.request_exit(s, reason, now, ctx);
                emitted += 1;
            }
            s = next;
        }
        emitted
    }

    /// The earliest max-hold deadline of a position not already closing.
    pub(crate) fn next_hold_deadline(&self) -> Option<u64> {
        let hold = self.params.max_hold_ns;
        if hold == 0 {
            return None;
        }
        let mut s = self.book.age_first();
        while s != NIL {
            let p = self.book.get(s);
            if !p.closing {
                return Some(p.opened_ns.saturating_add(hold));
            }
            s = self.book.age_next(s);
        }
        None
    }

    /// Sends the exit of an untracked fill.
    pub(crate) fn emit_orphan_exit<C: Ctx>(&mut self, o: &Position, cause_ns: u64, ctx: &mut C) {
        let price = self.marks.get(o.entry.instrument.get()).map_or(o.entry_price, |m| m.price);
        ctx.emit(Event::ExitRequest(exit_request(o, ExitReason::Manual, price, cause_ns)));
        self.stats.exits_requested += 1;
    }

    /// Re-sends rejected exits of untracked fills on `inst`.
    fn retry_orphans<C: Ctx>(&mut self, inst: InstrumentIdx, cause_ns: u64, budget: usize, ctx: &mut C) {
        let mut emitted = 0;
        for k in 0..self.orphans.len() {
            let o = self.orphans[k];
            if emitted < budget && !o.closing && o.entry.instrument == inst {
                self.orphans[k].closing = true;
                self.emit_orphan_exit(&o, cause_ns, ctx);
                emitted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeflow_core::{Header, Leverage, ModelIdx, Qty, Usd};

    fn long() -> Position {
        Position {
            entry: Header::default(),
            entry_price: Price(100),
            qty: Qty(1),
            stop_loss: Price(90),
            take_profit: Price(120),
            entry_commission: Usd::ZERO,
            opened_ns: 1_000,
            worst_price: Price(100),
            confidence: 0.5,
            leverage: Leverage::ONE,
            model: ModelIdx(0),
            side: Side::Buy,
            closing: false,
            forced: None,
        }
    }

    #[test]
    fn triggers_in_priority_order() {
        let p = long();
        assert_eq!(exit_trigger(&p, Price(100), 1_000, 500), None);
        assert_eq!(exit_trigger(&p, Price(90), 1_000, 500), Some(ExitReason::StopLoss));
        assert_eq!(exit_trigger(&p, Price(121), 1_000, 500), Some(ExitReason::TakeProfit));
        assert_eq!(exit_trigger(&p, Price(100), 1_500, 500), Some(ExitReason::MaxHold));
        assert_eq!(exit_trigger(&p, Price(100), 1_500, 0), None, "max hold off");
        assert_eq!(
            exit_trigger(&Position { forced: Some(ExitReason::KillSwitch), ..p }, Price(100), 0, 0),
            Some(ExitReason::KillSwitch)
        );
    }

    #[test]
    fn short_triggers_are_mirrored_and_zero_means_none() {
        let p = Position { side: Side::Sell, stop_loss: Price(110), take_profit: Price(80), ..long() };
        assert_eq!(exit_trigger(&p, Price(110), 0, 0), Some(ExitReason::StopLoss));
        assert_eq!(exit_trigger(&p, Price(80), 0, 0), Some(ExitReason::TakeProfit));
        assert_eq!(exit_trigger(&p, Price(95), 0, 0), None);
        let none = Position { stop_loss: Price::ZERO, take_profit: Price::ZERO, ..p };
        assert_eq!(exit_trigger(&none, Price(1), 0, 0), None);
        assert_eq!(exit_trigger(&none, Price(1_000), 0, 0), None);
    }
}
