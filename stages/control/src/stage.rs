//! [`ControlStage`]: the kill switch's only writer, the error classifier and the operator's
//! entry point.

use crate::config::ControlConfig;
use crate::window::ErrorWindow;
use std::sync::Arc;
use tradeflow_core::{
    AlertAction, AlertType, Catalog, CommandKind, ControlCommand, Ctx, ErrorCode, Event, ExitReason, Header,
    InstrumentIdx, KillSwitch, ModelIdx, OperatorCommand, OperatorKind, PolicyKind, PolicyUpdate, ProfileIdx,
    RiskAlert, Severity, Stage, StageId, SystemEventError, TraceId, TradingState, TRACE_ID_MAX,
};

/// Why the control stage cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The configuration has problems (every one listed).
    #[error("invalid control configuration: {}", .0.join("; "))]
    Config(Vec<String>),
}

/// The system's health, from the error rate and unrecoverable errors.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum HealthState {
    /// Error rate below `degraded_error_rate_per_sec`.
    #[default]
    Healthy = 0,
    /// Error rate at or above `degraded_error_rate_per_sec`.
    Degraded = 1,
    /// Error rate at or above `error_rate_alert_per_sec`, or an unrecoverable error within the
    /// last window.
    Unhealthy = 2,
}

impl HealthState {
    /// The state's name.
    pub const fn name(self) -> &'static str {
        match self {
            HealthState::Healthy => "HEALTHY",
            HealthState::Degraded => "DEGRADED",
            HealthState::Unhealthy => "UNHEALTHY",
        }
    }
}

const ALERT_TYPES: usize = AlertType::ALL.len();
const ERROR_CODES: usize = ErrorCode::ALL.len();

/// Counters of the control stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlStats {
    /// `risk.alert`s received, by severity code.
    pub alerts_by_severity: [u64; 4],
    /// `risk.alert`s received, by alert type code.
    pub alerts_by_type: [u64; ALERT_TYPES],
    /// `system.event_error`s received, by error code.
    pub errors_by_code: [u64; ERROR_CODES],
    /// `system.event_error`s received, by reporting stage.
    pub errors_by_component: [u64; StageId::COUNT],
    /// Errors the pipeline carries on after.
    pub recoverable_errors: u64,
    /// Errors it does not.
    pub unrecoverable_errors: u64,
    /// Health after the last event or poll.
    pub health: HealthState,
    /// Kill-switch escalations made by this stage (to REDUCING or HALTED).
    pub kill_switch_trips: u64,
    /// Operator resets of the kill switch.
    pub kill_switch_resets: u64,
    /// `ERROR_RATE` alerts raised (one per episode).
    pub error_rate_alerts: u64,
    /// `FATAL_ERROR` alerts raised.
    pub fatal_alerts: u64,
    /// `internal.control_command`s emitted.
    pub commands_emitted: u64,
    /// Operator commands received.
    pub operator_commands: u64,
    /// Operator commands refused (unknown profile).
    pub rejected_operator_commands: u64,
    /// Events of kinds control does not consume.
    pub ignored_events: u64,
}

impl ControlStats {
    /// Alerts received with `severity`.
    pub fn alerts(&self, severity: Severity) -> u64 {
        self.alerts_by_severity[severity as usize]
    }

    /// Alerts received of `alert_type`.
    pub fn alerts_of(&self, alert_type: AlertType) -> u64 {
        self.alerts_by_type[alert_type as usize]
    }

    /// Errors received with `code`.
    pub fn errors(&self, code: ErrorCode) -> u64 {
        self.errors_by_code[code as usize]
    }

    /// Errors reported by `component`.
    pub fn errors_from(&self, component: StageId) -> u64 {
        self.errors_by_component[component as usize]
    }
}

/// The control stage: `risk.alert` → kill switch and commands; `system.event_error` → health;
/// operator commands.
#[derive(Debug)]
pub struct ControlStage {
    cfg: ControlConfig,
    catalog: Arc<Catalog>,
    kill: Arc<KillSwitch>,
    window: ErrorWindow,
    in_episode: bool,
    fatal_latched: bool,
    last_unrecoverable_ns: Option<u64>,
    seq: u64,
    stats: ControlStats,
}

/// `control-<n>` (n zero-padded to six digits), built without allocating.
fn numbered_trace(n: u64) -> TraceId {
    const PREFIX: &[u8] = b"control-";
    let mut buf = [0u8; TRACE_ID_MAX];
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [b'0'; 20];
    let (mut v, mut len) = (n, 0);
    while v > 0 || len < 6 {
        digits[19 - len] = b'0' + (v % 10) as u8;
        v /= 10;
        len += 1;
    }
    buf[PREFIX.len()..PREFIX.len() + len].copy_from_slice(&digits[20 - len..]);
    TraceId::try_from_bytes(&buf[..PREFIX.len() + len]).unwrap_or(TraceId::EMPTY)
}

fn action_for(severity: Severity) -> AlertAction {
    match severity {
        Severity::Critical => AlertAction::EmergencyStop,
        Severity::High => AlertAction::ReduceOnly,
        Severity::Medium | Severity::Low => AlertAction::Logged,
    }
}

impl ControlStage {
    /// Validates `cfg`; control writes `kill`, which risk and gateway read.
    pub fn try_new(cfg: &ControlConfig, catalog: Arc<Catalog>, kill: Arc<KillSwitch>) -> Result<Self, ControlError> {
        let errors = cfg.validate("control");
        if !errors.is_empty() {
            return Err(ControlError::Config(errors));
        }
        Ok(ControlStage {
            cfg: cfg.clone(),
            catalog,
            kill,
            window: ErrorWindow::new(cfg.error_window_ms * 1_000_000),
            in_episode: false,
            fatal_latched: false,
            last_unrecoverable_ns: None,
            seq: 0,
            stats: ControlStats::default(),
        })
    }

    /// The counters.
    pub fn stats(&self) -> &ControlStats {
        &self.stats
    }

    /// Health after the last event or poll.
    pub fn health(&self) -> HealthState {
        self.stats.health
    }

    /// The kill switch's current state.
    pub fn trading_state(&self) -> TradingState {
        self.kill.state()
    }

    /// A header starting a new chain, trace id `control-<n>`.
    fn new_chain(&mut self, instrument: InstrumentIdx, now_ns: u64) -> Header {
        self.seq += 1;
        Header::origin(self.seq, numbered_trace(self.seq), instrument, now_ns)
    }

    /// The cause's header when it carries a trace id, else a new chain.
    fn header_for(&mut self, cause: &Header, now_ns: u64) -> Header {
        if cause.trace_id.is_empty() {
            self.new_chain(cause.instrument, now_ns)
        } else {
            Header::derived(cause)
        }
    }

    fn command<C: Ctx>(&mut self, header: Header, kind: CommandKind, reason: ExitReason, ctx: &mut C) {
        self.stats.commands_emitted += 1;
        ctx.emit(Event::ControlCommand(ControlCommand { header, kind, reason }));
    }

    fn raise<C: Ctx>(&mut self, header: Header, kind: AlertType, sev: Severity, values: (f64, f64), ctx: &mut C) {
        ctx.emit(Event::RiskAlert(RiskAlert {
            header,
            observed: values.0,
            limit: values.1,
            current_drawdown_pct: 0.0,
            open_positions: 0,
            max_positions: 0,
            model: ModelIdx::NONE,
            severity: sev,
            alert_type: kind,
            action: action_for(sev),
            profile: ProfileIdx::NONE,
            source: StageId::Control,
        }));
    }

    fn on_alert<C: Ctx>(&mut self, a: &RiskAlert, ctx: &mut C) {
        self.stats.alerts_by_severity[a.severity as usize] += 1;
        self.stats.alerts_by_type[a.alert_type as usize] += 1;
        let (kind, source, trace) = (a.alert_type.name(), a.source.name(), a.header.trace_id);
        let (observed, limit) = (a.observed, a.limit);
        match a.severity {
            Severity::Critical => {
                tracing::error!(alert = kind, source, %trace, observed, limit, "CRITICAL alert: trading HALTED");
                if self.kill.state() == TradingState::Halted {
                    return;
                }
                self.kill.escalate(TradingState::Halted);
                self.stats.kill_switch_trips += 1;
                let h = Header::derived(&a.header);
                self.command(h, CommandKind::CancelAll, ExitReason::KillSwitch, ctx);
                if self.cfg.flatten_on_halt {
                    self.command(h, CommandKind::FlattenAll, ExitReason::KillSwitch, ctx);
                }
            }
            Severity::High => {
                tracing::warn!(alert = kind, source, %trace, observed, limit, "HIGH alert: REDUCING, operator attention");
                let before = self.kill.state();
                if self.kill.escalate(TradingState::Reducing) != before {
                    self.stats.kill_switch_trips += 1;
                }
            }
            Severity::Medium | Severity::Low => {
                let severity = a.severity.name();
                tracing::info!(alert = kind, severity, source, %trace, observed, limit, "alert");
            }
        }
    }

    fn on_error<C: Ctx>(&mut self, e: &SystemEventError, ctx: &mut C) {
        let now = ctx.now_ns();
        self.stats.errors_by_code[e.code as usize] += 1;
        self.stats.errors_by_component[e.component as usize] += 1;
        self.window.record(now);
        if e.code.is_recoverable() {
            self.stats.recoverable_errors += 1;
        } else {
            self.stats.unrecoverable_errors += 1;
            self.last_unrecoverable_ns = Some(now);
            if self.cfg.unrecoverable_is_critical && !self.fatal_latched {
                self.fatal_latched = true;
                self.stats.fatal_alerts += 1;
                let h = self.header_for(&e.header, now);
                self.raise(h, AlertType::FatalError, Severity::Critical, (f64::from(e.code.code()), 0.0), ctx);
            }
        }
        self.refresh(now, ctx);
    }

    /// Re-evaluates the error rate and health at `now`; opens an error-rate episode (and raises
    /// its alert) when the rate crosses the alert threshold. Returns the events emitted.
    fn refresh<C: Ctx>(&mut self, now: u64, ctx: &mut C) -> usize {
        let rate = self.window.rate_per_sec(now);
        let mut emitted = 0;
        if rate >= self.cfg.error_rate_alert_per_sec && !self.in_episode {
            self.in_episode = true;
            self.stats.error_rate_alerts += 1;
            let h = self.new_chain(InstrumentIdx::NONE, now);
            self.raise(h, AlertType::ErrorRate, Severity::High, (rate, self.cfg.error_rate_alert_per_sec), ctx);
            emitted += 1;
        } else if self.in_episode && rate < self.cfg.degraded_error_rate_per_sec {
            self.in_episode = false;
        }
        let recent_fatal = self.last_unrecoverable_ns.is_some_and(|t| now.saturating_sub(t) < self.window.window_ns());
        self.stats.health = if rate >= self.cfg.error_rate_alert_per_sec || recent_fatal {
            HealthState::Unhealthy
        } else if rate >= self.cfg.degraded_error_rate_per_sec {
            HealthState::Degraded
        } else {
            HealthState::Healthy
        };
        emitted
    }

    fn on_operator<C: Ctx>(&mut self, cmd: &OperatorCommand, ctx: &mut C) {
        self.stats.operator_commands += 1;
        let now = ctx.now_ns();
        match cmd.kind {
            OperatorKind::ResetKillSwitch => {
                tracing::warn!(from = self.kill.state().name(), "operator reset the kill switch to ACTIVE");
                self.kill.reset();
                self.fatal_latched = false;
                self.stats.kill_switch_resets += 1;
            }
            OperatorKind::RaiseAlert => {
                let h = self.header_for(&cmd.header, now);
                self.raise(h, AlertType::Operator, cmd.severity, (cmd.value, 0.0), ctx);
            }
            OperatorKind::SwitchProfile => {
                if cmd.profile.get() >= self.catalog.profiles().len() {
                    self.stats.rejected_operator_commands += 1;
                    return;
                }
                let header = self.header_for(&cmd.header, now);
                ctx.emit(Event::PolicyUpdate(PolicyUpdate {
                    header,
                    value: f64::from(cmd.profile.0),
                    model: ModelIdx::NONE,
                    kind: PolicyKind::ActiveProfile,
                    profile: cmd.profile,
                }));
            }
            OperatorKind::FlattenAll => {
                let h = self.header_for(&cmd.header, now);
                self.command(h, CommandKind::FlattenAll, ExitReason::Manual, ctx);
            }
        }
    }
}

impl Stage for ControlStage {
    fn id(&self) -> StageId {
        StageId::Control
    }

    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        match ev {
            Event::RiskAlert(a) => self.on_alert(a, ctx),
            Event::SystemEventError(e) => self.on_error(e, ctx),
            Event::OperatorCommand(c) => self.on_operator(c, ctx),
            _ => self.stats.ignored_events += 1,
        }
    }

    fn poll<C: Ctx>(&mut self, ctx: &mut C) -> usize {
        let now = ctx.now_ns();
        self.refresh(now, ctx)
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        let fatal_expiry = self.last_unrecoverable_ns.map(|t| t + self.window.window_ns());
        let fatal_expiry = fatal_expiry.filter(|_| self.stats.health != HealthState::Healthy);
        match (self.window.next_expiry_ns(), fatal_expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_traces() {
        assert_eq!(numbered_trace(1).as_str(), "control-000001");
        assert_eq!(numbered_trace(1_234_567).as_str(), "control-1234567");
        assert_eq!(numbered_trace(u64::MAX).as_str(), "control-18446744073709551615");
        assert_eq!(numbered_trace(0).as_str(), "control-000000");
    }

    #[test]
    fn actions_follow_severity() {
        assert_eq!(action_for(Severity::Critical), AlertAction::EmergencyStop);
        assert_eq!(action_for(Severity::High), AlertAction::ReduceOnly);
        assert_eq!(action_for(Severity::Low), AlertAction::Logged);
    }
}
