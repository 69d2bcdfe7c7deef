//! The mirror thread: drains its ring, encodes each event, and writes pipelined `XADD` batches.
//!
//! ```text
//!  sink thread ──MirrorInput::offer──► ring (drop + count when full) ──► mirror thread
//!                                                      encode → RESP batch → Redis ─┘
//! ```
//!
//! - A batch goes out when it holds `batch` entries or its first entry waited
//!   `flush_interval_ms`, whichever comes first; the replies are read before the next batch
//!   (one round trip per batch).
//! - Redis down or slow: the connect and each batch have timeouts; a failed batch is counted as
//!   dropped, the connection is dropped, and reconnects follow with exponential backoff and full
//!   jitter. While disconnected, events are taken off the ring and counted as dropped, so the
//!   ring never backs up into the sink thread and nothing else waits for Redis.
//! - Mirror lag = event emitted (its `ts_emit_ns`) → its batch acknowledged, recorded per event.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use redis::ConnectionLike as _;
use tradeflow_core::{Catalog, Event, MonoClock, StageId};

use crate::config::MirrorConfig;
use crate::wire::{redact_url, Encoder};

/// One event on its way to Redis.
#[derive(Clone, Copy, Debug)]
struct Item {
    source: StageId,
    event: Event,
}

/// Live counters, readable while the mirror runs.
#[derive(Debug, Default)]
pub struct MirrorCounters {
    /// Entries acknowledged by Redis.
    pub mirrored: AtomicU64,
    /// Copies dropped because the mirror ring was full.
    pub dropped_ring: AtomicU64,
    /// Of `dropped_ring`, per emitting stage (indexed by `StageId as usize`).
    pub dropped_ring_by_stage: [AtomicU64; StageId::ALL.len()],
    /// Events dropped while Redis was unreachable, or in a batch that failed.
    pub dropped_redis: AtomicU64,
    /// Successful (re)connects after the first.
    pub reconnects: AtomicU64,
    /// Batches acknowledged.
    pub batches: AtomicU64,
    /// Whether the connection is up now.
    pub connected: AtomicBool,
}

/// The producer side, owned by the sink thread: never blocks.
#[derive(Debug)]
pub struct MirrorInput {
    ring: rtrb::Producer<Item>,
    selected: Vec<bool>,
    dropped_by_stage: [u64; StageId::ALL.len()],
    counters: Arc<MirrorCounters>,
}

impl MirrorInput {
    /// Offers a copy: filtered by type, pushed if the ring has room, else dropped and counted.
    #[inline]
    pub fn offer(&mut self, source: StageId, event: &Event) {
        if !self.selected[event.kind().get()] {
            return;
        }
        if self.ring.push(Item { source, event: *event }).is_err() {
            self.dropped_by_stage[source as usize] += 1;
            self.counters.dropped_ring.fetch_add(1, Ordering::Relaxed);
            self.counters.dropped_ring_by_stage[source as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Copies dropped at the ring, per stage (by `StageId as usize`).
    pub fn dropped_by_stage(&self) -> &[u64] {
        &self.dropped_by_stage
    }
}

/// Everything the mirror did, for the run summary.
#[derive(Debug, Clone)]
pub struct MirrorReport {
    /// The Redis URL (password redacted).
    pub url: String,
    /// Entries acknowledged by Redis.
    pub mirrored: u64,
    /// Copies dropped because the mirror ring was full.
    pub dropped_ring: u64,
    /// Of `dropped_ring`, per stage (name, count), stages with drops only.
    pub dropped_ring_by_stage: Vec<(&'static str, u64)>,
    /// Events dropped because Redis was unreachable or a batch failed.
    pub dropped_redis: u64,
    /// Reconnects after a lost connection.
    pub reconnects: u64,
    /// Batches acknowledged.
    pub batches: u64,
    /// Entries per acknowledged batch.
    pub batch_sizes: Histogram<u64>,
    /// Event emitted → batch acknowledged, ns (empty without a clock).
    pub lag_ns: Histogram<u64>,
    /// Errors seen (connect, write, reply), most recent last, at most 8; passwords redacted.
    pub errors: Vec<String>,
    /// Whether Redis was reachable when the mirror started.
    pub connected_at_start: bool,
    /// Seconds the mirror thread ran.
    pub elapsed_s: f64,
}

/// Controls the mirror thread.
#[derive(Debug)]
pub struct MirrorHandle {
    stop: Arc<AtomicBool>,
    counters: Arc<MirrorCounters>,
    thread: Option<JoinHandle<MirrorReport>>,
}

impl MirrorHandle {
    /// Live counters.
    pub fn counters(&self) -> &MirrorCounters {
        &self.counters
    }

    /// Drains what is already on the ring (bounded by the response timeout per batch), flushes,
    /// stops the thread and returns its report.
    pub fn finish(mut self) -> MirrorReport {
        self.stop.store(true, Ordering::Release);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => MirrorReport {
                errors: vec!["the mirror thread panicked".into()],
                ..report(&self.counters, String::new(), new_hist(), new_hist(), false, 0.0)
            },
        }
    }
}

impl Drop for MirrorHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A report from the counters (errors empty).
fn report(
    c: &MirrorCounters,
    url: String,
    batch_sizes: Histogram<u64>,
    lag_ns: Histogram<u64>,
    connected_at_start: bool,
    elapsed_s: f64,
) -> MirrorReport {
    MirrorReport {
        url,
        mirrored: c.mirrored.load(Ordering::Relaxed),
        dropped_ring: c.dropped_ring.load(Ordering::Relaxed),
        dropped_ring_by_stage: by_stage(c),
        dropped_redis: c.dropped_redis.load(Ordering::Relaxed),
        reconnects: c.reconnects.load(Ordering::Relaxed),
        batches: c.batches.load(Ordering::Relaxed),
        batch_sizes,
        lag_ns,
        errors: Vec::new(),
        connected_at_start,
        elapsed_s,
    }
}

fn by_stage(c: &MirrorCounters) -> Vec<(&'static str, u64)> {
    StageId::ALL
        .iter()
        .map(|s| (s.name(), c.dropped_ring_by_stage[*s as usize].load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn new_hist() -> Histogram<u64> {
    tradeflow_core::latency::new_histogram()
}

/// Starts the mirror thread. `clock` (shared with the pipeline) gives mirror lag; without it
/// (inline runs: virtual time) lag is not recorded. Fails only if the thread cannot start.
pub fn start(
    cfg: &MirrorConfig,
    catalog: Arc<Catalog>,
    wall_offset_ns: i64,
    clock: Option<MonoClock>,
) -> std::io::Result<(MirrorInput, MirrorHandle)> {
    let (producer, consumer) = rtrb::RingBuffer::new(cfg.ring_capacity);
    let counters = Arc::new(MirrorCounters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let worker = Worker {
        cfg: cfg.clone(),
        ring: consumer,
        encoder: Encoder::new(catalog, wall_offset_ns, &cfg.prefix, cfg.maxlen),
        clock,
        counters: counters.clone(),
        stop: stop.clone(),
    };
    let thread = std::thread::Builder::new().name("tf-mirror".into()).spawn(move || worker.run())?;
    let input = MirrorInput {
        ring: producer,
        selected: cfg.selected(),
        dropped_by_stage: [0; StageId::ALL.len()],
        counters: counters.clone(),
    };
    Ok((input, MirrorHandle { stop, counters, thread: Some(thread) }))
}

struct Worker {
    cfg: MirrorConfig,
    ring: rtrb::Consumer<Item>,
    encoder: Encoder,
    clock: Option<MonoClock>,
    counters: Arc<MirrorCounters>,
    stop: Arc<AtomicBool>,
}

/// Exponential backoff with full jitter (xorshift; no allocation, no global RNG).
struct Backoff {
    base: u64,
    max: u64,
    attempt: u32,
    state: u64,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let ceiling = self.base.saturating_mul(1 << self.attempt.min(20)).min(self.max);
        self.attempt += 1;
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        Duration::from_millis(ceiling / 2 + self.state % (ceiling / 2 + 1))
    }
}

impl Worker {
    fn connect(&self) -> Result<redis::Connection, String> {
        let client = redis::Client::open(self.cfg.url.as_str()).map_err(|e| e.to_string())?;
        let con = client
            .get_connection_with_timeout(Duration::from_millis(self.cfg.connect_timeout_ms))
            .map_err(|e| e.to_string())?;
        let t = Some(Duration::from_millis(self.cfg.response_timeout_ms));
        con.set_read_timeout(t).map_err(|e| e.to_string())?;
        con.set_write_timeout(t).map_err(|e| e.to_string())?;
        Ok(con)
    }

    fn run(mut self) -> MirrorReport {
        let started = Instant::now();
        let url = redact_url(&self.cfg.url);
        let mut errors: Vec<String> = Vec::new();
        let raw_url = self.cfg.url.clone();
        let note = |errors: &mut Vec<String>, e: String| {
            let e = e.replace(&raw_url, &url);
            if errors.len() == 8 {
                errors.remove(0);
            }
            errors.push(e);
        };
        let mut batch_sizes = new_hist();
        let mut lag = new_hist();
        let mut backoff = Backoff {
            base: self.cfg.reconnect_base_ms,
            max: self.cfg.reconnect_max_ms,
            attempt: 0,
            state: u64::from(std::process::id()) | 1,
        };
        let mut con = match self.connect() {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(
                    "mirror: Redis at {url} is unreachable ({e}); events are dropped and counted until it answers \
                     (trading is not affected)"
                );
                note(&mut errors, format!("connect to {url}: {e}"));
                None
            }
        };
        let connected_at_start = con.is_some();
        self.counters.connected.store(connected_at_start, Ordering::Relaxed);
        let mut retry_at = Instant::now() + if con.is_none() { backoff.next() } else { Duration::ZERO };
        let mut buf: Vec<u8> = Vec::with_capacity(self.cfg.batch * 1024);
        let mut emitted: Vec<u64> = Vec::with_capacity(self.cfg.batch);
        let mut first_at: Option<Instant> = None;
        let flush_every = Duration::from_millis(self.cfg.flush_interval_ms);
        let stats_every = (self.cfg.stats_interval_ms > 0).then(|| Duration::from_millis(self.cfg.stats_interval_ms));
        let mut next_stats = Instant::now() + stats_every.unwrap_or(Duration::ZERO);
        let mut idle_spins = 0u32;
        loop {
            let stopping = self.stop.load(Ordering::Acquire);
            // Take what is on the ring, up to a full batch.
            let room = self.cfg.batch - emitted.len();
            let n = self.ring.slots().min(room);
            if n > 0 {
                if let Ok(chunk) = self.ring.read_chunk(n) {
                    for item in chunk {
                        if con.is_some() {
                            self.encoder.xadd(item.source, &item.event, &mut buf);
                            emitted.push(item.event.header().ts_emit_ns);
                        } else {
                            self.counters.dropped_redis.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                if !emitted.is_empty() {
                    first_at.get_or_insert_with(Instant::now);
                }
            }
            let now = Instant::now();
            let due = emitted.len() >= self.cfg.batch
                || first_at.is_some_and(|t| now.duration_since(t) >= flush_every)
                || (stopping && !emitted.is_empty());
            if due {
                if let Some(c) = con.as_mut() {
                    match c.req_packed_commands(&buf, 0, emitted.len()) {
                        Ok(replies) => {
                            let failed = replies.iter().filter(|v| matches!(v, redis::Value::ServerError(_))).count();
                            let ok = emitted.len() - failed;
                            if failed > 0 {
                                self.counters.dropped_redis.fetch_add(failed as u64, Ordering::Relaxed);
                                if let Some(redis::Value::ServerError(e)) =
                                    replies.iter().find(|v| matches!(v, redis::Value::ServerError(_)))
                                {
                                    note(&mut errors, format!("XADD refused: {e:?}"));
                                }
                            }
                            self.counters.mirrored.fetch_add(ok as u64, Ordering::Relaxed);
                            self.counters.batches.fetch_add(1, Ordering::Relaxed);
                            let _ = batch_sizes.record(emitted.len() as u64);
                            if let Some(clock) = &self.clock {
                                let acked = clock.now_ns();
                                for &e in &emitted {
                                    let _ = lag.record(acked.saturating_sub(e).max(1));
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!("mirror: lost Redis at {url} ({e}); reconnecting with backoff");
                            note(&mut errors, format!("batch of {} to {url}: {e}", emitted.len()));
                            self.counters.dropped_redis.fetch_add(emitted.len() as u64, Ordering::Relaxed);
                            con = None;
                            self.counters.connected.store(false, Ordering::Relaxed);
                            retry_at = now + backoff.next();
                        }
                    }
                } else {
                    self.counters.dropped_redis.fetch_add(emitted.len() as u64, Ordering::Relaxed);
                }
                buf.clear();
                emitted.clear();
                first_at = None;
            }
            if con.is_none() && now >= retry_at && !stopping {
                match self.connect() {
                    Ok(c) => {
                        tracing::info!("mirror: connected to Redis at {url}");
                        con = Some(c);
                        backoff.attempt = 0;
                        self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                        self.counters.connected.store(true, Ordering::Relaxed);
                    }
                    Err(e) => {
                        note(&mut errors, format!("reconnect to {url}: {e}"));
                        retry_at = Instant::now() + backoff.next();
                    }
                }
            }
            if let (Some(every), Some(c)) = (stats_every, con.as_mut()) {
                if now >= next_stats {
                    next_stats = now + every;
                    self.write_stats(c, &lag, &batch_sizes);
                }
            }
            if stopping && self.ring.is_empty() && emitted.is_empty() {
                break;
            }
            if n == 0 && !due {
                // Nothing to do: spin briefly, then sleep a little (the mirror is not on the
                // hot path; its latency budget is the flush interval).
                idle_spins += 1;
                if idle_spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::sleep(Duration::from_micros(200));
                }
            } else {
                idle_spins = 0;
            }
        }
        if let (Some(_), Some(c)) = (stats_every, con.as_mut()) {
            self.write_stats(c, &lag, &batch_sizes);
        }
        MirrorReport {
            errors,
            ..report(&self.counters, url, batch_sizes, lag, connected_at_start, started.elapsed().as_secs_f64())
        }
    }

    /// The mirror's own health entry on `<prefix>tradeflow.stats` (best effort): the numbers
    /// as flat fields and as the `payload` JSON.
    fn write_stats(&mut self, c: &mut redis::Connection, lag: &Histogram<u64>, sizes: &Histogram<u64>) {
        let q = |h: &Histogram<u64>, p: f64| if h.is_empty() { 0 } else { h.value_at_quantile(p) };
        let c_ = &self.counters;
        let fields = [
            ("event_type", "system.health".to_owned()),
            ("source", "mirror".to_owned()),
            ("mirrored", c_.mirrored.load(Ordering::Relaxed).to_string()),
            ("dropped_ring", c_.dropped_ring.load(Ordering::Relaxed).to_string()),
            ("dropped_redis", c_.dropped_redis.load(Ordering::Relaxed).to_string()),
            ("reconnects", c_.reconnects.load(Ordering::Relaxed).to_string()),
            ("batches", c_.batches.load(Ordering::Relaxed).to_string()),
            ("batch_size_p50", q(sizes, 0.5).to_string()),
            ("lag_p50_us", (q(lag, 0.5) / 1_000).to_string()),
            ("lag_p99_us", (q(lag, 0.99) / 1_000).to_string()),
        ];
        let mut buf = Vec::with_capacity(1024);
        let epoch_s =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        self.encoder.xadd_stats(&fields, epoch_s, &mut buf);
        let _ = c.req_packed_commands(&buf, 0, 1);
    }
}
