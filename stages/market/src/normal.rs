//! Standard normal draws by the Box–Muller transform over a seeded Xoshiro256++.

use rand_core::RngCore;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Yields N(0, 1) variates; each transform gives two, the second is kept for the next call.
#[derive(Debug, Clone)]
pub struct StandardNormal {
    spare: Option<f64>,
}

impl StandardNormal {
    /// A fresh generator state.
    pub fn new() -> StandardNormal {
        StandardNormal { spare: None }
    }

    /// The next variate.
    #[inline]
    pub fn sample(&mut self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // u1 in (0, 1] so ln(u1) is finite; u2 in [0, 1).
        let u1 = ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let r = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * sin);
        r * cos
    }
}

impl Default for StandardNormal {
    fn default() -> Self {
        StandardNormal::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn moments_are_standard() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut n = StandardNormal::new();
        let k = 200_000;
        let (mut s1, mut s2, mut tail) = (0.0, 0.0, 0);
        for _ in 0..k {
            let z = n.sample(&mut rng);
            assert!(z.is_finite());
            s1 += z;
            s2 += z * z;
            if z.abs() > 1.96 {
                tail += 1;
            }
        }
        let mean = s1 / k as f64;
        let var = s2 / k as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        let p = tail as f64 / k as f64;
        assert!((p - 0.05).abs() < 0.005, "two-sided 5% tail {p}");
    }
}
