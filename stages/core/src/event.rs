//! The event vocabulary: fixed-layout `Copy` structs, one per event type, and [`Event`], the
//! tagged form carried on every ring.
//!
//! Every struct is `#[repr(C)]`, at most 120 bytes (so [`Event`], with its tag, fits two cache
//! lines), and asserted so at compile time beside its definition. Each begins with a
//! [`Header`]: sequence, trace id, instrument and the two timestamps.

use crate::enums::*;
use crate::fixed::{Leverage, Price, Qty, Usd};
use crate::ids::{InstrumentIdx, ModelIdx, ProfileIdx, StageId, TraceId};

/// Size limit of an event struct, so that [`Event`] (tag + struct) stays within 128 bytes.
pub const MAX_EVENT_STRUCT: usize = 120;

macro_rules! assert_size {
    ($t:ty) => {
        const _: () = assert!(std::mem::size_of::<$t>() <= MAX_EVENT_STRUCT);
    };
}

/// Fields every event starts with.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// Sequence: the signal's ordinal at ingress for signal-derived events, the emitting
    /// stage's own counter otherwise.
    pub seq: u64,
    /// When the signal entered the pipeline (ns on the run's monotonic clock); for events
    /// not derived from a signal, when their cause happened.
    pub ts_origin_ns: u64,
    /// When this event was pushed (stamped by the runtime on emit).
    pub ts_emit_ns: u64,
    /// The signal's trace id, unchanged on every derived event.
    pub trace_id: TraceId,
    /// The symbol, or [`InstrumentIdx::NONE`].
    pub instrument: InstrumentIdx,
}
const _: () = assert!(std::mem::size_of::<Header>() == 64);

impl Header {
    /// A header for an event derived from `cause` (same seq, trace, instrument, origin).
    #[inline]
    pub fn derived(cause: &Header) -> Header {
        Header { ts_emit_ns: 0, ..*cause }
    }

    /// A header for an event that starts a new chain at `now_ns`.
    #[inline]
    pub fn origin(seq: u64, trace_id: TraceId, instrument: InstrumentIdx, now_ns: u64) -> Header {
        Header { seq, ts_origin_ns: now_ns, ts_emit_ns: 0, trace_id, instrument }
    }
}

/// `signal.generated`: a model's trading signal, validated by ingress.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalGenerated {
    /// Common fields.
    pub header: Header,
    /// The signal's own timestamp (epoch µs), as sent by the model.
    pub signal_ts_us: i64,
    /// Model confidence in 0..=1.
    pub confidence: f32,
    /// Model version.
    pub model: ModelIdx,
    /// Direction.
    pub side: Side,
    /// Prediction horizon.
    pub timeframe: Timeframe,
}
assert_size!(SignalGenerated);

/// `trade.execution_requested`: a sized order approved by RiskGuard.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExecutionRequested {
    /// Common fields.
    pub header: Header,
    /// Order notional in USD.
    pub position_size_usd: Usd,
    /// Order quantity (step-size rounded).
    pub qty: Qty,
    /// Reference price at decision time.
    pub ref_price: Price,
    /// Signal confidence.
    pub confidence: f32,
    /// Percent of balance put at risk.
    pub trade_risk_pct: f32,
    /// Stop-loss distance in percent.
    pub stop_loss_pct: f32,
    /// Take-profit distance in percent.
    pub take_profit_pct: f32,
    /// Leverage.
    pub leverage: Leverage,
    /// Model version.
    pub model: ModelIdx,
    /// Direction.
    pub side: Side,
    /// Active risk profile.
    pub profile: ProfileIdx,
}
assert_size!(ExecutionRequested);

/// Whether a fill opened or closed a position.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillPurpose {
    /// An entry order.
    Entry = 0,
    /// An exit order (reduce-only).
    Exit = 1,
}

/// An order filled at the venue. An entry fill travels as `trade.executed` (the reference
/// event: `entry_price` …), an exit fill as `trade.exit_executed`; [`Event::from`] picks the
/// kind from [`TradeExecuted::purpose`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeExecuted {
    /// Common fields.
    pub header: Header,
    /// Venue order id.
    pub order_id: u64,
    /// Average fill price.
    pub fill_price: Price,
    /// Filled quantity.
    pub qty: Qty,
    /// Commission paid.
    pub commission_usd: Usd,
    /// Slippage against the reference price, percent (positive = adverse).
    pub slippage_pct: f32,
    /// Signal confidence (entry) / entry confidence (exit).
    pub confidence: f32,
    /// Stop-loss distance in percent (entries).
    pub stop_loss_pct: f32,
    /// Take-profit distance in percent (entries).
    pub take_profit_pct: f32,
    /// Leverage.
    pub leverage: Leverage,
    /// Model version.
    pub model: ModelIdx,
    /// Order side.
    pub side: Side,
    /// Entry or exit.
    pub purpose: FillPurpose,
    /// Exit reason (exits only).
    pub exit_reason: ExitReason,
}
assert_size!(TradeExecuted);

impl TradeExecuted {
    /// Filled notional.
    pub fn notional(&self) -> Usd {
        self.fill_price.notional(self.qty)
    }
}

/// `position.opened`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionOpened {
    /// Common fields.
    pub header: Header,
    /// Entry price.
    pub entry_price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Stop-loss trigger price.
    pub stop_loss_price: Price,
    /// Take-profit trigger price.
    pub take_profit_price: Price,
    /// Leverage.
    pub leverage: Leverage,
    /// Position direction.
    pub side: Side,
}
assert_size!(PositionOpened);

impl PositionOpened {
    /// Entry notional.
    pub fn size_usd(&self) -> Usd {
        self.entry_price.notional(self.qty)
    }
}

/// `position.updated`: periodic unrealized PnL of an open position.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionUpdated {
    /// Common fields.
    pub header: Header,
    /// Entry price.
    pub entry_price: Price,
    /// Latest reference price.
    pub mark_price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Unrealized PnL (before exit fees).
    pub unrealized_pnl_usd: Usd,
    /// Unrealized PnL in percent of entry notional.
    pub unrealized_pnl_pct: f32,
    /// Leverage.
    pub leverage: Leverage,
    /// Position direction.
    pub side: Side,
}
assert_size!(PositionUpdated);

/// `position.closed`: the outcome the learning stage learns from.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionClosed {
    /// Common fields.
    pub header: Header,
    /// Entry price.
    pub entry_price: Price,
    /// Exit price.
    pub exit_price: Price,
    /// Entry notional.
    pub size_usd: Usd,
    /// Realized PnL net of entry and exit fees.
    pub pnl_usd: Usd,
    /// `pnl_usd` in percent of entry notional.
    pub pnl_pct: f32,
    /// Worst adverse excursion while open, percent of entry price.
    pub max_drawdown_pct: f32,
    /// The entry signal's confidence.
    pub entry_confidence: f32,
    /// Time open, ms (saturating).
    pub duration_ms: u32,
    /// Leverage.
    pub leverage: Leverage,
    /// Model version.
    pub model: ModelIdx,
    /// Position direction.
    pub side: Side,
    /// Why it closed.
    pub exit_reason: ExitReason,
    /// Market regime at exit.
    pub market_condition: MarketCondition,
}
assert_size!(PositionClosed);

/// `risk.alert`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskAlert {
    /// Common fields (trace id names the alert, e.g. `risk-000001`).
    pub header: Header,
    /// Observed value (drawdown %, exposure USD, error rate …).
    pub observed: f64,
    /// The limit it was checked against.
    pub limit: f64,
    /// Current equity drawdown, percent.
    pub current_drawdown_pct: f32,
    /// Open positions when raised.
    pub open_positions: u16,
    /// Position limit.
    pub max_positions: u16,
    /// Model concerned (model alerts), else NONE.
    pub model: ModelIdx,
    /// Severity.
    pub severity: Severity,
    /// What it is about.
    pub alert_type: AlertType,
    /// What was done.
    pub action: AlertAction,
    /// Risk profile in force.
    pub profile: ProfileIdx,
    /// Who raised it.
    pub source: StageId,
}
assert_size!(RiskAlert);

/// Bytes of raw input kept in a `system.event_error`.
pub const RAW_EXCERPT: usize = 40;

/// `system.event_error`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SystemEventError {
    /// Common fields (trace id of the signal if known).
    pub header: Header,
    /// Extra number: line number, byte offset or venue error code.
    pub detail: i64,
    /// The start of the offending input.
    pub raw: [u8; RAW_EXCERPT],
    /// How many bytes of `raw` are used.
    pub raw_len: u8,
    /// What went wrong.
    pub code: ErrorCode,
    /// The stage that saw it.
    pub component: StageId,
    /// The event type being handled.
    pub event_kind: EventKind,
    /// Retries so far.
    pub retry_count: u8,
}
assert_size!(SystemEventError);

impl SystemEventError {
    /// An error about `raw` input (kept truncated).
    pub fn new(
        header: Header,
        code: ErrorCode,
        component: StageId,
        event_kind: EventKind,
        raw: &[u8],
        detail: i64,
    ) -> Self {
        let n = raw.len().min(RAW_EXCERPT);
        let mut buf = [0u8; RAW_EXCERPT];
        buf[..n].copy_from_slice(&raw[..n]);
        SystemEventError { header, detail, raw: buf, raw_len: n as u8, code, component, event_kind, retry_count: 0 }
    }

    /// The kept excerpt of the raw input.
    pub fn raw(&self) -> &[u8] {
        &self.raw[..usize::from(self.raw_len).min(RAW_EXCERPT)]
    }
}

/// `signal.denied`: RiskGuard (or the venue) refused a signal.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalDenied {
    /// Common fields.
    pub header: Header,
    /// Intended notional (0 if sizing did not run).
    pub position_size_usd: Usd,
    /// The value that failed the check.
    pub observed: f64,
    /// The limit it failed against.
    pub limit: f64,
    /// Signal confidence.
    pub confidence: f32,
    /// Intended leverage.
    pub leverage: Leverage,
    /// Model version.
    pub model: ModelIdx,
    /// Stable denial code.
    pub code: DenialCode,
    /// Direction.
    pub side: Side,
    /// Who denied it.
    pub source: StageId,
}
assert_size!(SignalDenied);

/// `model.drift_detected`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelDriftDetected {
    /// Common fields.
    pub header: Header,
    /// The detector's statistic when it fired.
    pub statistic: f64,
    /// Its threshold.
    pub threshold: f64,
    /// Mean error before the change.
    pub mean_before: f32,
    /// Mean error in the recent window.
    pub mean_recent: f32,
    /// Observations seen for the model.
    pub samples: u32,
    /// The drifting model.
    pub model: ModelIdx,
}
assert_size!(ModelDriftDetected);

/// `model.promoted`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelPromoted {
    /// Common fields.
    pub header: Header,
    /// Test statistic of challenger vs incumbent.
    pub statistic: f64,
    /// Challenger mean PnL %.
    pub challenger_mean_pnl_pct: f32,
    /// Incumbent mean PnL %.
    pub incumbent_mean_pnl_pct: f32,
    /// Challenger trades evaluated.
    pub challenger_trades: u32,
    /// Incumbent trades evaluated.
    pub incumbent_trades: u32,
    /// The model promoted.
    pub promoted: ModelIdx,
    /// The model it replaces.
    pub replaced: ModelIdx,
}
assert_size!(ModelPromoted);

/// A reference price (internal; market → risk, position).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarketTick {
    /// Common fields (`ts_origin_ns` = when the price was observed).
    pub header: Header,
    /// Reference (mid / mark) price.
    pub price: Price,
}
assert_size!(MarketTick);

/// A request to close a position (internal; position/control → gateway).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExitRequest {
    /// Common fields (trace id of the position's entry signal).
    pub header: Header,
    /// Quantity to close.
    pub qty: Qty,
    /// Reference price when the exit was decided.
    pub ref_price: Price,
    /// Entry confidence (carried to the fill).
    pub confidence: f32,
    /// Leverage (carried to the fill).
    pub leverage: Leverage,
    /// Model (carried to the fill).
    pub model: ModelIdx,
    /// Side of the exit order (opposite of the position).
    pub side: Side,
    /// Why.
    pub reason: ExitReason,
}
assert_size!(ExitRequest);

/// A change of policy for the risk stage (internal; learning/control → risk).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicyUpdate {
    /// Common fields.
    pub header: Header,
    /// New value (multiplier, weight, 0/1).
    pub value: f64,
    /// Model concerned.
    pub model: ModelIdx,
    /// What changes.
    pub kind: PolicyKind,
    /// Profile (for `ActiveProfile`).
    pub profile: ProfileIdx,
}
assert_size!(PolicyUpdate);

/// Exposure change reported to risk (internal; position → risk).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExposureUpdate {
    /// Common fields (the position's trace id).
    pub header: Header,
    /// Notional reserved by risk at approval, now released.
    pub released_usd: Usd,
    /// Realized PnL (net of fees) to add to the balance.
    pub realized_pnl_usd: Usd,
    /// True when a position closed, false when an entry never filled.
    pub closed: bool,
}
assert_size!(ExposureUpdate);

/// An order the venue refused (internal; gateway → position).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderRejected {
    /// Common fields.
    pub header: Header,
    /// Notional of the refused entry (released in risk).
    pub position_size_usd: Usd,
    /// Venue error code (0 for the sim venue's own refusals).
    pub venue_code: i32,
    /// Why.
    pub code: DenialCode,
    /// Entry or exit.
    pub purpose: FillPurpose,
}
assert_size!(OrderRejected);

/// A command from control (internal; control → position, gateway).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ControlCommand {
    /// Common fields.
    pub header: Header,
    /// What to do.
    pub kind: CommandKind,
    /// Exit reason to use for flattening.
    pub reason: ExitReason,
}
assert_size!(ControlCommand);

/// Commands an operator can send into a running pipeline (internal; handle → control).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperatorCommand {
    /// Common fields.
    pub header: Header,
    /// Value for `RaiseAlert` (observed) or the profile for `SwitchProfile`.
    pub value: f64,
    /// What to do.
    pub kind: OperatorKind,
    /// Severity for `RaiseAlert`.
    pub severity: Severity,
    /// Profile for `SwitchProfile`.
    pub profile: ProfileIdx,
}
assert_size!(OperatorCommand);

/// What an [`OperatorCommand`] asks for.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorKind {
    /// Reset the kill switch to ACTIVE.
    ResetKillSwitch = 0,
    /// Raise a `risk.alert` of the given severity (as the operator).
    RaiseAlert = 1,
    /// Make another risk profile active.
    SwitchProfile = 2,
    /// Close every open position.
    FlattenAll = 3,
}

/// `impl From<$ty> for Event` for kinds with a type of their own (`from: true`).
macro_rules! event_from {
    (true, $var:ident, $ty:ident) => {
        impl From<$ty> for Event {
            #[inline]
            fn from(e: $ty) -> Event {
                Event::$var(e)
            }
        }
    };
    (false, $var:ident, $ty:ident) => {};
}

macro_rules! events {
    ($($(#[$doc:meta])* $var:ident($ty:ident) = $code:literal, $name:literal, external: $ext:literal, from: $from:tt;)+) => {
        /// The kind of an event (its stable code and external name).
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventKind {
            $($(#[$doc])* $var = $code,)+
        }

        impl EventKind {
            /// Every kind, in code order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$var,)+];
            /// Number of kinds.
            pub const COUNT: usize = [$($code,)+].len();

            /// The external event name (`signal.generated` …), or an internal name.
            pub const fn name(self) -> &'static str {
                match self { $(EventKind::$var => $name,)+ }
            }

            /// Whether the event is part of the external vocabulary (copied to sinks).
            pub const fn is_external(self) -> bool {
                match self { $(EventKind::$var => $ext,)+ }
            }

            /// Looks a kind up by name.
            pub fn from_name(s: &str) -> Option<EventKind> {
                match s { $($name => Some(EventKind::$var),)+ _ => None }
            }

            /// The index as a `usize`.
            pub const fn get(self) -> usize { self as usize }
        }

        /// Any event, as carried on rings.
        #[repr(C, u8)]
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Event {
            $($(#[$doc])* $var($ty),)+
        }

        impl Event {
            /// The event's kind.
            #[inline]
            pub const fn kind(&self) -> EventKind {
                match self { $(Event::$var(_) => EventKind::$var,)+ }
            }

            /// The common header.
            #[inline]
            pub const fn header(&self) -> &Header {
                match self { $(Event::$var(e) => &e.header,)+ }
            }

            /// The common header, mutably.
            #[inline]
            pub fn header_mut(&mut self) -> &mut Header {
                match self { $(Event::$var(e) => &mut e.header,)+ }
            }
        }

        $(event_from!($from, $var, $ty);)+
    };
}

events! {
    /// `signal.generated`
    SignalGenerated(SignalGenerated) = 0, "signal.generated", external: true, from: true;
    /// `trade.execution_requested`
    ExecutionRequested(ExecutionRequested) = 1, "trade.execution_requested", external: true, from: true;
    /// `trade.executed`
    TradeExecuted(TradeExecuted) = 2, "trade.executed", external: true, from: false;
    /// `position.opened`
    PositionOpened(PositionOpened) = 3, "position.opened", external: true, from: true;
    /// `position.updated`
    PositionUpdated(PositionUpdated) = 4, "position.updated", external: true, from: true;
    /// `position.closed`
    PositionClosed(PositionClosed) = 5, "position.closed", external: true, from: true;
    /// `risk.alert`
    RiskAlert(RiskAlert) = 6, "risk.alert", external: true, from: true;
    /// `system.event_error`
    SystemEventError(SystemEventError) = 7, "system.event_error", external: true, from: true;
    /// `signal.denied`
    SignalDenied(SignalDenied) = 8, "signal.denied", external: true, from: true;
    /// `model.drift_detected`
    ModelDriftDetected(ModelDriftDetected) = 9, "model.drift_detected", external: true, from: true;
    /// `model.promoted`
    ModelPromoted(ModelPromoted) = 10, "model.promoted", external: true, from: true;
    /// internal: reference price
    MarketTick(MarketTick) = 11, "internal.market_tick", external: false, from: true;
    /// internal: close a position
    ExitRequest(ExitRequest) = 12, "internal.exit_request", external: false, from: true;
    /// internal: policy change for risk
    PolicyUpdate(PolicyUpdate) = 13, "internal.policy_update", external: false, from: true;
    /// internal: exposure released / PnL realized
    ExposureUpdate(ExposureUpdate) = 14, "internal.exposure_update", external: false, from: true;
    /// internal: venue refused an order
    OrderRejected(OrderRejected) = 15, "internal.order_rejected", external: false, from: true;
    /// internal: command from control
    ControlCommand(ControlCommand) = 16, "internal.control_command", external: false, from: true;
    /// internal: operator command
    OperatorCommand(OperatorCommand) = 17, "internal.operator_command", external: false, from: true;
    /// `trade.exit_executed`: an exit (reduce-only) order filled
    TradeExitExecuted(TradeExecuted) = 18, "trade.exit_executed", external: true, from: false;
}

impl From<TradeExecuted> for Event {
    /// An entry fill becomes `trade.executed`, an exit fill `trade.exit_executed`.
    #[inline]
    fn from(t: TradeExecuted) -> Event {
        match t.purpose {
            FillPurpose::Entry => Event::TradeExecuted(t),
            FillPurpose::Exit => Event::TradeExitExecuted(t),
        }
    }
}

impl Event {
    /// The fill of a `trade.executed` or `trade.exit_executed`.
    #[inline]
    pub const fn fill(&self) -> Option<&TradeExecuted> {
        match self {
            Event::TradeExecuted(t) | Event::TradeExitExecuted(t) => Some(t),
            _ => None,
        }
    }
}

const _: () = assert!(std::mem::size_of::<Event>() <= 128);

impl EventKind {
    /// The stages that consume this kind (the static routing of the pipeline).
    pub const fn consumers(self) -> &'static [StageId] {
        use StageId::*;
        match self {
            EventKind::SignalGenerated => &[Risk],
            EventKind::ExecutionRequested => &[Gateway],
            EventKind::TradeExecuted | EventKind::TradeExitExecuted => &[Position],
            EventKind::PositionClosed => &[Learning],
            EventKind::RiskAlert | EventKind::SystemEventError => &[Control],
            EventKind::MarketTick => &[Risk, Position],
            EventKind::ExitRequest => &[Gateway],
            EventKind::PolicyUpdate | EventKind::ExposureUpdate => &[Risk],
            EventKind::OrderRejected => &[Position],
            EventKind::ControlCommand => &[Position, Gateway],
            EventKind::OperatorCommand => &[Control],
            EventKind::PositionOpened
            | EventKind::PositionUpdated
            | EventKind::SignalDenied
            | EventKind::ModelDriftDetected
            | EventKind::ModelPromoted => &[],
        }
    }

    /// Whether this kind carries a signal's trace chain (its latency since the signal's
    /// origin is an end-to-end figure).
    pub const fn is_signal_chain(self) -> bool {
        matches!(
            self,
            EventKind::SignalGenerated
                | EventKind::ExecutionRequested
                | EventKind::TradeExecuted
                | EventKind::TradeExitExecuted
                | EventKind::PositionOpened
                | EventKind::PositionClosed
                | EventKind::SignalDenied
                | EventKind::OrderRejected
        )
    }
}

/// The kinds each stage may emit (the runtime builds one ring per producer/consumer pair from
/// this table and [`EventKind::consumers`]).
pub const fn emits(stage: StageId) -> &'static [EventKind] {
    use EventKind::*;
    match stage {
        StageId::Ingress => &[SignalGenerated, SystemEventError],
        StageId::Market => &[MarketTick, SystemEventError],
        StageId::Risk => &[ExecutionRequested, SignalDenied, SystemEventError, RiskAlert],
        StageId::Gateway => {
            &[TradeExecuted, TradeExitExecuted, OrderRejected, SignalDenied, SystemEventError, RiskAlert]
        }
        StageId::Position => {
            &[PositionOpened, PositionUpdated, PositionClosed, ExitRequest, ExposureUpdate, RiskAlert, SystemEventError]
        }
        StageId::Learning => &[PolicyUpdate, ModelDriftDetected, ModelPromoted, RiskAlert],
        StageId::Control => &[ControlCommand, PolicyUpdate, RiskAlert],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        assert_eq!(EventKind::COUNT, EventKind::ALL.len());
        for (i, k) in EventKind::ALL.iter().enumerate() {
            assert_eq!(k.get(), i);
            assert_eq!(EventKind::from_name(k.name()), Some(*k));
        }
    }

    #[test]
    fn event_fits_two_cache_lines() {
        assert!(std::mem::size_of::<Event>() <= 128);
        assert_eq!(std::mem::size_of::<Header>(), 64);
    }

    #[test]
    fn error_keeps_a_truncated_excerpt() {
        let raw = [b'x'; 100];
        let e = SystemEventError::new(
            Header::default(),
            ErrorCode::Oversized,
            StageId::Ingress,
            EventKind::SignalGenerated,
            &raw,
            7,
        );
        assert_eq!(e.raw().len(), RAW_EXCERPT);
        let e = SystemEventError::new(
            Header::default(),
            ErrorCode::EmptyInput,
            StageId::Ingress,
            EventKind::SignalGenerated,
            b"",
            1,
        );
        assert!(e.raw().is_empty());
    }

    #[test]
    fn a_fill_becomes_entry_or_exit_event_by_purpose() {
        let fill = TradeExecuted {
            header: Header::default(),
            order_id: 1,
            fill_price: Price(1),
            qty: Qty(1),
            commission_usd: Usd(0),
            slippage_pct: 0.0,
            confidence: 0.5,
            stop_loss_pct: 0.0,
            take_profit_pct: 0.0,
            leverage: Leverage(100),
            model: ModelIdx(0),
            side: Side::Buy,
            purpose: FillPurpose::Entry,
            exit_reason: ExitReason::Manual,
        };
        assert_eq!(Event::from(fill).kind().name(), "trade.executed");
        let exit = TradeExecuted { purpose: FillPurpose::Exit, ..fill };
        let ev = Event::from(exit);
        assert_eq!(ev.kind().name(), "trade.exit_executed");
        assert_eq!(ev.fill(), Some(&exit));
        assert_eq!(ev.kind().consumers(), EventKind::TradeExecuted.consumers());
        assert!(emits(StageId::Gateway).contains(&EventKind::TradeExitExecuted));
        assert!(ev.kind().is_external() && ev.kind().is_signal_chain());
    }

    #[test]
    fn every_trading_kind_has_a_consumer() {
        for k in [
            EventKind::SignalGenerated,
            EventKind::ExecutionRequested,
            EventKind::TradeExecuted,
            EventKind::TradeExitExecuted,
            EventKind::ExitRequest,
        ] {
            assert!(!k.consumers().is_empty());
        }
        assert!(EventKind::PositionOpened.consumers().is_empty());
    }
}
