//! Exchange state: symbols and their price path, accounts and positions, orders, algo orders,
//! listenKeys, and the pushes (user-stream events, market updates) each change produces.
//!
//! One [`Engine`] sits behind one mutex; every operation runs under it, so events come out in
//! one global order.

use std::collections::HashMap;

use ed25519_dalek::pkcs8::DecodePublicKey as _;
use ed25519_dalek::VerifyingKey;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::config::MockConfig;
use super::params::ApiError;
use crate::filters::{format_units, parse_units, SymbolFilters};

/// Order side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn parse(s: &str) -> Result<Side, ApiError> {
        match s {
            "BUY" => Ok(Side::Buy),
            "SELL" => Ok(Side::Sell),
            _ => Err(ApiError::bad(-1117, "Invalid side.")),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }

    /// `+1` for BUY, `-1` for SELL.
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tif {
    Gtc,
    Ioc,
    Fok,
    Gtx,
}

impl Tif {
    pub fn parse(s: &str) -> Result<Tif, ApiError> {
        match s {
            "GTC" => Ok(Tif::Gtc),
            "IOC" => Ok(Tif::Ioc),
            "FOK" => Ok(Tif::Fok),
            "GTX" => Ok(Tif::Gtx),
            _ => Err(ApiError::bad(-1115, "Invalid timeInForce.")),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Tif::Gtc => "GTC",
            Tif::Ioc => "IOC",
            Tif::Fok => "FOK",
            Tif::Gtx => "GTX",
        }
    }
}

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::New => "NEW",
            Status::PartiallyFilled => "PARTIALLY_FILLED",
            Status::Filled => "FILLED",
            Status::Canceled => "CANCELED",
            Status::Expired => "EXPIRED",
        }
    }

    pub const fn is_open(self) -> bool {
        matches!(self, Status::New | Status::PartiallyFilled)
    }
}

/// One symbol: filters, current price, output decimals.
#[derive(Debug, Clone)]
pub(crate) struct SymbolState {
    pub name: String,
    pub filters: SymbolFilters,
    pub price: i64,
    pub price_dec: u32,
    pub qty_dec: u32,
}

impl SymbolState {
    pub fn px(&self, units: i64) -> String {
        format_units(units, self.price_dec)
    }

    pub fn qty(&self, units: i64) -> String {
        format_units(units, self.qty_dec)
    }

    /// Quote amounts (`cumQuote`): exact for one fill of a tick price times a step quantity.
    pub fn quote(&self, units: i64) -> String {
        format_units(units, (self.price_dec + self.qty_dec).min(8))
    }
}

/// A one-way position and its running totals, in 1e-8 units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Position {
    pub amt: i64,
    pub entry: i64,
    pub realized: i64,
    pub fees: i64,
}

/// An account and how it authenticates.
#[derive(Debug)]
pub(crate) struct Account {
    pub api_key: String,
    pub hmac_secret: Option<Vec<u8>>,
    pub ed25519: Option<VerifyingKey>,
    pub balance: i64,
    pub positions: Vec<Position>,
    pub leverage: Vec<u32>,
}

/// An order in the matching engine.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: i64,
    pub acct: usize,
    pub sym: usize,
    pub side: Side,
    pub market: bool,
    pub tif: Tif,
    pub qty: i64,
    pub price: i64,
    pub reduce_only: bool,
    pub client_id: String,
    pub status: Status,
    pub executed: i64,
    pub cum_quote: i64,
    pub created_ms: i64,
    pub update_ms: i64,
    /// Original type: `MARKET`, `LIMIT`, or the algo type that created it.
    pub orig_type: &'static str,
    pub stop_price: i64,
    pub working_type: &'static str,
    pub close_position: bool,
    /// The algo order that placed it, if any.
    pub parent_algo: Option<usize>,
}

/// What an accepted-order list entry points at.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Accepted {
    Order(usize),
    Algo(usize),
}

/// A user-stream listenKey.
#[derive(Debug, Clone)]
pub(crate) struct ListenKey {
    pub acct: usize,
    pub expires_ms: i64,
}

/// Something to send to stream subscribers after an engine operation.
#[derive(Debug, Clone)]
pub(crate) enum Push {
    /// A user-data event for every stream of the account.
    User { acct: usize, text: String },
    /// A new price for a symbol's market streams.
    Market { sym: usize },
    /// A listenKey lapsed or was closed: send `text` (if any) and close its streams.
    KeyClosed { key: String, text: Option<String> },
}

/// The whole exchange state.
#[derive(Debug)]
pub(crate) struct Engine {
    pub symbols: Vec<SymbolState>,
    pub accounts: Vec<Account>,
    pub orders: Vec<Order>,
    pub algos: Vec<super::algo::AlgoOrder>,
    pub accepted: Vec<Accepted>,
    pub listen_keys: HashMap<String, ListenKey>,
    pub pushes: Vec<Push>,
    pub rng: StdRng,
    pub next_order_id: i64,
    pub next_algo_id: i64,
    pub next_trade_id: i64,
    pub volatility_bps: f64,
    pub slippage_bps: f64,
    pub fee_bps: f64,
    pub listen_key_ttl_ms: i64,
}

/// Why a configuration cannot start an exchange.
fn config_error(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, what)
}

impl Engine {
    pub fn new(cfg: &MockConfig) -> std::io::Result<Engine> {
        let mut symbols = Vec::with_capacity(cfg.symbols.len());
        for s in &cfg.symbols {
            let bad = |e: crate::filters::DecimalError| config_error(format!("symbol {}: {e}", s.symbol));
            let filters = s.filters().map_err(bad)?;
            let price = parse_units(&s.start_price).map_err(bad)?;
            if filters.tick_size <= 0 || filters.step_size <= 0 || price <= 0 {
                return Err(config_error(format!("symbol {}: tick, step and start price must be > 0", s.symbol)));
            }
            let (price_dec, qty_dec) = (filters.price_decimals(), filters.qty_decimals());
            symbols.push(SymbolState { name: s.symbol.to_ascii_uppercase(), filters, price, price_dec, qty_dec });
        }
        let mut accounts = Vec::with_capacity(cfg.accounts.len());
        for a in &cfg.accounts {
            let ed25519 = match &a.ed25519_public_pem {
                Some(pem) => Some(
                    VerifyingKey::from_public_key_pem(pem.trim())
                        .map_err(|e| config_error(format!("account {}: bad Ed25519 PEM: {e}", a.api_key)))?,
                ),
                None => None,
            };
            let balance = parse_units(&a.balance_usdt).map_err(|e| config_error(format!("balance: {e}")))?;
            accounts.push(Account {
                api_key: a.api_key.clone(),
                hmac_secret: a.hmac_secret.as_ref().map(|s| s.as_bytes().to_vec()),
                ed25519,
                balance,
                positions: vec![Position::default(); symbols.len()],
                leverage: vec![20; symbols.len()],
            });
        }
        Ok(Engine {
            symbols,
            accounts,
            orders: Vec::new(),
            algos: Vec::new(),
            accepted: Vec::new(),
            listen_keys: HashMap::new(),
            pushes: Vec::new(),
            rng: StdRng::seed_from_u64(cfg.seed),
            next_order_id: 8_000_000_001,
            next_algo_id: 3_000_000_000_000_001,
            next_trade_id: 500_000_001,
            volatility_bps: cfg.volatility_bps,
            slippage_bps: cfg.slippage_bps,
            fee_bps: cfg.taker_fee_bps,
            listen_key_ttl_ms: i64::try_from(cfg.listen_key_ttl_ms).unwrap_or(i64::MAX / 2),
        })
    }

    /// Index of a symbol (case-insensitive), or `-1121`.
    pub fn symbol(&self, name: &str) -> Result<usize, ApiError> {
        self.symbols
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))
    }

    /// Index of an account by API key.
    pub fn account(&self, api_key: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.api_key == api_key)
    }

    /// One random-walk step for every symbol, then matching at the new prices.
    pub fn step_prices(&mut self, now_ms: i64) {
        for sym in 0..self.symbols.len() {
            // Uniform on [-√3, √3]: unit variance.
            let z = (self.rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt();
            let s = &self.symbols[sym];
            let moved = s.price as f64 * (1.0 + z * self.volatility_bps / 10_000.0);
            let tick = s.filters.tick_size;
            let new = ((moved / tick as f64).round() as i64).saturating_mul(tick).clamp(tick, i64::MAX / 4);
            self.apply_price(sym, new, now_ms);
        }
    }

    /// Sets a symbol's price, fills crossed limit orders, triggers algo orders, pushes the mark.
    pub fn apply_price(&mut self, sym: usize, price: i64, now_ms: i64) {
        self.symbols[sym].price = price;
        self.pushes.push(Push::Market { sym });
        self.match_resting(sym, now_ms);
        self.trigger_algos(sym, now_ms);
    }

    /// A new listenKey for `acct`, or the live one extended (as Binance does).
    pub fn start_listen_key(&mut self, acct: usize, now_ms: i64) -> String {
        let expires_ms = now_ms.saturating_add(self.listen_key_ttl_ms);
        if let Some((k, lk)) = self.listen_keys.iter_mut().find(|(_, lk)| lk.acct == acct) {
            lk.expires_ms = expires_ms;
            return k.clone();
        }
        let key: String = (&mut self.rng).sample_iter(rand::distr::Alphanumeric).take(64).map(char::from).collect();
        self.listen_keys.insert(key.clone(), ListenKey { acct, expires_ms });
        key
    }

    /// Extends the account's listenKey (`-1125` when it has none).
    pub fn ping_listen_key(&mut self, acct: usize, now_ms: i64) -> Result<String, ApiError> {
        let ttl = self.listen_key_ttl_ms;
        match self.listen_keys.iter_mut().find(|(_, lk)| lk.acct == acct) {
            Some((k, lk)) => {
                lk.expires_ms = now_ms.saturating_add(ttl);
                Ok(k.clone())
            }
            None => Err(ApiError::bad(-1125, "This listenKey does not exist.")),
        }
    }

    /// Closes the account's listenKey and its streams.
    pub fn stop_listen_key(&mut self, acct: usize) {
        let keys: Vec<String> =
            self.listen_keys.iter().filter(|(_, lk)| lk.acct == acct).map(|(k, _)| k.clone()).collect();
        for key in keys {
            self.listen_keys.remove(&key);
            self.pushes.push(Push::KeyClosed { key, text: None });
        }
    }

    /// Removes lapsed listenKeys, pushing `listenKeyExpired` to their streams.
    pub fn expire_listen_keys(&mut self, now_ms: i64) {
        let lapsed: Vec<String> =
            self.listen_keys.iter().filter(|(_, lk)| lk.expires_ms <= now_ms).map(|(k, _)| k.clone()).collect();
        for key in lapsed {
            self.listen_keys.remove(&key);
            let text = serde_json::json!({"e": "listenKeyExpired", "E": now_ms, "listenKey": key}).to_string();
            self.pushes.push(Push::KeyClosed { key, text: Some(text) });
        }
    }

    /// A fresh order id.
    pub fn order_id(&mut self) -> i64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        id
    }
}
