//! The PolicyStore: named risk profiles, the active one, and what the learners say per model
//! (sizing / leverage multipliers, weight, allowed). Changed only by `PolicyUpdate` events.
//!
//! Per-model policy is sized to the catalog's model capacity. A model registered by ingress at
//! run time gets its policy on first sight: neutral multipliers, its configured weight if
//! `model_weights` names it, and `allowed` from the opt-in allow-list (empty = any model).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{GuardConfig, RiskConfig, RiskProfileConfig};
use crate::sizing::Multipliers;
use tradeflow_core::{Catalog, ModelIdx, PolicyKind, PolicyUpdate, ProfileIdx};

/// Highest multiplier or weight a policy update may set (learners propose; the cap and the
/// guard's hard limits still apply on top).
pub const MAX_POLICY_VALUE: f64 = 1000.0;

/// The policy for one model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ModelPolicy {
    /// Sizing and leverage multipliers and the model's weight.
    pub(crate) mult: Multipliers,
    /// Whether the model may trade.
    pub(crate) allowed: bool,
}

/// Profiles (in `ProfileIdx` order) and per-model policy (in `ModelIdx` order).
#[derive(Debug)]
pub(crate) struct PolicyStore {
    profiles: Vec<RiskProfileConfig>,
    active: ProfileIdx,
    /// One slot per possible model; `None` until the model is first seen.
    models: Vec<Option<ModelPolicy>>,
    allowed_models: Vec<String>,
    model_weights: BTreeMap<String, f64>,
    catalog: Arc<Catalog>,
}

impl PolicyStore {
    /// From a validated config and its catalog.
    pub(crate) fn new(cfg: &RiskConfig, catalog: Arc<Catalog>) -> PolicyStore {
        let profiles: Vec<RiskProfileConfig> = cfg.profiles.values().copied().collect();
        let active = cfg.profiles.keys().position(|n| *n == cfg.active_profile).unwrap_or(0);
        let GuardConfig { allowed_models, model_weights, .. } = cfg.guard.clone();
        let mut store = PolicyStore {
            profiles,
            active: ProfileIdx(active as u8),
            models: vec![None; catalog.model_capacity()],
            allowed_models,
            model_weights,
            catalog,
        };
        for i in 0..store.catalog.model_count() {
            store.resolve(ModelIdx(i as u16));
        }
        store
    }

    /// Fills the slot of a registered model from config (no allocation); false for an index
    /// outside the registry.
    fn resolve(&mut self, model: ModelIdx) -> bool {
        let name = self.catalog.model(model);
        let Some(slot) = self.models.get_mut(model.get()).filter(|_| !name.is_empty()) else {
            return false;
        };
        let weight = self.model_weights.get(name).copied().unwrap_or(1.0);
        let allowed = self.allowed_models.is_empty() || self.allowed_models.iter().any(|m| m == name);
        *slot = Some(ModelPolicy { mult: Multipliers { weight, ..Multipliers::ONE }, allowed });
        true
    }

    /// The active profile and its index.
    #[inline]
    pub(crate) fn active(&self) -> (ProfileIdx, RiskProfileConfig) {
        let p = self.profiles.get(self.active.get()).copied().unwrap_or_default();
        (self.active, p)
    }

    /// The policy for `model` (set up on first sight), or `None` for an index outside the
    /// registry.
    #[inline]
    pub(crate) fn model(&mut self, model: ModelIdx) -> Option<ModelPolicy> {
        if let Some(p) = self.models.get(model.get()).copied().flatten() {
            return Some(p);
        }
        if self.resolve(model) {
            self.models.get(model.get()).copied().flatten()
        } else {
            None
        }
    }

    /// Applies an update; false (and no change) when it names an unknown model or profile or
    /// carries a value out of range. `ModelIdx::NONE` applies a model update to every model.
    pub(crate) fn apply(&mut self, u: &PolicyUpdate) -> bool {
        let v = u.value;
        match u.kind {
            PolicyKind::ActiveProfile => {
                let ok = u.profile.get() < self.profiles.len();
                if ok {
                    self.active = u.profile;
                }
                ok
            }
            PolicyKind::ModelAllowed if v == 0.0 || v == 1.0 => self.each_model(u.model, |m| m.allowed = v == 1.0),
            PolicyKind::ModelAllowed => false,
            _ if !(v.is_finite() && (0.0..=MAX_POLICY_VALUE).contains(&v)) => false,
            PolicyKind::SizingMultiplier => self.each_model(u.model, |m| m.mult.sizing = v),
            PolicyKind::LeverageMultiplier => self.each_model(u.model, |m| m.mult.leverage = v),
            PolicyKind::ModelWeight => self.each_model(u.model, |m| m.mult.weight = v),
        }
    }

    /// Applies `f` to `model`'s policy (every model seen so far for `ModelIdx::NONE`).
    fn each_model(&mut self, model: ModelIdx, f: impl Fn(&mut ModelPolicy)) -> bool {
        if model == ModelIdx::NONE {
            self.models.iter_mut().flatten().for_each(f);
            return true;
        }
        if self.model(model).is_none() {
            return false;
        }
        match self.models.get_mut(model.get()) {
            Some(Some(m)) => {
                f(m);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeflow_core::{Header, InstrumentSpec};

    fn store(cfg: &RiskConfig) -> PolicyStore {
        let cat = Catalog::try_new(
            Vec::<InstrumentSpec>::new(),
            vec!["m0".into(), "m1".into()],
            crate::config::profile_names(cfg),
        )
        .unwrap();
        PolicyStore::new(cfg, Arc::new(cat))
    }

    fn update(kind: PolicyKind, model: u16, value: f64, profile: u8) -> PolicyUpdate {
        PolicyUpdate { header: Header::default(), value, model: ModelIdx(model), kind, profile: ProfileIdx(profile) }
    }

    #[test]
    fn starts_from_config() {
        let mut cfg = RiskConfig::default();
        cfg.guard.allowed_models = vec!["m1".into()];
        cfg.guard.model_weights.insert("m1".into(), 0.5);
        let mut s = store(&cfg);
        assert_eq!(s.active().0, ProfileIdx(1)); // AGGRESSIVE, NORMAL, SAFE
        assert!(!s.model(ModelIdx(0)).unwrap().allowed);
        assert_eq!(s.model(ModelIdx(1)).unwrap().mult.weight, 0.5);
        assert_eq!(s.model(ModelIdx(2)), None);
    }

    #[test]
    fn a_model_registered_at_run_time_starts_neutral_and_follows_the_allow_list() {
        let mut cfg = RiskConfig::default();
        cfg.guard.model_weights.insert("late_w".into(), 0.25);
        let cat = Catalog::try_new(Vec::<InstrumentSpec>::new(), vec!["m0".into()], crate::config::profile_names(&cfg))
            .unwrap()
            .with_model_capacity(4)
            .unwrap();
        let cat = Arc::new(cat);
        let mut s = PolicyStore::new(&cfg, cat.clone());
        assert_eq!(s.model(ModelIdx(1)), None, "not registered yet");
        let late = cat.register_model(b"test_v1").unwrap();
        assert_eq!(s.model(late), Some(ModelPolicy { mult: Multipliers::ONE, allowed: true }));
        let weighted = cat.register_model(b"late_w").unwrap();
        assert_eq!(s.model(weighted).unwrap().mult.weight, 0.25, "a configured weight applies on first sight");
        cfg.guard.allowed_models = vec!["m0".into()];
        let mut s = PolicyStore::new(&cfg, cat);
        assert!(!s.model(late).unwrap().allowed, "an allow-list not naming it keeps it out");
        assert!(s.model(ModelIdx(0)).unwrap().allowed);
    }

    #[test]
    fn rejects_bad_updates_without_change() {
        let mut s = store(&RiskConfig::default());
        let before = s.model(ModelIdx(0));
        assert!(!s.apply(&update(PolicyKind::SizingMultiplier, 0, f64::NAN, 0)));
        assert!(!s.apply(&update(PolicyKind::SizingMultiplier, 0, -0.5, 0)));
        assert!(!s.apply(&update(PolicyKind::ModelWeight, 9, 0.5, 0)));
        assert!(!s.apply(&update(PolicyKind::ModelAllowed, 0, 0.5, 0)));
        assert!(!s.apply(&update(PolicyKind::ActiveProfile, 0, 0.0, 3)));
        assert_eq!(s.model(ModelIdx(0)), before);
        assert_eq!(s.active().0, ProfileIdx(1));
    }

    #[test]
    fn none_model_updates_every_model() {
        let mut s = store(&RiskConfig::default());
        assert!(s.apply(&update(PolicyKind::LeverageMultiplier, u16::MAX, 0.5, 0)));
        assert_eq!(s.model(ModelIdx(0)).unwrap().mult.leverage, 0.5);
        assert_eq!(s.model(ModelIdx(1)).unwrap().mult.leverage, 0.5);
    }
}
