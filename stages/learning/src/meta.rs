//! RL meta-strategy agent: which models work in which market conditions.
//!
//! For each (model, market condition) a discounted Beta posterior of the win probability. A
//! model's weight in the condition of its latest outcome is its posterior mean relative to the
//! best model in that condition, `clamp(p / p_best, min_weight, cap)`; the cap is 1 unless the
//! continuous-learning manager demoted the model. Weights are sent when they move by more than a
//! deadband.

use crate::config::MetaConfig;
use tradeflow_core::MarketCondition;

const CONDITIONS: usize = MarketCondition::ALL.len();

/// One Beta posterior (parameters include the prior).
#[derive(Debug, Clone, Copy)]
struct BetaCell {
    wins: f64,
    losses: f64,
    trades: u32,
}

impl BetaCell {
    fn mean(&self) -> f64 {
        self.wins / (self.wins + self.losses)
    }
}

/// The meta-strategy agent for every model of the catalog.
#[derive(Debug)]
pub struct MetaAgent {
    prior_wins: f64,
    prior_losses: f64,
    forgetting: f64,
    min_weight: f64,
    deadband: f64,
    min_trades: u32,
    cells: Vec<BetaCell>,
    sent: Vec<f64>,
    cap: Vec<f64>,
}

impl MetaAgent {
    /// An agent for `n_models` models (the config must be valid).
    pub fn new(cfg: &MetaConfig, n_models: usize) -> MetaAgent {
        let prior = BetaCell { wins: cfg.prior_wins, losses: cfg.prior_losses, trades: 0 };
        MetaAgent {
            prior_wins: cfg.prior_wins,
            prior_losses: cfg.prior_losses,
            forgetting: cfg.forgetting,
            min_weight: cfg.min_weight,
            deadband: cfg.deadband,
            min_trades: cfg.min_trades,
            cells: vec![prior; n_models * CONDITIONS],
            sent: vec![1.0; n_models],
            cap: vec![1.0; n_models],
        }
    }

    /// Learns from one outcome; returns `model`'s new weight when it moved past the deadband.
    pub fn observe(&mut self, model: usize, cond: MarketCondition, win: bool) -> Option<f64> {
        let c = cond as usize;
        let cell = self.cells.get_mut(model * CONDITIONS + c)?;
        let f = self.forgetting;
        cell.wins = self.prior_wins + f * (cell.wins - self.prior_wins) + f64::from(u8::from(win));
        cell.losses = self.prior_losses + f * (cell.losses - self.prior_losses) + f64::from(u8::from(!win));
        cell.trades = cell.trades.saturating_add(1);
        if cell.trades < self.min_trades {
            return None;
        }
        let p = cell.mean();
        let best = self.best_mean(c).max(p);
        let w = (p / best).max(self.min_weight).min(self.cap[model]);
        if (w - self.sent[model]).abs() > self.deadband {
            self.sent[model] = w;
            return Some(w);
        }
        None
    }

    /// The highest posterior mean among models with enough trades in condition `c`.
    fn best_mean(&self, c: usize) -> f64 {
        self.cells
            .iter()
            .skip(c)
            .step_by(CONDITIONS)
            .filter(|cell| cell.trades >= self.min_trades)
            .fold(0.0, |best, cell| best.max(cell.mean()))
    }

    /// Records a weight decided elsewhere (CLM) and caps what this agent proposes from now on.
    pub fn override_weight(&mut self, model: usize, weight: f64, cap: f64) {
        if let (Some(s), Some(c)) = (self.sent.get_mut(model), self.cap.get_mut(model)) {
            *s = weight;
            *c = cap;
        }
    }

    /// The weight last proposed for `model` (1.0 before any proposal).
    pub fn weight(&self, model: usize) -> Option<f64> {
        self.sent.get(model).copied()
    }

    /// Posterior mean win probability of `model` in `cond`.
    pub fn win_probability(&self, model: usize, cond: MarketCondition) -> Option<f64> {
        self.cells.get(model * CONDITIONS + cond as usize).map(BetaCell::mean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MetaConfig {
        MetaConfig { forgetting: 1.0, min_trades: 2, ..MetaConfig::default() }
    }

    #[test]
    fn posterior_mean_counts_wins() {
        let mut m = MetaAgent::new(&cfg(), 1);
        for win in [true, true, true, false] {
            m.observe(0, MarketCondition::Bullish, win);
        }
        // Beta(1+3, 1+1)
        assert!((m.win_probability(0, MarketCondition::Bullish).unwrap_or(0.0) - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.win_probability(0, MarketCondition::Bearish), Some(0.5));
        assert_eq!(m.weight(0), Some(1.0), "the only model is the best");
    }

    #[test]
    fn forgetting_pulls_back_to_prior() {
        let mut m = MetaAgent::new(&MetaConfig { forgetting: 0.5, ..cfg() }, 1);
        for _ in 0..50 {
            m.observe(0, MarketCondition::Sideways, true);
        }
        // wins → 1 + 1/(1 − 0.5) = 3 at most, losses stay at the prior
        let p = m.win_probability(0, MarketCondition::Sideways).unwrap_or(0.0);
        assert!((p - 0.75).abs() < 1e-9, "{p}");
    }

    #[test]
    fn weight_is_relative_floored_and_capped() {
        let mut m = MetaAgent::new(&MetaConfig { min_weight: 0.3, deadband: 0.0, ..cfg() }, 2);
        for _ in 0..20 {
            m.observe(0, MarketCondition::Bullish, true);
        }
        for _ in 0..20 {
            m.observe(1, MarketCondition::Bullish, false);
        }
        assert_eq!(m.weight(1), Some(0.3), "floored at min_weight");
        m.override_weight(0, 0.1, 0.1);
        assert_eq!(m.observe(0, MarketCondition::Bullish, true), None);
        assert_eq!(m.weight(0), Some(0.1), "capped after demotion");
        assert_eq!(m.observe(9, MarketCondition::Bullish, true), None);
    }
}
