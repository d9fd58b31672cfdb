//! A small deterministic pseudo-random generator (splitmix64), seeded by the execution.
//!
//! The interpreter has no randomness of its own: every UUID, `States.MathRandom` value and
//! retry jitter comes from this generator, whose seed arrives with `ExecutionStarted`, so a
//! replay of the same events draws the same numbers.

use serde::{Deserialize, Serialize};

/// splitmix64: tiny, fast, and good enough for jitter and test UUIDs (not for secrets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float uniformly drawn from `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An integer uniformly drawn from `[low, high]` (bounds in either order).
    pub fn range_inclusive(&mut self, low: i64, high: i64) -> i64 {
        let (lo, hi) = if low <= high {
            (low, high)
        } else {
            (high, low)
        };
        let span = (hi as i128 - lo as i128 + 1) as u128;
        let draw = (self.next_u64() as u128) % span;
        (lo as i128 + draw as i128) as i64
    }

    /// A version-4 UUID in its canonical lowercase form.
    pub fn uuid_v4(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hi.to_be_bytes());
        bytes[8..].copy_from_slice(&lo.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// A random integer seeded by `seed`: what `States.MathRandom(start, end, seed)` draws.
pub fn seeded_range(seed: i64, low: i64, high: i64) -> i64 {
    SplitMix64::new(seed as u64).range_inclusive(low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(a.uuid_v4(), b.uuid_v4());
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = SplitMix64::new(1).uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn range_stays_inside() {
        let mut r = SplitMix64::new(3);
        for _ in 0..1000 {
            let v = r.range_inclusive(-2, 5);
            assert!((-2..=5).contains(&v));
        }
    }
}
