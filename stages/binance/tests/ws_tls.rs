#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `WsClient` over TLS (`wss://`) against a rustls + tungstenite server with a self-signed
//! rcgen certificate for 127.0.0.1.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tradeflow_binance::ws::{WsClient, WsError, WsOptions, WsState};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

const GUARD: Duration = Duration::from_secs(10);

struct TestCert {
    pem: String,
    der: CertificateDer<'static>,
    key: Vec<u8>,
}

fn self_signed(names: &[&str]) -> TestCert {
    let ck = rcgen::generate_simple_self_signed(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
    TestCert { pem: ck.cert.pem(), der: ck.cert.der().clone(), key: ck.signing_key.serialize_der() }
}

fn server_config(cert: &TestCert) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.clone()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone()], key)
        .unwrap();
    Arc::new(config)
}

type TlsWs = tungstenite::WebSocket<StreamOwned<ServerConnection, TcpStream>>;

/// A TLS WebSocket server for one connection running `handler`; reports whether the TLS +
/// WebSocket handshake worked.
fn tls_server(
    cert: &TestCert,
    handler: impl FnOnce(TlsWs) + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<bool>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = server_config(cert);
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let (tcp, _): (TcpStream, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(GUARD)).unwrap();
        let tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        let Ok(ws) = tungstenite::accept(tls) else {
            tx.send(false).unwrap();
            return;
        };
        tx.send(true).unwrap();
        handler(ws);
    });
    (addr, rx, handle)
}

fn tls_echo_server(cert: &TestCert) -> (SocketAddr, mpsc::Receiver<bool>, JoinHandle<()>) {
    tls_server(cert, |mut ws| {
        while let Ok(msg) = ws.read() {
            if let Message::Text(t) = msg {
                ws.send(Message::Text(t)).unwrap();
            }
        }
    })
}

fn poll_until_settled(c: &mut WsClient) -> Result<WsState, WsError> {
    let guard = Instant::now() + GUARD;
    loop {
        match c.poll(Instant::now()) {
            Ok(WsState::Connecting) => assert!(Instant::now() < guard, "never settled"),
            other => return other,
        }
        thread::yield_now();
    }
}

#[test]
fn wss_round_trip_with_a_test_root() {
    let cert = self_signed(&["127.0.0.1", "localhost"]);
    let (addr, ok, server) = tls_echo_server(&cert);
    let opts = WsOptions { extra_root_pem: Some(cert.pem.clone().into_bytes()), ..WsOptions::default() };
    let mut c = WsClient::connect(&format!("wss://{addr}/ws-fapi/v1"), &opts, Instant::now()).unwrap();
    assert_eq!(c.state(), WsState::Connecting);
    assert_eq!(poll_until_settled(&mut c), Ok(WsState::Open));
    assert!(ok.recv_timeout(GUARD).unwrap());
    for i in 0..100 {
        c.send_text(&format!("tls {i}")).unwrap();
    }
    let mut got = Vec::new();
    let guard = Instant::now() + GUARD;
    while got.len() < 100 {
        c.poll(Instant::now()).unwrap();
        c.recv(Instant::now(), &mut |t| got.push(t.to_owned())).unwrap();
        assert!(Instant::now() < guard, "got {} of 100", got.len());
        thread::yield_now();
    }
    assert_eq!(got, (0..100).map(|i| format!("tls {i}")).collect::<Vec<_>>());
    c.close();
    server.join().unwrap();
}

#[test]
fn wss_with_the_wrong_root_is_refused() {
    let server_cert = self_signed(&["127.0.0.1"]);
    let other_cert = self_signed(&["127.0.0.1"]);
    let (addr, ok, server) = tls_echo_server(&server_cert);
    let opts = WsOptions { extra_root_pem: Some(other_cert.pem.into_bytes()), ..WsOptions::default() };
    let mut c = WsClient::connect(&format!("wss://{addr}/"), &opts, Instant::now()).unwrap();
    let err = poll_until_settled(&mut c).unwrap_err();
    let WsError::Tls(msg) = &err else { panic!("{err:?}") };
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");
    assert_eq!(c.state(), WsState::Closed);
    assert!(!ok.recv_timeout(GUARD).unwrap());
    server.join().unwrap();
}

#[test]
fn wss_with_a_name_the_certificate_does_not_cover_is_refused() {
    let cert = self_signed(&["exchange.example"]);
    let (addr, ok, server) = tls_echo_server(&cert);
    let opts = WsOptions { extra_root_pem: Some(cert.pem.into_bytes()), ..WsOptions::default() };
    let mut c = WsClient::connect(&format!("wss://{addr}/"), &opts, Instant::now()).unwrap();
    let err = poll_until_settled(&mut c).unwrap_err();
    assert!(matches!(err, WsError::Tls(_)), "{err:?}");
    assert!(!ok.recv_timeout(GUARD).unwrap());
    server.join().unwrap();
}

#[test]
fn garbage_extra_root_is_refused_at_connect() {
    let opts = WsOptions { extra_root_pem: Some(b"not a pem".to_vec()), ..WsOptions::default() };
    let r = WsClient::connect("wss://127.0.0.1:9/", &opts, Instant::now());
    assert!(matches!(r, Err(WsError::Tls(_))), "{r:?}");
}

#[test]
fn wss_server_close_is_reported() {
    let cert = self_signed(&["127.0.0.1"]);
    let (addr, ok, server) = tls_server(&cert, |mut ws| {
        ws.send(Message::Ping(b"p".to_vec().into())).unwrap();
        ws.send(Message::text("bye soon")).unwrap();
        ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "done".into() })).unwrap();
        while ws.read().is_ok() {}
    });
    let opts = WsOptions { extra_root_pem: Some(cert.pem.into_bytes()), ..WsOptions::default() };
    let mut c = WsClient::connect(&format!("wss://{addr}/"), &opts, Instant::now()).unwrap();
    assert_eq!(poll_until_settled(&mut c), Ok(WsState::Open));
    assert!(ok.recv_timeout(GUARD).unwrap());
    let mut texts = Vec::new();
    let guard = Instant::now() + GUARD;
    let err = loop {
        match c.recv(Instant::now(), &mut |t| texts.push(t.to_owned())) {
            Ok(_) => assert!(Instant::now() < guard, "close never seen"),
            Err(e) => break e,
        }
        thread::yield_now();
    };
    assert_eq!(texts, ["bye soon"]);
    assert_eq!(err, WsError::Closed("peer closed with code 1000: done".into()));
    server.join().unwrap();
}
