//! Symmetric tensors and the (sketched) tensor power method (issue 7; in progress).
