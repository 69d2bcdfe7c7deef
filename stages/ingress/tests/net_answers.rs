//! The network sources' answers at the stage level, over real loopback sockets: "busy" while
//! the pipeline is backed up, rate limits per connection, duplicate trace ids refused at the
//! source, and the client's timestamp as the chain's origin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tradeflow_core::{ErrorCode, Event, RecordingCtx, Stage};
use tradeflow_ingress::{IngressConfig, IngressSource, IngressStage, Origin, SourceKind};
use util::*;

fn tcp_stage(edit: impl FnOnce(&mut IngressConfig)) -> (IngressStage, u16) {
    let mut cfg = IngressConfig { source: IngressSource::Tcp, ..Default::default() };
    cfg.tcp.listen = "127.0.0.1:0".into();
    edit(&mut cfg);
    let stage = IngressStage::try_new(&cfg, catalog(), SourceKind::Tcp).unwrap();
    let port = stage.tcp().unwrap().1.unwrap().port();
    (stage, port)
}

fn client(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

/// Polls the stage until `n` answers arrived on `r` (events emitted meanwhile are returned).
fn answers(
    stage: &mut IngressStage,
    ctx: &mut RecordingCtx,
    r: &mut BufReader<TcpStream>,
    n: usize,
) -> (Vec<serde_json::Value>, Vec<Event>) {
    r.get_ref().set_nonblocking(true).unwrap();
    let mut out = Vec::new();
    let mut events = Vec::new();
    let start = Instant::now();
    let mut line = String::new();
    while out.len() < n {
        assert!(start.elapsed() < Duration::from_secs(10), "only {} of {n} answers: {out:?}", out.len());
        stage.poll(ctx);
        events.extend(ctx.take());
        match r.read_line(&mut line) {
            Ok(0) => panic!("connection closed"),
            Ok(_) if line.ends_with('\n') => {
                out.push(serde_json::from_str(&line).unwrap());
                line.clear();
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("{e}"),
        }
    }
    r.get_ref().set_nonblocking(false).unwrap();
    (out, events)
}

fn signals(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SignalGenerated(s) => Some(s.header.trace_id.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_backed_up_pipeline_answers_busy_and_takes_the_resend() {
    let (mut stage, port) = tcp_stage(|_| {});
    assert!(stage.polls_when_backed_up(), "a TCP source with acks answers while backed up");
    let mut ctx = ctx(1_000);
    let (mut w, mut r) = client(port);
    ctx.backed_up = true;
    writeln!(w, "{}", valid_line("b-1")).unwrap();
    writeln!(w, "{{\"symbol\":\"BTCUSDT\"").unwrap();
    let (a, events) = answers(&mut stage, &mut ctx, &mut r, 2);
    assert_eq!(a[0]["trace_id"], "b-1");
    assert_eq!(a[0]["status"], "busy");
    assert!(a[0]["reason"].as_str().unwrap().starts_with("BUSY:"), "{}", a[0]);
    // Invalid input is still refused with its reason (and reported) while busy.
    assert_eq!(a[1]["status"], "rejected");
    assert!(signals(&events).is_empty(), "no signal emitted while backed up");
    assert_eq!(events.len(), 1, "the refused line's error only: {events:?}");
    assert_eq!(stage.stats().busy, 1);
    // The pipeline has room again: the same signal (same trace id) is accepted.
    ctx.backed_up = false;
    writeln!(w, "{}", valid_line("b-1")).unwrap();
    let (a, events) = answers(&mut stage, &mut ctx, &mut r, 1);
    assert_eq!(a[0]["status"], "accepted", "a busy signal is not remembered as a duplicate");
    assert_eq!(signals(&events), ["b-1"]);
}

#[test]
fn without_acks_a_backed_up_source_reads_nothing() {
    let (mut stage, port) = tcp_stage(|c| c.tcp.acks = false);
    assert!(!stage.polls_when_backed_up(), "fire and forget: backpressure stays in the socket");
    let mut ctx = ctx(1_000);
    let (mut w, _r) = client(port);
    writeln!(w, "{}", valid_line("q-1")).unwrap();
    ctx.backed_up = true;
    for _ in 0..50 {
        assert_eq!(stage.poll(&mut ctx), 0);
        std::thread::sleep(Duration::from_millis(1));
    }
    ctx.backed_up = false;
    let start = Instant::now();
    let mut got = Vec::new();
    while got.is_empty() && start.elapsed() < Duration::from_secs(10) {
        stage.poll(&mut ctx);
        got = ctx.take();
    }
    assert_eq!(signals(&got), ["q-1"], "the line waited in the socket, nothing lost");
}

#[test]
fn a_connection_over_its_rate_is_nacked_and_others_are_not_affected() {
    let (mut stage, port) = tcp_stage(|c| c.tcp.max_rate_per_connection = 5.0);
    let mut ctx = ctx(1_000);
    let (mut w, mut r) = client(port);
    for i in 0..20 {
        writeln!(w, "{}", valid_line(&format!("r-{i}"))).unwrap();
    }
    // The clock of the context stands still: exactly the burst (one second's worth) passes.
    let (a, events) = answers(&mut stage, &mut ctx, &mut r, 20);
    let accepted = a.iter().filter(|x| x["status"] == "accepted").count();
    assert_eq!(accepted, 5, "{a:?}");
    for x in a.iter().filter(|x| x["status"] != "accepted") {
        assert_eq!(x["status"], "rejected");
        assert!(x["reason"].as_str().unwrap().starts_with("RATE_LIMITED: over 5 signals/s"), "{x}");
        assert!(x["trace_id"].as_str().unwrap().starts_with("r-"), "{x}");
    }
    let limited =
        events.iter().filter(|e| matches!(e, Event::SystemEventError(x) if x.code == ErrorCode::RateLimited)).count();
    assert_eq!(limited, 15);
    // A second client has its own budget; a second later the first one has a new one.
    let (mut w2, mut r2) = client(port);
    writeln!(w2, "{}", valid_line("other")).unwrap();
    assert_eq!(answers(&mut stage, &mut ctx, &mut r2, 1).0[0]["status"], "accepted");
    ctx.now_ns += 1_000_000_000;
    writeln!(w, "{}", valid_line("later")).unwrap();
    assert_eq!(answers(&mut stage, &mut ctx, &mut r, 1).0[0]["status"], "accepted");
}

#[test]
fn a_repeated_trace_id_is_refused_at_the_source() {
    let (mut stage, port) = tcp_stage(|_| {});
    let mut ctx = ctx(1_000);
    let (mut w, mut r) = client(port);
    writeln!(w, "{}", valid_line("d-1")).unwrap();
    writeln!(w, "{}", valid_line("d-1")).unwrap();
    writeln!(w, "{}", valid_line("d-2")).unwrap();
    let (a, events) = answers(&mut stage, &mut ctx, &mut r, 3);
    let status: Vec<&str> = a.iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["accepted", "rejected", "accepted"]);
    assert_eq!(a[1]["reason"], "DUPLICATE_TRACE_ID: trace_id was seen recently (line 2)", "{}", a[1]);
    assert_eq!(a[1]["trace_id"], "d-1");
    let dup = events.iter().find_map(|e| match e {
        Event::SystemEventError(e) => Some(*e),
        _ => None,
    });
    let dup = dup.expect("the refusal is reported");
    assert_eq!((dup.header.trace_id.as_str(), line_of(&dup)), ("d-1", 2), "the error carries the trace id");
    assert_eq!(signals(&events), ["d-1", "d-2"]);
    assert_eq!(stage.stats().errors_of(ErrorCode::DuplicateTraceId), 1);

    // dedupe_window = 0 leaves duplicates to the risk stage.
    let (mut stage, port) = tcp_stage(|c| c.dedupe_window = 0);
    let (mut w, mut r) = client(port);
    writeln!(w, "{}", valid_line("d-1")).unwrap();
    writeln!(w, "{}", valid_line("d-1")).unwrap();
    let (a, _) = answers(&mut stage, &mut ctx, &mut r, 2);
    assert!(a.iter().all(|x| x["status"] == "accepted"), "{a:?}");
}

#[test]
fn origin_timestamp_starts_the_chain_at_the_clients_send_time() {
    let now_ns = 10_000_000_000;
    let line = |trace: &str, ts: f64| {
        format!(
            r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"{trace}","timestamp":{ts:.6}}}"#
        )
    };
    for (origin, want_offset_ns) in [(Origin::Receive, 0u64), (Origin::Timestamp, 5_000_000)] {
        let (mut stage, port) = tcp_stage(|c| c.tcp.origin = origin);
        let mut ctx = ctx(now_ns);
        let wall_s = (ctx.wall_offset_ns + now_ns as i64) as f64 / 1e9;
        let (mut w, mut r) = client(port);
        writeln!(w, "{}", line("o-1", wall_s - 0.005)).unwrap();
        // A clock ahead of ours never puts the origin in the future.
        writeln!(w, "{}", line("o-2", wall_s + 3.0)).unwrap();
        writeln!(
            w,
            r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2"}}"#
        )
        .unwrap();
        let (_, events) = answers(&mut stage, &mut ctx, &mut r, 3);
        let origins: Vec<u64> = events.iter().map(|e| e.header().ts_origin_ns).collect();
        assert_eq!(origins.len(), 3);
        let early = now_ns - origins[0];
        assert!(early.abs_diff(want_offset_ns) <= 1_000, "{origin:?}: origin {early} ns early, want {want_offset_ns}");
        assert_eq!(&origins[1..], [now_ns, now_ns], "{origin:?}: future or missing timestamps start now");
    }
}
