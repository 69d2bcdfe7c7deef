//! Shared helpers for the ingress tests.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use tradeflow_core::{
    error_details, Catalog, ErrorDetail, Event, InstrumentSpec, Phase, Price, Qty, RecordingCtx, SourceState, Stage,
    SystemEventError, Usd,
};
use tradeflow_ingress::{DirectReader, IngressConfig, IngressSource, IngressStage, SourceKind};

/// BTCUSDT, ETHUSDT; models ensemble_v2, lstm_v1.
pub fn catalog() -> Arc<Catalog> {
    let spec = |s: &str| InstrumentSpec {
        symbol: s.into(),
        tick_size: Price::from_f64(0.1).unwrap(),
        step_size: Qty::from_f64(0.001).unwrap(),
        min_qty: Qty::from_f64(0.001).unwrap(),
        min_notional: Usd::from_f64(5.0).unwrap(),
    };
    Arc::new(
        Catalog::try_new(vec![spec("BTCUSDT"), spec("ETHUSDT")], vec!["ensemble_v2".into(), "lstm_v1".into()], vec![])
            .unwrap(),
    )
}

/// The reference example line.
pub const REFERENCE_LINE: &str = r#"{"symbol": "BTCUSDT", "side": "BUY", "confidence": 0.85, "timeframe": "1h", "model_version": "ensemble_v2", "trace_id": "abc-123", "timestamp": 1733155200.0, "metadata": {}}"#;

/// A valid line with its own trace id.
pub fn valid_line(trace: &str) -> String {
    format!(
        r#"{{"symbol":"ETHUSDT","side":"SELL","confidence":0.7,"timeframe":"5m","model_version":"lstm_v1","trace_id":"{trace}"}}"#
    )
}

/// A file-source config (unpaced) with the given line limit.
pub fn file_cfg(max_line_bytes: usize) -> IngressConfig {
    let mut cfg = IngressConfig { source: IngressSource::File, ..Default::default() };
    cfg.file.max_line_bytes = max_line_bytes;
    cfg
}

/// A stage reading `input` through a direct (blocking, in-memory) reader.
pub fn stage_over(input: Vec<u8>, cfg: &IngressConfig) -> IngressStage {
    let src = SourceKind::Bytes(Box::new(DirectReader::new(std::io::Cursor::new(input))));
    IngressStage::try_new(cfg, catalog(), src).unwrap()
}

/// Polls until the source is exhausted; returns everything emitted. Yields while the
/// source is pending (threaded readers).
pub fn run_to_end(stage: &mut IngressStage, ctx: &mut RecordingCtx) -> Vec<Event> {
    let mut out = Vec::new();
    for _ in 0..10_000_000 {
        if stage.source_state() != SourceState::Active {
            return out;
        }
        let n = stage.poll(ctx);
        assert!(n <= stage.max_emits_per_call());
        let got = ctx.take();
        assert_eq!(got.len(), n);
        if n == 0 {
            std::thread::yield_now();
        }
        out.extend(got);
    }
    panic!("source never ended");
}

/// A recording context at `now_ns`, running.
pub fn ctx(now_ns: u64) -> RecordingCtx {
    let mut c = RecordingCtx::new(now_ns);
    c.phase = Phase::Running;
    c
}

/// The detail record of an ingress error (its `detail` is the record's ticket).
pub fn detail_of(e: &SystemEventError) -> ErrorDetail {
    error_details().get(e.detail as u64).unwrap()
}

/// The line (or frame) number of an ingress error.
pub fn line_of(e: &SystemEventError) -> i64 {
    detail_of(e).position
}
