//! Mirror scenarios of `tradeflow bench --mirror URL`: the pipeline with the Redis Streams
//! mirror on (compared with the same pipeline without it, at the same rates, in the same run),
//! and the mirror's sustained rate on its own (events pushed as fast as its ring takes them,
//! rate = entries acknowledged by Redis per second).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradeflow_core::{
    Catalog, Event, Header, InstrumentIdx, ModelIdx, MonoClock, Side, SignalGenerated, StageId, Timeframe, TraceId,
};

use crate::config::Config;

/// `cfg` with the mirror on at `url` (large batches; every external event type).
pub fn mirror_config(cfg: &Config, url: &str) -> Config {
    let mut cfg = cfg.clone();
    cfg.mirror.enabled = true;
    cfg.mirror.url = url.to_owned();
    cfg.mirror.batch = cfg.mirror.batch.max(1024);
    cfg.mirror.ring_capacity = cfg.mirror.ring_capacity.max(1 << 18);
    cfg
}

/// What the standalone mirror run measured.
#[derive(Debug, Clone, Copy)]
pub struct MirrorThroughput {
    /// Events offered.
    pub offered: u64,
    /// Entries acknowledged by Redis.
    pub mirrored: u64,
    /// Dropped (ring full or Redis).
    pub dropped: u64,
    /// Seconds from the first offer until the last acknowledgement.
    pub elapsed_s: f64,
}

/// Pushes `n` `signal.generated` copies through a mirror to `url` as fast as its ring takes
/// them (sleeping 100 µs whenever it is full, so nothing is lost at the ring and the pusher does
/// not take the mirror's CPU) and times the acknowledgements. The ring-full drops this counts are
/// retries, not losses: `dropped` reports only events Redis did not acknowledge.
pub fn mirror_throughput(cfg: &Config, url: &str, n: u64) -> Result<MirrorThroughput, String> {
    let cfg = mirror_config(cfg, url);
    let catalog = Arc::new(cfg.catalog().map_err(|e| e.to_string())?);
    let clock = MonoClock::new();
    let (mut input, handle) =
        tradeflow_mirror::start(&cfg.mirror, catalog.clone(), clock.wall_offset_ns(), Some(clock.clone()))
            .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !handle.counters().connected.load(Ordering::Relaxed) {
        if Instant::now() > deadline {
            return Err(format!("Redis at {} did not answer", tradeflow_mirror::wire::redact_url(url)));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ev = sample_signal(&catalog);
    let started = Instant::now();
    let mut offered = 0;
    while offered < n {
        let before = handle.counters().dropped_ring.load(Ordering::Relaxed);
        let mut e = ev;
        if let Event::SignalGenerated(s) = &mut e {
            s.header.seq = offered + 1;
            s.header.ts_emit_ns = clock.now_ns();
        }
        input.offer(StageId::Ingress, &e);
        if handle.counters().dropped_ring.load(Ordering::Relaxed) > before {
            // The ring was full: give the CPU to the mirror and Redis (2-core hosts), then offer
            // the same event again.
            std::thread::sleep(Duration::from_micros(100));
            continue;
        }
        offered += 1;
    }
    let counters = handle.counters();
    while counters.mirrored.load(Ordering::Relaxed) + counters.dropped_redis.load(Ordering::Relaxed) < n {
        if started.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let elapsed_s = started.elapsed().as_secs_f64();
    let r = handle.finish();
    Ok(MirrorThroughput { offered: n, mirrored: r.mirrored, dropped: r.dropped_redis, elapsed_s })
}

fn sample_signal(catalog: &Catalog) -> Event {
    let header = Header::origin(
        1,
        TraceId::try_new("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap_or(TraceId::EMPTY),
        InstrumentIdx(0),
        0,
    );
    let _ = catalog;
    Event::SignalGenerated(SignalGenerated {
        header,
        signal_ts_us: 1_767_225_600_000_000,
        confidence: 0.82,
        model: ModelIdx(0),
        side: Side::Buy,
        timeframe: Timeframe::ALL[0],
    })
}
