//! Configuration of the mock exchange: symbols, accounts, price path, timings and limits.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::filters::{parse_units, DecimalError, SymbolFilters};

/// The HMAC API key of the default test account (the documented Binance example key).
pub const TEST_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
/// The HMAC secret of the default test account (the documented Binance example secret).
pub const TEST_HMAC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// Everything the mock exchange needs to start.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Address of the single TCP listener (`127.0.0.1:0` picks a free port).
    pub bind: SocketAddr,
    /// Seed of the price random walk and of generated ids.
    pub seed: u64,
    /// Tradable symbols.
    pub symbols: Vec<MockSymbol>,
    /// Accounts (API keys) that may trade.
    pub accounts: Vec<MockAccount>,
    /// Milliseconds between random-walk price steps (0 = prices move only by `set_price`).
    pub price_step_ms: u64,
    /// Standard deviation of one price step, in basis points.
    pub volatility_bps: f64,
    /// Taker fills are this many basis points worse than the current price.
    pub slippage_bps: f64,
    /// Fee charged on every fill, in basis points of the notional (USDT).
    pub taker_fee_bps: f64,
    /// Server ping interval on every WebSocket connection.
    pub ping_interval_ms: u64,
    /// A connection that has not answered a ping within this time is closed.
    pub pong_timeout_ms: u64,
    /// Hard lifetime of a WebSocket connection.
    pub max_connection_ms: u64,
    /// Added to the wall clock to make the server's time (`serverTime`, `-1021` checks).
    pub clock_skew_ms: i64,
    /// Validity of a listenKey after `start` or `ping`.
    pub listen_key_ttl_ms: u64,
    /// Rate limits.
    pub limits: MockLimits,
}

/// Rate limits, counted in fixed-boundary windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockLimits {
    /// `REQUEST_WEIGHT` per 1 MINUTE.
    pub weight_per_min: u32,
    /// `ORDERS` per 10 SECOND.
    pub orders_per_10s: u32,
    /// `ORDERS` per 1 MINUTE.
    pub orders_per_min: u32,
}

impl Default for MockLimits {
    fn default() -> MockLimits {
        MockLimits { weight_per_min: 2400, orders_per_10s: 300, orders_per_min: 1200 }
    }
}

/// One symbol: its filters (decimal text, as `exchangeInfo` shows them) and its start price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockSymbol {
    /// Upper-case symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// PRICE_FILTER `tickSize`.
    pub tick_size: String,
    /// PRICE_FILTER `minPrice`.
    pub min_price: String,
    /// PRICE_FILTER `maxPrice`.
    pub max_price: String,
    /// LOT_SIZE and MARKET_LOT_SIZE `stepSize`.
    pub step_size: String,
    /// LOT_SIZE and MARKET_LOT_SIZE `minQty`.
    pub min_qty: String,
    /// LOT_SIZE and MARKET_LOT_SIZE `maxQty`.
    pub max_qty: String,
    /// MIN_NOTIONAL `notional`.
    pub min_notional: String,
    /// First price of the price path.
    pub start_price: String,
}

impl MockSymbol {
    /// A symbol with generous min/max bounds.
    pub fn new(symbol: &str, tick: &str, step: &str, min_notional: &str, start: &str) -> MockSymbol {
        MockSymbol {
            symbol: symbol.to_owned(),
            tick_size: tick.to_owned(),
            min_price: tick.to_owned(),
            max_price: "1000000".to_owned(),
            step_size: step.to_owned(),
            min_qty: step.to_owned(),
            max_qty: "100000".to_owned(),
            min_notional: min_notional.to_owned(),
            start_price: start.to_owned(),
        }
    }

    /// The filters in 1e-8 units.
    pub fn filters(&self) -> Result<SymbolFilters, DecimalError> {
        let step = parse_units(&self.step_size)?;
        let min_qty = parse_units(&self.min_qty)?;
        let max_qty = parse_units(&self.max_qty)?;
        Ok(SymbolFilters {
            min_price: parse_units(&self.min_price)?,
            max_price: parse_units(&self.max_price)?,
            tick_size: parse_units(&self.tick_size)?,
            min_qty,
            max_qty,
            step_size: step,
            market_min_qty: min_qty,
            market_max_qty: max_qty,
            market_step_size: step,
            min_notional: parse_units(&self.min_notional)?,
        })
    }
}

/// An account, identified by its API key. One-way position mode, a USDT wallet.
#[derive(Clone, PartialEq, Eq)]
pub struct MockAccount {
    /// The API key clients send as `apiKey` / `X-MBX-APIKEY`.
    pub api_key: String,
    /// HMAC-SHA256 secret, for an HMAC key.
    pub hmac_secret: Option<String>,
    /// Ed25519 public key (PEM, SPKI), for an Ed25519 key.
    pub ed25519_public_pem: Option<String>,
    /// Starting USDT wallet balance.
    pub balance_usdt: String,
}

impl std::fmt::Debug for MockAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockAccount")
            .field("api_key", &crate::sign::redact(&self.api_key))
            .field("hmac", &self.hmac_secret.is_some())
            .field("ed25519", &self.ed25519_public_pem.is_some())
            .field("balance_usdt", &self.balance_usdt)
            .finish()
    }
}

impl MockAccount {
    /// An HMAC account.
    pub fn hmac(api_key: &str, secret: &str, balance_usdt: &str) -> MockAccount {
        MockAccount {
            api_key: api_key.to_owned(),
            hmac_secret: Some(secret.to_owned()),
            ed25519_public_pem: None,
            balance_usdt: balance_usdt.to_owned(),
        }
    }

    /// An Ed25519 account with the public key in PEM.
    pub fn ed25519(api_key: &str, public_pem: &str, balance_usdt: &str) -> MockAccount {
        MockAccount {
            api_key: api_key.to_owned(),
            hmac_secret: None,
            ed25519_public_pem: Some(public_pem.to_owned()),
            balance_usdt: balance_usdt.to_owned(),
        }
    }
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            bind: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
            seed: 1,
            symbols: vec![
                MockSymbol::new("BTCUSDT", "0.10", "0.001", "5", "43000"),
                MockSymbol::new("ETHUSDT", "0.01", "0.001", "5", "2300"),
                MockSymbol::new("SOLUSDT", "0.01", "0.01", "5", "100"),
            ],
            accounts: vec![MockAccount::hmac(TEST_API_KEY, TEST_HMAC_SECRET, "10000")],
            price_step_ms: 1000,
            volatility_bps: 5.0,
            slippage_bps: 0.0,
            taker_fee_bps: 4.0,
            ping_interval_ms: 180_000,
            pong_timeout_ms: 600_000,
            max_connection_ms: 24 * 3600 * 1000,
            clock_skew_ms: 0,
            listen_key_ttl_ms: 3600 * 1000,
            limits: MockLimits::default(),
        }
    }
}
