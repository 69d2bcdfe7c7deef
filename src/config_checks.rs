//! Checks of `[topology]` and `[[instruments]]` that `check-config` and `run` share: every size that allocates is
//! bounded, the rings fit in memory, pinned cores exist on this machine, and no two spinning
//! threads share a core — so a config that cannot run is refused before anything allocates.

use crate::config::{CoreSpec, InstrumentConfig, ThreadConfig, TopologyConfig, WaitStrategy};
use tradeflow_core::StageId;

/// Every problem of `[topology]`: sizes within their bounds, rings that fit in memory, threads
/// that place every stage once, cores that exist and are not shared by spinning threads.
pub(crate) fn validate(t: &TopologyConfig, e: &mut Vec<String>) {
    for (name, v, max) in [
        ("ring_capacity", t.ring_capacity, MAX_RING_CAPACITY),
        ("copy_ring_capacity", t.copy_ring_capacity, MAX_COPY_RING_CAPACITY),
    ] {
        if !v.is_power_of_two() || v < 2 || v > max {
            e.push(format!("topology.{name}: must be a power of two from 2 to {max}, not {v}"));
        }
    }
    if t.batch == 0 || t.batch > MAX_BATCH {
        e.push(format!("topology.batch: must be from 1 to {MAX_BATCH}, not {}", t.batch));
    }
    check_ring_memory(t, e);
    if t.park_after_us > 1_000_000 {
        e.push(format!("topology.park_after_us: must be ≤ 1000000, not {}", t.park_after_us));
    }
    if t.park_sleep_us == 0 || t.park_sleep_us > 100_000 {
        e.push(format!("topology.park_sleep_us: must be from 1 to 100000, not {}", t.park_sleep_us));
    }
    let mut placed: Vec<(&str, &str)> = Vec::new();
    for (i, th) in t.threads.iter().enumerate() {
        if th.name.is_empty() || t.threads.iter().filter(|o| o.name == th.name).count() > 1 {
            e.push(format!("topology.threads[{i}].name: must be non-empty and unique ({:?})", th.name));
        }
        if th.stages.is_empty() {
            e.push(format!("topology.threads[{i}] ({}): runs no stage", th.name));
        }
        for s in &th.stages {
            if StageId::from_name(s).is_none() {
                e.push(format!("topology.threads[{i}] ({}): unknown stage {s:?}", th.name));
            } else if let Some((_, other)) = placed.iter().find(|(n, _)| n == s) {
                e.push(format!("topology: stage {s:?} placed on both {other:?} and {:?}", th.name));
            } else {
                placed.push((s.as_str(), th.name.as_str()));
            }
        }
    }
    for id in StageId::ALL {
        if !placed.iter().any(|(n, _)| *n == id.name()) {
            e.push(format!("topology: stage {:?} is not placed on any thread", id.name()));
        }
    }
    check_cores(t, e);
}

/// Largest `topology.ring_capacity` (events per trading ring: 128 MiB of 128-byte events).
pub const MAX_RING_CAPACITY: usize = 1 << 20;
/// Largest `topology.copy_ring_capacity` (events per copy ring: 512 MiB).
pub const MAX_COPY_RING_CAPACITY: usize = 1 << 22;
/// Largest `topology.batch`.
pub const MAX_BATCH: usize = 1 << 16;

/// The memory the rings of `t` take, in bytes (every trading route, the publisher's ring and
/// every copy ring, each slot one event).
pub fn ring_memory_bytes(t: &TopologyConfig) -> u128 {
    let routes = StageId::ALL
        .iter()
        .flat_map(|p| StageId::ALL.iter().map(move |c| (*p, *c)))
        .filter(|(p, c)| tradeflow_core::emits(*p).iter().any(|k| k.consumers().contains(c)))
        .count();
    let copies = StageId::ALL.iter().filter(|p| tradeflow_core::emits(**p).iter().any(|k| k.is_external())).count();
    let event = std::mem::size_of::<tradeflow_core::Event>() as u128;
    ((routes as u128 + 1) * t.ring_capacity as u128 + copies as u128 * t.copy_ring_capacity as u128) * event
}

/// The machine's physical memory in bytes (`MemTotal` of /proc/meminfo), when it can be read.
fn physical_memory_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The rings must fit in half the machine's memory (they are allocated up front).
fn check_ring_memory(t: &TopologyConfig, e: &mut Vec<String>) {
    let need = ring_memory_bytes(t);
    if let Some(total) = physical_memory_bytes() {
        if need > total / 2 {
            e.push(format!(
                "topology: the rings would take {} MiB, more than half of this machine's {} MiB; lower \
                 ring_capacity / copy_ring_capacity",
                need >> 20,
                total >> 20
            ));
        }
    }
}

/// Pinned cores must exist here, no two spinning threads may share a core, and there may be no
/// more spinning threads than cores.
fn check_cores(t: &TopologyConfig, e: &mut Vec<String>) {
    let available = crate::pipeline::core_ids();
    for th in &t.threads {
        if let CoreSpec::Core(c) = th.core {
            if !available.is_empty() && !available.contains(&c) {
                e.push(format!(
                    "topology.threads ({}): core {c} does not exist on this machine (cores: {available:?})",
                    th.name
                ));
            }
        }
    }
    let spinning: Vec<&ThreadConfig> = t.threads.iter().filter(|th| th.wait == WaitStrategy::Spin).collect();
    for (i, a) in spinning.iter().enumerate() {
        for b in &spinning[i + 1..] {
            if let (CoreSpec::Core(x), CoreSpec::Core(y)) = (a.core, b.core) {
                if x == y {
                    e.push(format!(
                        "topology: spinning threads {:?} and {:?} are both pinned to core {x} (each would starve \
                         the other); give them different cores or wait = \"yield\"",
                        a.name, b.name
                    ));
                }
            }
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if spinning.len() > cores {
        e.push(format!(
            "topology: {} spinning threads but only {cores} cores (spinning threads must not share cores)",
            spinning.len()
        ));
    }
}

/// Every problem of `[[instruments]]` and `models`.
pub(crate) fn validate_instruments(instruments: &[InstrumentConfig], models: &[String], e: &mut Vec<String>) {
    if instruments.is_empty() {
        e.push("instruments: at least one [[instruments]] entry is required".into());
    }
    for (i, ins) in instruments.iter().enumerate() {
        let p = format!("instruments[{i}] ({})", ins.symbol);
        for (name, v) in
            [("tick_size", ins.tick_size), ("step_size", ins.step_size), ("initial_price", ins.initial_price)]
        {
            if !v.is_finite() || v <= 0.0 || v > 1e9 {
                e.push(format!("{p}.{name}: must be a finite number > 0 and ≤ 1e9"));
            }
        }
        for (name, v) in
            [("min_qty", ins.min_qty), ("min_notional", ins.min_notional), ("annual_volatility", ins.annual_volatility)]
        {
            if !v.is_finite() || v < 0.0 {
                e.push(format!("{p}.{name}: must be a finite number ≥ 0"));
            }
        }
        if !ins.annual_drift.is_finite() {
            e.push(format!("{p}.annual_drift: must be finite"));
        }
    }
    if models.is_empty() {
        e.push("models: at least one model version is required".into());
    }
}
