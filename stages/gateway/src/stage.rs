//! [`GatewayStage`]: the trading rules around a venue — kill switch, order ids, events.

use std::sync::Arc;

use tradeflow_core::{
    Catalog, CommandKind, Ctx, DenialCode, Event, ExecutionRequested, ExitRequest, KillSwitch, Mark, Stage, StageId,
    TradingState, Usd,
};

use crate::config::GatewayConfig;
use crate::events::{order_rejected, signal_denied, trade_executed, venue_error};
use crate::venue::{
    AnyVenue, BinanceStats, BinanceVenue, Fill, Order, OrderIntent, Report, SimVenue, Submitted, Venue, VenueReject,
};

/// Why a gateway cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The configuration has problems (every one is listed).
    #[error("invalid gateway configuration: {}", .0.join("; "))]
    InvalidConfig(Vec<String>),
    /// The venue could not be set up (exchange unreachable, key refused, clock drift, …).
    #[error("venue {venue}: {reason}")]
    Venue {
        /// The venue name.
        venue: String,
        /// What went wrong.
        reason: String,
    },
}

/// Counters for the final report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Orders handed to the venue.
    pub orders: u64,
    /// Fills (entries + exits).
    pub fills: u64,
    /// Entry fills.
    pub entry_fills: u64,
    /// Exit fills.
    pub exit_fills: u64,
    /// Orders that did not fill (`OrderRejected` emitted), for any reason.
    pub rejects: u64,
    /// Of `rejects`: entries refused or cancelled because trading was not ACTIVE.
    pub halted_rejects: u64,
    /// Of `rejects`: refusals by the venue itself.
    pub venue_rejects: u64,
    /// Of `rejects`: working entries cancelled by `CancelAll`.
    pub cancelled: u64,
    /// Commission paid on all fills.
    pub fees_usd: Usd,
}

/// Events a fill or a cancellation report emits at most (a cancelled entry: `OrderRejected` +
/// `SignalDenied`).
const MAX_EMITS_PER_REPORT: usize = 2;
/// Events a venue refusal emits (`OrderRejected` + `SignalDenied` + `SystemEventError`): one
/// more than [`MAX_EMITS_PER_REPORT`], allowed for by the call's slack.
const EMITS_PER_REFUSAL: usize = 3;
/// Events one call drains reports up to (reports are drained while two more fit).
pub const REPORT_BUDGET: usize = 8;
/// The most events one call emits: the budget plus the slack a final refusal may use.
const MAX_EMITS_PER_CALL: usize = REPORT_BUDGET + EMITS_PER_REFUSAL - MAX_EMITS_PER_REPORT;

/// The TradeSubscriber: turns approved entries and exit requests into venue orders and fills.
#[derive(Debug)]
pub struct GatewayStage {
    venue: AnyVenue,
    kill: Arc<KillSwitch>,
    last_order_id: u64,
    /// Set by `CancelAll`: working entries reported since then are cancellations, not halts.
    cancelling: u64,
    stats: GatewayStats,
}

impl GatewayStage {
    /// Builds the stage and its venue (all queues allocated here).
    pub fn try_new(cfg: &GatewayConfig, catalog: Arc<Catalog>, kill: Arc<KillSwitch>) -> Result<Self, GatewayError> {
        let errs = cfg.validate("gateway");
        if !errs.is_empty() {
            return Err(GatewayError::InvalidConfig(errs));
        }
        // `validate` admits only known venue names.
        let venue = match cfg.venue.as_str() {
            "binance" => AnyVenue::Binance(Box::new(
                BinanceVenue::connect(&cfg.binance, &catalog, kill.clone())
                    .map_err(|reason| GatewayError::Venue { venue: cfg.venue.clone(), reason })?,
            )),
            _ => AnyVenue::Sim(SimVenue::new(&cfg.sim, catalog)),
        };
        Ok(GatewayStage { venue, kill, last_order_id: 0, cancelling: 0, stats: GatewayStats::default() })
    }

    /// Counters so far.
    pub fn stats(&self) -> GatewayStats {
        self.stats
    }

    /// Binance venue counters (`None` for other venues).
    pub fn binance_stats(&self) -> Option<BinanceStats> {
        match &self.venue {
            AnyVenue::Binance(v) => Some(v.stats()),
            AnyVenue::Sim(_) => None,
        }
    }

    /// The run id hashed into the Binance venue's client order ids (`None` for other venues):
    /// what a restart of this run must set as `gateway.binance.run_id` to keep exactly-once.
    pub fn venue_run_id(&self) -> Option<&str> {
        match &self.venue {
            AnyVenue::Binance(v) => Some(v.run_id()),
            AnyVenue::Sim(_) => None,
        }
    }

    /// Whether the venue can take entries now (always for sim; Binance: the order-entry
    /// connection is up and logged on).
    pub fn venue_connected(&self) -> bool {
        match &self.venue {
            AnyVenue::Binance(v) => v.api_ready(),
            AnyVenue::Sim(_) => true,
        }
    }

    /// Orders accepted by the venue and not yet reported.
    pub fn working_orders(&self) -> usize {
        self.venue.working()
    }

    fn entries_allowed(&self) -> bool {
        self.kill.state() == TradingState::Active
    }

    fn on_entry<C: Ctx>(&mut self, req: &ExecutionRequested, ctx: &mut C) {
        let state = self.kill.state();
        if state != TradingState::Active {
            self.stats.halted_rejects += 1;
            self.reject(&OrderIntent::Entry(*req), DenialCode::GatewayHalted, 0, f64::from(state.code()), ctx);
            return;
        }
        // Sim: the order is handed over at the call. Binance: once its frame is written to
        // the socket, which `submit` does.
        let on_wire = matches!(self.venue, AnyVenue::Binance(_));
        if !on_wire {
            ctx.mark(Mark::OrderToVenue, &req.header);
        }
        self.submit(OrderIntent::Entry(*req), ctx);
        if on_wire {
            ctx.mark(Mark::OrderToVenue, &req.header);
        }
    }

    fn on_exit<C: Ctx>(&mut self, req: &ExitRequest, ctx: &mut C) {
        // Exits reduce risk: allowed in every kill-switch state.
        self.submit(OrderIntent::Exit(*req), ctx);
    }

    fn submit<C: Ctx>(&mut self, intent: OrderIntent, ctx: &mut C) {
        self.last_order_id += 1;
        self.stats.orders += 1;
        let order = Order { order_id: self.last_order_id, intent };
        match self.venue.submit(order, ctx.now_ns()) {
            Submitted::Filled(fill) => self.filled(&fill, ctx),
            Submitted::Accepted => {}
            Submitted::Rejected(order, rej) => self.venue_rejected(&order, rej, ctx),
        }
    }

    fn filled<C: Ctx>(&mut self, fill: &Fill, ctx: &mut C) {
        let ev = trade_executed(fill);
        self.stats.fills += 1;
        match fill.order.intent {
            OrderIntent::Entry(_) => self.stats.entry_fills += 1,
            OrderIntent::Exit(_) => self.stats.exit_fills += 1,
        }
        self.stats.fees_usd = self.stats.fees_usd.saturating_add(fill.commission);
        ctx.emit(Event::from(ev));
    }

    fn venue_rejected<C: Ctx>(&mut self, order: &Order, rej: VenueReject, ctx: &mut C) {
        self.stats.venue_rejects += 1;
        self.reject(&order.intent, DenialCode::VenueRejected, rej.venue_code, f64::from(rej.venue_code), ctx);
        ctx.emit(Event::SystemEventError(venue_error(order, rej)));
    }

    /// `OrderRejected`, and for entries `signal.denied` (risk and learning see the outcome).
    fn reject<C: Ctx>(&mut self, intent: &OrderIntent, code: DenialCode, venue_code: i32, observed: f64, ctx: &mut C) {
        self.stats.rejects += 1;
        ctx.emit(Event::OrderRejected(order_rejected(intent, code, venue_code)));
        if let OrderIntent::Entry(req) = intent {
            ctx.emit(Event::SignalDenied(signal_denied(req, code, observed, 0.0)));
        }
    }

    /// Emits venue reports due now, within `budget` events; returns how many were emitted.
    fn drain_reports<C: Ctx>(&mut self, budget: usize, ctx: &mut C) -> usize {
        let mut emitted = 0;
        while emitted + MAX_EMITS_PER_REPORT <= budget {
            let allowed = self.entries_allowed();
            match self.venue.poll_report(ctx.now_ns(), allowed) {
                None => break,
                Some(Report::Filled(fill)) => {
                    self.filled(&fill, ctx);
                    emitted += 1;
                }
                Some(Report::Cancelled(order)) => {
                    self.cancelled(&order, ctx);
                    emitted += MAX_EMITS_PER_REPORT;
                }
                Some(Report::Rejected(order, rej)) => {
                    self.venue_rejected(&order, rej, ctx);
                    emitted += EMITS_PER_REFUSAL;
                }
            }
        }
        emitted
    }

    /// A working entry that will not go out: cancelled by `CancelAll`, or due after a halt.
    fn cancelled<C: Ctx>(&mut self, order: &Order, ctx: &mut C) {
        if order.order_id <= self.cancelling {
            self.stats.cancelled += 1;
        } else {
            self.stats.halted_rejects += 1;
        }
        let state = f64::from(self.kill.state().code());
        self.reject(&order.intent, DenialCode::GatewayHalted, 0, state, ctx);
    }
}

impl Stage for GatewayStage {
    fn id(&self) -> StageId {
        StageId::Gateway
    }

    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        match ev {
            Event::ExecutionRequested(req) => self.on_entry(req, ctx),
            Event::ExitRequest(req) => self.on_exit(req, ctx),
            Event::ControlCommand(cmd) if cmd.kind == CommandKind::CancelAll => {
                self.cancelling = self.last_order_id;
                self.venue.cancel_entries(ctx.now_ns());
                self.drain_reports(REPORT_BUDGET, ctx);
            }
            _ => {}
        }
    }

    fn poll<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        self.drain_reports(REPORT_BUDGET, ctx)
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        self.venue.next_wakeup_ns()
    }

    fn max_emits_per_call(&self) -> usize {
        MAX_EMITS_PER_CALL
    }

    /// Orders at the venue still to be reported (latency queue and unreported cancels).
    fn pending_work(&self) -> usize {
        self.venue.working()
    }
}
