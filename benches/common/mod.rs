//! Shared by every bench.

use faer::Par;

/// Whether criterion runs this bench in test mode (each benchmark once, on the smallest sizes):
/// under `cargo bench -- --test`, and under `cargo test --benches`, which passes no `--bench`.
pub fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// Every thread of the rayon pool (`RAYON_NUM_THREADS` sets it), or `Par::Seq` for one.
#[allow(dead_code)] // not every bench runs the solvers that take a `Par`
pub fn par() -> Par {
    match rayon::current_num_threads() {
        0 | 1 => Par::Seq,
        t => Par::rayon(t),
    }
}
