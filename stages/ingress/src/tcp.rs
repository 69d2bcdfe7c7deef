//! The TCP JSON-lines source: many clients at once, one reference `signal.generated` object per
//! line, each line answered with an ack or a nack line (unless acks are off).
//!
//! ```text
//!  client ──line──► non-blocking socket ─► LineSplitter ─► decode_signal ─► signal.generated
//!         ◄──{"trace_id":…,"status":"accepted"|"rejected","reason":…}──┘
//! ```
//!
//! - Runs on the ingress thread: the listener and every connection are non-blocking and polled
//!   between ring writes; nothing waits.
//! - A line the decoder refuses gets a nack with the precise reason (and a `system.event_error`);
//!   the connection stays open. A line longer than `max_line_bytes` breaks the protocol: the
//!   client gets a nack saying so and the connection is closed.
//! - Limits: `max_connections` (more are accepted and closed at once with a reason line) and
//!   `max_rate_per_connection` (a token bucket per connection: over it, a line is nacked
//!   `RATE_LIMITED` when acks are on; with acks off the connection is simply read no faster,
//!   so its lines wait in the socket and nothing is lost).
//! - When the pipeline is backed up, the stage answers valid lines with `"status":"busy"`
//!   ([`TcpSource::refuse`]) instead of queueing them; the client sends them again later.
//! - Acks that the socket cannot take at once wait in a per-connection buffer (bounded; a
//!   client that never reads its acks is disconnected).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use tradeflow_core::{Catalog, ErrorCode, TraceId};

use crate::bytes::{ByteSource, ReadOutcome};
use crate::decode::{decode_signal, DecodedSignal};
use crate::limit::TokenBucket;
use crate::lines::{Line, LineSplitter};

/// Unsent acks a connection may hold before it is dropped as not reading them.
const MAX_PENDING_ACK_BYTES: usize = 1 << 20;

/// `[ingress.tcp]` settings the source needs.
#[derive(Debug, Clone)]
pub struct TcpSettings {
    /// Address to listen on.
    pub listen: String,
    /// Answer each line with an ack or a nack.
    pub acks: bool,
    /// Longest accepted line.
    pub max_line_bytes: usize,
    /// Clients at once.
    pub max_connections: usize,
    /// Lines per second per connection (0 = unlimited).
    pub max_rate_per_connection: f64,
}

struct Socket<'a>(&'a mut TcpStream);

impl ByteSource for Socket<'_> {
    fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome {
        match self.0.read(buf) {
            Ok(0) => ReadOutcome::Eof,
            Ok(n) => ReadOutcome::Data(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
                ReadOutcome::Pending
            }
            Err(e) => ReadOutcome::Error(e.kind()),
        }
    }
}

struct Conn {
    stream: TcpStream,
    lines: LineSplitter,
    bucket: TokenBucket,
    out: Vec<u8>,
    /// Close once the pending acks are written.
    closing: bool,
    dead: bool,
}

/// What the source produced.
#[derive(Debug)]
pub enum TcpItem {
    /// A valid signal from connection `conn` (ack it with [`TcpSource::accepted`]).
    Signal(DecodedSignal, usize),
    /// A refused line: error code, raw excerpt, detail (the connection's line number).
    Error(ErrorCode, Vec<u8>, i64),
    /// Nothing ready now.
    Pending,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections refused (over `max_connections`).
    pub refused: u64,
    /// Connections closed (by the client, or for breaking the protocol).
    pub closed: u64,
    /// Lines acked as accepted.
    pub acks: u64,
    /// Lines nacked (refused input, rate limit, duplicate trace id).
    pub nacks: u64,
    /// Valid lines answered "busy" (the pipeline was backed up).
    pub busy: u64,
    /// Lines refused for exceeding the connection's rate limit.
    pub rate_limited: u64,
}

/// The listener and its connections.
pub struct TcpSource {
    listener: TcpListener,
    conns: Vec<Conn>,
    next: usize,
    settings: TcpSettings,
    stats: TcpStats,
}

impl std::fmt::Debug for TcpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpSource").field("listen", &self.settings.listen).field("stats", &self.stats).finish()
    }
}

fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
    }
    out.push(b'"');
}

impl TcpSource {
    /// Binds `settings.listen` (non-blocking).
    pub fn bind(settings: TcpSettings) -> io::Result<TcpSource> {
        let listener = TcpListener::bind(&settings.listen)?;
        listener.set_nonblocking(true)?;
        Ok(TcpSource { listener, conns: Vec::new(), next: 0, settings, stats: TcpStats::default() })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Counters so far.
    pub fn stats(&self) -> TcpStats {
        self.stats
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    fn accept(&mut self, now_ns: u64) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    if self.conns.len() >= self.settings.max_connections {
                        self.stats.refused += 1;
                        let _ = stream.write_all(
                            b"{\"trace_id\":null,\"status\":\"rejected\",\"reason\":\"busy: too many connections\"}\n",
                        );
                        continue;
                    }
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    self.stats.accepted += 1;
                    self.conns.push(Conn {
                        stream,
                        lines: LineSplitter::new(self.settings.max_line_bytes),
                        bucket: TokenBucket::new(self.settings.max_rate_per_connection, now_ns),
                        out: Vec::with_capacity(256),
                        closing: false,
                        dead: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => return,
            }
        }
    }

    fn queue(&mut self, conn: usize, line: &[u8]) {
        if !self.settings.acks {
            return;
        }
        let Some(c) = self.conns.get_mut(conn) else { return };
        if c.out.len() + line.len() > MAX_PENDING_ACK_BYTES {
            c.dead = true;
            return;
        }
        c.out.extend_from_slice(line);
    }

    /// Acks the signal of `conn` under its final trace id.
    pub fn accepted(&mut self, conn: usize, trace: &TraceId) {
        self.stats.acks += 1;
        let mut line = Vec::with_capacity(80);
        ack_line(&mut line, trace);
        self.queue(conn, &line);
    }

    fn rejected(&mut self, conn: usize, refused: &[u8], reason: &str) {
        self.stats.nacks += 1;
        let mut line = Vec::with_capacity(120);
        nack_line(&mut line, refused, reason);
        self.queue(conn, &line);
    }

    /// Answers a valid signal of `conn` that is not taken: `status` "busy" (send again later)
    /// or "rejected" (e.g. a duplicate trace id), with `reason`.
    pub fn refuse(&mut self, conn: usize, trace: Option<&TraceId>, status: Status, reason: &str) {
        match status {
            Status::Busy => self.stats.busy += 1,
            Status::Rejected => self.stats.nacks += 1,
        }
        let mut line = Vec::with_capacity(120);
        answer_line(&mut line, trace.map(TraceId::as_bytes), status, reason);
        self.queue(conn, &line);
    }

    /// Writes pending acks, drops finished connections.
    fn flush(&mut self) {
        for c in &mut self.conns {
            while !c.out.is_empty() && !c.dead {
                match c.stream.write(&c.out) {
                    Ok(0) => c.dead = true,
                    Ok(n) => {
                        c.out.drain(..n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => c.dead = true,
                }
            }
            if c.closing && c.out.is_empty() {
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
                c.dead = true;
            }
        }
        let before = self.conns.len();
        self.conns.retain(|c| !c.dead);
        self.stats.closed += (before - self.conns.len()) as u64;
        if self.next >= self.conns.len() {
            self.next = 0;
        }
    }

    /// The next signal or refusal from any connection (round robin), accepting new clients and
    /// writing acks on the way.
    pub fn next_item(&mut self, catalog: &Catalog, now_ns: u64) -> TcpItem {
        self.accept(now_ns);
        self.flush();
        let n = self.conns.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            loop {
                let c = &mut self.conns[i];
                if c.closing || c.dead {
                    break;
                }
                let limited = !c.bucket.ready(now_ns);
                if limited && !self.settings.acks {
                    break; // fire and forget: read this client no faster than its limit
                }
                match c.lines.next_line() {
                    Line::Complete(r, line_no) => {
                        self.next = (i + 1) % n;
                        let line = c.lines.bytes(r).to_vec();
                        if limited {
                            self.stats.rate_limited += 1;
                            let reason = rate_reason(self.settings.max_rate_per_connection);
                            self.rejected(i, &line, &reason);
                            return TcpItem::Error(ErrorCode::RateLimited, line, line_no as i64);
                        }
                        c.bucket.take();
                        return match decode_signal(&line, catalog) {
                            Ok(s) => TcpItem::Signal(s, i),
                            Err((code, column)) => {
                                self.rejected(i, &line, &reason_for(code, column));
                                TcpItem::Error(code, line, line_no as i64)
                            }
                        };
                    }
                    Line::Oversized(r, line_no) => {
                        let line = c.lines.bytes(r).to_vec();
                        c.closing = true;
                        let reason =
                            format!("OVERSIZED: line longer than {} bytes; closing", self.settings.max_line_bytes);
                        self.rejected(i, &[], &reason);
                        return TcpItem::Error(ErrorCode::Oversized, line, line_no as i64);
                    }
                    Line::Eof => {
                        c.closing = true;
                        break;
                    }
                    Line::NeedMore => {}
                }
                match c.lines.fill(&mut Socket(&mut c.stream)) {
                    ReadOutcome::Data(_) | ReadOutcome::Eof => {}
                    ReadOutcome::Pending => break,
                    ReadOutcome::Error(_) => {
                        c.dead = true;
                        break;
                    }
                }
            }
        }
        TcpItem::Pending
    }
}

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

/// The reason of a rate-limited line.
pub(crate) fn rate_reason(rate: f64) -> String {
    format!("RATE_LIMITED: over {rate} signals/s on this connection; slow down")
}

/// `{"trace_id":…|null,"status":…,"reason":…}` + newline, into `out` (cleared first).
pub fn answer_line(out: &mut Vec<u8>, trace: Option<&[u8]>, status: Status, reason: &str) {
    out.clear();
    out.extend_from_slice(b"{\"trace_id\":");
    match trace {
        Some(t) => json_str(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"status\":\"");
    out.extend_from_slice(status.name().as_bytes());
    out.extend_from_slice(b"\",\"reason\":");
    json_str(out, reason.as_bytes());
    out.extend_from_slice(b"}\n");
}

/// `{"trace_id":…,"status":"accepted"}` + newline, into `out` (cleared first).
pub fn ack_line(out: &mut Vec<u8>, trace: &TraceId) {
    out.clear();
    out.extend_from_slice(b"{\"trace_id\":");
    json_str(out, trace.as_bytes());
    out.extend_from_slice(b",\"status\":\"accepted\"}\n");
}

/// `{"trace_id":…|null,"status":"rejected","reason":…}` + newline for the refused input
/// `refused` (its trace id is quoted when one can be read), into `out` (cleared first).
pub fn nack_line(out: &mut Vec<u8>, refused: &[u8], reason: &str) {
    answer_line(out, trace_of(refused).as_deref(), Status::Rejected, reason);
}

/// `"<CODE>: <why> (column N)"`.
pub fn reason_for(code: ErrorCode, column: i64) -> String {
    format!("{}: {} (column {column})", code.name(), reason_text(code))
}

/// The `trace_id` of a refused line, when one can be read (for the nack).
fn trace_of(line: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let t = v.get("trace_id")?.as_str()?;
    Some(t.as_bytes().to_vec())
}

/// A human reason for a decode error code.
fn reason_text(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::JsonSyntax => "not valid JSON",
        ErrorCode::JsonType => "a field has the wrong type",
        ErrorCode::UnknownField => "unknown field",
        ErrorCode::MissingField => "a required field is missing",
        ErrorCode::UnknownSymbol => "symbol not configured",
        ErrorCode::InvalidSide => "side must be BUY or SELL",
        ErrorCode::ConfidenceRange => "confidence must be a finite number in 0..=1",
        ErrorCode::UnknownTimeframe => "unknown timeframe",
        ErrorCode::UnknownModel => "model version not configured",
        ErrorCode::InvalidTraceId => "trace_id empty, longer than 36 or not printable ASCII",
        ErrorCode::InvalidUtf8 => "not UTF-8",
        ErrorCode::InvalidTimestamp => "timestamp must be a finite non-negative number",
        ErrorCode::EmptyInput => "empty line",
        _ => "refused",
    }
}
