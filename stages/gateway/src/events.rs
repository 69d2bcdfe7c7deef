//! Builders of the events the gateway emits. Pure functions of an order and its outcome.

use tradeflow_core::{
    DenialCode, ErrorCode, EventKind, ExecutionRequested, ExitReason, FillPurpose, Header, OrderRejected, SignalDenied,
    StageId, SystemEventError, TradeExecuted,
};

use crate::venue::{Fill, Order, OrderIntent, VenueReject};

/// `trade.executed` for a fill: header derived from the request, slippage against its
/// reference price (positive = adverse), confidence/model/leverage (and SL/TP for entries)
/// carried from the request.
pub fn trade_executed(fill: &Fill) -> TradeExecuted {
    let order = &fill.order;
    let ref_units = order.ref_price().units();
    let moved = (fill.price.units() - ref_units) as f64 * order.side().sign() as f64;
    let slippage_pct = if ref_units > 0 { (moved / ref_units as f64 * 100.0) as f32 } else { 0.0 };
    let (confidence, stop_loss_pct, take_profit_pct, leverage, model, exit_reason) = match &order.intent {
        // Entries carry no exit reason; the field is ignored for them.
        OrderIntent::Entry(r) => {
            (r.confidence, r.stop_loss_pct, r.take_profit_pct, r.leverage, r.model, ExitReason::Manual)
        }
        OrderIntent::Exit(r) => (r.confidence, 0.0, 0.0, r.leverage, r.model, r.reason),
    };
    TradeExecuted {
        header: Header::derived(order.header()),
        order_id: order.order_id,
        fill_price: fill.price,
        qty: fill.qty,
        commission_usd: fill.commission,
        slippage_pct,
        confidence,
        stop_loss_pct,
        take_profit_pct,
        leverage,
        model,
        side: order.side(),
        purpose: order.purpose(),
        exit_reason,
    }
}

/// The internal `OrderRejected` for an order that will not fill.
pub fn order_rejected(intent: &OrderIntent, code: DenialCode, venue_code: i32) -> OrderRejected {
    let (header, position_size_usd, purpose) = match intent {
        OrderIntent::Entry(r) => (&r.header, r.position_size_usd, FillPurpose::Entry),
        OrderIntent::Exit(r) => (&r.header, r.ref_price.notional(r.qty), FillPurpose::Exit),
    };
    OrderRejected { header: Header::derived(header), position_size_usd, venue_code, code, purpose }
}

/// `signal.denied` for an entry the gateway refused (`observed` / `limit` say what failed).
pub fn signal_denied(req: &ExecutionRequested, code: DenialCode, observed: f64, limit: f64) -> SignalDenied {
    SignalDenied {
        header: Header::derived(&req.header),
        position_size_usd: req.position_size_usd,
        observed,
        limit,
        confidence: req.confidence,
        leverage: req.leverage,
        model: req.model,
        code,
        side: req.side,
        source: StageId::Gateway,
    }
}

/// `system.event_error` for a venue refusal (`raw` = the reason's text, `detail` = venue code).
pub fn venue_error(order: &Order, reject: VenueReject) -> SystemEventError {
    let kind = match order.intent {
        OrderIntent::Entry(_) => EventKind::ExecutionRequested,
        OrderIntent::Exit(_) => EventKind::ExitRequest,
    };
    SystemEventError::new(
        Header::derived(order.header()),
        ErrorCode::OrderRejected,
        StageId::Gateway,
        kind,
        reject.text(),
        i64::from(reject.venue_code),
    )
}
