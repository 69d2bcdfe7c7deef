//! A recorded signal file runs on event time: the run's clock starts at the recording's first
//! timestamp and each signal keeps the age it had in the recording, so an old recording (the
//! reference scenario is stamped 2024-12-02) trades instead of being STALE_SIGNAL; `--clock
//! wall` and standard input keep wall-clock time and its staleness checks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use std::io::Write as _;
use std::process::{Command, Stdio};

/// The reference scenario's signal, `n` of them a minute apart from 1733155200.0, plus one
/// stamped `late_s` seconds before the newest (trace `late`) when asked.
fn recording(n: usize, late_s: Option<f64>) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "{{\"symbol\":\"BTCUSDT\",\"side\":\"BUY\",\"confidence\":0.85,\"timeframe\":\"1h\",\"model_version\":\"ensemble_v2\",\"trace_id\":\"test-signal-{i:03}\",\"timestamp\":{:.1},\"metadata\":{{}}}}\n",
            1_733_155_200.0 + 60.0 * i as f64
        ));
    }
    if let Some(late) = late_s {
        s.push_str(&format!(
            "{{\"symbol\":\"ETHUSDT\",\"side\":\"SELL\",\"confidence\":0.85,\"timeframe\":\"1h\",\"model_version\":\"ensemble_v2\",\"trace_id\":\"late\",\"timestamp\":{:.1},\"metadata\":{{}}}}\n",
            1_733_155_200.0 + 60.0 * (n - 1) as f64 - late
        ));
    }
    s
}

struct Run {
    code: Option<i32>,
    events: Vec<serde_json::Value>,
    stderr: String,
}

impl Run {
    fn of(&self, kind: &str) -> Vec<&serde_json::Value> {
        self.events.iter().filter(|e| e["event_type"] == kind).collect()
    }

    fn denied(&self, code: &str) -> usize {
        self.of("signal.denied").iter().filter(|d| d["payload"].to_string().contains(code)).count()
    }
}

fn run(file_text: &str, args: &[&str], stdin: bool) -> Run {
    let dir = std::env::temp_dir();
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let tag = format!("{}-{}", std::process::id(), RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let input = dir.join(format!("tradeflow-event-time-{tag}-{}.jsonl", stdin));
    let events = dir.join(format!("tradeflow-event-time-{tag}-{}-events.jsonl", stdin));
    std::fs::write(&input, file_text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    cmd.args(["run", "--no-progress", "--signals-file"]);
    if stdin {
        cmd.arg("-").stdin(Stdio::piped());
    } else {
        cmd.arg(&input).stdin(Stdio::null());
    }
    cmd.args(args).arg("--events-out").arg(&events).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if stdin {
        child.stdin.take().unwrap().write_all(file_text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let events_text = std::fs::read_to_string(&events).unwrap_or_default();
    for f in [input, events] {
        let _ = std::fs::remove_file(f);
    }
    let events = events_text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    Run { code: out.status.code(), events, stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

#[test]
fn the_reference_scenario_trades_on_its_own_clock() {
    for args in [&[][..], &["--inline"], &["--replay-speed", "600"], &["--rate", "50"]] {
        let r = run(&recording(5, None), args, false);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        assert_eq!(r.denied("STALE_SIGNAL"), 0, "{args:?}: stale on event time");
        let opened = r.of("position.opened");
        assert_eq!(opened.len(), 5, "{args:?}: every signal becomes a position");
        // The run is dated like the recording, not today.
        let ts = opened[0]["payload"]["timestamp"].as_f64().unwrap();
        assert!((1_733_155_200.0..1_733_155_200.0 + 3600.0).contains(&ts), "{args:?}: position dated {ts}");
        assert!(r.of("signal.generated").iter().any(|s| s["payload"]["trace_id"] == "test-signal-000"));
    }
}

#[test]
fn a_signal_late_in_the_recording_stays_late() {
    // Two hours behind the newest signal on a 1h timeframe: stale in the recording, stale now.
    let r = run(&recording(3, Some(7200.0)), &[], false);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.of("position.opened").len(), 3);
    let stale: Vec<_> =
        r.of("signal.denied").into_iter().filter(|d| d["payload"].to_string().contains("STALE")).collect();
    assert_eq!(stale.len(), 1, "exactly the late signal is stale");
    assert_eq!(stale[0]["payload"]["trace_id"], "late");
}

#[test]
fn wall_clock_time_and_stdin_keep_the_staleness_check() {
    let text = recording(5, None);
    for (args, stdin) in [(&["--clock", "wall"][..], false), (&[][..], true)] {
        let r = run(&text, args, stdin);
        assert_eq!(r.code, Some(0), "{args:?} stdin={stdin}: {}", r.stderr);
        assert_eq!(r.of("position.opened").len(), 0, "{args:?} stdin={stdin}: nothing trades on a 2024 signal today");
        assert_eq!(r.of("signal.denied").len(), 5, "{args:?} stdin={stdin}");
        assert!(r.of("signal.denied").iter().all(|d| d["payload"].to_string().contains("STALE")), "{args:?}");
    }
    // Standard input on event time, when asked.
    let r = run(&text, &["--clock", "event", "--inline"], true);
    assert_eq!(r.of("position.opened").len(), 5, "{}", r.stderr);
}
