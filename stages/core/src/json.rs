//! Events rendered as the reference JSON (edges only: sinks, mirror, logs).
//!
//! The payload carries the reference fields of `EVENT_FLOW_V1` plus `trace_id`, `timestamp`
//! (epoch seconds) and a `metadata` object; the envelope is
//! `{"event_type": …, "source": …, "payload": {…}}`.

use crate::catalog::Catalog;
use crate::enums::*;
use crate::error_detail::{error_details, ErrorDetail, ErrorDetails};
use crate::event::*;
use crate::fixed::{Price, Usd};
use crate::ids::StageId;
use std::io::Write;

/// A human-readable reason for a denial code.
pub const fn denial_text(code: DenialCode) -> &'static str {
    match code {
        DenialCode::KillSwitchHalted => "kill switch is HALTED",
        DenialCode::TradingReducing => "kill switch is REDUCING: no new positions",
        DenialCode::LowConfidence => "confidence below the profile minimum",
        DenialCode::StaleSignal => "signal older than its timeframe allows",
        DenialCode::FutureSignal => "signal timestamp is in the future",
        DenialCode::DuplicateTraceId => "trace id already seen",
        DenialCode::ModelNotAllowed => "model version not allowed to trade",
        DenialCode::MaxNotional => "order notional above the per-order maximum",
        DenialCode::MaxLeverage => "leverage above the maximum",
        DenialCode::MaxPositionsTotal => "too many open positions",
        DenialCode::MaxPositionsSymbol => "too many open positions on this symbol",
        DenialCode::MaxExposureSymbol => "symbol exposure limit reached",
        DenialCode::MaxExposureTotal => "total exposure limit reached",
        DenialCode::PriceMissing => "no reference price for the symbol",
        DenialCode::PriceStale => "reference price is stale",
        DenialCode::PriceCollar => "reference price outside the collar",
        DenialCode::OrderRate => "order rate limit reached",
        DenialCode::DailyLossLimit => "daily loss limit reached",
        DenialCode::DrawdownLimit => "drawdown limit reached",
        DenialCode::FilterMinQty => "quantity rounds to zero at the step size",
        DenialCode::FilterMinNotional => "notional below the exchange minimum",
        DenialCode::ZeroSize => "sizing produced no size",
        DenialCode::VenueRejected => "venue rejected the order",
        DenialCode::GatewayHalted => "kill switch tripped before the order left",
    }
}

/// A human-readable description of an error code.
pub const fn error_text(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::JsonSyntax => "input is not valid JSON",
        ErrorCode::JsonType => "a field has the wrong type",
        ErrorCode::UnknownField => "unknown field",
        ErrorCode::MissingField => "a required field is missing",
        ErrorCode::UnknownSymbol => "symbol is not configured",
        ErrorCode::InvalidSide => "side must be BUY or SELL",
        ErrorCode::ConfidenceRange => "confidence must be a number in 0..=1",
        ErrorCode::UnknownTimeframe => "timeframe is not one of 1m 5m 15m 30m 1h 4h 1d",
        ErrorCode::UnknownModel => "model_version is not a valid model name (1-32 characters of A-Z a-z 0-9 _ . -)",
        ErrorCode::InvalidTraceId => "trace_id must be 1-36 bytes of printable ASCII",
        ErrorCode::Oversized => "input exceeds the size limit",
        ErrorCode::InvalidUtf8 => "input is not UTF-8",
        ErrorCode::InvalidTimestamp => "timestamp must be a finite, non-negative number of epoch seconds",
        ErrorCode::EmptyInput => "empty input",
        ErrorCode::OrderRejected => "the venue rejected the order",
        ErrorCode::Io => "I/O error",
        ErrorCode::RingFull => "a trading ring stayed full",
        ErrorCode::UnknownPosition => "fill for a position that is not open",
        ErrorCode::PositionTableFull => "position table is full",
        ErrorCode::DuplicateTraceId => "trace_id was seen recently",
        ErrorCode::RateLimited => "the connection is over its rate limit",
        ErrorCode::DuplicateField => "a field is given twice",
        ErrorCode::ProtocolViolation => "the client broke the protocol; connection closed",
        ErrorCode::SlowClient => "the client did not read its answers; disconnected",
        ErrorCode::ModelRegistryFull => "model_version is new and the model registry is full (ingress.max_models)",
    }
}

/// The full text of an ingress error, when its `detail` is a ticket still held in the
/// [`error_details`] ring (see [`crate::error_detail`]).
fn error_detail_of(ev: &Event) -> Option<ErrorDetail> {
    match ev {
        Event::SystemEventError(e) if e.component == StageId::Ingress => {
            error_details().get(u64::try_from(e.detail).ok()?)
        }
        _ => None,
    }
}

/// Writes `s` as a JSON string (quoted, escaped; invalid UTF-8 replaced).
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for ch in String::from_utf8_lossy(s).chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Writes a finite float (non-finite values become `null`).
fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Writes an `f32` with its shortest decimal form (0.85 stays 0.85).
fn write_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.extend_from_slice(b"null");
    }
}

struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, k.as_bytes());
        self.out.push(b':');
        self.out
    }
    fn str(&mut self, k: &str, v: &str) -> &mut Self {
        write_str(self.key(k), v.as_bytes());
        self
    }
    fn f64(&mut self, k: &str, v: f64) -> &mut Self {
        write_f64(self.key(k), v);
        self
    }
    fn f32(&mut self, k: &str, v: f32) -> &mut Self {
        write_f32(self.key(k), v);
        self
    }
    fn price(&mut self, k: &str, v: Price) -> &mut Self {
        self.f64(k, v.to_f64())
    }
    fn usd(&mut self, k: &str, v: Usd) -> &mut Self {
        self.f64(k, v.to_f64())
    }
    fn int(&mut self, k: &str, v: i64) -> &mut Self {
        let _ = write!(self.key(k), "{v}");
        self
    }
    fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k).extend_from_slice(if v { b"true" } else { b"false" });
        self
    }
    fn null(&mut self, k: &str) -> &mut Self {
        self.key(k).extend_from_slice(b"null");
        self
    }
    fn end(&mut self) {
        self.out.push(b'}');
    }
}

/// Renders events against a catalog and a wall-clock offset.
#[derive(Clone, Copy, Debug)]
pub struct JsonRenderer<'a> {
    /// Names behind the indices.
    pub catalog: &'a Catalog,
    /// Added to monotonic ns to get Unix-epoch ns.
    pub wall_offset_ns: i64,
}

impl JsonRenderer<'_> {
    fn epoch_secs(&self, ns: u64) -> f64 {
        (ns as i64).saturating_add(self.wall_offset_ns) as f64 / 1e9
    }

    /// Writes `{"event_type":…,"source":…,"payload":{…}}` (no newline).
    pub fn write_envelope(&self, ev: &Event, source: StageId, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"event_type\":");
        write_str(out, ev.kind().name().as_bytes());
        out.extend_from_slice(b",\"source\":");
        write_str(out, source.name().as_bytes());
        out.extend_from_slice(b",\"payload\":");
        self.write_payload(ev, out);
        out.push(b'}');
    }

    /// Writes the reference payload object of `ev`.
    pub fn write_payload(&self, ev: &Event, out: &mut Vec<u8>) {
        let h = ev.header();
        let c = self.catalog;
        let detail = error_detail_of(ev);
        let mut o = Obj::new(out);
        match ev {
            Event::SignalGenerated(e) => {
                o.str("symbol", c.symbol(h.instrument)).str("side", e.side.name()).f32("confidence", e.confidence);
                o.str("timeframe", e.timeframe.name()).str("model_version", c.model(e.model));
            }
            Event::ExecutionRequested(e) => {
                o.str("symbol", c.symbol(h.instrument)).str("side", e.side.name()).f64("leverage", e.leverage.to_f64());
                o.usd("position_size_usd", e.position_size_usd).f32("trade_risk_pct", e.trade_risk_pct);
                o.f32("confidence", e.confidence)
                    .f32("stop_loss_pct", e.stop_loss_pct)
                    .f32("take_profit_pct", e.take_profit_pct);
            }
            Event::TradeExecuted(e) | Event::TradeExitExecuted(e) => {
                o.str("symbol", c.symbol(h.instrument)).str("side", e.side.name());
                let exit = matches!(ev, Event::TradeExitExecuted(_));
                o.price(if exit { "exit_price" } else { "entry_price" }, e.fill_price);
                o.usd("position_size_usd", e.notional()).f64("leverage", e.leverage.to_f64());
                let _ = write!(o.key("order_id"), "\"ORDER_{}_{}\"", c.symbol(h.instrument), e.order_id);
                o.usd("commission_usd", e.commission_usd).f32("slippage_pct", e.slippage_pct);
                if exit {
                    o.str("exit_reason", e.exit_reason.name());
                }
            }
            Event::PositionOpened(e) => {
                o.str("symbol", c.symbol(h.instrument))
                    .price("entry_price", e.entry_price)
                    .usd("size_usd", e.size_usd());
                o.f64("leverage", e.leverage.to_f64()).bool("is_long", e.side == Side::Buy);
                o.price("stop_loss_price", e.stop_loss_price).price("take_profit_price", e.take_profit_price);
            }
            Event::PositionUpdated(e) => {
                o.str("symbol", c.symbol(h.instrument))
                    .price("entry_price", e.entry_price)
                    .price("mark_price", e.mark_price);
                o.usd("size_usd", e.entry_price.notional(e.qty))
                    .f64("leverage", e.leverage.to_f64())
                    .bool("is_long", e.side == Side::Buy);
                o.usd("unrealized_pnl_usd", e.unrealized_pnl_usd).f32("unrealized_pnl_pct", e.unrealized_pnl_pct);
            }
            Event::PositionClosed(e) => {
                o.str("symbol", c.symbol(h.instrument))
                    .price("entry_price", e.entry_price)
                    .price("exit_price", e.exit_price);
                o.usd("size_usd", e.size_usd).f64("leverage", e.leverage.to_f64()).bool("is_long", e.side == Side::Buy);
                o.usd("pnl_usd", e.pnl_usd)
                    .f32("pnl_pct", e.pnl_pct)
                    .f64("duration_seconds", f64::from(e.duration_ms) / 1000.0);
                o.str("exit_reason", e.exit_reason.name());
            }
            Event::RiskAlert(e) => {
                o.str("severity", e.severity.name()).str("alert_type", e.alert_type.name());
                let msg = format!("{}: observed {} vs limit {}", e.alert_type.name(), e.observed, e.limit);
                o.str("message", &msg);
            }
            Event::SystemEventError(e) => {
                o.str("error_type", e.code.name());
                let msg = match &detail {
                    Some(d) => d.message().to_owned(),
                    // An ingress ticket whose record was overwritten: the words are gone.
                    None if e.component == StageId::Ingress && e.detail >= ErrorDetails::FIRST_TICKET as i64 => {
                        format!("{} (details no longer held)", error_text(e.code))
                    }
                    None => format!("{} (detail {})", error_text(e.code), e.detail),
                };
                o.str("error_message", &msg).str("component", e.component.name());
            }
            Event::SignalDenied(e) => {
                o.str("symbol", c.symbol(h.instrument)).str("side", e.side.name()).f32("confidence", e.confidence);
                o.str("model_version", c.model(e.model))
                    .str("denial_code", e.code.name())
                    .str("reason", denial_text(e.code));
            }
            Event::ModelDriftDetected(e) => {
                o.str("model_version", c.model(e.model)).f64("statistic", e.statistic).f64("threshold", e.threshold);
            }
            Event::ModelPromoted(e) => {
                o.str("model_version", c.model(e.promoted)).str("replaced_model_version", c.model(e.replaced));
            }
            _ => {
                o.str("symbol", c.symbol(h.instrument));
            }
        }
        match detail.as_ref().map(ErrorDetail::trace).filter(|t| !t.is_empty()) {
            Some(t) => o.str("trace_id", t),
            None => o.str("trace_id", h.trace_id.as_str()),
        };
        let ts = match ev {
            Event::SignalGenerated(e) => e.signal_ts_us as f64 / 1e6,
            _ => self.epoch_secs(h.ts_emit_ns),
        };
        o.f64("timestamp", ts);
        self.write_tail(ev, detail.as_ref(), &mut o);
        o.end();
    }

    /// Fields after `trace_id`/`timestamp` and the `metadata` object.
    fn write_tail(&self, ev: &Event, detail: Option<&ErrorDetail>, o: &mut Obj<'_>) {
        let c = self.catalog;
        let h = ev.header();
        match ev {
            Event::RiskAlert(e) => {
                o.f32("current_drawdown_pct", e.current_drawdown_pct);
                if matches!(e.alert_type, AlertType::MaxDrawdownBreached | AlertType::DrawdownWarning) {
                    o.f64("max_allowed_drawdown_pct", e.limit);
                } else {
                    o.null("max_allowed_drawdown_pct");
                }
                o.int("open_positions_count", i64::from(e.open_positions))
                    .int("max_positions", i64::from(e.max_positions));
                o.str("action_taken", e.action.name());
                if e.profile == crate::ids::ProfileIdx::NONE {
                    o.null("risk_profile");
                } else {
                    o.str("risk_profile", c.profile(e.profile));
                }
            }
            Event::SystemEventError(e) => {
                o.str("event_type", e.event_kind.name()).null("stack_trace");
                let mut p = Obj::new(o.key("event_payload"));
                match detail {
                    Some(d) => {
                        write_str(p.key("raw"), d.raw());
                        p.int("detail", d.position).int("column", i64::from(d.column));
                    }
                    None => {
                        write_str(p.key("raw"), e.raw());
                        p.int("detail", e.detail);
                    }
                }
                p.end();
                o.int("retry_count", i64::from(e.retry_count)).bool("is_recoverable", e.code.is_recoverable());
            }
            Event::PositionClosed(e) => {
                o.f32("max_drawdown_pct", e.max_drawdown_pct).f32("entry_confidence", e.entry_confidence);
                o.str("model_version", c.model(e.model)).str("market_condition", e.market_condition.name());
            }
            Event::SignalDenied(e) => {
                o.usd("position_size_usd", e.position_size_usd).f64("leverage", e.leverage.to_f64());
                o.f64("observed", e.observed).f64("limit", e.limit);
            }
            Event::ModelDriftDetected(e) => {
                o.f32("mean_error_before", e.mean_before)
                    .f32("mean_error_recent", e.mean_recent)
                    .int("samples", i64::from(e.samples));
            }
            Event::ModelPromoted(e) => {
                o.f64("statistic", e.statistic).f32("challenger_mean_pnl_pct", e.challenger_mean_pnl_pct);
                o.f32("incumbent_mean_pnl_pct", e.incumbent_mean_pnl_pct)
                    .int("challenger_trades", i64::from(e.challenger_trades));
                o.int("incumbent_trades", i64::from(e.incumbent_trades));
            }
            _ => {}
        }
        let mut m = Obj::new(o.key("metadata"));
        m.int("seq", h.seq as i64);
        self.write_metadata(ev, &mut m);
        m.end();
    }

    fn write_metadata(&self, ev: &Event, m: &mut Obj<'_>) {
        let c = self.catalog;
        match ev {
            Event::ExecutionRequested(e) => {
                m.f64("quantity", e.qty.to_f64()).price("reference_price", e.ref_price);
                m.str("model_version", c.model(e.model)).str("risk_profile", c.profile(e.profile));
            }
            Event::TradeExecuted(e) | Event::TradeExitExecuted(e) => {
                m.f64("quantity", e.qty.to_f64()).str("model_version", c.model(e.model));
            }
            Event::PositionOpened(e) => {
                m.f64("quantity", e.qty.to_f64()).str("side", e.side.name());
            }
            Event::PositionUpdated(e) => {
                m.f64("quantity", e.qty.to_f64());
            }
            Event::RiskAlert(e) => {
                m.str("source", e.source.name()).f64("observed", e.observed).f64("limit", e.limit);
                if e.model != crate::ids::ModelIdx::NONE {
                    m.str("model_version", c.model(e.model));
                }
            }
            Event::SignalDenied(e) => {
                m.str("source", e.source.name()).int("denial_code_num", i64::from(e.code.code()));
            }
            Event::MarketTick(e) => {
                m.price("price", e.price);
            }
            Event::ExitRequest(e) => {
                m.str("side", e.side.name()).f64("quantity", e.qty.to_f64()).str("reason", e.reason.name());
            }
            Event::PolicyUpdate(e) => {
                m.str("kind", e.kind.name()).str("model_version", c.model(e.model)).f64("value", e.value);
            }
            Event::ExposureUpdate(e) => {
                m.usd("released_usd", e.released_usd)
                    .usd("realized_pnl_usd", e.realized_pnl_usd)
                    .bool("closed", e.closed);
            }
            Event::OrderRejected(e) => {
                m.str("code", e.code.name()).int("venue_code", i64::from(e.venue_code));
            }
            Event::ControlCommand(e) => {
                m.str("kind", e.kind.name());
            }
            _ => {}
        }
    }
}

/// Convenience: one JSON line (envelope + `\n`) as a `String`.
pub fn envelope_line(ev: &Event, source: StageId, catalog: &Catalog, wall_offset_ns: i64) -> String {
    let mut buf = Vec::with_capacity(512);
    JsonRenderer { catalog, wall_offset_ns }.write_envelope(ev, source, &mut buf);
    buf.push(b'\n');
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::InstrumentSpec;
    use crate::fixed::Leverage;
    use crate::ids::{InstrumentIdx, ModelIdx, TraceId};

    fn catalog() -> Catalog {
        let spec = InstrumentSpec::with_unit_filters("BTCUSDT");
        Catalog::try_new(vec![spec], vec!["ensemble_v2".into()], vec!["NORMAL".into()]).unwrap()
    }

    fn header() -> Header {
        Header {
            seq: 7,
            ts_origin_ns: 1,
            ts_emit_ns: 2_000_000_000,
            trace_id: TraceId::try_new("abc-\"123").unwrap(),
            instrument: InstrumentIdx(0),
        }
    }

    #[test]
    fn signal_renders_reference_fields() {
        let ev = Event::SignalGenerated(SignalGenerated {
            header: header(),
            signal_ts_us: 1_733_155_200_000_000,
            confidence: 0.85,
            model: ModelIdx(0),
            side: Side::Buy,
            timeframe: Timeframe::H1,
        });
        let line = envelope_line(&ev, StageId::Ingress, &catalog(), 0);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event_type"], "signal.generated");
        assert_eq!(v["source"], "ingress");
        let p = &v["payload"];
        assert_eq!(p["symbol"], "BTCUSDT");
        assert_eq!(p["side"], "BUY");
        assert_eq!(p["confidence"], 0.85);
        assert_eq!(p["timeframe"], "1h");
        assert_eq!(p["model_version"], "ensemble_v2");
        assert_eq!(p["trace_id"], "abc-\"123");
        assert_eq!(p["timestamp"], 1_733_155_200.0);
        assert_eq!(p["metadata"]["seq"], 7);
    }

    #[test]
    fn entry_fill_has_entry_price_and_exit_fill_its_own_type() {
        let fill = TradeExecuted {
            header: header(),
            order_id: 9,
            fill_price: Price::from_f64(40_000.0).unwrap(),
            qty: crate::fixed::Qty::from_f64(0.0125).unwrap(),
            commission_usd: Usd::from_f64(0.2).unwrap(),
            slippage_pct: 0.02,
            confidence: 0.85,
            stop_loss_pct: 2.0,
            take_profit_pct: 5.0,
            leverage: Leverage(500),
            model: ModelIdx(0),
            side: Side::Buy,
            purpose: FillPurpose::Entry,
            exit_reason: ExitReason::Manual,
        };
        let render = |t: TradeExecuted| -> serde_json::Value {
            serde_json::from_str(&envelope_line(&Event::from(t), StageId::Gateway, &catalog(), 0)).unwrap()
        };
        let v = render(fill);
        assert_eq!(v["event_type"], "trade.executed");
        let p = &v["payload"];
        assert_eq!((p["entry_price"].as_f64(), p["position_size_usd"].as_f64()), (Some(40_000.0), Some(500.0)));
        assert_eq!(p["order_id"], "ORDER_BTCUSDT_9");
        assert!(p.get("exit_price").is_none() && p["metadata"].get("purpose").is_none(), "{p}");
        let exit = TradeExecuted { purpose: FillPurpose::Exit, exit_reason: ExitReason::TakeProfit, ..fill };
        let v = render(exit);
        assert_eq!(v["event_type"], "trade.exit_executed");
        let p = &v["payload"];
        assert_eq!((p["exit_price"].as_f64(), &p["exit_reason"]), (Some(40_000.0), &serde_json::json!("TP")));
        assert!(p.get("entry_price").is_none(), "{p}");
    }

    #[test]
    fn closed_and_error_render_as_valid_json() {
        let closed = Event::PositionClosed(PositionClosed {
            header: header(),
            entry_price: Price::from_f64(40_000.0).unwrap(),
            exit_price: Price::from_f64(41_000.0).unwrap(),
            size_usd: Usd::from_f64(500.0).unwrap(),
            pnl_usd: Usd::from_f64(50.0).unwrap(),
            pnl_pct: 2.5,
            max_drawdown_pct: 0.5,
            entry_confidence: 0.85,
            duration_ms: 3_600_000,
            leverage: Leverage(500),
            model: ModelIdx(0),
            side: Side::Buy,
            exit_reason: ExitReason::TakeProfit,
            market_condition: MarketCondition::Bullish,
        });
        let v: serde_json::Value =
            serde_json::from_str(&envelope_line(&closed, StageId::Position, &catalog(), 1_000_000_000)).unwrap();
        let p = &v["payload"];
        assert_eq!(p["pnl_usd"], 50.0);
        assert_eq!(p["duration_seconds"], 3600.0);
        assert_eq!(p["exit_reason"], "TP");
        assert_eq!(p["is_long"], true);
        assert_eq!(p["timestamp"], 3.0);
        let err = Event::SystemEventError(SystemEventError::new(
            header(),
            ErrorCode::JsonSyntax,
            StageId::Ingress,
            EventKind::SignalGenerated,
            b"{\"bad\xff\n",
            3,
        ));
        let v: serde_json::Value = serde_json::from_str(&envelope_line(&err, StageId::Ingress, &catalog(), 0)).unwrap();
        assert_eq!(v["payload"]["error_type"], "JSON_SYNTAX");
        assert_eq!(v["payload"]["is_recoverable"], true);
        assert_eq!(v["payload"]["event_payload"]["detail"], 3);
    }
}
