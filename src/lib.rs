//! randnla — crate guide written at the end of issue 2.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod diagnostics;
pub mod error;
pub mod input;
pub mod io;
pub mod leverage;
pub mod lstsq;
pub mod problems;
pub mod scalar;
pub mod seed;
pub mod sketch;

pub use error::{Error, Result};
pub use input::{Layout, MatrixRef, SparseRef};
pub use scalar::Scalar;
pub use seed::Seed;
