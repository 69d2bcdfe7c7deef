//! `algoOrder.place` / `algoOrder.cancel`: conditional STOP_MARKET and TAKE_PROFIT_MARKET
//! orders, triggered by the price path and filled as MARKET orders.
//!
//! The mock has one price per symbol, used as both the mark price (`workingType=MARK_PRICE`)
//! and the contract (last) price (`CONTRACT_PRICE`). Trigger rules (notes §4.9): STOP_MARKET
//! BUY when price ≥ trigger, SELL when price ≤ trigger; TAKE_PROFIT_MARKET the other way round.
//! The triggered order carries the `clientAlgoId` as its client order id and is reduce-only when
//! the algo order was `closePosition=true` or `reduceOnly=true`.

use serde_json::{json, Value};

use super::engine::{Accepted, Engine, Order, Push, Side, Status, Tif};
use super::events::avg_price;
use super::orders::{check_client_id, check_position_side, decimal, filter_error, want_result};
use super::params::{ApiError, Params};

const ALGO_PARAMS: &[&str] = &[
    "algoType",
    "symbol",
    "side",
    "type",
    "positionSide",
    "timeInForce",
    "quantity",
    "price",
    "triggerPrice",
    "workingType",
    "priceMatch",
    "closePosition",
    "priceProtect",
    "reduceOnly",
    "activatePrice",
    "callbackRate",
    "clientAlgoId",
    "newOrderRespType",
    "selfTradePreventionMode",
    "goodTillDate",
];

/// Algo order status (`ALGO_UPDATE` `X`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlgoStatus {
    New,
    Canceled,
    Triggering,
    Triggered,
    Finished,
    Expired,
}

impl AlgoStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            AlgoStatus::New => "NEW",
            AlgoStatus::Canceled => "CANCELED",
            AlgoStatus::Triggering => "TRIGGERING",
            AlgoStatus::Triggered => "TRIGGERED",
            AlgoStatus::Finished => "FINISHED",
            AlgoStatus::Expired => "EXPIRED",
        }
    }

    pub const fn is_open(self) -> bool {
        matches!(self, AlgoStatus::New)
    }
}

/// A conditional order waiting for its trigger.
#[derive(Debug, Clone)]
pub(crate) struct AlgoOrder {
    pub id: i64,
    pub acct: usize,
    pub sym: usize,
    pub side: Side,
    pub take_profit: bool,
    pub trigger: i64,
    pub qty: i64,
    pub close_position: bool,
    pub reduce_only: bool,
    pub mark_price: bool,
    pub client_id: String,
    pub status: AlgoStatus,
    pub created_ms: i64,
    pub update_ms: i64,
    pub trigger_ms: i64,
    pub child: Option<usize>,
    pub reason: &'static str,
}

impl AlgoOrder {
    pub const fn type_str(&self) -> &'static str {
        if self.take_profit {
            "TAKE_PROFIT_MARKET"
        } else {
            "STOP_MARKET"
        }
    }

    pub const fn working_type(&self) -> &'static str {
        if self.mark_price {
            "MARK_PRICE"
        } else {
            "CONTRACT_PRICE"
        }
    }

    /// Whether `price` triggers this order.
    pub fn triggers_at(&self, price: i64) -> bool {
        let rises_to = price >= self.trigger;
        let falls_to = price <= self.trigger;
        match (self.take_profit, self.side) {
            (false, Side::Buy) | (true, Side::Sell) => rises_to,
            (false, Side::Sell) | (true, Side::Buy) => falls_to,
        }
    }
}

impl Engine {
    /// `algoOrder.place`.
    pub(crate) fn place_algo(&mut self, acct: usize, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        p.only(ALGO_PARAMS)?;
        if p.req("algoType")? != "CONDITIONAL" {
            return Err(ApiError::invalid("algoType"));
        }
        let sym = self.symbol(&p.req("symbol")?)?;
        let side = Side::parse(&p.req("side")?)?;
        let take_profit = match p.req("type")?.as_str() {
            "STOP_MARKET" => false,
            "TAKE_PROFIT_MARKET" => true,
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        };
        check_position_side(p)?;
        let _ = want_result(p)?;
        let trigger = decimal(p, "triggerPrice")?.ok_or_else(|| ApiError::mandatory("triggerPrice"))?;
        let f = self.symbols[sym].filters;
        f.check(trigger, f.min_qty, false, true).map_err(|e| filter_error(self, sym, e))?;
        let close_position = p.flag("closePosition")?;
        let (qty, reduce_only) = if close_position {
            for name in ["quantity", "reduceOnly"] {
                if p.has(name) {
                    return Err(ApiError::not_required(name));
                }
            }
            (0, false)
        } else {
            let qty = decimal(p, "quantity")?.ok_or_else(|| ApiError::mandatory("quantity"))?;
            let reduce_only = p.flag("reduceOnly")?;
            f.check(trigger, qty, true, reduce_only).map_err(|e| filter_error(self, sym, e))?;
            (qty, reduce_only)
        };
        let mark_price = match p.text("workingType").as_deref() {
            None | Some("CONTRACT_PRICE") => false,
            Some("MARK_PRICE") => true,
            Some(_) => return Err(ApiError::invalid("workingType")),
        };
        let id = self.next_algo_id;
        let client_id = match p.text("clientAlgoId") {
            Some(c) => {
                check_client_id("clientAlgoId", &c)?;
                if self.client_id_taken(acct, &c, now_ms) {
                    return Err(ApiError::bad(-4116, "ClientOrderId is duplicated."));
                }
                c
            }
            None => format!("mock-algo-{id}"),
        };
        let algo = AlgoOrder {
            id,
            acct,
            sym,
            side,
            take_profit,
            trigger,
            qty,
            close_position,
            reduce_only,
            mark_price,
            client_id,
            status: AlgoStatus::New,
            created_ms: now_ms,
            update_ms: now_ms,
            trigger_ms: 0,
            child: None,
            reason: "",
        };
        if algo.triggers_at(self.symbols[sym].price) {
            return Err(ApiError::bad(-2021, "Order would immediately trigger."));
        }
        self.next_algo_id += 1;
        let idx = self.algos.len();
        self.algos.push(algo);
        self.accepted.push(Accepted::Algo(idx));
        self.push_algo_event(idx, now_ms);
        Ok(self.algo_json(idx))
    }

    /// `algoOrder.cancel`.
    pub(crate) fn cancel_algo(&mut self, acct: usize, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        p.only(&["algoId", "clientAlgoId"])?;
        let by_id = p.int("algoId")?;
        let by_client = p.text("clientAlgoId");
        if by_id.is_none() && by_client.is_none() {
            return Err(ApiError::mandatory("algoId"));
        }
        let found = self.algos.iter().rposition(|a| {
            a.acct == acct
                && by_id.map_or(true, |id| a.id == id)
                && by_client.as_deref().map_or(true, |c| a.client_id == c)
        });
        let Some(idx) = found.filter(|&i| self.algos[i].status.is_open()) else {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        };
        let a = &mut self.algos[idx];
        a.status = AlgoStatus::Canceled;
        a.update_ms = now_ms;
        let answer = json!({"algoId": a.id, "clientAlgoId": a.client_id, "code": "200", "msg": "success"});
        self.push_algo_event(idx, now_ms);
        Ok(answer)
    }

    /// Triggers the open algo orders of `sym` that the current price reaches.
    pub(crate) fn trigger_algos(&mut self, sym: usize, now_ms: i64) {
        let price = self.symbols[sym].price;
        let due: Vec<usize> = (0..self.algos.len())
            .filter(|&i| {
                let a = &self.algos[i];
                a.sym == sym && a.status.is_open() && a.triggers_at(price)
            })
            .collect();
        for i in due {
            self.fire_algo(i, now_ms);
        }
    }

    fn set_algo_status(&mut self, idx: usize, status: AlgoStatus, now_ms: i64) {
        self.algos[idx].status = status;
        self.algos[idx].update_ms = now_ms;
        self.push_algo_event(idx, now_ms);
    }

    fn fire_algo(&mut self, idx: usize, now_ms: i64) {
        self.algos[idx].trigger_ms = now_ms;
        self.set_algo_status(idx, AlgoStatus::Triggering, now_ms);
        let a = self.algos[idx].clone();
        let reducible = self.reducible(a.acct, a.sym, a.side);
        let qty = match (a.close_position, a.reduce_only) {
            (true, _) => reducible,
            (false, true) => a.qty.min(reducible),
            (false, false) => a.qty,
        };
        if qty <= 0 {
            self.algos[idx].reason = "Reduce Only reject";
            self.set_algo_status(idx, AlgoStatus::Expired, now_ms);
            return;
        }
        let id = self.order_id();
        let child = Order {
            id,
            acct: a.acct,
            sym: a.sym,
            side: a.side,
            market: true,
            tif: Tif::Gtc,
            qty,
            price: 0,
            reduce_only: a.close_position || a.reduce_only,
            client_id: a.client_id.clone(),
            status: Status::New,
            executed: 0,
            cum_quote: 0,
            created_ms: now_ms,
            update_ms: now_ms,
            orig_type: a.type_str(),
            stop_price: a.trigger,
            working_type: a.working_type(),
            close_position: a.close_position,
            parent_algo: Some(idx),
        };
        let child_idx = self.add_order(child, now_ms);
        self.algos[idx].child = Some(child_idx);
        self.set_algo_status(idx, AlgoStatus::Triggered, now_ms);
        let px = self.taker_price(a.sym, a.side);
        self.fill_remaining(child_idx, px, false, now_ms);
        self.set_algo_status(idx, AlgoStatus::Finished, now_ms);
    }

    /// The `algoOrder.place` result object.
    pub(crate) fn algo_json(&self, idx: usize) -> Value {
        let a = &self.algos[idx];
        let s = &self.symbols[a.sym];
        json!({
            "algoId": a.id, "clientAlgoId": a.client_id, "algoType": "CONDITIONAL",
            "orderType": a.type_str(), "symbol": s.name, "side": a.side.as_str(), "positionSide": "BOTH",
            "timeInForce": "GTC", "quantity": s.qty(a.qty), "algoStatus": a.status.as_str(),
            "triggerPrice": s.px(a.trigger), "price": s.px(0), "icebergQuantity": null,
            "selfTradePreventionMode": "NONE", "workingType": a.working_type(), "priceMatch": "NONE",
            "closePosition": a.close_position, "priceProtect": false, "reduceOnly": a.reduce_only,
            "createTime": a.created_ms, "updateTime": a.update_ms, "triggerTime": a.trigger_ms, "goodTillDate": 0,
        })
    }

    fn push_algo_event(&mut self, idx: usize, now_ms: i64) {
        let a = &self.algos[idx];
        let s = &self.symbols[a.sym];
        let child = a.child.map(|c| &self.orders[c]);
        let text = json!({
            "e": "ALGO_UPDATE", "T": now_ms, "E": now_ms,
            "o": {
                "caid": a.client_id, "aid": a.id, "at": "CONDITIONAL", "o": a.type_str(), "s": s.name,
                "S": a.side.as_str(), "ps": "BOTH", "f": "GTC", "q": s.qty(a.qty), "X": a.status.as_str(),
                "ai": child.map_or(String::new(), |c| c.id.to_string()),
                "ap": s.px(child.map_or(0, avg_price)), "aq": s.qty(child.map_or(0, |c| c.executed)),
                "act": "0", "tp": s.px(a.trigger), "p": s.px(0), "V": "NONE", "wt": a.working_type(),
                "pm": "NONE", "cp": a.close_position, "pP": false, "R": a.reduce_only, "tt": a.trigger_ms,
                "gtd": 0, "rm": a.reason,
            },
        })
        .to_string();
        self.pushes.push(Push::User { acct: a.acct, text });
    }
}
