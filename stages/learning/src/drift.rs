//! Drift detector: a two-sided Page-Hinkley test, per model, on the calibration error
//! `e = outcome (win 1 / loss 0) − entry_confidence`.
//!
//! A calibrated model has `E[e] = 0`. The test keeps the running mean `ē` and the cumulative
//! deviations `m_up += e − ē − δ` and `m_down += e − ē + δ`; it fires when `m_up` rose more than
//! λ above its minimum (the model became under-confident) or `m_down` fell more than λ below its
//! maximum (over-confident), after `min_samples` observations, then starts afresh. The point of
//! the (latest) extreme estimates the change: the means before and after it are reported.

use crate::config::DriftConfig;

/// What the detector saw when it fired.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftReport {
    /// The Page-Hinkley statistic.
    pub statistic: f64,
    /// The threshold λ.
    pub threshold: f64,
    /// Mean error before the estimated change point (0 if the change is at the start).
    pub mean_before: f64,
    /// Mean error since the estimated change point.
    pub mean_recent: f64,
    /// Observations since the detector last started.
    pub samples: u32,
}

/// One side of the test: the cumulative sum and where it was most extreme.
#[derive(Debug, Clone, Copy, Default)]
struct Cusum {
    m: f64,
    extreme: f64,
    n_at: u32,
    sum_at: f64,
}

/// A Page-Hinkley test on one stream.
#[derive(Debug, Clone, Copy)]
pub struct PageHinkley {
    delta: f64,
    lambda: f64,
    min_samples: u32,
    n: u32,
    mean: f64,
    sum: f64,
    up: Cusum,
    down: Cusum,
}

impl PageHinkley {
    /// A fresh test.
    pub fn new(cfg: &DriftConfig) -> PageHinkley {
        PageHinkley {
            delta: cfg.delta,
            lambda: cfg.lambda,
            min_samples: cfg.min_samples,
            n: 0,
            mean: 0.0,
            sum: 0.0,
            up: Cusum::default(),
            down: Cusum::default(),
        }
    }

    /// Adds one observation; reports (and resets) when the test fires.
    pub fn observe(&mut self, x: f64) -> Option<DriftReport> {
        self.n = self.n.saturating_add(1);
        self.sum += x;
        self.mean += (x - self.mean) / f64::from(self.n);
        self.up.m += x - self.mean - self.delta;
        self.down.m += x - self.mean + self.delta;
        if self.up.m <= self.up.extreme {
            self.up = Cusum { extreme: self.up.m, n_at: self.n, sum_at: self.sum, ..self.up };
        }
        if self.down.m >= self.down.extreme {
            self.down = Cusum { extreme: self.down.m, n_at: self.n, sum_at: self.sum, ..self.down };
        }
        let stat_up = self.up.m - self.up.extreme;
        let stat_down = self.down.extreme - self.down.m;
        if self.n < self.min_samples || stat_up.max(stat_down) <= self.lambda {
            return None;
        }
        let (statistic, side) = if stat_up >= stat_down { (stat_up, self.up) } else { (stat_down, self.down) };
        let report = DriftReport {
            statistic,
            threshold: self.lambda,
            mean_before: if side.n_at == 0 { 0.0 } else { side.sum_at / f64::from(side.n_at) },
            mean_recent: (self.sum - side.sum_at) / f64::from((self.n - side.n_at).max(1)),
            samples: self.n,
        };
        *self = PageHinkley::new(&DriftConfig {
            enabled: true,
            delta: self.delta,
            lambda: self.lambda,
            min_samples: self.min_samples,
        });
        Some(report)
    }

    /// Observations since the test last started.
    pub fn samples(&self) -> u32 {
        self.n
    }
}

/// One Page-Hinkley test per model.
#[derive(Debug)]
pub struct DriftDetector {
    tests: Vec<PageHinkley>,
}

impl DriftDetector {
    /// A detector for `n_models` models (the config must be valid).
    pub fn new(cfg: &DriftConfig, n_models: usize) -> DriftDetector {
        DriftDetector { tests: vec![PageHinkley::new(cfg); n_models] }
    }

    /// Adds one outcome of `model`: `win` and the entry confidence.
    pub fn observe(&mut self, model: usize, win: bool, confidence: f64) -> Option<DriftReport> {
        let e = f64::from(u8::from(win)) - confidence;
        self.tests.get_mut(model)?.observe(e)
    }

    /// Observations of `model` since its test last started.
    pub fn samples(&self, model: usize) -> Option<u32> {
        self.tests.get(model).map(PageHinkley::samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constant_stream_never_fires() {
        let mut ph = PageHinkley::new(&DriftConfig::default());
        for _ in 0..10_000 {
            assert_eq!(ph.observe(0.3), None);
        }
    }

    #[test]
    fn step_down_fires_with_change_point_means() {
        let cfg = DriftConfig { delta: 0.0, lambda: 5.0, min_samples: 1, ..DriftConfig::default() };
        let mut ph = PageHinkley::new(&cfg);
        for _ in 0..100 {
            assert_eq!(ph.observe(0.0), None);
        }
        let mut fired = None;
        for i in 0..100 {
            if let Some(r) = ph.observe(-1.0) {
                fired = Some((i, r));
                break;
            }
        }
        let (i, r) = fired.unwrap_or((usize::MAX, DriftReport::default_for_test()));
        assert!(i < 10, "fired after {i}");
        assert!(r.statistic > 5.0 && r.threshold == 5.0);
        assert!(r.mean_before.abs() < 1e-12, "{r:?}");
        assert!((r.mean_recent + 1.0).abs() < 1e-12, "{r:?}");
        assert_eq!(ph.samples(), 0, "reset after firing");
    }

    #[test]
    fn detector_routes_by_model() {
        let mut d = DriftDetector::new(&DriftConfig::default(), 2);
        d.observe(1, true, 0.6);
        assert_eq!(d.samples(0), Some(0));
        assert_eq!(d.samples(1), Some(1));
        assert_eq!(d.observe(2, true, 0.5), None);
    }

    impl DriftReport {
        fn default_for_test() -> DriftReport {
            DriftReport { statistic: 0.0, threshold: 0.0, mean_before: 0.0, mean_recent: 0.0, samples: 0 }
        }
    }

    proptest! {
        // Both statistics are non-negative and the reported statistic exceeds the threshold.
        #[test]
        fn fires_only_above_threshold(xs in proptest::collection::vec(-1.0f64..1.0, 1..400)) {
            let cfg = DriftConfig { delta: 0.01, lambda: 3.0, min_samples: 5, ..DriftConfig::default() };
            let mut ph = PageHinkley::new(&cfg);
            for x in xs {
                if let Some(r) = ph.observe(x) {
                    prop_assert!(r.statistic > r.threshold);
                    prop_assert!(r.samples >= 5);
                    prop_assert!(r.mean_before.is_finite() && r.mean_recent.is_finite());
                }
                prop_assert!(ph.up.m - ph.up.extreme >= 0.0);
                prop_assert!(ph.down.extreme - ph.down.m >= 0.0);
            }
        }
    }
}
