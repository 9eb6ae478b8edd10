//! [`Log`]: collects the failures of one law over all its cases and reports them together, so
//! that a review test names every case that breaks a law, not only the first.

/// `d ≤ bound`, false when either is NaN (so that a NaN difference fails).
fn within(d: f64, bound: f64) -> bool {
    matches!(
        d.partial_cmp(&bound),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    )
}

/// The failures of one law over all its cases; [`Log::finish`] panics with all of them.
///
/// Two figures are kept for `--nocapture` runs: the largest relative difference seen by
/// [`Log::close`] (0 means the law held bitwise in every case) and the largest
/// `|difference| / bound` seen by [`Log::entries`] and [`Log::norm`].
pub struct Log {
    what: &'static str,
    fails: Vec<String>,
    worst_relative: f64,
    worst_to_bound: f64,
    /// The number of comparisons made (each check adds one; a test may add its own).
    pub checks: usize,
}

impl Log {
    pub fn new(what: &'static str) -> Self {
        Log {
            what,
            fails: Vec::new(),
            worst_relative: 0.0,
            worst_to_bound: 0.0,
            checks: 0,
        }
    }

    pub fn fail(&mut self, ctx: &str, msg: String) {
        self.fails.push(format!("{ctx}: {msg}"));
    }

    /// Unwraps, logging an error.
    pub fn ok<T>(&mut self, ctx: &str, r: randnla::Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(ctx, format!("Err({e})"));
                None
            }
        }
    }

    fn same_length(&mut self, ctx: &str, got: &[f64], want: &[f64]) -> bool {
        self.checks += 1;
        if got.len() != want.len() {
            self.fail(ctx, format!("length {} vs {}", got.len(), want.len()));
            return false;
        }
        true
    }

    /// Finite, and `max|got − want| ≤ tol·max|want|` (an all-zero `want` asks for exact
    /// zeros). A failure names the first entry beyond the tolerance and the worst.
    pub fn close(&mut self, ctx: &str, got: &[f64], want: &[f64], tol: f64) {
        if !self.same_length(ctx, got, want) {
            return;
        }
        if let Some(i) = got.iter().position(|v| !v.is_finite()) {
            self.fail(
                ctx,
                format!("entry {i} is {} (expected {:e})", got[i], want[i]),
            );
            return;
        }
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let bound = tol * scale;
        let mut worst = (0.0f64, 0usize);
        for i in 0..got.len() {
            let d = (got[i] - want[i]).abs();
            if d > worst.0 || d.is_nan() {
                worst = (d, i);
            }
        }
        let rel = if scale > 0.0 {
            worst.0 / scale
        } else {
            worst.0
        };
        self.worst_relative = self.worst_relative.max(rel);
        if !within(worst.0, bound) {
            let i = worst.1;
            let first = (0..got.len())
                .find(|&k| !within((got[k] - want[k]).abs(), bound))
                .unwrap_or(i);
            self.fail(
                ctx,
                format!(
                    "relative error {rel:.3e} > {tol:e}; first differing entry {first}: {:e} vs \
                     expected {:e}; worst entry {i}: {:e} vs expected {:e}",
                    got[first], want[first], got[i], want[i]
                ),
            );
        }
    }

    /// [`Log::close`] for one number.
    pub fn close1(&mut self, ctx: &str, got: f64, want: f64, tol: f64) {
        self.close(ctx, &[got], &[want], tol)
    }

    /// `|got − want| ≤ tol`, for a figure that is itself a relative error (a relative change
    /// `δ` of the quantities it compares changes it by at most about `2δ` in absolute terms,
    /// whatever its own size: one of rounding size has no relative accuracy at all).
    pub fn close_abs(&mut self, ctx: &str, got: f64, want: f64, tol: f64) {
        self.checks += 1;
        let d = (got - want).abs();
        self.worst_relative = self.worst_relative.max(d);
        if !within(d, tol) {
            self.fail(
                ctx,
                format!("absolute difference {d:.3e} > {tol:e}: {got:e} vs expected {want:e}"),
            );
        }
    }

    /// The same bits in every entry.
    pub fn bits(&mut self, ctx: &str, got: &[f64], want: &[f64]) {
        if !self.same_length(ctx, got, want) {
            return;
        }
        if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
            self.fail(
                ctx,
                format!(
                    "entry {i}: {:e} vs expected {:e} (bitwise)",
                    got[i], want[i]
                ),
            );
        }
    }

    /// Entries that must be exactly zero (either sign).
    pub fn zeros(&mut self, ctx: &str, got: &[f64]) {
        self.checks += 1;
        if let Some(i) = got.iter().position(|&v| v != 0.0) {
            self.fail(
                ctx,
                format!("entry {i} is {:e}, expected exactly 0", got[i]),
            );
        }
    }

    /// Entrywise: `|got_i − want_i| ≤ bound_i` for every `i` (a zero bound asks for equality).
    pub fn entries(&mut self, ctx: &str, got: &[f64], want: &[f64], bound: &[f64]) {
        self.checks += 1;
        if got.len() != want.len() || got.len() != bound.len() {
            self.fail(
                ctx,
                format!(
                    "length {} vs {} (bounds {})",
                    got.len(),
                    want.len(),
                    bound.len()
                ),
            );
            return;
        }
        let mut worst = (0.0f64, usize::MAX);
        for i in 0..got.len() {
            let d = (got[i] - want[i]).abs();
            let ratio = if bound[i] > 0.0 {
                d / bound[i]
            } else if d == 0.0 {
                0.0
            } else {
                f64::INFINITY
            };
            if ratio.is_nan() || ratio > worst.0 {
                worst = (ratio, i);
            }
        }
        if worst.1 == usize::MAX {
            return;
        }
        self.worst_to_bound = self.worst_to_bound.max(worst.0);
        if !within(worst.0, 1.0) {
            let i = worst.1;
            self.fail(
                ctx,
                format!(
                    "entry {i}: {:e} vs expected {:e}, |diff| {:.3e} > bound {:.3e}",
                    got[i],
                    want[i],
                    (got[i] - want[i]).abs(),
                    bound[i]
                ),
            );
        }
    }

    /// Normwise: `‖got − want‖₂ ≤ bound`.
    pub fn norm(&mut self, ctx: &str, got: &[f64], want: &[f64], bound: f64) {
        if !self.same_length(ctx, got, want) {
            return;
        }
        let diff: Vec<f64> = got.iter().zip(want).map(|(a, b)| a - b).collect();
        let d = super::norm_scaled(&diff);
        let ratio = d / bound;
        if ratio.is_finite() {
            self.worst_to_bound = self.worst_to_bound.max(ratio);
        }
        if !within(d, bound) {
            self.fail(
                ctx,
                format!(
                    "‖diff‖ {d:.3e} > bound {bound:.3e} (‖want‖ = {:.3e})",
                    super::norm_scaled(want)
                ),
            );
        }
    }

    /// Prints the figures (seen with `--nocapture`) and panics with every failure, if any.
    pub fn finish(self) {
        eprintln!(
            "{}: {} checks, largest relative difference {:.2e}, largest |difference|/bound {:.2e}",
            self.what, self.checks, self.worst_relative, self.worst_to_bound
        );
        if !self.fails.is_empty() {
            panic!(
                "{}: {} failure(s):\n  {}",
                self.what,
                self.fails.len(),
                self.fails.join("\n  ")
            );
        }
    }
}
