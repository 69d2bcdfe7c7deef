//! Model versions are free text, as in the reference system: a model no config names is
//! registered on first sight and trades; a full registry refuses a new model clearly; the
//! allow-list is an opt-in RiskGuard check. Each runs the `tradeflow` binary on a signal file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use serde_json::Value;
use std::process::Command;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tradeflow-models-{}-{name}", std::process::id()))
}

/// A reference `signal.generated` line.
fn signal(model: &str, trace: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.85,"timeframe":"1h","model_version":"{model}","trace_id":"{trace}"}}"#
    )
}

/// Runs `tradeflow run` on `lines` with `sets` (`--set` overrides); returns the summary and
/// the event log (parsed).
fn run(name: &str, lines: &[String], sets: &[&str]) -> (String, Vec<Value>) {
    let (input, events) = (temp(&format!("{name}.in.jsonl")), temp(&format!("{name}.out.jsonl")));
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    cmd.env_remove("TRADEFLOW_LOG").args(["run", "--no-progress", "--signals-file"]).arg(&input);
    cmd.arg("--events-out").arg(&events);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let log = std::fs::read_to_string(&events).unwrap();
    let _ = (std::fs::remove_file(input), std::fs::remove_file(events));
    (stdout, log.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

/// The payloads of `event_type` events of trace `trace`.
fn of<'a>(log: &'a [Value], event_type: &str, trace: &str) -> Vec<&'a Value> {
    log.iter()
        .filter(|e| e["event_type"] == event_type && e["payload"]["trace_id"] == trace)
        .map(|e| &e["payload"])
        .collect()
}

#[test]
fn a_model_no_config_names_is_registered_and_trades() {
    let (summary, log) = run("new", &[signal("test_v1", "new-model-1"), signal("test_v1", "new-model-2")], &[]);
    for t in ["new-model-1", "new-model-2"] {
        let sig = of(&log, "signal.generated", t);
        assert_eq!(sig.len(), 1, "{t}: {log:#?}");
        assert_eq!(sig[0]["model_version"], "test_v1");
        assert!(of(&log, "system.event_error", t).is_empty(), "{t} refused: {log:#?}");
    }
    assert_eq!(of(&log, "position.opened", "new-model-1").len(), 1, "the new model's signal opened a position");
    let closed = of(&log, "position.closed", "new-model-1");
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["model_version"], "test_v1", "the outcome names the model for learning");
    let models = summary.lines().find(|l| l.trim_start().starts_with("models")).expect("a models line");
    assert!(models.contains("test_v1") && models.contains("1 new this run"), "{models}");
}

#[test]
fn a_full_registry_refuses_a_new_model_with_its_own_code() {
    // The default config names four models; a registry of four has no room for a fifth.
    let lines = [signal("test_v1", "full-1"), signal("ensemble_v2", "known-1")];
    let (summary, log) = run("full", &lines, &["ingress.max_models=4"]);
    let errs = of(&log, "system.event_error", "full-1");
    assert_eq!(errs.len(), 1, "{log:#?}");
    assert_eq!(errs[0]["error_type"], "MODEL_REGISTRY_FULL");
    let msg = errs[0]["error_message"].as_str().unwrap();
    assert!(msg.contains("model_version") && msg.contains("test_v1") && msg.contains("registry is full"), "{msg}");
    assert!(of(&log, "signal.generated", "full-1").is_empty());
    assert_eq!(of(&log, "signal.generated", "known-1").len(), 1, "configured models still trade");
    assert!(summary.contains("MODEL_REGISTRY_FULL"), "{summary}");
}

#[test]
fn the_allow_list_is_an_opt_in_pre_trade_check() {
    let lines = [signal("test_v1", "listed-no"), signal("ensemble_v2", "listed-yes")];
    let (_, log) = run("allow", &lines, &[r#"risk.guard.allowed_models=["ensemble_v2"]"#]);
    let denied = of(&log, "signal.denied", "listed-no");
    assert_eq!(denied.len(), 1, "{log:#?}");
    assert_eq!(
        (&denied[0]["denial_code"], &denied[0]["model_version"]),
        (&"MODEL_NOT_ALLOWED".into(), &"test_v1".into())
    );
    assert!(of(&log, "signal.denied", "listed-yes").is_empty());
    assert_eq!(of(&log, "trade.execution_requested", "listed-yes").len(), 1);
}
