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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tradeflow::runtime::inline::{InlineLimits, InlineRuntime};
use tradeflow::runtime::{build_stages, SignalSource};
use tradeflow::Config;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.load(Ordering::SeqCst) - before
}

#[test]
fn the_counter_sees_a_deliberate_allocation() {
    let n = allocations_during(|| {
        let v = std::hint::black_box(vec![1u8; 64]);
        drop(v);
    });
    assert!(n >= 1);
}

#[test]
fn stages_do_not_allocate_per_signal() {
    let mut cfg = Config::embedded_default().unwrap();
    cfg.ingress.synthetic.count = 50_000;
    cfg.ingress.synthetic.rate_per_sec = 20_000.0;
    let catalog = Arc::new(cfg.catalog().unwrap());
    let kill = Arc::new(tradeflow::core::KillSwitch::new());
    let stages = build_stages(&cfg, &catalog, &kill, &SignalSource::Configured, true).unwrap();
    let mut rt = InlineRuntime::new(stages, 1_767_225_600_000_000_000);
    let stop = AtomicBool::new(false);
    let limits = InlineLimits { until_ns: u64::MAX, stop: &stop, flatten: true, drain_ns: 10_000_000_000 };
    let n = allocations_during(|| rt.run(&mut [], limits));
    let results = rt.finish();
    let signals: u64 = results.iter().map(|r| r.tally.count(tradeflow::core::EventKind::SignalGenerated)).sum();
    let closed: u64 = results.iter().map(|r| r.tally.count(tradeflow::core::EventKind::PositionClosed)).sum();
    assert_eq!(signals, 50_000);
    assert!(closed > 100, "the run must exercise the whole chain (closed {closed})");
    assert_eq!(n, 0, "{n} heap allocations during a 50,000-signal run");
}
