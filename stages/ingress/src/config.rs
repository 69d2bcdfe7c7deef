//! `[ingress]`: which source feeds the pipeline and how it is paced.

use serde::Deserialize;
use tradeflow_core::{Catalog, Timeframe};

/// Smallest accepted `file.max_line_bytes` (a minimal reference signal is ~90 bytes).
pub const MIN_LINE_BYTES: usize = 64;
/// Largest accepted `file.max_line_bytes`.
pub const MAX_LINE_BYTES: usize = 16 << 20;

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
}

/// `[ingress]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngressConfig {
    /// `"synthetic"`, `"file"` or `"tcp"`.
    pub source: IngressSource,
    /// `[ingress.synthetic]`
    pub synthetic: SyntheticConfig,
    /// `[ingress.file]`
    pub file: FileSourceConfig,
    /// `[ingress.tcp]`
    pub tcp: TcpSourceConfig,
    /// `[ingress.ws]`
    pub ws: WsSourceConfig,
}

impl Default for IngressConfig {
    fn default() -> Self {
        IngressConfig {
            source: IngressSource::Synthetic,
            synthetic: SyntheticConfig::default(),
            file: FileSourceConfig::default(),
            tcp: TcpSourceConfig::default(),
            ws: WsSourceConfig::default(),
        }
    }
}

/// `[ingress.ws]`: one reference signal per WebSocket text frame.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
}

impl Default for WsSourceConfig {
    fn default() -> Self {
        WsSourceConfig { listen: "127.0.0.1:7002".into(), acks: true, max_frame_bytes: 65_536, max_connections: 256 }
    }
}

/// `[ingress.tcp]`: reference JSON lines from TCP clients.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
}

impl Default for TcpSourceConfig {
    fn default() -> Self {
        TcpSourceConfig { listen: "127.0.0.1:7001".into(), acks: true, max_line_bytes: 65_536, max_connections: 256 }
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
}

impl Default for FileSourceConfig {
    fn default() -> Self {
        FileSourceConfig { path: "-".into(), rate_per_sec: 0.0, replay_speed: 0.0, max_line_bytes: 65_536 }
    }
}

fn check_unit(e: &mut Vec<String>, path: &str, name: &str, v: f64) {
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        e.push(format!("{path}.{name}: must be a finite number in 0..=1 (got {v})"));
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
    fn parses_toml_like_input_and_rejects_unknown_fields() {
        let c: IngressConfig =
            serde_json::from_str(r#"{"source":"file","file":{"path":"x.jsonl","rate_per_sec":10.0}}"#).unwrap();
        assert_eq!(c.source, IngressSource::File);
        assert_eq!(c.file.max_line_bytes, 65_536);
        assert!(serde_json::from_str::<IngressConfig>(r#"{"sorce":"file"}"#).is_err());
    }
}
