//! The Redis stream source: a consumer group on the reference system's signal stream
//! (`quantum:stream:signal.generated`, the JSON in each entry's `payload` field), so AI engines
//! that publish in the reference format feed tradeflow unchanged.
//!
//! ```text
//!  XADD quantum:stream:signal.generated * payload {…}     (the AI engines)
//!        │
//!        ▼  XREADGROUP GROUP <group> <consumer> COUNT n BLOCK ms STREAMS <stream> >
//!  non-blocking socket on the ingress thread ─► decode_signal ─► signal.generated ─► ring
//!        ▲
//!        └── XACK <ids>   (after the batch's signals were handed to the ring, before the next read)
//! ```
//!
//! - Runs on the ingress thread without waiting: the connect, the commands and the replies all go
//!   through one non-blocking socket polled between ring writes. A `BLOCK`ed read waits in the
//!   Redis server, not here, and a new entry wakes it at once.
//! - At least once: an entry is acknowledged only after its signal was emitted (or it was
//!   refused and reported as a `system.event_error`). When the pipeline is backed up the source
//!   reads nothing more: unread entries stay in the stream.
//! - After a restart: the consumer first re-reads its own pending entries (`XREADGROUP … 0`),
//!   then takes over entries other consumers left pending longer than `claim_idle_ms`
//!   (`XAUTOCLAIM`, also every `claim_interval_ms`), then reads new ones (`>`).
//! - Failures: the connection is dropped and made again with backoff and jitter (refused connect,
//!   timeout, reset, a protocol error, an error reply to a read); `NOGROUP` (the stream or group
//!   was deleted) re-creates the group. Nothing is lost: unacknowledged entries are read again.
//! - Entries: `payload` holds the reference `signal.generated` JSON; when it has no `trace_id`,
//!   the entry's own `trace_id` field is used. An entry without `payload`, a payload above
//!   `max_payload_bytes` or one the decoder refuses becomes a `system.event_error` and is
//!   acknowledged (it will not get better by being read again).

pub mod resp;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use rand_core::RngCore;
use tradeflow_core::{Catalog, ErrorCode, TraceId};

use crate::config::RedisSourceConfig;
use crate::decode::{decode_signal_detailed, read_trace_id};
use crate::refusal::{DecodeError, EchoedTrace, Position, Problem, Refusal};
use crate::tcp::TcpItem;
use resp::Reply;

/// Bytes read from the socket per call at most.
const READ_CHUNK: usize = 64 * 1024;

/// Where to connect and how to log on, from the URL.
#[derive(Clone)]
struct Target {
    addrs: Vec<SocketAddr>,
    username: Option<String>,
    password: Option<String>,
    db: i64,
}

/// Parses and resolves a `redis://` URL (TLS is not supported by this source).
fn target(url: &str) -> Result<Target, String> {
    let shown = tradeflow_core::redact_url(url);
    if url.starts_with("rediss://") {
        return Err(format!("{shown}: TLS (rediss://) is not supported by the Redis signal source"));
    }
    if !url.starts_with("redis://") {
        return Err(format!("{shown}: must start with redis://"));
    }
    let info: redis::ConnectionInfo = url.parse().map_err(|e| format!("{shown}: not a valid Redis URL ({e})"))?;
    let (host, port) = match info.addr {
        redis::ConnectionAddr::Tcp(h, p) => (h, p),
        _ => return Err(format!("{shown}: only TCP addresses are supported")),
    };
    let addrs: Vec<SocketAddr> =
        (host.as_str(), port).to_socket_addrs().map_err(|e| format!("{shown}: cannot resolve {host}: {e}"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{shown}: {host} resolves to no address"));
    }
    Ok(Target { addrs, username: info.redis.username, password: info.redis.password, db: info.redis.db })
}

/// Checks a URL the way the source will use it (for config validation).
pub fn check_url(url: &str) -> Result<(), String> {
    let shown = tradeflow_core::redact_url(url);
    if url.starts_with("rediss://") {
        return Err(format!("{shown}: TLS (rediss://) is not supported by the Redis signal source"));
    }
    if !url.starts_with("redis://") {
        return Err(format!("must start with redis:// (got {shown})"));
    }
    url.parse::<redis::ConnectionInfo>().map(|_| ()).map_err(|e| format!("not a valid Redis URL ({shown}): {e}"))
}

/// Counters of the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisStats {
    /// Connections established.
    pub connects: u64,
    /// Established connections lost or dropped.
    pub disconnects: u64,
    /// Entries received (new, own pending re-read, claimed).
    pub entries: u64,
    /// Entries received by re-reading this consumer's pending list.
    pub pending_reread: u64,
    /// Entries taken over from other consumers (XAUTOCLAIM).
    pub claimed: u64,
    /// Entries acknowledged (XACK replies).
    pub acked: u64,
    /// Entries that became a `system.event_error`.
    pub refused: u64,
    /// Error replies from the server.
    pub server_errors: u64,
    /// The last connection problem or error reply (no password in it).
    pub last_error: Option<String>,
}

/// What a sent command's reply means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Auth,
    Select,
    GroupCreate,
    /// Re-reading this consumer's pending entries.
    ReadOwn,
    /// XAUTOCLAIM.
    Claim,
    /// XREADGROUP `>` with BLOCK.
    ReadNew,
    Ack,
}

/// Which read comes next once the current batch is handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Re-read own pending entries after this id.
    Own(String),
    /// XAUTOCLAIM from this cursor.
    Claim(String),
    /// New entries.
    New,
}

struct Entry {
    id: String,
    /// `None`: the entry was deleted from the stream while pending.
    fields: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

enum Link {
    /// Not connected; try again at this time.
    Down(Instant),
    /// Connect in progress since this time.
    Connecting(mio::net::TcpStream, Instant),
    /// Connected (handshake sent).
    Up(mio::net::TcpStream),
}

/// The consumer.
pub struct RedisSource {
    settings: RedisSourceConfig,
    target: Target,
    link: Link,
    /// Replies awaited, in order, with the time each command was sent.
    expect: VecDeque<(Expect, Instant)>,
    out: Vec<u8>,
    inbuf: Vec<u8>,
    /// Entries received and not handed out yet.
    batch: VecDeque<Entry>,
    /// Ids handed out and decided, to acknowledge with the next read.
    acks: Vec<String>,
    /// Id of the entry last handed out as a signal (acked by `accepted`).
    current: Option<String>,
    step: Step,
    ready: bool,
    next_claim: Instant,
    backoff_ms: u64,
    rng: rand_xoshiro::Xoshiro256PlusPlus,
    stats: RedisStats,
}

impl std::fmt::Debug for RedisSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSource")
            .field("url", &tradeflow_core::redact_url(&self.settings.url))
            .field("stream", &self.settings.stream)
            .field("group", &self.settings.group)
            .field("consumer", &self.settings.consumer)
            .field("stats", &self.stats)
            .finish()
    }
}

fn entry_id(reply: &Reply) -> Option<String> {
    reply.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned())
}

/// `[[id, [f, v, …] | nil], …]` → entries.
fn entries_of(list: &Reply) -> Result<Vec<Entry>, String> {
    let items = list.items().ok_or("entry list is not an array")?;
    let mut out = Vec::with_capacity(items.len());
    for e in items {
        let pair = e.items().ok_or("entry is not an array")?;
        let [id, fields] = pair else { return Err("entry is not [id, fields]".into()) };
        let id = entry_id(id).ok_or("entry id is not a string")?;
        let fields = match fields {
            Reply::Array(None) | Reply::Bulk(None) => None,
            Reply::Array(Some(kv)) => Some(
                kv.chunks(2)
                    .filter_map(|c| match c {
                        [k, v] => Some((k.as_bytes()?.to_vec(), v.as_bytes()?.to_vec())),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => return Err("entry fields are not an array".into()),
        };
        out.push(Entry { id, fields });
    }
    Ok(out)
}

/// An XREADGROUP reply: `[[stream, entries]]` or nil.
fn read_reply_entries(r: &Reply) -> Result<Vec<Entry>, String> {
    let Some(streams) = r.items() else { return Err("XREADGROUP reply is not an array".into()) };
    let mut out = Vec::new();
    for s in streams {
        match s.items() {
            Some([_, entries]) => out.extend(entries_of(entries)?),
            _ => return Err("XREADGROUP stream item is not [name, entries]".into()),
        }
    }
    Ok(out)
}

/// The millisecond part of an entry id (the `detail` of its errors).
fn id_ms(id: &str) -> i64 {
    id.split('-').next().and_then(|m| m.parse().ok()).unwrap_or(0)
}

impl RedisSource {
    /// Parses the URL and resolves its host; the connection is made by the polls (the first
    /// at once), so a Redis that is not up yet only delays the signals.
    pub fn new(settings: RedisSourceConfig, seed: u64) -> Result<RedisSource, String> {
        let target = target(&settings.url)?;
        let now = Instant::now();
        let claim = settings.claim_interval_ms;
        Ok(RedisSource {
            settings,
            target,
            link: Link::Down(now),
            expect: VecDeque::new(),
            out: Vec::with_capacity(4096),
            inbuf: Vec::with_capacity(READ_CHUNK),
            batch: VecDeque::new(),
            acks: Vec::new(),
            current: None,
            step: Step::Own("0".into()),
            ready: false,
            next_claim: now + Duration::from_millis(claim),
            backoff_ms: 0,
            rng: rand_core::SeedableRng::seed_from_u64(seed),
            stats: RedisStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> &RedisStats {
        &self.stats
    }

    /// Whether the connection is up and the group exists.
    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Up(_)) && self.ready
    }

    fn send(&mut self, args: &[&[u8]], what: Expect) {
        resp::encode(&mut self.out, args);
        self.expect.push_back((what, Instant::now()));
    }

    fn drop_link(&mut self, why: String) {
        if !matches!(self.link, Link::Down(_)) {
            if matches!(self.link, Link::Up(_)) {
                self.stats.disconnects += 1;
            }
            tracing::warn!(
                target: "tradeflow::ingress",
                "redis source: {why}; reconnecting ({})",
                tradeflow_core::redact_url(&self.settings.url)
            );
        }
        self.stats.last_error = Some(why);
        let base = self.settings.reconnect_base_ms.max(1);
        self.backoff_ms = (self.backoff_ms.saturating_mul(2)).clamp(base, self.settings.reconnect_max_ms.max(base));
        let delay = self.rng.next_u64() % (self.backoff_ms + 1);
        self.link = Link::Down(Instant::now() + Duration::from_millis(delay));
        self.expect.clear();
        self.out.clear();
        self.inbuf.clear();
        self.ready = false;
        // Entries received and not handed out stay pending in the group and are re-read.
        self.batch.clear();
        // Decided entries not acknowledged yet stay queued: their XACK goes out on the new
        // connection before the re-read of the pending list, so they are not handed out twice.
        self.step = Step::Own("0".into());
    }

    fn start_connect(&mut self) {
        let addr = self.target.addrs[0];
        match mio::net::TcpStream::connect(addr) {
            Ok(s) => self.link = Link::Connecting(s, Instant::now()),
            Err(e) => self.drop_link(format!("connect to {addr}: {e}")),
        }
    }

    fn on_connected(&mut self, s: mio::net::TcpStream) {
        let _ = s.set_nodelay(true);
        self.link = Link::Up(s);
        self.stats.connects += 1;
        let t = self.target.clone();
        if let Some(pw) = &t.password {
            match &t.username {
                Some(u) => self.send(&[b"AUTH", u.as_bytes(), pw.as_bytes()], Expect::Auth),
                None => self.send(&[b"AUTH", pw.as_bytes()], Expect::Auth),
            }
        }
        if t.db != 0 {
            let db = t.db.to_string();
            self.send(&[b"SELECT", db.as_bytes()], Expect::Select);
        }
        self.create_group();
    }

    fn create_group(&mut self) {
        let s = self.settings.clone();
        self.send(
            &[b"XGROUP", b"CREATE", s.stream.as_bytes(), s.group.as_bytes(), s.start_id.as_bytes(), b"MKSTREAM"],
            Expect::GroupCreate,
        );
    }

    /// Sends the acknowledgements and the next read (only when the batch is handed out and no
    /// reply is awaited).
    fn next_read(&mut self, now: Instant) {
        if !self.ready || !self.expect.is_empty() || !self.batch.is_empty() || self.current.is_some() {
            return;
        }
        self.flush_acks();
        if self.step == Step::New && self.settings.claim_idle_ms > 0 && now >= self.next_claim {
            self.step = Step::Claim("0-0".into());
        }
        match std::mem::replace(&mut self.step, Step::New) {
            Step::Own(after) => {
                self.read_group(&after, None, Expect::ReadOwn);
                self.step = Step::Own(after);
            }
            Step::Claim(cursor) => {
                let s = &self.settings;
                let (idle, count) = (s.claim_idle_ms.to_string(), s.batch.to_string());
                resp::encode(
                    &mut self.out,
                    &[
                        b"XAUTOCLAIM",
                        s.stream.as_bytes(),
                        s.group.as_bytes(),
                        s.consumer.as_bytes(),
                        idle.as_bytes(),
                        cursor.as_bytes(),
                        b"COUNT",
                        count.as_bytes(),
                    ],
                );
                self.expect.push_back((Expect::Claim, Instant::now()));
                self.step = Step::Claim(cursor);
            }
            Step::New => self.read_group(">", Some(self.settings.block_ms), Expect::ReadNew),
        }
    }

    /// XREADGROUP of up to `batch` entries after `id` (`>` = new ones), blocking in Redis for
    /// `block_ms` when given.
    fn read_group(&mut self, id: &str, block_ms: Option<u64>, what: Expect) {
        let s = &self.settings;
        let (count, block) = (s.batch.to_string(), block_ms.map(|ms| ms.to_string()));
        let head: [&[u8]; 6] =
            [b"XREADGROUP", b"GROUP", s.group.as_bytes(), s.consumer.as_bytes(), b"COUNT", count.as_bytes()];
        let tail: [&[u8]; 3] = [b"STREAMS", s.stream.as_bytes(), id.as_bytes()];
        match &block {
            Some(ms) => {
                let mut args = [&b""[..]; 11];
                args[..6].copy_from_slice(&head);
                args[6] = b"BLOCK";
                args[7] = ms.as_bytes();
                args[8..].copy_from_slice(&tail);
                resp::encode(&mut self.out, &args);
            }
            None => {
                let mut args = [&b""[..]; 9];
                args[..6].copy_from_slice(&head);
                args[6..].copy_from_slice(&tail);
                resp::encode(&mut self.out, &args);
            }
        }
        self.expect.push_back((what, Instant::now()));
    }

    fn flush_acks(&mut self) {
        if self.acks.is_empty() || !self.ready {
            return;
        }
        let mut args: Vec<Vec<u8>> = Vec::with_capacity(self.acks.len() + 3);
        args.push(b"XACK".to_vec());
        args.push(self.settings.stream.as_bytes().to_vec());
        args.push(self.settings.group.as_bytes().to_vec());
        args.extend(self.acks.drain(..).map(String::into_bytes));
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.send(&refs, Expect::Ack);
    }

    /// Moves bytes both ways and handles every complete reply. Never waits.
    fn pump(&mut self) {
        let now = Instant::now();
        match std::mem::replace(&mut self.link, Link::Down(now)) {
            Link::Down(at) => {
                self.link = Link::Down(at);
                if now >= at {
                    self.start_connect();
                }
                return;
            }
            Link::Connecting(s, since) => match (s.take_error(), s.peer_addr()) {
                (Ok(Some(e)), _) | (Err(e), _) => return self.drop_link(format!("connect: {e}")),
                (Ok(None), Ok(_)) => self.on_connected(s),
                (Ok(None), Err(_)) => {
                    if now.duration_since(since) > Duration::from_millis(self.settings.connect_timeout_ms) {
                        return self.drop_link("connect timed out".into());
                    }
                    self.link = Link::Connecting(s, since);
                    return;
                }
            },
            Link::Up(s) => self.link = Link::Up(s),
        }
        if let Err(why) = self.io() {
            return self.drop_link(why);
        }
        loop {
            match resp::parse(&self.inbuf) {
                Ok(Some((reply, used))) => {
                    self.inbuf.drain(..used);
                    if let Err(why) = self.on_reply(reply, now) {
                        return self.drop_link(why);
                    }
                }
                Ok(None) => break,
                Err(e) => return self.drop_link(format!("protocol error: {}", e.0)),
            }
        }
        if let Some((what, sent)) = self.expect.front() {
            let mut limit = Duration::from_millis(self.settings.response_timeout_ms);
            if *what == Expect::ReadNew {
                limit += Duration::from_millis(self.settings.block_ms);
            }
            if now.duration_since(*sent) > limit {
                let what = *what;
                return self.drop_link(format!("no reply to {what:?} within {} ms", limit.as_millis()));
            }
        }
        self.next_read(now);
        if let Err(why) = self.io() {
            self.drop_link(why);
        }
    }

    /// Writes what is queued and reads what arrived.
    fn io(&mut self) -> Result<(), String> {
        let Link::Up(s) = &mut self.link else { return Ok(()) };
        while !self.out.is_empty() {
            match s.write(&self.out) {
                Ok(0) => return Err("connection closed while writing".into()),
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        let mut chunk = [0u8; 8192];
        let mut got = 0;
        while got < READ_CHUNK {
            match s.read(&mut chunk) {
                Ok(0) => return Err("connection closed by the server".into()),
                Ok(n) => {
                    self.inbuf.extend_from_slice(&chunk[..n]);
                    got += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        Ok(())
    }

    fn server_error(&mut self, what: Expect, msg: &str) -> String {
        self.stats.server_errors += 1;
        let m = format!("{what:?} answered: {msg}");
        self.stats.last_error = Some(m.clone());
        m
    }

    fn on_reply(&mut self, reply: Reply, now: Instant) -> Result<(), String> {
        let Some((what, _)) = self.expect.pop_front() else {
            return Err("a reply nobody asked for".into());
        };
        if let Reply::Error(msg) = &reply {
            let msg = msg.clone();
            return match what {
                Expect::GroupCreate if msg.starts_with("BUSYGROUP") => {
                    self.group_ready();
                    Ok(())
                }
                Expect::ReadOwn | Expect::ReadNew | Expect::Claim
                    if msg.starts_with("NOGROUP") || msg.starts_with("UNBLOCKED") =>
                {
                    // The stream or the group was deleted: make it again and start over.
                    self.server_error(what, &msg);
                    self.ready = false;
                    self.expect.clear();
                    self.create_group();
                    Ok(())
                }
                _ => Err(self.server_error(what, &msg)),
            };
        }
        match what {
            Expect::Auth | Expect::Select => Ok(()),
            Expect::GroupCreate => {
                self.group_ready();
                Ok(())
            }
            Expect::Ack => {
                if let Reply::Int(n) = reply {
                    self.stats.acked += n.max(0) as u64;
                }
                Ok(())
            }
            Expect::ReadOwn => {
                let entries = read_reply_entries(&reply)?;
                if let Some(last) = entries.last() {
                    self.step = Step::Own(last.id.clone());
                } else {
                    self.step = self.after_own();
                }
                self.stats.pending_reread += entries.len() as u64;
                self.take(entries);
                Ok(())
            }
            Expect::Claim => {
                let Some([cursor, entries, ..]) = reply.items() else {
                    return Err("XAUTOCLAIM reply is not [cursor, entries, …]".into());
                };
                let cursor = entry_id(cursor).ok_or("XAUTOCLAIM cursor is not a string")?;
                let entries = entries_of(entries)?;
                self.stats.claimed += entries.len() as u64;
                if cursor == "0-0" {
                    self.step = Step::New;
                    self.next_claim = now + Duration::from_millis(self.settings.claim_interval_ms);
                } else {
                    self.step = Step::Claim(cursor);
                }
                self.take(entries);
                Ok(())
            }
            Expect::ReadNew => {
                let entries = read_reply_entries(&reply)?;
                self.take(entries);
                Ok(())
            }
        }
    }

    fn after_own(&self) -> Step {
        if self.settings.claim_idle_ms > 0 {
            Step::Claim("0-0".into())
        } else {
            Step::New
        }
    }

    fn group_ready(&mut self) {
        if !self.ready {
            self.ready = true;
            self.backoff_ms = 0;
            tracing::info!(
                target: "tradeflow::ingress",
                "redis source: reading {} as {}/{}",
                self.settings.stream,
                self.settings.group,
                self.settings.consumer
            );
        }
    }

    fn take(&mut self, entries: Vec<Entry>) {
        self.stats.entries += entries.len() as u64;
        self.batch.extend(entries);
    }

    /// The next signal or refused entry; `Pending` when none is ready (the socket is serviced
    /// on the way).
    pub fn next_item(&mut self, catalog: &Catalog) -> TcpItem {
        if self.current.is_some() {
            // The previous signal was not answered (cannot happen through the stage); keep it
            // unacknowledged so it is read again rather than lost.
            self.current = None;
        }
        if self.batch.is_empty() {
            self.pump();
        }
        while let Some(e) = self.batch.pop_front() {
            let Some(fields) = e.fields else {
                // Deleted while pending: nothing to process.
                self.acks.push(e.id);
                continue;
            };
            let position = Position::Entry(id_ms(&e.id));
            let refused = |error: DecodeError| Refusal { error, position };
            let Some(payload) = fields.iter().find(|(k, _)| k == b"payload").map(|(_, v)| v) else {
                self.stats.refused += 1;
                let raw = render_fields(&fields);
                self.acks.push(e.id);
                let error = DecodeError::new(ErrorCode::MissingField, Problem::MissingField("payload"));
                return TcpItem::Error(refused(error), raw);
            };
            if payload.len() > self.settings.max_payload_bytes {
                self.stats.refused += 1;
                let raw = payload[..256.min(payload.len())].to_vec();
                self.acks.push(e.id);
                let problem = Problem::Oversized(self.settings.max_payload_bytes);
                let error =
                    DecodeError { trace: read_trace_id(&raw), ..DecodeError::new(ErrorCode::Oversized, problem) };
                return TcpItem::Error(refused(error), raw);
            }
            return match decode_signal_detailed(payload, catalog) {
                Ok(mut s) => {
                    if s.trace_id.is_none() {
                        s.trace_id = entry_trace(&fields);
                    }
                    self.current = Some(e.id);
                    TcpItem::Signal(s, 0, position)
                }
                Err(mut error) => {
                    self.stats.refused += 1;
                    let raw = payload.clone();
                    self.acks.push(e.id);
                    if error.trace.is_none() {
                        error.trace = entry_trace(&fields).map(|t| EchoedTrace::new(t.as_str()));
                    }
                    TcpItem::Error(refused(error), raw)
                }
            };
        }
        TcpItem::Pending
    }

    /// The last signal was emitted (or refused and reported): acknowledge its entry.
    pub fn decided(&mut self) {
        if let Some(id) = self.current.take() {
            self.acks.push(id);
        }
    }

    /// The run is stopping: sends the outstanding acknowledgements and waits (at most the
    /// reply timeout, plus `block_ms` when a blocking read is in front of them) for Redis to
    /// confirm them. Entries not handed out stay pending for the next start.
    pub fn finish(&mut self) {
        if self.acks.is_empty() || !self.ready {
            return;
        }
        self.flush_acks();
        let limit = Duration::from_millis(self.settings.response_timeout_ms + self.settings.block_ms);
        let start = Instant::now();
        while self.expect.iter().any(|(w, _)| *w == Expect::Ack) && start.elapsed() < limit {
            if let Err(why) = self.io() {
                self.drop_link(why);
                break;
            }
            while let Ok(Some((reply, used))) = resp::parse(&self.inbuf) {
                self.inbuf.drain(..used);
                let now = Instant::now();
                if self.on_reply(reply, now).is_err() {
                    break;
                }
            }
            // Replies to reads that arrive now are not handed out: their entries stay pending.
            self.batch.clear();
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The entry's own `trace_id` field, when valid.
fn entry_trace(fields: &[(Vec<u8>, Vec<u8>)]) -> Option<TraceId> {
    let (_, v) = fields.iter().find(|(k, _)| k == b"trace_id")?;
    TraceId::try_new(std::str::from_utf8(v).ok()?).ok()
}

/// `field=value …` of an entry without a payload (for its error).
fn render_fields(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in fields {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(&v[..v.len().min(64)]);
    }
    out
}
