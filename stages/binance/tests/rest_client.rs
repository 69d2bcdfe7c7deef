#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `RestClient` against a tiny HTTP/1.1 server on 127.0.0.1 (plain and TLS), and the REST
//! signature against Binance's documented futures vector.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use tradeflow_binance::rest::{rest_query_and_signature, RestClient, RestError};
use tradeflow_binance::sign::{verify_ed25519, verify_hmac, Credentials};

const API_KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
const TIMEOUT: Duration = Duration::from_secs(10);

fn hmac() -> Credentials {
    Credentials::hmac(API_KEY, SECRET)
}

fn p(name: &'static str, value: &str) -> (&'static str, String) {
    (name, value.to_owned())
}

// ---------------------------------------------------------------- signing, no server

#[test]
fn futures_rest_vector() {
    let params = [
        p("symbol", "BTCUSDT"),
        p("side", "BUY"),
        p("type", "LIMIT"),
        p("quantity", "1"),
        p("price", "9000"),
        p("timeInForce", "GTC"),
    ];
    let q = rest_query_and_signature(&params, &hmac(), 1591702613943, 5000);
    assert_eq!(
        q,
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000\
         &timestamp=1591702613943&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    );
}

#[test]
fn spot_rest_vector_with_percent_encoded_unicode() {
    // Binance spot REST doc: the non-ASCII symbol is signed in its percent-encoded form.
    let creds = Credentials::hmac(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    );
    let params = [
        p("symbol", "１２３４５６"),
        p("side", "BUY"),
        p("type", "LIMIT"),
        p("timeInForce", "GTC"),
        p("quantity", "1"),
        p("price", "0.1"),
    ];
    let q = rest_query_and_signature(&params, &creds, 1499827319559, 5000);
    assert!(q.starts_with("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY"), "{q}");
    assert!(q.ends_with("&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"), "{q}");
}

#[test]
fn params_keep_their_order_and_zero_recv_window_is_omitted() {
    let params = [p("b", "2"), p("a", "x y/z")];
    let q = rest_query_and_signature(&params, &hmac(), 7, 0);
    let (payload, sig) = q.split_once("&signature=").unwrap();
    assert_eq!(payload, "b=2&a=x%20y%2Fz&timestamp=7");
    assert!(verify_hmac(SECRET.as_bytes(), payload.as_bytes(), sig));
}

#[test]
fn ed25519_signature_is_base64_and_percent_encoded() {
    let creds = Credentials::ed25519("edkey", &[5u8; 32]);
    let q = rest_query_and_signature(&[p("symbol", "BTCUSDT")], &creds, 1, 5000);
    let (payload, sig) = q.split_once("&signature=").unwrap();
    assert!(!sig.contains(['+', '/', '=']), "{sig}");
    let decoded = percent_decode(sig);
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(&decoded).unwrap().len(), 64);
    assert!(verify_ed25519(&creds.verifying_key().unwrap(), payload.as_bytes(), &decoded));
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

// ---------------------------------------------------------------- a tiny HTTP server

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    api_key: Option<String>,
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn json(status: u16, body: &str) -> Reply {
    Reply { status, headers: vec![("Content-Type", "application/json".into())], body: body.to_owned() }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// Serves each connection's first request with `handler` (answers `Connection: close`).
fn http_server(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let handler: Handler = Arc::new(handler);
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
            serve_one(tcp, &handler, &tx);
        }
    });
    (base, rx)
}

fn serve_one(mut stream: impl Read + Write, handler: &Handler, tx: &mpsc::Sender<Seen>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(&buf).unwrap();
    let target = req.path.unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let api_key = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("x-mbx-apikey"))
        .map(|h| String::from_utf8(h.value.to_vec()).unwrap());
    let seen = Seen { method: req.method.unwrap().to_owned(), path: path.to_owned(), query: query.to_owned(), api_key };
    let reply = handler(&seen);
    let _ = tx.send(seen);
    let mut out =
        format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n", reply.status, reply.body.len());
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

fn client(base: &str, creds: Option<Credentials>) -> RestClient {
    RestClient::new(base, creds, TIMEOUT, None).unwrap()
}

// ---------------------------------------------------------------- calls

#[test]
fn server_time_and_exchange_info() {
    let (base, seen) = http_server(|s| match s.path.as_str() {
        "/fapi/v1/time" => json(200, r#"{"serverTime":1702555533821}"#),
        "/fapi/v1/exchangeInfo" => json(200, r#"{"timezone":"UTC","symbols":[{"symbol":"BTCUSDT"}]}"#),
        _ => json(404, r#"{"code":-1,"msg":"no such path"}"#),
    });
    let c = client(&base, None);
    assert_eq!(c.server_time_ms().unwrap(), 1702555533821);
    let info = c.exchange_info().unwrap();
    assert_eq!(info["symbols"][0]["symbol"], "BTCUSDT");
    let s = seen.recv().unwrap();
    assert_eq!((s.method.as_str(), s.query.as_str(), s.api_key), ("GET", "", None));
}

#[test]
fn set_leverage_is_signed_in_sent_order_with_the_api_key_header() {
    let (base, seen) = http_server(|s| {
        let (payload, sig) = s.query.split_once("&signature=").unwrap();
        if s.api_key.as_deref() == Some(API_KEY) && verify_hmac(SECRET.as_bytes(), payload.as_bytes(), sig) {
            json(200, r#"{"leverage":21,"maxNotionalValue":"1000000","symbol":"BTCUSDT"}"#)
        } else {
            json(400, r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#)
        }
    });
    let c = client(&base, Some(hmac()));
    assert_eq!(c.set_leverage("BTCUSDT", 21).unwrap(), 21);
    let s = seen.recv().unwrap();
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/fapi/v1/leverage"));
    assert!(s.query.starts_with("symbol=BTCUSDT&leverage=21&recvWindow=5000&timestamp="), "{}", s.query);
}

#[test]
fn signed_call_with_explicit_clock() {
    let (base, seen) = http_server(|_| json(200, r#"{"code":200,"msg":"success"}"#));
    let c = client(&base, Some(hmac()));
    let v =
        c.signed("POST", "/fapi/v1/marginType", &[p("symbol", "BTCUSDT"), p("marginType", "ISOLATED")], 1_000, 2_000);
    assert_eq!(v.unwrap()["msg"], "success");
    let s = seen.recv().unwrap();
    let want = rest_query_and_signature(&[p("symbol", "BTCUSDT"), p("marginType", "ISOLATED")], &hmac(), 1_000, 2_000);
    assert_eq!(s.query, want);
}

#[test]
fn listen_key_lifecycle_uses_the_header_and_no_signature() {
    let (base, seen) = http_server(|s| match s.method.as_str() {
        "POST" => json(200, r#"{"listenKey":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}"#),
        "PUT" => json(200, r#"{"listenKey":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}"#),
        _ => json(200, "{}"),
    });
    let c = client(&base, Some(hmac()));
    assert!(c.new_listen_key().unwrap().starts_with("pqia91"));
    c.keepalive_listen_key().unwrap();
    c.close_listen_key().unwrap();
    let calls: Vec<Seen> = (0..3).map(|_| seen.recv().unwrap()).collect();
    let methods: Vec<&str> = calls.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PUT", "DELETE"]);
    for s in &calls {
        assert_eq!(s.path, "/fapi/v1/listenKey");
        assert_eq!(s.api_key.as_deref(), Some(API_KEY));
        assert_eq!(s.query, "");
    }
}

#[test]
fn calls_needing_a_key_refuse_without_credentials() {
    let (base, _seen) = http_server(|_| json(200, "{}"));
    let c = client(&base, None);
    assert_eq!(c.new_listen_key(), Err(RestError::MissingCredentials));
    assert_eq!(c.set_leverage("BTCUSDT", 5), Err(RestError::MissingCredentials));
}

#[test]
fn api_errors_carry_status_code_and_message() {
    let (base, _seen) = http_server(|_| json(400, r#"{"code":-4028,"msg":"Leverage 200 is not valid"}"#));
    let c = client(&base, Some(hmac()));
    let e = c.set_leverage("BTCUSDT", 200).unwrap_err();
    assert_eq!(
        e,
        RestError::Api { status: 400, code: -4028, msg: "Leverage 200 is not valid".into(), retry_after: None }
    );
    assert!(!e.to_string().contains(SECRET));
}

#[test]
fn rate_limit_answers_carry_retry_after() {
    for status in [429u16, 418] {
        let (base, _seen) = http_server(move |_| Reply {
            status,
            headers: vec![("Retry-After", "7".into()), ("Content-Type", "application/json".into())],
            body: r#"{"code":-1003,"msg":"Too many requests"}"#.into(),
        });
        let e = client(&base, None).server_time_ms().unwrap_err();
        let RestError::Api { status: got, code, retry_after, .. } = e else { panic!("{e:?}") };
        assert_eq!((got, code, retry_after), (status, -1003, Some(Duration::from_secs(7))));
    }
}

#[test]
fn non_json_bodies() {
    let (base, _seen) = http_server(|s| match s.path.as_str() {
        "/fapi/v1/time" => Reply { status: 200, headers: vec![], body: "<html>hi</html>".into() },
        _ => Reply { status: 502, headers: vec![], body: "<html>Bad Gateway</html>".into() },
    });
    let c = client(&base, None);
    assert!(matches!(c.server_time_ms(), Err(RestError::Decode(_))));
    let e = c.exchange_info().unwrap_err();
    assert_eq!(e, RestError::Api { status: 502, code: 0, msg: "<html>Bad Gateway</html>".into(), retry_after: None });
}

#[test]
fn a_json_answer_without_the_expected_field_is_a_decode_error() {
    let (base, _seen) = http_server(|_| json(200, r#"{"time":1}"#));
    assert!(matches!(client(&base, None).server_time_ms(), Err(RestError::Decode(_))));
}

#[test]
fn transport_errors() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = client(&format!("http://127.0.0.1:{port}"), Some(hmac()));
    let e = c.set_leverage("BTCUSDT", 3).unwrap_err();
    assert!(matches!(e, RestError::Transport(_)), "{e:?}");
    assert!(!e.to_string().contains(SECRET));
    assert!(matches!(RestClient::new("ftp://x", None, TIMEOUT, None), Err(RestError::Transport(_))));
}

#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (_tcp, _): (TcpStream, _) = listener.accept().unwrap();
        let _ = done_rx.recv_timeout(TIMEOUT);
    });
    let c = RestClient::new(&base, None, Duration::from_millis(200), None).unwrap();
    assert!(matches!(c.server_time_ms(), Err(RestError::Transport(_))));
    done_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn debug_hides_the_secret() {
    let c = client("http://127.0.0.1:1", Some(hmac()));
    let s = format!("{c:?}");
    assert!(!s.contains(SECRET) && !s.contains(API_KEY), "{s}");
}

#[test]
fn https_with_a_test_root() {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![ck.cert.der().clone()], key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let (tx, seen) = mpsc::channel();
    let handler: Handler = Arc::new(|_| json(200, r#"{"serverTime":42}"#));
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
            let tls = rustls::StreamOwned::new(rustls::ServerConnection::new(Arc::clone(&config)).unwrap(), tcp);
            serve_one(tls, &handler, &tx);
        }
    });
    let c = RestClient::new(&base, None, TIMEOUT, Some(ck.cert.pem().as_bytes())).unwrap();
    assert_eq!(c.server_time_ms().unwrap(), 42);
    assert_eq!(seen.recv().unwrap().path, "/fapi/v1/time");
    // Without the test root the certificate is refused.
    let strict = RestClient::new(&base, None, TIMEOUT, None).unwrap();
    assert!(matches!(strict.server_time_ms(), Err(RestError::Transport(_))));
}
