//! The threaded runtime: one OS thread per `[[topology.threads]]` entry, pinned to its core,
//! polling its stages in turn; a sink thread for the copy rings; drain-and-join shutdown.
//!
//! Generic over the [`Transport`] of the trading rings (monomorphized once per transport);
//! the rings from the in-process handles and the copy rings are rtrb whatever the transport.

use super::outbox::{Outbox, ThreadCtx};
use super::sink::CopySink;
use super::transport::{RingRx, Transport};
use super::{AnyStage, InputFrom, StageResult};
use crate::config::WaitStrategy;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradeflow_core::*;

/// An input ring of a stage: the consumer end `R` of a trading ring (the run's transport) or
/// of a handle's rtrb ring.
#[derive(Debug)]
pub struct InputRing<R> {
    /// Who produces into it.
    pub from: InputFrom,
    /// The consumer end.
    pub consumer: R,
}

/// A stage with its rings, outbox and histograms, as placed on a thread.
#[derive(Debug)]
pub struct Slot<T: Transport> {
    /// The stage.
    pub stage: AnyStage,
    /// Its trading rings from other stages (market's first), on the run's transport.
    pub inputs: Vec<InputRing<T::Rx>>,
    /// Its rings from the in-process publisher and operator handles (always rtrb), read after
    /// the trading rings.
    pub external: Vec<InputRing<rtrb::Consumer<Event>>>,
    /// Its outputs (and its latency histograms).
    pub out: Outbox<T>,
    /// Events it consumed from other stages' rings.
    pub consumed: u64,
}

/// Reads up to `batch` events from `ring` into `stage`, timing each. Returns how many.
#[inline]
fn read_input<T: Transport, R: RingRx>(
    ring: &mut R,
    stage: &mut AnyStage,
    out: &mut Outbox<T>,
    phase: Phase,
    batch: usize,
) -> usize {
    ring.read_batch(batch, |ev| {
        let now = out.now_ns();
        out.latency.record(ev, now);
        let mut ctx = ThreadCtx { out: &mut *out, now_ns: now, phase };
        stage.on_event(ev, &mut ctx);
    })
}

impl<T: Transport> Slot<T> {
    /// One turn: flush overflow, read up to `batch` from each input, poll. Returns work done.
    #[inline]
    /// `now` is one clock reading per loop iteration, shared by the thread's slots for the
    /// overflow flush and the polls (at most one loop iteration old; stages never assume time
    /// moves forward between calls). Each popped event reads the clock itself.
    fn turn(&mut self, phase: Phase, batch: usize, now: u64) -> usize {
        let mut work = if self.out.overflow_len() > 0 { self.out.flush(now) } else { 0 };
        for input in &mut self.inputs {
            let n = read_input(&mut input.consumer, &mut self.stage, &mut self.out, phase, batch);
            self.consumed += n as u64;
            work += n;
        }
        // Drain detection compares ring pushes with ring pops; external producers (the
        // publisher and operator handles) are not stages and are not counted on either side.
        for input in &mut self.external {
            work += read_input(&mut input.consumer, &mut self.stage, &mut self.out, phase, batch);
        }
        // A source whose outputs are backed up stops producing: backpressure reaches the input.
        // Sources that answer their clients "busy" are still polled (they emit no signals then).
        let is_source = self.stage.source_state() != SourceState::NotASource;
        if !(is_source && self.out.overflow_len() > 0) || self.stage.polls_when_backed_up() {
            let mut ctx = ThreadCtx { now_ns: now, out: &mut self.out, phase };
            work += self.stage.poll(&mut ctx);
        }
        work
    }

    /// Whether this slot still feeds the run: a source with more input, or an open publisher.
    fn source_active(&self) -> bool {
        self.stage.source_state() == SourceState::Active
            || self
                .external
                .iter()
                .any(|i| i.from == InputFrom::Publisher && !(i.consumer.is_abandoned() && i.consumer.is_empty()))
    }
}

/// Shared run state, read by the controlling thread.
#[derive(Debug)]
pub struct Shared {
    /// The phase (a [`Phase`] as `u8`).
    pub phase: CachePadded<AtomicU8>,
    /// Per stage thread: progress counters.
    pub threads: Vec<CachePadded<ThreadStatus>>,
    /// Set when the sink thread should finish once the copy rings are empty.
    pub sink_done: AtomicBool,
}

impl Shared {
    /// Fresh state for `n` threads.
    pub fn new(n: usize) -> Shared {
        Shared {
            phase: CachePadded::new(AtomicU8::new(Phase::Running as u8)),
            threads: (0..n).map(|_| CachePadded::new(ThreadStatus::default())).collect(),
            sink_done: AtomicBool::new(false),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Moves to `p`.
    pub fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Ordering::Release);
    }
}

/// Progress of one thread, published once per loop.
#[derive(Debug)]
pub struct ThreadStatus {
    /// Events pushed into trading rings.
    pub pushed: AtomicU64,
    /// Events consumed from trading rings.
    pub consumed: AtomicU64,
    /// Events waiting in overflow queues + stages' pending work.
    pub backlog: AtomicU64,
    /// Loop iterations.
    pub loops: AtomicU64,
    /// Whether a source on the thread is still active.
    pub sources_active: AtomicBool,
    /// Events emitted, by kind (for the live display).
    pub live: [AtomicU64; EventKind::COUNT],
}

impl Default for ThreadStatus {
    fn default() -> Self {
        ThreadStatus {
            pushed: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            backlog: AtomicU64::new(0),
            loops: AtomicU64::new(0),
            sources_active: AtomicBool::new(true),
            live: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// Idle waiting per [`WaitStrategy`].
#[derive(Debug)]
struct Idle {
    strategy: WaitStrategy,
    step: u32,
    /// `park`: when the thread ran out of work (set once spinning ends).
    idle_since: Option<std::time::Instant>,
    /// `park`: sleeps so far in this idle stretch.
    sleeps: u32,
    park: ParkTiming,
}

/// When a `park` thread stops yielding and how long each of its sleeps lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParkTiming {
    /// Yield for this long without work before sleeping.
    pub after: Duration,
    /// The longest sleep (sleeps double from 50 µs up to it): the bound on the extra wake-up
    /// latency, plus the OS timer slack.
    pub sleep: Duration,
}

/// Spins before yielding (each strategy but `spin`).
const SPIN_STEPS: u32 = 64;

impl Idle {
    fn new(strategy: WaitStrategy, park: ParkTiming) -> Idle {
        Idle { strategy, step: 0, idle_since: None, sleeps: 0, park }
    }

    #[inline]
    fn reset(&mut self) {
        self.step = 0;
        self.idle_since = None;
        self.sleeps = 0;
    }

    #[inline]
    fn wait(&mut self) {
        self.step = self.step.saturating_add(1);
        match self.strategy {
            WaitStrategy::Spin => std::hint::spin_loop(),
            WaitStrategy::Yield => {
                if self.step < SPIN_STEPS {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Park => self.park_wait(),
            WaitStrategy::Backoff => {
                if self.step < SPIN_STEPS {
                    std::hint::spin_loop();
                } else if self.step < 2 * SPIN_STEPS {
                    std::thread::yield_now();
                } else {
                    let us = (u64::from(self.step - 2 * SPIN_STEPS) * 10).clamp(20, 1000);
                    std::thread::sleep(Duration::from_micros(us));
                }
            }
        }
    }

    /// Spin, then yield for `park.after`, then sleep — 50 µs first, doubling up to
    /// `park.sleep` — until work comes.
    #[cold]
    fn park_wait(&mut self) {
        if self.step < SPIN_STEPS {
            std::hint::spin_loop();
            return;
        }
        let since = *self.idle_since.get_or_insert_with(std::time::Instant::now);
        if since.elapsed() < self.park.after {
            std::thread::yield_now();
            self.sleeps = 0;
        } else {
            let first = Duration::from_micros(50);
            let sleep = first.saturating_mul(1 << self.sleeps.min(16)).min(self.park.sleep);
            self.sleeps = self.sleeps.saturating_add(1);
            std::thread::sleep(sleep);
        }
    }
}

fn publish<T: Transport>(status: &ThreadStatus, slots: &[Slot<T>], loops: u64) {
    let pushed: u64 = slots.iter().map(|s| s.out.pushed).sum();
    let consumed: u64 = slots.iter().map(|s| s.consumed).sum();
    let backlog: u64 = slots.iter().map(|s| (s.out.overflow_len() + s.stage.pending_work()) as u64).sum();
    status.pushed.store(pushed, Ordering::Relaxed);
    status.consumed.store(consumed, Ordering::Relaxed);
    status.backlog.store(backlog, Ordering::Relaxed);
    status.sources_active.store(slots.iter().any(Slot::source_active), Ordering::Relaxed);
    for (k, live) in status.live.iter().enumerate() {
        let v: u64 = slots.iter().map(|s| s.out.tally.by_kind[k]).sum();
        live.store(v, Ordering::Relaxed);
    }
    status.loops.store(loops, Ordering::Release);
}

/// The body of one stage thread.
pub fn run_stage_thread<T: Transport>(
    mut slots: Vec<Slot<T>>,
    shared: Arc<Shared>,
    index: usize,
    wait: WaitStrategy,
    park: ParkTiming,
    batch: usize,
) -> Vec<StageResult> {
    let status = &shared.threads[index];
    let mut idle = Idle::new(wait, park);
    let mut loops: u64 = 0;
    let mut since_publish: u32 = 0;
    loop {
        let phase = shared.phase();
        let mut work = 0;
        let now = slots.first().map_or(0, |s| s.out.now_ns());
        for slot in &mut slots {
            work += slot.turn(phase, batch, now);
        }
        loops += 1;
        since_publish += 1;
        if work > 0 || since_publish >= 256 || phase != Phase::Running {
            publish(status, &slots, loops);
            since_publish = 0;
        }
        if phase == Phase::Stopping && work == 0 {
            break;
        }
        if work == 0 {
            idle.wait();
        } else {
            idle.reset();
        }
    }
    publish(status, &slots, loops);
    slots.into_iter().map(StageResult::from_slot).collect()
}

/// The body of the sink thread: drains every copy ring into the sinks.
pub fn run_sink_thread(
    mut rings: Vec<(StageId, rtrb::Consumer<Event>)>,
    mut sinks: Vec<Box<dyn CopySink>>,
    shared: Arc<Shared>,
) -> (Vec<Box<dyn CopySink>>, u64) {
    let mut copies: u64 = 0;
    let mut idle = Idle::new(WaitStrategy::Backoff, ParkTiming { after: Duration::ZERO, sleep: Duration::ZERO });
    let mut last_flush = std::time::Instant::now();
    loop {
        let done = shared.sink_done.load(Ordering::Acquire);
        let mut n = 0;
        for (source, ring) in &mut rings {
            let avail = ring.slots();
            if avail == 0 {
                continue;
            }
            if let Ok(chunk) = ring.read_chunk(avail) {
                for ev in chunk {
                    for s in &mut sinks {
                        s.on_copy(*source, &ev);
                    }
                }
                n += avail;
            }
        }
        copies += n as u64;
        if last_flush.elapsed() >= Duration::from_millis(200) {
            for s in &mut sinks {
                let _ = s.flush();
            }
            last_flush = std::time::Instant::now();
        }
        if n == 0 {
            if done {
                break;
            }
            idle.wait();
        } else {
            idle.reset();
        }
    }
    (sinks, copies)
}

/// Sums the threads' counters: (pushed, consumed, backlog, sources active) and each thread's
/// loop count.
pub fn snapshot(shared: &Shared) -> ((u64, u64, u64, bool), Vec<u64>) {
    let mut t = (0, 0, 0, false);
    let mut loops = Vec::with_capacity(shared.threads.len());
    for s in &shared.threads {
        loops.push(s.loops.load(Ordering::Acquire));
        t.0 += s.pushed.load(Ordering::Relaxed);
        t.1 += s.consumed.load(Ordering::Relaxed);
        t.2 += s.backlog.load(Ordering::Relaxed);
        t.3 |= s.sources_active.load(Ordering::Relaxed);
    }
    (t, loops)
}

/// Waits until nothing is in flight: every pushed event consumed, no backlog, and the same
/// counts seen again after every thread has looped at least twice more. Returns whether it
/// drained within `timeout`.
pub fn wait_quiescent(shared: &Shared, timeout: Duration) -> bool {
    let start = std::time::Instant::now();
    let mut prev: Option<(u64, Vec<u64>)> = None;
    loop {
        let ((pushed, consumed, backlog, _), loops) = snapshot(shared);
        if pushed == consumed && backlog == 0 {
            match &prev {
                Some((p, l)) if *p == pushed => {
                    if loops.iter().zip(l).all(|(now, then)| *now >= then + 2) {
                        return true;
                    }
                }
                _ => prev = Some((pushed, loops)),
            }
        } else {
            prev = None;
        }
        if start.elapsed() >= timeout {
            tracing::warn!(pushed, consumed, backlog, "shutdown did not drain in time");
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
