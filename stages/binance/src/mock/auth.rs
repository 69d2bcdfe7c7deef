//! Request authentication: HMAC-SHA256 or Ed25519 signatures, `session.logon` sessions, and
//! the timing-security check (notes §3.1, §3.4, §3.5).

use super::engine::Engine;
use super::params::{ApiError, Params};
use crate::sign::{verify_ed25519, verify_hmac};

/// Default and maximum `recvWindow`.
const RECV_WINDOW_DEFAULT_MS: i64 = 5000;
const RECV_WINDOW_MAX_MS: i64 = 60_000;

/// `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`, else `-1021`.
pub(crate) fn check_timestamp(p: &Params, server_ms: i64) -> Result<(), ApiError> {
    let ts = p.int("timestamp")?.ok_or_else(|| ApiError::mandatory("timestamp"))?;
    let window = match p.text("recvWindow") {
        None => RECV_WINDOW_DEFAULT_MS,
        Some(t) => t.parse::<i64>().map_err(|_| ApiError::mandatory("recvWindow"))?,
    };
    if !(0..=RECV_WINDOW_MAX_MS).contains(&window) {
        return Err(ApiError::bad(-1131, "recvWindow must be less than 60000"));
    }
    if ts >= server_ms + 1000 {
        return Err(ApiError::bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time."));
    }
    if server_ms - ts > window {
        return Err(ApiError::bad(-1021, "Timestamp for this request is outside of the recvWindow."));
    }
    Ok(())
}

/// Whether `signature` signs `payload` under the account's key (HMAC hex or Ed25519 base64).
pub(crate) fn verify(e: &Engine, acct: usize, payload: &[u8], signature: &str) -> bool {
    let a = &e.accounts[acct];
    if let Some(secret) = &a.hmac_secret {
        if verify_hmac(secret, payload, signature) {
            return true;
        }
    }
    a.ed25519.as_ref().is_some_and(|k| verify_ed25519(k, payload, signature))
}

/// The account behind an API key (`-2015`).
pub(crate) fn account(e: &Engine, api_key: &str) -> Result<usize, ApiError> {
    e.account(api_key).ok_or_else(ApiError::api_key)
}

/// Authenticates a SIGNED WebSocket API request: an explicit `apiKey` + `signature`, or the
/// connection's `session.logon` key. `timestamp` is always required.
pub(crate) fn signed(e: &Engine, p: &Params, session: Option<usize>, server_ms: i64) -> Result<usize, ApiError> {
    match (p.text("signature"), session) {
        (Some(sig), _) => {
            let acct = account(e, &p.req("apiKey")?)?;
            check_timestamp(p, server_ms)?;
            if !verify(e, acct, p.payload().as_bytes(), &sig) {
                return Err(ApiError::signature());
            }
            Ok(acct)
        }
        (None, Some(acct)) => {
            if p.text("apiKey").is_some_and(|k| k != e.accounts[acct].api_key) {
                return Err(ApiError::mandatory("signature"));
            }
            check_timestamp(p, server_ms)?;
            Ok(acct)
        }
        (None, None) if p.has("apiKey") => Err(ApiError::mandatory("signature")),
        (None, None) => Err(ApiError::mandatory("apiKey")),
    }
}

/// `session.logon`: Ed25519 keys only (HMAC keys get `-1022`, as users report).
pub(crate) fn logon(e: &Engine, p: &Params, server_ms: i64) -> Result<usize, ApiError> {
    p.only(&[])?;
    let sig = p.req("signature")?;
    let acct = account(e, &p.req("apiKey")?)?;
    check_timestamp(p, server_ms)?;
    let Some(key) = &e.accounts[acct].ed25519 else { return Err(ApiError::signature()) };
    if !verify_ed25519(key, p.payload().as_bytes(), &sig) {
        return Err(ApiError::signature());
    }
    Ok(acct)
}

/// The REST signature payload: query string then body as sent, each without its
/// `signature` parameter, concatenated.
pub(crate) fn rest_payload(query: &str, body: &str) -> String {
    let strip = |s: &str| s.split('&').filter(|kv| !kv.starts_with("signature=")).collect::<Vec<_>>().join("&");
    let mut out = strip(query);
    out.push_str(&strip(body));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_security_follows_the_documented_rule() {
        let p = |ts: i64, w: Option<i64>| {
            let mut v = vec![("timestamp".to_owned(), ts.to_string())];
            if let Some(w) = w {
                v.push(("recvWindow".to_owned(), w.to_string()));
            }
            Params::from_pairs(&v)
        };
        let now = 1_700_000_000_000;
        assert!(check_timestamp(&p(now, None), now).is_ok());
        assert!(check_timestamp(&p(now + 999, None), now).is_ok());
        assert_eq!(check_timestamp(&p(now + 1000, None), now).map_err(|e| e.code), Err(-1021));
        assert!(check_timestamp(&p(now - 5000, None), now).is_ok());
        assert_eq!(check_timestamp(&p(now - 5001, None), now).map_err(|e| e.code), Err(-1021));
        assert!(check_timestamp(&p(now - 9000, Some(10_000)), now).is_ok());
        assert_eq!(check_timestamp(&p(now, Some(60_001)), now).map_err(|e| e.code), Err(-1131));
    }

    #[test]
    fn rest_payload_matches_the_documented_futures_vector() {
        let secret = b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
        let q = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000\
                 &timestamp=1591702613943&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
        let payload = rest_payload(q, "");
        let sig = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
        assert!(verify_hmac(secret, payload.as_bytes(), sig));
        assert_eq!(rest_payload("a=1&signature=x", "b=2"), "a=1b=2");
    }
}
