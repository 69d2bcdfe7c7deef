//! Reference prices from Binance USDⓈ-M market streams (or the mock exchange's): one
//! combined-stream WebSocket for every catalog symbol, polled without blocking.
//!
//! `markPrice` → `<base>/market/stream?streams=btcusdt@markPrice@1s/…` (reference = mark price);
//! `bookTicker` → `<base>/public/stream?streams=btcusdt@bookTicker/…` (reference = bid/ask mid).
//! A lost connection is retried with backoff and jitter; until the first update of a symbol
//! arrives nothing is published for it (risk refuses signals without a price).

use std::time::{Duration, Instant};

use tradeflow_binance::codec;
use tradeflow_binance::ws::{Backoff, WsClient, WsOptions, WsState};
use tradeflow_core::{Catalog, Price};

use crate::config::{BinanceMarketConfig, BinanceStream};

/// Frames one poll reads at most (each gives at most one tick).
pub const MAX_UPDATES_PER_POLL: usize = 64;

/// Counters of the feed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// Updates turned into ticks.
    pub updates: u64,
    /// Frames that could not be decoded or named an unknown symbol.
    pub ignored: u64,
    /// Reconnects after a lost connection.
    pub reconnects: u64,
}

/// The stream connection and the latest prices.
pub struct BinanceFeed {
    url: String,
    opts: WsOptions,
    ws: Option<WsClient>,
    retry_at: Instant,
    backoff: Backoff,
    symbols: Vec<String>,
    prices: Vec<Option<Price>>,
    frames: Vec<String>,
    stats: FeedStats,
}

impl std::fmt::Debug for BinanceFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceFeed").field("url", &self.url).field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// The combined-stream URL for `symbols`.
pub fn stream_url(base: &str, stream: BinanceStream, symbols: &[String]) -> String {
    let (route, suffix) = match stream {
        BinanceStream::MarkPrice => ("market", "@markPrice@1s"),
        BinanceStream::BookTicker => ("public", "@bookTicker"),
    };
    let names: Vec<String> = symbols.iter().map(|s| format!("{}{suffix}", s.to_ascii_lowercase())).collect();
    format!("{}/{route}/stream?streams={}", base.trim_end_matches('/'), names.join("/"))
}

impl BinanceFeed {
    /// A feed for every catalog symbol (connects on the first poll).
    pub fn new(cfg: &BinanceMarketConfig, catalog: &Catalog) -> Result<BinanceFeed, String> {
        let symbols: Vec<String> = catalog.instruments().iter().map(|s| s.symbol.clone()).collect();
        let ca = match &cfg.ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| format!("market.binance.ca_file {}: {e}", p.display()))?),
            None => None,
        };
        let opts = WsOptions {
            connect_timeout: Duration::from_secs(10),
            max_message_bytes: 1 << 20,
            extra_root_pem: ca,
            keepalive_ping: Some(Duration::from_millis(cfg.idle_timeout_ms / 2).max(Duration::from_millis(1))),
            idle_timeout: Some(Duration::from_millis(cfg.idle_timeout_ms)),
        };
        let now = Instant::now();
        Ok(BinanceFeed {
            url: stream_url(&cfg.url, cfg.stream, &symbols),
            opts,
            ws: None,
            retry_at: now,
            backoff: Backoff::new(
                Duration::from_millis(cfg.reconnect_base_ms),
                Duration::from_millis(cfg.reconnect_max_ms),
                u64::from(std::process::id()),
            ),
            prices: vec![None; symbols.len()],
            symbols,
            frames: Vec::with_capacity(MAX_UPDATES_PER_POLL),
            stats: FeedStats::default(),
        })
    }

    /// The latest price of instrument `i`.
    pub fn price(&self, i: usize) -> Option<Price> {
        self.prices.get(i).copied().flatten()
    }

    /// Counters so far.
    pub fn stats(&self) -> FeedStats {
        self.stats
    }

    /// The stream URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drives the connection and calls `on_price(instrument, price)` for each update read now.
    pub fn poll(&mut self, now: Instant, on_price: &mut dyn FnMut(usize, Price)) -> usize {
        let Some(ws) = self.ws.as_mut() else {
            if now >= self.retry_at {
                match WsClient::connect(&self.url, &self.opts, now) {
                    Ok(ws) => self.ws = Some(ws),
                    Err(_) => self.retry_at = now + self.backoff.next_delay(),
                }
            }
            return 0;
        };
        let frames = &mut self.frames;
        frames.clear();
        let res = match ws.poll(now) {
            Ok(WsState::Open) => ws.recv(now, &mut |t| frames.push(t.to_owned())),
            Ok(_) => Ok(0),
            Err(e) => Err(e),
        };
        if res.is_err() {
            if let Some(mut ws) = self.ws.take() {
                ws.close();
            }
            self.stats.reconnects += 1;
            self.retry_at = now + self.backoff.next_delay();
            return 0;
        }
        if !self.frames.is_empty() {
            self.backoff.reset();
        }
        let mut n = 0;
        for t in &self.frames {
            match codec::market_update(t) {
                Ok(Some(u)) => match self.symbols.iter().position(|s| s.as_str() == u.symbol.as_ref()) {
                    Some(i) if u.reference_price() > 0 => {
                        let p = Price(u.reference_price());
                        self.prices[i] = Some(p);
                        self.stats.updates += 1;
                        on_price(i, p);
                        n += 1;
                    }
                    _ => self.stats.ignored += 1,
                },
                Ok(None) => {}
                Err(_) => self.stats.ignored += 1,
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_stream_urls_follow_binance_routing() {
        let syms = vec!["BTCUSDT".to_owned(), "ETHUSDT".to_owned()];
        assert_eq!(
            stream_url("wss://fstream.binance.com/", BinanceStream::MarkPrice, &syms),
            "wss://fstream.binance.com/market/stream?streams=btcusdt@markPrice@1s/ethusdt@markPrice@1s"
        );
        assert_eq!(
            stream_url("ws://127.0.0.1:9100", BinanceStream::BookTicker, &syms[..1]),
            "ws://127.0.0.1:9100/public/stream?streams=btcusdt@bookTicker"
        );
    }
}
