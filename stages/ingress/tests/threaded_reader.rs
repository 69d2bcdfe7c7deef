//! The threaded file reader: a helper thread fills a byte ring; the stage never blocks.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod util;

use std::io::Write;
use std::path::PathBuf;
use tradeflow_core::{ErrorCode, Event};
use tradeflow_ingress::{IngressError, IngressStage, SourceKind};
use util::*;

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tradeflow-ingress-{}-{name}", std::process::id()))
}

/// 2000 lines: every 10th is bad JSON.
fn input() -> String {
    let mut s = String::new();
    for i in 0..2000 {
        if i % 10 == 9 {
            s.push_str("{oops\n");
        } else {
            s.push_str(&valid_line(&format!("t-{i}")));
            s.push('\n');
        }
    }
    s
}

fn check(events: &[Event]) {
    assert_eq!(events.len(), 2000);
    let mut next_seq = 1;
    for (i, ev) in events.iter().enumerate() {
        match ev {
            Event::SignalGenerated(s) => {
                assert_eq!(s.header.trace_id.as_str(), format!("t-{i}"));
                assert_eq!(s.header.seq, next_seq);
                next_seq += 1;
            }
            Event::SystemEventError(e) => {
                assert_eq!((e.code, line_of(e)), (ErrorCode::JsonSyntax, i as i64 + 1));
            }
            other => panic!("{other:?}"),
        }
    }
}

fn run_file(path: &str, ring_bytes: usize) -> (Vec<Event>, IngressStage) {
    let mut cfg = file_cfg(1024);
    cfg.file.path = path.into();
    let mut stage = IngressStage::try_new(&cfg, catalog(), SourceKind::FileThreaded { ring_bytes }).unwrap();
    let events = run_to_end(&mut stage, &mut ctx(1));
    (events, stage)
}

#[test]
fn threaded_reader_delivers_every_line_of_a_file() {
    let path = temp_path("file.jsonl");
    std::fs::write(&path, input()).unwrap();
    for ring_bytes in [97, 4096, 1 << 20] {
        let (events, mut stage) = run_file(path.to_str().unwrap(), ring_bytes);
        check(&events);
        assert_eq!(stage.stats().lines_read, 2000);
        assert_eq!(stage.stats().errors_of(ErrorCode::JsonSyntax), 200);
        let bytes = stage.take_reader_thread().unwrap().join().unwrap().unwrap();
        assert_eq!(bytes, input().len() as u64);
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn threaded_reader_delivers_every_line_of_a_pipe() {
    let path = temp_path("fifo");
    let _ = std::fs::remove_file(&path);
    let ok = std::process::Command::new("mkfifo").arg(&path).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "mkfifo failed");
    let writer_path = path.clone();
    // The writer trickles the input in small pieces, so the stage sees partial lines.
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(writer_path).unwrap();
        for piece in input().as_bytes().chunks(333) {
            f.write_all(piece).unwrap();
            f.flush().unwrap();
        }
    });
    let (events, _stage) = run_file(path.to_str().unwrap(), 512);
    writer.join().unwrap();
    check(&events);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn missing_file_is_a_constructor_error() {
    for kind in [SourceKind::FileDirect, SourceKind::FileThreaded { ring_bytes: 64 }] {
        let mut cfg = file_cfg(1024);
        cfg.file.path = "/nonexistent/tradeflow.jsonl".into();
        let err = IngressStage::try_new(&cfg, catalog(), kind).unwrap_err();
        assert!(matches!(err, IngressError::Open { .. }), "{err}");
    }
}

#[test]
fn direct_file_source_reads_the_same_lines() {
    let path = temp_path("direct.jsonl");
    std::fs::write(&path, input()).unwrap();
    let mut cfg = file_cfg(1024);
    cfg.file.path = path.to_str().unwrap().into();
    let mut stage = IngressStage::try_new(&cfg, catalog(), SourceKind::FileDirect).unwrap();
    check(&run_to_end(&mut stage, &mut ctx(1)));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn paced_file_source_follows_its_schedule() {
    let path = temp_path("paced.jsonl");
    std::fs::write(&path, input()).unwrap();
    let mut cfg = file_cfg(1024);
    cfg.file.path = path.to_str().unwrap().into();
    cfg.file.rate_per_sec = 100.0; // 10 ms apart
    let mut stage = IngressStage::try_new(&cfg, catalog(), SourceKind::FileDirect).unwrap();
    let mut c = ctx(0);
    use tradeflow_core::Stage;
    assert_eq!(stage.poll(&mut c), 1);
    c.now_ns = 25_000_000;
    assert_eq!(stage.poll(&mut c), 2);
    let origins: Vec<_> = c.take().iter().map(|e| e.header().ts_origin_ns).collect();
    assert_eq!(origins, [0, 10_000_000, 20_000_000]);
    assert_eq!(stage.next_wakeup_ns(), Some(30_000_000));
    std::fs::remove_file(&path).unwrap();
}
