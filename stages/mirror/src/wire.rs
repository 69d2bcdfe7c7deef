//! The reference wire format, encoded straight into RESP (the Redis protocol) in a reused
//! buffer: one `XADD <prefix><event_type> MAXLEN ~ <n> * field value …` per event.
//!
//! Fields (all strings, as the reference system writes them): `event_type`; `payload` — the
//! event's reference JSON (`trace_id`, `timestamp` as epoch seconds, the event's fields,
//! `metadata`); `trace_id`; `correlation_id` — the sequence number the whole chain of one
//! signal shares (`header.seq`), so a consumer can group a chain even across trace-id reuse;
//! `timestamp` — UTC ISO-8601 with microseconds; `source` — the emitting stage.

use std::io::Write as _;

use tradeflow_core::json::write_str;
use tradeflow_core::{Catalog, Event, JsonRenderer, StageId};

pub use tradeflow_core::redact_url;

/// Writes Unix-epoch nanoseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn write_iso8601(epoch_ns: i64, out: &mut Vec<u8>) {
    let secs = epoch_ns.div_euclid(1_000_000_000);
    let micros = epoch_ns.rem_euclid(1_000_000_000) / 1_000;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z", tod / 3_600, tod % 3_600 / 60, tod % 60);
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    let _ = write!(out, "${}\r\n", b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Encodes events as `XADD` commands.
#[derive(Debug)]
pub struct Encoder {
    catalog: std::sync::Arc<Catalog>,
    wall_offset_ns: i64,
    prefix: String,
    maxlen: String,
    payload: Vec<u8>,
    field: Vec<u8>,
}

impl Encoder {
    /// An encoder for streams `<prefix><event_type>` trimmed to about `maxlen` entries.
    pub fn new(catalog: std::sync::Arc<Catalog>, wall_offset_ns: i64, prefix: &str, maxlen: u64) -> Encoder {
        Encoder {
            catalog,
            wall_offset_ns,
            prefix: prefix.to_owned(),
            maxlen: maxlen.to_string(),
            payload: Vec::with_capacity(1024),
            field: Vec::with_capacity(64),
        }
    }

    /// Appends the `XADD` of one event to `out`.
    pub fn xadd(&mut self, source: StageId, ev: &Event, out: &mut Vec<u8>) {
        let h = ev.header();
        self.payload.clear();
        JsonRenderer { catalog: &self.catalog, wall_offset_ns: self.wall_offset_ns }
            .write_payload(ev, &mut self.payload);
        let name = ev.kind().name();
        out.extend_from_slice(b"*18\r\n$4\r\nXADD\r\n");
        let _ = write!(out, "${}\r\n{}{name}\r\n", self.prefix.len() + name.len(), self.prefix);
        out.extend_from_slice(b"$6\r\nMAXLEN\r\n$1\r\n~\r\n");
        bulk(out, self.maxlen.as_bytes());
        out.extend_from_slice(b"$1\r\n*\r\n");
        bulk(out, b"event_type");
        bulk(out, name.as_bytes());
        bulk(out, b"payload");
        bulk(out, &self.payload);
        bulk(out, b"trace_id");
        bulk(out, h.trace_id.as_bytes());
        bulk(out, b"correlation_id");
        self.field.clear();
        let _ = write!(self.field, "{}", h.seq);
        bulk(out, &self.field);
        bulk(out, b"timestamp");
        self.field.clear();
        write_iso8601((h.ts_emit_ns as i64).saturating_add(self.wall_offset_ns), &mut self.field);
        bulk(out, &self.field);
        bulk(out, b"source");
        bulk(out, source.name().as_bytes());
    }

    /// Appends an `XADD <prefix>tradeflow.stats MAXLEN ~ n * k v … payload {…}` with `fields`
    /// flat (as before) and again as the entry's `payload` JSON (see [`stats_payload`]), so a
    /// reference subscriber on the stats stream gets the numbers like on every other stream.
    /// `epoch_s` is the payload's `timestamp`.
    pub fn xadd_stats(&mut self, fields: &[(&str, String)], epoch_s: f64, out: &mut Vec<u8>) {
        let _ = write!(out, "*{}\r\n$4\r\nXADD\r\n", 8 + 2 * fields.len());
        let stream = format!("{}tradeflow.stats", self.prefix);
        bulk(out, stream.as_bytes());
        out.extend_from_slice(b"$6\r\nMAXLEN\r\n$1\r\n~\r\n");
        bulk(out, self.maxlen.as_bytes());
        out.extend_from_slice(b"$1\r\n*\r\n");
        for (k, v) in fields {
            bulk(out, k.as_bytes());
            bulk(out, v.as_bytes());
        }
        self.payload.clear();
        stats_payload(fields, epoch_s, &mut self.payload);
        bulk(out, b"payload");
        bulk(out, &self.payload);
    }
}

/// The stats as a JSON object: each field (integers as numbers, other values as strings),
/// then `trace_id` (empty: health entries belong to no signal), `timestamp` (epoch seconds)
/// and an empty `metadata`, the shape of every other stream's payload.
pub fn stats_payload(fields: &[(&str, String)], epoch_s: f64, out: &mut Vec<u8>) {
    out.push(b'{');
    for (k, v) in fields {
        write_str(out, k.as_bytes());
        out.push(b':');
        match v.parse::<u64>() {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            Err(_) => write_str(out, v.as_bytes()),
        }
        out.push(b',');
    }
    out.extend_from_slice(b"\"trace_id\":\"\",\"timestamp\":");
    if epoch_s.is_finite() {
        let _ = write!(out, "{epoch_s}");
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"metadata\":{}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_instants() {
        let mut s = Vec::new();
        write_iso8601(0, &mut s);
        assert_eq!(s, b"1970-01-01T00:00:00.000000Z");
        s.clear();
        // 2026-11-25T17:40:01.123456Z
        write_iso8601(1_795_628_401_123_456_789, &mut s);
        assert_eq!(String::from_utf8_lossy(&s), "2026-11-25T17:40:01.123456Z");
        s.clear();
        // A leap day.
        write_iso8601(951_782_400_000_000_000, &mut s);
        assert_eq!(String::from_utf8_lossy(&s), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn stats_payload_is_a_json_object_of_the_fields() {
        let fields = [("event_type", "system.health".to_owned()), ("mirrored", "120".to_owned())];
        let mut out = Vec::new();
        stats_payload(&fields, 1.5, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"event_type":"system.health","mirrored":120,"trace_id":"","timestamp":1.5,"metadata":{}}"#
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("redis://user:s3cret@host:6379/0"), "redis://user:***@host:6379/0");
        assert_eq!(redact_url("rediss://:s3cret@host"), "rediss://:***@host");
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
