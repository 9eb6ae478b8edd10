//! Sketching operators (being written).
