//! REST: `/fapi/v1/time`, `/fapi/v1/exchangeInfo`, signed `/fapi/v1/leverage`,
//! `/fapi/v1/listenKey`, and the `/mock/*` control endpoints.

use std::net::TcpStream;

use serde_json::{json, Value};

use super::auth;
use super::fault::{Fault, DEFAULT_FAULT_METHOD};
use super::http::{decode_form, respond, Request};
use super::params::{ApiError, Params};
use super::state::{lock, Shared};

/// Answers one REST request and closes the connection.
pub(crate) fn serve(stream: &mut TcpStream, req: &Request, shared: &Shared) {
    let result = if req.path.starts_with("/mock/") { control(req, shared) } else { exchange(req, shared) };
    let weight = lock(&shared.limiter).used_weight();
    let mut headers = format!("X-MBX-USED-WEIGHT-1M: {weight}\r\n");
    match result {
        Ok(v) => respond(stream, 200, &headers, &v.to_string()),
        Err(e) => {
            if let Some(until) = e.retry_after_ms {
                let secs = ((until - shared.now_ms()).max(0) + 999) / 1000;
                headers.push_str(&format!("Retry-After: {secs}\r\n"));
            }
            let body = json!({"code": e.code, "msg": e.msg});
            respond(stream, e.status, &headers, &body.to_string());
        }
    }
}

fn exchange(req: &Request, shared: &Shared) -> Result<Value, ApiError> {
    let route = (req.method.as_str(), req.path.as_str());
    let known = matches!(
        route,
        ("GET", "/fapi/v1/time" | "/fapi/v1/ping" | "/fapi/v1/exchangeInfo")
            | ("POST", "/fapi/v1/leverage")
            | ("POST" | "PUT" | "DELETE", "/fapi/v1/listenKey")
    );
    if !known {
        return Err(ApiError::with_status(404, -1000, "Not found."));
    }
    lock(&shared.limiter).admit(shared.now_ms(), 1, false)?;
    match route {
        ("GET", "/fapi/v1/time") => Ok(json!({ "serverTime": shared.now_ms() })),
        ("GET", "/fapi/v1/ping") => Ok(json!({})),
        ("GET", "/fapi/v1/exchangeInfo") => Ok(exchange_info(shared)),
        ("POST", "/fapi/v1/leverage") => leverage(req, shared),
        _ => listen_key(req, shared),
    }
}

fn exchange_info(shared: &Shared) -> Value {
    let l = shared.cfg.limits;
    let e = lock(&shared.engine);
    let symbols: Vec<Value> = shared
        .cfg
        .symbols
        .iter()
        .zip(e.symbols.iter())
        .map(|(c, s)| {
            let base = s.name.strip_suffix("USDT").unwrap_or(&s.name);
            json!({
                "symbol": s.name, "pair": s.name, "contractType": "PERPETUAL", "status": "TRADING",
                "baseAsset": base, "quoteAsset": "USDT", "marginAsset": "USDT",
                "pricePrecision": s.price_dec, "quantityPrecision": s.qty_dec,
                "baseAssetPrecision": 8, "quotePrecision": 8,
                "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": c.min_price, "maxPrice": c.max_price, "tickSize": c.tick_size},
                    {"filterType": "LOT_SIZE", "minQty": c.min_qty, "maxQty": c.max_qty, "stepSize": c.step_size},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": c.min_qty, "maxQty": c.max_qty, "stepSize": c.step_size},
                    {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                    {"filterType": "MIN_NOTIONAL", "notional": c.min_notional},
                ],
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": shared.now_ms(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": l.weight_per_min},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": l.orders_per_min},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": l.orders_per_10s},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": true, "autoAssetExchange": "0"}],
        "symbols": symbols,
    })
}

/// The account of the `X-MBX-APIKEY` header.
fn header_account(req: &Request, e: &super::engine::Engine) -> Result<usize, ApiError> {
    let key = req.header("x-mbx-apikey").ok_or_else(|| ApiError::with_status(401, -2014, "API-key format invalid."))?;
    auth::account(e, key.trim())
}

/// Signed REST: payload = query string then body as sent (minus `signature`), concatenated.
fn signed(req: &Request, e: &super::engine::Engine, now_ms: i64) -> Result<(usize, Params), ApiError> {
    let acct = header_account(req, e)?;
    let body = String::from_utf8_lossy(&req.body);
    let mut pairs = decode_form(&req.query);
    pairs.extend(decode_form(&body));
    let p = Params::from_pairs(&pairs);
    let sig = p.req("signature")?;
    auth::check_timestamp(&p, now_ms)?;
    if !auth::verify(e, acct, auth::rest_payload(&req.query, &body).as_bytes(), &sig) {
        return Err(ApiError::signature());
    }
    Ok((acct, p))
}

fn leverage(req: &Request, shared: &Shared) -> Result<Value, ApiError> {
    shared.with_engine(|e, now| {
        let (acct, p) = signed(req, e, now)?;
        let sym = e.symbol(&p.req("symbol")?)?;
        let lev = p.int("leverage")?.ok_or_else(|| ApiError::mandatory("leverage"))?;
        let Some(lev) = u32::try_from(lev).ok().filter(|l| (1..=125).contains(l)) else {
            return Err(ApiError::bad(-4028, format!("Leverage {lev} is not valid")));
        };
        e.accounts[acct].leverage[sym] = lev;
        let name = e.symbols[sym].name.clone();
        let text = json!({"e": "ACCOUNT_CONFIG_UPDATE", "E": now, "T": now, "ac": {"s": name, "l": lev}}).to_string();
        e.pushes.push(super::engine::Push::User { acct, text });
        Ok(json!({"leverage": lev, "maxNotionalValue": "1000000", "symbol": name}))
    })
}

fn listen_key(req: &Request, shared: &Shared) -> Result<Value, ApiError> {
    shared.with_engine(|e, now| {
        let acct = header_account(req, e)?;
        match req.method.as_str() {
            "POST" => Ok(json!({ "listenKey": e.start_listen_key(acct, now) })),
            "PUT" => Ok(json!({ "listenKey": e.ping_listen_key(acct, now)? })),
            _ => {
                e.stop_listen_key(acct);
                Ok(json!({}))
            }
        }
    })
}

/// `/mock/orders`, `/mock/fault`, `/mock/price`, `/mock/disconnect`.
fn control(req: &Request, shared: &Shared) -> Result<Value, ApiError> {
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&req.body).map_err(|_| ApiError::bad(-1135, "Invalid JSON Request"))?
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/mock/orders") => {
            let orders = super::accepted_orders(&lock(&shared.engine));
            serde_json::to_value(orders).map_err(|e| ApiError::bad(-1000, e.to_string()))
        }
        ("POST", "/mock/fault") => {
            let mut body = body;
            let method = body.get("method").and_then(Value::as_str).unwrap_or(DEFAULT_FAULT_METHOD).to_owned();
            let count = body.get("count").and_then(Value::as_u64).map_or(1, |c| u32::try_from(c).unwrap_or(u32::MAX));
            if let Some(o) = body.as_object_mut() {
                o.remove("method");
                o.remove("count");
            }
            let fault: Fault = serde_json::from_value(body).map_err(|e| ApiError::bad(-1130, e.to_string()))?;
            shared.inject(fault, &method, count);
            Ok(json!({"ok": true}))
        }
        ("POST", "/mock/price") => {
            let symbol = body.get("symbol").and_then(Value::as_str).unwrap_or("");
            let price = body.get("price").and_then(Value::as_str).unwrap_or("");
            if !shared.set_price(symbol, price) {
                return Err(ApiError::bad(-1121, "Invalid symbol or price."));
            }
            Ok(json!({"symbol": symbol, "price": price}))
        }
        ("POST", "/mock/disconnect") => {
            shared.disconnect_all();
            Ok(json!({"ok": true}))
        }
        _ => Err(ApiError::with_status(404, -1000, "Not found.")),
    }
}
