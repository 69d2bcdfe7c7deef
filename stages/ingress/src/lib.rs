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
//!
//! # Refused input
//!
//! Every refused line, frame or entry becomes one `system.event_error` and, on the network
//! sources, one nack with the same words. [`decode_signal_detailed`] says what is wrong as a
//! fixed-size [`DecodeError`]: the code, the field and the problem in words
//! (`confidence: expected a number, found a string`, `unknown field "extra"`,
//! `duplicate field "side"` — its own code, `DUPLICATE_FIELD`), the 1-based byte column (of the
//! field's key for a field's problem), and the document's trace id whenever one can be read —
//! from a document that fails validation, and from one whose JSON breaks after the id (the
//! parser fills a record the caller owns, so what was read survives the error).
//!
//! `system.event_error` is a fixed-layout event of at most 128 bytes on every ring; it has room
//! for a 40-byte excerpt, not for 256 bytes of input plus a message. So the text lives beside
//! the event, in the process-wide error-detail ring of `tradeflow_core::error_detail`
//! (4,096 preallocated fixed-size slots: raw input up to 256 bytes, the message, the trace id
//! as sent in UTF-8, line / frame and column). [`Refusal::to_event`] writes a slot and puts the
//! slot's ticket in the event's `detail`; the JSON renderer on the sink or mirror thread reads
//! the slot back for `error_message`, `trace_id` and `event_payload` (`raw`, `detail` = the
//! line / frame number, `column`). Recording copies bytes into a slot; nothing is allocated per
//! error for the ring. A slot is reused 4,096 errors later; an event rendered after that (or in
//! another process) falls back to its own 40-byte excerpt and a generic message. A per-stage
//! table would have needed the runtime to hand each renderer its stage's table; tickets unique
//! in the process let several pipelines share one ring.
//!
//! The event's header carries the trace id when it is one: `TraceId` stays 1–36 bytes of
//! printable ASCII (the layout needs the bound), so a longer id is refused (`INVALID_TRACE_ID`,
//! the message names the 36-byte limit) and echoed shortened to 33 bytes + `...`
//! ([`EchoedTrace`]) in the header, the log and the nack alike; a non-ASCII id is refused, and
//! echoed unchanged as UTF-8 in the nack and the log (the binary header has none).

#![forbid(unsafe_code)]

mod answer;
mod bytes;
mod config;
mod decode;
pub mod event_time;
mod jsonl;
mod limit;
mod lines;
mod pacing;
mod raw_signal;
pub mod redis;
mod refusal;
mod rng;
mod stage;
mod synthetic;
pub mod tcp;
pub mod ws;

pub use bytes::{spawn_reader, spawn_reader_from, ByteSource, DirectReader, ReadOutcome, RingByteSource};
pub use config::{
    FileClock, FileSourceConfig, IngressConfig, IngressSource, Origin, RedisSourceConfig, SyntheticConfig,
    TcpSourceConfig, WsSourceConfig, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_OUTBOUND_BYTES,
    HANDSHAKE_TIMEOUT_MS_RANGE, IDLE_TIMEOUT_MS_RANGE, MAX_DEDUPE_WINDOW, MAX_LINE_BYTES, MIN_LINE_BYTES,
    OUTBOUND_BYTES_RANGE,
};
pub use decode::{
    decode_signal, decode_signal_detailed, is_decode_error, read_trace_id, validate_signal_fields, DecodedSignal,
    SignalInput, FIELD_ERROR_CODES, MAX_TIMESTAMP_S, PARSE_ERROR_CODES,
};
pub use jsonl::{JsonLinesSource, SourceItem};
pub use lines::{Line, LineSplitter};
pub use pacing::Pacer;
pub use refusal::{DecodeError, EchoedTrace, Found, Position, Problem, Refusal, Snippet, TRUNCATION_MARK};
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
