//! A local mock of Binance USDⓈ-M futures that speaks the real protocol, for tests and
//! dry runs: the WebSocket API (`/ws-fapi/v1`), user-data streams (`/private/ws/<listenKey>`),
//! market streams (`/market/ws/<s>@markPrice@1s`, `/public/ws/<s>@bookTicker`, combined
//! `/stream?streams=…`), the REST calls the futures WebSocket API lacks (`/fapi/v1/time`,
//! `exchangeInfo`, `leverage`, `listenKey`), and control endpoints (`/mock/orders`,
//! `/mock/fault`, `/mock/price`, `/mock/disconnect`).
//!
//! - Threads: one listener thread, one thread per connection, one price thread. Everything
//!   runs on one TCP port (`127.0.0.1:0` by default).
//! - State: one mutex around the whole exchange (orders, positions, prices); events reach stream connections
//!   through channels, in the order the engine produced them.
//! - Faithful parts: signature payload and verification (HMAC hex, Ed25519 base64),
//!   `session.logon` (Ed25519 only), timing security, rate limits with 429/418, futures
//!   filters and error codes, `-4120` for conditional types on `order.place`, algo orders,
//!   duplicate client ids (open orders and any order of the last 10 minutes), one-way
//!   positions with fees and realized PnL, ping/pong and connection lifetime.
//! - Simplifications: one price per symbol (mark = last = fill reference), infinite liquidity
//!   (orders fill in one trade), one fee rate for makers and takers, no margin checks,
//!   orders and weight counted per mock rather than per account, no live `SUBSCRIBE` on
//!   market streams, a 418 ban lasts until the window of the 429 ends.
//!
//! ```no_run
//! use tradeflow_binance::mock::{MockConfig, MockExchange};
//! let mock = MockExchange::start(MockConfig::default())?;
//! println!("{} {}", mock.ws_api_url(), mock.rest_url());
//! # Ok::<(), std::io::Error>(())
//! ```

mod account;
mod algo;
mod auth;
mod config;
mod conn;
mod engine;
mod events;
mod fault;
mod http;
mod hub;
mod limits;
mod orders;
mod params;
mod rest;
mod state;
mod streams;
mod wsapi;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::Serialize;

pub use config::{MockAccount, MockConfig, MockLimits, MockSymbol, TEST_API_KEY, TEST_HMAC_SECRET};
pub use fault::{Fault, DEFAULT_FAULT_METHOD};

use engine::{Accepted, Engine};
use events::usdt;
use state::{lock, Shared};

/// An order the exchange accepted, as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedOrder {
    /// Symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// `BUY` or `SELL`.
    pub side: String,
    /// `MARKET`, `LIMIT`, `STOP_MARKET`, `TAKE_PROFIT_MARKET`.
    pub order_type: String,
    /// Quantity text (`0` for a `closePosition` algo order).
    pub quantity: String,
    /// Limit price text (`0` for MARKET and algo orders).
    pub price: String,
    /// Trigger price text of an algo order (`0` otherwise).
    pub trigger_price: String,
    /// `newClientOrderId` / `clientAlgoId` (generated when the client sent none).
    pub client_order_id: String,
    /// Reduce-only (or close-position).
    pub reduce_only: bool,
    /// `orderId`, or `algoId` for an algo order.
    pub order_id: i64,
    /// Order status (`NEW`, `FILLED`, …) or algo status (`NEW`, `FINISHED`, …).
    pub status: String,
    /// Average fill price text.
    pub avg_price: String,
    /// Whether this is an algo (conditional) order.
    pub is_algo: bool,
    /// For an order placed by a triggered algo order: that algo order's id.
    pub parent_algo_id: Option<i64>,
}

/// A position of one account in one symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MockPosition {
    /// Signed amount (negative = short), step decimals.
    pub amount: String,
    /// Average entry price (8 decimals, `0` when flat).
    pub entry_price: String,
    /// Realized PnL so far, before fees (USDT).
    pub realized_pnl: String,
    /// Fees paid so far (USDT).
    pub fees: String,
    /// Wallet balance of the account (USDT).
    pub wallet_balance: String,
}

/// A running mock exchange. Stops on [`MockExchange::shutdown`] or drop.
#[derive(Debug)]
pub struct MockExchange {
    shared: Arc<Shared>,
    addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

impl MockExchange {
    /// Binds the listener and starts the listener and price threads.
    pub fn start(cfg: MockConfig) -> std::io::Result<MockExchange> {
        let listener = TcpListener::bind(cfg.bind)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(cfg)?);
        let s = shared.clone();
        let accept =
            std::thread::Builder::new().name("mock-listen".into()).spawn(move || http::accept_loop(&listener, &s))?;
        let s = shared.clone();
        let ticker = std::thread::Builder::new().name("mock-price".into()).spawn(move || state::run_ticker(&s))?;
        Ok(MockExchange { shared, addr, threads: vec![accept, ticker] })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:P/ws-fapi/v1`.
    pub fn ws_api_url(&self) -> String {
        format!("ws://{}/ws-fapi/v1", self.addr)
    }

    /// `http://127.0.0.1:P`.
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:P` (append `/market/ws/…`, `/private/ws/…`).
    pub fn stream_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Every accepted order, in arrival order, with its current state.
    pub fn orders(&self) -> Vec<AcceptedOrder> {
        accepted_orders(&lock(&self.shared.engine))
    }

    /// How many accepted client-sent orders (regular or algo) carry this client id; orders
    /// placed by triggered algo orders are not counted.
    pub fn orders_with_client_id(&self, id: &str) -> usize {
        self.orders().iter().filter(|o| o.client_order_id == id && o.parent_algo_id.is_none()).count()
    }

    /// Queues `fault` for the next `count` requests of WebSocket API `method`.
    pub fn inject(&self, fault: Fault, method: &str, count: u32) {
        self.shared.inject(fault, method, count);
    }

    /// Sets a symbol's price (decimal text) and runs matching and triggers at once.
    pub fn set_price(&self, symbol: &str, price: &str) -> bool {
        self.shared.set_price(symbol, price)
    }

    /// The current price of a symbol.
    pub fn price(&self, symbol: &str) -> Option<String> {
        let e = lock(&self.shared.engine);
        let sym = e.symbol(symbol).ok()?;
        Some(e.symbols[sym].px(e.symbols[sym].price))
    }

    /// The position of the account `api_key` in `symbol`.
    pub fn position(&self, api_key: &str, symbol: &str) -> Option<MockPosition> {
        let e = lock(&self.shared.engine);
        let (acct, sym) = (e.account(api_key)?, e.symbol(symbol).ok()?);
        let a = &e.accounts[acct];
        let p = a.positions[sym];
        Some(MockPosition {
            amount: e.symbols[sym].qty(p.amt),
            entry_price: usdt(p.entry),
            realized_pnl: usdt(p.realized),
            fees: usdt(p.fees),
            wallet_balance: usdt(a.balance),
        })
    }

    /// Moves the server clock: `serverTime` = wall clock + `skew_ms`.
    pub fn set_clock_skew_ms(&self, skew_ms: i64) {
        self.shared.skew_ms.store(skew_ms, Ordering::Relaxed);
    }

    /// The server's time (epoch ms).
    pub fn server_time_ms(&self) -> i64 {
        self.shared.now_ms()
    }

    /// Closes every WebSocket connection (clients see the TCP connection end).
    pub fn disconnect_all(&self) {
        self.shared.disconnect_all();
    }

    /// Stops every thread and closes the listener.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.shared.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
        let conns: Vec<JoinHandle<()>> = lock(&self.shared.threads).drain(..).collect();
        for h in conns {
            let _ = h.join();
        }
    }
}

impl Drop for MockExchange {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The public view of the accepted orders.
fn accepted_orders(e: &Engine) -> Vec<AcceptedOrder> {
    e.accepted
        .iter()
        .map(|a| match *a {
            Accepted::Order(i) => {
                let o = &e.orders[i];
                let s = &e.symbols[o.sym];
                AcceptedOrder {
                    symbol: s.name.clone(),
                    side: o.side.as_str().into(),
                    order_type: if o.market { "MARKET" } else { "LIMIT" }.into(),
                    quantity: s.qty(o.qty),
                    price: s.px(o.price),
                    trigger_price: s.px(o.stop_price),
                    client_order_id: o.client_id.clone(),
                    reduce_only: o.reduce_only,
                    order_id: o.id,
                    status: o.status.as_str().into(),
                    avg_price: s.px(events::avg_price(o)),
                    is_algo: false,
                    parent_algo_id: o.parent_algo.map(|p| e.algos[p].id),
                }
            }
            Accepted::Algo(i) => {
                let a = &e.algos[i];
                let s = &e.symbols[a.sym];
                let child = a.child.map(|c| &e.orders[c]);
                AcceptedOrder {
                    symbol: s.name.clone(),
                    side: a.side.as_str().into(),
                    order_type: a.type_str().into(),
                    quantity: s.qty(a.qty),
                    price: s.px(0),
                    trigger_price: s.px(a.trigger),
                    client_order_id: a.client_id.clone(),
                    reduce_only: a.reduce_only || a.close_position,
                    order_id: a.id,
                    status: a.status.as_str().into(),
                    avg_price: s.px(child.map_or(0, events::avg_price)),
                    is_algo: true,
                    parent_algo_id: None,
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<MockExchange>();
        assert_send_sync::<MockConfig>();
        assert_send_sync::<Fault>();
    }
}
