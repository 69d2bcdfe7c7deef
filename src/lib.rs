//! tradeflow: a low-latency, event-driven trading pipeline.
//!
//! AI models emit trading signals; tradeflow sizes and risk-checks each one, sends the order to
//! the venue, tracks the position to its exit, and feeds the outcome to learning components.
//! Every stage runs on a pinned thread; stages talk only through single-producer lock-free
//! rings of fixed-layout events; every event is copied off the hot path to sinks; every hop is
//! timed into HdrHistograms.
//!
//! ```text
//!   ingress ──signal.generated──► risk ──trade.execution_requested──► gateway ──► venue (sim)
//!      ▲                          ▲  ▲                                 │   ▲
//!      │ publisher   policy upd.  │  │ market ticks     trade.executed │   │ exit requests
//!                        learning ┘  market ──────────────────────► position ─► position.*
//!                           ▲                  position.closed         │
//!                           └──────────────────────────────────────────┘
//!   every stage ──copy ring──► sink thread (--events-out, subscribers)
//!   every stage ──risk.alert / system.event_error──► control (kill switch, health)
//! ```
//!
//! - [`config`]: the TOML config (embedded default: [`config::DEFAULT_TOML`]).
//! - [`PipelineBuilder`]: config in, running [`Pipeline`] out; [`SignalPublisher`] to publish
//!   from the same process; [`PipelineBuilder::subscribe`] for event copies.
//! - [`runtime`]: threaded and inline runtimes. [`report`]: the end-of-run report.

#![forbid(unsafe_code)]

pub mod bench;
mod check_cmd;
pub mod cli;
pub mod config;
mod config_checks;
mod handles;
pub mod layered;
pub mod mock_cmd;
pub mod pipeline;
pub mod report;
pub mod runtime;
pub mod shutdown;
pub mod tail_cmd;

pub use config::Config;
pub use handles::{OperatorError, OperatorHandle, PublishError, SignalPublisher, SignalSpec};
pub use pipeline::{Pipeline, PipelineBuilder, Progress};
pub use report::RunReport;
pub use runtime::sink::{CopySink, EventCopy};
pub use tradeflow_binance as binance;
pub use tradeflow_core as core;
