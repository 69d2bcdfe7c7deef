//! Small helpers over the seeded Xoshiro generator (uniform draws, UUID v4 trace ids).

use rand_core::RngCore;
use rand_xoshiro::Xoshiro256PlusPlus;
use tradeflow_core::TraceId;

/// A uniform float in `[0, 1)` (53 random bits).
#[inline]
pub fn unit_f64(rng: &mut Xoshiro256PlusPlus) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform index in `0..n` (`n > 0`; multiply-shift, bias below 2^-64 · n).
#[inline]
pub fn index(rng: &mut Xoshiro256PlusPlus, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A UUID v4 trace id from 16 random bytes.
#[inline]
pub fn uuid_v4(rng: &mut Xoshiro256PlusPlus) -> TraceId {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    TraceId::uuid_v4(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..10_000 {
            let u = unit_f64(&mut rng);
            assert!((0.0..1.0).contains(&u));
            assert!(index(&mut rng, 3) < 3);
        }
        assert_ne!(uuid_v4(&mut rng), uuid_v4(&mut rng));
    }
}
