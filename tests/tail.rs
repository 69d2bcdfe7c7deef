#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test
//! `tradeflow tail` as a user runs it, against a private redis-server holding entries in the
//! mirror's wire format.

mod util;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};
use util::redis::RedisServer;

const PREFIX: &str = "quantum:stream:";
/// Upper bound of every wait; never a timing assertion.
const BOUND: Duration = Duration::from_secs(30);

/// Every stream: the event types and the stats stream.
const TYPES: [&str; 13] = [
    "signal.generated",
    "signal.denied",
    "trade.execution_requested",
    "trade.executed",
    "trade.exit_executed",
    "position.opened",
    "position.updated",
    "position.closed",
    "risk.alert",
    "system.event_error",
    "model.drift_detected",
    "model.promoted",
    "tradeflow.stats",
];

fn tradeflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    c.env_remove("TRADEFLOW_LOG");
    c
}

/// A loopback port with nothing listening.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The flat fields of one event entry, as the mirror writes them.
fn event_fields(event_type: &str, source: &str, trace: &str, ts: &str, mut payload: Value) -> Vec<(String, String)> {
    payload["trace_id"] = json!(trace);
    payload["timestamp"] = json!(1_795_628_401.123_456);
    payload["metadata"] = json!({ "seq": 1 });
    [
        ("event_type", event_type.to_string()),
        ("payload", payload.to_string()),
        ("trace_id", trace.to_string()),
        ("correlation_id", trace.to_string()),
        ("timestamp", ts.to_string()),
        ("source", source.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn xadd(con: &mut redis::Connection, stream: &str, fields: &[(String, String)]) {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(format!("{PREFIX}{stream}")).arg("*");
    for (k, v) in fields {
        cmd.arg(k).arg(v);
    }
    let _: String = cmd.query(con).unwrap();
}

/// One entry per stream with known values, in `TYPES` order, all with trace `trace`.
fn add_one_of_each(con: &mut redis::Connection, trace: &str) {
    let ts = "2026-11-25T17:40:01.123456Z";
    let events: [(&str, &str, Value); 12] = [
        (
            "signal.generated",
            "ingress",
            json!({"symbol": "BTCUSDT", "side": "BUY", "confidence": 0.81, "timeframe": "1h", "model_version": "ensemble_v2"}),
        ),
        (
            "signal.denied",
            "risk",
            json!({"symbol": "ETHUSDT", "side": "SELL", "confidence": 0.7, "denial_code": "PRICE_MISSING", "reason": "no reference price for the symbol"}),
        ),
        (
            "trade.execution_requested",
            "risk",
            json!({"symbol": "BTCUSDT", "side": "BUY", "confidence": 0.81, "position_size_usd": 1000.0, "leverage": 2.0, "stop_loss_pct": 1.5, "take_profit_pct": 3.0}),
        ),
        (
            "trade.executed",
            "gateway",
            json!({"symbol": "BTCUSDT", "side": "BUY", "entry_price": 43210.5, "position_size_usd": 1000.0, "commission_usd": 0.4, "order_id": "ORDER_BTCUSDT_7"}),
        ),
        (
            "trade.exit_executed",
            "gateway",
            json!({"symbol": "BTCUSDT", "side": "SELL", "exit_price": 43190.5, "position_size_usd": 999.5, "commission_usd": 0.4, "exit_reason": "TP", "order_id": "ORDER_BTCUSDT_8"}),
        ),
        (
            "position.opened",
            "position",
            json!({"symbol": "BTCUSDT", "is_long": true, "entry_price": 43210.5, "size_usd": 1000.0, "leverage": 2.0, "stop_loss_price": 42500.0, "take_profit_price": 44500.0}),
        ),
        (
            "position.updated",
            "position",
            json!({"symbol": "BTCUSDT", "is_long": true, "mark_price": 43300.0, "unrealized_pnl_usd": 2.07, "unrealized_pnl_pct": 0.21}),
        ),
        (
            "position.closed",
            "position",
            json!({"symbol": "BTCUSDT", "is_long": true, "pnl_usd": -3.21, "pnl_pct": -0.42, "exit_reason": "TAKE_PROFIT", "duration_seconds": 12.3}),
        ),
        (
            "risk.alert",
            "control",
            json!({"severity": "WARNING", "alert_type": "DRAWDOWN_WARNING", "action_taken": "NONE", "message": "drawdown near the limit"}),
        ),
        (
            "system.event_error",
            "ingress",
            json!({"error_type": "JSON_SYNTAX", "component": "ingress", "error_message": "input is not valid JSON"}),
        ),
        (
            "model.drift_detected",
            "learning",
            json!({"model_version": "ensemble_v2", "statistic": 4.2, "threshold": 3.0, "samples": 200}),
        ),
        (
            "model.promoted",
            "learning",
            json!({"model_version": "challenger_v3", "replaced_model_version": "ensemble_v2", "statistic": 2.5}),
        ),
    ];
    for (ty, source, payload) in events {
        xadd(con, ty, &event_fields(ty, source, trace, ts, payload));
    }
    // The mirror's health entry: no trace, no timestamp (the entry id gives the time); the
    // numbers flat and again as the payload JSON.
    let payload = r#"{"event_type":"system.health","source":"mirror","mirrored":120,"dropped_redis":0,"trace_id":"","timestamp":1795628401.5,"metadata":{}}"#;
    let stats = [
        ("event_type", "system.health"),
        ("source", "mirror"),
        ("mirrored", "120"),
        ("dropped_redis", "0"),
        ("payload", payload),
    ];
    xadd(con, "tradeflow.stats", &stats.map(|(k, v)| (k.to_string(), v.to_string())));
}

/// Runs the binary to completion (killed and failed after `BOUND`): status, stdout, stderr.
fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = tradeflow().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = collect(child.stdout.take().unwrap());
    let err = collect(child.stderr.take().unwrap());
    let status = wait_bounded(&mut child);
    (status, out.recv_timeout(BOUND).unwrap(), err.recv_timeout(BOUND).unwrap())
}

/// Reads a pipe to its end on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    rx
}

fn wait_bounded(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            panic!("tradeflow tail did not exit within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends each line of a pipe on a channel as it arrives.
fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for a line containing `want`.
fn wait_line(rx: &Receiver<String>, want: &str) -> String {
    let start = Instant::now();
    while let Some(left) = BOUND.checked_sub(start.elapsed()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(want) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line containing {want:?}: {e}"),
        }
    }
    panic!("no line containing {want:?} within {BOUND:?}");
}

#[test]
fn every_type_is_rendered_readably() {
    let redis = RedisServer::start();
    add_one_of_each(&mut redis.client(), "sig-1");
    let (status, out, err) = run(&["tail", "--redis", &redis.url(), "--from-start", "--count", "13"]);
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    assert_eq!(out.lines().count(), 13, "{out}");
    for ty in TYPES {
        assert!(out.lines().any(|l| l.split_whitespace().nth(1) == Some(ty)), "{ty} missing:\n{out}");
    }
    for want in [
        "17:40:01.123 signal.generated",
        "ingress  sig-1 BTCUSDT BUY conf=0.81",
        "BTCUSDT BUY conf=0.81 size=$1000.00",
        "DENIED PRICE_MISSING: no reference price for the symbol",
        "BTCUSDT BUY entry@43210.5 size=$1000.00",
        "BTCUSDT SELL exit@43190.5 size=$999.50 fee=$0.40 reason=TP",
        "BTCUSDT LONG entry=43210.5",
        "upnl=$2.07 (0.21%)",
        "pnl=$-3.21 (-0.42%) exit=TAKE_PROFIT",
        "WARNING DRAWDOWN_WARNING",
        "JSON_SYNTAX in ingress",
        "model=ensemble_v2 stat=4.200",
        "model=challenger_v3 replaces=ensemble_v2",
        "mirror   - mirrored=120 dropped_redis=0",
    ] {
        assert!(out.contains(want), "output lacks {want:?}:\n{out}");
    }
    assert!(!out.contains("MALFORMED"), "{out}");
    assert_eq!(out.matches("mirrored=").count(), 1, "the stats payload is not shown twice:\n{out}");
    assert!(err.contains("following 13 stream(s)"), "{err}");
}

#[test]
fn types_option_filters_streams() {
    let redis = RedisServer::start();
    add_one_of_each(&mut redis.client(), "sig-1");
    let url = redis.url();
    let (status, out, err) =
        run(&["tail", "--redis", &url, "--from-start", "--count", "2", "--types", "position.closed,signal.denied"]);
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    let types: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(types.len(), 2, "{out}");
    assert!(types.contains(&"position.closed") && types.contains(&"signal.denied"), "{out}");
}

#[test]
fn trace_option_filters_entries() {
    let redis = RedisServer::start();
    let mut con = redis.client();
    add_one_of_each(&mut con, "sig-other");
    add_one_of_each(&mut con, "sig-wanted");
    add_one_of_each(&mut con, "sig-later");
    let url = redis.url();
    let (status, out, err) = run(&["tail", "--redis", &url, "--from-start", "--count", "12", "--trace", "sig-wanted"]);
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    assert_eq!(out.lines().count(), 12, "{out}");
    assert!(out.lines().all(|l| l.split_whitespace().nth(3) == Some("sig-wanted")), "{out}");
}

#[test]
fn json_option_prints_the_raw_entries() {
    let redis = RedisServer::start();
    add_one_of_each(&mut redis.client(), "sig-1");
    let (status, out, err) = run(&["tail", "--redis", &redis.url(), "--from-start", "--count", "13", "--json"]);
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    let entries: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(entries.len(), 13);
    for e in &entries {
        let stream = e["stream"].as_str().unwrap();
        assert!(stream.starts_with(PREFIX), "{e}");
        assert!(e["id"].as_str().unwrap().contains('-'), "{e}");
        if stream.ends_with("tradeflow.stats") {
            assert_eq!(e["fields"]["mirrored"], "120");
            continue;
        }
        let f = &e["fields"];
        assert_eq!(f["trace_id"], "sig-1", "{e}");
        assert_eq!(f["source"].as_str().map(str::is_empty), Some(false), "{e}");
        assert_eq!(f["timestamp"], "2026-11-25T17:40:01.123456Z");
        assert_eq!(format!("{PREFIX}{}", f["event_type"].as_str().unwrap()), stream);
        let payload: Value = serde_json::from_str(f["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload["trace_id"], "sig-1", "{e}");
    }
}

#[test]
fn malformed_entries_are_marked_not_fatal() {
    let redis = RedisServer::start();
    let mut con = redis.client();
    let raw = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    xadd(&mut con, "signal.generated", &raw(&[("event_type", "signal.generated"), ("source", "ingress")]));
    let mut bad_json = event_fields("position.closed", "position", "t-bad", "2026-11-25T17:40:01Z", json!({}));
    bad_json[1].1 = "{not json".into();
    xadd(&mut con, "position.closed", &bad_json);
    xadd(&mut con, "risk.alert", &raw(&[("foo", "bar")]));
    let bad_time = event_fields("trade.executed", "gateway", "t-time", "yesterday", json!({"symbol": "X"}));
    xadd(&mut con, "trade.executed", &bad_time);
    let good =
        event_fields("model.promoted", "learning", "t-ok", "2026-11-25T17:40:01Z", json!({"model_version": "m"}));
    xadd(&mut con, "model.promoted", &good);
    let (status, out, err) = run(&["tail", "--redis", &redis.url(), "--from-start", "--count", "5"]);
    assert!(status.success(), "exit {status:?}\n{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.lines().count(), 5, "{out}");
    assert_eq!(out.lines().filter(|l| l.contains("[MALFORMED:")).count(), 4, "{out}");
    assert!(out.contains("missing payload, trace_id, correlation_id, timestamp"), "{out}");
    assert!(out.contains("payload is not a JSON object"), "{out}");
    assert!(out.contains("timestamp yesterday is not ISO-8601"), "{out}");
    assert!(out.lines().any(|l| l.contains("model=m") && !l.contains("MALFORMED")), "{out}");
}

#[test]
fn unreachable_redis_fails_clearly() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let (status, out, err) = run(&["tail", "--redis", &url, "--count", "1"]);
    assert!(!status.success(), "{out}\n{err}");
    assert!(err.contains("cannot connect to Redis at") && err.contains(&url), "{err}");
}

#[test]
fn passwords_never_appear_in_output_or_errors() {
    let secret = "hunter2-Secret";
    // Nothing listening.
    let url = format!("redis://admin:{secret}@127.0.0.1:{}", free_port());
    let (status, out, err) = run(&["tail", "--redis", &url, "--count", "1"]);
    assert!(!status.success());
    assert!(err.contains("redis://***@127.0.0.1:"), "{err}");
    // Not a Redis URL at all.
    let (status, out2, err2) = run(&["tail", "--redis", &format!("http://admin:{secret}@host/"), "--count", "1"]);
    assert!(!status.success() && err2.contains("invalid Redis URL"), "{err2}");
    // A server that requires the password: right password, then a wrong one.
    let redis = RedisServer::start();
    let mut con = redis.client();
    add_one_of_each(&mut con, "sig-1");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("requirepass").arg(secret).query(&mut con).unwrap();
    let good = format!("redis://:{secret}@127.0.0.1:{}", redis.port());
    let (status, out3, err3) = run(&["tail", "--redis", &good, "--from-start", "--count", "1"]);
    assert!(status.success(), "{out3}\n{err3}");
    assert!(err3.contains("redis://***@127.0.0.1"), "{err3}");
    let wrong = format!("redis://default:{secret}-x@127.0.0.1:{}", redis.port());
    let (status, out4, err4) = run(&["tail", "--redis", &wrong, "--from-start", "--count", "1"]);
    assert!(!status.success(), "{out4}\n{err4}");
    for text in [out, err, out2, err2, out3, err3, out4, err4] {
        assert!(!text.contains("hunter2"), "password printed:\n{text}");
    }
}

#[test]
fn unknown_types_are_refused() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let (status, out, err) = run(&["tail", "--redis", &url, "--types", "signal.generated,trade.bogus"]);
    assert!(!status.success(), "{out}");
    assert!(err.contains("trade.bogus") && err.contains("valid types:"), "{err}");
    assert!(TYPES.iter().all(|t| err.contains(t)), "{err}");
    assert!(!err.contains("cannot connect"), "types are checked before connecting: {err}");
}

/// Spawns a live `tail` (no `--from-start`) and returns it with its stdout lines once it
/// reports that it follows the streams.
fn spawn_live(url: &str, count: &str) -> (Child, Receiver<String>, Receiver<String>) {
    let mut child = tradeflow()
        .args(["tail", "--redis", url, "--count", count, "--block-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    wait_line(&err, "following 13 stream(s)");
    (child, out, err)
}

#[test]
fn live_follow_prints_only_new_entries() {
    let redis = RedisServer::start();
    let mut con = redis.client();
    let ts = "2026-11-25T17:40:01Z";
    xadd(&mut con, "signal.generated", &event_fields("signal.generated", "ingress", "old", ts, json!({})));
    let (mut child, out, _err) = spawn_live(&redis.url(), "2");
    xadd(&mut con, "signal.generated", &event_fields("signal.generated", "ingress", "new-1", ts, json!({})));
    xadd(&mut con, "position.closed", &event_fields("position.closed", "position", "new-2", ts, json!({})));
    // The entry from before the start would come first (lower id) if it were printed.
    let first = out.recv_timeout(BOUND).unwrap();
    let second = out.recv_timeout(BOUND).unwrap();
    assert!(first.contains(" new-1 ") && second.contains(" new-2 "), "{first}\n{second}");
    assert!(wait_bounded(&mut child).success());
}

#[test]
fn live_follow_survives_a_redis_restart() {
    let mut redis = RedisServer::start();
    let ts = "2026-11-25T17:40:01Z";
    let (mut child, out, err) = spawn_live(&redis.url(), "1");
    redis.restart();
    wait_line(&err, "reconnected");
    let mut con = redis.client();
    xadd(&mut con, "risk.alert", &event_fields("risk.alert", "control", "after-restart", ts, json!({})));
    wait_line(&out, "after-restart");
    assert!(wait_bounded(&mut child).success());
}

#[test]
fn the_url_can_come_from_the_environment_and_its_password_stays_hidden() {
    // Nothing listens on this port: the error must name the (redacted) URL taken from the env.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["tail", "--count", "1"])
        .env("TRADEFLOW_REDIS_URL", format!("redis://:envsecret@127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&port.to_string()), "{err}");
    assert!(!err.contains("envsecret"), "{err}");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["tail", "--help"])
        .env("TRADEFLOW_REDIS_URL", "redis://:envsecret@127.0.0.1:1")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("TRADEFLOW_REDIS_URL") && !help.contains("envsecret"), "{help}");
}
