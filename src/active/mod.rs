//! Active-learning query selection for regression (issue 8; in progress).
