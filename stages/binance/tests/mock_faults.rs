//! Mock exchange: injected faults, rate limits (429 then 418), `rateLimits` in answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_util;

use std::time::{Duration, Instant};

use mock_util::*;
use tradeflow_binance::mock::{Fault, MockConfig, MockExchange, MockLimits, TEST_API_KEY};
use tungstenite::Message;

const SHORT: Duration = Duration::from_millis(150);

fn place(ws: &mut Ws, cid: &str) {
    ws.send(Message::text(market(cid, "BTCUSDT", "BUY", "0.001", cid, &hmac()))).unwrap();
}

#[test]
fn delay_places_at_once_and_answers_late() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    mock.inject(Fault::Delay { ms: 400 }, "order.place", 1);
    let sent = Instant::now();
    place(&mut ws, "delay-1");
    assert!(recv(&mut ws, SHORT).is_none(), "no answer yet");
    assert_eq!(mock.orders_with_client_id("delay-1"), 1, "placed already");
    let v = recv(&mut ws, Duration::from_secs(3)).unwrap();
    assert!(sent.elapsed() >= Duration::from_millis(400));
    assert_eq!((v["id"].as_str(), v["status"].as_i64()), (Some("delay-1"), Some(200)));
    place(&mut ws, "delay-2");
    assert_eq!(recv(&mut ws, Duration::from_secs(1)).unwrap()["status"], 200, "count was 1");
}

#[test]
fn disconnect_places_and_drops_the_connection_and_the_resend_is_a_duplicate() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    mock.inject(Fault::Disconnect, "order.place", 1);
    place(&mut ws, "disc-1");
    assert!(closed_within(&mut ws, Duration::from_secs(2)));
    assert_eq!(mock.orders_with_client_id("disc-1"), 1);
    let mut ws = connect(&mock.ws_api_url());
    let v = call(&mut ws, &market("r", "BTCUSDT", "BUY", "0.001", "disc-1", &hmac()));
    assert_eq!(code(&v), -4116);
    assert_eq!(mock.orders_with_client_id("disc-1"), 1);
}

#[test]
fn unknown_places_and_answers_1007() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    mock.inject(Fault::Unknown, "order.place", 1);
    let v = call(&mut ws, &market("u", "BTCUSDT", "BUY", "0.001", "unk-1", &hmac()));
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(503), -1007));
    assert_eq!(
        v["error"]["msg"],
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
    );
    assert_eq!(mock.orders_with_client_id("unk-1"), 1);
    let st = frame("s", "order.status", &[("symbol", "BTCUSDT"), ("origClientOrderId", "unk-1")], Some(&hmac()));
    assert_eq!(call(&mut ws, &st)["result"]["status"], "FILLED");
}

#[test]
fn reject_rate_limit_and_ban_do_not_place() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    mock.inject(Fault::Reject { code: -2019, msg: "Margin is insufficient.".into() }, "order.place", 2);
    mock.inject(Fault::RateLimit { retry_after_ms: 5000 }, "order.place", 1);
    mock.inject(Fault::Ban { retry_after_ms: 60_000 }, "order.place", 1);
    mock.inject(Fault::Reject { code: -2011, msg: "Unknown order sent.".into() }, "order.cancel", 1);
    for _ in 0..2 {
        let v = call(&mut ws, &market("r", "BTCUSDT", "BUY", "0.001", "rej-1", &hmac()));
        assert_eq!(
            (v["status"].as_i64(), code(&v), v["error"]["msg"].as_str()),
            (Some(400), -2019, Some("Margin is insufficient."))
        );
    }
    let before = now_ms();
    let v = call(&mut ws, &market("l", "BTCUSDT", "BUY", "0.001", "rej-1", &hmac()));
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(429), -1015));
    let retry = v["error"]["data"]["retryAfter"].as_i64().unwrap();
    assert!(retry >= before + 5000 && retry <= now_ms() + 5000, "{v}");
    let v = call(&mut ws, &market("b", "BTCUSDT", "BUY", "0.001", "rej-1", &hmac()));
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(418), -1003));
    assert!(v["error"]["data"]["retryAfter"].as_i64().unwrap() >= before + 60_000);
    assert_eq!(mock.orders_with_client_id("rej-1"), 0);
    assert_eq!(call(&mut ws, &market("ok", "BTCUSDT", "BUY", "0.001", "rej-1", &hmac()))["status"], 200);
    assert_eq!(mock.orders_with_client_id("rej-1"), 1);
}

#[test]
fn slow_pong_delays_pongs_and_drop_user_stream_and_disconnect_all_close_sockets() {
    let mock = start();
    let mut api = connect(&mock.ws_api_url());
    mock.inject(Fault::SlowPong { ms: 300 }, "", 1);
    let sent = Instant::now();
    api.send(Message::Ping(b"p".to_vec().into())).unwrap();
    let mut pong_after = None;
    while sent.elapsed() < Duration::from_secs(2) && pong_after.is_none() {
        if let Ok(Message::Pong(_)) = api.read() {
            pong_after = Some(sent.elapsed());
        }
    }
    assert!(pong_after.unwrap() >= Duration::from_millis(300), "{pong_after:?}");

    let mut uds = user_stream(&mock, &mut api, TEST_API_KEY);
    mock.inject(Fault::DropUserStream, "", 1);
    assert!(closed_within(&mut uds, Duration::from_secs(2)));
    assert_eq!(call(&mut api, &frame("s", "session.status", &[], None))["status"], 200, "the API stays up");
    mock.disconnect_all();
    assert!(closed_within(&mut api, Duration::from_secs(2)));
    let mut again = connect(&mock.ws_api_url());
    assert_eq!(call(&mut again, &frame("s", "session.status", &[], None))["status"], 200, "new connections work");
}

/// Waits until at least `margin` is left in the current fixed `window_ms` window.
fn away_from_boundary(window_ms: i64, margin: i64) {
    let left = window_ms - now_ms().rem_euclid(window_ms);
    if left < margin {
        std::thread::sleep(Duration::from_millis(left as u64 + 5));
    }
}

#[test]
fn order_limit_gives_429_then_418_and_answers_carry_counting_rate_limits() {
    let limits = MockLimits { weight_per_min: 2400, orders_per_10s: 2, orders_per_min: 100 };
    let mock = MockExchange::start(MockConfig { limits, ..fast_config() }).unwrap();
    let mut ws = connect(&mock.ws_api_url());
    away_from_boundary(10_000, 2_000);
    let a = call(&mut ws, &market("1", "BTCUSDT", "BUY", "0.001", "rl-1", &hmac()));
    let b = call(&mut ws, &market("2", "BTCUSDT", "BUY", "0.001", "rl-2", &hmac()));
    let rl = &b["rateLimits"];
    assert_eq!(
        rl[1],
        serde_json::json!({"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":2,"count":2})
    );
    assert_eq!(a["rateLimits"][1]["count"], 1);
    assert_eq!(rl[2]["limit"], 100);
    let v = call(&mut ws, &market("3", "BTCUSDT", "BUY", "0.001", "rl-3", &hmac()));
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(429), -1015), "{v}");
    assert_eq!(v["error"]["msg"], "Too many new orders; current limit is 2 orders per 10 SECOND.");
    let retry = v["error"]["data"]["retryAfter"].as_i64().unwrap();
    assert_eq!(retry % 10_000, 0, "the next fixed window");
    let v = call(&mut ws, &frame("4", "session.status", &[], None));
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(418), -1003), "{v}");
    assert_eq!(v["error"]["data"]["retryAfter"], retry);
    assert_eq!(mock.orders().len(), 2);
}

#[test]
fn weight_limit_and_return_rate_limits_false() {
    let limits = MockLimits { weight_per_min: 5, orders_per_10s: 300, orders_per_min: 1200 };
    let mock = MockExchange::start(MockConfig { limits, ..fast_config() }).unwrap();
    let mut ws = connect(&format!("{}?returnRateLimits=false", mock.ws_api_url()));
    away_from_boundary(60_000, 2_000);
    let st = frame("s", "session.status", &[], None);
    let v = call(&mut ws, &st);
    assert!(v.get("rateLimits").is_none(), "{v}");
    let v = call(&mut ws, r#"{"id":"w","method":"session.status","params":{"returnRateLimits":true}}"#);
    assert_eq!(v["rateLimits"][0]["count"], 4, "{v}");
    assert_eq!(v["rateLimits"].as_array().unwrap().len(), 1, "no ORDERS counters on a non-order method");
    let v = call(&mut ws, &st);
    assert_eq!((v["status"].as_i64(), code(&v)), (Some(429), -1003), "{v}");
    assert_eq!(code(&call(&mut ws, &st)), -1003);
    assert_eq!(call(&mut ws, &st)["status"], 418);
}

#[test]
fn ignore_neither_places_nor_answers_and_keeps_the_connection() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    mock.inject(Fault::Ignore, "order.place", 1);
    place(&mut ws, "ign-1");
    assert!(recv(&mut ws, Duration::from_millis(400)).is_none(), "no answer");
    assert_eq!(mock.orders_with_client_id("ign-1"), 0, "not placed");
    // The connection is still served: the next request is placed and answered.
    place(&mut ws, "ign-2");
    assert_eq!(recv(&mut ws, Duration::from_secs(2)).unwrap()["status"], 200);
    assert_eq!(mock.orders_with_client_id("ign-2"), 1);
}
