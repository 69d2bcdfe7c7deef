//! Shared test harness: a risk stage on a two-instrument, two-model catalog, driven through
//! `RecordingCtx`.
#![allow(dead_code)] // each test binary uses a different part of the harness
#![allow(clippy::unwrap_used, clippy::expect_used)] // harness set-up: failing loudly is the point

use std::sync::Arc;
use tradeflow_core::{
    Catalog, DenialCode, Event, ExecutionRequested, ExposureUpdate, Header, InstrumentIdx, InstrumentSpec, KillSwitch,
    MarketTick, ModelIdx, PolicyKind, PolicyUpdate, Price, ProfileIdx, Qty, RecordingCtx, Side, SignalDenied,
    SignalGenerated, Stage, Timeframe, TraceId, Usd,
};
use tradeflow_risk::{profile_names, RiskConfig, RiskStage};

pub const BTC: u32 = 0;
pub const ETH: u32 = 1;
pub const BTC_PRICE: f64 = 40_000.0;
pub const ETH_PRICE: f64 = 2_500.0;
/// Start of the clock (ns) in every harness.
pub const T0: u64 = 1_000_000_000_000;

/// Opens the position-count and exposure limits (`max_open` positions in total and per symbol,
/// `exposure_usd` per symbol and in total) and turns the order-rate throttle off, so a test
/// exercises one check without the others interfering.
pub fn open_limits(cfg: &mut RiskConfig, max_open: u32, exposure_usd: f64) {
    let g = &mut cfg.guard;
    g.max_open_positions = max_open;
    g.max_positions_per_symbol = max_open;
    g.max_exposure_per_symbol_usd = exposure_usd;
    g.max_exposure_total_usd = exposure_usd;
    g.max_orders_per_sec = 0.0;
}

pub fn usd(v: f64) -> Usd {
    Usd::from_f64(v).unwrap()
}

pub fn spec(symbol: &str, tick: f64, step: f64, min_qty: f64, min_notional: f64) -> InstrumentSpec {
    InstrumentSpec {
        symbol: symbol.into(),
        tick_size: Price::from_f64(tick).unwrap(),
        step_size: Qty::from_f64(step).unwrap(),
        min_qty: Qty::from_f64(min_qty).unwrap(),
        min_notional: usd(min_notional),
    }
}

pub fn default_instruments() -> Vec<InstrumentSpec> {
    vec![spec("BTCUSDT", 0.1, 0.001, 0.001, 5.0), spec("ETHUSDT", 0.01, 0.001, 0.001, 5.0)]
}

pub fn catalog(cfg: &RiskConfig, instruments: Vec<InstrumentSpec>) -> Arc<Catalog> {
    Arc::new(Catalog::try_new(instruments, vec!["m0".into(), "m1".into()], profile_names(cfg)).unwrap())
}

/// The result of one signal: exactly one of the two.
#[derive(Debug)]
pub enum Outcome {
    Approved(ExecutionRequested),
    Denied(SignalDenied),
}

impl Outcome {
    #[track_caller]
    pub fn approved(self) -> ExecutionRequested {
        match self {
            Outcome::Approved(e) => e,
            Outcome::Denied(d) => panic!("expected approval, got {} ({} vs {})", d.code, d.observed, d.limit),
        }
    }

    #[track_caller]
    pub fn denied(self) -> SignalDenied {
        match self {
            Outcome::Denied(d) => d,
            Outcome::Approved(e) => panic!("expected denial, got approval {e:?}"),
        }
    }

    pub fn code(&self) -> Option<DenialCode> {
        match self {
            Outcome::Denied(d) => Some(d.code),
            Outcome::Approved(_) => None,
        }
    }
}

/// A signal to send; `Default` is a fresh, confident BTC buy from model m0.
#[derive(Clone, Debug)]
pub struct Sig {
    pub trace: Option<String>,
    pub seq: Option<u64>,
    pub instrument: u32,
    pub model: u16,
    pub confidence: f32,
    pub side: Side,
    pub timeframe: Timeframe,
    /// How old the signal's own timestamp is, ms (negative = in the future).
    pub age_ms: i64,
}

impl Default for Sig {
    fn default() -> Self {
        Sig {
            trace: None,
            seq: None,
            instrument: BTC,
            model: 0,
            confidence: 0.8,
            side: Side::Buy,
            timeframe: Timeframe::H1,
            age_ms: 0,
        }
    }
}

pub struct Harness {
    pub stage: RiskStage,
    pub ctx: RecordingCtx,
    pub kill: Arc<KillSwitch>,
    pub catalog: Arc<Catalog>,
    next_seq: u64,
}

impl Harness {
    /// A stage with `cfg`, the default instruments, and fresh BTC / ETH prices.
    pub fn new(cfg: RiskConfig) -> Harness {
        Harness::with_instruments(cfg, default_instruments())
    }

    /// A stage with `cfg` and `instruments`; prices BTC_PRICE / ETH_PRICE ticked for the first two.
    pub fn with_instruments(cfg: RiskConfig, instruments: Vec<InstrumentSpec>) -> Harness {
        let mut h = Harness::bare(cfg, instruments);
        h.tick(BTC, BTC_PRICE);
        h.tick(ETH, ETH_PRICE);
        h
    }

    /// A stage without any price.
    pub fn bare(cfg: RiskConfig, instruments: Vec<InstrumentSpec>) -> Harness {
        let n = instruments.len();
        let catalog = catalog(&cfg, instruments);
        let kill = Arc::new(KillSwitch::new());
        let stage = RiskStage::try_new(&cfg, catalog.clone(), kill.clone()).unwrap();
        assert!(n > 0);
        Harness { stage, ctx: RecordingCtx::new(T0), kill, catalog, next_seq: 1 }
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.ctx.now_ns += ms * 1_000_000;
    }

    pub fn feed(&mut self, ev: Event) {
        self.stage.on_event(&ev, &mut self.ctx);
    }

    pub fn tick(&mut self, instrument: u32, price: f64) {
        let header = Header::origin(0, TraceId::EMPTY, InstrumentIdx(instrument), self.ctx.now_ns);
        self.feed(Event::MarketTick(MarketTick { header, price: Price::from_f64(price).unwrap() }));
        assert!(self.ctx.take().is_empty(), "a tick emits nothing");
    }

    pub fn build(&mut self, s: &Sig) -> SignalGenerated {
        let seq = s.seq.unwrap_or(self.next_seq);
        self.next_seq = self.next_seq.max(seq) + 1;
        let trace = s.trace.clone().unwrap_or_else(|| format!("sig-{seq}"));
        let header =
            Header::origin(seq, TraceId::try_new(&trace).unwrap(), InstrumentIdx(s.instrument), self.ctx.now_ns);
        let now_us = {
            use tradeflow_core::Ctx;
            self.ctx.epoch_ns() / 1000
        };
        SignalGenerated {
            header,
            signal_ts_us: now_us - s.age_ms * 1000,
            confidence: s.confidence,
            model: ModelIdx(s.model),
            side: s.side,
            timeframe: s.timeframe,
        }
    }

    /// Sends a signal and returns its one outcome (checks the derived header).
    #[track_caller]
    pub fn send(&mut self, s: Sig) -> Outcome {
        let sig = self.build(&s);
        self.send_raw(&sig)
    }

    #[track_caller]
    pub fn send_raw(&mut self, sig: &SignalGenerated) -> Outcome {
        self.feed(Event::SignalGenerated(*sig));
        let out = self.ctx.take();
        assert_eq!(out.len(), 1, "one output per signal: {out:?}");
        let h = out[0].header();
        assert_eq!((h.seq, h.trace_id, h.instrument), (sig.header.seq, sig.header.trace_id, sig.header.instrument));
        assert_eq!(h.ts_origin_ns, sig.header.ts_origin_ns);
        match out[0] {
            Event::ExecutionRequested(e) => Outcome::Approved(e),
            Event::SignalDenied(d) => Outcome::Denied(d),
            other => panic!("unexpected output {other:?}"),
        }
    }

    /// Sends the default signal.
    #[track_caller]
    pub fn send_default(&mut self) -> Outcome {
        self.send(Sig::default())
    }

    pub fn release(&mut self, seq: u64, released: f64, pnl: f64, closed: bool) {
        let header = Header::origin(seq, TraceId::EMPTY, InstrumentIdx(BTC), self.ctx.now_ns);
        let u = ExposureUpdate { header, released_usd: usd(released), realized_pnl_usd: usd(pnl), closed };
        self.feed(Event::ExposureUpdate(u));
        assert!(self.ctx.take().is_empty(), "an exposure update emits nothing");
    }

    pub fn policy(&mut self, kind: PolicyKind, model: u16, value: f64, profile: u8) {
        let header = Header::origin(0, TraceId::EMPTY, InstrumentIdx::NONE, self.ctx.now_ns);
        let u = PolicyUpdate { header, value, model: ModelIdx(model), kind, profile: ProfileIdx(profile) };
        self.feed(Event::PolicyUpdate(u));
        assert!(self.ctx.take().is_empty(), "a policy update emits nothing");
    }
}
