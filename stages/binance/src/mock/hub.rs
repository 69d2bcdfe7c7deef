//! Stream subscribers: user-data streams (per account and listenKey) and market streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Mutex;

use serde_json::json;

use super::engine::{Engine, Push};
use super::state::lock;

/// What a stream connection is told to do.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    Text(String),
    Close,
}

/// A market stream kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    MarkPrice,
    BookTicker,
}

/// One subscribed market stream.
#[derive(Debug, Clone)]
pub(crate) struct MarketStream {
    pub name: String,
    pub sym: usize,
    pub kind: StreamKind,
}

/// Who a subscriber is.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    User { acct: usize, key: String },
    Market { streams: Vec<MarketStream>, combined: bool },
}

#[derive(Debug)]
struct Sub {
    id: u64,
    target: Target,
    tx: Sender<Out>,
}

/// All stream subscribers of one exchange.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    subs: Mutex<Vec<Sub>>,
    next_id: AtomicU64,
    update_id: AtomicU64,
}

impl Hub {
    pub fn subscribe(&self, target: Target, tx: Sender<Out>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.subs).push(Sub { id, target, tx });
        id
    }

    pub fn unsubscribe(&self, id: u64) {
        lock(&self.subs).retain(|s| s.id != id);
    }

    /// Tells every user-data stream to close.
    pub fn close_user_streams(&self) {
        for s in lock(&self.subs).iter().filter(|s| matches!(s.target, Target::User { .. })) {
            let _ = s.tx.send(Out::Close);
        }
    }

    /// Delivers pushes (called with the engine locked).
    pub fn publish(&self, e: &Engine, pushes: Vec<Push>, now_ms: i64) {
        if pushes.is_empty() {
            return;
        }
        let mut subs = lock(&self.subs);
        for p in pushes {
            subs.retain(|s| self.deliver(e, s, &p, now_ms));
        }
    }

    /// Sends one push to one subscriber; `false` when the subscriber is gone.
    fn deliver(&self, e: &Engine, s: &Sub, p: &Push, now_ms: i64) -> bool {
        match (p, &s.target) {
            (Push::User { acct, text }, Target::User { acct: a, .. }) if acct == a => {
                s.tx.send(Out::Text(text.clone())).is_ok()
            }
            (Push::KeyClosed { key, text }, Target::User { key: k, .. }) if key == k => {
                if let Some(t) = text {
                    let _ = s.tx.send(Out::Text(t.clone()));
                }
                s.tx.send(Out::Close).is_ok()
            }
            (Push::Market { sym }, Target::Market { streams, combined }) => {
                for st in streams.iter().filter(|st| st.sym == *sym) {
                    if s.tx.send(Out::Text(self.market_message(e, st, *combined, now_ms))).is_err() {
                        return false;
                    }
                }
                true
            }
            _ => true,
        }
    }

    /// The current payload of a market stream, wrapped for combined connections.
    pub fn market_message(&self, e: &Engine, st: &MarketStream, combined: bool, now_ms: i64) -> String {
        let s = &e.symbols[st.sym];
        let data = match st.kind {
            StreamKind::MarkPrice => {
                let p = crate::filters::format_units(s.price, 8);
                let next_funding = now_ms - now_ms.rem_euclid(8 * 3600 * 1000) + 8 * 3600 * 1000;
                json!({"e": "markPriceUpdate", "E": now_ms, "s": s.name, "p": p, "ap": p, "i": p, "P": p,
                       "r": "0.00010000", "T": next_funding})
            }
            StreamKind::BookTicker => {
                let u = self.update_id.fetch_add(1, Ordering::Relaxed) + 1;
                json!({"e": "bookTicker", "u": u, "E": now_ms, "T": now_ms, "s": s.name,
                       "b": s.px(s.price), "B": "10.000", "a": s.px(s.price + s.filters.tick_size), "A": "10.000"})
            }
        };
        if combined {
            json!({"stream": st.name, "data": data}).to_string()
        } else {
            data.to_string()
        }
    }
}
