//! The WebSocket signal source end to end on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::net::TcpStream;
use std::time::Duration;

use tradeflow::core::EventKind;
use tradeflow::PipelineBuilder;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(port: u16) -> Ws {
    let (ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}")).unwrap();
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    ws
}

fn answer(ws: &mut Ws) -> serde_json::Value {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A pipeline fed by the WebSocket source on a free port, `[ingress.ws]` edited by `edit`.
fn start(edit: impl FnOnce(&mut tradeflow_ingress::WsSourceConfig)) -> (tradeflow::Pipeline, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Ws;
    cfg.ingress.ws.listen = format!("127.0.0.1:{port}");
    edit(&mut cfg.ingress.ws);
    (PipelineBuilder::new(cfg).start().unwrap(), port)
}

fn signal(trace: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"{trace}"}}"#
    )
}

#[test]
fn websocket_frames_become_signals_with_acks_and_precise_nacks() {
    let (p, port) = start(|ws| ws.max_frame_bytes = 1024);
    let mut ws = connect(port);
    for i in 0..10 {
        ws.send(Message::text(signal(&format!("ws-{i}")))).unwrap();
        let a = answer(&mut ws);
        assert_eq!(
            (a["trace_id"].as_str(), a["status"].as_str()),
            (Some(format!("ws-{i}").as_str()), Some("accepted"))
        );
    }
    ws.send(Message::text(r#"{"symbol":"BTCUSDT","side":"HOLD","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"bad-side"}"#)).unwrap();
    let a = answer(&mut ws);
    assert_eq!((a["trace_id"].as_str(), a["status"].as_str()), (Some("bad-side"), Some("rejected")), "{a}");
    assert!(a["reason"].as_str().unwrap().starts_with("INVALID_SIDE"), "{a}");
    ws.send(Message::binary(vec![0u8, 159, 146, 150])).unwrap();
    let a = answer(&mut ws);
    assert_eq!(a["status"], "rejected");
    assert!(a["reason"].as_str().unwrap().contains("binary"), "{a}");
    // An oversized frame closes that connection with 1009; the first one keeps working.
    let mut big = connect(port);
    big.send(Message::text("x".repeat(4096))).unwrap();
    let closed = loop {
        match big.read() {
            Ok(Message::Close(f)) => break f.map(|f| u16::from(f.code)),
            Ok(_) => {}
            Err(_) => break None,
        }
    };
    assert!(matches!(closed, Some(1009) | None), "{closed:?}");
    ws.send(Message::text(signal("after-big"))).unwrap();
    assert_eq!(answer(&mut ws)["status"], "accepted");
    util::wait_count(&p, EventKind::SignalGenerated, 11);
    p.stop();
    let r = p.wait();
    assert_eq!(r.signals(), 11);
    assert!(r.drained);
}

#[test]
fn websocket_duplicates_and_rate_limits_are_answered_per_connection() {
    // 3 per second: a burst of 3, then one every ~333 ms (the frames below arrive in far less).
    let (p, port) = start(|ws| ws.max_rate_per_connection = 3.0);
    let mut ws = connect(port);
    for trace in ["w-1", "w-1", "w-2", "w-3", "w-4", "w-5"] {
        ws.send(Message::text(signal(trace))).unwrap();
    }
    let answers: Vec<serde_json::Value> = (0..6).map(|_| answer(&mut ws)).collect();
    let reasons: Vec<&str> = answers.iter().map(|a| a["reason"].as_str().unwrap_or("")).collect();
    assert_eq!(answers[0]["status"], "accepted", "{answers:?}");
    assert!(reasons[1].starts_with("DUPLICATE_TRACE_ID"), "{answers:?}");
    assert_eq!(answers[2]["status"], "accepted", "{answers:?}");
    let limited = reasons.iter().filter(|r| r.starts_with("RATE_LIMITED")).count();
    assert!((1..=3).contains(&limited), "frames 4-6 exceed 3/s (a stalled machine may refill a token): {answers:?}");
    // Another connection has its own budget.
    let mut other = connect(port);
    other.send(Message::text(signal("w-other"))).unwrap();
    assert_eq!(answer(&mut other)["status"], "accepted");
    p.stop();
    let report = p.wait();
    assert_eq!(report.tally.errors[usize::from(tradeflow::core::ErrorCode::DuplicateTraceId.code())], 1);
    assert_eq!(report.tally.errors[usize::from(tradeflow::core::ErrorCode::RateLimited.code())], limited as u64);
}

/// A masked client frame with opcode `op` carrying `payload` (length < 126).
fn masked_frame(op: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x5au8, 0x01, 0xc3, 0x7e];
    let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Writes `frame` raw on a fresh connection and returns the close code the server sends.
fn close_code_after(port: u16, frame: &[u8]) -> Option<u16> {
    use std::io::Write;
    let mut ws = connect(port);
    let MaybeTlsStream::Plain(s) = ws.get_mut() else { unreachable!() };
    s.write_all(frame).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(f)) => return f.map(|f| u16::from(f.code)),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

#[test]
fn websocket_protocol_violations_close_the_connection_and_are_logged() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = util::temp_path("ws-violations-events.jsonl");
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Ws;
    cfg.ingress.ws.listen = format!("127.0.0.1:{port}");
    let p = PipelineBuilder::new(cfg).events_out(log.display().to_string()).start().unwrap();
    assert_eq!(close_code_after(port, &masked_frame(0x1, b"{\"x\":\"\xc3\x28\"}")), Some(1007), "not UTF-8");
    let mut unmasked = vec![0x81, 2];
    unmasked.extend_from_slice(b"{}");
    assert_eq!(close_code_after(port, &unmasked), Some(1002), "unmasked client frame");
    assert_eq!(close_code_after(port, &masked_frame(0xb, b"")), Some(1002), "reserved control opcode");
    // The source goes on serving.
    let mut ws = connect(port);
    ws.send(Message::text(signal("after-violations"))).unwrap();
    assert_eq!(answer(&mut ws)["status"], "accepted");
    util::wait_count(&p, EventKind::SignalGenerated, 1);
    p.stop();
    let report = p.wait();
    assert_eq!(report.ingress_stats().unwrap().protocol_errors, 3);
    let text = std::fs::read_to_string(&log).unwrap();
    let errors: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "system.event_error")
        .map(|v| v["payload"].clone())
        .collect();
    let types: Vec<&str> = errors.iter().map(|e| e["error_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["INVALID_UTF8", "PROTOCOL_VIOLATION", "PROTOCOL_VIOLATION"], "{errors:?}");
    assert!(errors[1]["error_message"].as_str().unwrap().starts_with("protocol violation: "), "{errors:?}");
    let _ = std::fs::remove_file(log);
}
