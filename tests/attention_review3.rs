//! Third review of polynomial attention, focused on the causal path: the example's `--block`
//! and `peak_bytes`, the rows named by feature-map overflow errors, the reported workspace
//! (block past n, wide V), `relative_error` at extreme magnitudes, the sign of zero outputs
//! under bitwise causality, and allocation failures (prefix state, self-tensors, weights, score
//! and block buffers) that aborted instead of returning `Error::TooLarge`.

use crate::common;

use faer::{Mat, Par};
use randnla::attention::{
    causal_squared_product, clustered_qkv, exact_attention, poly_sketch_attention, relative_error,
    ExactParams, FeatureMap, Kernel, PolySketch, PolySketchParams,
};
use randnla::{Error, Seed};

/// `--block` is parsed as a `usize` and used by the example's warm-up as `2·b` before the
/// library checks it: `--block 9223372036854775808` (2⁶³) overflowed that product and panicked
/// (exit 101 with a backtrace, in the dev profile the tests run) instead of the one-line error
/// and exit code 2 that every other out-of-range block gets.
#[test]
fn example_refuses_a_huge_block_without_panicking() {
    let a = common::small_array_file("attention_review3");
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
    std::fs::remove_dir_all(std::path::Path::new(&a).parent().unwrap()).ok();
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

/// `relative_error` summed the squares of the raw entries in f64: outputs near 1e±180 made
/// them overflow (∞/∞ = NaN) or underflow (0/0, reported as 0 — "both are zero"), although
/// the ratio is a plain number. `[2e-200, 1e-200]` against `[1e-200, 1e-200]` gave 0 instead
/// of √2/2; `[2e200, -3e200]` against `[1e200, -3e200]` gave NaN instead of √(1/10). Through
/// the causal check: scaling V by 2^±600 scales both outputs exactly (the weights do not
/// involve V), so `SketchInfo::rel_error` must be the unscaled figure — it was NaN and 0.
#[test]
fn relative_error_holds_for_tiny_and_huge_outputs() {
    let m = |a: f64, b: f64| Mat::from_fn(2, 1, |i, _| if i == 0 { a } else { b });
    let e = relative_error(m(2e-200, 1e-200).as_ref(), m(1e-200, 1e-200).as_ref()).unwrap();
    // Both sides are within a few ulps of √2/2 (the inputs are not exact multiples).
    assert!((e - 0.5f64.sqrt()).abs() < 1e-15, "tiny: {e}");
    let e = relative_error(m(2e200, -3e200).as_ref(), m(1e200, -3e200).as_ref()).unwrap();
    assert!((e - 0.1f64.sqrt()).abs() < 1e-15, "huge: {e}");
    let e = relative_error(m(1e300, -1e300).as_ref(), m(-1e300, 1e300).as_ref()).unwrap();
    assert!((e - 2.0).abs() < 1e-15, "opposite: {e}");
    // Subnormal outputs: 3·2^-1070 against 2^-1070 is a relative error of 2, exactly.
    let t = 2f64.powi(-1070);
    let e = relative_error(m(3.0 * t, 0.0).as_ref(), m(t, 0.0).as_ref()).unwrap();
    assert_eq!(e, 2.0, "subnormal");
    assert_eq!(
        relative_error(m(0.0, 0.0).as_ref(), m(0.0, 0.0).as_ref()).unwrap(),
        0.0
    );
    assert_eq!(
        relative_error(m(1e-300, 0.0).as_ref(), m(0.0, 0.0).as_ref()).unwrap(),
        f64::INFINITY
    );

    let n = 200;
    let (q, k, v) = clustered_qkv(n, 8, 4, 0.3, 1.5, Seed::new(5)).unwrap();
    let p = PolySketchParams {
        sketch_dim: 8,
        causal: true,
        block: 64,
        check: true,
        ..Default::default()
    };
    let run = |v: &Mat<f64>| {
        poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::Seq)
            .unwrap()
            .1
            .rel_error
            .unwrap()
    };
    let base = run(&v);
    assert!(base > 0.01 && base < 2.0, "{base}");
    for s in [-600, 600] {
        let f = 2f64.powi(s);
        let vs = Mat::from_fn(n, v.ncols(), |i, j| v[(i, j)] * f);
        let e = run(&vs);
        // Power-of-two scaling commutes with rounding here: the same figure, bit for bit.
        assert_eq!(e.to_bits(), base.to_bits(), "V·2^{s}: {e} against {base}");
    }
}

/// "Changing `v_j` for `j > i` leaves `out_i` bitwise unchanged" (module docs), yet the sign
/// of a zero output leaked from the future: the in-block GEMM runs over the whole row chunk's
/// keys with the future weights set to +0, and `+0·v_j` is `+0` or `−0` with `v_j`'s sign,
/// which decides the sign of a zero sum. With `v_0 = v_1 = −0`, `out_0` and `out_1` came back
/// `0.0` when the later values were `+1` and `−0.0` when they were `−1` (every map and block
/// size that puts the rows in one chunk). A zero output is now always `+0`, as exact attention
/// gives.
#[test]
fn a_future_value_does_not_flip_the_sign_of_a_zero_output() {
    let n = 5;
    let q = Mat::from_fn(n, 2, |i, j| 0.3 + (i + 2 * j) as f64 * 0.1);
    let values = |s: f64| Mat::from_fn(n, 2, |i, c| if i < 2 { -0.0 } else { s + c as f64 });
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        for block in [1, 2, 3, 4, 64] {
            let p = PolySketchParams {
                causal: true,
                block,
                map,
                sketch_dim: 4,
                ..Default::default()
            };
            let run = |s: f64| {
                let v = values(s);
                poly_sketch_attention(q.as_ref(), q.as_ref(), v.as_ref(), &p, Par::Seq)
                    .unwrap()
                    .0
            };
            let base = run(1.0);
            for s in [-1.0, -2.5, 3.0] {
                let other = run(s);
                for i in 0..2 {
                    for c in 0..2 {
                        assert_eq!(
                            other[(i, c)].to_bits(),
                            base[(i, c)].to_bits(),
                            "{map:?} b={block} v_j = {s} for j ≥ 2: out[{i}, {c}] = {} vs {}",
                            other[(i, c)],
                            base[(i, c)]
                        );
                    }
                }
            }
        }
    }
}

/// The largest state `causal_squared_product` accepts, `r(r+1)/2 × e ≤ 2²⁸` scalars, is
/// allocated through `zeros_or_too_large` so that a machine that cannot hold it gets
/// `Error::TooLarge`; but the `r(r+1)/2` index pairs of the self-tensor (as many 8-byte entries
/// as the state) were collected first, by a plain `Vec::with_capacity`, which aborts. With
/// `A = B = 1 × 23169` (`r(r+1)/2 = 268 412 865`, accepted) and `C = 1 × 1`, under a 512 MiB
/// address-space limit the process died with SIGABRT. Now the state is allocated first and the
/// pairs are asked of the allocator before they are collected.
#[test]
fn widest_squared_product_state_is_an_error_not_an_abort() {
    if !common::under_address_limit(
        module_path!(),
        "widest_squared_product_state_is_an_error_not_an_abort",
        512 * 1024,
    ) {
        return;
    }
    let r = 23169;
    assert!(r * (r + 1) / 2 <= 1 << 28);
    let a = Mat::from_fn(1, r, |_, j| (j % 7) as f64 - 3.0);
    let c = Mat::from_fn(1, 1, |_, _| 1.0);
    let res = causal_squared_product(a.as_ref(), a.as_ref(), c.as_ref(), 1, Par::Seq);
    assert!(matches!(res, Err(Error::TooLarge { .. })), "{res:?}");
}

/// `PolySketch::tensored_features` refuses `n·r(r+1)/2 > 2²⁸` and `PolySketch::weights`
/// `n·m > 2²⁶`, and their docs promise `Error::TooLarge` for an output that cannot be allocated
/// (as `features`, which asks the allocator first); but both then built their output with
/// faer's `Mat::zeros`, which aborts. Under a 512 MiB address limit, `X = 127 × 1` with
/// `r = 2048` (a 2.1 GB self-tensor, accepted) and `Q = K = 8192 × 1` (a 512 MiB weight
/// matrix, accepted) killed the process with SIGABRT.
#[test]
fn tensored_features_and_weights_that_cannot_be_held_are_errors() {
    if !common::under_address_limit(
        module_path!(),
        "tensored_features_and_weights_that_cannot_be_held_are_errors",
        512 * 1024,
    ) {
        return;
    }
    let ps = PolySketch::new(1, 4, 2048, FeatureMap::Gaussian, Seed::new(1)).unwrap();
    let x = Mat::from_fn(127, 1, |i, _| 0.01 * i as f64);
    assert!(127 * ps.feature_dim() <= 1 << 28);
    let r = ps.tensored_features(x.as_ref(), Par::Seq);
    assert!(
        matches!(r, Err(Error::TooLarge { .. })),
        "{:?}",
        r.map(|m| m.nrows())
    );
    let ps = PolySketch::new(1, 2, 4, FeatureMap::Gaussian, Seed::new(1)).unwrap();
    let q = Mat::from_fn(8192, 1, |i, _| 0.001 * i as f64);
    let r = ps.weights(q.as_ref(), q.as_ref(), Par::Seq);
    assert!(
        matches!(r, Err(Error::TooLarge { .. })),
        "{:?}",
        r.map(|m| m.nrows())
    );
}

/// `exact_attention` holds a `b × min(b, m)` score block per thread (512 MiB of f64 at the
/// largest accepted block, 8192) and built it with faer's `Mat::zeros`, which aborts: tiny
/// inputs `Q = K = V = 8192 × 1` with `block = 8192`, causal or not, killed the process under a
/// 512 MiB address limit instead of returning `Error::TooLarge` (the output, 64 KiB, was
/// already refused gracefully when too large; the per-block buffers were not).
#[test]
fn exact_attention_score_block_that_cannot_be_held_is_an_error() {
    if !common::under_address_limit(
        module_path!(),
        "exact_attention_score_block_that_cannot_be_held_is_an_error",
        512 * 1024,
    ) {
        return;
    }
    let x = Mat::from_fn(8192, 1, |i, _| 1e-3 * (i % 17) as f64);
    for causal in [false, true] {
        for kernel in [
            Kernel::Polynomial { degree: 4 },
            Kernel::Softmax { scale: 1.0 },
        ] {
            let r = exact_attention(
                x.as_ref(),
                x.as_ref(),
                x.as_ref(),
                kernel,
                &ExactParams {
                    causal,
                    block: 8192,
                },
                Par::Seq,
            );
            match r {
                Err(Error::TooLarge { what, .. }) => {
                    assert!(what.contains("block"), "{what}")
                }
                other => panic!("causal={causal} {kernel:?}: {:?}", other.map(|m| m.nrows())),
            }
        }
    }
}

/// The example's `peak_bytes` is documented as the heap allocated during the attention call
/// beyond what was live before it, the output included; it was read after the example had
/// also made its own f64 copy of the output for printing, so every run reported at least twice
/// the output. Q = 1024 × 4, V = 1024 × 512 (a 4 MiB output), block 64, one thread: causal
/// sketch (r = 4, workspace 0.9 MB) and causal exact attention both reported 8 388 608 bytes,
/// exactly 2 × 4 MiB, and the f32 sketch 6 MiB for a 2 MiB output.
#[test]
fn example_peak_bytes_leaves_out_its_own_copy_of_the_output() {
    let dir = std::env::temp_dir().join(format!("attention_review3_peak_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, n: usize, c: usize| array_file(&dir, name, (n, c), (37, 11, 101));
    let (n, d) = (1024, 512);
    let q = write("q.mtx", n, 4);
    let v = write("v.mtx", n, d);
    for (extra, scalar) in [
        (&["--sketch-dim", "4", "--causal"][..], 8),
        (&["--sketch-dim", "4", "--causal", "--f32"], 4),
        (&["--kind", "poly-exact", "--causal"], 8),
    ] {
        let out = std::process::Command::new(common::example("attention"))
            .args([&q, &q, &v, "--json", "--threads", "1", "--block", "64"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().unwrap();
        let peak: usize = line
            .split("\"peak_bytes\":")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("{extra:?}: no peak_bytes in {line}"));
        let output = n * d * scalar;
        // The output is included; the algorithms' own buffers are far below half of it here
        // (64-row blocks; the sketch's workspace is 0.9 MB, exact attention's 64 × 64 scores
        // and 64 × 512 numerators 0.3 MB).
        assert!(
            peak >= output && peak < output + output / 2,
            "{extra:?}: peak_bytes {peak} for a {output}-byte output"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `SketchInfo::workspace_bytes` is documented as the bytes the algorithm allocates beyond the
/// inputs and the output (`tests/attention.rs` checks that it bounds the measured peak, with
/// d = 8). With a wide V it was wrong both ways, measured by the example's `peak_bytes`
/// (`--threads 1`, after a warm-up; Q = K = 256 × 1, V = 256 × 2048, r = 1, block 256, a 4 MiB
/// output):
/// * causal: the row chunks' results were all collected and then copied into the block's
///   result, so three `b × (d+1)` buffers lived at once (values, chunk results, block result)
///   where the estimate counts two: 12.7 MB allocated beyond the output against 9.6 MB reported;
/// * non-causal: the estimate counted a full wave of 16 query blocks where there was one:
///   71 MB reported for 4.3 MB allocated.
///
/// The causal chunks now write straight into the block's result; the non-causal wave is
/// counted at most as many blocks as there are. Rule: the measured extra is at most the
/// reported workspace plus 16 KiB (as in `tests/attention.rs`) and the report is at most 3×
/// the measured extra.
#[test]
fn workspace_bytes_matches_the_heap_with_a_wide_v() {
    let dir = std::env::temp_dir().join(format!("attention_review3_ws_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, n: usize, c: usize| array_file(&dir, name, (n, c), (29, 13, 97));
    let (n, d) = (256, 2048);
    let q = write("q.mtx", n, 1);
    let v = write("v.mtx", n, d);
    let field = |line: &str, name: &str| -> usize {
        line.split(&format!("\"{name}\":"))
            .nth(1)
            .and_then(|rest| rest.split([',', '}']).next())
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}")) as usize
    };
    for causal in [true, false] {
        let mut cmd = std::process::Command::new(common::example("attention"));
        cmd.args([&q, &q, &v, "--json", "--threads", "1", "--block", "256"]);
        cmd.args(["--sketch-dim", "1"]);
        if causal {
            cmd.arg("--causal");
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().unwrap();
        let (peak, ws) = (field(line, "peak_bytes"), field(line, "workspace_bytes"));
        let extra = peak - n * d * 8;
        assert!(
            extra <= ws + (16 << 10),
            "causal={causal}: {extra} B allocated beyond the output, {ws} B reported"
        );
        assert!(
            ws <= 3 * extra,
            "causal={causal}: {ws} B reported, {extra} B allocated beyond the output"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Sketched attention allocates its output up front through the allocator's answer (a request
/// that cannot be held is `Error::TooLarge`), but then built each block's `[V 1]` and result
/// (`min(b, n) × (d+1)` each, as large as the output when `n ≤ b`) with faer constructors that
/// abort or panic on allocation failure. Q = K = 256 × 1, V = 256 × (2¹⁸ − 1) (512 MiB; the
/// output, 512 MiB, is within `MAX_OUTPUT`), r = 1, under a 1.45 GiB address limit: the output
/// was allocated and the process then died in the first block's `[V 1]`, causal or not.
#[test]
fn sketched_block_buffers_that_cannot_be_held_are_errors() {
    if !common::under_address_limit(
        module_path!(),
        "sketched_block_buffers_that_cannot_be_held_are_errors",
        1480 * 1024,
    ) {
        return;
    }
    let (n, d) = (256, (1 << 18) - 1);
    let q = Mat::from_fn(n, 1, |i, _| 0.01 * (i % 13) as f64);
    let v = Mat::from_fn(n, d, |i, j| if (i + j) % 5 == 0 { 1.0 } else { 0.5 });
    for causal in [true, false] {
        let p = PolySketchParams {
            sketch_dim: 1,
            causal,
            ..Default::default()
        };
        let r = poly_sketch_attention(q.as_ref(), q.as_ref(), v.as_ref(), &p, Par::Seq);
        match r {
            Err(Error::TooLarge { what, .. }) => {
                assert!(what.contains("block"), "causal={causal}: {what}")
            }
            other => panic!("causal={causal}: {:?}", other.map(|(m, _)| m.nrows())),
        }
    }
}

/// Writes an `n × c` Matrix Market array file `name` in `dir` with entries
/// `((i·a + j·b) mod m)/m − ½` (a deterministic pattern in `[−½, ½)`); its path.
fn array_file(
    dir: &std::path::Path,
    name: &str,
    (n, c): (usize, usize),
    (a, b, m): (usize, usize, usize),
) -> String {
    let mut text = format!("%%MatrixMarket matrix array real general\n{n} {c}\n");
    for j in 0..c {
        for i in 0..n {
            let x = ((i * a + j * b) % m) as f64 / m as f64 - 0.5;
            text.push_str(&format!("{x}\n"));
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().to_string()
}
