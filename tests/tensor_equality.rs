//! `PartialEq for SymmetricTensor`: equality of the tensors' entries, whatever their storage.
//! Each case is checked both ways round (`a == b` and `b == a`), and each inequality has its
//! equal twin, so a comparison that always answers one way fails here.

use randnla::tensor::SymmetricTensor;

fn coo(order: usize, dim: usize, indices: &[usize], values: &[f64]) -> SymmetricTensor {
    SymmetricTensor::coordinate(order, dim, indices, values).expect("valid coordinate tensor")
}

/// `a == b` and `b == a` are both `want`.
fn check(a: &SymmetricTensor, b: &SymmetricTensor, want: bool, what: &str) {
    assert_eq!(a == b, want, "{what}: a == b");
    assert_eq!(b == a, want, "{what}: b == a");
}

/// Order 3, n = 3: T_012 = 1.5 (listed once), T_112 = −2 (listed once), T_222 = 4.
fn sample() -> SymmetricTensor {
    coo(3, 3, &[2, 1, 0, 1, 1, 2, 2, 2, 2], &[1.5, -2.0, 4.0])
}

#[test]
fn a_coordinate_tensor_equals_its_dense_copy_and_itself() {
    let c = sample();
    let d = c.to_dense().unwrap();
    assert!(!c.is_dense() && d.is_dense());
    check(&c, &c.clone(), true, "coordinate, itself");
    check(&d, &d.clone(), true, "dense, itself");
    check(&c, &d, true, "coordinate and its dense copy");
    // Listing an entry in all its permutations or once gives the same tensor.
    let all_perms = coo(
        3,
        3,
        &[
            0, 1, 2, 0, 2, 1, 1, 0, 2, 1, 2, 0, 2, 0, 1, 2, 1, 0, 1, 1, 2, 2, 2, 2,
        ],
        &[1.5, 1.5, 1.5, 1.5, 1.5, 1.5, -2.0, 4.0],
    );
    check(&c, &all_perms, true, "entry listed in every permutation");
}

#[test]
fn one_different_entry_makes_them_unequal_in_every_pairing_of_storages() {
    let c = sample();
    // T_112 = +2 instead of −2.
    let other = coo(3, 3, &[2, 1, 0, 1, 1, 2, 2, 2, 2], &[1.5, 2.0, 4.0]);
    check(&c, &other, false, "coordinate, coordinate: value");
    check(
        &c,
        &other.to_dense().unwrap(),
        false,
        "coordinate, dense: value",
    );
    check(
        &c.to_dense().unwrap(),
        &other.to_dense().unwrap(),
        false,
        "dense, dense: value",
    );
    // T_122 = −2 instead of T_112 = −2: the same values at another index.
    let moved = coo(3, 3, &[2, 1, 0, 1, 2, 2, 2, 2, 2], &[1.5, -2.0, 4.0]);
    check(&c, &moved, false, "coordinate, coordinate: index");
    check(
        &c,
        &moved.to_dense().unwrap(),
        false,
        "coordinate, dense: index",
    );
}

#[test]
fn a_dense_tensor_with_an_extra_nonzero_differs_from_the_coordinate_one() {
    // Every coordinate entry is found in the dense array, which holds one more (T_000 = 7).
    let c = sample();
    let extra = coo(
        3,
        3,
        &[2, 1, 0, 1, 1, 2, 2, 2, 2, 0, 0, 0],
        &[1.5, -2.0, 4.0, 7.0],
    );
    let d = extra.to_dense().unwrap();
    check(&c, &d, false, "coordinate against a dense superset");
    check(
        &c,
        &extra,
        false,
        "coordinate against a coordinate superset",
    );
    check(&extra, &d, true, "the superset, both storages");
}

#[test]
fn stored_zeros_count_as_absent_and_signed_zeros_are_equal() {
    let c = sample();
    let with_zero = coo(
        3,
        3,
        &[2, 1, 0, 1, 1, 2, 2, 2, 2, 0, 0, 1],
        &[1.5, -2.0, 4.0, 0.0],
    );
    let with_neg_zero = coo(
        3,
        3,
        &[2, 1, 0, 1, 1, 2, 2, 2, 2, 0, 0, 1],
        &[1.5, -2.0, 4.0, -0.0],
    );
    assert!(with_zero.nnz() > c.nnz(), "the zero is stored");
    check(&c, &with_zero, true, "explicit +0");
    check(&c, &with_neg_zero, true, "explicit −0");
    check(&with_zero, &with_neg_zero, true, "+0 against −0");
    check(
        &with_neg_zero,
        &c.to_dense().unwrap(),
        true,
        "explicit −0 against dense",
    );
    // The all-zero tensor in both storages.
    let zero_coo = coo(3, 2, &[0, 0, 0], &[0.0]);
    let zero_dense = SymmetricTensor::dense(3, 2, vec![0.0; 8]).unwrap();
    check(&zero_coo, &zero_dense, true, "zero tensors");
    check(
        &zero_coo,
        &coo(3, 2, &[0, 0, 0], &[1e-300]),
        false,
        "zero against tiny",
    );
}

#[test]
fn order_and_dimension_must_match() {
    // All-zero tensors of different shapes: equal entries wherever both are defined.
    let z = |order, dim| coo(order, dim, &vec![0; order], &[0.0]);
    check(&z(3, 2), &z(3, 3), false, "dimension");
    check(&z(3, 2), &z(4, 2), false, "order");
    let d =
        |order, dim: usize| SymmetricTensor::dense(order, dim, vec![0.0; dim.pow(order as u32)]);
    check(
        &d(3, 2).unwrap(),
        &d(3, 3).unwrap(),
        false,
        "dense dimension",
    );
    check(&d(3, 2).unwrap(), &z(4, 2), false, "order across storages");
}

#[test]
fn entries_beyond_the_unscaled_range_compare_as_given() {
    // The contractions work on T·2⁻ᵉ for such tensors; equality looks at the entries themselves.
    let big = 2f64.powi(700);
    let a = coo(3, 2, &[0, 1, 1, 0, 0, 0], &[big, 3.0 * big]);
    check(&a, &a.to_dense().unwrap(), true, "2⁷⁰⁰, both storages");
    let b = coo(
        3,
        2,
        &[0, 1, 1, 0, 0, 0],
        &[big, 3.0 * big * (1.0 + f64::EPSILON)],
    );
    check(&a, &b, false, "one ulp apart");
    check(
        &a.to_dense().unwrap(),
        &b,
        false,
        "one ulp apart, dense against coordinate",
    );
}
