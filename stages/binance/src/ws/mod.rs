//! A non-blocking WebSocket client (TCP via mio, optional TLS via rustls) polled by a stage.
//!
//! The gateway and market stages call [`WsClient`] between ring reads on a busy-polling
//! thread, so no call blocks: the TCP connect is non-blocking, the TLS and WebSocket
//! handshakes advance a little on every [`WsClient::poll`], reads stop at `WouldBlock`, and
//! writes that cannot go out at once stay queued and are flushed by later calls.
//!
//! ```text
//!  connect ──► TCP connecting ──► TLS handshake (wss) ──► WS handshake ──► Open ──► Closed
//!              └──────────── connect_timeout, driven by poll() ───────────┘
//! ```
//!
//! - Host names are resolved once, at [`WsClient::connect`] (`ToSocketAddrs`, which may block
//!   on DNS; pass an IP literal to avoid it). Only the first resolved address is tried.
//! - Allocation: connecting allocates; each received or sent frame allocates its payload
//!   (tungstenite owns the frame buffers).
//! - Call both [`WsClient::poll`] and [`WsClient::recv`] on every loop turn: only `recv` reads,
//!   so server pings are answered, and `last_rx` (which the idle timeout watches) advances,
//!   only when `recv` runs.
//! - Once `Closed`, the client stays closed: every call returns the error that closed it.
//!   Reconnect by building a new client, spacing attempts with [`Backoff`].

mod backoff;
mod stream;

use std::net::ToSocketAddrs as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tungstenite::client::IntoClientRequest as _;
use tungstenite::handshake::client::{ClientHandshake, Request};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

pub use backoff::Backoff;
use stream::{Stream, TlsStream};

/// Upper bound on frames read by one [`WsClient::recv`] call, so one busy connection cannot
/// starve the rest of the stage loop.
pub const MAX_FRAMES_PER_RECV: usize = 64;

/// Read buffer of a connection (see the note where the config is built).
pub const READ_BUFFER_BYTES: usize = 4096;

/// Bytes that may wait in the send queue (socket not writable) before
/// [`WsClient::send_text`] answers [`WsError::SendBufferFull`].
pub const MAX_SEND_BUFFER_BYTES: usize = 4 << 20;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// Budget for TCP connect + TLS handshake + WebSocket handshake, from [`WsClient::connect`].
    pub connect_timeout: Duration,
    /// Largest accepted incoming message (and frame); larger ones close the connection with
    /// [`WsError::Protocol`].
    pub max_message_bytes: usize,
    /// Extra trusted root certificates (PEM), added to Mozilla's roots; for test CAs.
    pub extra_root_pem: Option<Vec<u8>>,
    /// Send a ping when nothing was received for this long (then again every period of silence).
    pub keepalive_ping: Option<Duration>,
    /// Close with [`WsError::Timeout`] when nothing at all was received for this long.
    pub idle_timeout: Option<Duration>,
}

impl Default for WsOptions {
    /// 10 s connect budget, 1 MiB messages, ping after 30 s of silence, give up after 120 s.
    fn default() -> WsOptions {
        WsOptions {
            connect_timeout: Duration::from_secs(10),
            max_message_bytes: 1 << 20,
            extra_root_pem: None,
            keepalive_ping: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(120)),
        }
    }
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WsState {
    /// TCP connect, TLS or WebSocket handshake in progress.
    Connecting,
    /// Handshake complete: messages flow.
    Open,
    /// Closed by either side or failed; build a new client to reconnect.
    Closed,
}

/// Why a connection could not be opened or was closed. Messages never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    /// The URL is not `ws://` or `wss://` with a host.
    #[error("bad WebSocket URL: {0}")]
    BadUrl(String),
    /// Name resolution or TCP connect failed (refused, unreachable, …).
    #[error("connect failed: {0}")]
    Connect(String),
    /// TLS setup or handshake failed (unknown root, bad name, …).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The HTTP upgrade failed (non-101 answer, bad headers, peer hung up).
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
    /// The connect budget ran out before the connection opened, or the idle timeout fired.
    #[error("timed out")]
    Timeout,
    /// The peer closed (with its close code and reason) or the socket failed.
    #[error("connection closed: {0}")]
    Closed(String),
    /// The peer broke the protocol (bad frame, invalid UTF-8, message too large, …).
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// The send queue holds [`MAX_SEND_BUFFER_BYTES`]; the message was not queued.
    #[error("send buffer full")]
    SendBufferFull,
    /// [`WsClient::send_text`] was called before the connection opened.
    #[error("connection not open yet")]
    NotOpen,
}

enum Phase {
    TcpConnecting(TcpStream),
    TlsHandshaking(Box<TlsStream>),
    WsHandshaking(Box<MidHandshake<ClientHandshake<Stream>>>),
    Open(Box<WebSocket<Stream>>),
    Closed,
}

/// What one connecting step did.
enum Step {
    /// Moved to a new phase: try the next step at once.
    Advanced(Phase),
    /// Waiting on the network: come back on a later poll.
    Blocked(Phase),
}

/// A non-blocking WebSocket client; see the [module docs](self).
pub struct WsClient {
    phase: Phase,
    request: Option<Request>,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    ws_config: WebSocketConfig,
    started: Instant,
    connect_timeout: Duration,
    keepalive_ping: Option<Duration>,
    idle_timeout: Option<Duration>,
    opened_at: Option<Instant>,
    last_rx: Instant,
    last_ping: Option<Instant>,
    closed_by: Option<WsError>,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient")
            .field("state", &self.state())
            .field("tls", &self.tls.is_some())
            .field("opened_at", &self.opened_at)
            .field("last_rx", &self.last_rx)
            .field("closed_by", &self.closed_by)
            .finish_non_exhaustive()
    }
}

impl WsClient {
    /// Starts connecting to `url` (`ws://` or `wss://`) and returns at once in
    /// [`WsState::Connecting`]; [`WsClient::poll`] completes the connection. Fails at once on
    /// a bad URL, a failed name lookup, a bad extra root certificate or an immediate connect
    /// error.
    pub fn connect(url: &str, opts: &WsOptions, now: Instant) -> Result<WsClient, WsError> {
        let request = url.into_client_request().map_err(|e| WsError::BadUrl(e.to_string()))?;
        let uri = request.uri();
        let tls_wanted = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            other => return Err(WsError::BadUrl(format!("scheme {other:?}, expected ws or wss"))),
        };
        let host = uri.host().ok_or_else(|| WsError::BadUrl("no host".to_owned()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if tls_wanted { 443 } else { 80 });
        let tls = if tls_wanted {
            let config = stream::tls_config(opts.extra_root_pem.as_deref()).map_err(WsError::Tls)?;
            Some((config, stream::server_name(&host).map_err(WsError::Tls)?))
        } else {
            None
        };
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| WsError::Connect(format!("resolve {host}: {e}")))?
            .next()
            .ok_or_else(|| WsError::Connect(format!("resolve {host}: no address")))?;
        let sock = TcpStream::connect(addr).map_err(|e| WsError::Connect(format!("{addr}: {e}")))?;
        let max = Some(opts.max_message_bytes.max(1));
        // tungstenite zero-fills its read buffer up to `read_buffer_size` before every socket
        // read, even one that would block: 128 KiB (the default) cost ~20 µs per poll. Frames
        // here are small; larger ones simply take several reads.
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .max_message_size(max)
            .max_frame_size(max)
            .write_buffer_size(0)
            .max_write_buffer_size(MAX_SEND_BUFFER_BYTES);
        Ok(WsClient {
            phase: Phase::TcpConnecting(sock),
            request: Some(request),
            tls,
            ws_config,
            started: now,
            connect_timeout: opts.connect_timeout,
            keepalive_ping: opts.keepalive_ping,
            idle_timeout: opts.idle_timeout,
            opened_at: None,
            last_rx: now,
            last_ping: None,
            closed_by: None,
        })
    }

    /// Drives the connection: while connecting, advances TCP/TLS/WebSocket handshakes and
    /// enforces the connect timeout; once open, flushes queued writes (including automatic
    /// pongs), sends the keepalive ping and enforces the idle timeout. Never blocks.
    pub fn poll(&mut self, now: Instant) -> Result<WsState, WsError> {
        match self.phase {
            Phase::Closed => Err(self.closed_error()),
            Phase::Open(_) => self.poll_open(now),
            _ if now.saturating_duration_since(self.started) >= self.connect_timeout => {
                Err(self.fail(WsError::Timeout))
            }
            _ => self.advance(now),
        }
    }

    /// The current state.
    pub fn state(&self) -> WsState {
        match self.phase {
            Phase::TcpConnecting(_) | Phase::TlsHandshaking(_) | Phase::WsHandshaking(_) => WsState::Connecting,
            Phase::Open(_) => WsState::Open,
            Phase::Closed => WsState::Closed,
        }
    }

    /// Queues a text message and tries to write it; what the socket does not take now is
    /// flushed by later calls. Never blocks. Only when [`WsState::Open`].
    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        let ws = match &mut self.phase {
            Phase::Open(ws) => ws,
            Phase::Closed => return Err(self.closed_error()),
            _ => return Err(WsError::NotOpen),
        };
        match ws.send(Message::text(text)) {
            Ok(()) => Ok(()),
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Err(tungstenite::Error::WriteBufferFull(_)) => Err(WsError::SendBufferFull),
            Err(e) => Err(self.fail(map_error(e))),
        }
    }

    /// Reads the frames available now (at most [`MAX_FRAMES_PER_RECV`]), hands each text
    /// message to `on_text` and returns how many there were. Pings are answered (the pong is
    /// flushed before returning); binary messages are ignored. Returns `Ok(0)` while
    /// connecting. When the peer closes after some messages were delivered, this call returns
    /// their count and the next call the [`WsError::Closed`] error.
    pub fn recv(&mut self, now: Instant, on_text: &mut dyn FnMut(&str)) -> Result<usize, WsError> {
        let ws = match &mut self.phase {
            Phase::Open(ws) => ws,
            Phase::Closed => return Err(self.closed_error()),
            _ => return Ok(0),
        };
        let mut texts = 0usize;
        let mut failure = None;
        for _ in 0..MAX_FRAMES_PER_RECV {
            match ws.read() {
                Ok(msg) => {
                    self.last_rx = now;
                    match msg {
                        Message::Text(text) => {
                            on_text(text.as_str());
                            texts += 1;
                        }
                        Message::Close(frame) => {
                            let _ = ws.flush();
                            failure = Some(WsError::Closed(close_reason(frame.as_ref())));
                            break;
                        }
                        Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    failure = Some(map_error(e));
                    break;
                }
            }
        }
        if failure.is_none() {
            failure = flush(ws).err();
        }
        match failure {
            None => Ok(texts),
            Some(e) => {
                let e = self.fail(e);
                if texts > 0 {
                    Ok(texts)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Sends a close frame (and a TLS `close_notify`) if open, best effort and without
    /// waiting, then drops the socket. Later calls return `WsError::Closed("closed by client")`.
    pub fn close(&mut self) {
        if let Phase::Open(ws) = &mut self.phase {
            let _ = ws.close(None);
            let _ = ws.flush();
            ws.get_mut().shutdown_best_effort();
        }
        if !matches!(self.phase, Phase::Closed) {
            let _ = self.fail(WsError::Closed("closed by client".to_owned()));
        }
    }

    /// When the WebSocket handshake completed (`None` until open).
    pub fn opened_at(&self) -> Option<Instant> {
        self.opened_at
    }

    /// When a frame of any kind was last received (the connect time before the first frame).
    pub fn last_rx(&self) -> Instant {
        self.last_rx
    }

    fn advance(&mut self, now: Instant) -> Result<WsState, WsError> {
        loop {
            let step = match std::mem::replace(&mut self.phase, Phase::Closed) {
                Phase::TcpConnecting(sock) => self.on_tcp(sock),
                Phase::TlsHandshaking(mut tls) => match stream::drive_tls_handshake(&mut tls) {
                    Ok(true) => self.start_ws(Stream::Tls(tls)),
                    Ok(false) => Ok(Step::Blocked(Phase::TlsHandshaking(tls))),
                    Err(e) => Err(WsError::Tls(e)),
                },
                Phase::WsHandshaking(mid) => ws_handshake_step(mid.handshake()),
                open @ Phase::Open(_) => Ok(Step::Blocked(open)),
                Phase::Closed => Err(self.closed_error()),
            };
            match step {
                Ok(Step::Advanced(phase)) => self.phase = phase,
                Ok(Step::Blocked(phase)) => {
                    self.phase = phase;
                    break;
                }
                Err(e) => return Err(self.fail(e)),
            }
            if matches!(self.phase, Phase::Open(_)) {
                break;
            }
        }
        if matches!(self.phase, Phase::Open(_)) && self.opened_at.is_none() {
            self.opened_at = Some(now);
            self.last_rx = now;
        }
        Ok(self.state())
    }

    fn on_tcp(&mut self, sock: TcpStream) -> Result<Step, WsError> {
        if !stream::tcp_connected(&sock).map_err(WsError::Connect)? {
            return Ok(Step::Blocked(Phase::TcpConnecting(sock)));
        }
        let _ = sock.set_nodelay(true);
        match &self.tls {
            Some((config, name)) => {
                let tls = stream::start_tls(Arc::clone(config), name.clone(), sock).map_err(WsError::Tls)?;
                Ok(Step::Advanced(Phase::TlsHandshaking(tls)))
            }
            None => self.start_ws(Stream::Plain(sock)),
        }
    }

    fn start_ws(&mut self, stream: Stream) -> Result<Step, WsError> {
        let request = self.request.take().ok_or_else(|| WsError::Handshake("handshake started twice".to_owned()))?;
        ws_handshake_step(tungstenite::client::client_with_config(request, stream, Some(self.ws_config)))
    }

    fn poll_open(&mut self, now: Instant) -> Result<WsState, WsError> {
        let Phase::Open(ws) = &mut self.phase else { return Ok(self.state()) };
        if let Err(e) = flush(ws) {
            return Err(self.fail(e));
        }
        let silent_for = now.saturating_duration_since(self.last_rx);
        if self.idle_timeout.is_some_and(|t| silent_for >= t) {
            let _ = ws.close(None);
            let _ = ws.flush();
            return Err(self.fail(WsError::Timeout));
        }
        if let Some(period) = self.keepalive_ping {
            let since = self.last_ping.map_or(self.last_rx, |p| p.max(self.last_rx));
            if now.saturating_duration_since(since) >= period {
                self.last_ping = Some(now);
                match ws.send(Message::Ping(tungstenite::Bytes::new())) {
                    Ok(()) | Err(tungstenite::Error::WriteBufferFull(_)) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(self.fail(map_error(e))),
                }
            }
        }
        Ok(WsState::Open)
    }

    /// Records why the connection ended, drops the socket and returns the error.
    fn fail(&mut self, e: WsError) -> WsError {
        self.phase = Phase::Closed;
        self.request = None;
        self.closed_by.get_or_insert(e).clone()
    }

    fn closed_error(&self) -> WsError {
        self.closed_by.clone().unwrap_or_else(|| WsError::Closed("closed".to_owned()))
    }
}

type HandshakeResult =
    Result<(WebSocket<Stream>, tungstenite::handshake::client::Response), HandshakeError<ClientHandshake<Stream>>>;

fn ws_handshake_step(result: HandshakeResult) -> Result<Step, WsError> {
    match result {
        Ok((ws, _response)) => Ok(Step::Advanced(Phase::Open(Box::new(ws)))),
        Err(HandshakeError::Interrupted(mid)) => Ok(Step::Blocked(Phase::WsHandshaking(Box::new(mid)))),
        Err(HandshakeError::Failure(e)) => Err(WsError::Handshake(e.to_string())),
    }
}

/// Flushes queued frames; `WouldBlock` leaves the rest queued for the next call.
fn flush(ws: &mut WebSocket<Stream>) -> Result<(), WsError> {
    match ws.flush() {
        Ok(()) => Ok(()),
        Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(map_error(e)),
    }
}

fn close_reason(frame: Option<&tungstenite::protocol::CloseFrame>) -> String {
    match frame {
        Some(f) if f.reason.is_empty() => format!("peer closed with code {}", u16::from(f.code)),
        Some(f) => format!("peer closed with code {}: {}", u16::from(f.code), f.reason.as_str()),
        None => "peer closed without a code".to_owned(),
    }
}

fn map_error(e: tungstenite::Error) -> WsError {
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            WsError::Closed("connection closed".to_owned())
        }
        tungstenite::Error::Io(e) => WsError::Closed(format!("socket: {e}")),
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            WsError::Closed("peer hung up without a close frame".to_owned())
        }
        tungstenite::Error::Capacity(e) => WsError::Protocol(format!("message too large: {e}")),
        tungstenite::Error::Tls(e) => WsError::Tls(e.to_string()),
        other => WsError::Protocol(other.to_string()),
    }
}
