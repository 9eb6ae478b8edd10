//! The crate's second `unsafe` block: clearing the upper halves of the vector registers before a
//! scalar kernel runs.
//!
//! faer's kernels (GEMM, QR, Cholesky) use 512-bit registers on CPUs that have them and can
//! leave their upper halves "dirty" on the thread that ran them; from then on every SSE-encoded
//! instruction on that thread (all of the crate's scalar code when it is compiled for baseline
//! x86-64, the default; with AVX enabled, e.g. `-C target-cpu=native`, it is VEX-encoded, a case
//! not measured) runs slower until a `vzeroupper`. Measured on the bench machine
//! (AMD EPYC with AVX-512, 2026-12-05): 16·10⁶ `exp` calls took 0.157 s after one
//! `faer::linalg::matmul` on the thread and 0.073–0.076 s before it or after
//! [`clear_upper_vector_state`]; P3's kernel-matrix loop 0.254 s against 0.092 s; the sparse sign
//! sketch of a `2·10⁵ × 500` CSR matrix (25 nonzeros a row, `m = 4000`, one thread) 0.118–0.122 s
//! against 0.099–0.113 s. Memory-bound passes (LSQR's CSR products) showed no difference.
//!
//! `lib.rs` denies `unsafe_code`; this module and `sketch::prefetch` alone allow it, and
//! `.ci/run` checks that no other file does.
#![allow(unsafe_code)]

/// Zeroes the upper halves (bits 128 and up) of the vector registers when the CPU has AVX, so
/// that the SSE-encoded code which follows on this thread does not pay for state a wide kernel
/// left behind. Call it at the start of a compute-bound scalar kernel (once per parallel task,
/// on the thread that runs it). Changes no value of the program; a few cycles.
#[inline(never)]
pub fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: `_mm256_zeroupper` requires the `avx` target feature, checked at run time
            // just above (compiled away when the crate is built with AVX enabled, e.g.
            // `-C target-cpu=native`). VZEROUPPER zeroes bits 128 and up of vector registers
            // 0–15 and leaves bits 0–127 as they are. No Rust value lives there across it: this
            // function holds no vector values of its own (with or without AVX enabled; built
            // for x86-64-v4 its body is `vzeroupper; ret`), and at a call boundary every
            // register's bits above 127 are caller-saved in the x86-64 calling conventions
            // (System V: all vector registers; Windows: xmm6–15 are callee-saved only in their
            // low 128 bits), so no caller keeps a value there either. `#[inline(never)]` is
            // only a hint, but inlining would not break this: LLVM models the intrinsic as
            // clobbering ymm0–15, so it keeps no value in them across it.
            unsafe { std::arch::x86_64::_mm256_zeroupper() };
        }
    }
}
