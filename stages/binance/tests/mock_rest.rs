//! Mock exchange: REST time, exchangeInfo, signed leverage, listenKey, control endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_util;

use mock_util::*;
use tradeflow_binance::filters::SymbolFilters;
use tradeflow_binance::mock::{Fault, TEST_API_KEY};

fn signed_query(params: &str, creds: &tradeflow_binance::sign::Credentials) -> String {
    let q = format!("{params}&timestamp={}", now_ms());
    let sig = creds.sign(q.as_bytes());
    format!("{q}&signature={}", sig.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D"))
}

#[test]
fn time_and_exchange_info() {
    let mock = start();
    let (status, head, v) = http(mock.addr(), "GET", "/fapi/v1/time", &[], "");
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("x-mbx-used-weight-1m: 1"), "{head}");
    assert!((v["serverTime"].as_i64().unwrap() - now_ms()).abs() < 2000);
    let (status, _, v) = http(mock.addr(), "GET", "/fapi/v1/exchangeInfo", &[], "");
    assert_eq!(status, 200);
    let syms = v["symbols"].as_array().unwrap();
    assert_eq!(syms.len(), 3);
    let btc = &syms[0];
    assert_eq!(
        (btc["symbol"].as_str(), btc["status"].as_str(), btc["pricePrecision"].as_i64()),
        (Some("BTCUSDT"), Some("TRADING"), Some(1))
    );
    let f = SymbolFilters::from_exchange_info(btc).unwrap();
    assert_eq!((f.tick_size, f.step_size, f.min_notional), (10_000_000, 100_000, 500_000_000));
    assert_eq!(v["rateLimits"][0]["limit"], 2400);
    assert_eq!(http(mock.addr(), "GET", "/fapi/v1/nothing", &[], "").0, 404);
}

#[test]
fn leverage_is_signed_over_query_then_body() {
    let mock = start();
    let hdr = [("X-MBX-APIKEY", TEST_API_KEY)];
    let q = signed_query("symbol=BTCUSDT&leverage=25", &hmac());
    let (status, _, v) = http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{q}"), &hdr, "");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, serde_json::json!({"leverage": 25, "maxNotionalValue": "1000000", "symbol": "BTCUSDT"}));
    // All in the body.
    let (status, _, v) =
        http(mock.addr(), "POST", "/fapi/v1/leverage", &hdr, &signed_query("symbol=ETHUSDT&leverage=3", &hmac()));
    assert_eq!(status, 200, "{v}");
    // Split: payload is query then body, concatenated.
    let ts = now_ms();
    let (query, body) = ("symbol=SOLUSDT".to_owned(), format!("leverage=7&timestamp={ts}"));
    let sig = hmac().sign(format!("{query}{body}").as_bytes());
    let (status, _, v) =
        http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{query}"), &hdr, &format!("{body}&signature={sig}"));
    assert_eq!(status, 200, "{v}");
    let q = signed_query("symbol=BTCUSDT&leverage=126", &hmac());
    let (status, _, v) = http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{q}"), &hdr, "");
    assert_eq!((status, v["code"].as_i64()), (400, Some(-4028)));
    let q = signed_query("symbol=BTCUSDT&leverage=0", &hmac());
    assert_eq!(http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{q}"), &hdr, "").2["code"], -4028);
    let q = signed_query("symbol=BTCUSDT&leverage=5", &hmac()).replace("leverage=5", "leverage=6");
    assert_eq!(http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{q}"), &hdr, "").2["code"], -1022);
    let q = signed_query("symbol=BTCUSDT&leverage=5", &hmac());
    let (status, _, v) = http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{q}"), &[], "");
    assert_eq!((status, v["code"].as_i64()), (401, Some(-2014)));
    // Ed25519: base64, URL-encoded.
    let q = signed_query("symbol=BTCUSDT&leverage=9", &ed25519());
    assert!(q.contains("%3D"), "{q}");
    let (status, _, v) =
        http(mock.addr(), "POST", &format!("/fapi/v1/leverage?{q}"), &[("X-MBX-APIKEY", ED_API_KEY)], "");
    assert_eq!((status, v["leverage"].as_i64()), (200, Some(9)), "{v}");
}

#[test]
fn listen_key_rest_lifecycle() {
    let mock = start();
    let hdr = [("X-MBX-APIKEY", TEST_API_KEY)];
    let (status, _, v) = http(mock.addr(), "POST", "/fapi/v1/listenKey", &hdr, "");
    assert_eq!(status, 200);
    let key = v["listenKey"].as_str().unwrap().to_owned();
    assert_eq!(http(mock.addr(), "POST", "/fapi/v1/listenKey", &hdr, "").2["listenKey"], key.as_str(), "same live key");
    assert_eq!(http(mock.addr(), "PUT", "/fapi/v1/listenKey", &hdr, "").2["listenKey"], key.as_str());
    let mut uds = connect(&format!("{}/private/ws/{key}", mock.stream_url()));
    assert_eq!(http(mock.addr(), "DELETE", "/fapi/v1/listenKey", &hdr, "").0, 200);
    assert!(closed_within(&mut uds, std::time::Duration::from_secs(2)));
    let (status, _, v) = http(mock.addr(), "PUT", "/fapi/v1/listenKey", &hdr, "");
    assert_eq!((status, v["code"].as_i64()), (400, Some(-1125)));
    let (status, _, v) = http(mock.addr(), "POST", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", "unknown")], "");
    assert_eq!((status, v["code"].as_i64()), (401, Some(-2015)));
}

#[test]
fn control_endpoints_set_prices_inject_faults_and_list_orders() {
    let mock = start();
    let (status, _, _) = http(mock.addr(), "POST", "/mock/price", &[], r#"{"symbol":"BTCUSDT","price":"50000.0"}"#);
    assert_eq!(status, 200);
    assert_eq!(mock.price("BTCUSDT").as_deref(), Some("50000.0"));
    assert_eq!(http(mock.addr(), "POST", "/mock/price", &[], r#"{"symbol":"NOPE","price":"1"}"#).0, 400);
    let body = r#"{"kind":"reject","code":-2019,"msg":"Margin is insufficient.","method":"order.place","count":1}"#;
    assert_eq!(http(mock.addr(), "POST", "/mock/fault", &[], body).0, 200);
    assert_eq!(http(mock.addr(), "POST", "/mock/fault", &[], r#"{"kind":"nonsense"}"#).0, 400);
    let mut ws = connect(&mock.ws_api_url());
    assert_eq!(code(&call(&mut ws, &market("1", "BTCUSDT", "BUY", "0.001", "ctl-1", &hmac()))), -2019);
    assert_eq!(call(&mut ws, &market("2", "BTCUSDT", "SELL", "0.002", "ctl-2", &hmac()))["status"], 200);
    let (_, _, v) = http(mock.addr(), "GET", "/mock/orders", &[], "");
    let o = &v[0];
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(
        (o["client_order_id"].as_str(), o["side"].as_str(), o["status"].as_str()),
        (Some("ctl-2"), Some("SELL"), Some("FILLED"))
    );
    assert_eq!(
        (o["quantity"].as_str(), o["avg_price"].as_str(), o["is_algo"].as_bool()),
        (Some("0.002"), Some("50000.0"), Some(false))
    );
    // The Rust-side injection takes the same enum.
    mock.inject(Fault::Unknown, "order.cancel", 1);
}
