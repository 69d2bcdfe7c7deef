//! The JSON-lines signal source: a [`ByteSource`], a [`LineSplitter`] and [`decode_signal`].
//!
//! One item per line: a decoded signal or an error (with the line's number and its start as
//! the raw excerpt). Whitespace-only lines are reported as `EMPTY_INPUT` errors rather than
//! skipped, so nothing a publisher sends disappears unseen.

use crate::bytes::{ByteSource, ReadOutcome};
use crate::decode::{decode_signal_detailed, read_trace_id, DecodedSignal};
use crate::lines::{Line, LineSplitter};
use crate::refusal::{DecodeError, Position, Problem, Refusal, Snippet};
use std::io::Write;
use tradeflow_core::{Catalog, ErrorCode, RAW_EXCERPT};

/// Reads per [`JsonLinesSource::next_item`] call before it yields (bounds the time spent
/// skipping a huge oversized line).
const MAX_READS_PER_ITEM: usize = 16;

/// What the source produced.
#[derive(Debug, PartialEq)]
pub enum SourceItem<'a> {
    /// A valid signal.
    Signal(DecodedSignal),
    /// A rejected line or a read failure (what, where) and the line's bytes.
    Error(Refusal, &'a [u8]),
    /// Nothing ready now.
    Pending,
    /// The stream ended and every line was produced.
    Exhausted,
}

/// Reference `signal.generated` JSON, one document per line.
pub struct JsonLinesSource {
    bytes: Box<dyn ByteSource>,
    lines: LineSplitter,
    io_text: [u8; RAW_EXCERPT],
    finished: bool,
}

impl std::fmt::Debug for JsonLinesSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesSource").field("lines", &self.lines).field("finished", &self.finished).finish()
    }
}

impl JsonLinesSource {
    /// A source over `bytes` accepting lines of at most `max_line_bytes`.
    pub fn new(bytes: Box<dyn ByteSource>, max_line_bytes: usize) -> JsonLinesSource {
        JsonLinesSource { bytes, lines: LineSplitter::new(max_line_bytes), io_text: [0; RAW_EXCERPT], finished: false }
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.lines.lines_read()
    }

    /// Whether the stream ended and every line was produced.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next item: reads as needed (a bounded number of times).
    pub fn next_item(&mut self, catalog: &Catalog) -> SourceItem<'_> {
        if self.finished {
            return SourceItem::Exhausted;
        }
        for _ in 0..MAX_READS_PER_ITEM {
            match self.lines.next_line() {
                Line::Complete(r, n) => {
                    let line = self.lines.bytes(r);
                    return match decode_signal_detailed(line, catalog) {
                        Ok(s) => SourceItem::Signal(s),
                        Err(error) => SourceItem::Error(Refusal { error, position: Position::Line(n) }, line),
                    };
                }
                Line::Oversized(r, n) => {
                    let kept = self.lines.bytes(r);
                    // The id is read from the part of the line that was kept, when it is there.
                    let error = DecodeError {
                        trace: read_trace_id(kept),
                        ..DecodeError::new(ErrorCode::Oversized, Problem::Oversized(self.lines.max_line()))
                    };
                    return SourceItem::Error(Refusal { error, position: Position::Line(n) }, kept);
                }
                Line::Eof => {
                    self.finished = true;
                    return SourceItem::Exhausted;
                }
                Line::NeedMore => {}
            }
            match self.lines.fill(&mut *self.bytes) {
                ReadOutcome::Data(_) | ReadOutcome::Eof => {}
                ReadOutcome::Pending => return SourceItem::Pending,
                ReadOutcome::Error(kind) => {
                    // Cold path: describe the error into the fixed excerpt buffer.
                    self.io_text = [0; RAW_EXCERPT];
                    let mut w = &mut self.io_text[..];
                    let _ = write!(w, "{kind}");
                    let len = RAW_EXCERPT - w.len();
                    let text = std::str::from_utf8(&self.io_text[..len]).unwrap_or("");
                    let error = DecodeError::new(ErrorCode::Io, Problem::Io(Snippet::new(text)));
                    let position = Position::Line(self.lines.lines_read());
                    return SourceItem::Error(Refusal { error, position }, &self.io_text[..len]);
                }
            }
        }
        SourceItem::Pending
    }
}
