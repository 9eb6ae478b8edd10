//! Third review of the tensor power methods (`src/tensor/{mod,power,sketched,symmetric,
//! pairing}.rs`) from a downstream user's side: public contractions and sketches given finite
//! input whose products overflow, the reported weight and spread recomputed from the sketches,
//! and what the method does with non-orthogonal components.

use faer::Par;
use randnla::tensor::{ModeHashing, SymmetricTensor, TensorSketches};
use randnla::{Error, Seed};

fn is_non_finite<T: std::fmt::Debug>(r: randnla::Result<T>, what: &str) {
    match r {
        Err(Error::NonFinite { .. }) => {}
        other => panic!("{what}: expected Err(NonFinite), got {other:?}"),
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Finite input whose products leave the `f64` range: `T = 1` everywhere (order 3, `n = 3`)
/// contracted with `u = 10¹¹⁰·(1, 1, 1)` has `T(u,u,u) = 27·10³³⁰`. Every public contraction
/// and sketch returned `Ok(inf)` or `Ok(NaN)` (and `deflate` by `u` returned `Ok` with every
/// sketch turned to `NaN`, so every later estimate was `NaN`); each now says `NonFinite`, and
/// the refused deflation leaves the sketches bitwise as they were. Unit vectors are unaffected.
#[test]
fn overflowing_contractions_and_deflations_are_errors_not_ok_inf_or_nan() {
    let t = SymmetricTensor::dense(3, 3, vec![1.0; 27]).unwrap();
    let big = [1e110; 3];
    let mixed = [1e110, -1e110, 1e110];
    is_non_finite(t.contract_all(&big, Par::Seq), "exact contract_all");
    is_non_finite(t.contract_all(&mixed, Par::Seq), "exact contract_all (NaN)");
    is_non_finite(t.contract_but_one(&[1e160; 3], Par::Seq), "exact but-one");
    // Entries near the largest f64 with a unit-scale u: the scaled contraction is finite,
    // its value in T's units is not.
    let huge = SymmetricTensor::dense(3, 3, vec![f64::MAX / 2.0; 27]).unwrap();
    is_non_finite(huge.contract_all(&[1.0; 3], Par::Seq), "huge contract_all");
    let unit = vec![3f64.sqrt().recip(); 3];
    assert!((t.contract_all(&unit, Par::Seq).unwrap() - 27f64.sqrt()).abs() < 1e-12);

    for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
        let mut s =
            TensorSketches::with_hashing(&t, 4, 16, hashing, Seed::new(1), Par::Seq).unwrap();
        let h = format!("{hashing:?}");
        is_non_finite(s.estimates_all(&big, Par::Seq), &h);
        is_non_finite(s.estimates_but_one(&[1e160; 3], Par::Seq), &h);
        is_non_finite(s.contract_all(&big, Par::Seq), &h);
        is_non_finite(s.contract_but_one(&[1e160; 3], Par::Seq), &h);
        is_non_finite(s.power_sketch(0, &[1e160; 3]), &h);
        is_non_finite(s.rank_one_sketch(0, &[1e160; 3]), &h);
        let before: Vec<Vec<u64>> = (0..4).map(|m| bits(&s.tensor_sketch(m).unwrap())).collect();
        let value = s.contract_all(&unit, Par::Seq).unwrap();
        is_non_finite(s.deflate(1.0, &[1e160; 3], Par::Seq), &h);
        is_non_finite(
            s.deflate(
                1e300,
                &big.iter().map(|x| x * 1e-105).collect::<Vec<_>>(),
                Par::Seq,
            ),
            &h,
        );
        let after: Vec<Vec<u64>> = (0..4).map(|m| bits(&s.tensor_sketch(m).unwrap())).collect();
        assert_eq!(
            before, after,
            "{h}: a refused deflation changed the sketches"
        );
        assert_eq!(
            s.contract_all(&unit, Par::Seq).unwrap().to_bits(),
            value.to_bits(),
            "{h}"
        );
        // A deflation within range still works, and removes the component exactly here
        // (T = 27^{1/2}·(unit)^{⊗3} is rank one).
        s.deflate(27f64.sqrt(), &unit, Par::Seq).unwrap();
        assert!(
            s.contract_all(&unit, Par::Seq).unwrap().abs() < 1e-12,
            "{h}"
        );
    }
    let big_sketch = TensorSketches::new(&huge, 2, 16, Seed::new(1), Par::Seq).unwrap();
    is_non_finite(
        big_sketch.tensor_sketch(0),
        "tensor_sketch of entries near f64::MAX",
    );
}
