//! Fixtures shared by the criterion micro-benchmarks: stages built from the embedded default
//! config the way `runtime::build_stages` builds them, a [`RecordingCtx`] at a fixed time, and
//! real events of one signal's chain (emitted by the stages themselves, not written by hand).

// Each bench target uses its own part of these fixtures.
#![allow(dead_code)]

use std::sync::Arc;
use tradeflow::core::{
    Catalog, ErrorCode, Event, EventKind, ExposureUpdate, Header, InstrumentIdx, KillSwitch, MarketTick, ModelIdx,
    Price, RecordingCtx, Side, SignalGenerated, Stage, StageId, SystemEventError, Timeframe, TraceId, Usd,
};
use tradeflow::Config;
use tradeflow_control::ControlStage;
use tradeflow_gateway::GatewayStage;
use tradeflow_ingress::{IngressStage, SourceKind};
use tradeflow_learning::LearningStage;
use tradeflow_position::PositionStage;
use tradeflow_risk::RiskStage;

/// `now_ns` of every [`RecordingCtx`] (1 s into the run).
pub const NOW_NS: u64 = 1_000_000_000;

/// The reference `signal.generated` of EVENT_FLOW_V1 on one line, as Python's `json.dumps`
/// sends it (175 bytes, no newline).
pub const REFERENCE_SIGNAL: &[u8] = br#"{"symbol": "BTCUSDT", "side": "BUY", "confidence": 0.85, "timeframe": "1h", "model_version": "ensemble_v2", "trace_id": "abc-123", "timestamp": 1733155200.0, "metadata": {}}"#;

/// A context at [`NOW_NS`].
pub fn new_ctx() -> RecordingCtx {
    RecordingCtx::new(NOW_NS)
}

/// A config, its catalog and one kill switch shared by the stages built from it.
#[derive(Debug)]
pub struct Fixture {
    /// The config (embedded default unless built otherwise).
    pub cfg: Config,
    /// Its catalog.
    pub catalog: Arc<Catalog>,
    /// The kill switch (ACTIVE).
    pub kill: Arc<KillSwitch>,
}

impl Fixture {
    /// The embedded default config with risk's order-rate bucket off, so that a stream of
    /// distinct signals stays on the approve path; every other limit as shipped.
    pub fn new() -> Fixture {
        let mut cfg = Config::embedded_default().expect("embedded default config");
        cfg.risk.guard.max_orders_per_sec = 0.0;
        Fixture::from_config(cfg)
    }

    /// A fixture over `cfg`.
    pub fn from_config(cfg: Config) -> Fixture {
        let catalog = Arc::new(cfg.catalog().expect("catalog"));
        Fixture { cfg, catalog, kill: Arc::new(KillSwitch::new()) }
    }

    /// BTCUSDT, the symbol of every fixture signal.
    pub fn btc(&self) -> InstrumentIdx {
        self.catalog.find_symbol(b"BTCUSDT").expect("BTCUSDT in the default catalog")
    }

    /// The configured initial price of `inst`.
    pub fn initial_price(&self, inst: InstrumentIdx) -> Price {
        Price::from_f64(self.cfg.instruments[inst.get()].initial_price).expect("initial price")
    }

    /// A reference price for `inst` observed at [`NOW_NS`].
    pub fn tick(&self, inst: InstrumentIdx, price: Price) -> Event {
        Event::MarketTick(MarketTick { header: Header::origin(0, TraceId::EMPTY, inst, NOW_NS), price })
    }

    /// Risk, with a fresh reference price for every instrument.
    pub fn risk(&self) -> RiskStage {
        let mut risk = RiskStage::try_new(&self.cfg.risk, self.catalog.clone(), self.kill.clone()).expect("risk");
        let mut ctx = new_ctx();
        for i in 0..self.catalog.instruments().len() {
            let inst = InstrumentIdx(i as u32);
            risk.on_event(&self.tick(inst, self.initial_price(inst)), &mut ctx);
        }
        risk
    }

    /// The gateway on the sim venue.
    pub fn gateway(&self) -> GatewayStage {
        GatewayStage::try_new(&self.cfg.gateway, self.catalog.clone(), self.kill.clone()).expect("gateway")
    }

    /// Position, empty.
    pub fn position(&self) -> PositionStage {
        PositionStage::try_new(&self.cfg.position, self.catalog.clone()).expect("position")
    }

    /// The learning components.
    pub fn learning(&self) -> LearningStage {
        LearningStage::try_new(&self.cfg.learning, self.catalog.clone()).expect("learning")
    }

    /// Control.
    pub fn control(&self) -> ControlStage {
        ControlStage::try_new(&self.cfg.control, self.catalog.clone(), self.kill.clone()).expect("control")
    }

    /// Ingress over `source`.
    pub fn ingress(&self, source: SourceKind) -> IngressStage {
        IngressStage::try_new(&self.cfg.ingress, self.catalog.clone(), source).expect("ingress")
    }

    /// A BUY signal on BTCUSDT, confidence 0.85, timestamped now: seq `n` and a trace id
    /// derived from `n` (distinct for distinct `n` below 2^48).
    pub fn signal(&self, n: u64) -> Event {
        let mut random = [0u8; 16];
        random[..6].copy_from_slice(&n.to_le_bytes()[..6]);
        let wall = new_ctx().wall_offset_ns;
        Event::SignalGenerated(SignalGenerated {
            header: Header::origin(n, TraceId::uuid_v4(random), self.btc(), NOW_NS),
            signal_ts_us: (NOW_NS as i64 + wall) / 1000,
            confidence: 0.85,
            model: self.catalog.find_model(b"ensemble_v2").unwrap_or(ModelIdx(0)),
            side: Side::Buy,
            timeframe: Timeframe::H1,
        })
    }

    /// Position's notice to risk that the entry of signal `seq` never filled: releases its
    /// reservation without PnL.
    pub fn release(&self, seq: u64) -> Event {
        Event::ExposureUpdate(ExposureUpdate {
            header: Header::origin(seq, TraceId::EMPTY, self.btc(), NOW_NS),
            released_usd: Usd::ZERO,
            realized_pnl_usd: Usd::ZERO,
            closed: false,
        })
    }

    /// The events of one signal's chain, each emitted by the stage that owns it: signal →
    /// risk → gateway → position (opened), then a price 10 % up closes it (take profit) →
    /// gateway → position (closed).
    pub fn chain(&self) -> Chain {
        let (mut risk, mut gateway, mut position) = (self.risk(), self.gateway(), self.position());
        let mut ctx = new_ctx();
        let signal = self.signal(1);
        let request = step(&mut risk, &signal, &mut ctx, EventKind::ExecutionRequested);
        let entry_fill = step(&mut gateway, &request, &mut ctx, EventKind::TradeExecuted);
        step(&mut position, &entry_fill, &mut ctx, EventKind::PositionOpened);
        let up = self.initial_price(self.btc()).offset_pct(10.0);
        let exit = step(&mut position, &self.tick(self.btc(), up), &mut ctx, EventKind::ExitRequest);
        let exit_fill = step(&mut gateway, &exit, &mut ctx, EventKind::TradeExitExecuted);
        let closed = step(&mut position, &exit_fill, &mut ctx, EventKind::PositionClosed);
        let header = Header::origin(1, TraceId::EMPTY, InstrumentIdx::NONE, NOW_NS);
        let raw = br#"{"symbol": x}"#;
        let error = SystemEventError::new(header, ErrorCode::JsonSyntax, StageId::Ingress, signal.kind(), raw, 12);
        Chain { signal, request, entry_fill, closed, error: Event::SystemEventError(error) }
    }

    /// Position holding `n` open BTCUSDT positions (opened through risk and the gateway).
    pub fn position_with_open(&self, n: u64) -> PositionStage {
        let (mut risk, mut gateway, mut position) = (self.risk(), self.gateway(), self.position());
        let mut ctx = new_ctx();
        for i in 1..=n {
            let request = step(&mut risk, &self.signal(i), &mut ctx, EventKind::ExecutionRequested);
            let fill = step(&mut gateway, &request, &mut ctx, EventKind::TradeExecuted);
            step(&mut position, &fill, &mut ctx, EventKind::PositionOpened);
        }
        position
    }
}

/// One signal's chain of events (see [`Fixture::chain`]).
#[derive(Debug, Clone, Copy)]
pub struct Chain {
    /// `signal.generated`.
    pub signal: Event,
    /// `trade.execution_requested`.
    pub request: Event,
    /// `trade.executed` (entry).
    pub entry_fill: Event,
    /// `position.closed` (take profit).
    pub closed: Event,
    /// A recoverable `system.event_error` from ingress (JSON syntax).
    pub error: Event,
}

/// Hands `ev` to `stage` and returns the first event of `kind` it emitted.
pub fn step<S: Stage>(stage: &mut S, ev: &Event, ctx: &mut RecordingCtx, kind: EventKind) -> Event {
    ctx.emitted.clear();
    stage.on_event(ev, ctx);
    let out = ctx.emitted.iter().find(|e| e.kind() == kind).copied();
    out.unwrap_or_else(|| panic!("{:?} emitted no {}: {:?}", stage.id(), kind.name(), ctx.emitted))
}

/// The cores of this process, read once before anything is pinned (DESIGN §5): the first two
/// when there are two, else none.
pub fn two_cores() -> Option<(usize, usize)> {
    let ids = core_affinity::get_core_ids().unwrap_or_default();
    match ids.as_slice() {
        [a, b, ..] => Some((a.id, b.id)),
        _ => None,
    }
}
