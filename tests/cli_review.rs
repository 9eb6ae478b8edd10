//! The `tensor_power` and `poly_features` examples as a user runs them: a rejected command line
//! leaves the files it names alone. (Like `examples_cli`, this runs the example binaries that
//! `cargo test` builds next to the test binaries.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/")
        .join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test` (all targets), which builds the examples",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the example starts")
}

/// `tensor_power --export FILE` wrote FILE (overwriting one that was there) before it looked at
/// `--rank`, `--method`, `--hashing` and the power-method options, so a typo in any of them
/// exited with code 2 *and* had replaced the user's file. Now every option is checked first: a
/// rejected command line exits with code 2, one line on stderr, and leaves FILE as it was.
#[test]
fn tensor_power_rejects_a_bad_option_before_it_exports() {
    let dir = std::env::temp_dir().join(format!("randnla-cli-review-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.tns");
    std::fs::write(&input, "1 1 1 2\n2 2 2 1\n").unwrap();
    let export = dir.join("kept.tns");
    let before = "# the user's own file\n1 1 1 5\n";
    let input = input.to_string_lossy().into_owned();
    let export_s = export.to_string_lossy().into_owned();
    for bad in [
        &["--method", "exakt"][..],
        &["--rank", "two"],
        &["--hashing", "both"],
        &["--starts", "x"],
        &["--iters", "-1"],
        &["--sketches", "1.5"],
        &["--polish-iters", "many"],
    ] {
        std::fs::write(&export, before).unwrap();
        let mut args = vec!["--tns", input.as_str(), "--export", export_s.as_str()];
        args.extend_from_slice(bad);
        let out = run("tensor_power", &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&export).unwrap(),
            before,
            "{bad:?} overwrote the export file; stderr {stderr}"
        );
    }
    // A good command line exports (one line per unordered multi-index, after the header).
    let out = run(
        "tensor_power",
        &["--tns", &input, "--export", &export_s, "--method", "exact"],
    );
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&export).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    std::fs::remove_dir_all(&dir).ok();
}
