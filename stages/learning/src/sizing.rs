//! RL position-sizing agent: a full-information bandit over sizing multipliers, per model.
//!
//! A price taker's `pnl_pct` does not depend on its size, so one outcome `r` reveals the reward
//! of every arm `a`: `reward(a) = a·r − λ·a²·σ²`, with `σ²` an EWMA variance of `r`. Every arm's
//! value is updated, `Q[a] += α (reward(a) − Q[a])`, and the agent acts greedily. The optimum of
//! the expected reward is `a* = μ / (2λσ²)`: losing models shrink to the smallest arm, steady
//! winners grow to the largest.

use crate::config::{SizingConfig, MAX_ARMS};

/// Per-model learner state (fixed size).
#[derive(Debug, Clone, Copy)]
struct ModelSizing {
    q: [f64; MAX_ARMS],
    mean: f64,
    var: f64,
    trades: u32,
    sent: f64,
}

/// The sizing agent for every model of the catalog.
#[derive(Debug)]
pub struct SizingAgent {
    arms: [f64; MAX_ARMS],
    n_arms: usize,
    alpha: f64,
    lambda: f64,
    decay: f64,
    warmup: u32,
    lo: f64,
    hi: f64,
    models: Vec<ModelSizing>,
}

impl SizingAgent {
    /// An agent for `n_models` models (the config must be valid).
    pub fn new(cfg: &SizingConfig, n_models: usize) -> SizingAgent {
        let mut arms = [0.0; MAX_ARMS];
        let n_arms = cfg.arms.len().min(MAX_ARMS);
        arms[..n_arms].copy_from_slice(&cfg.arms[..n_arms]);
        let init = ModelSizing { q: [0.0; MAX_ARMS], mean: 0.0, var: cfg.initial_variance, trades: 0, sent: 1.0 };
        SizingAgent {
            arms,
            n_arms,
            alpha: cfg.learning_rate,
            lambda: cfg.risk_aversion,
            decay: cfg.variance_decay,
            warmup: cfg.warmup_trades,
            lo: cfg.min_multiplier,
            hi: cfg.max_multiplier,
            models: vec![init; n_models],
        }
    }

    /// Learns from one outcome `r` (pnl_pct) of `model`; returns a new multiplier to send when
    /// the greedy choice (clamped to the hard bounds) changed.
    pub fn observe(&mut self, model: usize, r: f64) -> Option<f64> {
        let m = self.models.get_mut(model)?;
        if m.trades == 0 {
            m.mean = r;
        } else {
            let diff = r - m.mean;
            let incr = self.decay * diff;
            m.mean += incr;
            m.var = (1.0 - self.decay) * (m.var + diff * incr);
        }
        m.trades = m.trades.saturating_add(1);
        for (q, &a) in m.q.iter_mut().zip(&self.arms[..self.n_arms]) {
            let reward = a * r - self.lambda * a * a * m.var;
            *q += self.alpha * (reward - *q);
        }
        if m.trades < self.warmup {
            return None;
        }
        let best = argmax(&m.q[..self.n_arms]);
        let value = self.arms[best].clamp(self.lo, self.hi);
        if (value - m.sent).abs() > 1e-12 {
            m.sent = value;
            return Some(value);
        }
        None
    }

    /// The multiplier last proposed for `model` (1.0 before any proposal).
    pub fn multiplier(&self, model: usize) -> Option<f64> {
        self.models.get(model).map(|m| m.sent)
    }

    /// The learned value of each arm for `model`.
    pub fn values(&self, model: usize) -> Option<&[f64]> {
        self.models.get(model).map(|m| &m.q[..self.n_arms])
    }
}

/// Index of the largest value (the first on ties).
fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn agent(cfg: SizingConfig) -> SizingAgent {
        SizingAgent::new(&cfg, 2)
    }

    #[test]
    fn warmup_then_proposes() {
        let mut a = agent(SizingConfig { warmup_trades: 3, ..SizingConfig::default() });
        assert_eq!(a.observe(0, -1.0), None);
        assert_eq!(a.observe(0, -1.0), None);
        assert_eq!(a.observe(0, -1.0), Some(0.25));
        assert_eq!(a.observe(0, -1.0), None, "unchanged choice is not re-sent");
        assert_eq!(a.multiplier(0), Some(0.25));
        assert_eq!(a.multiplier(1), Some(1.0));
        assert_eq!(a.observe(7, 1.0), None, "unknown model ignored");
    }

    #[test]
    fn clamps_to_hard_bounds() {
        let mut a = agent(SizingConfig { warmup_trades: 1, max_multiplier: 1.1, ..SizingConfig::default() });
        let mut last = None;
        for _ in 0..100 {
            last = a.observe(0, 0.5).or(last);
        }
        assert_eq!(last, Some(1.1));
    }

    #[test]
    fn argmax_first_on_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[0.0]), 0);
    }

    proptest! {
        // With a constant outcome the values converge to the known rewards and the greedy
        // arm is the one nearest the analytic optimum.
        #[test]
        fn values_converge_to_rewards(r in -3.0f64..3.0) {
            let cfg = SizingConfig { learning_rate: 1.0, variance_decay: 1.0, warmup_trades: 1,
                ..SizingConfig::default() };
            let mut a = SizingAgent::new(&cfg, 1);
            a.observe(0, r);
            a.observe(0, r);
            let var = a.models[0].var;
            prop_assert!(var.abs() < 1e-12);
            for (q, arm) in a.values(0).unwrap_or(&[]).iter().zip(&cfg.arms) {
                prop_assert!((q - arm * r).abs() < 1e-9);
            }
        }
    }
}
