//! The Redis Streams mirror against a private redis-server: every event mirrored in the
//! reference wire format, outages survived without touching trading, trimming.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use redis::Commands as _;
use tradeflow::core::EventKind;
use tradeflow::{Config, PipelineBuilder, RunReport};
use util::redis::RedisServer;

const PREFIX: &str = "quantum:stream:";

fn config(url: &str, signals: u64, rate: f64) -> Config {
    let mut cfg = util::test_config();
    cfg.ingress.synthetic.count = signals;
    cfg.ingress.synthetic.rate_per_sec = rate;
    cfg.mirror.enabled = true;
    cfg.mirror.url = url.into();
    cfg.mirror.maxlen = 1_000_000;
    cfg.mirror.stats_interval_ms = 200;
    cfg.mirror.reconnect_base_ms = 20;
    cfg.mirror.reconnect_max_ms = 200;
    cfg.mirror.connect_timeout_ms = 300;
    cfg.mirror.response_timeout_ms = 500;
    cfg
}

type Entry = (String, HashMap<String, String>);

fn entries(con: &mut redis::Connection, stream: &str) -> Vec<Entry> {
    let reply: redis::streams::StreamRangeReply = con.xrange_all(stream).unwrap();
    reply
        .ids
        .into_iter()
        .map(|id| {
            let map = id
                .map
                .into_iter()
                .map(|(k, v)| (k, redis::from_redis_value::<String>(&v).unwrap()))
                .collect::<HashMap<_, _>>();
            (id.id, map)
        })
        .collect()
}

fn external_kinds() -> Vec<EventKind> {
    EventKind::ALL.iter().copied().filter(|k| k.is_external()).collect()
}

#[test]
fn a_10000_signal_run_mirrors_every_event_in_the_reference_shape() {
    let redis = RedisServer::start();
    let mut cfg = config(&redis.url(), 10_000, 0.0);
    // A loaded test machine must not turn a slow reply into a counted drop here.
    cfg.mirror.response_timeout_ms = 10_000;
    cfg.mirror.connect_timeout_ms = 5_000;
    let r = PipelineBuilder::new(cfg).start().unwrap().wait();
    let m = r.mirror.as_ref().expect("mirror report");
    assert!(m.connected_at_start, "{m:?}");
    assert_eq!((m.dropped_ring, m.dropped_redis), (0, 0), "{m:?}");
    let mut con = redis.client();
    let mut total = 0;
    let mut traces: HashMap<&'static str, HashSet<String>> = HashMap::new();
    for kind in external_kinds() {
        let stream = format!("{PREFIX}{}", kind.name());
        let es = entries(&mut con, &stream);
        assert_eq!(es.len() as u64, r.tally.count(kind), "{stream}: one entry per event of the run");
        total += es.len() as u64;
        for (id, f) in &es {
            for field in ["event_type", "payload", "trace_id", "correlation_id", "timestamp", "source"] {
                assert!(f.contains_key(field), "{stream} {id}: no {field}: {f:?}");
            }
            assert_eq!(f["event_type"], kind.name());
            let p: serde_json::Value = serde_json::from_str(&f["payload"]).unwrap();
            assert_eq!(p["trace_id"].as_str(), Some(f["trace_id"].as_str()), "{stream} {id}");
            assert!(p["timestamp"].as_f64().is_some_and(|t| t > 1.6e9), "{stream} {id}: epoch seconds");
            assert!(p["metadata"].is_object(), "{stream} {id}");
            if kind == EventKind::TradeExecuted {
                assert!(p["entry_price"].as_f64().is_some(), "{stream} {id}: the reference's entry_price: {p}");
            }
            assert!(f["timestamp"].ends_with('Z') && f["timestamp"].len() == 27, "{}", f["timestamp"]);
            assert!(f["correlation_id"].parse::<u64>().is_ok());
            assert!(tradeflow::core::StageId::from_name(&f["source"]).is_some(), "{}", f["source"]);
            traces.entry(kind.name()).or_default().insert(f["trace_id"].clone());
        }
    }
    assert_eq!(total, m.mirrored);
    assert!(r.trades() > 0, "some positions closed");
    // Chains: every closed position's trace id appears in its signal, request and opening.
    for t in &traces["position.closed"] {
        let chain = [
            "signal.generated",
            "trade.execution_requested",
            "trade.executed",
            "position.opened",
            "trade.exit_executed",
        ];
        for kind in chain {
            assert!(traces[kind].contains(t), "{t} missing from {kind}");
        }
    }
    // The mirror's own health entries.
    let stats = entries(&mut con, &format!("{PREFIX}tradeflow.stats"));
    let last = &stats.last().expect("a stats entry").1;
    assert_eq!(last["source"], "mirror");
    assert_eq!(last["mirrored"].parse::<u64>().unwrap(), m.mirrored);
    // Like every other stream, each entry carries its `payload` JSON: what a reference
    // subscriber on the stream receives.
    for (id, f) in &stats {
        let raw = f.get("payload").unwrap_or_else(|| panic!("stats entry {id} has no payload: {f:?}"));
        let p: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(p["mirrored"].as_u64(), f["mirrored"].parse::<u64>().ok(), "{id}: {p}");
        assert_eq!(p["event_type"], "system.health", "{id}: {p}");
        assert!(p["timestamp"].as_f64().is_some_and(|t| t > 1.6e9) && p["metadata"].is_object(), "{id}: {p}");
    }
    let p: serde_json::Value = serde_json::from_str(&last["payload"]).unwrap();
    assert_eq!(p["mirrored"].as_u64(), Some(m.mirrored));
}

#[test]
fn maxlen_keeps_streams_near_their_bound() {
    let redis = RedisServer::start();
    let mut cfg = config(&redis.url(), 20_000, 0.0);
    cfg.mirror.maxlen = 500;
    cfg.mirror.response_timeout_ms = 10_000;
    cfg.mirror.connect_timeout_ms = 5_000;
    let r = PipelineBuilder::new(cfg).start().unwrap().wait();
    assert_eq!(r.mirror.as_ref().unwrap().mirrored, external_kinds().iter().map(|k| r.tally.count(*k)).sum::<u64>());
    let mut con = redis.client();
    let len: u64 = con.xlen(format!("{PREFIX}signal.generated")).unwrap();
    // `MAXLEN ~` trims whole radix-tree nodes (100 entries by default): near, never far above.
    assert!((500..=700).contains(&len), "XLEN {len} for 20000 signals with MAXLEN ~ 500");
}

/// Kills Redis while signals flow, restarts it, and checks that trading finished normally,
/// the mirror reconnected and resumed, and every copy is accounted for.
#[test]
fn redis_stopped_mid_run_and_restarted_never_touches_trading() {
    let mut redis = RedisServer::start();
    let cfg = config(&redis.url(), 3_000, 1_500.0);
    let started = Instant::now();
    let p = PipelineBuilder::new(cfg).start().unwrap();
    util::wait_until("500 events mirrored", || {
        p.mirror_counters().unwrap().mirrored.load(std::sync::atomic::Ordering::Relaxed) >= 500
    });
    redis.stop();
    util::wait_until("the mirror to notice", || {
        !p.mirror_counters().unwrap().connected.load(std::sync::atomic::Ordering::Relaxed)
    });
    std::thread::sleep(Duration::from_millis(300));
    redis.restart();
    let r = p.wait();
    assert!(r.drained, "the run drained");
    assert_eq!(r.signals(), 3_000, "every signal went through");
    assert!(started.elapsed() < Duration::from_secs(15), "nothing blocked on Redis");
    let m = r.mirror.as_ref().unwrap();
    assert!(m.reconnects >= 1, "{m:?}");
    assert!(m.dropped_redis > 0, "copies during the outage were dropped and counted: {m:?}");
    let copies: u64 = external_kinds().iter().map(|k| r.tally.count(*k)).sum();
    assert_eq!(m.mirrored + m.dropped_redis + m.dropped_ring, copies, "every copy accounted for: {m:?}");
    // Resumed: the restarted (empty) server holds what came after the outage.
    let mut con = redis.client();
    let after: u64 = con.xlen(format!("{PREFIX}signal.generated")).unwrap();
    assert!(after > 0, "mirroring resumed after the restart");
    assert!(m.errors.iter().any(|e| e.contains("127.0.0.1")), "{:?}", m.errors);
    // The decisions match the run's own counts: the mirror changed nothing.
    assert_eq!(
        r.tally.count(EventKind::ExecutionRequested) + r.tally.count(EventKind::SignalDenied),
        r.signals(),
        "every signal was decided"
    );
}

fn inline_events(mirror_url: Option<&str>) -> (String, RunReport) {
    let mut cfg = util::test_config();
    cfg.run.inline = true;
    cfg.ingress.synthetic.count = 5_000;
    if let Some(url) = mirror_url {
        cfg.mirror.enabled = true;
        cfg.mirror.url = url.into();
        cfg.mirror.connect_timeout_ms = 200;
        cfg.mirror.reconnect_base_ms = 50;
    }
    let path = util::temp_path(&format!("mirror-inline-{}.jsonl", mirror_url.is_some()));
    let r = PipelineBuilder::new(cfg).events_out(path.display().to_string()).run_inline().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    (text, r)
}

#[test]
fn redis_unreachable_from_the_start_changes_nothing_but_a_warning() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://user:s3cret@127.0.0.1:{port}");
    let (with, r) = inline_events(Some(&url));
    let (without, _) = inline_events(None);
    assert_eq!(with, without, "the same run, event for event, with or without the mirror");
    let m = r.mirror.as_ref().unwrap();
    assert!(!m.connected_at_start);
    assert_eq!(m.mirrored, 0);
    assert_eq!(m.dropped_redis + m.dropped_ring, external_kinds().iter().map(|k| r.tally.count(*k)).sum::<u64>());
    let mut summary = Vec::new();
    r.write_summary(&mut summary).unwrap();
    let summary = String::from_utf8(summary).unwrap();
    assert!(summary.contains("WARNING: Redis was unreachable"), "{summary}");
    assert!(!summary.contains("s3cret") && !format!("{m:?}").contains("s3cret"), "password never shown");
}

#[test]
fn the_cli_mirrors_with_redis_and_warns_when_it_is_down() {
    let redis = RedisServer::start();
    let bin = env!("CARGO_BIN_EXE_tradeflow");
    let out = std::process::Command::new(bin)
        .args(["run", "--signals", "2000", "--rate", "0", "--no-progress", "--redis", &redis.url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("mirror (redis redis://127.0.0.1:"), "{stdout}");
    let mut con = redis.client();
    let n: u64 = con.xlen(format!("{PREFIX}signal.generated")).unwrap();
    assert_eq!(n, 2_000);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = std::process::Command::new(bin)
        .args(["run", "--signals", "500", "--rate", "0", "--no-progress", "--redis"])
        .arg(format!("redis://:pw123@127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "the run completes without Redis");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unreachable"), "a clear warning: {stderr}");
    assert!(!stderr.contains("pw123") && !String::from_utf8_lossy(&out.stdout).contains("pw123"));
    let bad = std::process::Command::new(bin).args(["run", "--signals", "10", "--redis", "http://x"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("mirror.url"), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn a_full_mirror_ring_drops_and_counts_per_stage_without_blocking() {
    let redis = RedisServer::start();
    let mut cfg = config(&redis.url(), 20_000, 0.0);
    cfg.mirror.ring_capacity = 2;
    cfg.mirror.batch = 1;
    let r = PipelineBuilder::new(cfg).start().unwrap().wait();
    assert!(r.drained);
    assert_eq!(r.signals(), 20_000, "trading unaffected");
    let m = r.mirror.as_ref().unwrap();
    assert!(m.dropped_ring > 0, "{m:?}");
    let per_stage: u64 = m.dropped_ring_by_stage.iter().map(|(_, n)| n).sum();
    assert_eq!(per_stage, m.dropped_ring, "{m:?}");
    assert!(m.dropped_ring_by_stage.iter().any(|(s, _)| *s == "ingress"), "{m:?}");
    let copies: u64 = external_kinds().iter().map(|k| r.tally.count(*k)).sum();
    assert_eq!(m.mirrored + m.dropped_ring + m.dropped_redis, copies);
    let mut summary = Vec::new();
    r.write_summary(&mut summary).unwrap();
    assert!(String::from_utf8(summary).unwrap().contains("dropped at the ring, by stage"));
}
