//! Shared helpers for the learning stage's tests.
#![allow(dead_code)] // each test binary uses a subset

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::Arc;
use tradeflow_core::{
    Catalog, Event, ExitReason, Header, InstrumentIdx, Leverage, MarketCondition, ModelIdx, PositionClosed, Price,
    Side, TraceId, Usd,
};

/// A seeded source of uniform numbers.
pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// True with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// A catalog with one instrument and the given models.
pub fn catalog(models: &[&str]) -> Arc<Catalog> {
    let spec = tradeflow_core::InstrumentSpec::with_unit_filters("BTCUSDT");
    Arc::new(
        Catalog::try_new(vec![spec], models.iter().map(|m| (*m).to_owned()).collect(), vec!["NORMAL".into()])
            .unwrap_or_default(),
    )
}

/// A `position.closed` outcome.
pub fn closed(seq: u64, model: u16, pnl_pct: f64, confidence: f64, cond: MarketCondition) -> Event {
    let trace = TraceId::try_new(&format!("pos-{seq:06}")).unwrap_or_default();
    Event::PositionClosed(PositionClosed {
        header: Header::origin(seq, trace, InstrumentIdx(0), 1_000 + seq),
        entry_price: Price(100),
        exit_price: Price(100),
        size_usd: Usd(1000),
        pnl_usd: Usd((pnl_pct * 10.0) as i64),
        pnl_pct: pnl_pct as f32,
        max_drawdown_pct: 0.0,
        entry_confidence: confidence as f32,
        duration_ms: 1000,
        leverage: Leverage(10),
        model: ModelIdx(model),
        side: Side::Buy,
        exit_reason: if pnl_pct > 0.0 { ExitReason::TakeProfit } else { ExitReason::StopLoss },
        market_condition: cond,
    })
}

/// Feeds one event and returns what the stage emitted, checking the emit bound and that every
/// output carries the cause's trace.
pub fn feed(stage: &mut tradeflow_learning::LearningStage, ev: &Event) -> Vec<Event> {
    use tradeflow_core::Stage;
    let mut ctx = tradeflow_core::RecordingCtx::new(5_000_000);
    stage.on_event(ev, &mut ctx);
    let out = ctx.take();
    assert!(out.len() <= stage.max_emits_per_call(), "{} events > bound", out.len());
    for e in &out {
        assert_eq!(e.header().trace_id, ev.header().trace_id);
        assert_eq!(e.header().seq, ev.header().seq);
        assert_eq!(e.header().ts_origin_ns, ev.header().ts_origin_ns);
    }
    out
}

/// The policy updates of `kind` in `events`, as (model, value).
pub fn policies(events: &[Event], kind: tradeflow_core::PolicyKind) -> Vec<(u16, f64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PolicyUpdate(p) if p.kind == kind => Some((p.model.0, p.value)),
            _ => None,
        })
        .collect()
}

/// A config with every component disabled.
pub fn all_off() -> tradeflow_learning::LearningConfig {
    let mut c = tradeflow_learning::LearningConfig::default();
    c.sizing.enabled = false;
    c.meta.enabled = false;
    c.supervisor.enabled = false;
    c.drift.enabled = false;
    c.clm.enabled = false;
    c
}
