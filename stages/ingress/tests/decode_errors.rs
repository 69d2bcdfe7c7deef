//! Every rejection path: one `system.event_error` with the precise code, and the next line
//! still decodes.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod util;

use tradeflow_core::{
    ErrorCode, Event, EventKind, Header, InstrumentIdx, ModelIdx, Side, SignalGenerated, StageId, Timeframe, TraceId,
};
use tradeflow_ingress::{decode_signal, ByteSource, IngressStage, ReadOutcome, SourceKind};
use util::*;

const OK: &str = r#""symbol":"BTCUSDT","side":"BUY","confidence":0.85,"timeframe":"1h","model_version":"ensemble_v2""#;

/// Crafted bad lines and the code each must produce.
fn bad_lines() -> Vec<(Vec<u8>, ErrorCode)> {
    let s = |v: &str| v.as_bytes().to_vec();
    vec![
        (s(""), ErrorCode::EmptyInput),
        (s("  \t "), ErrorCode::EmptyInput),
        (s(r#"{"symbol":"BTCUSDT","side":"#), ErrorCode::JsonSyntax),
        (s(r#"{"symbol" "BTCUSDT"}"#), ErrorCode::JsonSyntax),
        (s("not json"), ErrorCode::JsonSyntax),
        (
            s(r#"{"symbol":5,"side":"BUY","confidence":0.8,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::JsonType,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":true,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::JsonType,
        ),
        (
            s(
                r#"{"symbol":"BTCUSDT","side":"BUY","confidence":"high","timeframe":"1h","model_version":"ensemble_v2"}"#,
            ),
            ErrorCode::JsonType,
        ),
        (s("[]"), ErrorCode::JsonType),
        (s(&format!(r#"{{{OK},"leverage":20}}"#)), ErrorCode::UnknownField),
        (s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.8,"timeframe":"1h"}"#), ErrorCode::MissingField),
        (
            s(r#"{"symbol":"DOGEUSDT","side":"BUY","confidence":0.8,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::UnknownSymbol,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"LONG","confidence":0.8,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::InvalidSide,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"buy","confidence":0.8,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::InvalidSide,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":-0.1,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::ConfidenceRange,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":1.5,"timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::ConfidenceRange,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":"NaN","timeframe":"1h","model_version":"ensemble_v2"}"#),
            ErrorCode::ConfidenceRange,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.8,"timeframe":"2h","model_version":"ensemble_v2"}"#),
            ErrorCode::UnknownTimeframe,
        ),
        (
            // A new model, and the test catalog's registry has no free slot.
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.8,"timeframe":"1h","model_version":"gpt_v9"}"#),
            ErrorCode::ModelRegistryFull,
        ),
        (
            s(r#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.8,"timeframe":"1h","model_version":"gpt v9"}"#),
            ErrorCode::UnknownModel,
        ),
        (s(&format!(r#"{{{OK},"trace_id":"tr\u00e4ce"}}"#)), ErrorCode::InvalidTraceId),
        (s(&format!(r#"{{{OK},"trace_id":"träce"}}"#)), ErrorCode::InvalidTraceId),
        (s(&format!(r#"{{{OK},"trace_id":"{}"}}"#, "x".repeat(37))), ErrorCode::InvalidTraceId),
        (s(&format!(r#"{{{OK},"trace_id":""}}"#)), ErrorCode::InvalidTraceId),
        (s(&format!(r#"{{{OK},"timestamp":-1.0}}"#)), ErrorCode::InvalidTimestamp),
        (s(&format!(r#"{{{OK},"timestamp":"inf"}}"#)), ErrorCode::InvalidTimestamp),
        (s(&format!(r#"{{{OK},"metadata":{{"note":"{}"}}}}"#, "y".repeat(200))), ErrorCode::Oversized),
        (vec![0xff, 0xfe, 0x00, 0x13, 0x80, b'{', 0xc3], ErrorCode::InvalidUtf8),
        ([s(r#"{"symbol":"BTC"#), vec![0xe2, 0x82], s(r#"USDT"}"#)].concat(), ErrorCode::InvalidUtf8),
    ]
}

#[test]
fn every_bad_line_yields_one_error_with_its_code_and_the_run_continues() {
    let cfg = file_cfg(160);
    for (i, (bad, code)) in bad_lines().into_iter().enumerate() {
        let mut input = bad.clone();
        input.push(b'\n');
        input.extend_from_slice(valid_line("next-1").as_bytes());
        input.push(b'\n');
        let mut stage = stage_over(input, &cfg);
        let mut ctx = ctx(1_000);
        let events = run_to_end(&mut stage, &mut ctx);
        assert_eq!(events.len(), 2, "case {i} ({code}): {events:?}");
        let Event::SystemEventError(e) = &events[0] else { panic!("case {i}: expected an error, got {:?}", events[0]) };
        assert_eq!(e.code, code, "case {i}: {:?}", String::from_utf8_lossy(&bad));
        assert_eq!((e.component, e.event_kind, line_of(e)), (StageId::Ingress, EventKind::SignalGenerated, 1));
        assert_eq!(e.raw(), &bad[..bad.len().min(e.raw().len())], "case {i}: excerpt is the line's start");
        assert_eq!(e.header.ts_origin_ns, 1_000);
        let Event::SignalGenerated(s) = &events[1] else { panic!("case {i}: expected the next signal") };
        assert_eq!((s.header.seq, s.header.trace_id.as_str()), (1, "next-1"), "case {i}");
        let stats = stage.stats();
        assert_eq!((stats.errors_of(code), stats.errors_total(), stats.produced, stats.lines_read), (1, 1, 1, 2));
    }
}

#[test]
fn direct_decoder_agrees_with_the_stage() {
    let cat = catalog();
    for (bad, code) in bad_lines() {
        if code == ErrorCode::Oversized {
            continue; // a line-length rule of the source, not the decoder
        }
        assert_eq!(decode_signal(&bad, &cat).map_err(|e| e.0), Err(code), "{:?}", String::from_utf8_lossy(&bad));
    }
}

#[test]
fn reference_line_decodes_to_the_exact_event() {
    let mut stage = stage_over(format!("{REFERENCE_LINE}\n").into_bytes(), &file_cfg(65_536));
    let mut ctx = ctx(5_000);
    let events = run_to_end(&mut stage, &mut ctx);
    let expected = SignalGenerated {
        header: Header {
            seq: 1,
            ts_origin_ns: 5_000,
            ts_emit_ns: 5_000,
            trace_id: TraceId::try_new("abc-123").unwrap(),
            instrument: InstrumentIdx(0),
        },
        signal_ts_us: 1_733_155_200_000_000,
        confidence: 0.85,
        model: ModelIdx(0),
        side: Side::Buy,
        timeframe: Timeframe::H1,
    };
    assert_eq!(events, vec![Event::SignalGenerated(expected)]);
}

#[test]
fn missing_trace_id_and_timestamp_are_filled_deterministically() {
    let line = format!("{{{OK}}}\n{{{OK}}}\n");
    let run = || {
        let mut stage = stage_over(line.clone().into_bytes(), &file_cfg(1024));
        let mut ctx = ctx(9_000);
        run_to_end(&mut stage, &mut ctx)
    };
    let a = run();
    assert_eq!(a, run());
    let traces: Vec<_> = a
        .iter()
        .map(|e| match e {
            Event::SignalGenerated(s) => {
                assert_eq!(s.signal_ts_us, (9_000 + 1_700_000_000_000_000_000) / 1000);
                s.header.trace_id
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_ne!(traces[0], traces[1]);
    for t in traces {
        assert_eq!(t.len(), 36);
        assert_eq!(&t.as_str()[14..15], "4", "UUID v4: {t}");
    }
}

#[test]
fn crlf_and_unterminated_last_line_are_accepted() {
    let input = format!("{}\r\n{}", valid_line("a"), valid_line("b"));
    let mut stage = stage_over(input.into_bytes(), &file_cfg(1024));
    let events = run_to_end(&mut stage, &mut ctx(1));
    let traces: Vec<_> = events.iter().map(|e| e.header().trace_id.as_str().to_owned()).collect();
    assert_eq!(traces, ["a", "b"]);
}

#[test]
fn oversized_line_is_one_error_even_across_many_reads() {
    let long = format!(r#"{{"pad":"{}"}}"#, "z".repeat(100_000));
    let input = format!("{}\n{long}\n{}\n", valid_line("a"), valid_line("b"));
    let mut stage = stage_over(input.into_bytes(), &file_cfg(256));
    let events = run_to_end(&mut stage, &mut ctx(1));
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [EventKind::SignalGenerated, EventKind::SystemEventError, EventKind::SignalGenerated]);
    let Event::SystemEventError(e) = &events[1] else { unreachable!() };
    assert_eq!((e.code, line_of(e)), (ErrorCode::Oversized, 2));
    assert_eq!(e.raw(), &long.as_bytes()[..e.raw().len()]);
}

/// Gives some bytes, then fails.
struct BrokenPipe(Option<Vec<u8>>);
impl ByteSource for BrokenPipe {
    fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome {
        match self.0.take() {
            Some(d) => {
                buf[..d.len()].copy_from_slice(&d);
                ReadOutcome::Data(d.len())
            }
            None => ReadOutcome::Error(std::io::ErrorKind::BrokenPipe),
        }
    }
}

#[test]
fn read_error_becomes_an_io_error_event_and_ends_the_source() {
    let data = format!("{}\n", valid_line("a")).into_bytes();
    let src = SourceKind::Bytes(Box::new(BrokenPipe(Some(data))));
    let mut stage = IngressStage::try_new(&file_cfg(1024), catalog(), src).unwrap();
    let events = run_to_end(&mut stage, &mut ctx(1));
    assert_eq!(events.len(), 2, "{events:?}");
    let Event::SystemEventError(e) = &events[1] else { panic!("{events:?}") };
    assert_eq!((e.code, line_of(e)), (ErrorCode::Io, 1));
    assert_eq!(e.raw(), b"broken pipe");
    assert_eq!(stage.stats().errors_of(ErrorCode::Io), 1);
}
