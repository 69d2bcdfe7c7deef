//! Request parameters as sent (raw JSON scalars), the signature payload, and API errors.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

/// An error answer: HTTP-like status, Binance code and message, optional `retryAfter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: i32,
    pub msg: String,
    /// Epoch ms for `error.data.retryAfter` (429 / 418).
    pub retry_after_ms: Option<i64>,
}

impl ApiError {
    /// A `400` error.
    pub fn bad(code: i32, msg: impl Into<String>) -> ApiError {
        ApiError { status: 400, code, msg: msg.into(), retry_after_ms: None }
    }

    /// An error with another status.
    pub fn with_status(status: u16, code: i32, msg: impl Into<String>) -> ApiError {
        ApiError { status, code, msg: msg.into(), retry_after_ms: None }
    }

    /// `-1102` for a missing mandatory parameter.
    pub fn mandatory(name: &str) -> ApiError {
        ApiError::bad(-1102, format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."))
    }

    /// `-1130` for a parameter with an invalid value.
    pub fn invalid(name: &str) -> ApiError {
        ApiError::bad(-1130, format!("Data sent for parameter '{name}' is not valid."))
    }

    /// `-1106` for a parameter that must not be sent.
    pub fn not_required(name: &str) -> ApiError {
        ApiError::bad(-1106, format!("Parameter '{name}' sent when not required."))
    }

    /// `-1022`.
    pub fn signature() -> ApiError {
        ApiError::bad(-1022, "Signature for this request is not valid.")
    }

    /// `-2015` (`401`).
    pub fn api_key() -> ApiError {
        ApiError::with_status(401, -2015, "Invalid API-key, IP, or permissions for action.")
    }

    /// The `error` object of an answer.
    pub fn to_json(&self, server_time_ms: i64) -> Value {
        let mut e = serde_json::json!({ "code": self.code, "msg": self.msg });
        if let Some(r) = self.retry_after_ms {
            e["data"] = serde_json::json!({ "serverTime": server_time_ms, "retryAfter": r });
        }
        e
    }
}

/// Parameters of one request, each kept as the raw JSON text the client sent.
#[derive(Debug, Default)]
pub(crate) struct Params(BTreeMap<String, Box<RawValue>>);

impl Params {
    /// Parses the `params` object (absent or `null` = no parameters).
    pub fn parse(raw: Option<&RawValue>) -> Result<Params, ApiError> {
        let Some(raw) = raw else { return Ok(Params::default()) };
        if raw.get().trim() == "null" {
            return Ok(Params::default());
        }
        serde_json::from_str(raw.get()).map(Params).map_err(|_| ApiError::mandatory("params"))
    }

    /// Parameters from decoded `name=value` pairs (REST), all as JSON strings.
    pub fn from_pairs(pairs: &[(String, String)]) -> Params {
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            let mut s = String::with_capacity(v.len() + 2);
            crate::request::json_string(v, &mut s);
            if let Ok(raw) = RawValue::from_string(s) {
                m.insert(k.clone(), raw);
            }
        }
        Params(m)
    }

    /// The value's text: strings unescaped, other scalars as their literal; `None` when
    /// absent, `null` or an empty string.
    pub fn text(&self, name: &str) -> Option<String> {
        let t = scalar_text(self.0.get(name)?)?;
        (!t.is_empty()).then_some(t)
    }

    /// Whether the parameter was sent (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// A mandatory parameter's text (`-1102` when missing).
    pub fn req(&self, name: &str) -> Result<String, ApiError> {
        self.text(name).ok_or_else(|| ApiError::mandatory(name))
    }

    /// An optional integer parameter (JSON number or numeric string).
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some(t) => t.parse::<i64>().map(Some).map_err(|_| ApiError::mandatory(name)),
        }
    }

    /// An optional `"true"`/`"false"` parameter (string or JSON boolean).
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.text(name).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// The signature payload: every parameter but `signature`, sorted bytewise,
    /// `name=value` joined by `&`, values as sent.
    pub fn payload(&self) -> String {
        let mut out = String::with_capacity(256);
        for (k, v) in self.0.iter().filter(|(k, _)| k.as_str() != "signature") {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(&scalar_text(v).unwrap_or_else(|| v.get().trim().to_owned()));
        }
        out
    }

    /// `-1104` when a parameter outside `allowed` (and the common ones) was sent.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        const COMMON: [&str; 5] = ["apiKey", "signature", "timestamp", "recvWindow", "returnRateLimits"];
        let read = self.0.keys().filter(|k| allowed.contains(&k.as_str()) || COMMON.contains(&k.as_str())).count();
        if read == self.0.len() {
            return Ok(());
        }
        Err(ApiError::bad(
            -1104,
            format!("Not all sent parameters were read; read '{read}' parameter(s) but was sent '{}'.", self.0.len()),
        ))
    }
}

/// Text of a raw JSON scalar: a string's content, a number or boolean literal; `None` for `null`.
fn scalar_text(raw: &RawValue) -> Option<String> {
    let t = raw.get().trim();
    if t == "null" {
        return None;
    }
    if t.starts_with('"') {
        return serde_json::from_str::<String>(t).ok();
    }
    Some(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_keeps_literals_sorts_bytewise_and_skips_the_signature() {
        let parsed: Result<Box<RawValue>, _> = serde_json::from_str(
            r#"{"type":"LIMIT","recvWindow":100,"price":"52000.00","newOrderRespType":"ACK",
                "newClientOrderId":"a\/b","q":1.50,"closePosition":true,"signature":"x"}"#,
        );
        let Ok(raw) = parsed else { panic!("test json") };
        let p = Params::parse(Some(&raw)).unwrap_or_default();
        assert_eq!(
            p.payload(),
            "closePosition=true&newClientOrderId=a/b&newOrderRespType=ACK&price=52000.00&q=1.50&recvWindow=100&type=LIMIT"
        );
        assert_eq!(p.text("q").as_deref(), Some("1.50"));
        assert_eq!(p.flag("closePosition"), Ok(true));
        assert!(p.only(&["type", "price"]).is_err());
        assert_eq!(p.req("symbol").map_err(|e| e.code), Err(-1102));
    }
}
