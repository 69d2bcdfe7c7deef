//! One server-side WebSocket connection: polling reads, server pings and the pong deadline,
//! the hard lifetime, delayed answers, and closing on `disconnect_all` or shutdown.

use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::protocol::Role;
use tungstenite::{Error as WsError, Message, WebSocket};

use super::state::{lock, Shared};

/// How long one read waits before the connection does its housekeeping.
pub(crate) const POLL: Duration = Duration::from_millis(2);

/// `at + ms`, or about a century later when that overflows.
pub(crate) fn later(at: Instant, ms: u64) -> Instant {
    at.checked_add(Duration::from_millis(ms)).unwrap_or_else(|| at + Duration::from_secs(3_000_000_000))
}

/// What [`WsConn::next`] saw.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A text frame.
    Text(String),
    /// Nothing to do this round.
    Idle,
    /// The connection is over (closed by either side, lifetime, pong timeout, shutdown).
    Closed,
}

/// A server-side WebSocket.
#[derive(Debug)]
pub(crate) struct WsConn {
    ws: WebSocket<TcpStream>,
    pub shared: Arc<Shared>,
    opened: Instant,
    next_ping: Instant,
    ping_sent: Option<(Instant, Vec<u8>)>,
    delayed: Vec<(Instant, String)>,
    epoch: u64,
}

impl WsConn {
    /// Wraps an upgraded stream (`leftover` = bytes read past the HTTP head). `epoch` is the
    /// `disconnect_all` epoch read before the handshake was answered.
    pub fn new(stream: TcpStream, leftover: Vec<u8>, shared: Arc<Shared>, epoch: u64) -> std::io::Result<WsConn> {
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        stream.set_nodelay(true)?;
        // A small read buffer: tungstenite zero-fills it before every read (the default 128 KiB
        // made each polling read cost tens of µs of CPU).
        let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
        let ws = WebSocket::from_partially_read(stream, leftover, Role::Server, Some(config));
        let now = Instant::now();
        let next_ping = later(now, shared.cfg.ping_interval_ms.max(1));
        Ok(WsConn { ws, shared, opened: now, next_ping, ping_sent: None, delayed: Vec::new(), epoch })
    }

    /// Makes reads return at once (stream connections wait on their event channel instead and
    /// only glance at the socket). A socket read timeout cannot do this: Linux rounds it up to
    /// a scheduler tick, which held every push back by several ms.
    pub fn set_nonblocking(&mut self) -> std::io::Result<()> {
        self.ws.get_ref().set_nonblocking(true)
    }

    /// Housekeeping, then one polling read.
    pub fn next(&mut self) -> Incoming {
        if self.shared.is_shutdown() || self.shared.epoch.load(Ordering::Acquire) != self.epoch {
            return Incoming::Closed;
        }
        let now = Instant::now();
        let cfg = &self.shared.cfg;
        if now.duration_since(self.opened) >= Duration::from_millis(cfg.max_connection_ms) {
            self.close();
            return Incoming::Closed;
        }
        if let Some((sent, _)) = &self.ping_sent {
            if now.duration_since(*sent) >= Duration::from_millis(cfg.pong_timeout_ms) {
                return Incoming::Closed;
            }
        }
        if now >= self.next_ping {
            self.next_ping = later(now, cfg.ping_interval_ms.max(1));
            let payload = super::state::wall_ms().to_string().into_bytes();
            if self.ping_sent.is_none() {
                self.ping_sent = Some((now, payload.clone()));
            }
            if self.ws.send(Message::Ping(payload.into())).is_err() {
                return Incoming::Closed;
            }
        }
        if !self.send_due(now) {
            return Incoming::Closed;
        }
        // Pushes queued by a non-blocking socket (no-op when nothing is pending).
        match self.ws.flush() {
            Ok(()) => {}
            Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return Incoming::Closed,
        }
        self.read()
    }

    fn read(&mut self) -> Incoming {
        match self.ws.read() {
            Ok(Message::Text(t)) => Incoming::Text(t.as_str().to_owned()),
            Ok(Message::Ping(_)) => {
                // tungstenite queued the pong.
                if let Some(ms) = lock(&self.shared.faults).take_slow_pong() {
                    std::thread::sleep(Duration::from_millis(ms));
                }
                // Send the pong now (a non-blocking socket keeps what it cannot take queued).
                match self.ws.flush() {
                    Ok(()) => Incoming::Idle,
                    Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Incoming::Idle,
                    Err(_) => Incoming::Closed,
                }
            }
            Ok(Message::Pong(p)) => {
                if self.ping_sent.as_ref().is_some_and(|(_, sent)| sent.as_slice() == p.as_ref()) {
                    self.ping_sent = None;
                }
                Incoming::Idle
            }
            Ok(Message::Close(_)) => Incoming::Closed,
            Ok(_) => Incoming::Idle,
            Err(WsError::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                Incoming::Idle
            }
            Err(_) => Incoming::Closed,
        }
    }

    fn send_due(&mut self, now: Instant) -> bool {
        if self.delayed.iter().all(|(at, _)| *at > now) {
            return true;
        }
        let (due, later): (Vec<_>, Vec<_>) = self.delayed.drain(..).partition(|(at, _)| *at <= now);
        self.delayed = later;
        due.into_iter().all(|(_, text)| self.send(text))
    }

    /// Sends a text frame; `false` when the connection is broken. On a non-blocking socket a
    /// frame the socket cannot take now stays queued and goes out with later calls.
    pub fn send(&mut self, text: String) -> bool {
        match self.ws.send(Message::text(text)) {
            Ok(()) => true,
            Err(WsError::Io(e)) => e.kind() == std::io::ErrorKind::WouldBlock,
            Err(_) => false,
        }
    }

    /// Sends a text frame at `at`.
    pub fn send_at(&mut self, at: Instant, text: String) {
        self.delayed.push((at, text));
    }

    /// Sends a close frame (normal closure).
    pub fn close(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}
