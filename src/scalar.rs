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
