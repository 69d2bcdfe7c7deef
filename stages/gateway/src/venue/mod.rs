//! The venue interface: where orders go and where fills come from.
//!
//! The gateway stage owns the trading rules (kill switch, order ids, events); a venue only
//! prices, queues and reports orders. [`Venue`] is a small monomorphized trait (no `dyn` on the
//! hot path); [`AnyVenue`] is the config-selected set, dispatched with a `match`. A new venue
//! (e.g. Binance WebSocket) is one more module and one more `AnyVenue` variant.

pub mod binance;
pub mod sim;

pub use binance::{BinanceStats, BinanceVenue};
pub use sim::SimVenue;

use tradeflow_core::{ExecutionRequested, ExitRequest, FillPurpose, Header, InstrumentIdx, Price, Qty, Side, Usd};

/// What an order is for: the request it carries, kept whole so the fill can be described
/// with the request's trace, confidence, model and SL/TP.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OrderIntent {
    /// An entry approved by risk.
    Entry(ExecutionRequested),
    /// A reduce-only exit requested by position (or control).
    Exit(ExitRequest),
}

/// An order as handed to a venue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Order {
    /// The gateway's order id (also the venue order id of sim fills).
    pub order_id: u64,
    /// The request behind it.
    pub intent: OrderIntent,
}

impl Order {
    /// Header of the request.
    #[inline]
    pub fn header(&self) -> &Header {
        match &self.intent {
            OrderIntent::Entry(r) => &r.header,
            OrderIntent::Exit(r) => &r.header,
        }
    }

    /// The instrument traded.
    #[inline]
    pub fn instrument(&self) -> InstrumentIdx {
        self.header().instrument
    }

    /// Order side.
    #[inline]
    pub fn side(&self) -> Side {
        match &self.intent {
            OrderIntent::Entry(r) => r.side,
            OrderIntent::Exit(r) => r.side,
        }
    }

    /// Requested quantity.
    #[inline]
    pub fn qty(&self) -> Qty {
        match &self.intent {
            OrderIntent::Entry(r) => r.qty,
            OrderIntent::Exit(r) => r.qty,
        }
    }

    /// Reference price at decision time.
    #[inline]
    pub fn ref_price(&self) -> Price {
        match &self.intent {
            OrderIntent::Entry(r) => r.ref_price,
            OrderIntent::Exit(r) => r.ref_price,
        }
    }

    /// Entry or exit.
    #[inline]
    pub fn purpose(&self) -> FillPurpose {
        match &self.intent {
            OrderIntent::Entry(_) => FillPurpose::Entry,
            OrderIntent::Exit(_) => FillPurpose::Exit,
        }
    }
}

/// A filled order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    /// The order.
    pub order: Order,
    /// Average fill price (tick-size rounded).
    pub price: Price,
    /// Filled quantity (step-size rounded).
    pub qty: Qty,
    /// Commission paid.
    pub commission: Usd,
}

/// Why a venue refused an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The queue of orders waiting for their fill is full.
    QueueFull,
    /// The instrument is not in the catalog.
    UnknownInstrument,
    /// The quantity rounds below the step size or the minimum quantity.
    QtyBelowMinimum,
    /// No usable reference price (zero or negative).
    NoPrice,
    /// The exchange refused the order (its code and message are in the [`VenueReject`]).
    Exchange,
    /// The exchange's filters (tick, step, minimum notional) refuse it; checked before sending.
    Filter,
    /// Not connected to the exchange (entries are not queued while disconnected).
    Disconnected,
    /// The exchange's rate limit is in force (429), or this client is banned (418).
    RateLimited,
    /// The local clock is too far from the exchange's: trading refused.
    ClockDrift,
    /// The order's state could not be learned from the exchange before giving up.
    StatusUnknown,
}

impl RejectReason {
    /// A short text for the `raw` excerpt of the `system.event_error`.
    pub const fn text(self) -> &'static str {
        match self {
            RejectReason::QueueFull => "venue: pending order queue full",
            RejectReason::UnknownInstrument => "venue: unknown instrument",
            RejectReason::QtyBelowMinimum => "venue: quantity below minimum",
            RejectReason::NoPrice => "venue: no reference price",
            RejectReason::Exchange => "venue: rejected by the exchange",
            RejectReason::Filter => "venue: exchange filter",
            RejectReason::Disconnected => "venue: not connected",
            RejectReason::RateLimited => "venue: rate limited",
            RejectReason::ClockDrift => "venue: clock drift beyond limit",
            RejectReason::StatusUnknown => "venue: order status unknown",
        }
    }
}

/// Bytes of the venue's message kept with a refusal (the `raw` excerpt of the error event).
pub const REJECT_TEXT: usize = tradeflow_core::RAW_EXCERPT;

/// A venue's refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueReject {
    /// The venue's own error code (0 for the sim venue's refusals).
    pub venue_code: i32,
    /// Why.
    pub reason: RejectReason,
    /// The venue's message (truncated), empty when the reason says it all.
    text: [u8; REJECT_TEXT],
    text_len: u8,
}

impl VenueReject {
    /// A refusal decided locally.
    pub const fn local(reason: RejectReason) -> VenueReject {
        VenueReject { venue_code: 0, reason, text: [0; REJECT_TEXT], text_len: 0 }
    }

    /// A refusal with the venue's code and message (kept truncated).
    pub fn with_text(reason: RejectReason, venue_code: i32, msg: &str) -> VenueReject {
        let b = msg.as_bytes();
        let n = b.len().min(REJECT_TEXT);
        let mut text = [0; REJECT_TEXT];
        text[..n].copy_from_slice(&b[..n]);
        VenueReject { venue_code, reason, text, text_len: n as u8 }
    }

    /// The venue's message, or the reason's text.
    pub fn text(&self) -> &[u8] {
        if self.text_len == 0 {
            self.reason.text().as_bytes()
        } else {
            &self.text[..usize::from(self.text_len)]
        }
    }
}

/// The immediate outcome of [`Venue::submit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Submitted {
    /// Filled at once.
    Filled(Fill),
    /// Accepted; its outcome comes later from [`Venue::poll_report`].
    Accepted,
    /// Refused; nothing is working.
    Rejected(Order, VenueReject),
}

/// A later outcome of an accepted order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Report {
    /// The order filled.
    Filled(Fill),
    /// The order was cancelled before it filled (cancel-all, or an entry due after a halt).
    Cancelled(Order),
    /// The venue refused the order after accepting it for sending (an asynchronous answer).
    Rejected(Order, VenueReject),
}

/// A place orders go to. Implementations never allocate after construction.
pub trait Venue: Send {
    /// Offers an order at `now_ns`.
    fn submit(&mut self, order: Order, now_ns: u64) -> Submitted;

    /// The next outcome due at `now_ns`, if any. When `entries_allowed` is false, an entry
    /// that comes due is cancelled instead of sent.
    fn poll_report(&mut self, now_ns: u64, entries_allowed: bool) -> Option<Report>;

    /// Cancels every working entry order; each comes back as [`Report::Cancelled`].
    fn cancel_entries(&mut self, now_ns: u64);

    /// When [`Venue::poll_report`] next has something (for the inline runtime).
    fn next_wakeup_ns(&self) -> Option<u64>;

    /// Orders accepted and not yet reported.
    fn working(&self) -> usize;
}

/// The venues of this build, chosen by `gateway.venue`.
#[derive(Debug)]
pub enum AnyVenue {
    /// In-process simulated fills.
    Sim(SimVenue),
    /// Binance USDⓈ-M futures over the WebSocket API.
    Binance(Box<BinanceVenue>),
}

impl Venue for AnyVenue {
    #[inline]
    fn submit(&mut self, order: Order, now_ns: u64) -> Submitted {
        match self {
            AnyVenue::Sim(v) => v.submit(order, now_ns),
            AnyVenue::Binance(v) => v.submit(order, now_ns),
        }
    }

    #[inline]
    fn poll_report(&mut self, now_ns: u64, entries_allowed: bool) -> Option<Report> {
        match self {
            AnyVenue::Sim(v) => v.poll_report(now_ns, entries_allowed),
            AnyVenue::Binance(v) => v.poll_report(now_ns, entries_allowed),
        }
    }

    fn cancel_entries(&mut self, now_ns: u64) {
        match self {
            AnyVenue::Sim(v) => v.cancel_entries(now_ns),
            AnyVenue::Binance(v) => v.cancel_entries(now_ns),
        }
    }

    #[inline]
    fn next_wakeup_ns(&self) -> Option<u64> {
        match self {
            AnyVenue::Sim(v) => v.next_wakeup_ns(),
            AnyVenue::Binance(v) => v.next_wakeup_ns(),
        }
    }

    #[inline]
    fn working(&self) -> usize {
        match self {
            AnyVenue::Sim(v) => v.working(),
            AnyVenue::Binance(v) => v.working(),
        }
    }
}
