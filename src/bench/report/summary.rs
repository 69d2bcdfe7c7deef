//! `summary.json`: one machine-readable document per run, described by the JSON Schema
//! `bench/summary.schema.json` (draft 2020-12).
//!
//! ```text
//! { "schema_version": 1, "tool": "tradeflow bench", "command", "created_unix_s",
//!   "host": { cpu_model, cores_online, cores_used, kernel, governor|null, isolated_cores|null,
//!             git_commit|null },
//!   "config_toml",
//!   "scenarios": [ { name, kind, rate_per_sec|null, signals, elapsed_s, throughput_per_s,
//!                    "histograms": { <name>: { count, min_ns, mean_ns, stddev_ns, p50_ns, p90_ns,
//!                                              p99_ns, p99_9_ns, p99_99_ns, max_ns } } } ],
//!   "ratios": [ { scenario, metric, histogram, baseline, tradeflow, other, ratio } ] }
//! ```
//!
//! Latencies are integer nanoseconds (each the highest value equivalent to the percentile in the
//! histogram), except mean and standard deviation. Bump [`SCHEMA_VERSION`] and the schema file
//! together whenever a field changes meaning or disappears.

use super::{HostInfo, Ratio, Scenario};
use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Version of the `summary.json` layout; the schema pins it with `const`.
pub const SCHEMA_VERSION: u32 = 1;

/// The summary document of one run. `config_toml` is the effective config as TOML text and
/// `command` the command line that produced the run.
pub fn summary_json(
    scenarios: &[Scenario],
    ratios: &[Ratio],
    host: &HostInfo,
    config_toml: &str,
    command: &str,
) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "tradeflow bench",
        "command": command,
        "created_unix_s": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "host": host_json(host),
        "config_toml": config_toml,
        "scenarios": scenarios.iter().map(scenario_json).collect::<Vec<_>>(),
        "ratios": ratios.iter().map(ratio_json).collect::<Vec<_>>(),
    })
}

fn host_json(host: &HostInfo) -> Value {
    json!({
        "cpu_model": host.cpu_model,
        "cores_online": host.cores_online,
        "cores_used": host.cores_used,
        "kernel": host.kernel,
        "governor": host.governor,
        "isolated_cores": host.isolated_cores,
        "git_commit": host.git_commit,
    })
}

fn scenario_json(s: &Scenario) -> Value {
    let histograms: Map<String, Value> =
        s.histograms.iter().map(|(name, h)| (name.clone(), histogram_json(h))).collect();
    json!({
        "name": s.name,
        "kind": s.kind,
        "rate_per_sec": s.rate_per_sec,
        "signals": s.signals,
        "elapsed_s": s.elapsed_s,
        "throughput_per_s": s.throughput_per_s,
        "histograms": histograms,
    })
}

fn histogram_json(h: &Histogram<u64>) -> Value {
    json!({
        "count": h.len(),
        "min_ns": h.min(),
        "mean_ns": h.mean(),
        "stddev_ns": h.stdev(),
        "p50_ns": h.value_at_quantile(0.5),
        "p90_ns": h.value_at_quantile(0.9),
        "p99_ns": h.value_at_quantile(0.99),
        "p99_9_ns": h.value_at_quantile(0.999),
        "p99_99_ns": h.value_at_quantile(0.9999),
        "max_ns": h.max(),
    })
}

fn ratio_json(r: &Ratio) -> Value {
    json!({
        "scenario": r.scenario,
        "metric": r.metric,
        "histogram": r.histogram,
        "baseline": r.baseline,
        "tradeflow": r.tradeflow,
        "other": r.other,
        "ratio": r.ratio,
    })
}
