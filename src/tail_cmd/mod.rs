//! `tradeflow tail`: follows the Redis Streams mirror live and prints one readable line per
//! entry (or the raw entry as JSON with `--json`).
//!
//! Wire format read here (written by the mirror): one stream per event type,
//! `<prefix><event_type>`, plus `<prefix>tradeflow.stats`; every event entry has the flat
//! string fields `event_type`, `payload` (the event's JSON object), `trace_id`,
//! `correlation_id`, `timestamp` (UTC ISO-8601) and `source` (stage name).
//!
//! One blocking `XREAD` covers every selected stream. The starting point of each stream is
//! resolved to a concrete entry id once (`$` = the current last entry, `--from-start` = `0-0`)
//! and then advanced per stream, so nothing is missed between reads or across a reconnect.
//! A cold-path tool: it allocates freely.

use anyhow::{anyhow, bail, Context as _};
use redis::Value as Reply;
use serde_json::{Map, Value};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tradeflow_core::EventKind;

/// Default stream name prefix of the mirror.
pub const DEFAULT_PREFIX: &str = "quantum:stream:";
/// The stats stream (after the prefix).
pub const STATS_STREAM: &str = "tradeflow.stats";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Entries per stream per `XREAD`.
const BATCH: usize = 512;
/// Width of the event type column (`trade.execution_requested`).
const TYPE_WIDTH: usize = 25;

const EXAMPLES: &str = "\
Examples:
  tradeflow tail                                   # every event type + stats, new entries
  tradeflow tail --types position.closed,signal.denied
  tradeflow tail --trace sig-000042 --from-start   # one signal's whole chain
  tradeflow tail --redis rediss://user:pass@redis.example:6380/0 --json | jq .fields.event_type
  tradeflow tail --from-start --count 100          # the first 100 entries, then exit

Output: HH:MM:SS.mmm (UTC)  event type  source  trace id  the event's key fields.
With --json each line is {\"stream\",\"id\",\"fields\"} with the entry's fields as raw strings
(decode the payload with jq's `fromjson`). Entries that do not follow the wire format are
printed with a [MALFORMED: …] marker. Passwords in the URL are never printed.";

/// Options of `tradeflow tail`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct TailArgs {
    /// Redis URL: `redis://[user:pass@]host[:port][/db]`, `rediss://` for TLS. Also read from
    /// `TRADEFLOW_REDIS_URL`, which keeps a password out of the process list.
    #[arg(
        long,
        value_name = "URL",
        env = "TRADEFLOW_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis: String,
    /// Stream name prefix; streams are `<prefix><event_type>`.
    #[arg(long, value_name = "P", default_value = DEFAULT_PREFIX)]
    pub prefix: String,
    /// Follow only these types, comma-separated (event types and/or tradeflow.stats).
    /// Default: every event type and the stats stream.
    #[arg(long, value_name = "a,b", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Show only entries with this trace id.
    #[arg(long, value_name = "ID")]
    pub trace: Option<String>,
    /// Start at the beginning of each stream instead of at new entries.
    #[arg(long)]
    pub from_start: bool,
    /// Exit after printing N entries (default: run until Ctrl-C).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Print each entry as one JSON object per line instead of a readable line.
    #[arg(long)]
    pub json: bool,
    /// How long one XREAD blocks waiting for entries (also bounds the Ctrl-C reaction time).
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub block_ms: u64,
}

/// `tradeflow tail`: follows the selected streams until `--count` entries were printed or
/// Ctrl-C.
pub fn run(args: &TailArgs) -> anyhow::Result<()> {
    let streams = select_streams(&args.prefix, &args.types)?;
    let target = Target::parse(&args.redis, args.block_ms)?;
    let mut con = target.connect()?;
    let cursors = start_ids(&mut con, &streams, args.from_start).map_err(|e| target.error("reading", &e))?;
    let stop = Arc::new(AtomicBool::new(false));
    crate::shutdown::install_or_warn("tail", Arc::clone(&stop));
    let from = if args.from_start { "the start" } else { "new entries" };
    eprintln!("tradeflow tail: following {} stream(s) on {} from {from}", streams.len(), target.shown);
    let mut follower = Follower { target, streams, cursors, con, stop, block_ms: args.block_ms };
    let mut printer = Printer::new(args);
    while let Some(batch) = follower.next_batch()? {
        if printer.print(&batch)? == Flow::Done {
            break;
        }
    }
    Ok(())
}

/// The read side: one connection, the followed streams and the id read up to in each.
struct Follower {
    target: Target,
    streams: Vec<Selected>,
    cursors: Vec<String>,
    con: redis::Connection,
    stop: Arc<AtomicBool>,
    block_ms: u64,
}

impl Follower {
    /// The next entries (possibly none) in event-time order; `None` after Ctrl-C. Reconnects when
    /// the connection breaks.
    fn next_batch(&mut self) -> anyhow::Result<Option<Vec<Entry>>> {
        loop {
            if self.stop.load(Ordering::Acquire) {
                return Ok(None);
            }
            let keys: Vec<&str> = self.streams.iter().map(|s| s.key.as_str()).collect();
            let err = match read_batch(&mut self.con, &keys, &self.cursors, self.block_ms) {
                Ok(reply) => return Ok(Some(self.take(reply))),
                Err(e) if is_connection_error(&e) => e,
                Err(e) => return Err(self.target.error("reading from", &e)),
            };
            // Ctrl-C interrupts the blocking read (EINTR) just before its handler thread sets
            // the flag: give it a moment before treating the error as a broken connection.
            if interrupted(&err) && wait_for(&self.stop, Duration::from_millis(200)) {
                return Ok(None);
            }
            match self.target.reconnect(&err, &self.stop) {
                Some(con) => self.con = con,
                None => return Ok(None),
            }
        }
    }

    /// Advances the cursors over `reply` and returns its entries in event time order.
    fn take(&mut self, reply: Batch) -> Vec<Entry> {
        let mut batch = Vec::new();
        for (key, raw) in reply {
            let Some(i) = self.streams.iter().position(|s| s.key == key) else { continue };
            for r in raw {
                self.cursors[i].clone_from(&r.0);
                batch.push(Entry::new(&self.streams[i], r));
            }
        }
        batch.sort_by_key(event_time_us);
        batch
    }
}

fn interrupted(e: &redis::RedisError) -> bool {
    let io = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>());
    io.is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
}

/// Whether `flag` becomes set within `limit`.
fn wait_for(flag: &AtomicBool, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if flag.load(Ordering::Acquire) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    flag.load(Ordering::Acquire)
}

/// One followed stream: its type name and its key.
#[derive(Debug)]
struct Selected {
    name: String,
    key: String,
}

/// Every name `--types` accepts, in display order.
fn known_types() -> Vec<&'static str> {
    let mut v: Vec<&str> = EventKind::ALL.iter().filter(|k| k.is_external()).map(|k| k.name()).collect();
    v.push(STATS_STREAM);
    v
}

/// The streams `--types` selects (all when empty); unknown names are an error listing them.
fn select_streams(prefix: &str, types: &[String]) -> anyhow::Result<Vec<Selected>> {
    let known = known_types();
    let wanted: Vec<&str> = types.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    let unknown: Vec<&str> = wanted.iter().copied().filter(|t| !known.contains(t)).collect();
    if !unknown.is_empty() {
        bail!("unknown --types value(s): {}; valid types: {}", unknown.join(", "), known.join(", "));
    }
    let names = known.into_iter().filter(|k| wanted.is_empty() || wanted.contains(k));
    Ok(names.map(|n| Selected { name: n.to_string(), key: format!("{prefix}{n}") }).collect())
}

/// Where to connect, shown redacted; secrets are scrubbed from every error message.
struct Target {
    client: redis::Client,
    shown: String,
    secrets: Vec<String>,
    read_timeout: Duration,
}

impl Target {
    fn parse(url: &str, block_ms: u64) -> anyhow::Result<Target> {
        let shown = redact_url(url);
        let secrets = url_secrets(url);
        let client = redis::Client::open(url).map_err(|e| {
            anyhow!(
                "invalid Redis URL {shown}: {} (expected redis://[user:pass@]host[:port][/db], or rediss:// for TLS)",
                scrub(&e.to_string(), &secrets)
            )
        })?;
        let read_timeout = Duration::from_millis(block_ms) + Duration::from_secs(10);
        Ok(Target { client, shown, secrets, read_timeout })
    }

    fn connect(&self) -> anyhow::Result<redis::Connection> {
        let con = self
            .client
            .get_connection_with_timeout(CONNECT_TIMEOUT)
            .map_err(|e| anyhow!("cannot connect to Redis at {} (timeout 3 s): {}", self.shown, self.scrub_err(&e)))?;
        con.set_read_timeout(Some(self.read_timeout)).map_err(|e| self.error("configuring", &e))?;
        con.set_write_timeout(Some(CONNECT_TIMEOUT)).map_err(|e| self.error("configuring", &e))?;
        Ok(con)
    }

    /// Reconnects once a second until it works (`Some`) or Ctrl-C (`None`).
    fn reconnect(&self, cause: &redis::RedisError, stop: &AtomicBool) -> Option<redis::Connection> {
        eprintln!("tradeflow tail: lost the connection to {} ({}); reconnecting", self.shown, self.scrub_err(cause));
        while !stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_secs(1));
            if let Ok(con) = self.connect() {
                eprintln!("tradeflow tail: reconnected to {}", self.shown);
                return Some(con);
            }
        }
        None
    }

    /// The error on one line, without secrets.
    fn scrub_err(&self, e: &redis::RedisError) -> String {
        let text = scrub(&e.to_string(), &self.secrets);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn error(&self, doing: &str, e: &redis::RedisError) -> anyhow::Error {
        anyhow!("{doing} Redis at {}: {}", self.shown, self.scrub_err(e))
    }
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout()
}

/// `url` with any `user:pass@` and `pass=`/`password=` query value replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let auth_end = url[start..].find(['/', '?', '#']).map_or(url.len(), |j| start + j);
    let mut out = match url[start..auth_end].rfind('@') {
        Some(at) => format!("{}***@{}", &url[..start], &url[start + at + 1..]),
        None => url.to_string(),
    };
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let parts: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if is_password_key(k) => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{head}{}", parts.join("&"));
    }
    out
}

fn is_password_key(k: &str) -> bool {
    k.eq_ignore_ascii_case("pass") || k.eq_ignore_ascii_case("password")
}

/// The passwords in `url` (raw and percent-decoded), to scrub from messages.
fn url_secrets(url: &str) -> Vec<String> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let auth_end = url[start..].find(['/', '?', '#']).map_or(url.len(), |j| start + j);
    let mut raw = Vec::new();
    if let Some(at) = url[start..auth_end].rfind('@') {
        let userinfo = &url[start..start + at];
        raw.push(userinfo.split_once(':').map_or(userinfo, |(_, p)| p).to_string());
    }
    if let Some((_, query)) = url.split_once('?') {
        let pairs = query.split('&').filter_map(|kv| kv.split_once('='));
        raw.extend(pairs.filter(|(k, _)| is_password_key(k)).map(|(_, v)| v.to_string()));
    }
    let decoded: Vec<String> = raw.iter().map(|s| percent_decode(s)).collect();
    raw.into_iter().chain(decoded).filter(|s| !s.is_empty()).collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v) if b[i] == b'%' => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn scrub(msg: &str, secrets: &[String]) -> String {
    secrets.iter().fold(msg.to_string(), |m, s| m.replace(s.as_str(), "***"))
}

/// The id after which each stream is read: `0-0` from the start, else its current last entry.
fn start_ids(con: &mut redis::Connection, streams: &[Selected], from_start: bool) -> redis::RedisResult<Vec<String>> {
    if from_start {
        return Ok(vec!["0-0".to_string(); streams.len()]);
    }
    let mut pipe = redis::pipe();
    for s in streams {
        pipe.cmd("XREVRANGE").arg(&s.key).arg("+").arg("-").arg("COUNT").arg(1);
    }
    let last: Vec<Reply> = pipe.query(con)?;
    let last: Option<Vec<String>> =
        last.iter().map(|r| Some(entries(r)?.into_iter().next().map_or_else(|| "0-0".to_string(), |e| e.0))).collect();
    last.ok_or_else(bad_reply)
}

/// One `XREAD` over every stream: `(stream key, entries)` pairs (empty on timeout).
fn read_batch(
    con: &mut redis::Connection,
    keys: &[&str],
    cursors: &[String],
    block_ms: u64,
) -> redis::RedisResult<Batch> {
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT").arg(BATCH).arg("BLOCK").arg(block_ms).arg("STREAMS").arg(keys).arg(cursors);
    let reply: Reply = cmd.query(con)?;
    let pairs: Vec<(&Reply, &Reply)> = match &reply {
        Reply::Nil => Vec::new(),
        Reply::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        Reply::Array(items) => items.iter().map(two).collect::<Option<_>>().ok_or_else(bad_reply)?,
        _ => return Err(bad_reply()),
    };
    pairs.into_iter().map(|(k, v)| Some((value_text(k), entries(v)?))).collect::<Option<_>>().ok_or_else(bad_reply)
}

type RawEntry = (String, Vec<(String, String)>);
type Batch = Vec<(String, Vec<RawEntry>)>;

fn bad_reply() -> redis::RedisError {
    (redis::ErrorKind::TypeError, "unexpected reply shape from a stream command").into()
}

fn two(v: &Reply) -> Option<(&Reply, &Reply)> {
    match v {
        Reply::Array(a) if a.len() == 2 => Some((&a[0], &a[1])),
        _ => None,
    }
}

/// `[[id, [field, value, …]], …]` as `(id, fields)`; a nil field list (deleted entry) is empty.
fn entries(v: &Reply) -> Option<Vec<RawEntry>> {
    let Reply::Array(items) = v else { return matches!(v, Reply::Nil).then(Vec::new) };
    let entry = |item: &Reply| -> Option<RawEntry> {
        let (id, fields) = two(item)?;
        let fields = match fields {
            Reply::Array(f) => {
                f.chunks(2).map(|kv| (value_text(&kv[0]), kv.get(1).map(value_text).unwrap_or_default())).collect()
            }
            Reply::Map(m) => m.iter().map(|(k, v)| (value_text(k), value_text(v))).collect(),
            _ => Vec::new(),
        };
        Some((value_text(id), fields))
    };
    items.iter().map(entry).collect()
}

/// `<ms>-<seq>` as a sortable pair (unparsable ids sort first).
fn entry_id_order(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

mod render;

use render::{event_time_us, value_text, Entry, Flow, Printer};

#[cfg(test)]
mod tests {
    use super::render::*;
    use super::*;

    #[test]
    fn urls_are_redacted_and_secrets_found() {
        assert_eq!(redact_url("redis://u:p%40ss@h:6379/0"), "redis://***@h:6379/0");
        assert_eq!(redact_url("rediss://:pw@h"), "rediss://***@h");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact_url("u:pw@h:1"), "***@h:1");
        assert_eq!(redact_url("redis+unix:///s.sock?db=1&pass=x"), "redis+unix:///s.sock?db=1&pass=***");
        let s = url_secrets("redis://u:p%40ss@h:6379/0");
        assert!(s.contains(&"p%40ss".to_string()) && s.contains(&"p@ss".to_string()), "{s:?}");
        assert_eq!(scrub("AUTH p@ss failed", &s), "AUTH *** failed");
    }

    #[test]
    fn iso_timestamps_become_utc_time_of_day() {
        let t = |s: &str| iso_epoch_us(s).map(|us| hms(us / 1000));
        assert_eq!(iso_epoch_us("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_epoch_us("2026-11-25T17:40:01.123456Z"), Some(1_795_628_401_123_456));
        assert_eq!(iso_epoch_us("2000-03-01T00:00:00+01:00"), Some(951_865_200_000_000));
        assert_eq!(t("2026-11-25T17:40:01.123456Z").as_deref(), Some("17:40:01.123"));
        assert_eq!(t("2026-11-25T17:40:01Z").as_deref(), Some("17:40:01.000"));
        assert_eq!(t("2026-11-25T00:10:00.5+01:00").as_deref(), Some("23:10:00.500"));
        assert_eq!(t("2026-11-25 17:40:01.1-0230").as_deref(), Some("20:10:01.100"));
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("2026-11-25T7:40:01Z"), None);
    }

    #[test]
    fn unknown_types_are_refused_with_the_valid_list() {
        let Err(e) = select_streams("p:", &["trade.executed".into(), "nope".into()]) else { panic!("accepted") };
        let msg = e.to_string();
        assert!(msg.contains("nope") && msg.contains("position.closed") && msg.contains(STATS_STREAM), "{msg}");
        let all = select_streams("p:", &[]).map(|v| v.len()).ok();
        // Every external event type (trade.exit_executed included) plus the stats stream.
        assert_eq!(all, Some(13));
    }
}
