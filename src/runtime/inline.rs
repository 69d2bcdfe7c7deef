//! The inline runtime: every stage on the calling thread, a FIFO of routed events, and a
//! virtual clock that jumps to the next scheduled source or timer. Deterministic: the same
//! config, seed and input give the same event log. Used by `run --inline`, replay and tests,
//! and as the benchmark's compute floor.

use super::sink::CopySink;
use super::{AnyStage, StageResult, Tally};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use tradeflow_core::*;

/// What stops an inline run early.
#[derive(Debug, Clone, Copy)]
pub struct InlineLimits<'a> {
    /// Stop producing at this virtual time (ns; `u64::MAX` = none).
    pub until_ns: u64,
    /// Stop producing when set (Ctrl-C).
    pub stop: &'a AtomicBool,
    /// Flatten open positions at the end.
    pub flatten: bool,
    /// Virtual time allowed for draining after the input ends.
    pub drain_ns: u64,
}

struct InlineCtx<'a> {
    now: u64,
    wall_offset: i64,
    phase: Phase,
    source: StageId,
    queue: &'a mut VecDeque<(StageId, Event)>,
    tally: &'a mut Tally,
    sinks: &'a mut [Box<dyn CopySink>],
    routed: &'a mut u64,
}

impl Ctx for InlineCtx<'_> {
    fn now_ns(&self) -> u64 {
        self.now
    }
    fn wall_offset_ns(&self) -> i64 {
        self.wall_offset
    }
    fn emit(&mut self, mut ev: Event) {
        ev.header_mut().ts_emit_ns = self.now;
        self.tally.record(&ev);
        let kind = ev.kind();
        if kind.is_external() {
            for s in self.sinks.iter_mut() {
                s.on_copy(self.source, &ev);
            }
        }
        for &c in kind.consumers() {
            self.queue.push_back((c, ev));
            *self.routed += 1;
        }
    }
    fn phase(&self) -> Phase {
        self.phase
    }
}

/// The inline runner.
#[derive(Debug)]
pub struct InlineRuntime {
    stages: Vec<AnyStage>,
    tallies: Vec<Tally>,
    consumed: Vec<u64>,
    queue: VecDeque<(StageId, Event)>,
    now: u64,
    wall_offset: i64,
    phase: Phase,
    routed: u64,
}

impl InlineRuntime {
    /// A runner over `stages` (in [`StageId`] order) whose virtual clock starts at Unix-epoch
    /// `wall_offset_ns`.
    pub fn new(stages: Vec<AnyStage>, wall_offset_ns: i64) -> InlineRuntime {
        let n = stages.len();
        InlineRuntime {
            stages,
            tallies: vec![Tally::default(); n],
            consumed: vec![0; n],
            queue: VecDeque::with_capacity(1 << 16),
            now: 0,
            wall_offset: wall_offset_ns,
            phase: Phase::Running,
            routed: 0,
        }
    }

    /// The virtual clock.
    pub fn now_ns(&self) -> u64 {
        self.now
    }

    fn ctx<'a>(&'a mut self, i: usize, sinks: &'a mut [Box<dyn CopySink>]) -> (&'a mut AnyStage, InlineCtx<'a>) {
        let source = self.stages[i].id();
        let ctx = InlineCtx {
            now: self.now,
            wall_offset: self.wall_offset,
            phase: self.phase,
            source,
            queue: &mut self.queue,
            tally: &mut self.tallies[i],
            sinks,
            routed: &mut self.routed,
        };
        (&mut self.stages[i], ctx)
    }

    /// Delivers every queued event (and what it causes) in FIFO order.
    pub fn drain_queue(&mut self, sinks: &mut [Box<dyn CopySink>]) {
        while let Some((to, ev)) = self.queue.pop_front() {
            let i = to.get();
            if i >= self.stages.len() {
                continue;
            }
            self.consumed[i] += 1;
            let (stage, mut ctx) = self.ctx(i, sinks);
            stage.on_event(&ev, &mut ctx);
        }
    }

    /// Polls every stage once at the current virtual time, the market first (so prices due now
    /// are delivered before signals due now); returns events emitted.
    pub fn poll_all(&mut self, sinks: &mut [Box<dyn CopySink>]) -> usize {
        let mut n = 0;
        let market = StageId::Market.get();
        let order = std::iter::once(market).chain((0..self.stages.len()).filter(|&i| i != market));
        for i in order {
            if i >= self.stages.len() {
                continue;
            }
            let (stage, mut ctx) = self.ctx(i, sinks);
            n += stage.poll(&mut ctx);
        }
        n
    }

    /// Enqueues an event as if `from` had emitted it (the publisher's way in).
    pub fn inject(&mut self, from: StageId, ev: Event, sinks: &mut [Box<dyn CopySink>]) {
        let (_, mut ctx) = self.ctx(from.get(), sinks);
        ctx.emit(ev);
    }

    fn next_wakeup(&self, include_sources: bool) -> Option<u64> {
        self.stages
            .iter()
            .filter(|s| include_sources || s.source_state() == SourceState::NotASource)
            .filter_map(|s| s.next_wakeup_ns())
            .filter(|&t| t > self.now)
            .min()
    }

    fn sources_active(&self) -> bool {
        self.stages.iter().any(|s| s.source_state() == SourceState::Active)
    }

    /// Runs to the end of input (or a limit), then drains and, if asked, flattens.
    pub fn run(&mut self, sinks: &mut [Box<dyn CopySink>], limits: InlineLimits<'_>) {
        self.phase = Phase::Running;
        loop {
            self.drain_queue(sinks);
            if limits.stop.load(Ordering::Relaxed) || self.now >= limits.until_ns {
                break;
            }
            if self.poll_all(sinks) > 0 {
                continue;
            }
            if !self.sources_active() {
                break;
            }
            match self.next_wakeup(true) {
                Some(t) => self.now = t.min(limits.until_ns),
                None => break,
            }
        }
        self.phase = Phase::Draining;
        self.settle(sinks, limits.drain_ns);
        if limits.flatten {
            self.phase = Phase::Flatten;
            self.settle(sinks, limits.drain_ns);
        }
        self.phase = Phase::Stopping;
        self.drain_queue(sinks);
    }

    /// Polls and advances virtual time (timers only) until a round routes nothing, within
    /// `budget_ns` of virtual time.
    fn settle(&mut self, sinks: &mut [Box<dyn CopySink>], budget_ns: u64) {
        let deadline = self.now.saturating_add(budget_ns);
        loop {
            let before = self.routed;
            self.drain_queue(sinks);
            while self.poll_all(sinks) > 0 {
                self.drain_queue(sinks);
            }
            if self.routed != before {
                continue;
            }
            let pending: usize = self.stages.iter().map(Stage::pending_work).sum();
            if pending == 0 {
                return;
            }
            match self.next_wakeup(false) {
                Some(t) if t <= deadline => self.now = t,
                _ => return,
            }
        }
    }

    /// The stages' final state and counts.
    pub fn finish(self) -> Vec<StageResult> {
        self.stages
            .into_iter()
            .zip(self.tallies)
            .zip(self.consumed)
            .map(|((stage, tally), consumed)| StageResult { id: stage.id(), stage, latency: None, tally, consumed })
            .collect()
    }
}
