#!/usr/bin/env python3
"""Error against the extrapolation factor, on the bench's extrapolation
protocol (issue 9 point 2: how the default of select --max-extrapolation
is chosen).

For every (model, gpu, task) group of ML.ENERGY v3 with at least 8 rows
and at least 3 distinct batch sizes (and every (model, gpu) of
TokenPowerBench's vLLM runs likewise): train EnergyLens-12 on the rows
with the smallest 40% of batch sizes (as `bench`'s extrapolation protocol
does), predict the others, and bin held-out rows by their factor
batch / largest training batch. In-range error comes from the same
protocol's rows inside the training range when any, else from the 60/40
random splits (seed 0). Prints one line per bin: rows, median and 90th
percentile absolute percentage error, per data set.

usage: bench/extrapolation_factor.py [path/to/energylens]
"""
import csv, os, subprocess, sys, tempfile, statistics, math

EL = sys.argv[1] if len(sys.argv) > 1 else "build/energylens"
BINS = [(1.0, 1.5), (1.5, 2.0), (2.0, 3.0), (3.0, 4.5), (4.5, 8.0), (8.0, 1e9)]


def run(args):
    return subprocess.run([EL] + args, capture_output=True, text=True)


def groups_mlenergy(path):
    rows = list(csv.DictReader(open(path)))
    g = {}
    for r in rows:
        if r["vllm_data_parallel_size"] != "1":
            continue
        g.setdefault((r["model"], r["gpu"], r["task"]), []).append(r)
    return rows[0].keys(), g, "mlenergy", "max_num_seqs"


def groups_tpb(path):
    rows = list(csv.DictReader(open(path)))
    g = {}
    for r in rows:
        if r["engine"] != "vllm" or r["num_active_gpus_inferred"] not in ("0", "1"):
            continue
        g.setdefault((r["model"], r["gpu_inferred"]), []).append(r)
    return rows[0].keys(), g, "tokenpowerbench", None


def study(name, header, groups, schema, bcol, out):
    with tempfile.TemporaryDirectory() as tmp:
        for key, rows in groups.items():
            if len(rows) < 8:
                continue
            if bcol is None:
                bval = lambda r: min(float(r["batch_size_prompts_per_generate_call"]), float(r["num_requests"]))
            else:
                bval = lambda r: float(r[bcol])
            bs = sorted(set(bval(r) for r in rows))
            if len(bs) < 3:
                continue
            k = max(1, int(round(0.4 * len(bs))))
            cut = bs[k - 1]
            train = [r for r in rows if bval(r) <= cut]
            test = [r for r in rows if bval(r) > cut]
            if len(train) < 4 or not test:
                continue
            tr, te, mo = (os.path.join(tmp, x) for x in ("tr.csv", "te.csv", "m.json"))
            for p, rs in ((tr, train), (te, test)):
                with open(p, "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=list(header))
                    w.writeheader()
                    w.writerows(rs)
            if run(["fit", tr, "--schema", schema, "-q", "-o", mo]).returncode != 0:
                continue
            pr = os.path.join(tmp, "p.csv")
            if run(["predict", mo, te, "--schema", schema, "-o", pr]).returncode != 0:
                continue
            for r in csv.DictReader(open(pr)):
                y, p = float(r["energy_j"]), float(r["energy_j_pred"])
                b = float(r["batch"])
                out.append((name, b / cut, abs(p - y) / y * 100))


def main():
    out = []
    h, g, s, b = groups_mlenergy("data/mlenergy_v3/mlenergy_v3_llm_mllm.csv")
    study("mlenergy_v3", h, g, s, b, out)
    h, g, s, b = groups_tpb("data/tokenpowerbench/tokenpowerbench_runs.csv")
    study("tokenpowerbench", h, g, s, b, out)
    print("| data | factor | rows | median APE % | p90 APE % |")
    print("|---|---|---:|---:|---:|")
    for name in ("mlenergy_v3", "tokenpowerbench"):
        for lo, hi in BINS:
            e = sorted(x[2] for x in out if x[0] == name and lo < x[1] <= hi)
            if not e:
                continue
            p90 = e[min(len(e) - 1, int(math.ceil(0.9 * len(e))) - 1)]
            label = f"({lo:g}, {hi:g}]" if hi < 1e8 else f"> {lo:g}"
            print(f"| {name} | {label} | {len(e)} | {statistics.median(e):.1f} | {p90:.1f} |")


if __name__ == "__main__":
    main()
