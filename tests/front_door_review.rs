//! Promises of the crate guide (`src/lib.rs`) and the tour that no other test backed.

use faer::{Mat, Par};
use randnla::attention::{
    clustered_qkv, exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap,
    Kernel, PolySketchParams,
};
use randnla::{problems, Seed};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The crate guide's attention row: "error ≈ 0.45–0.55 at `r = 32`, ≈ 0.3–0.4 at `r = 64` on
/// clustered inputs, ≈ 1 on iid ones", at the tour's shape (degree 4, n = 1024, h = d = 64,
/// 16 centres, noise 0.3, scale 1.5; iid: standard normal Q, K). The guide said "0.3–0.5"
/// while the tour printed 0.536 and 0.563 at r = 32; nothing checked the iid figure.
/// Measured over seeds 0–4, both maps, causal and not: r = 32 0.45–0.56, r = 64 0.31–0.38,
/// iid 0.99–1.08. Pass rule: the median over seeds 0–4 in (0.4, 0.6) at r = 32, in
/// (0.28, 0.42) at r = 64, in (0.95, 1.15) on iid inputs, for each map and mask.
#[test]
fn poly_sketch_attention_errors_are_the_guides() {
    let (n, h) = (1024, 64);
    let mut errors = std::collections::BTreeMap::<String, Vec<f64>>::new();
    for s in 0..5u64 {
        let seed = Seed::new(s);
        let (q, k, v) = clustered_qkv(n, h, 16, 0.3, 1.5, seed).unwrap();
        let qi = problems::gaussian_matrix(n, h, seed.derive(0x6E)).unwrap();
        let ki = problems::gaussian_matrix(n, h, seed.derive(0x6D)).unwrap();
        let exact = |q: &Mat<f64>, k: &Mat<f64>, causal| {
            let params = ExactParams { causal, block: 256 };
            let kernel = Kernel::Polynomial { degree: 4 };
            exact_attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap()
        };
        let sketch = |q: &Mat<f64>, k: &Mat<f64>, r, map, causal| {
            let params = PolySketchParams {
                degree: 4,
                sketch_dim: r,
                map,
                causal,
                seed: seed.derive(0x6F),
                ..Default::default()
            };
            poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, Par::Seq)
                .unwrap()
                .0
        };
        for causal in [false, true] {
            let (ex, exi) = (exact(&q, &k, causal), exact(&qi, &ki, causal));
            for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
                for r in [32usize, 64] {
                    let out = sketch(&q, &k, r, map, causal);
                    let err = relative_error(out.as_ref(), ex.as_ref()).unwrap();
                    errors
                        .entry(format!("clustered r={r} {map:?} causal={causal}"))
                        .or_default()
                        .push(err);
                }
                let out = sketch(&qi, &ki, 32, map, causal);
                let err = relative_error(out.as_ref(), exi.as_ref()).unwrap();
                errors
                    .entry(format!("iid r=32 {map:?} causal={causal}"))
                    .or_default()
                    .push(err);
            }
        }
    }
    assert_eq!(errors.len(), 12);
    for (what, errs) in errors {
        let med = median(errs.clone());
        let band = if what.starts_with("iid") {
            0.95..1.15
        } else if what.contains("r=32") {
            0.4..0.6
        } else {
            0.28..0.42
        };
        assert!(band.contains(&med), "{what}: median {med} of {errs:?}");
    }
}

/// The README's distortion table, figure by figure as printed (median over seeds 0–19 of
/// κ(SQ), n = 20000, d = 50; the crate guide quotes the same runs): `tests/sketch_core.rs`
/// holds each entry to a pass rule, this holds the printed digits to the code, so that a change
/// to the generators or sketches cannot leave the README's figures behind. Also the text under
/// the table: at `m = 20d` CountSketch fails (κ ≈ 10) in 11 of the 20 seeds and gives ≈ 1.1 in
/// the other 9; the SRHT recovers to a median of 2.23 at `m = 8d` on the coherent matrix.
#[test]
fn readme_distortion_table_is_what_the_code_gives() {
    use randnla::diagnostics;
    use randnla::sketch::SketchKind;
    let (n, d) = (20_000, 50);
    let gaussian = problems::gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let coherent = problems::coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap();
    let distortions = |q: &Mat<f64>, kind: SketchKind, m: usize| -> Vec<f64> {
        (0..20u64)
            .map(|s| {
                let op = kind.build::<f64>(m, n, Seed::new(s)).unwrap();
                diagnostics::distortion(&*op, q.as_ref(), Par::Seq).unwrap()
            })
            .collect()
    };
    let s8 = SketchKind::SparseSign { nnz_per_col: 8 };
    let cs = SketchKind::CountSketch;
    let columns = [
        (s8, 2 * d),
        (cs, 2 * d),
        (cs, 20 * d),
        (SketchKind::Gaussian, 2 * d),
        (SketchKind::Srht, 2 * d),
    ];
    let rows: [(&str, &Mat<f64>, [&str; 5]); 2] = [
        (
            "gaussian",
            &gaussian,
            ["5.55", "5.31", "1.54", "5.37", "5.43"],
        ),
        (
            "coherent",
            &coherent,
            ["5.25", "24.3", "10.1", "5.46", "20.8"],
        ),
    ];
    for (name, a, want) in rows {
        let q = diagnostics::orthonormal_basis(a.as_ref()).unwrap();
        for ((kind, m), want) in columns.iter().zip(want) {
            let med = median(distortions(&q, *kind, *m));
            let digits = want.split_once('.').map_or(0, |(_, f)| f.len());
            assert_eq!(
                format!("{med:.digits$}"),
                want,
                "{name}, {kind:?}, m = {m}: median κ = {med}"
            );
        }
        if name == "coherent" {
            let at_20d = distortions(&q, cs, 20 * d);
            let failed = at_20d.iter().filter(|&&k| k > 5.0).count();
            assert_eq!(failed, 11, "{at_20d:?}");
            assert!(
                at_20d.iter().all(|&k| k < 1.15 || (9.5..11.5).contains(&k)),
                "{at_20d:?}"
            );
            let srht_8d = median(distortions(&q, SketchKind::Srht, 8 * d));
            assert_eq!(format!("{srht_8d:.2}"), "2.23");
        }
    }
}

/// The common traits a user of a numerical library expects (Rust API guidelines C-SEND-SYNC,
/// C-COMMON-TRAITS, C-DEBUG): every operator, parameter set, result and error is `Debug`, the
/// values a caller keeps or passes between threads are `Send + Sync`, and parameter sets and
/// plain results are `Clone`. Checked at compile time: a type that loses one fails to build.
#[test]
fn public_types_have_the_common_traits() {
    fn send_sync_debug<T: Send + Sync + std::fmt::Debug>() {}
    fn send_sync_debug_clone<T: Send + Sync + std::fmt::Debug + Clone>() {}
    use randnla::{active, attention, io, leverage, lstsq, sketch, tensor};
    // Sketching operators (a sketch is built once and applied from many threads).
    send_sync_debug_clone::<sketch::CountSketch>();
    send_sync_debug_clone::<sketch::SparseSign>();
    send_sync_debug_clone::<sketch::Gaussian>();
    send_sync_debug_clone::<sketch::Srht>();
    send_sync_debug_clone::<sketch::sampling::RowSampling>();
    send_sync_debug_clone::<sketch::tensor::TensorSketch>();
    send_sync_debug_clone::<sketch::tensor::TreeSketch>();
    send_sync_debug_clone::<sketch::tensor::PolyKernelFeatures>();
    send_sync_debug_clone::<attention::PolySketch>();
    send_sync_debug_clone::<tensor::TensorSketches>();
    // Parameters, results and inputs.
    send_sync_debug_clone::<randnla::Seed>();
    send_sync_debug_clone::<randnla::Error>();
    send_sync_debug_clone::<randnla::MatrixRef<'static, f64>>();
    send_sync_debug_clone::<randnla::MatrixRef<'static, f32>>();
    send_sync_debug_clone::<io::ReadOptions>();
    send_sync_debug_clone::<io::MatrixMarket>();
    send_sync_debug_clone::<leverage::ExactParams>();
    send_sync_debug_clone::<leverage::ApproxParams>();
    send_sync_debug_clone::<leverage::LeverageInfo>();
    send_sync_debug_clone::<randnla::diagnostics::RangeBasis>();
    send_sync_debug_clone::<lstsq::LstsqParams>();
    send_sync_debug_clone::<lstsq::Info>();
    send_sync_debug_clone::<lstsq::SketchSolveParams>();
    send_sync_debug_clone::<lstsq::SketchSolveInfo>();
    send_sync_debug_clone::<lstsq::LsqrParams>();
    send_sync_debug_clone::<lstsq::kernel_regression::KernelParams>();
    send_sync_debug_clone::<lstsq::kernel_regression::KernelInfo>();
    send_sync_debug::<lstsq::Preconditioner>();
    send_sync_debug_clone::<attention::PolySketchParams>();
    send_sync_debug_clone::<attention::SketchInfo>();
    send_sync_debug_clone::<tensor::SymmetricTensor>();
    send_sync_debug_clone::<tensor::PowerParams>();
    send_sync_debug_clone::<tensor::SketchParams>();
    send_sync_debug_clone::<tensor::CpDecomposition>();
    send_sync_debug_clone::<active::Strategy>();
    send_sync_debug_clone::<active::FitInfo>();
    send_sync_debug_clone::<active::PoolInfo>();
    send_sync_debug::<active::Pool<'static>>();
}

/// `Preconditioner`'s `Debug` is a summary (it had none): the factorization, rank and sizes,
/// not the `d × d` factor.
#[test]
fn preconditioner_debug_is_a_summary() {
    let (a, _, _, _) = problems::ls_problem(2000, 300, 1e4, 1e-6, Seed::new(3)).unwrap();
    let av = randnla::MatrixRef::dense(a.as_ref()).unwrap();
    let p =
        randnla::lstsq::Preconditioner::new(av, &randnla::lstsq::LstsqParams::default()).unwrap();
    let s = format!("{p:?}");
    for part in ["Preconditioner", "factorization: Qr", "rank: 300", "d: 300"] {
        assert!(s.contains(part), "{part:?} missing from {s}");
    }
    assert!(s.len() < 1000, "{} bytes: {s}", s.len());
}

/// Option enums are `Hash` (a caller can key a cache or a results table by them), parameter
/// structs compare with `==` (a caller can check what a run used), `Factorization` has the
/// default `LstsqParams` uses, and `randnla::faer` / `randnla::sprs` are the crates the API
/// takes (a caller without a faer dependency of their own can still name `Par`).
#[test]
fn option_enums_hash_params_compare_and_reexports_are_the_apis_crates() {
    use randnla::lstsq::kernel_regression::{InnerSolve, KernelParams};
    use randnla::lstsq::{Factorization, LsqrParams, LstsqParams, SketchSolveParams};
    use std::collections::HashSet;
    let set: HashSet<Factorization> = [
        Factorization::Auto,
        Factorization::Qr,
        Factorization::Svd,
        Factorization::Diagonal,
        Factorization::Qr,
    ]
    .into_iter()
    .collect();
    assert_eq!(set.len(), 4);
    let mut inner = HashSet::new();
    inner.insert(InnerSolve::default());
    assert!(inner.contains(&InnerSolve::default()));
    let kinds: HashSet<randnla::sketch::SketchKind> = [
        randnla::sketch::SketchKind::Gaussian,
        randnla::sketch::SketchKind::Gaussian,
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds.len(), 1);
    assert_eq!(Factorization::default(), Factorization::Auto);
    assert_eq!(
        LstsqParams::default().factorization,
        Factorization::default()
    );
    assert_eq!(LstsqParams::default(), LstsqParams::default());
    let looser = LstsqParams {
        tol: 1e-10,
        ..Default::default()
    };
    assert_ne!(looser, LstsqParams::default());
    assert_eq!(KernelParams::default(), KernelParams::default());
    assert_eq!(LsqrParams::default(), LsqrParams::default());
    assert_eq!(SketchSolveParams::default(), SketchSolveParams::default());
    // The re-exports are the very crates of the API: a `randnla::faer::Par` is a `faer::Par`.
    let par: randnla::faer::Par = faer::Par::Seq;
    let a: randnla::sprs::CsMat<f64> = sprs::CsMat::eye(3);
    let view = randnla::MatrixRef::sparse(&a).unwrap();
    let s = randnla::sketch::CountSketch::new(2, 3, Seed::new(1)).unwrap();
    use randnla::sketch::SketchExt;
    assert_eq!(s.apply(view, par).unwrap().nrows(), 2);
}
