//! Exchange-side protective orders: placed after an entry fill; when one triggers at the
//! exchange, its fill is reported as the position's exit and the other one is cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tradeflow_binance::keys::{KeyKind, KeySpec};
use tradeflow_binance::mock::{MockAccount, MockConfig, MockExchange};
use tradeflow_core::{Event, ExitReason, FillPurpose, KillSwitch, Qty, RecordingCtx, Side, Stage};
use tradeflow_gateway::{BinanceVenueConfig, GatewayConfig, GatewayStage};
use util::entry;

const SECRET: &str = "protective-secret";

fn run_until(gw: &mut GatewayStage, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = Vec::new();
    loop {
        let mut ctx = RecordingCtx::new(0);
        gw.poll(&mut ctx);
        all.extend(ctx.take());
        if done(&all) || Instant::now() >= deadline {
            return all;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn fills(evs: &[Event]) -> Vec<tradeflow_core::TradeExecuted> {
    evs.iter().filter_map(Event::fill).copied().collect()
}

#[test]
fn a_triggered_protective_stop_is_reported_as_the_positions_exit() {
    let api_key = "protective-key";
    // Prices move only when set.
    let mock = MockExchange::start(MockConfig {
        accounts: vec![MockAccount::hmac(api_key, SECRET, "100000")],
        price_step_ms: 0,
        ..MockConfig::default()
    })
    .unwrap();
    assert!(mock.set_price("BTCUSDT", "40000.00"));
    let (k, s) = (format!("TF_PROT_KEY_{}", std::process::id()), format!("TF_PROT_SECRET_{}", std::process::id()));
    std::env::set_var(&k, api_key);
    std::env::set_var(&s, SECRET);
    let cfg = GatewayConfig {
        venue: "binance".into(),
        binance: BinanceVenueConfig {
            ws_api_url: mock.ws_api_url(),
            stream_url: mock.stream_url(),
            rest_url: mock.rest_url(),
            key: KeySpec { api_key_env: k, secret_env: Some(s), ..KeySpec::new(KeyKind::Hmac) },
            protective_orders: true,
            ..BinanceVenueConfig::default()
        },
        ..GatewayConfig::default()
    };
    let mut gw = GatewayStage::try_new(&cfg, util::catalog(), Arc::new(KillSwitch::new())).unwrap();

    // Entry: BUY 0.010 at 40 000 with SL 2 % (39 200) and TP 3 % (41 200).
    let mut ctx = RecordingCtx::new(0);
    gw.on_event(&Event::ExecutionRequested(entry(1, Side::Buy, 40_000.0, 0.01)), &mut ctx);
    let entry_fill = fills(&run_until(&mut gw, |e| !fills(e).is_empty()))[0];
    assert_eq!(entry_fill.purpose, FillPurpose::Entry);
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.binance_stats().unwrap().protective_orders < 2 && Instant::now() < deadline {
        run_until(&mut gw, |_| true);
    }
    let algos: Vec<_> = mock.orders().into_iter().filter(|o| o.is_algo).collect();
    assert_eq!(algos.len(), 2, "{algos:?}");
    let stop = algos.iter().find(|o| o.order_type == "STOP_MARKET").unwrap();
    let tp = algos.iter().find(|o| o.order_type == "TAKE_PROFIT_MARKET").unwrap();
    let entry_px = entry_fill.fill_price.to_f64();
    let trig = |o: &tradeflow_binance::mock::AcceptedOrder| o.trigger_price.parse::<f64>().unwrap();
    assert!(trig(stop) < entry_px && trig(tp) > entry_px, "{stop:?} {tp:?} entry {entry_px}");
    assert!(stop.reduce_only && tp.reduce_only && stop.side == "SELL" && stop.quantity == "0.010");
    assert_eq!(gw.binance_stats().unwrap().protective_orders, 2, "{:?}", gw.binance_stats());

    // The price falls through the stop: the exchange closes the position.
    assert!(mock.set_price("BTCUSDT", "39000.00"));
    let exit = fills(&run_until(&mut gw, |e| !fills(e).is_empty()));
    assert_eq!(exit.len(), 1, "{exit:?}");
    let x = exit[0];
    assert_eq!(
        (x.purpose, x.exit_reason, x.side, x.qty),
        (FillPurpose::Exit, ExitReason::StopLoss, Side::Sell, Qty(1_000_000))
    );
    assert_eq!(x.header.seq, entry_fill.header.seq, "the exit names the position's entry");
    assert!(x.commission_usd.units() > 0);
    assert_eq!(mock.position(api_key, "BTCUSDT").unwrap().amount.parse::<f64>().unwrap(), 0.0);
    assert_eq!(gw.binance_stats().unwrap().protective_fills, 1);
    // The take-profit was cancelled: a later rise does not open a short.
    let t0 = Instant::now();
    run_until(&mut gw, |_| t0.elapsed() > Duration::from_millis(300));
    assert!(mock.set_price("BTCUSDT", "42000.00"));
    let t0 = Instant::now();
    let later = run_until(&mut gw, |_| t0.elapsed() > Duration::from_millis(500));
    assert!(fills(&later).is_empty(), "{later:?}");
    assert_eq!(mock.position(api_key, "BTCUSDT").unwrap().amount.parse::<f64>().unwrap(), 0.0);
}
