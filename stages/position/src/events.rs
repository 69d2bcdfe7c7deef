//! Builders of the events the position stage emits.

use tradeflow_core::{
    ErrorCode, Event, ExitReason, ExitRequest, ExposureUpdate, Header, InstrumentIdx, MarketCondition, ModelIdx,
    PositionClosed, PositionOpened, PositionUpdated, Price, ProfileIdx, RiskAlert, StageId, SystemEventError, TraceId,
    TradeExecuted, Usd, TRACE_ID_MAX,
};

use crate::book::Position;
use crate::monitor::Alert;
use crate::pnl::{adverse_excursion_pct, gross_pnl, pct_of};

/// The position's identity (seq, trace id, instrument) with `cause_ns` as the origin: exits and
/// updates are caused by a tick or a timer, not by the entry signal.
#[inline]
pub fn position_header(p: &Position, cause_ns: u64) -> Header {
    Header { ts_origin_ns: cause_ns, ts_emit_ns: 0, ..p.entry }
}

/// `position.opened`.
pub fn opened(p: &Position) -> PositionOpened {
    PositionOpened {
        header: p.entry,
        entry_price: p.entry_price,
        qty: p.qty,
        stop_loss_price: p.stop_loss,
        take_profit_price: p.take_profit,
        leverage: p.leverage,
        side: p.side,
    }
}

/// `position.updated` at `mark`.
pub fn updated(p: &Position, mark: Price, now_ns: u64) -> PositionUpdated {
    let unrealized = gross_pnl(p.side, p.entry_price, mark, p.qty);
    PositionUpdated {
        header: position_header(p, now_ns),
        entry_price: p.entry_price,
        mark_price: mark,
        qty: p.qty,
        unrealized_pnl_usd: unrealized,
        unrealized_pnl_pct: pct_of(unrealized, p.entry_notional()),
        leverage: p.leverage,
        side: p.side,
    }
}

/// A reduce-only order closing all of `p` at reference price `price`.
pub fn exit_request(p: &Position, reason: ExitReason, price: Price, cause_ns: u64) -> ExitRequest {
    ExitRequest {
        header: position_header(p, cause_ns),
        qty: p.qty,
        ref_price: price,
        confidence: p.confidence,
        leverage: p.leverage,
        model: p.model,
        side: p.side.opposite(),
        reason,
    }
}

/// `position.closed` for `p` closed by `fill` (`p.worst_price` must include the exit price).
pub fn closed(p: &Position, fill: &TradeExecuted, pnl: Usd, now_ns: u64, condition: MarketCondition) -> PositionClosed {
    let size = p.entry_notional();
    let duration_ms = now_ns.saturating_sub(p.opened_ns) / 1_000_000;
    PositionClosed {
        header: Header::derived(&fill.header),
        entry_price: p.entry_price,
        exit_price: fill.fill_price,
        size_usd: size,
        pnl_usd: pnl,
        pnl_pct: pct_of(pnl, size),
        max_drawdown_pct: adverse_excursion_pct(p.side, p.entry_price, p.worst_price),
        entry_confidence: p.confidence,
        duration_ms: u32::try_from(duration_ms).unwrap_or(u32::MAX),
        leverage: p.leverage,
        model: p.model,
        side: p.side,
        exit_reason: fill.exit_reason,
        market_condition: condition,
    }
}

/// The exposure change risk needs (header derived from the cause so risk can match the seq).
pub fn exposure(cause: &Header, released: Usd, realized: Usd, closed: bool) -> ExposureUpdate {
    ExposureUpdate { header: Header::derived(cause), released_usd: released, realized_pnl_usd: realized, closed }
}

/// `system.event_error` about a `trade.executed` or `trade.exit_executed` (detail = the seq).
pub fn fill_error(fill: &TradeExecuted, code: ErrorCode, raw: &[u8]) -> SystemEventError {
    let detail = i64::try_from(fill.header.seq).unwrap_or(i64::MAX);
    let kind = Event::from(*fill).kind();
    SystemEventError::new(Header::derived(&fill.header), code, StageId::Position, kind, raw, detail)
}

/// Trace id `position-NNNNNN` naming the `n`th alert (no allocation).
pub fn alert_trace_id(n: u64) -> TraceId {
    const PREFIX: &[u8] = b"position-";
    let mut digits = [b'0'; 20];
    let mut v = n;
    let mut len = 0;
    while v > 0 || len < 6 {
        digits[19 - len] = b'0' + (v % 10) as u8;
        v /= 10;
        len += 1;
    }
    let mut buf = [0u8; TRACE_ID_MAX];
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    buf[PREFIX.len()..PREFIX.len() + len].copy_from_slice(&digits[20 - len..]);
    TraceId::try_from_bytes(&buf[..PREFIX.len() + len]).unwrap_or(TraceId::EMPTY)
}

/// Context of a `risk.alert` beyond the monitor's verdict.
#[derive(Clone, Copy, Debug)]
pub struct AlertContext {
    pub seq: u64,
    pub now_ns: u64,
    pub drawdown_pct: f64,
    pub open_positions: usize,
    pub max_positions: u32,
}

/// `risk.alert` from the equity monitor.
pub fn risk_alert(a: &Alert, c: &AlertContext) -> RiskAlert {
    RiskAlert {
        header: Header::origin(c.seq, alert_trace_id(c.seq), InstrumentIdx::NONE, c.now_ns),
        observed: a.observed,
        limit: a.limit,
        current_drawdown_pct: c.drawdown_pct as f32,
        open_positions: u16::try_from(c.open_positions).unwrap_or(u16::MAX),
        max_positions: u16::try_from(c.max_positions).unwrap_or(u16::MAX),
        model: ModelIdx::NONE,
        severity: a.severity,
        alert_type: a.alert_type,
        action: a.action,
        // The position stage does not track the active risk profile.
        profile: ProfileIdx::NONE,
        source: StageId::Position,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_trace_ids_are_padded_and_grow() {
        assert_eq!(alert_trace_id(1).as_str(), "position-000001");
        assert_eq!(alert_trace_id(1_234_567).as_str(), "position-1234567");
        assert_eq!(alert_trace_id(u64::MAX).as_str(), "position-18446744073709551615");
    }
}
