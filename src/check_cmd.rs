//! `tradeflow check-config`: the resolved config (every layer applied, passwords hidden), its
//! topology and its warnings, or every problem at once.

use crate::cli::CheckArgs;
use crate::config::{Config, CoreSpec};
use tradeflow_core::{emits, StageId};

/// Replaces the password of every URL in `v` (Redis URLs in `[mirror]`, `[ingress.redis]`)
/// with `***`: printed configs never show one.
fn redact_urls(v: &mut toml::Value) {
    match v {
        toml::Value::String(s) if s.contains("://") => *s = tradeflow_core::redact_url(s),
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| redact_urls(v)),
        toml::Value::Array(a) => a.iter_mut().for_each(redact_urls),
        _ => {}
    }
}

/// `tradeflow check-config FILE`. Returns the process exit code.
pub fn check_config(a: &CheckArgs) -> i32 {
    let mut shown = "embedded default config".to_owned();
    if let Some(f) = &a.file {
        shown.push_str(&format!(" + {}", f.display()));
    }
    if !a.sets.is_empty() {
        shown.push_str(" + --set");
    }
    match crate::layered::resolve_default(a.file.as_deref(), &a.sets) {
        Ok(r) => {
            print_topology(&r.config);
            let warnings = r.config.warnings();
            if !warnings.is_empty() {
                println!("warnings ({}):", warnings.len());
                for w in &warnings {
                    println!("  - {w}");
                }
            }
            let mut table = r.table;
            table.iter_mut().for_each(|(_, v)| redact_urls(v));
            let text = format!("resolved config ({shown}):\n{table}");
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            0
        }
        Err(e) => {
            eprintln!("{shown}: {} problem(s)", e.0.len());
            for p in &e.0 {
                eprintln!("  - {p}");
            }
            1
        }
    }
}

fn print_topology(cfg: &Config) {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "config OK");
    let cores = crate::pipeline::core_ids();
    let _ = writeln!(o, "threads (machine cores available: {cores:?}):");
    for th in &cfg.topology.threads {
        let core = match th.core {
            CoreSpec::Core(c) if cores.contains(&c) => format!("core {c}"),
            CoreSpec::Core(c) => format!("core {c} (NOT PRESENT on this machine: run would fail)"),
            CoreSpec::None => "unpinned".into(),
        };
        let _ = writeln!(o, "  {:<10} {:<10} wait={:<8?} stages: {}", th.name, core, th.wait, th.stages.join(", "));
    }
    let _ = writeln!(
        o,
        "rings (capacity {}, copy rings {}, policy {:?}):",
        cfg.topology.ring_capacity, cfg.topology.copy_ring_capacity, cfg.topology.copy_policy
    );
    for p in StageId::ALL {
        for c in StageId::ALL {
            let kinds: Vec<&str> = emits(p).iter().filter(|k| k.consumers().contains(&c)).map(|k| k.name()).collect();
            if !kinds.is_empty() {
                let _ = writeln!(o, "  {:<9} → {:<9} {}", p.name(), c.name(), kinds.join(", "));
            }
        }
    }
    let syms: Vec<&str> = cfg.instruments.iter().map(|i| i.symbol.as_str()).collect();
    let _ = writeln!(o, "instruments: {}", syms.join(", "));
    let _ = writeln!(o, "models: {}", cfg.models.join(", "));
    let _ = writeln!(
        o,
        "risk profiles: {} (active {})",
        tradeflow_risk::profile_names(&cfg.risk).join(", "),
        cfg.risk.active_profile
    );
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), o.as_bytes());
}
