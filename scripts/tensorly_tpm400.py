"""TensorLy's power iteration on the 400^3 symmetric tensor of issue 7, for a side-by-side run.

Usage (in an empty directory, with numpy 2.4.6 and tensorly 0.10.0, one thread):

    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    python3 tensorly_tpm400.py gen      # T400.npy, U400.npy, lam400.npy and T400.tns (~50 s, 0.9 GB)
    python3 tensorly_tpm400.py nonsym   # parafac_power_iteration(T, 10, n_repeat=5, n_iteration=8)
    python3 tensorly_tpm400.py sym      # symmetric_parafac_power_iteration, same parameters

The tensor: sum_j 0.8^j a_j^(x3) with orthonormal a_j (QR of a 400x10 Gaussian, numpy seed 0) plus
a symmetrized Gaussian noise tensor of 1% relative Frobenius norm. T400.tns lists each unordered
multi-index i<=j<=k once (1-based), for
`cargo run --release --example tensor_power -- --tns T400.tns --rank 10 --starts 5 --iters 8
--threads 1 --method exact|sketch --factors-out F.mtx --json`.
Prints one JSON object: wall and CPU seconds, the largest factor error (after matching and sign
fix) and the relative residual. `tensorly_tpm400.py err F.mtx` gives the largest factor error of
the example's `--factors-out F.mtx`.
"""
import json
import sys
import time

import numpy as np


def gen():
    t0 = time.perf_counter()
    n, r = 400, 10
    np.random.seed(0)
    A = np.random.randn(n, r)
    U, _ = np.linalg.qr(A)                      # 400x10, orthonormal columns
    lam = 0.8 ** np.arange(r)
    T0 = np.einsum('j,aj,bj,cj->abc', lam, U, U, U, optimize=True)
    G = np.random.randn(n, n, n)
    S = (G + G.transpose(0, 2, 1) + G.transpose(1, 0, 2) + G.transpose(1, 2, 0)
         + G.transpose(2, 0, 1) + G.transpose(2, 1, 0)) / 6.0
    del G
    S *= 0.01 * np.linalg.norm(T0) / np.linalg.norm(S)
    T = T0 + S
    del S
    print("||T0||_F =", np.linalg.norm(T0), " ||noise||/||T0|| =", np.linalg.norm(T - T0) / np.linalg.norm(T0))
    del T0
    # exact symmetry (floating point: averaging order can differ by ulps) -- check
    print("max asym:", max(np.abs(T - T.transpose(p)).max() for p in [(0,2,1),(1,0,2),(1,2,0),(2,0,1),(2,1,0)]))
    np.save('T400.npy', T); np.save('U400.npy', U); np.save('lam400.npy', lam)
    print("npy saved", time.perf_counter() - t0)
    # FROSTT .tns, unordered multi-indices i<=j<=k, 1-based
    jj, kk = np.triu_indices(n)                  # j<=k
    cnt = 0
    with open('T400.tns', 'w') as f:
        for i in range(n):
            m = jj >= i
            j, k = jj[m], kk[m]
            arr = np.empty((j.size, 4))
            arr[:, 0] = i + 1; arr[:, 1] = j + 1; arr[:, 2] = k + 1
            arr[:, 3] = T[i, j, k]
            np.savetxt(f, arr, fmt='%d %d %d %.17g')
            cnt += j.size
    print("tns lines written:", cnt, "expected C(402,3) =", 402*401*400//6, time.perf_counter() - t0)


def run(which):
    import tensorly as tl
    from tensorly.decomposition import parafac_power_iteration, symmetric_parafac_power_iteration
    T = np.load('T400.npy')
    U = np.load('U400.npy')
    lam_true = np.load('lam400.npy')
    Tt = tl.tensor(T)

    def max_factor_err(F):
        F = np.asarray(F)
        Fn = F / np.linalg.norm(F, axis=0, keepdims=True)
        C = U.T @ Fn                      # cos(a_j, f_l)
        errs = []
        for j in range(U.shape[1]):
            l = int(np.argmax(np.abs(C[j])))
            s = np.sign(C[j, l]) or 1.0
            errs.append(np.linalg.norm(U[:, j] - s * Fn[:, l]))
        return max(errs), errs

    np.random.seed(0)
    w0, c0 = time.perf_counter(), time.process_time()
    if which == 'nonsym':
        weights, factors = parafac_power_iteration(Tt, 10, n_repeat=5, n_iteration=8)
    else:
        weights, factor = symmetric_parafac_power_iteration(Tt, 10, n_repeat=5, n_iteration=8)
        factors = [factor] * 3
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0

    per_mode = [max_factor_err(F)[0] for F in factors]
    That = tl.cp_to_tensor((weights, factors))
    rel_res = float(np.linalg.norm(T - That) / np.linalg.norm(T))
    out = dict(run=which, numpy=np.__version__, tensorly=tl.__version__, backend=tl.get_backend(),
               wall_s=wall, cpu_s=cpu, max_factor_err=max(per_mode), per_mode_max_err=per_mode,
               rel_residual=rel_res, weights=[float(x) for x in np.asarray(weights)],
               true_weights=lam_true.tolist())
    print(json.dumps(out, indent=1))


def factor_error(path):
    """Largest factor error of an n x k Matrix Market array (`--factors-out` of the example)."""
    U = np.load('U400.npy')
    rows = [ln for ln in open(path).read().split("\n") if ln and not ln.startswith("%")]
    n, k = map(int, rows[0].split())
    F = np.array([float(x) for x in rows[1:1 + n * k]]).reshape(k, n).T
    C = U.T @ F
    errs = []
    for j in range(U.shape[1]):
        l = int(np.argmax(np.abs(C[j])))
        errs.append(np.linalg.norm(U[:, j] - np.sign(C[j, l]) * F[:, l]))
    print(json.dumps(dict(factors=path, max_factor_err=max(errs))))


if __name__ == "__main__":
    if sys.argv[1:] == ["gen"]:
        gen()
    elif len(sys.argv) == 3 and sys.argv[1] == "err":
        factor_error(sys.argv[2])
    elif sys.argv[1:] in (["nonsym"], ["sym"]):
        run(sys.argv[1])
    else:
        sys.exit("usage: tensorly_tpm400.py gen|nonsym|sym|err F.mtx")
