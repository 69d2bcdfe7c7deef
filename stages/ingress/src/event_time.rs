//! Event time for recorded signal files: the run's clock follows the recording.
//!
//! A recorded file (or the reference test scenario, stamped 2024-12-02) replayed on wall-clock
//! time would be `STALE_SIGNAL` line after line. On event time instead:
//! - the run's clock starts at the recording's first `timestamp` ([`first_timestamp_us`] reads
//!   it before the run starts), so the event log is dated like the recording;
//! - each signal keeps the age it had *in the recording*: its timestamp is carried into the
//!   run's clock as `now − (newest timestamp seen so far − its timestamp)` ([`EventClock`]).
//!   An in-order recording therefore trades at any replay speed or rate, while a signal that
//!   arrived late in the recording is still as late (and as stale) as it was.
//!
//! Standard input and the network sources stay on wall-clock time, with the staleness checks.

use std::io::BufRead;

/// The recording's clock: the newest signal timestamp seen so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventClock {
    newest_us: Option<i64>,
}

impl EventClock {
    /// A signal stamped `ts_us` in the recording, released at run time `now_us` (epoch µs): its
    /// timestamp on the run's clock, with its age in the recording.
    pub fn rebase(&mut self, ts_us: i64, now_us: i64) -> i64 {
        let newest = self.newest_us.map_or(ts_us, |n| n.max(ts_us));
        self.newest_us = Some(newest);
        now_us.saturating_sub(newest.saturating_sub(ts_us))
    }
}

/// Most bytes read looking for the first signal's timestamp.
const PEEK_BYTES: u64 = 1 << 20;

/// The latest first timestamp (epoch s) taken as the run's start: 2096, well inside i64 ns.
const MAX_EPOCH_S: f64 = 4.0e9;

/// The `timestamp` (epoch µs) of the first line of `path` that is a JSON object with a numeric
/// `timestamp`, among the first lines of the file; `None` when there is none (or the file
/// cannot be read: opening it for the run reports that).
pub fn first_timestamp_us(path: &str) -> Option<i64> {
    let file = std::fs::File::open(path).ok()?;
    let reader = std::io::BufReader::new(std::io::Read::take(file, PEEK_BYTES));
    for line in reader.lines().take(1000) {
        let line = line.ok()?;
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if let Some(ts) = map.get("timestamp").and_then(serde_json::Value::as_f64) {
            // Only a start the run's nanosecond clock can hold for a long run (before 2096):
            // a later (or millisecond) stamp as the epoch overflows it; such lines are refused.
            if ts.is_finite() && ts > 0.0 && ts <= MAX_EPOCH_S {
                return Some((ts * 1e6) as i64);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure must stop the test
    use super::*;

    #[test]
    fn in_order_signals_are_fresh_and_late_ones_keep_their_lateness() {
        let mut c = EventClock::default();
        let now = 1_000_000_000_000;
        assert_eq!(c.rebase(1_733_155_200_000_000, now), now);
        assert_eq!(c.rebase(1_733_155_260_000_000, now + 5), now + 5, "a later signal is fresh too");
        // Stamped 30 s before the newest one seen: 30 s old on the run's clock as well.
        assert_eq!(c.rebase(1_733_155_230_000_000, now + 9), now + 9 - 30_000_000);
    }

    #[test]
    fn the_first_timestamp_is_read_past_blank_and_bad_lines() {
        let path = std::env::temp_dir().join(format!("tradeflow-event-time-{}.jsonl", std::process::id()));
        std::fs::write(&path, "\nnot json\n{\"symbol\":\"X\"}\n{\"timestamp\":1733155200.5}\n{\"timestamp\":1}\n")
            .unwrap();
        assert_eq!(first_timestamp_us(path.to_str().unwrap()), Some(1_733_155_200_500_000));
        std::fs::write(&path, "{\"symbol\":\"X\"}\n").unwrap();
        assert_eq!(first_timestamp_us(path.to_str().unwrap()), None);
        let _ = std::fs::remove_file(path);
        assert_eq!(first_timestamp_us("/nonexistent/signals.jsonl"), None);
    }
}
