//! Leverage scores and row sampling (issue 3).
