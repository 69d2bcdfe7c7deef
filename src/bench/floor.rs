//! The floors a pipeline is measured against in the same run: one bare ring hop between the
//! two cores the pipeline uses (rtrb ping-pong), and the compute of every stage for one signal
//! on one thread (the inline runtime).

use crate::config::Config;
use crate::pipeline::PipelineBuilder;
use crate::runtime::RuntimeError;
use hdrhistogram::Histogram;
use std::sync::{Arc, Barrier};
use tradeflow_core::{Event, Header, MarketTick, MonoClock, Price};

/// The one-hop floor: `round_trips` ping-pongs of an [`Event`] over two rtrb rings between a
/// thread on `core_a` and one on `core_b` (unpinned where `None`); each sample is half a round
/// trip, in ns. The first `warmup` round trips are not recorded.
pub fn ring_hop_floor(core_a: Option<usize>, core_b: Option<usize>, round_trips: u64, warmup: u64) -> Histogram<u64> {
    let (mut ping_tx, mut ping_rx) = rtrb::RingBuffer::<Event>::new(64);
    let (mut pong_tx, mut pong_rx) = rtrb::RingBuffer::<Event>::new(64);
    let barrier = Arc::new(Barrier::new(2));
    let total = round_trips + warmup;
    let echo_barrier = barrier.clone();
    let echo = std::thread::spawn(move || {
        pin(core_b);
        echo_barrier.wait();
        let mut n = 0;
        while n < total {
            if let Ok(ev) = ping_rx.pop() {
                while pong_tx.push(ev).is_err() {
                    std::hint::spin_loop();
                }
                n += 1;
            } else {
                std::hint::spin_loop();
            }
        }
    });
    // The measuring side runs on its own thread too: pinning the caller would change the core
    // mask every later thread inherits.
    let ping = std::thread::spawn(move || {
        pin(core_a);
        let clock = MonoClock::new();
        let mut hist = tradeflow_core::latency::new_histogram();
        let ev = Event::MarketTick(MarketTick { header: Header::default(), price: Price(1) });
        barrier.wait();
        for i in 0..total {
            let t0 = clock.now_ns();
            while ping_tx.push(ev).is_err() {
                std::hint::spin_loop();
            }
            while pong_rx.pop().is_err() {
                std::hint::spin_loop();
            }
            let rtt = clock.now_ns().saturating_sub(t0);
            if i >= warmup {
                hist.saturating_record((rtt / 2).max(1));
            }
        }
        hist
    });
    let _ = echo.join();
    ping.join().unwrap_or_else(|_| tradeflow_core::latency::new_histogram())
}

fn pin(core: Option<usize>) {
    if let Some(id) = core {
        let _ = core_affinity::set_for_current(core_affinity::CoreId { id });
    }
}

/// The compute floor: every stage on one thread (inline runtime, virtual clock, no rings
/// between threads) for `signals` unpaced synthetic signals. Returns (signals, wall seconds).
pub fn inline_compute_floor(cfg: &Config, signals: u64) -> Result<(u64, f64), RuntimeError> {
    let mut cfg = cfg.clone();
    cfg.ingress.source = tradeflow_ingress::IngressSource::Synthetic;
    cfg.ingress.synthetic.count = signals;
    cfg.ingress.synthetic.rate_per_sec = 0.0;
    cfg.run.duration_s = 0.0;
    let report = PipelineBuilder::new(cfg).run_inline()?;
    Ok((report.signals(), report.elapsed.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_records_every_round_trip_after_warmup() {
        let h = ring_hop_floor(None, None, 500, 50);
        assert_eq!(h.len(), 500);
        assert!(h.min() >= 1);
    }
}
