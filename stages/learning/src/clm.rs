//! Continuous-learning manager: shadow (challenger) vs active (incumbent) model promotion.
//!
//! Per model, the mean and variance of pnl_pct (Welford). For each configured pair, once both
//! sides have `min_trades` outcomes, Welch's t of (challenger − incumbent) above `t_threshold`
//! promotes the challenger. Each pair promotes at most once.

use crate::config::ClmConfig;

/// Running mean and variance (Welford's algorithm).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Welford {
    n: u32,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Adds one observation.
    pub fn push(&mut self, x: f64) {
        self.n = self.n.saturating_add(1);
        let d = x - self.mean;
        self.mean += d / f64::from(self.n);
        self.m2 += d * (x - self.mean);
    }

    /// Observations so far.
    pub fn count(&self) -> u32 {
        self.n
    }

    /// The mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sample variance (n − 1 denominator; 0 below two observations).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.m2 / f64::from(self.n - 1)
        }
    }
}

/// Welch's t statistic of `a − b` (None below two observations on either side).
pub fn welch_t(a: &Welford, b: &Welford) -> Option<f64> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let se2 = a.variance() / f64::from(a.n) + b.variance() / f64::from(b.n);
    Some((a.mean - b.mean) / se2.max(1e-18).sqrt())
}

/// A challenger promoted over its incumbent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Promotion {
    /// The challenger's model index.
    pub challenger: usize,
    /// The incumbent's model index.
    pub incumbent: usize,
    /// Welch's t.
    pub statistic: f64,
    /// Challenger mean pnl_pct.
    pub challenger_mean: f64,
    /// Incumbent mean pnl_pct.
    pub incumbent_mean: f64,
    /// Challenger outcomes.
    pub challenger_trades: u32,
    /// Incumbent outcomes.
    pub incumbent_trades: u32,
}

/// One configured pair (model indices).
#[derive(Debug, Clone, Copy)]
struct Pair {
    challenger: usize,
    incumbent: usize,
    promoted: bool,
}

/// The manager for every model of the catalog.
#[derive(Debug)]
pub struct ClmManager {
    min_trades: u32,
    t_threshold: f64,
    stats: Vec<Welford>,
    pairs: Vec<Pair>,
}

impl ClmManager {
    /// A manager for `n_models` models and `(challenger, incumbent)` index pairs.
    pub fn new(cfg: &ClmConfig, n_models: usize, pairs: &[(usize, usize)]) -> ClmManager {
        ClmManager {
            min_trades: cfg.min_trades,
            t_threshold: cfg.t_threshold,
            stats: vec![Welford::default(); n_models],
            pairs: pairs.iter().map(|&(c, i)| Pair { challenger: c, incumbent: i, promoted: false }).collect(),
        }
    }

    /// Adds one outcome of `model`; calls `on_promote` for each pair it decides.
    pub fn observe(&mut self, model: usize, pnl_pct: f64, mut on_promote: impl FnMut(Promotion)) {
        let Some(w) = self.stats.get_mut(model) else { return };
        w.push(pnl_pct);
        for pair in self.pairs.iter_mut().filter(|p| !p.promoted) {
            if pair.challenger != model && pair.incumbent != model {
                continue;
            }
            let (c, i) = (&self.stats[pair.challenger], &self.stats[pair.incumbent]);
            if c.n < self.min_trades || i.n < self.min_trades {
                continue;
            }
            let Some(t) = welch_t(c, i) else { continue };
            if t > self.t_threshold {
                pair.promoted = true;
                on_promote(Promotion {
                    challenger: pair.challenger,
                    incumbent: pair.incumbent,
                    statistic: t,
                    challenger_mean: c.mean,
                    incumbent_mean: i.mean,
                    challenger_trades: c.n,
                    incumbent_trades: i.n,
                });
            }
        }
    }

    /// The most pairs one model takes part in (bounds the events one outcome can cause).
    pub fn max_pairs_per_model(&self) -> usize {
        (0..self.stats.len())
            .map(|m| self.pairs.iter().filter(|p| p.challenger == m || p.incumbent == m).count())
            .max()
            .unwrap_or(0)
    }

    /// Outcome statistics of `model`.
    pub fn stats(&self, model: usize) -> Option<&Welford> {
        self.stats.get(model)
    }

    /// Whether the pair at `index` (config order) has been decided.
    pub fn is_promoted(&self, index: usize) -> bool {
        self.pairs.get(index).is_some_and(|p| p.promoted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> ClmConfig {
        ClmConfig { min_trades: 5, t_threshold: 2.0, ..ClmConfig::default() }
    }

    #[test]
    fn welch_known_value() {
        let mut a = Welford::default();
        let mut b = Welford::default();
        for x in [1.0, 2.0, 3.0, 4.0] {
            a.push(x);
        }
        for x in [0.0, 1.0, 2.0] {
            b.push(x);
        }
        // means 2.5 / 1.0, variances 5/3 / 1.0 → se² = 5/12 + 1/3 = 0.75
        let t = welch_t(&a, &b).unwrap_or(0.0);
        assert!((t - 1.5 / 0.75f64.sqrt()).abs() < 1e-12, "{t}");
        assert_eq!(welch_t(&a, &Welford::default()), None);
    }

    #[test]
    fn promotes_once_and_only_when_better() {
        let mut m = ClmManager::new(&cfg(), 3, &[(1, 0), (2, 0)]);
        assert_eq!(m.max_pairs_per_model(), 2);
        let mut got = Vec::new();
        for k in 0..40 {
            let jitter = f64::from(k % 3) * 0.1;
            m.observe(0, 0.1 + jitter, |p| got.push(p));
            m.observe(1, 1.0 + jitter, |p| got.push(p));
            m.observe(2, -1.0 + jitter, |p| got.push(p));
        }
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].challenger, got[0].incumbent), (1, 0));
        assert!(got[0].challenger_trades >= 5 && got[0].incumbent_trades >= 5);
        assert!(m.is_promoted(0) && !m.is_promoted(1));
        m.observe(9, 1.0, |p| got.push(p));
        assert_eq!(got.len(), 1);
    }

    proptest! {
        #[test]
        fn welford_matches_two_pass(xs in proptest::collection::vec(-100.0f64..100.0, 2..200)) {
            let mut w = Welford::default();
            for &x in &xs {
                w.push(x);
            }
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            prop_assert!((w.mean() - mean).abs() < 1e-9);
            prop_assert!((w.variance() - var).abs() < 1e-6 * var.max(1.0));
            prop_assert_eq!(w.count() as usize, xs.len());
        }
    }
}
