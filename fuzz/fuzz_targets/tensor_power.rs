//! Arbitrary `.tns` text and arbitrary small tensors, vectors and parameters → the `.tns` reader,
//! the tensor constructors, exact and sketched contractions and both power methods. Nothing may
//! panic or allocate for a huge declared index: malformed text, NaN/∞, asymmetric entries,
//! out-of-range parameters all come back as `Err`.
#![no_main]

use faer::Par;
use libfuzzer_sys::fuzz_target;
use randnla::tensor::{
    match_factors, power_method_exact, power_method_sketched, read_tns, read_tns_as, residual_rel,
    write_tns, ModeHashing, PowerParams, SketchParams, SymmetricTensor, TensorSketches, TnsEntries,
    TnsStorage,
};
use randnla::Seed;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

fn value(b: &mut Bytes<'_>) -> f64 {
    match b.u8() % 8 {
        0 | 1 => 0.0,
        2 => b.raw_f64(),
        _ => (b.u8() as f64 - 128.0) / 16.0,
    }
}

fn exercise(t: &SymmetricTensor, b: &mut Bytes<'_>) {
    let n = t.dim();
    if n > 64 || t.nnz() > 1 << 14 {
        return;
    }
    let u: Vec<f64> = (0..n + (b.u8() % 8 == 0) as usize)
        .map(|_| value(b))
        .collect();
    let _ = t.contract_but_one(&u, Par::Seq);
    let _ = t.contract_all(&u, Par::Seq);
    let power = PowerParams {
        starts: (b.u8() % 3) as usize,
        iters: (b.u8() % 4) as usize,
        refine_iters: (b.u8() % 4) as usize,
    };
    let rank = (b.u8() % 4) as usize;
    if let Ok(d) = power_method_exact(t, rank, &power, Seed::new(1), Par::Seq) {
        let _ = residual_rel(t, &d.weights, &d.factors, Par::Seq);
        let _ = match_factors(t.order(), &d.weights, &d.factors, &d.weights, &d.factors);
    }
    let sp = SketchParams {
        power,
        sketches: (b.u8() % 5) as usize,
        sketch_dim: 1usize << (b.u8() % 9),
        search_sketches: (b.u8() % 3) as usize,
        search_sketch_dim: (b.u8() % 40) as usize,
        polish_iters: (b.u8() % 4) as usize,
        hashing: [ModeHashing::Auto, ModeHashing::Shared, ModeHashing::PerMode]
            [(b.u8() % 3) as usize],
    };
    let _ = power_method_sketched(t, rank, &sp, Seed::new(2), Par::Seq);
    if let Ok(mut s) = TensorSketches::new(t, 1 + (b.u8() % 3) as usize, 16, Seed::new(3), Par::Seq)
    {
        let _ = s.contract_but_one(&u, Par::Seq);
        let _ = s.contract_all(&u, Par::Seq);
        let _ = s.power_sketch((b.u8() % 4) as usize, &u);
        let _ = s.deflate(value(b), &u, Par::Seq);
    }
    // Writing and reading back keeps the order, the dimension (the header declares it) and,
    // for tensors small enough to densify, every value (`==`: a dense `-0.0` is not written).
    let mut out = Vec::new();
    write_tns(t, TnsEntries::Unique, &mut out).expect("write to a Vec");
    let back = read_tns(&out[..]).expect("read back what write_tns wrote");
    assert_eq!((back.order(), back.dim()), (t.order(), t.dim()));
    if (t.dim() as u128).saturating_pow(t.order() as u32) <= 1 << 16 {
        let values = |t: &SymmetricTensor| {
            let mut v = Vec::new();
            if let Ok(d) = t.to_dense() {
                d.for_each_entry(|_, x| v.push(x));
            }
            v
        };
        assert_eq!(values(&back), values(t));
    }
}

/// The entries of a tensor's dense form, as bits.
fn bits(t: &SymmetricTensor) -> Vec<u64> {
    let mut v = Vec::new();
    if let Ok(d) = t.to_dense() {
        d.for_each_entry(|_, x| v.push(x.to_bits()));
    }
    v
}

/// An upper bound on the entries the reader may expand the text to: entry lines × p! (p from the
/// first entry line). Text above 2²⁰ is skipped: a few lines of order 12 legitimately expand to
/// 3·10⁷ permutations and gigabytes (within the library's documented `MAX_ENTRIES`), which only
/// measures the machine's memory, not the code's robustness.
fn expansion_bound(text: &[u8]) -> u128 {
    // The reader's own line and field rules (invalid UTF-8 is a reader error: nothing to bound).
    let Ok(text) = std::str::from_utf8(text) else {
        return 0;
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.starts_with('#'))
        .collect();
    let fields = lines.first().map_or(0, |l| l.split_whitespace().count());
    let p = fields.saturating_sub(1).min(30) as u128;
    (1..=p).product::<u128>() * lines.len() as u128
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    match b.u8() % 3 {
        // Raw text through the reader.
        0 => {
            if expansion_bound(b.0) > 1 << 20 {
                return;
            }
            // Auto goes dense only when the stored permutations (≤ the bound) fill a quarter.
            let auto = read_tns_as(b.0, TnsStorage::Auto);
            if let Ok(t) = read_tns(b.0) {
                // Reading straight into dense storage gives the same bits (when small enough to
                // hold: a single line may declare a 2²⁸-entry tensor, whose dense form takes
                // 2 GiB and seconds, which only measures the machine).
                // (`to_dense` only when small: a tuple `(small, &t.to_dense())` built the dense
                // form of every tensor read, up to 2 GiB, and a 5-minute run hit libFuzzer's
                // 2 GB RSS limit.)
                let small = (t.dim() as u128).saturating_pow(t.order() as u32) <= 1 << 16;
                if let Some(Ok(d)) = small.then(|| t.to_dense()) {
                    let direct = read_tns_as(b.0, TnsStorage::Dense).expect("dense read");
                    assert_eq!(bits(&direct), bits(&d));
                    assert_eq!(bits(&auto.expect("auto read")), bits(&d));
                }
                exercise(&t, &mut Bytes(&[]));
            }
        }
        // A dense tensor, symmetric by construction or not.
        1 => {
            let order = 2 + (b.u8() % 3) as usize;
            let n = (b.u8() % 5) as usize;
            let len = n.pow(order as u32) + (b.u8() % 8 == 0) as usize;
            let data: Vec<f64> = (0..len).map(|_| value(&mut b)).collect();
            let t = if b.u8() % 2 == 0 {
                SymmetricTensor::dense(order, n, data)
            } else {
                SymmetricTensor::dense_symmetrized(order, n, data)
            };
            if let Ok(t) = t {
                exercise(&t, &mut b);
            }
        }
        // Coordinate entries.
        _ => {
            let order = 2 + (b.u8() % 3) as usize;
            let n = (b.u8() % 6) as usize;
            let nnz = (b.u8() % 12) as usize;
            let idx: Vec<usize> = (0..nnz * order + (b.u8() % 8 == 0) as usize)
                .map(|_| (b.u8() % 7) as usize)
                .collect();
            let val: Vec<f64> = (0..nnz).map(|_| value(&mut b)).collect();
            if let Ok(t) = SymmetricTensor::coordinate(order, n, &idx, &val) {
                exercise(&t, &mut b);
            }
        }
    }
});
