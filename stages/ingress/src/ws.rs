//! The WebSocket signal source: one reference `signal.generated` object per text frame, each
//! answered with the same ack / nack text frame as the TCP source.
//!
//! - Runs on the ingress thread: non-blocking listener and sockets; the WebSocket handshake
//!   advances a little on every poll (tungstenite's `MidHandshake`), never blocking.
//! - A frame larger than `max_frame_bytes` breaks the protocol: tungstenite refuses it and the
//!   connection is closed (close code 1009, "message too big"); other connections go on.
//! - A refused frame gets a nack with the precise reason and a `system.event_error`; the
//!   connection stays open. Binary frames are refused the same way (not JSON text).
//! - `max_rate_per_connection`, "busy" answers and duplicate trace ids work as for the TCP
//!   source ([`crate::tcp`]).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};

use tungstenite::handshake::server::{NoCallback, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use tradeflow_core::{Catalog, ErrorCode, TraceId};

use crate::decode::decode_signal;
use crate::limit::TokenBucket;
use crate::tcp::{ack_line, answer_line, nack_line, rate_reason, reason_for, Status, TcpItem, TcpStats};

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
}

enum Conn {
    Handshaking(Box<MidHandshake<ServerHandshake<TcpStream, NoCallback>>>, TokenBucket),
    Open(Box<WebSocket<TcpStream>>, TokenBucket),
}

/// The listener and its connections.
pub struct WsSource {
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    next: usize,
    settings: WsSettings,
    stats: TcpStats,
    line: Vec<u8>,
}

impl std::fmt::Debug for WsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSource").field("listen", &self.settings.listen).field("stats", &self.stats).finish()
    }
}

impl WsSource {
    /// Binds `settings.listen` (non-blocking).
    pub fn bind(settings: WsSettings) -> io::Result<WsSource> {
        let listener = TcpListener::bind(&settings.listen)?;
        listener.set_nonblocking(true)?;
        Ok(WsSource { listener, conns: Vec::new(), next: 0, settings, stats: TcpStats::default(), line: Vec::new() })
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
                Ok(ws) => Some(Conn::Open(Box::new(ws), bucket)),
                Err(HandshakeError::Interrupted(mid)) => Some(Conn::Handshaking(Box::new(mid), bucket)),
                Err(HandshakeError::Failure(_)) => None,
            };
            if conn.is_some() {
                self.conns.push(conn);
            } else {
                self.stats.closed += 1;
            }
        }
    }

    fn answer(ws: &mut WebSocket<TcpStream>, acks: bool, text: &[u8]) -> bool {
        if !acks {
            return true;
        }
        let text = String::from_utf8_lossy(text.strip_suffix(b"\n").unwrap_or(text)).into_owned();
        match ws.send(Message::text(text)) {
            Ok(()) => true,
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => true,
            Err(_) => false,
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
        answer_line(&mut self.line, trace.map(TraceId::as_bytes), status, reason);
        self.send_line(conn);
    }

    fn send_line(&mut self, conn: usize) {
        if let Some(Some(Conn::Open(ws, _))) = self.conns.get_mut(conn) {
            if !Self::answer(ws, self.settings.acks, &self.line) {
                self.conns[conn] = None;
                self.stats.closed += 1;
            }
        }
    }

    /// The next signal or refusal from any connection (round robin).
    pub fn next_item(&mut self, catalog: &Catalog, now_ns: u64) -> TcpItem {
        self.accept(now_ns);
        let n = self.conns.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let Some(conn) = self.conns[i].take() else { continue };
            let (ws, mut bucket) = match conn {
                Conn::Handshaking(mid, bucket) => match mid.handshake() {
                    Ok(ws) => (Box::new(ws), bucket),
                    Err(HandshakeError::Interrupted(mid)) => {
                        self.conns[i] = Some(Conn::Handshaking(Box::new(mid), bucket));
                        continue;
                    }
                    Err(HandshakeError::Failure(_)) => {
                        self.stats.closed += 1;
                        continue;
                    }
                },
                Conn::Open(ws, bucket) => (ws, bucket),
            };
            let mut ws = ws;
            let limited = !bucket.ready(now_ns);
            if limited && !self.settings.acks {
                // Fire and forget: read this client no faster than its limit.
                self.conns[i] = Some(Conn::Open(ws, bucket));
                continue;
            }
            match ws.read() {
                Ok(Message::Text(t)) if limited => {
                    self.next = (i + 1) % n;
                    let bytes = t.as_bytes().to_vec();
                    self.stats.nacks += 1;
                    self.stats.rate_limited += 1;
                    nack_line(&mut self.line, &bytes, &rate_reason(self.settings.max_rate_per_connection));
                    if Self::answer(&mut ws, self.settings.acks, &self.line) {
                        self.conns[i] = Some(Conn::Open(ws, bucket));
                    } else {
                        self.stats.closed += 1;
                    }
                    return TcpItem::Error(ErrorCode::RateLimited, bytes, 0);
                }
                Ok(Message::Text(t)) => {
                    self.next = (i + 1) % n;
                    bucket.take();
                    let bytes = t.as_bytes().to_vec();
                    let item = match decode_signal(&bytes, catalog) {
                        Ok(s) => TcpItem::Signal(s, i),
                        Err((code, column)) => {
                            self.stats.nacks += 1;
                            nack_line(&mut self.line, &bytes, &reason_for(code, column));
                            if !Self::answer(&mut ws, self.settings.acks, &self.line) {
                                self.stats.closed += 1;
                                return TcpItem::Error(code, bytes, 0);
                            }
                            TcpItem::Error(code, bytes, 0)
                        }
                    };
                    self.conns[i] = Some(Conn::Open(ws, bucket));
                    return item;
                }
                Ok(Message::Binary(b)) => {
                    self.stats.nacks += 1;
                    let reason = reason_for(ErrorCode::JsonSyntax, 0) + " (binary frame; send JSON text)";
                    nack_line(&mut self.line, &[], &reason);
                    let ok = Self::answer(&mut ws, self.settings.acks, &self.line);
                    if ok {
                        self.conns[i] = Some(Conn::Open(ws, bucket));
                    } else {
                        self.stats.closed += 1;
                    }
                    return TcpItem::Error(ErrorCode::JsonSyntax, b.to_vec(), 0);
                }
                Ok(Message::Close(_)) => {
                    let _ = ws.flush();
                    self.stats.closed += 1;
                }
                Ok(_) => self.conns[i] = Some(Conn::Open(ws, bucket)),
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    let _ = ws.flush();
                    self.conns[i] = Some(Conn::Open(ws, bucket));
                }
                Err(tungstenite::Error::Capacity(_)) => {
                    // Oversized: the client broke the protocol; close with a reason.
                    let frame = tungstenite::protocol::CloseFrame {
                        code: tungstenite::protocol::frame::coding::CloseCode::Size,
                        reason: format!("OVERSIZED: larger than {} bytes", self.settings.max_frame_bytes).into(),
                    };
                    let _ = ws.close(Some(frame));
                    let _ = ws.flush();
                    self.stats.closed += 1;
                    self.stats.nacks += 1;
                    return TcpItem::Error(ErrorCode::Oversized, Vec::new(), 0);
                }
                Err(_) => self.stats.closed += 1,
            }
        }
        self.conns.retain(Option::is_some);
        if self.next >= self.conns.len() {
            self.next = 0;
        }
        TcpItem::Pending
    }
}
