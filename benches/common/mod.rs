//! Shared by every bench.

/// Whether criterion runs this bench in test mode (each benchmark once, on the smallest sizes):
/// under `cargo bench -- --test`, and under `cargo test --benches`, which passes no `--bench`.
pub fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}
