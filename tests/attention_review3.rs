//! Third review of polynomial attention, on the causal path: the example's `--block`, the rows
//! named by feature-map overflow errors, the reported workspace when the block exceeds `n`, and
//! the error figure the causal doc example states.

mod common;

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
