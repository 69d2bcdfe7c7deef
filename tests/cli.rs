//! The binary as a user runs it: `run` on the embedded default, `check-config`, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use std::process::Command;

fn tradeflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    c.env_remove("TRADEFLOW_LOG");
    c
}

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn run_on_the_default_config_prints_the_summary() {
    let out = tradeflow().args(["run", "--signals", "3000", "--rate", "20000", "--no-progress"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    for want in [
        "events by type",
        "signal.generated",
        "3000",
        "win rate",
        "net PnL",
        "kill switch",
        "latency (ns)",
        "hop signal.generated → risk",
    ] {
        assert!(stdout.contains(want), "summary lacks {want:?}:\n{stdout}");
    }
}

#[test]
fn inline_run_with_events_out_writes_json_lines() {
    let path = std::env::temp_dir().join(format!("tradeflow-cli-{}.jsonl", std::process::id()));
    let out = tradeflow()
        .args(["run", "--inline", "--signals", "500", "--seed", "3", "--no-progress", "--events-out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut signals = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v["payload"]["trace_id"].is_string() && v["source"].is_string());
        if v["event_type"] == "signal.generated" {
            signals += 1;
        }
    }
    assert_eq!(signals, 500);
    let _ = std::fs::remove_file(path);
}

#[test]
fn signals_from_stdin() {
    use std::io::Write;
    let mut child = tradeflow()
        .args(["run", "--signals-file", "-", "--no-progress"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for i in 0..10 {
            writeln!(stdin, r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"stdin-{i}"}}"#).unwrap();
        }
        writeln!(stdin, "not json").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("JSON_SYNTAX"), "{stdout}");
    let line = stdout.lines().find(|l| l.trim_start().starts_with("signal.generated")).unwrap();
    assert!(line.trim_end().ends_with(" 10"), "{line}");
}

#[test]
fn check_config_accepts_shipped_configs_and_lists_every_problem() {
    for f in ["config/default.toml", "config/bench.toml"] {
        let out = tradeflow().args(["check-config", &root(f)]).output().unwrap();
        assert!(out.status.success(), "{f}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("risk      → gateway"));
    }
    let bad = std::env::temp_dir().join(format!("tradeflow-bad-{}.toml", std::process::id()));
    std::fs::write(&bad, "models = []\n[topology]\nring_capacity = 1000\n[risk]\nactive_profile = \"NOPE\"\n[gateway]\nvenue = \"moon\"\n").unwrap();
    let out = tradeflow().args(["check-config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in ["ring_capacity", "NOPE", "moon", "models"] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    let _ = std::fs::remove_file(bad);
}

#[test]
fn bad_options_fail_with_a_clear_message() {
    let out = tradeflow().args(["run", "--rate", "-5", "--no-progress"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rate"));
    let out =
        tradeflow().args(["run", "--signals", "10", "--events-out", "/nonexistent-dir/x.jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.jsonl"));
    let out = tradeflow().args(["--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("check-config"));
}

#[test]
fn duration_and_ctrl_c_end_an_unbounded_run_with_a_report() {
    let start = std::time::Instant::now();
    let out = tradeflow()
        .args(["run", "--signals", "0", "--rate", "5000", "--duration", "1", "--no-progress"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("events by type"));
    assert!(start.elapsed() < std::time::Duration::from_secs(30));

    let child = tradeflow()
        .args(["run", "--signals", "0", "--rate", "5000", "--no-progress"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("events by type"), "{stdout}");
}
