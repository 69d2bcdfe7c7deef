//! Mock exchange: signatures, sessions, timing security, envelope errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_util;

use mock_util::*;
use tradeflow_binance::mock::TEST_API_KEY;
use tradeflow_binance::sign::Credentials;

#[test]
fn documented_h1_request_is_accepted_verbatim() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    // Put the server clock 20 ms after the vector's timestamp (recvWindow is 100 ms).
    mock.set_clock_skew_ms(1645423376532 + 20 - now_ms());
    let v = call(
        &mut ws,
        r#"{"id":"4885f793-e5ad-4c3b-8f6c-55d891472b71","method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTC","quantity":"0.01000000","price":"52000.00","recvWindow":100,"timestamp":1645423376532,"apiKey":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A","signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}}"#,
    );
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["id"], "4885f793-e5ad-4c3b-8f6c-55d891472b71");
    assert_eq!(v["result"]["status"], "NEW");
    assert_eq!(v["result"]["price"], "52000.0");
    assert_eq!(v["result"]["origQty"], "0.010");
    assert!(v["result"]["orderId"].is_i64());
    // 6 s later by the server clock: outside the default 5000 ms recvWindow.
    mock.set_clock_skew_ms(1645423376532 + 6000 - now_ms());
    let again = call(&mut ws, &serde_json::to_string(&serde_json::json!({"id": 7, "method": "order.status",
        "params": {"symbol": "BTCUSDT", "orderId": 1, "timestamp": 1645423376532_i64, "apiKey": TEST_API_KEY, "signature": "00"}})).unwrap());
    assert_eq!(code(&again), -1021, "{again}");
    assert_eq!(again["id"], 7);
}

#[test]
fn hmac_signatures_are_checked_over_the_sorted_raw_payload() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    let creds = hmac();
    let ok = call(&mut ws, &market("1", "BTCUSDT", "BUY", "0.010", "sig-ok", &creds));
    assert_eq!(ok["status"], 200, "{ok}");
    // Upper-case hex is accepted too.
    let f = market("2", "BTCUSDT", "BUY", "0.010", "sig-upper", &creds);
    let (head, sig) = f.rsplit_once("\"signature\":\"").unwrap();
    let upper = format!("{head}\"signature\":\"{}", sig.to_ascii_uppercase());
    assert_eq!(call(&mut ws, &upper)["status"], 200);
    // Tampered parameter.
    let f = market("3", "BTCUSDT", "BUY", "0.010", "sig-tamper", &creds).replace("\"0.010\"", "\"0.020\"");
    assert_eq!(code(&call(&mut ws, &f)), -1022);
    // Wrong secret.
    let wrong = Credentials::hmac(TEST_API_KEY, "not-the-secret");
    let v = call(&mut ws, &market("4", "BTCUSDT", "BUY", "0.010", "sig-wrong", &wrong));
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(400), -1022));
    assert_eq!(v["error"]["msg"], "Signature for this request is not valid.");
    // Unknown key.
    let v = call(&mut ws, &market("5", "BTCUSDT", "BUY", "0.010", "sig-key", &Credentials::hmac("nope", "x")));
    assert_eq!(code(&v), -2015);
    // Unsigned without a session.
    let v = call(&mut ws, &frame("6", "order.status", &[("symbol", "BTCUSDT"), ("orderId", "1")], None));
    assert_eq!(code(&v), -1102);
    assert_eq!(mock.orders().len(), 2);
}

#[test]
fn ed25519_logon_authorizes_unsigned_requests_and_hmac_logon_is_refused() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    let v = call(&mut ws, &frame("h", "session.logon", &[], Some(&hmac())));
    assert_eq!(code(&v), -1022, "{v}");
    let v = call(&mut ws, &frame("s0", "session.status", &[], None));
    assert!(v["result"]["apiKey"].is_null());
    let v = call(&mut ws, &frame("l", "session.logon", &[], Some(&ed25519())));
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["result"]["apiKey"], ED_API_KEY);
    assert!(v["result"]["authorizedSince"].is_i64());
    let order = frame(
        "o",
        "order.place",
        &[
            ("symbol", "ETHUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.010"),
            ("newClientOrderId", "ed-1"),
        ],
        None,
    );
    assert!(!order.contains("signature") && !order.contains("apiKey"));
    let v = call(&mut ws, &order);
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(mock.position(ED_API_KEY, "ETHUSDT").unwrap().amount, "0.010");
    // An explicit signature overrides the session (here: the HMAC account).
    let v = call(&mut ws, &market("o2", "ETHUSDT", "BUY", "0.010", "hm-1", &hmac()));
    assert_eq!(v["status"], 200);
    assert_eq!(mock.position(TEST_API_KEY, "ETHUSDT").unwrap().amount, "0.010");
    // Ed25519 signatures also work per request, on a new connection.
    let mut ws2 = connect(&mock.ws_api_url());
    let v = call(&mut ws2, &market("o3", "ETHUSDT", "BUY", "0.010", "ed-2", &ed25519()));
    assert_eq!(v["status"], 200, "{v}");
    let v = call(&mut ws, &frame("out", "session.logout", &[], None));
    assert!(v["result"]["apiKey"].is_null());
    let v = call(&mut ws, &frame("o4", "order.status", &[("symbol", "ETHUSDT"), ("origClientOrderId", "ed-1")], None));
    assert_eq!(code(&v), -1102, "logged out: {v}");
}

#[test]
fn timing_security_rejects_stale_and_future_timestamps() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    let creds = hmac();
    let mut w = tradeflow_binance::request::RequestWriter::new();
    let mut signed_at = |ts: i64, window: Option<i64>| {
        w.begin("order.status");
        w.str("symbol", "BTCUSDT");
        w.int("orderId", 1);
        w.int("timestamp", ts);
        if let Some(r) = window {
            w.int("recvWindow", r);
        }
        w.finish_signed("t", Some(&creds)).to_owned()
    };
    let v = call(&mut ws, &signed_at(now_ms() - 6000, None));
    assert_eq!(code(&v), -1021);
    assert_eq!(v["error"]["msg"], "Timestamp for this request is outside of the recvWindow.");
    assert_eq!(code(&call(&mut ws, &signed_at(now_ms() - 6000, Some(10_000)))), -2013, "inside a wider window");
    let v = call(&mut ws, &signed_at(now_ms() + 1500, None));
    assert_eq!(v["error"]["msg"], "Timestamp for this request was 1000ms ahead of the server's time.");
    // A server clock 10 s behind makes a correct client's timestamps look 10 s ahead.
    mock.set_clock_skew_ms(-10_000);
    assert_eq!(code(&call(&mut ws, &signed_at(now_ms(), None))), -1021);
    mock.set_clock_skew_ms(0);
    assert_eq!(code(&call(&mut ws, &signed_at(now_ms(), None))), -2013);
}

#[test]
fn envelope_errors_invalid_json_unknown_method_missing_and_unknown_params() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    let v = call(&mut ws, "{not json");
    assert_eq!(v, serde_json::json!({"id":null,"status":400,"error":{"code":-1135,"msg":"Invalid JSON Request"}}));
    let v = call(&mut ws, r#"{"id":42,"method":"no.such","params":{}}"#);
    assert_eq!((v["id"].as_i64(), v["status"].as_i64(), code(&v)), (Some(42), Some(400), -1000));
    assert_eq!(v["error"]["msg"], "Unknown method.");
    let v = call(&mut ws, r#"{"id":null,"method":"session.status"}"#);
    assert!(v["id"].is_null() && v["status"] == 200, "{v}");
    let v = call(
        &mut ws,
        &frame("m", "order.place", &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET")], Some(&hmac())),
    );
    assert_eq!(code(&v), -1102);
    assert_eq!(v["error"]["msg"], "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    let v = call(
        &mut ws,
        &frame(
            "u",
            "order.place",
            &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.010"), ("bogus", "1")],
            Some(&hmac()),
        ),
    );
    assert_eq!(code(&v), -1104);
    assert!(mock.orders().is_empty());
}
