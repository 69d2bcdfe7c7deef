//! Rendering of `tradeflow tail`: one stream entry as a readable line (time, type, source,
//! trace id, the useful fields of its payload) or as raw JSON.

use super::*;
/// One stream entry with its fields as strings, in wire order.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The type name (the key without the prefix).
    stream: String,
    key: String,
    id: String,
    fields: Vec<(String, String)>,
}

impl Entry {
    pub(super) fn new(s: &Selected, (id, fields): RawEntry) -> Entry {
        Entry { stream: s.name.clone(), key: s.key.clone(), id, fields }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub(super) fn value_text(v: &Reply) -> String {
    match v {
        Reply::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::SimpleString(s) => s.clone(),
        Reply::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// What a line shows about an entry, with what is wrong with it.
#[derive(Debug)]
pub(super) struct View {
    time: String,
    event_type: String,
    source: String,
    trace: String,
    details: String,
    problems: Vec<String>,
}

pub(super) const EVENT_FIELDS: [&str; 6] =
    ["event_type", "payload", "trace_id", "correlation_id", "timestamp", "source"];

impl View {
    pub(super) fn of(e: &Entry) -> View {
        if e.stream == STATS_STREAM {
            return View::of_stats(e);
        }
        let mut problems = Vec::new();
        let missing: Vec<&str> = EVENT_FIELDS.iter().copied().filter(|f| e.get(f).is_none()).collect();
        if !missing.is_empty() {
            problems.push(format!("missing {}", missing.join(", ")));
        }
        let payload = match e.get("payload").map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(m))) => Some(m),
            Some(_) => {
                problems.push("payload is not a JSON object".into());
                None
            }
            None => None,
        };
        let event_type = e.get("event_type").unwrap_or(&e.stream).to_string();
        if event_type != e.stream {
            problems.push(format!("event_type {event_type} in stream {}", e.stream));
        }
        let payload_trace = payload.as_ref().and_then(|p| p.get("trace_id")).and_then(Value::as_str);
        let details = match &payload {
            Some(p) => details(&event_type, p),
            None => clip(e.get("payload").unwrap_or(""), 80),
        };
        View {
            time: entry_time(e, payload.as_ref(), &mut problems),
            source: e.get("source").unwrap_or("-").to_string(),
            trace: e.get("trace_id").or(payload_trace).unwrap_or("-").to_string(),
            event_type,
            details,
            problems,
        }
    }

    pub(super) fn of_stats(e: &Entry) -> View {
        let mut problems = Vec::new();
        // `payload` repeats the flat fields as JSON (for reference subscribers).
        let skip = ["timestamp", "source", "event_type", "trace_id", "correlation_id", "payload"];
        let mut parts = Vec::new();
        for (k, v) in e.fields.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
            match serde_json::from_str::<Value>(v) {
                Ok(Value::Object(m)) => parts.push(scalars(&m, &[])),
                _ => parts.push(format!("{k}={v}")),
            }
        }
        View {
            time: entry_time(e, None, &mut problems),
            event_type: STATS_STREAM.to_string(),
            source: e.get("source").unwrap_or("-").to_string(),
            trace: "-".to_string(),
            details: parts.join(" "),
            problems,
        }
    }

    pub(super) fn line(&self) -> String {
        let mut s = format!(
            "{} {:<w$} {:<8} {} {}",
            self.time,
            self.event_type,
            self.source,
            self.trace,
            self.details,
            w = TYPE_WIDTH
        );
        if !self.problems.is_empty() {
            s.push_str(&format!("  [MALFORMED: {}]", self.problems.join("; ")));
        }
        s
    }
}

/// `HH:MM:SS.mmm` UTC from the `timestamp` field, else the payload's epoch seconds, else the
/// entry id's milliseconds.
pub(super) fn entry_time(e: &Entry, payload: Option<&Map<String, Value>>, problems: &mut Vec<String>) -> String {
    if let Some(ts) = e.get("timestamp") {
        if let Some(us) = iso_epoch_us(ts) {
            return hms(us.div_euclid(1000));
        }
        problems.push(format!("timestamp {} is not ISO-8601", clip(ts, 40)));
    }
    if let Some(secs) = payload.and_then(|p| p.get("timestamp")).and_then(Value::as_f64) {
        return hms((secs * 1000.0).round() as i64);
    }
    hms(entry_id_order(&e.id).0 as i64)
}

/// When the event happened, in epoch µs (the `timestamp` field, else the entry id): the order
/// a batch is printed in, so a signal's chain reads top-down even across streams.
pub(super) fn event_time_us(e: &Entry) -> i64 {
    e.get("timestamp").and_then(iso_epoch_us).unwrap_or_else(|| (entry_id_order(&e.id).0 as i64).saturating_mul(1000))
}

pub(super) fn hms(ms: i64) -> String {
    let t = ms.rem_euclid(86_400_000);
    format!("{:02}:{:02}:{:02}.{:03}", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000)
}

/// Epoch microseconds of `2026-11-25T17:40:01.123456Z` (also `+hh:mm` offsets, or none = UTC).
pub(super) fn iso_epoch_us(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(['T', ' '])?;
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let (hms_part, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut it = hms_part.split(':').map(|p| p.parse::<i64>().ok().filter(|_| p.len() == 2));
    let (h, m, sec) = (it.next()??, it.next()??, it.next()??);
    let valid = ymd.next().is_none() && (1..=12).contains(&mo) && (1..=31).contains(&d) && date.len() == 10;
    if !valid || it.next().is_some() || h > 23 || m > 59 || sec > 60 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micro: i64 = format!("{frac:0<6}")[..6].parse().ok()?;
    let offset_min = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let (oh, om) =
                (digits.get(..2)?.parse::<i64>().ok()?, digits.get(2..4).unwrap_or("00").parse::<i64>().ok()?);
            sign * (oh * 60 + om)
        }
    };
    let minutes = (days_from_civil(y, mo, d) * 24 + h) * 60 + m - offset_min;
    Some((minutes * 60 + sec) * 1_000_000 + micro)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(super) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The payload fields worth a glance, per event type.
pub(super) fn details(event_type: &str, p: &Map<String, Value>) -> String {
    let f = Fields(p);
    let line = match event_type.split_once('.').map_or("", |(family, _)| family) {
        "signal" | "trade" => order_details(event_type, &f),
        "position" => position_details(event_type, &f),
        _ => ops_details(event_type, &f),
    };
    line.unwrap_or_else(|| scalars(p, &["trace_id", "timestamp", "metadata"]))
}

pub(super) fn order_details(event_type: &str, f: &Fields<'_>) -> Option<String> {
    let (sym, side, conf) = (f.s("symbol"), f.s("side"), f.n("confidence", 2));
    Some(match event_type {
        "signal.generated" => {
            format!("{sym} {side} conf={conf} tf={} model={}", f.s("timeframe"), f.s("model_version"))
        }
        "signal.denied" => {
            format!("{sym} {side} conf={conf} DENIED {}: {}", f.s("denial_code"), clip(&f.s("reason"), 60))
        }
        "trade.execution_requested" => format!(
            "{sym} {side} conf={conf} size={} lev={}x sl={}% tp={}%",
            f.usd("position_size_usd"),
            f.n("leverage", 1),
            f.n("stop_loss_pct", 2),
            f.n("take_profit_pct", 2)
        ),
        "trade.executed" => {
            let (size, fee) = (f.usd("position_size_usd"), f.usd("commission_usd"));
            format!("{sym} {side} entry@{} size={size} fee={fee} order={}", f.raw("entry_price"), f.s("order_id"))
        }
        "trade.exit_executed" => {
            let (size, fee) = (f.usd("position_size_usd"), f.usd("commission_usd"));
            let (price, reason) = (f.raw("exit_price"), f.s("exit_reason"));
            format!("{sym} {side} exit@{price} size={size} fee={fee} reason={reason} order={}", f.s("order_id"))
        }
        _ => return None,
    })
}

pub(super) fn position_details(event_type: &str, f: &Fields<'_>) -> Option<String> {
    let (sym, dir) = (f.s("symbol"), f.long_short());
    Some(match event_type {
        "position.opened" => format!(
            "{sym} {dir} entry={} size={} lev={}x sl={} tp={}",
            f.raw("entry_price"),
            f.usd("size_usd"),
            f.n("leverage", 1),
            f.raw("stop_loss_price"),
            f.raw("take_profit_price")
        ),
        "position.updated" => {
            let (mark, upnl) = (f.raw("mark_price"), f.usd("unrealized_pnl_usd"));
            format!("{sym} {dir} mark={mark} upnl={upnl} ({}%)", f.n("unrealized_pnl_pct", 2))
        }
        "position.closed" => format!(
            "{sym} {dir} pnl={} ({}%) exit={} held={}s",
            f.usd("pnl_usd"),
            f.n("pnl_pct", 2),
            f.s("exit_reason"),
            f.n("duration_seconds", 1)
        ),
        _ => return None,
    })
}

pub(super) fn ops_details(event_type: &str, f: &Fields<'_>) -> Option<String> {
    let model = f.s("model_version");
    Some(match event_type {
        "risk.alert" => {
            format!("{} {} action={}: {}", f.s("severity"), f.s("alert_type"), f.s("action_taken"), f.s("message"))
        }
        "system.event_error" => {
            format!("{} in {}: {}", f.s("error_type"), f.s("component"), clip(&f.s("error_message"), 80))
        }
        "model.drift_detected" => {
            let (stat, threshold) = (f.n("statistic", 3), f.n("threshold", 3));
            format!("model={model} stat={stat} threshold={threshold} samples={}", f.raw("samples"))
        }
        "model.promoted" => {
            format!("model={model} replaces={} stat={}", f.s("replaced_model_version"), f.n("statistic", 3))
        }
        _ => return None,
    })
}

/// `k=v` for the scalar members of `m` except `skip`.
pub(super) fn scalars(m: &Map<String, Value>, skip: &[&str]) -> String {
    let shown = m.iter().filter(|(k, v)| !skip.contains(&k.as_str()) && !v.is_object() && !v.is_array());
    shown
        .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Payload field accessors that render a missing or mistyped field as `?`.
pub(super) struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    pub(super) fn s(&self, k: &str) -> String {
        match self.0.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "?".into(),
            Some(v) => v.to_string(),
        }
    }
    pub(super) fn f(&self, k: &str) -> Option<f64> {
        let v = self.0.get(k)?;
        v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    }
    pub(super) fn n(&self, k: &str, decimals: usize) -> String {
        self.f(k).map_or_else(|| "?".into(), |x| format!("{x:.decimals$}"))
    }
    pub(super) fn usd(&self, k: &str) -> String {
        self.f(k).map_or_else(|| "$?".into(), |x| format!("${x:.2}"))
    }
    pub(super) fn raw(&self, k: &str) -> String {
        self.f(k).map_or_else(|| self.s(k), |x| x.to_string())
    }
    pub(super) fn long_short(&self) -> &'static str {
        match self.0.get("is_long").and_then(Value::as_bool) {
            Some(true) => "LONG",
            Some(false) => "SHORT",
            None => "?",
        }
    }
}

/// `s` cut to `max` characters with `…`.
pub(super) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    More,
    Done,
}

/// Filters and writes entries; counts what it printed.
pub(super) struct Printer<'a> {
    args: &'a TailArgs,
    printed: u64,
}

impl<'a> Printer<'a> {
    pub(super) fn new(args: &'a TailArgs) -> Printer<'a> {
        Printer { args, printed: 0 }
    }

    /// Prints `batch`; `Done` once `--count` is reached or stdout is closed (`| head`).
    pub(super) fn print(&mut self, batch: &[Entry]) -> anyhow::Result<Flow> {
        let mut out = std::io::stdout().lock();
        let mut flow = Flow::More;
        for e in batch {
            let view = View::of(e);
            if self.args.trace.as_ref().is_some_and(|t| *t != view.trace) {
                continue;
            }
            let line = if self.args.json { json_line(e) } else { view.line() };
            if let Err(err) = writeln!(out, "{line}") {
                return closed_pipe(err);
            }
            self.printed += 1;
            if self.args.count.is_some_and(|n| self.printed >= n) {
                flow = Flow::Done;
                break;
            }
        }
        out.flush().map_or_else(closed_pipe, |()| Ok(flow))
    }
}

pub(super) fn closed_pipe(e: std::io::Error) -> anyhow::Result<Flow> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(Flow::Done)
    } else {
        Err(e).context("writing to stdout")
    }
}

/// `{"stream":…,"id":…,"fields":{…}}` with the fields as raw strings.
pub(super) fn json_line(e: &Entry) -> String {
    let fields: Map<String, Value> = e.fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    serde_json::json!({ "stream": e.key, "id": e.id, "fields": fields }).to_string()
}
