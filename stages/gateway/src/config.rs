//! `[gateway]` configuration.

use serde::Deserialize;

/// Names of the venues this build knows.
pub const KNOWN_VENUES: &[&str] = &["sim", "binance"];

/// `[gateway]`: which venue orders go to, and that venue's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// The venue: `"sim"` (in-process fills). Other names are rejected by [`GatewayConfig::validate`].
    pub venue: String,
    /// `[gateway.sim]`: the simulated venue.
    pub sim: SimVenueConfig,
    /// `[gateway.binance]`: Binance USDⓈ-M futures over the WebSocket API.
    pub binance: BinanceVenueConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            venue: "sim".to_owned(),
            sim: SimVenueConfig::default(),
            binance: BinanceVenueConfig::default(),
        }
    }
}

impl GatewayConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if !KNOWN_VENUES.contains(&self.venue.as_str()) {
            errs.push(format!(
                "{path}.venue: unknown venue {:?} (this build supports: {})",
                self.venue,
                KNOWN_VENUES.join(", ")
            ));
        }
        errs.extend(self.sim.validate(&format!("{path}.sim")));
        if self.venue == "binance" {
            errs.extend(self.binance.validate(&format!("{path}.binance")));
        }
        errs
    }
}

/// The order type of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EntryType {
    /// MARKET: fills at once at the exchange's price.
    Market,
    /// LIMIT at the reference price moved by `limit_offset_bps`.
    Limit,
}

/// Time in force of LIMIT entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Immediate or cancel.
    Ioc,
    /// Good till cancelled (cancelled by tradeflow after `limit_ttl_ms`).
    Gtc,
}

impl TimeInForce {
    /// The exchange's name.
    pub const fn name(self) -> &'static str {
        match self {
            TimeInForce::Ioc => "IOC",
            TimeInForce::Gtc => "GTC",
        }
    }
}

/// What happens to an entry that arrives while the order-entry connection is down
/// (reconnecting, or logging on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhileDisconnected {
    /// Refused at once with `VENUE_REJECTED` "venue: not connected": the signal's price is
    /// not traded late, and risk releases its exposure at once (the default).
    Refuse,
    /// Held up to `entry_hold_ms` and sent as soon as the connection is back; refused the same
    /// way once the hold is over (or cancelled if trading is halted meanwhile).
    Hold,
}

/// `[gateway.binance]`: where and how orders reach Binance (or `tradeflow mock-exchange`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BinanceVenueConfig {
    /// WebSocket API (order entry), e.g. `wss://ws-fapi.binance.com/ws-fapi/v1`.
    pub ws_api_url: String,
    /// Stream base for the user data stream (`<base>/private/ws/<listenKey>`), e.g.
    /// `wss://fstream.binance.com`.
    pub stream_url: String,
    /// REST base for startup calls (server time, exchangeInfo, leverage), e.g.
    /// `https://fapi.binance.com`.
    pub rest_url: String,
    /// The API key and its secret (never logged).
    pub key: tradeflow_binance::keys::KeySpec,
    /// Extra trusted root certificate (PEM file) for TLS, e.g. a private test CA.
    pub ca_file: Option<std::path::PathBuf>,
    /// `recvWindow` sent with signed requests, ms (Binance recommends ≤ 5000).
    pub recv_window_ms: u64,
    /// An order unanswered for this long is "status unknown" and is queried, ms.
    pub order_timeout_ms: u64,
    /// After a fill is known, how long to wait for the user stream's commission, ms.
    pub fill_wait_ms: u64,
    /// Give up on an order whose status stays unknown this long (reported as unknown), ms.
    pub unknown_give_up_ms: u64,
    /// Refuse to trade when the local clock is further than this from the exchange's, ms.
    pub max_clock_drift_ms: u64,
    /// Re-measure the clock offset this often (side thread, REST), s; 0 = only at startup.
    pub clock_check_interval_s: u64,
    /// Leverage set on every traded symbol at startup (1..=125); 0 leaves the account's.
    pub leverage: u32,
    /// Prefix of client order ids (up to 8 of `[A-Za-z0-9_-]`).
    pub client_id_prefix: String,
    /// Run id hashed into every client order id (up to 32 of `[A-Za-z0-9_-]`): empty (the
    /// default) draws a fresh random one at startup, so runs never reuse each other's ids;
    /// set it to resume a run with the same ids (exactly-once across the restart).
    pub run_id: String,
    /// Entry order type: `"MARKET"`, or `"LIMIT"` at the reference price moved by
    /// `limit_offset_bps` (exits are always MARKET).
    pub entry_type: EntryType,
    /// LIMIT entries: price = reference × (1 ± offset) — above it for buys, below for sells
    /// (positive = willing to pay up to cross the spread; negative = rest passively).
    pub limit_offset_bps: f64,
    /// LIMIT entries: `"IOC"` (fill what crosses now, the rest expires) or `"GTC"` (rests, and
    /// is cancelled with `order.cancel` after `limit_ttl_ms`).
    pub time_in_force: TimeInForce,
    /// GTC LIMIT entries still working after this long are cancelled, ms.
    pub limit_ttl_ms: u64,
    /// Place exchange-side protective STOP_MARKET / TAKE_PROFIT_MARKET algo orders after each
    /// entry fill, so a position is protected even if tradeflow stops.
    pub protective_orders: bool,
    /// Resends of one order after the exchange confirmed it does not have it.
    pub max_resends: u32,
    /// Entries arriving while the order-entry connection is down: `"refuse"` (default) or
    /// `"hold"` (up to `entry_hold_ms`). Exits always wait for the connection.
    pub entries_while_disconnected: WhileDisconnected,
    /// `"hold"`: how long an entry waits for the connection before it is refused, ms.
    pub entry_hold_ms: u64,
    /// Reconnect backoff: first delay, ms.
    pub reconnect_base_ms: u64,
    /// Reconnect backoff: largest delay, ms.
    pub reconnect_max_ms: u64,
    /// Replace the order-entry connection after this long (Binance cuts at 24 h), s.
    pub max_connection_age_s: u64,
    /// Send a WebSocket ping when nothing was received for this long, s.
    pub keepalive_s: u64,
    /// Renew the listen key this often, s (it lapses after 60 min).
    pub listen_key_renew_s: u64,
    /// Estimated taker fee, bps: used for a fill only if its commission never arrives.
    pub fee_bps_estimate: f64,
    /// Orders in flight at most (preallocated).
    pub max_pending: usize,
    /// Startup REST and connection timeout, ms.
    pub connect_timeout_ms: u64,
}

impl Default for BinanceVenueConfig {
    fn default() -> Self {
        BinanceVenueConfig {
            ws_api_url: "wss://ws-fapi.binance.com/ws-fapi/v1".into(),
            stream_url: "wss://fstream.binance.com".into(),
            rest_url: "https://fapi.binance.com".into(),
            key: tradeflow_binance::keys::KeySpec::new(tradeflow_binance::keys::KeyKind::Hmac),
            ca_file: None,
            recv_window_ms: 5_000,
            order_timeout_ms: 3_000,
            fill_wait_ms: 2_000,
            unknown_give_up_ms: 60_000,
            max_clock_drift_ms: 1_000,
            clock_check_interval_s: 60,
            leverage: 0,
            client_id_prefix: "tf".into(),
            run_id: String::new(),
            entry_type: EntryType::Market,
            limit_offset_bps: 5.0,
            time_in_force: TimeInForce::Ioc,
            limit_ttl_ms: 2_000,
            protective_orders: false,
            max_resends: 3,
            entries_while_disconnected: WhileDisconnected::Refuse,
            entry_hold_ms: 1_000,
            reconnect_base_ms: 100,
            reconnect_max_ms: 10_000,
            max_connection_age_s: 23 * 3_600,
            keepalive_s: 30,
            listen_key_renew_s: 30 * 60,
            fee_bps_estimate: 4.0,
            max_pending: 1_024,
            connect_timeout_ms: 5_000,
        }
    }
}

impl BinanceVenueConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        for (field, url, schemes) in [
            ("ws_api_url", &self.ws_api_url, &["ws://", "wss://"][..]),
            ("stream_url", &self.stream_url, &["ws://", "wss://"][..]),
            ("rest_url", &self.rest_url, &["http://", "https://"][..]),
        ] {
            if !schemes.iter().any(|s| url.starts_with(s)) {
                errs.push(format!("{path}.{field}: must start with {}", schemes.join(" or ")));
            }
        }
        if !(1..=60_000).contains(&self.recv_window_ms) {
            errs.push(format!("{path}.recv_window_ms: must be in 1..=60000"));
        }
        for (field, v) in [
            ("order_timeout_ms", self.order_timeout_ms),
            ("unknown_give_up_ms", self.unknown_give_up_ms),
            ("reconnect_base_ms", self.reconnect_base_ms),
            ("reconnect_max_ms", self.reconnect_max_ms),
            ("max_connection_age_s", self.max_connection_age_s),
            ("keepalive_s", self.keepalive_s),
            ("listen_key_renew_s", self.listen_key_renew_s),
            ("connect_timeout_ms", self.connect_timeout_ms),
        ] {
            if v == 0 {
                errs.push(format!("{path}.{field}: must be greater than 0"));
            }
        }
        if self.reconnect_max_ms < self.reconnect_base_ms {
            errs.push(format!("{path}.reconnect_max_ms: must be at least reconnect_base_ms"));
        }
        if self.leverage > 125 {
            errs.push(format!("{path}.leverage: must be in 0..=125 (0 = leave the account's setting)"));
        }
        if !tradeflow_binance::client_id::valid_prefix(&self.client_id_prefix) {
            errs.push(format!("{path}.client_id_prefix: up to 8 characters of A-Z a-z 0-9 _ -"));
        }
        if !self.run_id.is_empty() && !tradeflow_binance::client_id::valid_run_id(&self.run_id) {
            errs.push(format!("{path}.run_id: empty (a fresh id per run) or up to 32 characters of A-Z a-z 0-9 _ -"));
        }
        if !(self.fee_bps_estimate.is_finite() && (0.0..=MAX_COMMISSION_BPS).contains(&self.fee_bps_estimate)) {
            errs.push(format!("{path}.fee_bps_estimate: must be a finite number in 0..={MAX_COMMISSION_BPS}"));
        }
        if !(1..=MAX_PENDING).contains(&self.max_pending) {
            errs.push(format!("{path}.max_pending: must be in 1..={MAX_PENDING}"));
        }
        if !(self.limit_offset_bps.is_finite() && self.limit_offset_bps.abs() <= MAX_SLIPPAGE_BPS) {
            errs.push(format!(
                "{path}.limit_offset_bps: must be a finite number in -{MAX_SLIPPAGE_BPS}..={MAX_SLIPPAGE_BPS}"
            ));
        }
        if self.entry_type == EntryType::Limit && self.time_in_force == TimeInForce::Gtc && self.limit_ttl_ms == 0 {
            errs.push(format!("{path}.limit_ttl_ms: must be greater than 0 for GTC entries"));
        }
        if self.entries_while_disconnected == WhileDisconnected::Hold && !(1..=60_000).contains(&self.entry_hold_ms) {
            errs.push(format!("{path}.entry_hold_ms: must be in 1..=60000 when entries_while_disconnected = \"hold\""));
        }
        if self.max_resends > 100 {
            errs.push(format!("{path}.max_resends: must be at most 100"));
        }
        errs
    }
}

/// `[gateway.sim]`: fills at the reference price, moved adversely by a fixed slippage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimVenueConfig {
    /// Adverse price move applied to every fill, basis points (buys higher, sells lower).
    pub slippage_bps: f64,
    /// Commission on the filled notional, basis points (4.0 = Binance taker 0.04%).
    pub commission_bps: f64,
    /// Order-to-fill latency, µs. 0 fills inside `on_event`; otherwise fills are released by
    /// `poll` once due.
    pub latency_us: u64,
    /// Capacity of the queue of orders waiting for their fill (preallocated).
    pub max_pending: usize,
}

/// Largest accepted slippage (10%).
const MAX_SLIPPAGE_BPS: f64 = 1_000.0;
/// Largest accepted commission (1%).
const MAX_COMMISSION_BPS: f64 = 100.0;
/// Largest accepted latency (60 s).
const MAX_LATENCY_US: u64 = 60_000_000;
/// Largest accepted pending queue.
const MAX_PENDING: usize = 1 << 20;

impl Default for SimVenueConfig {
    fn default() -> Self {
        SimVenueConfig { slippage_bps: 1.0, commission_bps: 4.0, latency_us: 0, max_pending: 1024 }
    }
}

impl SimVenueConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut errs = Vec::new();
        if !(self.slippage_bps.is_finite() && (0.0..=MAX_SLIPPAGE_BPS).contains(&self.slippage_bps)) {
            errs.push(format!("{path}.slippage_bps: must be a finite number in 0..={MAX_SLIPPAGE_BPS}"));
        }
        if !(self.commission_bps.is_finite() && (0.0..=MAX_COMMISSION_BPS).contains(&self.commission_bps)) {
            errs.push(format!("{path}.commission_bps: must be a finite number in 0..={MAX_COMMISSION_BPS}"));
        }
        if self.latency_us > MAX_LATENCY_US {
            errs.push(format!("{path}.latency_us: must be at most {MAX_LATENCY_US} (60 s)"));
        }
        if !(1..=MAX_PENDING).contains(&self.max_pending) {
            errs.push(format!("{path}.max_pending: must be in 1..={MAX_PENDING}"));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(GatewayConfig::default().validate("gateway").is_empty());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let cfg = GatewayConfig {
            venue: "ftx".into(),
            binance: BinanceVenueConfig::default(),
            sim: SimVenueConfig { slippage_bps: f64::NAN, commission_bps: -1.0, latency_us: u64::MAX, max_pending: 0 },
        };
        let errs = cfg.validate("gateway");
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert!(errs[0].starts_with("gateway.venue: unknown venue \"ftx\""), "{errs:?}");
        for field in ["slippage_bps", "commission_bps", "latency_us", "max_pending"] {
            assert!(errs.iter().any(|e| e.starts_with(&format!("gateway.sim.{field}: "))), "{field}: {errs:?}");
        }
    }
}

#[cfg(test)]
mod binance_tests {
    use super::*;

    #[test]
    fn binance_defaults_are_valid_and_bad_values_are_listed() {
        let ok = GatewayConfig { venue: "binance".into(), ..GatewayConfig::default() };
        assert!(ok.validate("gateway").is_empty(), "{:?}", ok.validate("gateway"));
        let bad = BinanceVenueConfig {
            ws_api_url: "http://x".into(),
            recv_window_ms: 0,
            leverage: 126,
            client_id_prefix: "bad.prefix".into(),
            run_id: "no spaces".into(),
            entries_while_disconnected: WhileDisconnected::Hold,
            entry_hold_ms: 0,
            reconnect_base_ms: 10,
            reconnect_max_ms: 5,
            ..BinanceVenueConfig::default()
        };
        let errs = bad.validate("gateway.binance");
        for field in [
            "ws_api_url",
            "recv_window_ms",
            "leverage",
            "client_id_prefix",
            "run_id",
            "reconnect_max_ms",
            "entry_hold_ms",
        ] {
            assert!(errs.iter().any(|e| e.starts_with(&format!("gateway.binance.{field}: "))), "{field}: {errs:?}");
        }
    }
}
