//! The Redis Streams mirror: a copy of every event, off the hot path, wire-compatible with the
//! reference system's streams (so dashboards written for it keep working).
//!
//! ```text
//!  sink thread ──MirrorInput::offer──► ring ──► mirror thread ──pipelined XADD──► Redis Streams
//!                 (drop + count when full)        <prefix><event_type>, <prefix>tradeflow.stats
//! ```
//!
//! - Thread: its own (`tf-mirror`); producers only push to a ring and never wait.
//! - Wire format: [`wire`]. Config: [`MirrorConfig`] (`[mirror]`).
//! - Failure behaviour: Redis down or slow never reaches trading — the mirror drops and counts,
//!   reconnects with backoff and jitter, and resumes.
//! - Allocation: the RESP batch buffer and encoder scratch are reused; the `redis` crate
//!   allocates its reply values per batch (on the mirror thread only).

#![forbid(unsafe_code)]

pub mod config;
pub mod mirror;
pub mod wire;

pub use config::MirrorConfig;
pub use mirror::{start, MirrorCounters, MirrorHandle, MirrorInput, MirrorReport};
