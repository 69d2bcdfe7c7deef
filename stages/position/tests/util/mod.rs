//! Shared builders for the position tests.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // fixtures: a bad literal should fail the test loudly

use std::sync::Arc;

use tradeflow_core::{
    Catalog, CommandKind, ControlCommand, Event, ExitReason, FillPurpose, Header, InstrumentIdx, InstrumentSpec,
    Leverage, MarketTick, ModelIdx, Price, Qty, Side, TraceId, TradeExecuted, Usd,
};
use tradeflow_position::{PositionConfig, PositionStage};

pub const BTC: InstrumentIdx = InstrumentIdx(0);
pub const ETH: InstrumentIdx = InstrumentIdx(1);
pub const MS: u64 = 1_000_000;

/// BTCUSDT (tick 0.1, step 0.001) and ETHUSDT (tick 0.01, step 0.001).
pub fn catalog() -> Arc<Catalog> {
    let spec = |symbol: &str, tick: f64| InstrumentSpec {
        symbol: symbol.into(),
        tick_size: px(tick),
        step_size: Qty(100_000),
        min_qty: Qty(100_000),
        min_notional: Usd(0),
    };
    Arc::new(
        Catalog::try_new(vec![spec("BTCUSDT", 0.1), spec("ETHUSDT", 0.01)], vec!["m1".into(), "m2".into()], vec![])
            .unwrap(),
    )
}

pub fn px(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

pub fn usd(v: f64) -> Usd {
    Usd::from_f64(v).unwrap()
}

pub fn header(seq: u64, inst: InstrumentIdx) -> Header {
    Header::origin(seq, TraceId::try_new(&format!("trace-{seq}")).unwrap(), inst, 500 + seq)
}

/// An entry fill with SL 2% / TP 3%.
pub fn entry(seq: u64, inst: InstrumentIdx, side: Side, price: f64, qty: f64, commission: f64) -> TradeExecuted {
    TradeExecuted {
        header: header(seq, inst),
        order_id: seq,
        fill_price: px(price),
        qty: Qty::from_f64(qty).unwrap(),
        commission_usd: usd(commission),
        slippage_pct: 0.0,
        confidence: 0.75,
        stop_loss_pct: 2.0,
        take_profit_pct: 3.0,
        leverage: Leverage(500),
        model: ModelIdx(1),
        side,
        purpose: FillPurpose::Entry,
        exit_reason: ExitReason::Manual,
    }
}

/// The exit fill of position `seq` (the order's side is the position's opposite).
pub fn exit_fill(
    seq: u64,
    inst: InstrumentIdx,
    order_side: Side,
    price: f64,
    qty: f64,
    commission: f64,
    reason: ExitReason,
) -> TradeExecuted {
    TradeExecuted {
        purpose: FillPurpose::Exit,
        exit_reason: reason,
        side: order_side,
        stop_loss_pct: 0.0,
        take_profit_pct: 0.0,
        ..entry(seq, inst, order_side, price, qty, commission)
    }
}

pub fn tick(inst: InstrumentIdx, price: f64, ts: u64) -> Event {
    Event::MarketTick(MarketTick { header: Header::origin(ts, TraceId::EMPTY, inst, ts), price: px(price) })
}

pub fn flatten_all() -> Event {
    Event::ControlCommand(ControlCommand {
        header: Header::origin(1, TraceId::try_new("control-1").unwrap(), InstrumentIdx::NONE, 0),
        kind: CommandKind::FlattenAll,
        reason: ExitReason::KillSwitch,
    })
}

/// Defaults with the timers off unless a test turns them on.
pub fn quiet_config() -> PositionConfig {
    PositionConfig { max_hold_ms: 0, update_interval_ms: 0, exit_retry_ms: 0, ..PositionConfig::default() }
}

pub fn stage(cfg: &PositionConfig) -> PositionStage {
    PositionStage::try_new(cfg, catalog()).unwrap()
}

pub fn kinds(ev: &[Event]) -> Vec<tradeflow_core::EventKind> {
    ev.iter().map(Event::kind).collect()
}

pub fn exits(ev: &[Event]) -> Vec<tradeflow_core::ExitRequest> {
    ev.iter().filter_map(|e| if let Event::ExitRequest(x) = e { Some(*x) } else { None }).collect()
}
