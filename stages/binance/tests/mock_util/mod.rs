//! Shared helpers of the mock exchange tests: a fast config, a blocking WebSocket API client,
//! signed requests, raw HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tradeflow_binance::mock::{MockAccount, MockConfig, MockExchange, TEST_API_KEY, TEST_HMAC_SECRET};
use tradeflow_binance::request::RequestWriter;
use tradeflow_binance::sign::Credentials;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub const ED_API_KEY: &str = "ed25519-test-key-0001";
pub const ED_SEED: [u8; 32] = [7u8; 32];

/// Wall clock ms.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The documented HMAC example key pair.
pub fn hmac() -> Credentials {
    Credentials::hmac(TEST_API_KEY, TEST_HMAC_SECRET)
}

/// An Ed25519 key whose public half the fast config registers.
pub fn ed25519() -> Credentials {
    Credentials::ed25519(ED_API_KEY, &ED_SEED)
}

fn ed25519_public_pem() -> String {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let vk = ed25519().verifying_key().unwrap();
    vk.to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap()
}

/// A config for tests: static prices (no random walk), no fees slippage, both key kinds.
pub fn fast_config() -> MockConfig {
    let mut cfg = MockConfig { price_step_ms: 0, ..MockConfig::default() };
    cfg.accounts.push(MockAccount::ed25519(ED_API_KEY, &ed25519_public_pem(), "10000"));
    cfg
}

/// Starts a mock with the fast config.
pub fn start() -> MockExchange {
    MockExchange::start(fast_config()).unwrap()
}

pub type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Connects to a WebSocket URL with a read timeout.
pub fn connect(url: &str) -> Ws {
    let (mut ws, _) = tungstenite::connect(url).unwrap();
    if let MaybeTlsStream::Plain(s) = ws.get_mut() {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    }
    ws
}

/// Next text frame as JSON within `timeout` (pings are answered by tungstenite), or `None`.
pub fn recv(ws: &mut Ws, timeout: Duration) -> Option<Value> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Next frame that satisfies `pred`.
pub fn recv_until(ws: &mut Ws, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if let Some(v) = recv(ws, end - Instant::now()) {
            if pred(&v) {
                return Some(v);
            }
        }
    }
    None
}

/// Whether the server closed the connection within `timeout`.
pub fn closed_within(ws: &mut Ws, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Close(_)) => return true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Sends a frame and waits for the answer.
pub fn call(ws: &mut Ws, frame: &str) -> Value {
    ws.send(Message::text(frame.to_owned())).unwrap();
    recv(ws, Duration::from_secs(5)).expect("an answer")
}

/// A request frame: `params` as (name, value, is_string); signed with `creds` when given.
pub fn frame(id: &str, method: &str, params: &[(&'static str, &str)], creds: Option<&Credentials>) -> String {
    let mut w = RequestWriter::new();
    w.begin(method);
    for (k, v) in params {
        w.str(k, v);
    }
    if creds.is_some() || params.iter().any(|(k, _)| *k == "symbol") {
        w.int("timestamp", now_ms());
    }
    w.finish_signed(id, creds).to_owned()
}

/// A signed MARKET order.
pub fn market(id: &str, symbol: &str, side: &str, qty: &str, client_id: &str, creds: &Credentials) -> String {
    frame(
        id,
        "order.place",
        &[
            ("symbol", symbol),
            ("side", side),
            ("type", "MARKET"),
            ("quantity", qty),
            ("newClientOrderId", client_id),
            ("newOrderRespType", "RESULT"),
        ],
        Some(creds),
    )
}

/// The error code of an answer (0 for success).
pub fn code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or(0)
}

/// A raw HTTP/1.1 request; returns status, headers and JSON body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Starts a user data stream for `api_key` and connects to it.
pub fn user_stream(mock: &MockExchange, api: &mut Ws, api_key: &str) -> Ws {
    let v = call(api, &frame("uds", "userDataStream.start", &[("apiKey", api_key)], None));
    let key = v["result"]["listenKey"].as_str().unwrap().to_owned();
    connect(&format!("{}/private/ws/{key}", mock.stream_url()))
}
