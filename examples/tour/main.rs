//! The tour: every capability of randnla on built-in data, one table per capability.
//!
//! ```text
//! cargo run --release --example tour [-- --seed N --threads N --json]
//! ```
//! Runs in under a minute on 2 cores. `--json` prints one JSON object as the last line: each
//! section's seconds under its name (`"sketch core"`, `"leverage scores"`, `"least squares"`,
//! `"tensor sketch"`, `"polynomial attention"`, `"tensor power method"`, `"active learning"`)
//! and `total_seconds`. A section that fails stops the tour with its message (exit code 2).

mod active_section;
mod attention_section;
#[path = "../cli/mod.rs"]
mod cli;
mod leverage_section;
mod lstsq_section;
mod sketch_section;
mod tensor_power_section;
mod tensor_sketch_section;

use std::time::Instant;

/// A section of the tour: prints its table, or says what went wrong.
type Section = fn(&Ctx) -> Result<(), String>;

/// What every section receives.
pub struct Ctx {
    pub seed: randnla::Seed,
    pub par: faer::Par,
}

fn main() {
    cli::run(|| {
        let args =
            cli::Args::parse_with_usage("usage: tour [--seed N] [--threads N] [--json]", &[], &[])?;
        args.positionals(0, 0)?;
        let (pool, par) = args.threads()?;
        let ctx = Ctx {
            seed: args.seed()?,
            par,
        };
        let sections: [(&str, Section); 7] = [
            ("sketch core", sketch_section::run),
            ("leverage scores", leverage_section::run),
            ("least squares", lstsq_section::run),
            ("tensor sketch", tensor_sketch_section::run),
            ("polynomial attention", attention_section::run),
            ("tensor power method", tensor_power_section::run),
            ("active learning", active_section::run),
        ];
        let mut json = cli::Json::new();
        let total = Instant::now();
        pool.install(|| -> Result<(), String> {
            for (name, f) in sections {
                cli::outln!("\n== {name} ==");
                let t = Instant::now();
                f(&ctx)?;
                json = std::mem::take(&mut json).num(name, t.elapsed().as_secs_f64());
            }
            Ok(())
        })?;
        let secs = total.elapsed().as_secs_f64();
        cli::outln!("\ntour finished in {secs:.1} s");
        if args.json() {
            json.num("total_seconds", secs).print();
        }
        Ok(())
    })
}
