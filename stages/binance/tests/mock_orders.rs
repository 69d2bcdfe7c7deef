//! Mock exchange: order validation, fills, positions, algo orders, duplicate client ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_util;

use mock_util::*;
use tradeflow_binance::mock::TEST_API_KEY;

fn limit(id: &str, side: &str, qty: &str, price: &str, tif: &str, cid: &str) -> String {
    frame(
        id,
        "order.place",
        &[
            ("symbol", "BTCUSDT"),
            ("side", side),
            ("type", "LIMIT"),
            ("timeInForce", tif),
            ("quantity", qty),
            ("price", price),
            ("newClientOrderId", cid),
            ("newOrderRespType", "RESULT"),
        ],
        Some(&hmac()),
    )
}

#[test]
fn market_result_has_the_derived_shape_and_moves_the_position() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    let v = call(&mut ws, &market("m1", "BTCUSDT", "BUY", "0.100", "gw-000001", &hmac()));
    let r = &v["result"];
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(r["status"], "FILLED");
    assert_eq!(r["avgPrice"], "43000.0");
    assert_eq!(r["executedQty"], "0.100");
    assert_eq!(r["cumQty"], "0.100");
    assert_eq!(r["cumQuote"], "4300.0000");
    assert_eq!(r["type"], "MARKET");
    assert_eq!(r["origType"], "MARKET");
    assert_eq!(r["positionSide"], "BOTH");
    assert_eq!(r["reduceOnly"], false);
    assert_eq!(r["clientOrderId"], "gw-000001");
    for k in ["orderId", "updateTime", "goodTillDate"] {
        assert!(r[k].is_i64(), "{k}: {r}");
    }
    let p = mock.position(TEST_API_KEY, "BTCUSDT").unwrap();
    assert_eq!((p.amount.as_str(), p.entry_price.as_str()), ("0.100", "43000.00000000"));
    assert_eq!(p.fees, "1.72000000", "4 bps of 4300");
    // Close at a higher price: realized PnL, reduce-only.
    assert!(mock.set_price("BTCUSDT", "43100"));
    let f = frame(
        "m2",
        "order.place",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.100"),
            ("reduceOnly", "true"),
            ("newOrderRespType", "RESULT"),
        ],
        Some(&hmac()),
    );
    let v = call(&mut ws, &f);
    assert_eq!(v["result"]["status"], "FILLED", "{v}");
    let p = mock.position(TEST_API_KEY, "BTCUSDT").unwrap();
    assert_eq!((p.amount.as_str(), p.realized_pnl.as_str()), ("0.000", "10.00000000"));
    assert_eq!(p.wallet_balance, "10006.55600000", "10000 + 10 - 1.72 - 1.724");
    // ACK answers with the order as accepted.
    let ack = call(
        &mut ws,
        &frame(
            "m3",
            "order.place",
            &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.001")],
            Some(&hmac()),
        ),
    );
    assert_eq!(ack["result"]["status"], "NEW", "{ack}");
    assert_eq!(mock.orders()[2].status, "FILLED");
}

#[test]
fn filters_and_order_rules_answer_with_futures_codes() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    assert_eq!(code(&call(&mut ws, &limit("1", "BUY", "0.010", "42000.05", "GTC", "f1"))), -4014);
    assert_eq!(code(&call(&mut ws, &limit("2", "BUY", "0.0105", "42000.0", "GTC", "f2"))), -4023);
    let v = call(&mut ws, &market("3", "BTCUSDT", "BUY", "0.0001", "f3", &hmac()));
    assert_eq!(code(&v), -4004, "{v}");
    let v = call(&mut ws, &market("4", "BTCUSDT", "BUY", "0.001", "f4", &hmac()));
    assert_eq!(code(&v), 0, "a 43 USDT order passes the 5 USDT minimum: {v}");
    let v = call(&mut ws, &market("5", "SOLUSDT", "BUY", "0.01", "f5", &hmac()));
    assert_eq!(code(&v), -4164, "1 USDT < 5: {v}");
    assert_eq!(v["error"]["msg"], "Order's notional must be no smaller than 5 (unless you choose reduce only).");
    // Reduce-only without a position.
    let ro = |id: &str, side: &str, qty: &str| {
        frame(
            id,
            "order.place",
            &[("symbol", "SOLUSDT"), ("side", side), ("type", "MARKET"), ("quantity", qty), ("reduceOnly", "true")],
            Some(&hmac()),
        )
    };
    assert_eq!(code(&call(&mut ws, &ro("6", "SELL", "0.01"))), -2022);
    // Open 1 SOL, then a 0.01 reduce-only exit is exempt from MIN_NOTIONAL.
    assert_eq!(call(&mut ws, &market("7", "SOLUSDT", "BUY", "1.00", "f7", &hmac()))["status"], 200);
    assert_eq!(call(&mut ws, &ro("8", "SELL", "0.01"))["status"], 200);
    assert_eq!(code(&call(&mut ws, &ro("9", "BUY", "0.01"))), -2022, "would increase");
    assert_eq!(code(&call(&mut ws, &ro("10", "SELL", "5.00"))), -2022, "would flip");
    // Conditional types belong to the algo API.
    for t in ["STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET"] {
        let f = frame(
            "s",
            "order.place",
            &[("symbol", "BTCUSDT"), ("side", "SELL"), ("type", t), ("stopPrice", "41000.0"), ("quantity", "0.010")],
            Some(&hmac()),
        );
        let v = call(&mut ws, &f);
        assert_eq!(code(&v), -4120, "{t}: {v}");
        assert_eq!(
            v["error"]["msg"],
            "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
        );
    }
    let f = frame(
        "ps",
        "order.place",
        &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "0.010"), ("positionSide", "LONG")],
        Some(&hmac()),
    );
    assert_eq!(code(&call(&mut ws, &f)), -4061);
    assert_eq!(code(&call(&mut ws, &limit("11", "BUY", "0.010", "42000.0", "GTC", "bad id!"))), -1100);
    assert_eq!(code(&call(&mut ws, &limit("12", "BUY", "0.010", "44000.0", "GTX", "gtx"))), -5022);
    let f = frame(
        "sym",
        "order.place",
        &[("symbol", "DOGEUSDT"), ("side", "BUY"), ("type", "MARKET"), ("quantity", "1")],
        Some(&hmac()),
    );
    assert_eq!(code(&call(&mut ws, &f)), -1121);
    let placed: Vec<_> = mock.orders().into_iter().map(|o| o.client_order_id).collect();
    assert_eq!(placed.len(), 3, "{placed:?}");
}

#[test]
fn limits_rest_fill_when_crossed_expire_when_ioc_and_cancel() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    let v = call(&mut ws, &limit("1", "BUY", "0.010", "42000.0", "GTC", "rest-1"));
    assert_eq!(v["result"]["status"], "NEW", "{v}");
    let ioc = call(&mut ws, &limit("2", "BUY", "0.010", "42000.0", "IOC", "ioc-1"));
    assert_eq!(ioc["result"]["status"], "EXPIRED", "{ioc}");
    let fok = call(&mut ws, &limit("3", "BUY", "0.010", "42000.0", "FOK", "fok-1"));
    assert_eq!(fok["result"]["status"], "EXPIRED");
    let taker = call(&mut ws, &limit("4", "BUY", "0.010", "43500.0", "IOC", "ioc-2"));
    assert_eq!(
        (taker["result"]["status"].as_str(), taker["result"]["avgPrice"].as_str()),
        (Some("FILLED"), Some("43000.0"))
    );
    let gtx = call(&mut ws, &limit("5", "SELL", "0.010", "44000.0", "GTX", "gtx-1"));
    assert_eq!(gtx["result"]["status"], "NEW", "a post-only that rests is fine");
    mock.set_price("BTCUSDT", "41999.9");
    let st = frame("6", "order.status", &[("symbol", "BTCUSDT"), ("origClientOrderId", "rest-1")], Some(&hmac()));
    let v = call(&mut ws, &st);
    assert_eq!(
        (v["result"]["status"].as_str(), v["result"]["avgPrice"].as_str()),
        (Some("FILLED"), Some("42000.0")),
        "{v}"
    );
    let cancel = frame("7", "order.cancel", &[("symbol", "BTCUSDT"), ("origClientOrderId", "gtx-1")], Some(&hmac()));
    assert_eq!(call(&mut ws, &cancel)["result"]["status"], "CANCELED");
    assert_eq!(code(&call(&mut ws, &cancel)), -2011, "no longer open");
    let missing = frame("8", "order.status", &[("symbol", "BTCUSDT"), ("orderId", "12345")], Some(&hmac()));
    let v = call(&mut ws, &missing);
    assert_eq!((code(&v), v["error"]["msg"].as_str()), (-2013, Some("Order does not exist.")));
    assert_eq!(mock.position(TEST_API_KEY, "BTCUSDT").unwrap().amount, "0.020");
}

#[test]
fn client_ids_are_unique_among_open_orders_and_for_ten_minutes() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    assert_eq!(call(&mut ws, &limit("1", "BUY", "0.010", "42000.0", "GTC", "dup-open"))["status"], 200);
    let v = call(&mut ws, &limit("2", "BUY", "0.010", "42000.0", "GTC", "dup-open"));
    assert_eq!((code(&v), v["error"]["msg"].as_str()), (-4116, Some("ClientOrderId is duplicated.")));
    assert_eq!(call(&mut ws, &market("3", "BTCUSDT", "BUY", "0.010", "dup-filled", &hmac()))["status"], 200);
    assert_eq!(
        code(&call(&mut ws, &market("4", "BTCUSDT", "BUY", "0.010", "dup-filled", &hmac()))),
        -4116,
        "filled but recent"
    );
    assert_eq!(mock.orders_with_client_id("dup-open"), 1);
    assert_eq!(mock.orders_with_client_id("dup-filled"), 1);
}

#[test]
fn algo_orders_are_accepted_and_trigger_on_the_price_path() {
    let mock = start();
    let mut ws = connect(&mock.ws_api_url());
    assert_eq!(call(&mut ws, &market("e", "BTCUSDT", "BUY", "0.100", "entry", &hmac()))["status"], 200);
    let algo = |id: &str, t: &str, trigger: &str, cid: &str| {
        frame(
            id,
            "algoOrder.place",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", t),
                ("triggerPrice", trigger),
                ("closePosition", "true"),
                ("workingType", "MARK_PRICE"),
                ("clientAlgoId", cid),
            ],
            Some(&hmac()),
        )
    };
    let sl = call(&mut ws, &algo("sl", "STOP_MARKET", "42000.0", "gw-sl-1"));
    let r = &sl["result"];
    assert_eq!(sl["status"], 200, "{sl}");
    assert_eq!(
        (r["algoStatus"].as_str(), r["orderType"].as_str(), r["triggerPrice"].as_str()),
        (Some("NEW"), Some("STOP_MARKET"), Some("42000.0"))
    );
    assert!(r["algoId"].is_i64() && r["closePosition"] == true);
    let tp = call(&mut ws, &algo("tp", "TAKE_PROFIT_MARKET", "45000.0", "gw-tp-1"));
    assert_eq!(tp["status"], 200, "{tp}");
    assert_eq!(code(&call(&mut ws, &algo("x", "STOP_MARKET", "43500.0", "gw-sl-2"))), -2021, "would trigger at once");
    assert_eq!(code(&call(&mut ws, &algo("y", "STOP_MARKET", "42000.05", "gw-sl-3"))), -4014);
    assert_eq!(code(&call(&mut ws, &algo("z", "STOP_MARKET", "41000.0", "gw-sl-1"))), -4116);
    mock.set_price("BTCUSDT", "42100");
    assert_eq!(mock.position(TEST_API_KEY, "BTCUSDT").unwrap().amount, "0.100", "not yet");
    mock.set_price("BTCUSDT", "41950");
    let p = mock.position(TEST_API_KEY, "BTCUSDT").unwrap();
    assert_eq!((p.amount.as_str(), p.realized_pnl.as_str()), ("0.000", "-105.00000000"));
    let orders = mock.orders();
    let sl = orders.iter().find(|o| o.client_order_id == "gw-sl-1" && o.is_algo).unwrap();
    assert_eq!((sl.status.as_str(), sl.avg_price.as_str()), ("FINISHED", "41950.0"));
    let child = orders.iter().find(|o| o.parent_algo_id == Some(sl.order_id)).unwrap();
    assert_eq!((child.order_type.as_str(), child.status.as_str(), child.reduce_only), ("MARKET", "FILLED", true));
    assert_eq!(mock.orders_with_client_id("gw-sl-1"), 1);
    // The take-profit now has nothing to close: it expires when reached, and cancel finds nothing open.
    let cancel = frame("c", "algoOrder.cancel", &[("clientAlgoId", "gw-tp-1")], Some(&hmac()));
    let v = call(&mut ws, &cancel);
    assert_eq!((v["result"]["code"].as_str(), v["result"]["msg"].as_str()), (Some("200"), Some("success")), "{v}");
    assert_eq!(code(&call(&mut ws, &cancel)), -2011);
}
