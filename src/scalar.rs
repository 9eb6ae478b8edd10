//! The floating-point types the crate computes in: `f64` everywhere, `f32` where it costs little.

use std::fmt::{Debug, Display, LowerExp};

/// A real floating-point scalar (`f32` or `f64`).
///
/// Sketches are generated in `f64` and rounded once to `T`, so an `f32` sketch is the `f64` sketch
/// rounded, not a different random draw.
///
/// The trait is sealed: the kernels rely on IEEE binary floating point (for instance, that
/// `to_f64` is exact, so that only +0 widens to +0, and that sums round the same way on every
/// thread), which a type outside the crate could not promise.
pub trait Scalar:
    sealed::Sealed
    + faer::traits::RealField
    + Copy
    + Send
    + Sync
    + Debug
    + Display
    + LowerExp
    + Default
    + 'static
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

mod sealed {
    /// Implemented for `f32` and `f64` only: see [`Scalar`](super::Scalar).
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
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

/// The largest `|v|` of some values (0 for none; NaN entries are passed over, as `f64::max`
/// does).
pub(crate) fn max_abs(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// [`max_abs`] of a slice, the same value, in eight independent lanes that the compiler
/// vectorizes (`maxpd`; `a > m` is false for a NaN `a`, which is passed over as `f64::max`
/// does, and a maximum does not depend on the order it is taken in), where `max_abs`'s fold is
/// one chain of `f64::max`. On data from memory it changes little: the scan of the
/// `10⁶ × 100` CSR matrix of `benches/kernel_regression.rs` (10⁷ values, one thread) was 7.3%
/// of P1's samples before and 7.6% after (`perf`, 2026-12-06), the loads being the cost.
pub(crate) fn max_abs_slice(values: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let mut blocks = values.chunks_exact(8);
    for block in &mut blocks {
        for (m, &v) in lanes.iter_mut().zip(block) {
            let a = v.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    lanes
        .into_iter()
        .fold(max_abs(blocks.remainder().iter().copied()), f64::max)
}

/// The largest magnitude `top` of some data, when it lies outside `[2⁻ʳᵃⁿᵍᵉ, 2ʳᵃⁿᵍᵉ⁺¹)`: its
/// [`exponent`] `e`, so that scaling the data by `2⁻ᵉ` (exact) brings `top` into `[1, 2)`.
/// `None` inside the range and for a zero or non-finite `top`.
pub(crate) fn out_of_range_exponent(top: f64, range: i32) -> Option<i32> {
    let e = exponent(top);
    (top != 0.0 && top.is_finite() && e.abs() > range).then_some(e)
}

/// For data whose largest magnitude `top` has its [`exponent`] beyond `±limit`: the power-of-two
/// shift `s` that brings it to `±target` (`2⁻ˢ·top` has exponent `target` or `−target`), so that
/// the data moves out of the danger zone and no further (small entries beside a huge one keep
/// their bits). `None` within the limit and for a zero or non-finite `top`. For kernels that
/// are safe on most of the range (faer's QR, the LSQR-based solvers) and only fail near its ends.
pub(crate) fn shift_toward_range(top: f64, limit: i32, target: i32) -> Option<i32> {
    let e = out_of_range_exponent(top, limit)?;
    Some(if e > 0 { e - target } else { e + target })
}

/// `x·2ᵏ`, exact whenever the result is normal and correctly rounded (one rounding, to
/// nearest even) when it is subnormal; `2ᵏ` need not be representable.
///
/// A normal result is reached in steps of at most `2^±1000` that move monotonically towards
/// it, so every step is exact (for `|k| ≤ 1000` it is the single product `x·2ᵏ`). Steps towards
/// a subnormal result would round twice once an intermediate is subnormal
/// (`x = 2⁻³⁰·(1 + 2⁻⁴⁰ + 2⁻⁵²)`, `k = −1005`), so `x` is first scaled exactly into `[1, 2)·2⁻¹⁰⁰⁰`
/// and then by one last factor.
pub(crate) fn mul_pow2(x: f64, k: i32) -> f64 {
    // Beyond ±2200 every finite nonzero x over- or underflows anyway.
    let k = k.clamp(-2200, 2200);
    let e = exponent(x);
    if e + k < -1022 && x != 0.0 && x.is_finite() {
        // |x·2ᵏ| < 2⁻¹⁰²²: the first factor is exact (the value stays normal), the second
        // rounds once; below 2⁻²⁰²² the result rounds to a zero of x's sign either way.
        let y = steps_pow2(x, -1000 - e);
        return y * pow2((e + k + 1000).max(-1022));
    }
    steps_pow2(x, k)
}

/// `x·2ᵏ` in steps of at most `2^±1000` (`|k| ≤ 2200`).
fn steps_pow2(mut x: f64, mut k: i32) -> f64 {
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

/// `2ᵉ` for `−1022 ≤ e ≤ 1023`.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_abs_slice_is_max_abs() {
        // Lengths around the lane width, NaN (passed over), ±0, ±∞, subnormals, and the
        // maximum in every lane and in the tail.
        let specials = [
            f64::NAN,
            -0.0,
            0.0,
            5e-324,
            -1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -7.25,
            3.0,
        ];
        for len in 0..40usize {
            for at in 0..len.max(1) {
                for &top in &[-9.5, 9.5, f64::NAN, f64::INFINITY] {
                    let mut v: Vec<f64> = (0..len)
                        .map(|i| specials[(i * 5 + len) % 3 + 1] * (i as f64 - 3.0))
                        .collect();
                    if len > 0 {
                        v[at] = top;
                    }
                    let want = super::max_abs(v.iter().copied());
                    let got = super::max_abs_slice(&v);
                    assert_eq!(got.to_bits(), want.to_bits(), "{v:?}");
                }
            }
        }
        for &x in &specials {
            let v = vec![x; 19];
            let want = super::max_abs(v.iter().copied());
            assert_eq!(super::max_abs_slice(&v).to_bits(), want.to_bits(), "{x}");
        }
    }

    use super::mul_pow2;

    /// `x·2ᵏ` rounded to nearest even by integer arithmetic on the bits, for a result below
    /// 2⁻¹⁰²² (subnormal or zero): an independent reference for [`mul_pow2`].
    fn subnormal_reference(x: f64, k: i32) -> f64 {
        let bits = x.abs().to_bits();
        let (mant, exp) = match (bits >> 52) as i32 {
            0 => (bits, -1074),
            b => ((bits & ((1 << 52) - 1)) | (1 << 52), b - 1075),
        };
        // |x·2ᵏ| = mant·2^(exp + k) = (mant >> shift)·2⁻¹⁰⁷⁴ before rounding.
        let shift = -1074 - (exp + k);
        let q = if shift <= 0 {
            // Exact; below 2⁻¹⁰²² the shifted mantissa has at most 52 bits.
            assert!(
                shift > -53 && mant << -shift < 1 << 52,
                "not a subnormal result"
            );
            mant << -shift
        } else if shift >= 64 {
            0
        } else {
            let (q, r, half) = (
                mant >> shift,
                mant & ((1u64 << shift) - 1),
                1u64 << (shift - 1),
            );
            q + u64::from(r > half || (r == half && q & 1 == 1))
        };
        let v = f64::from_bits(q);
        if x < 0.0 {
            -v
        } else {
            v
        }
    }

    #[test]
    fn subnormal_results_are_rounded_once() {
        // The case that rounded twice before: 2⁻³⁰·(1 + 2⁻⁴⁰ + 2⁻⁵²)·2⁻¹⁰⁰⁵ in steps of 2⁻¹⁰⁰⁰
        // and 2⁻⁵: the first rounds the 2⁻⁵² bit away at 2⁻¹⁰³⁰, leaving a tie that the
        // second rounds to even (down), where the exact value lies above the tie (up).
        let x = (1.0 + 2f64.powi(-40) + 2f64.powi(-52)) * 2f64.powi(-30);
        let once = subnormal_reference(x, -1005);
        assert_eq!(mul_pow2(x, -1005).to_bits(), once.to_bits());
        assert_ne!(
            (x * 2f64.powi(-1000) * 2f64.powi(-5)).to_bits(),
            once.to_bits()
        );
        // Mantissas with every kind of tail (ties, just above, just below), every exponent of x
        // from subnormal to the largest, scaled to each subnormal exponent and just below.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut checked = 0;
        for e in (-1074..=1023).step_by(7) {
            for _ in 0..6 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let tail = match state % 4 {
                    0 => state >> 12,
                    1 => (state >> 12) | 1,
                    2 => ((state >> 12) & !0xffff) | 0x8000,
                    _ => (state >> 12) & !0xffff,
                };
                let x = if e < -1022 {
                    f64::from_bits((tail >> (-1022 - e)) | (1 << (e + 1074)))
                } else {
                    f64::from_bits(((e + 1023) as u64) << 52 | tail)
                };
                let x = if state & (1 << 63) != 0 { -x } else { x };
                for target in [-1023, -1030, -1050, -1073, -1074, -1075, -1080] {
                    let k = target - e;
                    assert_eq!(
                        mul_pow2(x, k).to_bits(),
                        subnormal_reference(x, k).to_bits(),
                        "{x:e}·2^{k}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000);
    }
}
