#!/usr/bin/env python3
"""Scores scikit-learn baselines on splits dumped by bench_mlenergy --dump DIR.

usage: /usr/bin/python3 bench/sklearn_splits.py DIR
Needs Debian's python3-sklearn. Features and target are those EnergyLens's
baselines see: tp, pp, batch, s_in, s_out -> energy_j. Prints mean MAPE,
pairwise accuracy and top-1 over the splits, the same way bench_mlenergy does.
"""
import csv
import glob
import sys

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression

FEATURES = ["tp", "pp", "batch", "s_in", "s_out"]


def load(path):
    rows = list(csv.DictReader(open(path)))
    X = np.array([[float(r[f]) for f in FEATURES] for r in rows])
    y = np.array([float(r["energy_j"]) for r in rows])
    return X, y


def metrics(y, p):
    mape = float(np.mean(np.abs(p - y) / np.abs(y)) * 100)
    conc = pairs = 0
    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            if y[i] == y[j]:
                continue
            pairs += 1
            conc += np.sign(p[i] - p[j]) == np.sign(y[i] - y[j])
    pw = conc / pairs if pairs else float("nan")
    top1 = float(y[int(np.argmin(p))] == y.min())
    return mape, pw, top1


def main():
    d = sys.argv[1]
    models = {
        "sklearn-rf": lambda s: RandomForestRegressor(n_estimators=100, random_state=s),
        "sklearn-gbdt": lambda s: GradientBoostingRegressor(random_state=s),
        "sklearn-linreg": lambda s: LinearRegression(),
    }
    trains = sorted(glob.glob(f"{d}/*_train.csv"))
    for name, make in models.items():
        res = []
        for k, tr in enumerate(trains):
            Xtr, ytr = load(tr)
            Xte, yte = load(tr.replace("_train", "_test"))
            m = make(k).fit(Xtr, ytr)
            res.append(metrics(yte, m.predict(Xte)))
        r = np.array(res)
        print(f"{name}: splits {len(res)}  MAPE {np.mean(r[:, 0]):.2f}%  "
              f"pairwise {100 * np.nanmean(r[:, 1]):.2f}%  top-1 {100 * np.mean(r[:, 2]):.1f}%")


if __name__ == "__main__":
    main()
