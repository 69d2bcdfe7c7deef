//! `--replay-speed`: a recorded file replayed at the pace of its own timestamps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use tradeflow::core::Event;
use tradeflow::PipelineBuilder;

fn line(trace: &str, ts: Option<f64>) -> String {
    let ts = ts.map(|t| format!(r#","timestamp":{t}"#)).unwrap_or_default();
    format!(
        r#"{{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"{trace}"{ts}}}"#
    )
}

fn origins(file: &std::path::Path, speed: f64) -> Vec<(String, u64)> {
    let mut cfg = util::test_config();
    cfg.run.inline = true;
    cfg.ingress.source = tradeflow_ingress::IngressSource::File;
    cfg.ingress.file.path = file.display().to_string();
    cfg.ingress.file.replay_speed = speed;
    let mut b = PipelineBuilder::new(cfg);
    let rx = b.subscribe(1 << 12);
    b.run_inline().unwrap();
    util::drain(&rx)
        .into_iter()
        .filter_map(|c| match c.event {
            Event::SignalGenerated(s) => Some((s.header.trace_id.as_str().to_owned(), s.header.ts_origin_ns)),
            _ => None,
        })
        .collect()
}

#[test]
fn signals_go_out_at_their_recorded_spacing_divided_by_the_speed() {
    let file = util::temp_path("replay.jsonl");
    let t0 = 1_767_225_600.0;
    let lines = [
        line("r-0", Some(t0)),
        line("r-1", Some(t0 + 10.0)),
        line("r-2", None), // no timestamp: right after the previous one
        line("r-3", Some(t0 + 30.0)),
        "not json".to_owned(),
        line("r-4", Some(t0 + 5.0)), // out of order: never before the previous one
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let got = origins(&file, 10.0);
    let ids: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(ids, ["r-0", "r-1", "r-2", "r-3", "r-4"]);
    let at = |i: usize| got[i].1 - got[0].1;
    assert_eq!(at(1), 1_000_000_000, "10 s recorded / speed 10");
    assert_eq!(at(2), at(1));
    assert_eq!(at(3), 3_000_000_000);
    assert_eq!(at(4), at(3));
    // Real time at speed 1: ten times the spacing.
    let slow = origins(&file, 1.0);
    assert_eq!(slow[1].1 - slow[0].1, 10_000_000_000);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn replay_speed_is_validated_and_reachable_from_the_cli() {
    let bin = env!("CARGO_BIN_EXE_tradeflow");
    let out = std::process::Command::new(bin)
        .args(["run", "--signals-file", "-", "--replay-speed", "-1", "--no-progress"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("replay_speed"), "{}", String::from_utf8_lossy(&out.stderr));
    let file = util::temp_path("replay-cli.jsonl");
    std::fs::write(&file, line("c-0", Some(1.0e9)) + "\n" + &line("c-1", Some(1.0e9 + 0.2)) + "\n").unwrap();
    let out = std::process::Command::new(bin)
        .args(["run", "--inline", "--no-progress", "--replay-speed", "2", "--signals-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signal.generated                        2"));
    let _ = std::fs::remove_file(&file);
}
