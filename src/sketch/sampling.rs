//! Leverage-score and other row-sampling sketches (issue 3).
