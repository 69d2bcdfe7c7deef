//! The position stage (PositionSubscriber + position monitor): keeps open positions, decides
//! exits, and reports outcomes.
//!
//! ```text
//!  gateway ──TradeExecuted, OrderRejected──►┌──────────┐──PositionOpened/Updated/Closed──► learning, sinks
//!  market ──MarketTick─────────────────────►│ position │──ExitRequest──► gateway
//!  control ──ControlCommand (FlattenAll)───►└──────────┘──ExposureUpdate──► risk
//!                                                        ──RiskAlert, SystemEventError──► control
//! ```
//!
//! - Thread: shares the hot thread with risk and gateway (placement is config); owns no clock,
//!   time comes from `Ctx::now_ns`.
//! - Inputs: entry fills (`trade.executed`) open positions (SL/TP prices on the tick grid);
//!   exit fills (`trade.exit_executed`) close them (`position.closed` with PnL net of both
//!   fees, and `ExposureUpdate` for risk); ticks move the marks and the trend filter and
//!   trigger SL / TP / max-hold exits; `OrderRejected`
//!   releases a refused entry's exposure or re-arms a refused exit; `FlattenAll` closes all.
//! - `poll`: equity drawdown and exposure alerts, the `position.updated` sweep every
//!   `update_interval_ms`, max-hold deadlines between ticks, `SHUTDOWN` exits in
//!   `Phase::Flatten`, and whatever a burst left over. At most 16 events per call.
//! - Latency budget: a tick costs O(log n + k) for k exits it triggers: SL/TP levels and
//!   max-hold deadlines sit in per-instrument indexed heaps, and the worst adverse excursion is
//!   computed at the exit fill from a per-instrument window of suffix minima/maxima (O(log n)).
//!   If a window overflows, that instrument falls back to visiting its positions on each tick
//!   (exact, counted in `excursion_fallbacks`) until it has none open. A fill costs O(log n)
//!   (hash index, intrusive lists, heaps); the monitor O(instruments).
//! - Allocation: the table (`max_open_positions` slots), its index and per-instrument state are
//!   allocated in [`PositionStage::try_new`]; `on_event` and `poll` never allocate, lock or log.
//!   Memory beyond the table: trigger heaps, instruments × 3 × `max_open_positions` × 12 bytes
//!   (+12 bytes per slot); excursion windows, instruments × 128 KiB (+8 bytes per slot).

#![forbid(unsafe_code)]

mod book;
pub mod config;
mod events;
mod excursion;
mod exits;
mod index;
mod market;
mod monitor;
pub mod pnl;
mod poll;
pub mod stage;
mod triggers;

pub use config::PositionConfig;
pub use stage::{PositionError, PositionStage, PositionStats};
