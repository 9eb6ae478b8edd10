//! Shared by the fuzz targets: reads an arbitrary byte string as a stream of small values.

/// A cursor over the fuzzer's bytes; past the end every read is 0.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// The next eight bytes as raw `f64` bits (any value: NaN, ∞, subnormal, huge).
    pub fn raw_f64(&mut self) -> f64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        f64::from_le_bytes(b)
    }
}
