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
//! - Answers that the socket cannot take at once wait in a per-connection buffer of at most
//!   `max_outbound_bytes`; a client that never reads its answers is disconnected, counted
//!   (`slow_clients`) and reported (`SLOW_CLIENT`).
//! - A connection that sends nothing for `idle_timeout_ms` is told so and closed (counted
//!   `idle_closed`), so idle or half-open sockets cannot hold every slot. (TCP has no handshake
//!   of its own; a client that connects and never sends is idle.)

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use tradeflow_core::{Catalog, ErrorCode, TraceId};

pub use crate::answer::{ack_line, answer_line, nack_line, Status};
use crate::bytes::{ByteSource, ReadOutcome};
use crate::decode::{decode_signal_detailed, read_trace_id, DecodedSignal};
use crate::limit::TokenBucket;
use crate::lines::{Line, LineSplitter};
use crate::refusal::{DecodeError, Position, Problem, Refusal};

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
    /// Close a connection that sent nothing for this long.
    pub idle_timeout_ms: u64,
    /// Unsent answers a connection may hold before it is dropped as not reading them.
    pub max_outbound_bytes: usize,
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
    /// When the client last sent bytes (or connected).
    last_input_ns: u64,
}

/// Whether bytes wait in `stream` that the source has not read yet (the stage was not polling
/// it, e.g. while the pipeline was backed up): then the client is not idle and `last_input_ns`
/// moves to `now_ns`.
pub(crate) fn has_unread_input(stream: &TcpStream, last_input_ns: &mut u64, now_ns: u64) -> bool {
    let waiting = matches!(stream.peek(&mut [0u8; 1]), Ok(n) if n > 0);
    if waiting {
        *last_input_ns = now_ns;
    }
    waiting
}

/// What the source produced.
#[derive(Debug)]
pub enum TcpItem {
    /// A valid signal from connection `conn` (ack it with [`TcpSource::accepted`]), and where
    /// it was.
    Signal(DecodedSignal, usize, Position),
    /// A refused input or a connection-level problem (what, where) and the input's bytes.
    Error(Refusal, Vec<u8>),
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
    /// Clients disconnected for not reading their answers (`max_outbound_bytes`).
    pub slow_clients: u64,
    /// Connections closed after `idle_timeout_ms` without input.
    pub idle_closed: u64,
    /// WebSocket connections closed for not finishing the handshake in time.
    pub handshake_timeouts: u64,
    /// WebSocket connections closed for a protocol violation (1002) or a non-UTF-8 text frame
    /// (1007).
    pub protocol_errors: u64,
}

/// The listener and its connections.
pub struct TcpSource {
    listener: TcpListener,
    conns: Vec<Conn>,
    next: usize,
    settings: TcpSettings,
    stats: TcpStats,
    /// Connection-level problems to report (a slow client), at most one per connection.
    notices: VecDeque<Refusal>,
}

impl std::fmt::Debug for TcpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpSource").field("listen", &self.settings.listen).field("stats", &self.stats).finish()
    }
}

/// The reason line sent to an idle connection before it is closed.
const IDLE_LINE: &[u8] =
    b"{\"trace_id\":null,\"status\":\"rejected\",\"reason\":\"IDLE_TIMEOUT: no input for idle_timeout_ms; closing\"}\n";

impl TcpSource {
    /// Binds `settings.listen` (non-blocking).
    pub fn bind(settings: TcpSettings) -> io::Result<TcpSource> {
        let listener = TcpListener::bind(&settings.listen)?;
        listener.set_nonblocking(true)?;
        let notices = VecDeque::with_capacity(settings.max_connections.min(1024));
        Ok(TcpSource { listener, conns: Vec::new(), next: 0, settings, stats: TcpStats::default(), notices })
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
                        last_input_ns: now_ns,
                    });
                }
                Err(_) => return,
            }
        }
    }

    /// Queues an answer line; a client whose unsent answers would pass `max_outbound_bytes`
    /// is disconnected and reported.
    fn queue(&mut self, conn: usize, line: &[u8]) {
        if !self.settings.acks {
            return;
        }
        let Some(c) = self.conns.get_mut(conn) else { return };
        if c.dead {
            return;
        }
        if c.out.len() + line.len() > self.settings.max_outbound_bytes {
            c.dead = true;
            self.stats.slow_clients += 1;
            let error = DecodeError::new(ErrorCode::SlowClient, Problem::SlowClient(self.settings.max_outbound_bytes));
            self.notices.push_back(Refusal { error, position: Position::Connection });
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

    fn rejected(&mut self, conn: usize, refusal: &Refusal) {
        self.stats.nacks += 1;
        let mut line = Vec::with_capacity(160);
        nack_line(&mut line, refusal);
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
        answer_line(&mut line, trace.map(TraceId::as_str), status, reason);
        self.queue(conn, &line);
    }

    /// Closes connections that sent nothing for `idle_timeout_ms` (with a reason line, best
    /// effort: the client may not be reading).
    fn expire_idle(&mut self, now_ns: u64) {
        let limit_ns = self.settings.idle_timeout_ms.saturating_mul(1_000_000);
        for c in self.conns.iter_mut().filter(|c| !c.dead) {
            if now_ns.saturating_sub(c.last_input_ns) > limit_ns
                && !has_unread_input(&c.stream, &mut c.last_input_ns, now_ns)
            {
                let _ = c.stream.write(IDLE_LINE);
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
                c.dead = true;
                self.stats.idle_closed += 1;
            }
        }
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
        self.expire_idle(now_ns);
        self.flush();
        if let Some(r) = self.notices.pop_front() {
            return TcpItem::Error(r, Vec::new());
        }
        let n = self.conns.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if let Some(item) = self.next_of(i, catalog, now_ns) {
                self.next = (i + 1) % n;
                return item;
            }
        }
        TcpItem::Pending
    }

    /// The next item of connection `i`, reading as needed; `None` when it has none now.
    fn next_of(&mut self, i: usize, catalog: &Catalog, now_ns: u64) -> Option<TcpItem> {
        loop {
            let c = &mut self.conns[i];
            if c.closing || c.dead {
                return None;
            }
            let limited = !c.bucket.ready(now_ns);
            if limited && !self.settings.acks {
                return None; // fire and forget: read this client no faster than its limit
            }
            match c.lines.next_line() {
                Line::Complete(r, line_no) => {
                    c.last_input_ns = now_ns;
                    let line = c.lines.bytes(r).to_vec();
                    if !limited {
                        c.bucket.take();
                    }
                    return Some(self.decide(i, line, line_no, limited, catalog));
                }
                Line::Oversized(r, line_no) => {
                    let line = c.lines.bytes(r).to_vec();
                    c.closing = true;
                    let error = DecodeError {
                        trace: read_trace_id(&line),
                        ..DecodeError::new(ErrorCode::Oversized, Problem::Oversized(self.settings.max_line_bytes))
                    };
                    let refusal = Refusal { error, position: Position::Line(line_no) };
                    self.rejected(i, &refusal);
                    return Some(TcpItem::Error(refusal, line));
                }
                Line::Eof => {
                    c.closing = true;
                    return None;
                }
                Line::NeedMore => {}
            }
            match c.lines.fill(&mut Socket(&mut c.stream)) {
                ReadOutcome::Data(_) => c.last_input_ns = now_ns,
                ReadOutcome::Eof => {}
                ReadOutcome::Pending => return None,
                ReadOutcome::Error(_) => {
                    c.dead = true;
                    return None;
                }
            }
        }
    }

    /// A complete line of connection `i`: over the rate limit, refused, or a signal.
    fn decide(&mut self, i: usize, line: Vec<u8>, line_no: u64, limited: bool, catalog: &Catalog) -> TcpItem {
        let position = Position::Line(line_no);
        let error = if limited {
            self.stats.rate_limited += 1;
            let problem = Problem::RateLimited(self.settings.max_rate_per_connection);
            DecodeError { trace: read_trace_id(&line), ..DecodeError::new(ErrorCode::RateLimited, problem) }
        } else {
            match decode_signal_detailed(&line, catalog) {
                Ok(s) => return TcpItem::Signal(s, i, position),
                Err(e) => e,
            }
        };
        let refusal = Refusal { error, position };
        self.rejected(i, &refusal);
        TcpItem::Error(refusal, line)
    }
}
