//! The Binance venue against the mock exchange when connections age, streams drop, listen keys
//! lapse and pongs are slow; Ed25519 `session.logon`; exchange-side protective orders.
//!
//! Real WebSocket on loopback. Waits are bounded polls; nothing asserts on how long a step took.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use ed25519_dalek::SigningKey;
use tradeflow_binance::client_id::{client_order_id, Purpose};
use tradeflow_binance::keys::{KeyKind, KeySpec};
use tradeflow_binance::mock::{AcceptedOrder, Fault, MockAccount, MockConfig, MockExchange};
use tradeflow_core::{Event, ExitReason, KillSwitch, RecordingCtx, Side, Stage};
use tradeflow_gateway::{BinanceVenueConfig, GatewayConfig, GatewayStage};
use util::{catalog, entry, exit, fills, price_now, rejections, send};

const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

struct Setup {
    mock: MockExchange,
    gw: GatewayStage,
    api_key: String,
}

/// Sets `TF_TEST_BNRES_<tag>_<what>_<pid>` (each test passes its own tag) and returns its name.
/// The run id the venues of these tests use, so a test can name its client order ids.
const RUN_ID: &str = "test-run";

fn env_var(tag: &str, what: &str, value: &str) -> String {
    let name = format!("TF_TEST_BNRES_{tag}_{what}_{}", std::process::id());
    std::env::set_var(&name, value);
    name
}

fn venue_config(mock: &MockExchange, key: KeySpec) -> BinanceVenueConfig {
    BinanceVenueConfig {
        ws_api_url: mock.ws_api_url(),
        stream_url: mock.stream_url(),
        rest_url: mock.rest_url(),
        key,
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

fn gateway(vc: BinanceVenueConfig) -> Result<GatewayStage, String> {
    let cfg = GatewayConfig { venue: "binance".into(), binance: vc, ..GatewayConfig::default() };
    GatewayStage::try_new(&cfg, catalog(), Arc::new(KillSwitch::new())).map_err(|e| e.to_string())
}

/// A mock with one HMAC account and a gateway trading on it; `mock_cfg` and `venue` adjust
/// the two configurations.
fn start(tag: &str, mock_cfg: impl FnOnce(&mut MockConfig), venue: impl FnOnce(&mut BinanceVenueConfig)) -> Setup {
    let api_key = format!("resilience-{tag}");
    let mut mc = MockConfig {
        accounts: vec![MockAccount::hmac(&api_key, SECRET, "100000")],
        price_step_ms: 20,
        ..MockConfig::default()
    };
    mock_cfg(&mut mc);
    let mock = MockExchange::start(mc).unwrap();
    let key = KeySpec {
        api_key_env: env_var(tag, "KEY", &api_key),
        secret_env: Some(env_var(tag, "SECRET", SECRET)),
        ..KeySpec::new(KeyKind::Hmac)
    };
    let mut vc = venue_config(&mock, key);
    venue(&mut vc);
    let gw = gateway(vc).unwrap();
    Setup { mock, gw, api_key }
}

fn cid(purpose: Purpose, seq: u64) -> String {
    let mut s = String::new();
    client_order_id("tf", RUN_ID, purpose, format!("trace-{seq}").as_bytes(), &mut s);
    s
}

/// Polls the gateway until `done(events so far)` or `limit` has passed; returns every event.
fn run_for(gw: &mut GatewayStage, limit: Duration, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + limit;
    let mut all = Vec::new();
    while Instant::now() < deadline {
        let mut ctx = RecordingCtx::new(0);
        gw.poll(&mut ctx);
        all.extend(ctx.take());
        if done(&all) {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    all
}

/// Polls for `d`, whatever happens.
fn idle(gw: &mut GatewayStage, d: Duration) -> Vec<Event> {
    run_for(gw, d, |_| false)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Sends one entry and polls until its fill (or a refusal); returns every event.
fn entry_and_fill(gw: &mut GatewayStage, seq: u64, side: Side, p: f64) -> Vec<Event> {
    let mut evs = send(gw, Event::ExecutionRequested(entry(seq, side, p, 0.01)));
    evs.extend(run_for(gw, ms(3_000), |e| !fills(e).is_empty() || !rejections(e).is_empty()));
    evs
}

// ---- 1. Ed25519 -------------------------------------------------------------------------

/// Writes the PKCS#8 PEM of the key with seed `[seed; 32]` to a fresh temp file with mode
/// 0600; returns the file and the public key (SPKI PEM).
fn write_ed25519_key(tag: &str, seed: u8) -> (PathBuf, String) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let key = SigningKey::from_bytes(&[seed; 32]);
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let public = key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    let path = std::env::temp_dir().join(format!("tf-bnres-{tag}-{}.pem", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).unwrap();
    f.write_all(pem.as_bytes()).unwrap();
    set_mode(&path, 0o600);
    (path, public)
}

/// Sets a file's permission bits (whatever the umask).
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn ed25519_spec(tag: &str, api_key: &str, file: &Path) -> KeySpec {
    KeySpec {
        api_key_env: env_var(tag, "KEY", api_key),
        secret_env: None,
        private_key_file: Some(file.to_owned()),
        ..KeySpec::new(KeyKind::Ed25519)
    }
}

#[test]
fn an_ed25519_key_file_logs_on_and_trades_and_a_readable_one_is_refused() {
    let (file, public) = write_ed25519_key("ED", 7);
    let api_key = "resilience-ed25519";
    let mock = MockExchange::start(MockConfig {
        accounts: vec![MockAccount::ed25519(api_key, &public, "100000")],
        price_step_ms: 20,
        ..MockConfig::default()
    })
    .unwrap();
    // An Ed25519 order-entry connection is ready only once `session.logon` was accepted, and
    // startup waits for it: getting a gateway at all means the mock verified the logon.
    let mut gw = gateway(venue_config(&mock, ed25519_spec("ED", api_key, &file))).unwrap();
    let evs = entry_and_fill(&mut gw, 1, Side::Buy, price_now(&mock));
    let f = fills(&evs);
    assert_eq!(f.len(), 1, "{evs:?}");
    assert!(f[0].commission_usd.units() > 0);
    assert_eq!(mock.orders().len(), 1);
    assert_eq!(mock.orders_with_client_id(&cid(Purpose::Entry, 1)), 1);
    assert_eq!(mock.position(api_key, "BTCUSDT").unwrap().amount, "0.010");
    // The listen key was asked for on the logged-on session and its stream carried the fill.
    assert_eq!(gw.binance_stats().unwrap().estimated_commissions, 0);
    drop(gw);

    // The same file readable by group and others: refused before it is read.
    set_mode(&file, 0o644);
    let e = gateway(venue_config(&mock, ed25519_spec("ED", api_key, &file))).unwrap_err();
    let _ = std::fs::remove_file(&file);
    assert!(e.contains("chmod 600") && e.contains("mode 644"), "{e}");
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert_eq!(mock.orders().len(), 1, "nothing more was sent");
}

// ---- 2. Proactive reconnect -------------------------------------------------------------

#[test]
fn the_order_entry_connection_is_replaced_before_the_exchange_cuts_it_without_a_gap() {
    // The mock cuts every WebSocket connection 1.5 s after it opened; the venue replaces its
    // order-entry connection after 1 s. Had it not replaced it in time, the cut would show as
    // an order-entry reconnect (and entries sent while it lasts are refused as Disconnected).
    // The user data stream is reopened at an idle moment after the same age; should the mock
    // cut it first, it reconnects, which costs at most an estimated commission, so
    // commissions are not checked here.
    let mut s = start("AGE", |m| m.max_connection_ms = 1_500, |v| v.max_connection_age_s = 1);
    let p = price_now(&s.mock);
    let t0 = Instant::now();
    let mut all = Vec::new();
    let mut seq = 0;
    while t0.elapsed() < ms(2_600) {
        seq += 1;
        let turn = Instant::now();
        let side = if seq % 2 == 1 { Side::Buy } else { Side::Sell };
        all.extend(entry_and_fill(&mut s.gw, seq, side, p));
        all.extend(idle(&mut s.gw, ms(100).saturating_sub(turn.elapsed())));
    }
    assert!(seq >= 10, "kept trading across two connection ages ({seq} entries)");
    assert!(rejections(&all).is_empty(), "no entry refused (Disconnected or otherwise): {all:?}");
    assert!(!all.iter().any(|e| matches!(e, Event::SystemEventError(_))), "{all:?}");
    assert_eq!(fills(&all).len(), seq as usize);
    for i in 1..=seq {
        assert_eq!(s.mock.orders_with_client_id(&cid(Purpose::Entry, i)), 1, "entry {i}");
    }
    assert_eq!(s.mock.orders().len(), seq as usize);
    let st = s.gw.binance_stats().unwrap();
    assert_eq!(st.reconnects, 0, "the exchange never had to cut the order-entry connection: {st:?}");
    assert_eq!((st.resends, st.unknown_given_up), (0, 0), "{st:?}");
}

#[test]
fn the_user_stream_is_reopened_before_the_exchange_cuts_it() {
    // The mock cuts connections 1.5 s after they open; the venue reopens an idle user stream
    // after 1 s, so the exchange never gets to cut it and every fill keeps its real commission.
    let mut s = start("USERAGE", |m| m.max_connection_ms = 1_500, |v| v.max_connection_age_s = 1);
    let p = price_now(&s.mock);
    for seq in 1..=3 {
        assert_eq!(fills(&entry_and_fill(&mut s.gw, seq, Side::Buy, p)).len(), 1);
        idle(&mut s.gw, ms(1_100));
    }
    let st = s.gw.binance_stats().unwrap();
    assert!(st.user_stream_renewals >= 2, "{st:?}");
    assert_eq!(st.user_stream_reconnects, 0, "the exchange never cut the stream: {st:?}");
    assert_eq!(st.estimated_commissions, 0, "{st:?}");
}

// ---- 3. User stream dropped -------------------------------------------------------------

#[test]
fn a_fill_during_a_user_stream_drop_is_reported_once_and_the_stream_comes_back() {
    let mut s = start("DROP", |_| {}, |_| {});
    let p = price_now(&s.mock);
    assert_eq!(fills(&entry_and_fill(&mut s.gw, 1, Side::Buy, p)).len(), 1);
    // The stream closes before the order goes out, so its ORDER_TRADE_UPDATE is never
    // delivered: the fill comes from the order's answer (and the `order.status` sent when the
    // stream is back), with the commission estimated.
    s.mock.inject(Fault::DropUserStream, "", 1); // acts at once, whatever the method
    let mut evs = send(&mut s.gw, Event::ExecutionRequested(entry(2, Side::Buy, p, 0.01)));
    evs.extend(run_for(&mut s.gw, ms(3_000), |e| !fills(e).is_empty()));
    // Longer than `fill_wait_ms`: a second report would have come by now.
    evs.extend(idle(&mut s.gw, ms(700)));
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    assert!(rejections(&evs).is_empty(), "{evs:?}");
    assert_eq!(s.mock.orders_with_client_id(&cid(Purpose::Entry, 2)), 1);
    let st = s.gw.binance_stats().unwrap();
    assert!(st.user_stream_reconnects >= 1, "{st:?}");
    assert_eq!(st.estimated_commissions, 1, "{st:?}");
    assert_eq!(st.reconnects, 0, "order entry was not affected: {st:?}");
    // The stream is back: the next fill carries the exchange's commission again.
    let evs = entry_and_fill(&mut s.gw, 3, Side::Sell, p);
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    assert_eq!(s.gw.binance_stats().unwrap().estimated_commissions, 1);
    assert_eq!(s.mock.position(&s.api_key, "BTCUSDT").unwrap().amount, "0.010");
}

// ---- 4. Listen key renewal and expiry ---------------------------------------------------

#[test]
fn the_listen_key_is_renewed_before_it_lapses() {
    // A key lives 1.5 s unless pinged; the venue pings every second. Were the key to lapse,
    // the venue would need a new one, and the mock answers the next `userDataStream.start`
    // only after the test is over: the user stream would stay down and the fill below would
    // have to estimate its commission.
    let mut s = start("RENEW", |m| m.listen_key_ttl_ms = 1_500, |v| v.listen_key_renew_s = 1);
    s.mock.inject(Fault::Delay { ms: 5_000 }, "userDataStream.start", 1);
    let evs = idle(&mut s.gw, ms(2_300));
    assert!(evs.is_empty(), "{evs:?}");
    let evs = entry_and_fill(&mut s.gw, 1, Side::Buy, price_now(&s.mock));
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    let st = s.gw.binance_stats().unwrap();
    assert_eq!(st.estimated_commissions, 0, "the commission came from the stream on the renewed key: {st:?}");
    assert_eq!(st.user_stream_reconnects, 0, "{st:?}");
}

#[test]
fn a_lapsed_listen_key_is_replaced_and_fills_keep_their_commission() {
    // Moving the exchange's clock past the key's lifetime makes it lapse once: the mock sends
    // `listenKeyExpired`, closes the stream and forgets the key (connecting with it again is
    // refused with -1125). The key the venue gets next was made on the moved clock and lives
    // on after the clock is put back.
    let mut s = start("EXPIRE", |m| m.listen_key_ttl_ms = 60_000, |_| {});
    s.mock.set_clock_skew_ms(61_000);
    // The mock's ticker expires keys every 20 ms; then time for the new key and its stream.
    idle(&mut s.gw, ms(300));
    s.mock.set_clock_skew_ms(0);
    idle(&mut s.gw, ms(100));
    let evs = entry_and_fill(&mut s.gw, 1, Side::Buy, price_now(&s.mock));
    let f = fills(&evs);
    assert_eq!(f.len(), 1, "{evs:?}");
    assert!(f[0].commission_usd.units() > 0);
    let st = s.gw.binance_stats().unwrap();
    assert_eq!(st.estimated_commissions, 0, "the fill came over a stream on the new key: {st:?}");
    assert_eq!(s.mock.orders_with_client_id(&cid(Purpose::Entry, 1)), 1);
}

// ---- 5. Protective orders ---------------------------------------------------------------

fn algo_orders(mock: &MockExchange) -> Vec<AcceptedOrder> {
    mock.orders().into_iter().filter(|o| o.is_algo).collect()
}

fn num(text: &str) -> f64 {
    text.parse().unwrap()
}

/// Checks the two protective orders of the entry `seq` filled at `fill_px` for `qty`.
fn assert_protective(mock: &MockExchange, seq: u64, entry_side: Side, fill_px: f64, qty: &str) {
    let algos = algo_orders(mock);
    let by_id = |id: String| algos.iter().find(|o| o.client_order_id == id);
    let stop = by_id(cid(Purpose::Stop, seq)).expect("stop order");
    let tp = by_id(cid(Purpose::TakeProfit, seq)).expect("take-profit order");
    let close_side = if entry_side == Side::Buy { "SELL" } else { "BUY" };
    for (o, kind) in [(stop, "STOP_MARKET"), (tp, "TAKE_PROFIT_MARKET")] {
        assert_eq!(o.order_type, kind, "{o:?}");
        assert_eq!((o.side.as_str(), o.quantity.as_str(), o.reduce_only), (close_side, qty, true), "{o:?}");
        assert_eq!(o.status, "NEW", "{o:?}");
    }
    // SL 2 %, TP 3 % from the fill, within a tick (0.10).
    let sign = if entry_side == Side::Buy { 1.0 } else { -1.0 };
    let (stop_px, tp_px) = (num(&stop.trigger_price), num(&tp.trigger_price));
    assert!(sign * (fill_px - stop_px) > 0.0 && sign * (tp_px - fill_px) > 0.0, "{stop:?} {tp:?} fill {fill_px}");
    assert!((stop_px - fill_px * (1.0 - sign * 0.02)).abs() <= 0.1, "{stop:?} fill {fill_px}");
    assert!((tp_px - fill_px * (1.0 + sign * 0.03)).abs() <= 0.1, "{tp:?} fill {fill_px}");
}

/// Polls until both protective orders of `seq` have `status`; returns their statuses.
fn wait_algo_status(s: &mut Setup, seq: u64, status: &str) -> Vec<String> {
    let ids = [cid(Purpose::Stop, seq), cid(Purpose::TakeProfit, seq)];
    let statuses = |m: &MockExchange| -> Vec<String> {
        algo_orders(m).into_iter().filter(|o| ids.contains(&o.client_order_id)).map(|o| o.status).collect()
    };
    let deadline = Instant::now() + ms(3_000);
    while Instant::now() < deadline && !(statuses(&s.mock).len() == 2 && statuses(&s.mock).iter().all(|x| x == status))
    {
        idle(&mut s.gw, ms(5));
    }
    statuses(&s.mock)
}

/// An entry of 0.01 and its two protective orders.
fn open_protected(s: &mut Setup, seq: u64, side: Side) {
    let evs = entry_and_fill(&mut s.gw, seq, side, price_now(&s.mock));
    let f = fills(&evs);
    assert_eq!(f.len(), 1, "{evs:?}");
    assert_eq!(wait_algo_status(s, seq, "NEW").len(), 2, "{:?}", s.mock.orders());
    assert_protective(&s.mock, seq, side, f[0].fill_price.to_f64(), "0.010");
}

/// The exit of the position `open_protected(seq, side)` opened.
fn close_protected(s: &mut Setup, seq: u64, side: Side) {
    let close = if side == Side::Buy { Side::Sell } else { Side::Buy };
    send(&mut s.gw, Event::ExitRequest(exit(seq, close, price_now(&s.mock), 0.01, ExitReason::Manual)));
    let evs = run_for(&mut s.gw, ms(3_000), |e| !fills(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
}

/// A mock whose price moves only when told to, so no protective order triggers by chance.
fn start_protective(tag: &str) -> Setup {
    start(tag, |m| m.price_step_ms = 0, |v| v.protective_orders = true)
}

#[test]
fn protective_orders_bracket_each_entry_fill() {
    let mut s = start_protective("PROTECT");
    open_protected(&mut s, 1, Side::Buy);
    close_protected(&mut s, 1, Side::Buy);
    open_protected(&mut s, 2, Side::Sell);
    close_protected(&mut s, 2, Side::Sell);
    assert_eq!(s.mock.position(&s.api_key, "BTCUSDT").unwrap().amount, "0.000");
    assert_eq!(s.mock.orders().len(), 8, "two entries, two exits, four algo orders: {:?}", s.mock.orders());
    let st = s.gw.binance_stats().unwrap();
    assert_eq!(st.protective_orders, 4, "four algo orders accepted: {st:?}");
}

#[test]
fn protective_orders_are_cancelled_by_the_exit() {
    let mut s = start_protective("PROTECT_CANCEL");
    for (seq, side) in [(1, Side::Buy), (2, Side::Sell)] {
        open_protected(&mut s, seq, side);
        close_protected(&mut s, seq, side);
        let st = wait_algo_status(&mut s, seq, "CANCELED");
        assert_eq!(st, ["CANCELED", "CANCELED"], "{:?}", s.mock.orders());
    }
}

// ---- 6. Slow pongs ----------------------------------------------------------------------

#[test]
fn a_pong_slower_than_the_keepalive_but_inside_the_idle_timeout_keeps_the_connections() {
    // keepalive 1 s: after 1 s of silence each connection pings; the idle timeout is 4 × that.
    // The mock sends nothing unasked (its own pings are minutes apart), so the pongs are the
    // only frames the connections receive: without working keepalive pings both would time
    // out at 4 s. The first pong of each connection comes 1.5 s late.
    let mut s = start("PONG", |_| {}, |v| v.keepalive_s = 1);
    s.mock.inject(Fault::SlowPong { ms: 1_500 }, "", 2); // any connection's next two pongs
    let evs = idle(&mut s.gw, ms(4_300));
    assert!(evs.is_empty(), "{evs:?}");
    let st = s.gw.binance_stats().unwrap();
    assert_eq!((st.reconnects, st.user_stream_reconnects), (0, 0), "{st:?}");
    assert!(s.gw.venue_connected());
    let evs = entry_and_fill(&mut s.gw, 1, Side::Buy, price_now(&s.mock));
    assert_eq!(fills(&evs).len(), 1, "{evs:?}");
    assert_eq!(s.gw.binance_stats().unwrap().estimated_commissions, 0, "the user stream is alive too");
}
