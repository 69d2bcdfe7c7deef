//! Model supervisor: rolling per-model win rate and mean pnl_pct over the last `window` trades
//! (one fixed ring per model, allocated at startup). A full window below the thresholds asks for
//! retraining once, and again only after the model recovered.

use crate::config::SupervisorConfig;

/// Which metric breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Win rate below `min_win_rate`.
    WinRate,
    /// Mean pnl_pct below `min_mean_pnl_pct`.
    MeanPnlPct,
}

/// A model's window degraded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Degradation {
    /// What breached.
    pub metric: Metric,
    /// The observed value.
    pub observed: f64,
    /// The threshold.
    pub limit: f64,
}

/// What the supervisor concluded from one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Verdict {
    /// Ask for retraining (first degraded window since the last recovery).
    pub degraded: Option<Degradation>,
    /// Allow (`true`) or disallow (`false`) the model.
    pub allowed: Option<bool>,
}

/// Ring bookkeeping of one model.
#[derive(Debug, Clone, Copy, Default)]
struct Track {
    head: usize,
    len: usize,
    wins: u32,
    alerted: bool,
    disabled: bool,
}

/// The supervisor for every model of the catalog.
#[derive(Debug)]
pub struct ModelSupervisor {
    window: usize,
    min_win_rate: f64,
    min_mean: f64,
    disable_below: Option<f64>,
    ring: Vec<f64>,
    tracks: Vec<Track>,
}

impl ModelSupervisor {
    /// A supervisor for `n_models` models (the config must be valid).
    pub fn new(cfg: &SupervisorConfig, n_models: usize) -> ModelSupervisor {
        let window = (cfg.window as usize).max(1);
        ModelSupervisor {
            window,
            min_win_rate: cfg.min_win_rate,
            min_mean: cfg.min_mean_pnl_pct,
            disable_below: cfg.disable_below_win_rate,
            ring: vec![0.0; window * n_models],
            tracks: vec![Track::default(); n_models],
        }
    }

    /// Adds one outcome (pnl_pct; a win is pnl_pct > 0) of `model`.
    pub fn observe(&mut self, model: usize, pnl_pct: f64) -> Verdict {
        let Some(t) = self.tracks.get_mut(model) else { return Verdict::default() };
        let ring = &mut self.ring[model * self.window..(model + 1) * self.window];
        if t.len == self.window {
            t.wins -= u32::from(ring[t.head] > 0.0);
        } else {
            t.len += 1;
        }
        ring[t.head] = pnl_pct;
        t.wins += u32::from(pnl_pct > 0.0);
        t.head = (t.head + 1) % self.window;
        if t.len < self.window {
            return Verdict::default();
        }
        let n = self.window as f64;
        let win_rate = f64::from(t.wins) / n;
        let mean = ring.iter().sum::<f64>() / n;
        let breach = if win_rate < self.min_win_rate {
            Some(Degradation { metric: Metric::WinRate, observed: win_rate, limit: self.min_win_rate })
        } else if mean < self.min_mean {
            Some(Degradation { metric: Metric::MeanPnlPct, observed: mean, limit: self.min_mean })
        } else {
            None
        };
        let mut v = Verdict::default();
        match breach {
            Some(d) if !t.alerted => {
                t.alerted = true;
                v.degraded = Some(d);
            }
            Some(_) => {}
            None => t.alerted = false,
        }
        if let Some(th) = self.disable_below {
            if !t.disabled && win_rate < th {
                t.disabled = true;
                v.allowed = Some(false);
            } else if t.disabled && breach.is_none() {
                t.disabled = false;
                v.allowed = Some(true);
            }
        }
        v
    }

    /// Win rate and mean pnl_pct of `model`'s current window (None until it is full).
    pub fn metrics(&self, model: usize) -> Option<(f64, f64)> {
        let t = self.tracks.get(model)?;
        if t.len < self.window {
            return None;
        }
        let ring = &self.ring[model * self.window..(model + 1) * self.window];
        let n = self.window as f64;
        Some((f64::from(t.wins) / n, ring.iter().sum::<f64>() / n))
    }

    /// Whether `model` is in a degraded episode (alerted and not yet recovered).
    pub fn is_degraded(&self, model: usize) -> bool {
        self.tracks.get(model).is_some_and(|t| t.alerted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sup(disable: Option<f64>) -> ModelSupervisor {
        let cfg = SupervisorConfig {
            window: 4,
            min_win_rate: 0.5,
            min_mean_pnl_pct: 0.0,
            disable_below_win_rate: disable,
            ..SupervisorConfig::default()
        };
        ModelSupervisor::new(&cfg, 2)
    }

    #[test]
    fn ring_rolls_and_counts() {
        let mut s = sup(None);
        for x in [1.0, 1.0, 1.0] {
            assert_eq!(s.observe(0, x), Verdict::default());
        }
        assert_eq!(s.metrics(0), None, "window not full");
        s.observe(0, 1.0);
        assert_eq!(s.metrics(0), Some((1.0, 1.0)));
        s.observe(0, -3.0); // evicts a win
        assert_eq!(s.metrics(0), Some((0.75, 0.0)));
        assert_eq!(s.metrics(1), None);
        assert_eq!(s.observe(5, 1.0), Verdict::default());
    }

    #[test]
    fn alerts_once_until_recovered() {
        let mut s = sup(None);
        for _ in 0..3 {
            s.observe(0, 1.0);
        }
        let v = s.observe(0, -5.0);
        let d = v.degraded.map(|d| (d.metric, d.observed, d.limit));
        assert_eq!(d, Some((Metric::MeanPnlPct, -0.5, 0.0)));
        assert!(s.is_degraded(0));
        assert_eq!(s.observe(0, -1.0).degraded.map(|d| d.metric), None, "still degraded: no repeat");
        for _ in 0..4 {
            s.observe(0, 2.0);
        }
        assert!(!s.is_degraded(0), "recovered");
        let v = s.observe(0, -1.0);
        assert_eq!(v, Verdict::default(), "3 wins of 4, mean > 0");
        s.observe(0, -1.0);
        let v = s.observe(0, -1.0);
        assert_eq!(v.degraded.map(|d| d.metric), Some(Metric::WinRate), "alerts again after recovery");
    }

    #[test]
    fn disables_and_re_enables() {
        let mut s2 = sup(Some(0.3));
        let verdicts: Vec<Verdict> = (0..4).map(|_| s2.observe(0, -1.0)).collect();
        // the 4th outcome fills the window: degraded and disabled together
        assert_eq!(verdicts[3].allowed, Some(false));
        assert!(verdicts[3].degraded.is_some());
        assert_eq!(s2.observe(0, -1.0).allowed, None, "disabled once");
        let re: Vec<Option<bool>> = (0..4).map(|_| s2.observe(0, 1.0).allowed).collect();
        // two wins of four, mean 0: no longer degraded
        assert_eq!(re, vec![None, Some(true), None, None], "re-enabled on recovery");
    }
}
