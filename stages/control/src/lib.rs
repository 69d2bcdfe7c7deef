//! The control stage (RiskSubscriber + ErrorSubscriber): the kill switch, system health and
//! operator commands.
//!
//! - Thread: a cold stage; shares a backoff thread with other cold stages.
//! - Input: `risk.alert` (from every stage, including the alerts control raises itself: the
//!   runtime routes them back here, and control acts on them only then), `system.event_error`,
//!   `internal.operator_command`.
//! - Output: `internal.control_command` (`CANCEL_ALL`, `FLATTEN_ALL` → position, gateway),
//!   `internal.policy_update` (`ACTIVE_PROFILE` → risk), `risk.alert` (`ERROR_RATE`,
//!   `FATAL_ERROR`, `OPERATOR`).
//! - Alerts by severity: CRITICAL → [`tradeflow_core::KillSwitch`] HALTED (latched until an
//!   operator reset), `CANCEL_ALL` and, with `flatten_on_halt`, `FLATTEN_ALL`; HIGH → REDUCING and
//!   a `tracing` warning for the operator; MEDIUM / LOW → counted and logged.
//! - Errors: classified (recoverable or not, by code and component), counted in a bucketed
//!   sliding window, turned into a [`HealthState`]; a sustained rate raises one HIGH `ERROR_RATE`
//!   alert per episode; an unrecoverable error raises a CRITICAL `FATAL_ERROR`.
//! - Latency budget: the kill switch is set within the handling of the alert (one atomic
//!   `fetch_max`), microseconds after it was raised.
//! - Allocation: none after [`ControlStage::try_new`] (fixed counters and a fixed ring of
//!   buckets). Control logs each alert (alerts are rare; it is a cold stage), never per error.

#![forbid(unsafe_code)]

mod config;
mod stage;
pub mod window;

pub use config::ControlConfig;
pub use stage::{ControlError, ControlStage, ControlStats, HealthState};
