//! The text of an error that does not fit its event: a process-wide ring of error details.
//!
//! `system.event_error` is a fixed-layout event (≤ 128 bytes on every ring); it keeps only a
//! 40-byte excerpt of the input. A source that refuses input (ingress) writes the rest here —
//! up to [`DETAIL_RAW_MAX`] bytes of the input, the message in words, the trace id as the
//! client sent it (UTF-8, possibly shortened), the position — and puts the record's **ticket**
//! in the event's `detail`. The JSON renderer ([`crate::JsonRenderer`]) looks the ticket up
//! when it writes the event, on the sink or mirror thread.
//!
//! - Preallocated: [`ErrorDetails::SLOTS`] fixed-size slots, allocated once by the first call
//!   of [`error_details`] (a stage calls it at construction). Recording copies bytes into a slot
//!   under its own lock (never contended in practice: one writer, readers a few µs later); no
//!   allocation.
//! - Tickets are unique in the process (one counter), so several pipelines in one process (tests,
//!   embedding) share the ring without mixing their records.
//! - Bounded: a record lives until [`ErrorDetails::SLOTS`] later records reuse its slot; a
//!   lookup of an overwritten ticket finds nothing and the renderer falls back to the event's
//!   own excerpt and a generic message. Events that leave the process in binary form keep only
//!   what the event holds.

use std::sync::{Mutex, OnceLock};

use std::sync::atomic::{AtomicU64, Ordering};

/// Input bytes kept per record.
pub const DETAIL_RAW_MAX: usize = 256;
/// Message bytes kept per record (longer messages are cut at a character boundary).
pub const DETAIL_MESSAGE_MAX: usize = 192;
/// Trace id bytes kept per record (UTF-8, as the client sent it, or shortened and marked).
pub const DETAIL_TRACE_MAX: usize = 40;

/// One error's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorDetail {
    /// The record's ticket (0 = empty slot).
    pub ticket: u64,
    /// The source's own position number: line number, frame number, entry id (ms).
    pub position: i64,
    /// 1-based byte column in the input (0 = the whole input / unknown).
    pub column: u32,
    raw: [u8; DETAIL_RAW_MAX],
    raw_len: u16,
    message: [u8; DETAIL_MESSAGE_MAX],
    message_len: u8,
    trace: [u8; DETAIL_TRACE_MAX],
    trace_len: u8,
}

impl Default for ErrorDetail {
    fn default() -> Self {
        ErrorDetail {
            ticket: 0,
            position: 0,
            column: 0,
            raw: [0; DETAIL_RAW_MAX],
            raw_len: 0,
            message: [0; DETAIL_MESSAGE_MAX],
            message_len: 0,
            trace: [0; DETAIL_TRACE_MAX],
            trace_len: 0,
        }
    }
}

/// Copies `src` into `dst`, cut at a UTF-8 character boundary when it is text; returns the length.
fn copy_cut(dst: &mut [u8], src: &[u8]) -> usize {
    let mut n = src.len().min(dst.len());
    if n < src.len() {
        // Do not split a multi-byte character (continuation bytes are 0b10xx_xxxx).
        while n > 0 && src.get(n).is_some_and(|b| b & 0xc0 == 0x80) {
            n -= 1;
        }
    }
    dst[..n].copy_from_slice(&src[..n]);
    n
}

impl ErrorDetail {
    /// The kept input (up to [`DETAIL_RAW_MAX`] bytes).
    pub fn raw(&self) -> &[u8] {
        &self.raw[..usize::from(self.raw_len).min(DETAIL_RAW_MAX)]
    }

    /// The message in words.
    pub fn message(&self) -> &str {
        let m = &self.message[..usize::from(self.message_len).min(DETAIL_MESSAGE_MAX)];
        std::str::from_utf8(m).unwrap_or("")
    }

    /// The trace id as echoed to the client (empty when none could be read).
    pub fn trace(&self) -> &str {
        let t = &self.trace[..usize::from(self.trace_len).min(DETAIL_TRACE_MAX)];
        std::str::from_utf8(t).unwrap_or("")
    }

    /// Keeps the first [`DETAIL_RAW_MAX`] bytes of `raw`.
    pub fn set_raw(&mut self, raw: &[u8]) {
        let n = raw.len().min(DETAIL_RAW_MAX);
        self.raw[..n].copy_from_slice(&raw[..n]);
        self.raw_len = n as u16;
    }

    /// Sets the message (cut at a character boundary if longer than [`DETAIL_MESSAGE_MAX`]).
    pub fn set_message(&mut self, message: &str) {
        self.message_len = copy_cut(&mut self.message, message.as_bytes()) as u8;
    }

    /// Sets the trace id text (cut at a character boundary if longer than [`DETAIL_TRACE_MAX`]).
    pub fn set_trace(&mut self, trace: &str) {
        self.trace_len = copy_cut(&mut self.trace, trace.as_bytes()) as u8;
    }

    /// A writer appending to the message (what does not fit is dropped).
    pub fn message_writer(&mut self) -> MessageWriter<'_> {
        MessageWriter { detail: self }
    }
}

/// Appends formatted text to an [`ErrorDetail`]'s message without allocating.
#[derive(Debug)]
pub struct MessageWriter<'a> {
    detail: &'a mut ErrorDetail,
}

impl std::fmt::Write for MessageWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let at = usize::from(self.detail.message_len).min(DETAIL_MESSAGE_MAX);
        let n = copy_cut(&mut self.detail.message[at..], s.as_bytes());
        self.detail.message_len = (at + n) as u8;
        Ok(())
    }
}

/// The ring (see the module docs).
#[derive(Debug)]
pub struct ErrorDetails {
    slots: Box<[Mutex<ErrorDetail>]>,
    next: AtomicU64,
}

impl ErrorDetails {
    /// Records kept at once.
    pub const SLOTS: usize = 4096;
    /// The first ticket: far above any line number or entry id a `detail` otherwise holds, and
    /// below 2^53 so it stays exact as a JSON number.
    pub const FIRST_TICKET: u64 = 1 << 52;

    fn new() -> ErrorDetails {
        let slots = (0..Self::SLOTS).map(|_| Mutex::new(ErrorDetail::default())).collect();
        ErrorDetails { slots, next: AtomicU64::new(Self::FIRST_TICKET) }
    }

    fn slot(&self, ticket: u64) -> std::sync::MutexGuard<'_, ErrorDetail> {
        let i = (ticket % Self::SLOTS as u64) as usize;
        // A panic while a slot was held leaves plain bytes behind: still usable.
        self.slots[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes a new record (`fill` sets its fields on a cleared slot); returns its ticket
    /// (≥ [`ErrorDetails::FIRST_TICKET`]).
    pub fn record(&self, fill: impl FnOnce(&mut ErrorDetail)) -> u64 {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        let mut slot = self.slot(ticket);
        slot.ticket = ticket;
        slot.position = 0;
        slot.column = 0;
        slot.raw_len = 0;
        slot.message_len = 0;
        slot.trace_len = 0;
        fill(&mut slot);
        ticket
    }

    /// A copy of the record with `ticket`, if it is still held.
    pub fn get(&self, ticket: u64) -> Option<ErrorDetail> {
        if ticket < Self::FIRST_TICKET {
            return None;
        }
        let slot = self.slot(ticket);
        (slot.ticket == ticket).then(|| *slot)
    }
}

/// The process-wide ring (allocated on the first call).
pub fn error_details() -> &'static ErrorDetails {
    static RING: OnceLock<ErrorDetails> = OnceLock::new();
    RING.get_or_init(ErrorDetails::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn a_record_is_found_by_its_ticket_until_its_slot_is_reused() {
        let ring = error_details();
        let t = ring.record(|d| {
            d.set_raw(&[b'x'; 300]);
            d.set_trace("αβγ-u-45");
            let found = "string";
            let _ = write!(d.message_writer(), "confidence: expected a number, found a {found}");
            d.position = 3;
        });
        let d = ring.get(t).unwrap();
        assert_eq!((d.raw().len(), d.trace(), d.position), (DETAIL_RAW_MAX, "αβγ-u-45", 3));
        assert_eq!(d.message(), "confidence: expected a number, found a string");
        for _ in 0..ErrorDetails::SLOTS {
            ring.record(|_| {});
        }
        assert_eq!(ring.get(t), None, "overwritten");
        assert_eq!(ring.get(0), None);
        // The renderer then says so instead of printing the ticket as a number.
        let header = crate::Header::origin(1, crate::TraceId::EMPTY, crate::InstrumentIdx::NONE, 0);
        let kind = crate::EventKind::SignalGenerated;
        let code = crate::ErrorCode::JsonSyntax;
        let e = crate::SystemEventError::new(header, code, crate::StageId::Ingress, kind, b"{", t as i64);
        let catalog = crate::Catalog::try_new(vec![], vec![], vec![]).unwrap();
        let mut out = Vec::new();
        crate::JsonRenderer { catalog: &catalog, wall_offset_ns: 0 }
            .write_payload(&crate::Event::SystemEventError(e), &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error_message"], "input is not valid JSON (details no longer held)");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let mut d = ErrorDetail::default();
        d.set_trace(&"é".repeat(30)); // 60 bytes
        assert_eq!(d.trace(), "é".repeat(DETAIL_TRACE_MAX / 2));
        d.set_message(&"ü".repeat(200));
        assert_eq!(d.message().len(), DETAIL_MESSAGE_MAX);
    }
}
