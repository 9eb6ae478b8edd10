//! Review of commits 914a9d1..bea07ed (session 36): sparse `AᵀA` by column blocks, `Auto`'s cost
//! rule for P1/P2, P3's kernel matrix in parallel column blocks, `vzeroupper`.

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
            "p3_writes_nothing_to_stderr",
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
