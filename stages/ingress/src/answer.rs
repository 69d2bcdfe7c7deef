//! The answer lines of the network sources (TCP lines, WebSocket text frames):
//! `{"trace_id":…|null,"status":"accepted"|"rejected"|"busy","reason":…}`.
//!
//! A trace id is echoed as the client sent it — UTF-8 text stays UTF-8 (`"αβγ-u-45"`), only
//! quotes, backslashes and control characters are escaped ([`tradeflow_core::json::write_str`]);
//! an id over the length limit comes back shortened and marked ([`crate::EchoedTrace`]).

use tradeflow_core::json::write_str;
use tradeflow_core::TraceId;

use crate::refusal::Refusal;

/// How a valid signal that is not taken is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The pipeline is backed up: send it again later.
    Busy,
    /// Refused for good (e.g. a duplicate trace id).
    Rejected,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Busy => "busy",
            Status::Rejected => "rejected",
        }
    }
}

/// `{"trace_id":…|null,"status":…,"reason":…}` + newline, into `out` (cleared first).
pub fn answer_line(out: &mut Vec<u8>, trace: Option<&str>, status: Status, reason: &str) {
    out.clear();
    out.extend_from_slice(b"{\"trace_id\":");
    match trace {
        Some(t) => write_str(out, t.as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"status\":\"");
    out.extend_from_slice(status.name().as_bytes());
    out.extend_from_slice(b"\",\"reason\":");
    write_str(out, reason.as_bytes());
    out.extend_from_slice(b"}\n");
}

/// `{"trace_id":…,"status":"accepted"}` + newline, into `out` (cleared first).
pub fn ack_line(out: &mut Vec<u8>, trace: &TraceId) {
    out.clear();
    out.extend_from_slice(b"{\"trace_id\":");
    write_str(out, trace.as_bytes());
    out.extend_from_slice(b",\"status\":\"accepted\"}\n");
}

/// The nack of a refused input: its trace id when one could be read, and the refusal's
/// reason (`"<CODE>: <message> (line N, column M)"`), into `out` (cleared first).
pub fn nack_line(out: &mut Vec<u8>, refusal: &Refusal) {
    let trace = refusal.error.trace.as_ref().map(|t| t.as_str());
    answer_line(out, trace, Status::Rejected, &refusal.reason());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refusal::{DecodeError, EchoedTrace, Position, Problem};
    use tradeflow_core::ErrorCode;

    #[test]
    fn a_non_ascii_trace_id_is_echoed_as_the_same_text() {
        let mut out = Vec::new();
        let error = DecodeError {
            trace: Some(EchoedTrace::new("αβγ-u-45")),
            ..DecodeError::new(ErrorCode::InvalidTraceId, Problem::BadTraceId)
        };
        nack_line(&mut out, &Refusal { error, position: Position::Line(1) });
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["trace_id"], "αβγ-u-45");
        assert!(std::str::from_utf8(&out).unwrap().contains("\"αβγ-u-45\""), "raw UTF-8, not \\u escapes");
    }
}
