//! Client order ids derived from (run id, trace id): the same signal of the same run always
//! maps to the same id, so a resend after a lost answer — or after a restart of the same run —
//! can never become a second order; another run (a new run id) never collides with it, even
//! when its signals repeat the trace ids of an earlier run (a synthetic source with one seed).
//!
//! Layout: `<prefix><purpose><22 base62 chars of SHA-256(run id, 0x1f, trace id)>`. The prefix
//! (up to 8 of `[A-Za-z0-9_-]`) tells this deployment's orders apart; the purpose letter
//! separates the orders one signal can cause (entry, exit, protective stop, protective
//! take-profit); the run id (up to 32 of `[A-Za-z0-9_-]`, [`new_run_id`] by default) is hashed,
//! not shown, so the id stays at most 8 + 1 + 22 = 31 characters. The result always matches
//! Binance's `newClientOrderId` rule `^[\.A-Z\:/a-z0-9_-]{1,36}$` and avoids `.`, `:` and `/`.

use sha2::{Digest, Sha256};

/// Which order of a signal this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The entry order.
    Entry,
    /// The reduce-only exit.
    Exit,
    /// The exchange-side protective stop.
    Stop,
    /// The exchange-side protective take-profit.
    TakeProfit,
}

impl Purpose {
    const fn letter(self) -> u8 {
        match self {
            Purpose::Entry => b'E',
            Purpose::Exit => b'X',
            Purpose::Stop => b'S',
            Purpose::TakeProfit => b'T',
        }
    }

    /// The purpose of an id made by [`client_order_id`] with `prefix`.
    pub fn of(id: &str, prefix: &str) -> Option<Purpose> {
        match id.strip_prefix(prefix)?.as_bytes().first()? {
            b'E' => Some(Purpose::Entry),
            b'X' => Some(Purpose::Exit),
            b'S' => Some(Purpose::Stop),
            b'T' => Some(Purpose::TakeProfit),
            _ => None,
        }
    }
}

/// Longest accepted prefix.
pub const MAX_PREFIX: usize = 8;
/// Longest accepted run id.
pub const MAX_RUN_ID: usize = 32;
/// Base62 characters of the digest (≈131 bits).
const DIGEST_CHARS: usize = 22;
/// Characters of a generated run id (≈95 bits).
const RUN_ID_CHARS: usize = 16;
const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn id_chars(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `prefix` can start client order ids.
pub fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= MAX_PREFIX && id_chars(prefix)
}

/// Whether `run` can be a run id (1 to 32 of `[A-Za-z0-9_-]`).
pub fn valid_run_id(run: &str) -> bool {
    (1..=MAX_RUN_ID).contains(&run.len()) && id_chars(run)
}

/// A fresh run id: 16 base62 characters from the OS random generator.
pub fn new_run_id() -> String {
    (0..RUN_ID_CHARS).map(|_| char::from(B62[rand::random_range(0..B62.len())])).collect()
}

/// Writes the client order id of (`run`, `trace`, `purpose`) into `out` (cleared first).
pub fn client_order_id(prefix: &str, run: &str, purpose: Purpose, trace: &[u8], out: &mut String) {
    out.clear();
    out.push_str(prefix);
    out.push(char::from(purpose.letter()));
    let mut h = Sha256::new();
    h.update(run.as_bytes());
    h.update([0x1f]);
    h.update(trace);
    let digest = h.finalize();
    let mut n = u128::from_be_bytes(digest[..16].try_into().unwrap_or([0; 16]));
    for _ in 0..DIGEST_CHARS {
        out.push(char::from(B62[(n % 62) as usize]));
        n /= 62;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &[u8] = b"0f8fad5b-d9cb-469f-a165-70867728950e";

    fn id(prefix: &str, run: &str, purpose: Purpose, trace: &[u8]) -> String {
        let mut s = String::new();
        client_order_id(prefix, run, purpose, trace, &mut s);
        s
    }

    #[test]
    fn deterministic_distinct_per_purpose_and_within_binance_rules() {
        let a = id("tf", "run1", Purpose::Entry, TRACE);
        assert_eq!(a, id("tf", "run1", Purpose::Entry, TRACE), "same run, same trace: same id");
        assert_eq!(a.len(), 2 + 1 + 22);
        let b = id("tf", "run1", Purpose::Exit, TRACE);
        assert_ne!(a, b);
        assert_eq!(Purpose::of(&b, "tf"), Some(Purpose::Exit));
        assert_ne!(a, id("tf", "run1", Purpose::Entry, b"another-trace"));
        let long = id("longpfx8", &"r".repeat(MAX_RUN_ID), Purpose::TakeProfit, TRACE);
        assert!(long.len() <= 36);
        assert!(long.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'));
        assert!(valid_prefix("tf-1_a") && !valid_prefix("bad.pfx") && !valid_prefix("waytoolong"));
    }

    #[test]
    fn another_run_never_reuses_an_id_and_the_run_and_trace_do_not_run_together() {
        let a = id("tf", "run1", Purpose::Entry, TRACE);
        assert_ne!(a, id("tf", "run2", Purpose::Entry, TRACE), "a new run, a new id for the same trace");
        // ("ab", "c…") and ("a", "bc…") hash different bytes thanks to the separator.
        assert_ne!(id("tf", "ab", Purpose::Entry, b"c"), id("tf", "a", Purpose::Entry, b"bc"));
    }

    #[test]
    fn generated_run_ids_are_valid_and_fresh() {
        let (a, b) = (new_run_id(), new_run_id());
        assert!(valid_run_id(&a) && valid_run_id(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(!valid_run_id("") && !valid_run_id("has space") && !valid_run_id(&"x".repeat(33)));
    }
}
