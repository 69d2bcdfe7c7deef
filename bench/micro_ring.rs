//! Micro-benchmarks of the plumbing under every stage: one ring hop between two threads, the
//! clock, and recording a latency.
//!
//! - `ring_hop`: an [`Event`] ping-ponged between two threads (pinned to the first two cores of
//!   the process when there are two), each iteration one round trip, reported as round trip / 2
//!   (one hop): rtrb vs a crossbeam bounded channel (both busy-polled, `try_*`), and the same
//!   push + pop on one thread.
//! - `clock`: `MonoClock::now_ns` (TSC via quanta) vs `Instant::now`. (`quanta::Clock::raw` on
//!   its own is not reachable: quanta is a dependency of `tradeflow-core` only.)
//! - `latency_record`: `Histogram::saturating_record` on a preallocated histogram, and
//!   `LatencyRecorder::record` (hop + end-to-end: two records).
//!
//! Every group has a `base` bench: the harness itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks: a failure must stop the run

mod common;

use common::Fixture;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::{black_box, spin_loop};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tradeflow::core::latency::new_histogram;
use tradeflow::core::{Event, LatencyRecorder, MonoClock, StageId};

/// `seq` of the event that stops the echo thread.
const STOP: u64 = u64::MAX;

/// One end of a two-way link between two threads; both directions busy-poll.
trait Link: Send + 'static {
    /// Sends, spinning while the queue is full.
    fn send(&mut self, ev: Event);
    /// Receives, spinning until an event arrives.
    fn recv(&mut self) -> Event;
}

struct RtrbLink {
    tx: rtrb::Producer<Event>,
    rx: rtrb::Consumer<Event>,
}

impl Link for RtrbLink {
    #[inline]
    fn send(&mut self, mut ev: Event) {
        while let Err(rtrb::PushError::Full(back)) = self.tx.push(ev) {
            ev = back;
            spin_loop();
        }
    }
    #[inline]
    fn recv(&mut self) -> Event {
        loop {
            if let Ok(ev) = self.rx.pop() {
                return ev;
            }
            spin_loop();
        }
    }
}

struct ChannelLink {
    tx: crossbeam_channel::Sender<Event>,
    rx: crossbeam_channel::Receiver<Event>,
}

impl Link for ChannelLink {
    #[inline]
    fn send(&mut self, mut ev: Event) {
        while let Err(crossbeam_channel::TrySendError::Full(back)) = self.tx.try_send(ev) {
            ev = back;
            spin_loop();
        }
    }
    #[inline]
    fn recv(&mut self) -> Event {
        loop {
            if let Ok(ev) = self.rx.try_recv() {
                return ev;
            }
            spin_loop();
        }
    }
}

fn rtrb_pair(capacity: usize) -> (RtrbLink, RtrbLink) {
    let (a_tx, a_rx) = rtrb::RingBuffer::new(capacity);
    let (b_tx, b_rx) = rtrb::RingBuffer::new(capacity);
    (RtrbLink { tx: a_tx, rx: b_rx }, RtrbLink { tx: b_tx, rx: a_rx })
}

fn channel_pair(capacity: usize) -> (ChannelLink, ChannelLink) {
    let (a_tx, a_rx) = crossbeam_channel::bounded(capacity);
    let (b_tx, b_rx) = crossbeam_channel::bounded(capacity);
    (ChannelLink { tx: a_tx, rx: b_rx }, ChannelLink { tx: b_tx, rx: a_rx })
}

fn pin(core: Option<usize>) {
    if let Some(id) = core {
        assert!(core_affinity::set_for_current(core_affinity::CoreId { id }), "cannot pin to core {id}");
    }
}

/// A pinger and an echo thread, pinned, started behind a barrier. The pinger times batches of
/// round trips on request, so the criterion thread (unpinned) only waits for the figures.
struct PingPong {
    batches: Option<mpsc::Sender<u64>>,
    times: mpsc::Receiver<Duration>,
    threads: Vec<JoinHandle<()>>,
}

impl PingPong {
    fn start<L: Link>((mut ping, mut echo): (L, L), cores: Option<(usize, usize)>, ev: Event) -> PingPong {
        let barrier = Arc::new(Barrier::new(3));
        let (batches, batch_rx) = mpsc::channel::<u64>();
        let (time_tx, times) = mpsc::channel();
        let b = barrier.clone();
        let echo_thread = std::thread::spawn(move || {
            pin(cores.map(|c| c.1));
            b.wait();
            loop {
                let ev = echo.recv();
                if ev.header().seq == STOP {
                    return;
                }
                echo.send(ev);
            }
        });
        let b = barrier.clone();
        let ping_thread = std::thread::spawn(move || {
            pin(cores.map(|c| c.0));
            b.wait();
            let mut ev = ev;
            while let Ok(round_trips) = batch_rx.recv() {
                let t = Instant::now();
                for i in 0..round_trips {
                    ev.header_mut().seq = i;
                    ping.send(ev);
                    ev = ping.recv();
                }
                let _ = time_tx.send(t.elapsed() / 2);
            }
            ev.header_mut().seq = STOP;
            ping.send(ev);
        });
        barrier.wait();
        PingPong { batches: Some(batches), times, threads: vec![ping_thread, echo_thread] }
    }

    /// Time of `round_trips` round trips, halved (one hop per iteration).
    fn run(&self, round_trips: u64) -> Duration {
        self.batches.as_ref().expect("running").send(round_trips).expect("pinger alive");
        self.times.recv().expect("pinger alive")
    }
}

impl Drop for PingPong {
    fn drop(&mut self) {
        self.batches = None; // the pinger stops the echo thread and returns
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn ring_hop(c: &mut Criterion) {
    let cores = common::two_cores();
    let ev = Fixture::new().signal(1);
    let mut g = c.benchmark_group("ring_hop");
    g.throughput(Throughput::Elements(1));
    g.bench_function("base", |b| b.iter(|| black_box(&ev)));
    {
        let (mut tx, mut rx) = rtrb::RingBuffer::<Event>::new(4096);
        g.bench_function("rtrb_same_thread_push_pop", |b| {
            b.iter(|| {
                let _ = tx.push(black_box(ev));
                black_box(rx.pop().ok())
            })
        });
    }
    {
        let (tx, rx) = crossbeam_channel::bounded::<Event>(4096);
        g.bench_function("crossbeam_same_thread_send_recv", |b| {
            b.iter(|| {
                let _ = tx.try_send(black_box(ev));
                black_box(rx.try_recv().ok())
            })
        });
    }
    {
        let pp = PingPong::start(rtrb_pair(4096), cores, ev);
        g.bench_function("rtrb_cross_thread", |b| b.iter_custom(|n| pp.run(n)));
    }
    {
        let pp = PingPong::start(channel_pair(4096), cores, ev);
        g.bench_function("crossbeam_cross_thread", |b| b.iter_custom(|n| pp.run(n)));
    }
    g.finish();
}

fn clock(c: &mut Criterion) {
    let mono = MonoClock::new();
    let mut g = c.benchmark_group("clock");
    g.throughput(Throughput::Elements(1));
    g.bench_function("base", |b| b.iter(|| black_box(0u64)));
    g.bench_function("mono_clock_now_ns", |b| b.iter(|| mono.now_ns()));
    g.bench_function("std_instant_now", |b| b.iter(Instant::now));
    g.finish();
}

/// 1024 latencies from 50 ns to ~1 ms, spread over the histogram's buckets (fixed LCG seed).
fn latencies() -> Vec<u64> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..1024)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (50 << ((x >> 33) % 15)) | ((x >> 40) % 64)
        })
        .collect()
}

fn latency_record(c: &mut Criterion) {
    let values = latencies();
    let fx = Fixture::new();
    let signal = fx.signal(1);
    let mut g = c.benchmark_group("latency_record");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("base", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            black_box(values[i & 1023])
        })
    });
    let mut hist = new_histogram();
    g.bench_function("histogram_saturating_record", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            hist.saturating_record(black_box(values[i & 1023]));
        })
    });
    let mut rec = LatencyRecorder::new(StageId::Risk);
    rec.record(&signal, common::NOW_NS + 100);
    assert_eq!(rec.e2e(signal.kind()).map(|h| h.max()), Some(100), "risk records a signal's latency");
    g.bench_function("latency_recorder_record_signal", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            rec.record(black_box(&signal), common::NOW_NS + values[i & 1023]);
        })
    });
    g.finish();
}

criterion_group!(benches, ring_hop, clock, latency_record);
criterion_main!(benches);
