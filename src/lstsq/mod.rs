//! Least squares in input-sparsity time (issue 4).
