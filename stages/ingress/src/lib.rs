//! tradeflow ingress: where signals enter the pipeline.
//!
//! ```text
//!  synthetic generator ─┐
//!  JSON lines (file, stdin; threaded reader → byte ring) ─┤
//!  TCP JSON lines / WebSocket frames (acked per signal) ──┼─► IngressStage ─► signal.generated ─► risk
//!  Redis stream consumer group (XACK after the ring) ─────┤                └─► system.event_error ─► control
//!  in-process publisher (on_event) ─┘
//! ```
//!
//! - Thread: the stage owns none; the runtime runs it (usually with `market` on the feed
//!   thread). The threaded file source adds one helper thread that does the blocking reads
//!   ([`spawn_reader`]); the stage only drains its byte ring. The network sources ([`tcp`],
//!   [`ws`], [`redis`]) use non-blocking sockets polled on the stage's thread.
//! - Limits and answers of the network sources: line / frame / payload size, connections,
//!   per-connection rate, duplicate trace ids (`dedupe_window`), and "busy" while the
//!   pipeline is backed up ([`tradeflow_core::Ctx::backed_up`]).
//! - Input: its own source, polled; `signal.generated` from in-process publishers.
//! - Output: `signal.generated` (seq = the signal's ordinal from 1, `ts_origin_ns` = its
//!   intended time on the pacing schedule), `system.event_error` for every rejected line.
//! - Latency budget: decoding and validating a reference signal ≈ 1 µs; a synthetic signal
//!   ≈ 100 ns.
//! - Allocation: buffers, tables and rings at construction only; `poll` and `on_event` do not
//!   allocate for valid input (a JSON string with escapes is unescaped into a small heap
//!   buffer; serde_json errors allocate on the rejection path).

#![forbid(unsafe_code)]

mod bytes;
mod config;
mod decode;
mod jsonl;
mod limit;
mod lines;
mod pacing;
pub mod redis;
mod rng;
mod stage;
mod synthetic;
pub mod tcp;
pub mod ws;

pub use bytes::{spawn_reader, spawn_reader_from, ByteSource, DirectReader, ReadOutcome, RingByteSource};
pub use config::{
    FileSourceConfig, IngressConfig, IngressSource, Origin, RedisSourceConfig, SyntheticConfig, TcpSourceConfig,
    WsSourceConfig, MAX_DEDUPE_WINDOW, MAX_LINE_BYTES, MIN_LINE_BYTES,
};
pub use decode::{
    decode_signal, is_decode_error, validate_signal_fields, DecodedSignal, SignalInput, FIELD_ERROR_CODES,
    MAX_TIMESTAMP_S, PARSE_ERROR_CODES,
};
pub use jsonl::{JsonLinesSource, SourceItem};
pub use lines::{Line, LineSplitter};
pub use pacing::Pacer;
pub use stage::{IngressStage, IngressStats, SourceKind, DEFAULT_RING_BYTES, MAX_EMITS_PER_POLL};
pub use synthetic::SyntheticGenerator;

/// Why the ingress stage cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    /// The config has problems (every one listed).
    #[error("invalid ingress config: {}", .0.join("; "))]
    Config(Vec<String>),
    /// The input file cannot be opened (or the reader thread not started).
    #[error("cannot open signal input {path:?}: {source}")]
    Open {
        /// The configured path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
