//! Derivation of the seeded random streams.
//!
//! Each stream is derived from the seed and a purpose instead of sharing one
//! generator, so that requests served in between (logins, reports...) can
//! never shift what `advance-day` does: day N's changes depend only on the
//! seed, N and the orders as they stand.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// ChaCha rather than `StdRng`: its output is stable across rand releases,
/// so a seed keeps meaning the same data.
pub type SimRng = ChaCha8Rng;

/// The stream that builds the starting orders.
pub fn initial_rng(seed: u64) -> SimRng {
    SimRng::seed_from_u64(mix(seed, 0))
}

/// The stream for the `day_index`-th call of `advance-day` (1-based).
pub fn day_rng(seed: u64, day_index: u64) -> SimRng {
    SimRng::seed_from_u64(mix(seed, day_index))
}

/// splitmix64 finaliser: nearby seeds and indices give unrelated streams.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_repeat_for_a_seed_and_differ_between_days() {
        let a: u64 = day_rng(7, 1).gen();
        assert_eq!(a, day_rng(7, 1).gen::<u64>());
        assert_ne!(a, day_rng(7, 2).gen::<u64>());
        assert_ne!(a, day_rng(8, 1).gen::<u64>());
    }
}
