//! Request signing and verification, as the Binance WebSocket API documents it.
//!
//! The signature payload is every request parameter except `signature`, sorted by name in
//! byte order, written `name=value` and joined with `&`; values are the raw UTF-8 text of the
//! JSON scalar (strings unquoted and not percent-encoded, numbers as sent, booleans
//! `true`/`false`). [`crate::request::RequestWriter`] builds that payload; this module turns it
//! into a signature:
//!
//! - HMAC-SHA256 with the secret key, lowercase hex (the server compares case-insensitively);
//! - Ed25519 (RFC 8032, deterministic), standard base64 with padding.
//!
//! Only Ed25519 keys may authenticate a whole session (`session.logon`); HMAC keys sign every
//! request. Secrets are never printed: the `Debug` of [`Credentials`] shows the API key's first
//! four characters only.

use std::fmt;

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How requests are authenticated.
#[derive(Clone)]
pub enum Credentials {
    /// HMAC-SHA256 key pair: every signed request carries `apiKey` and a hex `signature`.
    Hmac {
        /// The API key (sent in the clear as `apiKey`).
        api_key: String,
        /// The secret key (never sent, never logged).
        secret: Vec<u8>,
    },
    /// Ed25519 key: `session.logon` once per connection, then unsigned requests.
    Ed25519 {
        /// The API key registered for this public key.
        api_key: String,
        /// The private key.
        key: Box<SigningKey>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, key) = match self {
            Credentials::Hmac { api_key, .. } => ("Hmac", api_key),
            Credentials::Ed25519 { api_key, .. } => ("Ed25519", api_key),
        };
        write!(f, "Credentials::{kind}(apiKey {}…, secret hidden)", redact(key))
    }
}

/// The first four characters of a key, for logs.
pub fn redact(key: &str) -> &str {
    let end = key.char_indices().nth(4).map_or(key.len(), |(i, _)| i);
    &key[..end]
}

impl Credentials {
    /// HMAC credentials.
    pub fn hmac(api_key: impl Into<String>, secret: impl AsRef<[u8]>) -> Credentials {
        Credentials::Hmac { api_key: api_key.into(), secret: secret.as_ref().to_vec() }
    }

    /// Ed25519 credentials from the 32-byte private key seed.
    pub fn ed25519(api_key: impl Into<String>, seed: &[u8; 32]) -> Credentials {
        Credentials::Ed25519 { api_key: api_key.into(), key: Box::new(SigningKey::from_bytes(seed)) }
    }

    /// The API key.
    pub fn api_key(&self) -> &str {
        match self {
            Credentials::Hmac { api_key, .. } | Credentials::Ed25519 { api_key, .. } => api_key,
        }
    }

    /// Whether `session.logon` can be used (Ed25519 keys only).
    pub fn supports_logon(&self) -> bool {
        matches!(self, Credentials::Ed25519 { .. })
    }

    /// Signs `payload`, appending the signature text (hex or base64) to `out`.
    pub fn sign_into(&self, payload: &[u8], out: &mut String) {
        match self {
            Credentials::Hmac { secret, .. } => {
                let tag = hmac_sha256(secret, payload);
                push_hex(&tag, out);
            }
            Credentials::Ed25519 { key, .. } => {
                let sig = key.sign(payload);
                base64::engine::general_purpose::STANDARD.encode_string(sig.to_bytes(), out);
            }
        }
    }

    /// The signature of `payload` as a new string.
    pub fn sign(&self, payload: &[u8]) -> String {
        let mut s = String::with_capacity(88);
        self.sign_into(payload, &mut s);
        s
    }

    /// The Ed25519 public key, if this is an Ed25519 credential.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        match self {
            Credentials::Ed25519 { key, .. } => Some(key.verifying_key()),
            Credentials::Hmac { .. } => None,
        }
    }
}

/// HMAC-SHA256 of `payload` under `secret`.
pub fn hmac_sha256(secret: &[u8], payload: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

/// Server side: whether `signature_hex` is the HMAC-SHA256 of `payload` (hex compared
/// case-insensitively, in constant time over the tag).
pub fn verify_hmac(secret: &[u8], payload: &[u8], signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.to_ascii_lowercase()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(payload);
    mac.verify_slice(&given).is_ok()
}

/// Server side: whether `signature_b64` is a valid Ed25519 signature of `payload` by `key`.
pub fn verify_ed25519(key: &VerifyingKey, payload: &[u8], signature_b64: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&raw) else {
        return false;
    };
    key.verify(payload, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn hmac_matches_the_documented_example() {
        let payload = format!(
            "apiKey={API}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT\
             &timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        );
        let c = Credentials::hmac(API, SECRET);
        let sig = c.sign(payload.as_bytes());
        assert_eq!(sig, "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24");
        assert!(verify_hmac(SECRET.as_bytes(), payload.as_bytes(), &sig));
        assert!(verify_hmac(SECRET.as_bytes(), payload.as_bytes(), &sig.to_ascii_uppercase()));
        assert!(!verify_hmac(SECRET.as_bytes(), b"apiKey=x", &sig));
        assert!(!verify_hmac(SECRET.as_bytes(), payload.as_bytes(), "zz"));
    }

    #[test]
    fn ed25519_round_trips_and_rejects_tampering() {
        let c = Credentials::ed25519("k", &[7u8; 32]);
        let sig = c.sign(b"apiKey=k&timestamp=1");
        assert_eq!(sig.len(), 88);
        let Some(vk) = c.verifying_key() else { panic!("ed25519 has a public key") };
        assert!(verify_ed25519(&vk, b"apiKey=k&timestamp=1", &sig));
        assert!(!verify_ed25519(&vk, b"apiKey=k&timestamp=2", &sig));
        assert!(!verify_ed25519(&vk, b"apiKey=k&timestamp=1", "not base64!"));
        // Deterministic (RFC 8032).
        assert_eq!(sig, c.sign(b"apiKey=k&timestamp=1"));
    }

    #[test]
    fn debug_hides_secrets() {
        let s = format!("{:?}", Credentials::hmac(API, SECRET));
        assert!(s.contains("vmPU…"), "{s}");
        assert!(!s.contains(SECRET) && !s.contains(API), "{s}");
    }
}
