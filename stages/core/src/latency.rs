//! Per-stage latency histograms, preallocated at startup and merged only at report time.

use crate::event::{Event, EventKind};
use crate::ids::StageId;
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

/// The hop and end-to-end histograms of one stage, one pair per input kind it consumes.
#[derive(Debug)]
pub struct LatencyRecorder {
    stage: StageId,
    hop: Vec<Option<Histogram<u64>>>,
    e2e: Vec<Option<Histogram<u64>>>,
}

impl LatencyRecorder {
    /// Histograms for every kind `stage` consumes (allocated now, never resized).
    pub fn new(stage: StageId) -> LatencyRecorder {
        let mut hop = Vec::with_capacity(EventKind::COUNT);
        let mut e2e = Vec::with_capacity(EventKind::COUNT);
        for kind in EventKind::ALL {
            let consumed = kind.consumers().contains(&stage);
            hop.push(consumed.then(new_histogram));
            e2e.push((consumed && kind.is_signal_chain()).then(new_histogram));
        }
        LatencyRecorder { stage, hop, e2e }
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
        if let Some(Some(hist)) = self.hop.get_mut(k) {
            hist.saturating_record(now_ns.saturating_sub(h.ts_emit_ns).max(1));
        }
        if let Some(Some(hist)) = self.e2e.get_mut(k) {
            hist.saturating_record(now_ns.saturating_sub(h.ts_origin_ns).max(1));
        }
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
}
