//! The Binance venue across runs against one mock exchange: client order ids are unique per
//! run (a fresh run id each start) and shared by a restart of the same run (the same run id).
//!
//! Real WebSocket on loopback. Waits are bounded polls; nothing asserts on how long a step took.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tradeflow_binance::keys::{KeyKind, KeySpec};
use tradeflow_binance::mock::{MockAccount, MockConfig, MockExchange};
use tradeflow_core::{Event, KillSwitch, RecordingCtx, Side, Stage};
use tradeflow_gateway::{BinanceVenueConfig, GatewayConfig, GatewayStage};
use util::{entry, fills, price_now, rejections, send};

const SECRET: &str = "runs-test-secret";

fn mock(api_key: &str) -> MockExchange {
    MockExchange::start(MockConfig {
        accounts: vec![MockAccount::hmac(api_key, SECRET, "100000")],
        price_step_ms: 20,
        ..MockConfig::default()
    })
    .unwrap()
}

/// A gateway on `mock` (keys in `TF_TEST_RUNS_<tag>_*`) with `run_id` ("" = a fresh one).
fn gateway(mock: &MockExchange, api_key: &str, tag: &str, run_id: &str) -> GatewayStage {
    let (k, s) = (format!("TF_TEST_RUNS_{tag}_KEY_{}", std::process::id()), format!("TF_TEST_RUNS_{tag}_SECRET"));
    std::env::set_var(&k, api_key);
    std::env::set_var(&s, SECRET);
    let vc = BinanceVenueConfig {
        ws_api_url: mock.ws_api_url(),
        stream_url: mock.stream_url(),
        rest_url: mock.rest_url(),
        key: KeySpec { api_key_env: k, secret_env: Some(s), ..KeySpec::new(KeyKind::Hmac) },
        run_id: run_id.into(),
        order_timeout_ms: 5_000, // no status query by timeout, even on a loaded machine
        fill_wait_ms: 500,
        reconnect_base_ms: 20,
        reconnect_max_ms: 200,
        connect_timeout_ms: 3_000,
        ..BinanceVenueConfig::default()
    };
    let cfg = GatewayConfig { venue: "binance".into(), binance: vc, ..GatewayConfig::default() };
    GatewayStage::try_new(&cfg, util::catalog(), Arc::new(KillSwitch::new())).unwrap()
}

/// Sends entries `seqs` (traces `trace-<seq>`) and polls until each has a fill or a refusal.
fn trade(gw: &mut GatewayStage, mock: &MockExchange, seqs: std::ops::RangeInclusive<u64>) -> Vec<Event> {
    let n = seqs.clone().count();
    let mut all = Vec::new();
    for seq in seqs {
        all.extend(send(gw, Event::ExecutionRequested(entry(seq, Side::Buy, price_now(mock), 0.01))));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while fills(&all).len() + rejections(&all).len() < n && Instant::now() < deadline {
        let mut ctx = RecordingCtx::new(0);
        gw.poll(&mut ctx);
        all.extend(ctx.take());
        std::thread::sleep(Duration::from_micros(200));
    }
    all
}

#[test]
fn a_second_run_with_the_same_traces_trades_like_the_first() {
    let api_key = "runs-fresh";
    let mock = mock(api_key);
    for run in 1..=2 {
        let mut gw = gateway(&mock, api_key, "fresh", "");
        let run_id = gw.venue_run_id().unwrap().to_owned();
        assert!(tradeflow_binance::client_id::valid_run_id(&run_id), "a fresh run id: {run_id:?}");
        let evs = trade(&mut gw, &mock, 1..=3);
        assert_eq!(fills(&evs).len(), 3, "run {run}: every entry filled: {evs:?}");
        let st = gw.binance_stats().unwrap();
        assert_eq!((st.unknown, st.status_queries, st.sent), (0, 0, 3), "run {run}: {st:?}");
    }
    let orders = mock.orders();
    assert_eq!(orders.len(), 6, "three orders per run");
    let mut ids: Vec<&str> = orders.iter().map(|o| o.client_order_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6, "no client order id shared between the runs: {orders:?}");
}

#[test]
fn a_restart_of_the_same_run_settles_its_orders_instead_of_placing_them_again() {
    let api_key = "runs-same";
    let mock = mock(api_key);
    let mut gw = gateway(&mock, api_key, "same1", "run-42");
    assert_eq!(gw.venue_run_id(), Some("run-42"));
    assert_eq!(fills(&trade(&mut gw, &mock, 1..=2)).len(), 2);
    drop(gw);
    // The restarted run offers the same signal again: the exchange has it, no second order.
    let mut gw = gateway(&mock, api_key, "same2", "run-42");
    let evs = trade(&mut gw, &mock, 2..=2);
    assert_eq!(fills(&evs).len(), 1, "settled as the order the exchange already filled: {evs:?}");
    assert_eq!(mock.orders().len(), 2, "nothing placed twice: {:?}", mock.orders());
    let st = gw.binance_stats().unwrap();
    assert!(st.status_queries >= 1, "the duplicate was looked up: {st:?}");
}
