//! [`PositionStage`]: the position table's reaction to fills, rejections, ticks and commands.

use std::collections::VecDeque;
use std::sync::Arc;

use tradeflow_core::{
    Catalog, CommandKind, Ctx, ErrorCode, Event, ExitReason, FillPurpose, Header, OrderRejected, Stage, StageId,
    TradeExecuted, Usd,
};

use crate::book::{Book, Position};
use crate::config::PositionConfig;
use crate::events::{closed, exposure, fill_error, opened};
use crate::excursion::{Tracking, Window, WINDOW_CAPACITY};
use crate::index::InsertError;
use crate::market::Mark;
use crate::monitor::EquityMonitor;
use crate::pnl::{net_pnl, trigger_prices};

/// Why a position stage cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// The configuration has problems (every one is listed).
    #[error("invalid position configuration: {}", .0.join("; "))]
    InvalidConfig(Vec<String>),
}

/// Counters for the final report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PositionStats {
    /// Positions opened.
    pub opened: u64,
    /// Positions closed.
    pub closed: u64,
    /// Closed with a positive net PnL.
    pub wins: u64,
    /// Closed with a zero or negative net PnL.
    pub losses: u64,
    /// Realized PnL net of fees (including untracked fills closed at once).
    pub realized_pnl_usd: Usd,
    /// Positions open now.
    pub open: usize,
    /// Commission paid on entries and exits.
    pub fees_usd: Usd,
    /// Exit requests sent (retries included).
    pub exits_requested: u64,
    /// `position.updated` events sent.
    pub updates: u64,
    /// `risk.alert` events sent.
    pub alerts: u64,
    /// `system.event_error` events sent.
    pub errors: u64,
    /// Entry fills that could not be tracked (table full) and were closed at once.
    pub untracked: u64,
    /// Times an instrument's excursion window overflowed and it fell back to tracking every
    /// position on every tick (until it has no position open).
    pub excursion_fallbacks: u64,
}

/// Entry fills the table could not take, kept until their exit fills (a handful at most).
pub(crate) const ORPHAN_CAPACITY: usize = 64;
/// The most events one call emits; bursts (sweeps, flattens, mass exits) continue in `poll`.
pub(crate) const MAX_EMITS_PER_CALL: usize = 16;

/// Config values in the units the hot path uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    pub max_hold_ns: u64,
    pub update_ns: u64,
    pub exit_retry_ns: u64,
    pub fast_alpha: f64,
    pub slow_alpha: f64,
    pub band_pct: f64,
    pub max_positions: u32,
}

/// The PositionSubscriber and position monitor.
#[derive(Debug)]
pub struct PositionStage {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) params: Params,
    pub(crate) book: Book,
    pub(crate) marks: Vec<Mark>,
    /// Instruments with triggered exits left over from a call's emit budget.
    pub(crate) dirty: Vec<bool>,
    pub(crate) dirty_count: usize,
    /// Untracked entry fills awaiting their exit fill.
    pub(crate) orphans: Vec<Position>,
    /// Per instrument: recent prices for worst adverse excursions.
    pub(crate) windows: Vec<Window>,
    /// Per slot: the number of the first observation its position sees.
    pub(crate) first_obs: Vec<u64>,
    pub(crate) monitor: EquityMonitor,
    pub(crate) initial: Usd,
    pub(crate) next_update_ns: u64,
    pub(crate) sweeping: bool,
    pub(crate) flatten: Option<ExitReason>,
    /// Refused exits waiting to be asked again: (due ns, entry seq), due times in order.
    pub(crate) exit_retries: VecDeque<(u64, u64)>,
    pub(crate) last_now_ns: u64,
    pub(crate) stats: PositionStats,
}

impl PositionStage {
    /// Builds the stage; the table, index and per-instrument state are allocated here.
    pub fn try_new(cfg: &PositionConfig, catalog: Arc<Catalog>) -> Result<Self, PositionError> {
        let errs = cfg.validate("position");
        if !errs.is_empty() {
            return Err(PositionError::InvalidConfig(errs));
        }
        let n = catalog.instruments().len();
        let params = Params {
            max_hold_ns: cfg.max_hold_ms.saturating_mul(1_000_000),
            update_ns: cfg.update_interval_ms.saturating_mul(1_000_000),
            exit_retry_ns: cfg.exit_retry_ms.saturating_mul(1_000_000),
            fast_alpha: cfg.trend_fast_alpha,
            slow_alpha: cfg.trend_slow_alpha,
            band_pct: cfg.sideways_band_pct,
            max_positions: cfg.max_open_positions,
        };
        let capacity = cfg.max_open_positions as usize;
        let mut book = Book::with_capacity(capacity, n);
        book.set_max_hold_ns(params.max_hold_ns);
        Ok(PositionStage {
            book,
            windows: (0..n).map(|_| Window::with_capacity(WINDOW_CAPACITY)).collect(),
            first_obs: vec![0; capacity],
            catalog,
            params,
            marks: vec![Mark::default(); n],
            dirty: vec![false; n],
            dirty_count: 0,
            orphans: Vec::with_capacity(ORPHAN_CAPACITY),
            monitor: EquityMonitor::new(
                cfg.initial_balance_usd,
                cfg.drawdown_warning_pct,
                cfg.drawdown_critical_pct,
                cfg.max_exposure_usd,
            ),
            // Validated to lie in (0, 1e10].
            initial: Usd::from_f64(cfg.initial_balance_usd).unwrap_or(Usd::ZERO),
            next_update_ns: 0,
            sweeping: false,
            flatten: None,
            exit_retries: VecDeque::with_capacity(capacity + crate::stage::ORPHAN_CAPACITY),
            last_now_ns: 0,
            stats: PositionStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> PositionStats {
        PositionStats { open: self.book.len(), ..self.stats }
    }

    /// Positions open now.
    pub fn open_positions(&self) -> usize {
        self.book.len()
    }

    /// Equity now: initial balance + realized PnL + unrealized PnL at the latest prices.
    pub fn equity_usd(&self) -> Usd {
        Usd(self.equity_units().clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    /// Drawdown from peak equity at the last `poll`, percent.
    pub fn drawdown_pct(&self) -> f64 {
        self.monitor.drawdown_pct()
    }

    fn on_fill<C: Ctx>(&mut self, t: &TradeExecuted, ctx: &mut C) {
        self.stats.fees_usd = self.stats.fees_usd.saturating_add(t.commission_usd);
        match t.purpose {
            FillPurpose::Entry => self.on_entry_fill(t, ctx),
            FillPurpose::Exit => self.on_exit_fill(t, ctx),
        }
    }

    fn on_entry_fill<C: Ctx>(&mut self, t: &TradeExecuted, ctx: &mut C) {
        let Some(spec) = self.catalog.instrument(t.header.instrument) else {
            self.stats.errors += 1;
            ctx.emit(Event::SystemEventError(fill_error(
                t,
                ErrorCode::UnknownSymbol,
                b"fill for an unknown instrument",
            )));
            return;
        };
        let (stop_loss, take_profit) =
            trigger_prices(t.side, t.fill_price, t.stop_loss_pct, t.take_profit_pct, spec.tick_size);
        let now = ctx.now_ns();
        let pos = Position {
            entry: Header::derived(&t.header),
            entry_price: t.fill_price,
            qty: t.qty,
            stop_loss,
            take_profit,
            entry_commission: t.commission_usd,
            opened_ns: now,
            worst_price: t.fill_price,
            confidence: t.confidence,
            leverage: t.leverage,
            model: t.model,
            side: t.side,
            closing: false,
            forced: None,
        };
        self.marks[t.header.instrument.get()].seed(t.fill_price);
        let was_empty = self.book.len() == 0;
        match self.book.open(pos) {
            Ok(s) => {
                self.first_obs[s as usize] = self.windows[t.header.instrument.get()].next_num();
                self.stats.opened += 1;
                if was_empty && !self.sweeping {
                    self.next_update_ns = now.saturating_add(self.params.update_ns);
                }
                ctx.emit(Event::PositionOpened(opened(&pos)));
            }
            Err(e) => self.untracked(t, pos, e, ctx),
        }
    }

    /// A fill the table cannot hold: report it and close it at once (never keep an untracked
    /// position). It is remembered (if there is room) so its exit fill settles the PnL.
    fn untracked<C: Ctx>(&mut self, t: &TradeExecuted, mut pos: Position, e: InsertError, ctx: &mut C) {
        let raw: &[u8] = match e {
            InsertError::Full => b"position table full",
            InsertError::Duplicate => b"duplicate position seq",
        };
        self.stats.errors += 1;
        self.stats.untracked += 1;
        ctx.emit(Event::SystemEventError(fill_error(t, ErrorCode::PositionTableFull, raw)));
        pos.closing = true;
        self.emit_orphan_exit(&pos, t.header.ts_origin_ns, ctx);
        if self.orphans.len() < ORPHAN_CAPACITY {
            self.orphans.push(pos);
        }
    }

    fn on_exit_fill<C: Ctx>(&mut self, t: &TradeExecuted, ctx: &mut C) {
        let seq = t.header.seq;
        if let Some(k) = self.orphans.iter().position(|o| o.entry.seq == seq) {
            let o = self.orphans.swap_remove(k);
            let pnl = self.realize(&o, t);
            ctx.emit(Event::ExposureUpdate(exposure(&t.header, o.entry_notional(), pnl, true)));
            return;
        }
        let Some(s) = self.book.find(seq) else {
            self.stats.errors += 1;
            ctx.emit(Event::SystemEventError(fill_error(
                t,
                ErrorCode::UnknownPosition,
                b"exit fill for no open position",
            )));
            return;
        };
        let first_obs = self.first_obs[s as usize];
        let mut p = self.book.remove(s);
        let w = &self.windows[p.entry.instrument.get()];
        if w.tracking == Tracking::Lazy {
            if let Some((low, high)) = w.since(first_obs) {
                p.track(low);
                p.track(high);
            }
        }
        p.track(t.fill_price);
        let pnl = self.realize(&p, t);
        self.stats.closed += 1;
        if pnl.units() > 0 {
            self.stats.wins += 1;
        } else {
            self.stats.losses += 1;
        }
        let condition = self.marks[p.entry.instrument.get()].condition(self.params.band_pct);
        ctx.emit(Event::PositionClosed(closed(&p, t, pnl, ctx.now_ns(), condition)));
        ctx.emit(Event::ExposureUpdate(exposure(&t.header, p.entry_notional(), pnl, true)));
    }

    /// Net PnL of closing `p` with `fill`, added to the realized total.
    fn realize(&mut self, p: &Position, fill: &TradeExecuted) -> Usd {
        let fees = p.entry_commission.saturating_add(fill.commission_usd);
        let pnl = net_pnl(p.side, p.entry_price, fill.fill_price, p.qty, fees);
        self.stats.realized_pnl_usd = self.stats.realized_pnl_usd.saturating_add(pnl);
        pnl
    }

    fn on_rejected<C: Ctx>(&mut self, r: &OrderRejected, ctx: &mut C) {
        match r.purpose {
            FillPurpose::Entry => {
                ctx.emit(Event::ExposureUpdate(exposure(&r.header, r.position_size_usd, Usd::ZERO, false)));
            }
            FillPurpose::Exit => {
                // Clear the mark (now, or after exit_retry_ms): the next tick, max-hold check
                // or flatten asks again.
                let seq = r.header.seq;
                if self.params.exit_retry_ns > 0 && self.exit_retries.len() < self.exit_retries.capacity() {
                    let due = ctx.now_ns().saturating_add(self.params.exit_retry_ns);
                    self.exit_retries.push_back((due, seq));
                } else {
                    self.retry_exit(seq);
                }
            }
        }
    }

    /// Refused exits whose wait is over become eligible again.
    pub(crate) fn release_exit_retries(&mut self, now_ns: u64) {
        while let Some(&(due, seq)) = self.exit_retries.front() {
            if due > now_ns {
                break;
            }
            self.exit_retries.pop_front();
            self.retry_exit(seq);
        }
    }

    /// Makes the position of entry `seq` eligible for an exit again.
    pub(crate) fn retry_exit(&mut self, seq: u64) {
        if let Some(o) = self.orphans.iter_mut().find(|o| o.entry.seq == seq) {
            o.closing = false;
        } else if let Some(s) = self.book.find(seq) {
            self.book.set_closing(s, false);
        }
    }
}

impl Stage for PositionStage {
    fn id(&self) -> StageId {
        StageId::Position
    }

    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        self.last_now_ns = ctx.now_ns();
        if !self.exit_retries.is_empty() {
            self.release_exit_retries(self.last_now_ns);
        }
        match ev {
            Event::TradeExecuted(t) | Event::TradeExitExecuted(t) => self.on_fill(t, ctx),
            Event::MarketTick(m) => self.on_tick(m, ctx),
            Event::OrderRejected(r) => self.on_rejected(r, ctx),
            Event::ControlCommand(c) if c.kind == CommandKind::FlattenAll => {
                self.start_flatten(c.reason);
                self.flatten_step(MAX_EMITS_PER_CALL, ctx);
            }
            _ => {}
        }
    }

    fn poll<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        self.poll_work(ctx)
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        self.wakeup()
    }

    fn max_emits_per_call(&self) -> usize {
        MAX_EMITS_PER_CALL
    }

    /// Bursts left over from an emit budget (a flatten, triggered exits, an update sweep).
    /// Open positions are not counted: their timers are not work the run must wait for.
    fn pending_work(&self) -> usize {
        usize::from(self.flatten.is_some()) + self.dirty_count + usize::from(self.sweeping) + self.exit_retries.len()
    }
}
