//! Timer work of the position stage: the equity monitor, `position.updated` sweeps, and the
//! continuation of bursts (flattens, exits past the budget, max-hold deadlines).

use tradeflow_core::{Ctx, Event, ExitReason, Phase, SCALE};

use crate::book::{exposure_units, unrealized_units, Cursor, NIL};
use crate::events::{risk_alert, updated, AlertContext};
use crate::stage::{PositionStage, MAX_EMITS_PER_CALL};

impl PositionStage {
    /// One `poll`: alerts, flatten, left-over exits, max hold, then the update sweep, all
    /// within one emit budget. Returns the events emitted.
    pub(crate) fn poll_work<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        self.last_now_ns = ctx.now_ns();
        self.release_exit_retries(self.last_now_ns);
        let budget = MAX_EMITS_PER_CALL;
        let mut n = self.check_equity(ctx);
        if ctx.phase() == Phase::Flatten && self.flatten.is_none() && self.book.len() > self.book.closing() {
            self.start_flatten(ExitReason::Shutdown);
        }
        n += self.flatten_step(budget - n, ctx);
        n += self.rescan_dirty(budget - n, ctx);
        n += self.max_hold_step(budget - n, ctx);
        n += self.update_step(budget - n, ctx);
        n
    }

    /// Unrealized PnL and exposure at the latest prices, USD units (O(instruments)).
    fn open_risk_units(&self) -> (i128, i128) {
        let mut unrealized = 0;
        let mut exposure = 0;
        for (sums, mark) in self.book.sums().iter().zip(&self.marks) {
            unrealized += unrealized_units(sums, mark.price);
            exposure += exposure_units(sums, mark.price);
        }
        (unrealized, exposure)
    }

    /// Equity = initial balance + realized + unrealized, in USD units.
    pub(crate) fn equity_units(&self) -> i128 {
        let (unrealized, _) = self.open_risk_units();
        i128::from(self.initial.units()) + i128::from(self.stats.realized_pnl_usd.units()) + unrealized
    }

    /// Feeds the monitor and raises the alerts that just became due (at most 3).
    fn check_equity<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        let (_, exposure) = self.open_risk_units();
        let scale = SCALE as f64;
        let alerts = self.monitor.check(self.equity_units() as f64 / scale, exposure as f64 / scale);
        let mut n = 0;
        for a in alerts.iter().flatten() {
            self.stats.alerts += 1;
            let c = AlertContext {
                seq: self.stats.alerts,
                now_ns: ctx.now_ns(),
                drawdown_pct: self.monitor.drawdown_pct(),
                open_positions: self.book.len(),
                max_positions: self.params.max_positions,
            };
            ctx.emit(Event::RiskAlert(risk_alert(a, &c)));
            n += 1;
        }
        n
    }

    /// Starts a sweep every `update_interval_ms` and continues it within `budget`.
    fn update_step<C: Ctx>(&mut self, budget: usize, ctx: &mut C) -> usize {
        let interval = self.params.update_ns;
        let now = ctx.now_ns();
        if interval == 0 {
            return 0;
        }
        if !self.sweeping {
            if self.book.len() == 0 || now < self.next_update_ns {
                return 0;
            }
            self.sweeping = true;
            self.book.set_cursor(Cursor::Update, self.book.age_first());
            // Keep the cadence; after a long gap, start afresh rather than catch up.
            self.next_update_ns = self.next_update_ns.saturating_add(interval);
            if self.next_update_ns <= now {
                self.next_update_ns = now.saturating_add(interval);
            }
        }
        let mut emitted = 0;
        let mut s = self.book.cursor(Cursor::Update);
        while s != NIL && emitted < budget {
            let p = self.book.get(s);
            let mark = self.marks[p.entry.instrument.get()].price;
            ctx.emit(Event::PositionUpdated(updated(p, mark, now)));
            emitted += 1;
            s = self.book.age_next(s);
        }
        self.book.set_cursor(Cursor::Update, s);
        self.sweeping = s != NIL;
        self.stats.updates += emitted as u64;
        emitted
    }

    /// Now (last seen) while a burst continues; else the next update or max-hold deadline.
    pub(crate) fn wakeup(&self) -> Option<u64> {
        if self.flatten.is_some() || self.dirty_count > 0 || self.sweeping {
            return Some(self.last_now_ns);
        }
        let update = (self.params.update_ns > 0 && self.book.len() > 0).then_some(self.next_update_ns);
        let retry = self.exit_retries.front().map(|&(due, _)| due);
        [update, self.next_hold_deadline(), retry].into_iter().flatten().min()
    }
}
