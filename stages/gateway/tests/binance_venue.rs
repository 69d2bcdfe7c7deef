//! The Binance venue against the mock exchange over real WebSocket on loopback: one exchange
//! order per approved signal whatever the fault, fills with the exchange's commission, refusals
//! as events, reconnects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradeflow_binance::client_id::{client_order_id, Purpose};
use tradeflow_binance::keys::{KeyKind, KeySpec};
use tradeflow_binance::mock::{Fault, MockAccount, MockConfig, MockExchange};
use tradeflow_core::{
    DenialCode, Event, ExitReason, FillPurpose, KillSwitch, Qty, RecordingCtx, Side, Stage, TradingState,
};
use tradeflow_gateway::{BinanceVenueConfig, GatewayConfig, GatewayStage};
use util::{entry, exit, fills, price_now, rejections, send};

const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

static NEXT: AtomicU32 = AtomicU32::new(0);

struct Setup {
    mock: MockExchange,
    gw: GatewayStage,
    kill: Arc<KillSwitch>,
    api_key: String,
}

/// The run id the venues of these tests use, so a test can name its client order ids.
const RUN_ID: &str = "test-run";

fn mock_config(api_key: &str) -> MockConfig {
    MockConfig {
        accounts: vec![MockAccount::hmac(api_key, SECRET, "100000")],
        price_step_ms: 20,
        ..MockConfig::default()
    }
}

fn venue_config(mock: &MockExchange, key_env: &str, secret_env: &str) -> BinanceVenueConfig {
    BinanceVenueConfig {
        ws_api_url: mock.ws_api_url(),
        stream_url: mock.stream_url(),
        rest_url: mock.rest_url(),
        key: KeySpec {
            api_key_env: key_env.into(),
            secret_env: Some(secret_env.into()),
            ..KeySpec::new(KeyKind::Hmac)
        },
        run_id: RUN_ID.into(),
        order_timeout_ms: 400,
        fill_wait_ms: 500,
        unknown_give_up_ms: 10_000,
        reconnect_base_ms: 20,
        reconnect_max_ms: 200,
        connect_timeout_ms: 3_000,
        ..BinanceVenueConfig::default()
    }
}

fn env_pair(api_key: &str) -> (String, String) {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let (k, s) =
        (format!("TF_TEST_BN_KEY_{n}_{}", std::process::id()), format!("TF_TEST_BN_SECRET_{n}_{}", std::process::id()));
    std::env::set_var(&k, api_key);
    std::env::set_var(&s, SECRET);
    (k, s)
}

fn setup_with(mock_cfg: impl FnOnce(MockConfig) -> MockConfig, tweak: impl FnOnce(&mut BinanceVenueConfig)) -> Setup {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let api_key = format!("test-key-{n}");
    let mock = MockExchange::start(mock_cfg(mock_config(&api_key))).unwrap();
    let (k, s) = env_pair(&api_key);
    let mut vc = venue_config(&mock, &k, &s);
    tweak(&mut vc);
    let cfg = GatewayConfig { venue: "binance".into(), binance: vc, ..GatewayConfig::default() };
    let kill = Arc::new(KillSwitch::new());
    let gw = GatewayStage::try_new(&cfg, util::catalog(), kill.clone()).unwrap();
    Setup { mock, gw, kill, api_key }
}

fn setup() -> Setup {
    setup_with(|c| c, |_| {})
}

fn cid(purpose: Purpose, seq: u64) -> String {
    let mut s = String::new();
    client_order_id("tf", RUN_ID, purpose, format!("trace-{seq}").as_bytes(), &mut s);
    s
}

/// Polls the gateway until `done(events so far)` or the deadline; returns every event.
fn run_until(gw: &mut GatewayStage, secs: u64, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut all = Vec::new();
    while Instant::now() < deadline {
        let mut ctx = RecordingCtx::new(0);
        gw.poll(&mut ctx);
        all.extend(ctx.take());
        if done(&all) {
            return all;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    all
}

/// Polls until the order-entry connection is up again.
fn wait_connected(gw: &mut GatewayStage) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw.venue_connected() && Instant::now() < deadline {
        let mut ctx = RecordingCtx::new(0);
        gw.poll(&mut ctx);
        std::thread::sleep(Duration::from_micros(200));
    }
    assert!(gw.venue_connected(), "reconnected within 10 s");
}

#[test]
fn an_approved_entry_becomes_one_market_order_and_a_fill_with_the_exchange_commission() {
    let mut s = setup();
    let p = price_now(&s.mock);
    let immediate = send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01234)));
    assert!(immediate.is_empty(), "nothing is reported before the exchange answers: {immediate:?}");
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty());
    let f = fills(&evs);
    assert_eq!(f.len(), 1, "{evs:?}");
    assert_eq!(f[0].qty, Qty(1_200_000), "0.01234 floored to the 0.001 step");
    assert_eq!(f[0].purpose, FillPurpose::Entry);
    assert!(f[0].commission_usd.units() > 0, "commission from ORDER_TRADE_UPDATE");
    assert_eq!(f[0].fill_price.units() % 10_000_000, 0, "fill price on the 0.10 tick");
    let orders = s.mock.orders();
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.client_order_id, cid(Purpose::Entry, 1));
    assert_eq!((o.side.as_str(), o.order_type.as_str(), o.quantity.as_str()), ("BUY", "MARKET", "0.012"));
    assert!(!o.reduce_only);
    // Commission = 4 bps of the filled notional, as the mock charged it.
    let pos = s.mock.position(&s.api_key, "BTCUSDT").unwrap();
    assert_eq!(pos.amount, "0.012");
    assert_eq!(s.gw.binance_stats().unwrap().estimated_commissions, 0);

    // The reduce-only exit closes it.
    send(&mut s.gw, Event::ExitRequest(exit(1, Side::Sell, p, 0.012, ExitReason::TakeProfit)));
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty());
    let f = fills(&evs);
    assert_eq!(f.len(), 1, "{evs:?}");
    assert_eq!(f[0].purpose, FillPurpose::Exit);
    let orders = s.mock.orders();
    assert_eq!(orders.len(), 2);
    assert!(orders[1].reduce_only);
    assert_eq!(orders[1].client_order_id, cid(Purpose::Exit, 1));
    assert_eq!(s.mock.position(&s.api_key, "BTCUSDT").unwrap().amount, "0.000");
}

#[test]
fn filters_refuse_before_sending_and_exchange_rejections_become_events() {
    let mut s = setup();
    let p = price_now(&s.mock);
    // Notional 0.001 × p is above 5 USDT, but 0.0001 rounds to zero.
    let evs = send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.0001)));
    assert_eq!(rejections(&evs).len(), 1, "{evs:?}");
    assert!(evs.iter().any(|e| matches!(e, Event::SignalDenied(d) if d.code == DenialCode::VenueRejected)));
    assert!(evs.iter().any(|e| matches!(e, Event::SystemEventError(x) if x.detail == -4004)), "{evs:?}");
    // The exchange refuses the next order with -2019.
    s.mock.inject(Fault::Reject { code: -2019, msg: "Margin is insufficient.".into() }, "order.place", 1);
    send(&mut s.gw, Event::ExecutionRequested(entry(2, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !rejections(e).is_empty());
    let r = rejections(&evs);
    assert_eq!(r.len(), 1, "{evs:?}");
    assert_eq!(r[0].venue_code, -2019);
    let err = evs.iter().find_map(|e| match e {
        Event::SystemEventError(x) => Some(x),
        _ => None,
    });
    assert_eq!(err.map(|e| e.raw()), Some(&b"Margin is insufficient."[..]));
    assert_eq!(s.mock.orders().len(), 0, "nothing was placed");
    assert_eq!(s.gw.working_orders(), 0);
}

/// Each fault that leaves the order's fate unknown ends with exactly one order at the
/// exchange and one fill reported.
fn exactly_one_order_despite(fault: Fault) {
    let mut s = setup();
    let p = price_now(&s.mock);
    s.mock.inject(fault.clone(), "order.place", 1);
    send(&mut s.gw, Event::ExecutionRequested(entry(7, Side::Sell, p, 0.01)));
    let evs = run_until(&mut s.gw, 15, |e| !fills(e).is_empty() || !rejections(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "{fault:?}: {evs:?}");
    assert!(rejections(&evs).is_empty(), "{fault:?}: {evs:?}");
    assert_eq!(s.mock.orders_with_client_id(&cid(Purpose::Entry, 7)), 1, "{fault:?}");
    assert_eq!(s.mock.orders().len(), 1, "{fault:?}");
    assert_eq!(s.mock.position(&s.api_key, "BTCUSDT").unwrap().amount, "-0.010", "{fault:?}");
    let st = s.gw.binance_stats().unwrap();
    // The order's state became unknown (or the user stream's fill overtook the failed answer —
    // timing decides which); it was resolved by `order.status` or by that fill, never by a
    // resend. The status path itself is pinned down by the "never got" test below.
    assert!(st.unknown <= 1, "{fault:?}: {st:?}");
    assert_eq!(st.resends, 0, "{fault:?}: the exchange had it, so it was never resent");
    // Still trading afterwards (once reconnected, after a disconnect).
    wait_connected(&mut s.gw);
    send(&mut s.gw, Event::ExecutionRequested(entry(8, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "{fault:?}: {evs:?}");
    assert_eq!(s.mock.orders().len(), 2);
}

#[test]
fn disconnect_mid_order_is_resolved_by_status_not_resent() {
    exactly_one_order_despite(Fault::Disconnect);
}

#[test]
fn minus_1007_is_status_unknown_not_failure() {
    exactly_one_order_despite(Fault::Unknown);
}

#[test]
fn an_answer_later_than_the_timeout_is_resolved_by_status() {
    exactly_one_order_despite(Fault::Delay { ms: 1_500 });
}

#[test]
fn an_order_the_exchange_never_got_is_resent_once_under_the_same_client_id() {
    // The order is lost before the exchange places it: the status query says -2013, so the
    // same client order id goes out again.
    let mut s = setup();
    let p = price_now(&s.mock);
    s.mock.inject(
        Fault::Reject { code: -1007, msg: "Timeout waiting for response from backend server.".into() },
        "order.place",
        1,
    );
    send(&mut s.gw, Event::ExecutionRequested(entry(3, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 15, |e| !fills(e).is_empty() || !rejections(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    assert_eq!(s.mock.orders_with_client_id(&cid(Purpose::Entry, 3)), 1);
    let st = s.gw.binance_stats().unwrap();
    assert_eq!(st.resends, 1, "{st:?}");
}

#[test]
fn rate_limit_refuses_entries_until_retry_after_and_exits_wait() {
    let mut s = setup();
    let p = price_now(&s.mock);
    send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01)));
    assert_eq!(fills(&run_until(&mut s.gw, 10, |e| !fills(e).is_empty())).len(), 1);
    s.mock.inject(Fault::RateLimit { retry_after_ms: 700 }, "order.place", 1);
    send(&mut s.gw, Event::ExecutionRequested(entry(2, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !rejections(e).is_empty());
    assert_eq!(rejections(&evs)[0].venue_code, -1015, "{evs:?}");
    // While throttled, a new entry is refused at once without reaching the exchange.
    let evs = send(&mut s.gw, Event::ExecutionRequested(entry(3, Side::Buy, p, 0.01)));
    assert_eq!(rejections(&evs).len(), 1, "{evs:?}");
    // An exit waits for the window and then goes out.
    let t0 = Instant::now();
    send(&mut s.gw, Event::ExitRequest(exit(1, Side::Sell, p, 0.01, ExitReason::StopLoss)));
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty() || !rejections(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    assert!(t0.elapsed() >= Duration::from_millis(300), "the exit waited for retryAfter");
    let orders = s.mock.orders();
    assert_eq!(orders.len(), 2, "the first entry and the exit; the throttled entries never reached the exchange");
    assert!(orders[1].reduce_only);
    assert_eq!(s.gw.binance_stats().unwrap().rate_limited, 1);
}

#[test]
fn a_418_ban_halts_trading() {
    let mut s = setup();
    let p = price_now(&s.mock);
    s.mock.inject(Fault::Ban { retry_after_ms: 60_000 }, "order.place", 1);
    send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !rejections(e).is_empty());
    assert_eq!(rejections(&evs)[0].venue_code, -1003);
    assert_eq!(s.kill.state(), TradingState::Halted);
    assert_eq!(s.mock.orders().len(), 0);
}

#[test]
fn trading_resumes_after_the_exchange_drops_every_connection() {
    let mut s = setup();
    let p = price_now(&s.mock);
    send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01)));
    assert_eq!(fills(&run_until(&mut s.gw, 10, |e| !fills(e).is_empty())).len(), 1);
    s.mock.disconnect_all();
    // Entries are refused while the connection is down; once it is back, trading resumes.
    run_until(&mut s.gw, 1, |_| false);
    wait_connected(&mut s.gw);
    send(&mut s.gw, Event::ExecutionRequested(entry(2, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    let st = s.gw.binance_stats().unwrap();
    assert!(st.reconnects >= 1, "{st:?}");
    assert_eq!(s.mock.orders_with_client_id(&cid(Purpose::Entry, 1)), 1);
}

#[test]
fn missing_key_or_unreachable_exchange_is_a_clear_startup_error() {
    let cfg = GatewayConfig {
        venue: "binance".into(),
        binance: BinanceVenueConfig {
            key: KeySpec { api_key_env: "TF_TEST_BN_SURELY_UNSET".into(), ..KeySpec::new(KeyKind::Hmac) },
            ..BinanceVenueConfig::default()
        },
        ..GatewayConfig::default()
    };
    let e = GatewayStage::try_new(&cfg, util::catalog(), Arc::new(KillSwitch::new())).unwrap_err().to_string();
    assert!(e.contains("TF_TEST_BN_SURELY_UNSET"), "{e}");

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (k, s) = env_pair("k");
    let cfg = GatewayConfig {
        venue: "binance".into(),
        binance: BinanceVenueConfig {
            ws_api_url: format!("ws://127.0.0.1:{port}/ws-fapi/v1"),
            stream_url: format!("ws://127.0.0.1:{port}"),
            rest_url: format!("http://127.0.0.1:{port}"),
            key: KeySpec { api_key_env: k, secret_env: Some(s), ..KeySpec::new(KeyKind::Hmac) },
            connect_timeout_ms: 500,
            ..BinanceVenueConfig::default()
        },
        ..GatewayConfig::default()
    };
    let e = GatewayStage::try_new(&cfg, util::catalog(), Arc::new(KillSwitch::new())).unwrap_err().to_string();
    assert!(e.contains("/fapi/v1/time"), "{e}");
}

#[test]
fn clock_drift_beyond_the_limit_refuses_to_start() {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let api_key = format!("drift-{n}");
    let mock = MockExchange::start(MockConfig { clock_skew_ms: 5_000, ..mock_config(&api_key) }).unwrap();
    let (k, s) = env_pair(&api_key);
    let cfg =
        GatewayConfig { venue: "binance".into(), binance: venue_config(&mock, &k, &s), ..GatewayConfig::default() };
    let e = GatewayStage::try_new(&cfg, util::catalog(), Arc::new(KillSwitch::new())).unwrap_err().to_string();
    assert!(e.contains("clock") && e.contains("max_clock_drift_ms"), "{e}");
}

fn limit_setup(tif: tradeflow_gateway::TimeInForce, offset_bps: f64) -> Setup {
    // Prices move only when set: a random walk could cross a resting order.
    setup_with(
        |c| MockConfig { price_step_ms: 0, ..c },
        |v| {
            v.entry_type = tradeflow_gateway::EntryType::Limit;
            v.time_in_force = tif;
            v.limit_offset_bps = offset_bps;
            v.limit_ttl_ms = 300;
        },
    )
}

#[test]
fn a_marketable_ioc_limit_entry_fills_at_or_better_than_its_limit() {
    let mut s = limit_setup(tradeflow_gateway::TimeInForce::Ioc, 20.0);
    let p = price_now(&s.mock);
    send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty() || !rejections(e).is_empty());
    let f = fills(&evs);
    assert_eq!(f.len(), 1, "{evs:?}");
    let o = &s.mock.orders()[0];
    assert_eq!((o.order_type.as_str(), o.side.as_str()), ("LIMIT", "BUY"));
    let limit: f64 = o.price.parse().unwrap();
    assert!(limit > p && limit <= p * 1.002 + 0.1, "limit {limit} vs reference {p}");
    assert!(f[0].fill_price.to_f64() <= limit + 1e-9, "filled at or below the limit");
}

#[test]
fn a_resting_gtc_limit_entry_is_cancelled_after_its_ttl_and_reported_unfilled() {
    // 50 bps below the market for a buy: it rests.
    let mut s = limit_setup(tradeflow_gateway::TimeInForce::Gtc, -50.0);
    let p = price_now(&s.mock);
    send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01)));
    let evs = run_until(&mut s.gw, 10, |e| !fills(e).is_empty() || !rejections(e).is_empty());
    assert!(fills(&evs).is_empty(), "{evs:?}");
    assert_eq!(rejections(&evs).len(), 1, "{evs:?}");
    assert!(evs.iter().any(|e| matches!(e, Event::SignalDenied(_))), "risk and learning see the outcome");
    let o = &s.mock.orders()[0];
    assert_eq!((o.order_type.as_str(), o.status.as_str()), ("LIMIT", "CANCELED"), "{o:?}");
    let st = s.gw.binance_stats().unwrap();
    assert_eq!(st.cancels, 1, "{st:?}");
    assert_eq!(s.gw.working_orders(), 0);
    assert_eq!(s.mock.position(&s.api_key, "BTCUSDT").map(|p| p.amount.parse::<f64>().unwrap()), Some(0.0));
}

#[test]
fn cancel_all_cancels_a_resting_limit_entry_at_the_exchange() {
    let mut s = setup_with(
        |c| MockConfig { price_step_ms: 0, ..c },
        |v| {
            v.entry_type = tradeflow_gateway::EntryType::Limit;
            v.time_in_force = tradeflow_gateway::TimeInForce::Gtc;
            v.limit_offset_bps = -50.0;
            v.limit_ttl_ms = 60_000;
        },
    );
    let p = price_now(&s.mock);
    send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, p, 0.01)));
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.mock.orders().first().map(|o| o.status.clone()) != Some("NEW".into()) && Instant::now() < deadline {
        run_until(&mut s.gw, 0, |_| true);
    }
    run_until(&mut s.gw, 1, |_| false);
    // The answer may already be read inside the command's own call: keep its events too.
    let mut evs = send(&mut s.gw, util::command(tradeflow_core::CommandKind::CancelAll));
    if rejections(&evs).is_empty() {
        evs.extend(run_until(&mut s.gw, 10, |e| !rejections(e).is_empty()));
    }
    assert_eq!(rejections(&evs).len(), 1, "{evs:?}");
    assert_eq!(s.mock.orders()[0].status, "CANCELED");
}
