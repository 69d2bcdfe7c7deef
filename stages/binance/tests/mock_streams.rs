//! Mock exchange: user-data streams, market streams, ping/pong and connection lifetime.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_util;

use std::time::Duration;

use mock_util::*;
use tradeflow_binance::mock::{MockConfig, MockExchange, TEST_API_KEY};
use tungstenite::Message;

const WAIT: Duration = Duration::from_secs(3);

fn event_of(kind: &'static str, exec: Option<&'static str>) -> impl Fn(&serde_json::Value) -> bool {
    move |v| v["e"] == kind && exec.map_or(true, |x| v["o"]["x"] == x)
}

#[test]
fn market_fill_reaches_the_user_stream_with_commission_then_the_account_update() {
    let mock = start();
    let mut api = connect(&mock.ws_api_url());
    let mut uds = user_stream(&mock, &mut api, TEST_API_KEY);
    assert_eq!(call(&mut api, &market("1", "BTCUSDT", "BUY", "0.100", "uds-1", &hmac()))["status"], 200);
    let new = recv_until(&mut uds, WAIT, event_of("ORDER_TRADE_UPDATE", Some("NEW"))).unwrap();
    assert_eq!((new["o"]["X"].as_str(), new["o"]["c"].as_str()), (Some("NEW"), Some("uds-1")));
    let trade = recv_until(&mut uds, WAIT, event_of("ORDER_TRADE_UPDATE", Some("TRADE"))).unwrap();
    let o = &trade["o"];
    assert_eq!(o["X"], "FILLED");
    assert_eq!(
        (o["l"].as_str(), o["z"].as_str(), o["L"].as_str(), o["ap"].as_str()),
        (Some("0.100"), Some("0.100"), Some("43000.0"), Some("43000.0"))
    );
    assert_eq!(
        (o["n"].as_str(), o["N"].as_str(), o["rp"].as_str()),
        (Some("1.72000000"), Some("USDT"), Some("0.00000000"))
    );
    assert!(o["i"].is_i64() && o["t"].is_i64() && trade["E"].is_i64());
    let acc = recv_until(&mut uds, WAIT, event_of("ACCOUNT_UPDATE", None)).unwrap();
    assert_eq!(acc["a"]["m"], "ORDER");
    assert_eq!(acc["a"]["B"][0]["wb"], "9998.28000000");
    assert_eq!(acc["a"]["P"][0]["pa"], "0.100");
    // The query-string form of the private URL, and ALGO_UPDATE / CANCELED events.
    let key = call(&mut api, &frame("k", "userDataStream.ping", &[("apiKey", TEST_API_KEY)], None))["result"]
        ["listenKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut uds2 = connect(&format!("{}/private/ws?listenKey={key}", mock.stream_url()));
    let f = frame(
        "a",
        "algoOrder.place",
        &[
            ("algoType", "CONDITIONAL"),
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "STOP_MARKET"),
            ("triggerPrice", "40000.0"),
            ("quantity", "0.100"),
            ("reduceOnly", "true"),
            ("clientAlgoId", "sl-1"),
        ],
        Some(&hmac()),
    );
    assert_eq!(call(&mut api, &f)["status"], 200);
    for ws in [&mut uds, &mut uds2] {
        let a = recv_until(ws, WAIT, event_of("ALGO_UPDATE", None)).unwrap();
        assert_eq!(
            (a["o"]["caid"].as_str(), a["o"]["X"].as_str(), a["o"]["tp"].as_str()),
            (Some("sl-1"), Some("NEW"), Some("40000.0"))
        );
    }
    mock.set_price("BTCUSDT", "39990");
    // Order: ALGO_UPDATE TRIGGERING, ORDER_TRADE_UPDATE NEW, ALGO_UPDATE TRIGGERED, TRADE, ACCOUNT_UPDATE, FINISHED.
    let t = recv_until(&mut uds, WAIT, event_of("ORDER_TRADE_UPDATE", Some("TRADE"))).unwrap();
    assert_eq!(
        (t["o"]["ot"].as_str(), t["o"]["rp"].as_str(), t["o"]["R"].as_bool()),
        (Some("STOP_MARKET"), Some("-301.00000000"), Some(true))
    );
    let fin = recv_until(&mut uds, WAIT, |v| v["e"] == "ALGO_UPDATE" && v["o"]["X"] == "FINISHED").unwrap();
    assert!(fin["o"]["ai"].as_str().is_some_and(|s| !s.is_empty()), "{fin}");
    // An unknown listenKey is refused at the handshake.
    assert!(tungstenite::connect(format!("{}/private/ws/nope", mock.stream_url())).is_err());
}

#[test]
fn listen_keys_lapse_with_an_event_and_stop_closes_the_stream() {
    let mock = MockExchange::start(MockConfig { listen_key_ttl_ms: 300, ..fast_config() }).unwrap();
    let mut api = connect(&mock.ws_api_url());
    let mut uds = user_stream(&mock, &mut api, TEST_API_KEY);
    let ev = recv_until(&mut uds, WAIT, |v| v["e"] == "listenKeyExpired").unwrap();
    assert!(ev["listenKey"].as_str().is_some_and(|k| k.len() == 64));
    assert!(closed_within(&mut uds, WAIT));
    let v = call(&mut api, &frame("p", "userDataStream.ping", &[("apiKey", TEST_API_KEY)], None));
    assert_eq!(code(&v), -1125);
    let mut uds = user_stream(&mock, &mut api, TEST_API_KEY);
    assert_eq!(call(&mut api, &frame("s", "userDataStream.stop", &[("apiKey", TEST_API_KEY)], None))["status"], 200);
    assert!(closed_within(&mut uds, WAIT));
}

#[test]
fn market_streams_push_marks_and_book_tickers_raw_and_combined() {
    let mock = start();
    let mut mark = connect(&format!("{}/market/ws/btcusdt@markPrice@1s", mock.stream_url()));
    let first = recv(&mut mark, WAIT).unwrap();
    assert_eq!(
        (first["e"].as_str(), first["s"].as_str(), first["p"].as_str()),
        (Some("markPriceUpdate"), Some("BTCUSDT"), Some("43000.00000000"))
    );
    mock.set_price("BTCUSDT", "43100.5");
    assert_eq!(recv(&mut mark, WAIT).unwrap()["p"], "43100.50000000");
    let url = format!("{}/stream?streams=ethusdt@markPrice/ethusdt@bookTicker", mock.stream_url());
    let mut both = connect(&url);
    let a = recv(&mut both, WAIT).unwrap();
    let b = recv(&mut both, WAIT).unwrap();
    assert_eq!((a["stream"].as_str(), a["data"]["p"].as_str()), (Some("ethusdt@markPrice"), Some("2300.00000000")));
    assert_eq!(
        (b["stream"].as_str(), b["data"]["b"].as_str(), b["data"]["a"].as_str()),
        (Some("ethusdt@bookTicker"), Some("2300.00"), Some("2300.01"))
    );
    let mut book = connect(&format!("{}/public/ws/ethusdt@bookTicker", mock.stream_url()));
    assert_eq!(recv(&mut book, WAIT).unwrap()["e"], "bookTicker");
    assert!(
        tungstenite::connect(format!("{}/market/ws/btcusdt@bookTicker", mock.stream_url())).is_err(),
        "wrong route"
    );
    assert!(tungstenite::connect(format!("{}/market/ws/xyzusdt@markPrice", mock.stream_url())).is_err());
}

#[test]
fn seeded_random_walk_moves_prices_on_its_own() {
    let cfg = MockConfig { price_step_ms: 5, volatility_bps: 50.0, ..fast_config() };
    let mock = MockExchange::start(cfg).unwrap();
    let mut mark = connect(&format!("{}/market/ws/btcusdt@markPrice", mock.stream_url()));
    let first = recv(&mut mark, WAIT).unwrap()["p"].clone();
    let moved = recv_until(&mut mark, WAIT, |v| v["p"] != first);
    assert!(moved.is_some());
    assert_ne!(mock.price("BTCUSDT").unwrap(), "43000.0");
}

#[test]
fn server_pings_and_closes_silent_clients_and_old_connections() {
    let cfg = MockConfig { ping_interval_ms: 20, pong_timeout_ms: 150, ..fast_config() };
    let mock = MockExchange::start(cfg).unwrap();
    // A client that reads answers pings automatically and stays connected.
    let mut live = connect(&mock.ws_api_url());
    let mut pings = 0;
    let end = std::time::Instant::now() + Duration::from_millis(400);
    while std::time::Instant::now() < end {
        if let Ok(Message::Ping(_)) = live.read() {
            pings += 1;
        }
    }
    assert!(pings >= 3, "{pings} pings");
    assert_eq!(call(&mut live, &frame("s", "session.status", &[], None))["status"], 200);
    // Client pings are answered.
    live.send(Message::Ping(b"hi".to_vec().into())).unwrap();
    let got_pong = (0..100).any(|_| matches!(live.read(), Ok(Message::Pong(p)) if p.as_ref() == b"hi"));
    assert!(got_pong);
    // A client that never reads never pongs.
    let mut silent = connect(&mock.ws_api_url());
    std::thread::sleep(Duration::from_millis(400));
    assert!(closed_within(&mut silent, WAIT));

    let cfg = MockConfig { max_connection_ms: 150, ..fast_config() };
    let mock = MockExchange::start(cfg).unwrap();
    let mut ws = connect(&mock.ws_api_url());
    assert_eq!(call(&mut ws, &frame("s", "session.status", &[], None))["status"], 200);
    assert!(closed_within(&mut ws, WAIT));
}
