//! Review of the reproducibility promise (README, `src/lib.rs` "Parallelism"): every public entry
//! point that runs in parallel gives the same bits on 1 thread as on 3, 5, 7, 8 and 16 threads
//! (odd counts, counts above the machine's cores, counts that do not divide the work), on inputs
//! large enough to be split (above the crate's chunk and block sizes), and on tiny inputs of 1–3
//! rows with more threads than rows. `lstsq::qr_solve` is excepted by the README and not checked.
//!
//! Each check runs the entry point inside a rayon pool of `t` threads with `Par::rayon(t)`
//! (`Par::Seq` for one thread; `common::with_threads`) and compares every output entry with
//! `to_bits`, naming the first entry that differs.
//!
//! Four tests failed when this file was written (session 38), each on a product or solve the
//! crate handed to faer with `par` that faer turns into a matrix–vector product, a dot product or
//! a one-column triangular solve, whose sums faer splits by thread from about 2¹⁶ terms:
//! `leverage_dense_single_jl_column`, `leverage_single_jl_column_600_columns`,
//! `poly_kernel_error_one_wide_row` and `poly_kernel_error_one_row_many_features`. Such calls
//! now run on one thread (`dense::par_for_result`).

use crate::common;

use common::{with_threads, Layouts};
use faer::{Mat, MatRef, Par};
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::{MatrixRef, Seed};

/// The thread counts compared with one thread.
const THREADS: [usize; 5] = [3, 5, 7, 8, 16];

/// One output of an entry point: its entries (column-major for a matrix) and its row count.
struct Out {
    label: String,
    nrows: usize,
    vals: Vec<f64>,
    bits: Vec<u64>,
}

fn mat(label: impl Into<String>, m: &Mat<f64>) -> Out {
    let vals: Vec<f64> = (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)]))
        .collect();
    Out {
        label: label.into(),
        nrows: m.nrows(),
        bits: vals.iter().map(|v| v.to_bits()).collect(),
        vals,
    }
}

fn mat32(label: impl Into<String>, m: &Mat<f32>) -> Out {
    let vals: Vec<f32> = (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)]))
        .collect();
    Out {
        label: label.into(),
        nrows: m.nrows(),
        bits: vals.iter().map(|v| u64::from(v.to_bits())).collect(),
        vals: vals.iter().map(|&v| f64::from(v)).collect(),
    }
}

fn vecf(label: impl Into<String>, v: &[f64]) -> Out {
    Out {
        label: label.into(),
        nrows: v.len(),
        bits: v.iter().map(|x| x.to_bits()).collect(),
        vals: v.to_vec(),
    }
}

/// An output that may be an error: the error (its `Debug` text) becomes part of the label, so
/// that an error on some thread counts only is reported as a difference.
fn vres(label: &str, r: randnla::Result<Vec<f64>>) -> Out {
    match r {
        Ok(v) => vecf(label, &v),
        Err(e) => vecf(format!("{label}: Err({e:?})"), &[]),
    }
}

fn scalar(label: impl Into<String>, v: f64) -> Out {
    vecf(label, &[v])
}

/// Compares `f` on 1 thread with `f` on each of `threads`; returns one line per thread count and
/// output that differs (the first differing entry, its values on 1 and on `t` threads).
fn compare(what: &str, threads: &[usize], f: &(dyn Fn(Par) -> Vec<Out> + Sync)) -> Vec<String> {
    let base = with_threads(1, f);
    let mut bad = Vec::new();
    for &t in threads {
        let got = with_threads(t, f);
        assert_eq!(got.len(), base.len(), "{what}: number of outputs");
        for (b, g) in base.iter().zip(&got) {
            if b.label != g.label {
                bad.push(format!(
                    "{what}: {t} threads: `{}` vs `{}`",
                    b.label, g.label
                ));
                continue;
            }
            if b.bits.len() != g.bits.len() || b.nrows != g.nrows {
                bad.push(format!(
                    "{what} / {}: {t} threads: shape {}x{} vs {}x{}",
                    b.label,
                    b.nrows,
                    b.bits.len() / b.nrows.max(1),
                    g.nrows,
                    g.bits.len() / g.nrows.max(1)
                ));
                continue;
            }
            if let Some(k) = (0..b.bits.len()).find(|&k| b.bits[k] != g.bits[k]) {
                let count = (0..b.bits.len())
                    .filter(|&k| b.bits[k] != g.bits[k])
                    .count();
                let (i, j) = (k % b.nrows.max(1), k / b.nrows.max(1));
                bad.push(format!(
                    "{what} / {}: {t} threads: first difference at ({i}, {j}) [flat {k}]: \
                     {:e} (1 thread) vs {:e} ({t} threads); {count} of {} entries differ",
                    b.label,
                    b.vals[k],
                    g.vals[k],
                    b.bits.len()
                ));
            }
        }
    }
    bad
}

/// Runs [`compare`] on each case and fails with every difference found.
fn check_all(cases: Vec<Case<'_>>) {
    let mut bad = Vec::new();
    for (what, threads, f) in &cases {
        bad.extend(compare(what, threads, f.as_ref()));
    }
    assert!(
        bad.is_empty(),
        "thread-count differences:\n{}",
        bad.join("\n")
    );
}

type Case<'a> = (String, Vec<usize>, Box<dyn Fn(Par) -> Vec<Out> + Sync + 'a>);

fn case<'a>(what: impl Into<String>, f: impl Fn(Par) -> Vec<Out> + Sync + 'a) -> Case<'a> {
    (what.into(), THREADS.to_vec(), Box::new(f))
}

fn sparse(n: usize, d: usize, per_row: usize, seed: u64) -> sprs::CsMat<f64> {
    randnla::problems::random_sparse(n, d, per_row, Seed::new(seed)).unwrap()
}

/// A small dense CSR-convertible matrix with every entry stored (`n × d`, entries 1..).
fn tiny_csr(n: usize, d: usize) -> sprs::CsMat<f64> {
    let mut tri = sprs::TriMat::new((n, d));
    for i in 0..n {
        for j in 0..d {
            tri.add_triplet(
                i,
                j,
                1.0 + ((i * 7 + j * 3) % 5) as f64 + 0.25 * (i + 2 * j) as f64,
            );
        }
    }
    tri.to_csr()
}

/// Every sketch family of the crate at `m × n` that accepts that shape (the SRHT needs
/// `m ≤ n'`), row sampling included.
fn families(
    m: usize,
    n: usize,
    a: MatrixRef<'_, f64>,
) -> Vec<(String, Box<dyn SketchOperator<f64>>)> {
    let mut v: Vec<(String, Box<dyn SketchOperator<f64>>)> = [
        ("count", SketchKind::CountSketch),
        (
            "sparse-sign s=2",
            SketchKind::SparseSign {
                nnz_per_col: 2.min(m),
            },
        ),
        (
            "sparse-sign s=8",
            SketchKind::SparseSign {
                nnz_per_col: 8.min(m),
            },
        ),
        ("gaussian", SketchKind::Gaussian),
        ("srht", SketchKind::Srht),
    ]
    .into_iter()
    .filter_map(|(name, k)| Some((name.to_string(), k.build::<f64>(m, n, Seed::new(7)).ok()?)))
    .collect();
    let w = row_norm_weights(a).unwrap();
    v.push((
        "row-sampling".into(),
        Box::new(RowSampling::with_replacement(&w, m, Seed::new(8)).unwrap()),
    ));
    v.push((
        "bernoulli-sampling".into(),
        Box::new(RowSampling::bernoulli(&w, m.min(n), Seed::new(9)).unwrap()),
    ));
    v.push((
        "uniform-sampling".into(),
        Box::new(RowSampling::uniform(n, m, Seed::new(10)).unwrap()),
    ));
    v
}

/// CSC copy of rows `lo..hi` of a CSR matrix.
fn csc_rows(csr: &sprs::CsMat<f64>, lo: usize, hi: usize) -> sprs::CsMat<f64> {
    csr.slice_outer(lo..hi).to_owned().to_csc()
}

fn f32_csr(a: &sprs::CsMat<f64>) -> sprs::CsMat<f32> {
    a.map(|&v| v as f32)
}

fn f32_mat(a: &Mat<f64>) -> Mat<f32> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] as f32)
}

// ------------------------------------------------------------------------------------------------
// Sketch operators: apply (S·A) on CSR, CSC, dense and row-major dense; apply_right (A·Sᵀ);
// apply_block_into on row blocks; f32.

fn sketch_cases<'a>(
    tag: &str,
    lay: &'a Layouts,
    m: usize,
    skip_dense_gaussian: bool,
) -> Vec<Case<'a>> {
    let n = lay.csr.rows();
    let mut cases = Vec::new();
    for (view_name, view) in lay.views() {
        for (name, s) in families(m, n, view) {
            if skip_dense_gaussian && name == "gaussian" && view_name.starts_with("dense") {
                continue;
            }
            cases.push(case(
                format!("{tag} apply {name} on {view_name}"),
                move |par| vec![mat("S·A", &s.apply(view, par).unwrap())],
            ));
        }
    }
    cases
}

#[test]
fn sketches_apply_large() {
    // 20000 × 24, 10 entries a row: 200 000 stored (above the parallel CSR→CSC transpose's
    // 65 536 with ≥ 8 a row), more rows than the sparse sign's 8192-row blocks, the CountSketch's
    // 4096-row chunks, the Gaussian's 64-column generation blocks.
    let lay = Layouts::new(sparse(20_000, 24, 10, 1));
    check_all(sketch_cases("20000x24", &lay, 300, false));
}

#[test]
fn sketches_apply_partitioned_output() {
    // An m × d output of 2048 × 300 f64 (4.9 MB) is above PARTITION_ABOVE (4 MiB): the row
    // kernel fills it by row partitions instead of column panels.
    let lay = Layouts::new(sparse(16_384, 300, 4, 2));
    let mut cases = Vec::new();
    for (view_name, view) in lay.views().into_iter().take(3) {
        for (name, s) in families(2048, 16_384, view) {
            if name == "gaussian" && view_name != "csr" {
                continue;
            }
            cases.push(case(
                format!("16384x300 apply {name} on {view_name}"),
                move |par| vec![mat("S·A", &s.apply(view, par).unwrap())],
            ));
        }
    }
    check_all(cases);
}

#[test]
fn sketches_apply_right_large() {
    // A·Sᵀ for A = (20000 × 24)ᵀ, i.e. S applied to the transposed views.
    let lay = Layouts::new(sparse(20_000, 24, 10, 3));
    let mut cases = Vec::new();
    for (view_name, view) in lay.views() {
        for (name, s) in families(300, 20_000, view) {
            let vt = view.transpose();
            cases.push(case(
                format!("apply_right {name} on {view_name}ᵀ"),
                move |par| vec![mat("A·Sᵀ", &s.apply_right(vt, par).unwrap())],
            ));
        }
    }
    check_all(cases);
}

#[test]
fn sketches_apply_row_blocks_large() {
    // Row blocks 0..5000, 5000..13001, 13001..20000 accumulated in order with apply_block_into.
    let csr = sparse(20_000, 24, 10, 4);
    let lay = Layouts::new(csr.clone());
    let cuts = [0usize, 5000, 13_001, 20_000];
    let csc_blocks: Vec<sprs::CsMat<f64>> = cuts
        .windows(2)
        .map(|w| csc_rows(&csr, w[0], w[1]))
        .collect();
    let whole = MatrixRef::sparse(&lay.csr).unwrap();
    let fams = families(300, 20_000, whole);
    let (lay, csc_blocks) = (&lay, &csc_blocks);
    let mut cases = Vec::new();
    for (name, s) in &fams {
        for layout in ["csr", "csc", "dense"] {
            let s = s.as_ref();
            cases.push(case(
                format!("apply_block_into {name} on {layout} row blocks"),
                move |par: Par| {
                    let mut out = Mat::<f64>::zeros(s.nrows(), 24);
                    for (b, w) in cuts.windows(2).enumerate() {
                        let block = match layout {
                            "csr" => MatrixRef::sparse(&lay.csr)
                                .unwrap()
                                .row_block(w[0], w[1])
                                .unwrap(),
                            "csc" => MatrixRef::sparse(&csc_blocks[b]).unwrap(),
                            _ => MatrixRef::dense(lay.dense.as_ref())
                                .unwrap()
                                .row_block(w[0], w[1])
                                .unwrap(),
                        };
                        s.apply_block_into(w[0], block, out.as_mut(), par).unwrap();
                    }
                    vec![mat("Σ blocks", &out)]
                },
            ));
        }
    }
    check_all(cases);
}

#[test]
fn sketches_f32_large() {
    let csr = sparse(20_000, 24, 10, 5);
    let csr32 = f32_csr(&csr);
    let csc32 = csr32.to_csc();
    let dense32 = f32_mat(&MatrixRef::sparse(&csr).unwrap().to_dense().unwrap());
    let w = row_norm_weights(MatrixRef::sparse(&csr).unwrap()).unwrap();
    let mut ops: Vec<(String, Box<dyn SketchOperator<f32>>)> = [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 8 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ]
    .into_iter()
    .map(|k| {
        (
            k.name().to_string(),
            k.build::<f32>(300, 20_000, Seed::new(11)).unwrap(),
        )
    })
    .collect();
    ops.push((
        "row-sampling".into(),
        Box::new(RowSampling::with_replacement(&w, 300, Seed::new(12)).unwrap()),
    ));
    let views: Vec<(&str, MatrixRef<'_, f32>)> = vec![
        ("csr", MatrixRef::sparse(&csr32).unwrap()),
        ("csc", MatrixRef::sparse(&csc32).unwrap()),
        ("dense", MatrixRef::dense(dense32.as_ref()).unwrap()),
    ];
    let mut cases = Vec::new();
    for (name, s) in &ops {
        for (view_name, view) in &views {
            let (s, view) = (s.as_ref(), *view);
            cases.push(case(
                format!("f32 apply {name} on {view_name}"),
                move |par| vec![mat32("S·A", &s.apply(view, par).unwrap())],
            ));
        }
    }
    check_all(cases);
}

#[test]
fn sketches_tiny_inputs_many_threads() {
    // n = 1, 2, 3 rows, d = 1..3 columns, m up to 5: far fewer rows, columns and outputs than
    // threads.
    let lays: Vec<Layouts> = [(1, 1), (2, 3), (3, 2), (3, 1)]
        .iter()
        .map(|&(n, d)| Layouts::new(tiny_csr(n, d)))
        .collect();
    let mut cases = Vec::new();
    for lay in &lays {
        let (n, d) = (lay.csr.rows(), lay.csr.cols());
        for m in [1usize, 2, 5] {
            for (view_name, view) in lay.views() {
                for (name, s) in families(m, n, view) {
                    cases.push(case(
                        format!("tiny {n}x{d} m={m} apply {name} on {view_name}"),
                        move |par| {
                            let mut out = vec![mat("S·A", &s.apply(view, par).unwrap())];
                            let vt = view.transpose();
                            let mut blocks = Mat::<f64>::zeros(s.nrows(), d);
                            for i in 0..n {
                                if let Ok(b) = view.row_block(i, i + 1) {
                                    s.apply_block_into(i, b, blocks.as_mut(), par).unwrap();
                                }
                            }
                            out.push(mat("blocks", &blocks));
                            out.push(mat("A·Sᵀ", &s.apply_right(vt, par).unwrap()));
                            out
                        },
                    ));
                }
            }
        }
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Leverage scores.

fn leverage_cases<'a>(tag: &str, lay: &'a Layouts, ridge: f64) -> Vec<Case<'a>> {
    use randnla::leverage::*;
    let mut cases = Vec::new();
    // Auto is Householder or SketchCholesky; row-major dense is read as dense.
    for (view_name, view) in lay.views().into_iter().take(3) {
        for method in [ExactMethod::Householder, ExactMethod::SketchCholesky] {
            cases.push(case(
                format!("{tag} exact_leverage_scores {method:?} on {view_name}"),
                move |par| {
                    let p = ExactParams {
                        method,
                        ..Default::default()
                    };
                    let (s, i) = exact_leverage_scores(view, &p, par).unwrap();
                    let (r, j) = exact_ridge_leverage_scores(view, ridge, &p, par).unwrap();
                    vec![
                        vecf("scores", &s),
                        vecf("ridge scores", &r),
                        vecf(
                            "info sum, max, threshold",
                            &[i.sum, i.max, i.rank_threshold],
                        ),
                        vecf("ridge info sum, max", &[j.sum, j.max]),
                    ]
                },
            ));
        }
        cases.push(case(
            format!("{tag} approx/statistical_dimension on {view_name}"),
            move |par| {
                let p = ApproxParams::default();
                let (s, _) = approx_leverage_scores(view, &p, Seed::new(3), par).unwrap();
                let (r, _) =
                    approx_ridge_leverage_scores(view, ridge, &p, Seed::new(3), par).unwrap();
                let sd = statistical_dimension(view, ridge, par).unwrap();
                vec![
                    vecf("approx", &s),
                    vecf("approx ridge", &r),
                    scalar("stat dim", sd),
                ]
            },
        ));
    }
    cases
}

#[test]
fn leverage_large() {
    // 12000 rows: two of the 8192-row blocks of the sketch-Cholesky passes.
    let lay = Layouts::new(sparse(12_000, 20, 6, 21));
    check_all(leverage_cases("12000x20", &lay, 0.5));
}

#[test]
fn leverage_tiny_many_threads() {
    let lays: Vec<Layouts> = [(1, 1), (2, 2), (3, 2), (3, 1)]
        .iter()
        .map(|&(n, d)| Layouts::new(tiny_csr(n, d)))
        .collect();
    let mut cases = Vec::new();
    for lay in &lays {
        let tag = format!("tiny {}x{}", lay.csr.rows(), lay.csr.cols());
        cases.extend(leverage_cases(&tag, lay, 0.5));
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Least squares.

fn lstsq_cases<'a>(tag: &str, lay: &'a Layouts, b: &'a [f64], bm: &'a Mat<f64>) -> Vec<Case<'a>> {
    use randnla::lstsq::*;
    let mut cases = Vec::new();
    let n = lay.csr.rows();
    let d = lay.csr.cols();
    // CSR, CSC and dense (row-major dense solves as dense).
    for (view_name, view) in lay.views().into_iter().take(3) {
        for kind in [
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 8 },
            SketchKind::Gaussian,
            SketchKind::Srht,
        ] {
            cases.push(case(
                format!("{tag} sketch_and_solve {} on {view_name}", kind.name()),
                move |par| {
                    let p = SketchSolveParams {
                        sketch: kind,
                        par,
                        ..Default::default()
                    };
                    let x = sketch_and_solve(view, b, &p).map(|r| r.0);
                    let m = (4 * d).max(2);
                    let kind = match kind {
                        SketchKind::SparseSign { nnz_per_col } => SketchKind::SparseSign {
                            nnz_per_col: nnz_per_col.min(m),
                        },
                        k => k,
                    };
                    let y = kind
                        .build::<f64>(m, n, Seed::new(5))
                        .and_then(|s| sketch_and_solve_with(view, b, s.as_ref(), par))
                        .map(|r| r.0);
                    vec![vres("x", x), vres("x (with)", y)]
                },
            ));
        }
        for (probe, fact) in [
            (true, Factorization::Auto),
            (false, Factorization::Auto),
            (false, Factorization::Qr),
            (false, Factorization::Svd),
        ] {
            cases.push(case(
                format!("{tag} sketch_and_precondition probe={probe} {fact:?} on {view_name}"),
                move |par| {
                    let p = LstsqParams {
                        par,
                        probe,
                        factorization: fact,
                        ..Default::default()
                    };
                    let (x, info) = sketch_and_precondition(view, b, &p).unwrap();
                    let pre = Preconditioner::new(view, &p).unwrap().to_dense();
                    vec![
                        vecf("x", &x),
                        mat("preconditioner", &pre),
                        vecf("info.residual_history", &info.residual_history),
                        vecf("info.normal_eq_history", &info.normal_eq_history),
                        scalar("info.kappa_estimate", info.kappa_estimate),
                        scalar("info.iterations", info.iterations as f64),
                    ]
                },
            ));
        }
        cases.push(case(
            format!("{tag} multi/ridge/lsqr/normal on {view_name}"),
            move |par| {
                let p = LstsqParams {
                    par,
                    ..Default::default()
                };
                let (xm, _) = sketch_and_precondition_multi(view, bm.as_ref(), &p).unwrap();
                let mut seen = Vec::new();
                let (xc, _) =
                    sketch_and_precondition_with_callback(view, b, &p, &mut |st: &IterState| {
                        seen.extend([st.residual_norm, st.normal_eq_residual]);
                        std::ops::ControlFlow::Continue(())
                    })
                    .unwrap();
                let (xr, _) = ridge(view, b, 0.5, &p).unwrap();
                let (xl, _) = lsqr(
                    view,
                    b,
                    &LsqrParams {
                        par,
                        ..Default::default()
                    },
                )
                .unwrap();
                let (xlr, _) = lsqr(
                    view,
                    b,
                    &LsqrParams {
                        par,
                        ridge: 0.5,
                        ..Default::default()
                    },
                )
                .unwrap();
                let xn = normal_equations(view, b, 0.0, par);
                let xnr = normal_equations(view, b, 0.5, par);
                let r1 = normal_equation_residual(view, &xl, b, par).unwrap();
                let r2 = ridge_normal_equation_residual(view, &xr, b, 0.5, par).unwrap();
                vec![
                    mat("multi", &xm),
                    vecf("with_callback", &xc),
                    vecf("callback residuals", &seen),
                    vecf("ridge", &xr),
                    vecf("lsqr", &xl),
                    vecf("lsqr ridge", &xlr),
                    vres("normal", xn),
                    vres("normal ridge", xnr),
                    scalar("normal_equation_residual", r1),
                    scalar("ridge_normal_equation_residual", r2),
                ]
            },
        ));
    }
    cases
}

fn rhs_cols(n: usize, k: usize, seed: u64) -> Mat<f64> {
    randnla::problems::gaussian_matrix(n, k, Seed::new(seed)).unwrap()
}

#[test]
fn lstsq_large() {
    // 20000 rows: three of the least-squares operator's 8192-row chunks.
    let lay = Layouts::new(sparse(20_000, 30, 8, 31));
    let bm = rhs_cols(20_000, 3, 32);
    let b: Vec<f64> = (0..20_000).map(|i| bm[(i, 0)]).collect();
    check_all(lstsq_cases("20000x30", &lay, &b, &bm));
}

#[test]
fn lstsq_ill_conditioned_large() {
    use randnla::lstsq::*;
    // κ ≈ 1e8 with collinear column pairs: the probe is refused and the sketched path runs
    // (sketch, QR or SVD of SA, LSQR on AR⁻¹, refinement).
    let (a, b, _) =
        randnla::problems::sparse_ls_illmix(20_000, 40, 0.15, 2e-8, 1e-3, Seed::new(33)).unwrap();
    let lay = Layouts::new(a);
    let (lay, b) = (&lay, &b);
    let mut cases = Vec::new();
    for (view_name, view) in lay.views().into_iter().take(3) {
        cases.push(case(
            format!("illmix 20000x40 sketch_and_precondition/ridge on {view_name}"),
            move |par| {
                let mut out = Vec::new();
                for fact in [Factorization::Auto, Factorization::Svd] {
                    let p = LstsqParams {
                        par,
                        factorization: fact,
                        ..Default::default()
                    };
                    out.push(vres(
                        &format!("{fact:?}"),
                        sketch_and_precondition(view, b, &p).map(|r| r.0),
                    ));
                }
                let p = LstsqParams {
                    par,
                    ..Default::default()
                };
                out.push(vres("ridge", ridge(view, b, 1e-6, &p).map(|r| r.0)));
                out
            },
        ));
    }
    check_all(cases);
}

#[test]
fn lstsq_tiny_many_threads() {
    let lays: Vec<Layouts> = [(1, 1), (2, 1), (3, 2), (3, 3)]
        .iter()
        .map(|&(n, d)| Layouts::new(tiny_csr(n, d)))
        .collect();
    let rhs: Vec<(Vec<f64>, Mat<f64>)> = lays
        .iter()
        .map(|l| {
            let n = l.csr.rows();
            let bm = Mat::from_fn(n, 2, |i, j| {
                (i as f64 + 1.5) * if j == 0 { 1.0 } else { -0.75 }
            });
            ((0..n).map(|i| bm[(i, 0)]).collect(), bm)
        })
        .collect();
    let mut cases = Vec::new();
    for (lay, (b, bm)) in lays.iter().zip(&rhs) {
        let tag = format!("tiny {}x{}", lay.csr.rows(), lay.csr.cols());
        cases.extend(lstsq_cases(&tag, lay, b, bm));
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Kernel regression P1 / P2 / P3 with every inner-solve route.

fn kernel_cases<'a>(
    tag: &str,
    lay: &'a Layouts,
    b1: &'a [f64],
    b2: &'a [f64],
    p12: bool,
    p3: bool,
) -> Vec<Case<'a>> {
    use randnla::lstsq::kernel_regression::*;
    let mut cases = Vec::new();
    for (view_name, view) in lay.views().into_iter().take(3) {
        for route in [InnerSolve::Auto, InnerSolve::Cg, InnerSolve::Cholesky] {
            let params = move |par: Par| {
                let mut p = KernelParams {
                    inner_solve: route,
                    ..Default::default()
                };
                p.lstsq.par = par;
                p
            };
            if p12 {
                cases.push(case(
                    format!("{tag} solve_p1/p2 {route:?} on {view_name}"),
                    move |par| {
                        let p = params(par);
                        let mut out = Vec::new();
                        for j in [1, 2] {
                            let (x, info) = solve_p1(view, j, b1, &p).unwrap();
                            out.push(vecf(format!("P1 j={j}"), &x));
                            out.push(vecf(format!("P1 j={j} history"), &info.residual_history));
                        }
                        let (x, info) = solve_p2(view, 1, b2, &p).unwrap();
                        out.push(vecf("P2 j=1", &x));
                        out.push(vecf("P2 history", &info.residual_history));
                        out
                    },
                ));
            }
            if p3 {
                cases.push(case(
                    format!("{tag} solve_p3 {route:?} on {view_name}"),
                    move |par| {
                        let (x, info) = solve_p3(view, b2, &params(par)).unwrap();
                        vec![vecf("P3", &x), vecf("P3 history", &info.residual_history)]
                    },
                ));
            }
        }
    }
    cases
}

#[test]
fn kernel_regression_p1_p2_large() {
    // 20000 × 8 (three 8192-row chunks of the operator); entries scaled so that AᵀA is
    // well conditioned.
    let g = rhs_cols(20_000, 8, 41);
    let a = Mat::from_fn(20_000, 8, |i, j| g[(i, j)] / 100.0);
    let mut tri = sprs::TriMat::new((20_000, 8));
    for i in 0..20_000 {
        for j in 0..8 {
            if (i + j) % 4 != 0 {
                tri.add_triplet(i, j, a[(i, j)]);
            }
        }
    }
    let lay = Layouts::new(tri.to_csr());
    let b1: Vec<f64> = (0..8).map(|i| (i as f64 - 3.5) / 4.0).collect();
    let b2: Vec<f64> = (0..20_000).map(|i| g[(i, 0)] - g[(i, 1)]).collect();
    check_all(kernel_cases("20000x8", &lay, &b1, &b2, true, false));
}

#[test]
fn kernel_regression_p3_large() {
    // n = 700 ≥ 256 rows: the kernel matrix is formed in parallel column blocks of
    // ⌈n/(8·threads)⌉ columns (at least 32).
    let g = rhs_cols(700, 16, 42);
    let a = Mat::from_fn(700, 16, |i, j| 0.4 * g[(i, j)]);
    let mut tri = sprs::TriMat::new((700, 16));
    for i in 0..700 {
        for j in 0..16 {
            if (i * 3 + j) % 5 != 0 {
                tri.add_triplet(i, j, a[(i, j)]);
            }
        }
    }
    let lay = Layouts::new(tri.to_csr());
    let b2: Vec<f64> = (0..700)
        .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
        .collect();
    check_all(kernel_cases("700x16", &lay, &[], &b2, false, true));
}

#[test]
fn kernel_regression_tiny_many_threads() {
    let lays: Vec<Layouts> = [(1, 1), (2, 1), (3, 2), (3, 3)]
        .iter()
        .map(|&(n, d)| {
            let a = tiny_csr(n, d);
            Layouts::new(a.map(|v| v / 16.0))
        })
        .collect();
    let rhs: Vec<(Vec<f64>, Vec<f64>)> = lays
        .iter()
        .map(|l| {
            let (n, d) = (l.csr.rows(), l.csr.cols());
            (
                (0..d).map(|i| 1.0 + i as f64).collect(),
                (0..n).map(|i| 0.5 - i as f64).collect(),
            )
        })
        .collect();
    let mut cases = Vec::new();
    for (lay, (b1, b2)) in lays.iter().zip(&rhs) {
        let tag = format!("tiny {}x{}", lay.csr.rows(), lay.csr.cols());
        cases.extend(kernel_cases(&tag, lay, b1, b2, true, true));
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Attention.

fn attention_cases<'a>(
    tag: &str,
    q: &'a Mat<f64>,
    k: &'a Mat<f64>,
    v: &'a Mat<f64>,
    block: usize,
) -> Vec<Case<'a>> {
    use randnla::attention::*;
    let mut cases = Vec::new();
    let h = q.ncols();
    for causal in [false, true] {
        cases.push(case(
            format!("{tag} exact_attention causal={causal} f64/f32"),
            move |par| {
                let params = ExactParams { causal, block };
                let (q32, k32, v32) = (f32_mat(q), f32_mat(k), f32_mat(v));
                let mut out = Vec::new();
                for kernel in [
                    Kernel::Polynomial { degree: 4 },
                    Kernel::Softmax { scale: 0.35 },
                ] {
                    let o =
                        exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &params, par)
                            .unwrap();
                    out.push(mat(format!("{kernel:?}"), &o));
                    let o = exact_attention(
                        q32.as_ref(),
                        k32.as_ref(),
                        v32.as_ref(),
                        kernel,
                        &params,
                        par,
                    )
                    .unwrap();
                    out.push(mat32(format!("{kernel:?} f32"), &o));
                }
                out
            },
        ));
        for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
            cases.push(case(
                format!("{tag} poly_sketch_attention {map:?} causal={causal}"),
                move |par| {
                    let sp = PolySketchParams {
                        degree: 4,
                        sketch_dim: 32,
                        map,
                        causal,
                        block,
                        seed: Seed::new(3),
                        check: !causal,
                    };
                    let (o, info) =
                        poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &sp, par)
                            .unwrap();
                    let (q32, k32, v32) = (f32_mat(q), f32_mat(k), f32_mat(v));
                    let (o32, _) =
                        poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), &sp, par)
                            .unwrap();
                    let s = PolySketch::new(h, 4, 32, map, Seed::new(4)).unwrap();
                    let (oa, _) = s
                        .attention(
                            q.as_ref(),
                            k.as_ref(),
                            v.as_ref(),
                            causal,
                            block,
                            false,
                            par,
                        )
                        .unwrap();
                    let info_vals = [info.min_normalizer, info.rel_error.unwrap_or(-1.0)];
                    vec![
                        mat("sketched", &o),
                        vecf("info min_normalizer, rel_error", &info_vals),
                        mat32("sketched f32", &o32),
                        mat("PolySketch::attention", &oa),
                    ]
                },
            ));
        }
    }
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        cases.push(case(
            format!("{tag} PolySketch features {map:?}"),
            move |par| {
                let s = PolySketch::new(h, 4, 32, map, Seed::new(5)).unwrap();
                let q32 = f32_mat(q);
                vec![
                    mat("features", &s.features(q.as_ref(), par).unwrap()),
                    mat32("features f32", &s.features(q32.as_ref(), par).unwrap()),
                    mat("tensored", &s.tensored_features(k.as_ref(), par).unwrap()),
                    mat("weights", &s.weights(q.as_ref(), k.as_ref(), par).unwrap()),
                ]
            },
        ));
    }
    cases.push(case(
        format!("{tag} causal_product / causal_squared_product"),
        move |par| {
            let c = v;
            let q32 = f32_mat(q);
            let k32 = f32_mat(k);
            let c32 = f32_mat(c);
            vec![
                mat(
                    "causal_product",
                    &causal_product(q.as_ref(), k.as_ref(), c.as_ref(), block, par).unwrap(),
                ),
                mat(
                    "causal_squared_product",
                    &causal_squared_product(q.as_ref(), k.as_ref(), c.as_ref(), block, par)
                        .unwrap(),
                ),
                mat32(
                    "causal_product f32",
                    &causal_product(q32.as_ref(), k32.as_ref(), c32.as_ref(), block, par).unwrap(),
                ),
            ]
        },
    ));
    cases
}

#[test]
fn attention_large() {
    // 1500 rows, h = 8: 24 row blocks of 64, 1500/64 causal row chunks; r = 32 gives 528
    // tensored features, three 256-feature chunks of the causal state.
    let (q, k, v) = randnla::attention::clustered_qkv(1500, 8, 4, 0.3, 1.5, Seed::new(51)).unwrap();
    check_all(attention_cases("1500x8", &q, &k, &v, 64));
}

#[test]
fn attention_tiny_many_threads() {
    let data: Vec<(Mat<f64>, Mat<f64>, Mat<f64>)> = [1usize, 2, 3]
        .iter()
        .map(|&n| {
            randnla::attention::clustered_qkv(n, 2, 1, 0.3, 1.0, Seed::new(52 + n as u64)).unwrap()
        })
        .collect();
    let mut cases = Vec::new();
    for (q, k, v) in &data {
        for block in [1, 2, 64] {
            cases.extend(attention_cases(
                &format!("tiny n={} block={block}", q.nrows()),
                q,
                k,
                v,
                block,
            ));
        }
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// TensorSketch, TreeSketch, polynomial features.

fn tensor_sketch_cases<'a>(tag: &str, lay: &'a Layouts, rows: usize) -> Vec<Case<'a>> {
    use randnla::sketch::tensor::*;
    let d = lay.csr.cols();
    let mut cases = Vec::new();
    for (view_name, view) in lay.views() {
        cases.push(case(
            format!("{tag} TensorSketch/TreeSketch apply_rows on {view_name}"),
            move |par| {
                let mut out = Vec::new();
                for p in [1usize, 2, 3] {
                    let ts = TensorSketch::new(p, d, 64, Seed::new(61)).unwrap();
                    out.push(mat(
                        format!("TensorSketch p={p}"),
                        &ts.apply_rows(view, par).unwrap(),
                    ));
                }
                for p in [2usize, 4] {
                    let tr = TreeSketch::new(p, d, 64, Seed::new(62)).unwrap();
                    out.push(mat(
                        format!("TreeSketch p={p}"),
                        &tr.apply_rows(view, par).unwrap(),
                    ));
                }
                out
            },
        ));
        for method in [TensorMethod::Fft, TensorMethod::Tree] {
            cases.push(case(
                format!("{tag} PolyKernelFeatures {method:?} on {view_name}"),
                move |par| {
                    let params = PolyKernelParams {
                        degree: 3,
                        gamma: 0.5,
                        coef0: 1.0,
                        sketch_dim: 128,
                        method,
                    };
                    let f = PolyKernelFeatures::new(d, params, Seed::new(63)).unwrap();
                    let z = f.transform(view, par).unwrap();
                    let e = f.kernel_error(view, z.as_ref(), rows, par).unwrap();
                    vec![mat("features", &z), scalar("kernel_error", e)]
                },
            ));
        }
    }
    cases
}

#[test]
fn tensor_sketch_large() {
    // 3000 rows: 188 tasks of 16 rows.
    let lay = Layouts::new(sparse(3000, 16, 6, 64));
    check_all(tensor_sketch_cases("3000x16", &lay, 200));
}

#[test]
fn tensor_sketch_f32_large() {
    use randnla::sketch::tensor::*;
    let csr = sparse(3000, 16, 6, 65);
    let csr32 = f32_csr(&csr);
    let dense32 = f32_mat(&MatrixRef::sparse(&csr).unwrap().to_dense().unwrap());
    let views = [
        ("csr", MatrixRef::sparse(&csr32).unwrap()),
        ("dense", MatrixRef::dense(dense32.as_ref()).unwrap()),
    ];
    let mut cases = Vec::new();
    for (name, view) in views {
        cases.push(case(format!("f32 tensor sketches on {name}"), move |par| {
            let ts = TensorSketch::new(3, 16, 64, Seed::new(66)).unwrap();
            let tr = TreeSketch::new(4, 16, 64, Seed::new(67)).unwrap();
            let f =
                PolyKernelFeatures::new(16, PolyKernelParams::default(), Seed::new(68)).unwrap();
            vec![
                mat32("TensorSketch", &ts.apply_rows(view, par).unwrap()),
                mat32("TreeSketch", &tr.apply_rows(view, par).unwrap()),
                mat32("PolyKernelFeatures", &f.transform(view, par).unwrap()),
            ]
        }));
    }
    check_all(cases);
}

#[test]
fn tensor_sketch_tiny_many_threads() {
    let lays: Vec<Layouts> = [(1, 1), (2, 3), (3, 2)]
        .iter()
        .map(|&(n, d)| Layouts::new(tiny_csr(n, d)))
        .collect();
    let mut cases = Vec::new();
    for lay in &lays {
        let tag = format!("tiny {}x{}", lay.csr.rows(), lay.csr.cols());
        cases.extend(tensor_sketch_cases(&tag, lay, lay.csr.rows()));
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Symmetric tensors and the tensor power method.

fn tensor_cases<'a>(
    tag: &str,
    t: &'a randnla::tensor::SymmetricTensor,
    coo: &'a randnla::tensor::SymmetricTensor,
    sketch_dim: usize,
    power: bool,
) -> Vec<Case<'a>> {
    use randnla::tensor::*;
    let n = t.dim();
    let u: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.7 + 0.3).sin()).collect();
    let mut cases = Vec::new();
    for (storage, tt) in [("dense", t), ("coordinate", coo)] {
        let uc = u.clone();
        cases.push(case(
            format!("{tag} contractions on {storage}"),
            move |par| {
                vec![
                    vecf("contract_but_one", &tt.contract_but_one(&uc, par).unwrap()),
                    scalar("contract_all", tt.contract_all(&uc, par).unwrap()),
                ]
            },
        ));
        for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
            let u = u.clone();
            cases.push(case(
                format!("{tag} TensorSketches {hashing:?} on {storage}"),
                move |par| {
                    let mut s = TensorSketches::with_hashing(
                        tt,
                        6,
                        sketch_dim,
                        hashing,
                        Seed::new(71),
                        par,
                    )
                    .unwrap();
                    let mut out = vec![
                        vecf("contract_but_one", &s.contract_but_one(&u, par).unwrap()),
                        scalar("contract_all", s.contract_all(&u, par).unwrap()),
                        vecf("estimates_all", &s.estimates_all(&u, par).unwrap()),
                    ];
                    for (b, e) in s.estimates_but_one(&u, par).unwrap().iter().enumerate() {
                        out.push(vecf(format!("estimates_but_one[{b}]"), e));
                    }
                    s.deflate(0.5, &u, par).unwrap();
                    out.push(vecf("after deflate", &s.contract_but_one(&u, par).unwrap()));
                    out.push(vecf(
                        "tensor_sketch(0) after deflate",
                        &s.tensor_sketch(0).unwrap(),
                    ));
                    out
                },
            ));
        }
    }
    if power {
        cases.push(case(
            format!("{tag} power_method_exact / sketched / on_sketches"),
            move |par| {
                let mut out = Vec::new();
                let pp = PowerParams {
                    starts: 5,
                    iters: 10,
                    refine_iters: 10,
                };
                let e = power_method_exact(t, 2, &pp, Seed::new(72), par).unwrap();
                for (h, hashing) in [ModeHashing::PerMode, ModeHashing::Shared, ModeHashing::Auto]
                    .into_iter()
                    .enumerate()
                {
                    let sp = SketchParams {
                        power: pp.clone(),
                        sketches: 6,
                        sketch_dim,
                        hashing,
                        ..Default::default()
                    };
                    let s = power_method_sketched(t, 2, &sp, Seed::new(73), par).unwrap();
                    out.push(vecf(format!("sketched {h} weights"), &s.weights));
                    for (i, f) in s.factors.iter().enumerate() {
                        out.push(vecf(format!("sketched {h} factor {i}"), f));
                    }
                }
                let sk = TensorSketches::new(t, 6, sketch_dim, Seed::new(74), par).unwrap();
                let sp = SketchParams {
                    power: pp.clone(),
                    sketches: 6,
                    sketch_dim,
                    ..Default::default()
                };
                let o = power_method_on_sketches(sk, 2, &sp, Seed::new(75), par).unwrap();
                out.push(vecf("exact weights", &e.weights));
                for (i, f) in e.factors.iter().enumerate() {
                    out.push(vecf(format!("exact factor {i}"), f));
                }
                out.push(vecf("on_sketches weights", &o.weights));
                for (i, f) in o.factors.iter().enumerate() {
                    out.push(vecf(format!("on_sketches factor {i}"), f));
                }
                out.push(scalar(
                    "residual_rel",
                    residual_rel(t, &e.weights, &e.factors, par).unwrap(),
                ));
                out
            },
        ));
    }
    cases
}

#[test]
fn tensor_large() {
    use randnla::tensor::SymmetricTensor;
    // Order 3, n = 60: 216 000 dense entries (15 tasks of 4 rows at 60 rows), 37 820 unique
    // coordinate entries (two tasks of 32 768).
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 60, 3, 0.01, Seed::new(76)).unwrap();
    let coo = common::to_coordinate(&t);
    check_all(tensor_cases("order 3 n=60", &t, &coo, 256, true));
}

#[test]
fn tensor_order4_large() {
    use randnla::tensor::SymmetricTensor;
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(4, 24, 2, 0.01, Seed::new(77)).unwrap();
    let coo = common::to_coordinate(&t);
    check_all(tensor_cases("order 4 n=24", &t, &coo, 128, true));
}

#[test]
fn tensor_tiny_many_threads() {
    use randnla::tensor::SymmetricTensor;
    let ts: Vec<(SymmetricTensor, SymmetricTensor)> = [1usize, 2, 3]
        .iter()
        .map(|&n| {
            let (t, _, _) =
                SymmetricTensor::synthetic_orthogonal(3, n, 1, 0.01, Seed::new(78 + n as u64))
                    .unwrap();
            let c = common::to_coordinate(&t);
            (t, c)
        })
        .collect();
    let mut cases = Vec::new();
    for (t, c) in &ts {
        cases.extend(tensor_cases(
            &format!("tiny order 3 n={}", t.dim()),
            t,
            c,
            16,
            true,
        ));
    }
    check_all(cases);
}

/// Every field of a decomposition: weights, factors, each component's diagnostics
/// (`final_change`, `weight_spread`, `best_start`, `start_values`) and the counts.
fn cp_outs(tag: &str, cp: &randnla::tensor::CpDecomposition) -> Vec<Out> {
    let mut out = vec![vecf(format!("{tag} weights"), &cp.weights)];
    for (i, f) in cp.factors.iter().enumerate() {
        out.push(vecf(format!("{tag} factor {i}"), f));
    }
    let c = &cp.components;
    out.push(vecf(
        format!("{tag} final_change"),
        &c.iter().map(|c| c.final_change).collect::<Vec<_>>(),
    ));
    // `None` and `Some` are told apart by the label, the values by their bits.
    out.push(vecf(
        format!(
            "{tag} weight_spread {:?}",
            c.iter()
                .map(|c| c.weight_spread.is_some())
                .collect::<Vec<_>>()
        ),
        &c.iter()
            .map(|c| c.weight_spread.unwrap_or(f64::NAN))
            .collect::<Vec<_>>(),
    ));
    out.push(vecf(
        format!("{tag} best_start"),
        &c.iter().map(|c| c.best_start as f64).collect::<Vec<_>>(),
    ));
    for (i, c) in c.iter().enumerate() {
        out.push(vecf(format!("{tag} start_values {i}"), &c.start_values));
    }
    out.push(vecf(
        format!("{tag} counts ({:?}, {:?})", cp.method, cp.sketch_shape),
        &[cp.contractions as f64, cp.exact_sweeps as f64],
    ));
    out
}

/// `refine_exact` with 0 and 2 sweeps from each start, on dense and coordinate storage.
fn refine_cases<'a>(
    tag: &str,
    t: &'a randnla::tensor::SymmetricTensor,
    coo: &'a randnla::tensor::SymmetricTensor,
    starts: Vec<(&'static str, randnla::tensor::CpDecomposition)>,
) -> Vec<Case<'a>> {
    use randnla::tensor::refine_exact;
    let mut cases = Vec::new();
    for (storage, tt) in [("dense", t), ("coordinate", coo)] {
        for (start, cp) in &starts {
            let cp = cp.clone();
            cases.push(case(
                format!("{tag} refine_exact from {start} on {storage}"),
                move |par| {
                    let mut out = Vec::new();
                    for sweeps in [0usize, 2] {
                        let r = refine_exact(tt, &cp, sweeps, par).unwrap();
                        out.extend(cp_outs(&format!("sweeps={sweeps}"), &r));
                    }
                    out
                },
            ));
        }
    }
    cases
}

/// A start at the true components, each factor moved off by about 0.05, scaled to length
/// `1 + j/10`, and (at odd order) every other one flipped with its weight negated: the
/// normalization and sign rules run too. `like` supplies the per-component records.
fn perturbed_start(
    weights: &[f64],
    factors: &[Vec<f64>],
    like: &randnla::tensor::CpDecomposition,
) -> randnla::tensor::CpDecomposition {
    let mut cp = like.clone();
    cp.weights = weights
        .iter()
        .enumerate()
        .map(|(j, &w)| if j % 2 == 1 { -w } else { w })
        .collect();
    cp.factors = factors
        .iter()
        .enumerate()
        .map(|(j, a)| {
            let sign = if j % 2 == 1 { -1.0 } else { 1.0 };
            let len = 1.0 + j as f64 / 10.0;
            a.iter()
                .enumerate()
                .map(|(i, &x)| sign * len * (x + 0.05 * ((i * 13 + j * 7) as f64).sin()))
                .collect()
        })
        .collect();
    cp
}

#[test]
fn tensor_refine_exact_large() {
    use randnla::tensor::*;
    // Order 3, n = 40, rank 20: two lockstep groups of contractions (16 + 4 components), each a
    // pass over 64 000 dense entries (10 tasks of 4 rows).
    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(3, 40, 20, 0.01, Seed::new(101)).unwrap();
    let coo = common::to_coordinate(&t);
    let sp = common::section7_sketch_params(ModeHashing::Auto);
    let sketched = power_method_sketched(&t, 20, &sp, Seed::new(102), Par::Seq).unwrap();
    let perturbed = perturbed_start(&w, &a, &sketched);
    check_all(refine_cases(
        "order 3 n=40 rank 20",
        &t,
        &coo,
        vec![("sketched", sketched), ("perturbed truth", perturbed)],
    ));
}

#[test]
fn tensor_refine_exact_tiny_many_threads() {
    use randnla::tensor::*;
    // n = 1, 2, 3 with rank n: fewer rows and components than threads.
    let ts: Vec<_> = [1usize, 2, 3]
        .iter()
        .map(|&n| {
            let (t, w, a) =
                SymmetricTensor::synthetic_orthogonal(3, n, n, 0.01, Seed::new(103 + n as u64))
                    .unwrap();
            let pp = PowerParams {
                starts: 3,
                iters: 5,
                refine_iters: 5,
            };
            let exact = power_method_exact(&t, n, &pp, Seed::new(107), Par::Seq).unwrap();
            let perturbed = perturbed_start(&w, &a, &exact);
            let coo = common::to_coordinate(&t);
            (t, coo, exact, perturbed)
        })
        .collect();
    let mut cases = Vec::new();
    for (t, coo, exact, perturbed) in &ts {
        cases.extend(refine_cases(
            &format!("tiny order 3 n={}", t.dim()),
            t,
            coo,
            vec![
                ("exact", exact.clone()),
                ("perturbed truth", perturbed.clone()),
            ],
        ));
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Active learning.

fn active_cases<'a>(tag: &str, lay: &'a Layouts, y: &'a [f64], k: usize) -> Vec<Case<'a>> {
    use randnla::active::*;
    use randnla::leverage::ApproxParams;
    let mut cases = Vec::new();
    for (view_name, view) in lay.views() {
        for basis in [
            Basis::Exact,
            Basis::Sketched { sketch_rows: None },
            Basis::AsGiven,
        ] {
            cases.push(case(
                format!("{tag} Pool {basis:?} + Learner on {view_name}"),
                move |par| {
                    let pool = Pool::new(view, basis, Seed::new(81), par).unwrap();
                    let mut out = vec![
                        vecf("scores", pool.scores()),
                        vecf("whitening", pool.whitening()),
                    ];
                    let (beta, r) = pool.least_squares(y).unwrap();
                    out.push(vecf("least_squares", &beta));
                    out.push(scalar("least_squares residual", r));
                    out.push(scalar(
                        "residual_norm_sq",
                        pool.residual_norm_sq(&beta, y).unwrap(),
                    ));
                    for strategy in [
                        Strategy::Uniform,
                        Strategy::leverage(),
                        Strategy::Leverage(ScoreSource::Approx(ApproxParams::default())),
                        Strategy::bss(),
                    ] {
                        let name = strategy.name();
                        let mut o = Budgeted::new(SliceOracle::new(y), k);
                        let mut l = Learner::new(&pool, strategy, Seed::new(82)).unwrap();
                        l.select(k, &mut o).unwrap();
                        let (rows, w): (Vec<f64>, Vec<f64>) =
                            l.weights().iter().map(|&(i, w)| (i as f64, w)).unzip();
                        out.push(vecf(format!("{name} rows"), &rows));
                        out.push(vecf(format!("{name} weights"), &w));
                        out.push(vres(&format!("{name} fit λ=0"), l.fit(0.0).map(|f| f.0)));
                        out.push(vres(&format!("{name} fit λ=0.1"), l.fit(0.1).map(|f| f.0)));
                    }
                    out
                },
            ));
        }
    }
    cases
}

#[test]
fn active_large() {
    // 10000 rows: five 2048-row chunks (the Gram fold runs groups of min(threads, pool) chunks).
    let (x, _, _) =
        randnla::active::cauchy_problem(10_000, 8, 1.0, Seed::new(83), Seed::new(0)).unwrap();
    let mut tri = sprs::TriMat::new((10_000, 8));
    for i in 0..10_000 {
        for j in 0..8 {
            if (i + j) % 3 != 0 {
                tri.add_triplet(i, j, x[(i, j)]);
            }
        }
    }
    let lay = Layouts::new(tri.to_csr());
    let y: Vec<f64> = (0..10_000).map(|i| (i % 17) as f64 - 8.0).collect();
    check_all(active_cases("10000x8", &lay, &y, 40));
}

#[test]
fn active_tiny_many_threads() {
    let lays: Vec<Layouts> = [(1, 1), (2, 1), (3, 2), (3, 3)]
        .iter()
        .map(|&(n, d)| Layouts::new(tiny_csr(n, d)))
        .collect();
    let ys: Vec<Vec<f64>> = lays
        .iter()
        .map(|l| (0..l.csr.rows()).map(|i| 1.0 + 2.0 * i as f64).collect())
        .collect();
    let mut cases = Vec::new();
    for (lay, y) in lays.iter().zip(&ys) {
        let tag = format!("tiny {}x{}", lay.csr.rows(), lay.csr.cols());
        cases.extend(active_cases(&tag, lay, y, lay.csr.rows()));
    }
    check_all(cases);
}

// ------------------------------------------------------------------------------------------------
// Diagnostics.

fn diagnostics_cases<'a>(tag: &str, lay: &'a Layouts, m: usize) -> Vec<Case<'a>> {
    use randnla::diagnostics::*;
    let n = lay.csr.rows();
    let mut cases = Vec::new();
    for (view_name, view) in lay.views().into_iter().take(3) {
        cases.push(case(
            format!("{tag} gram / RangeBasis / distortion on {view_name}"),
            move |par| {
                let mut out = vec![mat("gram", &gram(view, par).unwrap())];
                let basis = RangeBasis::new(view, par).unwrap();
                for (name, s) in families(m, n, view) {
                    if name == "bernoulli-sampling"
                        || name == "sparse-sign s=2"
                        || name == "uniform-sampling"
                    {
                        continue;
                    }
                    out.push(scalar(
                        format!("RangeBasis::distortion {name}"),
                        basis.distortion(s.as_ref(), view, par).unwrap(),
                    ));
                    out.push(scalar(
                        format!("distortion_on_range {name}"),
                        distortion_on_range(s.as_ref(), view, par).unwrap(),
                    ));
                }
                out
            },
        ));
    }
    cases
}

#[test]
fn diagnostics_large() {
    use randnla::diagnostics::*;
    // Small route (n·d ≤ 2·10⁷: dense QR) at 20000 × 20.
    let lay = Layouts::new(sparse(20_000, 20, 6, 91));
    let q = orthonormal_basis(lay.dense.as_ref()).unwrap();
    let q = &q;
    let mut cases = diagnostics_cases("20000x20", &lay, 200);
    cases.push(case("distortion(S, Q) 20000x20", move |par| {
        families(200, 20_000, MatrixRef::dense(q.as_ref()).unwrap())
            .into_iter()
            .filter(|(n, _)| n != "bernoulli-sampling")
            .map(|(name, s)| scalar(name, distortion(s.as_ref(), q.as_ref(), par).unwrap()))
            .collect()
    }));
    cases.push(case("embedding_error(S, Q) 20000x20", move |par| {
        families(200, 20_000, MatrixRef::dense(q.as_ref()).unwrap())
            .into_iter()
            .map(|(name, s)| {
                vres(
                    &name,
                    embedding_error(s.as_ref(), q.as_ref(), par).map(|e| vec![e]),
                )
            })
            .collect()
    }));
    check_all(cases);
}

#[test]
fn diagnostics_large_cholesky_route() {
    use randnla::diagnostics::*;
    // n·d = 200 001 · 101 > 2·10⁷: RangeBasis takes the Gram/Cholesky route (CSR and CSC only:
    // a dense copy would be 160 MB).
    let csr = sparse(200_001, 101, 3, 92);
    let csc = csr.to_csc();
    let views = [
        ("csr", MatrixRef::sparse(&csr).unwrap()),
        ("csc", MatrixRef::sparse(&csc).unwrap()),
    ];
    let mut cases = Vec::new();
    for (view_name, view) in views {
        cases.push(case(
            format!("200001x101 gram / RangeBasis on {view_name}"),
            move |par| {
                let mut out = vec![mat("gram", &gram(view, par).unwrap())];
                let basis = RangeBasis::new(view, par).unwrap();
                for kind in [
                    SketchKind::CountSketch,
                    SketchKind::SparseSign { nnz_per_col: 8 },
                ] {
                    let s = kind.build::<f64>(404, 200_001, Seed::new(93)).unwrap();
                    out.push(scalar(
                        format!("RangeBasis::distortion {}", kind.name()),
                        basis.distortion(s.as_ref(), view, par).unwrap(),
                    ));
                    out.push(scalar(
                        format!("distortion_on_range {}", kind.name()),
                        distortion_on_range(s.as_ref(), view, par).unwrap(),
                    ));
                }
                out
            },
        ));
    }
    check_all(cases);
}

#[test]
fn diagnostics_tiny_many_threads() {
    use randnla::diagnostics::*;
    let lays: Vec<Layouts> = [(1, 1), (2, 1), (3, 2), (3, 3)]
        .iter()
        .map(|&(n, d)| Layouts::new(tiny_csr(n, d)))
        .collect();
    let qs: Vec<Mat<f64>> = lays
        .iter()
        .map(|l| orthonormal_basis(l.dense.as_ref()).unwrap())
        .collect();
    let mut cases = Vec::new();
    for (lay, q) in lays.iter().zip(&qs) {
        let tag = format!("tiny {}x{}", lay.csr.rows(), lay.csr.cols());
        cases.extend(diagnostics_cases(&tag, lay, lay.csr.rows() + 1));
        let n = lay.csr.rows();
        cases.push(case(format!("{tag} distortion(S, Q)"), move |par| {
            let sk = SketchKind::Gaussian
                .build::<f64>(n + 1, n, Seed::new(94))
                .unwrap();
            let qv: MatRef<'_, f64> = q.as_ref();
            vec![scalar(
                "distortion",
                distortion(sk.as_ref(), qv, par).unwrap(),
            )]
        }));
        cases.push(case(format!("{tag} embedding_error(S, Q)"), move |par| {
            // m = n + 1 > n rows and m = 1 < d (then ε ≥ 1): every family at both.
            let qv = MatrixRef::dense(q.as_ref()).unwrap();
            let mut out = Vec::new();
            for m in [n + 1, 1] {
                for (name, s) in families(m, n, qv) {
                    out.push(vres(
                        &format!("m={m} {name}"),
                        embedding_error(s.as_ref(), q.as_ref(), par).map(|e| vec![e]),
                    ));
                }
            }
            out
        }));
    }
    check_all(cases);
}

#[test]
fn kernel_regression_p3_cholesky_n1500() {
    // n = 1500: faer's blocked Cholesky of G (on `lstsq.par`) splits its updates.
    use randnla::lstsq::kernel_regression::*;
    let g = rhs_cols(1500, 16, 43);
    let a = Mat::from_fn(1500, 16, |i, j| 0.6 * g[(i, j)]);
    let b: Vec<f64> = (0..1500).map(|i| g[(i, 3)]).collect();
    let (a, b) = (&a, &b);
    check_all(vec![case(
        "1500x16 solve_p3 Cholesky on dense",
        move |par| {
            let mut p = KernelParams {
                inner_solve: InnerSolve::Cholesky,
                ..Default::default()
            };
            p.lstsq.par = par;
            vec![vres(
                "P3",
                solve_p3(MatrixRef::dense(a.as_ref()).unwrap(), b, &p).map(|r| r.0),
            )]
        },
    )]);
}

#[test]
fn poly_kernel_error_large() {
    // kernel_error's two r × r products (features and inputs) run on faer's GEMM with `par`.
    use randnla::sketch::tensor::*;
    let x = rhs_cols(800, 64, 69);
    let x = Mat::from_fn(800, 64, |i, j| x[(i, j)] / 8.0);
    let x = &x;
    check_all(vec![case(
        "800x64 PolyKernelFeatures::kernel_error rows=800",
        move |par| {
            let f =
                PolyKernelFeatures::new(64, PolyKernelParams::default(), Seed::new(70)).unwrap();
            let v = MatrixRef::dense(x.as_ref()).unwrap();
            let z = f.transform(v, par).unwrap();
            vec![
                mat("features", &z),
                scalar(
                    "kernel_error",
                    f.kernel_error(v, z.as_ref(), 800, par).unwrap(),
                ),
            ]
        },
    )]);
}

// ------------------------------------------------------------------------------------------------
// Shapes where a product the crate hands to faer with `par` is a matrix–vector product or a
// dot product: faer splits such sums across threads once they hold about 2¹⁶ terms.

/// A dense `n × 1` column (entries in [0.5, 1.5)).
fn column(n: usize) -> Mat<f64> {
    Mat::from_fn(n, 1, |i, _| 0.5 + ((i * 7919) % 1000) as f64 / 1000.0)
}

#[test]
fn diagnostics_gram_dense_single_column() {
    // AᵀA of a dense 100000 × 1 A: a 1 × 1 output summing 100 000 products.
    let a = column(100_000);
    let a = &a;
    check_all(vec![case("gram of dense 100000x1", move |par| {
        let g = randnla::diagnostics::gram(MatrixRef::dense(a.as_ref()).unwrap(), par).unwrap();
        vec![mat("gram", &g)]
    })]);
}

#[test]
fn normal_equations_dense_single_column() {
    let a = column(100_000);
    let b: Vec<f64> = (0..100_000)
        .map(|i| ((i * 31) % 97) as f64 / 50.0 - 1.0)
        .collect();
    let (a, b) = (&a, &b);
    check_all(vec![case(
        "normal_equations on dense 100000x1",
        move |par| {
            let x = randnla::lstsq::normal_equations(
                MatrixRef::dense(a.as_ref()).unwrap(),
                b,
                0.0,
                par,
            );
            vec![vres("x", x)]
        },
    )]);
}

#[test]
fn kernel_regression_p1_p2_dense_single_column() {
    use randnla::lstsq::kernel_regression::*;
    let a = Mat::from_fn(100_000, 1, |i, _| {
        (0.5 + ((i * 7919) % 1000) as f64 / 1000.0) / 300.0
    });
    let b2: Vec<f64> = (0..100_000)
        .map(|i| ((i * 31) % 97) as f64 / 50.0 - 1.0)
        .collect();
    let (a, b2) = (&a, &b2);
    let mut cases = Vec::new();
    for route in [InnerSolve::Auto, InnerSolve::Cholesky, InnerSolve::Cg] {
        cases.push(case(
            format!("solve_p1/p2 {route:?} on dense 100000x1"),
            move |par| {
                let mut p = KernelParams {
                    inner_solve: route,
                    ..Default::default()
                };
                p.lstsq.par = par;
                let v = MatrixRef::dense(a.as_ref()).unwrap();
                vec![
                    vres("P1 j=1", solve_p1(v, 1, &[0.75], &p).map(|r| r.0)),
                    vres("P2 j=1", solve_p2(v, 1, b2, &p).map(|r| r.0)),
                ]
            },
        ));
    }
    check_all(cases);
}

#[test]
fn leverage_dense_rank_one() {
    use randnla::leverage::*;
    // A rank-one dense 20000 × 30 matrix (columns proportional).
    let u = column(20_000);
    let rank1 = Mat::from_fn(20_000, 30, |i, j| u[(i, 0)] * (1.0 + j as f64 / 7.0));
    let rank1 = &rank1;
    check_all(vec![
        case(
            "exact SketchCholesky on dense rank-1 20000x30",
            move |par| {
                let p = ExactParams {
                    method: ExactMethod::SketchCholesky,
                    ..Default::default()
                };
                let v = MatrixRef::dense(rank1.as_ref()).unwrap();
                vec![vres(
                    "scores",
                    exact_leverage_scores(v, &p, par).map(|r| r.0),
                )]
            },
        ),
        case("approx on dense rank-1 20000x30", move |par| {
            let v = MatrixRef::dense(rank1.as_ref()).unwrap();
            let p = ApproxParams::default();
            vec![vres(
                "scores",
                approx_leverage_scores(v, &p, Seed::new(1), par).map(|r| r.0),
            )]
        }),
    ]);
}

#[test]
fn leverage_dense_single_jl_column() {
    use randnla::leverage::*;
    // Full-rank dense 20000 × 30 with jl_dim = 1: the score pass multiplies 8192 × 30 row blocks
    // by the 30 × 1 matrix R⁻¹G. (The same matrix stored as CSR passes:
    // `leverage_single_jl_column_csr`.)
    let full = rhs_cols(20_000, 30, 99);
    let full = &full;
    check_all(vec![case(
        "approx jl_dim=1 on dense 20000x30",
        move |par| {
            let v = MatrixRef::dense(full.as_ref()).unwrap();
            let p = ApproxParams {
                jl_dim: 1,
                ..Default::default()
            };
            vec![
                vres(
                    "scores",
                    approx_leverage_scores(v, &p, Seed::new(1), par).map(|r| r.0),
                ),
                vres(
                    "ridge scores",
                    approx_ridge_leverage_scores(v, 0.5, &p, Seed::new(1), par).map(|r| r.0),
                ),
            ]
        },
    )]);
}

#[test]
fn poly_kernel_error_one_wide_row() {
    use randnla::sketch::tensor::*;
    // One row of 100000 columns: kernel_error's exact kernel is a 1 × 1 product over 100 000
    // terms.
    let x = Mat::from_fn(1, 100_000, |_, j| {
        (0.5 + ((j * 7919) % 1000) as f64 / 1000.0) / 300.0
    });
    let x = &x;
    check_all(vec![case("kernel_error on dense 1x100000", move |par| {
        let params = PolyKernelParams {
            sketch_dim: 64,
            ..Default::default()
        };
        let f = PolyKernelFeatures::new(100_000, params, Seed::new(70)).unwrap();
        let v = MatrixRef::dense(x.as_ref()).unwrap();
        let z = f.transform(v, par).unwrap();
        vec![
            mat("features", &z),
            vres(
                "kernel_error",
                f.kernel_error(v, z.as_ref(), 1, par).map(|e| vec![e]),
            ),
        ]
    })]);
}

#[test]
fn poly_kernel_error_one_row_many_features() {
    use randnla::sketch::tensor::*;
    // One row, 8 columns, 131072 features: the feature Gram φφᵀ is a 1 × 1 product over
    // 131 072 terms.
    let x = Mat::from_fn(1, 8, |_, j| 0.1 * (j as f64 + 1.0));
    let x = &x;
    check_all(vec![case(
        "kernel_error on 1x8, sketch_dim 131072",
        move |par| {
            let params = PolyKernelParams {
                sketch_dim: 1 << 17,
                ..Default::default()
            };
            let f = PolyKernelFeatures::new(8, params, Seed::new(71)).unwrap();
            let v = MatrixRef::dense(x.as_ref()).unwrap();
            let z = f.transform(v, par).unwrap();
            vec![
                mat("features", &z),
                vres(
                    "kernel_error",
                    f.kernel_error(v, z.as_ref(), 1, par).map(|e| vec![e]),
                ),
            ]
        },
    )]);
}

#[test]
fn kernel_regression_p3_one_wide_row() {
    use randnla::lstsq::kernel_regression::*;
    // P3 on a dense 1 × 100000 A: G = A·Aᵀ is a 1 × 1 product over 100 000 terms.
    let a = Mat::from_fn(1, 100_000, |_, j| {
        (0.5 + ((j * 7919) % 1000) as f64 / 1000.0) / 300.0
    });
    let a = &a;
    check_all(vec![case("solve_p3 on dense 1x100000", move |par| {
        let mut p = KernelParams::default();
        p.lstsq.par = par;
        let v = MatrixRef::dense(a.as_ref()).unwrap();
        vec![vres("P3", solve_p3(v, &[0.75], &p).map(|r| r.0))]
    })]);
}

#[test]
fn leverage_single_jl_column_csr() {
    use randnla::leverage::*;
    // `leverage_dense_single_jl_column`'s matrix stored as CSR (every entry stored): the score
    // pass runs the crate's own row kernel instead of faer's product, and the bits agree.
    let full = rhs_cols(20_000, 30, 99);
    let mut tri = sprs::TriMat::new((20_000, 30));
    for i in 0..20_000 {
        for j in 0..30 {
            tri.add_triplet(i, j, full[(i, j)]);
        }
    }
    let csr: sprs::CsMat<f64> = tri.to_csr();
    let csr = &csr;
    check_all(vec![case(
        "approx jl_dim=1 on csr 20000x30 (every entry stored)",
        move |par| {
            let v = MatrixRef::sparse(csr).unwrap();
            let p = ApproxParams {
                jl_dim: 1,
                ..Default::default()
            };
            vec![vres(
                "scores",
                approx_leverage_scores(v, &p, Seed::new(1), par).map(|r| r.0),
            )]
        },
    )]);
}

#[test]
fn leverage_single_jl_column_600_columns() {
    use randnla::leverage::*;
    // d = 600 on CSR: the one-column triangular solve with R₁₁ of order 600. Controls with the
    // same matrix and sketch (so the same pivoted QR) and jl_dim = 2 or 0 pass:
    // `leverage_wide_600_columns`.
    let wide = sparse(2000, 600, 12, 98);
    let wide = &wide;
    check_all(vec![case(
        "approx jl_dim=1 m1=640 on csr 2000x600",
        move |par| {
            let v = MatrixRef::sparse(wide).unwrap();
            let p = ApproxParams {
                jl_dim: 1,
                sketch_rows: Some(640),
                ..Default::default()
            };
            vec![vres(
                "scores",
                approx_leverage_scores(v, &p, Seed::new(1), par).map(|r| r.0),
            )]
        },
    )]);
}

#[test]
fn leverage_wide_600_columns() {
    use randnla::leverage::*;
    // Controls for `leverage_single_jl_column_sparse`: the same 2000 × 600 CSR matrix and
    // 640-row sketch (so the same pivoted QR on `par`) with jl_dim = 2 and 0 (multi-column
    // triangular solves).
    let wide = sparse(2000, 600, 12, 98);
    let wide = &wide;
    check_all(vec![case(
        "approx jl_dim=2,0 m1=640 on csr 2000x600",
        move |par| {
            let v = MatrixRef::sparse(wide).unwrap();
            let mut out = Vec::new();
            for jl in [2usize, 0] {
                let p = ApproxParams {
                    jl_dim: jl,
                    sketch_rows: Some(640),
                    ..Default::default()
                };
                out.push(vres(
                    &format!("jl_dim={jl}"),
                    approx_leverage_scores(v, &p, Seed::new(1), par).map(|r| r.0),
                ));
            }
            out
        },
    )]);
}

#[test]
fn leverage_dense_identical_columns() {
    use randnla::leverage::*;
    // Every column the same (rank one; the numerical rank found is recorded as an output).
    let u = column(20_000);
    let a = Mat::from_fn(20_000, 30, |i, _| u[(i, 0)]);
    let a = &a;
    check_all(vec![case(
        "exact SketchCholesky / approx on dense 20000x30 identical columns",
        move |par| {
            let v = MatrixRef::dense(a.as_ref()).unwrap();
            let p = ExactParams {
                method: ExactMethod::SketchCholesky,
                ..Default::default()
            };
            let e = exact_leverage_scores(v, &p, par);
            let rank = e.as_ref().map(|r| r.1.rank as f64).unwrap_or(-1.0);
            vec![
                scalar("rank", rank),
                vres("exact", e.map(|r| r.0)),
                vres(
                    "approx",
                    approx_leverage_scores(v, &ApproxParams::default(), Seed::new(1), par)
                        .map(|r| r.0),
                ),
            ]
        },
    )]);
}

#[test]
fn kernel_regression_p3_nystrom_rank_600() {
    use randnla::lstsq::kernel_regression::*;
    // Nyström rank 600 ≥ 512: the core's Cholesky (`Mat::llt`, faer's global parallelism) and
    // the triangular solve with it (on `par`) at order 600.
    let g = rhs_cols(700, 16, 42);
    let a = Mat::from_fn(700, 16, |i, j| 0.4 * g[(i, j)]);
    let b: Vec<f64> = (0..700)
        .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
        .collect();
    let (a, b) = (&a, &b);
    check_all(vec![case(
        "solve_p3 Cg nystrom_rank=600 on dense 700x16",
        move |par| {
            let mut p = KernelParams {
                inner_solve: InnerSolve::Cg,
                nystrom_rank: Some(600),
                ..Default::default()
            };
            p.lstsq.par = par;
            vec![vres(
                "P3",
                solve_p3(MatrixRef::dense(a.as_ref()).unwrap(), b, &p).map(|r| r.0),
            )]
        },
    )]);
}

#[test]
fn diagnostics_range_basis_cholesky_route_520_columns() {
    // n·d = 40000 · 520 > 2·10⁷: the Gram/Cholesky route at d ≥ 512 (`Mat::llt` of the 520 × 520
    // Gram, the triangular solve of (SA)ᵀ on `par`).
    let csr = sparse(40_000, 520, 3, 5);
    let csr = &csr;
    check_all(vec![case(
        "RangeBasis::distortion on csr 40000x520",
        move |par| {
            let v = MatrixRef::sparse(csr).unwrap();
            let sk = SketchKind::CountSketch
                .build::<f64>(1100, 40_000, Seed::new(6))
                .unwrap();
            let rb = randnla::diagnostics::RangeBasis::new(v, par).unwrap();
            vec![scalar(
                "distortion",
                rb.distortion(sk.as_ref(), v, par).unwrap(),
            )]
        },
    )]);
}
