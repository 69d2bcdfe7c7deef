//! Micro-benchmarks of the JSON edges: decoding the reference `signal.generated` line and
//! rendering events as reference JSON.
//!
//! - `json_decode` (one 175-byte line, per message):
//!   - `ingress_decode_signal`: `tradeflow_ingress::decode_signal` (serde_json, a borrowing
//!     visitor, then `validate_signal_fields`);
//!   - `simd_json_tape_decode`: simd-json into a reused tape and reused buffers, the line copied
//!     into a reused mutable buffer first (simd-json parses in place: the copy is part of its
//!     cost), the fields extracted under the same rules as ingress, then the same
//!     `validate_signal_fields`;
//!   - `simd_json_borrowed_value_decode`: the same through a `BorrowedValue` (allocates a map
//!     per message; a repeated key cannot be seen, so not a faithful replacement);
//!   - `simd_json_tape_parse_only`: the copy and `fill_tape` alone;
//!   - `serde_json_value_parse`: `serde_json::from_slice::<serde_json::Value>` (parse only);
//!   - `base_copy_line`: the harness and the buffer copy alone; `base_validate_fields_only`:
//!     `validate_signal_fields` on ready fields (the part every decoder above shares).
//! - `json_encode`: `JsonRenderer::write_envelope` into a reused `Vec` for a signal, an
//!   execution request and a `position.closed` (events of a real chain).
//!
//! The extraction below restates ingress's private structural rules (unknown / repeated field,
//! types, `null` = absent for optional fields, numeric strings, `metadata` an object) so that
//! both decoders do the same work; the bench checks that they agree before measuring.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks: a failure must stop the run

mod common;

use common::{Fixture, REFERENCE_SIGNAL};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use simd_json::prelude::*;
use simd_json::ValueType;
use std::hint::black_box;
use tradeflow::core::{Catalog, ErrorCode, JsonRenderer, StageId};
use tradeflow_ingress::{decode_signal, validate_signal_fields, DecodedSignal, SignalInput};

/// A JSON value as far as the signal decoder cares.
#[derive(Clone, Copy)]
enum J<'a> {
    Str(&'a str),
    Num(f64),
    Null,
    Object,
    Other,
}

impl<'a> J<'a> {
    fn from_tape(v: simd_json::tape::Value<'_, 'a>) -> J<'a> {
        match v.value_type() {
            ValueType::String => v.into_string().map_or(J::Other, J::Str),
            ValueType::Null => J::Null,
            ValueType::Object => J::Object,
            _ => v.cast_f64().map_or(J::Other, J::Num),
        }
    }

    fn from_borrowed(v: &'a simd_json::BorrowedValue<'_>) -> J<'a> {
        match v.value_type() {
            ValueType::String => v.as_str().map_or(J::Other, J::Str),
            ValueType::Null => J::Null,
            ValueType::Object => J::Object,
            _ => v.cast_f64().map_or(J::Other, J::Num),
        }
    }

    fn required_str(v: Option<J<'a>>) -> Result<&'a str, ErrorCode> {
        match v {
            None => Err(ErrorCode::MissingField),
            Some(J::Str(s)) => Ok(s),
            Some(_) => Err(ErrorCode::JsonType),
        }
    }

    /// A number, or a string holding one.
    fn number(self) -> Option<f64> {
        match self {
            J::Num(n) => Some(n),
            J::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// The reference fields as found, and the first structural problem.
#[derive(Default)]
struct Fields<'a> {
    slots: [Option<J<'a>>; 8],
    issue: Option<ErrorCode>,
}

const KEYS: [&str; 8] =
    ["symbol", "side", "confidence", "timeframe", "model_version", "trace_id", "timestamp", "metadata"];

impl<'a> Fields<'a> {
    fn put(&mut self, key: &str, v: J<'a>) {
        match KEYS.iter().position(|k| *k == key).map(|i| &mut self.slots[i]) {
            Some(slot) if slot.is_none() => *slot = Some(v),
            Some(_) => {
                self.issue.get_or_insert(ErrorCode::DuplicateField);
            }
            None => {
                self.issue.get_or_insert(ErrorCode::UnknownField);
            }
        }
    }

    fn to_input(&self) -> Result<SignalInput<'a>, ErrorCode> {
        if let Some(code) = self.issue {
            return Err(code);
        }
        let [symbol, side, confidence, timeframe, model_version, trace_id, timestamp, metadata] = self.slots;
        let input = SignalInput {
            symbol: J::required_str(symbol)?,
            side: J::required_str(side)?,
            confidence: confidence.ok_or(ErrorCode::MissingField)?.number().ok_or(ErrorCode::JsonType)?,
            timeframe: J::required_str(timeframe)?,
            model_version: J::required_str(model_version)?,
            trace_id: match trace_id {
                None | Some(J::Null) => None,
                Some(J::Str(s)) => Some(s),
                Some(_) => return Err(ErrorCode::JsonType),
            },
            timestamp: match timestamp {
                None | Some(J::Null) => None,
                Some(v) => Some(v.number().ok_or(ErrorCode::JsonType)?),
            },
        };
        if matches!(metadata, Some(J::Str(_) | J::Num(_) | J::Other)) {
            return Err(ErrorCode::JsonType);
        }
        Ok(input)
    }
}

/// simd-json with every buffer reused: the line copy, the parser's buffers and the tape.
struct SimdDecoder {
    copy: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Option<simd_json::Tape<'static>>,
}

impl SimdDecoder {
    fn new() -> SimdDecoder {
        SimdDecoder { copy: Vec::with_capacity(4096), buffers: simd_json::Buffers::new(4096), tape: None }
    }

    fn decode(&mut self, line: &[u8], catalog: &Catalog) -> Result<DecodedSignal, ErrorCode> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err(ErrorCode::EmptyInput);
        }
        self.copy.clear();
        self.copy.extend_from_slice(line);
        let mut tape = self.tape.take().unwrap_or_else(simd_json::Tape::null).reset();
        let out = match simd_json::fill_tape(&mut self.copy, &mut self.buffers, &mut tape) {
            Err(_) => Err(ErrorCode::JsonSyntax),
            Ok(()) => match tape.as_value().as_object() {
                None => Err(ErrorCode::JsonType),
                Some(obj) => {
                    let mut f = Fields::default();
                    for (k, v) in obj.iter() {
                        f.put(k, J::from_tape(v));
                    }
                    f.to_input().and_then(|input| validate_signal_fields(&input, catalog))
                }
            },
        };
        self.tape = Some(tape.reset());
        out
    }

    /// The copy and the parse alone (no extraction, no validation); true when it parsed.
    fn parse_only(&mut self, line: &[u8]) -> bool {
        self.copy.clear();
        self.copy.extend_from_slice(line);
        let mut tape = self.tape.take().unwrap_or_else(simd_json::Tape::null).reset();
        let ok = simd_json::fill_tape(&mut self.copy, &mut self.buffers, &mut tape).is_ok();
        self.tape = Some(tape.reset());
        ok
    }

    fn decode_borrowed(&mut self, line: &[u8], catalog: &Catalog) -> Result<DecodedSignal, ErrorCode> {
        self.copy.clear();
        self.copy.extend_from_slice(line);
        let value = simd_json::to_borrowed_value_with_buffers(&mut self.copy, &mut self.buffers)
            .map_err(|_| ErrorCode::JsonSyntax)?;
        let obj = value.as_object().ok_or(ErrorCode::JsonType)?;
        let mut f = Fields::default();
        for (k, v) in obj.iter() {
            f.put(k, J::from_borrowed(v));
        }
        f.to_input().and_then(|input| validate_signal_fields(&input, catalog))
    }
}

/// Both decoders agree on the reference line and on a few lines that exercise the rules.
fn check_agreement(simd: &mut SimdDecoder, catalog: &Catalog) {
    let lines: [&[u8]; 6] = [
        REFERENCE_SIGNAL,
        br#"{"symbol":"BTCUSDT","side":"SELL","confidence":"0.5","timeframe":"1m","model_version":"lgbm_v5","timestamp":"12.5"}"#,
        br#"{"symbol":"BTCUSDT","side":"BUY","side":"SELL","confidence":1,"timeframe":"1h","model_version":"ensemble_v2"}"#,
        br#"{"symbol":"BTCUSDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"x","extra":1}"#,
        br#"{"symbol":"BTC\u0055SDT","side":"BUY","confidence":0.9,"timeframe":"1h","model_version":"tft_v1","metadata":[]}"#,
        br#"[1,2]"#,
    ];
    for line in lines {
        let serde = decode_signal(line, catalog).map_err(|e| e.0);
        assert_eq!(simd.decode(line, catalog), serde, "{}", String::from_utf8_lossy(line));
    }
    assert!(decode_signal(REFERENCE_SIGNAL, catalog).is_ok());
}

fn json_decode(c: &mut Criterion) {
    let fx = Fixture::new();
    let catalog = &*fx.catalog;
    let mut simd = SimdDecoder::new();
    check_agreement(&mut simd, catalog);
    let mut g = c.benchmark_group("json_decode");
    g.throughput(Throughput::Elements(1));
    let mut copy = Vec::with_capacity(4096);
    g.bench_function("base_copy_line", |b| {
        b.iter(|| {
            copy.clear();
            copy.extend_from_slice(black_box(REFERENCE_SIGNAL));
            black_box(&copy);
        })
    });
    let input = SignalInput {
        symbol: "BTCUSDT",
        side: "BUY",
        confidence: 0.85,
        timeframe: "1h",
        model_version: "ensemble_v2",
        trace_id: Some("abc-123"),
        timestamp: Some(1_733_155_200.0),
    };
    g.bench_function("base_validate_fields_only", |b| b.iter(|| validate_signal_fields(black_box(&input), catalog)));
    g.bench_function("ingress_decode_signal", |b| b.iter(|| decode_signal(black_box(REFERENCE_SIGNAL), catalog)));
    g.bench_function("simd_json_tape_decode", |b| b.iter(|| simd.decode(black_box(REFERENCE_SIGNAL), catalog)));
    g.bench_function("simd_json_tape_parse_only", |b| b.iter(|| simd.parse_only(black_box(REFERENCE_SIGNAL))));
    g.bench_function("simd_json_borrowed_value_decode", |b| {
        b.iter(|| simd.decode_borrowed(black_box(REFERENCE_SIGNAL), catalog))
    });
    g.bench_function("serde_json_value_parse", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(REFERENCE_SIGNAL)).map(black_box).is_ok())
    });
    g.finish();
}

fn json_encode(c: &mut Criterion) {
    let fx = Fixture::new();
    let chain = fx.chain();
    let renderer = JsonRenderer { catalog: &fx.catalog, wall_offset_ns: common::new_ctx().wall_offset_ns };
    let mut out = Vec::with_capacity(4096);
    let mut g = c.benchmark_group("json_encode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("base", |b| {
        b.iter(|| {
            out.clear();
            black_box((&chain.signal, &mut out));
        })
    });
    let cases = [
        ("signal_generated", chain.signal, StageId::Ingress),
        ("trade_execution_requested", chain.request, StageId::Risk),
        ("position_closed", chain.closed, StageId::Position),
    ];
    for (name, ev, source) in cases {
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                renderer.write_envelope(black_box(&ev), source, &mut out);
                black_box(out.len())
            })
        });
        serde_json::from_slice::<serde_json::Value>(&out).expect("the renderer writes JSON");
    }
    g.finish();
}

criterion_group!(benches, json_decode, json_encode);
criterion_main!(benches);
