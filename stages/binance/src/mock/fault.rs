//! Fault injection: misbehaviour queued for the next matching requests.

use serde::{Deserialize, Serialize};

/// A fault to inject. Request faults apply to the next `count` requests of one WebSocket API
/// method (default `order.place`); `slow_pong` applies to the next `count` pongs of any
/// connection; `drop_user_stream` acts at once.
///
/// JSON form (for `POST /mock/fault`): `{"kind":"delay","ms":500,"method":"order.place","count":1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Process the request at once, send the answer `ms` later.
    Delay {
        /// Delay of the answer.
        ms: u64,
    },
    /// Process the request, then drop the TCP connection without answering.
    Disconnect,
    /// Neither process nor answer the request (an exchange that stopped reading it); the
    /// connection stays open.
    Ignore,
    /// Process the request, answer `503` `-1007` (execution status unknown).
    Unknown,
    /// Do not process; answer `400` with this code and message.
    Reject {
        /// Error code, e.g. `-2019`.
        code: i32,
        /// Error message.
        msg: String,
    },
    /// Do not process; answer `429` `-1015` with `retryAfter = now + retry_after_ms`.
    RateLimit {
        /// Time until the client may retry.
        retry_after_ms: u64,
    },
    /// Do not process; answer `418` `-1003` with `retryAfter = now + retry_after_ms`.
    Ban {
        /// Time until the ban ends.
        retry_after_ms: u64,
    },
    /// Answer client pings `ms` late.
    SlowPong {
        /// Delay of the pong.
        ms: u64,
    },
    /// Close every user-data-stream connection now.
    DropUserStream,
}

/// The method a fault applies to when none is given.
pub const DEFAULT_FAULT_METHOD: &str = "order.place";

#[derive(Debug)]
struct Pending {
    fault: Fault,
    method: String,
    left: u32,
}

/// Queued faults, taken in injection order.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    pending: Vec<Pending>,
}

impl FaultBook {
    /// Queues `fault` for the next `count` requests of `method`.
    pub(crate) fn push(&mut self, fault: Fault, method: &str, count: u32) {
        if count > 0 {
            self.pending.push(Pending { fault, method: method.to_owned(), left: count });
        }
    }

    /// Takes one use of the first request fault for `method`.
    pub(crate) fn take_for_method(&mut self, method: &str) -> Option<Fault> {
        self.take(|p| p.method == method && !matches!(p.fault, Fault::SlowPong { .. }))
    }

    /// Takes one use of a `slow_pong` fault, returning its delay.
    pub(crate) fn take_slow_pong(&mut self) -> Option<u64> {
        match self.take(|p| matches!(p.fault, Fault::SlowPong { .. })) {
            Some(Fault::SlowPong { ms }) => Some(ms),
            _ => None,
        }
    }

    fn take(&mut self, pred: impl Fn(&Pending) -> bool) -> Option<Fault> {
        let i = self.pending.iter().position(pred)?;
        let p = &mut self.pending[i];
        let fault = p.fault.clone();
        p.left -= 1;
        if p.left == 0 {
            self.pending.remove(i);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_deserialize_from_their_json_form_and_are_used_count_times() {
        let f: Result<Fault, _> =
            serde_json::from_str(r#"{"kind":"reject","code":-2019,"msg":"Margin is insufficient."}"#);
        assert_eq!(f.ok(), Some(Fault::Reject { code: -2019, msg: "Margin is insufficient.".into() }));
        let f: Result<Fault, _> = serde_json::from_str(r#"{"kind":"drop_user_stream"}"#);
        assert_eq!(f.ok(), Some(Fault::DropUserStream));
        let f: Result<Fault, _> = serde_json::from_str(r#"{"kind":"ignore"}"#);
        assert_eq!(f.ok(), Some(Fault::Ignore));
        let mut b = FaultBook::default();
        b.push(Fault::Disconnect, "order.place", 2);
        b.push(Fault::SlowPong { ms: 5 }, "order.place", 1);
        assert_eq!(b.take_for_method("order.cancel"), None);
        assert_eq!(b.take_slow_pong(), Some(5));
        assert_eq!(b.take_slow_pong(), None);
        assert_eq!(b.take_for_method("order.place"), Some(Fault::Disconnect));
        assert_eq!(b.take_for_method("order.place"), Some(Fault::Disconnect));
        assert_eq!(b.take_for_method("order.place"), None);
    }
}
