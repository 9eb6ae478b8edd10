//! The floating-point types the crate computes in: `f64` everywhere, `f32` where it costs little.

use std::fmt::{Debug, Display, LowerExp};

/// A real floating-point scalar (`f32` or `f64`).
///
/// Sketches are generated in `f64` and rounded once to `T`, so an `f32` sketch is the `f64` sketch
/// rounded, not a different random draw.
pub trait Scalar:
    faer::traits::RealField + Copy + Send + Sync + Debug + Display + LowerExp + Default + 'static
{
    /// Rounds an `f64` to this type.
    fn from_f64(v: f64) -> Self;
    /// Widens (or keeps) this value as `f64`.
    fn to_f64(self) -> f64;
    /// `true` unless the value is NaN or infinite.
    fn finite(self) -> bool;
    /// The additive identity, usable in `const` position.
    const ZERO: Self;
    /// The type's name, for messages and JSON output.
    const NAME: &'static str;
}

impl Scalar for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn finite(self) -> bool {
        self.is_finite()
    }
    const ZERO: Self = 0.0;
    const NAME: &'static str = "f64";
}

impl Scalar for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn finite(self) -> bool {
        self.is_finite()
    }
    const ZERO: Self = 0.0;
    const NAME: &'static str = "f32";
}

/// `⌊log₂|x|⌋` for finite nonzero `x` (subnormals included); 0 for zero, ±∞ and NaN. The one
/// exponent the scale-safe code of the solvers and the tensor module share.
pub(crate) fn exponent(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let bits = x.abs().to_bits();
    match (bits >> 52) as i32 {
        // Subnormal: the value is `bits·2⁻¹⁰⁷⁴`.
        0 => 63 - bits.leading_zeros() as i32 - 1074,
        e => e - 1023,
    }
}

/// `x·2ᵏ`, exact whenever the result is normal: in steps of at most `2^±1000` that move
/// monotonically towards the result, so `2ᵏ` need not be representable. For `|k| ≤ 1000` it is
/// the single product `x·2ᵏ`.
pub(crate) fn mul_pow2(mut x: f64, k: i32) -> f64 {
    // Beyond ±2200 every finite nonzero x over- or underflows anyway.
    let mut k = k.clamp(-2200, 2200);
    let pow2 = |e: i32| f64::from_bits(((e + 1023) as u64) << 52);
    while k > 1000 {
        x *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= pow2(-1000);
        k += 1000;
    }
    x * pow2(k)
}
