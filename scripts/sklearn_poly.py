"""scikit-learn's PolynomialCountSketch on the inputs of the poly_features example, side by side.

Usage (in an empty directory, with numpy 2.4.6, scipy 1.17.1 and scikit-learn 1.9.1, one thread):

    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    python3 sklearn_poly.py gen                      # dense.mtx (11 MB) and sparse.mtx (31 MB), ~1 s
    python3 sklearn_poly.py time dense.mtx 3 4096    # median of 5 fit+transform runs
    python3 sklearn_poly.py time sparse.mtx 2 1024
    python3 sklearn_poly.py bench BIN dense.mtx 3 4096 [--rounds 5]

The inputs: dense.mtx is a 5000x100 Gaussian matrix scaled by 1/sqrt(100) (numpy
default_rng(0)), a Matrix Market array file; sparse.mtx is 20000x10000 with 10^6 nonzeros at
distinct uniformly random positions with standard Gaussian values (default_rng(1)), a Matrix
Market coordinate file. The randnla side is
`target/release/examples/poly_features FILE --degree P --rows M --gamma 1 --coef0 0 --seed 0
--threads 1 --json`.

`time FILE DEGREE M [--reps R]` reads FILE (scipy.io.mmread; sparse input converted to CSC, the
format PolynomialCountSketch validates to, so no conversion is timed), then R times (default 5)
times `PolynomialCountSketch(degree=DEGREE, gamma=1, coef0=0, n_components=M,
random_state=0).fit(X)` and `.transform(X)` with time.perf_counter. Reading the file is not
timed. Prints one JSON object: the median, min and max of fit+transform and of transform alone,
the kernel (system) CPU seconds of each run (page faults of the large temporaries), the input and
output shapes, and the relative kernel error ||ZZ^T - K||_F/||K||_F on the first
<= 2000 rows (K = (<x,y>)^DEGREE; not timed), the same quantity the example reports.

`bench BIN FILE DEGREE M [--rounds R]` alternates, R times (default 5), one run of the example
binary BIN (with `--threads 1 --json`, its `seconds` recorded) and one timed sklearn
fit+transform in this process, and prints one JSON object with both sides' medians and ranges.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.io
import scipy.sparse as sp
from sklearn.kernel_approximation import PolynomialCountSketch

ERROR_ROWS = 2000


def gen():
    t0 = time.perf_counter()
    n, d = 5000, 100
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    scipy.io.mmwrite('dense.mtx', X)
    n, d, nnz = 20000, 10000, 10**6
    rng = np.random.default_rng(1)
    lin = rng.choice(n * d, size=nnz, replace=False)      # distinct positions
    lin.sort()
    rows, cols = lin // d, lin % d
    vals = rng.standard_normal(nnz)
    S = sp.coo_matrix((vals, (rows, cols)), shape=(n, d))
    scipy.io.mmwrite('sparse.mtx', S)
    print(json.dumps({"dense": [5000, 100], "sparse": [n, d], "sparse_nnz": int(S.nnz),
                      "seconds": time.perf_counter() - t0}))


def load(path):
    X = scipy.io.mmread(path)
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        X.sum_duplicates()
    else:
        X = np.ascontiguousarray(X, dtype=np.float64)
    return X


def make(degree, m):
    return PolynomialCountSketch(degree=degree, gamma=1.0, coef0=0.0, n_components=m,
                                 random_state=0)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def run_once(X, degree, m, sys_cpu=None):
    """Times fit+transform and transform; appends the run's kernel (system) CPU seconds."""
    c0 = cpu()
    t0 = time.perf_counter()
    est = make(degree, m).fit(X)
    t1 = time.perf_counter()
    Z = est.transform(X)
    t2 = time.perf_counter()
    c1 = cpu()
    if sys_cpu is not None:
        sys_cpu.append(c1[1] - c0[1])
    return Z, t2 - t0, t2 - t1


def kernel_rel_error(X, Z, degree):
    r = min(ERROR_ROWS, X.shape[0])
    Xr = X[:r]
    G = Xr @ Xr.T
    if sp.issparse(G):
        G = G.toarray()
    K = np.asarray(G) ** degree
    Zr = Z[:r]
    return float(np.linalg.norm(Zr @ Zr.T - K) / np.linalg.norm(K))


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "all": [round(x, 5) for x in xs]}


def opt(args, name, default):
    if name in args:
        i = args.index(name)
        v = int(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def time_cmd(args):
    reps = opt(args, '--reps', 5)
    path, degree, m = args[0], int(args[1]), int(args[2])
    X = load(path)
    tot, tr, sy = [], [], []
    Z = None
    for _ in range(reps):
        Z, a, b = run_once(X, degree, m, sy)
        tot.append(a)
        tr.append(b)
    print(json.dumps({
        "file": path, "n": X.shape[0], "d": X.shape[1],
        "nnz": int(X.nnz) if sp.issparse(X) else X.size,
        "format": "csc" if sp.issparse(X) else "dense C-order",
        "degree": degree, "m": m, "out_shape": list(Z.shape), "reps": reps,
        "seconds": statistics.median(tot), "fit_transform": stats(tot), "transform": stats(tr),
        "system_cpu_seconds": stats(sy),
        "kernel_rel_error": kernel_rel_error(X, Z, degree),
    }))


def bench_cmd(args):
    rounds = opt(args, '--rounds', 5)
    binary, path, degree, m = args[0], args[1], int(args[2]), int(args[3])
    X = load(path)
    cmd = [binary, path, '--degree', str(degree), '--rows', str(m), '--gamma', '1',
           '--coef0', '0', '--seed', '0', '--threads', '1', '--json']
    env = dict(os.environ, OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MKL_NUM_THREADS='1')
    rs, tot, tr, rerr, sy = [], [], [], [], []
    Z = None
    for _ in range(rounds):
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        j = json.loads(out.strip().splitlines()[-1])
        rs.append(j['seconds'])
        rerr.append(j['kernel_rel_error'])
        Z, a, b = run_once(X, degree, m, sy)
        tot.append(a)
        tr.append(b)
    print(json.dumps({
        "file": path, "degree": degree, "m": m, "rounds": rounds, "command": ' '.join(cmd),
        "randnla_seconds": stats(rs), "randnla_kernel_rel_error": rerr[-1],
        "sklearn_fit_transform": stats(tot), "sklearn_transform": stats(tr),
        "sklearn_system_cpu_seconds": stats(sy),
        "sklearn_kernel_rel_error": kernel_rel_error(X, Z, degree),
        "ratio_sklearn_fit_transform_over_randnla": statistics.median(tot) / statistics.median(rs),
    }))


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in ('gen', 'time', 'bench'):
        sys.exit(__doc__)
    {'gen': lambda a: gen(), 'time': time_cmd, 'bench': bench_cmd}[sys.argv[1]](sys.argv[2:])
