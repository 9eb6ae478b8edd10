//! One of the crate's two `unsafe` blocks (the other is `crate::cpu`): a cache-prefetch hint for
//! the sparse row kernels.
//!
//! `lib.rs` denies `unsafe_code`; this module and `crate::cpu` alone allow it (`.ci/run` checks
//! that no other file does). The design rule (keep `unsafe` out unless a benchmark shows it pays,
//! then isolate it in one kernel with its invariant) is met by measurements, with the same bits:
//! CountSketch on CSR 31 → 23 ms in a scratch copy of the kernel (see
//! [`super::kernels::PREFETCH_AHEAD`]), and sparse sign `s = 8` in the partitioned row kernel
//! 179 → 122–127 ms (2·10⁵ × 500 CSR, `m = 4000`, one thread).
#![allow(unsafe_code)]

/// Asks the CPU to bring the cache line holding `slice[at]` (or where it would be) into L1.
///
/// A hint with no effect on any value. On targets other than x86-64 with SSE it does nothing.
#[inline(always)]
pub(crate) fn prefetch<E>(slice: &[E], at: usize) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // `wrapping_add` is safe for any offset; the pointer is only passed to the hint.
        let p = slice.as_ptr().wrapping_add(at).cast::<i8>();
        // SAFETY: the only precondition of `_mm_prefetch` is the `sse` target feature, which the
        // `cfg` above requires. In the language it lowers to `llvm.prefetch`, which is defined to
        // have no effect on the program's behaviour and is not a memory access, so any pointer,
        // in bounds or not, is sound; on the hardware, PREFETCHT0 loads nothing into a register,
        // writes nothing and does not fault. (The callers pass offsets inside the slice anyway.)
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = (slice, at);
}
