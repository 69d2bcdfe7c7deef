//! The whole pipeline on `config/paper.toml` against the mock exchange over real WebSocket on
//! loopback: order entry, user data stream and market stream. Every approved signal becomes
//! exactly one exchange order, faults included, and the exchange's positions end flat.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use tradeflow::binance::client_id::Purpose;
use tradeflow::binance::mock::{Fault, MockAccount, MockConfig, MockExchange};
use tradeflow::config::{CoreSpec, WaitStrategy};
use tradeflow::core::EventKind;
use tradeflow::{Config, PipelineBuilder};

const SECRET: &str = "paper-test-secret";
static NEXT: AtomicU32 = AtomicU32::new(0);

/// `config/paper.toml` pointed at `mock`, with keys in fresh environment variables.
fn paper_config(mock: &MockExchange, api_key: &str, signals: u64, rate: f64) -> Config {
    let mut cfg = Config::from_toml_str(include_str!("../config/paper.toml")).expect("paper.toml is valid");
    for t in &mut cfg.topology.threads {
        t.core = CoreSpec::None;
        if t.wait == WaitStrategy::Spin {
            t.wait = WaitStrategy::Yield;
        }
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let (k, s) =
        (format!("TF_PAPER_KEY_{n}_{}", std::process::id()), format!("TF_PAPER_SECRET_{n}_{}", std::process::id()));
    std::env::set_var(&k, api_key);
    std::env::set_var(&s, SECRET);
    let b = &mut cfg.gateway.binance;
    b.ws_api_url = mock.ws_api_url();
    b.stream_url = mock.stream_url();
    b.rest_url = mock.rest_url();
    b.key.api_key_env = k;
    b.key.secret_env = Some(s);
    b.order_timeout_ms = 500;
    b.reconnect_base_ms = 20;
    b.reconnect_max_ms = 200;
    cfg.market.binance.url = mock.stream_url();
    cfg.ingress.synthetic.count = signals;
    cfg.ingress.synthetic.rate_per_sec = rate;
    cfg.ingress.synthetic.duplicate_ratio = 0.0;
    cfg.risk.guard.max_orders_per_sec = 0.0;
    cfg.position.max_hold_ms = 300;
    cfg.run.progress = false;
    cfg
}

fn mock(api_key: &str) -> MockExchange {
    MockExchange::start(MockConfig {
        accounts: vec![MockAccount::hmac(api_key, SECRET, "1000000")],
        price_step_ms: 10,
        ..MockConfig::default()
    })
    .unwrap()
}

/// Every order at the mock appears once; entries = positions opened; exits = positions
/// closed; every symbol ends flat.
fn check_exchange_matches_run(mock: &MockExchange, api_key: &str, r: &tradeflow::report::RunReport, refusals: bool) {
    check_run_orders(mock, api_key, r, refusals, 0);
}

/// [`check_exchange_matches_run`] for the orders the mock accepted after its first `before`.
fn check_run_orders(
    mock: &MockExchange,
    api_key: &str,
    r: &tradeflow::report::RunReport,
    refusals: bool,
    before: usize,
) {
    let orders: Vec<_> = mock.orders().into_iter().skip(before).collect();
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for o in &orders {
        *per_id.entry(o.client_order_id.as_str()).or_default() += 1;
    }
    assert!(per_id.values().all(|&n| n == 1), "a client order id placed twice: {per_id:?}");
    let purpose = |o: &&tradeflow::binance::mock::AcceptedOrder| Purpose::of(&o.client_order_id, "tf");
    let entries = orders.iter().filter(|o| purpose(o) == Some(Purpose::Entry)).count() as u64;
    let exits = orders.iter().filter(|o| purpose(o) == Some(Purpose::Exit)).count() as u64;
    assert_eq!(entries + exits, orders.len() as u64, "every order is an entry or an exit of a signal");
    assert!(entries > 0, "some signals were approved and filled");
    assert_eq!(entries, r.tally.count(EventKind::PositionOpened), "one exchange order per opened position");
    assert_eq!(exits, r.tally.count(EventKind::PositionClosed), "one reduce-only order per closed position");
    assert_eq!(r.tally.count(EventKind::TradeExecuted), entries, "trade.executed is the entry fill only");
    assert_eq!(r.tally.count(EventKind::TradeExitExecuted), exits);
    for sym in ["BTCUSDT", "ETHUSDT", "SOLUSDT"] {
        if let Some(p) = mock.position(api_key, sym) {
            assert_eq!(p.amount.parse::<f64>().unwrap(), 0.0, "{sym} flat at the exchange: {p:?}");
        }
    }
    let b = r.binance_stats().expect("the binance venue ran");
    if refusals {
        // Refused requests were sent but placed nothing.
        assert!(b.sent - b.resends >= orders.len() as u64, "{b:?}");
    } else {
        assert_eq!(b.sent - b.resends, orders.len() as u64, "{b:?}");
    }
}

#[test]
fn paper_run_places_one_order_per_approved_signal_and_ends_flat() {
    let api_key = "paper-run-key";
    let mock = mock(api_key);
    let cfg = paper_config(&mock, api_key, 40, 40.0);
    let path = util::temp_path("paper-events.jsonl");
    let r = PipelineBuilder::new(cfg).events_out(path.display().to_string()).start().unwrap().wait();
    for l in std::fs::read_to_string(&path).unwrap().lines().filter(|l| l.contains("system.event_error")) {
        eprintln!("{l}");
    }
    assert!(r.drained, "shutdown drained");
    check_exchange_matches_run(&mock, api_key, &r, false);
    // Fees came from the user stream, not the estimate.
    assert_eq!(r.binance_stats().unwrap().estimated_commissions, 0);
}

#[test]
fn faults_during_a_paper_run_never_duplicate_an_order() {
    let api_key = "paper-fault-key";
    let mock = mock(api_key);
    let cfg = paper_config(&mock, api_key, 60, 30.0);
    let p = PipelineBuilder::new(cfg).start().unwrap();
    util::wait_count(&p, EventKind::PositionOpened, 3);
    mock.inject(Fault::Unknown, "order.place", 2);
    util::wait_count(&p, EventKind::PositionOpened, 8);
    mock.inject(Fault::Disconnect, "order.place", 1);
    util::wait_count(&p, EventKind::PositionOpened, 12);
    mock.inject(Fault::Reject { code: -2019, msg: "Margin is insufficient.".into() }, "order.place", 2);
    let r = p.wait();
    assert!(r.drained);
    check_exchange_matches_run(&mock, api_key, &r, true);
    // Whether each -1007 was resolved by `order.status` or overtaken by the user stream's fill
    // depends on timing; either way no order was placed twice (checked above).
    assert!(r.tally.count(EventKind::SystemEventError) >= 1, "the -2019 refusals were reported");
}

#[test]
fn two_runs_with_one_seed_against_one_exchange_both_trade_normally() {
    let api_key = "paper-twice-key";
    let mock = mock(api_key);
    let mut seen = 0;
    let config = || {
        let mut cfg = paper_config(&mock, api_key, 30, 60.0);
        // Long enough that a loaded machine never turns an order status-unknown by timeout.
        cfg.gateway.binance.order_timeout_ms = 5_000;
        cfg
    };
    for run in 1..=2 {
        let r = PipelineBuilder::new(config()).start().unwrap().wait();
        assert!(r.drained, "run {run} drained");
        check_run_orders(&mock, api_key, &r, false, seen);
        let b = r.binance_stats().unwrap();
        assert_eq!((b.unknown, b.status_queries, b.resends), (0, 0, 0), "run {run} traded like the first: {b:?}");
        let n = mock.orders().len();
        assert!(n > seen, "run {run} placed orders");
        seen = n;
    }
    let orders = mock.orders();
    let mut ids: Vec<&str> = orders.iter().map(|o| o.client_order_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), orders.len(), "no client order id of run 1 reused by run 2");

    // The twin: two runs with one fixed run id share their client order ids, so the second is a
    // resumed run: each of its orders is looked up at the exchange instead of placed again.
    // (Which signals risk approves depends on timing, so the resumed run may also place a few
    // orders the first did not: only the lookups are certain.)
    let twin = || {
        let mut cfg = config();
        cfg.gateway.binance.run_id = "resumed-run".into();
        let before = mock.orders().len();
        let r = PipelineBuilder::new(cfg).start().unwrap().wait();
        (r.binance_stats().unwrap(), mock.orders().len() - before)
    };
    let (first, placed) = twin();
    assert!(placed > 0 && first.status_queries == 0, "{first:?}");
    let (resumed, _) = twin();
    assert!(resumed.status_queries > 0, "the resumed run found its orders at the exchange: {resumed:?}");
    let orders = mock.orders();
    let mut ids: Vec<&str> = orders.iter().map(|o| o.client_order_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), orders.len(), "no order placed twice under one client order id");
}

/// Protective (algo) orders still open at the mock.
fn open_protective(mock: &MockExchange) -> usize {
    mock.orders().iter().filter(|o| o.is_algo && o.status == "NEW").count()
}

fn summary(r: &tradeflow::report::RunReport) -> String {
    let mut out = Vec::new();
    r.write_summary(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn protective_orders_are_cancelled_and_confirmed_at_shutdown() {
    let api_key = "paper-protect-key";
    let mock = mock(api_key);
    let mut cfg = paper_config(&mock, api_key, 30, 60.0);
    cfg.gateway.binance.protective_orders = true;
    let r = PipelineBuilder::new(cfg).start().unwrap().wait();
    let b = r.binance_stats().unwrap();
    assert!(r.drained, "{b:?}");
    assert!(b.protective_orders > 0 && b.protective_cancelled > 0, "{b:?}");
    assert_eq!(b.protective_open, 0, "{b:?}");
    assert_eq!(open_protective(&mock), 0, "every protective order of a closed position is gone: {:?}", mock.orders());
    assert!(!summary(&r).contains("ERROR"), "{}", summary(&r));
}

#[test]
fn protective_orders_an_exchange_never_cancels_are_reported_as_left_open() {
    let api_key = "paper-protect-stuck-key";
    let mock = mock(api_key);
    // The exchange stops reading cancels: nothing is cancelled and nothing answers.
    mock.inject(Fault::Ignore, "algoOrder.cancel", 100_000);
    let mut cfg = paper_config(&mock, api_key, 30, 60.0);
    cfg.gateway.binance.protective_orders = true;
    cfg.run.drain_timeout_ms = 1_500;
    let r = PipelineBuilder::new(cfg).start().unwrap().wait();
    let b = r.binance_stats().unwrap();
    assert!(!r.drained, "shutdown waited for the answers, and not forever: {b:?}");
    assert!(b.protective_open > 0 && b.protective_cancelled == 0, "{b:?}");
    assert!(open_protective(&mock) > 0, "the mock kept them open");
    let text = summary(&r);
    assert!(
        text.contains(&format!("ERROR: {} protective order(s) of closed positions left open", b.protective_open)),
        "{text}"
    );
}

/// Runs the `tradeflow` binary on `config/paper.toml` against `mock` with `TRADEFLOW_LOG=info`;
/// returns its stderr.
fn run_binary_logged(mock: &MockExchange, api_key: &str, signals: u32) -> String {
    let sets = [
        format!("gateway.binance.ws_api_url={}", mock.ws_api_url()),
        format!("gateway.binance.stream_url={}", mock.stream_url()),
        format!("gateway.binance.rest_url={}", mock.rest_url()),
        format!("market.binance.url={}", mock.stream_url()),
        "gateway.binance.reconnect_base_ms=20".into(),
        "gateway.binance.reconnect_max_ms=200".into(),
        // Long enough that a loaded machine never turns an order status-unknown by timeout.
        "gateway.binance.order_timeout_ms=5000".into(),
        "position.max_hold_ms=300".into(),
        "risk.guard.max_orders_per_sec=0".into(),
        "ingress.synthetic.duplicate_ratio=0".into(),
    ];
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tradeflow"));
    cmd.args(["run", "--config", concat!(env!("CARGO_MANIFEST_DIR"), "/config/paper.toml"), "--no-progress"])
        .args(["--signals", &signals.to_string(), "--rate", "40"])
        .env("TRADEFLOW_LOG", "info")
        .env("TRADEFLOW_LOG_FORMAT", "json")
        .env("BINANCE_API_KEY", api_key)
        .env("BINANCE_API_SECRET", SECRET);
    for s in &sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}\n{}", String::from_utf8_lossy(&out.stdout));
    stderr
}

#[test]
fn the_venue_logs_its_connection_lifecycle_and_never_per_order_in_steady_state() {
    let api_key = "paper-log-key";
    let mock = mock(api_key);
    // Steady state: the startup line, nothing per order.
    let quiet = run_binary_logged(&mock, api_key, 20);
    let orders = mock.orders().len();
    assert!(orders >= 4, "the run traded: {orders} orders");
    let venue_lines = quiet.lines().filter(|l| l.contains("binance:")).count();
    assert!(quiet.contains("exchange filters: BTCUSDT min_notional: config 100 but the exchange says 5"), "{quiet}");
    assert!(quiet.contains("binance: venue ready"), "{quiet}");
    assert!(venue_lines <= 2, "{venue_lines} venue lines for {orders} orders:\n{quiet}");
    assert!(!quiet.contains("connection lost"), "{quiet}");
    // An injected disconnect: the loss, the reconnect and the unknown order are logged.
    mock.inject(Fault::Disconnect, "order.place", 1);
    let noisy = run_binary_logged(&mock, api_key, 20);
    for want in ["binance: order-entry connection lost; reconnecting", "binance: order-entry connection back"] {
        assert!(noisy.contains(want), "{want:?} missing:\n{noisy}");
    }
    assert!(noisy.contains("\"level\":\"WARN\""), "the loss is a warning:\n{noisy}");
    if std::env::var_os("TF_SHOW_LOG").is_some() {
        eprintln!("{noisy}");
    }
    for log in [&quiet, &noisy] {
        assert!(!log.contains(SECRET), "the secret was logged:\n{log}");
    }
}

#[test]
fn risk_sizes_with_the_exchanges_filters_not_the_configs() {
    let api_key = "paper-filters-key";
    let mock = mock(api_key);
    let mut cfg = paper_config(&mock, api_key, 30, 60.0);
    // A config minimum notional no order reaches; the exchange's is 5.
    for i in &mut cfg.instruments {
        i.min_notional = 10_000_000.0;
    }
    let r = PipelineBuilder::new(cfg).start().unwrap().wait();
    assert!(r.drained);
    assert!(r.tally.count(EventKind::PositionOpened) > 0, "risk approved what the exchange accepts");
    check_exchange_matches_run(&mock, api_key, &r, false);
}
