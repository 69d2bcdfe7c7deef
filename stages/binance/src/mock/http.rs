//! The listener: one thread per connection, the HTTP request head read with `httparse`, then
//! either a WebSocket upgrade (answered here) or a REST request.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::WsConn;
use super::hub::Target;
use super::state::Shared;
use super::streams::{self, Route};

/// Longest accepted request head and body.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;
/// A client that sends no complete request in this time is dropped.
const IDLE_LIMIT: Duration = Duration::from_secs(10);

/// One HTTP request.
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Bytes read past the head of an upgrade request.
    pub leftover: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        decode_form(&self.query).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn is_upgrade(&self) -> bool {
        self.header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
}

/// Percent-decodes `a=b&c=d` (`+` is kept: Binance signatures are base64).
pub(crate) fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Accepts connections until shutdown.
pub(crate) fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.is_shutdown() {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = shared.clone();
        if let Ok(h) = std::thread::Builder::new().name("mock-conn".into()).spawn(move || serve(stream, s)) {
            shared.track(h);
        }
    }
}

fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Ok(Some(req)) = read_request(&mut stream, &shared) else { return };
    if req.is_upgrade() {
        upgrade(stream, req, shared);
    } else {
        super::rest::serve(&mut stream, &req, &shared);
    }
}

/// Reads one request head (and its body, for REST).
fn read_request(stream: &mut TcpStream, shared: &Shared) -> std::io::Result<Option<Request>> {
    stream.set_read_timeout(Some(Duration::from_millis(50)))?;
    let start = Instant::now();
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut parsed: Option<(usize, Request)> = None;
    loop {
        if shared.is_shutdown() || start.elapsed() > IDLE_LIMIT {
            return Ok(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        if parsed.is_none() {
            parsed = parse_head(&buf)?;
        }
        if let Some((head_len, req)) = &mut parsed {
            let want = req.header("content-length").and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0);
            if want > MAX_BODY {
                return Ok(None);
            }
            if req.is_upgrade() || buf.len() >= *head_len + want {
                let rest = buf.split_off(*head_len);
                if req.is_upgrade() {
                    req.leftover = rest;
                } else {
                    req.body = rest[..want.min(rest.len())].to_vec();
                }
                return Ok(parsed.map(|(_, r)| r));
            }
        }
    }
}

fn parse_head(buf: &[u8]) -> std::io::Result<Option<(usize, Request)>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Request::new(&mut headers);
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let target = r.path.unwrap_or("/");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let headers = r
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                .collect();
            let req = Request {
                method: r.method.unwrap_or("GET").to_owned(),
                path: path.to_owned(),
                query: query.to_owned(),
                headers,
                ..Request::default()
            };
            Ok(Some((n, req)))
        }
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Err(bad("request head too large")),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(bad("malformed request head")),
    }
}

/// Writes a plain HTTP answer and closes.
pub(crate) fn respond(stream: &mut TcpStream, status: u16, extra_headers: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    let _ = stream.write_all(&out);
    let _ = stream.flush();
    close_gracefully(stream);
}

/// Ends a REST answer's connection without a reset: closing a socket that still holds unread
/// request bytes (e.g. a chunked body) sends RST, and the client may then lose the answer it
/// has not read yet. So: shut the write side (FIN after the answer), read what the client still
/// sends until it closes (bounded), then drop.
fn close_gracefully(stream: &mut TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let start = Instant::now();
    let mut sink = [0u8; 4096];
    while start.elapsed() < Duration::from_millis(500) {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Routes a WebSocket upgrade and answers the handshake.
fn upgrade(mut stream: TcpStream, req: Request, shared: Arc<Shared>) {
    enum Kind {
        Api(bool),
        User(usize, String),
        Market(Vec<super::hub::MarketStream>, bool),
    }
    let kind = {
        let e = super::state::lock(&shared.engine);
        let path = req.path.as_str();
        let user_key = path
            .strip_prefix("/private/ws/")
            .map(str::to_owned)
            .or_else(|| (path == "/private/ws").then(|| req.query_param("listenKey")).flatten());
        let raw = |p: &str| -> Option<(Route, String)> {
            [("/market/ws/", Route::Market), ("/public/ws/", Route::Public), ("/ws/", Route::Unrouted)]
                .into_iter()
                .find_map(|(pre, r)| p.strip_prefix(pre).map(|s| (r, s.to_owned())))
        };
        let combined = match path {
            "/market/stream" => Some(Route::Market),
            "/public/stream" => Some(Route::Public),
            "/stream" => Some(Route::Unrouted),
            _ => None,
        };
        if path == "/ws-fapi/v1" {
            Some(Kind::Api(req.query_param("returnRateLimits").as_deref() != Some("false")))
        } else if let Some(key) = user_key {
            e.listen_keys.get(&key).map(|lk| Kind::User(lk.acct, key))
        } else if let Some((route, names)) = raw(path) {
            streams::parse_streams(&e, &names, route).map(|s| Kind::Market(s, false))
        } else if let Some(route) = combined {
            let names = req.query_param("streams").unwrap_or_default();
            streams::parse_streams(&e, &names, route).map(|s| Kind::Market(s, true))
        } else {
            None
        }
    };
    let Some(kind) = kind else {
        respond(&mut stream, 400, "", r#"{"code":-1125,"msg":"Invalid request: unknown path, stream or listenKey."}"#);
        return;
    };
    let Some(key) = req.header("sec-websocket-key") else {
        respond(&mut stream, 400, "", r#"{"code":-1000,"msg":"Missing Sec-WebSocket-Key."}"#);
        return;
    };
    // Subscribe and read the epoch before answering, so nothing that happens after the client
    // sees the handshake (an event, `drop_user_stream`, `disconnect_all`) can be missed.
    let epoch = shared.epoch.load(std::sync::atomic::Ordering::Acquire);
    let (tx, rx) = std::sync::mpsc::channel();
    let sub = match &kind {
        Kind::Api(_) => None,
        Kind::User(acct, key) => Some(shared.hub.subscribe(Target::User { acct: *acct, key: key.clone() }, tx)),
        Kind::Market(streams, combined) => Some(streams::subscribe_market(&shared, streams.clone(), *combined, tx)),
    };
    let accept = tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    let conn = match stream.write_all(head.as_bytes()) {
        Ok(()) => WsConn::new(stream, req.leftover, shared.clone(), epoch).ok(),
        Err(_) => None,
    };
    if let Some(conn) = conn {
        match kind {
            Kind::Api(rl) => super::wsapi::run(conn, rl),
            Kind::User(..) | Kind::Market(..) => streams::pump(conn, &rx),
        }
    }
    if let Some(id) = sub {
        shared.hub.unsubscribe(id);
    }
}
