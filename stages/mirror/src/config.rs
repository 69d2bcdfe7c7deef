//! `[mirror]` configuration.

use serde::Deserialize;
use tradeflow_core::EventKind;

/// `[mirror]`: the Redis Streams mirror.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorConfig {
    /// Mirror every event to Redis (`tradeflow run --redis URL` turns it on).
    pub enabled: bool,
    /// `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS. The password is
    /// never logged.
    pub url: String,
    /// Stream name prefix: each event type goes to `<prefix><event_type>`.
    pub prefix: String,
    /// `XADD … MAXLEN ~ <maxlen>`: approximate bound on each stream's length.
    pub maxlen: u64,
    /// Entries per pipelined batch at most.
    pub batch: usize,
    /// A partial batch is sent after this long, ms.
    pub flush_interval_ms: u64,
    /// Event types to mirror (empty = every external event type).
    pub types: Vec<String>,
    /// Capacity of the ring from the sink thread to the mirror thread (power of two); when it
    /// is full, copies are dropped and counted per stage.
    pub ring_capacity: usize,
    /// Connect timeout, ms.
    pub connect_timeout_ms: u64,
    /// Response (and write) timeout of one batch, ms.
    pub response_timeout_ms: u64,
    /// Reconnect backoff: first delay, ms (full jitter, doubling).
    pub reconnect_base_ms: u64,
    /// Reconnect backoff: largest delay, ms.
    pub reconnect_max_ms: u64,
    /// The mirror's own `system.health`-style entry on `<prefix>tradeflow.stats` this often, ms
    /// (0 = never).
    pub stats_interval_ms: u64,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig {
            enabled: false,
            url: "redis://127.0.0.1:6379".into(),
            prefix: "quantum:stream:".into(),
            maxlen: 100_000,
            batch: 512,
            flush_interval_ms: 5,
            types: Vec::new(),
            ring_capacity: 1 << 16,
            connect_timeout_ms: 1_000,
            response_timeout_ms: 2_000,
            reconnect_base_ms: 100,
            reconnect_max_ms: 5_000,
            stats_interval_ms: 1_000,
        }
    }
}

/// Largest `[mirror] ring_capacity` (events; 512 MiB of 128-byte events).
pub const MAX_RING_CAPACITY: usize = 1 << 22;

impl MirrorConfig {
    /// Every problem, as `"<path>.<field>: <what is wrong>"`.
    pub fn validate(&self, path: &str) -> Vec<String> {
        let mut e = Vec::new();
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            e.push(format!(
                "{path}.url: must start with redis:// or rediss:// (got {})",
                crate::wire::redact_url(&self.url)
            ));
        } else if redis::parse_redis_url(&self.url).is_none() {
            e.push(format!("{path}.url: not a valid Redis URL ({})", crate::wire::redact_url(&self.url)));
        }
        if self.prefix.is_empty() || self.prefix.bytes().any(|b| b.is_ascii_whitespace()) {
            e.push(format!("{path}.prefix: must be non-empty, without spaces"));
        }
        if self.maxlen == 0 {
            e.push(format!("{path}.maxlen: must be > 0"));
        }
        if !(1..=65_536).contains(&self.batch) {
            e.push(format!("{path}.batch: must be in 1..=65536"));
        }
        if self.flush_interval_ms == 0 || self.flush_interval_ms > 60_000 {
            e.push(format!("{path}.flush_interval_ms: must be in 1..=60000"));
        }
        for t in &self.types {
            if !EventKind::from_name(t).is_some_and(EventKind::is_external) {
                let valid: Vec<&str> = EventKind::ALL.iter().filter(|k| k.is_external()).map(|k| k.name()).collect();
                e.push(format!("{path}.types: unknown event type {t:?} (valid: {})", valid.join(", ")));
            }
        }
        if !self.ring_capacity.is_power_of_two() || !(2..=MAX_RING_CAPACITY).contains(&self.ring_capacity) {
            e.push(format!("{path}.ring_capacity: must be a power of two from 2 to {MAX_RING_CAPACITY}"));
        }
        for (field, v) in [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("response_timeout_ms", self.response_timeout_ms),
            ("reconnect_base_ms", self.reconnect_base_ms),
        ] {
            if v == 0 {
                e.push(format!("{path}.{field}: must be > 0"));
            }
        }
        if self.reconnect_max_ms < self.reconnect_base_ms {
            e.push(format!("{path}.reconnect_max_ms: must be at least reconnect_base_ms"));
        }
        e
    }

    /// Which event kinds are mirrored, indexed by [`EventKind::get`].
    pub fn selected(&self) -> Vec<bool> {
        EventKind::ALL
            .iter()
            .map(|k| k.is_external() && (self.types.is_empty() || self.types.iter().any(|t| t == k.name())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_problems_are_listed_with_paths() {
        assert!(MirrorConfig::default().validate("mirror").is_empty());
        let bad = MirrorConfig {
            url: "http://user:hunter2@x".into(),
            prefix: String::new(),
            maxlen: 0,
            batch: 0,
            flush_interval_ms: 0,
            types: vec!["signal.generated".into(), "internal.market_tick".into(), "nope".into()],
            ring_capacity: 1000,
            reconnect_base_ms: 10,
            reconnect_max_ms: 5,
            ..MirrorConfig::default()
        };
        let errs = bad.validate("mirror");
        for f in ["url", "prefix", "maxlen", "batch", "flush_interval_ms", "ring_capacity", "reconnect_max_ms"] {
            assert!(errs.iter().any(|e| e.starts_with(&format!("mirror.{f}: "))), "{f}: {errs:?}");
        }
        assert_eq!(errs.iter().filter(|e| e.starts_with("mirror.types")).count(), 2, "{errs:?}");
        assert!(!errs.iter().any(|e| e.contains("hunter2")), "password never shown: {errs:?}");
    }

    #[test]
    fn type_filter_selects_external_kinds_only() {
        let all = MirrorConfig::default().selected();
        for k in EventKind::ALL {
            assert_eq!(all[k.get()], k.is_external(), "{k:?}");
        }
        let some = MirrorConfig { types: vec!["position.closed".into()], ..MirrorConfig::default() }.selected();
        assert_eq!(some.iter().filter(|b| **b).count(), 1);
        assert!(some[EventKind::PositionClosed.get()]);
    }
}
