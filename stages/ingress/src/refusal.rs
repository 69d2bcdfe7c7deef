//! Why an input is refused, in words: the [`Problem`] behind every ingress error code, the
//! trace id read from the refused input ([`EchoedTrace`]), and the position.
//!
//! All of it is `Copy` and fixed-size (short copies of the offending text in [`Snippet`]s), so
//! a refusal is described without allocating; the stage writes the message into the
//! process-wide error-detail ring ([`tradeflow_core::error_detail`]) and the same words go into
//! the client's nack.

use std::fmt::{self, Write};

use tradeflow_core::{
    error_details, ErrorCode, EventKind, Header, InstrumentIdx, StageId, SystemEventError, TraceId, TRACE_ID_MAX,
};

/// Marks a trace id shortened to fit [`TRACE_ID_MAX`] bytes.
pub const TRUNCATION_MARK: &str = "...";

/// Bytes a [`Snippet`] keeps.
const SNIPPET_MAX: usize = 48;

/// A short copy of offending text (a field name, a value, a library's message), cut at a
/// character boundary and marked `…` when longer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    bytes: [u8; SNIPPET_MAX],
    len: u8,
    cut: bool,
}

impl Default for Snippet {
    fn default() -> Self {
        Snippet { bytes: [0; SNIPPET_MAX], len: 0, cut: false }
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Write for Snippet {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let at = usize::from(self.len);
        let room = SNIPPET_MAX - at;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes[at..at + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len = (at + n) as u8;
        self.cut |= n < s.len();
        Ok(())
    }
}

impl Snippet {
    /// A copy of `s` (cut if long).
    pub fn new(s: &str) -> Snippet {
        let mut out = Snippet::default();
        let _ = out.write_str(s);
        out
    }

    /// The kept text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.cut {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// The trace id of an input as it is echoed back: the client's text unchanged (any UTF-8)
/// when it has at most [`TRACE_ID_MAX`] bytes, else its start followed by [`TRUNCATION_MARK`]
/// (the whole at most [`TRACE_ID_MAX`] bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EchoedTrace {
    bytes: [u8; TRACE_ID_MAX],
    len: u8,
    /// The id's length as sent, in bytes (saturated at `u32::MAX`).
    pub sent_len: u32,
}

impl fmt::Debug for EchoedTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl EchoedTrace {
    /// The echo of `sent`.
    pub fn new(sent: &str) -> EchoedTrace {
        let sent_len = u32::try_from(sent.len()).unwrap_or(u32::MAX);
        let mut out = EchoedTrace { bytes: [0; TRACE_ID_MAX], len: 0, sent_len };
        let (keep, mark) = if sent.len() <= TRACE_ID_MAX {
            (sent.len(), "")
        } else {
            let mut n = TRACE_ID_MAX - TRUNCATION_MARK.len();
            while !sent.is_char_boundary(n) {
                n -= 1;
            }
            (n, TRUNCATION_MARK)
        };
        out.bytes[..keep].copy_from_slice(&sent.as_bytes()[..keep]);
        out.bytes[keep..keep + mark.len()].copy_from_slice(mark.as_bytes());
        out.len = (keep + mark.len()) as u8;
        out
    }

    /// The echoed text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the id was shortened.
    pub fn is_truncated(&self) -> bool {
        self.sent_len as usize > TRACE_ID_MAX
    }

    /// The echo as an event's trace id, when it is one (printable ASCII); a non-ASCII id
    /// travels only in the error's detail record.
    pub fn trace_id(&self) -> Option<TraceId> {
        TraceId::try_new(self.as_str()).ok()
    }
}

/// The kind of JSON value found where another was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` / `false`.
    Bool,
    /// `null`.
    Null,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Found {
    fn article(self) -> &'static str {
        match self {
            Found::String => "a string",
            Found::Number => "a number",
            Found::Bool => "a boolean",
            Found::Null => "null",
            Found::Array => "an array",
            Found::Object => "an object",
        }
    }
}

/// What is wrong with a refused input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Problem {
    /// Whitespace only.
    Empty,
    /// Not UTF-8.
    NotUtf8,
    /// Not JSON, or not an object: the parser's words.
    Json(Snippet),
    /// A field of the wrong type.
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        found: Found,
    },
    /// A field the document does not define.
    UnknownField(Snippet),
    /// A field given twice.
    DuplicateField(&'static str),
    /// A required field absent.
    MissingField(&'static str),
    /// A text value refused by validation (symbol, side, timeframe, model): the value.
    BadValue(Snippet),
    /// A number out of its range (confidence, timestamp).
    OutOfRange(f64),
    /// A trace id that is not 1..=36 bytes of printable ASCII.
    BadTraceId,
    /// A line or frame over the limit (bytes).
    Oversized(usize),
    /// Over the connection's rate (signals per second).
    RateLimited(f64),
    /// A trace id seen recently.
    DuplicateTraceId,
    /// The client's answers waiting to be sent exceeded the limit (bytes).
    SlowClient(usize),
    /// A broken transport protocol: the library's words.
    Protocol(Snippet),
    /// An I/O error reading the source: its words.
    Io(Snippet),
}

/// A refused input: the code, the problem and where (1-based byte column; 0 = the whole input),
/// plus the trace id when one could be read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodeError {
    /// The stable code.
    pub code: ErrorCode,
    /// In words.
    pub problem: Problem,
    /// 1-based byte column in the line or frame (0 = the whole input / not known).
    pub column: u32,
    /// The input's trace id, when it could be read (even from an invalid document).
    pub trace: Option<EchoedTrace>,
}

impl DecodeError {
    /// An error about the whole input.
    pub fn new(code: ErrorCode, problem: Problem) -> DecodeError {
        DecodeError { code, problem, column: 0, trace: None }
    }

    /// The field the code is about, for validation codes.
    fn field(&self) -> Option<&'static str> {
        Some(match self.code {
            ErrorCode::UnknownSymbol => "symbol",
            ErrorCode::InvalidSide => "side",
            ErrorCode::ConfidenceRange => "confidence",
            ErrorCode::UnknownTimeframe => "timeframe",
            ErrorCode::UnknownModel | ErrorCode::ModelRegistryFull => "model_version",
            ErrorCode::InvalidTraceId => "trace_id",
            ErrorCode::InvalidTimestamp => "timestamp",
            _ => return None,
        })
    }

    /// Writes the message in words (no code, no position).
    pub fn write_message(&self, w: &mut impl Write) -> fmt::Result {
        if let Some(field) = self.field() {
            write!(w, "{field}: ")?;
        }
        match self.problem {
            Problem::Empty => w.write_str("empty input"),
            Problem::NotUtf8 => w.write_str("not UTF-8"),
            Problem::Json(s) => write!(w, "not a JSON signal object: {s}"),
            Problem::WrongType { field, expected, found } => {
                write!(w, "{field}: expected {expected}, found {}", found.article())
            }
            Problem::UnknownField(name) => write!(w, "unknown field \"{name}\""),
            Problem::DuplicateField(name) => write!(w, "duplicate field \"{name}\""),
            Problem::MissingField(name) => write!(w, "missing field \"{name}\""),
            Problem::BadValue(v) => write!(w, "\"{v}\" {}", self.bad_value_text()),
            Problem::OutOfRange(v) => write!(w, "{v} {}", self.range_text()),
            Problem::BadTraceId => self.write_trace_problem(w),
            Problem::Oversized(limit) => write!(w, "longer than the {limit}-byte limit"),
            Problem::RateLimited(rate) => write!(w, "over {rate} signals/s on this connection; slow down"),
            Problem::DuplicateTraceId => w.write_str("trace_id was seen recently"),
            Problem::SlowClient(limit) => {
                write!(w, "the client did not read its answers (over {limit} bytes waiting); disconnected")
            }
            Problem::Protocol(s) => write!(w, "protocol violation: {s}"),
            Problem::Io(s) => write!(w, "read failed: {s}"),
        }
    }

    fn bad_value_text(&self) -> &'static str {
        match self.code {
            ErrorCode::UnknownSymbol => "is not a configured symbol",
            ErrorCode::InvalidSide => "is not BUY or SELL",
            ErrorCode::UnknownTimeframe => "is not one of 1m 5m 15m 30m 1h 4h 1d",
            ErrorCode::UnknownModel => "is not a valid model name (1-32 characters of A-Z a-z 0-9 _ . -)",
            ErrorCode::ModelRegistryFull => "is a new model and the model registry is full (ingress.max_models)",
            _ => "is not accepted",
        }
    }

    fn range_text(&self) -> &'static str {
        match self.code {
            ErrorCode::ConfidenceRange => "is not a finite number in 0..=1",
            _ => "is not a finite number of epoch seconds in 0..=1e11",
        }
    }

    fn write_trace_problem(&self, w: &mut impl Write) -> fmt::Result {
        match self.trace {
            Some(t) if t.is_truncated() => write!(
                w,
                "{} bytes, over the {TRACE_ID_MAX}-byte limit (echoed shortened, ending in \"{TRUNCATION_MARK}\")",
                t.sent_len
            ),
            Some(t) if t.sent_len == 0 => w.write_str("must not be empty"),
            _ => w.write_str("must be printable ASCII without spaces (1 to 36 bytes)"),
        }
    }
}

/// Where an input was in its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Line `n` (1-based) of a file or connection.
    Line(u64),
    /// Frame `n` (1-based) of a WebSocket connection.
    Frame(u64),
    /// A Redis stream entry (its id's milliseconds).
    Entry(i64),
    /// Not about one input (a connection-level problem).
    Connection,
}

impl Position {
    /// The number kept in the error's `detail`.
    pub fn number(self) -> i64 {
        match self {
            Position::Line(n) | Position::Frame(n) => n as i64,
            Position::Entry(ms) => ms,
            Position::Connection => 0,
        }
    }

    /// ` (line 3, column 12)`-style suffix.
    pub fn write_suffix(self, column: u32, w: &mut impl Write) -> fmt::Result {
        let col = |w: &mut dyn Write| if column > 0 { write!(w, ", column {column}") } else { Ok(()) };
        match self {
            Position::Line(n) => {
                write!(w, " (line {n}")?;
                col(w)?;
            }
            Position::Frame(n) => {
                write!(w, " (frame {n}")?;
                col(w)?;
            }
            Position::Entry(ms) => {
                write!(w, " (entry {ms}-*")?;
                col(w)?;
            }
            Position::Connection => return Ok(()),
        }
        w.write_str(")")
    }
}

/// A refused input as a source reports it: what and where.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Refusal {
    /// What is wrong.
    pub error: DecodeError,
    /// Where.
    pub position: Position,
}

impl Refusal {
    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }

    /// `"<message> (line N, column M)"`.
    pub fn write_text(&self, w: &mut impl Write) -> fmt::Result {
        self.error.write_message(w)?;
        self.position.write_suffix(self.error.column, w)
    }

    /// The `system.event_error` for this refusal (seq `seq`, at `now_ns`): its header carries
    /// the input's trace id when it is one (a shortened one keeps its mark); the message, the
    /// trace id as sent (any UTF-8) and up to [`tradeflow_core::DETAIL_RAW_MAX`] bytes of `raw`
    /// go to the error-detail ring, whose ticket is the event's `detail`.
    pub fn to_event(&self, seq: u64, now_ns: u64, raw: &[u8]) -> SystemEventError {
        let ticket = error_details().record(|d| {
            d.set_raw(raw);
            d.position = self.position.number();
            d.column = self.error.column;
            if let Some(t) = &self.error.trace {
                d.set_trace(t.as_str());
            }
            let _ = self.write_text(&mut d.message_writer());
        });
        let trace = self.error.trace.and_then(|t| t.trace_id()).unwrap_or(TraceId::EMPTY);
        let header = Header::origin(seq, trace, InstrumentIdx::NONE, now_ns);
        let kind = EventKind::SignalGenerated;
        SystemEventError::new(header, self.error.code, StageId::Ingress, kind, raw, ticket as i64)
    }

    /// `"<CODE>: <message> (line N, column M)"`, the reason of a nack.
    pub fn reason(&self) -> String {
        let mut s = String::with_capacity(96);
        let _ = write!(s, "{}: ", self.error.code.name());
        let _ = self.write_text(&mut s);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_trace_ids_are_shortened_and_marked_within_the_limit() {
        let t = EchoedTrace::new(&"a".repeat(52));
        assert_eq!(t.as_str(), format!("{}...", "a".repeat(33)));
        assert!(t.is_truncated() && t.as_str().len() == TRACE_ID_MAX);
        let u = EchoedTrace::new("αβγ-u-45");
        assert_eq!((u.as_str(), u.trace_id()), ("αβγ-u-45", None));
        let e = EchoedTrace::new(&"é".repeat(20));
        assert!(e.as_str().ends_with("é...") && e.as_str().len() <= TRACE_ID_MAX);
    }

    #[test]
    fn messages_name_the_field_the_problem_and_the_position() {
        let e = DecodeError {
            code: ErrorCode::JsonType,
            problem: Problem::WrongType { field: "confidence", expected: "a number", found: Found::String },
            column: 42,
            trace: None,
        };
        let r = Refusal { error: e, position: Position::Line(3) };
        assert_eq!(r.reason(), "JSON_TYPE: confidence: expected a number, found a string (line 3, column 42)");
        let mut s = String::new();
        let long = DecodeError {
            code: ErrorCode::InvalidTraceId,
            problem: Problem::BadTraceId,
            column: 0,
            trace: Some(EchoedTrace::new(&"x".repeat(52))),
        };
        long.write_message(&mut s).unwrap();
        assert!(s.starts_with("trace_id: 52 bytes, over the 36-byte limit"), "{s}");
    }
}
