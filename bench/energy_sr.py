#!/usr/bin/env python3
"""energy_sr.py - can `discover` find an energy formula? (issue #4, item 4)

Generates --rows configurations (tp, pp, batch, s_in, s_out) with per-request
energy from EnergyLens-12 (docs/DESIGN.md section 3) at fixed, plausible parameter
values, adds --noise relative Gaussian noise (2% by default), runs
`energylens discover` on them (relative loss, --threads threads,
--time-limit seconds), and scores on 2,000 fresh noise-free rows:

  - the pick of the front, and
  - the most accurate front entry of complexity <= --max-complexity (chosen
    by training loss, not by the fresh rows),

each by MAPE against the noise-free truth. Target: MAPE <= 3% at complexity
<= 30. Prints one line per seed and a summary.

Needs numpy and sympy (Debian: python3-numpy python3-sympy).

usage: bench/energy_sr.py [--cli build/energylens] [--seeds 1] [--rows 500]
         [--noise 0.02] [--threads 2] [--time-limit 120] [--max-evals N]
         [--ops +,-,*,/,^,log,exp,sqrt] [--keep DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sympy as sp

# EnergyLens-12 parameters: a 7-13B model on a modern GPU, roughly.
PARAMS = dict(a_p=0.05, b_p=0.6, e_p=1.0, t_p=0.3, p_p=0.1,
              a_d=1.2, b_d=0.8, e_d=2.0, t_d=0.5, p_d=0.2,
              k_t=5.0, k_p=3.0)
VARS = ["tp", "pp", "batch", "s_in", "s_out"]


def energylens12(tp, pp, batch, s_in, s_out, p=PARAMS):
    pre = p["a_p"] * s_in / ((batch ** p["b_p"] + p["e_p"]) * tp ** p["t_p"] * pp ** p["p_p"])
    dec = p["a_d"] * s_out / ((batch ** p["b_d"] + p["e_d"]) * tp ** p["t_d"] * pp ** p["p_d"])
    return pre + dec + p["k_t"] * tp + p["k_p"] * pp


def sample(rng, n):
    tp = rng.choice([1, 2, 4, 8], n).astype(float)
    pp = rng.choice([1, 2, 4], n).astype(float)
    batch = np.round(np.exp(rng.uniform(np.log(1), np.log(256), n)))
    s_in = np.round(np.exp(rng.uniform(np.log(64), np.log(4096), n)))
    s_out = np.round(np.exp(rng.uniform(np.log(16), np.log(1024), n)))
    return dict(tp=tp, pp=pp, batch=batch, s_in=s_in, s_out=s_out)


def write_csv(path, cols, y):
    with open(path, "w") as f:
        f.write(",".join(VARS + ["energy_j"]) + "\n")
        for i in range(len(y)):
            f.write(",".join("%.17g" % cols[v][i] for v in VARS) + ",%.17g\n" % y[i])


def predict(expr_text, cols):
    syms = {v: sp.Symbol(v, positive=True) for v in VARS}
    e = sp.parse_expr(expr_text, local_dict=syms)
    f = sp.lambdify([syms[v] for v in VARS], e, "numpy")
    with np.errstate(all="ignore"):
        out = f(*[cols[v] for v in VARS])
    return np.broadcast_to(np.asarray(out, dtype=float), cols["tp"].shape)


def mape(y, p):
    return float(np.mean(np.abs(p - y) / np.abs(y)) * 100.0)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(os.path.dirname(here), "build", "energylens"))
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--noise", type=float, default=0.02)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--max-evals", type=int, default=0)
    ap.add_argument("--max-complexity", type=int, default=30)
    ap.add_argument("--ops", default="+,-,*,/,^,log,exp,sqrt")
    ap.add_argument("--extra", default="")
    ap.add_argument("--keep", default="", help="directory to keep data and fronts in")
    a = ap.parse_args()

    tmp = a.keep or tempfile.mkdtemp(prefix="el_energy_sr_")
    os.makedirs(tmp, exist_ok=True)
    ok = 0
    for seed in range(a.seeds):
        rng = np.random.default_rng(4242 + seed)
        tr = sample(rng, a.rows)
        y_true = energylens12(**tr)
        y = y_true * (1.0 + a.noise * rng.standard_normal(a.rows))
        te = sample(rng, 2000)
        yt = energylens12(**te)
        train = os.path.join(tmp, f"train_{seed}.csv")
        front = os.path.join(tmp, f"front_{seed}.json")
        write_csv(train, tr, y)
        cmd = [a.cli, "discover", train, "--target", "energy_j", "--loss", "rel2",
               "--vars", ",".join(VARS), "--ops", a.ops, "--seed", str(seed),
               "--threads", str(a.threads), "-q", "-o", front]
        if a.max_evals:
            cmd += ["--max-evals", str(a.max_evals)]
        if a.time_limit > 0:
            cmd += ["--time-limit", str(a.time_limit)]
        cmd += a.extra.split()
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t0
        if p.returncode != 0:
            print(f"seed {seed}: discover failed: {p.stderr.strip()}")
            continue
        with open(front) as f:
            fr = json.load(f)
        ents = fr["entries"]
        pick = ents[fr["pick"]]
        best = None
        for e in ents:
            if e["complexity"] <= a.max_complexity:
                best = e  # entries are ordered by complexity, loss decreasing
        m_pick = mape(yt, predict(pick["sympy"], te))
        m_best = mape(yt, predict(best["sympy"], te)) if best else float("nan")
        noise_mape = mape(y_true, y)
        good = best is not None and m_best <= 3.0
        ok += good
        print(f"seed {seed}: {wall:.0f} s, {fr['search']['evaluations']} evaluations; "
              f"training noise MAPE {noise_mape:.2f}%")
        print(f"  pick      c={pick['complexity']:2d} fresh MAPE {m_pick:6.2f}%  {pick['expression']}")
        if best:
            print(f"  best<={a.max_complexity} c={best['complexity']:2d} fresh MAPE {m_best:6.2f}%  "
                  f"{best['expression']}")
        sys.stdout.flush()
    print(f"\n{ok}/{a.seeds} seeds found a formula of complexity <= {a.max_complexity} "
          f"within 3% MAPE of the noise-free truth on fresh rows")


if __name__ == "__main__":
    main()
