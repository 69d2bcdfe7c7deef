//! Embedding: signals handed in by an in-process publisher.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod util;

use tradeflow_core::{
    ErrorCode, Event, Header, InstrumentIdx, ModelIdx, Side, SignalGenerated, SourceState, Stage, Timeframe, TraceId,
};
use tradeflow_ingress::{validate_signal_fields, IngressConfig, IngressStage, SignalInput, SourceKind};
use util::*;

fn input() -> SignalInput<'static> {
    SignalInput {
        symbol: "ETHUSDT",
        side: "SELL",
        confidence: 0.9,
        timeframe: "15m",
        model_version: "lstm_v1",
        trace_id: Some("pub-1"),
        timestamp: Some(1_733_155_200.5),
    }
}

#[test]
fn published_signals_get_the_next_seq_and_keep_everything_else() {
    let mut stage = IngressStage::try_new(&IngressConfig::default(), catalog(), SourceKind::PublisherOnly).unwrap();
    assert_eq!(stage.source_state(), SourceState::NotASource);
    assert_eq!(stage.next_wakeup_ns(), None);
    let mut c = ctx(50);
    assert_eq!(stage.poll(&mut c), 0);
    let decoded = validate_signal_fields(&input(), &catalog()).unwrap();
    let ev = decoded.to_event(999, 40, || TraceId::EMPTY, 0);
    stage.on_event(&Event::SignalGenerated(ev), &mut c);
    stage.on_event(&Event::SignalGenerated(ev), &mut c);
    let out = c.take();
    let expected = |seq| {
        Event::SignalGenerated(SignalGenerated {
            header: Header {
                seq,
                ts_origin_ns: 40,
                ts_emit_ns: 50,
                trace_id: TraceId::try_new("pub-1").unwrap(),
                instrument: InstrumentIdx(1),
            },
            signal_ts_us: 1_733_155_200_500_000,
            confidence: 0.9,
            model: ModelIdx(1),
            side: Side::Sell,
            timeframe: Timeframe::M15,
        })
    };
    assert_eq!(out, vec![expected(1), expected(2)]);
    assert_eq!(stage.stats().published, 2);
}

#[test]
fn published_and_sourced_signals_share_one_sequence() {
    let mut cfg = IngressConfig::default();
    cfg.synthetic.rate_per_sec = 0.0;
    cfg.synthetic.count = 3;
    let mut stage = IngressStage::try_new(&cfg, catalog(), SourceKind::Synthetic).unwrap();
    let mut c = ctx(1);
    let ev = validate_signal_fields(&input(), &catalog()).unwrap().to_event(0, 1, || TraceId::EMPTY, 0);
    stage.on_event(&Event::SignalGenerated(ev), &mut c);
    stage.poll(&mut c);
    stage.on_event(&Event::SignalGenerated(ev), &mut c);
    let seqs: Vec<_> = c.take().iter().map(|e| e.header().seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

#[test]
fn field_validation_reports_the_first_failure() {
    let cat = catalog();
    let check = |f: &dyn Fn(&mut SignalInput<'static>), code| {
        let mut i = input();
        f(&mut i);
        assert_eq!(validate_signal_fields(&i, &cat), Err(code));
    };
    check(&|i| i.symbol = "NOPE", ErrorCode::UnknownSymbol);
    check(&|i| i.side = "HOLD", ErrorCode::InvalidSide);
    check(&|i| i.confidence = f64::NAN, ErrorCode::ConfidenceRange);
    check(&|i| i.confidence = 1.0001, ErrorCode::ConfidenceRange);
    check(&|i| i.timeframe = "1w", ErrorCode::UnknownTimeframe);
    check(&|i| i.model_version = "x y", ErrorCode::UnknownModel);
    check(&|i| i.model_version = "x", ErrorCode::ModelRegistryFull);
    check(&|i| i.trace_id = Some("has space"), ErrorCode::InvalidTraceId);
    check(&|i| i.timestamp = Some(-0.5), ErrorCode::InvalidTimestamp);
    check(
        &|i| {
            i.symbol = "NOPE";
            i.side = "HOLD";
        },
        ErrorCode::UnknownSymbol,
    );
    let ok = validate_signal_fields(&SignalInput { trace_id: None, timestamp: None, ..input() }, &cat).unwrap();
    assert_eq!((ok.trace_id, ok.signal_ts_us), (None, None));
    let ev = ok.to_event(3, 7, || TraceId::try_new("gen").unwrap(), 123);
    assert_eq!((ev.header.trace_id.as_str(), ev.signal_ts_us, ev.header.seq), ("gen", 123, 3));
}
