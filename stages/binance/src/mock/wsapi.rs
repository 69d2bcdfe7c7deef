//! The WebSocket API (`/ws-fapi/v1`): request/response over JSON text frames.

use std::time::Instant;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::auth;
use super::conn::{Incoming, WsConn};
use super::fault::Fault;
use super::orders::parse_new_order;
use super::params::{ApiError, Params};
use super::state::{lock, Shared};

/// The request envelope; `id` and `params` stay raw.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    method: Option<Value>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

/// What to do with an answer.
#[derive(Debug)]
enum Reply {
    Now(String),
    Later(u64, String),
    Drop,
    /// No answer at all (the `ignore` fault).
    Nothing,
}

/// Per-connection state.
#[derive(Debug)]
struct Session {
    acct: Option<usize>,
    authorized_since: Option<i64>,
    connected_since: i64,
    return_rate_limits: bool,
}

/// Serves one WebSocket API connection until it closes.
pub(crate) fn run(mut conn: WsConn, return_rate_limits: bool) {
    let connected_since = conn.shared.now_ms();
    let mut s = Session { acct: None, authorized_since: None, connected_since, return_rate_limits };
    loop {
        match conn.next() {
            Incoming::Text(t) => match s.handle(&conn.shared, &t) {
                Reply::Now(a) => {
                    if !conn.send(a) {
                        return;
                    }
                }
                Reply::Later(ms, a) => conn.send_at(super::conn::later(Instant::now(), ms), a),
                Reply::Drop => return,
                Reply::Nothing => {}
            },
            Incoming::Idle => {}
            Incoming::Closed => return,
        }
    }
}

/// Request weight and whether the method counts on ORDERS.
fn cost(method: &str) -> (u32, bool) {
    match method {
        "order.place" | "algoOrder.place" => (0, true),
        "session.logon" | "session.status" | "session.logout" => (2, false),
        "v2/account.position" | "v2/account.status" => (5, false),
        _ => (1, false),
    }
}

/// One answer frame.
fn render(id: &str, body: &Result<Value, ApiError>, rate_limits: Option<&Value>, now_ms: i64) -> String {
    let (status, key, val) = match body {
        Ok(v) => (200, "result", v.clone()),
        Err(e) => (e.status, "error", e.to_json(now_ms)),
    };
    let mut s = format!("{{\"id\":{id},\"status\":{status},\"{key}\":{val}");
    if let Some(rl) = rate_limits {
        s.push_str(",\"rateLimits\":");
        s.push_str(&rl.to_string());
    }
    s.push('}');
    s
}

impl Session {
    fn handle(&mut self, shared: &Shared, text: &str) -> Reply {
        let Ok(env) = serde_json::from_str::<Envelope<'_>>(text) else {
            return Reply::Now(
                r#"{"id":null,"status":400,"error":{"code":-1135,"msg":"Invalid JSON Request"}}"#.into(),
            );
        };
        let id = env.id.map_or("null", |r| r.get().trim());
        let method = match &env.method {
            Some(Value::String(m)) => m.clone(),
            _ => String::new(),
        };
        let fault = if method.is_empty() { None } else { lock(&shared.faults).take_for_method(&method) };
        if fault == Some(Fault::Ignore) {
            return Reply::Nothing;
        }
        let now = shared.now_ms();
        let early = match &fault {
            Some(Fault::Reject { code, msg }) => Some(ApiError::bad(*code, msg.clone())),
            Some(Fault::RateLimit { retry_after_ms }) => Some(ApiError {
                status: 429,
                code: -1015,
                msg: "Too many new orders; current limit is 300 orders per 10 SECOND.".into(),
                retry_after_ms: Some(now.saturating_add_unsigned(*retry_after_ms)),
            }),
            Some(Fault::Ban { retry_after_ms }) => {
                Some(super::limits::banned(now.saturating_add_unsigned(*retry_after_ms)))
            }
            _ => None,
        };
        let params = Params::parse(env.params);
        let wants_limits = match params.as_ref().ok().and_then(|p| p.text("returnRateLimits")) {
            Some(v) => v == "true",
            None => self.return_rate_limits,
        };
        let (weight, counts_orders) = cost(&method);
        let body = match early {
            Some(e) => Err(e),
            None => self.dispatch(shared, &method, params, weight, counts_orders),
        };
        let now = shared.now_ms();
        let limits = wants_limits.then(|| lock(&shared.limiter).snapshot(now, counts_orders));
        match fault {
            Some(Fault::Delay { ms }) => Reply::Later(ms, render(id, &body, limits.as_ref(), now)),
            Some(Fault::Disconnect) => Reply::Drop,
            Some(Fault::Unknown) => {
                let e = ApiError::with_status(
                    503,
                    -1007,
                    "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
                );
                Reply::Now(render(id, &Err(e), limits.as_ref(), now))
            }
            _ => Reply::Now(render(id, &body, limits.as_ref(), now)),
        }
    }

    fn dispatch(
        &mut self,
        shared: &Shared,
        method: &str,
        params: Result<Params, ApiError>,
        weight: u32,
        counts_orders: bool,
    ) -> Result<Value, ApiError> {
        if method.is_empty() {
            return Err(ApiError::mandatory("method"));
        }
        let now = shared.now_ms();
        lock(&shared.limiter).admit(now, weight, counts_orders)?;
        let p = params?;
        let session = self.acct;
        match method {
            "session.logon" => {
                let acct = shared.with_engine(|e, now| auth::logon(e, &p, now))?;
                self.acct = Some(acct);
                self.authorized_since = Some(now);
                Ok(self.session_json(shared))
            }
            "session.status" => Ok(self.session_json(shared)),
            "session.logout" => {
                self.acct = None;
                self.authorized_since = None;
                Ok(self.session_json(shared))
            }
            "order.place" => shared.with_engine(|e, now| {
                let acct = auth::signed(e, &p, session, now)?;
                let order = parse_new_order(e, &p)?;
                e.place_order(acct, &order, now)
            }),
            "order.cancel" => shared.with_engine(|e, now| {
                let acct = auth::signed(e, &p, session, now)?;
                e.cancel_order(acct, &p, now)
            }),
            "order.status" => shared.with_engine(|e, now| {
                let acct = auth::signed(e, &p, session, now)?;
                e.order_status(acct, &p)
            }),
            "algoOrder.place" => shared.with_engine(|e, now| {
                let acct = auth::signed(e, &p, session, now)?;
                e.place_algo(acct, &p, now)
            }),
            "algoOrder.cancel" => shared.with_engine(|e, now| {
                let acct = auth::signed(e, &p, session, now)?;
                e.cancel_algo(acct, &p, now)
            }),
            "v2/account.position" => shared.with_engine(|e, now| {
                let acct = auth::signed(e, &p, session, now)?;
                super::account::positions(e, acct, &p)
            }),
            "userDataStream.start" | "userDataStream.ping" | "userDataStream.stop" => {
                shared.with_engine(|e, now| user_data_stream(e, method, &p, session, now))
            }
            _ => Err(ApiError::bad(-1000, "Unknown method.")),
        }
    }

    fn session_json(&self, shared: &Shared) -> Value {
        let key = self.acct.map(|a| lock(&shared.engine).accounts[a].api_key.clone());
        json!({
            "apiKey": key,
            "authorizedSince": self.authorized_since,
            "connectedSince": self.connected_since,
            "returnRateLimits": self.return_rate_limits,
            "serverTime": shared.now_ms(),
        })
    }
}

/// `userDataStream.start` / `.ping` / `.stop`: `apiKey` only (or the session's key).
fn user_data_stream(
    e: &mut super::engine::Engine,
    method: &str,
    p: &Params,
    session: Option<usize>,
    now_ms: i64,
) -> Result<Value, ApiError> {
    p.only(&["listenKey"])?;
    let acct = match (p.text("apiKey"), session) {
        (Some(k), _) => auth::account(e, &k)?,
        (None, Some(a)) => a,
        (None, None) => return Err(ApiError::mandatory("apiKey")),
    };
    match method {
        "userDataStream.start" => Ok(json!({ "listenKey": e.start_listen_key(acct, now_ms) })),
        "userDataStream.ping" => Ok(json!({ "listenKey": e.ping_listen_key(acct, now_ms)? })),
        _ => {
            e.stop_listen_key(acct);
            Ok(json!({}))
        }
    }
}
