//! Consumers of the copy rings: the `--events-out` JSON-lines writer and in-process
//! subscriptions. They run on the sink thread (threaded runs) or inline, never on a hot thread.

use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use tradeflow_core::{Catalog, Event, JsonRenderer, StageId};

/// A copy of an emitted event, as delivered to subscribers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventCopy {
    /// The stage that emitted it.
    pub source: StageId,
    /// The event.
    pub event: Event,
}

/// Something that consumes event copies.
pub trait CopySink: Send + std::fmt::Debug {
    /// One copy.
    fn on_copy(&mut self, source: StageId, ev: &Event);
    /// Push buffered output out (called periodically and at the end).
    fn flush(&mut self) -> io::Result<()>;
    /// Copies this sink could not take (slow subscriber, write error).
    fn dropped(&self) -> u64 {
        0
    }
    /// A name for reports.
    fn name(&self) -> &'static str;
    /// The first error the sink hit, if any.
    fn error_text(&self) -> Option<String> {
        None
    }
}

/// Writes each copy as one JSON line `{"event_type","source","payload"}`.
pub struct JsonLinesSink {
    out: Box<dyn Write + Send>,
    catalog: Arc<Catalog>,
    wall_offset_ns: i64,
    buf: Vec<u8>,
    pending: u64,
    written: u64,
    failed: u64,
    error: Option<io::Error>,
}

impl std::fmt::Debug for JsonLinesSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesSink").field("written", &self.written).field("failed", &self.failed).finish()
    }
}

impl JsonLinesSink {
    /// A sink over any writer (lines are batched into writes of about 64 KiB).
    pub fn new(out: Box<dyn Write + Send>, catalog: Arc<Catalog>, wall_offset_ns: i64) -> JsonLinesSink {
        JsonLinesSink {
            out,
            catalog,
            wall_offset_ns,
            buf: Vec::with_capacity(WRITE_BATCH_BYTES + 4096),
            pending: 0,
            written: 0,
            failed: 0,
            error: None,
        }
    }

    /// A sink writing to `path` (`-` = stdout), in batches of lines.
    pub fn create(path: &str, catalog: Arc<Catalog>, wall_offset_ns: i64) -> io::Result<JsonLinesSink> {
        let out: Box<dyn Write + Send> =
            if path == "-" { Box::new(io::stdout()) } else { Box::new(std::fs::File::create(path)?) };
        Ok(JsonLinesSink::new(out, catalog, wall_offset_ns))
    }

    /// Lines written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The first write error, if any.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }
}

/// Lines are rendered into one reused buffer and written when it holds this much: one
/// `write` per batch of lines, no second copy through a `BufWriter`.
const WRITE_BATCH_BYTES: usize = 1 << 16;

impl JsonLinesSink {
    /// Writes the buffered lines out; on failure they count as failed.
    fn write_buffered(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.out.write_all(&self.buf);
        match &result {
            Ok(()) => self.written += self.pending,
            Err(e) => {
                self.failed += self.pending;
                self.error.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
            }
        }
        self.pending = 0;
        self.buf.clear();
        result
    }
}

impl CopySink for JsonLinesSink {
    fn on_copy(&mut self, source: StageId, ev: &Event) {
        if self.error.is_some() {
            self.failed += 1;
            return;
        }
        JsonRenderer { catalog: &self.catalog, wall_offset_ns: self.wall_offset_ns }.write_envelope(
            ev,
            source,
            &mut self.buf,
        );
        self.buf.push(b'\n');
        self.pending += 1;
        if self.buf.len() >= WRITE_BATCH_BYTES {
            let _ = self.write_buffered();
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_buffered()?;
        self.out.flush()
    }

    fn dropped(&self) -> u64 {
        self.failed
    }

    fn name(&self) -> &'static str {
        "events-out"
    }

    fn error_text(&self) -> Option<String> {
        self.error.as_ref().map(|e| format!("write failed: {e}"))
    }
}

/// Forwards copies to an in-process subscriber over a bounded channel; a full channel drops
/// the copy and counts it (a slow subscriber never slows the pipeline).
#[derive(Debug)]
pub struct ChannelSink {
    tx: SyncSender<EventCopy>,
    dropped: u64,
    disconnected: bool,
}

impl ChannelSink {
    /// A sink sending into `tx`.
    pub fn new(tx: SyncSender<EventCopy>) -> ChannelSink {
        ChannelSink { tx, dropped: 0, disconnected: false }
    }
}

impl CopySink for ChannelSink {
    fn on_copy(&mut self, source: StageId, ev: &Event) {
        if self.disconnected {
            return;
        }
        match self.tx.try_send(EventCopy { source, event: *ev }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.dropped += 1,
            Err(TrySendError::Disconnected(_)) => self.disconnected = true,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn dropped(&self) -> u64 {
        self.dropped
    }

    fn name(&self) -> &'static str {
        "subscription"
    }
}

/// What the sinks did, for the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SinkReport {
    /// Copies read from the copy rings.
    pub copies: u64,
    /// Per sink: name and copies it dropped.
    pub dropped: Vec<(&'static str, u64)>,
    /// Errors (e.g. a failed write), as text.
    pub errors: Vec<String>,
}

/// Flushes every sink and collects their report.
pub fn finish_sinks(sinks: &mut [Box<dyn CopySink>], copies: u64) -> SinkReport {
    let mut rep = SinkReport { copies, ..SinkReport::default() };
    for s in sinks.iter_mut() {
        if let Err(e) = s.flush() {
            rep.errors.push(format!("{}: {e}", s.name()));
        }
        if let Some(e) = s.error_text() {
            rep.errors.push(format!("{}: {e}", s.name()));
        }
        rep.dropped.push((s.name(), s.dropped()));
    }
    rep
}

/// Hands every copy to the Redis Streams mirror thread (never blocks; a full mirror ring drops
/// and counts the copy).
#[derive(Debug)]
pub struct MirrorSink {
    input: tradeflow_mirror::MirrorInput,
}

impl MirrorSink {
    /// A sink feeding `input`.
    pub fn new(input: tradeflow_mirror::MirrorInput) -> MirrorSink {
        MirrorSink { input }
    }
}

impl CopySink for MirrorSink {
    #[inline]
    fn on_copy(&mut self, source: StageId, ev: &Event) {
        self.input.offer(source, ev);
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn dropped(&self) -> u64 {
        self.input.dropped_by_stage().iter().sum()
    }

    fn name(&self) -> &'static str {
        "redis mirror"
    }
}
