//! Micro-benchmarks of the stages: each stage's `on_event` through a reused `RecordingCtx`
//! (its `emitted` cleared every iteration), and the whole inline pipeline per signal.
//!
//! - `stage_on_event`: stages built from the embedded default config (risk's order-rate bucket
//!   off), fed events of a real chain ([`common::Fixture::chain`]):
//!   - risk: a signal approved (distinct trace ids; reservations released untimed between
//!     batches of 16), a signal denied by the position limits (20 BTCUSDT positions open,
//!     distinct trace ids: the deep deny path), a duplicate trace id, a market tick;
//!   - gateway: an execution request filled by the sim venue; position: a tick on a symbol
//!     with 16 open positions and on one with none; learning: a `position.closed` (64 wins and
//!     losses in turn); control: a recoverable `system.event_error`; ingress: a published
//!     signal, and `poll` decoding 32 reference JSON lines from an in-memory byte source.
//! - `inline_pipeline`: `InlineRuntime` over `build_stages` with 20,000 unpaced synthetic
//!   signals, flattened at the end; stages built outside the timed part. With the embedded
//!   default nearly every signal is denied (order-rate bucket and position limits: virtual time
//!   stays at 0); with `config/bench.toml` ~92 % take the approve → order → position path and
//!   the rest are denied `FILTER_MIN_NOTIONAL`. Unpaced, every signal arrives at virtual time 0,
//!   so with bench.toml all approved positions are open at once and closed by the final flatten:
//!   the figure per signal holds for this run length only.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks: a failure must stop the run

mod common;

use common::{new_ctx, Fixture, REFERENCE_SIGNAL};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput};
use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tradeflow::core::{DenialCode, Event, ExitReason, KillSwitch, Stage, Usd};
use tradeflow::runtime::inline::{InlineLimits, InlineRuntime};
use tradeflow::runtime::{build_stages, SignalSource};
use tradeflow::Config;
use tradeflow_ingress::{ByteSource, ReadOutcome, SourceKind, MAX_EMITS_PER_POLL};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Signals approved back to back before their reservations are released (within every default
/// limit: 16 × ≤ 1,000 USD on one symbol).
const APPROVE_BATCH: usize = 16;
/// Signals of one inline pipeline run.
const PIPELINE_SIGNALS: u64 = 20_000;

/// Measures `on_event(ev)` of `stage` with a cleared context.
fn on_event<S: Stage>(g: &mut Group<'_>, name: &str, stage: &mut S, ev: &Event) {
    let mut ctx = new_ctx();
    g.bench_function(name, |b| {
        b.iter(|| {
            ctx.emitted.clear();
            stage.on_event(black_box(ev), &mut ctx);
        })
    });
}

fn risk_benches(g: &mut Group<'_>, fx: &Fixture) {
    let mut risk = fx.risk();
    let mut ctx = new_ctx();
    let mut n = 1_000_000;
    let mut batch = [fx.signal(0); APPROVE_BATCH];
    g.bench_function("risk_signal_approved", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let k = left.min(APPROVE_BATCH as u64) as usize;
                for s in &mut batch[..k] {
                    n += 1;
                    *s = fx.signal(n);
                }
                let t = Instant::now();
                for s in &batch[..k] {
                    ctx.emitted.clear();
                    risk.on_event(black_box(s), &mut ctx);
                }
                total += t.elapsed();
                for s in &batch[..k] {
                    risk.on_event(&fx.release(s.header().seq), &mut ctx);
                }
                left -= k as u64;
            }
            total
        })
    });
    let stats = risk.stats();
    assert_eq!((stats.approved, stats.open_positions), (stats.signals, 0), "every signal approved and released");

    let mut full = fx.risk();
    for i in 1..=20 {
        common::step(&mut full, &fx.signal(i), &mut ctx, tradeflow::core::EventKind::ExecutionRequested);
    }
    g.bench_function("risk_signal_denied_position_limit", |b| {
        b.iter_batched(
            || {
                n += 1;
                fx.signal(n)
            },
            |s| {
                ctx.emitted.clear();
                full.on_event(black_box(&s), &mut ctx);
            },
            BatchSize::SmallInput,
        )
    });
    let stats = full.stats();
    assert_eq!(stats.denied(DenialCode::MaxPositionsSymbol), stats.signals - 20);

    let mut dup = fx.risk();
    let seen = fx.signal(1);
    dup.on_event(&seen, &mut ctx);
    on_event(g, "risk_signal_denied_duplicate", &mut dup, &seen);
    assert_eq!(dup.stats().denied(DenialCode::DuplicateTraceId), dup.stats().signals - 1);
    let tick = fx.tick(fx.btc(), fx.initial_price(fx.btc()));
    on_event(g, "risk_market_tick", &mut dup, &tick);
}

/// 64 `position.closed` of the chain's model, every third a stop-loss loss.
fn closes(closed: &Event) -> Vec<Event> {
    let Event::PositionClosed(win) = *closed else { panic!("not a position.closed: {closed:?}") };
    (0..64)
        .map(|i| {
            let mut pc = win;
            if i % 3 == 0 {
                pc.pnl_usd = Usd(-win.pnl_usd.0.abs() / 2);
                pc.pnl_pct = -win.pnl_pct.abs() / 2.0;
                pc.exit_reason = ExitReason::StopLoss;
            }
            Event::PositionClosed(pc)
        })
        .collect()
}

/// An endless stream of reference signal lines.
struct RepeatLines {
    pattern: Vec<u8>,
    pos: usize,
}

impl ByteSource for RepeatLines {
    fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome {
        let mut n = 0;
        while n < buf.len() {
            let chunk = &self.pattern[self.pos..];
            let k = chunk.len().min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&chunk[..k]);
            n += k;
            self.pos = (self.pos + k) % self.pattern.len();
        }
        ReadOutcome::Data(n)
    }
}

fn ingress_poll(c: &mut Criterion, fx: &Fixture) {
    let pattern = [REFERENCE_SIGNAL, b"\n"].concat().repeat(64);
    let mut ingress = fx.ingress(SourceKind::Bytes(Box::new(RepeatLines { pattern, pos: 0 })));
    let mut ctx = new_ctx();
    assert_eq!((ingress.poll(&mut ctx), ingress.stats().errors_total()), (MAX_EMITS_PER_POLL, 0));
    let mut g = c.benchmark_group("stage_poll");
    g.throughput(Throughput::Elements(MAX_EMITS_PER_POLL as u64));
    g.bench_function("ingress_poll_32_json_lines", |b| {
        b.iter(|| {
            ctx.emitted.clear();
            black_box(ingress.poll(&mut ctx))
        })
    });
    g.finish();
    assert_eq!(ingress.stats().errors_total(), 0);
}

fn stages(c: &mut Criterion) {
    let fx = Fixture::new();
    let chain = fx.chain();
    let mut g = c.benchmark_group("stage_on_event");
    g.throughput(Throughput::Elements(1));
    let mut ctx = new_ctx();
    g.bench_function("base", |b| {
        b.iter(|| {
            ctx.emitted.clear();
            black_box(&chain.signal);
        })
    });
    risk_benches(&mut g, &fx);
    on_event(&mut g, "gateway_execution_requested", &mut fx.gateway(), &chain.request);
    let mut position = fx.position_with_open(16);
    let btc = fx.btc();
    on_event(&mut g, "position_tick_16_open", &mut position, &fx.tick(btc, fx.initial_price(btc)));
    let eth = fx.catalog.find_symbol(b"ETHUSDT").expect("ETHUSDT");
    on_event(&mut g, "position_tick_0_open", &mut position, &fx.tick(eth, fx.initial_price(eth)));
    let mut learning = fx.learning();
    let closes = closes(&chain.closed);
    let mut i = 0usize;
    g.bench_function("learning_position_closed", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            ctx.emitted.clear();
            learning.on_event(black_box(&closes[i & 63]), &mut ctx);
        })
    });
    on_event(&mut g, "control_system_event_error", &mut fx.control(), &chain.error);
    on_event(&mut g, "ingress_published_signal", &mut fx.ingress(SourceKind::PublisherOnly), &chain.signal);
    g.finish();
    ingress_poll(c, &fx);
}

/// A fresh inline runtime over every stage for `cfg` (20,000 unpaced synthetic signals).
fn inline_runtime(cfg: &Config) -> InlineRuntime {
    let catalog = Arc::new(cfg.catalog().expect("catalog"));
    let kill = Arc::new(KillSwitch::new());
    let stages = build_stages(cfg, &catalog, &kill, &SignalSource::Configured, true).expect("stages");
    InlineRuntime::new(stages, (cfg.run.inline_epoch_s * 1e9) as i64)
}

/// One timed inline run (construction and teardown untimed).
fn run_inline(cfg: &Config) -> Duration {
    let mut rt = inline_runtime(cfg);
    let stop = AtomicBool::new(false);
    let limits = InlineLimits { until_ns: u64::MAX, stop: &stop, flatten: true, drain_ns: 10_000_000_000 };
    let t = Instant::now();
    rt.run(&mut [], limits);
    let elapsed = t.elapsed();
    let results = rt.finish();
    let signals: u64 = results.iter().map(|r| r.tally.count(tradeflow::core::EventKind::SignalGenerated)).sum();
    assert_eq!(signals, PIPELINE_SIGNALS);
    elapsed
}

fn pipeline_config(mut cfg: Config) -> Config {
    cfg.ingress.source = tradeflow_ingress::IngressSource::Synthetic;
    cfg.ingress.synthetic.count = PIPELINE_SIGNALS;
    cfg.ingress.synthetic.rate_per_sec = 0.0;
    cfg.run.duration_s = 0.0;
    // Tables sized for the run, not for bench.toml's 262,144 (same path, cheaper setup).
    let cap = (2 * PIPELINE_SIGNALS) as u32;
    cfg.position.max_open_positions = cfg.position.max_open_positions.min(cap);
    cfg.risk.guard.max_open_positions = cfg.risk.guard.max_open_positions.min(cap);
    cfg
}

fn inline_pipeline(c: &mut Criterion) {
    let bench_toml = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/bench.toml");
    let configs = [
        ("default_config", Config::embedded_default().ok()),
        ("bench_toml_full_path", Config::from_file(&bench_toml).ok()),
    ];
    let mut g = c.benchmark_group("inline_pipeline");
    g.throughput(Throughput::Elements(PIPELINE_SIGNALS));
    g.sample_size(10);
    for (name, cfg) in configs {
        let Some(cfg) = cfg.map(pipeline_config) else {
            eprintln!("inline_pipeline/{name}: config does not load, skipped");
            continue;
        };
        g.bench_function(name, |b| b.iter_custom(|iters| (0..iters).map(|_| run_inline(&cfg)).sum()));
    }
    g.finish();
}

criterion_group!(benches, stages, inline_pipeline);
criterion_main!(benches);
