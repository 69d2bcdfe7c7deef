//! The seeded synthetic signal generator.
//!
//! Each signal draws, in a fixed order, its instrument, model, side, confidence, timeframe and
//! trace id from one Xoshiro256++ stream, so a seed fixes the whole sequence.

use crate::config::SyntheticConfig;
use crate::decode::DecodedSignal;
use crate::rng;
use rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use tradeflow_core::{Catalog, InstrumentIdx, ModelIdx, Side, Timeframe, TraceId};

/// Trace ids remembered for `duplicate_ratio` reuse.
const RECENT_TRACES: usize = 256;

/// Draws synthetic signals.
#[derive(Debug)]
pub struct SyntheticGenerator {
    rng: Xoshiro256PlusPlus,
    instruments: Vec<InstrumentIdx>,
    models: Vec<ModelIdx>,
    timeframes: Vec<Timeframe>,
    confidence_min: f64,
    confidence_span: f64,
    buy_ratio: f64,
    duplicate_ratio: f64,
    remaining: Option<u64>,
    recent: Box<[TraceId]>,
    recent_len: usize,
    recent_next: usize,
}

impl SyntheticGenerator {
    /// A generator over the configured (or all catalog) symbols and models. Names that are
    /// not in the catalog are skipped (config validation reports them).
    pub fn new(cfg: &SyntheticConfig, catalog: &Catalog) -> SyntheticGenerator {
        let instruments = if cfg.symbols.is_empty() {
            (0..catalog.instruments().len()).map(|i| InstrumentIdx(i as u32)).collect()
        } else {
            cfg.symbols.iter().filter_map(|s| catalog.find_symbol(s.as_bytes())).collect()
        };
        let models = if cfg.models.is_empty() {
            (0..catalog.models().len()).map(|i| ModelIdx(i as u16)).collect()
        } else {
            cfg.models.iter().filter_map(|m| catalog.find_model(m.as_bytes())).collect()
        };
        SyntheticGenerator {
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            instruments,
            models,
            timeframes: cfg.parsed_timeframes(),
            confidence_min: cfg.confidence_min,
            confidence_span: (cfg.confidence_max - cfg.confidence_min).max(0.0),
            buy_ratio: cfg.buy_ratio,
            duplicate_ratio: cfg.duplicate_ratio,
            remaining: (cfg.count > 0).then_some(cfg.count),
            recent: vec![TraceId::EMPTY; RECENT_TRACES].into_boxed_slice(),
            recent_len: 0,
            recent_next: 0,
        }
    }

    /// Whether there is nothing to draw from (no instruments, models or timeframes).
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty() || self.models.is_empty() || self.timeframes.is_empty()
    }

    /// Whether every configured signal was drawn.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0) || self.is_empty()
    }

    /// Draws the next signal (with trace id; timestamp left to the stage), or `None` when done.
    pub fn next_signal(&mut self) -> Option<DecodedSignal> {
        if self.is_exhausted() {
            return None;
        }
        if let Some(r) = self.remaining.as_mut() {
            *r -= 1;
        }
        let rng = &mut self.rng;
        let instrument = self.instruments[rng::index(rng, self.instruments.len())];
        let model = self.models[rng::index(rng, self.models.len())];
        let side = if rng::unit_f64(rng) < self.buy_ratio { Side::Buy } else { Side::Sell };
        let confidence = (self.confidence_min + rng::unit_f64(rng) * self.confidence_span) as f32;
        let timeframe = self.timeframes[rng::index(rng, self.timeframes.len())];
        let trace_id = self.trace_id();
        Some(DecodedSignal {
            instrument,
            side,
            confidence,
            timeframe,
            model,
            trace_id: Some(trace_id),
            signal_ts_us: None,
        })
    }

    /// A fresh UUID v4, or (with probability `duplicate_ratio`) a recently used one.
    fn trace_id(&mut self) -> TraceId {
        let reuse = rng::unit_f64(&mut self.rng) < self.duplicate_ratio;
        if reuse && self.recent_len > 0 {
            return self.recent[rng::index(&mut self.rng, self.recent_len)];
        }
        let id = rng::uuid_v4(&mut self.rng);
        self.recent[self.recent_next] = id;
        self.recent_next = (self.recent_next + 1) % RECENT_TRACES;
        self.recent_len = (self.recent_len + 1).min(RECENT_TRACES);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeflow_core::InstrumentSpec;

    fn catalog() -> Catalog {
        let spec = InstrumentSpec::with_unit_filters;
        Catalog::try_new(vec![spec("A"), spec("B"), spec("C")], vec!["m1".into(), "m2".into()], vec![]).unwrap()
    }

    #[test]
    fn respects_count_subsets_and_ranges() {
        let cfg = SyntheticConfig {
            count: 500,
            symbols: vec!["B".into()],
            models: vec!["m2".into()],
            confidence_min: 0.6,
            confidence_max: 0.7,
            buy_ratio: 1.0,
            timeframes: vec!["4h".into()],
            ..Default::default()
        };
        let mut g = SyntheticGenerator::new(&cfg, &catalog());
        let mut n = 0;
        while let Some(s) = g.next_signal() {
            n += 1;
            assert_eq!(
                (s.instrument, s.model, s.side, s.timeframe),
                (InstrumentIdx(1), ModelIdx(1), Side::Buy, Timeframe::H4)
            );
            assert!((0.6..=0.7).contains(&s.confidence), "{}", s.confidence);
        }
        assert_eq!(n, 500);
        assert!(g.is_exhausted());
    }

    #[test]
    fn duplicate_ratio_reuses_trace_ids() {
        let count = |ratio: f64| {
            let cfg = SyntheticConfig { count: 2000, duplicate_ratio: ratio, ..Default::default() };
            let mut g = SyntheticGenerator::new(&cfg, &catalog());
            let mut ids = std::collections::HashSet::new();
            while let Some(s) = g.next_signal() {
                ids.insert(s.trace_id.unwrap());
            }
            ids.len()
        };
        assert_eq!(count(0.0), 2000);
        let unique = count(0.25);
        assert!((1300..1700).contains(&unique), "{unique}");
    }
}
