//! A short `tradeflow bench` run as a user runs it: every scenario kind, every report file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use std::process::Command;
use tradeflow::bench::report::parse_hgrm;

#[test]
fn bench_smoke_run_writes_every_report() {
    let out_dir = std::env::temp_dir().join(format!("tradeflow-bench-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/default.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["bench", "--config", config, "--placement", "config", "--rate", "2000", "--duration", "0.3"])
        .args(["--warmup", "0.1", "--burst", "20000", "--compare", "all", "--no-progress"])
        .args(["--tcp", "2000", "--tcp-acks", "--ws", "2000", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for want in [
        "tradeflow@2000/s",
        "crossbeam@2000/s",
        "disruptor@2000/s",
        "tradeflow:burst",
        "floor:rtrb-hop",
        "tcp@2000/s",
        "targets",
    ] {
        assert!(stdout.contains(want), "no {want} in:\n{stdout}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let scenarios = summary["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 10, "{} scenarios", scenarios.len());
    // The TCP and WebSocket scenarios measured client-stamped send → order after warm-up: every
    // signal crossed the ingress → risk ring; those risk approved (the default config's limits
    // deny many of a burst like this) were measured to the venue.
    for name in ["tcp@2000/s", "ws@2000/s"] {
        let s = scenarios.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name} in summary.json"));
        assert!(s["signals"].as_u64().unwrap() >= 700, "{s}");
        let hist = |h: &str| s["histograms"][h]["count"].as_u64().unwrap_or(0);
        assert!(hist("hop_ingress_to_risk") >= 500, "{s}");
        assert!(hist("tick_to_order") >= 1, "{s}");
    }
    let hgrms: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "hgrm"))
        .collect();
    assert!(hgrms.len() >= 10, "{} .hgrm files", hgrms.len());
    for p in &hgrms {
        let rows = parse_hgrm(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert!(!rows.is_empty(), "{}", p.display());
    }
    assert!(out_dir.join("tick_to_order.svg").exists());
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn bench_rejects_bad_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["bench", "--rate", "0", "--duration", "-1", "--tcp", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--rate") && err.contains("--duration") && err.contains("--tcp"), "{err}");
}
