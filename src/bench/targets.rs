//! The performance targets, checked against figures measured in the same run (never asserted
//! in tests: the machine is shared and noisy; the report says which hold).

use super::report::Scenario;
use super::runner::{TargetCheck, HOP, HOP_INGRESS_RISK, TICK_TO_ORDER};
use hdrhistogram::Histogram;

/// Sustained burst throughput target (signals/s through ingress → risk → gateway → position).
pub const BURST_TARGET_PER_S: f64 = 5_000_000.0;

fn hist<'a>(s: &'a Scenario, name: &str) -> Option<&'a Histogram<u64>> {
    s.histograms.iter().find(|(n, _)| n == name).map(|(_, h)| h)
}

fn q(h: &Histogram<u64>, p: f64) -> f64 {
    h.value_at_quantile(p) as f64
}

fn check(name: String, measured: f64, bound: f64, unit: &str) -> TargetCheck {
    TargetCheck { name, detail: format!("{measured:.0} {unit} vs bound {bound:.0} {unit}"), met: measured <= bound }
}

/// Every target that this run's scenarios allow checking.
pub fn check_all(scenarios: &[Scenario]) -> Vec<TargetCheck> {
    let mut out = Vec::new();
    let floor_hop = scenarios.iter().find(|s| s.kind == "floor").and_then(|s| hist(s, HOP)).map(|h| q(h, 0.5));
    let inline_ns =
        scenarios.iter().find(|s| s.name == "floor:inline-compute").map(|s| 1e9 / s.throughput_per_s.max(1e-9));
    for s in scenarios.iter().filter(|s| s.kind == "tradeflow" && s.rate_per_sec.is_some()) {
        if let (Some(floor), Some(h)) = (floor_hop, hist(s, HOP_INGRESS_RISK)) {
            out.push(check(format!("{}: hop p50 ≤ 1.2 × ring floor", s.name), q(h, 0.5), 1.2 * floor, "ns"));
        }
        if let (Some(floor), Some(compute), Some(h)) = (floor_hop, inline_ns, hist(s, TICK_TO_ORDER)) {
            let bound = 2.0 * (2.0 * floor + compute);
            out.push(check(
                format!("{}: tick-to-order p50 ≤ 2 × (2 hops × floor + inline compute)", s.name),
                q(h, 0.5),
                bound,
                "ns",
            ));
        }
        for (kind, factor) in [("crossbeam", 0.7), ("disruptor", 1.0)] {
            let Some(other) = scenarios.iter().find(|o| o.kind == kind && o.rate_per_sec == s.rate_per_sec) else {
                continue;
            };
            let (Some(a), Some(b)) = (hist(s, TICK_TO_ORDER), hist(other, TICK_TO_ORDER)) else { continue };
            for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
                out.push(check(
                    format!("{}: tick-to-order {label} ≤ {factor} × {kind}", s.name),
                    q(a, p),
                    factor * q(b, p),
                    "ns",
                ));
            }
        }
    }
    if let Some(b) = scenarios.iter().find(|s| s.kind == "tradeflow" && s.rate_per_sec.is_none()) {
        out.push(TargetCheck {
            name: format!("{}: sustained throughput ≥ 5,000,000 signals/s", b.name),
            detail: format!("{:.0} signals/s", b.throughput_per_s),
            met: b.throughput_per_s >= BURST_TARGET_PER_S,
        });
    }
    out
}
