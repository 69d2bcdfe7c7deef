//! The Binance market feed against the mock exchange's streams over loopback WebSocket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tradeflow_binance::filters::parse_units;
use tradeflow_binance::mock::{MockConfig, MockExchange};
use tradeflow_core::{Catalog, InstrumentSpec, Price};
use tradeflow_market::{BinanceFeed, BinanceMarketConfig, BinanceStream};

fn catalog() -> Catalog {
    let specs = vec![InstrumentSpec::with_unit_filters("BTCUSDT"), InstrumentSpec::with_unit_filters("ETHUSDT")];
    Catalog::try_new(specs, vec!["m".into()], vec!["N".into()]).unwrap()
}

/// Polls until `n` updates arrived (or 10 s); returns (instrument, price) pairs.
fn collect(feed: &mut BinanceFeed, n: usize) -> Vec<(usize, Price)> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < n && Instant::now() < deadline {
        feed.poll(Instant::now(), &mut |i, p| got.push((i, p)));
        std::thread::sleep(Duration::from_millis(1));
    }
    got
}

#[test]
fn mark_price_and_book_ticker_streams_feed_prices_for_every_symbol() {
    for stream in [BinanceStream::MarkPrice, BinanceStream::BookTicker] {
        // Prices move only when set, so each update can be checked against the mock.
        let mock = MockExchange::start(MockConfig { price_step_ms: 0, ..MockConfig::default() }).unwrap();
        assert!(mock.set_price("BTCUSDT", "50000.00"));
        assert!(mock.set_price("ETHUSDT", "2500.00"));
        let cfg = BinanceMarketConfig { url: mock.stream_url(), stream, ..BinanceMarketConfig::default() };
        let mut feed = BinanceFeed::new(&cfg, &catalog()).unwrap();
        let got = collect(&mut feed, 2);
        assert!(got.len() >= 2, "{stream:?}: {got:?} {:?}", feed.stats());
        let btc = feed.price(0).unwrap().units();
        let eth = feed.price(1).unwrap().units();
        match stream {
            BinanceStream::MarkPrice => {
                assert_eq!(btc, parse_units("50000").unwrap());
                assert_eq!(eth, parse_units("2500").unwrap());
            }
            BinanceStream::BookTicker => {
                // The mid of bid = price and ask = price + one tick.
                let (b, tick) = (parse_units("50000").unwrap(), parse_units("0.10").unwrap());
                assert_eq!(btc, b + tick / 2);
                assert!(eth > parse_units("2500").unwrap() && eth < parse_units("2500.01").unwrap());
            }
        }
        assert_eq!(feed.stats().ignored, 0);
    }
}

#[test]
fn the_feed_reconnects_after_the_exchange_drops_it() {
    let mock = MockExchange::start(MockConfig { price_step_ms: 5, ..MockConfig::default() }).unwrap();
    let cfg = BinanceMarketConfig {
        url: mock.stream_url(),
        reconnect_base_ms: 10,
        reconnect_max_ms: 50,
        ..BinanceMarketConfig::default()
    };
    let mut feed = BinanceFeed::new(&cfg, &catalog()).unwrap();
    assert!(!collect(&mut feed, 5).is_empty());
    mock.disconnect_all();
    let deadline = Instant::now() + Duration::from_secs(10);
    while feed.stats().reconnects == 0 && Instant::now() < deadline {
        feed.poll(Instant::now(), &mut |_, _| {});
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(feed.stats().reconnects, 1);
    let before = feed.stats().updates;
    collect(&mut feed, 5);
    assert!(feed.stats().updates >= before + 5, "updates resumed: {:?}", feed.stats());
}

#[test]
fn an_unreachable_stream_is_retried_without_blocking() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = BinanceMarketConfig { url: format!("ws://127.0.0.1:{port}"), ..BinanceMarketConfig::default() };
    let mut feed = BinanceFeed::new(&cfg, &catalog()).unwrap();
    for _ in 0..50 {
        assert_eq!(feed.poll(Instant::now(), &mut |_, _| {}), 0);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(feed.price(0).is_none(), "no price is invented");
}
