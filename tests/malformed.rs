//! Malformed inputs become system.event_error with a precise code and the run continues, in
//! threaded and inline runs alike.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use tradeflow::core::{ErrorCode, Event, EventKind};
use tradeflow::PipelineBuilder;
use util::*;

const GOOD: &str = r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.85,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"good-1"}"#;

fn lines() -> (String, Vec<ErrorCode>) {
    let huge = format!("{{\"symbol\":\"{}\"}}", "A".repeat(70_000));
    let cases: Vec<(String, Option<ErrorCode>)> = vec![
        (GOOD.to_owned(), None),
        ("".to_owned(), Some(ErrorCode::EmptyInput)),
        (r#"{"symbol":"BTCUSDT","side":"BUY""#.to_owned(), Some(ErrorCode::JsonSyntax)),
        (r#"{"symbol":"BTCUSDT","side":"BUY","confidence":"high","timeframe":"1h","model_version":"ensemble_v2"}"#.to_owned(), Some(ErrorCode::JsonType)),
        (r#"{"symbol":"DOGEUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2"}"#.to_owned(), Some(ErrorCode::UnknownSymbol)),
        (r#"{"symbol":"BTCUSDT","side":"BUY","confidence":1.5,"timeframe":"1h","model_version":"ensemble_v2"}"#.to_owned(), Some(ErrorCode::ConfidenceRange)),
        (r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","trace_id":"tr\u00e9"}"#.to_owned(), Some(ErrorCode::InvalidTraceId)),
        (r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2","extra":1}"#.to_owned(), Some(ErrorCode::UnknownField)),
        (huge, Some(ErrorCode::Oversized)),
        (r#"{"symbol":"ETHUSDT","side":"SELL","confidence":0.8,"timeframe":"5m","model_version":"ensemble_v2","trace_id":"good-2"}"#.to_owned(), None),
    ];
    let text: String = cases.iter().map(|(l, _)| format!("{l}\n")).collect();
    (text, cases.into_iter().filter_map(|(_, c)| c).collect())
}

fn config_for(path: &std::path::Path) -> tradeflow::Config {
    let mut cfg = test_config();
    cfg.ingress.source = tradeflow_ingress::IngressSource::File;
    cfg.ingress.file.path = path.display().to_string();
    cfg
}

fn errors_of(events: &[tradeflow::EventCopy]) -> Vec<ErrorCode> {
    events.iter().filter_map(|c| if let Event::SystemEventError(e) = c.event { Some(e.code) } else { None }).collect()
}

#[test]
fn threaded_run_reports_every_bad_line_and_keeps_going() {
    let (text, want) = lines();
    let path = temp_path("malformed-threaded.jsonl");
    std::fs::write(&path, text).unwrap();
    let mut builder = PipelineBuilder::new(config_for(&path));
    let rx = builder.subscribe(1 << 16);
    let report = builder.start().expect("pipeline starts").wait();
    let events = drain(&rx);
    assert_eq!(errors_of(&events), want);
    assert_eq!(report.signals(), 2);
    assert_eq!(report.tally.count(EventKind::SystemEventError), want.len() as u64);
    let _ = std::fs::remove_file(path);
}

#[test]
fn inline_run_reports_every_bad_line_and_keeps_going() {
    let (text, want) = lines();
    let path = temp_path("malformed-inline.jsonl");
    std::fs::write(&path, text).unwrap();
    let mut builder = PipelineBuilder::new(config_for(&path));
    let rx = builder.subscribe(1 << 16);
    let report = builder.run_inline().expect("inline run");
    assert_eq!(errors_of(&drain(&rx)), want);
    assert_eq!(report.signals(), 2);
    let _ = std::fs::remove_file(path);
}

#[test]
fn missing_signals_file_is_a_clear_startup_error() {
    let cfg = config_for(std::path::Path::new("/nonexistent/signals.jsonl"));
    let err = PipelineBuilder::new(cfg).start().map(|_| ()).expect_err("must fail");
    assert!(err.to_string().contains("/nonexistent/signals.jsonl"), "{err}");
}

#[test]
fn the_binary_logs_each_refused_line_with_its_trace_id_words_line_and_column() {
    let dir = temp_path("malformed-binary");
    std::fs::create_dir_all(&dir).unwrap();
    let (input, log) = (dir.join("in.jsonl"), dir.join("events.jsonl"));
    let lines = [
        GOOD.to_owned(),
        r#"{"trace_id":"f-dup","symbol":"BTCUSDT","side":"BUY","side":"SELL"}"#.to_owned(),
        r#"{"trace_id":"tr\u00e9","symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2"}"#.to_owned(),
        format!(r#"{{"trace_id":"f-cut","symbol":"{}"#, "B".repeat(300)),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["run", "--set", "run.progress=false", "--signals-file"])
        .arg(&input)
        .arg("--events-out")
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let errors: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "system.event_error")
        .map(|v| v["payload"].clone())
        .collect();
    let seen: Vec<(&str, &str, &str)> = errors
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("");
            (s("trace_id"), s("error_type"), s("error_message"))
        })
        .collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], ("f-dup", "DUPLICATE_FIELD", r#"duplicate field "side" (line 2, column 53)"#));
    assert_eq!(
        seen[1],
        (
            "tré",
            "INVALID_TRACE_ID",
            "trace_id: must be printable ASCII without spaces (1 to 36 bytes) (line 3, column 2)"
        )
    );
    assert_eq!((seen[2].0, seen[2].1), ("f-cut", "JSON_SYNTAX"));
    assert!(seen[2].2.starts_with("not a JSON signal object: EOF while parsing a string (line 4, column "), "{seen:?}");
    assert_eq!(errors[2]["event_payload"]["raw"].as_str().unwrap(), &lines[3][..256]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_oversized_line_is_reported_under_its_trace_id_when_the_kept_part_holds_it() {
    let dir = std::env::temp_dir();
    let input = dir.join(format!("tradeflow-oversized-{}.jsonl", std::process::id()));
    let events = dir.join(format!("tradeflow-oversized-{}-events.jsonl", std::process::id()));
    let pad = "x".repeat(100_000);
    let head = r#"{"trace_id":"big-one-7","symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"ensemble_v2""#;
    // One line over the 65,536-byte limit with its id up front, one with the id past the limit.
    let text = format!("{head},\"metadata\":{{\"pad\":\"{pad}\"}}}}\n{{\"metadata\":{{\"pad\":\"{pad}\"}},\"trace_id\":\"late-id\"}}\n");
    std::fs::write(&input, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"))
        .args(["run", "--no-progress", "--signals-file"])
        .arg(&input)
        .arg("--events-out")
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = std::fs::read_to_string(&events).unwrap();
    let errors: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "system.event_error")
        .collect();
    assert_eq!(errors.len(), 2, "{log}");
    assert!(errors.iter().all(|e| e["payload"]["error_type"] == "OVERSIZED"));
    assert_eq!(errors[0]["payload"]["trace_id"], "big-one-7");
    assert_eq!(errors[1]["payload"]["trace_id"], "", "an id past the kept part cannot be read");
    for f in [input, events] {
        let _ = std::fs::remove_file(f);
    }
}
