//! Embedding: build a pipeline from a config, start it, publish signals into it from the same
//! process, subscribe to its event copies, operate its kill switch, and wait for its report.
//!
//! ```no_run
//! use tradeflow::{Config, PipelineBuilder, SignalSpec};
//! use tradeflow_core::Side;
//! let cfg = Config::embedded_default().expect("valid default config");
//! let mut builder = PipelineBuilder::new(cfg).with_publisher();
//! let events = builder.subscribe(1024);
//! let mut pipeline = builder.start().expect("pipeline starts");
//! let mut publisher = pipeline.take_publisher().expect("publisher requested");
//! publisher.publish(&SignalSpec::new("BTCUSDT", Side::Buy, 0.85, "1h", "ensemble_v2")).expect("valid signal");
//! drop(publisher); // end of input: the run drains and stops
//! let report = pipeline.wait();
//! println!("{} signals, {} copies", report.signals(), events.try_iter().count());
//! ```

use crate::config::{Config, CopyPolicy, CoreSpec, OnEnd, ThreadConfig, TransportKind};
use crate::report::{Placement, RunMode, RunReport};
use crate::runtime::inline::{InlineLimits, InlineRuntime};
use crate::runtime::sink::{finish_sinks, ChannelSink, CopySink, EventCopy, JsonLinesSink, MirrorSink, SinkReport};
use crate::runtime::threaded::{self, Shared, Slot};
use crate::runtime::transport::{Crossbeam, Disruptor, Rtrb, Transport};
use crate::runtime::wire::wire;
use crate::runtime::{build_stages, RuntimeError, SignalSource, StageResult};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tradeflow_core::*;

pub use crate::handles::{OperatorHandle, PublishError, SignalPublisher, SignalSpec};
pub use crate::runtime::core_ids;

/// Builds a pipeline: config in, running pipeline (or an inline run's report) out.
#[derive(Debug)]
pub struct PipelineBuilder {
    cfg: Config,
    source: SignalSource,
    sinks: Vec<Box<dyn CopySink>>,
    events_out: Option<String>,
    stop: Arc<AtomicBool>,
    record_from_ns: u64,
    mirror: Option<tradeflow_mirror::MirrorHandle>,
}

/// Live counts of a running pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Time since start.
    pub elapsed: Duration,
    /// Events emitted so far, by kind.
    pub by_kind: [u64; EventKind::COUNT],
    /// The kill switch.
    pub trading_state: TradingState,
}

impl Progress {
    /// Events of `kind` so far.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.by_kind[kind.get()]
    }
}

impl PipelineBuilder {
    /// A builder over `cfg` with the configured signal source.
    pub fn new(cfg: Config) -> PipelineBuilder {
        PipelineBuilder {
            cfg,
            source: SignalSource::Configured,
            sinks: Vec::new(),
            events_out: None,
            stop: Arc::new(AtomicBool::new(false)),
            record_from_ns: 0,
            mirror: None,
        }
    }

    /// Signals come only from the in-process [`SignalPublisher`] (take it from the started
    /// pipeline); the run ends when the publisher is dropped.
    pub fn with_publisher(mut self) -> PipelineBuilder {
        self.source = SignalSource::Publisher;
        self
    }

    /// Writes every event as a JSON line to `path` (`-` = stdout).
    pub fn events_out(mut self, path: impl Into<String>) -> PipelineBuilder {
        self.events_out = Some(path.into());
        self
    }

    /// Subscribes to event copies: a bounded channel of `capacity`; when it is full, copies are
    /// dropped and counted (a slow subscriber never slows trading).
    pub fn subscribe(&mut self, capacity: usize) -> Receiver<EventCopy> {
        let (tx, rx) = sync_channel(capacity.max(1));
        self.sinks.push(Box::new(ChannelSink::new(tx)));
        rx
    }

    /// Adds a custom copy sink.
    pub fn sink(mut self, sink: Box<dyn CopySink>) -> PipelineBuilder {
        self.sinks.push(sink);
        self
    }

    /// Latency of signals that originate in the first `warmup` of the run is not recorded.
    pub fn warmup(mut self, warmup: Duration) -> PipelineBuilder {
        self.record_from_ns = u64::try_from(warmup.as_nanos()).unwrap_or(u64::MAX);
        self
    }

    /// Uses `stop` as the run's stop flag (e.g. one a signal handler installed before the
    /// builder existed may already have set: the run then stops at once, cleanly).
    pub fn with_stop_flag(mut self, stop: Arc<AtomicBool>) -> PipelineBuilder {
        self.stop = stop;
        self
    }

    /// A flag that, once set, ends the run like end of input (for Ctrl-C handlers).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Resolves `[ingress.file] clock = "auto"` for this run and, on event time, the epoch
    /// time (ns) the run's clock starts at: the recording's first timestamp. A run against the
    /// Binance venue stays on wall-clock time unless `clock = "event"` is asked for (the
    /// exchange lives on wall-clock time).
    fn event_epoch_ns(&mut self) -> Option<i64> {
        use tradeflow_ingress::FileClock;
        let file = &mut self.cfg.ingress.file;
        if file.clock == FileClock::Auto && self.cfg.gateway.venue == "binance" {
            file.clock = FileClock::Wall;
        }
        let on_file = self.cfg.ingress.source == tradeflow_ingress::IngressSource::File
            && self.source == SignalSource::Configured;
        if !on_file || !file.event_time() {
            return None;
        }
        let first = tradeflow_ingress::event_time::first_timestamp_us(&file.path);
        if first.is_none() {
            tracing::warn!(path = %file.path, "event time: no signal with a timestamp near the start; the run starts at the wall clock");
        }
        first.map(|us| us.saturating_mul(1000))
    }

    fn prepare(
        &mut self,
        wall_offset_ns: i64,
        clock: Option<&MonoClock>,
    ) -> Result<(Arc<Catalog>, Arc<KillSwitch>), RuntimeError> {
        // With the exchange's filters (Binance), read before any stage or sink shares it.
        let catalog = Arc::new(crate::runtime::trading_catalog(&self.cfg)?);
        let policy = self.cfg.topology.copy_policy;
        self.cfg.topology.copy_policy = policy.resolve(self.events_out.is_some());
        if let (Some(path), CopyPolicy::Drop) = (&self.events_out, policy) {
            tracing::warn!(
                "--events-out {path}: topology.copy_policy = \"drop\": events are dropped when the writer falls \
                 behind, and the file is then incomplete (the run exits 2 if any was dropped)"
            );
        }
        if let Some(path) = &self.events_out {
            let sink = JsonLinesSink::create(path, catalog.clone(), wall_offset_ns)
                .map_err(|source| RuntimeError::Io { what: format!("cannot create --events-out {path}"), source })?;
            self.sinks.insert(0, Box::new(sink));
        }
        if self.cfg.mirror_rereads_signal_source() {
            let signals = EventKind::SignalGenerated.name();
            tracing::warn!(
                "mirror: {signals} is not mirrored: the signals come from {:?} on the same Redis, where they \
                 already are",
                self.cfg.ingress.redis.stream
            );
            let m = &mut self.cfg.mirror;
            if m.types.is_empty() {
                m.types = EventKind::ALL.iter().filter(|k| k.is_external()).map(|k| k.name().to_owned()).collect();
            }
            m.types.retain(|t| t != signals);
        }
        if self.cfg.mirror.enabled {
            let (input, handle) =
                tradeflow_mirror::start(&self.cfg.mirror, catalog.clone(), wall_offset_ns, clock.cloned())
                    .map_err(|source| RuntimeError::Io { what: "spawning the mirror thread".into(), source })?;
            self.sinks.push(Box::new(MirrorSink::new(input)));
            self.mirror = Some(handle);
        }
        Ok((catalog, Arc::new(KillSwitch::new())))
    }

    /// Runs every stage inline on this thread with a virtual clock (deterministic) and returns
    /// the report. The in-process publisher is not available inline.
    pub fn run_inline(mut self) -> Result<RunReport, RuntimeError> {
        if self.source == SignalSource::Publisher {
            return Err(RuntimeError::Stage {
                stage: "ingress",
                message: "the in-process publisher needs a threaded run".into(),
            });
        }
        let wall_offset = self.event_epoch_ns().unwrap_or((self.cfg.run.inline_epoch_s * 1e9) as i64);
        let (catalog, kill) = self.prepare(wall_offset, None)?;
        let stages = build_stages(&self.cfg, &catalog, &kill, &self.source, true)?;
        let started = Instant::now();
        let mut rt = InlineRuntime::new(stages, wall_offset);
        let until_ns = if self.cfg.run.duration_s > 0.0 { (self.cfg.run.duration_s * 1e9) as u64 } else { u64::MAX };
        let limits = InlineLimits {
            until_ns,
            stop: &self.stop,
            flatten: self.cfg.run.on_end == OnEnd::Flatten,
            drain_ns: self.cfg.run.drain_timeout_ms.saturating_mul(1_000_000),
        };
        rt.run(&mut self.sinks, limits);
        let virtual_ns = rt.now_ns();
        let results = rt.finish();
        let copies = results.iter().map(|r| external_count(&r.tally)).sum();
        let sinks = finish_sinks(&mut self.sinks, copies);
        let mut report = RunReport::new(
            RunMode::Inline { virtual_ns },
            started.elapsed(),
            results,
            &kill,
            sinks,
            catalog,
            Vec::new(),
            true,
        );
        report.mirror = self.mirror.take().map(tradeflow_mirror::MirrorHandle::finish);
        Ok(report)
    }

    /// Starts the threaded pipeline, its trading rings on the configured
    /// `[topology] transport` (chosen once here; everything after is monomorphized).
    pub fn start(self) -> Result<Pipeline, RuntimeError> {
        match self.cfg.topology.transport {
            TransportKind::Rtrb => self.start_on::<Rtrb>(),
            TransportKind::Crossbeam => self.start_on::<Crossbeam>(),
            TransportKind::Disruptor => self.start_on::<Disruptor>(),
        }
    }

    fn start_on<T: Transport>(mut self) -> Result<Pipeline, RuntimeError> {
        let clock = self.event_epoch_ns().map_or_else(MonoClock::new, MonoClock::starting_at_epoch_ns);
        let (catalog, kill) = self.prepare(clock.wall_offset_ns(), Some(&clock))?;
        let available = core_ids();
        for th in &self.cfg.topology.threads {
            if let CoreSpec::Core(core) = th.core {
                if !available.contains(&core) {
                    return Err(RuntimeError::MissingCore { thread: th.name.clone(), core, available });
                }
            }
        }
        let stages = build_stages(&self.cfg, &catalog, &kill, &self.source, false)?;
        let with_publisher = self.source == SignalSource::Publisher;
        let wired = wire::<T>(&self.cfg, stages, &clock, !self.sinks.is_empty(), with_publisher, self.record_from_ns);
        let shared = Arc::new(Shared::new(wired.threads.len()));
        let park = threaded::ParkTiming {
            after: Duration::from_micros(self.cfg.topology.park_after_us),
            sleep: Duration::from_micros(self.cfg.topology.park_sleep_us),
        };
        let (placement, handles) = spawn_stage_threads(wired.threads, &shared, self.cfg.topology.batch, park)?;
        let sinks = std::mem::take(&mut self.sinks);
        let sink_shared = shared.clone();
        let copies = wired.copies;
        let sink = std::thread::Builder::new()
            .name("tf-sink".into())
            .spawn(move || threaded::run_sink_thread(copies, sinks, sink_shared))
            .map_err(|source| RuntimeError::Io { what: "spawning the sink thread".into(), source })?;
        let publisher = wired.publisher.map(|p| SignalPublisher::new(p, catalog.clone(), clock.clone()));
        Ok(Pipeline {
            cfg: self.cfg,
            shared,
            handles,
            sink: Some(sink),
            kill,
            catalog: catalog.clone(),
            publisher,
            operator: Some(OperatorHandle::new(wired.operator, catalog, clock.clone())),
            stop: self.stop,
            started: Instant::now(),
            placement,
            mirror: self.mirror.take(),
            clock,
        })
    }
}

/// Spawns one thread per configured thread, pinned to its core, running its slots.
fn spawn_stage_threads<T: Transport>(
    threads: Vec<(ThreadConfig, Vec<Slot<T>>)>,
    shared: &Arc<Shared>,
    batch: usize,
    park: threaded::ParkTiming,
) -> Result<(Vec<Placement>, Vec<StageThread>), RuntimeError> {
    let mut placement = Vec::new();
    let mut handles = Vec::new();
    for (index, (th, slots)) in threads.into_iter().enumerate() {
        placement.push(Placement { thread: th.name.clone(), core: th.core, stages: th.stages.clone(), wait: th.wait });
        let shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("tf-{}", th.name))
            .spawn(move || {
                if let CoreSpec::Core(id) = th.core {
                    if !core_affinity::set_for_current(core_affinity::CoreId { id }) {
                        tracing::warn!(thread = %th.name, core = id, "could not pin thread to its core");
                    }
                }
                threaded::run_stage_thread(slots, shared, index, th.wait, park, batch)
            })
            .map_err(|source| RuntimeError::Io { what: "spawning a stage thread".into(), source })?;
        handles.push(handle);
    }
    Ok((placement, handles))
}

/// Joins the ingress file-reader thread if it has finished (a reader blocked on an open stdin
/// is left to end with the process).
fn join_reader_thread(results: &mut [StageResult]) {
    for r in results.iter_mut() {
        if let crate::runtime::AnyStage::Ingress(ingress) = &mut r.stage {
            if let Some(h) = ingress.take_reader_thread() {
                if h.is_finished() {
                    let _ = h.join();
                }
            }
        }
    }
}

impl Drop for Pipeline {
    /// A pipeline dropped without [`Pipeline::wait`] stops its threads (no drain, no report).
    fn drop(&mut self) {
        if self.handles.is_empty() {
            return;
        }
        self.shared.set_phase(Phase::Stopping);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        self.shared.sink_done.store(true, Ordering::Release);
        if let Some(h) = self.sink.take() {
            let _ = h.join();
        }
    }
}

fn external_count(t: &crate::runtime::Tally) -> u64 {
    EventKind::ALL.iter().filter(|k| k.is_external()).map(|k| t.count(*k)).sum()
}

/// A stage thread: it hands back its stages' results.
type StageThread = JoinHandle<Vec<StageResult>>;

/// What the sink thread hands back: its sinks and the number of copies it read.
type SinkThreadResult = (Vec<Box<dyn CopySink>>, u64);

/// A running threaded pipeline.
#[derive(Debug)]
pub struct Pipeline {
    cfg: Config,
    shared: Arc<Shared>,
    handles: Vec<StageThread>,
    sink: Option<JoinHandle<SinkThreadResult>>,
    kill: Arc<KillSwitch>,
    catalog: Arc<Catalog>,
    publisher: Option<SignalPublisher>,
    operator: Option<OperatorHandle>,
    stop: Arc<AtomicBool>,
    started: Instant,
    placement: Vec<Placement>,
    mirror: Option<tradeflow_mirror::MirrorHandle>,
    clock: MonoClock,
}

impl Pipeline {
    /// The run's clock: `now_ns() + wall_offset_ns()` is the epoch time the stages stamp, so a
    /// client in the same process can stamp signals (e.g. `timestamp` for
    /// `origin = "timestamp"`) on exactly the pipeline's time line.
    pub fn clock(&self) -> &MonoClock {
        &self.clock
    }

    /// The in-process publisher (once; only with [`PipelineBuilder::with_publisher`]).
    pub fn take_publisher(&mut self) -> Option<SignalPublisher> {
        self.publisher.take()
    }

    /// The operator handle (once).
    pub fn take_operator(&mut self) -> Option<OperatorHandle> {
        self.operator.take()
    }

    /// The shared kill switch.
    pub fn kill_switch(&self) -> &Arc<KillSwitch> {
        &self.kill
    }

    /// The catalog.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Asks the run to end (like end of input).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// A flag that ends the run when set.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The mirror's live counters (when `[mirror]` is on).
    pub fn mirror_counters(&self) -> Option<&tradeflow_mirror::MirrorCounters> {
        self.mirror.as_ref().map(tradeflow_mirror::MirrorHandle::counters)
    }

    /// Live counts.
    pub fn progress(&self) -> Progress {
        let mut by_kind = [0u64; EventKind::COUNT];
        for t in &self.shared.threads {
            for (k, v) in t.live.iter().enumerate() {
                by_kind[k] += v.load(Ordering::Relaxed);
            }
        }
        Progress { elapsed: self.started.elapsed(), by_kind, trading_state: self.kill.state() }
    }

    /// Waits for the end of input (or `[run] duration_s`, or [`Pipeline::stop`]), drains,
    /// flattens if configured, joins every thread and returns the report.
    pub fn wait(self) -> RunReport {
        self.wait_with(|_| {})
    }

    /// [`Pipeline::wait`], calling `on_tick` with live progress every 250 ms.
    pub fn wait_with(mut self, mut on_tick: impl FnMut(&Progress)) -> RunReport {
        // A duration too long for `Duration` (e.g. 1e300 s) is as good as unlimited.
        let duration = (self.cfg.run.duration_s > 0.0)
            .then(|| Duration::try_from_secs_f64(self.cfg.run.duration_s).ok())
            .flatten();
        let mut last_tick = Instant::now();
        loop {
            let ((_, _, _, sources_active), _) = threaded::snapshot(&self.shared);
            let timed_out = duration.is_some_and(|d| self.started.elapsed() >= d);
            if !sources_active || timed_out || self.stop.load(Ordering::Acquire) {
                break;
            }
            if last_tick.elapsed() >= Duration::from_millis(250) {
                on_tick(&self.progress());
                last_tick = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(self.publisher.take());
        let timeout = Duration::from_millis(self.cfg.run.drain_timeout_ms);
        self.shared.set_phase(Phase::Draining);
        let mut drained = threaded::wait_quiescent(&self.shared, timeout);
        let active = self.started.elapsed();
        if self.cfg.run.on_end == OnEnd::Flatten {
            self.shared.set_phase(Phase::Flatten);
            drained &= threaded::wait_quiescent(&self.shared, timeout);
        }
        on_tick(&self.progress());
        self.shared.set_phase(Phase::Stopping);
        let mut results: Vec<StageResult> = Vec::new();
        for h in self.handles.drain(..) {
            match h.join() {
                Ok(r) => results.extend(r),
                Err(_) => tracing::error!("a stage thread panicked"),
            }
        }
        results.sort_by_key(|r| r.id);
        join_reader_thread(&mut results);
        self.shared.sink_done.store(true, Ordering::Release);
        let sinks = match self.sink.take().map(JoinHandle::join) {
            Some(Ok((mut sinks, copies))) => finish_sinks(&mut sinks, copies),
            _ => SinkReport { errors: vec!["the sink thread panicked".into()], ..SinkReport::default() },
        };
        let elapsed = self.started.elapsed();
        let mut report = RunReport::new(
            RunMode::Threaded,
            elapsed,
            results,
            &self.kill,
            sinks,
            self.catalog.clone(),
            self.placement.clone(),
            drained,
        );
        report.active_elapsed = active;
        // Every copy is on the mirror's ring now (the sink thread has finished): drain and stop.
        report.mirror = self.mirror.take().map(tradeflow_mirror::MirrorHandle::finish);
        report
    }
}
