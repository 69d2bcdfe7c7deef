//! `tradeflow bench` from the command line.

use super::report::{self, HostInfo};
use super::{apply_placement, BenchPlan, Compare, BENCH_TOML};
use crate::cli::{Baseline, BenchArgs};
use crate::config::Config;
use std::io::IsTerminal;

fn plan_from(a: &BenchArgs) -> Result<(BenchPlan, String), String> {
    let (cfg, text) = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            (Config::from_toml_str(&text).map_err(|e| format!("invalid config {}:\n{e}", p.display()))?, text)
        }
        None => (
            Config::from_toml_str(BENCH_TOML).map_err(|e| format!("invalid embedded bench config:\n{e}"))?,
            BENCH_TOML.to_owned(),
        ),
    };
    let mut problems = Vec::new();
    if a.rate.iter().any(|r| !r.is_finite() || *r <= 0.0) {
        problems.push("--rate: every rate must be a finite number > 0".to_owned());
    }
    if !a.duration.is_finite() || a.duration <= 0.0 {
        problems.push("--duration: must be a finite number > 0".to_owned());
    }
    if !a.warmup.is_finite() || a.warmup < 0.0 {
        problems.push("--warmup: must be a finite number ≥ 0".to_owned());
    }
    if a.paper.is_some_and(|r| !r.is_finite() || r <= 0.0 || r > 20_000.0) {
        problems.push("--paper: must be a rate in (0, 20000] signals/s".to_owned());
    }
    for (name, rate) in [("--tcp", a.tcp), ("--ws", a.ws)] {
        if rate.is_some_and(|r| !r.is_finite() || r <= 0.0 || r > 200_000.0) {
            problems.push(format!("{name}: must be a rate in (0, 200000] signals/s"));
        }
    }
    if let Some(url) = &a.redis_source {
        if let Err(why) = tradeflow_ingress::redis::check_url(url) {
            problems.push(format!("--redis-source: {why}"));
        }
    }
    if a.park.is_some_and(|r| !r.is_finite() || r <= 0.0 || r > 100_000.0) {
        problems.push("--park: must be a rate in (0, 100000] signals/s".to_owned());
    }
    if a.burst == Some(0) || a.signals == Some(0) {
        problems.push("--burst / --signals: must be > 0".to_owned());
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let mut cfg = cfg;
    let cores = crate::pipeline::core_ids().len();
    apply_placement(&mut cfg, a.placement, cores);
    let all = a.compare.contains(&Baseline::All);
    let compare = Compare {
        floor: all || a.compare.contains(&Baseline::Floor),
        crossbeam: all || a.compare.contains(&Baseline::Crossbeam),
        disruptor: all || a.compare.contains(&Baseline::Disruptor),
    };
    let plan = BenchPlan {
        cfg,
        rates: a.rate.clone(),
        burst: a.burst,
        duration_s: a.duration,
        signals: a.signals,
        warmup_s: a.warmup,
        compare,
        paper: a.paper,
        tcp: a.tcp,
        tcp_acks: a.tcp_acks,
        redis_source: a.redis_source.clone(),
        ws: a.ws,
        mirror: a.mirror.clone(),
        park: a.park,
    };
    Ok((plan, text))
}

/// `tradeflow bench`. Returns the process exit code.
pub fn bench(a: &BenchArgs) -> i32 {
    let (plan, config_text) = match plan_from(a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("tradeflow bench: {e}");
            return 1;
        }
    };
    let bar = (!a.no_progress && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(plan.scenario_count() as u64);
        b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        b
    });
    let outcome = plan.run(|name| {
        if let Some(b) = &bar {
            if b.position() > 0 || !b.message().is_empty() {
                b.inc(1);
            }
            b.set_message(name.to_owned());
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tradeflow bench: {e}");
            return 2;
        }
    };
    let mut text = report::terminal_table(&outcome.scenarios, &outcome.ratios);
    if !outcome.cpu.is_empty() {
        text.push_str("\ncpu while the scenario ran (share of one core, whole process)\n");
        for (name, share) in &outcome.cpu {
            text.push_str(&format!("  {name:<24} {:>6.1} %\n", share * 100.0));
        }
    }
    text.push_str("\ntargets (measured in this run)\n");
    for t in &outcome.targets {
        text.push_str(&format!("  [{}] {} — {}\n", if t.met { "met " } else { "MISS" }, t.name, t.detail));
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    if let Some(dir) = &a.out {
        let host = HostInfo::detect(outcome.cores_used.clone());
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        match report::write_all(dir, &outcome.scenarios, &outcome.ratios, &host, &config_text, &command) {
            Ok(files) => println!("wrote {} files to {}", files.len(), dir.display()),
            Err(e) => {
                eprintln!("tradeflow bench: {e}");
                return 2;
            }
        }
    }
    0
}
