//! Polynomial attention: exact baselines and sketched linear-time attention (issue 6; in progress).
