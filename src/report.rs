//! The end-of-run report: events by type, denials by code, trades, win rate, PnL, kill switch,
//! and the per-hop and end-to-end latency table.

use crate::config::{CoreSpec, WaitStrategy};
use crate::runtime::sink::SinkReport;
use crate::runtime::{StageResult, Tally};
use hdrhistogram::Histogram;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;
use tradeflow_core::*;

/// How the run executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Pinned threads over rings.
    Threaded,
    /// One thread, virtual clock; `virtual_ns` of simulated time elapsed.
    Inline {
        /// Simulated time.
        virtual_ns: u64,
    },
}

/// Where a thread ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// Thread name.
    pub thread: String,
    /// Core.
    pub core: CoreSpec,
    /// Stages on it.
    pub stages: Vec<String>,
    /// Wait strategy.
    pub wait: WaitStrategy,
}

/// One row of the latency table (ns).
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyRow {
    /// What was measured, e.g. `signal.generated → risk` (hop) or `signal → gateway` (end to end).
    pub name: String,
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Maximum.
    pub max: u64,
}

impl LatencyRow {
    fn from_hist(name: String, h: &Histogram<u64>) -> LatencyRow {
        LatencyRow {
            name,
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
        }
    }
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunReport {
    /// Threaded or inline.
    pub mode: RunMode,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Wall time from start until every signal had been processed (before flattening and
    /// joining); the denominator of sustained throughput.
    pub active_elapsed: Duration,
    /// Each stage's final state, counts and histograms.
    pub stages: Vec<StageResult>,
    /// All stages' counts merged.
    pub tally: Tally,
    /// Kill switch at the end.
    pub trading_state: TradingState,
    /// Kill switch escalations during the run.
    pub kill_trips: u64,
    /// What the copy sinks did.
    pub sinks: SinkReport,
    /// Names behind indices.
    pub catalog: Arc<Catalog>,
    /// Thread placement (threaded runs).
    pub placement: Vec<Placement>,
    /// Whether shutdown drained within its timeout.
    pub drained: bool,
    /// What the Redis Streams mirror did (when `[mirror]` was on).
    pub mirror: Option<tradeflow_mirror::MirrorReport>,
}

impl RunReport {
    #[allow(clippy::too_many_arguments)] // assembled once, at the end of a run
    pub(crate) fn new(
        mode: RunMode,
        elapsed: Duration,
        stages: Vec<StageResult>,
        kill: &KillSwitch,
        sinks: SinkReport,
        catalog: Arc<Catalog>,
        placement: Vec<Placement>,
        drained: bool,
    ) -> RunReport {
        let mut tally = Tally::default();
        for s in &stages {
            tally.merge(&s.tally);
        }
        RunReport {
            mode,
            elapsed,
            active_elapsed: elapsed,
            stages,
            tally,
            trading_state: kill.state(),
            kill_trips: kill.trips(),
            sinks,
            catalog,
            placement,
            drained,
            mirror: None,
        }
    }

    /// Signals that entered the pipeline.
    pub fn signals(&self) -> u64 {
        self.tally.count(EventKind::SignalGenerated)
    }

    /// Signals per second of wall time.
    pub fn throughput(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.signals() as f64 / s
        } else {
            0.0
        }
    }

    /// The ingress stage's counters.
    pub fn ingress_stats(&self) -> Option<tradeflow_ingress::IngressStats> {
        self.stages.iter().find_map(|s| match &s.stage {
            crate::runtime::AnyStage::Ingress(i) => Some(i.stats()),
            _ => None,
        })
    }

    /// The Redis signal source's counters, when the ingress used it.
    pub fn redis_source_stats(&self) -> Option<tradeflow_ingress::redis::RedisStats> {
        self.stages.iter().find_map(|s| match &s.stage {
            crate::runtime::AnyStage::Ingress(i) => i.redis().cloned(),
            _ => None,
        })
    }

    /// The Binance venue's counters, when the gateway used it.
    pub fn binance_stats(&self) -> Option<tradeflow_gateway::BinanceStats> {
        self.stages.iter().find_map(|s| match &s.stage {
            crate::runtime::AnyStage::Gateway(g) => g.binance_stats(),
            _ => None,
        })
    }

    /// Closed positions.
    pub fn trades(&self) -> u64 {
        self.tally.count(EventKind::PositionClosed)
    }

    /// Fraction of closed positions with positive net PnL, flattens at shutdown left out.
    pub fn win_rate(&self) -> f64 {
        let n = self.tally.wins + self.tally.losses;
        if n == 0 {
            0.0
        } else {
            self.tally.wins as f64 / n as f64
        }
    }

    /// The stage result for `id`.
    pub fn stage(&self, id: StageId) -> Option<&StageResult> {
        self.stages.iter().find(|s| s.id == id)
    }

    /// Hop histogram: `kind` as consumed by `stage`.
    pub fn hop_histogram(&self, stage: StageId, kind: EventKind) -> Option<&Histogram<u64>> {
        self.stage(stage)?.latency.as_ref()?.hop(kind)
    }

    /// End-to-end histogram: signal origin → `stage` consuming `kind`.
    pub fn e2e_histogram(&self, stage: StageId, kind: EventKind) -> Option<&Histogram<u64>> {
        self.stage(stage)?.latency.as_ref()?.e2e(kind)
    }

    /// Latency rows: every hop, then every end-to-end measurement, with samples.
    pub fn latency_rows(&self) -> Vec<LatencyRow> {
        let mut hops = Vec::new();
        let mut e2e = Vec::new();
        for s in &self.stages {
            let Some(lat) = &s.latency else { continue };
            for &kind in EventKind::ALL {
                if let Some(h) = lat.hop(kind).filter(|h| !h.is_empty()) {
                    hops.push(LatencyRow::from_hist(format!("hop {} → {}", kind.name(), s.id.name()), h));
                }
                if let Some(h) = lat.e2e(kind).filter(|h| !h.is_empty()) {
                    e2e.push(LatencyRow::from_hist(format!("e2e signal → {} ({})", s.id.name(), kind.name()), h));
                }
            }
        }
        let mut emitted = Vec::new();
        let mut marks = Vec::new();
        for s in &self.stages {
            let Some(lat) = &s.latency else { continue };
            for &kind in EventKind::ALL {
                if let Some(h) = lat.emitted(kind).filter(|h| !h.is_empty()) {
                    emitted.push(LatencyRow::from_hist(format!("e2e signal → {} emitted", kind.name()), h));
                }
            }
            for mark in Mark::ALL {
                if let Some(h) = lat.mark(mark).filter(|h| !h.is_empty()) {
                    marks.push(LatencyRow::from_hist(format!("e2e signal → {} (tick-to-order)", mark.name()), h));
                }
            }
        }
        hops.extend(e2e);
        hops.extend(emitted);
        hops.extend(marks);
        hops
    }

    /// Origin → emit histogram of `kind` as emitted by `stage`.
    pub fn emitted_histogram(&self, stage: StageId, kind: EventKind) -> Option<&Histogram<u64>> {
        self.stage(stage)?.latency.as_ref()?.emitted(kind)
    }

    /// Histogram of a measurement mark (e.g. tick-to-order), wherever it was recorded.
    pub fn mark_histogram(&self, mark: Mark) -> Option<&Histogram<u64>> {
        self.stages.iter().filter_map(|s| s.latency.as_ref()?.mark(mark)).find(|h| !h.is_empty())
    }

    /// The models line: every model known at the end (configured ones first, then those
    /// registered at run time), at most 16 by name.
    fn write_models(&self, w: &mut dyn Write) -> io::Result<()> {
        let c = &self.catalog;
        let names: Vec<&str> = c.model_names().take(16).collect();
        let more = c.model_count().saturating_sub(names.len());
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        let new = c.model_count().saturating_sub(c.models().len());
        writeln!(
            w,
            "  models                       {}{tail} ({new} new this run; registry {}/{})",
            names.join(", "),
            c.model_count(),
            c.model_capacity()
        )
    }

    /// Writes the human-readable summary.
    pub fn write_summary(&self, w: &mut dyn Write) -> io::Result<()> {
        let t = &self.tally;
        match self.mode {
            RunMode::Threaded => writeln!(w, "== tradeflow run (threaded) ==")?,
            RunMode::Inline { virtual_ns } => {
                writeln!(w, "== tradeflow run (inline, {:.3} s simulated) ==", virtual_ns as f64 / 1e9)?;
            }
        }
        writeln!(
            w,
            "wall time {:.3} s, {} signals, {:.0} signals/s",
            self.elapsed.as_secs_f64(),
            self.signals(),
            self.throughput()
        )?;
        for p in &self.placement {
            let core = match p.core {
                CoreSpec::Core(c) => format!("core {c}"),
                CoreSpec::None => "unpinned".into(),
            };
            writeln!(w, "  thread {:<8} {:<9} {:<8?} {}", p.thread, core, p.wait, p.stages.join(", "))?;
        }
        writeln!(w, "\nevents by type")?;
        for &k in EventKind::ALL.iter().filter(|k| k.is_external()) {
            writeln!(w, "  {:<28} {:>12}", k.name(), t.count(k))?;
        }
        let denials: Vec<_> = DenialCode::ALL.iter().filter(|d| t.denials[usize::from(d.code())] > 0).collect();
        if !denials.is_empty() {
            writeln!(w, "\ndenials by code")?;
            for d in denials {
                writeln!(w, "  {:<28} {:>12}", d.name(), t.denials[usize::from(d.code())])?;
            }
        }
        let errors: Vec<_> = ErrorCode::ALL.iter().filter(|e| t.errors[usize::from(e.code())] > 0).collect();
        if !errors.is_empty() {
            writeln!(w, "\nerrors by code")?;
            for e in errors {
                writeln!(w, "  {:<28} {:>12}", e.name(), t.errors[usize::from(e.code())])?;
            }
        }
        writeln!(w, "\ntrading")?;
        writeln!(w, "  orders requested             {:>12}", t.count(EventKind::ExecutionRequested))?;
        writeln!(w, "  trades closed                {:>12}", self.trades())?;
        let exits: Vec<String> = ExitReason::ALL
            .iter()
            .filter(|r| t.exits[usize::from(r.code())] > 0)
            .map(|r| format!("{} {}", r.name(), t.exits[usize::from(r.code())]))
            .collect();
        if !exits.is_empty() {
            writeln!(w, "  exits                        {}", exits.join(", "))?;
        }
        let flattens = t.exits[usize::from(ExitReason::Shutdown.code())];
        let excluded =
            if flattens > 0 { format!(" ({flattens} SHUTDOWN flattens not counted)") } else { String::new() };
        if t.wins + t.losses == 0 {
            writeln!(w, "  win rate                     {:>12}{excluded}", "n/a")?;
        } else {
            writeln!(w, "  win rate                     {:>11.1}%{excluded}", self.win_rate() * 100.0)?;
        }
        self.write_models(w)?;
        writeln!(w, "  net PnL (USD)                {:>12.2}", t.pnl.to_f64())?;
        writeln!(w, "  kill switch                  {:>12} ({} trips)", self.trading_state.name(), self.kill_trips)?;
        writeln!(
            w,
            "  alerts LOW/MED/HIGH/CRIT     {:>12}",
            format!("{}/{}/{}/{}", t.alerts[0], t.alerts[1], t.alerts[2], t.alerts[3])
        )?;
        if t.copies_dropped > 0 || t.overflowed > 0 {
            writeln!(
                w,
                "  copies dropped {} (copy ring full); events delayed by full rings {}",
                t.copies_dropped, t.overflowed
            )?;
        }
        for (name, n) in self.sinks.dropped.iter().filter(|(_, n)| *n > 0) {
            writeln!(w, "  sink {name} dropped {n}")?;
        }
        for e in &self.sinks.errors {
            writeln!(w, "  sink error: {e}")?;
        }
        if !self.drained {
            writeln!(w, "  WARNING: shutdown did not drain within run.drain_timeout_ms")?;
        }
        if let Some(m) = &self.mirror {
            let q = |h: &hdrhistogram::Histogram<u64>, p: f64| if h.is_empty() { 0 } else { h.value_at_quantile(p) };
            writeln!(w, "\nmirror (redis {})", m.url)?;
            writeln!(w, "  mirrored                     {:>12}", m.mirrored)?;
            writeln!(w, "  dropped (ring full / redis)  {:>12}", format!("{}/{}", m.dropped_ring, m.dropped_redis))?;
            if !m.dropped_ring_by_stage.is_empty() {
                let per: Vec<String> = m.dropped_ring_by_stage.iter().map(|(s, n)| format!("{s} {n}")).collect();
                writeln!(w, "  dropped at the ring, by stage {}", per.join(", "))?;
            }
            writeln!(w, "  reconnects                   {:>12}", m.reconnects)?;
            writeln!(
                w,
                "  batches (size p50 / max)     {:>12}",
                format!("{} ({}/{})", m.batches, q(&m.batch_sizes, 0.5), m.batch_sizes.max())
            )?;
            if !m.lag_ns.is_empty() {
                writeln!(
                    w,
                    "  lag emit → XADD ack (µs)     p50 {:.0}  p99 {:.0}  max {:.0}",
                    q(&m.lag_ns, 0.5) as f64 / 1e3,
                    q(&m.lag_ns, 0.99) as f64 / 1e3,
                    m.lag_ns.max() as f64 / 1e3
                )?;
            }
            if !m.connected_at_start {
                writeln!(w, "  WARNING: Redis was unreachable at start; copies were dropped until it answered")?;
            }
            if let Some(e) = m.errors.last() {
                writeln!(w, "  last error: {e}")?;
            }
        }
        if let Some(r) = self.redis_source_stats() {
            writeln!(w, "\nsignal source (redis)")?;
            writeln!(w, "  entries read                 {:>12}", r.entries)?;
            writeln!(w, "  acknowledged (XACK)          {:>12}", r.acked)?;
            writeln!(w, "  re-read / claimed            {:>12}", format!("{}/{}", r.pending_reread, r.claimed))?;
            writeln!(w, "  refused (event_error)        {:>12}", r.refused)?;
            writeln!(w, "  connects / disconnects       {:>12}", format!("{}/{}", r.connects, r.disconnects))?;
            if let Some(e) = &r.last_error {
                writeln!(w, "  last error: {e}")?;
            }
        }
        if let Some(i) = self.ingress_stats().filter(|i| i.busy > 0) {
            writeln!(w, "\nsignal source: {} signals answered \"busy\" (pipeline backed up)", i.busy)?;
        }
        if let Some(i) = self.ingress_stats() {
            let dropped = [i.slow_clients, i.idle_closed, i.handshake_timeouts, i.protocol_errors];
            if dropped.iter().any(|&n| n > 0) {
                writeln!(
                    w,
                    "signal clients closed: {} slow (unread answers), {} idle, {} handshake timeouts, {} protocol errors",
                    i.slow_clients, i.idle_closed, i.handshake_timeouts, i.protocol_errors
                )?;
            }
        }
        if let Some(b) = self.binance_stats() {
            writeln!(w, "\nvenue (binance)")?;
            writeln!(w, "  order.place sent             {:>12} ({} resends after -2013)", b.sent, b.resends)?;
            writeln!(w, "  status unknown / queried     {:>12}", format!("{}/{}", b.unknown, b.status_queries))?;
            writeln!(w, "  unknown given up             {:>12}", b.unknown_given_up)?;
            writeln!(
                w,
                "  reconnects (api/user stream) {:>12}",
                format!("{}/{}", b.reconnects, b.user_stream_reconnects)
            )?;
            writeln!(w, "  429 / 418 answers            {:>12}", format!("{}/{}", b.rate_limited, b.banned))?;
            writeln!(
                w,
                "  entries while disconnected   {:>12}",
                format!("{} refused, {} held ({} sent)", b.refused_disconnected, b.held, b.held_sent)
            )?;
            writeln!(w, "  estimated commissions        {:>12}", b.estimated_commissions)?;
            writeln!(
                w,
                "  protective placed / filled / cancelled {:>6}",
                format!("{}/{}/{}", b.protective_orders, b.protective_fills, b.protective_cancelled)
            )?;
            if b.protective_open > 0 {
                writeln!(
                    w,
                    "  ERROR: {} protective order(s) of closed positions left open at the exchange \
                     (cancel not confirmed within run.drain_timeout_ms): cancel them by hand",
                    b.protective_open
                )?;
            }
            if b.decode_errors > 0 {
                writeln!(w, "  undecodable frames           {:>12}", b.decode_errors)?;
            }
        }
        self.write_latency(w)
    }

    fn write_latency(&self, w: &mut dyn Write) -> io::Result<()> {
        let rows = self.latency_rows();
        if rows.is_empty() {
            if matches!(self.mode, RunMode::Inline { .. }) {
                writeln!(w, "\nlatency: not measured inline (virtual clock); see `tradeflow bench` or a threaded run")?;
            }
            return Ok(());
        }
        writeln!(w, "\nlatency (ns)                                          count      p50      p90      p99    p99.9      max")?;
        for r in rows {
            writeln!(
                w,
                "  {:<48} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
                r.name, r.count, r.p50, r.p90, r.p99, r.p999, r.max
            )?;
        }
        Ok(())
    }
}
