//! Entries that arrive while the order-entry connection is down (`gateway.binance.
//! entries_while_disconnected`): refused at once (`"refuse"`, the default), or held up to
//! `entry_hold_ms` and sent once the connection is back (`"hold"`).
//!
//! The gap is made certain with an Ed25519 key: a connection is usable only once
//! `session.logon` is answered, and the mock answers the reconnect's logon late.
//! Real WebSocket on loopback; waits are bounded polls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use ed25519_dalek::SigningKey;
use tradeflow_binance::keys::{KeyKind, KeySpec};
use tradeflow_binance::mock::{Fault, MockAccount, MockConfig, MockExchange};
use tradeflow_core::{DenialCode, Event, EventKind, KillSwitch, RecordingCtx, Side, Stage};
use tradeflow_gateway::{BinanceVenueConfig, GatewayConfig, GatewayStage, WhileDisconnected};
use util::{entry, fills, price_now, rejections, send};

/// Writes the PKCS#8 PEM of the key with seed `[seed; 32]` to a fresh mode-0600 temp file;
/// returns the file and the public key (SPKI PEM).
fn write_key(tag: &str, seed: u8) -> (PathBuf, String) {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let key = SigningKey::from_bytes(&[seed; 32]);
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let public = key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    let path = std::env::temp_dir().join(format!("tf-bndisc-{tag}-{}.pem", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).unwrap();
    f.write_all(pem.as_bytes()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path, public)
}

struct Setup {
    mock: MockExchange,
    gw: GatewayStage,
    _kill: Arc<KillSwitch>,
}

fn start(tag: &str, seed: u8, venue: impl FnOnce(&mut BinanceVenueConfig)) -> Setup {
    let (file, public) = write_key(tag, seed);
    let api_key = format!("disconnected-{tag}");
    let mock = MockExchange::start(MockConfig {
        accounts: vec![MockAccount::ed25519(&api_key, &public, "100000")],
        price_step_ms: 20,
        ..MockConfig::default()
    })
    .unwrap();
    let env = format!("TF_TEST_BNDISC_{tag}_{}", std::process::id());
    std::env::set_var(&env, &api_key);
    let mut vc = BinanceVenueConfig {
        ws_api_url: mock.ws_api_url(),
        stream_url: mock.stream_url(),
        rest_url: mock.rest_url(),
        key: KeySpec { api_key_env: env, private_key_file: Some(file), ..KeySpec::new(KeyKind::Ed25519) },
        order_timeout_ms: 400,
        fill_wait_ms: 500,
        reconnect_base_ms: 20,
        reconnect_max_ms: 100,
        connect_timeout_ms: 3_000,
        ..BinanceVenueConfig::default()
    };
    venue(&mut vc);
    let cfg = GatewayConfig { venue: "binance".into(), binance: vc, ..GatewayConfig::default() };
    let kill = Arc::new(KillSwitch::new());
    let gw = GatewayStage::try_new(&cfg, util::catalog(), kill.clone()).unwrap();
    Setup { mock, gw, _kill: kill }
}

fn poll_until(
    gw: &mut GatewayStage,
    limit: Duration,
    mut done: impl FnMut(&GatewayStage, &[Event]) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + limit;
    let mut all = Vec::new();
    while Instant::now() < deadline && !done(gw, &all) {
        let mut ctx = RecordingCtx::new(0);
        gw.poll(&mut ctx);
        all.extend(ctx.take());
        std::thread::sleep(Duration::from_micros(200));
    }
    all
}

/// Drops the order-entry connection with the next logon answered `logon_delay_ms` late;
/// returns once the venue saw the connection go.
fn cut(s: &mut Setup, logon_delay_ms: u64) {
    s.mock.inject(Fault::Delay { ms: logon_delay_ms }, "session.logon", 1);
    s.mock.disconnect_all();
    poll_until(&mut s.gw, Duration::from_secs(5), |gw, _| !gw.venue_connected());
    assert!(!s.gw.venue_connected(), "the venue saw the connection drop");
}

#[test]
fn refuse_by_default_an_entry_arriving_while_disconnected() {
    let mut s = start("REFUSE", 11, |_| {});
    cut(&mut s, 1_500);
    let evs = send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, price_now(&s.mock), 0.01)));
    let r = rejections(&evs);
    assert_eq!(r.len(), 1, "refused at once: {evs:?}");
    assert_eq!(r[0].code, DenialCode::VenueRejected);
    assert!(evs.iter().any(|e| e.kind() == EventKind::SystemEventError), "{evs:?}");
    let st = s.gw.binance_stats().unwrap();
    assert_eq!((st.refused_disconnected, st.held), (1, 0), "{st:?}");
    poll_until(&mut s.gw, Duration::from_secs(5), |gw, _| gw.venue_connected());
    assert!(s.gw.venue_connected(), "reconnected");
    assert!(s.mock.orders().is_empty(), "nothing was placed");
}

#[test]
fn hold_sends_an_entry_once_the_connection_is_back() {
    let mut s = start("HOLD", 12, |v| {
        v.entries_while_disconnected = WhileDisconnected::Hold;
        v.entry_hold_ms = 10_000;
    });
    cut(&mut s, 1_500);
    let evs = send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, price_now(&s.mock), 0.01)));
    assert!(evs.is_empty(), "held, not refused: {evs:?}");
    assert!(!s.gw.venue_connected(), "still disconnected when it arrived");
    let evs = poll_until(&mut s.gw, Duration::from_secs(10), |_, e| !fills(e).is_empty() || !rejections(e).is_empty());
    assert_eq!(fills(&evs).len(), 1, "filled after the reconnect: {evs:?}");
    let st = s.gw.binance_stats().unwrap();
    assert_eq!((st.held, st.held_sent, st.refused_disconnected), (1, 1, 0), "{st:?}");
    assert_eq!(s.mock.orders().len(), 1);
}

#[test]
fn hold_refuses_an_entry_whose_hold_ran_out() {
    let mut s = start("EXPIRE", 13, |v| {
        v.entries_while_disconnected = WhileDisconnected::Hold;
        v.entry_hold_ms = 100;
    });
    cut(&mut s, 2_000);
    let evs = send(&mut s.gw, Event::ExecutionRequested(entry(1, Side::Buy, price_now(&s.mock), 0.01)));
    assert!(evs.is_empty(), "held first: {evs:?}");
    let evs = poll_until(&mut s.gw, Duration::from_secs(10), |_, e| !rejections(e).is_empty() || !fills(e).is_empty());
    assert_eq!(rejections(&evs).len(), 1, "refused once the hold ran out: {evs:?}");
    assert!(fills(&evs).is_empty());
    let st = s.gw.binance_stats().unwrap();
    assert_eq!((st.held, st.held_sent, st.refused_disconnected), (1, 0, 1), "{st:?}");
    poll_until(&mut s.gw, Duration::from_secs(5), |gw, _| gw.venue_connected());
    assert!(s.mock.orders().is_empty(), "the expired entry never reached the exchange");
}
