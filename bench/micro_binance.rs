//! Micro-benchmarks of the Binance order path: building and signing an `order.place` frame
//! (HMAC-SHA256 and Ed25519), and decoding what comes back (the order answer and the user
//! stream's `ORDER_TRADE_UPDATE`).
//!
//! - `binance_encode`: `RequestWriter` (reused buffers) with the gateway's parameters for a
//!   MARKET entry — symbol, side, type, quantity, reduce-only flag, client order id derived from
//!   the trace id, RESULT answer, timestamp, recvWindow — sorted payload, signature, JSON frame:
//!   - `order_place_hmac`: signed per request (HMAC-SHA256, hex);
//!   - `order_place_ed25519`: signed per request with Ed25519 (base64);
//!   - `order_place_session`: after `session.logon` (no signature: the Ed25519 path per order);
//!   - `client_order_id`: SHA-256 of the trace id → 25 characters.
//! - `binance_decode`: `codec::response` + `codec::order_result` on a FILLED answer, and
//!   `codec::user_event` on a TRADE `ORDER_TRADE_UPDATE`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks: a failure must stop the run

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tradeflow_binance::client_id::{client_order_id, Purpose};
use tradeflow_binance::codec;
use tradeflow_binance::request::RequestWriter;
use tradeflow_binance::sign::Credentials;

const TRACE: &[u8] = b"0f8fad5b-d9cb-469f-a165-70867728950e";
const API: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn order(w: &mut RequestWriter, cid: &str, ts: i64) {
    w.begin("order.place");
    w.int("timestamp", ts);
    w.int("recvWindow", 5000);
    w.str("symbol", "BTCUSDT");
    w.str("side", "BUY");
    w.str("type", "MARKET");
    w.str("quantity", "0.012");
    w.str("newClientOrderId", cid);
    w.str("newOrderRespType", "RESULT");
}

fn encode(c: &mut Criterion) {
    let hmac = Credentials::hmac(API, SECRET);
    let ed = Credentials::ed25519(API, &[7u8; 32]);
    let mut cid = String::new();
    client_order_id("tf", "bench", Purpose::Entry, TRACE, &mut cid);
    let mut g = c.benchmark_group("binance_encode");
    g.throughput(Throughput::Elements(1));
    let mut w = RequestWriter::new();
    let mut ts = 1_764_000_000_000_i64;
    g.bench_function("order_place_hmac", |b| {
        b.iter(|| {
            ts += 1;
            order(&mut w, &cid, ts);
            black_box(w.finish_signed("12345", Some(&hmac)).len())
        })
    });
    g.bench_function("order_place_ed25519", |b| {
        b.iter(|| {
            ts += 1;
            order(&mut w, &cid, ts);
            black_box(w.finish_signed("12345", Some(&ed)).len())
        })
    });
    g.bench_function("order_place_session", |b| {
        b.iter(|| {
            ts += 1;
            order(&mut w, &cid, ts);
            black_box(w.finish("12345").len())
        })
    });
    let mut out = String::with_capacity(40);
    g.bench_function("client_order_id", |b| {
        b.iter(|| {
            client_order_id("tf", "bench", Purpose::Entry, black_box(TRACE), &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

const ANSWER: &str = r#"{"id":"12345","status":200,"result":{"orderId":325078478,"symbol":"BTCUSDT","status":"FILLED","clientOrderId":"tfE3hS8c0mXwQ1yq9kP2LdVf7","price":"0.00","avgPrice":"43190.10","origQty":"0.012","executedQty":"0.012","cumQty":"0.012","cumQuote":"518.28120","timeInForce":"GTC","type":"MARKET","reduceOnly":false,"closePosition":false,"side":"BUY","positionSide":"BOTH","stopPrice":"0.00","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"MARKET","priceMatch":"NONE","selfTradePreventionMode":"NONE","goodTillDate":0,"updateTime":1702555534500},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":1},{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":1200,"count":1},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":1}]}"#;
const TRADE: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"tfE3hS8c0mXwQ1yq9kP2LdVf7","S":"BUY","o":"MARKET","f":"GTC","q":"0.012","p":"0","ap":"43190.10","sp":"0","x":"TRADE","X":"FILLED","i":325078478,"l":"0.012","z":"0.012","L":"43190.10","N":"USDT","n":"0.20731248","T":1568879465650,"t":1,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"MARKET","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}"#;

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("binance_decode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("order_answer", |b| {
        b.iter(|| {
            let r = codec::response(black_box(ANSWER)).unwrap();
            black_box(codec::order_result(r.result.unwrap().get()).unwrap().executed_qty)
        })
    });
    g.bench_function("order_trade_update", |b| {
        b.iter(|| match codec::user_event(black_box(TRADE)).unwrap() {
            codec::UserEvent::Order(o) => black_box(o.commission),
            _ => 0,
        })
    });
    g.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
