//! Third review of polynomial attention, on the causal path: the example's `--block`, the rows
//! named by feature-map overflow errors, the reported workspace when the block exceeds `n`, and
//! the error figure the causal doc example states.

mod common;

use faer::Par;
use randnla::attention::{clustered_qkv, poly_sketch_attention, FeatureMap, PolySketchParams};
use randnla::{Error, Seed};

/// `--block` is parsed as a `usize` and used by the example's warm-up as `2·b` before the
/// library checks it: `--block 9223372036854775808` (2⁶³) overflowed that product and panicked
/// (exit 101 with a backtrace, in the dev profile the tests run) instead of the one-line error
/// and exit code 2 that every other out-of-range block gets.
#[test]
fn example_refuses_a_huge_block_without_panicking() {
    let dir = std::env::temp_dir().join(format!("attention_review3_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.mtx");
    std::fs::write(
        &a,
        "%%MatrixMarket matrix array real general\n3 2\n1\n2\n3\n4\n5\n6\n",
    )
    .unwrap();
    let a = a.to_string_lossy().to_string();
    for block in ["9223372036854775808", "18446744073709551615"] {
        for extra in [&[][..], &["--causal"], &["--kind", "poly-exact"]] {
            let out = std::process::Command::new(common::example("attention"))
                .args([&a, &a, &a, "--block", block, "--threads", "1"])
                .args(extra)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "--block {block} {extra:?}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "--block {block} {extra:?}: {err}");
            assert!(
                err.contains("block size"),
                "--block {block} {extra:?}: {err}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A TensorSketch feature that overflows is reported by the map itself, with the row of the
/// block it was given: Q (or K) row 290 = 1e160 (p = 4, so x⊗x passes f64) came back as
/// `NonFinite { row: 34, .. }` from `poly_sketch_attention` with the default block of 256,
/// causal or not, without saying whether Q or K — pointing the user at the wrong row.
/// (`PolySketch::features` already made the row absolute; the Gaussian map's overflow is
/// caught on the output and named by query row, 290 here, as documented.)
#[test]
fn feature_overflow_names_the_row_of_q_or_k() {
    let n = 300;
    let (q, k, v) = clustered_qkv(n, 4, 4, 0.3, 1.5, Seed::new(1)).unwrap();
    for (name, which) in [("Q", 0), ("K", 1)] {
        let (mut q2, mut k2) = (q.clone(), k.clone());
        let big = if which == 0 { &mut q2 } else { &mut k2 };
        for c in 0..4 {
            big[(290, c)] = 1e160;
        }
        for causal in [false, true] {
            for block in [256, 7] {
                let p = PolySketchParams {
                    map: FeatureMap::TensorSketch,
                    causal,
                    block,
                    sketch_dim: 8,
                    ..Default::default()
                };
                let r = poly_sketch_attention(q2.as_ref(), k2.as_ref(), v.as_ref(), &p, Par::Seq);
                match r {
                    Err(Error::NonFinite { what, row, .. }) => {
                        assert_eq!(row, 290, "{name} causal={causal} b={block}: {what}");
                        assert!(
                            what.contains(&format!("rows of {name}")),
                            "{name} causal={causal} b={block}: {what}"
                        );
                    }
                    other => panic!("{name} causal={causal} b={block}: {other:?}"),
                }
            }
        }
    }
}

/// With `block ≥ n` the causal path runs one block of `n` rows whatever `block` is, so
/// `block = n` and `block = 8192` compute the same output bit for bit; yet
/// `SketchInfo::workspace_bytes` was evaluated at the requested block: n = 700, r = 16,
/// d = 16 reported 1 695 488 bytes for `block = 700` and 19 556 416 for `block = 8192`, 11.5×
/// more memory than was allocated. The non-causal path already capped the block at the number
/// of rows.
#[test]
fn causal_workspace_does_not_count_a_block_past_n() {
    let n = 700;
    let (q, k, v) = clustered_qkv(n, 16, 8, 0.3, 1.5, Seed::new(2)).unwrap();
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        for threads in [1, 2] {
            let run = |block| {
                let p = PolySketchParams {
                    sketch_dim: 16,
                    causal: true,
                    map,
                    block,
                    ..Default::default()
                };
                common::with_threads(threads, |par| {
                    poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, par).unwrap()
                })
            };
            let (at_n, info_n) = run(n);
            for block in [n + 1, 4096, 8192] {
                let (out, info) = run(block);
                common::assert_bitwise(&out, &at_n, "block ≥ n");
                assert_eq!(
                    info.workspace_bytes, info_n.workspace_bytes,
                    "{map:?} threads={threads} block={block}"
                );
            }
        }
    }
}
