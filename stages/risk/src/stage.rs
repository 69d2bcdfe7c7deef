//! [`RiskStage`]: the SignalSubscriber state machine (PolicyStore + sizing + RiskGuard).

use crate::config::RiskConfig;
use crate::guard::{Approval, Denial, Draft, Limits};
use crate::policy::PolicyStore;
use crate::state::{Account, Book, PriceBook, SymbolExposure, TokenBucket};
use crate::tables::{Reservation, ReserveError};
use crate::RiskError;
use std::sync::Arc;
use tradeflow_core::DedupeTable;
use tradeflow_core::{
    Catalog, Ctx, DenialCode, Event, ExecutionRequested, ExposureUpdate, Header, InstrumentIdx, KillSwitch, ProfileIdx,
    SignalDenied, SignalGenerated, Stage, StageId, Usd,
};

/// Slots of [`RiskStats::denied_by_code`] (every `DenialCode` is below this).
pub const DENIAL_SLOTS: usize = 32;
const _: () = {
    let mut i = 0;
    while i < DenialCode::ALL.len() {
        assert!((DenialCode::ALL[i].code() as usize) < DENIAL_SLOTS);
        i += 1;
    }
};

/// Counters and account figures for the report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskStats {
    /// Signals decided.
    pub signals: u64,
    /// Signals approved (`trade.execution_requested` emitted).
    pub approved: u64,
    /// Denials by `DenialCode::code()`.
    pub denied_by_code: [u64; DENIAL_SLOTS],
    /// Balance: initial balance plus realized PnL.
    pub balance_usd: Usd,
    /// Highest balance so far.
    pub peak_balance_usd: Usd,
    /// Realized PnL of the current UTC day.
    pub daily_pnl_usd: Usd,
    /// Open (reserved) positions.
    pub open_positions: u32,
    /// Reserved notional in total.
    pub exposure_total_usd: Usd,
    /// The active risk profile.
    pub active_profile: ProfileIdx,
    /// Reservations released by `ExposureUpdate`.
    pub released: u64,
    /// `ExposureUpdate`s for a `seq` with no reservation (ignored, their PnL too).
    pub unknown_releases: u64,
    /// `PolicyUpdate`s applied.
    pub policy_applied: u64,
    /// `PolicyUpdate`s refused (unknown model or profile, value out of range).
    pub policy_rejected: u64,
    /// Market ticks ignored (unknown instrument, non-positive price).
    pub ticks_ignored: u64,
    /// Input events of kinds risk does not consume.
    pub other_events: u64,
}

impl RiskStats {
    /// Denials with `code`.
    pub fn denied(&self, code: DenialCode) -> u64 {
        self.denied_by_code.get(code.code() as usize).copied().unwrap_or(0)
    }

    /// Denials in total.
    pub fn denied_total(&self) -> u64 {
        self.denied_by_code.iter().sum()
    }
}

/// The risk stage. See the crate documentation.
#[derive(Debug)]
pub struct RiskStage {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) kill: Arc<KillSwitch>,
    pub(crate) limits: Limits,
    pub(crate) policy: PolicyStore,
    pub(crate) prices: PriceBook,
    pub(crate) bucket: TokenBucket,
    pub(crate) account: Account,
    pub(crate) book: Book,
    dedupe: DedupeTable,
    stats: RiskStats,
}

impl RiskStage {
    /// Builds the stage; fails with every config problem (including models unknown to the
    /// catalog and a catalog whose profile list is not `profile_names(cfg)`).
    pub fn try_new(cfg: &RiskConfig, catalog: Arc<Catalog>, kill: Arc<KillSwitch>) -> Result<RiskStage, RiskError> {
        let mut problems = cfg.validate("risk");
        problems.extend(cfg.validate_against(&catalog));
        if !problems.is_empty() {
            return Err(RiskError::Config(problems));
        }
        let g = &cfg.guard;
        let balance = Usd::from_f64(cfg.initial_balance_usd).unwrap_or(Usd::ZERO);
        let n = catalog.instruments().len();
        let policy = PolicyStore::new(cfg, catalog.clone());
        let limits = Limits::new(g);
        let stats = RiskStats {
            signals: 0,
            approved: 0,
            denied_by_code: [0; DENIAL_SLOTS],
            balance_usd: balance,
            peak_balance_usd: balance,
            daily_pnl_usd: Usd::ZERO,
            open_positions: 0,
            exposure_total_usd: Usd::ZERO,
            active_profile: policy.active().0,
            released: 0,
            unknown_releases: 0,
            policy_applied: 0,
            policy_rejected: 0,
            ticks_ignored: 0,
            other_events: 0,
        };
        Ok(RiskStage {
            prices: PriceBook::new(n, g.collar_ema_alpha),
            bucket: TokenBucket::new(g.max_orders_per_sec, g.order_burst),
            account: Account::new(balance),
            book: Book::new(n, limits.max_open()),
            dedupe: DedupeTable::new(g.dedupe_window),
            catalog,
            kill,
            limits,
            policy,
            stats,
        })
    }

    /// Counters, balance, open positions and exposure.
    pub fn stats(&self) -> RiskStats {
        RiskStats {
            balance_usd: self.account.balance,
            peak_balance_usd: self.account.peak,
            daily_pnl_usd: self.account.daily_pnl,
            open_positions: self.book.open_positions() as u32,
            exposure_total_usd: self.book.total,
            active_profile: self.policy.active().0,
            ..self.stats
        }
    }

    /// Slots of the reservation table (at least 2 × `max_open_positions`, a power of two).
    pub fn reservation_capacity(&self) -> usize {
        self.book.capacity()
    }

    /// Open positions and reserved exposure on one symbol.
    pub fn symbol_exposure(&self, idx: InstrumentIdx) -> SymbolExposure {
        self.book.symbol(idx)
    }

    fn on_signal<C: Ctx>(&mut self, sig: &SignalGenerated, ctx: &mut C) {
        self.stats.signals += 1;
        // Every trace id is recorded on arrival, before any check: a replay is a duplicate even
        // when the first copy was denied for another reason.
        let dup = self.dedupe.check_and_insert(&sig.header.trace_id);
        let epoch_ns = ctx.epoch_ns();
        self.account.roll_day(epoch_ns);
        let mut draft = Draft::default();
        let outcome = self.evaluate(sig, dup, ctx.now_ns(), epoch_ns, &mut draft).and_then(|a| self.commit(sig, a));
        match outcome {
            Ok(a) => {
                self.stats.approved += 1;
                ctx.emit(Event::ExecutionRequested(execution_requested(sig, &a)));
            }
            Err(d) => {
                if let Some(n) = self.stats.denied_by_code.get_mut(d.code.code() as usize) {
                    *n += 1;
                }
                ctx.emit(Event::SignalDenied(signal_denied(sig, &d, &draft)));
            }
        }
    }

    /// Reserves the approved notional under the signal's `seq` and takes a rate token.
    fn commit(&mut self, sig: &SignalGenerated, a: Approval) -> Result<Approval, Denial> {
        let r = Reservation { seq: sig.header.seq, instrument: sig.header.instrument, notional: a.order.notional };
        match self.book.reserve(r) {
            Ok(()) => {
                self.bucket.take();
                Ok(a)
            }
            // An ingress sequence number seen twice: the same signal again.
            Err(ReserveError::Exists) => {
                Err(Denial { code: DenialCode::DuplicateTraceId, observed: sig.header.seq as f64, limit: 0.0 })
            }
            Err(ReserveError::Full) => Err(Denial {
                code: DenialCode::MaxPositionsTotal,
                observed: self.book.open_positions() as f64,
                limit: self.limits.max_open() as f64,
            }),
        }
    }

    fn on_exposure(&mut self, u: &ExposureUpdate, epoch_ns: i64) {
        match self.book.release(u.header.seq) {
            Some(_) => {
                self.stats.released += 1;
                if u.closed {
                    self.account.realize(u.realized_pnl_usd, epoch_ns);
                }
            }
            None => self.stats.unknown_releases += 1,
        }
    }
}

fn execution_requested(sig: &SignalGenerated, a: &Approval) -> ExecutionRequested {
    ExecutionRequested {
        header: Header::derived(&sig.header),
        position_size_usd: a.order.notional,
        qty: a.order.qty,
        ref_price: a.ref_price,
        confidence: sig.confidence,
        trade_risk_pct: a.sizing.trade_risk_pct as f32,
        stop_loss_pct: a.profile.stop_loss_pct as f32,
        take_profit_pct: a.profile.take_profit_pct as f32,
        leverage: tradeflow_core::Leverage::from_f64(a.sizing.leverage),
        model: sig.model,
        side: sig.side,
        profile: a.profile_idx,
    }
}

fn signal_denied(sig: &SignalGenerated, d: &Denial, draft: &Draft) -> SignalDenied {
    SignalDenied {
        header: Header::derived(&sig.header),
        position_size_usd: draft.notional,
        observed: d.observed,
        limit: d.limit,
        confidence: sig.confidence,
        leverage: draft.leverage,
        model: sig.model,
        code: d.code,
        side: sig.side,
        source: StageId::Risk,
    }
}

impl Stage for RiskStage {
    fn id(&self) -> StageId {
        StageId::Risk
    }

    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        match ev {
            Event::SignalGenerated(s) => self.on_signal(s, ctx),
            Event::MarketTick(t) => {
                if !self.prices.on_tick(t) {
                    self.stats.ticks_ignored += 1;
                }
            }
            Event::PolicyUpdate(u) => {
                if self.policy.apply(u) {
                    self.stats.policy_applied += 1;
                } else {
                    self.stats.policy_rejected += 1;
                }
            }
            Event::ExposureUpdate(u) => self.on_exposure(u, ctx.epoch_ns()),
            _ => self.stats.other_events += 1,
        }
    }

    fn max_emits_per_call(&self) -> usize {
        1
    }
}
