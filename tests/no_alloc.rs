//! No heap allocation per signal on the stages: a counting global allocator (this test binary
//! only) watches a whole inline run after construction, and proves it sees a deliberate
//! allocation. Only allocations made on the measuring thread count.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tests: a failure must stop the test

// A global allocator can only be written with `unsafe`; this test binary is the one place that
// needs it, and it only forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tradeflow::runtime::inline::{InlineLimits, InlineRuntime};
use tradeflow::runtime::{build_stages, SignalSource};
use tradeflow::Config;

struct Counting;

thread_local! {
    // Both the switch and the count are per thread: tests run in parallel threads, and each
    // counts only its own allocations.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            count_one();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            count_one();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get) - before
}

#[test]
fn the_counter_sees_a_deliberate_allocation() {
    let n = allocations_during(|| {
        let v = std::hint::black_box(vec![1u8; 64]);
        drop(v);
    });
    assert!(n >= 1);
}

/// Runs `signals` paced synthetic signals inline on `cfg` and returns (allocations during the
/// run, signals, positions closed).
fn inline_run_allocations(mut cfg: Config, signals: u64) -> (u64, u64, u64) {
    cfg.ingress.synthetic.count = signals;
    cfg.ingress.synthetic.rate_per_sec = 20_000.0;
    let catalog = Arc::new(cfg.catalog().unwrap());
    let kill = Arc::new(tradeflow::core::KillSwitch::new());
    let stages = build_stages(&cfg, &catalog, &kill, &SignalSource::Configured, true).unwrap();
    let mut rt = InlineRuntime::new(stages, 1_767_225_600_000_000_000);
    let stop = AtomicBool::new(false);
    let limits = InlineLimits { until_ns: u64::MAX, stop: &stop, flatten: true, drain_ns: 10_000_000_000 };
    let n = allocations_during(|| rt.run(&mut [], limits));
    let results = rt.finish();
    let count = |k| results.iter().map(|r| r.tally.count(k)).sum::<u64>();
    (n, count(tradeflow::core::EventKind::SignalGenerated), count(tradeflow::core::EventKind::PositionClosed))
}

#[test]
fn stages_do_not_allocate_per_signal() {
    let (n, signals, closed) = inline_run_allocations(Config::embedded_default().unwrap(), 50_000);
    assert_eq!(signals, 50_000);
    assert!(closed > 100, "the run must exercise the whole chain (closed {closed})");
    assert_eq!(n, 0, "{n} heap allocations during a 50,000-signal run");
}

#[test]
fn bench_mode_does_not_allocate_per_signal() {
    // The benchmark config approves every signal: the full order → fill → position → exit path.
    let cfg = Config::from_toml_str(tradeflow::bench::BENCH_TOML).unwrap();
    let (n, signals, closed) = inline_run_allocations(cfg, 30_000);
    assert_eq!(signals, 30_000);
    assert!(closed > 25_000, "most signals must become closed positions (closed {closed})");
    assert_eq!(n, 0, "{n} heap allocations during a 30,000-signal bench-config run");
}
