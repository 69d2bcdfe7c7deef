//! The signal client of the network-source scenarios (`bench --tcp`, `bench --redis-source`):
//! reference `signal.generated` JSON stamped with its send time on the run's own clock, sent
//! open loop at a paced rate by a thread that sleeps between signals.

use std::time::{Duration, Instant};

use crate::config::{Config, WaitStrategy};
use crate::pipeline::Pipeline;
use crate::runtime::RuntimeError;
use tradeflow_core::{EventKind, MonoClock};

/// An error of a bench client.
pub fn client_err(message: String) -> RuntimeError {
    RuntimeError::Stage { stage: "bench client", message }
}

/// `cfg` for a scenario whose client thread needs CPU: spinning threads yield instead; no
/// duration, no progress line, no mirror.
pub fn client_friendly(cfg: &Config) -> Config {
    let mut cfg = cfg.clone();
    yield_instead_of_spin(&mut cfg);
    cfg.run.duration_s = 0.0;
    cfg.run.progress = false;
    cfg.mirror.enabled = false;
    cfg
}

/// Every spinning stage thread of `cfg` yields instead (scenarios with threads of their own —
/// a client, a mock exchange — on a small machine).
pub fn yield_instead_of_spin(cfg: &mut Config) {
    for t in &mut cfg.topology.threads {
        if t.wait == WaitStrategy::Spin {
            t.wait = WaitStrategy::Yield;
        }
    }
}

/// Builds the signals: symbols and models of the run's catalog in turn, alternating sides.
#[derive(Debug)]
pub struct SignalLines {
    symbols: Vec<String>,
    models: Vec<String>,
    clock: MonoClock,
    prefix: &'static str,
    line: String,
}

impl SignalLines {
    /// Signals for `pipeline`'s catalog, trace ids `<prefix>-<n>`.
    pub fn new(pipeline: &Pipeline, prefix: &'static str) -> Result<SignalLines, RuntimeError> {
        let symbols: Vec<String> = pipeline.catalog().instruments().iter().map(|i| i.symbol.to_string()).collect();
        let models: Vec<String> = pipeline.catalog().models().to_vec();
        if symbols.is_empty() || models.is_empty() {
            return Err(client_err("the config has no instruments or no models to send signals for".into()));
        }
        Ok(SignalLines { symbols, models, clock: pipeline.clock().clone(), prefix, line: String::with_capacity(256) })
    }

    /// Signal `n` as one JSON object (no newline), its `timestamp` = now on the run's clock (µs).
    pub fn signal(&mut self, n: u64) -> &str {
        use std::fmt::Write as _;
        let symbol = &self.symbols[n as usize % self.symbols.len()];
        let model = &self.models[(n as usize / self.symbols.len()) % self.models.len()];
        let side = if n % 2 == 0 { "BUY" } else { "SELL" };
        let us = (self.clock.now_ns() as i64 + self.clock.wall_offset_ns()) / 1_000;
        self.line.clear();
        let _ = write!(
            self.line,
            r#"{{"symbol":"{symbol}","side":"{side}","confidence":0.9,"timeframe":"1h","model_version":"{model}","trace_id":"{}-{n}","timestamp":{}.{:06}}}"#,
            self.prefix,
            us / 1_000_000,
            us % 1_000_000
        );
        &self.line
    }
}

/// Open-loop pacing at `rate`: [`Pacing::wait`] sleeps (never spins, so the client does not
/// take a core from the stage threads) until signal `n` is due; a late wake-up sends the
/// signals due meanwhile back to back.
#[derive(Debug)]
pub struct Pacing {
    start: Instant,
    gap: Duration,
}

impl Pacing {
    /// Starts now.
    pub fn new(rate: f64) -> Pacing {
        Pacing { start: Instant::now(), gap: Duration::from_secs_f64(1.0 / rate) }
    }

    /// Sleeps until signal `n` is due.
    pub fn wait(&self, n: u64) {
        let due = self.start + self.gap.mul_f64(n as f64);
        let now = Instant::now();
        if now < due {
            std::thread::sleep(due - now);
        }
    }
}

/// Waits (at most 10 s) until the pipeline has emitted `n` signals.
pub fn wait_for_signals(pipeline: &Pipeline, n: u64) {
    let from = Instant::now();
    while pipeline.progress().count(EventKind::SignalGenerated) < n && from.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(2));
    }
}
