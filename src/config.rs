//! Configuration: one TOML file, every section `deny_unknown_fields`, every violation reported
//! at once.
//!
//! Each stage crate owns its section's type and its `validate`; this module composes them with
//! the run, topology, instrument and model sections, and builds the [`Catalog`].

use serde::Deserialize;
use std::path::Path;
use tradeflow_core::{Catalog, EventKind, InstrumentSpec, Price, Qty, Usd};

pub use crate::config_checks::{ring_memory_bytes, MAX_BATCH, MAX_COPY_RING_CAPACITY, MAX_RING_CAPACITY};

/// The embedded default config (no network, no Redis; sane on 2 cores).
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// `[run]`
    pub run: RunConfig,
    /// `[topology]`
    pub topology: TopologyConfig,
    /// `[[instruments]]`
    pub instruments: Vec<InstrumentConfig>,
    /// `models = [...]`: every model version the pipeline knows.
    pub models: Vec<String>,
    /// `[ingress]`
    pub ingress: tradeflow_ingress::IngressConfig,
    /// `[market]`
    pub market: tradeflow_market::MarketConfig,
    /// `[risk]`
    pub risk: tradeflow_risk::RiskConfig,
    /// `[gateway]`
    pub gateway: tradeflow_gateway::GatewayConfig,
    /// `[position]`
    pub position: tradeflow_position::PositionConfig,
    /// `[learning]`
    pub learning: tradeflow_learning::LearningConfig,
    /// `[control]`
    pub control: tradeflow_control::ControlConfig,
    /// `[mirror]`: the Redis Streams mirror.
    pub mirror: tradeflow_mirror::MirrorConfig,
}

/// What happens to open positions when the input ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnEnd {
    /// Close them (exit reason `SHUTDOWN`) so the run's PnL is realized.
    #[default]
    Flatten,
    /// Leave them open.
    Leave,
}

/// `[run]`: the run's life cycle.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Stop after this many seconds (0 = when the input ends).
    pub duration_s: f64,
    /// Run every stage on the calling thread with a virtual clock (deterministic).
    pub inline: bool,
    /// What to do with open positions at the end.
    pub on_end: OnEnd,
    /// How long shutdown waits for in-flight events to drain.
    pub drain_timeout_ms: u64,
    /// Unix-epoch seconds at which the virtual clock of inline runs starts.
    pub inline_epoch_s: f64,
    /// Show the live one-line progress display (on a terminal).
    pub progress: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            duration_s: 0.0,
            inline: false,
            on_end: OnEnd::Flatten,
            drain_timeout_ms: 10_000,
            inline_epoch_s: 1_767_225_600.0,
            progress: true,
        }
    }
}

/// How a thread waits when it has no work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitStrategy {
    /// Busy-poll with spin hints (lowest latency; one core per thread).
    Spin,
    /// Spin briefly, then `yield_now`.
    Yield,
    /// Spin briefly, yield for `[topology] park_after_us`, then sleep (50 µs doubling up to
    /// `park_sleep_us`) until work arrives: next to no CPU when idle, a bounded extra wake-up
    /// latency.
    Park,
    /// Spin, yield, then short sleeps (cold stages).
    Backoff,
}

/// A core to pin to, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreSpec {
    /// Pin to this core id.
    Core(usize),
    /// Do not pin.
    None,
}

impl<'de> Deserialize<'de> for CoreSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Id(usize),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Id(n) => Ok(CoreSpec::Core(n)),
            Raw::Name(s) if s == "none" => Ok(CoreSpec::None),
            Raw::Name(s) => Err(serde::de::Error::custom(format!("core must be a core id or \"none\", not {s:?}"))),
        }
    }
}

/// One thread of the topology.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadConfig {
    /// Thread name (shown in reports and `top`).
    pub name: String,
    /// Stages this thread runs, polled in turn.
    pub stages: Vec<String>,
    /// Core to pin to.
    #[serde(default = "core_none")]
    pub core: CoreSpec,
    /// How it waits when idle.
    #[serde(default = "wait_backoff")]
    pub wait: WaitStrategy,
}

fn core_none() -> CoreSpec {
    CoreSpec::None
}
fn wait_backoff() -> WaitStrategy {
    WaitStrategy::Backoff
}

/// What a full copy ring does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CopyPolicy {
    /// `wait` when the run writes `--events-out` (a log asked for is complete), else `drop`.
    #[default]
    Auto,
    /// Drop the copy and count it (never slows trading).
    Drop,
    /// Wait for room (lossless recording; the sink's speed bounds the pipeline).
    Wait,
}

impl CopyPolicy {
    /// The policy a run applies: [`CopyPolicy::Auto`] resolved by whether an event log file
    /// is written.
    pub fn resolve(self, writes_event_log: bool) -> CopyPolicy {
        match self {
            CopyPolicy::Auto if writes_event_log => CopyPolicy::Wait,
            CopyPolicy::Auto => CopyPolicy::Drop,
            other => other,
        }
    }
}

/// What the trading rings between stages are made of (the copy rings and the rings from the
/// in-process publisher and operator handles are always rtrb).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// rtrb wait-free SPSC rings: the product.
    #[default]
    Rtrb,
    /// crossbeam-channel bounded channels (a baseline).
    Crossbeam,
    /// `disruptor` single-producer rings read by event pollers (a baseline).
    Disruptor,
}

impl TransportKind {
    /// Every transport, the product first.
    pub const ALL: [TransportKind; 3] = [TransportKind::Rtrb, TransportKind::Crossbeam, TransportKind::Disruptor];

    /// Its name in config.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Rtrb => "rtrb",
            TransportKind::Crossbeam => "crossbeam",
            TransportKind::Disruptor => "disruptor",
        }
    }
}

/// `[topology]`: stages → threads → cores, ring sizes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyConfig {
    /// What the trading rings are made of.
    pub transport: TransportKind,
    /// Capacity of each trading ring (power of two).
    pub ring_capacity: usize,
    /// Capacity of each stage's copy ring (power of two).
    pub copy_ring_capacity: usize,
    /// What a full copy ring does.
    pub copy_policy: CopyPolicy,
    /// Most events read from one ring per turn.
    pub batch: usize,
    /// A trading ring full for this long raises `risk.alert` (RING_BACKPRESSURE).
    pub backpressure_alert_ms: u64,
    /// `wait = "park"` threads yield this long without work before they sleep.
    pub park_after_us: u64,
    /// `wait = "park"` threads sleep at most this long at a time (sleeps double from 50 µs up
    /// to it; it bounds the extra wake-up latency).
    pub park_sleep_us: u64,
    /// The threads.
    pub threads: Vec<ThreadConfig>,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        let t = |name: &str, stages: &[&str], core, wait| ThreadConfig {
            name: name.into(),
            stages: stages.iter().map(|s| (*s).to_owned()).collect(),
            core,
            wait,
        };
        TopologyConfig {
            transport: TransportKind::Rtrb,
            ring_capacity: 4096,
            copy_ring_capacity: 65_536,
            copy_policy: CopyPolicy::Auto,
            batch: 64,
            backpressure_alert_ms: 100,
            park_after_us: 50,
            park_sleep_us: 1000,
            threads: vec![
                t("feed", &["market", "ingress"], CoreSpec::None, WaitStrategy::Park),
                t("hot", &["risk", "gateway", "position"], CoreSpec::None, WaitStrategy::Park),
                t("cold", &["learning", "control"], CoreSpec::None, WaitStrategy::Backoff),
            ],
        }
    }
}

/// `[[instruments]]`: a symbol, its exchange filters and its synthetic price path.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Exchange symbol.
    pub symbol: String,
    /// Price tick.
    pub tick_size: f64,
    /// Quantity step.
    pub step_size: f64,
    /// Smallest quantity.
    #[serde(default)]
    pub min_qty: f64,
    /// Smallest notional (USD).
    #[serde(default)]
    pub min_notional: f64,
    /// Synthetic path: starting price.
    pub initial_price: f64,
    /// Synthetic path: annualized volatility (0.6 = 60 %).
    #[serde(default = "default_vol")]
    pub annual_volatility: f64,
    /// Synthetic path: annualized drift.
    #[serde(default)]
    pub annual_drift: f64,
}

fn default_vol() -> f64 {
    0.6
}

/// A config problem list (every violation found).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ConfigErrors(pub Vec<String>);

macro_rules! section {
    ($table:ident, $errors:ident, $name:literal, $ty:ty) => {{
        match $table.remove($name) {
            None => <$ty>::default(),
            Some(v) => match <$ty>::deserialize(v.clone()) {
                Ok(x) => x,
                Err(e) => {
                    $errors.push(format!(
                        "{}: {}",
                        $name,
                        crate::layered::locate_error::<$ty>(&v).unwrap_or_else(|| e.message().to_owned())
                    ));
                    <$ty>::default()
                }
            },
        }
    }};
}

impl Config {
    /// The embedded default config.
    pub fn embedded_default() -> Result<Config, ConfigErrors> {
        Config::from_toml_str(DEFAULT_TOML)
    }

    /// Reads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![format!("cannot read {}: {e}", path.display())]))?;
        Config::from_toml_str(&text)
    }

    /// Parses and validates TOML text, reporting every problem found: each section is
    /// decoded separately so one bad section does not hide another's problems.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigErrors> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigErrors(vec![e.to_string()]))?;
        Config::from_table(table)
    }

    /// Decodes and validates a parsed TOML table (see [`Config::from_toml_str`]).
    pub fn from_table(mut table: toml::Table) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let position_sets_balance = table
            .get("position")
            .and_then(toml::Value::as_table)
            .is_some_and(|t| t.contains_key("initial_balance_usd"));
        let cfg = Config {
            run: section!(table, errors, "run", RunConfig),
            topology: section!(table, errors, "topology", TopologyConfig),
            instruments: section!(table, errors, "instruments", Vec<InstrumentConfig>),
            models: section!(table, errors, "models", Vec<String>),
            ingress: section!(table, errors, "ingress", tradeflow_ingress::IngressConfig),
            market: section!(table, errors, "market", tradeflow_market::MarketConfig),
            risk: section!(table, errors, "risk", tradeflow_risk::RiskConfig),
            gateway: section!(table, errors, "gateway", tradeflow_gateway::GatewayConfig),
            position: section!(table, errors, "position", tradeflow_position::PositionConfig),
            learning: section!(table, errors, "learning", tradeflow_learning::LearningConfig),
            control: section!(table, errors, "control", tradeflow_control::ControlConfig),
            mirror: section!(table, errors, "mirror", tradeflow_mirror::MirrorConfig),
        };
        for key in table.keys() {
            errors.push(format!("{key}: unknown section"));
        }
        let mut cfg = cfg;
        if !position_sets_balance {
            cfg.position.initial_balance_usd = cfg.risk.initial_balance_usd;
        }
        let catalog_parsed = !errors.iter().any(|e| e.starts_with("instruments:") || e.starts_with("models:"));
        errors.extend(cfg.validate_sections());
        if catalog_parsed {
            errors.extend(cfg.validate_catalog());
        }
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Every semantic problem of the config.
    pub fn validate(&self) -> Vec<String> {
        let mut e = self.validate_sections();
        e.extend(self.validate_catalog());
        e
    }

    /// Problems within each section.
    fn validate_sections(&self) -> Vec<String> {
        let mut e = Vec::new();
        self.validate_run(&mut e);
        self.validate_topology(&mut e);
        self.validate_instruments(&mut e);
        e.extend(self.ingress.validate("ingress"));
        e.extend(self.market.validate("market"));
        e.extend(self.risk.validate("risk"));
        e.extend(self.gateway.validate("gateway"));
        e.extend(self.position.validate("position"));
        e.extend(self.learning.validate("learning"));
        e.extend(self.control.validate("control"));
        e.extend(self.mirror.validate("mirror"));
        if (self.position.initial_balance_usd - self.risk.initial_balance_usd).abs() > 1e-9 {
            e.push("position.initial_balance_usd: must equal risk.initial_balance_usd (or be left out)".into());
        }
        e
    }

    /// Settings that are valid but cannot act (e.g. an exposure alert above the exposure cap
    /// that stops new orders first), as `"<path>: …"`; `check-config` and `run` print them.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.position.warnings("position", self.risk.guard.max_exposure_total_usd);
        w.extend(self.risk.warnings("risk"));
        w
    }

    /// Whether the mirror would write `signal.generated` into the very stream the Redis signal
    /// source reads (same server, database and stream name): the run then leaves that kind out
    /// of the mirror, since every signal it would copy is already in that stream.
    pub fn mirror_rereads_signal_source(&self) -> bool {
        if self.ingress.source != tradeflow_ingress::IngressSource::Redis || !self.mirror.enabled {
            return false;
        }
        let mirrored = format!("{}{}", self.mirror.prefix, EventKind::SignalGenerated.name());
        let types = &self.mirror.types;
        let mirrors_signals = types.is_empty() || types.iter().any(|t| t == EventKind::SignalGenerated.name());
        mirrors_signals
            && mirrored == self.ingress.redis.stream
            && same_redis(&self.mirror.url, &self.ingress.redis.url)
    }

    /// Problems between sections and the catalog (names that must exist).
    fn validate_catalog(&self) -> Vec<String> {
        let mut e = Vec::new();
        match self.catalog() {
            Ok(cat) => {
                e.extend(self.ingress.validate_against(&cat));
                e.extend(self.risk.validate_against(&cat));
                e.extend(self.learning.validate_against(&cat));
            }
            Err(err) => e.push(format!("catalog: {err}")),
        }
        e
    }

    fn validate_run(&self, e: &mut Vec<String>) {
        let r = &self.run;
        if !r.duration_s.is_finite() || r.duration_s < 0.0 {
            e.push("run.duration_s: must be a finite number ≥ 0".into());
        }
        // The virtual clock counts i64 nanoseconds: a start past 2096 leaves it no room to run.
        if !(0.0..=4.0e9).contains(&r.inline_epoch_s) {
            e.push("run.inline_epoch_s: must be a number of epoch seconds from 0 to 4e9 (year 2096)".into());
        }
        if r.drain_timeout_ms == 0 {
            e.push("run.drain_timeout_ms: must be > 0".into());
        }
        if r.inline && self.market.source == tradeflow_market::PriceSourceKind::Binance {
            e.push("run.inline: market.source = \"binance\" reads a live stream and needs the threaded runtime".into());
        }
        if r.inline && self.gateway.venue == "binance" {
            e.push(
                "run.inline: the binance venue talks to a real exchange over sockets and needs the threaded runtime"
                    .into(),
            );
        }
    }

    fn validate_topology(&self, e: &mut Vec<String>) {
        crate::config_checks::validate(&self.topology, e);
    }

    fn validate_instruments(&self, e: &mut Vec<String>) {
        crate::config_checks::validate_instruments(&self.instruments, &self.models, e);
    }

    /// The catalog of instruments, models and risk profiles; the model registry has room for
    /// `ingress.max_models` (configured models first).
    pub fn catalog(&self) -> Result<Catalog, tradeflow_core::CatalogError> {
        let instruments = self
            .instruments
            .iter()
            .map(|i| InstrumentSpec {
                symbol: i.symbol.clone(),
                tick_size: Price::from_f64(i.tick_size).unwrap_or(Price(1)),
                step_size: Qty::from_f64(i.step_size).unwrap_or(Qty(1)),
                min_qty: Qty::from_f64(i.min_qty).unwrap_or(Qty::ZERO),
                min_notional: Usd::from_f64(i.min_notional).unwrap_or(Usd::ZERO),
            })
            .collect();
        Catalog::try_new(instruments, self.models.clone(), tradeflow_risk::profile_names(&self.risk))?
            .with_model_capacity(self.ingress.max_models)
    }

    /// The synthetic price path parameters, indexed like the catalog.
    pub fn price_paths(&self) -> Vec<tradeflow_market::PathParams> {
        self.instruments
            .iter()
            .map(|i| tradeflow_market::PathParams {
                initial_price: Price::from_f64(i.initial_price).unwrap_or(Price(1)),
                annual_volatility: i.annual_volatility,
                annual_drift: i.annual_drift,
            })
            .collect()
    }
}

/// Whether two Redis URLs name the same server and database (textually equal when one does
/// not parse).
fn same_redis(a: &str, b: &str) -> bool {
    match (a.parse::<redis::ConnectionInfo>(), b.parse::<redis::ConnectionInfo>()) {
        (Ok(x), Ok(y)) => x.addr.to_string() == y.addr.to_string() && x.redis.db == y.redis.db,
        _ => a == b,
    }
}
