//! In-process handles into a running pipeline: [`SignalPublisher`] (the reference's
//! `publish_signal_generated`) and [`OperatorHandle`] (kill-switch reset, alerts, profile
//! switch, flatten).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tradeflow_core::*;

/// A signal to publish, by name (as a model would produce it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalSpec<'a> {
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub symbol: &'a str,
    /// BUY or SELL.
    pub side: Side,
    /// 0..=1.
    pub confidence: f64,
    /// `1m`, `5m`, `15m`, `30m`, `1h`, `4h` or `1d`.
    pub timeframe: &'a str,
    /// A configured model version.
    pub model_version: &'a str,
    /// Trace id (1–36 printable ASCII bytes); a UUID v4 is generated when `None`.
    pub trace_id: Option<&'a str>,
    /// The signal's own time (Unix seconds); now when `None`.
    pub timestamp: Option<f64>,
}

impl<'a> SignalSpec<'a> {
    /// A spec with a generated trace id and the current time.
    pub fn new(
        symbol: &'a str,
        side: Side,
        confidence: f64,
        timeframe: &'a str,
        model_version: &'a str,
    ) -> SignalSpec<'a> {
        SignalSpec { symbol, side, confidence, timeframe, model_version, trace_id: None, timestamp: None }
    }

    /// The same spec with a trace id.
    pub fn with_trace_id(mut self, trace_id: &'a str) -> SignalSpec<'a> {
        self.trace_id = Some(trace_id);
        self
    }
}

/// Why a signal was not published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The signal is invalid (same codes as `system.event_error` at ingress).
    #[error("invalid signal: {0}")]
    Invalid(ErrorCode),
    /// The ring into ingress is full; retry shortly (the pipeline is behind).
    #[error("pipeline busy: ingress ring full")]
    Busy,
    /// The pipeline has stopped.
    #[error("pipeline stopped")]
    Closed,
}

/// Publishes signals into a running pipeline from the same process (lock-free, no allocation).
#[derive(Debug)]
pub struct SignalPublisher {
    ring: rtrb::Producer<Event>,
    catalog: Arc<Catalog>,
    clock: MonoClock,
    rng: u64,
}

impl SignalPublisher {
    pub(crate) fn new(ring: rtrb::Producer<Event>, catalog: Arc<Catalog>, clock: MonoClock) -> SignalPublisher {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0x9e37, |d| d.as_nanos() as u64);
        SignalPublisher { ring, catalog, clock, rng: seed | 1 }
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Validates `spec` and pushes it to ingress; returns its trace id.
    pub fn publish(&mut self, spec: &SignalSpec<'_>) -> Result<TraceId, PublishError> {
        let ev = self.build(spec)?;
        let trace = ev.header.trace_id;
        match self.ring.push(Event::SignalGenerated(ev)) {
            Ok(()) => Ok(trace),
            Err(_) if self.ring.is_abandoned() => Err(PublishError::Closed),
            Err(_) => Err(PublishError::Busy),
        }
    }

    /// Like [`SignalPublisher::publish`], but waits (yielding) while the ring is full.
    pub fn publish_blocking(&mut self, spec: &SignalSpec<'_>) -> Result<TraceId, PublishError> {
        loop {
            match self.publish(spec) {
                Err(PublishError::Busy) => std::thread::yield_now(),
                other => return other,
            }
        }
    }

    fn build(&mut self, spec: &SignalSpec<'_>) -> Result<SignalGenerated, PublishError> {
        let input = tradeflow_ingress::SignalInput {
            symbol: spec.symbol,
            side: spec.side.name(),
            confidence: spec.confidence,
            timeframe: spec.timeframe,
            model_version: spec.model_version,
            trace_id: spec.trace_id,
            timestamp: spec.timestamp,
        };
        let decoded =
            tradeflow_ingress::validate_signal_fields(&input, &self.catalog).map_err(PublishError::Invalid)?;
        let now = self.clock.now_ns();
        let now_epoch_us = (now as i64 + self.clock.wall_offset_ns()) / 1000;
        let (a, b) = (self.next_random(), self.next_random());
        let new_trace = move || {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&a.to_le_bytes());
            bytes[8..].copy_from_slice(&b.to_le_bytes());
            TraceId::uuid_v4(bytes)
        };
        // Ingress assigns the sequence number when it takes the signal in.
        Ok(decoded.to_event(0, now, new_trace, now_epoch_us))
    }
}

/// Operator commands into a running pipeline (through the control stage).
#[derive(Debug)]
pub struct OperatorHandle {
    ring: rtrb::Producer<Event>,
    catalog: Arc<Catalog>,
    clock: MonoClock,
    seq: u64,
}

/// Why an operator command was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    /// No such risk profile.
    #[error("unknown risk profile {0:?}")]
    UnknownProfile(String),
    /// The command ring is full or the pipeline stopped.
    #[error("control stage not accepting commands (stopped or busy)")]
    Unavailable,
}

impl OperatorHandle {
    pub(crate) fn new(ring: rtrb::Producer<Event>, catalog: Arc<Catalog>, clock: MonoClock) -> OperatorHandle {
        OperatorHandle { ring, catalog, clock, seq: 0 }
    }

    fn send(
        &mut self,
        kind: OperatorKind,
        severity: Severity,
        value: f64,
        profile: ProfileIdx,
    ) -> Result<(), OperatorError> {
        self.seq += 1;
        let trace = TraceId::try_new("operator").unwrap_or(TraceId::EMPTY);
        let header = Header::origin(self.seq, trace, InstrumentIdx::NONE, self.clock.now_ns());
        let ev = Event::OperatorCommand(OperatorCommand { header, value, kind, severity, profile });
        self.ring.push(ev).map_err(|_| OperatorError::Unavailable)
    }

    /// Resets the kill switch to ACTIVE.
    pub fn reset_kill_switch(&mut self) -> Result<(), OperatorError> {
        self.send(OperatorKind::ResetKillSwitch, Severity::Low, 0.0, ProfileIdx(0))
    }

    /// Raises a `risk.alert` (type OPERATOR) with this severity; CRITICAL halts trading.
    pub fn raise_alert(&mut self, severity: Severity) -> Result<(), OperatorError> {
        self.send(OperatorKind::RaiseAlert, severity, 0.0, ProfileIdx(0))
    }

    /// Makes another configured risk profile active.
    pub fn switch_profile(&mut self, name: &str) -> Result<(), OperatorError> {
        let p = self.catalog.find_profile(name).ok_or_else(|| OperatorError::UnknownProfile(name.to_owned()))?;
        self.send(OperatorKind::SwitchProfile, Severity::Low, 0.0, p)
    }

    /// Closes every open position (exit reason MANUAL).
    pub fn flatten_all(&mut self) -> Result<(), OperatorError> {
        self.send(OperatorKind::FlattenAll, Severity::Low, 0.0, ProfileIdx(0))
    }
}
