//! JSON of orders as the API answers them and of user-data-stream events.

use serde_json::{json, Value};

use super::engine::{Account, Order, SymbolState};
use crate::filters::format_units;
use tradeflow_core::SCALE;

/// One execution, for `ORDER_TRADE_UPDATE` `x = TRADE`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fill {
    pub qty: i64,
    pub price: i64,
    pub fee: i64,
    pub realized: i64,
    pub trade_id: i64,
    pub maker: bool,
}

/// USDT amounts: 8 decimals.
pub(crate) fn usdt(units: i64) -> String {
    format_units(units, 8)
}

/// Average fill price of an order (0 before any fill).
pub(crate) fn avg_price(o: &Order) -> i64 {
    if o.executed == 0 {
        return 0;
    }
    let avg = i128::from(o.cum_quote) * i128::from(SCALE) / i128::from(o.executed);
    i64::try_from(avg).unwrap_or(0)
}

/// The futures order object (`order.place` / `order.cancel` / `order.status` result).
pub(crate) fn order_json(s: &SymbolState, o: &Order) -> Value {
    json!({
        "orderId": o.id,
        "symbol": s.name,
        "status": o.status.as_str(),
        "clientOrderId": o.client_id,
        "price": s.px(o.price),
        "avgPrice": s.px(avg_price(o)),
        "origQty": s.qty(o.qty),
        "executedQty": s.qty(o.executed),
        "cumQty": s.qty(o.executed),
        "cumQuote": s.quote(o.cum_quote),
        "timeInForce": o.tif.as_str(),
        "type": if o.market { "MARKET" } else { "LIMIT" },
        "reduceOnly": o.reduce_only,
        "closePosition": o.close_position,
        "side": o.side.as_str(),
        "positionSide": "BOTH",
        "stopPrice": s.px(o.stop_price),
        "workingType": o.working_type,
        "priceProtect": false,
        "origType": o.orig_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": o.created_ms,
        "updateTime": o.update_ms,
    })
}

/// `ORDER_TRADE_UPDATE` with execution type `exec` (`NEW`, `TRADE`, `CANCELED`, `EXPIRED`).
pub(crate) fn order_update(s: &SymbolState, o: &Order, exec: &str, fill: Option<Fill>, now_ms: i64) -> String {
    let f = fill.unwrap_or(Fill { qty: 0, price: 0, fee: 0, realized: 0, trade_id: 0, maker: false });
    let mut ob = json!({
        "s": s.name, "c": o.client_id, "S": o.side.as_str(),
        "o": if o.market { "MARKET" } else { "LIMIT" }, "f": o.tif.as_str(),
        "q": s.qty(o.qty), "p": s.px(o.price), "ap": s.px(avg_price(o)), "sp": s.px(o.stop_price),
        "x": exec, "X": o.status.as_str(), "i": o.id,
        "l": s.qty(f.qty), "z": s.qty(o.executed), "L": s.px(f.price),
        "T": now_ms, "t": f.trade_id, "b": "0", "a": "0", "m": f.maker, "R": o.reduce_only,
        "wt": o.working_type, "ot": o.orig_type, "ps": "BOTH", "cp": o.close_position,
        "AP": "0", "cr": "0", "pP": false, "si": 0, "ss": 0, "rp": usdt(f.realized),
        "V": "NONE", "pm": "NONE", "gtd": 0,
        "er": if exec == "EXPIRED" { "2" } else { "0" },
    });
    if fill.is_some() {
        ob["N"] = json!("USDT");
        ob["n"] = json!(usdt(f.fee));
    }
    json!({"e": "ORDER_TRADE_UPDATE", "E": now_ms, "T": now_ms, "o": ob}).to_string()
}

/// `ACCOUNT_UPDATE` (reason `ORDER`) with the wallet and the one changed position.
pub(crate) fn account_update(s: &SymbolState, a: &Account, sym: usize, now_ms: i64) -> String {
    let p = a.positions[sym];
    json!({
        "e": "ACCOUNT_UPDATE", "E": now_ms, "T": now_ms,
        "a": {
            "m": "ORDER",
            "B": [{"a": "USDT", "wb": usdt(a.balance), "cw": usdt(a.balance), "bc": "0"}],
            "P": [{
                "s": s.name, "pa": s.qty(p.amt), "ep": usdt(p.entry), "bep": usdt(p.entry),
                "cr": usdt(p.realized), "up": usdt(unrealized(p.amt, p.entry, s.price)),
                "mt": "cross", "iw": "0", "ps": "BOTH",
            }],
        },
    })
    .to_string()
}

/// Unrealized PnL of `amt` entered at `entry`, at `mark`.
pub(crate) fn unrealized(amt: i64, entry: i64, mark: i64) -> i64 {
    let v = i128::from(mark - entry) * i128::from(amt) / i128::from(SCALE);
    i64::try_from(v).unwrap_or(0)
}
