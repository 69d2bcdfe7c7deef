//! `[ingress]`: which source feeds the pipeline and how it is paced.

use serde::Deserialize;
use tradeflow_core::{Catalog, Timeframe};

/// Smallest accepted `file.max_line_bytes` (a minimal reference signal is ~90 bytes).
pub const MIN_LINE_BYTES: usize = 64;
/// Largest accepted `file.max_line_bytes`.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Default `idle_timeout_ms` of the TCP and WebSocket sources (one minute).
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Accepted `idle_timeout_ms`: 100 ms to one day.
pub const IDLE_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 100..=86_400_000;
/// Default `handshake_timeout_ms` of the WebSocket source.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 5_000;
/// Accepted `handshake_timeout_ms`: 100 ms to one minute.
pub const HANDSHAKE_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 100..=60_000;
/// Default `max_outbound_bytes` of the TCP and WebSocket sources (1 MiB of unread answers).
pub const DEFAULT_OUTBOUND_BYTES: usize = 1 << 20;
/// Accepted `max_outbound_bytes`: 4 KiB to 64 MiB.
pub const OUTBOUND_BYTES_RANGE: std::ops::RangeInclusive<usize> = 4096..=64 << 20;

/// Largest accepted `dedupe_window`.
pub const MAX_DEDUPE_WINDOW: usize = 1 << 22;

/// Which source the configured run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IngressSource {
    /// The seeded synthetic generator.
    #[default]
    Synthetic,
    /// Reference JSON lines from a file or stdin.
    File,
    /// Reference JSON lines from TCP clients (`[ingress.tcp]`), acked per line.
    Tcp,
    /// One reference signal per WebSocket text frame (`[ingress.ws]`), acked per frame.
    Ws,
    /// A consumer group on a Redis stream in the reference wire format (`[ingress.redis]`).
    Redis,
}

/// `[ingress]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngressConfig {
    /// `"synthetic"`, `"file"`, `"tcp"`, `"ws"` or `"redis"`.
    pub source: IngressSource,
    /// `[ingress.synthetic]`
    pub synthetic: SyntheticConfig,
    /// `[ingress.file]`
    pub file: FileSourceConfig,
    /// `[ingress.tcp]`
    pub tcp: TcpSourceConfig,
    /// `[ingress.ws]`
    pub ws: WsSourceConfig,
    /// `[ingress.redis]`
    pub redis: RedisSourceConfig,
    /// Trace ids the TCP, WebSocket and Redis sources remember: a signal repeating one of them
    /// is refused at the source (`DUPLICATE_TRACE_ID`). A power of two; 0 = off (the risk
    /// stage's own window still denies duplicates downstream).
    pub dedupe_window: usize,
    /// Capacity of the model registry: the configured `models` plus model versions that
    /// signals name for the first time (registered on first sight; when it is full a new
    /// model's signal is refused with `MODEL_REGISTRY_FULL`). Learning and risk size their
    /// per-model tables to it. In `models.len()..=4096`.
    pub max_models: usize,
}

impl Default for IngressConfig {
    fn default() -> Self {
        IngressConfig {
            source: IngressSource::Synthetic,
            synthetic: SyntheticConfig::default(),
            file: FileSourceConfig::default(),
            tcp: TcpSourceConfig::default(),
            ws: WsSourceConfig::default(),
            redis: RedisSourceConfig::default(),
            dedupe_window: 4096,
            max_models: 256,
        }
    }
}

/// `[ingress.ws]`: one reference signal per WebSocket text frame.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WsSourceConfig {
    /// Address to listen on, e.g. `"127.0.0.1:7002"`.
    pub listen: String,
    /// Answer every frame with an ack or a nack frame.
    pub acks: bool,
    /// Largest accepted frame; a larger one closes the connection (code 1009) with a reason.
    pub max_frame_bytes: usize,
    /// Clients at once.
    pub max_connections: usize,
    /// Frames per second per connection (0 = unlimited); see `[ingress.tcp]`.
    pub max_rate_per_connection: f64,
    /// Where a signal's latency is measured from; see `[ingress.tcp]`.
    pub origin: Origin,
    /// A connection without any message (ping included) for this long is closed (1008).
    pub idle_timeout_ms: u64,
    /// A client that has not finished the WebSocket handshake after this long is dropped.
    pub handshake_timeout_ms: u64,
    /// Answers a client may leave unread; past it the client is disconnected (`SLOW_CLIENT`).
    pub max_outbound_bytes: usize,
}

impl Default for WsSourceConfig {
    fn default() -> Self {
        WsSourceConfig {
            listen: "127.0.0.1:7002".into(),
            acks: true,
            max_frame_bytes: 65_536,
            max_connections: 256,
            max_rate_per_connection: 0.0,
            origin: Origin::Receive,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            handshake_timeout_ms: DEFAULT_HANDSHAKE_TIMEOUT_MS,
            max_outbound_bytes: DEFAULT_OUTBOUND_BYTES,
        }
    }
}

/// `[ingress.redis]`: a consumer group on the reference system's signal stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSourceConfig {
    /// `redis://[user:password@]host:port[/db]` (the password is never printed).
    pub url: String,
    /// The stream the AI engines XADD to (the `payload` field holds the signal JSON).
    pub stream: String,
    /// Consumer group (created with MKSTREAM when missing).
    pub group: String,
    /// This process's consumer name in the group; keep it stable across restarts so the
    /// entries it had not acknowledged are read again.
    pub consumer: String,
    /// Where a newly created group starts: `"$"` (entries added from now on) or `"0"` (the
    /// whole stream).
    pub start_id: String,
    /// Entries per read (XREADGROUP / XAUTOCLAIM COUNT).
    pub batch: usize,
    /// How long Redis holds a read while the stream is empty, ms (a new entry answers it at
    /// once; the ingress thread never waits).
    pub block_ms: u64,
    /// Entries another consumer left unacknowledged longer than this are taken over
    /// (XAUTOCLAIM), ms; 0 = never.
    pub claim_idle_ms: u64,
    /// How often to look for such entries, ms.
    pub claim_interval_ms: u64,
    /// Connect timeout, ms.
    pub connect_timeout_ms: u64,
    /// Reply timeout (on top of `block_ms` for a blocking read), ms.
    pub response_timeout_ms: u64,
    /// Reconnect backoff: first delay, ms (doubling, full jitter).
    pub reconnect_base_ms: u64,
    /// Reconnect backoff: largest delay, ms.
    pub reconnect_max_ms: u64,
    /// Largest accepted `payload`, bytes; a larger one is refused (OVERSIZED) and acknowledged.
    pub max_payload_bytes: usize,
    /// Where latency is measured from; see `[ingress.tcp]`.
    pub origin: Origin,
}

impl Default for RedisSourceConfig {
    fn default() -> Self {
        RedisSourceConfig {
            url: "redis://127.0.0.1:6379".into(),
            stream: "quantum:stream:signal.generated".into(),
            group: "tradeflow".into(),
            consumer: "tradeflow-1".into(),
            start_id: "$".into(),
            batch: 256,
            block_ms: 100,
            claim_idle_ms: 60_000,
            claim_interval_ms: 10_000,
            connect_timeout_ms: 1_000,
            response_timeout_ms: 2_000,
            reconnect_base_ms: 100,
            reconnect_max_ms: 5_000,
            max_payload_bytes: 65_536,
            origin: Origin::Receive,
        }
    }
}

impl RedisSourceConfig {
    fn validate_into(&self, e: &mut Vec<String>, path: &str) {
        if let Err(why) = crate::redis::check_url(&self.url) {
            e.push(format!("{path}.url: {why}"));
        }
        for (name, v) in [("stream", &self.stream), ("group", &self.group), ("consumer", &self.consumer)] {
            if v.is_empty() || v.len() > 512 || v.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
                e.push(format!("{path}.{name}: must be 1-512 characters without spaces (got {v:?})"));
            }
        }
        let id_ok = self.start_id == "$"
            || self.start_id.split_once('-').map_or_else(
                || self.start_id.parse::<u64>().is_ok(),
                |(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok(),
            );
        if !id_ok {
            e.push(format!("{path}.start_id: must be \"$\", \"0\" or a stream id like 1700000000000-0"));
        }
        if !(1..=65_536).contains(&self.batch) {
            e.push(format!("{path}.batch: must be in 1..=65536"));
        }
        if !(1..=60_000).contains(&self.block_ms) {
            e.push(format!("{path}.block_ms: must be in 1..=60000"));
        }
        if self.claim_idle_ms > 0 && self.claim_interval_ms == 0 {
            e.push(format!("{path}.claim_interval_ms: must be > 0 when claim_idle_ms is set"));
        }
        for (name, v) in [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("response_timeout_ms", self.response_timeout_ms),
            ("reconnect_base_ms", self.reconnect_base_ms),
        ] {
            if v == 0 {
                e.push(format!("{path}.{name}: must be > 0"));
            }
        }
        if self.reconnect_max_ms < self.reconnect_base_ms {
            e.push(format!("{path}.reconnect_max_ms: must be ≥ reconnect_base_ms"));
        }
        if !(MIN_LINE_BYTES..=MAX_LINE_BYTES).contains(&self.max_payload_bytes) {
            e.push(format!("{path}.max_payload_bytes: must be in {MIN_LINE_BYTES}..={MAX_LINE_BYTES}"));
        }
    }
}

/// Where a network signal's chain starts (its header's origin time, from which every hop and
/// tick-to-order latency is measured).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// When tradeflow read it from the socket.
    #[default]
    Receive,
    /// The signal's own `timestamp` (the client's send time; clocks must agree), bounded by
    /// the receive time; signals without one fall back to the receive time.
    Timestamp,
}

/// `[ingress.tcp]`: reference JSON lines from TCP clients.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpSourceConfig {
    /// Address to listen on, e.g. `"127.0.0.1:7001"`.
    pub listen: String,
    /// Answer every line with `{"trace_id":…,"status":"accepted"|"rejected","reason":…}`
    /// (false = fire and forget).
    pub acks: bool,
    /// Longest accepted line; a longer one closes the connection with a reason.
    pub max_line_bytes: usize,
    /// Clients at once; more are answered "busy" and closed.
    pub max_connections: usize,
    /// Lines per second per connection, bursts of one second's worth (0 = unlimited). Over
    /// it a line is nacked `RATE_LIMITED`; with acks off the client is read no faster.
    pub max_rate_per_connection: f64,
    /// `"receive"` (default) or `"timestamp"`: measure latency from the client's `timestamp`.
    pub origin: Origin,
    /// A connection that sends nothing for this long is told so and closed.
    pub idle_timeout_ms: u64,
    /// Answers a client may leave unread; past it the client is disconnected (`SLOW_CLIENT`).
    pub max_outbound_bytes: usize,
}

impl Default for TcpSourceConfig {
    fn default() -> Self {
        TcpSourceConfig {
            listen: "127.0.0.1:7001".into(),
            acks: true,
            max_line_bytes: 65_536,
            max_connections: 256,
            max_rate_per_connection: 0.0,
            origin: Origin::Receive,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            max_outbound_bytes: DEFAULT_OUTBOUND_BYTES,
        }
    }
}

/// `[ingress.synthetic]`: the seeded signal generator.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticConfig {
    /// Signals to produce (0 = unbounded).
    pub count: u64,
    /// Signals per second (0 = unpaced: as fast as the pipeline takes them).
    pub rate_per_sec: f64,
    /// RNG seed (also seeds trace ids generated for file lines without one).
    pub seed: u64,
    /// Symbols to draw from (empty = every catalog instrument).
    pub symbols: Vec<String>,
    /// Model versions to draw from (empty = every catalog model).
    pub models: Vec<String>,
    /// Lowest confidence drawn.
    pub confidence_min: f64,
    /// Highest confidence drawn.
    pub confidence_max: f64,
    /// Fraction of BUY signals.
    pub buy_ratio: f64,
    /// Timeframes to draw from (wire names).
    pub timeframes: Vec<String>,
    /// Fraction of signals that reuse an earlier trace id (exercises duplicate detection).
    pub duplicate_ratio: f64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            count: 100_000,
            rate_per_sec: 100_000.0,
            seed: 42,
            symbols: Vec::new(),
            models: Vec::new(),
            confidence_min: 0.5,
            confidence_max: 0.95,
            buy_ratio: 0.5,
            timeframes: ["1m", "5m", "15m", "1h"].map(String::from).to_vec(),
            duplicate_ratio: 0.0,
        }
    }
}

/// `[ingress.file]`: reference JSON lines from a file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSourceConfig {
    /// Path of the file; `"-"` reads stdin.
    pub path: String,
    /// Lines per second (0 = unpaced).
    pub rate_per_sec: f64,
    /// Replay at the pace of the signals' own `timestamp`s, sped up by this factor (1 = real
    /// time, 10 = ten times faster); 0 = off (`rate_per_sec` paces). A line without a timestamp
    /// goes out right after the previous one.
    pub replay_speed: f64,
    /// Longest accepted line in bytes (excluding the newline); longer lines are rejected.
    pub max_line_bytes: usize,
    /// Which clock the run follows: `event` (the recording's timestamps), `wall`, or `auto`
    /// (event time for a file, wall-clock time for standard input).
    pub clock: FileClock,
}

/// The clock a file source runs on (`[ingress.file] clock`, `run --clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FileClock {
    /// Event time for a file, wall-clock time for standard input (`-`).
    #[default]
    Auto,
    /// The run's clock follows the signals' `timestamp`s (see `event_time`).
    Event,
    /// Wall-clock time, with the staleness checks against it.
    Wall,
}

impl FileSourceConfig {
    /// Whether this file source runs on event time.
    pub fn event_time(&self) -> bool {
        match self.clock {
            FileClock::Auto => self.path != "-",
            FileClock::Event => true,
            FileClock::Wall => false,
        }
    }
}

impl Default for FileSourceConfig {
    fn default() -> Self {
        FileSourceConfig {
            path: "-".into(),
            rate_per_sec: 0.0,
            replay_speed: 0.0,
            max_line_bytes: 65_536,
            clock: FileClock::Auto,
        }
    }
}

fn check_unit(e: &mut Vec<String>, path: &str, name: &str, v: f64) {
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        e.push(format!("{path}.{name}: must be a finite number in 0..=1 (got {v})"));
    }
}

/// `idle_timeout_ms` and `max_outbound_bytes` of a network source at `path`.
fn check_connection_limits(e: &mut Vec<String>, path: &str, idle_ms: u64, outbound: usize) {
    if !IDLE_TIMEOUT_MS_RANGE.contains(&idle_ms) {
        let (lo, hi) = (IDLE_TIMEOUT_MS_RANGE.start(), IDLE_TIMEOUT_MS_RANGE.end());
        e.push(format!("{path}.idle_timeout_ms: must be in {lo}..={hi} (got {idle_ms})"));
    }
    if !OUTBOUND_BYTES_RANGE.contains(&outbound) {
        let (lo, hi) = (OUTBOUND_BYTES_RANGE.start(), OUTBOUND_BYTES_RANGE.end());
        e.push(format!("{path}.max_outbound_bytes: must be in {lo}..={hi} (got {outbound})"));
    }
}

fn check_rate(e: &mut Vec<String>, path: &str, v: f64) {
    if !v.is_finite() || v < 0.0 {
        e.push(format!("{path}.rate_per_sec: must be a finite number ≥ 0 (got {v})"));
    }
}

impl IngressConfig {
    /// Every problem of the section, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut e = Vec::new();
        self.synthetic.validate_into(&mut e, &format!("{path}.synthetic"));
        self.file.validate_into(&mut e, &format!("{path}.file"), self.source == IngressSource::File);
        let t = &self.tcp;
        if t.listen.parse::<std::net::SocketAddr>().is_err() {
            e.push(format!("{path}.tcp.listen: must be an IP:port address (got {:?})", t.listen));
        }
        if !(MIN_LINE_BYTES..=MAX_LINE_BYTES).contains(&t.max_line_bytes) {
            e.push(format!("{path}.tcp.max_line_bytes: must be in {MIN_LINE_BYTES}..={MAX_LINE_BYTES}"));
        }
        if !(1..=65_536).contains(&t.max_connections) {
            e.push(format!("{path}.tcp.max_connections: must be in 1..=65536"));
        }
        let w = &self.ws;
        if w.listen.parse::<std::net::SocketAddr>().is_err() {
            e.push(format!("{path}.ws.listen: must be an IP:port address (got {:?})", w.listen));
        }
        if !(MIN_LINE_BYTES..=MAX_LINE_BYTES).contains(&w.max_frame_bytes) {
            e.push(format!("{path}.ws.max_frame_bytes: must be in {MIN_LINE_BYTES}..={MAX_LINE_BYTES}"));
        }
        if !(1..=65_536).contains(&w.max_connections) {
            e.push(format!("{path}.ws.max_connections: must be in 1..=65536"));
        }
        check_connection_limits(&mut e, &format!("{path}.tcp"), t.idle_timeout_ms, t.max_outbound_bytes);
        check_connection_limits(&mut e, &format!("{path}.ws"), w.idle_timeout_ms, w.max_outbound_bytes);
        if !HANDSHAKE_TIMEOUT_MS_RANGE.contains(&w.handshake_timeout_ms) {
            let (lo, hi) = (HANDSHAKE_TIMEOUT_MS_RANGE.start(), HANDSHAKE_TIMEOUT_MS_RANGE.end());
            e.push(format!("{path}.ws.handshake_timeout_ms: must be in {lo}..={hi} (got {})", w.handshake_timeout_ms));
        }
        for (name, rate) in [("tcp", t.max_rate_per_connection), ("ws", w.max_rate_per_connection)] {
            if !rate.is_finite() || rate < 0.0 {
                e.push(format!("{path}.{name}.max_rate_per_connection: must be a finite number ≥ 0 (got {rate})"));
            }
        }
        if self.source == IngressSource::Redis {
            self.redis.validate_into(&mut e, &format!("{path}.redis"));
        }
        if !(1..=tradeflow_core::MAX_MODELS).contains(&self.max_models) {
            e.push(format!(
                "{path}.max_models: must be in 1..={} (got {})",
                tradeflow_core::MAX_MODELS,
                self.max_models
            ));
        }
        let d = self.dedupe_window;
        if d != 0 && (!d.is_power_of_two() || d > MAX_DEDUPE_WINDOW) {
            e.push(format!("{path}.dedupe_window: must be 0 or a power of two up to {MAX_DEDUPE_WINDOW} (got {d})"));
        }
        e
    }

    /// Problems that need the catalog: unknown symbols and models, nothing to draw from.
    pub fn validate_against(&self, catalog: &Catalog) -> Vec<String> {
        let mut e = Vec::new();
        let s = &self.synthetic;
        for sym in &s.symbols {
            if catalog.find_symbol(sym.as_bytes()).is_none() {
                e.push(format!("ingress.synthetic.symbols: {sym:?} is not a configured instrument"));
            }
        }
        for m in &s.models {
            if catalog.find_model(m.as_bytes()).is_none() {
                e.push(format!("ingress.synthetic.models: {m:?} is not a configured model"));
            }
        }
        if self.source == IngressSource::Synthetic {
            if catalog.instruments().is_empty() {
                e.push("ingress.synthetic.symbols: the catalog has no instruments to draw from".into());
            }
            if catalog.models().is_empty() {
                e.push("ingress.synthetic.models: the catalog has no models to draw from".into());
            }
        }
        e
    }
}

impl SyntheticConfig {
    fn validate_into(&self, e: &mut Vec<String>, path: &str) {
        check_rate(e, path, self.rate_per_sec);
        check_unit(e, path, "confidence_min", self.confidence_min);
        check_unit(e, path, "confidence_max", self.confidence_max);
        if self.confidence_min > self.confidence_max {
            e.push(format!("{path}.confidence_min: must not exceed confidence_max"));
        }
        check_unit(e, path, "buy_ratio", self.buy_ratio);
        check_unit(e, path, "duplicate_ratio", self.duplicate_ratio);
        if self.timeframes.is_empty() {
            e.push(format!("{path}.timeframes: must name at least one timeframe"));
        }
        for tf in &self.timeframes {
            if Timeframe::from_name(tf).is_none() {
                e.push(format!("{path}.timeframes: {tf:?} is not one of 1m 5m 15m 30m 1h 4h 1d"));
            }
        }
    }

    /// The configured timeframes that parse (validation reports the others).
    pub fn parsed_timeframes(&self) -> Vec<Timeframe> {
        self.timeframes.iter().filter_map(|t| Timeframe::from_name(t)).collect()
    }
}

impl FileSourceConfig {
    fn validate_into(&self, e: &mut Vec<String>, path: &str, selected: bool) {
        check_rate(e, path, self.rate_per_sec);
        if !self.replay_speed.is_finite() || self.replay_speed < 0.0 {
            e.push(format!("{path}.replay_speed: must be a finite number ≥ 0 (got {})", self.replay_speed));
        }
        if self.replay_speed > 0.0 && self.rate_per_sec > 0.0 {
            e.push(format!("{path}.replay_speed: cannot be combined with rate_per_sec (pick one pacing)"));
        }
        if selected && self.path.is_empty() {
            e.push(format!("{path}.path: must name a file or \"-\" for stdin"));
        }
        if !(MIN_LINE_BYTES..=MAX_LINE_BYTES).contains(&self.max_line_bytes) {
            e.push(format!(
                "{path}.max_line_bytes: must be in {MIN_LINE_BYTES}..={MAX_LINE_BYTES} (got {})",
                self.max_line_bytes
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(IngressConfig::default().validate("ingress").is_empty());
    }

    #[test]
    fn reports_every_problem() {
        let mut c = IngressConfig { source: IngressSource::File, ..Default::default() };
        c.synthetic.rate_per_sec = f64::NAN;
        c.synthetic.confidence_min = 0.9;
        c.synthetic.confidence_max = 0.1;
        c.synthetic.buy_ratio = 1.5;
        c.synthetic.duplicate_ratio = -0.1;
        c.synthetic.timeframes = vec!["2m".into()];
        c.file.path = String::new();
        c.file.rate_per_sec = -1.0;
        c.file.max_line_bytes = 1;
        let e = c.validate("ingress");
        for needle in [
            "ingress.synthetic.rate_per_sec",
            "ingress.synthetic.confidence_min: must not exceed",
            "ingress.synthetic.buy_ratio",
            "ingress.synthetic.duplicate_ratio",
            "ingress.synthetic.timeframes: \"2m\"",
            "ingress.file.path",
            "ingress.file.rate_per_sec",
            "ingress.file.max_line_bytes",
        ] {
            assert!(e.iter().any(|m| m.starts_with(needle)), "{needle} missing in {e:?}");
        }
        assert_eq!(e.len(), 8, "{e:?}");
    }

    #[test]
    fn connection_limits_are_bounded_both_ways() {
        let mut c = IngressConfig::default();
        c.tcp.idle_timeout_ms = 0;
        c.tcp.max_outbound_bytes = 100;
        c.ws.idle_timeout_ms = 86_400_001;
        c.ws.handshake_timeout_ms = 60_001;
        c.ws.max_outbound_bytes = (64 << 20) + 1;
        let e = c.validate("ingress");
        for needle in [
            "ingress.tcp.idle_timeout_ms: must be in 100..=86400000 (got 0)",
            "ingress.tcp.max_outbound_bytes: must be in 4096..=67108864 (got 100)",
            "ingress.ws.idle_timeout_ms: must be in 100..=86400000",
            "ingress.ws.handshake_timeout_ms: must be in 100..=60000 (got 60001)",
            "ingress.ws.max_outbound_bytes: must be in 4096..=67108864",
        ] {
            assert!(e.iter().any(|m| m.starts_with(needle)), "{needle} missing in {e:?}");
        }
        assert_eq!(e.len(), 5, "{e:?}");
    }

    #[test]
    fn parses_toml_like_input_and_rejects_unknown_fields() {
        let c: IngressConfig =
            serde_json::from_str(r#"{"source":"file","file":{"path":"x.jsonl","rate_per_sec":10.0}}"#).unwrap();
        assert_eq!(c.source, IngressSource::File);
        assert_eq!(c.file.max_line_bytes, 65_536);
        assert!(serde_json::from_str::<IngressConfig>(r#"{"sorce":"file"}"#).is_err());
    }
}
