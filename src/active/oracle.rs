//! Label oracles and the budget that is never exceeded.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Something that can reveal the label `y_i` of pool row `i` — a lab measurement, a human
/// annotator, a simulation, or (for experiments) a stored vector.
///
/// The learner never calls an oracle directly: it goes through [`Budgeted`], which counts the
/// queries, answers repeated questions from its cache, and refuses any query beyond the budget.
///
/// Besides [`SliceOracle`], a pair `(n, closure)` is an oracle for a pool of `n` rows: the
/// closure is called once per distinct row, at most `budget` times.
///
/// # Examples
///
/// ```
/// use randnla::active::{Basis, Budgeted, Learner, Pool, Strategy};
/// use randnla::{problems, MatrixRef, Seed};
/// let x = problems::cauchy_rows(1000, 4, Seed::new(3))?;
/// let view = MatrixRef::dense(x.as_ref())?;
/// let pool = Pool::new(view, Basis::Exact, Seed::new(4), randnla::faer::Par::Seq)?;
/// // An "experiment" whose outcome is 2·x_i0 − x_i3; it counts how often it is run.
/// let mut runs = 0;
/// let experiment = |i: usize| {
///     runs += 1;
///     Ok(2.0 * x[(i, 0)] - x[(i, 3)])
/// };
/// let mut oracle = Budgeted::new((1000, experiment), 40);
/// let mut learner = Learner::new(&pool, Strategy::leverage(), Seed::new(5))?;
/// learner.select_labels(40, &mut oracle)?;
/// let (beta, _) = learner.fit(0.0)?;
/// drop(oracle);
/// assert_eq!(runs, 40); // select_labels spends the whole budget, each row once
/// // Noise-free labels: 40 rows in general position recover β exactly (up to rounding).
/// for (b, want) in beta.iter().zip([2.0, 0.0, 0.0, -1.0]) {
///     assert!((b - want).abs() < 1e-10, "{beta:?}");
/// }
/// # Ok::<(), randnla::Error>(())
/// ```
pub trait LabelOracle {
    /// Number of rows of the pool the oracle can label (must equal the pool's `n`).
    fn pool_size(&self) -> usize;
    /// The label of row `row` (`row < pool_size()`).
    ///
    /// # Errors
    /// Whatever the oracle cannot answer; [`Budgeted`] turns a NaN or infinite answer into
    /// [`Error::NonFinite`].
    fn label(&mut self, row: usize) -> Result<f64>;
}

/// An oracle backed by a stored label vector (experiments, the example's labels file).
#[derive(Clone, Debug)]
pub struct SliceOracle<'a> {
    labels: &'a [f64],
}

impl<'a> SliceOracle<'a> {
    /// Wraps the full label vector; only the rows the learner queries are ever read.
    pub fn new(labels: &'a [f64]) -> Self {
        SliceOracle { labels }
    }
}

impl LabelOracle for SliceOracle<'_> {
    fn pool_size(&self) -> usize {
        self.labels.len()
    }
    fn label(&mut self, row: usize) -> Result<f64> {
        self.labels.get(row).copied().ok_or_else(|| {
            Error::param(
                "row",
                format!(
                    "row {row} is outside the pool of {} rows",
                    self.labels.len()
                ),
            )
        })
    }
}

impl<F: FnMut(usize) -> Result<f64>> LabelOracle for (usize, F) {
    fn pool_size(&self) -> usize {
        self.0
    }
    fn label(&mut self, row: usize) -> Result<f64> {
        (self.1)(row)
    }
}

/// A label oracle with a budget: at most `budget` distinct rows are ever passed to the inner
/// oracle. Repeated queries of a row are answered from the cache and cost nothing.
///
/// # Examples
///
/// ```
/// use randnla::active::{Budgeted, SliceOracle};
/// let y = [1.0, 2.0, 3.0];
/// let mut o = Budgeted::new(SliceOracle::new(&y), 2);
/// assert_eq!(o.query(2).unwrap(), 3.0);
/// assert_eq!(o.query(2).unwrap(), 3.0); // cached, still one label used
/// assert_eq!(o.query(0).unwrap(), 1.0);
/// assert!(o.query(1).is_err()); // a third distinct label would exceed the budget
/// assert_eq!(o.labels_used(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Budgeted<O> {
    inner: O,
    budget: usize,
    spent: usize,
    labels: BTreeMap<usize, f64>,
}

impl<O: LabelOracle> Budgeted<O> {
    /// Wraps `inner` with a budget of `budget` distinct labels.
    pub fn new(inner: O, budget: usize) -> Self {
        Budgeted {
            inner,
            budget,
            spent: 0,
            labels: BTreeMap::new(),
        }
    }

    /// The label of `row`: from the cache if it was queried before (free), otherwise from the
    /// inner oracle (one label of the budget).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `row ≥ pool_size()` or when a new label would exceed the
    /// budget (the inner oracle is then not called); [`Error::NonFinite`] when the inner oracle
    /// answers NaN or ∞, and the inner oracle's own errors (in both cases the query still counts
    /// against the budget: the oracle was asked).
    pub fn query(&mut self, row: usize) -> Result<f64> {
        if let Some(&y) = self.labels.get(&row) {
            return Ok(y);
        }
        if row >= self.inner.pool_size() {
            return Err(Error::param(
                "row",
                format!(
                    "row {row} is outside the pool of {} rows",
                    self.inner.pool_size()
                ),
            ));
        }
        if self.spent >= self.budget {
            return Err(Error::param(
                "budget",
                format!(
                    "label budget of {} exhausted; row {row} was not queried",
                    self.budget
                ),
            ));
        }
        // The oracle is asked: the label is spent whatever the answer.
        self.spent += 1;
        let y = self.inner.label(row)?;
        if !y.is_finite() {
            return Err(Error::NonFinite {
                what: "label returned by the oracle".into(),
                row,
                col: 0,
            });
        }
        self.labels.insert(row, y);
        Ok(y)
    }

    /// Whether `row` has been labeled already (a query of it is free).
    pub fn is_labeled(&self, row: usize) -> bool {
        self.labels.contains_key(&row)
    }
    /// Queries passed to the inner oracle so far: one per distinct row it answered, plus one
    /// for every query it failed (a row whose query failed is asked again, and counts again,
    /// when queried again). Equal to [`labels`](Self::labels)`.len()` while no query has failed.
    pub fn labels_used(&self) -> usize {
        self.spent
    }
    /// The budget (distinct labels allowed in total).
    pub fn budget(&self) -> usize {
        self.budget
    }
    /// Labels still allowed.
    pub fn remaining(&self) -> usize {
        self.budget.saturating_sub(self.spent)
    }
    /// Rows of the pool.
    pub fn pool_size(&self) -> usize {
        self.inner.pool_size()
    }
    /// The labels obtained so far, by row.
    pub fn labels(&self) -> &BTreeMap<usize, f64> {
        &self.labels
    }
    /// The inner oracle back.
    pub fn into_inner(self) -> O {
        self.inner
    }
}
