//! The Binance venue: USDⓈ-M futures orders over the WebSocket API, fills from the user data
//! stream, driven from the gateway thread without ever blocking it.
//!
//! ```text
//!  submit ─► filters (integer) ─► order.place MARKET, newClientOrderId = f(run, trace) ─► ws-fapi
//!                                                   │ answer: FILLED / NEW / error
//!  user stream ─► ORDER_TRADE_UPDATE (qty, price, commission, realized PnL) ─┐
//!                                                                         ▼
//!                                   poll_report ─► Report::Filled / Report::Rejected
//! ```
//!
//! Rules that keep exactly one exchange order per approved signal:
//! - The client order id is derived from the run id and the trace id
//!   ([`tradeflow_binance::client_id`]), so a resend can only ever hit the same order, and
//!   another run (a fresh run id) never hits this run's orders.
//! - A timeout, a lost connection, `-1007`/`-1006`/`-1000`, a 5xx or `-4116` means "status
//!   unknown", never "failed": the order is queried with `order.status` by client order id.
//!   Only `-2013` (the exchange does not have it) allows a resend, at most `max_resends` times.
//! - A fill is reported only when the exchange said so (an order answer, an `order.status`,
//!   or the user stream); an order whose state stays unknown past `unknown_give_up_ms` is
//!   reported as refused with reason `StatusUnknown` and a `system.event_error`.
//! - 429 stops sending until `retryAfter`: entries are refused meanwhile, exits wait. 418
//!   halts trading through the kill switch. `-1021` re-measures the clock.
//! - An entry arriving while the order-entry connection is down is refused, or held up to
//!   `entry_hold_ms` (`entries_while_disconnected`); exits wait for the connection.
//! - Protective-order cancels are tracked until the exchange answers them and count as
//!   working orders, so shutdown waits for them; [`BinanceStats::protective_open`] counts
//!   the unconfirmed ones.
//! - Connection lifecycle, refusals, resends, unknown orders and rate limits are logged
//!   (`tracing`, info/warn/error); nothing is logged per order in steady state, and no key,
//!   secret, signature or listen key ever is.
//!
//! Startup (in [`BinanceVenue::connect`], allowed to block): clock offset over REST (refuses
//! to start past `max_clock_drift_ms`), exchangeInfo filters for every catalog symbol, leverage,
//! the order-entry connection (`session.logon` for Ed25519 keys), a listen key and the user
//! stream. After that every call only does non-blocking socket I/O. A side thread re-measures
//! the clock offset over REST every `clock_check_interval_s`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tradeflow_binance::client_id::{client_order_id, Purpose};
use tradeflow_binance::codec::{self, OrderResult, OrderStatus, UserEvent};
use tradeflow_binance::filters::{notional_units, write_units, SymbolFilters};
use tradeflow_binance::request::RequestWriter;
use tradeflow_binance::rest::RestClient;
use tradeflow_binance::sign::Credentials;
use tradeflow_binance::ws::{Backoff, WsClient, WsError, WsOptions, WsState};
use tradeflow_core::{Catalog, FillPurpose, KillSwitch, Price, Qty, TradingState, Usd, SCALE};

use super::{Fill, Order, RejectReason, Report, Submitted, Venue, VenueReject};
use crate::config::{BinanceVenueConfig, EntryType, TimeInForce, WhileDisconnected};

/// Counters of the Binance venue, for the run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinanceStats {
    /// `order.place` requests sent (first sends and resends).
    pub sent: u64,
    /// Of `sent`: resends after the exchange confirmed it did not have the order.
    pub resends: u64,
    /// `order.status` queries sent.
    pub status_queries: u64,
    /// `order.cancel` requests sent (resting LIMIT entries past their TTL, cancel-all).
    pub cancels: u64,
    /// Orders whose status became unknown (timeout, lost connection, -1007, …).
    pub unknown: u64,
    /// Unknown orders given up on.
    pub unknown_given_up: u64,
    /// Order-entry reconnects.
    pub reconnects: u64,
    /// User-stream reconnects after a lost connection.
    pub user_stream_reconnects: u64,
    /// User-stream connections replaced on purpose before the exchange's age limit.
    pub user_stream_renewals: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 418 answers.
    pub banned: u64,
    /// Fills reported with an estimated commission (the user stream never gave it).
    pub estimated_commissions: u64,
    /// Responses or stream frames that could not be decoded.
    pub decode_errors: u64,
    /// Protective algo orders accepted by the exchange.
    pub protective_orders: u64,
    /// Positions closed at the exchange by a protective order (reported as their exit fill).
    pub protective_fills: u64,
    /// Entries refused because the order-entry connection was down (`"refuse"`, or a hold
    /// that ran out).
    pub refused_disconnected: u64,
    /// Entries held while the order-entry connection was down (`"hold"`).
    pub held: u64,
    /// Of `held`: sent once the connection was back.
    pub held_sent: u64,
    /// Protective orders whose cancel the exchange confirmed (or answered that it no longer
    /// has them).
    pub protective_cancelled: u64,
    /// Protective orders of closed positions whose cancel is not confirmed yet: at the end of
    /// a run, orders left open at the exchange (an error in the summary).
    pub protective_open: u64,
}

/// How long before `retryAfter` a throttled exit waits when the exchange gives no time.
const DEFAULT_THROTTLE_MS: i64 = 1_000;
/// Re-query delay for an order whose status query failed.
const REQUERY_MS: u64 = 500;
/// How often slots are scanned for timers.
const SCAN_EVERY: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting to be sent (disconnected or throttled exit).
    Queued,
    /// `order.place` sent, answer awaited.
    Sent { sent_at: Instant },
    /// Accepted, not final: waiting for fills (user stream), queried now and then.
    Working { since: Instant },
    /// Unknown: query at `next_query`.
    Unknown { since: Instant, next_query: Instant },
    /// `order.status` sent.
    Querying { since: Instant, sent_at: Instant },
    /// Final fill known, waiting for the user stream's commission until `deadline`.
    FillWait { deadline: Instant },
}

#[derive(Debug, Clone)]
struct Slot {
    order: Order,
    cid: String,
    phase: Phase,
    sends: u32,
    /// Final or latest status from an answer or the stream.
    status: Option<OrderStatus>,
    /// Filled quantity per the exchange's answer (units).
    exec_qty: i64,
    /// Average price per the exchange's answer (units).
    avg_price: i64,
    /// Sum of user-stream trade quantities (units).
    stream_qty: i64,
    /// Sum of user-stream trade notionals (units, 1e-8 quote).
    stream_quote: i128,
    /// Sum of user-stream commissions (units).
    commission: i64,
    /// Quantity sent (counted in `in_flight` until the order is done), 0 before sending.
    sent_qty: i64,
    /// A GTC LIMIT entry: cancelled after `limit_ttl_ms` (or by cancel-all).
    resting: bool,
    /// `order.cancel` sent.
    cancel_sent: bool,
    /// When `order.place` first went out.
    placed_at: Option<Instant>,
    /// An entry held while disconnected: refused if still unsent at this time.
    hold_until: Option<Instant>,
}

/// A protective algo order working at the exchange for an open position.
#[derive(Debug, Clone)]
struct Protective {
    /// The exit it performs if it triggers (the position's entry trace and seq).
    exit: tradeflow_core::ExitRequest,
    /// The other protective order of the same position (cancelled when this one fills).
    sibling: String,
    /// Quantity and notional filled so far, commission.
    qty: i64,
    quote: i128,
    commission: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReqKind {
    /// `order.place` for (slot, gateway order id): the id tells a reused slot apart.
    Place(usize, u64),
    /// `order.status` for (slot, gateway order id).
    Status(usize, u64),
    /// `order.cancel` for (slot, gateway order id).
    Cancel(usize, u64),
    Logon,
    ListenKey,
    /// `algoOrder.place` of a protective order.
    Protective,
    /// `algoOrder.cancel` of a protective order.
    ProtectiveCancel,
}

#[derive(Debug, Clone, Copy)]
struct Req {
    kind: ReqKind,
    /// Which order-entry connection it went out on.
    conn: u32,
}

/// Shared with the clock thread.
#[derive(Debug, Default)]
struct ClockSync {
    /// Exchange time minus local time, ms.
    offset_ms: AtomicI64,
    /// Whether |offset| is within the configured limit.
    within_limit: AtomicBool,
    /// Ask the thread for a measurement now (after a -1021).
    resync: AtomicBool,
    stop: AtomicBool,
}

enum ConnState {
    Down { retry_at: Instant },
    Connecting(Box<WsClient>),
    LoggingOn(Box<WsClient>),
    Ready(Box<WsClient>),
}

impl ConnState {
    fn ws(&mut self) -> Option<&mut WsClient> {
        match self {
            ConnState::Down { .. } => None,
            ConnState::Connecting(w) | ConnState::LoggingOn(w) | ConnState::Ready(w) => Some(w),
        }
    }
}

struct Conn {
    id: u32,
    state: ConnState,
    opened_at: Option<Instant>,
}

/// Reused text buffers for incoming frames (no allocation once warmed up).
#[derive(Default)]
struct Inbox {
    frames: Vec<String>,
    len: usize,
}

impl Inbox {
    fn push(&mut self, t: &str) {
        if self.len < self.frames.len() {
            self.frames[self.len].clear();
            self.frames[self.len].push_str(t);
        } else {
            self.frames.push(t.to_owned());
        }
        self.len += 1;
    }
}

/// The Binance venue; see the [module docs](self).
pub struct BinanceVenue {
    cfg: BinanceVenueConfig,
    /// This run's id, hashed into every client order id (`gateway.binance.run_id` or fresh).
    run_id: String,
    creds: Credentials,
    kill: Arc<KillSwitch>,
    symbols: Vec<String>,
    filters: Vec<SymbolFilters>,
    clock: Arc<ClockSync>,
    clock_thread: Option<JoinHandle<()>>,
    ws_opts: WsOptions,
    api: Conn,
    /// A replacement order-entry connection being set up before the age limit.
    standby: Option<Conn>,
    /// The previous connection, read until its answers are in.
    retiring: Option<(Conn, Instant)>,
    next_conn_id: u32,
    user: ConnState,
    listen_key: Option<String>,
    listen_key_pending: bool,
    listen_key_renew_at: Instant,
    backoff: Backoff,
    user_backoff: Backoff,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    by_cid: HashMap<String, usize>,
    requests: HashMap<u64, Req>,
    reports: VecDeque<Report>,
    writer: RequestWriter,
    id_buf: String,
    cid_buf: String,
    num_buf: String,
    inbox: Inbox,
    next_req: u64,
    throttle_until_ms: i64,
    next_scan: Instant,
    /// Net exchange position per instrument from this run's fills (qty units, + long).
    net: Vec<i64>,
    /// Per instrument and side (buy, sell): quantity sent and not yet done. The exchange may
    /// already have filled it, so a reduce-only exit must fit whatever they do to `net`.
    in_flight: Vec<[i64; 2]>,
    /// Protective algo orders by client algo id.
    protective: HashMap<String, Protective>,
    /// Protective orders to cancel, by client algo id: the `algoOrder.cancel` request in
    /// flight, or `None` until it can be sent. Counted as work, so shutdown waits for them.
    cancels: HashMap<String, Option<u64>>,
    /// Gateway order ids for exits performed by protective orders (counting down from the top).
    next_protective_id: u64,
    stats: BinanceStats,
}

impl fmt::Debug for BinanceVenue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceVenue")
            .field("ws_api_url", &self.cfg.ws_api_url)
            .field("creds", &self.creds)
            .field("working", &self.working())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Drop for BinanceVenue {
    fn drop(&mut self) {
        for id in self.cancels.keys() {
            tracing::error!(client_algo_id = %id, "binance: protective order left open at the exchange (cancel not confirmed)");
        }
        self.clock.stop.store(true, Ordering::Relaxed);
        if let Some(ws) = self.api.state.ws() {
            ws.close();
        }
        if let Some(ws) = self.user.ws() {
            ws.close();
        }
        if let Some(t) = self.clock_thread.take() {
            let _ = t.join();
        }
    }
}

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Exchange time minus local time, from one REST round trip (midpoint rule).
fn measure_offset(rest: &RestClient) -> Result<i64, String> {
    let t0 = wall_ms();
    let server = rest.server_time_ms().map_err(|e| format!("GET /fapi/v1/time: {e}"))?;
    let t1 = wall_ms();
    Ok(server - (t0 + t1) / 2)
}

impl BinanceVenue {
    /// Startup: credentials, clock offset, filters, leverage, connections. Blocks up to the
    /// configured timeouts; every problem is a clear error.
    pub fn connect(cfg: &BinanceVenueConfig, catalog: &Catalog, kill: Arc<KillSwitch>) -> Result<BinanceVenue, String> {
        let creds = tradeflow_binance::keys::load_credentials(&cfg.key).map_err(|e| format!("API key: {e}"))?;
        let ca = match &cfg.ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| format!("ca_file {}: {e}", p.display()))?),
            None => None,
        };
        let timeout = ms(cfg.connect_timeout_ms);
        let mut rest = RestClient::new(&cfg.rest_url, Some(creds.clone()), timeout, ca.as_deref())
            .map_err(|e| format!("REST client for {}: {e}", cfg.rest_url))?;
        let offset = measure_offset(&rest)?;
        if offset.unsigned_abs() > cfg.max_clock_drift_ms {
            return Err(format!(
                "local clock is {offset} ms off the exchange's (limit {} ms): synchronise the clock (NTP) \
                 or raise gateway.binance.max_clock_drift_ms",
                cfg.max_clock_drift_ms
            ));
        }
        rest.set_time_offset_ms(offset);
        let info = rest.exchange_info().map_err(|e| format!("GET /fapi/v1/exchangeInfo: {e}"))?;
        let listed = info.get("symbols").and_then(|s| s.as_array()).cloned().unwrap_or_default();
        let mut symbols = Vec::new();
        let mut filters = Vec::new();
        for spec in catalog.instruments() {
            let Some(sym) = listed.iter().find(|s| s.get("symbol").and_then(|v| v.as_str()) == Some(&spec.symbol))
            else {
                return Err(format!("symbol {} is not listed by the exchange's exchangeInfo", spec.symbol));
            };
            let status = sym.get("status").and_then(|v| v.as_str()).unwrap_or("");
            if status != "TRADING" {
                return Err(format!("symbol {} is not trading on the exchange (status {status:?})", spec.symbol));
            }
            filters.push(SymbolFilters::from_exchange_info(sym).map_err(|e| e.to_string())?);
            symbols.push(spec.symbol.clone());
        }
        if cfg.leverage > 0 {
            for s in &symbols {
                rest.set_leverage(s, cfg.leverage).map_err(|e| format!("POST /fapi/v1/leverage {s}: {e}"))?;
            }
        }
        let clock = Arc::new(ClockSync::default());
        clock.offset_ms.store(offset, Ordering::Relaxed);
        clock.within_limit.store(true, Ordering::Relaxed);
        let clock_thread = spawn_clock_thread(rest, clock.clone(), cfg.clock_check_interval_s, cfg.max_clock_drift_ms)?;
        let ws_opts = WsOptions {
            connect_timeout: timeout,
            max_message_bytes: 1 << 20,
            extra_root_pem: ca,
            keepalive_ping: Some(Duration::from_secs(cfg.keepalive_s)),
            idle_timeout: Some(Duration::from_secs(cfg.keepalive_s.saturating_mul(4))),
        };
        let now = Instant::now();
        let seed = u64::from(std::process::id()) ^ wall_ms() as u64;
        let run_id =
            if cfg.run_id.is_empty() { tradeflow_binance::client_id::new_run_id() } else { cfg.run_id.clone() };
        let mut v = BinanceVenue {
            cfg: cfg.clone(),
            run_id,
            creds,
            kill,
            symbols,
            filters,
            clock,
            clock_thread: Some(clock_thread),
            ws_opts,
            api: Conn { id: 0, state: ConnState::Down { retry_at: now }, opened_at: None },
            standby: None,
            retiring: None,
            next_conn_id: 1,
            user: ConnState::Down { retry_at: now },
            listen_key: None,
            listen_key_pending: false,
            listen_key_renew_at: now + Duration::from_secs(cfg.listen_key_renew_s),
            backoff: Backoff::new(ms(cfg.reconnect_base_ms), ms(cfg.reconnect_max_ms), seed),
            user_backoff: Backoff::new(ms(cfg.reconnect_base_ms), ms(cfg.reconnect_max_ms), seed.rotate_left(17)),
            slots: vec![None; cfg.max_pending],
            free: (0..cfg.max_pending).rev().collect(),
            by_cid: HashMap::with_capacity(cfg.max_pending * 2),
            requests: HashMap::with_capacity(cfg.max_pending * 2),
            reports: VecDeque::with_capacity(cfg.max_pending),
            writer: RequestWriter::new(),
            id_buf: String::with_capacity(24),
            cid_buf: String::with_capacity(40),
            num_buf: String::with_capacity(32),
            inbox: Inbox::default(),
            next_req: 1,
            throttle_until_ms: 0,
            next_scan: now,
            net: vec![0; catalog.instruments().len()],
            in_flight: vec![[0; 2]; catalog.instruments().len()],
            protective: HashMap::with_capacity(if cfg.protective_orders { cfg.max_pending * 4 } else { 0 }),
            cancels: HashMap::new(),
            next_protective_id: u64::MAX,
            stats: BinanceStats::default(),
        };
        // Bring both connections up before trading starts.
        let deadline = Instant::now() + timeout.saturating_mul(2);
        while !(v.api_ready() && matches!(v.user, ConnState::Ready(_))) {
            let now = Instant::now();
            if now > deadline {
                return Err(format!(
                    "could not open the order-entry connection ({}) and the user data stream within {} ms",
                    cfg.ws_api_url,
                    timeout.as_millis() * 2
                ));
            }
            v.io(now);
            std::thread::sleep(Duration::from_millis(1));
        }
        tracing::info!(
            ws_api_url = %cfg.ws_api_url,
            rest_url = %cfg.rest_url,
            symbols = ?v.symbols,
            clock_offset_ms = offset,
            run_id = %v.run_id,
            "binance: venue ready (order entry and user data stream connected)"
        );
        Ok(v)
    }

    /// This run's id, hashed into every client order id (see [`tradeflow_binance::client_id`]).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Counters so far.
    pub fn stats(&self) -> BinanceStats {
        BinanceStats { protective_open: self.cancels.len() as u64, ..self.stats }
    }

    /// Client algo ids of protective orders whose cancel is not confirmed.
    pub fn protective_open(&self) -> impl Iterator<Item = &str> {
        self.cancels.keys().map(String::as_str)
    }

    /// Whether orders can be sent now.
    pub fn api_ready(&self) -> bool {
        matches!(self.api.state, ConnState::Ready(_))
    }

    fn exchange_ms(&self) -> i64 {
        wall_ms() + self.clock.offset_ms.load(Ordering::Relaxed)
    }

    fn throttled(&self) -> bool {
        self.throttle_until_ms > self.exchange_ms()
    }

    fn new_req(&mut self, kind: ReqKind, conn: u32) -> u64 {
        let id = self.next_req;
        self.next_req += 1;
        self.requests.insert(id, Req { kind, conn });
        self.id_buf.clear();
        use std::fmt::Write as _;
        let _ = write!(self.id_buf, "{id}");
        id
    }

    /// Sends the writer's request on the order-entry connection; `signed` adds apiKey +
    /// signature unless the session is logged on with Ed25519.
    fn send(&mut self, kind: ReqKind, signed: bool) -> bool {
        let conn = self.api.id;
        self.new_req(kind, conn);
        let creds = if signed && !self.creds.supports_logon() { Some(&self.creds) } else { None };
        let frame = self.writer.finish_signed(&self.id_buf, creds);
        let ok = match self.api.state.ws() {
            Some(ws) => ws.send_text(frame).is_ok(),
            None => false,
        };
        if !ok {
            // The answer will never come: the connection error path turns the order unknown.
            self.api_failed(Instant::now(), "send failed");
        }
        ok
    }

    fn begin_signed(&mut self, method: &str) {
        let ts = self.exchange_ms();
        begin_signed(&mut self.writer, method, ts, self.cfg.recv_window_ms as i64);
    }

    fn send_place(&mut self, idx: usize, now: Instant) {
        let ts = self.exchange_ms();
        let recv_window = self.cfg.recv_window_ms as i64;
        let Some(slot) = self.slots[idx].as_ref() else { return };
        let order = slot.order;
        let Some(f) = self.filters.get(order.instrument().get()).copied() else { return };
        let limit = order.purpose() == FillPurpose::Entry && self.cfg.entry_type == EntryType::Limit;
        let qty = f.floor_qty(order.qty().units(), !limit);
        let w = &mut self.writer;
        begin_signed(w, "order.place", ts, recv_window);
        w.str("symbol", &self.symbols[order.instrument().get()]);
        w.str("side", order.side().name());
        if limit {
            let price = limit_price(&f, order, self.cfg.limit_offset_bps);
            w.str("type", "LIMIT");
            w.str("timeInForce", self.cfg.time_in_force.name());
            self.num_buf.clear();
            write_units(price, f.price_decimals(), &mut self.num_buf);
            w.str("price", &self.num_buf);
        } else {
            w.str("type", "MARKET");
        }
        self.num_buf.clear();
        write_units(qty, f.qty_decimals(), &mut self.num_buf);
        w.str("quantity", &self.num_buf);
        // One-way mode nets opposite positions of the same symbol, so an exit is reduce-only
        // only when the net position covers it even if every same-side order in flight fills
        // first; otherwise it is the trade that moves the net back to the sum of the open
        // positions, sent without the flag.
        let ix = order.instrument().get();
        let side_ix = side_index(order.side());
        let reduce_only = order.purpose() == FillPurpose::Exit && {
            let side = order.side().sign();
            let cover = -side * self.net[ix] - self.in_flight[ix][side_ix];
            cover >= qty
        };
        if reduce_only {
            w.str("reduceOnly", "true");
        }
        w.str("newClientOrderId", &slot.cid);
        w.str("newOrderRespType", "RESULT");
        if let Some(s) = self.slots[idx].as_mut() {
            self.in_flight[ix][side_ix] += qty - s.sent_qty;
            s.sent_qty = qty;
            s.resting = limit && self.cfg.time_in_force == TimeInForce::Gtc;
            s.placed_at.get_or_insert(now);
            if s.hold_until.take().is_some() {
                self.stats.held_sent += 1;
            }
            s.phase = Phase::Sent { sent_at: now };
            s.sends += 1;
            if s.sends > 1 {
                self.stats.resends += 1;
                tracing::warn!(client_order_id = %s.cid, send = s.sends, "binance: resending an order the exchange confirmed it does not have (-2013)");
            }
        }
        self.stats.sent += 1;
        self.send(ReqKind::Place(idx, order.order_id), true);
    }

    fn send_status(&mut self, idx: usize, now: Instant) {
        let ts = self.exchange_ms();
        let recv_window = self.cfg.recv_window_ms as i64;
        let Some(slot) = self.slots[idx].as_mut() else { return };
        let w = &mut self.writer;
        begin_signed(w, "order.status", ts, recv_window);
        w.str("symbol", &self.symbols[slot.order.instrument().get()]);
        w.str("origClientOrderId", &slot.cid);
        let since = match slot.phase {
            Phase::Unknown { since, .. } | Phase::Querying { since, .. } | Phase::Working { since } => since,
            _ => now,
        };
        slot.phase = Phase::Querying { since, sent_at: now };
        self.stats.status_queries += 1;
        let order_id = slot.order.order_id;
        self.send(ReqKind::Status(idx, order_id), true);
    }

    /// `order.cancel` by client order id (GTC LIMIT entries past their TTL, or cancel-all).
    fn send_cancel(&mut self, idx: usize) {
        let ts = self.exchange_ms();
        let recv_window = self.cfg.recv_window_ms as i64;
        let Some(slot) = self.slots[idx].as_mut() else { return };
        if slot.cancel_sent {
            return;
        }
        slot.cancel_sent = true;
        let order_id = slot.order.order_id;
        let w = &mut self.writer;
        begin_signed(w, "order.cancel", ts, recv_window);
        w.str("symbol", &self.symbols[slot.order.instrument().get()]);
        w.str("origClientOrderId", &slot.cid);
        self.stats.cancels += 1;
        self.send(ReqKind::Cancel(idx, order_id), true);
    }

    fn send_listen_key(&mut self, renew: bool) {
        self.writer.begin(if renew { "userDataStream.ping" } else { "userDataStream.start" });
        self.writer.str("apiKey", self.creds.api_key());
        self.listen_key_pending = true;
        self.send(ReqKind::ListenKey, false);
    }

    fn mark_unknown(&mut self, idx: usize, now: Instant, query_at: Instant) {
        if let Some(s) = self.slots[idx].as_mut() {
            let since = match s.phase {
                Phase::Unknown { since, .. } | Phase::Querying { since, .. } => since,
                _ => {
                    self.stats.unknown += 1;
                    tracing::warn!(client_order_id = %s.cid, "binance: order status unknown; querying it by client order id");
                    now
                }
            };
            s.phase = Phase::Unknown { since, next_query: query_at };
        }
    }

    /// A GTC LIMIT entry working longer than its TTL, not yet cancelled.
    fn resting_expired(&self, idx: usize, now: Instant) -> bool {
        self.slots[idx].as_ref().is_some_and(|s| {
            s.resting
                && !s.cancel_sent
                && s.placed_at.is_some_and(|t| now.duration_since(t) >= ms(self.cfg.limit_ttl_ms))
        })
    }

    /// For a held entry: whether it may still go out. One whose hold ran out is refused as
    /// disconnected; one held past a halt is cancelled.
    fn hold_ok(&mut self, idx: usize, now: Instant) -> bool {
        let Some(until) = self.slots[idx].as_ref().and_then(|s| s.hold_until) else { return true };
        if !self.entries_ok() {
            if let Some(s) = self.free_slot(idx) {
                self.reports.push_back(Report::Cancelled(s.order));
            }
            false
        } else if now >= until {
            self.stats.refused_disconnected += 1;
            self.reject(idx, RejectReason::Disconnected, 0, "venue: not connected (hold expired)");
            false
        } else {
            true
        }
    }

    /// Whether slot `idx` still holds the order with gateway id `order_id`.
    fn holds(&self, idx: usize, order_id: u64) -> bool {
        self.slots[idx].as_ref().is_some_and(|s| s.order.order_id == order_id)
    }

    fn free_slot(&mut self, idx: usize) -> Option<Slot> {
        let slot = self.slots[idx].take()?;
        self.in_flight[slot.order.instrument().get()][side_index(slot.order.side())] -= slot.sent_qty;
        self.by_cid.remove(&slot.cid);
        self.free.push(idx);
        Some(slot)
    }

    fn reject(&mut self, idx: usize, reason: RejectReason, code: i64, msg: &str) {
        if let Some(slot) = self.free_slot(idx) {
            tracing::warn!(client_order_id = %slot.cid, code, msg, reason = reason.text(), "binance: order refused");
            let code = i32::try_from(code).unwrap_or(i32::MIN);
            self.reports.push_back(Report::Rejected(slot.order, VenueReject::with_text(reason, code, msg)));
        }
    }

    /// Reports the fill of a slot whose final quantity is known, if its commission is in (or
    /// the wait is over).
    fn try_complete(&mut self, idx: usize, now: Instant, force: bool) {
        let Some(slot) = self.slots[idx].as_mut() else { return };
        let Some(status) = slot.status else { return };
        if !status.is_final() {
            return;
        }
        let qty = slot.exec_qty.max(slot.stream_qty);
        if qty <= 0 {
            let msg = if status == OrderStatus::Filled { "filled with zero quantity" } else { "order ended unfilled" };
            self.reject(idx, RejectReason::Exchange, 0, msg);
            return;
        }
        let stream_done = slot.stream_qty >= slot.exec_qty && slot.stream_qty > 0;
        if !stream_done && !force {
            if !matches!(slot.phase, Phase::FillWait { .. }) {
                slot.phase = Phase::FillWait { deadline: now + ms(self.cfg.fill_wait_ms) };
            }
            return;
        }
        let price = if slot.stream_qty > 0 && slot.stream_quote > 0 {
            (slot.stream_quote * i128::from(SCALE) / i128::from(slot.stream_qty)) as i64
        } else {
            slot.avg_price
        };
        let mut commission = slot.commission;
        if slot.stream_qty < qty {
            let missing = notional_units(price, qty - slot.stream_qty);
            commission += (missing as f64 * self.cfg.fee_bps_estimate / 10_000.0) as i64;
            self.stats.estimated_commissions += 1;
        }
        let Some(slot) = self.free_slot(idx) else { return };
        let ix = slot.order.instrument().get();
        self.net[ix] += slot.order.side().sign() * qty;
        let fill = Fill { order: slot.order, price: Price(price), qty: Qty(qty), commission: Usd(commission) };
        self.reports.push_back(Report::Filled(fill));
        if self.cfg.protective_orders && slot.order.purpose() == FillPurpose::Entry {
            self.place_protective(&fill);
        }
    }

    /// Exchange-side STOP_MARKET and TAKE_PROFIT_MARKET (reduce-only, mark price) for an entry.
    fn place_protective(&mut self, fill: &Fill) {
        let super::OrderIntent::Entry(req) = fill.order.intent else { return };
        let ix = fill.order.instrument().get();
        let Some(f) = self.filters.get(ix).copied() else { return };
        let sign = fill.order.side().sign() as f64;
        let entry = fill.price.units() as f64;
        let mut ids = [String::new(), String::new()];
        for (id, purpose) in ids.iter_mut().zip([Purpose::Stop, Purpose::TakeProfit]) {
            client_order_id(&self.cfg.client_id_prefix, &self.run_id, purpose, req.header.trace_id.as_bytes(), id);
        }
        for (k, (kind, pct, reason)) in [
            ("STOP_MARKET", -f64::from(req.stop_loss_pct), tradeflow_core::ExitReason::StopLoss),
            ("TAKE_PROFIT_MARKET", f64::from(req.take_profit_pct), tradeflow_core::ExitReason::TakeProfit),
        ]
        .into_iter()
        .enumerate()
        {
            if pct == 0.0 {
                continue;
            }
            if !self.api_ready() {
                tracing::warn!(symbol = %self.symbols[ix], kind, "binance: protective order not placed: order-entry connection down");
                continue;
            }
            let trigger = f.round_price((entry * (1.0 + sign * pct / 100.0)) as i64, false);
            self.begin_signed("algoOrder.place");
            self.writer.str("algoType", "CONDITIONAL");
            self.writer.str("symbol", &self.symbols[ix]);
            self.writer.str("side", fill.order.side().opposite().name());
            self.writer.str("type", kind);
            self.num_buf.clear();
            write_units(fill.qty.units(), f.qty_decimals(), &mut self.num_buf);
            self.writer.str("quantity", &self.num_buf);
            self.writer.str("reduceOnly", "true");
            self.num_buf.clear();
            write_units(trigger, f.price_decimals(), &mut self.num_buf);
            self.writer.str("triggerPrice", &self.num_buf);
            self.writer.str("workingType", "MARK_PRICE");
            self.writer.str("clientAlgoId", &ids[k]);
            let exit = tradeflow_core::ExitRequest {
                header: req.header,
                qty: fill.qty,
                ref_price: Price(trigger),
                confidence: req.confidence,
                leverage: req.leverage,
                model: req.model,
                side: fill.order.side().opposite(),
                reason,
            };
            let p = Protective { exit, sibling: ids[1 - k].clone(), qty: 0, quote: 0, commission: 0 };
            self.protective.insert(ids[k].clone(), p);
            self.send(ReqKind::Protective, true);
        }
    }

    /// Cancels the protective orders of the entry whose exit just filled.
    fn cancel_protective(&mut self, order: &Order) {
        let super::OrderIntent::Exit(req) = order.intent else { return };
        for purpose in [Purpose::Stop, Purpose::TakeProfit] {
            client_order_id(
                &self.cfg.client_id_prefix,
                &self.run_id,
                purpose,
                req.header.trace_id.as_bytes(),
                &mut self.cid_buf,
            );
            if self.protective.remove(self.cid_buf.as_str()).is_some() {
                let id = std::mem::take(&mut self.cid_buf);
                self.cancel_algo(&id);
                self.cid_buf = id;
            }
        }
    }

    /// Cancels a protective order: tracked until the exchange answers, sent now or once the
    /// order-entry connection is back.
    fn cancel_algo(&mut self, client_algo_id: &str) {
        self.cancels.insert(client_algo_id.to_owned(), None);
        self.send_algo_cancel(client_algo_id);
    }

    /// `algoOrder.cancel` takes the algo id or client algo id only (no symbol).
    fn send_algo_cancel(&mut self, client_algo_id: &str) {
        if !self.api_ready() {
            return;
        }
        self.begin_signed("algoOrder.cancel");
        self.writer.str("clientAlgoId", client_algo_id);
        let req = self.next_req;
        if self.send(ReqKind::ProtectiveCancel, true) {
            if let Some(r) = self.cancels.get_mut(client_algo_id) {
                *r = Some(req);
            }
        }
    }

    /// (Re)sends every protective cancel not in flight (after a reconnect or a failed answer).
    fn resend_algo_cancels(&mut self) {
        let due: Vec<String> = self.cancels.iter().filter(|(_, r)| r.is_none()).map(|(k, _)| k.clone()).collect();
        for id in due {
            self.send_algo_cancel(&id);
        }
    }

    /// The answer to `algoOrder.cancel` request `req`: 200, or `-2011` (the exchange no longer
    /// has it open: triggered or already cancelled), settles it; anything else is retried
    /// after the next reconnect and reported as left open if it never settles.
    fn on_algo_cancel_answer(&mut self, req: u64, status: u16, code: Option<i64>) {
        let Some(id) = self.cancels.iter().find(|(_, r)| **r == Some(req)).map(|(k, _)| k.clone()) else { return };
        if status == 200 || code == Some(-2011) {
            self.cancels.remove(&id);
            self.stats.protective_cancelled += 1;
        } else if let Some(r) = self.cancels.get_mut(&id) {
            tracing::warn!(client_algo_id = %id, status, code, "binance: protective order cancel refused; retried after a reconnect");
            *r = None;
        }
    }

    /// A fill of the order a protective algo order triggered: the position's exit happened at
    /// the exchange. Reported as that position's exit fill; the sibling order is cancelled.
    fn on_protective_fill(&mut self, u: &codec::OrderUpdate) -> bool {
        let Some(p) = self.protective.get_mut(u.client_order_id.as_str()) else { return false };
        if u.execution == "TRADE" && u.last_qty > 0 {
            p.qty += u.last_qty;
            p.quote += notional_units(u.last_price, u.last_qty);
            p.commission += u.commission;
        }
        if !u.status.is_final() {
            return true;
        }
        let Some(p) = self.protective.remove(u.client_order_id.as_str()) else { return true };
        let ix = p.exit.header.instrument.get();
        if self.protective.remove(p.sibling.as_str()).is_some() {
            self.cancel_algo(&p.sibling);
        }
        if p.qty <= 0 {
            return true;
        }
        self.net[ix] += p.exit.side.sign() * p.qty;
        let price = (p.quote * i128::from(SCALE) / i128::from(p.qty)) as i64;
        let order_id = self.next_protective_id;
        self.next_protective_id -= 1;
        let order = Order {
            order_id,
            intent: super::OrderIntent::Exit(tradeflow_core::ExitRequest { qty: Qty(p.qty), ..p.exit }),
        };
        self.reports.push_back(Report::Filled(Fill {
            order,
            price: Price(price),
            qty: Qty(p.qty),
            commission: Usd(p.commission),
        }));
        self.stats.protective_fills += 1;
        true
    }

    // ---- I/O -------------------------------------------------------------------------

    /// One pass of non-blocking I/O and timers.
    fn io(&mut self, now: Instant) {
        self.drive_api(now);
        self.drive_standby(now);
        self.drive_retiring(now);
        self.drive_user(now);
        if now >= self.next_scan {
            self.next_scan = now + SCAN_EVERY;
            self.scan(now);
        }
    }

    fn open_conn(&mut self, now: Instant) -> Result<Conn, WsError> {
        let ws = WsClient::connect(&self.cfg.ws_api_url, &self.ws_opts, now)?;
        let id = self.next_conn_id;
        self.next_conn_id += 1;
        Ok(Conn { id, state: ConnState::Connecting(Box::new(ws)), opened_at: None })
    }

    /// Advances one connection's state machine; returns an error when it failed.
    fn step_conn(&mut self, which: Which, now: Instant) -> Result<(), String> {
        let conn = match which {
            Which::Api => &mut self.api,
            Which::Standby => match self.standby.as_mut() {
                Some(c) => c,
                None => return Ok(()),
            },
        };
        let conn_id = conn.id;
        match &mut conn.state {
            ConnState::Down { .. } => Ok(()),
            ConnState::Connecting(ws) => match ws.poll(now) {
                Ok(WsState::Open) => {
                    conn.opened_at = Some(now);
                    let ConnState::Connecting(ws) =
                        std::mem::replace(&mut conn.state, ConnState::Down { retry_at: now })
                    else {
                        return Ok(());
                    };
                    if self.creds.supports_logon() {
                        conn.state = ConnState::LoggingOn(ws);
                        self.send_logon(which);
                    } else {
                        conn.state = ConnState::Ready(ws);
                        self.conn_ready(which, now);
                    }
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            ConnState::LoggingOn(ws) | ConnState::Ready(ws) => {
                ws.poll(now).map_err(|e| e.to_string())?;
                let inbox = &mut self.inbox;
                inbox.len = 0;
                ws.recv(now, &mut |t| inbox.push(t)).map_err(|e| e.to_string())?;
                let n = self.inbox.len;
                for i in 0..n {
                    let frame = std::mem::take(&mut self.inbox.frames[i]);
                    self.on_api_frame(&frame, conn_id, now);
                    self.inbox.frames[i] = frame;
                }
                Ok(())
            }
        }
    }

    fn send_logon(&mut self, which: Which) {
        let ts = self.exchange_ms();
        self.writer.begin("session.logon");
        self.writer.int("timestamp", ts);
        self.writer.int("recvWindow", self.cfg.recv_window_ms as i64);
        let conn = match which {
            Which::Api => &mut self.api,
            Which::Standby => match self.standby.as_mut() {
                Some(c) => c,
                None => return,
            },
        };
        let conn_id = conn.id;
        let Some(ws) = conn.state.ws() else { return };
        let id = self.next_req;
        self.next_req += 1;
        self.requests.insert(id, Req { kind: ReqKind::Logon, conn: conn_id });
        self.id_buf.clear();
        use std::fmt::Write as _;
        let _ = write!(self.id_buf, "{id}");
        let frame = self.writer.finish_signed(&self.id_buf, Some(&self.creds));
        let _ = ws.send_text(frame);
    }

    fn conn_ready(&mut self, which: Which, now: Instant) {
        match which {
            Which::Api => self.api_ready_now(now),
            Which::Standby => {
                // Swap: new orders go out on the fresh connection; the old one is read until
                // its answers are in, then closed.
                let Some(mut fresh) = self.standby.take() else { return };
                tracing::info!(conn = fresh.id, "binance: order-entry connection renewed before its age limit");
                std::mem::swap(&mut self.api, &mut fresh);
                self.retiring = Some((fresh, now + ms(self.cfg.order_timeout_ms)));
                self.api_ready_now(now);
            }
        }
    }

    fn api_ready_now(&mut self, now: Instant) {
        if self.backoff.attempt() > 0 {
            tracing::info!(
                conn = self.api.id,
                reconnects = self.stats.reconnects,
                "binance: order-entry connection back"
            );
        }
        self.backoff.reset();
        if self.listen_key.is_none() && !self.listen_key_pending {
            self.send_listen_key(false);
        }
        self.resend_algo_cancels();
        // Unknown orders are queried, queued ones sent.
        for idx in 0..self.slots.len() {
            match self.slots[idx].as_ref().map(|s| s.phase) {
                Some(Phase::Unknown { .. }) => self.send_status(idx, now),
                Some(Phase::Queued) if self.hold_ok(idx, now) && !self.throttled() => self.send_place(idx, now),
                _ => {}
            }
        }
    }

    fn drive_api(&mut self, now: Instant) {
        if let ConnState::Down { retry_at } = self.api.state {
            if now < retry_at {
                return;
            }
            match self.open_conn(now) {
                Ok(c) => self.api = c,
                Err(e) => {
                    self.api_failed(now, &e.to_string());
                    return;
                }
            }
        }
        if let Err(e) = self.step_conn(Which::Api, now) {
            self.api_failed(now, &e);
            return;
        }
        if self.api_ready()
            && self.standby.is_none()
            && self.retiring.is_none()
            && self
                .api
                .opened_at
                .is_some_and(|t| now.duration_since(t) >= Duration::from_secs(self.cfg.max_connection_age_s))
        {
            if let Ok(c) = self.open_conn(now) {
                self.standby = Some(c);
            }
        }
    }

    fn drive_standby(&mut self, now: Instant) {
        if self.standby.is_none() {
            return;
        }
        if let Err(e) = self.step_conn(Which::Standby, now) {
            tracing::warn!(error = %e, "binance: replacement order-entry connection failed; the current one keeps trading");
            // Try again later; the current connection keeps trading.
            self.standby = None;
            self.api.opened_at =
                Some(now - Duration::from_secs(self.cfg.max_connection_age_s) + ms(self.cfg.reconnect_max_ms));
        }
    }

    fn drive_retiring(&mut self, now: Instant) {
        let Some((mut conn, deadline)) = self.retiring.take() else { return };
        let id = conn.id;
        let pending = self.requests.values().any(|r| r.conn == id);
        let mut failed = false;
        if let Some(ws) = conn.state.ws() {
            let inbox = &mut self.inbox;
            inbox.len = 0;
            failed = ws.poll(now).is_err() || ws.recv(now, &mut |t| inbox.push(t)).is_err();
            for i in 0..self.inbox.len {
                let frame = std::mem::take(&mut self.inbox.frames[i]);
                self.on_api_frame(&frame, id, now);
                self.inbox.frames[i] = frame;
            }
        }
        if failed || !pending || now >= deadline {
            if let Some(ws) = conn.state.ws() {
                ws.close();
            }
            self.conn_lost(id, now);
        } else {
            self.retiring = Some((conn, deadline));
        }
    }

    /// Every request that went out on connection `id` will not be answered.
    fn conn_lost(&mut self, id: u32, now: Instant) {
        let lost: Vec<(u64, Req)> = self.requests.iter().filter(|(_, r)| r.conn == id).map(|(k, r)| (*k, *r)).collect();
        for (k, r) in lost {
            self.requests.remove(&k);
            match r.kind {
                ReqKind::Place(idx, id) | ReqKind::Status(idx, id) if self.holds(idx, id) => {
                    self.mark_unknown(idx, now, now);
                }
                ReqKind::Cancel(idx, id) if self.holds(idx, id) => {
                    // Ask again once connected; the status query settles it meanwhile.
                    if let Some(s) = self.slots[idx].as_mut() {
                        s.cancel_sent = false;
                    }
                    self.mark_unknown(idx, now, now);
                }
                ReqKind::Place(..) | ReqKind::Status(..) | ReqKind::Cancel(..) => {}
                ReqKind::ListenKey => self.listen_key_pending = false,
                ReqKind::ProtectiveCancel => {
                    for r in self.cancels.values_mut().filter(|r| **r == Some(k)) {
                        *r = None;
                    }
                }
                ReqKind::Logon | ReqKind::Protective => {}
            }
        }
    }

    fn api_failed(&mut self, now: Instant, why: &str) {
        let id = self.api.id;
        if let Some(ws) = self.api.state.ws() {
            ws.close();
        }
        let was_up = !matches!(self.api.state, ConnState::Down { .. });
        let open = matches!(self.api.state, ConnState::LoggingOn(_) | ConnState::Ready(_));
        let delay = self.backoff.next_delay();
        let in_flight = self.requests.values().filter(|r| r.conn == id).count();
        if open {
            tracing::warn!(
                conn = id,
                error = why,
                in_flight,
                retry_in_ms = delay.as_millis() as u64,
                "binance: order-entry connection lost; reconnecting"
            );
        } else {
            tracing::warn!(
                error = why,
                attempt = self.backoff.attempt(),
                retry_in_ms = delay.as_millis() as u64,
                "binance: order-entry connect failed; retrying"
            );
        }
        self.api.state = ConnState::Down { retry_at: now + delay };
        self.api.opened_at = None;
        if was_up {
            self.stats.reconnects += 1;
        }
        self.conn_lost(id, now);
    }

    fn drive_user(&mut self, now: Instant) {
        match &mut self.user {
            ConnState::Down { retry_at } => {
                if now < *retry_at {
                    return;
                }
                let Some(key) = self.listen_key.as_deref() else { return };
                let url = format!("{}/private/ws/{key}", self.cfg.stream_url.trim_end_matches('/'));
                match WsClient::connect(&url, &self.ws_opts, now) {
                    Ok(ws) => self.user = ConnState::Connecting(Box::new(ws)),
                    Err(_) => self.user = ConnState::Down { retry_at: now + self.user_backoff.next_delay() },
                }
            }
            ConnState::Connecting(ws) => match ws.poll(now) {
                Ok(WsState::Open) => {
                    let ConnState::Connecting(ws) =
                        std::mem::replace(&mut self.user, ConnState::Down { retry_at: now })
                    else {
                        return;
                    };
                    self.user = ConnState::Ready(ws);
                    tracing::info!("binance: user data stream connected");
                    self.user_backoff.reset();
                    self.user_stream_resumed(now);
                }
                Ok(_) => {}
                Err(_) => self.user_failed(now),
            },
            ConnState::LoggingOn(ws) | ConnState::Ready(ws) => {
                // Reopened before the exchange's 24 h cut, at a moment of our choosing; orders
                // working meanwhile are queried once the new stream is up.
                let aged = ws
                    .opened_at()
                    .is_some_and(|t| now.duration_since(t) >= Duration::from_secs(self.cfg.max_connection_age_s));
                if aged && self.by_cid.is_empty() {
                    ws.close();
                    self.user = ConnState::Down { retry_at: now };
                    self.stats.user_stream_renewals += 1;
                    tracing::info!("binance: user data stream renewed before its age limit");
                    return;
                }
                let inbox = &mut self.inbox;
                inbox.len = 0;
                let res = ws.poll(now).and_then(|_| ws.recv(now, &mut |t| inbox.push(t)));
                if res.is_err() {
                    self.user_failed(now);
                    return;
                }
                for i in 0..self.inbox.len {
                    let frame = std::mem::take(&mut self.inbox.frames[i]);
                    self.on_user_frame(&frame, now);
                    self.inbox.frames[i] = frame;
                }
            }
        }
    }

    fn user_failed(&mut self, now: Instant) {
        if let Some(ws) = self.user.ws() {
            ws.close();
        }
        let delay = self.user_backoff.next_delay();
        if matches!(self.user, ConnState::Ready(_)) {
            self.stats.user_stream_reconnects += 1;
            tracing::warn!(
                retry_in_ms = delay.as_millis() as u64,
                "binance: user data stream lost; reconnecting (working orders are queried once it is back)"
            );
        } else {
            tracing::warn!(
                attempt = self.user_backoff.attempt(),
                retry_in_ms = delay.as_millis() as u64,
                "binance: user data stream connect failed; retrying"
            );
        }
        self.user = ConnState::Down { retry_at: now + delay };
    }

    /// After a user-stream gap, events may have been missed: query every working order.
    fn user_stream_resumed(&mut self, now: Instant) {
        for idx in 0..self.slots.len() {
            if let Some(Phase::Working { .. } | Phase::FillWait { .. }) = self.slots[idx].as_ref().map(|s| s.phase) {
                if self.api_ready() {
                    self.send_status(idx, now);
                }
            }
        }
    }

    // ---- frames ----------------------------------------------------------------------

    fn on_api_frame(&mut self, text: &str, conn: u32, now: Instant) {
        let Ok(resp) = codec::response(text) else {
            self.stats.decode_errors += 1;
            return;
        };
        self.note_rate_limits(&resp.rate_limits);
        let Some(req_id) = resp.id.as_ref().and_then(codec::ResponseId::number) else {
            // Unsolicited (e.g. a revoked session): the connection is no longer usable.
            if resp.status == 401 && conn == self.api.id {
                self.api_failed(now, "session revoked");
            }
            return;
        };
        let Some(req) = self.requests.remove(&req_id) else { return };
        let result = resp.result.map(|r| r.get());
        let error = resp.error.as_ref().map(|e| (e.code, e.msg.as_ref(), e.data.and_then(|d| d.retry_after)));
        match req.kind {
            // An answer for an order already settled (its slot may hold another order now).
            ReqKind::Place(idx, id) | ReqKind::Status(idx, id) | ReqKind::Cancel(idx, id) if !self.holds(idx, id) => {}
            ReqKind::Place(idx, _) => self.on_place_answer(idx, resp.status, result, error, now),
            ReqKind::Status(idx, _) => self.on_status_answer(idx, resp.status, result, error, now),
            ReqKind::Cancel(idx, _) => {
                if resp.status == 200 {
                    self.apply_answer(idx, result, now, now);
                } else {
                    // -2011 (already filled or gone) or anything else: ask for the status.
                    self.mark_unknown(idx, now, now);
                }
            }
            ReqKind::Logon => {
                if resp.status == 200 {
                    let which =
                        if self.standby.as_ref().is_some_and(|c| c.id == conn) { Which::Standby } else { Which::Api };
                    let c = if which == Which::Standby { self.standby.as_mut() } else { Some(&mut self.api) };
                    if let Some(c) = c {
                        if let ConnState::LoggingOn(ws) =
                            std::mem::replace(&mut c.state, ConnState::Down { retry_at: now })
                        {
                            c.state = ConnState::Ready(ws);
                        }
                    }
                    tracing::info!(conn, "binance: session.logon accepted");
                    self.conn_ready(which, now);
                } else {
                    let (code, msg) = error.map_or((0, ""), |e| (e.0, e.1));
                    tracing::warn!(conn, status = resp.status, code, msg, "binance: session.logon refused");
                    if conn == self.api.id {
                        self.api_failed(now, "session.logon refused");
                    } else {
                        self.standby = None;
                    }
                }
            }
            ReqKind::ListenKey => {
                self.listen_key_pending = false;
                #[derive(serde::Deserialize)]
                struct Key {
                    #[serde(rename = "listenKey")]
                    listen_key: String,
                }
                match result.map(serde_json::from_str::<Key>) {
                    Some(Ok(k)) if resp.status == 200 => {
                        self.listen_key_renew_at = now + Duration::from_secs(self.cfg.listen_key_renew_s);
                        if self.listen_key.as_deref() != Some(k.listen_key.as_str()) {
                            self.listen_key = Some(k.listen_key);
                            if let Some(ws) = self.user.ws() {
                                ws.close();
                            }
                            self.user = ConnState::Down { retry_at: now };
                        }
                    }
                    _ => {
                        // -1125 or anything else: start a fresh key on the next scan.
                        self.listen_key = None;
                    }
                }
            }
            ReqKind::Protective => {
                if resp.status == 200 {
                    self.stats.protective_orders += 1;
                } else {
                    let (code, msg) = error.map_or((0, ""), |e| (e.0, e.1));
                    tracing::warn!(
                        status = resp.status,
                        code,
                        msg,
                        "binance: protective order refused by the exchange"
                    );
                }
            }
            ReqKind::ProtectiveCancel => self.on_algo_cancel_answer(req_id, resp.status, error.map(|e| e.0)),
        }
    }

    fn note_rate_limits(&mut self, limits: &[codec::RateLimit<'_>]) {
        for l in limits {
            if matches!(l.kind.as_ref(), "ORDERS" | "REQUEST_WEIGHT") && l.count >= l.limit && l.limit > 0 {
                // At the limit: wait for the window's next boundary (fixed-boundary windows).
                let win = l.window_ms() as i64;
                let now = self.exchange_ms();
                let until = (now / win + 1) * win;
                if until > self.throttle_until_ms && self.throttle_until_ms <= now {
                    tracing::info!(limit = %l.kind, count = l.count, pause_ms = until - now, "binance: at the exchange's rate limit; pausing orders until the window turns");
                }
                self.throttle_until_ms = self.throttle_until_ms.max(until);
            }
        }
    }

    fn apply_result(&mut self, idx: usize, r: &OrderResult, now: Instant) {
        let Some(s) = self.slots[idx].as_mut() else { return };
        s.status = Some(r.status);
        s.exec_qty = s.exec_qty.max(r.executed_qty);
        if r.avg_price > 0 {
            s.avg_price = r.avg_price;
        }
        if r.status.is_final() {
            self.try_complete(idx, now, false);
        } else if !matches!(s.phase, Phase::FillWait { .. }) {
            s.phase = Phase::Working { since: now };
        }
    }

    /// A 200 answer carrying an order: applied, or (undecodable) the order is unknown and
    /// queried at `query_at`.
    fn apply_answer(&mut self, idx: usize, result: Option<&str>, now: Instant, query_at: Instant) {
        match result.map(codec::order_result) {
            Some(Ok(r)) => self.apply_result(idx, &r, now),
            _ => {
                self.stats.decode_errors += 1;
                self.mark_unknown(idx, now, query_at);
            }
        }
    }

    fn on_place_answer(
        &mut self,
        idx: usize,
        status: u16,
        result: Option<&str>,
        error: Option<(i64, &str, Option<i64>)>,
        now: Instant,
    ) {
        if self.slots[idx].is_none() {
            return;
        }
        if status == 200 {
            self.apply_answer(idx, result, now, now);
            return;
        }
        let (code, msg, retry_after) = error.unwrap_or((0, "no error body", None));
        match (status, code) {
            (429, _) => {
                self.stats.rate_limited += 1;
                tracing::warn!(code, retry_after = ?retry_after, "binance: rate limited (429): entries refused, exits wait");
                let until = retry_after.unwrap_or(self.exchange_ms() + DEFAULT_THROTTLE_MS);
                self.throttle_until_ms = self.throttle_until_ms.max(until);
                self.not_placed(idx, RejectReason::RateLimited, code, msg);
            }
            (418, _) => {
                self.stats.banned += 1;
                tracing::error!(code, retry_after = ?retry_after, "binance: banned (418): trading halted");
                let until = retry_after.unwrap_or(self.exchange_ms() + 120_000);
                self.throttle_until_ms = self.throttle_until_ms.max(until);
                self.kill.escalate(TradingState::Halted);
                self.not_placed(idx, RejectReason::RateLimited, code, msg);
            }
            (_, -1021) | (_, -5028) => {
                tracing::warn!(code, msg, "binance: timestamp refused; re-measuring the clock offset");
                self.clock.resync.store(true, Ordering::Relaxed);
                self.not_placed(idx, RejectReason::ClockDrift, code, msg);
            }
            (s, c) if s >= 500 || s == 408 || matches!(c, -1000 | -1006 | -1007 | -4116) => {
                self.mark_unknown(idx, now, now);
            }
            _ => self.reject(idx, RejectReason::Exchange, code, msg),
        }
    }

    /// The exchange certainly did not place it: entries are refused, exits wait to be resent.
    fn not_placed(&mut self, idx: usize, reason: RejectReason, code: i64, msg: &str) {
        let Some(s) = self.slots[idx].as_mut() else { return };
        if s.order.purpose() == FillPurpose::Exit {
            s.phase = Phase::Queued;
            s.sends = s.sends.saturating_sub(1);
        } else {
            self.reject(idx, reason, code, msg);
        }
    }

    fn on_status_answer(
        &mut self,
        idx: usize,
        status: u16,
        result: Option<&str>,
        error: Option<(i64, &str, Option<i64>)>,
        now: Instant,
    ) {
        let Some(slot) = self.slots[idx].as_ref() else { return };
        if status == 200 {
            self.apply_answer(idx, result, now, now + ms(REQUERY_MS));
            return;
        }
        match error.map(|e| e.0) {
            Some(-2013) => {
                // The exchange does not have it: resending cannot duplicate it.
                if slot.sends <= self.cfg.max_resends
                    && (slot.order.purpose() != FillPurpose::Entry || self.entries_ok())
                {
                    if self.throttled() {
                        if let Some(s) = self.slots[idx].as_mut() {
                            s.phase = Phase::Queued;
                        }
                    } else {
                        self.send_place(idx, now);
                    }
                } else {
                    let msg = error.map_or("", |e| e.1);
                    self.reject(idx, RejectReason::Exchange, -2013, msg);
                }
            }
            _ => {
                if status == 429 || status == 418 {
                    let until = error.and_then(|e| e.2).unwrap_or(self.exchange_ms() + DEFAULT_THROTTLE_MS);
                    self.throttle_until_ms = self.throttle_until_ms.max(until);
                }
                self.mark_unknown(idx, now, now + ms(REQUERY_MS));
            }
        }
    }

    fn entries_ok(&self) -> bool {
        self.kill.state() == TradingState::Active
    }

    fn on_user_frame(&mut self, text: &str, now: Instant) {
        match codec::user_event(text) {
            Ok(UserEvent::Order(u)) => {
                if self.on_protective_fill(&u) {
                    return;
                }
                let Some(&idx) = self.by_cid.get(u.client_order_id.as_str()) else { return };
                let Some(s) = self.slots[idx].as_mut() else { return };
                if u.execution == "TRADE" && u.last_qty > 0 {
                    s.stream_qty += u.last_qty;
                    s.stream_quote += notional_units(u.last_price, u.last_qty);
                    s.commission += u.commission;
                }
                s.status = Some(u.status);
                if u.status.is_final() {
                    s.exec_qty = s.exec_qty.max(u.cum_qty);
                    if u.avg_price > 0 {
                        s.avg_price = u.avg_price;
                    }
                    self.try_complete(idx, now, false);
                } else if matches!(s.phase, Phase::Sent { .. } | Phase::Unknown { .. }) {
                    // The order exists: no resend; wait for its fills.
                    s.phase = Phase::Working { since: now };
                }
            }
            Ok(UserEvent::ListenKeyExpired) => {
                tracing::warn!("binance: listen key expired; starting a new one");
                self.listen_key = None;
                if self.api_ready() && !self.listen_key_pending {
                    self.send_listen_key(false);
                }
            }
            Ok(UserEvent::Algo(_)) | Ok(UserEvent::Other(_)) => {}
            Err(_) => self.stats.decode_errors += 1,
        }
    }

    /// Timers: answers overdue, unknown orders to query, queued exits, fill waits, listen key.
    fn scan(&mut self, now: Instant) {
        let timeout = ms(self.cfg.order_timeout_ms);
        let ready = self.api_ready();
        let throttled = self.throttled();
        if ready && !self.listen_key_pending {
            if self.listen_key.is_none() {
                self.send_listen_key(false);
            } else if now >= self.listen_key_renew_at {
                self.send_listen_key(true);
            }
        }
        if self.by_cid.is_empty() {
            return;
        }
        for idx in 0..self.slots.len() {
            let Some(phase) = self.slots[idx].as_ref().map(|s| s.phase) else { continue };
            match phase {
                Phase::Queued if !self.hold_ok(idx, now) => {}
                Phase::Queued if ready && !throttled => self.send_place(idx, now),
                Phase::Sent { sent_at } if now.duration_since(sent_at) >= timeout => self.mark_unknown(idx, now, now),
                Phase::Unknown { since, next_query } => {
                    if now.duration_since(since) >= ms(self.cfg.unknown_give_up_ms) {
                        self.stats.unknown_given_up += 1;
                        tracing::error!(
                            give_up_ms = self.cfg.unknown_give_up_ms,
                            "binance: gave up on an order whose status stayed unknown"
                        );
                        self.reject(idx, RejectReason::StatusUnknown, -1007, "status unknown: gave up");
                    } else if ready && !throttled && now >= next_query {
                        self.send_status(idx, now);
                    }
                }
                Phase::Querying { sent_at, .. } if now.duration_since(sent_at) >= timeout => {
                    self.mark_unknown(idx, now, now);
                }
                Phase::Working { .. } if ready && self.resting_expired(idx, now) => self.send_cancel(idx),
                Phase::Working { since } if ready && !throttled && now.duration_since(since) >= timeout => {
                    self.send_status(idx, now);
                }
                Phase::FillWait { deadline } if now >= deadline => self.try_complete(idx, now, true),
                _ => {}
            }
        }
    }
}

/// LIMIT price of an entry: the reference moved by `offset_bps` in the taker's direction (up
/// for buys, down for sells), rounded onto the tick grid towards the reference.
fn limit_price(f: &SymbolFilters, order: Order, offset_bps: f64) -> i64 {
    let r = order.ref_price().units() as f64;
    let sign = order.side().sign() as f64;
    let raw = (r * (1.0 + sign * offset_bps / 10_000.0)) as i64;
    f.round_price(raw, order.side() == tradeflow_core::Side::Sell)
}

fn side_index(side: tradeflow_core::Side) -> usize {
    match side {
        tradeflow_core::Side::Buy => 0,
        tradeflow_core::Side::Sell => 1,
    }
}

/// Starts a signed request: `timestamp` and `recvWindow` first.
fn begin_signed(w: &mut RequestWriter, method: &str, ts: i64, recv_window: i64) {
    w.begin(method);
    w.int("timestamp", ts);
    w.int("recvWindow", recv_window);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Api,
    Standby,
}

fn spawn_clock_thread(
    rest: RestClient,
    clock: Arc<ClockSync>,
    interval_s: u64,
    max_drift_ms: u64,
) -> Result<JoinHandle<()>, String> {
    std::thread::Builder::new()
        .name("tf-binance-clock".into())
        .spawn(move || {
            let mut last = Instant::now();
            while !clock.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                let due = interval_s > 0 && last.elapsed() >= Duration::from_secs(interval_s);
                if !(due || clock.resync.swap(false, Ordering::Relaxed)) {
                    continue;
                }
                last = Instant::now();
                match measure_offset(&rest) {
                    Ok(off) => {
                        clock.offset_ms.store(off, Ordering::Relaxed);
                        let ok = off.unsigned_abs() <= max_drift_ms;
                        if clock.within_limit.swap(ok, Ordering::Relaxed) != ok {
                            if ok {
                                tracing::info!(
                                    offset_ms = off,
                                    "binance: clock back within the drift limit; entries allowed"
                                );
                            } else {
                                tracing::warn!(
                                    offset_ms = off,
                                    max_drift_ms,
                                    "binance: clock drift beyond the limit; entries refused"
                                );
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "binance: clock check failed"),
                }
            }
        })
        .map_err(|e| format!("cannot start the clock thread: {e}"))
}

impl Venue for BinanceVenue {
    fn submit(&mut self, order: Order, _now_ns: u64) -> Submitted {
        let now = Instant::now();
        let ix = order.instrument().get();
        let Some(f) = self.filters.get(ix).copied() else {
            return Submitted::Rejected(order, VenueReject::local(RejectReason::UnknownInstrument));
        };
        let exit = order.purpose() == FillPurpose::Exit;
        let ref_price = order.ref_price().units();
        if ref_price <= 0 {
            return Submitted::Rejected(order, VenueReject::local(RejectReason::NoPrice));
        }
        let limit = !exit && self.cfg.entry_type == EntryType::Limit;
        let qty = f.floor_qty(order.qty().units(), !limit);
        let price = if limit { limit_price(&f, order, self.cfg.limit_offset_bps) } else { ref_price };
        if let Err(e) = f.check(price, qty, !limit, exit) {
            return Submitted::Rejected(order, VenueReject::with_text(RejectReason::Filter, e.code(), e.message()));
        }
        if !exit {
            if !self.clock.within_limit.load(Ordering::Relaxed) {
                return Submitted::Rejected(order, VenueReject::local(RejectReason::ClockDrift));
            }
            if !self.api_ready() && self.cfg.entries_while_disconnected == WhileDisconnected::Refuse {
                self.stats.refused_disconnected += 1;
                return Submitted::Rejected(order, VenueReject::local(RejectReason::Disconnected));
            }
            if self.throttled() {
                return Submitted::Rejected(order, VenueReject::local(RejectReason::RateLimited));
            }
        }
        let purpose = if exit { Purpose::Exit } else { Purpose::Entry };
        client_order_id(
            &self.cfg.client_id_prefix,
            &self.run_id,
            purpose,
            order.header().trace_id.as_bytes(),
            &mut self.cid_buf,
        );
        if self.by_cid.contains_key(self.cid_buf.as_str()) {
            return Submitted::Rejected(
                order,
                VenueReject::with_text(RejectReason::Exchange, -4116, "duplicate order in flight"),
            );
        }
        let Some(idx) = self.free.pop() else {
            return Submitted::Rejected(order, VenueReject::local(RejectReason::QueueFull));
        };
        let cid = self.cid_buf.clone();
        self.by_cid.insert(cid.clone(), idx);
        self.slots[idx] = Some(Slot {
            order,
            cid,
            phase: Phase::Queued,
            sends: 0,
            status: None,
            exec_qty: 0,
            avg_price: 0,
            stream_qty: 0,
            stream_quote: 0,
            commission: 0,
            sent_qty: 0,
            resting: false,
            cancel_sent: false,
            placed_at: None,
            hold_until: None,
        });
        if !exit && !self.api_ready() {
            self.stats.held += 1;
            if let Some(s) = self.slots[idx].as_mut() {
                s.hold_until = Some(now + ms(self.cfg.entry_hold_ms));
            }
        }
        if self.api_ready() && !self.throttled() {
            self.send_place(idx, now);
        }
        Submitted::Accepted
    }

    fn poll_report(&mut self, _now_ns: u64, entries_allowed: bool) -> Option<Report> {
        if self.reports.is_empty() {
            self.io(Instant::now());
        }
        let r = self.reports.pop_front()?;
        if let Report::Filled(fill) = &r {
            if self.cfg.protective_orders && fill.order.purpose() == FillPurpose::Exit {
                self.cancel_protective(&fill.order);
            }
        }
        let _ = entries_allowed;
        Some(r)
    }

    fn cancel_entries(&mut self, _now_ns: u64) {
        for idx in 0..self.slots.len() {
            let resting =
                self.slots[idx].as_ref().is_some_and(|s| s.resting && s.order.purpose() == FillPurpose::Entry);
            if resting && self.api_ready() {
                self.send_cancel(idx);
            }
            let queued_entry = self.slots[idx]
                .as_ref()
                .is_some_and(|s| s.phase == Phase::Queued && s.order.purpose() == FillPurpose::Entry);
            if queued_entry {
                if let Some(s) = self.free_slot(idx) {
                    self.reports.push_back(Report::Cancelled(s.order));
                }
            }
        }
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        None
    }

    fn working(&self) -> usize {
        self.by_cid.len() + self.reports.len() + self.cancels.len()
    }
}
