//! `tradeflow bench`: paced (open-loop) and burst load through the real pipeline, the same
//! pipeline over baseline transports and the floors measured in the same run, and histogram
//! reports (terminal table, `.hgrm`, `summary.json`, SVG).

pub mod cli;
pub mod client;
pub mod floor;
pub mod mirror;
pub mod paper;
pub mod park;
pub mod redis_source;
pub mod report;
pub mod runner;
pub mod targets;
pub mod tcp;
pub mod ws;

pub use runner::{apply_placement, BenchOutcome, BenchPlan, Compare, Placement, TargetCheck, BENCH_TOML};
