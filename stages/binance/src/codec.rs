//! Decoding what the exchange sends: WebSocket API responses, user-data-stream events and
//! market-stream events, with decimals turned into 1e-8 units.
//!
//! Everything is parsed with `serde_json` into borrowed structs (no tree of `Value`s); unknown
//! fields are ignored, as the exchange adds fields over time.

use std::borrow::Cow;

use serde::Deserialize;

use crate::filters::parse_units;

/// The `id` echoed in a response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ResponseId<'a> {
    /// A string id (tradeflow sends decimal request numbers as strings).
    #[serde(borrow)]
    Str(Cow<'a, str>),
    /// A numeric id.
    Num(i64),
}

impl ResponseId<'_> {
    /// The request number, when the id is one tradeflow sent (decimal digits).
    pub fn number(&self) -> Option<u64> {
        match self {
            ResponseId::Str(s) => s.parse().ok(),
            ResponseId::Num(n) => u64::try_from(*n).ok(),
        }
    }
}

/// `error.data` (present on 418/429).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub struct ErrorData {
    /// Epoch ms until which requests are refused.
    #[serde(rename = "retryAfter", default)]
    pub retry_after: Option<i64>,
    /// Server time when the error was produced.
    #[serde(rename = "serverTime", default)]
    pub server_time: Option<i64>,
}

/// `error` of a failed request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError<'a> {
    /// Binance error code (negative).
    pub code: i64,
    /// Message.
    #[serde(borrow)]
    pub msg: Cow<'a, str>,
    /// Extra data (retryAfter).
    #[serde(default)]
    pub data: Option<ErrorData>,
}

/// One `rateLimits` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RateLimit<'a> {
    /// `REQUEST_WEIGHT`, `ORDERS` or `CONNECTIONS`.
    #[serde(rename = "rateLimitType", borrow)]
    pub kind: Cow<'a, str>,
    /// `SECOND`, `MINUTE` or `DAY`.
    #[serde(borrow)]
    pub interval: Cow<'a, str>,
    /// Number of intervals in the window.
    #[serde(rename = "intervalNum")]
    pub interval_num: u32,
    /// Allowed per window.
    pub limit: u32,
    /// Used so far in the current window.
    #[serde(default)]
    pub count: u32,
}

impl RateLimit<'_> {
    /// Window length in ms.
    pub fn window_ms(&self) -> u64 {
        let unit: u64 = match self.interval.as_ref() {
            "SECOND" => 1_000,
            "MINUTE" => 60_000,
            "HOUR" => 3_600_000,
            "DAY" => 86_400_000,
            _ => 60_000,
        };
        unit * u64::from(self.interval_num.max(1))
    }
}

/// A WebSocket API response frame.
#[derive(Debug, Deserialize)]
pub struct Response<'a> {
    /// The request id (null on unsolicited frames such as a revoked session).
    #[serde(borrow, default)]
    pub id: Option<ResponseId<'a>>,
    /// HTTP-like status.
    pub status: u16,
    /// The result, left raw for the caller to decode by method.
    #[serde(borrow, default)]
    pub result: Option<&'a serde_json::value::RawValue>,
    /// The error, for status ≠ 200.
    #[serde(borrow, default)]
    pub error: Option<ApiError<'a>>,
    /// Rate-limit usage (absent with `returnRateLimits=false`).
    #[serde(rename = "rateLimits", borrow, default)]
    pub rate_limits: Vec<RateLimit<'a>>,
}

/// Decodes a response frame.
pub fn response(text: &str) -> Result<Response<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Accepted, nothing filled.
    New,
    /// Some filled.
    PartiallyFilled,
    /// All filled.
    Filled,
    /// Cancelled.
    Canceled,
    /// Rejected.
    Rejected,
    /// Expired (IOC/FOK remainder, system).
    Expired,
    /// Expired in match (STP).
    ExpiredInMatch,
    /// A status this build does not know.
    Other,
}

impl OrderStatus {
    /// From the exchange's text.
    pub fn parse(s: &str) -> OrderStatus {
        match s {
            "NEW" => OrderStatus::New,
            "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
            "FILLED" => OrderStatus::Filled,
            "CANCELED" => OrderStatus::Canceled,
            "REJECTED" => OrderStatus::Rejected,
            "EXPIRED" => OrderStatus::Expired,
            "EXPIRED_IN_MATCH" => OrderStatus::ExpiredInMatch,
            _ => OrderStatus::Other,
        }
    }

    /// Whether nothing more will happen to the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
                | OrderStatus::ExpiredInMatch
        )
    }
}

#[derive(Deserialize)]
struct RawOrder<'a> {
    #[serde(rename = "orderId")]
    order_id: i64,
    #[serde(rename = "clientOrderId", borrow)]
    client_order_id: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(rename = "avgPrice", borrow, default)]
    avg_price: Option<Cow<'a, str>>,
    #[serde(rename = "executedQty", borrow, default)]
    executed_qty: Option<Cow<'a, str>>,
    #[serde(rename = "cumQuote", borrow, default)]
    cum_quote: Option<Cow<'a, str>>,
}

/// An order as `order.place` (RESULT/ACK), `order.status` or `order.cancel` return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderResult {
    /// Exchange order id.
    pub order_id: i64,
    /// Client order id.
    pub client_order_id: String,
    /// Status.
    pub status: OrderStatus,
    /// Average fill price (1e-8), 0 when nothing filled.
    pub avg_price: i64,
    /// Filled quantity (1e-8).
    pub executed_qty: i64,
    /// Filled notional (1e-8 quote).
    pub cum_quote: i64,
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {what}: {detail}")]
pub struct DecodeError {
    /// What was being decoded.
    pub what: &'static str,
    /// The problem.
    pub detail: String,
}

fn units(what: &'static str, s: Option<&str>) -> Result<i64, DecodeError> {
    match s {
        None | Some("") => Ok(0),
        Some(s) => parse_units(s).map_err(|e| DecodeError { what, detail: e.to_string() }),
    }
}

/// Decodes an order result object.
pub fn order_result(raw: &str) -> Result<OrderResult, DecodeError> {
    let o: RawOrder<'_> =
        serde_json::from_str(raw).map_err(|e| DecodeError { what: "order result", detail: e.to_string() })?;
    Ok(OrderResult {
        order_id: o.order_id,
        client_order_id: o.client_order_id.into_owned(),
        status: OrderStatus::parse(&o.status),
        avg_price: units("avgPrice", o.avg_price.as_deref())?,
        executed_qty: units("executedQty", o.executed_qty.as_deref())?,
        cum_quote: units("cumQuote", o.cum_quote.as_deref())?,
    })
}

/// `ORDER_TRADE_UPDATE.o`, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// Symbol.
    pub symbol: String,
    /// Client order id.
    pub client_order_id: String,
    /// Exchange order id.
    pub order_id: i64,
    /// Execution type (`NEW`, `TRADE`, `CANCELED`, `EXPIRED`, …).
    pub execution: String,
    /// Order status after this event.
    pub status: OrderStatus,
    /// Last filled quantity (1e-8).
    pub last_qty: i64,
    /// Last filled price (1e-8).
    pub last_price: i64,
    /// Accumulated filled quantity (1e-8).
    pub cum_qty: i64,
    /// Average price (1e-8).
    pub avg_price: i64,
    /// Commission of this trade (1e-8, in `commission_asset`).
    pub commission: i64,
    /// Commission asset (empty when no commission).
    pub commission_asset: String,
    /// Realized profit of this trade (1e-8 quote, before fees).
    pub realized_pnl: i64,
    /// Reduce-only.
    pub reduce_only: bool,
    /// Trade time (ms).
    pub trade_time_ms: i64,
}

/// `ALGO_UPDATE.o`, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoUpdate {
    /// Symbol.
    pub symbol: String,
    /// Client algo id.
    pub client_algo_id: String,
    /// Algo id.
    pub algo_id: i64,
    /// Algo status (`NEW`, `TRIGGERING`, `TRIGGERED`, `FINISHED`, `CANCELED`, `REJECTED`, `EXPIRED`).
    pub status: String,
    /// Reject reason, if any.
    pub reason: String,
}

/// A user-data-stream event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEvent {
    /// An order changed.
    Order(OrderUpdate),
    /// An algo (conditional) order changed.
    Algo(AlgoUpdate),
    /// The listen key lapsed: the stream must be restarted with a new key.
    ListenKeyExpired,
    /// An event this build does not act on (balances, config, …), by type.
    Other(String),
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "e", borrow)]
    event: Cow<'a, str>,
    #[serde(rename = "o", borrow, default)]
    o: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct RawOrderUpdate<'a> {
    #[serde(borrow)]
    s: Cow<'a, str>,
    #[serde(borrow)]
    c: Cow<'a, str>,
    i: i64,
    #[serde(borrow)]
    x: Cow<'a, str>,
    #[serde(rename = "X", borrow)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    l: Option<Cow<'a, str>>,
    #[serde(rename = "L", borrow, default)]
    last_price: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    z: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ap: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    n: Option<Cow<'a, str>>,
    #[serde(rename = "N", borrow, default)]
    commission_asset: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    rp: Option<Cow<'a, str>>,
    #[serde(rename = "R", default)]
    reduce_only: bool,
    #[serde(rename = "T", default)]
    trade_time: i64,
}

#[derive(Deserialize)]
struct RawAlgoUpdate<'a> {
    #[serde(borrow)]
    s: Cow<'a, str>,
    #[serde(borrow)]
    caid: Cow<'a, str>,
    aid: i64,
    #[serde(rename = "X", borrow)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    rm: Option<Cow<'a, str>>,
}

fn dec(what: &'static str) -> impl Fn(serde_json::Error) -> DecodeError {
    move |e| DecodeError { what, detail: e.to_string() }
}

/// Decodes one user-data-stream frame (plain, or wrapped as `{"stream":…,"data":…}`).
pub fn user_event(text: &str) -> Result<UserEvent, DecodeError> {
    let text = unwrap_combined(text).map_err(dec("user event"))?;
    let env: RawEnvelope<'_> = serde_json::from_str(text).map_err(dec("user event"))?;
    match env.event.as_ref() {
        "ORDER_TRADE_UPDATE" => {
            let raw = env.o.ok_or(DecodeError { what: "ORDER_TRADE_UPDATE", detail: "no `o` object".into() })?;
            let o: RawOrderUpdate<'_> = serde_json::from_str(raw.get()).map_err(dec("ORDER_TRADE_UPDATE"))?;
            Ok(UserEvent::Order(OrderUpdate {
                symbol: o.s.into_owned(),
                client_order_id: o.c.into_owned(),
                order_id: o.i,
                execution: o.x.into_owned(),
                status: OrderStatus::parse(&o.status),
                last_qty: units("l", o.l.as_deref())?,
                last_price: units("L", o.last_price.as_deref())?,
                cum_qty: units("z", o.z.as_deref())?,
                avg_price: units("ap", o.ap.as_deref())?,
                commission: units("n", o.n.as_deref())?,
                commission_asset: o.commission_asset.map(Cow::into_owned).unwrap_or_default(),
                realized_pnl: units("rp", o.rp.as_deref())?,
                reduce_only: o.reduce_only,
                trade_time_ms: o.trade_time,
            }))
        }
        "ALGO_UPDATE" => {
            let raw = env.o.ok_or(DecodeError { what: "ALGO_UPDATE", detail: "no `o` object".into() })?;
            let o: RawAlgoUpdate<'_> = serde_json::from_str(raw.get()).map_err(dec("ALGO_UPDATE"))?;
            Ok(UserEvent::Algo(AlgoUpdate {
                symbol: o.s.into_owned(),
                client_algo_id: o.caid.into_owned(),
                algo_id: o.aid,
                status: o.status.into_owned(),
                reason: o.rm.map(Cow::into_owned).unwrap_or_default(),
            }))
        }
        "listenKeyExpired" => Ok(UserEvent::ListenKeyExpired),
        other => Ok(UserEvent::Other(other.to_owned())),
    }
}

#[derive(Deserialize)]
struct Combined<'a> {
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

/// The `data` of a combined-stream frame, or the frame itself.
fn unwrap_combined(text: &str) -> Result<&str, serde_json::Error> {
    // Binance writes `stream` first; other servers may not keep the order.
    if text.starts_with("{\"stream\"") || text.starts_with("{\"data\"") {
        let c: Combined<'_> = serde_json::from_str(text)?;
        Ok(c.data.get())
    } else {
        Ok(text)
    }
}

/// A market-data update: the best bid/ask or the mark price of a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketUpdate<'a> {
    /// Symbol (as sent: upper case).
    pub symbol: Cow<'a, str>,
    /// Best bid (1e-8), 0 for mark-price updates.
    pub bid: i64,
    /// Best ask (1e-8), 0 for mark-price updates.
    pub ask: i64,
    /// Mark price (1e-8), 0 for book-ticker updates.
    pub mark: i64,
    /// Event time (ms), 0 when the stream does not send one.
    pub event_time_ms: i64,
}

impl MarketUpdate<'_> {
    /// The reference price this update gives: the mark, or the bid/ask mid.
    pub fn reference_price(&self) -> i64 {
        if self.mark > 0 {
            self.mark
        } else if self.bid > 0 && self.ask > 0 {
            (self.bid + self.ask) / 2
        } else {
            self.bid.max(self.ask)
        }
    }
}

#[derive(Deserialize)]
struct RawMarket<'a> {
    #[serde(rename = "e", borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(rename = "E", default)]
    event_time: i64,
    #[serde(borrow)]
    s: Cow<'a, str>,
    #[serde(borrow, default)]
    b: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    a: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    p: Option<Cow<'a, str>>,
}

/// Decodes a `bookTicker` or `markPriceUpdate` frame (plain or combined). Other frames
/// (subscription answers) give `Ok(None)`.
pub fn market_update(text: &str) -> Result<Option<MarketUpdate<'_>>, DecodeError> {
    let text = unwrap_combined(text).map_err(dec("market update"))?;
    if text.starts_with("{\"result\"") || text.starts_with("{\"id\"") {
        return Ok(None);
    }
    let m: RawMarket<'_> = serde_json::from_str(text).map_err(dec("market update"))?;
    let is_mark = m.event.as_deref() == Some("markPriceUpdate");
    Ok(Some(MarketUpdate {
        symbol: m.s,
        bid: if is_mark { 0 } else { units("b", m.b.as_deref())? },
        ask: if is_mark { 0 } else { units("a", m.a.as_deref())? },
        mark: if is_mark { units("p", m.p.as_deref())? } else { 0 },
        event_time_ms: m.event_time,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_documented_error_and_result_frames() {
        let r = response(
            r#"{"id":"fc93","status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":2411}]}"#,
        );
        let Ok(r) = r else { panic!("{r:?}") };
        assert_eq!(r.status, 418);
        let e = r.error.as_ref().map(|e| (e.code, e.data.and_then(|d| d.retry_after)));
        assert_eq!(e, Some((-1003, Some(1659146400000))));
        assert_eq!(r.rate_limits[0].window_ms(), 60_000);
        assert_eq!(r.rate_limits[0].count, 2411);

        let r = response(
            r#"{"id":"17","status":200,"result":{"orderId":325078478,"symbol":"BTCUSDT","status":"FILLED","clientOrderId":"gw-000002","price":"0.00","avgPrice":"43190.10","origQty":"0.100","executedQty":"0.100","cumQty":"0.100","cumQuote":"4319.01000","timeInForce":"GTC","type":"MARKET","reduceOnly":true},"rateLimits":[]}"#,
        );
        let Ok(r) = r else { panic!("{r:?}") };
        assert_eq!(r.id.as_ref().and_then(ResponseId::number), Some(17));
        let o = order_result(r.result.map(|v| v.get()).unwrap_or(""));
        assert_eq!(
            o,
            Ok(OrderResult {
                order_id: 325078478,
                client_order_id: "gw-000002".into(),
                status: OrderStatus::Filled,
                avg_price: 4_319_010_000_000,
                executed_qty: 10_000_000,
                cum_quote: 431_901_000_000,
            })
        );
        let unsolicited = response(
            r#"{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}"#,
        );
        assert!(matches!(unsolicited, Ok(Response { id: None, status: 401, .. })));
    }

    #[test]
    fn decodes_user_stream_events() {
        let ev = user_event(
            r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"MARKET","f":"GTC","q":"0.001","p":"0","ap":"7103.04","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.001","z":"0.001","L":"7103.04","N":"USDT","n":"0.00284121","T":1568879465650,"t":1,"b":"0","a":"0","m":false,"R":true,"wt":"CONTRACT_PRICE","ot":"MARKET","ps":"BOTH","cp":false,"rp":"1.5","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}"#,
        );
        let Ok(UserEvent::Order(o)) = ev else { panic!("{ev:?}") };
        assert_eq!(
            (o.status, o.last_qty, o.commission, o.realized_pnl),
            (OrderStatus::Filled, 100_000, 284_121, 150_000_000)
        );
        assert!(o.reduce_only);
        assert_eq!(user_event(r#"{"e":"listenKeyExpired","E":1,"listenKey":"k"}"#), Ok(UserEvent::ListenKeyExpired));
        assert_eq!(user_event(r#"{"e":"ACCOUNT_UPDATE","E":1,"a":{}}"#), Ok(UserEvent::Other("ACCOUNT_UPDATE".into())));
        let algo = user_event(
            r#"{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"tfS1","aid":2148719,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BNBUSDT","X":"TRIGGERED","rm":""}}"#,
        );
        assert!(
            matches!(algo, Ok(UserEvent::Algo(AlgoUpdate { algo_id: 2148719, ref status, .. })) if status == "TRIGGERED")
        );
        assert!(user_event("{\"e\":\"ORDER_TRADE_UPDATE\"}").is_err());
        assert!(user_event("not json").is_err());
    }

    #[test]
    fn decodes_market_streams_plain_and_combined() {
        let m = market_update(
            r#"{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#,
        );
        let Ok(Some(m)) = m else { panic!("{m:?}") };
        assert_eq!(m.reference_price(), (2_535_190_000 + 2_536_520_000) / 2);
        let m = market_update(
            r#"{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}}"#,
        );
        let Ok(Some(m)) = m else { panic!("{m:?}") };
        assert_eq!((m.symbol.as_ref(), m.mark, m.event_time_ms), ("BTCUSDT", 1_179_415_000_000, 1562305380000));
        assert_eq!(market_update(r#"{"result":null,"id":1}"#), Ok(None));
        assert!(market_update(r#"{"e":"bookTicker","s":"X","b":"1e5"}"#).is_err());
    }
}
