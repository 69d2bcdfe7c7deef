#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `WsClient` over plain TCP against blocking tungstenite servers on 127.0.0.1.
//!
//! No test asserts on elapsed time. Timeouts are driven with synthetic `now` values; real time
//! only bounds loops so that a bug fails the test instead of hanging it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tradeflow_binance::ws::{WsClient, WsError, WsOptions, WsState, MAX_FRAMES_PER_RECV};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

/// Real-time bound on every wait loop (a hang guard, not an assertion on speed).
const GUARD: Duration = Duration::from_secs(10);

type ServerWs = WebSocket<TcpStream>;

/// Accepts one WebSocket connection on 127.0.0.1:0 and runs `handler` on it.
fn serve(handler: impl FnOnce(ServerWs) + Send + 'static) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(GUARD)).unwrap();
        // A client that gave up before the handshake is not the server's failure.
        if let Ok(ws) = tungstenite::accept(tcp) {
            handler(ws);
        }
    });
    (addr, handle)
}

fn echo(mut ws: ServerWs) {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => ws.send(Message::Text(t)).unwrap(),
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}/ws")
}

/// Connects and polls until open, checking the state machine only goes Connecting → Open.
fn open_with(addr: SocketAddr, opts: &WsOptions) -> WsClient {
    open_counting_polls(addr, opts).0
}

/// [`open_with`], also returning how many polls the handshake took.
fn open_counting_polls(addr: SocketAddr, opts: &WsOptions) -> (WsClient, usize) {
    let mut c = WsClient::connect(&url(addr), opts, Instant::now()).unwrap();
    assert_eq!(c.state(), WsState::Connecting);
    assert_eq!(c.opened_at(), None);
    let guard = Instant::now() + GUARD;
    let mut polls = 0;
    loop {
        polls += 1;
        match c.poll(Instant::now()).unwrap() {
            WsState::Open => break,
            WsState::Connecting => assert!(Instant::now() < guard, "handshake never completed"),
            WsState::Closed => panic!("closed while connecting"),
        }
        thread::yield_now();
    }
    assert_eq!(c.state(), WsState::Open);
    assert!(c.opened_at().is_some());
    (c, polls)
}

fn open(addr: SocketAddr) -> WsClient {
    open_with(addr, &WsOptions::default())
}

/// Receives until `want` texts arrived; returns them and the per-call counts.
fn recv_texts(c: &mut WsClient, want: usize) -> (Vec<String>, Vec<usize>) {
    let mut got = Vec::new();
    let mut counts = Vec::new();
    let guard = Instant::now() + GUARD;
    while got.len() < want {
        c.poll(Instant::now()).unwrap();
        let n = c.recv(Instant::now(), &mut |t| got.push(t.to_owned())).unwrap();
        if n > 0 {
            counts.push(n);
        }
        assert!(Instant::now() < guard, "got {} of {want} messages", got.len());
        thread::yield_now();
    }
    (got, counts)
}

/// Receives until the client reports an error, which is returned.
fn recv_until_error(c: &mut WsClient) -> WsError {
    let guard = Instant::now() + GUARD;
    loop {
        if let Err(e) = c.recv(Instant::now(), &mut |_| {}) {
            return e;
        }
        assert!(Instant::now() < guard, "no error reported");
        thread::yield_now();
    }
}

#[test]
fn client_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<WsClient>();
    assert_send::<WsError>();
}

#[test]
fn handshake_completes_through_repeated_polls() {
    let (addr, server) = serve(echo);
    let (mut c, polls) = open_counting_polls(addr, &WsOptions::default());
    assert!(polls >= 1);
    c.close();
    assert_eq!(c.state(), WsState::Closed);
    server.join().unwrap();
}

#[test]
fn text_round_trip() {
    let (addr, server) = serve(echo);
    let mut c = open(addr);
    c.send_text(r#"{"id":"1","method":"ping"}"#).unwrap();
    c.send_text("second ✓").unwrap();
    let (got, _) = recv_texts(&mut c, 2);
    assert_eq!(got, [r#"{"id":"1","method":"ping"}"#, "second ✓"]);
    assert!(c.last_rx() >= c.opened_at().unwrap());
    c.close();
    server.join().unwrap();
}

#[test]
fn many_messages_arrive_in_order_and_recv_is_bounded() {
    const N: usize = 500;
    let (addr, server) = serve(|mut ws| {
        assert!(matches!(ws.read().unwrap(), Message::Text(_)));
        for i in 0..N {
            ws.write(Message::text(format!("m{i}"))).unwrap();
        }
        ws.flush().unwrap();
        echo(ws);
    });
    let mut c = open(addr);
    c.send_text("go").unwrap();
    let (got, counts) = recv_texts(&mut c, N);
    let want: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want);
    assert!(counts.iter().all(|&n| n <= MAX_FRAMES_PER_RECV), "{counts:?}");
    assert!(counts.iter().any(|&n| n > 1), "several messages per recv expected: {counts:?}");
    c.close();
    server.join().unwrap();
}

#[test]
fn server_ping_is_answered_with_pong() {
    let (tx, rx) = mpsc::channel();
    let (addr, server) = serve(move |mut ws| {
        ws.send(Message::Ping(b"hb-1".to_vec().into())).unwrap();
        loop {
            if let Message::Pong(p) = ws.read().unwrap() {
                tx.send(p.to_vec()).unwrap();
                break;
            }
        }
        ws.send(Message::text("after pong")).unwrap();
        echo(ws);
    });
    let mut c = open(addr);
    let (got, _) = recv_texts(&mut c, 1);
    assert_eq!(got, ["after pong"]);
    assert_eq!(rx.recv_timeout(GUARD).unwrap(), b"hb-1");
    c.close();
    server.join().unwrap();
}

#[test]
fn server_close_is_reported_with_its_reason() {
    let (addr, server) = serve(|mut ws| {
        ws.send(Message::text("last words")).unwrap();
        ws.close(Some(CloseFrame { code: CloseCode::Away, reason: "maintenance".into() })).unwrap();
        // Finish the closing handshake: read until the client's close reply ends the connection.
        while ws.read().is_ok() {}
    });
    let mut c = open(addr);
    let mut texts = Vec::new();
    let guard = Instant::now() + GUARD;
    let err = loop {
        match c.recv(Instant::now(), &mut |t| texts.push(t.to_owned())) {
            Ok(_) => assert!(Instant::now() < guard),
            Err(e) => break e,
        }
    };
    assert_eq!(texts, ["last words"]);
    let WsError::Closed(reason) = &err else { panic!("{err:?}") };
    assert!(reason.contains("1001") && reason.contains("maintenance"), "{reason}");
    assert_eq!(c.state(), WsState::Closed);
    // Every later call reports the same cause.
    assert_eq!(c.poll(Instant::now()), Err(err.clone()));
    assert_eq!(c.send_text("x"), Err(err));
    server.join().unwrap();
}

#[test]
fn server_hang_up_without_close_frame_is_closed() {
    let (addr, server) = serve(drop);
    let mut c = open(addr);
    server.join().unwrap();
    let err = recv_until_error(&mut c);
    assert!(matches!(err, WsError::Closed(_)), "{err:?}");
    assert_eq!(c.state(), WsState::Closed);
}

#[test]
fn client_close_sends_a_close_frame() {
    let (tx, rx) = mpsc::channel();
    let (addr, server) = serve(move |mut ws| loop {
        match ws.read() {
            Ok(Message::Close(_)) => {
                tx.send(true).unwrap();
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });
    let mut c = open(addr);
    c.close();
    assert!(rx.recv_timeout(GUARD).unwrap());
    assert_eq!(c.state(), WsState::Closed);
    assert!(matches!(c.poll(Instant::now()), Err(WsError::Closed(_))));
    server.join().unwrap();
}

#[test]
fn connection_refused_is_an_error_before_the_timeout() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let opts = WsOptions { connect_timeout: Duration::from_secs(3600), ..WsOptions::default() };
    let err = match WsClient::connect(&format!("ws://127.0.0.1:{port}/"), &opts, Instant::now()) {
        Err(e) => e,
        Ok(mut c) => {
            let guard = Instant::now() + GUARD;
            loop {
                match c.poll(Instant::now()) {
                    Ok(WsState::Connecting) => assert!(Instant::now() < guard, "refusal never seen"),
                    Ok(s) => panic!("unexpected state {s:?}"),
                    Err(e) => break e,
                }
                thread::yield_now();
            }
        }
    };
    assert!(matches!(err, WsError::Connect(_) | WsError::Closed(_)), "{err:?}");
}

#[test]
fn handshake_timeout_against_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (_tcp, _) = listener.accept().unwrap();
        let _ = done_rx.recv_timeout(GUARD); // hold the socket open, never answer
    });
    let timeout = Duration::from_millis(200);
    let opts = WsOptions { connect_timeout: timeout, ..WsOptions::default() };
    let t0 = Instant::now();
    let mut c = WsClient::connect(&url(addr), &opts, t0).unwrap();
    // Real polls before the deadline (synthetic clock): TCP connects, the request goes out,
    // no answer comes.
    for i in 0..50u32 {
        assert_eq!(c.poll(t0 + Duration::from_millis(u64::from(i))).unwrap(), WsState::Connecting);
        thread::sleep(Duration::from_millis(1)); // test thread only: give the server time to accept
    }
    assert_eq!(c.poll(t0 + timeout), Err(WsError::Timeout));
    assert_eq!(c.state(), WsState::Closed);
    done_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn non_websocket_answer_fails_the_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(GUARD)).unwrap();
        let mut buf = [0u8; 4096];
        let mut req = Vec::new();
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0);
            req.extend_from_slice(&buf[..n]);
        }
        tcp.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap();
    });
    let mut c = WsClient::connect(&url(addr), &WsOptions::default(), Instant::now()).unwrap();
    let guard = Instant::now() + GUARD;
    let err = loop {
        match c.poll(Instant::now()) {
            Ok(WsState::Connecting) => assert!(Instant::now() < guard),
            Ok(s) => panic!("unexpected state {s:?}"),
            Err(e) => break e,
        }
        thread::yield_now();
    };
    let WsError::Handshake(msg) = &err else { panic!("{err:?}") };
    assert!(msg.contains("404"), "{msg}");
    server.join().unwrap();
}

#[test]
fn oversized_message_is_refused() {
    let (addr, server) = serve(|mut ws| {
        let _ = ws.send(Message::text("x".repeat(4096)));
        while ws.read().is_ok() {}
    });
    let opts = WsOptions { max_message_bytes: 1024, ..WsOptions::default() };
    let mut c = open_with(addr, &opts);
    let err = recv_until_error(&mut c);
    let WsError::Protocol(msg) = &err else { panic!("{err:?}") };
    assert!(msg.contains("too large"), "{msg}");
    assert_eq!(c.state(), WsState::Closed);
    server.join().unwrap();
}

#[test]
fn idle_timeout_fires_when_nothing_arrives() {
    let (addr, server) = serve(echo);
    let idle = Duration::from_secs(5);
    let opts = WsOptions { idle_timeout: Some(idle), keepalive_ping: None, ..WsOptions::default() };
    let mut c = open_with(addr, &opts);
    let last = c.last_rx();
    assert_eq!(c.poll(last + idle - Duration::from_millis(1)), Ok(WsState::Open));
    assert_eq!(c.poll(last + idle), Err(WsError::Timeout));
    assert_eq!(c.state(), WsState::Closed);
    server.join().unwrap();
}

#[test]
fn receiving_resets_the_idle_clock() {
    let (addr, server) = serve(echo);
    let idle = Duration::from_secs(5);
    let opts = WsOptions { idle_timeout: Some(idle), keepalive_ping: None, ..WsOptions::default() };
    let mut c = open_with(addr, &opts);
    let t0 = c.last_rx();
    c.send_text("keep me alive").unwrap();
    // Receive the echo "4 s later" (synthetic clock): last_rx moves to that instant.
    let later = t0 + Duration::from_secs(4);
    let guard = Instant::now() + GUARD;
    while c.recv(later, &mut |_| {}).unwrap() == 0 {
        assert!(Instant::now() < guard);
        thread::yield_now();
    }
    assert_eq!(c.last_rx(), later);
    assert_eq!(c.poll(t0 + Duration::from_secs(6)), Ok(WsState::Open));
    assert_eq!(c.poll(later + idle), Err(WsError::Timeout));
    server.join().unwrap();
}

#[test]
fn keepalive_ping_is_sent_after_silence() {
    let (tx, rx) = mpsc::channel();
    let (addr, server) = serve(move |mut ws| loop {
        match ws.read() {
            Ok(Message::Ping(p)) => tx.send(p.to_vec()).unwrap(),
            Ok(_) => {}
            Err(_) => return,
        }
    });
    let period = Duration::from_secs(30);
    let opts = WsOptions { keepalive_ping: Some(period), idle_timeout: None, ..WsOptions::default() };
    let mut c = open_with(addr, &opts);
    let t0 = c.last_rx();
    assert_eq!(c.poll(t0 + period - Duration::from_millis(1)), Ok(WsState::Open));
    assert!(rx.try_recv().is_err(), "no ping before the period");
    assert_eq!(c.poll(t0 + period), Ok(WsState::Open));
    assert_eq!(rx.recv_timeout(GUARD).unwrap(), b"");
    // The pong the server sends back counts as traffic.
    let guard = Instant::now() + GUARD;
    let pong_at = t0 + period + Duration::from_secs(1);
    while c.last_rx() != pong_at {
        c.recv(pong_at, &mut |_| {}).unwrap();
        assert!(Instant::now() < guard, "pong never received");
        thread::yield_now();
    }
    // One ping per silent period, not one per poll.
    assert_eq!(c.poll(pong_at + Duration::from_secs(1)), Ok(WsState::Open));
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "second ping too early");
    assert_eq!(c.poll(pong_at + period), Ok(WsState::Open));
    assert_eq!(rx.recv_timeout(GUARD).unwrap(), b"");
    c.close();
    server.join().unwrap();
}

#[test]
fn send_before_open_is_refused_and_recv_is_empty() {
    let (addr, server) = serve(echo);
    let mut c = WsClient::connect(&url(addr), &WsOptions::default(), Instant::now()).unwrap();
    assert_eq!(c.send_text("too early"), Err(WsError::NotOpen));
    assert_eq!(c.recv(Instant::now(), &mut |_| panic!("no text while connecting")), Ok(0));
    drop(c);
    let _ = server.join();
}

#[test]
fn full_send_queue_is_reported_without_blocking() {
    let (hold_tx, hold_rx) = mpsc::channel::<()>();
    let (addr, server) = serve(move |_ws| {
        let _ = hold_rx.recv_timeout(GUARD); // never read
    });
    let mut c = open(addr);
    let chunk = "y".repeat(64 * 1024);
    let mut result = Ok(());
    for _ in 0..4000 {
        result = c.send_text(&chunk);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(WsError::SendBufferFull));
    assert_eq!(c.state(), WsState::Open, "a full queue does not close the connection");
    hold_tx.send(()).unwrap();
    server.join().unwrap();
}

#[test]
fn bad_urls_are_refused_at_once() {
    let opts = WsOptions::default();
    for url in ["http://127.0.0.1:1/", "not a url", "ws:///path"] {
        let r = WsClient::connect(url, &opts, Instant::now());
        assert!(matches!(r, Err(WsError::BadUrl(_))), "{url}: {r:?}");
    }
}
