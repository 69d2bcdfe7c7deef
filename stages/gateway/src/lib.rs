//! The gateway stage (TradeSubscriber): approved entries (`trade.execution_requested`) and exit
//! requests become venue orders; entry fills become `trade.executed`, exit fills
//! `trade.exit_executed`.
//!
//! ```text
//!  risk ──ExecutionRequested──►┌─────────┐──TradeExecuted──► position
//!  position ──ExitRequest─────►│ gateway │──OrderRejected──► position
//!  control ──ControlCommand───►└────┬────┘──SignalDenied, SystemEventError──► (sinks), control
//!                                   │ Venue: sim, or Binance USDⓈ-M over the WebSocket API
//! ```
//!
//! - Thread: shares the hot thread with risk and position (placement is config); owns no
//!   clock, time comes from `Ctx::now_ns`.
//! - Inputs: `ExecutionRequested` (entries: refused with `GATEWAY_HALTED` unless the kill
//!   switch is ACTIVE), `ExitRequest` (reduce-only: always sent), `ControlCommand::CancelAll`
//!   (working entries are cancelled).
//! - Outputs: `TradeExecuted`, `OrderRejected`, `SignalDenied`, `SystemEventError`.
//! - Latency budget: one kill-switch load, one venue call and one emit per order; well under
//!   1 µs for the sim venue.
//! - Allocation: venue queues are allocated in [`GatewayStage::try_new`] from
//!   `gateway.sim.max_pending`; `on_event` and `poll` never allocate, lock or log. At most
//!   8 events per call; due fills beyond that wait for the next `poll`.

#![forbid(unsafe_code)]

pub mod config;
pub mod events;
pub mod stage;
pub mod venue;

pub use config::{
    BinanceVenueConfig, EntryType, GatewayConfig, SimVenueConfig, TimeInForce, WhileDisconnected, KNOWN_VENUES,
};
pub use stage::{GatewayError, GatewayStage, GatewayStats, REPORT_BUDGET};
pub use venue::{
    AnyVenue, BinanceStats, BinanceVenue, Fill, Order, OrderIntent, RejectReason, Report, SimVenue, Submitted, Venue,
    VenueReject,
};
