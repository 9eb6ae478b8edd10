//! Attention kernel regression (Song, Yin, Zhang, arXiv 2308.14304) — being written.
