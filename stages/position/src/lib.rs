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
//! - Inputs: entry fills open positions (SL/TP prices on the tick grid); exit fills close them
//!   (`position.closed` with PnL net of both fees, and `ExposureUpdate` for risk); ticks move
//!   the marks and the trend filter and trigger SL / TP / max-hold exits; `OrderRejected`
//!   releases a refused entry's exposure or re-arms a refused exit; `FlattenAll` closes all.
//! - `poll`: equity drawdown and exposure alerts, the `position.updated` sweep every
//!   `update_interval_ms`, max-hold deadlines between ticks, `SHUTDOWN` exits in
//!   `Phase::Flatten`, and whatever a burst left over. At most 16 events per call.
//! - Latency budget: a tick costs O(positions on its instrument); a fill O(1) (hash index,
//!   intrusive lists); the monitor O(instruments). Sub-µs for typical books.
//! - Allocation: the table (`max_open_positions` slots), its index and per-instrument state are
//!   allocated in [`PositionStage::try_new`]; `on_event` and `poll` never allocate, lock or log.

#![forbid(unsafe_code)]

mod book;
pub mod config;
mod events;
mod exits;
mod index;
mod market;
mod monitor;
pub mod pnl;
mod poll;
pub mod stage;

pub use config::PositionConfig;
pub use stage::{PositionError, PositionStage, PositionStats};
