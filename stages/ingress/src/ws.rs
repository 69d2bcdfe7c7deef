//! The WebSocket signal source: one reference `signal.generated` object per text frame, each
//! answered with the same ack / nack text frame as the TCP source.
//!
//! - Runs on the ingress thread: non-blocking listener and sockets; the WebSocket handshake
//!   advances a little on every poll (tungstenite's `MidHandshake`), never blocking. A client
//!   that does not finish it within `handshake_timeout_ms` is dropped (`handshake_timeouts`).
//! - A frame larger than `max_frame_bytes` breaks the protocol: tungstenite refuses it and the
//!   connection is closed (close code 1009, "message too big"); other connections go on.
//! - A text frame that is not UTF-8 closes the connection with 1007; any other protocol
//!   violation (unmasked client frame, reserved opcode or bits, …) with 1002. Both are counted
//!   (`protocol_errors`) and reported as a `system.event_error` (`INVALID_UTF8`,
//!   `PROTOCOL_VIOLATION`).
//! - A refused frame gets a nack with the precise reason and a `system.event_error`; the
//!   connection stays open. Binary frames are refused the same way (not JSON text).
//! - Answers the socket cannot take wait in tungstenite's write buffer, bounded by
//!   `max_outbound_bytes`: a client that never reads them is disconnected, counted
//!   (`slow_clients`) and reported (`SLOW_CLIENT`).
//! - A connection without input for `idle_timeout_ms` is closed (1008, counted `idle_closed`).
//! - `max_rate_per_connection`, "busy" answers and duplicate trace ids work as for the TCP
//!   source ([`crate::tcp`]).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

use tungstenite::handshake::server::{NoCallback, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use tradeflow_core::{Catalog, ErrorCode, TraceId};

use crate::answer::{ack_line, answer_line, nack_line, Status};
use crate::decode::{decode_signal_detailed, read_trace_id};
use crate::limit::TokenBucket;
use crate::refusal::{DecodeError, Position, Problem, Refusal, Snippet};
use crate::tcp::{has_unread_input, TcpItem, TcpStats};

/// `[ingress.ws]` settings the source needs.
#[derive(Debug, Clone)]
pub struct WsSettings {
    /// Address to listen on.
    pub listen: String,
    /// Answer each frame with an ack or a nack frame.
    pub acks: bool,
    /// Largest accepted frame / message.
    pub max_frame_bytes: usize,
    /// Clients at once.
    pub max_connections: usize,
    /// Frames per second per connection (0 = unlimited).
    pub max_rate_per_connection: f64,
    /// Close a connection that sent nothing for this long.
    pub idle_timeout_ms: u64,
    /// Drop a client that has not finished the handshake after this long.
    pub handshake_timeout_ms: u64,
    /// Unsent answers a connection may hold before it is dropped as not reading them.
    pub max_outbound_bytes: usize,
}

/// An open connection.
struct Open {
    ws: Box<WebSocket<TcpStream>>,
    bucket: TokenBucket,
    /// When the client last sent a message (or finished the handshake).
    last_input_ns: u64,
    /// Data frames (messages) received so far.
    frames: u64,
}

enum Conn {
    Handshaking(Box<MidHandshake<ServerHandshake<TcpStream, NoCallback>>>, TokenBucket, u64),
    Open(Open),
}

/// What sending an answer did.
enum Sent {
    Ok,
    /// The write buffer is full: the client does not read its answers.
    SlowClient,
    /// The connection failed.
    Failed,
}

/// The listener and its connections.
pub struct WsSource {
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    next: usize,
    settings: WsSettings,
    stats: TcpStats,
    line: Vec<u8>,
    /// Connection-level problems to report (slow client), at most one per connection.
    notices: VecDeque<Refusal>,
}

impl std::fmt::Debug for WsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSource").field("listen", &self.settings.listen).field("stats", &self.stats).finish()
    }
}

/// Closes `ws` with `code` and a reason (cut to the 123 bytes a close frame allows).
fn close_with(ws: &mut WebSocket<TcpStream>, code: CloseCode, reason: &str) {
    let mut n = reason.len().min(123);
    while !reason.is_char_boundary(n) {
        n -= 1;
    }
    let _ = ws.close(Some(CloseFrame { code, reason: reason[..n].to_owned().into() }));
    let _ = ws.flush();
}

fn is_would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl WsSource {
    /// Binds `settings.listen` (non-blocking).
    pub fn bind(settings: WsSettings) -> io::Result<WsSource> {
        let listener = TcpListener::bind(&settings.listen)?;
        listener.set_nonblocking(true)?;
        let notices = VecDeque::with_capacity(settings.max_connections.min(1024));
        let stats = TcpStats::default();
        Ok(WsSource { listener, conns: Vec::new(), next: 0, settings, stats, line: Vec::new(), notices })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Counters so far.
    pub fn stats(&self) -> TcpStats {
        self.stats
    }

    fn config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(4096)
            .max_message_size(Some(self.settings.max_frame_bytes))
            .max_frame_size(Some(self.settings.max_frame_bytes))
            .write_buffer_size(0)
            .max_write_buffer_size(self.settings.max_outbound_bytes)
    }

    fn accept(&mut self, now_ns: u64) {
        while let Ok((stream, _)) = self.listener.accept() {
            if self.conns.iter().flatten().count() >= self.settings.max_connections
                || stream.set_nonblocking(true).is_err()
            {
                self.stats.refused += 1;
                continue;
            }
            let _ = stream.set_nodelay(true);
            self.stats.accepted += 1;
            let bucket = TokenBucket::new(self.settings.max_rate_per_connection, now_ns);
            let conn = match tungstenite::accept_with_config(stream, Some(self.config())) {
                Ok(ws) => Some(Conn::Open(Open { ws: Box::new(ws), bucket, last_input_ns: now_ns, frames: 0 })),
                Err(HandshakeError::Interrupted(mid)) => Some(Conn::Handshaking(Box::new(mid), bucket, now_ns)),
                Err(HandshakeError::Failure(_)) => None,
            };
            if conn.is_some() {
                self.conns.push(conn);
            } else {
                self.stats.closed += 1;
            }
        }
    }

    /// Sends the answer in `self.line` on `open`.
    fn send(open: &mut Open, acks: bool, text: &[u8]) -> Sent {
        if !acks {
            return Sent::Ok;
        }
        let text = String::from_utf8_lossy(text.strip_suffix(b"\n").unwrap_or(text)).into_owned();
        match open.ws.send(Message::text(text)) {
            Ok(()) => Sent::Ok,
            Err(e) if is_would_block(&e) => Sent::Ok,
            Err(tungstenite::Error::WriteBufferFull(_)) => Sent::SlowClient,
            Err(_) => Sent::Failed,
        }
    }

    /// Sends `self.line` on `open`; `false` when the connection is to be dropped (a slow client
    /// is counted and reported).
    fn answer(&mut self, open: &mut Open) -> bool {
        match Self::send(open, self.settings.acks, &self.line) {
            Sent::Ok => true,
            Sent::SlowClient => {
                self.stats.slow_clients += 1;
                self.stats.closed += 1;
                let problem = Problem::SlowClient(self.settings.max_outbound_bytes);
                let error = DecodeError::new(ErrorCode::SlowClient, problem);
                self.notices.push_back(Refusal { error, position: Position::Connection });
                false
            }
            Sent::Failed => {
                self.stats.closed += 1;
                false
            }
        }
    }

    /// Acks the signal of connection `conn` under its final trace id.
    pub fn accepted(&mut self, conn: usize, trace: &TraceId) {
        self.stats.acks += 1;
        ack_line(&mut self.line, trace);
        self.send_line(conn);
    }

    /// Answers a valid signal of `conn` that is not taken ("busy" or "rejected").
    pub fn refuse(&mut self, conn: usize, trace: Option<&TraceId>, status: Status, reason: &str) {
        match status {
            Status::Busy => self.stats.busy += 1,
            Status::Rejected => self.stats.nacks += 1,
        }
        answer_line(&mut self.line, trace.map(TraceId::as_str), status, reason);
        self.send_line(conn);
    }

    fn send_line(&mut self, conn: usize) {
        match self.conns.get_mut(conn).and_then(Option::take) {
            Some(Conn::Open(mut open)) => {
                if self.answer(&mut open) {
                    self.conns[conn] = Some(Conn::Open(open));
                }
            }
            other => {
                if let Some(slot) = self.conns.get_mut(conn) {
                    *slot = other;
                }
            }
        }
    }

    /// Advances a handshake: the open connection once done; `None` while it goes on (put
    /// back) or when it failed or timed out (dropped).
    fn handshake(&mut self, i: usize, conn: Conn, now_ns: u64) -> Option<Open> {
        let (mid, bucket, since_ns) = match conn {
            Conn::Open(open) => return Some(open),
            Conn::Handshaking(mid, bucket, since_ns) => (mid, bucket, since_ns),
        };
        match mid.handshake() {
            Ok(ws) => Some(Open { ws: Box::new(ws), bucket, last_input_ns: now_ns, frames: 0 }),
            Err(HandshakeError::Interrupted(mid)) => {
                let limit_ns = self.settings.handshake_timeout_ms.saturating_mul(1_000_000);
                if now_ns.saturating_sub(since_ns) > limit_ns {
                    self.stats.handshake_timeouts += 1;
                    self.stats.closed += 1;
                } else {
                    self.conns[i] = Some(Conn::Handshaking(Box::new(mid), bucket, since_ns));
                }
                None
            }
            Err(HandshakeError::Failure(_)) => {
                self.stats.closed += 1;
                None
            }
        }
    }

    /// The next signal or refusal from any connection (round robin).
    pub fn next_item(&mut self, catalog: &Catalog, now_ns: u64) -> TcpItem {
        self.accept(now_ns);
        if let Some(r) = self.notices.pop_front() {
            return TcpItem::Error(r, Vec::new());
        }
        let n = self.conns.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let Some(conn) = self.conns[i].take() else { continue };
            let Some(mut open) = self.handshake(i, conn, now_ns) else { continue };
            let (keep, item) = self.serve(&mut open, i, catalog, now_ns);
            if keep {
                self.conns[i] = Some(Conn::Open(open));
            }
            if let Some(item) = item {
                self.next = (i + 1) % n;
                return item;
            }
        }
        self.conns.retain(Option::is_some);
        if self.next >= self.conns.len() {
            self.next = 0;
        }
        TcpItem::Pending
    }

    /// Reads one message of connection `i`: whether to keep it, and the item it gave.
    fn serve(&mut self, open: &mut Open, i: usize, catalog: &Catalog, now_ns: u64) -> (bool, Option<TcpItem>) {
        let idle_ns = self.settings.idle_timeout_ms.saturating_mul(1_000_000);
        if now_ns.saturating_sub(open.last_input_ns) > idle_ns
            && !has_unread_input(open.ws.get_ref(), &mut open.last_input_ns, now_ns)
        {
            close_with(&mut open.ws, CloseCode::Policy, "IDLE_TIMEOUT: no input for idle_timeout_ms");
            self.stats.idle_closed += 1;
            self.stats.closed += 1;
            return (false, None);
        }
        let limited = !open.bucket.ready(now_ns);
        if limited && !self.settings.acks {
            return (true, None); // fire and forget: read this client no faster than its limit
        }
        match open.ws.read() {
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                open.last_input_ns = now_ns;
                open.frames += 1;
                let (keep, item) = self.frame(open, i, msg, limited, catalog);
                (keep, Some(item))
            }
            Ok(Message::Close(_)) => {
                let _ = open.ws.flush();
                self.stats.closed += 1;
                (false, None)
            }
            Ok(_) => {
                open.last_input_ns = now_ns;
                (true, None)
            }
            Err(e) if is_would_block(&e) => {
                let _ = open.ws.flush();
                (true, None)
            }
            Err(e) => (false, self.broken(open, e)),
        }
    }

    /// A data frame: rate-limited, refused, or a signal.
    fn frame(&mut self, open: &mut Open, i: usize, msg: Message, limited: bool, catalog: &Catalog) -> (bool, TcpItem) {
        let position = Position::Frame(open.frames);
        let (bytes, error) = match msg {
            Message::Text(t) if limited => {
                self.stats.rate_limited += 1;
                let problem = Problem::RateLimited(self.settings.max_rate_per_connection);
                let bytes = t.as_bytes().to_vec();
                let error =
                    DecodeError { trace: read_trace_id(&bytes), ..DecodeError::new(ErrorCode::RateLimited, problem) };
                (bytes, error)
            }
            Message::Text(t) => {
                open.bucket.take();
                let bytes = t.as_bytes().to_vec();
                match decode_signal_detailed(&bytes, catalog) {
                    Ok(s) => return (true, TcpItem::Signal(s, i, position)),
                    Err(e) => (bytes, e),
                }
            }
            other => {
                let problem = Problem::Json(Snippet::new("a binary frame; send JSON text"));
                (other.into_data().to_vec(), DecodeError::new(ErrorCode::JsonSyntax, problem))
            }
        };
        let refusal = Refusal { error, position };
        self.stats.nacks += 1;
        nack_line(&mut self.line, &refusal);
        let keep = self.answer(open);
        (keep, TcpItem::Error(refusal, bytes))
    }

    /// A read error: the connection is closed; too large (1009), not UTF-8 (1007) and other
    /// protocol violations (1002) are reported, a vanished client is only counted.
    fn broken(&mut self, open: &mut Open, e: tungstenite::Error) -> Option<TcpItem> {
        self.stats.closed += 1;
        let position = Position::Frame(open.frames + 1);
        let (code, error) = match e {
            tungstenite::Error::Capacity(_) => {
                let problem = Problem::Oversized(self.settings.max_frame_bytes);
                (CloseCode::Size, DecodeError::new(ErrorCode::Oversized, problem))
            }
            tungstenite::Error::Utf8(_) => {
                (CloseCode::Invalid, DecodeError::new(ErrorCode::InvalidUtf8, Problem::NotUtf8))
            }
            tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                return None;
            }
            tungstenite::Error::Protocol(p) => {
                let mut words = Snippet::default();
                let _ = write!(words, "{p}");
                (CloseCode::Protocol, DecodeError::new(ErrorCode::ProtocolViolation, Problem::Protocol(words)))
            }
            _ => return None,
        };
        if code == CloseCode::Size {
            self.stats.nacks += 1;
        } else {
            self.stats.protocol_errors += 1;
        }
        let refusal = Refusal { error, position };
        close_with(&mut open.ws, code, &refusal.reason());
        Some(TcpItem::Error(refusal, Vec::new()))
    }
}
