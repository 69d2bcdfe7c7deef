//! The runtime: builds the stages from config, wires one ring per producer/consumer pair, and
//! runs them threaded (pinned threads, [`threaded`]) or inline on the calling thread with a
//! virtual clock ([`inline`]). The threaded runtime's stage-to-stage rings are pluggable
//! ([`transport`]: rtrb, the product; crossbeam-channel and disruptor as baselines).

pub mod exchange_filters;
pub mod inline;
pub mod outbox;
pub mod sink;
pub mod tally;
pub mod threaded;
pub mod transport;
pub mod wire;

use crate::config::Config;
use std::sync::Arc;
use tradeflow_control::ControlStage;
use tradeflow_core::*;
use tradeflow_gateway::GatewayStage;
use tradeflow_ingress::IngressStage;
use tradeflow_learning::LearningStage;
use tradeflow_market::MarketStage;
use tradeflow_position::PositionStage;
use tradeflow_risk::RiskStage;

pub use exchange_filters::trading_catalog;
pub use tally::Tally;

/// Any stage, for monomorphized dispatch (no `dyn` on the hot path).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per stage, built once; boxing would add a hop per event
pub enum AnyStage {
    /// Signal sources.
    Ingress(IngressStage),
    /// Reference prices.
    Market(MarketStage),
    /// Sizing + RiskGuard.
    Risk(RiskStage),
    /// Order entry.
    Gateway(GatewayStage),
    /// Positions and exits.
    Position(PositionStage),
    /// Learning components.
    Learning(LearningStage),
    /// Kill switch, health, alerts.
    Control(ControlStage),
}

macro_rules! dispatch {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            AnyStage::Ingress($s) => $e,
            AnyStage::Market($s) => $e,
            AnyStage::Risk($s) => $e,
            AnyStage::Gateway($s) => $e,
            AnyStage::Position($s) => $e,
            AnyStage::Learning($s) => $e,
            AnyStage::Control($s) => $e,
        }
    };
}

impl Stage for AnyStage {
    #[inline]
    fn id(&self) -> StageId {
        dispatch!(self, s => s.id())
    }
    #[inline]
    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        dispatch!(self, s => s.on_event(ev, ctx))
    }
    #[inline]
    fn poll<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        dispatch!(self, s => s.poll(ctx))
    }
    fn next_wakeup_ns(&self) -> Option<u64> {
        dispatch!(self, s => s.next_wakeup_ns())
    }
    #[inline]
    fn source_state(&self) -> SourceState {
        dispatch!(self, s => s.source_state())
    }
    fn max_emits_per_call(&self) -> usize {
        dispatch!(self, s => s.max_emits_per_call())
    }
    #[inline]
    fn polls_when_backed_up(&self) -> bool {
        dispatch!(self, s => s.polls_when_backed_up())
    }
    #[inline]
    fn pending_work(&self) -> usize {
        dispatch!(self, s => s.pending_work())
    }
}

/// Who produces into an input ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFrom {
    /// Another stage.
    Stage(StageId),
    /// The in-process [`crate::SignalPublisher`].
    Publisher,
    /// The [`crate::OperatorHandle`].
    Operator,
}

/// Where signals come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SignalSource {
    /// As configured in `[ingress]` (synthetic or a file).
    Configured,
    /// Only the in-process publisher.
    Publisher,
}

/// Startup failures.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A stage could not be built.
    #[error("{stage}: {message}")]
    Stage {
        /// which stage
        stage: &'static str,
        /// why
        message: String,
    },
    /// The catalog could not be built.
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    /// A configured core does not exist.
    #[error("thread {thread:?} is pinned to core {core}, but this machine has cores {available:?}")]
    MissingCore {
        /// thread name
        thread: String,
        /// configured core
        core: usize,
        /// cores that exist for this process
        available: Vec<usize>,
    },
    /// An OS error (spawning threads, opening files).
    #[error("{what}: {source}")]
    Io {
        /// what was being done
        what: String,
        /// the error
        source: std::io::Error,
    },
}

fn stage_err<E: std::fmt::Display>(stage: &'static str) -> impl FnOnce(E) -> RuntimeError {
    move |e| RuntimeError::Stage { stage, message: e.to_string() }
}

/// The final state of a stage after the run.
#[derive(Debug)]
pub struct StageResult {
    /// Which stage.
    pub id: StageId,
    /// The stage itself (its counters and learned state).
    pub stage: AnyStage,
    /// Its latency histograms (empty in inline runs).
    pub latency: Option<LatencyRecorder>,
    /// What it emitted.
    pub tally: Tally,
    /// Events it consumed.
    pub consumed: u64,
}

impl StageResult {
    fn from_slot<T: transport::Transport>(slot: threaded::Slot<T>) -> StageResult {
        StageResult {
            id: slot.stage.id(),
            stage: slot.stage,
            latency: Some(slot.out.latency),
            tally: slot.out.tally,
            consumed: slot.consumed,
        }
    }
}

/// Builds every stage, in [`StageId`] order.
pub fn build_stages(
    cfg: &Config,
    catalog: &Arc<Catalog>,
    kill: &Arc<KillSwitch>,
    source: &SignalSource,
    inline: bool,
) -> Result<Vec<AnyStage>, RuntimeError> {
    let ingress_source = match source {
        SignalSource::Publisher => tradeflow_ingress::SourceKind::PublisherOnly,
        SignalSource::Configured => {
            tradeflow_ingress::SourceKind::from_config(&cfg.ingress, inline).map_err(stage_err("ingress"))?
        }
    };
    let ingress = IngressStage::try_new(&cfg.ingress, catalog.clone(), ingress_source).map_err(stage_err("ingress"))?;
    announce_listen_addr(cfg, &ingress);
    Ok(vec![
        AnyStage::Ingress(ingress),
        AnyStage::Market(
            MarketStage::try_new(&cfg.market, catalog.clone(), cfg.price_paths()).map_err(stage_err("market"))?,
        ),
        AnyStage::Risk(RiskStage::try_new(&cfg.risk, catalog.clone(), kill.clone()).map_err(stage_err("risk"))?),
        AnyStage::Gateway(
            GatewayStage::try_new(&cfg.gateway, catalog.clone(), kill.clone()).map_err(stage_err("gateway"))?,
        ),
        AnyStage::Position(PositionStage::try_new(&cfg.position, catalog.clone()).map_err(stage_err("position"))?),
        AnyStage::Learning(LearningStage::try_new(&cfg.learning, catalog.clone()).map_err(stage_err("learning"))?),
        AnyStage::Control(
            ControlStage::try_new(&cfg.control, catalog.clone(), kill.clone()).map_err(stage_err("control"))?,
        ),
    ])
}

/// A TCP or WebSocket signal source asked for port 0 (any free port): the port the OS chose is
/// said on stderr, or no client could find it. Logged at info in every case.
fn announce_listen_addr(cfg: &Config, ingress: &IngressStage) {
    let Some(addr) = ingress.listen_addr() else { return };
    let (kind, asked) = match cfg.ingress.source {
        tradeflow_ingress::IngressSource::Ws => ("websocket", &cfg.ingress.ws.listen),
        _ => ("tcp", &cfg.ingress.tcp.listen),
    };
    tracing::info!(%addr, "{kind} signal source listening");
    if asked.ends_with(":0") {
        eprintln!("tradeflow: {kind} signal source listening on {addr}");
    }
}

/// The core ids this process may run on (read once, before any thread is pinned).
///
/// `core_affinity` reports the *calling thread's* mask, so the first answer is kept for the
/// life of the process: a thread pinned later (a benchmark floor, an embedding application)
/// does not shrink what later pipelines may use.
pub fn core_ids() -> Vec<usize> {
    static CORES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect()).clone()
}
