//! Operating the binary as a service: stop signals, usage errors, layered configs and `--set`,
//! configs that cannot run, log formats.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn tradeflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    c.env_remove("TRADEFLOW_LOG").env_remove("TRADEFLOW_LOG_FORMAT");
    c
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tradeflow-operating-{}-{name}", std::process::id()))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Starts an unbounded run that records its events, sends it `signal` once it has traded, and
/// returns its output and event log.
fn stop_with(signal: &str) -> (Output, String) {
    let events = temp(&format!("{signal}.jsonl"));
    let child = tradeflow()
        .args(["run", "--signals", "0", "--rate", "2000", "--no-progress", "--events-out"])
        .arg(&events)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&events).map_or(0, |t| t.matches("position.opened").count()) < 5 {
        assert!(start.elapsed() < Duration::from_secs(20), "no position opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let log = std::fs::read_to_string(&events).unwrap();
    let _ = std::fs::remove_file(events);
    (out, log)
}

#[test]
fn sigterm_and_sighup_drain_flatten_and_report_like_ctrl_c() {
    for signal in ["TERM", "HUP"] {
        let (out, log) = stop_with(signal);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "SIG{signal}: {stdout}\n{}", text(&out.stderr));
        assert!(stdout.contains("events by type") && stdout.contains("net PnL"), "SIG{signal}: {stdout}");
        assert!(text(&out.stderr).contains("stop signal received"), "SIG{signal}: {}", text(&out.stderr));
        // on_end = flatten: the positions still open at the signal were closed as SHUTDOWN.
        let opened = log.matches("\"position.opened\"").count();
        let closed = log.matches("\"position.closed\"").count();
        assert!(opened > 0 && opened == closed, "SIG{signal}: {opened} opened, {closed} closed");
        assert!(log.contains("\"SHUTDOWN\""), "SIG{signal}: no SHUTDOWN close in the event log");
    }
}

#[test]
fn usage_errors_exit_with_the_documented_code() {
    for args in [&["run", "--no-such-flag"][..], &["run", "--signals", "many"], &["nonsense"], &[]] {
        let out = tradeflow().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out.stderr));
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
    let out = tradeflow().args(["run", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("--set"));
    let out = tradeflow().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_partial_config_is_layered_on_the_default_and_set_overrides_a_key() {
    let partial = temp("partial.toml");
    std::fs::write(&partial, "[risk.guard]\nmax_open_positions = 3\n\n[run]\non_end = \"leave\"\n").unwrap();
    let out =
        tradeflow().args(["check-config"]).arg(&partial).args(["--set", "position.max_hold_ms=1234"]).output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("config OK"), "{stdout}");
    let resolved = stdout.split_once("resolved config").expect("resolved config printed").1;
    for want in ["max_open_positions = 3", "on_end = \"leave\"", "max_hold_ms = 1234", "symbol = \"BTCUSDT\""] {
        assert!(resolved.contains(want), "resolved config lacks {want:?}:\n{resolved}");
    }
    // The same layers drive `run`: at most 3 positions open at once, none flattened at the end.
    let events = temp("partial.jsonl");
    let out = tradeflow()
        .args(["run", "--inline", "--signals", "300", "--no-progress", "--config"])
        .arg(&partial)
        .args(["--set", "position.max_hold_ms=0", "--events-out"])
        .arg(&events)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(&events).unwrap();
    assert_eq!(log.matches("\"position.opened\"").count(), 3, "max_open_positions = 3 and no exits by time");
    assert!(log.contains("MAX_POSITIONS"), "later signals denied for the position limit");
    assert!(!log.contains("\"SHUTDOWN\""), "on_end = leave: nothing flattened");
    for f in [partial, events] {
        let _ = std::fs::remove_file(f);
    }
}

#[test]
fn bad_set_overrides_are_refused_with_exit_1() {
    for (set, want) in [
        ("risk.guard.max_open_positions=lots", "max_open_positions"),
        ("risk.guard.no_such_key=1", "no_such_key"),
        ("justtext", "expected section.key=value"),
        ("models.x=1", "not a section"),
    ] {
        for cmd in [&["check-config"][..], &["run", "--signals", "1", "--no-progress"]] {
            let out = tradeflow().args(cmd).args(["--set", set]).output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{cmd:?} --set {set}");
            assert!(text(&out.stderr).contains(want), "{cmd:?} --set {set}: {}", text(&out.stderr));
        }
    }
}

#[test]
fn configs_that_cannot_run_are_refused_before_anything_allocates() {
    let cases = [
        ("topology.ring_capacity=1099511627776", "ring_capacity"),
        ("topology.copy_ring_capacity=1073741824", "copy_ring_capacity"),
        ("topology.batch=100000000", "topology.batch"),
        ("mirror.ring_capacity=1099511627776", "mirror.ring_capacity"),
        ("topology.threads=[{name=\"a\",stages=[\"market\",\"ingress\",\"risk\",\"gateway\",\"position\",\"learning\",\"control\"],core=4096}]", "does not exist"),
        (
            "topology.threads=[{name=\"a\",stages=[\"market\",\"ingress\"],core=0,wait=\"spin\"},{name=\"b\",stages=[\"risk\",\"gateway\",\"position\",\"learning\",\"control\"],core=0,wait=\"spin\"}]",
            "both pinned to core 0",
        ),
    ];
    for (set, want) in cases {
        for cmd in [&["check-config"][..], &["run", "--signals", "10", "--no-progress"]] {
            let out = tradeflow().args(cmd).args(["--set", set]).output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{cmd:?} --set {set}: {}", text(&out.stderr));
            assert!(text(&out.stderr).contains(want), "{cmd:?} --set {set}: {}", text(&out.stderr));
        }
    }
    // The bounds are not refusing everything: the largest allowed ring capacity is accepted.
    let out = tradeflow().args(["check-config", "--set", "topology.ring_capacity=1048576"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn logs_are_json_on_request_and_never_coloured_into_a_pipe() {
    let bad = "[gateway]\nvenue = \"sim\"\n";
    let cfg = temp("log.toml");
    std::fs::write(&cfg, bad).unwrap();
    // A warning is logged when the mirror cannot reach Redis: port 1 on loopback refuses.
    let run = |format: &str| {
        tradeflow()
            .args(["--log-format", format, "run", "--signals", "50", "--no-progress", "--redis", "redis://127.0.0.1:1"])
            .env("TRADEFLOW_LOG", "info")
            .output()
            .unwrap()
    };
    let json = run("json");
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let lines: Vec<String> = text(&json.stderr).lines().map(str::to_owned).collect();
    let logged: Vec<&String> = lines.iter().filter(|l| l.starts_with('{')).collect();
    assert!(!logged.is_empty(), "no JSON log line in:\n{lines:?}");
    for l in &logged {
        let v: serde_json::Value = serde_json::from_str(l).expect("a JSON log line parses");
        assert!(v["level"].is_string() && v["fields"].is_object(), "{l}");
    }
    let pretty = run("pretty");
    let stderr = text(&pretty.stderr);
    assert!(stderr.contains("WARN") || stderr.contains("INFO"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "ANSI escape in piped logs:\n{stderr}");
    let env = tradeflow()
        .args(["run", "--signals", "50", "--no-progress", "--redis", "redis://127.0.0.1:1"])
        .env("TRADEFLOW_LOG", "info")
        .env("TRADEFLOW_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(text(&env.stderr).lines().any(|l| l.starts_with('{')), "TRADEFLOW_LOG_FORMAT=json ignored");
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn redis_urls_come_from_the_environment_and_passwords_stay_hidden() {
    // Port 1 on loopback refuses: both components report the URL they were given, redacted.
    let out = tradeflow()
        .args(["run", "--signals", "50", "--no-progress"])
        .env("TRADEFLOW_MIRROR_REDIS_URL", "redis://user:s3cret@127.0.0.1:1")
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("mirror (redis redis://user:***@127.0.0.1:1)"), "mirror not on from the env:\n{all}");
    assert!(!all.contains("s3cret"), "password printed:\n{all}");
    let out = tradeflow()
        .args(["run", "--duration", "1", "--no-progress"])
        .env("TRADEFLOW_SIGNALS_REDIS_URL", "redis://user:s3cret@127.0.0.1:1")
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("signal source (redis)"), "Redis source not chosen from the env:\n{all}");
    assert!(!all.contains("s3cret"), "password printed:\n{all}");
    let help =
        tradeflow().args(["run", "--help"]).env("TRADEFLOW_MIRROR_REDIS_URL", "redis://u:s3cret@h:1").output().unwrap();
    assert!(text(&help.stdout).contains("TRADEFLOW_MIRROR_REDIS_URL") && !text(&help.stdout).contains("s3cret"));
}

/// The count the summary's "events by type" block gives for `kind`.
fn summary_count(stdout: &str, kind: &str) -> u64 {
    let line = stdout.lines().find(|l| l.trim_start().starts_with(&format!("{kind} "))).unwrap_or("");
    line.split_whitespace().last().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[test]
fn events_out_is_complete_by_default_and_a_chosen_drop_is_loud() {
    let path = temp("complete.jsonl");
    // Tiny copy rings and an unpaced run: the writer cannot keep up, so the pipeline waits for it.
    let run = |extra: &[&str]| {
        tradeflow()
            .args([
                "run",
                "--signals",
                "30000",
                "--rate",
                "0",
                "--no-progress",
                "--set",
                "topology.copy_ring_capacity=16",
            ])
            .args(extra)
            .arg("--events-out")
            .arg(&path)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(!stdout.contains("copies dropped") || stdout.contains("copies dropped 0 "), "{stdout}");
    for kind in ["signal.generated", "trade.execution_requested", "position.opened", "position.closed", "signal.denied"]
    {
        let in_file = log.matches(&format!("{{\"event_type\":\"{kind}\"")).count() as u64;
        assert_eq!(in_file, summary_count(&stdout, kind), "{kind}: file vs summary\n{stdout}");
    }
    assert_eq!(summary_count(&stdout, "signal.generated"), 30000);

    let out = run(&["--set", "topology.copy_policy=drop"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("copy_policy = \"drop\""), "no startup warning:\n{stderr}");
    assert!(stderr.contains("INCOMPLETE"), "no incomplete notice:\n{stderr}");
    let _ = std::fs::remove_file(path);
}

/// CPU seconds (user + system) a running process has used, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the name.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

/// CPU share (1.0 = one core) of a 20 signals/s run with every stage thread waiting `wait`,
/// measured over 2 s of its steady state.
fn idle_cpu_share(wait: &str) -> f64 {
    let threads = format!(
        "topology.threads=[{{name=\"feed\",stages=[\"market\",\"ingress\"],wait=\"{wait}\"}},\
         {{name=\"hot\",stages=[\"risk\",\"gateway\",\"position\"],wait=\"{wait}\"}},\
         {{name=\"cold\",stages=[\"learning\",\"control\"],wait=\"backoff\"}}]"
    );
    let mut child = tradeflow()
        // Market ticks ten times a second, as a live feed gives (the synthetic default of one
        // per millisecond per instrument is real work, not idling).
        .args(["run", "--signals", "0", "--rate", "20", "--duration", "4", "--no-progress", "--set", &threads])
        .args(["--set", "market.tick_interval_us=100000"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let (cpu0, t0) = (cpu_seconds(child.id()), std::time::Instant::now());
    std::thread::sleep(Duration::from_millis(2000));
    let share = (cpu_seconds(child.id()) - cpu0) / t0.elapsed().as_secs_f64();
    assert!(child.wait().unwrap().success());
    share
}

#[test]
fn parked_threads_cost_next_to_nothing_when_there_is_little_to_do() {
    // The default config's hot and feed threads park: a quiet run uses a few % of a core.
    let default = tradeflow().args(["check-config"]).output().unwrap();
    assert!(text(&default.stdout).contains("wait=Park"), "{}", text(&default.stdout));
    let parked = idle_cpu_share("park");
    // The twin: the same run with yielding threads keeps a core busy, so the measurement sees CPU.
    let yielding = idle_cpu_share("yield");
    assert!(parked < 0.25, "parked threads used {:.0} % of a core at 20 signals/s", parked * 100.0);
    assert!(yielding > 0.5, "yielding threads used only {:.0} % (measurement blind?)", yielding * 100.0);
}

#[test]
fn the_win_rate_leaves_shutdown_flattens_out_and_says_so() {
    let events = temp("winrate.jsonl");
    let out = tradeflow()
        .args(["run", "--inline", "--signals", "3000", "--rate", "200", "--seed", "5", "--no-progress", "--events-out"])
        .arg(&events)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (mut wins, mut decided, mut flattens) = (0u32, 0u32, 0u32);
    for line in std::fs::read_to_string(&events).unwrap().lines().filter(|l| l.contains("\"position.closed\"")) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["payload"]["exit_reason"] == "SHUTDOWN" {
            flattens += 1;
        } else {
            decided += 1;
            wins += u32::from(v["payload"]["pnl_usd"].as_f64().unwrap() > 0.0);
        }
    }
    assert!(flattens > 0 && decided > 0, "the run needs both kinds of close: {flattens} / {decided}");
    let want =
        format!("{:.1}% ({flattens} SHUTDOWN flattens not counted)", f64::from(wins) * 100.0 / f64::from(decided));
    let line = stdout.lines().find(|l| l.contains("win rate")).unwrap();
    assert!(line.ends_with(&want), "{line:?} should end with {want:?}");
    let _ = std::fs::remove_file(events);
}

#[test]
fn send_signals_reports_a_closed_connection_without_a_traceback() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = std::io::Read::read(&mut s, &mut buf);
        drop(s); // closes with unread data: the client's next writes fail
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/send_signals.py");
    let out = Command::new("python3")
        .args([script, "--port", &port.to_string(), "--count", "200000", "--no-acks"])
        .output()
        .unwrap();
    server.join().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("closed the connection after"), "{stderr}");
    assert!(!stderr.contains("Traceback"), "{stderr}");
}

#[test]
fn check_config_and_run_print_limits_that_cannot_fire() {
    let set = "position.max_exposure_usd=60000";
    let out = tradeflow().args(["check-config", "--set", set]).output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "a warning is not an error: {}", text(&out.stderr));
    assert!(stdout.contains("warnings (1):") && stdout.contains("position.max_exposure_usd: 60000"), "{stdout}");
    let out = tradeflow().args(["run", "--inline", "--signals", "10", "--no-progress", "--set", set]).output().unwrap();
    assert!(text(&out.stderr).contains("tradeflow: warning: position.max_exposure_usd"), "{}", text(&out.stderr));
    // The shipped default has none.
    let out = tradeflow().arg("check-config").output().unwrap();
    assert!(!text(&out.stdout).contains("warnings ("), "{}", text(&out.stdout));
}

#[test]
fn a_network_source_on_port_0_says_which_port_it_got() {
    use std::io::{BufRead, Write};
    for flag in ["--tcp", "--ws"] {
        let mut child = tradeflow()
            .args(["run", flag, "127.0.0.1:0", "--duration", "20", "--no-progress"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "{flag}: stderr ended without the address");
            if let Some(a) = line.trim().split("listening on ").nth(1) {
                break a.to_owned();
            }
        };
        let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0, "{flag}: {line}");
        // The announced port is the one that answers.
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        if flag == "--tcp" {
            conn.write_all(b"{\"symbol\":\"BTCUSDT\"}\n").unwrap();
            let mut answer = String::new();
            std::io::BufReader::new(&conn).read_line(&mut answer).unwrap();
            assert!(answer.contains("rejected"), "{answer}");
        }
        drop(conn);
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(child.wait().unwrap().success());
    }
}
