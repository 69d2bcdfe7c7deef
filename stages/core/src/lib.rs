//! The vocabulary of tradeflow: events, ids, fixed-point money, the trace id, the kill switch,
//! the clock, latency recording, and the [`Stage`] contract every stage implements.
//!
//! - Thread: none of its own; every stage thread links it.
//! - Rings: defines [`Event`], the fixed-layout item of every ring (≤ 128 bytes).
//! - Latency budget: event construction and routing lookups are a few ns; nothing here blocks.
//! - Allocation: none after startup ([`LatencyRecorder`] and [`Catalog`] allocate when built;
//!   the JSON renderer is for the edges and allocates).

#![forbid(unsafe_code)]

pub mod catalog;
pub mod clock;
pub mod dedupe;
pub mod enums;
pub mod error_detail;
pub mod event;
pub mod fixed;
pub mod ids;
pub mod json;
pub mod kill;
pub mod latency;
pub mod models;
pub mod stage;
pub mod url;

pub use catalog::{Catalog, CatalogError, InstrumentSpec};
pub use clock::MonoClock;
pub use dedupe::DedupeTable;
pub use enums::*;
pub use error_detail::{error_details, ErrorDetail, ErrorDetails, DETAIL_RAW_MAX};
pub use event::emits;
pub use event::*;
pub use fixed::{Leverage, Price, Qty, Usd, SCALE};
pub use ids::{InstrumentIdx, ModelIdx, ProfileIdx, StageId, TraceId, TraceIdError, TRACE_ID_MAX};
pub use json::JsonRenderer;
pub use kill::KillSwitch;
pub use latency::LatencyRecorder;
pub use models::{is_valid_model_name, ModelRegistry, RegisterError, MAX_MODELS, MODEL_NAME_MAX};
pub use stage::{Ctx, Mark, Phase, RecordingCtx, SourceState, Stage};
pub use url::redact_url;
