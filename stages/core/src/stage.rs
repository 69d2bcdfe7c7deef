//! The contract between stages and the runtime.
//!
//! A stage is a plain state machine. The runtime owns its thread and its clock and hands it
//! both through [`Ctx`]: the same stage code runs threaded, inline on one thread, and in unit
//! tests (with [`RecordingCtx`]).

use crate::event::Event;
use crate::ids::StageId;

/// Where the run is in its life cycle.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Normal operation.
    Running = 0,
    /// Sources have stopped; in-flight events drain.
    Draining = 1,
    /// Open positions are being closed (`ExitReason::Shutdown`).
    Flatten = 2,
    /// Threads are stopping; no new work.
    Stopping = 3,
}

impl Phase {
    /// From its `u8` code (unknown codes mean `Stopping`).
    pub const fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Running,
            1 => Phase::Draining,
            2 => Phase::Flatten,
            _ => Phase::Stopping,
        }
    }
}

/// Named measurement points a stage marks on a signal's chain (timed since the signal's origin).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mark {
    /// An entry order is handed to the venue ("tick-to-order").
    OrderToVenue = 0,
}

impl Mark {
    /// Every mark.
    pub const ALL: [Mark; 1] = [Mark::OrderToVenue];
    /// Number of marks.
    pub const COUNT: usize = 1;

    /// A short name for reports.
    pub const fn name(self) -> &'static str {
        match self {
            Mark::OrderToVenue => "order_to_venue",
        }
    }
}

/// What a stage can ask of the runtime while it handles an event.
pub trait Ctx {
    /// Now, in ns on the run's monotonic clock (TSC in threaded runs, virtual inline).
    fn now_ns(&self) -> u64;
    /// Add to a `now_ns` reading to get Unix-epoch ns.
    fn wall_offset_ns(&self) -> i64;
    /// Emits an event: the runtime stamps `ts_emit_ns`, routes it to its consumers
    /// ([`crate::EventKind::consumers`]) and copies external events to the sinks.
    fn emit(&mut self, ev: Event);
    /// The run's phase.
    fn phase(&self) -> Phase;

    /// Records a measurement point for the chain of `header` (latency since its origin).
    /// The default does nothing (unit tests, tools).
    #[inline]
    fn mark(&mut self, _mark: Mark, _header: &crate::event::Header) {}

    /// Whether the stage's outputs are backed up (a ring it feeds is full and events wait in
    /// its overflow queue). Sources that can answer their clients "busy" check this; the
    /// default is false (unit tests, runtimes without bounded rings).
    #[inline]
    fn backed_up(&self) -> bool {
        false
    }

    /// Now as Unix-epoch ns.
    #[inline]
    fn epoch_ns(&self) -> i64 {
        self.now_ns() as i64 + self.wall_offset_ns()
    }
}

/// Whether a stage produces work by itself (a source) and whether it has more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceState {
    /// Not a source: reacts to input only.
    NotASource,
    /// A source with more to produce.
    Active,
    /// A source that has produced everything it will.
    Exhausted,
}

/// A pipeline stage.
pub trait Stage: Send {
    /// Which stage this is.
    fn id(&self) -> StageId;

    /// Handles one input event.
    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C);

    /// Called between input batches (and on a timer): sources produce, timers fire.
    /// Returns how many events it emitted.
    fn poll<C: Ctx>(&mut self, _ctx: &mut C) -> usize {
        0
    }

    /// The next `now_ns` at which [`Stage::poll`] has work (sources, timers), if any.
    /// The inline runtime advances its virtual clock to the earliest of these.
    fn next_wakeup_ns(&self) -> Option<u64> {
        None
    }

    /// Whether the stage is a source and has more input.
    fn source_state(&self) -> SourceState {
        SourceState::NotASource
    }

    /// The most events one `on_event` or `poll` call may emit (the runtime reserves room).
    fn max_emits_per_call(&self) -> usize {
        8
    }

    /// Whether [`Stage::poll`] is still called while the stage's outputs are backed up (see
    /// [`Ctx::backed_up`]). By default a backed-up source is not polled, so backpressure
    /// reaches its input; a source that answers its clients "busy" instead returns true and
    /// emits no signals while backed up.
    fn polls_when_backed_up(&self) -> bool {
        false
    }

    /// Work the stage holds that will produce routed events later without new input (e.g.
    /// orders waiting on simulated venue latency). The runtime does not consider the pipeline
    /// drained while any stage reports some.
    fn pending_work(&self) -> usize {
        0
    }
}

/// A [`Ctx`] that records what a stage emits, for tests and tools.
#[derive(Debug)]
pub struct RecordingCtx {
    /// The clock reading returned by `now_ns`.
    pub now_ns: u64,
    /// The wall offset returned by `wall_offset_ns`.
    pub wall_offset_ns: i64,
    /// The phase returned by `phase`.
    pub phase: Phase,
    /// Everything emitted, in order, with `ts_emit_ns` stamped.
    pub emitted: Vec<Event>,
    /// What `backed_up` returns (false unless a test sets it).
    pub backed_up: bool,
}

impl RecordingCtx {
    /// A context at time `now_ns`, phase Running, wall offset 1.7e18 (late 2023).
    pub fn new(now_ns: u64) -> RecordingCtx {
        RecordingCtx {
            now_ns,
            wall_offset_ns: 1_700_000_000_000_000_000,
            phase: Phase::Running,
            emitted: Vec::new(),
            backed_up: false,
        }
    }

    /// Takes and returns the events emitted so far.
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.emitted)
    }
}

impl Ctx for RecordingCtx {
    fn now_ns(&self) -> u64 {
        self.now_ns
    }
    fn wall_offset_ns(&self) -> i64 {
        self.wall_offset_ns
    }
    fn emit(&mut self, mut ev: Event) {
        ev.header_mut().ts_emit_ns = self.now_ns;
        self.emitted.push(ev);
    }
    fn phase(&self) -> Phase {
        self.phase
    }
    fn backed_up(&self) -> bool {
        self.backed_up
    }
}
