//! A stage's outputs in the threaded runtime: its producer ends of the trading rings (routed by
//! event kind), its copy ring, and a FIFO overflow for the moments a trading ring is full.
//!
//! Trading events are never dropped: when a ring is full the event waits in the overflow queue
//! (preallocated; it only grows past its capacity under sustained backpressure, which is counted
//! and raises `risk.alert`). Copies are dropped and counted when the copy ring is full (or, with
//! `copy_policy = "wait"`, the producer waits for room).
//!
//! Generic over the [`Transport`] of the trading rings; the copy ring is always rtrb.

use super::tally::Tally;
use super::transport::{RingTx, Transport};
use crate::config::CopyPolicy;
use std::collections::VecDeque;
use tradeflow_core::*;

/// One trading ring this stage produces into.
#[derive(Debug)]
pub struct RingOut<P> {
    /// The producer end.
    pub producer: P,
    /// Events for this ring waiting in the overflow queue (keeps per-ring FIFO order).
    pub pending: usize,
}

/// Routes of one event kind: indices into `rings` (at most one ring per consumer stage).
#[derive(Clone, Copy, Debug, Default)]
struct Route {
    rings: [u8; 4],
    len: u8,
}

/// Where a stage's emitted events go.
#[derive(Debug)]
pub struct Outbox<T: Transport> {
    stage: StageId,
    rings: Vec<RingOut<T::Tx>>,
    route: [Route; EventKind::COUNT],
    copy: Option<rtrb::Producer<Event>>,
    copy_policy: CopyPolicy,
    overflow: VecDeque<(u8, Event)>,
    overflow_since_ns: Option<u64>,
    backpressure_alert_ns: u64,
    alert_raised: bool,
    alert_seq: u64,
    clock: MonoClock,
    /// Latency histograms of this stage (inputs, emits, marks).
    pub latency: LatencyRecorder,
    /// Exact counts of what this stage emitted.
    pub tally: Tally,
    /// Events pushed into trading rings (for drain detection).
    pub pushed: u64,
}

impl<T: Transport> Outbox<T> {
    /// An outbox with no rings yet.
    pub fn new(
        stage: StageId,
        clock: MonoClock,
        copy_policy: CopyPolicy,
        overflow_capacity: usize,
        backpressure_alert_ms: u64,
        latency: LatencyRecorder,
    ) -> Outbox<T> {
        Outbox {
            stage,
            rings: Vec::new(),
            route: [Route::default(); EventKind::COUNT],
            copy: None,
            copy_policy,
            overflow: VecDeque::with_capacity(overflow_capacity),
            overflow_since_ns: None,
            backpressure_alert_ns: backpressure_alert_ms.saturating_mul(1_000_000),
            alert_raised: false,
            alert_seq: 0,
            clock,
            latency,
            tally: Tally::default(),
            pushed: 0,
        }
    }

    /// Adds a ring that carries `kinds` to one consumer.
    pub fn add_ring(&mut self, producer: T::Tx, kinds: &[EventKind]) {
        let idx = self.rings.len() as u8;
        self.rings.push(RingOut { producer, pending: 0 });
        for k in kinds {
            let r = &mut self.route[k.get()];
            if usize::from(r.len) < r.rings.len() {
                r.rings[usize::from(r.len)] = idx;
                r.len += 1;
            }
        }
    }

    /// Sets the copy ring.
    pub fn set_copy(&mut self, producer: rtrb::Producer<Event>) {
        self.copy = Some(producer);
    }

    /// Events waiting in the overflow queue.
    #[inline]
    pub fn overflow_len(&self) -> usize {
        self.overflow.len()
    }

    /// Stamps, counts, copies and routes one event.
    #[inline]
    pub fn emit(&mut self, mut ev: Event) {
        let now = self.clock.now_ns();
        ev.header_mut().ts_emit_ns = now;
        self.latency.record_emit(&ev, now);
        self.tally.record(&ev);
        let kind = ev.kind();
        if kind.is_external() {
            self.copy_out(ev);
        }
        let route = self.route[kind.get()];
        for &ri in &route.rings[..usize::from(route.len)] {
            let ring = &mut self.rings[usize::from(ri)];
            if ring.pending == 0 && ring.producer.try_push(ev).is_ok() {
                self.pushed += 1;
            } else {
                ring.pending += 1;
                self.tally.overflowed += 1;
                self.overflow.push_back((ri, ev));
            }
        }
    }

    fn copy_out(&mut self, ev: Event) {
        let Some(copy) = self.copy.as_mut() else { return };
        match copy.push(ev) {
            Ok(()) => {}
            Err(rtrb::PushError::Full(ev)) => match self.copy_policy {
                // `Auto` is resolved before wiring; treated as the non-blocking choice.
                CopyPolicy::Drop | CopyPolicy::Auto => self.tally.copies_dropped += 1,
                CopyPolicy::Wait => {
                    let mut ev = ev;
                    while let Err(rtrb::PushError::Full(back)) = copy.push(ev) {
                        if copy.is_abandoned() {
                            self.tally.copies_dropped += 1;
                            return;
                        }
                        ev = back;
                        std::thread::yield_now();
                    }
                }
            },
        }
    }

    /// Moves waiting events into their rings, in order. Returns how many moved.
    pub fn flush(&mut self, now_ns: u64) -> usize {
        let mut moved = 0;
        while let Some(&(ri, ev)) = self.overflow.front() {
            let ring = &mut self.rings[usize::from(ri)];
            if ring.producer.try_push(ev).is_err() {
                break;
            }
            ring.pending -= 1;
            self.pushed += 1;
            moved += 1;
            self.overflow.pop_front();
        }
        self.check_backpressure(now_ns);
        moved
    }

    /// Raises one `risk.alert` (RING_BACKPRESSURE) per episode of a ring staying full.
    fn check_backpressure(&mut self, now_ns: u64) {
        if self.overflow.is_empty() {
            self.overflow_since_ns = None;
            self.alert_raised = false;
            return;
        }
        let since = *self.overflow_since_ns.get_or_insert(now_ns);
        if !self.alert_raised && now_ns.saturating_sub(since) >= self.backpressure_alert_ns {
            self.alert_raised = true;
            self.alert_seq += 1;
            let trace = TraceId::try_new("ring-backpressure").unwrap_or(TraceId::EMPTY);
            let alert = RiskAlert {
                header: Header::origin(self.alert_seq, trace, InstrumentIdx::NONE, now_ns),
                observed: self.overflow.len() as f64,
                limit: 0.0,
                current_drawdown_pct: 0.0,
                open_positions: 0,
                max_positions: 0,
                model: ModelIdx::NONE,
                severity: Severity::Medium,
                alert_type: AlertType::Backpressure,
                action: AlertAction::Logged,
                profile: ProfileIdx::NONE,
                source: self.stage,
            };
            self.emit(Event::RiskAlert(alert));
        }
    }

    /// The stage this outbox belongs to.
    pub fn stage(&self) -> StageId {
        self.stage
    }

    /// A clock reading.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    /// Add to a reading to get Unix-epoch ns.
    pub fn wall_offset_ns(&self) -> i64 {
        self.clock.wall_offset_ns()
    }
}

/// The [`Ctx`] a stage sees in the threaded runtime.
#[derive(Debug)]
pub struct ThreadCtx<'a, T: Transport> {
    /// Where emits go.
    pub out: &'a mut Outbox<T>,
    /// The reading taken when the current input was popped.
    pub now_ns: u64,
    /// The run's phase.
    pub phase: Phase,
}

impl<T: Transport> Ctx for ThreadCtx<'_, T> {
    #[inline]
    fn now_ns(&self) -> u64 {
        self.now_ns
    }
    #[inline]
    fn wall_offset_ns(&self) -> i64 {
        self.out.wall_offset_ns()
    }
    #[inline]
    fn emit(&mut self, ev: Event) {
        self.out.emit(ev);
    }
    #[inline]
    fn phase(&self) -> Phase {
        self.phase
    }
    #[inline]
    fn backed_up(&self) -> bool {
        self.out.overflow_len() > 0
    }
    #[inline]
    fn mark(&mut self, mark: Mark, header: &Header) {
        let now = self.out.now_ns();
        self.out.latency.record_mark(mark, header.ts_origin_ns, now);
    }
}
