//! Runs the scenarios of `tradeflow bench`: the real pipeline at each paced rate (open loop,
//! latency from each signal's intended send time), a burst for sustained throughput, the same
//! pipeline over the baseline transports, and the floors; then the ratios and the targets.

use super::floor;
use super::report::{ratios, Ratio, Scenario};
use crate::config::{Config, CoreSpec, ThreadConfig, TransportKind, WaitStrategy};
use crate::pipeline::PipelineBuilder;
use crate::report::RunReport;
use crate::runtime::RuntimeError;
use hdrhistogram::Histogram;
use std::time::Duration;
use tradeflow_core::{EventKind, Mark, StageId};

/// The embedded benchmark config (`config/bench.toml`).
pub const BENCH_TOML: &str = include_str!("../../config/bench.toml");

/// Histogram names every pipeline scenario reports.
pub const TICK_TO_ORDER: &str = "tick_to_order";
/// Signal → `trade.execution_requested` emitted by risk.
pub const SIGNAL_TO_REQUEST: &str = "signal_to_execution_requested";
/// Signal → `position.opened` emitted by position.
pub const SIGNAL_TO_OPENED: &str = "signal_to_position_opened";
/// The ingress → risk ring hop.
pub const HOP_INGRESS_RISK: &str = "hop_ingress_to_risk";
/// The risk → gateway ring hop.
pub const HOP_RISK_GATEWAY: &str = "hop_risk_to_gateway";
/// The floor's one ring hop.
pub const HOP: &str = "hop";
/// Event emitted → its mirror batch acknowledged by Redis.
pub const MIRROR_LAG: &str = "mirror_lag";

/// Which layout of stages on cores to benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Placement {
    /// The config's own `[[topology.threads]]`.
    Config,
    /// Feed (market, ingress) on core 0, hot stages on core 1, both spinning; cold unpinned.
    TwoCore,
    /// Every trading stage on core 0, spinning; cold unpinned.
    OneCore,
    /// One core per hot stage (needs ≥ 6 cores): feed 0, risk 1, gateway 2, position 3, cold 4.
    Spread,
    /// `spread` with ≥ 6 cores, `two-core` with ≥ 2, else `one-core`.
    Auto,
}

/// Which baselines to run beside tradeflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compare {
    /// The rtrb ping-pong and inline compute floors.
    pub floor: bool,
    /// The pipeline over crossbeam bounded channels.
    pub crossbeam: bool,
    /// The pipeline over the disruptor crate.
    pub disruptor: bool,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchPlan {
    /// The base config (placement already applied).
    pub cfg: Config,
    /// Paced rates (signals/s).
    pub rates: Vec<f64>,
    /// Signals of the burst scenario, if any.
    pub burst: Option<u64>,
    /// Measured seconds per paced scenario (after warm-up).
    pub duration_s: f64,
    /// Fixed number of measured signals per paced scenario (overrides duration).
    pub signals: Option<u64>,
    /// Warm-up seconds per scenario (not recorded).
    pub warmup_s: f64,
    /// Baselines.
    pub compare: Compare,
    /// Rate of the paper-venue scenario (Binance venue against the in-process mock), if any.
    pub paper: Option<f64>,
    /// Redis for the mirror-on scenarios, if any.
    pub mirror: Option<String>,
    /// Rate of the TCP-source scenario (client-stamped send time → order), if any.
    pub tcp: Option<f64>,
    /// The TCP scenario's source answers every line (the client reads the answers).
    pub tcp_acks: bool,
    /// Redis for the Redis-source scenarios (one per paced rate), if any.
    pub redis_source: Option<String>,
    /// Rate of the WebSocket-source scenario, if any.
    pub ws: Option<f64>,
    /// Rate of the spin-vs-park pair of scenarios, if any.
    pub park: Option<f64>,
}

/// One target of the issue, checked against this run's own figures.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetCheck {
    /// What is checked.
    pub name: String,
    /// Measured value and bound, as text.
    pub detail: String,
    /// Whether it holds.
    pub met: bool,
}

/// Everything a bench run produced.
#[derive(Debug)]
pub struct BenchOutcome {
    /// Every scenario, in run order.
    pub scenarios: Vec<Scenario>,
    /// tradeflow vs each baseline.
    pub ratios: Vec<Ratio>,
    /// The targets.
    pub targets: Vec<TargetCheck>,
    /// Cores the placement used.
    pub cores_used: Vec<usize>,
    /// Share of one core the process used during a scenario (1.0 = one core), where measured.
    pub cpu: Vec<(String, f64)>,
}

/// Applies a placement preset to `cfg` (`available` = the machine's core ids).
pub fn apply_placement(cfg: &mut Config, placement: Placement, available: usize) {
    let t = |name: &str, stages: &[&str], core: CoreSpec, wait: WaitStrategy| ThreadConfig {
        name: name.into(),
        stages: stages.iter().map(|s| (*s).to_owned()).collect(),
        core,
        wait,
    };
    let cold = t("cold", &["learning", "control"], CoreSpec::None, WaitStrategy::Backoff);
    let placement = match placement {
        Placement::Auto if available >= 6 => Placement::Spread,
        Placement::Auto if available >= 2 => Placement::TwoCore,
        Placement::Auto => Placement::OneCore,
        p => p,
    };
    let spin = WaitStrategy::Spin;
    cfg.topology.threads = match placement {
        Placement::Config | Placement::Auto => return,
        Placement::TwoCore => vec![
            t("feed", &["market", "ingress"], CoreSpec::Core(0), spin),
            t("hot", &["risk", "gateway", "position"], CoreSpec::Core(1), spin),
            cold,
        ],
        Placement::OneCore => {
            vec![t("hot", &["market", "ingress", "risk", "gateway", "position"], CoreSpec::Core(0), spin), cold]
        }
        Placement::Spread => vec![
            t("feed", &["market", "ingress"], CoreSpec::Core(0), spin),
            t("risk", &["risk"], CoreSpec::Core(1), spin),
            t("gateway", &["gateway"], CoreSpec::Core(2), spin),
            t("position", &["position"], CoreSpec::Core(3), spin),
            t("cold", &["learning", "control"], CoreSpec::Core(4), WaitStrategy::Backoff),
        ],
    };
}

/// The cores a config pins threads to (in thread order).
pub fn pinned_cores(cfg: &Config) -> Vec<usize> {
    cfg.topology.threads.iter().filter_map(|t| if let CoreSpec::Core(c) = t.core { Some(c) } else { None }).collect()
}

fn hist_of(h: Option<&Histogram<u64>>) -> Option<Histogram<u64>> {
    h.filter(|h| !h.is_empty()).cloned()
}

/// The scenario of one pipeline run.
fn scenario_of(name: String, kind: &str, rate: Option<f64>, r: &RunReport) -> Scenario {
    let mut histograms = Vec::new();
    let mut add = |n: &str, h: Option<Histogram<u64>>| {
        if let Some(h) = h {
            histograms.push((n.to_owned(), h));
        }
    };
    add(TICK_TO_ORDER, hist_of(r.mark_histogram(Mark::OrderToVenue)));
    add(SIGNAL_TO_REQUEST, hist_of(r.emitted_histogram(StageId::Risk, EventKind::ExecutionRequested)));
    add(SIGNAL_TO_OPENED, hist_of(r.emitted_histogram(StageId::Position, EventKind::PositionOpened)));
    add(HOP_INGRESS_RISK, hist_of(r.hop_histogram(StageId::Risk, EventKind::SignalGenerated)));
    add(HOP_RISK_GATEWAY, hist_of(r.hop_histogram(StageId::Gateway, EventKind::ExecutionRequested)));
    let secs = r.active_elapsed.as_secs_f64().max(1e-9);
    Scenario {
        name,
        kind: kind.to_owned(),
        rate_per_sec: rate,
        signals: r.signals(),
        elapsed_s: secs,
        throughput_per_s: r.signals() as f64 / secs,
        histograms,
    }
}

/// Runs the pipeline once: `signals` synthetic signals at `rate` (0 = burst).
pub fn run_pipeline(
    cfg: &Config,
    transport: TransportKind,
    rate: f64,
    signals: u64,
    warmup_s: f64,
) -> Result<RunReport, RuntimeError> {
    let mut cfg = cfg.clone();
    cfg.topology.transport = transport;
    cfg.ingress.source = tradeflow_ingress::IngressSource::Synthetic;
    cfg.ingress.synthetic.count = signals;
    cfg.ingress.synthetic.rate_per_sec = rate;
    cfg.run.duration_s = 0.0;
    cfg.run.progress = false;
    let pipeline = PipelineBuilder::new(cfg).warmup(Duration::from_secs_f64(warmup_s)).start()?;
    Ok(pipeline.wait())
}

impl BenchPlan {
    fn paced_signals(&self, rate: f64) -> u64 {
        let measured = self.signals.unwrap_or((rate * self.duration_s).ceil() as u64);
        measured + (rate * self.warmup_s).ceil() as u64
    }

    /// How many scenarios [`BenchPlan::run`] will run.
    pub fn scenario_count(&self) -> usize {
        let per_rate = 1 + usize::from(self.compare.crossbeam) + usize::from(self.compare.disruptor);
        let burst = self.burst.map_or(0, |_| per_rate);
        let mirror = if self.mirror.is_some() { self.rates.len() + 1 } else { 0 };
        self.rates.len() * per_rate
            + burst
            + if self.compare.floor { 2 } else { 0 }
            + usize::from(self.paper.is_some())
            + usize::from(self.tcp.is_some())
            + usize::from(self.ws.is_some())
            + self.redis_source.as_ref().map_or(0, |_| self.rates.len())
            + mirror
            + if self.park.is_some() { 2 } else { 0 }
    }

    /// Runs everything; `on_scenario` is called with each scenario's name before it starts.
    pub fn run(&self, mut on_scenario: impl FnMut(&str)) -> Result<BenchOutcome, RuntimeError> {
        let mut scenarios = Vec::new();
        let kinds: Vec<(&str, TransportKind)> = [
            ("tradeflow", TransportKind::Rtrb),
            ("crossbeam", TransportKind::Crossbeam),
            ("disruptor", TransportKind::Disruptor),
        ]
        .into_iter()
        .filter(|(_, t)| match t {
            TransportKind::Crossbeam => self.compare.crossbeam,
            TransportKind::Disruptor => self.compare.disruptor,
            TransportKind::Rtrb => true,
        })
        .collect();
        if self.compare.floor {
            scenarios.extend(self.run_floors(&mut on_scenario)?);
        }
        for &rate in &self.rates {
            for (kind, transport) in &kinds {
                let name = format!("{kind}@{rate}/s");
                on_scenario(&name);
                let r = run_pipeline(&self.cfg, *transport, rate, self.paced_signals(rate), self.warmup_s)?;
                scenarios.push(scenario_of(name, kind, Some(rate), &r));
            }
        }
        if let Some(n) = self.burst {
            for (kind, transport) in &kinds {
                let name = format!("{kind}:burst");
                on_scenario(&name);
                let r = run_pipeline(&self.cfg, *transport, 0.0, n, 0.0)?;
                scenarios.push(scenario_of(name, kind, None, &r));
            }
        }
        if let Some(url) = &self.mirror {
            let cfg = super::mirror::mirror_config(&self.cfg, url);
            for &rate in &self.rates {
                let name = format!("mirror@{rate}/s");
                on_scenario(&name);
                let r = run_pipeline(&cfg, TransportKind::Rtrb, rate, self.paced_signals(rate), self.warmup_s)?;
                let mut s = scenario_of(name, "mirror", Some(rate), &r);
                if let Some(m) = &r.mirror {
                    s.histograms.push((MIRROR_LAG.to_owned(), m.lag_ns.clone()));
                }
                scenarios.push(s);
            }
            on_scenario("mirror:throughput");
            let n = 1_000_000;
            let t = super::mirror::mirror_throughput(&self.cfg, url, n)
                .map_err(|message| RuntimeError::Stage { stage: "mirror", message })?;
            scenarios.push(Scenario {
                name: "mirror:throughput".into(),
                kind: "mirror".into(),
                rate_per_sec: None,
                signals: t.mirrored,
                elapsed_s: t.elapsed_s,
                throughput_per_s: t.mirrored as f64 / t.elapsed_s.max(1e-9),
                histograms: Vec::new(),
            });
        }
        if let Some(rate) = self.paper {
            let name = format!("paper@{rate}/s");
            on_scenario(&name);
            let r = super::paper::run_paper(&self.cfg, rate, self.paced_signals(rate), self.warmup_s)?;
            scenarios.push(scenario_of(name, "paper", Some(rate), &r));
        }
        if let Some(rate) = self.tcp {
            let name = format!("tcp@{rate}/s");
            on_scenario(&name);
            let (r, client) =
                super::tcp::run_tcp(&self.cfg, rate, self.paced_signals(rate), self.warmup_s, self.tcp_acks)?;
            if client.accepted < client.sent {
                tracing::warn!(
                    sent = client.sent,
                    accepted = client.accepted,
                    busy = client.busy,
                    rejected = client.rejected,
                    "tcp scenario: not every line was accepted"
                );
            }
            scenarios.push(scenario_of(name, "tcp", Some(rate), &r));
        }
        if let Some(rate) = self.ws {
            let name = format!("ws@{rate}/s");
            on_scenario(&name);
            let r = super::ws::run_ws(&self.cfg, rate, self.paced_signals(rate), self.warmup_s)?;
            scenarios.push(scenario_of(name, "ws", Some(rate), &r));
        }
        if let Some(url) = &self.redis_source {
            for &rate in &self.rates {
                let name = format!("redis@{rate}/s");
                on_scenario(&name);
                let r = super::redis_source::run_redis_source(
                    &self.cfg,
                    url,
                    rate,
                    self.paced_signals(rate),
                    self.warmup_s,
                )?;
                scenarios.push(scenario_of(name, "redis", Some(rate), &r));
            }
        }
        let mut cpu = Vec::new();
        if let Some(rate) = self.park {
            for (kind, cfg) in [("spin", self.cfg.clone()), ("park", super::park::parked(&self.cfg))] {
                let name = format!("{kind}@{rate}/s");
                on_scenario(&name);
                let (r, share) = super::park::run_measuring_cpu(&cfg, rate, self.paced_signals(rate), self.warmup_s)?;
                scenarios.push(scenario_of(name.clone(), kind, Some(rate), &r));
                cpu.extend(share.map(|s| (name, s)));
            }
        }
        // Throughput rows come once (with the first histogram); latency rows for each.
        let mut all_ratios = ratios(&scenarios, TICK_TO_ORDER);
        all_ratios.extend(ratios(&scenarios, SIGNAL_TO_OPENED).into_iter().filter(|r| r.metric != "throughput"));
        let targets = super::targets::check_all(&scenarios);
        Ok(BenchOutcome { scenarios, ratios: all_ratios, targets, cores_used: pinned_cores(&self.cfg), cpu })
    }

    fn run_floors(&self, on_scenario: &mut impl FnMut(&str)) -> Result<Vec<Scenario>, RuntimeError> {
        let cores = pinned_cores(&self.cfg);
        let (a, b) = (cores.first().copied(), cores.get(1).copied());
        on_scenario("floor:rtrb-hop");
        let trips = 200_000;
        let hop = floor::ring_hop_floor(a, b, trips, 20_000);
        let hop_s = hop.mean() * 2.0 * trips as f64 / 1e9;
        let hop_scenario = Scenario {
            name: "floor:rtrb-hop".into(),
            kind: "floor".into(),
            rate_per_sec: None,
            signals: trips,
            elapsed_s: hop_s,
            throughput_per_s: trips as f64 / hop_s.max(1e-9),
            histograms: vec![(HOP.into(), hop)],
        };
        on_scenario("floor:inline-compute");
        let n = self.burst.unwrap_or(1_000_000).clamp(100_000, 5_000_000);
        let (signals, secs) = floor::inline_compute_floor(&self.cfg, n)?;
        let inline = Scenario {
            name: "floor:inline-compute".into(),
            kind: "floor".into(),
            rate_per_sec: None,
            signals,
            elapsed_s: secs,
            throughput_per_s: signals as f64 / secs.max(1e-9),
            histograms: Vec::new(),
        };
        Ok(vec![hop_scenario, inline])
    }
}
