#!/usr/bin/env python3
"""mlenergy_sr.py - discover against EnergyLens-12 on ML.ENERGY v3 (issue #4, item 4).

For every deployment (model, gpu, quantization, task) of data/mlenergy_v3 with
at least --min-rows configurations: seeds 0..N-1 each split it at random 60/40
(the split of bench/bench_mlenergy.c), then on the same training rows

  - `energylens fit` fits EnergyLens-12 (the default template), and
  - `energylens discover` searches a formula over tp, batch and s_out
    (relative loss, --max-evals evaluations, --max-size nodes),

and both predict the held-out rows with `energylens predict` (which takes the
front file and uses its pick). Prints per deployment the test MAPE of both
and the formula discover picked on seed 0, then the mean MAPE over all
splits, how often each wins, and how often the picks use each variable.

Within one deployment of these files pp is always 1 and s_in is unknown
(a per-task constant), so EnergyLens-12 reduces to tp, batch and s_out too.

usage: bench/mlenergy_sr.py [--cli build/energylens] [--seeds 3]
         [--max-evals 100000] [--max-size 20] [--min-rows 12] [--threads 2]
"""
import argparse
import csv
import collections
import os
import random
import subprocess
import sys
import tempfile
import json

COLS = {"tp": "vllm_tensor_parallel_size", "pp": "pp", "batch": "max_num_seqs",
        "s_out": "avg_output_tokens", "energy_j": "energy_j_per_request"}


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tp", "pp", "batch", "s_in", "s_out", "energy_j"])
        for r in rows:
            w.writerow([r[COLS["tp"]], r[COLS["pp"]], r[COLS["batch"]], 1, r[COLS["s_out"]],
                        r[COLS["energy_j"]]])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(" ".join(cmd) + ": " + p.stderr.strip())
    return p.stdout


def predict(cli, model, test, out):
    """Test MAPE, or None when the model cannot predict a held-out row."""
    p = subprocess.run([cli, "predict", model, test, "-o", out, "-q"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return None
    with open(out) as f:
        rows = list(csv.DictReader(f))
    y = [float(r["energy_j"]) for r in rows]
    p = [float(r["energy_j_pred"]) for r in rows]
    return 100.0 * sum(abs(a - b) / abs(a) for a, b in zip(y, p)) / len(y)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(root, "build", "energylens"))
    ap.add_argument("--data", default=os.path.join(root, "data", "mlenergy_v3",
                                                   "mlenergy_v3_llm_mllm.csv"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--max-evals", type=int, default=100000)
    ap.add_argument("--max-size", type=int, default=20)
    ap.add_argument("--min-rows", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ops", default="+,-,*,/,^,log,exp,sqrt")
    a = ap.parse_args()

    with open(a.data, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = collections.OrderedDict()
    for r in rows:
        groups.setdefault((r["model"], r["gpu"], r["quantization"], r["task"]), []).append(r)
    tmp = tempfile.mkdtemp(prefix="el_mlenergy_sr_")
    tr, te = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
    m12, fr, out = os.path.join(tmp, "m.json"), os.path.join(tmp, "f.json"), os.path.join(tmp, "p.csv")
    tot = collections.Counter()
    n = 0
    uses = collections.Counter()
    picks = 0
    print("| deployment | rows | EnergyLens-12 MAPE | discover MAPE | discover pick (seed 0) |")
    print("|---|---|---|---|---|")
    for key, g in groups.items():
        if len(g) < a.min_rows:
            continue
        m_el, m_sr = [], []
        shown = ""
        for seed in range(a.seeds):
            rnd = random.Random(seed * 1000003 + len(g))
            idx = list(range(len(g)))
            rnd.shuffle(idx)
            ntr = max(6, round(0.6 * len(g)))
            write(tr, [g[i] for i in idx[:ntr]])
            write(te, [g[i] for i in idx[ntr:]])
            run([a.cli, "fit", tr, "-o", m12, "--seed", str(seed), "-q"])
            m_el.append(predict(a.cli, m12, te, out))
            run([a.cli, "discover", tr, "--target", "energy_j", "--vars", "tp,batch,s_out",
                 "--loss", "rel2", "--ops", a.ops, "--max-evals", str(a.max_evals),
                 "--max-size", str(a.max_size), "--seed", str(seed), "--threads",
                 str(a.threads), "-q", "-o", fr])
            m_sr.append(predict(a.cli, fr, te, out))
            with open(fr) as f:
                front = json.load(f)
            e = front["entries"][front["pick"]]
            picks += 1
            for v in ("tp", "batch", "s_out"):
                if v in e["formula"].replace("(", " ").replace(")", " ").replace("*", " ") \
                        .replace("/", " ").replace("+", " ").replace("-", " ").replace("^", " ") \
                        .split():
                    uses[v] += 1
            if seed == 0:
                shown = e["expression"]
                shown = shown if len(shown) < 90 else shown[:87] + "..."
        for x, y in zip(m_el, m_sr):
            n += 1
            if x is None or y is None:  # a model undefined on a held-out row
                tot["el_fail"] += x is None
                tot["sr_fail"] += y is None
                continue
            tot["el"] += x
            tot["sr"] += y
            tot["sr_wins"] += y < x
            tot["both"] += 1
        name = f"{key[0].split('/')[-1]} {key[1]} {key[2]} {key[3]}"

        def mean(v):
            ok = [x for x in v if x is not None]
            bad = len(v) - len(ok)
            return (f"{sum(ok) / len(ok):.2f}%" if ok else "-") + (f" ({bad} failed)" if bad else "")
        print(f"| {name} | {len(g)} | {mean(m_el)} | {mean(m_sr)} | `{shown}` |")
        sys.stdout.flush()
    if tot["both"]:
        b = tot["both"]
        print(f"\n{n} splits; on the {b} where both predict every held-out row: mean test MAPE "
              f"EnergyLens-12 {tot['el'] / b:.2f}%, discover {tot['sr'] / b:.2f}%; discover "
              f"better on {tot['sr_wins']}/{b}")
        print(f"splits where a model is undefined on a held-out row: EnergyLens-12 "
              f"{tot['el_fail']}, discover {tot['sr_fail']}")
        print("picks using each variable: " +
              ", ".join(f"{v} {uses[v]}/{picks}" for v in ("tp", "batch", "s_out")))
        print(f"settings: discover --loss rel2 --max-evals {a.max_evals} --max-size {a.max_size} "
              f"--ops {a.ops}; fit: EnergyLens-12 defaults")


if __name__ == "__main__":
    main()
