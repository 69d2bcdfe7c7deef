//! User-data streams (`/private/ws/<listenKey>`) and market streams (`@markPrice`,
//! `@bookTicker`, raw or combined).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::conn::{Incoming, WsConn, POLL};
use super::hub::{MarketStream, Out, StreamKind, Target};
use super::state::{lock, Shared};

/// Which URL family a market connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Market,
    Public,
    Unrouted,
}

/// Parses `btcusdt@markPrice@1s`-style names; `None` if any is unknown or on the wrong route.
pub(crate) fn parse_streams(e: &super::engine::Engine, names: &str, route: Route) -> Option<Vec<MarketStream>> {
    let mut out = Vec::new();
    for name in names.split('/').filter(|n| !n.is_empty()) {
        let (sym, rest) = name.split_once('@')?;
        let kind = match rest {
            "markPrice" | "markPrice@1s" if route != Route::Public => StreamKind::MarkPrice,
            "bookTicker" if route != Route::Market => StreamKind::BookTicker,
            _ => return None,
        };
        let sym = e.symbol(sym).ok()?;
        out.push(MarketStream { name: name.to_owned(), sym, kind });
    }
    (!out.is_empty()).then_some(out)
}

/// Subscribes market streams, queueing their current values first.
pub(crate) fn subscribe_market(shared: &Shared, streams: Vec<MarketStream>, combined: bool, tx: Sender<Out>) -> u64 {
    let e = lock(&shared.engine);
    let now = shared.now_ms();
    for st in &streams {
        let _ = tx.send(Out::Text(shared.hub.market_message(&e, st, combined, now)));
    }
    shared.hub.subscribe(Target::Market { streams, combined }, tx)
}

/// Serves a stream connection: forwards pushes to the socket as soon as they are queued (it
/// waits on the channel, not on the socket); incoming frames are read (for pongs) and ignored.
/// Ends when either side closes or the subscription says so.
pub(crate) fn pump(mut conn: WsConn, rx: &Receiver<Out>) {
    if conn.set_nonblocking().is_err() {
        return;
    }
    loop {
        let mut next = rx.recv_timeout(POLL).map_err(|e| match e {
            RecvTimeoutError::Timeout => TryRecvError::Empty,
            RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
        });
        loop {
            match next {
                Ok(Out::Text(t)) => {
                    if !conn.send(t) {
                        return;
                    }
                }
                Ok(Out::Close) | Err(TryRecvError::Disconnected) => {
                    conn.close();
                    return;
                }
                Err(TryRecvError::Empty) => break,
            }
            next = rx.try_recv();
        }
        if let Incoming::Closed = conn.next() {
            return;
        }
    }
}
