//! The binary as a hostile or first-time user drives it: odd options, odd files, odd TOML,
//! secrets in configs, closed pipes and stop signals at awkward moments. Each test here once
//! found (or guards against) a panic, a hang, a wrong exit code or a leaked secret.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tradeflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    c.env_remove("TRADEFLOW_LOG").env_remove("TRADEFLOW_LOG_FORMAT");
    c.env_remove("TRADEFLOW_MIRROR_REDIS_URL").env_remove("TRADEFLOW_SIGNALS_REDIS_URL");
    c
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tradeflow-hostile-{}-{name}", std::process::id()))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Sends `sig` (e.g. "-TERM") to `child` with the real `kill` command.
fn kill(child: &Child, sig: &str) {
    let ok = Command::new("kill").arg(sig).arg(child.id().to_string()).status().unwrap().success();
    assert!(ok, "kill {sig} {}", child.id());
}

/// Waits up to `limit` for `child`; `None` if it is still running (then it is left running).
fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Runs `cmd` (stdout and stderr captured) for at most 20 s, killing it if it hangs; returns
/// its exit status (`None` = it hung and was killed) and its output.
fn run_bounded(cmd: &mut Command) -> (Option<std::process::ExitStatus>, std::process::Output) {
    let mut child = cmd.spawn().unwrap();
    let st = wait_for(&mut child, Duration::from_secs(20));
    if st.is_none() {
        kill(&child, "-KILL");
    }
    (st, child.wait_with_output().unwrap())
}

fn signal_line(trace: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"{trace}"}}"#
    )
}

fn check_config_set(set: &str) -> Output {
    tradeflow().args(["check-config", "--set", set]).output().unwrap()
}

#[test]
fn a_duration_too_long_for_any_clock_runs_instead_of_panicking() {
    // `Duration::from_secs_f64(1e300)` panics; validation only asked for a finite number ≥ 0.
    let out = tradeflow().args(["run", "--duration", "1e300", "--signals", "50", "--no-progress"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(text(&out.stdout).contains("events by type"));
    // Twin: an invalid duration is still refused (the check above can see a refusal).
    let bad = tradeflow().args(["run", "--duration", "-1", "--signals", "5", "--no-progress"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("run.duration_s"), "{}", text(&bad.stderr));
}

#[test]
fn check_config_never_prints_a_redis_password() {
    let out = tradeflow()
        .args(["check-config", "--set", "mirror.url=redis://user:hunter2@127.0.0.1:1/0"])
        .args(["--set", "ingress.redis.url=redis://:hunter3@127.0.0.1:1"])
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // The URLs are printed (so a leak would show), their passwords are not.
    assert!(all.contains("redis://user:***@127.0.0.1:1/0"), "{all}");
    assert!(all.contains("redis://:***@127.0.0.1:1"), "{all}");
    assert!(!all.contains("hunter2") && !all.contains("hunter3"), "password printed:\n{all}");
}

#[test]
fn a_run_whose_stdout_and_stderr_are_closed_exits_2_without_panicking() {
    // `tradeflow run … 2>&1 | head -1`: the reader goes away; the report cannot be written.
    let mut child = tradeflow()
        .args(["run", "--signals", "20", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let st = wait_for(&mut child, Duration::from_secs(20)).expect("run ends");
    assert_eq!(st.code(), Some(2), "{st:?} (101 = a panic printing to a closed stderr)");
}

#[test]
fn usage_errors_exit_1() {
    for args in [
        vec!["bogus"],
        vec!["run", "--bogus"],
        vec!["run", "--signals"],
        vec!["run", "--signals", "abc"],
        vec!["run", "--clock", "sundial"],
        vec!["--log-format", "xml", "check-config"],
        vec![],
    ] {
        let out = tradeflow().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out.stderr));
    }
    let out = tradeflow().env("TRADEFLOW_LOG_FORMAT", "xml").arg("check-config").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // Twin: a valid command line exits 0.
    assert_eq!(tradeflow().arg("check-config").output().unwrap().status.code(), Some(0));
}

#[test]
fn a_config_that_is_a_directory_or_a_binary_file_is_refused_with_exit_1() {
    let dir = std::env::temp_dir();
    let binary = env!("CARGO_BIN_EXE_tradeflow");
    for f in [dir.to_str().unwrap(), binary, "/nonexistent/tradeflow.toml"] {
        let check = tradeflow().args(["check-config", f]).output().unwrap();
        assert_eq!(check.status.code(), Some(1), "check-config {f}");
        assert!(text(&check.stderr).contains("cannot read"), "{}", text(&check.stderr));
        let run = tradeflow().args(["run", "--signals", "5", "--no-progress", "--config", f]).output().unwrap();
        assert_eq!(run.status.code(), Some(1), "run --config {f}: {}", text(&run.stderr));
    }
    // An empty file is a valid layer: the embedded default.
    let empty = temp_path("empty.toml");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(tradeflow().arg("check-config").arg(&empty).output().unwrap().status.code(), Some(0));
    let _ = std::fs::remove_file(empty);
}

#[test]
fn weird_set_values_are_refused_naming_the_key() {
    for (set, key) in [
        ("run.duration_s=[[1],[2]]", "duration_s"),
        ("run.duration_s={a=1}", "duration_s"),
        ("ingress.ümlaut=1", "ümlaut"),
        ("=5", "empty part"),
        ("run.=5", "empty part"),
        ("run.duration_s", "section.key=value"),
        ("instruments.symbol=X", "instruments"),
        ("topology.ring_capacity=99999999999999999999", "ring_capacity"),
        ("ingress.max_models=9223372036854775807", "ingress.max_models"),
        ("topology.park_sleep_us=9223372036854775807", "topology.park_sleep_us"),
        ("run.duration_s=nan", "run.duration_s"),
        // 1e10 s is past i64 nanoseconds: the inline clock's first step overflowed (a panic).
        ("run.inline_epoch_s=1e10", "run.inline_epoch_s"),
        ("run.inline_epoch_s=nan", "run.inline_epoch_s"),
    ] {
        let out = check_config_set(set);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--set {set}: {stderr}");
        assert!(stderr.contains(key), "--set {set}: {key:?} not named:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Twin: a TOML-valid override of the right type is taken.
    let ok = check_config_set("run.on_end=leave");
    assert_eq!(ok.status.code(), Some(0));
    assert!(text(&ok.stdout).contains("on_end = \"leave\""), "{}", text(&ok.stdout));
}

#[test]
fn missing_cores_and_two_spinners_on_one_core_are_refused() {
    let set = r#"topology.threads=[{name="a",stages=["market","ingress"],core=0,wait="spin"},{name="b",stages=["risk","gateway","position"],core=0,wait="spin"},{name="c",stages=["learning","control"],core=99999,wait="backoff"}]"#;
    for cmd in [vec!["check-config"], vec!["run", "--signals", "5", "--no-progress"]] {
        let out = tradeflow().args(&cmd).args(["--set", set]).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {stderr}");
        assert!(stderr.contains("core 99999 does not exist"), "{stderr}");
        assert!(stderr.contains("\"a\" and \"b\""), "{stderr}");
    }
}

#[test]
fn a_signals_file_of_only_bad_lines_runs_and_records_each() {
    let input = temp_path("bad.jsonl");
    let events = temp_path("bad-events.jsonl");
    std::fs::write(&input, b"garbage\n{\"a\":1}\n\n\x00\xff\xfe\n").unwrap();
    let out = tradeflow()
        .args(["run", "--no-progress", "--signals-file"])
        .arg(&input)
        .arg("--events-out")
        .arg(&events)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(&events).unwrap();
    let codes: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "system.event_error")
        .map(|v| v["payload"]["error_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["JSON_SYNTAX", "UNKNOWN_FIELD", "EMPTY_INPUT", "INVALID_UTF8"], "{log}");
    let _ = std::fs::remove_file(input);
    let _ = std::fs::remove_file(events);
}

#[test]
fn event_time_refuses_timestamps_in_milliseconds_or_absurd_and_keeps_running() {
    let input = temp_path("ts.jsonl");
    let events = temp_path("ts-events.jsonl");
    let line = |id: &str, ts: &str| signal_line(id).replace("\"}", &format!("\",\"timestamp\":{ts}}}"));
    // The first line's stamp (milliseconds) once became the run's epoch: the clock overflowed,
    // a stage thread panicked and the run hung.
    let body = [line("ms", "1733155200000"), line("neg", "-5"), line("huge", "1e20"), line("ok", "1733155200.5")];
    std::fs::write(&input, body.join("\n") + "\n").unwrap();
    let (st, out) = run_bounded(
        tradeflow()
            .args(["run", "--no-progress", "--clock", "event", "--signals-file"])
            .arg(&input)
            .arg("--events-out")
            .arg(&events)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    assert_eq!(st.and_then(|s| s.code()), Some(0), "hung or failed: {}", text(&out.stderr));
    let log = std::fs::read_to_string(&events).unwrap();
    let refused = log.lines().filter(|l| l.contains("\"INVALID_TIMESTAMP\"")).count();
    assert_eq!(refused, 3, "{log}");
    assert!(log.lines().any(|l| l.contains("\"signal.generated\"") && l.contains("\"ok\"")), "{log}");
    let _ = std::fs::remove_file(input);
    let _ = std::fs::remove_file(events);
}

#[test]
fn events_out_to_a_full_device_or_a_directory_exits_2() {
    for target in ["/dev/full", std::env::temp_dir().to_str().unwrap()] {
        let out =
            tradeflow().args(["run", "--signals", "100", "--no-progress", "--events-out", target]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{target}: {}", text(&out.stderr));
    }
    // Twin: a writable file exits 0.
    let ok = temp_path("ok.jsonl");
    let out = tradeflow().args(["run", "--signals", "100", "--no-progress", "--events-out"]).arg(&ok).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let _ = std::fs::remove_file(ok);
}

/// A run reading an open, silent stdin; SIGTERM once, then (if needed) again.
fn sigterm_with_stdin_open(inline: bool) -> (Option<i32>, String, String) {
    let mut cmd = tradeflow();
    cmd.args(["run", "--signals-file", "-", "--no-progress"]);
    if inline {
        cmd.arg("--inline");
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", signal_line("stdin-1")).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kill(&child, "-TERM");
    let first = wait_for(&mut child, Duration::from_secs(8));
    if first.is_none() {
        kill(&child, "-TERM");
    }
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    (first.and_then(|s| s.code()), text(&out.stdout), text(&out.stderr))
}

#[test]
fn sigterm_ends_a_threaded_run_on_an_open_silent_stdin() {
    let (code, stdout, stderr) = sigterm_with_stdin_open(false);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("events by type"), "{stdout}");
}

#[test]
#[ignore = "defect: an --inline run reading stdin blocks in read(2) and never sees the first SIGTERM; only a second one ends it (exit 130, no summary)"]
fn sigterm_ends_an_inline_run_on_an_open_silent_stdin() {
    let (code, stdout, stderr) = sigterm_with_stdin_open(true);
    assert_eq!(code, Some(0), "first SIGTERM ignored:\n{stderr}");
    assert!(stdout.contains("events by type"), "{stdout}");
}

#[test]
fn a_second_signal_while_the_drain_is_stuck_exits_130_saying_so() {
    // The events-out file is a FIFO nobody reads: the lossless writer blocks the drain.
    let fifo = temp_path("stuck.fifo");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = tradeflow()
        .args(["run", "--signals", "0", "--no-progress", "--events-out"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Open the read end (so the writer's open succeeds) but never read.
    let reader = std::fs::File::open(&fifo).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kill(&child, "-TERM");
    std::thread::sleep(Duration::from_millis(500));
    kill(&child, "-HUP");
    let st = wait_for(&mut child, Duration::from_secs(10));
    let st = st.unwrap_or_else(|| {
        kill(&child, "-KILL");
        panic!("still running 10 s after the second signal")
    });
    let out = child.wait_with_output().unwrap();
    drop(reader);
    let _ = std::fs::remove_file(&fifo);
    let stderr = text(&out.stderr);
    assert_eq!(st.code(), Some(130), "{stderr}");
    assert!(stderr.contains("second stop signal"), "{stderr}");
}

#[test]
fn sigterm_to_an_inline_synthetic_run_drains_and_exits_0() {
    let mut child = tradeflow()
        .args(["run", "--inline", "--signals", "0", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    kill(&child, "-TERM");
    let st = wait_for(&mut child, Duration::from_secs(15)).expect("the run ends after SIGTERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(st.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("events by type"));
}

#[test]
fn a_valid_but_far_future_first_timestamp_does_not_overflow_the_event_clock() {
    // 9e10 s (year 4822) is inside the decoder's 0..=1e11 but not inside i64 nanoseconds.
    let input = temp_path("far.jsonl");
    let line = signal_line("far").replace("\"}", "\",\"timestamp\":9e10}");
    std::fs::write(&input, format!("{line}\n{}\n", line.replace("far", "far-2"))).unwrap();
    let (st, out) = run_bounded(
        tradeflow()
            .args(["run", "--no-progress", "--signals-file"])
            .arg(&input)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stderr = text(&out.stderr);
    let _ = std::fs::remove_file(input);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(st.and_then(|s| s.code()), Some(0), "hung or failed: {stderr}");
    assert!(text(&out.stdout).contains("events by type"));
}
