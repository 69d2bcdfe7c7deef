//! [`IngressStage`]: the sources behind one [`Stage`], plus in-process publishers.

use crate::bytes::{spawn_reader, ByteSource, DirectReader};
use crate::config::{IngressConfig, IngressSource, Origin};
use crate::decode::DecodedSignal;
use crate::event_time::EventClock;
use crate::jsonl::{JsonLinesSource, SourceItem};
use crate::pacing::Pacer;
use crate::redis::{RedisSource, RedisStats};
use crate::refusal::{DecodeError, EchoedTrace, Problem, Refusal};
use crate::rng;
use crate::synthetic::SyntheticGenerator;
use crate::tcp::{Status, TcpItem, TcpSettings, TcpSource, TcpStats};
use crate::ws::{WsSettings, WsSource};
use crate::IngressError;
use rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use tradeflow_core::{Catalog, Ctx, DedupeTable, ErrorCode, Event, Phase, SourceState, Stage, StageId, TraceId};

/// Events one `poll` may emit.
pub const MAX_EMITS_PER_POLL: usize = 32;

/// Default byte-ring size of the threaded file reader.
pub const DEFAULT_RING_BYTES: usize = 1 << 20;

/// Which input feeds the stage (the caller decides; see [`SourceKind::from_config`]).
pub enum SourceKind {
    /// The seeded synthetic generator (`[ingress.synthetic]`).
    Synthetic,
    /// `[ingress.file].path` read with blocking reads on the stage's thread (inline runs).
    FileDirect,
    /// `[ingress.file].path` read by a helper thread into a byte ring of `ring_bytes`.
    FileThreaded {
        /// Capacity of the byte ring.
        ring_bytes: usize,
    },
    /// JSON lines from any byte source (tests, sockets), paced like the file source.
    Bytes(Box<dyn ByteSource>),
    /// Reference JSON lines from TCP clients (`[ingress.tcp]`), acked per line.
    Tcp,
    /// One reference signal per WebSocket text frame (`[ingress.ws]`), acked per frame.
    Ws,
    /// A consumer group on a Redis stream (`[ingress.redis]`), acknowledged per entry.
    Redis,
    /// No source of its own: only signals handed in through `on_event` (embedding).
    PublisherOnly,
}

impl std::fmt::Debug for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceKind::Synthetic => f.write_str("Synthetic"),
            SourceKind::FileDirect => f.write_str("FileDirect"),
            SourceKind::FileThreaded { ring_bytes } => write!(f, "FileThreaded {{ ring_bytes: {ring_bytes} }}"),
            SourceKind::Bytes(_) => f.write_str("Bytes(..)"),
            SourceKind::Tcp => f.write_str("Tcp"),
            SourceKind::Ws => f.write_str("Ws"),
            SourceKind::Redis => f.write_str("Redis"),
            SourceKind::PublisherOnly => f.write_str("PublisherOnly"),
        }
    }
}

impl SourceKind {
    /// The configured source: synthetic, or the file read inline (`inline`) or by a helper
    /// thread. Fails when the configured source cannot be named (a file source without a
    /// path); opening the file is left to [`IngressStage::try_new`].
    pub fn from_config(cfg: &IngressConfig, inline: bool) -> Result<SourceKind, IngressError> {
        match (cfg.source, inline) {
            (IngressSource::Synthetic, _) => Ok(SourceKind::Synthetic),
            (IngressSource::File, _) if cfg.file.path.is_empty() => {
                Err(IngressError::Config(vec!["ingress.file.path: must name a file or \"-\" for stdin".into()]))
            }
            (IngressSource::File, true) => Ok(SourceKind::FileDirect),
            (IngressSource::File, false) => Ok(SourceKind::FileThreaded { ring_bytes: DEFAULT_RING_BYTES }),
            (IngressSource::Tcp, _) => Ok(SourceKind::Tcp),
            (IngressSource::Ws, _) => Ok(SourceKind::Ws),
            (IngressSource::Redis, _) => Ok(SourceKind::Redis),
        }
    }
}

/// Counters of the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IngressStats {
    /// Signals produced by the stage's own source.
    pub produced: u64,
    /// Signals handed in by in-process publishers.
    pub published: u64,
    /// Lines read by a JSON-lines source.
    pub lines_read: u64,
    /// `system.event_error`s emitted, by [`ErrorCode::code`].
    pub errors: [u64; 32],
    /// Valid signals answered "busy" because the pipeline was backed up.
    pub busy: u64,
    /// TCP / WebSocket clients disconnected for not reading their answers.
    pub slow_clients: u64,
    /// TCP / WebSocket connections closed after `idle_timeout_ms` without input.
    pub idle_closed: u64,
    /// WebSocket clients dropped for not finishing the handshake in `handshake_timeout_ms`.
    pub handshake_timeouts: u64,
    /// WebSocket connections closed for a protocol violation (1002) or non-UTF-8 text (1007).
    pub protocol_errors: u64,
}

impl IngressStats {
    /// Errors emitted with `code`.
    pub fn errors_of(&self, code: ErrorCode) -> u64 {
        self.errors.get(usize::from(code.code())).copied().unwrap_or(0)
    }

    /// All errors emitted.
    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }
}

enum Source {
    Synthetic(SyntheticGenerator),
    Lines(JsonLinesSource),
    Tcp(Box<TcpSource>),
    Ws(Box<WsSource>),
    Redis(Box<RedisSource>),
    None,
}

/// The ingress stage.
pub struct IngressStage {
    catalog: Arc<Catalog>,
    source: Source,
    pacer: Pacer,
    trace_rng: Xoshiro256PlusPlus,
    signal_seq: u64,
    error_seq: u64,
    stopped: bool,
    stats: IngressStats,
    reader_thread: Option<JoinHandle<io::Result<u64>>>,
    replay: Option<Replay>,
    /// Recent trace ids of the network sources (`[ingress] dedupe_window`).
    dedupe: Option<DedupeTable>,
    /// `origin = "timestamp"` for the network source in use.
    origin_from_timestamp: bool,
    /// A file on event time: the recording's clock (`[ingress.file] clock`).
    event_clock: Option<EventClock>,
    /// A network source with acks: answers "busy" while the pipeline is backed up.
    answers_busy: bool,
}

/// Replay at the signals' own timestamps (`[ingress.file] replay_speed`).
#[derive(Debug, Default)]
struct Replay {
    speed: f64,
    /// Timestamp of the first signal, µs.
    t0_us: Option<i64>,
    /// Run time of the first signal, ns.
    start_ns: Option<u64>,
    /// Due time of the previous signal (lines without a timestamp go right after it).
    last_due_ns: u64,
    /// The next signal, read and waiting for its time.
    held: Option<(DecodedSignal, u64)>,
}

impl std::fmt::Debug for IngressStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressStage").field("pacer", &self.pacer).field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl IngressStage {
    /// Validates the config against the catalog and sets up the source (opening the file,
    /// starting the reader thread).
    pub fn try_new(cfg: &IngressConfig, catalog: Arc<Catalog>, source: SourceKind) -> Result<Self, IngressError> {
        // Validate as the source actually used (a synthetic run needs instruments and models,
        // a file run a path), whatever `cfg.source` says.
        let used = match source {
            SourceKind::Synthetic => IngressSource::Synthetic,
            SourceKind::Tcp => IngressSource::Tcp,
            SourceKind::Ws => IngressSource::Ws,
            SourceKind::Redis => IngressSource::Redis,
            _ => IngressSource::File,
        };
        let effective = IngressConfig { source: used, ..cfg.clone() };
        let mut problems = effective.validate("ingress");
        problems.extend(effective.validate_against(&catalog));
        if !problems.is_empty() {
            return Err(IngressError::Config(problems));
        }
        // The error-detail ring is allocated now, not on the first refused input.
        tradeflow_core::error_details();
        let mut reader_thread = None;
        let (net, origin_from_timestamp, answers_busy) = match source {
            SourceKind::Tcp => (true, cfg.tcp.origin == Origin::Timestamp, cfg.tcp.acks),
            SourceKind::Ws => (true, cfg.ws.origin == Origin::Timestamp, cfg.ws.acks),
            SourceKind::Redis => (true, cfg.redis.origin == Origin::Timestamp, false),
            _ => (false, false, false),
        };
        let source_is_file =
            matches!(source, SourceKind::FileDirect | SourceKind::FileThreaded { .. } | SourceKind::Bytes(_));
        let (source, rate) = match source {
            SourceKind::Synthetic => {
                (Source::Synthetic(SyntheticGenerator::new(&cfg.synthetic, &catalog)), cfg.synthetic.rate_per_sec)
            }
            SourceKind::FileDirect => (Source::Lines(open_direct(cfg)?), cfg.file.rate_per_sec),
            SourceKind::FileThreaded { ring_bytes } => {
                let (handle, ring) = spawn_reader(&cfg.file.path, ring_bytes)
                    .map_err(|source| IngressError::Open { path: cfg.file.path.clone(), source })?;
                reader_thread = Some(handle);
                (Source::Lines(JsonLinesSource::new(Box::new(ring), cfg.file.max_line_bytes)), cfg.file.rate_per_sec)
            }
            SourceKind::Bytes(b) => {
                (Source::Lines(JsonLinesSource::new(b, cfg.file.max_line_bytes)), cfg.file.rate_per_sec)
            }
            SourceKind::Tcp => {
                let t = &cfg.tcp;
                let settings = TcpSettings {
                    listen: t.listen.clone(),
                    acks: t.acks,
                    max_line_bytes: t.max_line_bytes,
                    max_connections: t.max_connections,
                    max_rate_per_connection: t.max_rate_per_connection,
                    idle_timeout_ms: t.idle_timeout_ms,
                    max_outbound_bytes: t.max_outbound_bytes,
                };
                let src = TcpSource::bind(settings)
                    .map_err(|source| IngressError::Open { path: format!("tcp {}", t.listen), source })?;
                (Source::Tcp(Box::new(src)), 0.0)
            }
            SourceKind::Ws => {
                let w = &cfg.ws;
                let settings = WsSettings {
                    listen: w.listen.clone(),
                    acks: w.acks,
                    max_frame_bytes: w.max_frame_bytes,
                    max_connections: w.max_connections,
                    max_rate_per_connection: w.max_rate_per_connection,
                    idle_timeout_ms: w.idle_timeout_ms,
                    handshake_timeout_ms: w.handshake_timeout_ms,
                    max_outbound_bytes: w.max_outbound_bytes,
                };
                let src = WsSource::bind(settings)
                    .map_err(|source| IngressError::Open { path: format!("ws {}", w.listen), source })?;
                (Source::Ws(Box::new(src)), 0.0)
            }
            SourceKind::Redis => {
                let src =
                    RedisSource::new(cfg.redis.clone(), cfg.synthetic.seed).map_err(|why| IngressError::Open {
                        path: "redis".into(),
                        source: io::Error::new(io::ErrorKind::InvalidInput, why),
                    })?;
                (Source::Redis(Box::new(src)), 0.0)
            }
            SourceKind::PublisherOnly => (Source::None, 0.0),
        };
        Ok(IngressStage {
            catalog,
            source,
            pacer: Pacer::new(rate),
            trace_rng: Xoshiro256PlusPlus::seed_from_u64(cfg.synthetic.seed),
            signal_seq: 0,
            error_seq: 0,
            stopped: false,
            stats: IngressStats::default(),
            reader_thread,
            replay: (source_is_file && cfg.file.replay_speed > 0.0)
                .then(|| Replay { speed: cfg.file.replay_speed, ..Replay::default() }),
            dedupe: (net && cfg.dedupe_window > 0).then(|| DedupeTable::new(cfg.dedupe_window)),
            origin_from_timestamp,
            answers_busy,
            event_clock: (source_is_file && cfg.file.event_time()).then(EventClock::default),
        })
    }

    /// The stage's counters.
    pub fn stats(&self) -> IngressStats {
        let mut s = self.stats;
        let conns = match &self.source {
            Source::Lines(l) => {
                s.lines_read = l.lines_read();
                None
            }
            Source::Tcp(t) => Some(t.stats()),
            Source::Ws(w) => Some(w.stats()),
            _ => None,
        };
        if let Some(c) = conns {
            s.slow_clients = c.slow_clients;
            s.idle_closed = c.idle_closed;
            s.handshake_timeouts = c.handshake_timeouts;
            s.protocol_errors = c.protocol_errors;
        }
        s
    }

    /// The helper reader thread of a threaded file source, for the runtime to join.
    pub fn take_reader_thread(&mut self) -> Option<JoinHandle<io::Result<u64>>> {
        self.reader_thread.take()
    }

    /// The network state for one item.
    fn net_state(&mut self, busy: bool) -> (&mut Source, NetState<'_>) {
        let st = NetState {
            catalog: &self.catalog,
            signal_seq: &mut self.signal_seq,
            error_seq: &mut self.error_seq,
            rng: &mut self.trace_rng,
            dedupe: self.dedupe.as_mut(),
            origin_from_timestamp: self.origin_from_timestamp,
            busy,
            busy_count: &mut self.stats.busy,
        };
        (&mut self.source, st)
    }

    /// The next item of the source, due at `origin_ns`; `None` when it has nothing now. A
    /// signal without its own timestamp gets its intended time (epoch µs; = now when on
    /// schedule), one without a trace id a UUID v4 from the seeded generator.
    fn next_event(&mut self, origin_ns: u64, wall_offset_ns: i64) -> Option<Event> {
        let signal = match &mut self.source {
            Source::Synthetic(g) => g.next_signal()?,
            Source::Lines(l) => match l.next_item(&self.catalog) {
                SourceItem::Signal(s) => s,
                SourceItem::Error(refusal, raw) => {
                    self.error_seq += 1;
                    return Some(Event::SystemEventError(refusal.to_event(self.error_seq, origin_ns, raw)));
                }
                SourceItem::Pending | SourceItem::Exhausted => return None,
            },
            Source::Tcp(_) | Source::Ws(_) | Source::Redis(_) => {
                return self.next_net_event(false, origin_ns, wall_offset_ns)
            }
            Source::None => return None,
        };
        self.signal_seq += 1;
        let now_us = (origin_ns as i64).saturating_add(wall_offset_ns) / 1000;
        let signal = self.on_event_time(signal, now_us);
        let rng = &mut self.trace_rng;
        Some(Event::SignalGenerated(signal.to_event(self.signal_seq, origin_ns, || rng::uuid_v4(rng), now_us)))
    }

    /// On event time, the signal's timestamp carried into the run's clock with its age in the
    /// recording; otherwise unchanged.
    fn on_event_time(&mut self, mut s: DecodedSignal, now_us: i64) -> DecodedSignal {
        if let (Some(clock), Some(ts)) = (self.event_clock.as_mut(), s.signal_ts_us) {
            s.signal_ts_us = Some(clock.rebase(ts, now_us));
        }
        s
    }

    /// The next item of a network source (`busy`: answer valid signals "busy").
    fn next_net_event(&mut self, busy: bool, now_ns: u64, wall_offset_ns: i64) -> Option<Event> {
        let (source, st) = self.net_state(busy);
        match source {
            Source::Tcp(t) => net_item(&mut **t, st, now_ns, wall_offset_ns),
            Source::Ws(t) => net_item(&mut **t, st, now_ns, wall_offset_ns),
            Source::Redis(r) => net_item(&mut **r, st, now_ns, wall_offset_ns),
            _ => None,
        }
    }

    fn count(&mut self, ev: &Event) {
        match ev {
            Event::SignalGenerated(_) => self.stats.produced += 1,
            Event::SystemEventError(e) => {
                if let Some(c) = self.stats.errors.get_mut(usize::from(e.code.code())) {
                    *c += 1;
                }
            }
            _ => {}
        }
    }

    /// Replay: emits every signal whose time (its own timestamp, relative to the first one,
    /// divided by the speed) has come; refused lines go out at once as errors.
    fn poll_replay<C: Ctx>(&mut self, now: u64, ctx: &mut C) -> usize {
        let mut emitted = 0;
        while emitted < MAX_EMITS_PER_POLL {
            let Some(r) = self.replay.as_mut() else { break };
            if r.held.is_none() {
                let Source::Lines(l) = &mut self.source else { break };
                match l.next_item(&self.catalog) {
                    SourceItem::Signal(s) => {
                        let start = *r.start_ns.get_or_insert(now);
                        let due = match s.signal_ts_us {
                            Some(ts) => {
                                let t0 = *r.t0_us.get_or_insert(ts);
                                let offset_ns = (ts.saturating_sub(t0).max(0) as f64 * 1_000.0 / r.speed) as u64;
                                start.saturating_add(offset_ns).max(r.last_due_ns)
                            }
                            None => r.last_due_ns.max(start),
                        };
                        r.held = Some((s, due));
                    }
                    SourceItem::Error(refusal, raw) => {
                        self.error_seq += 1;
                        let ev = Event::SystemEventError(refusal.to_event(self.error_seq, now, raw));
                        self.count(&ev);
                        ctx.emit(ev);
                        emitted += 1;
                        continue;
                    }
                    SourceItem::Pending | SourceItem::Exhausted => break,
                }
            }
            let Some(r) = self.replay.as_mut() else { break };
            let Some((_, due)) = r.held else { break };
            if due > now {
                break;
            }
            let Some((s, due)) = r.held.take() else { break };
            r.last_due_ns = due;
            self.signal_seq += 1;
            let now_us = (due as i64).saturating_add(ctx.wall_offset_ns()) / 1000;
            let s = self.on_event_time(s, now_us);
            let rng = &mut self.trace_rng;
            let ev = Event::SignalGenerated(s.to_event(self.signal_seq, due, || rng::uuid_v4(rng), now_us));
            self.count(&ev);
            ctx.emit(ev);
            emitted += 1;
        }
        emitted
    }

    /// Backed up: a network source with acks answers its valid signals "busy" (refused ones
    /// still get their nack and error); any other source waits.
    fn poll_busy<C: Ctx>(&mut self, now: u64, ctx: &mut C) -> usize {
        if !self.answers_busy {
            return 0;
        }
        let mut emitted = 0;
        // Bounded like a normal poll: at most this many inputs answered per call.
        for _ in 0..MAX_EMITS_PER_POLL * 4 {
            let before = self.stats.busy;
            match self.next_net_event(true, now, ctx.wall_offset_ns()) {
                Some(ev) => {
                    self.count(&ev);
                    ctx.emit(ev);
                    emitted += 1;
                    if emitted == MAX_EMITS_PER_POLL {
                        break;
                    }
                }
                None if self.stats.busy > before => {}
                None => break,
            }
        }
        emitted
    }

    fn is_exhausted(&self) -> bool {
        if self.replay.as_ref().is_some_and(|r| r.held.is_some()) {
            return false;
        }
        match &self.source {
            Source::Synthetic(g) => g.is_exhausted(),
            Source::Lines(l) => l.is_finished(),
            Source::Tcp(_) | Source::Ws(_) | Source::Redis(_) | Source::None => false,
        }
    }

    /// The Redis source's counters (when the source is Redis).
    pub fn redis(&self) -> Option<&RedisStats> {
        match &self.source {
            Source::Redis(r) => Some(r.stats()),
            _ => None,
        }
    }

    /// The address a TCP or WebSocket source listens on (the port the OS chose for port 0).
    pub fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        match &self.source {
            Source::Tcp(t) => t.local_addr().ok(),
            Source::Ws(w) => w.local_addr().ok(),
            _ => None,
        }
    }

    /// The TCP source's counters and bound address (when the source is TCP).
    pub fn tcp(&self) -> Option<(TcpStats, Option<std::net::SocketAddr>)> {
        match &self.source {
            Source::Tcp(t) => Some((t.stats(), t.local_addr().ok())),
            _ => None,
        }
    }
}

/// A network source: clients' lines or frames, each answered once decided.
trait NetSource {
    fn next_item(&mut self, catalog: &Catalog, now_ns: u64) -> TcpItem;
    fn accepted(&mut self, conn: usize, trace: &TraceId);
    fn refuse(&mut self, conn: usize, trace: Option<&TraceId>, status: Status, reason: &str);
}

impl NetSource for TcpSource {
    fn next_item(&mut self, catalog: &Catalog, now_ns: u64) -> TcpItem {
        TcpSource::next_item(self, catalog, now_ns)
    }
    fn accepted(&mut self, conn: usize, trace: &TraceId) {
        TcpSource::accepted(self, conn, trace);
    }
    fn refuse(&mut self, conn: usize, trace: Option<&TraceId>, status: Status, reason: &str) {
        TcpSource::refuse(self, conn, trace, status, reason);
    }
}

impl NetSource for WsSource {
    fn next_item(&mut self, catalog: &Catalog, now_ns: u64) -> TcpItem {
        WsSource::next_item(self, catalog, now_ns)
    }
    fn accepted(&mut self, conn: usize, trace: &TraceId) {
        WsSource::accepted(self, conn, trace);
    }
    fn refuse(&mut self, conn: usize, trace: Option<&TraceId>, status: Status, reason: &str) {
        WsSource::refuse(self, conn, trace, status, reason);
    }
}

impl NetSource for RedisSource {
    fn next_item(&mut self, catalog: &Catalog, _now_ns: u64) -> TcpItem {
        RedisSource::next_item(self, catalog)
    }
    fn accepted(&mut self, _conn: usize, _trace: &TraceId) {
        self.decided();
    }
    /// A refused entry (duplicate trace id) is reported as an error and acknowledged.
    fn refuse(&mut self, _conn: usize, _trace: Option<&TraceId>, _status: Status, _reason: &str) {
        self.decided();
    }
}

/// What a network item needs of the stage (disjoint borrows of its fields).
struct NetState<'a> {
    catalog: &'a Catalog,
    signal_seq: &'a mut u64,
    error_seq: &'a mut u64,
    rng: &'a mut Xoshiro256PlusPlus,
    dedupe: Option<&'a mut DedupeTable>,
    /// Start the chain at the signal's own timestamp (`origin = "timestamp"`).
    origin_from_timestamp: bool,
    /// The pipeline is backed up: answer valid signals "busy" instead of emitting them.
    busy: bool,
    busy_count: &'a mut u64,
}

const BUSY_REASON: &str = "BUSY: the pipeline is backed up; send it again later";

/// The next event of a network source: a signal (acked under its final trace id), the error
/// of a refused input, or nothing (no input, or a signal answered "busy").
fn net_item<N: NetSource>(src: &mut N, st: NetState<'_>, now_ns: u64, wall_offset_ns: i64) -> Option<Event> {
    let error = |seq: &mut u64, refusal: &Refusal, raw: &[u8]| {
        *seq += 1;
        Some(Event::SystemEventError(refusal.to_event(*seq, now_ns, raw)))
    };
    match src.next_item(st.catalog, now_ns) {
        TcpItem::Signal(s, conn, position) => {
            if st.busy {
                *st.busy_count += 1;
                src.refuse(conn, s.trace_id.as_ref(), Status::Busy, BUSY_REASON);
                return None;
            }
            if let (Some(t), Some(window)) = (&s.trace_id, st.dedupe) {
                if window.check_and_insert(t) {
                    let error_ = DecodeError {
                        trace: Some(EchoedTrace::new(t.as_str())),
                        ..DecodeError::new(ErrorCode::DuplicateTraceId, Problem::DuplicateTraceId)
                    };
                    let refusal = Refusal { error: error_, position };
                    src.refuse(conn, Some(t), Status::Rejected, &refusal.reason());
                    return error(st.error_seq, &refusal, t.as_bytes());
                }
            }
            let origin_ns = match (st.origin_from_timestamp, s.signal_ts_us) {
                (true, Some(ts_us)) => {
                    let sent_ns = (ts_us as i128 * 1000 - i128::from(wall_offset_ns)).max(0);
                    u64::try_from(sent_ns).unwrap_or(u64::MAX).min(now_ns)
                }
                _ => now_ns,
            };
            *st.signal_seq += 1;
            let now_us = (now_ns as i64).saturating_add(wall_offset_ns) / 1000;
            let rng = st.rng;
            let ev = s.to_event(*st.signal_seq, origin_ns, || rng::uuid_v4(rng), now_us);
            src.accepted(conn, &ev.header.trace_id);
            Some(Event::SignalGenerated(ev))
        }
        TcpItem::Error(refusal, raw) => error(st.error_seq, &refusal, &raw),
        TcpItem::Pending => None,
    }
}

fn open_direct(cfg: &IngressConfig) -> Result<JsonLinesSource, IngressError> {
    let path = &cfg.file.path;
    let bytes: Box<dyn ByteSource> = if path == "-" {
        Box::new(DirectReader::new(io::stdin()))
    } else {
        let file = std::fs::File::open(path).map_err(|source| IngressError::Open { path: path.clone(), source })?;
        Box::new(DirectReader::new(file))
    };
    Ok(JsonLinesSource::new(bytes, cfg.file.max_line_bytes))
}

impl Stage for IngressStage {
    fn id(&self) -> StageId {
        StageId::Ingress
    }

    /// A signal from an in-process publisher: takes the next seq, everything else unchanged.
    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        if let Event::SignalGenerated(s) = ev {
            let mut out = *s;
            self.signal_seq += 1;
            out.header.seq = self.signal_seq;
            self.stats.published += 1;
            ctx.emit(Event::SignalGenerated(out));
        }
    }

    /// Emits every due item (at most [`MAX_EMITS_PER_POLL`]); nothing once the phase left
    /// `Running`.
    fn poll<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        if ctx.phase() != Phase::Running {
            if !self.stopped {
                self.stopped = true;
                if let Source::Redis(r) = &mut self.source {
                    r.finish();
                }
            }
            return 0;
        }
        let now = ctx.now_ns();
        if self.replay.is_some() {
            return self.poll_replay(now, ctx);
        }
        if ctx.backed_up() {
            return self.poll_busy(now, ctx);
        }
        let mut emitted = 0;
        while emitted < MAX_EMITS_PER_POLL {
            let Some(origin) = self.pacer.due(now) else { break };
            let Some(ev) = self.next_event(origin, ctx.wall_offset_ns()) else { break };
            self.pacer.advance();
            self.count(&ev);
            ctx.emit(ev);
            emitted += 1;
        }
        emitted
    }

    fn polls_when_backed_up(&self) -> bool {
        self.answers_busy
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        if let Some(r) = &self.replay {
            return match self.source_state() {
                SourceState::Active => Some(r.held.as_ref().map_or(r.last_due_ns, |(_, due)| *due)),
                _ => None,
            };
        }
        match self.source_state() {
            SourceState::Active => Some(self.pacer.next_due_ns()),
            _ => None,
        }
    }

    /// `NotASource` for publisher-only; `Exhausted` once the input ended or the run stopped.
    fn source_state(&self) -> SourceState {
        if matches!(self.source, Source::None) {
            SourceState::NotASource
        } else if self.stopped || self.is_exhausted() {
            SourceState::Exhausted
        } else {
            SourceState::Active
        }
    }

    fn max_emits_per_call(&self) -> usize {
        MAX_EMITS_PER_POLL
    }
}
