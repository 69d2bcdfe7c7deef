//! Per-stage latency histograms, preallocated at startup and merged only at report time.

use crate::event::{emits, Event, EventKind};
use crate::ids::StageId;
use crate::stage::Mark;
use hdrhistogram::Histogram;

/// Highest latency a histogram holds (60 s); larger values are clamped.
pub const MAX_TRACKABLE_NS: u64 = 60_000_000_000;
/// Significant figures kept.
pub const SIGFIG: u8 = 3;

/// A new preallocated latency histogram (1 ns to 60 s, 3 significant figures).
#[allow(clippy::expect_used)] // the bounds are valid constants (covered by the unit tests)
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE_NS, SIGFIG).expect("valid histogram bounds")
}

/// The latency histograms of one stage: per input kind it consumes, the hop and the time since
/// the signal's origin; per signal-chain kind it emits, the time from origin to the emit; and
/// one per [`Mark`].
#[derive(Debug)]
pub struct LatencyRecorder {
    stage: StageId,
    hop: Vec<Option<Histogram<u64>>>,
    e2e: Vec<Option<Histogram<u64>>>,
    emitted: Vec<Option<Histogram<u64>>>,
    marks: Vec<Histogram<u64>>,
    record_from_ns: u64,
}

impl LatencyRecorder {
    /// Histograms for every kind `stage` consumes or emits (allocated now, never resized).
    pub fn new(stage: StageId) -> LatencyRecorder {
        LatencyRecorder::with_warmup(stage, 0)
    }

    /// Like [`LatencyRecorder::new`], ignoring events whose origin is before `record_from_ns`
    /// (a warm-up period on the run's clock).
    pub fn with_warmup(stage: StageId, record_from_ns: u64) -> LatencyRecorder {
        let mut hop = Vec::with_capacity(EventKind::COUNT);
        let mut e2e = Vec::with_capacity(EventKind::COUNT);
        let mut emitted = Vec::with_capacity(EventKind::COUNT);
        for kind in EventKind::ALL {
            let consumed = kind.consumers().contains(&stage);
            hop.push(consumed.then(new_histogram));
            e2e.push((consumed && kind.is_signal_chain()).then(new_histogram));
            emitted.push((emits(stage).contains(kind) && kind.is_signal_chain()).then(new_histogram));
        }
        let marks =
            if stage == StageId::Gateway { Mark::ALL.iter().map(|_| new_histogram()).collect() } else { Vec::new() };
        LatencyRecorder { stage, hop, e2e, emitted, marks, record_from_ns }
    }

    /// The stage recorded.
    pub fn stage(&self) -> StageId {
        self.stage
    }

    /// Records the hop (`now − ts_emit`) and, for signal-chain events, the latency since the
    /// signal's origin (`now − ts_origin`). Never allocates.
    #[inline]
    pub fn record(&mut self, ev: &Event, now_ns: u64) {
        let k = ev.kind().get();
        let h = ev.header();
        if h.ts_origin_ns < self.record_from_ns {
            return;
        }
        if let Some(Some(hist)) = self.hop.get_mut(k) {
            hist.saturating_record(now_ns.saturating_sub(h.ts_emit_ns).max(1));
        }
        if let Some(Some(hist)) = self.e2e.get_mut(k) {
            hist.saturating_record(now_ns.saturating_sub(h.ts_origin_ns).max(1));
        }
    }

    /// Records the time from the origin of `ev` to its emit at `now_ns` (signal-chain kinds).
    #[inline]
    pub fn record_emit(&mut self, ev: &Event, now_ns: u64) {
        let h = ev.header();
        if h.ts_origin_ns < self.record_from_ns {
            return;
        }
        if let Some(Some(hist)) = self.emitted.get_mut(ev.kind().get()) {
            hist.saturating_record(now_ns.saturating_sub(h.ts_origin_ns).max(1));
        }
    }

    /// Records a [`Mark`] for a chain that started at `origin_ns`.
    #[inline]
    pub fn record_mark(&mut self, mark: Mark, origin_ns: u64, now_ns: u64) {
        if origin_ns < self.record_from_ns {
            return;
        }
        if let Some(hist) = self.marks.get_mut(mark as usize) {
            hist.saturating_record(now_ns.saturating_sub(origin_ns).max(1));
        }
    }

    /// Origin → emit histogram for `kind`, if the stage emits it on a signal's chain.
    pub fn emitted(&self, kind: EventKind) -> Option<&Histogram<u64>> {
        self.emitted.get(kind.get()).and_then(Option::as_ref)
    }

    /// Histogram of a [`Mark`], if this stage records it.
    pub fn mark(&self, mark: Mark) -> Option<&Histogram<u64>> {
        self.marks.get(mark as usize)
    }

    /// Hop histogram for input `kind`, if the stage consumes it.
    pub fn hop(&self, kind: EventKind) -> Option<&Histogram<u64>> {
        self.hop.get(kind.get()).and_then(Option::as_ref)
    }

    /// End-to-end histogram for input `kind`, if tracked.
    pub fn e2e(&self, kind: EventKind) -> Option<&Histogram<u64>> {
        self.e2e.get(kind.get()).and_then(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Header, MarketTick};
    use crate::fixed::Price;

    #[test]
    fn records_hops_for_consumed_kinds_only() {
        let mut r = LatencyRecorder::new(StageId::Position);
        let ev = Event::MarketTick(MarketTick {
            header: Header { ts_emit_ns: 100, ts_origin_ns: 50, ..Header::default() },
            price: Price(1),
        });
        r.record(&ev, 350);
        let h = r.hop(EventKind::MarketTick).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h.max(), 250);
        assert!(r.e2e(EventKind::MarketTick).is_none());
        assert!(r.hop(EventKind::SignalGenerated).is_none());
    }

    #[test]
    fn warmup_skips_early_origins_and_emits_and_marks_are_recorded() {
        let mut r = LatencyRecorder::with_warmup(StageId::Gateway, 1_000);
        let early =
            Event::MarketTick(MarketTick { header: Header { ts_origin_ns: 10, ..Header::default() }, price: Price(1) });
        r.record(&early, 2_000);
        r.record_mark(Mark::OrderToVenue, 10, 2_000);
        assert!(r.mark(Mark::OrderToVenue).unwrap().is_empty());
        r.record_mark(Mark::OrderToVenue, 1_500, 2_000);
        assert_eq!(r.mark(Mark::OrderToVenue).unwrap().max(), 500);
        assert!(r.emitted(EventKind::TradeExecuted).is_some());
        assert!(r.emitted(EventKind::PositionOpened).is_none());
        assert!(new_histogram().is_empty());
    }
}
