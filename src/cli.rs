//! The command line: `tradeflow run`, `tradeflow check-config`.

use crate::config::Config;
use crate::pipeline::{PipelineBuilder, Progress};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use tradeflow_core::EventKind;

/// tradeflow: a low-latency, event-driven trading pipeline (signal → risk → order → position →
/// learning) on pinned threads over lock-free rings.
#[derive(Debug, Parser)]
#[command(name = "tradeflow", version, about, long_about = None)]
pub struct Cli {
    /// Log line format on stderr: `pretty` (readable; colours only on a terminal) or `json`
    /// (one JSON object per line, for log collectors). Verbosity: `TRADEFLOW_LOG=info|debug`.
    #[arg(long, value_enum, global = true, env = "TRADEFLOW_LOG_FORMAT", default_value = "pretty")]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable text (ANSI colours only when stderr is a terminal).
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Exit code for invalid config or options (the README's table).
pub const EXIT_USAGE: i32 = 1;

/// Prints a command-line parse error (or the help / version text it carries) and returns the
/// exit code: 0 for `--help` / `--version`, [`EXIT_USAGE`] for a usage error.
pub fn usage_error_exit(e: &clap::Error) -> i32 {
    let _ = e.print();
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
        _ => EXIT_USAGE,
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline (embedded default config unless --config is given).
    Run(RunArgs),
    /// Benchmark the real pipeline, with baselines measured in the same run and histogram reports.
    ///
    /// Open-loop paced load at each --rate (latency measured from each signal's intended send
    /// time, so stalls show), an optional --burst for sustained throughput, baselines in the same
    /// run (--compare), and reports (terminal table; with --out DIR: .hgrm files, summary.json,
    /// SVG percentile plots).
    Bench(BenchArgs),
    /// Serve a local mock of the Binance USDⓈ-M futures API (WebSocket API, user data and market
    /// streams, REST) for paper trading and tests, until Ctrl-C.
    ///
    /// It verifies HMAC and Ed25519 signatures and recvWindow as documented, validates
    /// exchange filters, fills MARKET orders at its own seeded price path, pushes
    /// ORDER_TRADE_UPDATE, and injects faults on request (POST /mock/fault). See
    /// config/paper.toml and the README.
    MockExchange(crate::mock_cmd::MockArgs),
    /// Follow the mirrored Redis streams live and print events readably.
    Tail(crate::tail_cmd::TailArgs),
    /// Validate a config (the embedded default, a file layered on it, --set overrides) and
    /// print the resolved topology (threads, cores, rings), warnings and the resolved config.
    CheckConfig(CheckArgs),
}

/// `tradeflow check-config` options.
#[derive(Debug, Args, Default)]
pub struct CheckArgs {
    /// The TOML file to check, layered on the embedded default (it may hold only the keys that
    /// differ). Without it, the embedded default itself is checked.
    pub file: Option<PathBuf>,
    /// Override one key, as `run --set` does (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

/// `tradeflow run` options; each overrides the config.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Config file (TOML), layered on the embedded config/default.toml: it may hold only the
    /// keys that differ (tables merge key by key; arrays such as [[instruments]] replace).
    /// Without it, the embedded default (no network, no Redis).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one config key after the file, e.g. `--set risk.guard.max_open_positions=5`
    /// or `--set gateway.venue=binance` (the value in TOML syntax; a bare word is a string).
    /// Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Number of synthetic signals to generate (0 = unbounded; overrides ingress.synthetic.count).
    #[arg(long, value_name = "N")]
    pub signals: Option<u64>,
    /// Signals per second, paced by schedule (0 = as fast as possible). Applies to the
    /// synthetic generator and to --signals-file.
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Stop after this many seconds (simulated seconds with --inline).
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Seed of the synthetic signal generator and price paths.
    #[arg(long, value_name = "K")]
    pub seed: Option<u64>,
    /// Read reference `signal.generated` JSON lines from FILE instead (`-` = stdin).
    #[arg(long, value_name = "FILE")]
    pub signals_file: Option<String>,
    /// Write every event as a JSON line {"event_type","source","payload"} to FILE (`-` = stdout).
    #[arg(long, value_name = "FILE")]
    pub events_out: Option<String>,
    /// Run every stage on this thread with a virtual clock: deterministic, same seed and input
    /// give the same event log.
    #[arg(long)]
    pub inline: bool,
    /// With --signals-file: replay at the pace of the signals' own `timestamp`s, sped up by X
    /// (1 = real time, 60 = a minute per second); overrides --rate.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub replay_speed: Option<f64>,
    /// The clock a --signals-file run follows: `event` (the recording's own `timestamp`s: the
    /// run starts at the first one and every signal keeps the age it had in the recording, so
    /// an old recording trades instead of being STALE_SIGNAL) or `wall` (wall-clock time, with
    /// the staleness checks against it). Default: event for a file, wall for stdin; network
    /// sources are always on wall-clock time.
    #[arg(long, value_enum, value_name = "CLOCK")]
    pub clock: Option<ClockArg>,
    /// Take signals from TCP clients on ADDR (e.g. 127.0.0.1:7001): one reference
    /// `signal.generated` JSON object per line, each answered with an ack or a nack line
    /// (`[ingress.tcp]`). The run lasts until --duration or Ctrl-C.
    #[arg(long, value_name = "ADDR")]
    pub tcp: Option<String>,
    /// Take signals from WebSocket clients on ADDR (e.g. 127.0.0.1:7002): one reference
    /// `signal.generated` JSON object per text frame, each answered with an ack or a nack
    /// frame (`[ingress.ws]`). The run lasts until --duration or Ctrl-C.
    #[arg(long, value_name = "ADDR")]
    pub ws: Option<String>,
    /// Take signals from the Redis stream the reference system's AI engines publish to
    /// (`quantum:stream:signal.generated`, JSON in the `payload` field) at URL
    /// (`redis://[user:pass@]host:port[/db]`), as consumer group `[ingress.redis] group`;
    /// entries are acknowledged once their signal is in the pipeline. The run lasts until
    /// --duration or Ctrl-C. Also read from TRADEFLOW_SIGNALS_REDIS_URL (keeps a password out
    /// of the process list).
    #[arg(long, value_name = "URL", env = "TRADEFLOW_SIGNALS_REDIS_URL", hide_env_values = true)]
    pub signals_redis: Option<String>,
    /// Mirror every event to Redis Streams at URL (`redis://[user:pass@]host:port`,
    /// `rediss://` for TLS); turns `[mirror]` on. Trading never waits for Redis: when it is
    /// down, copies are dropped and counted and the mirror reconnects. Also read from
    /// TRADEFLOW_MIRROR_REDIS_URL (keeps a password out of the process list).
    #[arg(long, value_name = "URL", env = "TRADEFLOW_MIRROR_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
    /// No live progress line.
    #[arg(long)]
    pub no_progress: bool,
}

/// `run --clock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockArg {
    /// The recording's own timestamps.
    Event,
    /// Wall-clock time.
    Wall,
}

/// A baseline to measure beside tradeflow in the same run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Baseline {
    /// The bare rtrb ping-pong between the placement's two cores and the inline compute floor.
    Floor,
    /// The same pipeline over crossbeam bounded channels.
    Crossbeam,
    /// The same pipeline over the disruptor crate.
    Disruptor,
    /// All of the above.
    All,
}

/// `tradeflow bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Config file. Default: the embedded config/bench.toml (limits opened so every signal is
    /// approved and becomes an order).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Paced rates in signals/s, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000", allow_negative_numbers = true)]
    pub rate: Vec<f64>,
    /// Also run a burst of N unpaced signals and report sustained throughput.
    #[arg(long, value_name = "N")]
    pub burst: Option<u64>,
    /// Measured seconds per paced scenario (after the warm-up).
    #[arg(long, value_name = "S", default_value_t = 2.0, allow_negative_numbers = true)]
    pub duration: f64,
    /// Measured signals per paced scenario (instead of --duration).
    #[arg(long, value_name = "N")]
    pub signals: Option<u64>,
    /// Warm-up seconds per scenario whose latencies are not recorded.
    #[arg(long, value_name = "S", default_value_t = 0.5, allow_negative_numbers = true)]
    pub warmup: f64,
    /// Stage → core layout.
    #[arg(long, value_enum, default_value = "auto")]
    pub placement: crate::bench::Placement,
    /// Baselines to run in the same run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub compare: Vec<Baseline>,
    /// Also run the paper-venue scenario at RATE signals/s: the same pipeline with the Binance
    /// venue and market streams against an in-process mock exchange over loopback WebSocket
    /// (tick-to-order = signal → order frame written to the socket; signal → position.opened
    /// includes the exchange round trip and the user-stream fill). Its threads yield instead
    /// of spinning so the mock's threads get CPU.
    #[arg(long, value_name = "RATE")]
    pub paper: Option<f64>,
    /// Also run the TCP-source scenario at RATE signals/s: a client thread sends reference JSON
    /// lines over loopback TCP, each stamped with its send time (`timestamp`), to the ingress
    /// TCP source with `origin = "timestamp"`; tick-to-order is then measured from the
    /// client's write to the order handed to the venue. Its threads yield instead of spinning
    /// and the client sleeps between lines. Fire-and-forget unless --tcp-acks.
    #[arg(long, value_name = "RATE")]
    pub tcp: Option<f64>,
    /// With --tcp: the source answers every line and the client reads the answers on a
    /// second thread (on a small host that thread competes with the stage threads).
    #[arg(long)]
    pub tcp_acks: bool,
    /// Also run the WebSocket-source scenario at RATE signals/s: as --tcp, one signal per text
    /// frame to the ingress WebSocket source (fire and forget); tick-to-order is the client's
    /// frame write → order handed to the venue.
    #[arg(long, value_name = "RATE")]
    pub ws: Option<f64>,
    /// Also run every paced rate with signals taken from a Redis stream at URL: a client
    /// thread XADDs reference entries (stamped with their send time) to a private stream
    /// `tradeflow:bench:signals:<pid>:<rate>` (deleted afterwards), read by the ingress Redis
    /// source with `origin = "timestamp"`; tick-to-order is then XADD → order handed to the
    /// venue. Use a Redis you own.
    #[arg(long, value_name = "URL")]
    pub redis_source: Option<String>,
    /// Also run every paced rate with the Redis Streams mirror on (to this Redis), side by
    /// side with the same rate without it, and the mirror's sustained rate on its own
    /// (1,000,000 events pushed as fast as its ring takes them). Use a Redis you own: the
    /// streams `quantum:stream:*` are written (and trimmed to `mirror.maxlen`).
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// Also run RATE signals/s twice on the same placement: with the config's threads as they
    /// are (`spin@RATE/s`; spinning in bench.toml) and with every spinning or yielding thread
    /// parking (`park@RATE/s`, as config/default.toml does), each with the CPU the process used
    /// meanwhile: the CPU parking saves and the wake-up latency it adds.
    #[arg(long, value_name = "RATE")]
    pub park: Option<f64>,
    /// Write reports to DIR (.hgrm per histogram, summary.json, SVG plots).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Applies the `run` options to a config.
pub fn apply_overrides(cfg: &mut Config, a: &RunArgs) {
    if let Some(n) = a.signals {
        cfg.ingress.synthetic.count = n;
    }
    if let Some(r) = a.rate {
        cfg.ingress.synthetic.rate_per_sec = r;
        cfg.ingress.file.rate_per_sec = r;
    }
    if let Some(d) = a.duration {
        cfg.run.duration_s = d;
    }
    if let Some(k) = a.seed {
        cfg.ingress.synthetic.seed = k;
        cfg.market.seed = k.wrapping_add(1);
    }
    if let Some(f) = &a.signals_file {
        cfg.ingress.source = tradeflow_ingress::IngressSource::File;
        cfg.ingress.file.path = f.clone();
    }
    if a.inline {
        cfg.run.inline = true;
    }
    if a.no_progress {
        cfg.run.progress = false;
    }
    if let Some(c) = a.clock {
        cfg.ingress.file.clock = match c {
            ClockArg::Event => tradeflow_ingress::FileClock::Event,
            ClockArg::Wall => tradeflow_ingress::FileClock::Wall,
        };
    }
    if let Some(x) = a.replay_speed {
        cfg.ingress.file.replay_speed = x;
        cfg.ingress.file.rate_per_sec = 0.0;
    }
    if let Some(addr) = &a.tcp {
        cfg.ingress.source = tradeflow_ingress::IngressSource::Tcp;
        cfg.ingress.tcp.listen = addr.clone();
    }
    if let Some(addr) = &a.ws {
        cfg.ingress.source = tradeflow_ingress::IngressSource::Ws;
        cfg.ingress.ws.listen = addr.clone();
    }
    if let Some(url) = &a.signals_redis {
        cfg.ingress.source = tradeflow_ingress::IngressSource::Redis;
        cfg.ingress.redis.url = url.clone();
    }
    if let Some(url) = &a.redis {
        cfg.mirror.enabled = true;
        cfg.mirror.url = url.clone();
    }
}

/// Loads the config for `run`: file or embedded default, then overrides, then validation.
pub fn load_run_config(a: &RunArgs) -> Result<Config, String> {
    let mut cfg = crate::layered::resolve_default(a.config.as_deref(), &a.sets)
        .map_err(|e| format!("invalid config:\n{e}"))?
        .config;
    let sources = [a.signals_file.is_some(), a.tcp.is_some(), a.ws.is_some(), a.signals_redis.is_some()];
    if sources.iter().filter(|s| **s).count() > 1 {
        return Err("pick one signal source: --signals-file, --tcp, --ws or --signals-redis".into());
    }
    apply_overrides(&mut cfg, a);
    let problems = cfg.validate();
    if problems.is_empty() {
        Ok(cfg)
    } else {
        Err(format!("invalid options:\n{}", problems.join("\n")))
    }
}

fn progress_line(p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64().max(1e-9);
    let signals = p.count(EventKind::SignalGenerated);
    format!(
        "{:>7.1}s  signals {:>10}  ({:>9.0}/s)  orders {:>9}  closed {:>8}  denied {:>9}  errors {:>6}  {}",
        secs,
        signals,
        signals as f64 / secs,
        p.count(EventKind::ExecutionRequested),
        p.count(EventKind::PositionClosed),
        p.count(EventKind::SignalDenied),
        p.count(EventKind::SystemEventError),
        p.trading_state.name()
    )
}

/// `tradeflow run`. Returns the process exit code.
pub fn run(a: &RunArgs) -> i32 {
    // First of all, so a stop signal during startup (config, catalog, venue startup) ends the
    // run cleanly instead of killing the process.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    crate::shutdown::install_or_warn("run", stop.clone());
    let cfg = match load_run_config(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tradeflow: {e}");
            return 1;
        }
    };
    for w in cfg.warnings() {
        eprintln!("tradeflow: warning: {w}");
    }
    let show_progress = cfg.run.progress && std::io::stderr().is_terminal();
    let inline = cfg.run.inline;
    let mut builder = PipelineBuilder::new(cfg).with_stop_flag(stop);
    if let Some(path) = &a.events_out {
        builder = builder.events_out(path.clone());
    }
    let report = if inline {
        builder.run_inline()
    } else {
        builder.start().map(|p| {
            let bar = show_progress.then(|| {
                let b = indicatif::ProgressBar::new_spinner();
                b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                b
            });
            let r = p.wait_with(|prog| {
                if let Some(b) = &bar {
                    b.set_message(progress_line(prog));
                    b.tick();
                }
            });
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            r
        })
    };
    match report {
        Ok(r) => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = r.write_summary(&mut out) {
                // Not eprintln!: with stderr closed too (`run 2>&1 | head`) it would panic.
                let _ = std::io::Write::write_fmt(
                    &mut std::io::stderr(),
                    format_args!("tradeflow: writing the report failed: {e}\n"),
                );
                return 2;
            }
            let dropped = r.tally.copies_dropped;
            if let (Some(path), true) = (&a.events_out, dropped > 0) {
                eprintln!(
                    "tradeflow: --events-out {path} is INCOMPLETE: {dropped} events were dropped (topology.copy_policy \
                     = \"drop\"; the default writes every event)"
                );
                return 2;
            }
            if r.sinks.errors.is_empty() {
                0
            } else {
                2
            }
        }
        Err(e) => {
            eprintln!("tradeflow: {e}");
            2
        }
    }
}

pub use crate::check_cmd::check_config;
