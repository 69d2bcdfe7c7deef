//! The PolicyStore: named risk profiles, the active one, and what the learners say per model
//! (sizing / leverage multipliers, weight, allowed). Changed only by `PolicyUpdate` events.

use crate::config::{RiskConfig, RiskProfileConfig};
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
    models: Vec<ModelPolicy>,
}

impl PolicyStore {
    /// From a validated config and its catalog.
    pub(crate) fn new(cfg: &RiskConfig, catalog: &Catalog) -> PolicyStore {
        let profiles: Vec<RiskProfileConfig> = cfg.profiles.values().copied().collect();
        let active = cfg.profiles.keys().position(|n| *n == cfg.active_profile).unwrap_or(0);
        let g = &cfg.guard;
        let models = catalog
            .models()
            .iter()
            .map(|name| ModelPolicy {
                mult: Multipliers { weight: g.model_weights.get(name).copied().unwrap_or(1.0), ..Multipliers::ONE },
                allowed: g.allowed_models.is_empty() || g.allowed_models.contains(name),
            })
            .collect();
        PolicyStore { profiles, active: ProfileIdx(active as u8), models }
    }

    /// The active profile and its index.
    #[inline]
    pub(crate) fn active(&self) -> (ProfileIdx, RiskProfileConfig) {
        let p = self.profiles.get(self.active.get()).copied().unwrap_or_default();
        (self.active, p)
    }

    /// The policy for `model`, or `None` for an index outside the catalog.
    #[inline]
    pub(crate) fn model(&self, model: ModelIdx) -> Option<ModelPolicy> {
        self.models.get(model.get()).copied()
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

    fn each_model(&mut self, model: ModelIdx, f: impl Fn(&mut ModelPolicy)) -> bool {
        if model == ModelIdx::NONE {
            self.models.iter_mut().for_each(f);
            true
        } else if let Some(m) = self.models.get_mut(model.get()) {
            f(m);
            true
        } else {
            false
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
        PolicyStore::new(cfg, &cat)
    }

    fn update(kind: PolicyKind, model: u16, value: f64, profile: u8) -> PolicyUpdate {
        PolicyUpdate { header: Header::default(), value, model: ModelIdx(model), kind, profile: ProfileIdx(profile) }
    }

    #[test]
    fn starts_from_config() {
        let mut cfg = RiskConfig::default();
        cfg.guard.allowed_models = vec!["m1".into()];
        cfg.guard.model_weights.insert("m1".into(), 0.5);
        let s = store(&cfg);
        assert_eq!(s.active().0, ProfileIdx(1)); // AGGRESSIVE, NORMAL, SAFE
        assert!(!s.model(ModelIdx(0)).unwrap().allowed);
        assert_eq!(s.model(ModelIdx(1)).unwrap().mult.weight, 0.5);
        assert_eq!(s.model(ModelIdx(2)), None);
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
