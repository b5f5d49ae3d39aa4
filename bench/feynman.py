#!/usr/bin/env python3
"""feynman.py - the symbolic-regression acceptance protocol of issue #4.

For each Feynman problem in data/feynman (or --data): train on rows 1-1000,
test on rows 1001-2000; run `energylens discover` for seeds 0..N-1 with at
most --max-evals evaluations and --threads threads; then score the pick of
each front file:

  exact recovery (SRBench's rule as the issue states it): the pick, with its
      constants rounded to 3 significant digits, is sympy-equivalent to the
      true formula up to an additive or multiplicative constant, i.e.
      simplify(truth - model) or simplify(model / truth) is a constant;
  test R^2 on rows 1001-2000 (accuracy solution: R^2 > 0.999).

Prints one line per run and then the table: per problem the exact-recovery
rate, the median test R^2 and the median wall time of a run, and the totals.
Results are appended to --results (JSON lines) and a rerun skips the runs
already there, so an interrupted run resumes.

Needs numpy and sympy (Debian: apt-get install python3-numpy python3-sympy).
The operator set is the same for every problem (--ops).

usage: bench/feynman.py [--cli build/energylens] [--data data/feynman]
         [--seeds 10] [--max-evals 500000] [--threads 2] [--problems a,b]
         [--ops +,-,*,/,^,sqrt,log,exp,sin,cos] [--results FILE] [--extra 'opts']
"""
import argparse
import csv
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import sympy as sp

DEFAULT_OPS = "+,-,*,/,^,sqrt,log,exp,sin,cos"


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def round_sig(x, digits=3):
    if x == 0:
        return 0.0
    return float(f"{x:.{digits - 1}e}")


def round_floats(expr):
    """Constants to 3 significant digits, then exact rationals (so 2.00 -> 2)."""
    reps = {}
    for a in sp.preorder_traversal(expr):
        if isinstance(a, sp.Float):
            reps[a] = sp.nsimplify(round_sig(float(a)), rational=True)
    return expr.xreplace(reps)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def is_constant(e):
    return len(e.free_symbols) == 0 and e.is_finite is not False


def numerically_plausible(truth_f, model_f, X):
    """Cheap filter: truth - model or model / truth constant on the test rows."""
    with np.errstate(all="ignore"):
        t = truth_f(*X)
        m = model_f(*X)
        t = np.broadcast_to(np.asarray(t, dtype=float), X[0].shape)
        m = np.broadcast_to(np.asarray(m, dtype=float), X[0].shape)
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(m))):
            return True  # let sympy decide
        d = t - m
        scale = np.max(np.abs(t)) + 1e-300
        if np.ptp(d) <= 1e-6 * scale:
            return True
        r = m / t
        return bool(np.ptp(r) <= 1e-6 * np.max(np.abs(r)))


def exact_recovery(truth, model, syms, X):
    try:
        model_r = round_floats(model)
    except Exception:
        return False
    try:
        tf = sp.lambdify(syms, truth, "numpy")
        mf = sp.lambdify(syms, model_r, "numpy")
        if not numerically_plausible(tf, mf, X):
            return False
    except Exception:
        pass
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        if is_constant(sp.simplify(truth - model_r)):
            return True
        ratio = sp.simplify(model_r / truth)
        return is_constant(ratio) and ratio != 0
    except Timeout:
        return False
    except Exception:
        return False
    finally:
        signal.alarm(0)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(root, "build", "energylens"))
    ap.add_argument("--data", default=os.path.join(root, "data", "feynman"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--max-evals", type=int, default=500000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--problems", default="")
    ap.add_argument("--ops", default=DEFAULT_OPS)
    ap.add_argument("--extra", default="", help="more discover options")
    ap.add_argument("--results", default="", help="JSON-lines file to append to / resume from")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    with open(os.path.join(a.data, "formulas.json")) as f:
        formulas = json.load(f)
    wanted = set(p for p in a.problems.split(",") if p)
    if wanted:
        formulas = [f for f in formulas if f["dataset"] in wanted or
                    f["dataset"].replace("feynman_", "") in wanted]

    done = {}
    if a.results and os.path.exists(a.results):
        with open(a.results) as f:
            for line in f:
                line = line.strip()
                if line:
                    r = json.loads(line)
                    done[(r["dataset"], r["seed"])] = r
    out = open(a.results, "a") if a.results else None

    tmp = tempfile.mkdtemp(prefix="el_feynman_")
    results = []
    for fm in formulas:
        name = fm["dataset"]
        header, rows = read_csv(os.path.join(a.data, name + ".csv"))
        target = header[-1]
        features = fm["features"]
        train, test = rows[:1000], rows[1000:2000]
        train_p = os.path.join(tmp, name + "_train.csv")
        write_csv(train_p, header, train)
        # Variables whose whole range is positive are declared positive, so
        # that sqrt(a*b) = sqrt(a)*sqrt(b) and the like are recognised.
        syms = [sp.Symbol(v, positive=True) if fm["ranges"][v][0] > 0 else
                sp.Symbol(v, nonnegative=True) if fm["ranges"][v][0] >= 0 else sp.Symbol(v)
                for v in features]
        local = {v: s for v, s in zip(features, syms)}
        local["pi"] = sp.pi
        truth = sp.parse_expr(fm["formula"].split("=", 1)[1], local_dict=local)
        Xt = [np.array([float(r[header.index(v)]) for r in test]) for v in features]
        yt = np.array([float(r[-1]) for r in test])
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            if (name, seed) in done:
                results.append(done[(name, seed)])
                continue
            front_p = os.path.join(tmp, f"{name}_{seed}.json")
            cmd = [a.cli, "discover", train_p, "--target", target, "--vars", ",".join(features),
                   "--seed", str(seed), "--threads", str(a.threads), "--max-evals",
                   str(a.max_evals), "--ops", a.ops, "-q", "-o", front_p] + a.extra.split()
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.time() - t0
            rec = {"dataset": name, "seed": seed, "ok": p.returncode == 0, "seconds": wall}
            if p.returncode != 0:
                rec.update(exact=False, r2=float("nan"), pick="", error=p.stderr.strip())
            else:
                with open(front_p) as f:
                    front = json.load(f)
                e = front["entries"][front["pick"]]
                rec["pick"] = e["expression"]
                rec["complexity"] = e["complexity"]
                rec["evaluations"] = front["search"]["evaluations"]
                try:
                    model = sp.parse_expr(e["sympy"], local_dict=local)
                    f = sp.lambdify(syms, model, "numpy")
                    with np.errstate(all="ignore"):
                        pred = np.broadcast_to(np.asarray(f(*Xt), dtype=float), yt.shape)
                    sse = float(np.sum((pred - yt) ** 2))
                    sst = float(np.sum((yt - yt.mean()) ** 2))
                    rec["r2"] = 1.0 - sse / sst if math.isfinite(sse) else float("-inf")
                    rec["exact"] = bool(exact_recovery(truth, model, syms, Xt))
                except Exception as ex:  # an unparsable pick counts as a failure
                    rec.update(exact=False, r2=float("nan"), error=str(ex))
            results.append(rec)
            if out:
                out.write(json.dumps(rec) + "\n")
                out.flush()
            if not a.quiet:
                print(f"{name} seed {seed}: exact={int(rec['exact'])} r2={rec['r2']:.9f} "
                      f"t={wall:.1f}s c={rec.get('complexity', '-')} pick: {rec.get('pick', '')}",
                      flush=True)

    # Table
    print()
    print(f"| problem | exact | median test R^2 | R^2 > 0.999 (median) | median time (s) |")
    print(f"|---|---|---|---|---|")
    n_exact = n_runs = n_acc = 0
    names = []
    for fm in formulas:
        name = fm["dataset"]
        rs = [r for r in results if r["dataset"] == name]
        if not rs:
            continue
        names.append(name)
        ex = sum(1 for r in rs if r["exact"])
        r2s = [r["r2"] if isinstance(r["r2"], float) and math.isfinite(r["r2"]) else -1e300
               for r in rs]
        med = statistics.median(r2s)
        tmed = statistics.median(r["seconds"] for r in rs)
        acc = med > 0.999
        n_exact += ex
        n_runs += len(rs)
        n_acc += acc
        meds = f"{med:.6f}" if med > -1e6 else "< -1e6"
        print(f"| {name} | {ex}/{len(rs)} | {meds} | {'yes' if acc else 'no'} | {tmed:.1f} |")
    if n_runs:
        print(f"| **total** | **{n_exact}/{n_runs} = {100.0 * n_exact / n_runs:.1f}%** | | "
              f"**{n_acc}/{len(names)}** | |")
    print(f"\nsettings: max-evals {a.max_evals}, threads {a.threads}, ops {a.ops}, "
          f"seeds {a.first_seed}..{a.first_seed + a.seeds - 1} {a.extra}")


if __name__ == "__main__":
    main()
