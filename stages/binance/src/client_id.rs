//! Client order ids derived from trace ids: the same signal always maps to the same id, so a
//! resend after a lost answer can never become a second order.
//!
//! Layout: `<prefix><purpose><22 base62 chars of SHA-256(trace id)>`. The prefix (up to 8 of
//! `[A-Za-z0-9_-]`) tells this deployment's orders apart; the purpose letter separates the
//! orders one signal can cause (entry, exit, protective stop, protective take-profit). The
//! result always matches Binance's `^[\.A-Z\:/a-z0-9_-]{1,36}$` and avoids `.`, `:` and `/`.

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
/// Base62 characters of the digest (≈131 bits).
const DIGEST_CHARS: usize = 22;

/// Whether `prefix` can start client order ids.
pub fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= MAX_PREFIX && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Writes the client order id of (`trace`, `purpose`) into `out` (cleared first).
pub fn client_order_id(prefix: &str, purpose: Purpose, trace: &[u8], out: &mut String) {
    const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    out.clear();
    out.push_str(prefix);
    out.push(char::from(purpose.letter()));
    let digest = Sha256::digest(trace);
    let mut n = u128::from_be_bytes(digest[..16].try_into().unwrap_or([0; 16]));
    for _ in 0..DIGEST_CHARS {
        out.push(char::from(B62[(n % 62) as usize]));
        n /= 62;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_distinct_per_purpose_and_within_binance_rules() {
        let mut a = String::new();
        let mut b = String::new();
        let trace = b"0f8fad5b-d9cb-469f-a165-70867728950e";
        client_order_id("tf", Purpose::Entry, trace, &mut a);
        client_order_id("tf", Purpose::Entry, trace, &mut b);
        assert_eq!(a, b);
        assert_eq!(a.len(), 2 + 1 + 22);
        client_order_id("tf", Purpose::Exit, trace, &mut b);
        assert_ne!(a, b);
        assert_eq!(Purpose::of(&b, "tf"), Some(Purpose::Exit));
        client_order_id("tf", Purpose::Entry, b"another-trace", &mut b);
        assert_ne!(a, b);
        client_order_id("longpfx8", Purpose::TakeProfit, trace, &mut b);
        assert!(b.len() <= 36);
        assert!(b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'));
        assert!(valid_prefix("tf-1_a") && !valid_prefix("bad.pfx") && !valid_prefix("waytoolong"));
    }
}
