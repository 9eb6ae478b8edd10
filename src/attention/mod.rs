//! Polynomial attention in linear time: exact baselines, PolySketch features and causal block
//! products (PolySketchFormer, Kacham–Mirrokni–Zhong, arXiv 2310.01655).
//!
//! For queries `Q ∈ ℝ^{n×h}`, keys `K ∈ ℝ^{m×h}` and values `V ∈ ℝ^{m×d}`:
//!
//! * **degree-p polynomial attention** (`p` even):
//!   `out_i = Σ_{j∈J(i)} ⟨q_i,k_j⟩^p v_j / (1 + Σ_{j∈J(i)} ⟨q_i,k_j⟩^p)`;
//! * **softmax attention**: `out_i = Σ_{j∈J(i)} e^{s⟨q_i,k_j⟩} v_j / Σ_{j∈J(i)} e^{s⟨q_i,k_j⟩}`
//!   (`s` is the caller's scale, conventionally `1/√h`);
//!
//! with `J(i)` all keys (non-causal) or `j ≤ i` (causal, `m = n`).
//!
//! | function | computes | time | extra memory |
//! |---|---|---|---|
//! | [`exact_attention`] (`Kernel::Polynomial`, `Kernel::Softmax`) | the exact output, in row blocks | `O(n·m·(h + d))` (half for causal) | `O(b² + b·d)` per thread, never `n × m` |
//! | [`poly_sketch_attention`] / [`PolySketch::attention`] | `p`-degree attention through features `φ'` | `O(n·(r²/2)·d + n·b·(r + d))` | `O(r²·d + b·(r + d + b))` (self-tensors formed in chunks), independent of `n` |
//! | [`causal_product`], [`causal_squared_product`] | `tril(ABᵀ)C`, `tril((ABᵀ)^{∘2})C` by block lower-triangular products | `O(n·b·(r + e) + n·r^{1 or 2}·e)` | `O(r^{1 or 2}·e + b²)` |
//!
//! # The sketch and its scaling
//! [`PolySketch`] is a random map `φ: ℝ^h → ℝ^r` of degree `p/2` with
//! `E⟨φ(x), φ(y)⟩ = ⟨x, y⟩^{p/2}` exactly (no stray `1/r`): for `p = 4`,
//! `φ(x) = (xG₁)∘(xG₂)/√r` with `G₁, G₂` iid `N(0,1)` `h × r` matrices; higher degrees multiply
//! two independent lower-degree maps the same way (a binary tree, as in PolySketchFormer), and
//! `p = 2` is `φ(x) = xG/√r`. The attention weights use the *self-tensored* features
//! `φ'(x) = φ(x) ⊗ φ(x)`, so that `⟨φ'(q), φ'(k)⟩ = ⟨φ(q), φ(k)⟩² ≥ 0` estimates `⟨q,k⟩^p`:
//! every weight is non-negative and every normalizer `1 + Σ_j w_ij` is at least 1. `φ ⊗ φ` is
//! stored in its symmetric half, `r(r+1)/2` columns (`φ_a²` and `√2·φ_aφ_b` for `a < b`), which has
//! the same inner products at half the cost.
//!
//! # Accuracy depends on the data — read this before using the sketch
//! The weights `⟨q,k⟩^p` are estimated with a variance that scales like `‖q‖^p‖k‖^p / r`. When
//! the true kernel values are tiny next to the norms — iid Gaussian `Q, K` in dimension 64, whose
//! rows are nearly orthogonal — the relative output error is ≈ 1 (or more) for every `r` we can
//! afford: the sketch then reproduces the normalizer, not the attention pattern. On structured
//! inputs (queries and keys in clusters, [`clustered_qkv`]) it is useful and falls with `r`.
//! Measured (`benches/attention.rs`, `h = d = 64`, `p = 4`, non-causal, relative Frobenius error
//! of the output against exact degree-4 attention; clustered = 16 centres, noise 0.3, scale 1.5):
//!
//! | inputs, `φ` | n = 1024 | n = 4096 | n = 16384 | n = 65536 |
//! |---|---|---|---|---|
//! | clustered, Gaussian `r = 32` | 0.45 | 0.47 | 0.52 | 0.49 |
//! | clustered, Gaussian `r = 64` | 0.32 | 0.32 | 0.35 | 0.34 |
//! | clustered, TensorSketch `r = 64` | 0.34 | 0.36 | 0.29 | 0.28 |
//! | iid Gaussian `Q, K`, Gaussian `r = 32` | 1.06 | 1.07 | 1.07 | — |
//! | iid Gaussian `Q, K`, Gaussian `r = 64` | 1.02 | 1.03 | 1.03 | — |
//!
//! At `n = 4096` with sketch seeds 0–2 (`tests/attention.rs`), the clustered medians are 0.56 /
//! 0.34 / 0.24 at `r = 32 / 64 / 128` (ALGORITHMS.md §6: ≈ 0.5 / 0.35 / 0.2) and the iid errors
//! 0.99–1.08 at each of these `r`.
//!
//! On smaller clustered problems (`tests/attention.rs`: `n = 1024`, `h = 16`, 8 centres) the
//! median error over 30 sketch seeds is 0.78 / 0.58 / 0.41 / 0.24 at `r = 8 / 16 / 32 / 64` with
//! the Gaussian map and 0.73 / 0.52 / 0.33 / 0.21 with TensorSketch (`tests/claims_review2.rs`;
//! seeds 0–2 alone give 0.82 / 0.62 / 0.41 / 0.33 and 0.70 / 0.54 / 0.35 / 0.20, which
//! exaggerate the gap at `r = 64`). [`FeatureMap::TensorSketch`] is the more accurate map at
//! equal `r` in these measurements (by 6–20%), and from `r = 16` its errors vary less between
//! seeds (standard deviation 0.059 against 0.073 at `r = 16`, 0.035 against 0.044 at `r = 64`;
//! alike at `r = 8`).
//!
//! # Speed
//! Sketched time grows linearly in `n`, exact quadratically (criterion medians, 2 threads on a
//! quiet 2-core machine, 2026-11-30, `benches/attention.rs`; exact at `n ≥ 16384` is one run):
//!
//! | n | exact | sketch `r = 32` | sketch `r = 64` | causal sketch `r = 32`, `b = 256` | TensorSketch `r = 64` |
//! |---|---|---|---|---|---|
//! | 1024 | 10.2 ms | 5.8 ms | 16 ms | 6.0 ms | 18 ms |
//! | 4096 | 135 ms | 22 ms | 71 ms | 29 ms | 70 ms |
//! | 16384 | 2.91 s (one run) | 97 ms | 264 ms | 116 ms | 298 ms |
//! | 65536 | 40.1 s (one run) | 417 ms | 1.14 s | 502 ms | 1.37 s |
//!
//! Fitted log-log slopes of the sketched times: 1.02–1.06 (1.15 for causal with `b = 1024`);
//! exact: 2.01 over the table (1.86 from `n = 1024` to `4096`). The crossover is below
//! `n = 1024` for `r = 32` and near `n ≈ 1800` for `r = 64`; exact over sketched is 30×
//! (`r = 32`) and 11× (`r = 64`) at `n = 16384`, 96× and 35× at `n = 65536`. In f32 the
//! `r = 32` sketch takes 0.58× the f64 time.
//!
//! # Causal attention in linear time
//! Rows are cut into blocks of `b`. Inside block `l` the weights are formed explicitly,
//! `tril((A_l B_lᵀ)^{∘2}) C_l` with `A = φ(Q)`, `B = φ(K)`, `C = [V 1]`; across blocks a running
//! prefix state `P_l = Σ_{l' < l} φ'(K_{l'})ᵀ C_{l'}` (`r(r+1)/2 × (d+1)`) is streamed, and block
//! `l` adds `φ'(Q_l) P_l`. Features are computed block by block, so memory beyond the inputs and
//! the output does not grow with `n` ([`SketchInfo::workspace_bytes`]; `tests/attention.rs`
//! measures the heap with a counting allocator). Changing `v_j` for `j > i` leaves `out_i`
//! bitwise unchanged.
//!
//! # Precision
//! Products and sums are computed in the input type `T` (`f32` or `f64`; faer's GEMM), except
//! the exact path's row normalizers `Σ_j w_ij`, which are summed in `f64` (see
//! [`exact_attention`]); the final division is in `T`. `f32` outputs agree with the
//! `f64` computation to about `1e-5` relative on well-scaled inputs. Exact polynomial attention
//! keeps each query row's weights in a power-of-two scale, `(⟨q,k⟩·2^{−e})^p`, raised only when
//! the row's weights in one key block would sum past `2^{E/2}` (`E` = 128 for `f32`, 1024 for
//! `f64`), and then so that its largest weight is at most 1: large `⟨q,k⟩^p` do not overflow
//! (the output is a weighted mean of the `v_j`, shrunk by `Σw/(1 + Σw)`). Scaling by powers of
//! two is exact, and rows that never need it are computed exactly as without it. An output that
//! is still not finite comes back as [`crate::Error::NonFinite`], never as NaNs: it happens when
//! the running sum `Σw·v` passes the type's range, i.e. for `|v|` near its largest value, or on
//! unscaled rows (weights up to `2^{E/2}`) for `|v|` beyond about `2^{E/2}/n`, and — for both
//! kernels — when a score `⟨q,k⟩` itself overflows `T` in the GEMM that forms it (`|q|·|k|`
//! beyond the type's range, e.g. `f64` entries near `1e155`): the scaling acts on the scores,
//! not on `Q` and `K`. The sketched paths are not scaled (their features
//! grow like `‖q‖^{p/2}`); a result that overflows there is reported the same way.
//!
//! # Reproducibility and threads
//! Every product is a sequential faer GEMM on a block whose size is a constant or a parameter,
//! never a function of the thread count; threads take whole blocks (query blocks, fixed row
//! chunks of 64, fixed feature chunks of 256). Results are bitwise identical for any `Par`. The
//! Gaussian matrices of the sketch are drawn from `seed` (streams `0x60`–`0x6F`).
//!
//! # References
//! P. Kacham, V. Mirrokni, P. Zhong, "PolySketchFormer: Fast transformers via sketching
//! polynomial kernels", ICML 2024, arXiv 2310.01655. T. D. Ahle et al., "Oblivious sketching of
//! high-degree polynomial kernels", SODA 2020, arXiv 1909.01410. A. Katharopoulos et al.,
//! "Transformers are RNNs", ICML 2020, arXiv 2006.16236 (the prefix-state form of causal linear
//! attention).

mod causal;
mod data;
mod exact;
mod features;
mod sketched;

pub use causal::{causal_product, causal_squared_product};
pub use data::clustered_qkv;
pub use exact::{exact_attention, ExactParams, Kernel};
pub use features::{FeatureMap, PolySketch};
pub use sketched::{poly_sketch_attention, relative_error, PolySketchParams, SketchInfo};

use crate::error::{Error, Result};
use crate::input::{check_finite_dense, zeros_or_too_large};
use crate::scalar::Scalar;
use faer::{Mat, MatRef};

/// Largest `n` for which [`PolySketchParams::check`] computes the exact output to compare with.
pub const CHECK_MAX_N: usize = 16384;

/// Largest block size accepted (a `b × b` block of weights is formed).
pub const MAX_BLOCK: usize = 8192;

/// Largest polynomial degree accepted.
pub const MAX_DEGREE: usize = 64;

/// Largest output accepted, in scalars: `n·d` for attention (`Q` rows × `V` columns), `n·e` for
/// the block products (8 GiB of `f64`). The output is allocated before any work, and the
/// per-block buffers the algorithms hold at once add at most about twice as much again (causal
/// sketched attention with `n ≤ b` holds `[V 1]` and the block's result, each `n × (d+1)`;
/// exact attention about once as much), so a larger request is refused up front with
/// [`Error::TooLarge`] instead of failing (or aborting) in the allocator after minutes of work.
pub const MAX_OUTPUT: usize = 1 << 30;

/// Checks the shapes and finiteness of `Q`, `K`, `V`.
pub(crate) fn check_qkv<T: Scalar>(
    q: MatRef<'_, T>,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    causal: bool,
) -> Result<()> {
    for (name, a) in [("Q", q), ("K", k), ("V", v)] {
        if a.nrows() == 0 || a.ncols() == 0 {
            return Err(Error::empty(format!(
                "{name} ({}×{})",
                a.nrows(),
                a.ncols()
            )));
        }
    }
    if k.ncols() != q.ncols() {
        return Err(Error::dim(
            "columns of K vs columns of Q (the head dimension h)",
            q.ncols(),
            k.ncols(),
        ));
    }
    if v.nrows() != k.nrows() {
        return Err(Error::dim(
            "rows of V vs rows of K (one value per key)",
            k.nrows(),
            v.nrows(),
        ));
    }
    if causal && k.nrows() != q.nrows() {
        return Err(Error::dim(
            "rows of K vs rows of Q (causal attention pairs query i with keys j ≤ i)",
            q.nrows(),
            k.nrows(),
        ));
    }
    check_finite_dense(q, "Q")?;
    check_finite_dense(k, "K")?;
    check_finite_dense(v, "V")?;
    Ok(())
}

/// Checks a block size.
pub(crate) fn check_block(block: usize) -> Result<()> {
    if block == 0 || block > MAX_BLOCK {
        return Err(Error::param(
            "block",
            format!("block size {block} must be in 1..={MAX_BLOCK}"),
        ));
    }
    Ok(())
}

/// Checks an even polynomial degree.
pub(crate) fn check_even_degree(p: usize) -> Result<()> {
    if p == 0 || p % 2 == 1 || p > MAX_DEGREE {
        return Err(Error::param(
            "degree",
            format!(
                "degree {p} must be even and in 2..={MAX_DEGREE}: an even degree keeps every weight \
                 ⟨q,k⟩^p ≥ 0 and the normalizer 1 + Σ_j ⟨q,k_j⟩^p ≥ 1"
            ),
        ));
    }
    Ok(())
}

/// The zero `n × d` output matrix, or [`Error::TooLarge`] when `n·d > MAX_OUTPUT` or the
/// allocator refuses it (faer's `Mat::zeros` would abort).
pub(crate) fn output_matrix<T: Scalar>(n: usize, d: usize, what: &str) -> Result<Mat<T>> {
    check_output_size(n, d, what)?;
    zeros_or_too_large(n, d, what)
}

/// [`Error::TooLarge`] when an `n × d` output exceeds [`MAX_OUTPUT`] scalars.
pub(crate) fn check_output_size(n: usize, d: usize, what: &str) -> Result<()> {
    let requested = n as u128 * d as u128;
    if requested > MAX_OUTPUT as u128 {
        return Err(Error::TooLarge {
            what: format!("the {n}×{d} {what}"),
            requested,
            limit: MAX_OUTPUT as u128,
        });
    }
    Ok(())
}

pub(crate) use crate::dense::tasks;

/// Checks that an output is finite (scores, weights or the products of a block engine may
/// overflow the scalar type), naming `what` overflowed and what to do.
pub(crate) fn check_output<T: Scalar>(out: MatRef<'_, T>) -> Result<()> {
    check_overflow(out, "attention output", "the scores or weights", "Q and K")
}

/// [`check_output`] for `what` (an output), where `cause` overflowed: scale `inputs` down, or
/// (for f32 data) use f64.
pub(crate) fn check_overflow<T: Scalar>(
    out: MatRef<'_, T>,
    what: &str,
    cause: &str,
    inputs: &str,
) -> Result<()> {
    let wider = if T::NAME == "f64" { "" } else { " or use f64" };
    check_finite_dense(
        out,
        &format!(
            "{what} ({cause} overflowed {}: scale {inputs} down{wider})",
            T::NAME
        ),
    )
}

/// Exponent gap between the largest entries of two factors beyond which [`balancing_shift`]
/// balances them (below it the inputs are used as given, and no copy is scaled).
const BALANCE_GAP: i32 = 8;

/// The power-of-two shift `s` that balances two factors whose inner products, raised to
/// `degree`, are all that the result depends on (`⟨a, b⟩ = ⟨2⁻ˢ·a, 2ˢ·b⟩`, exactly while no
/// entry turns subnormal): `⌊(e_a − e_b)/2⌋` for the exponents of their largest entries. It is
/// 0 (the inputs are used as given) when these are within `2^BALANCE_GAP` of each other, and
/// when the weights' scale `degree·(e_a + e_b)` is itself beyond half of `T`'s exponent range:
/// there the weights overflow or underflow whatever the balance, and the unbalanced run names
/// the row of `A` or `B` that causes it. Without it, `(2⁹⁰⁰·A, 2⁻⁹⁰⁰·B)` — the same
/// `⟨a_i, b_j⟩` as `(A, B)` — overflowed `A ⊗ A` and underflowed the state built from `B`.
pub(crate) fn balancing_shift<T: Scalar>(a: MatRef<'_, T>, b: MatRef<'_, T>, degree: usize) -> i32 {
    let top = |m: MatRef<'_, T>| {
        crate::scalar::max_abs(
            (0..m.ncols()).flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)].to_f64())),
        )
    };
    let (ta, tb) = (top(a), top(b));
    if ta == 0.0 || tb == 0.0 {
        return 0;
    }
    let (ea, eb) = (crate::scalar::exponent(ta), crate::scalar::exponent(tb));
    // Half of the exponent range of T (f64: 1022, f32: 126).
    let half_range: i64 = if T::from_f64(1e300).finite() { 511 } else { 63 };
    let weights = degree as i64 * i64::from(ea + eb);
    if (ea - eb).abs() < BALANCE_GAP || weights.abs() > half_range {
        0
    } else {
        (ea - eb).div_euclid(2)
    }
}

/// Rows `lo .. lo + rows` of `x` times `2^shift` (exact while no entry turns subnormal), or
/// [`Error::TooLarge`] naming `what` when the copy cannot be allocated.
pub(crate) fn scaled_rows<T: Scalar>(
    x: MatRef<'_, T>,
    lo: usize,
    rows: usize,
    shift: i32,
    what: &str,
) -> Result<Mat<T>> {
    let mut out = zeros_or_too_large::<T>(rows, x.ncols(), what)?;
    for j in 0..x.ncols() {
        for i in 0..rows {
            out[(i, j)] = T::from_f64(crate::scalar::mul_pow2(x[(lo + i, j)].to_f64(), shift));
        }
    }
    Ok(out)
}
