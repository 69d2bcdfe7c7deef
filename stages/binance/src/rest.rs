//! A small blocking REST client for startup and side-thread calls: server time, exchangeInfo,
//! leverage, the user-data listen key, and any other signed endpoint.
//!
//! Blocking (ureq 3 over rustls/ring): never call it from a stage's hot loop.
//!
//! REST signing differs from the WebSocket API (see [`crate::sign`]): the payload is the query
//! string **in the order sent** (not sorted) with `recvWindow` and `timestamp` appended,
//! every value percent-encoded (all bytes except ASCII alphanumerics and `-_.~`), and the
//! signature appended last as `signature=…` (HMAC lowercase hex, or Ed25519 base64
//! percent-encoded). The API key goes in the `X-MBX-APIKEY` header.
//!
//! ```
//! use tradeflow_binance::rest::rest_query_and_signature;
//! use tradeflow_binance::sign::Credentials;
//!
//! let creds = Credentials::hmac(
//!     "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
//!     "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
//! );
//! let params = [("symbol", "BTCUSDT".to_owned()), ("side", "BUY".to_owned())];
//! let q = rest_query_and_signature(&params, &creds, 1591702613943, 5000);
//! assert!(q.starts_with("symbol=BTCUSDT&side=BUY&recvWindow=5000&timestamp=1591702613943&signature="));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use ureq::http::{self, Response};
use ureq::Agent;

use crate::sign::Credentials;

/// Largest response body read (exchangeInfo of every futures symbol is a few MiB).
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// Default `recvWindow` of the convenience methods, in milliseconds.
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5000;

/// What went wrong with a REST call. Messages never contain the secret key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// The server answered with an error: HTTP status, Binance code (0 when the body had
    /// none), message, and for 418/429 the `Retry-After` delay.
    #[error("HTTP {status}, code {code}: {msg}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Binance error code (`-1021`, `-4028`, …), or 0 if the body carried none.
        code: i64,
        /// Binance message, or the start of the body.
        msg: String,
        /// `Retry-After` on 418/429 responses.
        retry_after: Option<Duration>,
    },
    /// No answer: bad URL, DNS, connect, TLS, timeout, broken connection.
    #[error("transport: {0}")]
    Transport(String),
    /// The answer was not the expected JSON.
    #[error("decode: {0}")]
    Decode(String),
    /// The call needs an API key (and, for signed calls, a secret) but none was configured.
    #[error("this call needs credentials")]
    MissingCredentials,
}

/// Blocking client for the USDⓈ-M futures REST API (or the mock exchange).
pub struct RestClient {
    agent: Agent,
    base_url: String,
    creds: Option<Credentials>,
    time_offset_ms: i64,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base_url", &self.base_url)
            .field("creds", &self.creds)
            .field("time_offset_ms", &self.time_offset_ms)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for `base_url` (`http://` or `https://`, e.g. `https://fapi.binance.com`),
    /// with a whole-request `timeout`. With `extra_root_pem` (test CA), TLS trusts **only**
    /// the certificates in it instead of Mozilla's roots.
    pub fn new(
        base_url: &str,
        creds: Option<Credentials>,
        timeout: Duration,
        extra_root_pem: Option<&[u8]>,
    ) -> Result<RestClient, RestError> {
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(RestError::Transport(format!("base URL must be http:// or https://, got {base_url:?}")));
        }
        let mut config = Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false);
        if let Some(pem) = extra_root_pem {
            let mut roots = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                if let ureq::tls::PemItem::Certificate(cert) =
                    item.map_err(|e| RestError::Transport(format!("extra root PEM: {e}")))?
                {
                    roots.push(cert);
                }
            }
            if roots.is_empty() {
                return Err(RestError::Transport("extra root PEM holds no certificate".to_owned()));
            }
            let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::from(roots)).build();
            config = config.tls_config(tls);
        }
        Ok(RestClient {
            agent: config.build().into(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            creds,
            time_offset_ms: 0,
        })
    }

    /// Sets the correction added to the local clock for signed calls made by the convenience
    /// methods (`server time − local time`, e.g. from [`RestClient::server_time_ms`]).
    pub fn set_time_offset_ms(&mut self, offset_ms: i64) {
        self.time_offset_ms = offset_ms;
    }

    /// Local wall clock plus the configured offset, in ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let local = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        i64::try_from(local).unwrap_or(i64::MAX).saturating_add(self.time_offset_ms)
    }

    /// `GET /fapi/v1/time`: the server time in ms.
    pub fn server_time_ms(&self) -> Result<i64, RestError> {
        let v = self.call("GET", "/fapi/v1/time", "", false)?;
        v.get("serverTime").and_then(Value::as_i64).ok_or_else(|| RestError::Decode("no serverTime".to_owned()))
    }

    /// `GET /fapi/v1/exchangeInfo`: symbols, filters, rate limits, as raw JSON.
    pub fn exchange_info(&self) -> Result<Value, RestError> {
        self.call("GET", "/fapi/v1/exchangeInfo", "", false)
    }

    /// Signed `POST /fapi/v1/leverage`: sets the initial leverage of `symbol` and returns the
    /// leverage the server reports.
    pub fn set_leverage(&self, symbol: &str, leverage: u32) -> Result<u32, RestError> {
        let params = [("symbol", symbol.to_owned()), ("leverage", leverage.to_string())];
        let v = self.signed("POST", "/fapi/v1/leverage", &params, self.now_ms(), DEFAULT_RECV_WINDOW_MS)?;
        v.get("leverage")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok())
            .ok_or_else(|| RestError::Decode("no leverage in the answer".to_owned()))
    }

    /// `POST /fapi/v1/listenKey`: a user-data listen key (valid 60 minutes).
    pub fn new_listen_key(&self) -> Result<String, RestError> {
        let v = self.call("POST", "/fapi/v1/listenKey", "", true)?;
        v.get("listenKey")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| RestError::Decode("no listenKey in the answer".to_owned()))
    }

    /// `PUT /fapi/v1/listenKey`: extends the listen key by 60 minutes.
    pub fn keepalive_listen_key(&self) -> Result<(), RestError> {
        self.call("PUT", "/fapi/v1/listenKey", "", true).map(drop)
    }

    /// `DELETE /fapi/v1/listenKey`: closes the user-data stream.
    pub fn close_listen_key(&self) -> Result<(), RestError> {
        self.call("DELETE", "/fapi/v1/listenKey", "", true).map(drop)
    }

    /// Any signed call: `params` in the order given, then `recvWindow` (omitted when 0),
    /// `timestamp = now_ms` and the signature, all in the query string; `X-MBX-APIKEY` header.
    pub fn signed(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, String)],
        now_ms: i64,
        recv_window_ms: u64,
    ) -> Result<Value, RestError> {
        let creds = self.creds.as_ref().ok_or(RestError::MissingCredentials)?;
        let query = rest_query_and_signature(params, creds, now_ms, recv_window_ms);
        self.call(method, path, &query, true)
    }

    fn call(&self, method: &str, path: &str, query: &str, with_key: bool) -> Result<Value, RestError> {
        let mut url = String::with_capacity(self.base_url.len() + path.len() + query.len() + 1);
        url.push_str(&self.base_url);
        url.push_str(path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        let mut builder = http::Request::builder().method(method).uri(&url);
        if with_key {
            let creds = self.creds.as_ref().ok_or(RestError::MissingCredentials)?;
            builder = builder.header("X-MBX-APIKEY", creds.api_key());
        }
        // Only the method, path and header names can be invalid here; never echo the URL
        // (it carries the API key's signature) or the header value.
        let request = builder.body(()).map_err(|e| RestError::Transport(format!("{method} {path}: {e}")))?;
        let response = self.agent.run(request).map_err(|e| RestError::Transport(format!("{method} {path}: {e}")))?;
        decode_response(response)
    }
}

fn decode_response(mut response: Response<ureq::Body>) -> Result<Value, RestError> {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_string()
        .map_err(|e| RestError::Transport(format!("reading body: {e}")))?;
    let json: Option<Value> = serde_json::from_str(&body).ok();
    let api_error = json.as_ref().and_then(|v| {
        let code = v.get("code")?.as_i64()?;
        let msg = v.get("msg").and_then(Value::as_str).unwrap_or_default().to_owned();
        Some((code, msg))
    });
    if status >= 400 {
        let (code, msg) = api_error.unwrap_or_else(|| (0, body_excerpt(&body)));
        let retry_after = if matches!(status, 418 | 429) { retry_after } else { None };
        return Err(RestError::Api { status, code, msg, retry_after });
    }
    match (json, api_error) {
        (Some(_), Some((code, msg))) if code < 0 => Err(RestError::Api { status, code, msg, retry_after: None }),
        (Some(v), _) => Ok(v),
        (None, _) => Err(RestError::Decode(format!("HTTP {status}, not JSON: {}", body_excerpt(&body)))),
    }
}

fn body_excerpt(body: &str) -> String {
    let end = body.char_indices().nth(200).map_or(body.len(), |(i, _)| i);
    body[..end].to_owned()
}

/// The signed query string of a REST call: `params` in the order given, `recvWindow`
/// (omitted when 0), `timestamp`, then `signature`; every value percent-encoded. The
/// signature covers everything before `&signature=`.
pub fn rest_query_and_signature(params: &[(&str, String)], creds: &Credentials, ts: i64, recv_window: u64) -> String {
    let mut query = String::with_capacity(256);
    for (name, value) in params {
        push_pair(&mut query, name, value);
    }
    if recv_window > 0 {
        push_pair(&mut query, "recvWindow", &recv_window.to_string());
    }
    push_pair(&mut query, "timestamp", &ts.to_string());
    let signature = creds.sign(query.as_bytes());
    push_pair(&mut query, "signature", &signature);
    query
}

fn push_pair(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    percent_encode_into(name, out);
    out.push('=');
    percent_encode_into(value, out);
}

/// Appends `s` percent-encoded: every byte except ASCII alphanumerics and `-_.~` becomes `%XX`
/// (uppercase hex), as `application/x-www-form-urlencoded` would with `%20` for space.
pub fn percent_encode_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_unreserved_bytes_only() {
        let mut s = String::new();
        percent_encode_into("aZ09-_.~ +/=:１", &mut s);
        assert_eq!(s, "aZ09-_.~%20%2B%2F%3D%3A%EF%BC%91");
    }

    #[test]
    fn api_errors_keep_code_and_message() {
        let body = r#"{"code":-1021,"msg":"Timestamp outside"}"#;
        let r = Response::builder().status(400).body(ureq::Body::builder().data(body));
        let Ok(r) = r else { panic!("response builds") };
        let e = decode_response(r);
        assert_eq!(
            e,
            Err(RestError::Api { status: 400, code: -1021, msg: "Timestamp outside".into(), retry_after: None })
        );
    }
}
