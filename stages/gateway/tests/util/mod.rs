//! Shared builders for the gateway tests.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // fixtures: a bad literal should fail the test loudly

use std::sync::Arc;

use tradeflow_core::{
    Catalog, CommandKind, ControlCommand, Event, ExecutionRequested, ExitReason, ExitRequest, Header, InstrumentIdx,
    InstrumentSpec, KillSwitch, Leverage, ModelIdx, Price, ProfileIdx, Qty, Side, TraceId, Usd,
};
use tradeflow_gateway::{GatewayConfig, GatewayStage, SimVenueConfig};

pub const BTC: InstrumentIdx = InstrumentIdx(0);

/// BTCUSDT: tick 0.1, step 0.001, min qty 0.001.
pub fn catalog() -> Arc<Catalog> {
    let btc = InstrumentSpec {
        symbol: "BTCUSDT".into(),
        tick_size: Price(10_000_000),
        step_size: Qty(100_000),
        min_qty: Qty(100_000),
        min_notional: Usd(500_000_000),
    };
    Arc::new(Catalog::try_new(vec![btc], vec!["m1".into(), "m2".into()], vec!["NORMAL".into()]).unwrap())
}

pub fn px(v: f64) -> Price {
    Price::from_f64(v).unwrap()
}

pub fn qty(v: f64) -> Qty {
    Qty::from_f64(v).unwrap()
}

pub fn header(seq: u64, trace: &str) -> Header {
    Header::origin(seq, TraceId::try_new(trace).unwrap(), BTC, 1_000 + seq)
}

pub fn entry(seq: u64, side: Side, ref_price: f64, q: f64) -> ExecutionRequested {
    ExecutionRequested {
        header: header(seq, &format!("trace-{seq}")),
        position_size_usd: Usd::from_f64(ref_price * q).unwrap(),
        qty: qty(q),
        ref_price: px(ref_price),
        confidence: 0.8,
        trade_risk_pct: 1.0,
        stop_loss_pct: 2.0,
        take_profit_pct: 3.0,
        leverage: Leverage(400),
        model: ModelIdx(1),
        side,
        profile: ProfileIdx(0),
    }
}

pub fn exit(seq: u64, side: Side, ref_price: f64, q: f64, reason: ExitReason) -> ExitRequest {
    ExitRequest {
        header: header(seq, &format!("trace-{seq}")),
        qty: qty(q),
        ref_price: px(ref_price),
        confidence: 0.7,
        leverage: Leverage(400),
        model: ModelIdx(1),
        side,
        reason,
    }
}

pub fn command(kind: CommandKind) -> Event {
    Event::ControlCommand(ControlCommand {
        header: Header::origin(1, TraceId::try_new("control-1").unwrap(), InstrumentIdx::NONE, 0),
        kind,
        reason: ExitReason::KillSwitch,
    })
}

pub fn config(latency_us: u64, max_pending: usize) -> GatewayConfig {
    GatewayConfig {
        venue: "sim".into(),
        sim: SimVenueConfig { slippage_bps: 1.0, commission_bps: 4.0, latency_us, max_pending },
        ..GatewayConfig::default()
    }
}

pub fn stage(cfg: &GatewayConfig) -> (GatewayStage, Arc<KillSwitch>) {
    let kill = Arc::new(KillSwitch::new());
    (GatewayStage::try_new(cfg, catalog(), kill.clone()).unwrap(), kill)
}

/// The fills (`trade.executed` and `trade.exit_executed`) of `evs`.
pub fn fills(evs: &[Event]) -> Vec<&tradeflow_core::TradeExecuted> {
    evs.iter().filter_map(Event::fill).collect()
}

/// The `OrderRejected` events of `evs`.
pub fn rejections(evs: &[Event]) -> Vec<&tradeflow_core::OrderRejected> {
    evs.iter()
        .filter_map(|e| match e {
            Event::OrderRejected(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// Hands `ev` to the gateway; returns what it emitted at once.
pub fn send(gw: &mut GatewayStage, ev: Event) -> Vec<Event> {
    let mut ctx = tradeflow_core::RecordingCtx::new(0);
    tradeflow_core::Stage::on_event(gw, &ev, &mut ctx);
    ctx.take()
}

/// The mock's current BTCUSDT price.
pub fn price_now(mock: &tradeflow_binance::mock::MockExchange) -> f64 {
    mock.price("BTCUSDT").unwrap().parse().unwrap()
}
