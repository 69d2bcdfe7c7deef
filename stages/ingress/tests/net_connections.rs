//! The network sources' connections at the stage level, over real loopback sockets and the
//! stage's own clock: idle and half-open clients are closed so they cannot hold every slot,
//! a client that never reads its answers is disconnected and reported, and WebSocket protocol
//! violations close the connection (1007 / 1002) with a `system.event_error`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tradeflow_core::{ErrorCode, Event, RecordingCtx, Stage, SystemEventError};
use tradeflow_ingress::{IngressConfig, IngressSource, IngressStage, SourceKind};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};
use util::*;

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

const MS: u64 = 1_000_000;

fn stage(kind: IngressSource, edit: impl FnOnce(&mut IngressConfig)) -> (IngressStage, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = IngressConfig { source: kind, ..Default::default() };
    cfg.tcp.listen = format!("127.0.0.1:{port}");
    cfg.ws.listen = format!("127.0.0.1:{port}");
    edit(&mut cfg);
    let src = if kind == IngressSource::Tcp { SourceKind::Tcp } else { SourceKind::Ws };
    (IngressStage::try_new(&cfg, catalog(), src).unwrap(), port)
}

/// Polls until `done` says so (10 s at most); returns the events emitted meanwhile.
fn poll_until(
    stage: &mut IngressStage,
    ctx: &mut RecordingCtx,
    mut done: impl FnMut(&IngressStage, &[Event]) -> bool,
) -> Vec<Event> {
    let start = Instant::now();
    let mut events = Vec::new();
    while !done(stage, &events) {
        assert!(start.elapsed() < Duration::from_secs(20), "gave up; events so far: {}", events.len());
        stage.poll(ctx);
        events.extend(ctx.take());
        std::thread::sleep(Duration::from_micros(200));
    }
    events
}

/// Polls the stage while `client` runs on its own thread; returns its result.
fn with_client<T: Send + 'static>(
    stage: &mut IngressStage,
    ctx: &mut RecordingCtx,
    client: impl FnOnce() -> T + Send + 'static,
) -> (T, Vec<Event>) {
    let h: JoinHandle<T> = std::thread::spawn(client);
    let events = poll_until(stage, ctx, |_, _| h.is_finished());
    (h.join().unwrap(), events)
}

fn errors(events: &[Event], code: ErrorCode) -> Vec<SystemEventError> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SystemEventError(e) if e.code == code => Some(*e),
            _ => None,
        })
        .collect()
}

fn tcp_client(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

fn ws_connect(port: u16) -> tungstenite::Result<Ws> {
    let (ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}"))?;
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    Ok(ws)
}

/// The close code the server sends next (frames before it are skipped).
fn close_code(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match ws.read() {
            Ok(Message::Close(f)) => return f.map(|f| f.code),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

#[test]
fn idle_tcp_clients_are_closed_and_their_slots_go_to_new_clients() {
    let (mut st, port) = stage(IngressSource::Tcp, |c| {
        c.tcp.max_connections = 3;
        c.tcp.idle_timeout_ms = 200;
    });
    let mut ctx = ctx(1_000 * MS);
    let idle: Vec<_> = (0..3).map(|_| tcp_client(port)).collect();
    poll_until(&mut st, &mut ctx, |st, _| st_accepted(st) == 3);
    // Every slot is held: a new client is turned away (the check can see the lockout).
    let (_w, mut r) = tcp_client(port);
    poll_until(&mut st, &mut ctx, |st, _| st.tcp().unwrap().0.refused == 1);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("too many connections"), "{line}");
    // Not yet idle for long enough: still held.
    ctx.now_ns += 150 * MS;
    st.poll(&mut ctx);
    assert_eq!(st.stats().idle_closed, 0);
    ctx.now_ns += 100 * MS;
    poll_until(&mut st, &mut ctx, |st, _| st_idle(st) == 3);
    for (_, mut r) in idle {
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert!(text.contains("IDLE_TIMEOUT"), "told why, then closed: {text:?}");
    }
    let (mut w, mut r) = tcp_client(port);
    writeln!(w, "{}", valid_line("after-idle")).unwrap();
    let events = poll_until(&mut st, &mut ctx, |_, ev| !ev.is_empty());
    assert!(matches!(events[0], Event::SignalGenerated(_)), "{events:?}");
    let mut ack = String::new();
    r.read_line(&mut ack).unwrap();
    assert!(ack.contains("\"accepted\""), "{ack}");
}

#[test]
fn input_that_waited_while_the_stage_was_not_polling_is_not_idleness() {
    let (mut st, port) = stage(IngressSource::Tcp, |c| c.tcp.idle_timeout_ms = 200);
    let mut ctx = ctx(1_000 * MS);
    let (mut w, mut r) = tcp_client(port);
    poll_until(&mut st, &mut ctx, |st, _| st_accepted(st) == 1);
    writeln!(w, "{}", valid_line("waited")).unwrap();
    std::thread::sleep(Duration::from_millis(50)); // the line is in the server's socket
    ctx.now_ns += 5_000 * MS; // the stage was not polled meanwhile (e.g. backed up, acks off)
    let events = poll_until(&mut st, &mut ctx, |_, ev| !ev.is_empty());
    assert!(matches!(events[0], Event::SignalGenerated(_)), "{events:?}");
    let mut ack = String::new();
    r.read_line(&mut ack).unwrap();
    assert!(ack.contains("\"accepted\""), "{ack}");
    assert_eq!(st.stats().idle_closed, 0);
}

fn st_accepted(st: &IngressStage) -> u64 {
    st.tcp().unwrap().0.accepted
}

fn st_idle(st: &IngressStage) -> u64 {
    st.stats().idle_closed
}

#[test]
fn websocket_clients_that_stall_the_handshake_or_idle_are_dropped() {
    let (mut st, port) = stage(IngressSource::Ws, |c| {
        c.ws.max_connections = 2;
        c.ws.handshake_timeout_ms = 200;
        c.ws.idle_timeout_ms = 1_000;
    });
    let mut ctx = ctx(1_000 * MS);
    // Two sockets that never send a handshake hold both slots: a real client is refused.
    let _half: Vec<_> = (0..2).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    let (refused, _) = with_client(&mut st, &mut ctx, move || ws_connect(port).is_err());
    assert!(refused, "both slots held by half-open sockets");
    ctx.now_ns += 250 * MS;
    poll_until(&mut st, &mut ctx, |st, _| st.stats().handshake_timeouts == 2);
    let (ws, _) = with_client(&mut st, &mut ctx, move || ws_connect(port));
    let mut ws = ws.unwrap();
    // Idle past idle_timeout_ms: closed with 1008 (policy).
    ctx.now_ns += 1_100 * MS;
    poll_until(&mut st, &mut ctx, |st, _| st.stats().idle_closed == 1);
    assert_eq!(close_code(&mut ws), Some(CloseCode::Policy));
}

/// Writes `line` over and over without reading an answer, until the server drops the client.
fn flood(mut s: TcpStream, line: &'static str) -> u64 {
    let mut sent = 0;
    while sent < 2_000_000 && s.write_all(line.as_bytes()).is_ok() {
        sent += 1;
    }
    sent
}

#[test]
fn a_tcp_client_that_never_reads_is_disconnected_counted_and_reported() {
    let (mut st, port) = stage(IngressSource::Tcp, |c| c.tcp.max_outbound_bytes = 4096);
    let mut ctx = ctx(1_000 * MS);
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let h = std::thread::spawn(move || flood(s, "{\"trace_id\":\"never-reads\"}\n"));
    let events = poll_until(&mut st, &mut ctx, |_, ev| !errors(ev, ErrorCode::SlowClient).is_empty());
    let e = errors(&events, ErrorCode::SlowClient)[0];
    assert!(detail_of(&e).message().contains("did not read its answers (over 4096 bytes waiting)"));
    assert_eq!(st.stats().slow_clients, 1);
    assert!(errors(&events, ErrorCode::MissingField).len() > 10, "the lines were answered until then");
    while !h.is_finished() {
        st.poll(&mut ctx);
        ctx.take();
    }
    assert!(h.join().unwrap() < 2_000_000, "the client was disconnected");
}

#[test]
fn a_websocket_client_that_never_reads_is_disconnected_counted_and_reported() {
    let (mut st, port) = stage(IngressSource::Ws, |c| c.ws.max_outbound_bytes = 4096);
    let mut ctx = ctx(1_000 * MS);
    let (ws, _) = with_client(&mut st, &mut ctx, move || ws_connect(port));
    let mut ws = ws.unwrap();
    let h = std::thread::spawn(move || {
        let mut sent = 0u64;
        while sent < 2_000_000 && ws.send(Message::text("{\"trace_id\":\"never-reads\"}")).is_ok() {
            sent += 1;
        }
        sent
    });
    let events = poll_until(&mut st, &mut ctx, |_, ev| !errors(ev, ErrorCode::SlowClient).is_empty());
    assert_eq!(st.stats().slow_clients, 1);
    let e = errors(&events, ErrorCode::SlowClient)[0];
    assert!(detail_of(&e).message().contains("did not read its answers"), "{:?}", detail_of(&e).message());
    while !h.is_finished() {
        st.poll(&mut ctx);
        ctx.take();
    }
    assert!(h.join().unwrap() < 2_000_000, "the client was disconnected");
}

/// A masked client frame with opcode `op` carrying `payload` (length < 126).
fn masked_frame(op: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11u8, 0x22, 0x33, 0x44];
    let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Connects, writes `frame` raw after a good signal, and returns the close code received.
fn send_raw(
    st: &mut IngressStage,
    ctx: &mut RecordingCtx,
    port: u16,
    frame: Vec<u8>,
) -> (Option<CloseCode>, Vec<Event>) {
    let (ws, _) = with_client(st, ctx, move || ws_connect(port));
    let mut ws = ws.unwrap();
    with_client(st, ctx, move || {
        ws.send(Message::text(valid_line("before"))).unwrap();
        let MaybeTlsStream::Plain(s) = ws.get_mut() else { unreachable!() };
        s.write_all(&frame).unwrap();
        close_code(&mut ws)
    })
}

#[test]
fn websocket_protocol_violations_close_with_1007_or_1002_and_are_reported() {
    let (mut st, port) = stage(IngressSource::Ws, |_| {});
    let mut ctx = ctx(1_000 * MS);
    // A text frame that is not UTF-8: 1007.
    let (code, events) = send_raw(&mut st, &mut ctx, port, masked_frame(0x1, b"{\"a\":\"\xff\xfe\"}"));
    assert_eq!(code, Some(CloseCode::Invalid));
    let bad = errors(&events, ErrorCode::InvalidUtf8);
    assert_eq!(bad.len(), 1, "{events:?}");
    assert_eq!(detail_of(&bad[0]).message(), "not UTF-8 (frame 2)");
    // An unmasked client frame and a reserved opcode: 1002.
    let mut unmasked = vec![0x81, 2];
    unmasked.extend_from_slice(b"{}");
    for frame in [unmasked, masked_frame(0x3, b"{}")] {
        let (code, events) = send_raw(&mut st, &mut ctx, port, frame);
        assert_eq!(code, Some(CloseCode::Protocol));
        let v = errors(&events, ErrorCode::ProtocolViolation);
        assert_eq!(v.len(), 1, "{events:?}");
        assert!(detail_of(&v[0]).message().starts_with("protocol violation: "), "{}", detail_of(&v[0]).message());
    }
    assert_eq!(st.stats().protocol_errors, 3);
    // A client that simply goes away is not a violation.
    let (ws, _) = with_client(&mut st, &mut ctx, move || ws_connect(port));
    drop(ws.unwrap());
    let before = st.stats().errors_total();
    ctx.now_ns += MS;
    for _ in 0..50 {
        st.poll(&mut ctx);
    }
    assert_eq!((st.stats().errors_total(), st.stats().protocol_errors), (before, 3));
}
