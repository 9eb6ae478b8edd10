//! Review of the figures the command-line examples report, recomputed from their definitions
//! (not from the library call the example wraps, which `tests/examples_json_review.rs` does):
//! each input is built here as an integer-valued `Mat` and written as Matrix Market text by this
//! file (array, integer coordinate, coordinate with every entry split into two duplicate lines,
//! symmetric lower triangle), so the reference never goes through `randnla::io`'s reader; the
//! example runs with `--json` and `--out`, and the figure is recomputed in f64 from the `Mat` and
//! the file it wrote, with faer's dense SVD:
//!
//! * `sketch`: `distortion` = κ(S·Q), `Q` the left singular vectors of `A` (rank by
//!   `σᵢ > max(n, d)·u·σ₁`), from `S·Q = (S·A)·V_r·Σ_r⁻¹`;
//! * `lstsq`: `residual_norm` = `‖b − Ax‖` and `normal_eq_residual` =
//!   `‖Aᵀr − λx‖/(√(σ₁² + λ)·√(‖r‖² + λ‖x‖²))` with the exact spectral norm `σ₁` (a Frobenius
//!   norm, or an estimate far off `σ₁`, fails: `‖A‖_F/‖A‖₂ > 1.5` on these inputs), and the
//!   table the example prints without `--json` shows the same two figures;
//! * `leverage`: the scores written out against `‖e_iᵀU_r‖²` (ridge: `Σ_k U_ik²σ_k²/(σ_k² + λ)`),
//!   `sum_of_scores`/`max_score` against the file, and `--check`'s `max_rel_error` against the
//!   true relative error over the rows whose true score is positive;
//! * `poly_features`: `kernel_rel_error` = `‖ΦΦᵀ − K‖_F/‖K‖_F`, `K = (γXXᵀ + c)^p`;
//! * `attention`: `poly-exact` output against `Σ_j⟨q_i,k_j⟩^p v_j/(1 + Σ_j⟨q_i,k_j⟩^p)` (causal:
//!   `j ≤ i`), softmax against `softmax(S·QKᵀ)V`, and `poly-sketch --check`'s `rel_error`
//!   against `‖O − E‖_F/‖E‖_F` from the written output.
//!
//! Runs the example binaries under `target/<profile>/examples/` (`cargo build --examples`, or a
//! full `cargo test`, first).

use crate::common;
use common::json::{self, J};
use common::{run_example, TempFiles};
use faer::Mat;
use randnla::io::{read_dense_path, ReadOptions};
use std::fmt::Write as _;

const U: f64 = f64::EPSILON / 2.0;

/// How a test input is written.
#[derive(Clone, Copy, Debug)]
enum Format {
    /// `array real general`, column-major.
    Array,
    /// `coordinate integer general`, zeros left out.
    IntCoordinate,
    /// `coordinate real general`, every nonzero `v` written as two lines `⌊v/2⌋` and `v − ⌊v/2⌋`
    /// (integers, so the duplicates sum to `v` exactly).
    Duplicates,
    /// `coordinate real symmetric`, the lower triangle (the matrix must be symmetric).
    Symmetric,
}

fn write_mtx(path: &str, a: &Mat<f64>, format: Format) {
    let (n, d) = (a.nrows(), a.ncols());
    let mut s = String::new();
    let mut lines = Vec::new();
    match format {
        Format::Array => {
            writeln!(s, "%%MatrixMarket matrix array real general\n{n} {d}").unwrap();
            for j in 0..d {
                for i in 0..n {
                    writeln!(s, "{:?}", a[(i, j)]).unwrap();
                }
            }
        }
        Format::IntCoordinate | Format::Duplicates | Format::Symmetric => {
            for j in 0..d {
                for i in 0..n {
                    let v = a[(i, j)];
                    if v == 0.0 || (matches!(format, Format::Symmetric) && i < j) {
                        continue;
                    }
                    match format {
                        Format::IntCoordinate => lines.push(format!("{} {} {}", i + 1, j + 1, v)),
                        Format::Duplicates => {
                            let h = (v / 2.0).floor();
                            lines.push(format!("{} {} {:?}", i + 1, j + 1, h));
                            lines.push(format!("{} {} {:?}", i + 1, j + 1, v - h));
                        }
                        _ => lines.push(format!("{} {} {:?}", i + 1, j + 1, v)),
                    }
                }
            }
            let header = match format {
                Format::IntCoordinate => "coordinate integer general",
                Format::Duplicates => "coordinate real general",
                _ => "coordinate real symmetric",
            };
            writeln!(s, "%%MatrixMarket matrix {header}\n{n} {d} {}", lines.len()).unwrap();
            for l in &lines {
                writeln!(s, "{l}").unwrap();
            }
        }
    }
    std::fs::write(path, s).unwrap();
}

/// An integer-valued `n × d` matrix from a fixed LCG, entries in `−4..=4`, about a third zero.
fn int_mat(n: usize, d: usize, seed: u64) -> Mat<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Mat::from_fn(n, d, |_, _| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = ((state >> 33) % 13) as i64 - 6;
        if v.abs() > 4 {
            0.0
        } else {
            v as f64
        }
    })
}

/// Runs `name args --json`, asserting exit code 0; the parsed last stdout line and all stdout.
fn json_run(name: &str, args: &[&str]) -> (J, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.push("--json");
    let out = run_example(name, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().expect("a JSON line").to_string();
    let j = json::parse(&last).unwrap_or_else(|e| panic!("{name} {args:?}: {e}: {last}"));
    (j, stdout)
}

fn num(j: &J, key: &str) -> Option<f64> {
    j.get(key)
        .unwrap_or_else(|| panic!("no field {key} in {j:?}"))
        .num()
}

fn read(path: &str) -> Mat<f64> {
    read_dense_path(path, &ReadOptions::default()).unwrap()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Thin SVD `(U, σ descending, V)` of `a`.
fn svd(a: &Mat<f64>) -> (Mat<f64>, Vec<f64>, Mat<f64>) {
    let s = a.thin_svd().expect("SVD");
    let sv: Vec<f64> = s.S().column_vector().iter().copied().collect();
    assert!(sv.windows(2).all(|w| w[0] >= w[1]), "σ not descending");
    (s.U().to_owned(), sv, s.V().to_owned())
}

fn kappa(m: &Mat<f64>) -> f64 {
    let mut s = m.singular_values().expect("SVD");
    s.sort_by(|x, y| y.total_cmp(x));
    s[0] / s[s.len() - 1]
}

/// The inputs of the sketch, lstsq and leverage tests: (label, matrix, format).
fn inputs() -> Vec<(&'static str, Mat<f64>, Format)> {
    let sym = {
        let g = int_mat(40, 40, 3);
        Mat::from_fn(40, 40, |i, j| g[(i, j)] + g[(j, i)])
    };
    let deficient = {
        // Column 5 = column 0 + column 1: rank 5 of 6.
        let g = int_mat(90, 6, 4);
        Mat::from_fn(90, 6, |i, j| {
            if j == 5 {
                g[(i, 0)] + g[(i, 1)]
            } else {
                g[(i, j)]
            }
        })
    };
    vec![
        ("array 120x6", int_mat(120, 6, 1), Format::Array),
        (
            "integer coordinate 300x8",
            int_mat(300, 8, 2),
            Format::IntCoordinate,
        ),
        ("duplicates 150x5", int_mat(150, 5, 5), Format::Duplicates),
        ("symmetric 40x40", sym, Format::Symmetric),
        ("rank-deficient 90x6", deficient, Format::Array),
    ]
}

/// `sketch --out SA.mtx`: `distortion` is κ(S·Q) for an orthonormal basis `Q` of `range(A)`,
/// recomputed as `κ((S·A)·V_r·Σ_r⁻¹)` from the written `S·A` and the SVD of `A` (rank `r` by
/// `σᵢ > max(n, d)·u·σ₁`), to a relative `10⁻⁸` (the inputs have κ(A) < 10³); a null
/// `distortion` must come with a recomputed κ above `10¹⁰` (S·Q singular to working precision).
/// Also `n`, `d`, `m` and the distortion in the human-readable line (4 decimals) against the JSON.
#[test]
fn sketch_distortion_is_kappa_of_s_times_an_orthonormal_basis() {
    let tmp = TempFiles::new("clifig-sketch", "k");
    let mut checked = 0;
    for (label, a, format) in inputs() {
        let (n, d) = (a.nrows(), a.ncols());
        let path = tmp.path("A.mtx");
        write_mtx(&path, &a, format);
        let (_, s, v) = svd(&a);
        let r = s
            .iter()
            .filter(|&&x| x > n.max(d) as f64 * U * s[0])
            .count();
        for (kind, m) in [
            ("count", 4 * d),
            ("sparse-sign", 3 * d),
            ("gaussian", 2 * d),
            ("srht", 2 * d),
        ] {
            if kind == "srht" && m > n.next_power_of_two() {
                continue;
            }
            let out = tmp.path("SA.mtx");
            let rows = m.to_string();
            let args = [
                path.as_str(),
                "--sketch",
                kind,
                "--rows",
                &rows,
                "--seed",
                "7",
                "--out",
                &out,
            ];
            let (j, stdout) = json_run("sketch", &args);
            let what = format!("{label} {kind} m={m}");
            assert_eq!(num(&j, "n"), Some(n as f64), "{what}");
            assert_eq!(num(&j, "d"), Some(d as f64), "{what}");
            assert_eq!(num(&j, "m"), Some(m as f64), "{what}");
            let sa = read(&out);
            assert_eq!((sa.nrows(), sa.ncols()), (m, d), "{what}");
            let sq = Mat::from_fn(m, r, |i, k| {
                (0..d).map(|l| sa[(i, l)] * v[(l, k)]).sum::<f64>() / s[k]
            });
            let want = kappa(&sq);
            match num(&j, "distortion") {
                Some(got) => {
                    assert!(
                        (got - want).abs() <= 1e-8 * want,
                        "{what}: distortion {got} vs κ(SQ) = {want}"
                    );
                    let line = stdout
                        .lines()
                        .find_map(|l| l.strip_prefix("distortion κ(SQ) on range(A): "))
                        .expect("the distortion line");
                    let shown: f64 = line.trim().parse().unwrap();
                    assert!((shown - got).abs() <= 0.5e-4 + 1e-12, "{what}: {line}");
                }
                None => assert!(want > 1e10, "{what}: distortion null but κ(SQ) = {want}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked} runs checked");
}

/// `lstsq --out x.mtx`: `residual_norm` is `‖b − Ax‖` and `normal_eq_residual` is
/// `‖Aᵀr − λx‖/(√(σ₁² + λ)·√(‖r‖² + λ‖x‖²))` with `σ₁ = ‖A‖₂` exactly (the documented spectral
/// norm; ‖A‖_F is over 1.5·σ₁ on every input here), for runs whose `x` is not optimal (LSQR at
/// `--tol 1e-3`, sketch-and-solve), so the figure is far above rounding: relative `10⁻⁶` plus
/// the rounding bound `(σ₁·δr + (n + 2)·u·‖|A|ᵀ|r|‖)/(σ₁·‖r‖)`, `δr = (d + 2)·u·‖|b| + |A||x|‖`
/// (which also bounds `residual_norm`, with relative `10⁻¹²`). The table printed without
/// `--json` shows the same two figures (to its 7 and 4 significant digits).
#[test]
fn lstsq_figures_are_their_definitions_with_the_spectral_norm() {
    let tmp = TempFiles::new("clifig-lstsq", "r");
    let mut checked = 0;
    for (label, a, format) in inputs() {
        if label.starts_with("rank") || label.starts_with("symmetric") {
            continue; // consistent (square) or rank deficient: figures at rounding level
        }
        let (n, d) = (a.nrows(), a.ncols());
        let (path, bpath) = (tmp.path("A.mtx"), tmp.path("b.mtx"));
        write_mtx(&path, &a, format);
        let g = int_mat(n, 1, 99);
        let b: Vec<f64> = (0..n).map(|i| g[(i, 0)] + 0.5).collect();
        write_mtx(&bpath, &Mat::from_fn(n, 1, |i, _| b[i]), Format::Array);
        let (_, s, _) = svd(&a);
        let frob = (0..d)
            .flat_map(|j| (0..n).map(move |i| (i, j)))
            .map(|(i, j)| a[(i, j)] * a[(i, j)])
            .sum::<f64>()
            .sqrt();
        assert!(frob > 1.5 * s[0], "{label}: ‖A‖_F {frob} vs σ₁ {}", s[0]);
        for (method, extra, lambda) in [
            ("lsqr", &["--tol", "1e-3"][..], 0.0),
            ("lsqr", &["--tol", "1e-3", "--ridge", "2.5"][..], 2.5),
            ("sketch-solve", &["--seed", "3"][..], 0.0),
            (
                "sketch-precondition",
                &["--tol", "1e-3", "--ridge", "2.5"][..],
                2.5,
            ),
        ] {
            let out = tmp.path("x.mtx");
            let mut args = vec![path.as_str(), bpath.as_str(), "--method", method];
            args.extend_from_slice(extra);
            let (j, _) = json_run("lstsq", &[&args[..], &["--out", out.as_str()]].concat());
            let what = format!("{label} {method} {extra:?}");
            let x: Vec<f64> = {
                let m = read(&out);
                (0..d).map(|i| m[(i, 0)]).collect()
            };
            let r: Vec<f64> = (0..n)
                .map(|i| b[i] - (0..d).map(|k| a[(i, k)] * x[k]).sum::<f64>())
                .collect();
            let rn = norm(&r);
            let g: Vec<f64> = (0..d)
                .map(|k| (0..n).map(|i| a[(i, k)] * r[i]).sum::<f64>() - lambda * x[k])
                .collect();
            let want = norm(&g)
                / ((s[0] * s[0] + lambda).sqrt() * (rn * rn + lambda * norm(&x).powi(2)).sqrt());
            let dr = (d + 2) as f64
                * U
                * norm(
                    &(0..n)
                        .map(|i| b[i].abs() + (0..d).map(|k| (a[(i, k)] * x[k]).abs()).sum::<f64>())
                        .collect::<Vec<_>>(),
                );
            let atr_abs: Vec<f64> = (0..d)
                .map(|k| (0..n).map(|i| (a[(i, k)] * r[i]).abs()).sum())
                .collect();
            let tn = (s[0] * dr + (n + 2) as f64 * U * norm(&atr_abs)) / (s[0] * rn);
            let got_r = num(&j, "residual_norm").expect("residual_norm");
            let got_n = num(&j, "normal_eq_residual").expect("normal_eq_residual");
            assert!(
                (got_r - rn).abs() <= 1e-12 * rn + dr,
                "{what}: residual_norm {got_r} vs ‖b − Ax‖ = {rn}"
            );
            assert!(
                want > 1e3 * tn || method == "sketch-precondition",
                "{what}: the figure {want} is not above rounding ({tn})"
            );
            assert!(
                (got_n - want).abs() <= 1e-6 * want + tn,
                "{what}: normal_eq_residual {got_n} vs exact-σ₁ figure {want} (with ‖A‖_F: {})",
                want * (s[0] * s[0] + lambda).sqrt() / (frob * frob + lambda).sqrt()
            );
            // The table (no --json) shows the same figures.
            let table = run_example("lstsq", &args);
            let text = String::from_utf8_lossy(&table.stdout);
            let field = |prefix: &str| -> f64 {
                text.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .unwrap_or_else(|| panic!("{what}: no line {prefix:?} in {text}"))
                    .trim()
                    .parse()
                    .unwrap()
            };
            let (tr, tnr) = (field("‖b − Ax‖ = "), field("‖Aᵀr‖/(‖A‖‖r‖) = "));
            assert!(
                (tr - got_r).abs() <= 0.5e-6 * got_r,
                "{what}: table {tr} vs {got_r}"
            );
            assert!(
                (tnr - got_n).abs() <= 0.5e-3 * got_n,
                "{what}: table {tnr} vs {got_n}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
}

/// Exact leverage (and ridge leverage) scores `(ℓ, τ(λ))` of `a` from its SVD.
fn reference_scores(a: &Mat<f64>, lambda: f64) -> (Vec<f64>, usize) {
    let (n, d) = (a.nrows(), a.ncols());
    let (u, s, _) = svd(a);
    let r = s
        .iter()
        .filter(|&&x| x > n.max(d) as f64 * f64::EPSILON * s[0])
        .count();
    let scores = (0..n)
        .map(|i| {
            (0..s.len())
                .filter(|&k| k < r || lambda > 0.0)
                .map(|k| {
                    let w = if lambda > 0.0 {
                        s[k] * s[k] / (s[k] * s[k] + lambda)
                    } else {
                        1.0
                    };
                    u[(i, k)] * u[(i, k)] * w
                })
                .sum()
        })
        .collect();
    (scores, r)
}

/// `leverage --method exact --out`: every score within `10⁻⁹·ℓ_i + 10⁻¹⁴` of the SVD's
/// (ridge λ = 2: `Σ_k U_ik²σ_k²/(σ_k² + λ)`), `sum_of_scores` within `10⁻¹²` relative of the
/// written scores' sum and of the rank (λ = 0) / the statistical dimension, `max_score` exactly
/// the largest written score, `rank` the SVD's (λ = 0; `d` for λ > 0, as documented).
#[test]
fn leverage_exact_scores_and_sums_are_the_svds() {
    let tmp = TempFiles::new("clifig-lev", "e");
    for (label, a, format) in inputs() {
        let path = tmp.path("A.mtx");
        write_mtx(&path, &a, format);
        for lambda in [0.0, 2.0] {
            let out = tmp.path("s.mtx");
            let l = lambda.to_string();
            let mut args = vec![path.as_str(), "--method", "exact", "--out", &out];
            if lambda > 0.0 {
                args.extend(["--ridge", &l]);
            }
            let (j, _) = json_run("leverage", &args);
            let what = format!("{label} λ={lambda}");
            let got = read(&out);
            let got: Vec<f64> = (0..got.nrows()).map(|i| got[(i, 0)]).collect();
            let (want, r) = reference_scores(&a, lambda);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-9 * w + 1e-14,
                    "{what} row {i}: {g} vs {w}"
                );
            }
            let sum: f64 = got.iter().sum();
            let wsum: f64 = want.iter().sum();
            let reported = num(&j, "sum_of_scores").unwrap();
            assert!(
                (reported - sum).abs() <= 1e-12 * sum,
                "{what}: {reported} vs Σ {sum}"
            );
            assert!(
                (reported - wsum).abs() <= 1e-9 * wsum,
                "{what}: {reported} vs {wsum}"
            );
            let max = got.iter().copied().fold(f64::MIN, f64::max);
            assert_eq!(num(&j, "max_score"), Some(max), "{what}");
            let rank = if lambda > 0.0 { a.ncols() } else { r };
            assert_eq!(num(&j, "rank"), Some(rank as f64), "{what}");
        }
    }
}

/// `leverage --check` counted an all-zero row of `A` as a 100% error. The exact reference
/// (Householder QR) gives a zero row that lies among the first `d` rows a rounding-level score
/// (`5.9·10⁻³⁴` here; `7.7·10⁻³²` for the first row of the 4 × 2 `[0 0; 1 3; 2 1; 3 5]`) instead of
/// 0; the check keeps rows with `ℓ_i > 0`, so the approximate score, exactly 0 (right: a zero row
/// has leverage 0), gets relative error `|0 − 5.9·10⁻³⁴|/5.9·10⁻³⁴ = 1`.
///
/// Input: `100 × 2` array, first row zero, row `i` = `(1 + i mod 7, i² mod 11 − 5)` for
/// `i = 1, …, 99` (0-based); `leverage --method approx --check --seed 1 --out s.mtx --json`.
/// Reported `max_rel_error` = 1; the largest `|s_i − ℓ_i|/ℓ_i` over the rows whose true score (from
/// `(AᵀA)⁻¹`) is positive, from the written scores, is 0.388. Pass rule: the reported
/// figure within 10⁻⁶ relative of the recomputed one, and a zero row's exact score exactly 0.
/// Fixed in the library: the Householder route gives a zero row the score 0 (the
/// sketch-Cholesky route already did).
#[test]
fn leverage_check_does_not_count_a_zero_row_as_a_full_error() {
    let tmp = TempFiles::new("clifig-lev", "z");
    let n = 100;
    let a = Mat::from_fn(n, 2, |i, j| match (i, j) {
        (0, _) => 0.0,
        (_, 0) => (1 + i % 7) as f64,
        _ => ((i * i) % 11) as f64 - 5.0,
    });
    let path = tmp.path("z.mtx");
    write_mtx(&path, &a, Format::Array);
    // True leverage a_iᵀ(AᵀA)⁻¹a_i with the 2 × 2 inverse written out (integers: exact Gram).
    let g = |p: usize, q: usize| (0..n).map(|i| a[(i, p)] * a[(i, q)]).sum::<f64>();
    let (g00, g01, g11) = (g(0, 0), g(0, 1), g(1, 1));
    let det = g00 * g11 - g01 * g01;
    let lev: Vec<f64> = (0..n)
        .map(|i| {
            let (x, y) = (a[(i, 0)], a[(i, 1)]);
            (g11 * x * x - 2.0 * g01 * x * y + g00 * y * y) / det
        })
        .collect();
    let out = tmp.path("s.mtx");
    let args = [
        path.as_str(),
        "--method",
        "approx",
        "--check",
        "--seed",
        "1",
        "--out",
        &out,
    ];
    let (j, _) = json_run("leverage", &args);
    let s = read(&out);
    let want = (0..n)
        .filter(|&i| lev[i] > 0.0)
        .map(|i| (s[(i, 0)] - lev[i]).abs() / lev[i])
        .fold(0.0, f64::max);
    let got = num(&j, "max_rel_error").unwrap();
    let exact_out = tmp.path("e.mtx");
    json_run(
        "leverage",
        &[path.as_str(), "--method", "exact", "--out", &exact_out],
    );
    let zero_row_score = read(&exact_out)[(0, 0)];
    assert!(
        (got - want).abs() <= 1e-6 * want && zero_row_score == 0.0,
        "max_rel_error {got} vs {want} over rows with true ℓ > 0; exact score of the zero row \
         {zero_row_score:e}"
    );
}

/// `poly_features --out F.mtx`: `kernel_rel_error` = `‖ΦΦᵀ − K‖_F/‖K‖_F`, `K = (γXXᵀ + c)^p`,
/// from the written features, to `10⁻⁹` relative, for both methods, γ ≠ 1 and c ≠ 0, on a
/// coordinate file with duplicate entries (so `γ`, `c` and the duplicates' sums all count).
#[test]
fn poly_features_kernel_error_is_against_gamma_c_kernel() {
    let tmp = TempFiles::new("clifig-poly", "k");
    let x = int_mat(60, 5, 8) * faer::Scale(0.25);
    let path = tmp.path("X.mtx");
    write_mtx(&path, &x, Format::Duplicates);
    for (p, m, gamma, c, method) in [
        (2, 128, "0.5", "1", "fft"),
        (3, 64, "2", "0.25", "tree"),
        (4, 256, "1", "0", "fft"),
    ] {
        let out = tmp.path("F.mtx");
        let (ps, ms) = (p.to_string(), m.to_string());
        let args = [
            path.as_str(),
            "--degree",
            &ps,
            "--rows",
            &ms,
            "--gamma",
            gamma,
            "--coef0",
            c,
            "--method",
            method,
            "--seed",
            "2",
            "--out",
            &out,
        ];
        let (j, _) = json_run("poly_features", &args);
        let f = read(&out);
        let (g, cc): (f64, f64) = (gamma.parse().unwrap(), c.parse().unwrap());
        let n = x.nrows();
        let (mut num2, mut den2) = (0.0, 0.0);
        for i in 0..n {
            for k in 0..n {
                let dot: f64 = (0..x.ncols()).map(|l| x[(i, l)] * x[(k, l)]).sum();
                let kk = (g * dot + cc).powi(p);
                let ff: f64 = (0..m).map(|l| f[(i, l)] * f[(k, l)]).sum();
                num2 += (ff - kk) * (ff - kk);
                den2 += kk * kk;
            }
        }
        let want = (num2 / den2).sqrt();
        let got = num(&j, "kernel_rel_error").unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "p={p} m={m} γ={gamma} c={c} {method}: {got} vs {want}"
        );
    }
}

/// `attention --out O.mtx`: `poly-exact` is `Σ_j⟨q_i,k_j⟩^p v_j/(1 + Σ_j⟨q_i,k_j⟩^p)` (the `1 +`
/// of the library's definition; causal: `j ≤ i`) and `softmax` is `softmax(QKᵀ/√h)V`, both to
/// `10⁻¹²` relative Frobenius; `poly-sketch --check`'s `rel_error` is `‖O − E‖_F/‖E‖_F` of the
/// written output against that exact `E`, to `10⁻⁹` relative.
#[test]
fn attention_outputs_and_rel_error_are_their_definitions() {
    let tmp = TempFiles::new("clifig-att", "a");
    let (n, h, dv) = (48, 4, 3);
    let q = int_mat(n, h, 11) * faer::Scale(0.125);
    let k = int_mat(n, h, 12) * faer::Scale(0.125);
    let v = int_mat(n, dv, 13);
    let (qp, kp, vp) = (tmp.path("Q.mtx"), tmp.path("K.mtx"), tmp.path("V.mtx"));
    write_mtx(&qp, &q, Format::Array);
    write_mtx(&kp, &k, Format::Duplicates);
    write_mtx(&vp, &v, Format::Array);
    let exact = |softmax: bool, p: i32, causal: bool| -> Mat<f64> {
        let scale = 1.0 / (h as f64).sqrt();
        Mat::from_fn(n, dv, |i, c| {
            let js = if causal { i + 1 } else { n };
            let s: Vec<f64> = (0..js)
                .map(|j| (0..h).map(|l| q[(i, l)] * k[(j, l)]).sum::<f64>())
                .collect();
            let top = s.iter().copied().fold(f64::MIN, f64::max);
            let w: Vec<f64> = s
                .iter()
                .map(|&x| {
                    if softmax {
                        (scale * (x - top)).exp()
                    } else {
                        x.powi(p)
                    }
                })
                .collect();
            let den = w.iter().sum::<f64>() + if softmax { 0.0 } else { 1.0 };
            (0..js).map(|j| w[j] * v[(j, c)]).sum::<f64>() / den
        })
    };
    let frob = |m: &Mat<f64>| m.norm_l2();
    for causal in [false, true] {
        let c: &[&str] = if causal { &["--causal"] } else { &[] };
        for (kind, p) in [("softmax", 0), ("poly-exact", 2), ("poly-exact", 4)] {
            let out = tmp.path("O.mtx");
            let ps = p.to_string();
            let mut args = vec![qp.as_str(), kp.as_str(), vp.as_str(), "--kind", kind];
            if p > 0 {
                args.extend(["--degree", &ps]);
            }
            args.extend(["--block", "16", "--out", &out]);
            args.extend_from_slice(c);
            json_run("attention", &args);
            let e = exact(kind == "softmax", p, causal);
            let got = read(&out);
            let rel = frob(&(&got - &e)) / frob(&e);
            assert!(rel <= 1e-12, "{kind} p={p} causal={causal}: rel diff {rel}");
        }
        for (p, map) in [(2, "gaussian"), (4, "tensorsketch")] {
            let out = tmp.path("O.mtx");
            let ps = p.to_string();
            let mut args = vec![
                qp.as_str(),
                kp.as_str(),
                vp.as_str(),
                "--kind",
                "poly-sketch",
                "--degree",
                &ps,
                "--map",
                map,
                "--sketch-dim",
                "16",
                "--seed",
                "5",
                "--check",
                "--out",
                &out,
            ];
            args.extend_from_slice(c);
            let (j, _) = json_run("attention", &args);
            let e = exact(false, p, causal);
            let want = frob(&(&read(&out) - &e)) / frob(&e);
            let got = num(&j, "rel_error").unwrap();
            assert!(
                want > 1e-6 && (got - want).abs() <= 1e-9 * want,
                "poly-sketch p={p} {map} causal={causal}: rel_error {got} vs {want}"
            );
        }
    }
}
