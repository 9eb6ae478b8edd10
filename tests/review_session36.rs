//! Review of commits 914a9d1..bea07ed (session 36): sparse `AᵀA` by column blocks, `Auto`'s cost
//! rule for P1/P2, P3's kernel matrix in parallel column blocks, `vzeroupper`.

use crate::common;
use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p3, KernelParams};
use randnla::{MatrixRef, Seed};

/// Set in the child process of [`p3_writes_nothing_to_stderr`].
const CHILD: &str = "RANDNLA_REVIEW36_P3_CHILD";

/// A library must not print: `gaussian_kernel` (P3's kernel matrix) wrote a timing line
/// `ZZ exp loop 0.0001` to stderr on every call, a leftover of the measurements behind 03c6969.
/// Runs `solve_p3` (sequentially and on 2 threads with `n ≥ 256`, both paths of the fill) in a
/// child copy of this test binary with output capture off and requires its stderr to be empty.
#[test]
fn p3_writes_nothing_to_stderr() {
    if std::env::var_os(CHILD).is_some() {
        let n = 300;
        // Points far apart in 20 dimensions: G is close to I.
        let g = randnla::problems::gaussian_matrix(n, 20, Seed::new(5)).unwrap();
        let a = Mat::from_fn(n, 20, |i, k| g[(i, k)]);
        let b: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
        for par in [faer::Par::Seq, faer::Par::rayon(2)] {
            let mut params = KernelParams::default();
            params.lstsq.par = par;
            solve_p3(MatrixRef::dense(a.as_ref()).unwrap(), &b, &params).unwrap();
        }
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            common::test_name(module_path!(), "p3_writes_nothing_to_stderr").as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stdout}{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test: {stdout}"
    );
    assert!(stderr.is_empty(), "P3 wrote to stderr: {stderr:?}");
}

/// P1/P2 pass `lstsq.par` to the operator unbounded, and `gram_from_rows`' column blocks
/// (`d > 512`) sized their tasks as `4·par.degree()`: `Par::rayon(usize::MAX)`, which every other
/// entry point accepts (at most `MAX_THREADS` are used), overflowed that product — a panic
/// under overflow checks — on the Cholesky route of a sparse `A`. Now solved, with the bits of
/// `Par::rayon(2)`.
#[test]
fn p1_and_p2_cholesky_take_any_thread_count() {
    use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, InnerSolve};
    let (n, d) = (2000, 520);
    let a = randnla::problems::random_sparse(n, d, 30, Seed::new(36)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let b: Vec<f64> = (0..d).map(|i| 1.0 + (i % 5) as f64).collect();
    let b2: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
    let params = |t: usize| {
        let mut p = KernelParams {
            inner_solve: InnerSolve::Cholesky,
            ..KernelParams::default()
        };
        p.lstsq.par = faer::Par::rayon(t);
        p
    };
    let bits = |x: Vec<f64>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let (x1, _) = solve_p1(av, 1, &b, &params(usize::MAX)).unwrap();
    let (y1, _) = solve_p1(av, 1, &b, &params(2)).unwrap();
    assert_eq!(bits(x1), bits(y1), "P1");
    let (x2, _) = solve_p2(av, 1, &b2, &params(usize::MAX)).unwrap();
    let (y2, _) = solve_p2(av, 1, &b2, &params(2)).unwrap();
    assert_eq!(bits(x2), bits(y2), "P2");
}
