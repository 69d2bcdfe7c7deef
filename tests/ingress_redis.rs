//! The Redis stream source against a private redis-server: entries in the reference wire
//! format become signals and positions under their trace ids and are acknowledged; refused
//! entries become errors and are acknowledged too; pending entries are read again after a
//! restart and taken over from dead consumers; a lost connection or a restarted server loses
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::collections::HashMap;
use std::time::Duration;

use redis::Commands as _;
use tradeflow::core::{ErrorCode, Event, EventKind};
use tradeflow::{Config, EventCopy, Pipeline, PipelineBuilder};
use util::redis::RedisServer;

const STREAM: &str = "quantum:stream:signal.generated";
const GROUP: &str = "tradeflow";

fn config(url: &str) -> Config {
    let mut cfg = util::test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Redis;
    let r = &mut cfg.ingress.redis;
    r.url = url.into();
    r.start_id = "0".into();
    r.block_ms = 50;
    r.reconnect_base_ms = 20;
    r.reconnect_max_ms = 200;
    r.connect_timeout_ms = 500;
    r.response_timeout_ms = 5_000;
    cfg.position.max_hold_ms = 200;
    cfg
}

fn start(cfg: Config) -> (Pipeline, std::sync::mpsc::Receiver<EventCopy>) {
    let mut b = PipelineBuilder::new(cfg);
    let rx = b.subscribe(1 << 16);
    (b.start().unwrap(), rx)
}

/// The reference system's `signal.generated` payload, stamped now.
fn payload(trace: Option<&str>, symbol: &str) -> String {
    let trace = trace.map(|t| format!(r#","trace_id":"{t}""#)).unwrap_or_default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    format!(
        r#"{{"symbol":"{symbol}","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","timestamp":{now:.6},"metadata":{{}}{trace}}}"#
    )
}

/// XADDs an entry the way the reference EventBus publishes one.
fn publish(con: &mut redis::Connection, trace: &str, payload: &str) -> String {
    con.xadd(
        STREAM,
        "*",
        &[
            ("event_type", "signal.generated"),
            ("payload", payload),
            ("trace_id", trace),
            ("correlation_id", ""),
            ("timestamp", "2025-11-24T12:00:00.000000Z"),
            ("source", "ai_engine"),
        ],
    )
    .unwrap()
}

fn signal_traces(events: &[EventCopy]) -> Vec<String> {
    events
        .iter()
        .filter_map(|c| match c.event {
            Event::SignalGenerated(s) => Some(s.header.trace_id.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

fn pending(con: &mut redis::Connection) -> u64 {
    let summary: redis::streams::StreamPendingReply = con.xpending(STREAM, GROUP).unwrap();
    summary.count() as u64
}

#[test]
fn redis_entries_become_positions_refusals_are_reported_and_everything_is_acknowledged() {
    let server = RedisServer::start();
    let mut con = server.client();
    let mut valid = Vec::new();
    for i in 0..30 {
        let t = format!("redis-{i:03}");
        // Every third payload leaves its trace id to the entry's own trace_id field.
        let p = if i % 3 == 0 { payload(None, "BTCUSDT") } else { payload(Some(&t), "ETHUSDT") };
        publish(&mut con, &t, &p);
        valid.push(t);
    }
    // Refused entries: each becomes a system.event_error with its code and is acknowledged.
    publish(&mut con, "bad-json", r#"{"symbol":"BTCUSDT","side":"BUY""#);
    publish(&mut con, "bad-symbol", &payload(Some("bad-symbol"), "DOGEUSDT"));
    publish(&mut con, "dup", &payload(Some("redis-001"), "BTCUSDT"));
    let huge = payload(Some("huge"), "BTCUSDT")
        .replace("\"metadata\":{}", &format!("\"metadata\":{{\"x\":\"{}\"}}", "a".repeat(70_000)));
    publish(&mut con, "huge", &huge);
    let _: String = con.xadd(STREAM, "*", &[("event_type", "signal.generated"), ("trace_id", "no-payload")]).unwrap();

    let (p, rx) = start(config(&server.url()));
    util::wait_count(&p, EventKind::SignalGenerated, valid.len() as u64);
    // Entries published while the run goes are read at once (blocking read in Redis).
    for i in 30..40 {
        let t = format!("redis-{i:03}");
        publish(&mut con, &t, &payload(Some(&t), "SOLUSDT"));
        valid.push(t);
    }
    util::wait_count(&p, EventKind::SignalGenerated, valid.len() as u64);
    util::wait_count(&p, EventKind::SystemEventError, 5);
    std::thread::sleep(Duration::from_millis(300));
    p.stop();
    let report = p.wait();
    let events = util::drain(&rx);

    let mut got = signal_traces(&events);
    got.sort();
    assert_eq!(got, valid, "every valid entry exactly once, under its trace id (payload's or the entry's)");
    let opened = events.iter().filter(|c| matches!(c.event, Event::PositionOpened(_))).count();
    assert!(opened > 0, "Redis signals became positions");
    let errs = &report.tally.errors;
    for code in [
        ErrorCode::JsonSyntax,
        ErrorCode::UnknownSymbol,
        ErrorCode::DuplicateTraceId,
        ErrorCode::Oversized,
        ErrorCode::MissingField,
    ] {
        assert_eq!(errs[usize::from(code.code())], 1, "one {} error: {errs:?}", code.name());
    }
    let stats = report.redis_source_stats().expect("redis source stats");
    assert_eq!(stats.entries, 45, "{stats:?}");
    assert_eq!(stats.acked, 45, "every entry acknowledged, refused ones too: {stats:?}");
    assert_eq!(pending(&mut con), 0, "nothing left pending");
    let mut summary = Vec::new();
    report.write_summary(&mut summary).unwrap();
    let summary = String::from_utf8(summary).unwrap();
    assert!(summary.contains("signal source (redis)"), "{summary}");
}

#[test]
fn pending_entries_are_read_again_after_a_restart_and_taken_over_from_dead_consumers() {
    let server = RedisServer::start();
    let mut con = server.client();
    let _: () = redis::cmd("XGROUP").arg(&["CREATE", STREAM, GROUP, "0", "MKSTREAM"]).query(&mut con).unwrap();
    let ids: Vec<String> = (0..12).map(|i| format!("restart-{i:02}")).collect();
    for t in &ids {
        publish(&mut con, t, &payload(Some(t), "BTCUSDT"));
    }
    // tradeflow-1 read four and crashed before acknowledging; another consumer took three and died.
    let read = |con: &mut redis::Connection, consumer: &str, n: usize| {
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg(&["GROUP", GROUP, consumer, "COUNT", &n.to_string(), "STREAMS", STREAM, ">"])
            .query(con)
            .unwrap();
    };
    read(&mut con, "tradeflow-1", 4);
    read(&mut con, "dead-7", 3);
    assert_eq!(pending(&mut con), 7);
    std::thread::sleep(Duration::from_millis(300));

    let mut cfg = config(&server.url());
    cfg.ingress.redis.claim_idle_ms = 200;
    cfg.ingress.redis.claim_interval_ms = 100;
    let (p, rx) = start(cfg);
    util::wait_count(&p, EventKind::SignalGenerated, ids.len() as u64);
    std::thread::sleep(Duration::from_millis(200));
    p.stop();
    let report = p.wait();
    let mut got = signal_traces(&util::drain(&rx));
    got.sort();
    assert_eq!(got, ids, "each entry once: own pending, claimed and new");
    let stats = report.redis_source_stats().unwrap();
    assert_eq!((stats.pending_reread, stats.claimed), (4, 3), "{stats:?}");
    assert_eq!(pending(&mut con), 0);
}

#[test]
fn a_killed_connection_a_deleted_group_and_a_restarted_server_lose_nothing() {
    let mut server = RedisServer::start();
    let mut con = server.client();
    let (p, rx) = start(config(&server.url()));
    let mut ids = Vec::new();
    let batch = |con: &mut redis::Connection, tag: &str, ids: &mut Vec<String>| {
        for i in 0..10 {
            let t = format!("{tag}-{i}");
            publish(con, &t, &payload(Some(&t), "BTCUSDT"));
            ids.push(t);
        }
    };
    batch(&mut con, "before", &mut ids);
    util::wait_count(&p, EventKind::SignalGenerated, ids.len() as u64);

    // The server drops our connection; entries published meanwhile are read after the reconnect.
    let _: redis::Value =
        redis::cmd("CLIENT").arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"]).query(&mut con).unwrap();
    batch(&mut con, "killed", &mut ids);
    util::wait_count(&p, EventKind::SignalGenerated, ids.len() as u64);

    // The group is deleted: the source makes it again (start_id 0 re-reads the stream, and
    // the ingress window refuses the repeats as duplicates).
    let _: i64 = redis::cmd("XGROUP").arg(&["DESTROY", STREAM, GROUP]).query(&mut con).unwrap();
    batch(&mut con, "regroup", &mut ids);
    util::wait_count(&p, EventKind::SignalGenerated, ids.len() as u64);

    // The server dies (its data with it) and comes back; trading goes on meanwhile.
    server.stop();
    let ticks = p.progress().count(EventKind::MarketTick);
    util::wait_until("ticks while Redis is down", || p.progress().count(EventKind::MarketTick) > ticks + 10);
    server.restart();
    let mut con = server.client();
    batch(&mut con, "restarted", &mut ids);
    util::wait_count(&p, EventKind::SignalGenerated, ids.len() as u64);
    std::thread::sleep(Duration::from_millis(200));
    p.stop();
    let report = p.wait();

    let got = signal_traces(&util::drain(&rx));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &got {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    for t in &ids {
        assert_eq!(counts.get(t.as_str()), Some(&1), "{t} exactly once: {counts:?}");
    }
    assert_eq!(got.len(), ids.len());
    let stats = report.redis_source_stats().unwrap();
    assert!(stats.disconnects >= 2, "{stats:?}");
    assert!(stats.server_errors >= 1, "NOGROUP seen: {stats:?}");
    assert_eq!(pending(&mut con), 0);
}

#[test]
fn redis_source_config_errors_are_clear() {
    let mut cfg = config("http://127.0.0.1:1");
    let e = cfg.validate();
    assert!(e.iter().any(|m| m.starts_with("ingress.redis.url: must start with redis://")), "{e:?}");
    cfg.ingress.redis.url = "rediss://u:hunter2@127.0.0.1:1".into();
    let e = cfg.validate();
    assert!(e.iter().any(|m| m.contains("TLS (rediss://) is not supported")), "{e:?}");
    assert!(!e.iter().any(|m| m.contains("hunter2")), "password shown: {e:?}");
    cfg.ingress.redis.url = "redis://127.0.0.1:1".into();
    cfg.ingress.redis.group = "two words".into();
    cfg.ingress.redis.start_id = "latest".into();
    cfg.ingress.redis.block_ms = 0;
    let e = cfg.validate();
    for needle in ["ingress.redis.group", "ingress.redis.start_id", "ingress.redis.block_ms"] {
        assert!(e.iter().any(|m| m.starts_with(needle)), "{needle} in {e:?}");
    }
    // The mirror writing signal.generated into the stream the source reads is recognised (the
    // run leaves that kind out of the mirror), and only then.
    // Only compared, never connected to; still a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = config(&format!("redis://127.0.0.1:{port}/0"));
    cfg.mirror.enabled = true;
    cfg.mirror.url = format!("redis://127.0.0.1:{port}");
    assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    assert!(cfg.mirror_rereads_signal_source());
    cfg.mirror.prefix = "tradeflow:".into();
    assert!(!cfg.mirror_rereads_signal_source());
    cfg.mirror.prefix = "quantum:stream:".into();
    cfg.mirror.url = format!("redis://127.0.0.1:{port}/1");
    assert!(!cfg.mirror_rereads_signal_source(), "another database is another stream");
}

#[test]
fn one_redis_for_both_directions_mirrors_everything_but_the_signals_it_read() {
    let server = RedisServer::start();
    let mut con = server.client();
    for i in 0..20 {
        let t = format!("both-{i:02}");
        publish(&mut con, &t, &payload(Some(&t), "BTCUSDT"));
    }
    let mut cfg = config(&server.url());
    cfg.mirror.enabled = true;
    cfg.mirror.url = server.url();
    let (p, _rx) = start(cfg);
    util::wait_count(&p, EventKind::PositionClosed, 20);
    p.stop();
    let report = p.wait();
    assert_eq!(report.signals(), 20);
    let mirror = report.mirror.as_ref().expect("the mirror ran");
    assert!(mirror.mirrored > 0, "the mirror wrote the other kinds");
    let len: u64 = con.xlen(STREAM).unwrap();
    assert_eq!(len, 20, "the input stream holds the published signals only, no mirrored copies");
    let closed: u64 = con.xlen("quantum:stream:position.closed").unwrap();
    assert_eq!(closed, 20, "the other kinds are mirrored to the same server");
    let opened: u64 = con.xlen("quantum:stream:trade.execution_requested").unwrap();
    assert_eq!(opened, 20);
    assert_eq!(pending(&mut con), 0);
}

#[test]
fn an_unreachable_redis_delays_signals_without_stopping_the_run() {
    // A port nobody listens on: the run starts, keeps trying, and stops cleanly.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (p, _rx) = start(config(&format!("redis://127.0.0.1:{port}")));
    util::wait_count(&p, EventKind::MarketTick, 50);
    std::thread::sleep(Duration::from_millis(300));
    p.stop();
    let report = p.wait();
    let stats = report.redis_source_stats().unwrap();
    assert_eq!((stats.connects, stats.entries), (0, 0), "{stats:?}");
    assert!(stats.last_error.as_deref().is_some_and(|e| e.contains("connect")), "{stats:?}");
    assert!(report.drained);
}

#[test]
fn the_python_client_publishes_in_the_reference_format() {
    let server = RedisServer::start();
    let (p, rx) = start(config(&server.url()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/send_signals.py");
    let out = std::process::Command::new("python3")
        .args([script, "--redis", &server.url(), "--count", "50", "--symbols", "BTCUSDT", "ETHUSDT"])
        .output()
        .expect("python3 (the machine's CPython) runs the client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("added 50 entries to quantum:stream:signal.generated"), "{stdout}");
    util::wait_count(&p, EventKind::SignalGenerated, 50);
    p.stop();
    let report = p.wait();
    assert_eq!(report.signals(), 50);
    assert_eq!(report.tally.errors.iter().sum::<u64>(), 0, "{:?}", report.tally.errors);
    assert_eq!(signal_traces(&util::drain(&rx)).len(), 50);
    // A refused connection is a clear error.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = std::process::Command::new("python3")
        .args([script, "--redis", &format!("redis://127.0.0.1:{port}"), "--count", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to Redis"));
}

#[test]
fn the_cli_takes_one_signal_source() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["run", "--signals-redis", "redis://127.0.0.1:1", "--tcp", "127.0.0.1:0", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pick one signal source"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["run", "--signals-redis", "rediss://u:pw@127.0.0.1:1", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ingress.redis.url") && err.contains("TLS") && !err.contains(":pw@"), "{err}");
}

#[test]
fn bench_redis_source_measures_xadd_to_order_and_cleans_up() {
    let server = RedisServer::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["bench", "--placement", "config", "--rate", "2000", "--duration", "0.3", "--warmup", "0.1"])
        .args(["--no-progress", "--redis-source", &server.url()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("redis@2000/s") && l.contains("hop_ingress_to_risk"))
        .unwrap_or_else(|| panic!("no redis scenario row in:\n{stdout}"));
    let count: u64 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(count >= 500, "every signal after warm-up crossed the ingress → risk ring: {row}");
    let mut con = server.client();
    let keys: Vec<String> = con.keys("tradeflow:bench:*").unwrap();
    assert!(keys.is_empty(), "the scenario's stream is deleted: {keys:?}");
    // A URL the source cannot use is refused before anything runs.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["bench", "--rate", "1000", "--redis-source", "rediss://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--redis-source"), "{out:?}");
}
