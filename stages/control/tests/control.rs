//! The control stage through its public interface: alerts drive the kill switch, errors drive
//! health, operator commands become events.

use std::sync::Arc;
use tradeflow_control::{ControlConfig, ControlError, ControlStage, HealthState};
use tradeflow_core::{
    AlertAction, AlertType, Catalog, CommandKind, ErrorCode, Event, EventKind, ExitReason, Header, InstrumentIdx,
    KillSwitch, ModelIdx, OperatorCommand, OperatorKind, PolicyKind, ProfileIdx, RecordingCtx, RiskAlert, Severity,
    Stage, StageId, SystemEventError, TraceId, TradingState,
};

const MS: u64 = 1_000_000;

fn setup(cfg: &ControlConfig) -> (ControlStage, Arc<KillSwitch>) {
    let catalog = Catalog::try_new(vec![], vec!["m1".into()], vec!["SAFE".into(), "NORMAL".into()])
        .unwrap_or_else(|e| panic!("{e}"));
    let kill = Arc::new(KillSwitch::new());
    let stage = ControlStage::try_new(cfg, Arc::new(catalog), Arc::clone(&kill)).unwrap_or_else(|e| panic!("{e}"));
    (stage, kill)
}

fn alert(severity: Severity, alert_type: AlertType, trace: &str) -> Event {
    Event::RiskAlert(RiskAlert {
        header: Header::origin(7, TraceId::try_new(trace).unwrap_or_default(), InstrumentIdx(0), 100),
        observed: 12.0,
        limit: 10.0,
        current_drawdown_pct: 12.0,
        open_positions: 3,
        max_positions: 10,
        model: ModelIdx::NONE,
        severity,
        alert_type,
        action: AlertAction::None,
        profile: ProfileIdx(0),
        source: StageId::Position,
    })
}

fn error(code: ErrorCode, component: StageId) -> Event {
    Event::SystemEventError(SystemEventError::new(
        Header::origin(1, TraceId::EMPTY, InstrumentIdx::NONE, 0),
        code,
        component,
        EventKind::SignalGenerated,
        b"{bad",
        0,
    ))
}

fn operator(kind: OperatorKind, severity: Severity, profile: u8) -> Event {
    Event::OperatorCommand(OperatorCommand {
        header: Header::origin(1, TraceId::try_new("op-1").unwrap_or_default(), InstrumentIdx::NONE, 0),
        value: 42.0,
        kind,
        severity,
        profile: ProfileIdx(profile),
    })
}

/// Delivers `ev` at `now_ns` and returns what control emitted.
fn send(stage: &mut ControlStage, ev: &Event, now_ns: u64) -> Vec<Event> {
    let mut ctx = RecordingCtx::new(now_ns);
    stage.on_event(ev, &mut ctx);
    let out = ctx.take();
    assert!(out.len() <= stage.max_emits_per_call());
    out
}

fn commands(events: &[Event]) -> Vec<(CommandKind, ExitReason)> {
    events
        .iter()
        .filter_map(|e| if let Event::ControlCommand(c) = e { Some((c.kind, c.reason)) } else { None })
        .collect()
}

fn alerts(events: &[Event]) -> Vec<RiskAlert> {
    events.iter().filter_map(|e| if let Event::RiskAlert(a) = e { Some(*a) } else { None }).collect()
}

#[test]
fn critical_halts_cancels_flattens_and_latches_until_reset() {
    let (mut s, kill) = setup(&ControlConfig::default());
    let out = send(&mut s, &alert(Severity::Critical, AlertType::MaxDrawdownBreached, "risk-000001"), 10);
    assert_eq!(kill.state(), TradingState::Halted);
    assert_eq!(
        commands(&out),
        vec![(CommandKind::CancelAll, ExitReason::KillSwitch), (CommandKind::FlattenAll, ExitReason::KillSwitch)]
    );
    assert!(out.iter().all(|e| e.header().trace_id.as_str() == "risk-000001"), "commands carry the alert's trace");
    assert!(
        send(&mut s, &alert(Severity::Critical, AlertType::DailyLossBreached, "risk-2"), 20).is_empty(),
        "already halted: no duplicate commands"
    );
    send(&mut s, &alert(Severity::Low, AlertType::DrawdownWarning, "risk-3"), 30);
    send(&mut s, &alert(Severity::High, AlertType::ExposureLimit, "risk-4"), 40);
    assert_eq!(kill.state(), TradingState::Halted, "latched");
    assert_eq!(s.stats().kill_switch_trips, 1);
    assert!(send(&mut s, &operator(OperatorKind::ResetKillSwitch, Severity::Low, 0), 50).is_empty());
    assert_eq!(kill.state(), TradingState::Active);
    assert_eq!(s.stats().kill_switch_resets, 1);
    let again = send(&mut s, &alert(Severity::Critical, AlertType::MaxDrawdownBreached, "risk-5"), 60);
    assert_eq!(commands(&again).len(), 2, "a new halt after a reset acts again");
    assert_eq!(s.stats().kill_switch_trips, 2);
    assert_eq!(s.stats().commands_emitted, 4);
}

#[test]
fn critical_without_flatten_only_cancels() {
    let (mut s, kill) = setup(&ControlConfig { flatten_on_halt: false, ..ControlConfig::default() });
    let out = send(&mut s, &alert(Severity::Critical, AlertType::FatalError, "x"), 10);
    assert_eq!(commands(&out), vec![(CommandKind::CancelAll, ExitReason::KillSwitch)]);
    assert_eq!(kill.state(), TradingState::Halted);
}

#[test]
fn high_reduces_and_a_later_critical_still_halts() {
    let (mut s, kill) = setup(&ControlConfig::default());
    assert!(send(&mut s, &alert(Severity::High, AlertType::DrawdownWarning, "a"), 10).is_empty());
    assert_eq!(kill.state(), TradingState::Reducing);
    send(&mut s, &alert(Severity::High, AlertType::ExposureLimit, "b"), 20);
    assert_eq!(s.stats().kill_switch_trips, 1, "already reducing");
    assert_eq!(commands(&send(&mut s, &alert(Severity::Critical, AlertType::MaxDrawdownBreached, "c"), 30)).len(), 2);
    assert_eq!(kill.state(), TradingState::Halted);
    assert_eq!(s.stats().kill_switch_trips, 2);
    assert_eq!(s.trading_state(), TradingState::Halted);
}

#[test]
fn medium_and_low_are_counted_only() {
    let (mut s, kill) = setup(&ControlConfig::default());
    for (sev, ty) in [
        (Severity::Medium, AlertType::ModelDegraded),
        (Severity::Low, AlertType::DrawdownWarning),
        (Severity::Medium, AlertType::ModelDegraded),
    ] {
        assert!(send(&mut s, &alert(sev, ty, "m"), 10).is_empty());
    }
    assert_eq!(kill.state(), TradingState::Active);
    let st = s.stats();
    assert_eq!((st.alerts(Severity::Medium), st.alerts(Severity::Low), st.alerts(Severity::High)), (2, 1, 0));
    assert_eq!((st.alerts_of(AlertType::ModelDegraded), st.alerts_of(AlertType::DrawdownWarning)), (2, 1));
    assert_eq!(kill.trips(), 0);
}

#[test]
fn errors_are_classified_by_code_and_component() {
    let (mut s, _) = setup(&ControlConfig { unrecoverable_is_critical: false, ..ControlConfig::default() });
    send(&mut s, &error(ErrorCode::JsonSyntax, StageId::Ingress), MS);
    send(&mut s, &error(ErrorCode::JsonSyntax, StageId::Ingress), MS);
    send(&mut s, &error(ErrorCode::OrderRejected, StageId::Gateway), MS);
    assert!(send(&mut s, &error(ErrorCode::PositionTableFull, StageId::Position), MS).is_empty());
    let st = s.stats();
    assert_eq!((st.errors(ErrorCode::JsonSyntax), st.errors(ErrorCode::OrderRejected)), (2, 1));
    assert_eq!((st.errors_from(StageId::Ingress), st.errors_from(StageId::Gateway)), (2, 1));
    assert_eq!((st.recoverable_errors, st.unrecoverable_errors), (3, 1));
    assert_eq!(s.health(), HealthState::Unhealthy, "an unrecoverable error in the window");
    assert_eq!(s.next_wakeup_ns(), Some(100 * MS), "first bucket boundary");
    let mut ctx = RecordingCtx::new(1002 * MS);
    assert_eq!(s.poll(&mut ctx), 0);
    assert_eq!(s.health(), HealthState::Healthy, "the window moved past it");
    assert_eq!(s.next_wakeup_ns(), None);
}

#[test]
fn error_rate_alerts_once_per_episode_and_health_recovers() {
    let (mut s, kill) = setup(&ControlConfig::default());
    let mut raised = Vec::new();
    for i in 0..20 {
        raised.extend(send(&mut s, &error(ErrorCode::JsonSyntax, StageId::Ingress), i * MS));
    }
    assert!(raised.is_empty());
    assert_eq!(s.health(), HealthState::Degraded, "20/s is above the degraded rate");
    for i in 20..300 {
        raised.extend(send(&mut s, &error(ErrorCode::JsonSyntax, StageId::Ingress), i * MS));
    }
    let a = alerts(&raised);
    assert_eq!(a.len(), 1, "once per episode");
    assert_eq!((a[0].alert_type, a[0].severity, a[0].source), (AlertType::ErrorRate, Severity::High, StageId::Control));
    assert_eq!((a[0].observed, a[0].limit), (100.0, 100.0));
    assert_eq!(a[0].header.trace_id.as_str(), "control-000001");
    assert_eq!(s.health(), HealthState::Unhealthy);
    assert_eq!(kill.state(), TradingState::Active, "control acts on its own alert only when it comes back");
    send(&mut s, &Event::RiskAlert(a[0]), 300 * MS);
    assert_eq!(kill.state(), TradingState::Reducing);
    let mut ctx = RecordingCtx::new(2000 * MS);
    s.poll(&mut ctx);
    assert_eq!(s.health(), HealthState::Healthy);
    assert!(ctx.take().is_empty());
    let mut second = Vec::new();
    for i in 0..150 {
        second.extend(send(&mut s, &error(ErrorCode::Io, StageId::Market), 3000 * MS + i * MS));
    }
    assert_eq!(alerts(&second).len(), 1, "a new episode alerts again");
    assert_eq!(alerts(&second)[0].header.trace_id.as_str(), "control-000002");
    assert_eq!(s.stats().error_rate_alerts, 2);
}

#[test]
fn unrecoverable_error_raises_one_fatal_alert_until_reset() {
    let (mut s, kill) = setup(&ControlConfig::default());
    let out = send(&mut s, &error(ErrorCode::UnknownPosition, StageId::Position), MS);
    let a = alerts(&out);
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].alert_type, a[0].severity, a[0].action),
        (AlertType::FatalError, Severity::Critical, AlertAction::EmergencyStop)
    );
    assert_eq!(a[0].observed, f64::from(ErrorCode::UnknownPosition.code()));
    assert_eq!(kill.state(), TradingState::Active, "not applied before it comes back");
    assert!(alerts(&send(&mut s, &error(ErrorCode::PositionTableFull, StageId::Position), 2 * MS)).is_empty());
    assert_eq!(commands(&send(&mut s, &Event::RiskAlert(a[0]), 3 * MS)).len(), 2);
    assert_eq!(kill.state(), TradingState::Halted);
    send(&mut s, &operator(OperatorKind::ResetKillSwitch, Severity::Low, 0), 4 * MS);
    assert_eq!(alerts(&send(&mut s, &error(ErrorCode::UnknownPosition, StageId::Position), 5 * MS)).len(), 1);
    assert_eq!(s.stats().fatal_alerts, 2);
}

#[test]
fn unrecoverable_is_only_counted_when_not_critical() {
    let (mut s, _) = setup(&ControlConfig { unrecoverable_is_critical: false, ..ControlConfig::default() });
    assert!(send(&mut s, &error(ErrorCode::UnknownPosition, StageId::Position), MS).is_empty());
    assert_eq!(s.stats().fatal_alerts, 0);
}

#[test]
fn operator_commands_become_events() {
    let (mut s, kill) = setup(&ControlConfig::default());
    let out = send(&mut s, &operator(OperatorKind::RaiseAlert, Severity::Critical, 0), 10);
    let a = alerts(&out);
    assert_eq!(
        (a.len(), a[0].alert_type, a[0].severity, a[0].observed),
        (1, AlertType::Operator, Severity::Critical, 42.0)
    );
    assert_eq!(a[0].header.trace_id.as_str(), "op-1");
    assert_eq!(kill.state(), TradingState::Active, "acts when the alert comes back");
    let out = send(&mut s, &operator(OperatorKind::SwitchProfile, Severity::Low, 1), 20);
    let Some(Event::PolicyUpdate(p)) = out.first() else { panic!("{out:?}") };
    assert_eq!((p.kind, p.profile, p.model), (PolicyKind::ActiveProfile, ProfileIdx(1), ModelIdx::NONE));
    assert!(send(&mut s, &operator(OperatorKind::SwitchProfile, Severity::Low, 9), 30).is_empty());
    assert_eq!(s.stats().rejected_operator_commands, 1);
    let out = send(&mut s, &operator(OperatorKind::FlattenAll, Severity::Low, 0), 40);
    assert_eq!(commands(&out), vec![(CommandKind::FlattenAll, ExitReason::Manual)]);
    assert_eq!(s.stats().operator_commands, 4);
}

#[test]
fn ignores_other_kinds() {
    let (mut s, _) = setup(&ControlConfig::default());
    let tick =
        Event::MarketTick(tradeflow_core::MarketTick { header: Header::default(), price: tradeflow_core::Price(1) });
    assert!(send(&mut s, &tick, 0).is_empty());
    assert_eq!(s.stats().ignored_events, 1);
    assert_eq!(s.id(), StageId::Control);
}

#[test]
fn config_from_toml_and_errors() {
    let cfg: ControlConfig = toml::from_str("flatten_on_halt = false\nerror_window_ms = 500").unwrap_or_default();
    assert!(!cfg.flatten_on_halt);
    assert_eq!(cfg.error_window_ms, 500);
    assert_eq!(cfg.error_rate_alert_per_sec, 100.0);
    assert!(toml::from_str::<ControlConfig>("bogus = 1").is_err());
    let bad = ControlConfig { error_window_ms: 0, error_rate_alert_per_sec: -1.0, ..ControlConfig::default() };
    let catalog = Arc::new(Catalog::default());
    let Err(ControlError::Config(errs)) = ControlStage::try_new(&bad, catalog, Arc::new(KillSwitch::new())) else {
        panic!("expected a config error")
    };
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs.iter().all(|e| e.starts_with("control.")));
}
