//! Building WebSocket API requests: parameters, the signature payload, the JSON frame.
//!
//! [`RequestWriter`] keeps its buffers between requests, so building and signing an order
//! reuses memory instead of allocating. Parameters are added in any order; the payload is
//! written with the names sorted bytewise *after* every parameter (including `apiKey` and
//! `timestamp`) is present, which is the rule the server checks.
//!
//! ```
//! use tradeflow_binance::request::RequestWriter;
//! use tradeflow_binance::sign::Credentials;
//!
//! let creds = Credentials::hmac(
//!     "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
//!     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
//! );
//! let mut w = RequestWriter::new();
//! w.begin("order.place");
//! w.str("symbol", "BTCUSDT");
//! w.str("side", "SELL");
//! w.str("type", "LIMIT");
//! w.str("timeInForce", "GTC");
//! w.str("quantity", "0.01000000");
//! w.str("price", "52000.00");
//! w.int("recvWindow", 100);
//! w.int("timestamp", 1645423376532);
//! let frame = w.finish_signed("4885f793-e5ad-4c3b-8f6c-55d891472b71", Some(&creds));
//! assert!(frame.contains(r#""signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24""#));
//! ```

use std::fmt::Write as _;

use crate::sign::Credentials;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Raw,
}

#[derive(Clone, Copy, Debug)]
struct Param {
    name: &'static str,
    start: usize,
    end: usize,
    kind: Kind,
}

/// Reusable builder of request frames.
#[derive(Debug, Default)]
pub struct RequestWriter {
    method: String,
    values: String,
    params: Vec<Param>,
    payload: String,
    frame: String,
}

impl RequestWriter {
    /// An empty writer.
    pub fn new() -> RequestWriter {
        RequestWriter {
            method: String::with_capacity(32),
            values: String::with_capacity(512),
            params: Vec::with_capacity(24),
            payload: String::with_capacity(512),
            frame: String::with_capacity(1024),
        }
    }

    /// Starts a request for `method`, dropping any parameters of the previous one.
    pub fn begin(&mut self, method: &str) {
        self.method.clear();
        self.method.push_str(method);
        self.values.clear();
        self.params.clear();
    }

    /// Adds a string (or DECIMAL) parameter.
    pub fn str(&mut self, name: &'static str, value: &str) {
        let start = self.values.len();
        self.values.push_str(value);
        self.params.push(Param { name, start, end: self.values.len(), kind: Kind::Str });
    }

    /// Adds an integer parameter (sent as a JSON number).
    pub fn int(&mut self, name: &'static str, value: i64) {
        let start = self.values.len();
        let _ = write!(self.values, "{value}");
        self.params.push(Param { name, start, end: self.values.len(), kind: Kind::Raw });
    }

    /// Adds a boolean parameter (sent as a JSON `true`/`false`).
    pub fn bool(&mut self, name: &'static str, value: bool) {
        let start = self.values.len();
        self.values.push_str(if value { "true" } else { "false" });
        self.params.push(Param { name, start, end: self.values.len(), kind: Kind::Raw });
    }

    /// Adds a string parameter whose text is formatted in place (no temporary string).
    pub fn fmt(&mut self, name: &'static str, args: std::fmt::Arguments<'_>) {
        let start = self.values.len();
        let _ = self.values.write_fmt(args);
        self.params.push(Param { name, start, end: self.values.len(), kind: Kind::Str });
    }

    /// The signature payload of the parameters so far (sorted `name=value&…`, no `signature`).
    pub fn payload(&mut self) -> &str {
        self.params.sort_unstable_by(|a, b| a.name.cmp(b.name));
        self.payload.clear();
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                self.payload.push('&');
            }
            self.payload.push_str(p.name);
            self.payload.push('=');
            self.payload.push_str(&self.values[p.start..p.end]);
        }
        &self.payload
    }

    /// The request frame. With `creds` given, `apiKey` is added (unless present) and the
    /// request is signed; without, the parameters go as they are (unsigned methods, or a
    /// session authenticated by `session.logon`).
    pub fn finish_signed(&mut self, id: &str, creds: Option<&Credentials>) -> &str {
        if let Some(c) = creds {
            if !self.params.iter().any(|p| p.name == "apiKey") {
                self.str("apiKey", c.api_key());
            }
        }
        self.payload();
        self.frame.clear();
        self.frame.push_str("{\"id\":");
        json_string(id, &mut self.frame);
        self.frame.push_str(",\"method\":");
        json_string(&self.method, &mut self.frame);
        self.frame.push_str(",\"params\":{");
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                self.frame.push(',');
            }
            json_string(p.name, &mut self.frame);
            self.frame.push(':');
            let v = &self.values[p.start..p.end];
            match p.kind {
                Kind::Str => json_string(v, &mut self.frame),
                Kind::Raw => self.frame.push_str(v),
            }
        }
        if let Some(c) = creds {
            if !self.params.is_empty() {
                self.frame.push(',');
            }
            self.frame.push_str("\"signature\":\"");
            c.sign_into(self.payload.as_bytes(), &mut self.frame);
            self.frame.push('"');
        }
        self.frame.push_str("}}");
        &self.frame
    }

    /// The request frame without a signature.
    pub fn finish(&mut self, id: &str) -> &str {
        self.finish_signed(id, None)
    }
}

/// Appends `s` as a JSON string literal.
pub fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn futures_order_payload_is_sorted_after_every_param_is_added() {
        let c = Credentials::hmac(API, SECRET);
        let mut w = RequestWriter::new();
        w.begin("order.place");
        w.str("symbol", "BTCUSDT");
        w.str("side", "BUY");
        w.str("type", "LIMIT");
        w.str("timeInForce", "GTC");
        w.str("quantity", "0.100");
        w.str("price", "43187.00");
        w.str("positionSide", "BOTH");
        w.int("timestamp", 1702555533821);
        w.str("newOrderRespType", "RESULT");
        w.str("newClientOrderId", "gw-000001");
        let frame = w.finish_signed("1", Some(&c)).to_owned();
        assert_eq!(
            w.payload,
            format!(
                "apiKey={API}&newClientOrderId=gw-000001&newOrderRespType=RESULT&positionSide=BOTH&price=43187.00\
                 &quantity=0.100&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=1702555533821&type=LIMIT"
            )
        );
        assert!(frame.ends_with(r#""signature":"a581318ecb11073b3e26e0190ba553053af813d9cda6410047e7c90df44275f5"}}"#));
        let v: serde_json::Value = serde_json::from_str(&frame).unwrap_or_default();
        assert_eq!(v["params"]["timestamp"], 1702555533821_i64);
        assert_eq!(v["params"]["price"], "43187.00");
    }

    #[test]
    fn reused_writer_forgets_the_previous_request_and_escapes_strings() {
        let mut w = RequestWriter::new();
        w.begin("a");
        w.str("x", "1");
        let _ = w.finish("1");
        w.begin("session.status");
        w.str("note", "q\"\\\n");
        let f = w.finish("id\"2").to_owned();
        let v: serde_json::Value = serde_json::from_str(&f).unwrap_or_default();
        assert_eq!(v["id"], "id\"2");
        assert_eq!(v["method"], "session.status");
        assert_eq!(v["params"]["note"], "q\"\\\n");
        assert!(v["params"].get("x").is_none());
    }
}
