//! [`MarketStage`]: publishes a reference price per instrument on a fixed tick schedule.

use crate::binance::{BinanceFeed, FeedStats, MAX_UPDATES_PER_POLL};
use crate::config::{MarketConfig, PathParams, PriceSourceKind};
use crate::synthetic::SyntheticMarket;
use crate::MarketError;
use std::sync::Arc;
use tradeflow_core::{
    Catalog, Ctx, Event, Header, InstrumentIdx, MarketTick, Phase, Price, SourceState, Stage, StageId, TraceId,
};

/// Whole ticks (every instrument priced) one `poll` may emit.
pub const MAX_TICKS_PER_POLL: usize = 4;

/// Where prices come from.
#[derive(Debug)]
enum PriceSource {
    Synthetic(SyntheticMarket),
    Binance(Box<BinanceFeed>),
}

/// The market stage.
#[derive(Debug)]
pub struct MarketStage {
    source: PriceSource,
    interval_ns: u64,
    start_ns: Option<u64>,
    next_tick: u64,
    seq: u64,
    instruments: usize,
}

impl MarketStage {
    /// Validates the config and one [`PathParams`] per catalog instrument.
    pub fn try_new(cfg: &MarketConfig, catalog: Arc<Catalog>, paths: Vec<PathParams>) -> Result<Self, MarketError> {
        let mut problems = cfg.validate("market");
        let specs = catalog.instruments();
        if paths.len() != specs.len() {
            problems.push(format!(
                "market paths: {} path parameter sets for {} catalog instruments",
                paths.len(),
                specs.len()
            ));
        }
        problems.extend(paths.iter().enumerate().flat_map(|(i, p)| p.validate(i)));
        if !problems.is_empty() {
            return Err(MarketError::Config(problems));
        }
        let source = match cfg.source {
            PriceSourceKind::Synthetic => PriceSource::Synthetic(SyntheticMarket::new(cfg, specs, &paths)),
            PriceSourceKind::Binance => PriceSource::Binance(Box::new(
                BinanceFeed::new(&cfg.binance, &catalog).map_err(|e| MarketError::Config(vec![e]))?,
            )),
        };
        Ok(MarketStage {
            source,
            interval_ns: cfg.tick_interval_us.saturating_mul(1000),
            start_ns: None,
            next_tick: 0,
            seq: 0,
            instruments: specs.len(),
        })
    }

    /// The latest published price of `idx` (the initial price before the first tick).
    pub fn price(&self, idx: InstrumentIdx) -> Option<Price> {
        match &self.source {
            PriceSource::Synthetic(m) => m.price(idx.get()),
            PriceSource::Binance(f) => f.price(idx.get()),
        }
    }

    /// The stream feed's counters (`None` for synthetic prices).
    pub fn feed_stats(&self) -> Option<FeedStats> {
        match &self.source {
            PriceSource::Binance(f) => Some(f.stats()),
            PriceSource::Synthetic(_) => None,
        }
    }

    /// Ticks published so far (each prices every instrument).
    pub fn ticks(&self) -> u64 {
        self.next_tick
    }

    fn tick_time(&self, start: u64, k: u64) -> u64 {
        start.saturating_add(k.saturating_mul(self.interval_ns))
    }

    /// Publishes tick `next_tick` (scheduled at `at_ns`) for every instrument.
    fn publish_tick<C: Ctx>(&mut self, at_ns: u64, ctx: &mut C) {
        let PriceSource::Synthetic(m) = &mut self.source else { return };
        if self.next_tick > 0 {
            m.step();
        }
        for i in 0..m.len() {
            let Some(price) = m.price(i) else { continue };
            self.seq += 1;
            let header = Header::origin(self.seq, TraceId::EMPTY, InstrumentIdx(i as u32), at_ns);
            ctx.emit(Event::MarketTick(MarketTick { header, price }));
        }
        self.next_tick += 1;
    }
}

impl Stage for MarketStage {
    fn id(&self) -> StageId {
        StageId::Market
    }

    /// The market consumes nothing.
    fn on_event<C: Ctx>(&mut self, _ev: &Event, _ctx: &mut C) {}

    /// Publishes every due tick (at most [`MAX_TICKS_PER_POLL`]; the rest on the next call),
    /// each stamped with its scheduled time. Tick 0 is the initial prices, at the first poll.
    fn poll<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        if ctx.phase() != Phase::Running || self.instruments == 0 {
            return 0;
        }
        let now = ctx.now_ns();
        if let PriceSource::Binance(feed) = &mut self.source {
            let seq = &mut self.seq;
            return feed.poll(std::time::Instant::now(), &mut |i, price| {
                *seq += 1;
                let header = Header::origin(*seq, TraceId::EMPTY, InstrumentIdx(i as u32), now);
                ctx.emit(Event::MarketTick(MarketTick { header, price }));
            });
        }
        let start = *self.start_ns.get_or_insert(now);
        let mut ticks = 0;
        while ticks < MAX_TICKS_PER_POLL {
            let at = self.tick_time(start, self.next_tick);
            if at > now {
                break;
            }
            self.publish_tick(at, ctx);
            ticks += 1;
        }
        ticks * self.instruments
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        if self.instruments == 0 || matches!(self.source, PriceSource::Binance(_)) {
            return None;
        }
        Some(self.start_ns.map_or(0, |s| self.tick_time(s, self.next_tick)))
    }

    /// Not a source: the market ticks while the run is Running, stops when it drains, and never
    /// keeps a run alive.
    fn source_state(&self) -> SourceState {
        SourceState::NotASource
    }

    fn max_emits_per_call(&self) -> usize {
        if matches!(self.source, PriceSource::Binance(_)) {
            return MAX_UPDATES_PER_POLL;
        }
        (MAX_TICKS_PER_POLL * self.instruments).max(1)
    }
}
