//! The `park` scenario (`bench --park RATE`): the same pipeline and placement at a low rate,
//! once with the config's threads as they are (spinning in `config/bench.toml`) and once with
//! every spinning or yielding thread set to `wait = "park"`, each with the CPU the process
//! used while it ran — what parking saves when there is little to do, and the wake-up latency
//! it adds.

use super::runner::run_pipeline;
use crate::config::{Config, TransportKind, WaitStrategy};
use crate::report::RunReport;
use crate::runtime::RuntimeError;

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat`; `None`
/// where that cannot be read.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat: the 12th and 13th after the command name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ: 100 on Linux
}

/// `cfg` with every spinning or yielding thread parking instead.
pub fn parked(cfg: &Config) -> Config {
    let mut cfg = cfg.clone();
    for t in &mut cfg.topology.threads {
        if matches!(t.wait, WaitStrategy::Spin | WaitStrategy::Yield) {
            t.wait = WaitStrategy::Park;
        }
    }
    cfg
}

/// One run at `rate` and the share of one core the process used meanwhile (1.0 = one core).
pub fn run_measuring_cpu(
    cfg: &Config,
    rate: f64,
    signals: u64,
    warmup_s: f64,
) -> Result<(RunReport, Option<f64>), RuntimeError> {
    let cpu0 = process_cpu_seconds();
    let started = std::time::Instant::now();
    let report = run_pipeline(cfg, TransportKind::Rtrb, rate, signals, warmup_s)?;
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    let share = cpu0.zip(process_cpu_seconds()).map(|(a, b)| (b - a) / wall);
    Ok((report, share))
}
