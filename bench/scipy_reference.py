#!/usr/bin/env python3
"""An ordinary SciPy implementation of EnergyLens-12, for comparison.

usage: /usr/bin/python3 bench/scipy_reference.py DIR [--starts 16]
DIR holds splits dumped by `build/bench/bench_mlenergy --dump DIR`. Each
split is fitted with scipy.optimize.minimize(method="L-BFGS-B") on the mean
squared relative error, numerical gradients, from random starts inside the
same bounds EnergyLens uses (log-uniform for the positive scale parameters),
then scored like bench_mlenergy: mean MAPE, pairwise accuracy and top-1 over
the splits, and the mean wall time per fit. Needs Debian's python3-scipy.
"""
import csv
import glob
import sys
import time

import numpy as np
from scipy.optimize import minimize

# name, lo, hi, log-uniform starts
PARAMS = [("a_p", 1e-9, 1e5, True), ("b_p", 0, 1, False), ("e_p", 1e-6, 1e4, True),
          ("t_p", -1.5, 1.5, False), ("p_p", -1.5, 1.5, False),
          ("a_d", 1e-9, 1e5, True), ("b_d", 0, 1, False), ("e_d", 1e-6, 1e4, True),
          ("t_d", -1.5, 1.5, False), ("p_d", -1.5, 1.5, False),
          ("k_t", 0, 1e7, False), ("k_p", 0, 1e7, False)]


def model(th, T, P, B, si, so):
    a_p, b_p, e_p, t_p, p_p, a_d, b_d, e_d, t_d, p_d, k_t, k_p = th
    return (a_p * si / ((B ** b_p + e_p) * T ** t_p * P ** p_p)
            + a_d * so / ((B ** b_d + e_d) * T ** t_d * P ** p_d) + k_t * T + k_p * P)


def load(path):
    rows = list(csv.DictReader(open(path)))
    cols = [np.array([float(r[c]) for r in rows]) for c in ("tp", "pp", "batch", "s_in", "s_out")]
    return cols, np.array([float(r["energy_j"]) for r in rows])


def fit(X, y, rng, starts):
    def loss(th):
        with np.errstate(all="ignore"):
            r = (model(th, *X) - y) / y
        v = float(np.mean(r * r))
        return v if np.isfinite(v) else 1e300

    bounds = [(lo, hi) for _, lo, hi, _ in PARAMS]
    best = None
    for _ in range(starts):
        x0 = []
        for _, lo, hi, logu in PARAMS:
            if logu:
                x0.append(float(np.exp(rng.uniform(np.log(max(lo, 1e-6)), np.log(hi)))))
            else:
                x0.append(float(rng.uniform(lo, min(hi, 100.0))))
        r = minimize(loss, x0, method="L-BFGS-B", bounds=bounds)
        if best is None or r.fun < best.fun:
            best = r
    return best.x


def main():
    d = sys.argv[1]
    starts = int(sys.argv[sys.argv.index("--starts") + 1]) if "--starts" in sys.argv else 16
    rng = np.random.default_rng(0)
    res, times = [], []
    for tr in sorted(glob.glob(f"{d}/*_train.csv")):
        Xtr, ytr = load(tr)
        Xte, yte = load(tr.replace("_train", "_test"))
        t0 = time.perf_counter()
        th = fit(Xtr, ytr, rng, starts)
        times.append(time.perf_counter() - t0)
        p = model(th, *Xte)
        mape = float(np.mean(np.abs(p - yte) / yte) * 100)
        conc = pairs = 0
        for i in range(len(yte)):
            for j in range(i + 1, len(yte)):
                if yte[i] != yte[j]:
                    pairs += 1
                    conc += np.sign(p[i] - p[j]) == np.sign(yte[i] - yte[j])
        res.append((mape, conc / pairs if pairs else np.nan, float(yte[np.argmin(p)] == yte.min())))
    r = np.array(res)
    print(f"scipy L-BFGS-B ({starts} random starts, numerical gradients): splits {len(res)}  "
          f"MAPE {np.mean(r[:, 0]):.2f}%  pairwise {100 * np.nanmean(r[:, 1]):.2f}%  "
          f"top-1 {100 * np.mean(r[:, 2]):.1f}%  time/fit {np.mean(times):.3f} s")


if __name__ == "__main__":
    main()
