//! TensorSketch (issue 5).
