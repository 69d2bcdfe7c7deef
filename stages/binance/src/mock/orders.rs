//! `order.place`, `order.cancel`, `order.status`: validation, fills, one-way positions.

use serde_json::Value;

use super::engine::{Accepted, Engine, Order, Position, Push, Side, Status, Tif};
use super::events::{self, Fill};
use super::params::{ApiError, Params};
use crate::filters::{notional_units, parse_units, DecimalError, FilterError};
use tradeflow_core::SCALE;

/// Client ids stay reserved this long after the order was placed.
pub(crate) const CLIENT_ID_MEMORY_MS: i64 = 10 * 60 * 1000;

const ORDER_PARAMS: &[&str] = &[
    "symbol",
    "side",
    "type",
    "positionSide",
    "timeInForce",
    "quantity",
    "reduceOnly",
    "price",
    "newClientOrderId",
    "stopPrice",
    "closePosition",
    "activationPrice",
    "callbackRate",
    "workingType",
    "priceProtect",
    "newOrderRespType",
    "priceMatch",
    "selfTradePreventionMode",
    "goodTillDate",
];

/// A validated `order.place` request.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub sym: usize,
    pub side: Side,
    pub market: bool,
    pub tif: Tif,
    pub qty: i64,
    pub price: i64,
    pub reduce_only: bool,
    pub client_id: Option<String>,
    pub want_result: bool,
}

/// Checks `^[\.A-Z\:/a-z0-9_-]{1,36}$`.
pub(crate) fn check_client_id(name: &str, id: &str) -> Result<(), ApiError> {
    if id.len() > 36 {
        return Err(ApiError::bad(-4015, "Client order id length should not be more than 36 chars"));
    }
    let legal = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-');
    if id.is_empty() || !id.bytes().all(legal) {
        return Err(ApiError::bad(
            -1100,
            format!("Illegal characters found in parameter '{name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{{1,36}}$'."),
        ));
    }
    Ok(())
}

/// A decimal parameter in 1e-8 units.
pub(crate) fn decimal(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match p.text(name) {
        None => Ok(None),
        Some(t) => match parse_units(&t) {
            Ok(u) => Ok(Some(u)),
            Err(DecimalError::TooPrecise(_)) => {
                Err(ApiError::bad(-1111, "Precision is over the maximum defined for this asset."))
            }
            Err(_) => Err(ApiError::mandatory(name)),
        },
    }
}

/// `newOrderRespType`: `true` for RESULT.
pub(crate) fn want_result(p: &Params) -> Result<bool, ApiError> {
    match p.text("newOrderRespType").as_deref() {
        None | Some("ACK") => Ok(false),
        Some("RESULT") => Ok(true),
        Some(_) => Err(ApiError::invalid("newOrderRespType")),
    }
}

/// One-way mode only.
pub(crate) fn check_position_side(p: &Params) -> Result<(), ApiError> {
    match p.text("positionSide").as_deref() {
        None | Some("BOTH") => Ok(()),
        Some(_) => Err(ApiError::bad(-4061, "Order's position side does not match user's setting.")),
    }
}

/// Parses and validates the parameters of `order.place`.
pub(crate) fn parse_new_order(e: &Engine, p: &Params) -> Result<NewOrder, ApiError> {
    p.only(ORDER_PARAMS)?;
    let sym = e.symbol(&p.req("symbol")?)?;
    let side = Side::parse(&p.req("side")?)?;
    let market = match p.req("type")?.as_str() {
        "MARKET" => true,
        "LIMIT" => false,
        "STOP" | "STOP_MARKET" | "TAKE_PROFIT" | "TAKE_PROFIT_MARKET" | "TRAILING_STOP_MARKET" => {
            return Err(ApiError::bad(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
            ))
        }
        _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
    };
    check_position_side(p)?;
    if p.flag("closePosition")? {
        return Err(ApiError::not_required("closePosition"));
    }
    if p.text("priceMatch").is_some_and(|m| m != "NONE") {
        return Err(ApiError::invalid("priceMatch"));
    }
    let reduce_only = p.flag("reduceOnly")?;
    let client_id = p.text("newClientOrderId");
    if let Some(id) = &client_id {
        check_client_id("newClientOrderId", id)?;
    }
    let qty = decimal(p, "quantity")?.ok_or_else(|| ApiError::mandatory("quantity"))?;
    let (tif, price) = if market {
        if p.has("price") {
            return Err(ApiError::not_required("price"));
        }
        (Tif::Gtc, 0)
    } else {
        let tif = Tif::parse(&p.req("timeInForce")?)?;
        (tif, decimal(p, "price")?.ok_or_else(|| ApiError::mandatory("price"))?)
    };
    Ok(NewOrder { sym, side, market, tif, qty, price, reduce_only, client_id, want_result: want_result(p)? })
}

/// The filter error as the exchange words it.
pub(crate) fn filter_error(e: &Engine, sym: usize, f: FilterError) -> ApiError {
    if f == FilterError::NotionalTooSmall {
        let min = e.symbols[sym].filters.min_notional;
        let text = crate::filters::format_units(min, crate::filters::decimals_of(min.max(1)));
        return ApiError::bad(
            f.code(),
            format!("Order's notional must be no smaller than {text} (unless you choose reduce only)."),
        );
    }
    ApiError::bad(f.code(), f.message())
}

/// New position after a fill of `signed_qty` at `price`; returns the realized PnL.
pub(crate) fn apply_fill(p: &mut Position, signed_qty: i64, price: i64) -> i64 {
    let (a, d) = (p.amt, signed_qty);
    if a == 0 || (a > 0) == (d > 0) {
        let total = i128::from(a.abs()) + i128::from(d.abs());
        let weighted = i128::from(a.abs()) * i128::from(p.entry) + i128::from(d.abs()) * i128::from(price);
        p.entry = i64::try_from(weighted / total.max(1)).unwrap_or(price);
        p.amt = a + d;
        return 0;
    }
    let closed = a.abs().min(d.abs());
    let pnl = i128::from(price - p.entry) * i128::from(closed) * i128::from(a.signum()) / i128::from(SCALE);
    p.amt = a + d;
    if p.amt == 0 {
        p.entry = 0;
    } else if (p.amt > 0) != (a > 0) {
        p.entry = price;
    }
    i64::try_from(pnl).unwrap_or(0)
}

impl Engine {
    /// How much of a `side` order can reduce the current position.
    pub(crate) fn reducible(&self, acct: usize, sym: usize, side: Side) -> i64 {
        let amt = self.accounts[acct].positions[sym].amt;
        match side {
            Side::Sell if amt > 0 => amt,
            Side::Buy if amt < 0 => -amt,
            _ => 0,
        }
    }

    /// Whether `id` is taken: by an open order, or by any order placed in the last 10 minutes.
    pub(crate) fn client_id_taken(&self, acct: usize, id: &str, now_ms: i64) -> bool {
        let recent = |created: i64| now_ms - created < CLIENT_ID_MEMORY_MS;
        let orders = self.orders.iter().any(|o| {
            o.acct == acct
                && o.parent_algo.is_none()
                && o.client_id == id
                && (o.status.is_open() || recent(o.created_ms))
        });
        orders
            || self
                .algos
                .iter()
                .any(|a| a.acct == acct && a.client_id == id && (a.status.is_open() || recent(a.created_ms)))
    }

    /// The taker price for `side` now: the current price worsened by the slippage, on the tick grid.
    pub(crate) fn taker_price(&self, sym: usize, side: Side) -> i64 {
        let s = &self.symbols[sym];
        let slip = (s.price as f64 * self.slippage_bps / 10_000.0).round() as i64;
        s.filters.round_price(s.price + side.sign() * slip, side == Side::Buy).max(s.filters.tick_size)
    }

    /// Places an order; the answer is the order as accepted (ACK) or after matching (RESULT).
    pub(crate) fn place_order(&mut self, acct: usize, n: &NewOrder, now_ms: i64) -> Result<Value, ApiError> {
        let s = &self.symbols[n.sym];
        let ref_price = if n.market { s.price } else { n.price };
        s.filters.check(ref_price, n.qty, n.market, n.reduce_only).map_err(|f| filter_error(self, n.sym, f))?;
        if let Some(id) = &n.client_id {
            if self.client_id_taken(acct, id, now_ms) {
                return Err(ApiError::bad(-4116, "ClientOrderId is duplicated."));
            }
        }
        if n.reduce_only && n.qty > self.reducible(acct, n.sym, n.side) {
            return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
        }
        let price = s.price;
        let marketable =
            n.market || (n.side == Side::Buy && n.price >= price) || (n.side == Side::Sell && n.price <= price);
        if n.tif == Tif::Gtx && marketable {
            return Err(ApiError::bad(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected. \
                 The order will not be recorded in the order book.",
            ));
        }
        let id = self.order_id();
        let client_id = n.client_id.clone().unwrap_or_else(|| format!("mock-{id}"));
        let order = Order {
            id,
            acct,
            sym: n.sym,
            side: n.side,
            market: n.market,
            tif: n.tif,
            qty: n.qty,
            price: n.price,
            reduce_only: n.reduce_only,
            client_id,
            status: Status::New,
            executed: 0,
            cum_quote: 0,
            created_ms: now_ms,
            update_ms: now_ms,
            orig_type: if n.market { "MARKET" } else { "LIMIT" },
            stop_price: 0,
            working_type: "CONTRACT_PRICE",
            close_position: false,
            parent_algo: None,
        };
        let idx = self.add_order(order, now_ms);
        let ack = events::order_json(&self.symbols[n.sym], &self.orders[idx]);
        if marketable {
            let taker = self.taker_price(n.sym, n.side);
            let px = match (n.market, n.side) {
                (true, _) => taker,
                (false, Side::Buy) => taker.min(n.price),
                (false, Side::Sell) => taker.max(n.price),
            };
            self.fill_remaining(idx, px, false, now_ms);
        } else if matches!(n.tif, Tif::Ioc | Tif::Fok) {
            self.expire(idx, now_ms);
        }
        Ok(if n.want_result { events::order_json(&self.symbols[n.sym], &self.orders[idx]) } else { ack })
    }

    /// Records an accepted order and pushes its `NEW` event.
    pub(crate) fn add_order(&mut self, order: Order, now_ms: i64) -> usize {
        let idx = self.orders.len();
        self.orders.push(order);
        self.accepted.push(Accepted::Order(idx));
        self.push_order_event(idx, "NEW", None, now_ms);
        idx
    }

    fn push_order_event(&mut self, idx: usize, exec: &str, fill: Option<Fill>, now_ms: i64) {
        let o = &self.orders[idx];
        let text = events::order_update(&self.symbols[o.sym], o, exec, fill, now_ms);
        self.pushes.push(Push::User { acct: o.acct, text });
    }

    /// Fills what is left of an order at `price`; a reduce-only order fills at most down to a
    /// flat position and its rest expires.
    pub(crate) fn fill_remaining(&mut self, idx: usize, price: i64, maker: bool, now_ms: i64) {
        let o = &self.orders[idx];
        let mut qty = o.qty - o.executed;
        if o.reduce_only {
            qty = qty.min(self.reducible(o.acct, o.sym, o.side));
        }
        if qty > 0 {
            self.fill(idx, qty, price, maker, now_ms);
        }
        if self.orders[idx].status.is_open() {
            self.expire(idx, now_ms);
        }
    }

    fn fill(&mut self, idx: usize, qty: i64, price: i64, maker: bool, now_ms: i64) {
        let (acct, sym, side) = (self.orders[idx].acct, self.orders[idx].sym, self.orders[idx].side);
        let notional = i64::try_from(notional_units(price, qty)).unwrap_or(i64::MAX);
        let fee = (notional as f64 * self.fee_bps / 10_000.0).round() as i64;
        let a = &mut self.accounts[acct];
        let realized = apply_fill(&mut a.positions[sym], side.sign() * qty, price);
        a.positions[sym].realized += realized;
        a.positions[sym].fees += fee;
        a.balance += realized - fee;
        let o = &mut self.orders[idx];
        o.executed += qty;
        o.cum_quote += notional;
        o.status = if o.executed >= o.qty { Status::Filled } else { Status::PartiallyFilled };
        o.update_ms = now_ms;
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        let fill = Fill { qty, price, fee, realized, trade_id, maker };
        self.push_order_event(idx, "TRADE", Some(fill), now_ms);
        let text = events::account_update(&self.symbols[sym], &self.accounts[acct], sym, now_ms);
        self.pushes.push(Push::User { acct, text });
    }

    /// Expires an open order.
    pub(crate) fn expire(&mut self, idx: usize, now_ms: i64) {
        let o = &mut self.orders[idx];
        o.status = Status::Expired;
        o.update_ms = now_ms;
        self.push_order_event(idx, "EXPIRED", None, now_ms);
    }

    /// Fills resting LIMIT orders of `sym` that the current price crosses, at their limit.
    pub(crate) fn match_resting(&mut self, sym: usize, now_ms: i64) {
        let price = self.symbols[sym].price;
        let crossed: Vec<usize> = (0..self.orders.len())
            .filter(|&i| {
                let o = &self.orders[i];
                o.sym == sym
                    && !o.market
                    && o.status.is_open()
                    && ((o.side == Side::Buy && price <= o.price) || (o.side == Side::Sell && price >= o.price))
            })
            .collect();
        for i in crossed {
            let limit = self.orders[i].price;
            self.fill_remaining(i, limit, true, now_ms);
        }
    }

    /// Finds an order of `acct` on `sym` by id or by client id (the latest with that id).
    pub(crate) fn find_order(&self, acct: usize, sym: usize, p: &Params) -> Result<Option<usize>, ApiError> {
        let by_id = p.int("orderId")?;
        let by_client = p.text("origClientOrderId");
        if by_id.is_none() && by_client.is_none() {
            return Err(ApiError::mandatory("orderId"));
        }
        Ok(self.orders.iter().rposition(|o| {
            o.acct == acct
                && o.sym == sym
                && by_id.map_or(true, |id| o.id == id)
                && by_client.as_deref().map_or(true, |c| o.client_id == c)
        }))
    }

    /// `order.cancel`.
    pub(crate) fn cancel_order(&mut self, acct: usize, p: &Params, now_ms: i64) -> Result<Value, ApiError> {
        p.only(&["symbol", "orderId", "origClientOrderId"])?;
        let sym = self.symbol(&p.req("symbol")?)?;
        let idx = self.find_order(acct, sym, p)?;
        let Some(idx) = idx.filter(|&i| self.orders[i].status.is_open()) else {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        };
        self.orders[idx].status = Status::Canceled;
        self.orders[idx].update_ms = now_ms;
        self.push_order_event(idx, "CANCELED", None, now_ms);
        Ok(events::order_json(&self.symbols[sym], &self.orders[idx]))
    }

    /// `order.status`.
    pub(crate) fn order_status(&self, acct: usize, p: &Params) -> Result<Value, ApiError> {
        p.only(&["symbol", "orderId", "origClientOrderId"])?;
        let sym = self.symbol(&p.req("symbol")?)?;
        match self.find_order(acct, sym, p)? {
            Some(i) => Ok(events::order_json(&self.symbols[sym], &self.orders[i])),
            None => Err(ApiError::bad(-2013, "Order does not exist.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: i64 = SCALE;

    #[test]
    fn one_way_position_averages_realizes_and_flips() {
        let mut p = Position::default();
        assert_eq!(apply_fill(&mut p, 2 * U, 100 * U), 0);
        assert_eq!(apply_fill(&mut p, 2 * U, 110 * U), 0);
        assert_eq!((p.amt, p.entry), (4 * U, 105 * U));
        assert_eq!(apply_fill(&mut p, -U, 115 * U), 10 * U, "close 1 at +10");
        assert_eq!(apply_fill(&mut p, -5 * U, 95 * U), -30 * U, "close 3 at -10, then short 2");
        assert_eq!((p.amt, p.entry), (-2 * U, 95 * U));
        assert_eq!(apply_fill(&mut p, 2 * U, 90 * U), 10 * U);
        assert_eq!((p.amt, p.entry), (0, 0));
    }

    #[test]
    fn client_ids_follow_the_futures_regex() {
        assert!(check_client_id("c", "gw-1_a.b:c/d").is_ok());
        assert_eq!(check_client_id("c", "bad id").map_err(|e| e.code), Err(-1100));
        assert_eq!(check_client_id("c", "").map_err(|e| e.code), Err(-1100));
        assert_eq!(check_client_id("c", &"x".repeat(37)).map_err(|e| e.code), Err(-4015));
    }
}
