//! Fuzz target: `tradeflow_ingress::decode_signal` on arbitrary bytes, against the catalog of
//! the embedded default config (`config/default.toml`).
//!
//! Besides "never panics", every input is checked against what the decoder promises:
//! - Ok: instrument and model are catalog indices; confidence is finite and in 0..=1; a trace
//!   id is 1..=TRACE_ID_MAX printable ASCII bytes; a timestamp is in 0..=MAX_TIMESTAMP_S·1e6 µs;
//!   the same document with JSON whitespace around it decodes to the same signal.
//! - Err: the code is one the decoder returns (`PARSE_ERROR_CODES`, `FIELD_ERROR_CODES`), and the
//!   detail is:
//!   - `EmptyInput`, exactly when every byte is ASCII whitespace: 0;
//!   - `InvalidUtf8`, exactly when the bytes are not UTF-8: the 1-based column of the first
//!     invalid byte;
//!   - `JsonSyntax` / `JsonType` from the parser: a column in 0..=len (serde_json counts from
//!     the last newline, and reports 0 for a type error at the first byte, e.g. `[1]`);
//!   - every semantic code: 0.
//! - Decoding the same bytes twice gives the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tradeflow_core::{Catalog, ErrorCode, InstrumentSpec, TRACE_ID_MAX};
use tradeflow_ingress::{decode_signal, DecodedSignal, FIELD_ERROR_CODES, MAX_TIMESTAMP_S};

/// The config the binary embeds; its instruments and models make the fuzzed catalog.
const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(build_catalog)
}

/// Symbols and model versions of the embedded config. Exchange filters do not affect
/// decoding, so every instrument gets unit filters.
fn build_catalog() -> Catalog {
    let cfg: toml::Table = DEFAULT_TOML.parse().expect("config/default.toml is not valid TOML");
    let models: Vec<String> = cfg
        .get("models")
        .and_then(toml::Value::as_array)
        .expect("config/default.toml: no `models` array")
        .iter()
        .map(|m| m.as_str().expect("config/default.toml: a model is not a string").to_owned())
        .collect();
    let instruments: Vec<InstrumentSpec> = cfg
        .get("instruments")
        .and_then(toml::Value::as_array)
        .expect("config/default.toml: no [[instruments]]")
        .iter()
        .map(|i| {
            let symbol = i.get("symbol").and_then(toml::Value::as_str);
            InstrumentSpec::with_unit_filters(symbol.expect("config/default.toml: an instrument has no symbol"))
        })
        .collect();
    let catalog = Catalog::try_new(instruments, models, Vec::new()).expect("config/default.toml: invalid catalog");
    assert!(!catalog.instruments().is_empty() && !catalog.models().is_empty(), "empty catalog");
    catalog
}

fuzz_target!(|data: &[u8]| {
    let catalog = catalog();
    let result = decode_signal(data, catalog);
    assert_eq!(decode_signal(data, catalog), result, "decoding the same bytes twice differs");

    let all_whitespace = data.iter().all(u8::is_ascii_whitespace);
    let utf8 = std::str::from_utf8(data);
    match result {
        Err((ErrorCode::EmptyInput, detail)) => {
            assert!(all_whitespace, "EmptyInput for bytes that are not all whitespace");
            assert_eq!(detail, 0, "EmptyInput detail");
        }
        _ if all_whitespace => panic!("whitespace-only input gave {result:?}, not EmptyInput"),
        Err((ErrorCode::InvalidUtf8, detail)) => {
            let e = utf8.expect_err("InvalidUtf8 for valid UTF-8");
            assert_eq!(detail, e.valid_up_to() as i64 + 1, "InvalidUtf8 column");
        }
        _ if utf8.is_err() => panic!("invalid UTF-8 gave {result:?}, not InvalidUtf8"),
        Err((ErrorCode::JsonSyntax, column)) => check_column(column, data),
        // A type error is either the parser's (a column) or the field checks' (0).
        Err((ErrorCode::JsonType, column)) => check_column(column, data),
        Err((code, detail)) => {
            assert!(FIELD_ERROR_CODES.contains(&code), "code {code:?} is not one the decoder returns");
            assert_eq!(detail, 0, "semantic error {code:?} with a non-zero detail");
        }
        Ok(signal) => {
            check_signal(&signal, catalog);
            let mut padded = Vec::with_capacity(data.len() + 2);
            padded.push(b' ');
            padded.extend_from_slice(data);
            padded.push(b'\t');
            assert_eq!(decode_signal(&padded, catalog), Ok(signal), "surrounding whitespace changed the signal");
        }
    }
});

fn check_column(column: i64, data: &[u8]) {
    assert!((0..=data.len() as i64).contains(&column), "column {column} outside 0..={}", data.len());
}

fn check_signal(s: &DecodedSignal, catalog: &Catalog) {
    assert!(catalog.instrument(s.instrument).is_some(), "instrument {:?} not in the catalog", s.instrument);
    assert!(s.model.get() < catalog.models().len(), "model {:?} not in the catalog", s.model);
    assert!(
        s.confidence.is_finite() && (0.0..=1.0).contains(&s.confidence),
        "confidence {} outside 0..=1",
        s.confidence
    );
    if let Some(t) = &s.trace_id {
        let b = t.as_bytes();
        assert!((1..=TRACE_ID_MAX).contains(&b.len()), "trace id length {}", b.len());
        assert!(b.iter().all(|c| (0x21..=0x7e).contains(c)), "trace id {t:?} not printable ASCII");
    }
    if let Some(ts) = s.signal_ts_us {
        let max_us = (MAX_TIMESTAMP_S * 1e6) as i64;
        assert!((0..=max_us).contains(&ts), "timestamp {ts} µs outside 0..={max_us}");
    }
}
