//! [`LearningStage`]: feeds every `position.closed` to the five learners and turns their
//! proposals into events.

use crate::clm::{ClmManager, Promotion};
use crate::config::LearningConfig;
use crate::drift::{DriftDetector, DriftReport};
use crate::meta::MetaAgent;
use crate::sizing::SizingAgent;
use crate::supervisor::{Degradation, ModelSupervisor};
use std::sync::Arc;
use tradeflow_core::{
    AlertAction, AlertType, Catalog, Ctx, Event, Header, ModelDriftDetected, ModelIdx, ModelPromoted, PolicyKind,
    PolicyUpdate, PositionClosed, ProfileIdx, RiskAlert, Severity, Stage, StageId,
};

/// Why the learning stage cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LearningError {
    /// The configuration has problems (every one listed).
    #[error("invalid learning configuration: {}", .0.join("; "))]
    Config(Vec<String>),
}

/// Counters of the learning stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LearningStats {
    /// `position.closed` events learned from.
    pub outcomes: u64,
    /// Events of other kinds (ignored).
    pub ignored_events: u64,
    /// Outcomes naming a model outside the catalog's model capacity (ignored).
    pub unknown_model: u64,
    /// Outcomes with a non-finite pnl_pct or confidence (ignored).
    pub invalid_outcomes: u64,
    /// `SizingMultiplier` updates sent.
    pub sizing_updates: u64,
    /// `ModelWeight` updates sent by the meta-strategy agent.
    pub weight_updates: u64,
    /// `ModelDegraded` alerts raised.
    pub degraded_alerts: u64,
    /// `ModelAllowed` updates sent by the supervisor.
    pub allowed_updates: u64,
    /// `model.drift_detected` events.
    pub drift_detections: u64,
    /// `model.promoted` events.
    pub promotions: u64,
}

/// The learning stage: RL sizing, RL meta-strategy, supervisor, drift detector, CLM.
#[derive(Debug)]
pub struct LearningStage {
    n_models: usize,
    sizing: Option<SizingAgent>,
    meta: Option<MetaAgent>,
    supervisor: Option<ModelSupervisor>,
    drift: Option<DriftDetector>,
    clm: Option<ClmManager>,
    shadow_weight: f64,
    max_emits: usize,
    stats: LearningStats,
}

/// A [`PolicyUpdate`] event.
fn policy(header: Header, model: usize, kind: PolicyKind, value: f64) -> Event {
    Event::PolicyUpdate(PolicyUpdate { header, value, model: ModelIdx(model as u16), kind, profile: ProfileIdx(0) })
}

impl LearningStage {
    /// Validates `cfg` against the catalog and sizes every per-model table to the catalog's
    /// model capacity, so a model that ingress registers at run time has its slot, starting at
    /// neutral values (multiplier 1, weight 1, the priors, an empty window).
    pub fn try_new(cfg: &LearningConfig, catalog: Arc<Catalog>) -> Result<LearningStage, LearningError> {
        let mut errors = cfg.validate("learning");
        errors.extend(cfg.validate_against(&catalog));
        if !errors.is_empty() {
            return Err(LearningError::Config(errors));
        }
        let n = catalog.model_capacity();
        let pairs: Vec<(usize, usize)> = cfg
            .clm
            .challengers
            .iter()
            .filter_map(|p| {
                let c = catalog.find_model(p.challenger.as_bytes())?;
                let i = catalog.find_model(p.incumbent.as_bytes())?;
                Some((c.get(), i.get()))
            })
            .collect();
        let clm = cfg.clm.enabled.then(|| ClmManager::new(&cfg.clm, n, &pairs));
        let max_emits = 5 + 4 * clm.as_ref().map_or(0, ClmManager::max_pairs_per_model);
        Ok(LearningStage {
            n_models: n,
            sizing: cfg.sizing.enabled.then(|| SizingAgent::new(&cfg.sizing, n)),
            meta: cfg.meta.enabled.then(|| MetaAgent::new(&cfg.meta, n)),
            supervisor: cfg.supervisor.enabled.then(|| ModelSupervisor::new(&cfg.supervisor, n)),
            drift: cfg.drift.enabled.then(|| DriftDetector::new(&cfg.drift, n)),
            clm,
            shadow_weight: cfg.clm.shadow_weight,
            max_emits,
            stats: LearningStats::default(),
        })
    }

    /// The counters.
    pub fn stats(&self) -> &LearningStats {
        &self.stats
    }

    /// The sizing multiplier last proposed for `model` (1.0 before any; None if sizing is off).
    pub fn sizing_multiplier(&self, model: ModelIdx) -> Option<f64> {
        self.sizing.as_ref()?.multiplier(model.get())
    }

    /// The weight last proposed for `model` (1.0 before any; None if the meta agent is off).
    pub fn model_weight(&self, model: ModelIdx) -> Option<f64> {
        self.meta.as_ref()?.weight(model.get())
    }

    /// Win rate and mean pnl_pct of `model`'s full supervisor window.
    pub fn supervisor_metrics(&self, model: ModelIdx) -> Option<(f64, f64)> {
        self.supervisor.as_ref()?.metrics(model.get())
    }

    /// Whether the supervisor considers `model` degraded.
    pub fn is_degraded(&self, model: ModelIdx) -> bool {
        self.supervisor.as_ref().is_some_and(|s| s.is_degraded(model.get()))
    }

    /// Observations the drift test of `model` has seen since it last started.
    pub fn drift_samples(&self, model: ModelIdx) -> Option<u32> {
        self.drift.as_ref()?.samples(model.get())
    }

    /// Whether CLM pair `index` (config order) has promoted its challenger.
    pub fn is_promoted(&self, index: usize) -> bool {
        self.clm.as_ref().is_some_and(|c| c.is_promoted(index))
    }

    fn on_closed<C: Ctx>(&mut self, pc: &PositionClosed, ctx: &mut C) {
        let model = pc.model.get();
        if model >= self.n_models {
            self.stats.unknown_model += 1;
            return;
        }
        let (r, conf) = (f64::from(pc.pnl_pct), f64::from(pc.entry_confidence));
        if !r.is_finite() || !conf.is_finite() {
            self.stats.invalid_outcomes += 1;
            return;
        }
        self.stats.outcomes += 1;
        let h = Header::derived(&pc.header);
        let win = r > 0.0;
        if let Some(v) = self.sizing.as_mut().and_then(|s| s.observe(model, r)) {
            self.stats.sizing_updates += 1;
            ctx.emit(policy(h, model, PolicyKind::SizingMultiplier, v));
        }
        if let Some(w) = self.meta.as_mut().and_then(|m| m.observe(model, pc.market_condition, win)) {
            self.stats.weight_updates += 1;
            ctx.emit(policy(h, model, PolicyKind::ModelWeight, w));
        }
        self.supervise(h, model, r, ctx);
        if let Some(rep) = self.drift.as_mut().and_then(|d| d.observe(model, win, conf)) {
            self.stats.drift_detections += 1;
            ctx.emit(drift_event(h, model, &rep));
        }
        self.run_clm(h, model, r, ctx);
    }

    fn supervise<C: Ctx>(&mut self, h: Header, model: usize, r: f64, ctx: &mut C) {
        let Some(sup) = self.supervisor.as_mut() else { return };
        let verdict = sup.observe(model, r);
        if let Some(d) = verdict.degraded {
            self.stats.degraded_alerts += 1;
            ctx.emit(degraded_alert(h, model, &d));
        }
        if let Some(allowed) = verdict.allowed {
            self.stats.allowed_updates += 1;
            ctx.emit(policy(h, model, PolicyKind::ModelAllowed, f64::from(u8::from(allowed))));
        }
    }

    fn run_clm<C: Ctx>(&mut self, h: Header, model: usize, r: f64, ctx: &mut C) {
        let Some(clm) = self.clm.as_mut() else { return };
        let (meta, stats, shadow) = (&mut self.meta, &mut self.stats, self.shadow_weight);
        clm.observe(model, r, |p: Promotion| {
            stats.promotions += 1;
            ctx.emit(promoted_event(h, &p));
            ctx.emit(policy(h, p.challenger, PolicyKind::ModelWeight, 1.0));
            ctx.emit(policy(h, p.challenger, PolicyKind::ModelAllowed, 1.0));
            ctx.emit(policy(h, p.incumbent, PolicyKind::ModelWeight, shadow));
            if let Some(m) = meta.as_mut() {
                m.override_weight(p.challenger, 1.0, 1.0);
                m.override_weight(p.incumbent, shadow, shadow);
            }
        });
    }
}

fn degraded_alert(header: Header, model: usize, d: &Degradation) -> Event {
    Event::RiskAlert(RiskAlert {
        header,
        observed: d.observed,
        limit: d.limit,
        current_drawdown_pct: 0.0,
        open_positions: 0,
        max_positions: 0,
        model: ModelIdx(model as u16),
        severity: Severity::Medium,
        alert_type: AlertType::ModelDegraded,
        action: AlertAction::RetrainRequested,
        profile: ProfileIdx::NONE,
        source: StageId::Learning,
    })
}

fn drift_event(header: Header, model: usize, r: &DriftReport) -> Event {
    Event::ModelDriftDetected(ModelDriftDetected {
        header,
        statistic: r.statistic,
        threshold: r.threshold,
        mean_before: r.mean_before as f32,
        mean_recent: r.mean_recent as f32,
        samples: r.samples,
        model: ModelIdx(model as u16),
    })
}

fn promoted_event(header: Header, p: &Promotion) -> Event {
    Event::ModelPromoted(ModelPromoted {
        header,
        statistic: p.statistic,
        challenger_mean_pnl_pct: p.challenger_mean as f32,
        incumbent_mean_pnl_pct: p.incumbent_mean as f32,
        challenger_trades: p.challenger_trades,
        incumbent_trades: p.incumbent_trades,
        promoted: ModelIdx(p.challenger as u16),
        replaced: ModelIdx(p.incumbent as u16),
    })
}

impl Stage for LearningStage {
    fn id(&self) -> StageId {
        StageId::Learning
    }

    fn on_event<C: Ctx>(&mut self, ev: &Event, ctx: &mut C) {
        match ev {
            Event::PositionClosed(pc) => self.on_closed(pc, ctx),
            _ => self.stats.ignored_events += 1,
        }
    }

    fn max_emits_per_call(&self) -> usize {
        self.max_emits
    }
}
