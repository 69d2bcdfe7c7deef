//! The Redis-source scenarios of `tradeflow bench --redis-source URL`: at each paced rate, a
//! client thread XADDs reference `signal.generated` entries (the reference wire format, JSON in
//! `payload`) to a scenario-private stream on the user's Redis, each stamped with its send time
//! on the run's clock; the ingress Redis source reads them as a consumer group with
//! `origin = "timestamp"`. So tick-to-order is measured from the client's XADD to the order
//! handed to the venue: Redis, the blocking read's wake-up, the RESP reply, decode, validation,
//! risk and the gateway. The stream is deleted afterwards.

use std::time::Duration;

use super::client::{client_err, client_friendly, wait_for_signals, Pacing, SignalLines};
use crate::config::Config;
use crate::pipeline::PipelineBuilder;
use crate::report::RunReport;
use crate::runtime::RuntimeError;

/// The scenario's stream: private to this process and rate, never a real signal stream.
fn stream_name(rate: f64) -> String {
    format!("tradeflow:bench:signals:{}:{}", std::process::id(), rate as u64)
}

/// Reads the replies of the XADDs written so far.
fn drain_replies(con: &mut redis::Connection, outstanding: &mut u32) -> redis::RedisResult<()> {
    while *outstanding > 0 {
        con.recv_response()?;
        *outstanding -= 1;
    }
    Ok(())
}

/// Runs the pipeline with the Redis source on `url`: `signals` entries at `rate`, the first
/// `warmup_s` seconds not recorded.
pub fn run_redis_source(
    cfg: &Config,
    url: &str,
    rate: f64,
    signals: u64,
    warmup_s: f64,
) -> Result<RunReport, RuntimeError> {
    let shown = tradeflow_core::redact_url(url);
    let stream = stream_name(rate);
    let mut con = redis::Client::open(url)
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
        .map_err(|e| client_err(format!("cannot connect to Redis at {shown}: {e}")))?;
    let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&stream).query(&mut con);

    let mut cfg = client_friendly(cfg);
    let r = &mut cfg.ingress.redis;
    cfg.ingress.source = tradeflow_ingress::IngressSource::Redis;
    r.url = url.to_owned();
    r.stream = stream.clone();
    r.group = "tradeflow-bench".into();
    r.consumer = "bench".into();
    r.start_id = "0".into();
    r.origin = tradeflow_ingress::Origin::Timestamp;
    let pipeline = PipelineBuilder::new(cfg).warmup(Duration::from_secs_f64(warmup_s)).start()?;
    let mut lines = SignalLines::new(&pipeline, "redis-bench")?;
    let pacing = Pacing::new(rate);
    let mut sent = 0u64;
    let mut failure = None;
    // XADDs are pipelined: written at once, their replies read in batches (a reply's round
    // trip never delays the next signal, so the client keeps its rate).
    let mut outstanding = 0u32;
    for n in 0..signals {
        pacing.wait(n);
        let payload = lines.signal(n);
        let trace = format!("redis-bench-{n}");
        let packed = redis::cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg(&[("event_type", "signal.generated"), ("payload", payload)])
            .arg(&[("trace_id", trace.as_str()), ("correlation_id", ""), ("source", "tradeflow-bench")])
            .get_packed_command();
        let step = con.send_packed_command(&packed).and_then(|()| {
            outstanding += 1;
            if outstanding >= 64 {
                drain_replies(&mut con, &mut outstanding)
            } else {
                Ok(())
            }
        });
        if let Err(e) = step {
            failure = Some(e);
            break;
        }
        sent += 1;
    }
    if failure.is_none() {
        failure = drain_replies(&mut con, &mut outstanding).err();
    }
    wait_for_signals(&pipeline, sent);
    pipeline.stop();
    let report = pipeline.wait();
    let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&stream).query(&mut con);
    if let Some(e) = failure {
        return Err(client_err(format!("XADD to {shown} failed after {sent} entries: {e}")));
    }
    Ok(report)
}
