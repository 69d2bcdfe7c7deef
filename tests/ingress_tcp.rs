//! The TCP JSON-lines source end to end on loopback: signals become positions under their trace
//! ids, every line is acked or nacked with a reason, bad input never stops the ingress.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tradeflow::core::{ErrorCode, EventKind};
use tradeflow::{EventCopy, Pipeline, PipelineBuilder};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(port: u16, max_line: usize) -> (Pipeline, std::sync::mpsc::Receiver<EventCopy>) {
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Tcp;
    cfg.ingress.tcp.listen = format!("127.0.0.1:{port}");
    cfg.ingress.tcp.max_line_bytes = max_line;
    cfg.position.max_hold_ms = 200;
    let mut b = PipelineBuilder::new(cfg);
    let rx = b.subscribe(1 << 16);
    (b.start().unwrap(), rx)
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

fn ack(r: &mut BufReader<TcpStream>) -> serde_json::Value {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
}

fn signal(trace: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"{trace}"}}"#
    )
}

#[test]
fn tcp_signals_become_positions_and_bad_lines_get_precise_nacks() {
    let port = free_port();
    let (p, rx) = start(port, 1024);
    // Let the market publish a first price.
    std::thread::sleep(Duration::from_millis(50));
    let (mut w, mut r) = connect(port);
    let mut ids = Vec::new();
    for i in 0..20 {
        let t = format!("tcp-{i}");
        writeln!(w, "{}", signal(&t)).unwrap();
        let a = ack(&mut r);
        assert_eq!((a["trace_id"].as_str(), a["status"].as_str()), (Some(t.as_str()), Some("accepted")), "{a}");
        ids.push(t);
    }
    // Each bad input: the documented nack, the connection survives.
    let bad: &[(&str, &str)] = &[
        (r#"{"symbol":"BTCUSDT","side":"BUY""#, "JSON_SYNTAX"),
        (
            r#"{"symbol":"BTCUSDT","side":"BUY","confidence":"high","timeframe":"1h","model_version":"ensemble_v2"}"#,
            "JSON_TYPE",
        ),
        (
            r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","extra":1}"#,
            "UNKNOWN_FIELD",
        ),
        (
            r#"{"symbol":"DOGEUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"bad-sym"}"#,
            "UNKNOWN_SYMBOL",
        ),
        (
            r#"{"symbol":"BTCUSDT","side":"BUY","confidence":1.5,"timeframe":"1h","model_version":"ensemble_v2"}"#,
            "CONFIDENCE_RANGE",
        ),
        ("\u{1}\u{2}garbage\u{7f}", "JSON_SYNTAX"),
    ];
    for (line, code) in bad {
        writeln!(w, "{line}").unwrap();
        let a = ack(&mut r);
        assert_eq!(a["status"], "rejected", "{line}: {a}");
        assert!(a["reason"].as_str().unwrap().starts_with(code), "{line}: {a}");
    }
    assert_eq!(ack_after(&mut w, &mut r, "bad-sym-check")["status"], "accepted", "still serving");
    ids.push("bad-sym-check".into());
    // An oversized line closes the connection with a reason; others are unaffected.
    let (mut w2, mut r2) = connect(port);
    writeln!(w2, "{}", "x".repeat(4096)).unwrap();
    let a = ack(&mut r2);
    assert_eq!(a["status"], "rejected");
    assert!(a["reason"].as_str().unwrap().starts_with("OVERSIZED"), "{a}");
    let mut rest = String::new();
    assert_eq!(r2.read_line(&mut rest).unwrap_or(0), 0, "closed after the oversized line: {rest:?}");
    assert_eq!(ack_after(&mut w, &mut r, "after-oversized")["status"], "accepted");
    ids.push("after-oversized".into());
    // 1,000 connects and disconnects never stop the ingress.
    for _ in 0..1_000 {
        drop(TcpStream::connect(("127.0.0.1", port)).unwrap());
    }
    // A half-open connection (a partial line, never finished) does not block others.
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(br#"{"symbol":"BTC"#).unwrap();
    assert_eq!(ack_after(&mut w, &mut r, "after-churn")["status"], "accepted");
    ids.push("after-churn".into());
    util::wait_count(&p, EventKind::SignalGenerated, ids.len() as u64);
    p.stop();
    let report = p.wait();
    let events = util::drain(&rx);
    let opened: Vec<String> = events
        .iter()
        .filter_map(|c| match c.event {
            tradeflow::core::Event::PositionOpened(o) => Some(o.header.trace_id.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert!(!opened.is_empty(), "some TCP signals became positions");
    assert!(opened.iter().all(|t| ids.contains(t)), "positions carry the clients' trace ids: {opened:?}");
    let errors = report.tally.errors[usize::from(ErrorCode::JsonSyntax.code())];
    assert!(errors >= 2, "system.event_error for each refused line");
    drop(half);
}

fn ack_after(w: &mut TcpStream, r: &mut BufReader<TcpStream>, trace: &str) -> serde_json::Value {
    writeln!(w, "{}", signal(trace)).unwrap();
    ack(r)
}

#[test]
fn the_python_client_streams_generated_signals_and_files() {
    let port = free_port();
    let (p, _rx) = start(port, 1024);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/send_signals.py");
    let out = std::process::Command::new("python3")
        .args([script, "--port", &port.to_string(), "--count", "200"])
        .output()
        .expect("python3 (the machine's CPython) runs the client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("accepted 200 rejected 0 busy 0 answered 200/200"), "{stdout}");

    let file = util::temp_path("send-signals.jsonl");
    let lines = [signal("file-1"), "{\"symbol\":".into(), signal("file-2"), "not json".into(), signal("file-3")];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = std::process::Command::new("python3")
        .args([script, "--port", &port.to_string(), "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("accepted 3 rejected 2 busy 0 answered 5/5"), "{stdout}");
    assert!(stdout.contains("rejected JSON_SYNTAX: 2"), "{stdout}");
    let _ = std::fs::remove_file(&file);
    util::wait_count(&p, EventKind::SignalGenerated, 203);
    p.stop();
    assert!(p.wait().drained);

    // Nothing listening: a clear error and exit status 2.
    let out = std::process::Command::new("python3")
        .args([script, "--port", &free_port().to_string(), "--count", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

#[test]
fn under_overload_every_line_gets_exactly_one_answer_and_busy_ones_stay_out() {
    // Tiny rings: the ring to the risk stage fills quickly, so the source answers "busy"
    // (how many depends on the machine; the accounting must hold whatever the count).
    let port = free_port();
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Tcp;
    cfg.ingress.tcp.listen = format!("127.0.0.1:{port}");
    cfg.topology.ring_capacity = 2;
    let p = PipelineBuilder::new(cfg).start().unwrap();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            std::thread::spawn(move || {
                let (mut w, r) = connect(port);
                let lines: String = (0..2_000).map(|i| signal(&format!("ov-{c}-{i}")) + "\n").collect();
                w.write_all(lines.as_bytes()).unwrap();
                let mut counts = std::collections::HashMap::<String, u64>::new();
                for line in r.lines().take(2_000) {
                    let a: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
                    *counts.entry(a["status"].as_str().unwrap().to_owned()).or_default() += 1;
                }
                counts
            })
        })
        .collect();
    let mut total = std::collections::HashMap::<String, u64>::new();
    for c in clients {
        for (k, v) in c.join().unwrap() {
            *total.entry(k).or_default() += v;
        }
    }
    let accepted = total.get("accepted").copied().unwrap_or(0);
    let busy = total.get("busy").copied().unwrap_or(0);
    assert_eq!(accepted + busy, 8_000, "one answer per line, nothing else: {total:?}");
    util::wait_count(&p, EventKind::SignalGenerated, accepted);
    p.stop();
    let report = p.wait();
    assert_eq!(report.signals(), accepted, "accepted lines are in the pipeline, busy ones are not");
    assert_eq!(report.ingress_stats().unwrap().busy, busy);
    eprintln!("overload: {accepted} accepted, {busy} busy");
}

/// The payload of every `system.event_error` in an `--events-out` log.
fn logged_errors(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "system.event_error")
        .map(|v| v["payload"].clone())
        .collect()
}

#[test]
fn refused_lines_are_logged_and_nacked_with_their_trace_id_words_position_and_input() {
    let port = free_port();
    let log = util::temp_path("tcp-refused-events.jsonl");
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Tcp;
    cfg.ingress.tcp.listen = format!("127.0.0.1:{port}");
    let mut b = PipelineBuilder::new(cfg).events_out(log.display().to_string());
    let rx = b.subscribe(1 << 16);
    let p = b.start().unwrap();
    let (mut w, mut r) = connect(port);
    const F: &str = r#""timeframe":"1h","model_version":"ensemble_v2""#;
    let long_id = "L".repeat(52);
    let shortened = format!("{}...", "L".repeat(33));
    let pad = "p".repeat(400);
    // (line, code, words, trace id echoed)
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            format!(r#"{{"trace_id":"t-type","symbol":"BTCUSDT","side":"BUY","confidence":"high",{F}}}"#),
            "JSON_TYPE",
            "confidence: expected a number, found a string",
            "t-type",
        ),
        (
            format!(r#"{{"trace_id":"t-extra","symbol":"BTCUSDT","side":"BUY","confidence":0.9,{F},"extra":1}}"#),
            "UNKNOWN_FIELD",
            r#"unknown field "extra""#,
            "t-extra",
        ),
        (
            format!(r#"{{"trace_id":"t-dup","symbol":"BTCUSDT","side":"BUY","confidence":0.9,{F},"side":"SELL"}}"#),
            "DUPLICATE_FIELD",
            r#"duplicate field "side""#,
            "t-dup",
        ),
        (
            format!(
                r#"{{"trace_id":"t-long","metadata":{{"pad":"{pad}"}},"symbol":"DOGEUSDT","side":"BUY","confidence":0.9,{F}}}"#
            ),
            "UNKNOWN_SYMBOL",
            r#"symbol: "DOGEUSDT" is not a configured symbol"#,
            "t-long",
        ),
        (
            format!(r#"{{"trace_id":"αβγ-u-45","symbol":"BTCUSDT","side":"BUY","confidence":0.9,{F}}}"#),
            "INVALID_TRACE_ID",
            "trace_id: must be printable ASCII",
            "αβγ-u-45",
        ),
        (
            format!(r#"{{"trace_id":"{long_id}","symbol":"BTCUSDT","side":"BUY","confidence":0.9,{F}}}"#),
            "INVALID_TRACE_ID",
            "trace_id: 52 bytes, over the 36-byte limit",
            &shortened,
        ),
        (
            r#"{"trace_id":"t-cut","symbol":"BTC"#.to_owned(),
            "JSON_SYNTAX",
            "not a JSON signal object: EOF while parsing",
            "t-cut",
        ),
    ];
    for (i, (line, code, words, trace)) in cases.iter().enumerate() {
        writeln!(w, "{line}").unwrap();
        let a = ack(&mut r);
        let reason = a["reason"].as_str().unwrap();
        assert_eq!((a["trace_id"].as_str(), a["status"].as_str()), (Some(*trace), Some("rejected")), "{a}");
        assert!(reason.starts_with(&format!("{code}: {words}")), "{reason}");
        assert!(reason.contains(&format!("(line {}, column ", i + 1)), "{reason}");
    }
    // The nack's raw bytes: UTF-8 as sent, not \u escapes of each byte.
    writeln!(w, "{}", cases[4].0).unwrap();
    let mut raw_answer = String::new();
    r.read_line(&mut raw_answer).unwrap();
    assert!(raw_answer.starts_with("{\"trace_id\":\"αβγ-u-45\""), "{raw_answer}");
    assert_eq!(ack_after(&mut w, &mut r, "still-served")["status"], "accepted");
    util::wait_count(&p, EventKind::SignalGenerated, 1);
    p.stop();
    p.wait();

    let logged = logged_errors(&log);
    assert_eq!(logged.len(), cases.len() + 1, "{logged:?}");
    for (i, (line, code, words, trace)) in cases.iter().enumerate() {
        let e = &logged[i];
        assert_eq!((e["trace_id"].as_str(), e["error_type"].as_str()), (Some(*trace), Some(*code)), "{e}");
        let msg = e["error_message"].as_str().unwrap();
        assert!(msg.starts_with(words) && msg.contains(&format!("(line {}, column ", i + 1)), "{msg}");
        let raw = e["event_payload"]["raw"].as_str().unwrap();
        let want = &line.as_bytes()[..line.len().min(256)];
        assert_eq!(raw.as_bytes(), want, "case {i}: up to 256 bytes of the input");
        assert_eq!(e["event_payload"]["detail"], i as u64 + 1, "the line number");
    }
    assert_eq!(logged[3]["event_payload"]["raw"].as_str().unwrap().len(), 256);
    // The events themselves carry the trace id where it is one (shortened and marked if long).
    let traces: Vec<String> = util::drain(&rx)
        .iter()
        .filter_map(|c| match c.event {
            tradeflow::core::Event::SystemEventError(e) => Some(e.header.trace_id.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(traces[..4], ["t-type", "t-extra", "t-dup", "t-long"]);
    assert_eq!((traces[4].as_str(), traces[5].as_str(), traces[6].as_str()), ("", shortened.as_str(), "t-cut"));
    let _ = std::fs::remove_file(log);
}

#[test]
fn idle_clients_are_closed_so_they_cannot_hold_every_slot() {
    let port = free_port();
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Tcp;
    cfg.ingress.tcp.listen = format!("127.0.0.1:{port}");
    cfg.ingress.tcp.max_connections = 2;
    cfg.ingress.tcp.idle_timeout_ms = 300;
    let p = PipelineBuilder::new(cfg).start().unwrap();
    let idle: Vec<_> = (0..2).map(|_| connect(port)).collect();
    // Both slots held: a third client is turned away at once.
    let (_w, mut r) = connect(port);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("too many connections"), "{line}");
    // The idle ones are told why and closed after idle_timeout_ms; a new client gets in.
    for (_, mut r) in idle {
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert!(text.contains("IDLE_TIMEOUT"), "{text:?}");
    }
    let (mut w, mut r) = connect(port);
    assert_eq!(ack_after(&mut w, &mut r, "after-idle")["status"], "accepted");
    util::wait_count(&p, EventKind::SignalGenerated, 1);
    p.stop();
    let report = p.wait();
    assert_eq!(report.ingress_stats().unwrap().idle_closed, 2);
}
