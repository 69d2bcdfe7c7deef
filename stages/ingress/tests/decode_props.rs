//! Property tests: no input makes ingress panic, and every line yields exactly one event.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod util;

use proptest::prelude::*;
use tradeflow_core::{ErrorCode, Event};
use tradeflow_ingress::{decode_signal, is_decode_error};
use util::*;

/// A valid line with one byte range replaced by arbitrary bytes (reaches deeper paths than
/// pure noise).
fn mutated_line() -> impl Strategy<Value = Vec<u8>> {
    let base = REFERENCE_LINE.as_bytes().to_vec();
    let n = base.len();
    (0..n, 0..8usize, proptest::collection::vec(any::<u8>(), 0..8)).prop_map(move |(at, cut, ins)| {
        let mut v = base.clone();
        let end = (at + cut).min(n);
        v.splice(at..end, ins);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_or_are_rejected_with_a_code(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err((code, _)) = decode_signal(&line, &catalog()) {
            prop_assert!(is_decode_error(code), "{code:?}");
        }
    }

    #[test]
    fn mutated_reference_lines_decode_or_are_rejected(line in mutated_line()) {
        match decode_signal(&line, &catalog()) {
            Ok(s) => prop_assert!((0.0..=1.0).contains(&s.confidence)),
            Err((code, _)) => prop_assert!(is_decode_error(code), "{code:?}"),
        }
    }

    #[test]
    fn every_line_of_any_stream_yields_exactly_one_event(
        lines in proptest::collection::vec(
            prop_oneof![mutated_line().prop_map(|l| l.into_iter().map(|b| if b == b'\n' { b' ' } else { b }).collect::<Vec<u8>>()), proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..120)],
            1..20,
        ),
    ) {
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let mut stage = stage_over(input, &file_cfg(100));
        let events = run_to_end(&mut stage, &mut ctx(1));
        prop_assert_eq!(events.len(), lines.len());
        for (i, ev) in events.iter().enumerate() {
            if let Event::SystemEventError(e) = ev {
                prop_assert_eq!(line_of(e), i as i64 + 1);
                if lines[i].len() > 100 {
                    prop_assert_eq!(e.code, ErrorCode::Oversized);
                }
            } else {
                prop_assert!(lines[i].len() <= 100);
            }
        }
    }
}
