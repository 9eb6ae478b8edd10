//! Seeds and stateless, counter-based randomness.
//!
//! This module is the only place where randomness is created. Every random choice in the crate is
//! a pure function of a [`Seed`], a *stream* (which family of choices: the rows of a sparse sketch,
//! its signs, a Gaussian block, ...) and an *index* (which column, which block). Nothing depends on
//! the number of threads, the order in which work is done, the storage layout of the input or how
//! the input is split into row blocks — which is what makes sketches reproducible and mergeable.
//!
//! The mixer is the SplitMix64 finalizer (Steele, Lea and Flood, "Fast splittable pseudorandom
//! number generators", OOPSLA 2014) applied in a keyed cascade; where a stream of many values is
//! needed (dense Gaussian blocks), a `Xoshiro256PlusPlus` generator is seeded from one mixed word.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// A seed: a value, never mutated by the functions that take it.
///
/// Derive independent sub-seeds with [`Seed::derive`] and an explicit stream index.
///
/// One seed is not one independent sketch per family or size: the sketches share their words.
/// A [`SparseSign`](crate::sketch::SparseSign) and a [`CountSketch`](crate::sketch::CountSketch)
/// built from the same seed are dependent (`s = 1` is CountSketch by design; for `s = 2` the
/// first row of a column is CountSketch's bucket in half the columns, with its sign), and the
/// same family and seed at another `m` gives a nested sketch, not a fresh one (CountSketch's
/// bucket for `m` is its bucket for `2m` halved, the first column of each 64-column block of a
/// Gaussian is the top of a taller one's up to scale, a row sample's first `m` draws are those of
/// a larger sample). Give
/// each sketch that must be independent of another its own `seed.derive(k)`, as the crate's
/// solvers do (`tests/distribution_review.rs` measures both effects).
///
/// # Examples
///
/// ```
/// use randnla::Seed;
/// let root = Seed::new(42);
/// let a = root.derive(0);
/// let b = root.derive(1);
/// assert_ne!(a, b);
/// assert_eq!(a, Seed::new(42).derive(0)); // a pure function of (seed, stream)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Seed(u64);

impl Seed {
    /// A seed from a 64-bit value.
    pub const fn new(value: u64) -> Self {
        Seed(value)
    }

    /// The 64-bit value of this seed.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// An independent sub-seed for stream `stream`: `derive(i)` and `derive(j)` for `i != j`
    /// give statistically independent randomness.
    pub fn derive(self, stream: u64) -> Seed {
        Seed(mix3(self.0, 0x5eed_5eed_5eed_5eed, stream))
    }

    /// One uniformly distributed 64-bit word for `(stream, index)`.
    #[inline(always)]
    pub fn word(self, stream: u64, index: u64) -> u64 {
        mix3(self.0, stream, index)
    }

    /// The part of [`word`](Self::word) that does not depend on the index: with
    /// `key = seed.stream_key(stream)`, `keyed_word(key, index) == seed.word(stream, index)`.
    /// Hot loops that draw many words of one stream compute the key once and save two of the
    /// three SplitMix64 rounds per word.
    #[inline(always)]
    pub(crate) fn stream_key(self, stream: u64) -> u64 {
        splitmix64(splitmix64(self.0) ^ stream)
    }

    /// A `Xoshiro256PlusPlus` generator for `(stream, block)`, for the places that need a long
    /// stream of values (dense Gaussian blocks). The block size is fixed by the caller, never by
    /// the thread count.
    pub fn block_rng(self, stream: u64, block: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(self.word(stream, block))
    }
}

impl From<u64> for Seed {
    fn from(v: u64) -> Self {
        Seed(v)
    }
}

/// The SplitMix64 output function: a bijective mixer of 64-bit words.
#[inline(always)]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Keyed cascade of three words: `splitmix64(splitmix64(splitmix64(a) ^ b) ^ c)`.
#[inline(always)]
pub fn mix3(a: u64, b: u64, c: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(a) ^ b) ^ c)
}

/// [`Seed::word`] from a precomputed [`Seed::stream_key`].
#[inline(always)]
pub(crate) fn keyed_word(key: u64, index: u64) -> u64 {
    splitmix64(key ^ index)
}

/// A uniform integer in `[0, bound)` from a uniform 64-bit word (Lemire's multiply-shift; the bias
/// is at most `bound / 2^64`). For `bound = 0`, where `[0, bound)` is empty, it returns 0.
#[inline(always)]
pub fn below(word: u64, bound: u64) -> u64 {
    ((word as u128 * bound as u128) >> 64) as u64
}

/// A uniform `f64` in `[0, 1)` with 53 random bits.
#[inline(always)]
pub fn unit_f64(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Stream identifiers: one per family of random choices, so that no two families share words.
pub(crate) mod streams {
    pub const SPARSE_ROWS: u64 = 0x01;
    pub const SPARSE_SIGNS: u64 = 0x02;
    pub const GAUSSIAN_BLOCKS: u64 = 0x03;
    pub const SRHT_SIGNS: u64 = 0x04;
    pub const SRHT_ROWS: u64 = 0x05;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_pure_functions() {
        let s = Seed::new(7);
        assert_eq!(s.word(1, 2), Seed::new(7).word(1, 2));
        assert_ne!(s.word(1, 2), s.word(2, 1));
        assert_ne!(s.word(1, 2), s.word(1, 3));
        assert_ne!(s.derive(0), s.derive(1));
    }

    #[test]
    fn keyed_words_equal_words() {
        for seed in [0, 1, 7, u64::MAX] {
            let s = Seed::new(seed);
            for stream in [0, 1, 2, 0x40, u64::MAX] {
                let key = s.stream_key(stream);
                for index in [0, 1, 2, 1000, u64::MAX - 1, u64::MAX] {
                    assert_eq!(keyed_word(key, index), s.word(stream, index));
                }
            }
        }
    }

    #[test]
    fn below_stays_in_range_and_is_roughly_uniform() {
        let s = Seed::new(1);
        let mut counts = [0u32; 10];
        for i in 0..100_000 {
            let v = below(s.word(9, i), 10);
            counts[v as usize] += 1;
        }
        // Each bucket expects 10_000 with sd ~95; allow 5 sd.
        for c in counts {
            assert!((c as i64 - 10_000).abs() < 475, "{counts:?}");
        }
    }

    #[test]
    fn bits_are_balanced() {
        // Each of the 64 bits should be set about half the time over 20_000 words (sd ~71).
        let s = Seed::new(3);
        let mut ones = [0u32; 64];
        for i in 0..20_000 {
            let w = s.word(5, i);
            for (b, o) in ones.iter_mut().enumerate() {
                *o += ((w >> b) & 1) as u32;
            }
        }
        for o in ones {
            assert!((o as i64 - 10_000).abs() < 360, "{o}");
        }
    }
}
