"""Tests of the ctypes binding (python/energylens) with the standard
library's unittest: fit / predict / select / explain / discover round trips
on the shipped data, columns from dicts (and numpy / pandas when installed),
errors raised with the library's file:row:col message, handles freed by
close(), with-blocks and garbage collection, and RSS flat over 10,000
create/destroy cycles. Run from the repository root:

    python3 -m unittest discover -s python/tests        (or: make test)
"""

import gc
import json
import math
import os
import pathlib
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
if os.environ.get("ENERGYLENS_PYTHONPATH"):
    sys.path.insert(0, os.environ["ENERGYLENS_PYTHONPATH"])
else:
    sys.path.insert(0, str(ROOT / "python"))

import energylens as el  # noqa: E402

DATA = ROOT / "data" / "mlenergy_v3" / "mlenergy_v3_llm_mllm.csv"
FEYNMAN = ROOT / "data" / "feynman" / "feynman_I_12_1.csv"
WHERE = ["model=Qwen/Qwen3-32B", "task=lm-arena-chat"]

try:
    import numpy
except ImportError:
    numpy = None
try:
    import pandas
except ImportError:
    pandas = None


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = el.read_csv(DATA, schema="mlenergy", where=WHERE)

    @classmethod
    def tearDownClass(cls):
        cls.t.close()

    def tmp(self, name):
        d = tempfile.mkdtemp()
        self.addCleanup(lambda: [os.remove(os.path.join(d, f)) for f in os.listdir(d)]
                        and os.rmdir(d) or os.path.isdir(d) and os.rmdir(d))
        return os.path.join(d, name)


class TestBasics(Base):
    def test_version_and_lists(self):
        self.assertRegex(el.version(), r"^\d+\.\d+\.\d+$")
        self.assertTrue(os.path.exists(el.library_path()) or "/" not in el.library_path())
        self.assertIn("energylens", el.methods())
        self.assertIn("linreg", el.methods())
        self.assertIn("energylens12", el.templates())

    def test_table_from_csv(self):
        t = self.t
        self.assertEqual(len(t), 22)
        self.assertEqual(t.nrows, 22)
        self.assertIn("energy_j", t.columns)
        self.assertTrue(t.source.endswith("mlenergy_v3_llm_mllm.csv"))
        self.assertGreater(t.filtered, 0)
        self.assertIn("latency_s", t.note)
        e = t["energy_j"]
        self.assertEqual(len(e), 22)
        self.assertTrue(all(isinstance(x, float) and x > 0 for x in e))
        self.assertEqual(set(t["model"]), {"Qwen/Qwen3-32B"})
        d = t.to_dict()
        self.assertEqual(d["energy_j"], e)
        self.assertTrue(t.to_csv().startswith(",".join(t.columns[:2])))


class TestFitPredict(Base):
    def test_fit_predict_save_load(self):
        with el.fit(self.t, seed=1) as m:
            self.assertEqual(m.method, "energylens")
            self.assertEqual(m.target, "energy_j")
            self.assertEqual(len(m.params), 12)
            info = m.fit_info
            self.assertTrue(info["fitted"])
            self.assertEqual(info["nrows"], 22)
            self.assertTrue(0 < info["nfree"] <= 12)
            self.assertLess(info["mape"], 20.0)
            pred = m.predict(self.t)
            self.assertEqual(len(pred), 22)
            y = self.t["energy_j"]
            mape = 100 * sum(abs(p - v) / v for p, v in zip(pred, y)) / len(y)
            self.assertAlmostEqual(mape, info["mape"], places=6)
            path = self.tmp("m.json")
            m.save(path)
            with el.Model.load(path) as m2:
                self.assertEqual(m2.params, m.params)
                self.assertEqual(m2.predict(self.t), pred)
            self.assertEqual(m.to_dict()["target"], "energy_j")
            with el.Model.from_json(m.to_json()) as m3:
                self.assertEqual(m3.predict(self.t), pred)

    def test_columns_give_the_same_fit_as_the_file(self):
        cols = self.t.to_dict()
        with el.table(cols) as t2, el.fit(self.t, seed=3) as a, el.fit(t2, seed=3) as b:
            self.assertEqual(len(t2), 22)
            self.assertEqual(a.params, b.params)
        # predict takes columns directly, as a dict of lists
        with el.fit(self.t, seed=1) as m:
            point = {"tp": [1, 2], "pp": [1, 1], "batch": [64, 64], "s_in": [1, 1],
                     "s_out": [900, 900]}
            p = m.predict(point)
            self.assertEqual(len(p), 2)
            self.assertTrue(all(x > 0 for x in p))

    def test_other_methods_and_templates(self):
        with el.fit(self.t, method="linreg", seed=1) as m:
            self.assertEqual(m.method, "linreg")
            self.assertEqual(len(m.predict(self.t)), 22)
        with el.fit(self.t, target="latency_s", seed=1) as m:
            self.assertEqual(m.target, "latency_s")
            self.assertEqual(m.template, "latency")
        with el.fit(self.t, template="text-motif", seed=1, starts=4) as m:
            self.assertEqual(m.template, "text-motif")
        with el.fit(self.t, formula="a*s_out/batch^b + c", variables=["s_out", "batch"],
                    seed=1) as m:
            self.assertEqual(sorted(m.params), ["a", "b", "c"])
            self.assertLess(m.fit_info["mape"], 100)
        try:
            m = el.fit(self.t, method="gbdt", seed=1)
        except el.UnavailableError:
            self.skipTest("XGBoost not installed")
        with m:
            imp = m.importance()
            self.assertAlmostEqual(sum(imp.values()), 1.0, places=6)


class TestSelectExplain(Base):
    def test_select(self):
        with el.fit(self.t, seed=1) as e, el.fit(self.t, target="latency_s", seed=1) as lat:
            space = {"tp": [1, 2, 4], "pp": [1, 2], "batch": "8..1024:x2", "s_in": 1,
                     "s_out": 900}
            r = el.select(e, lat, space=space, constraints="tp*pp <= 4")
            self.assertEqual(r["n"], len(r["rows"]))
            self.assertEqual(r["n"], 5 * 8)  # (1,1) (1,2) (2,1) (2,2) (4,1) x 8 batches
            energies = [row["energy_j_pred"] for row in r["rows"]]
            self.assertEqual(energies, sorted(energies))
            self.assertTrue(all(row["tp"] * row["pp"] <= 4 for row in r["rows"]))
            self.assertEqual(r["best"], r["rows"][0])
            self.assertIsNotNone(r["latency_best"])
            lb = r["latency_best"]["energy_j_pred"]
            self.assertAlmostEqual(r["saving_pct"], 100 * (lb - energies[0]) / lb, places=6)
            self.assertTrue(any(row["pareto"] for row in r["rows"]))
            r2 = el.select(e, space=space, gpus=1, top=3)
            self.assertEqual(len(r2["rows"]), 3)
            self.assertEqual(r2["n"], 8)
            self.assertIsNone(r2["latency_best"])

    def test_explain(self):
        with el.fit(self.t, seed=1) as m:
            at = {"tp": 2, "pp": 1, "batch": 256, "s_in": 1, "s_out": 900}
            x = m.explain(at=at)
            self.assertEqual(len(x["parameters"]), 12)
            self.assertTrue(all(p["meaning"] for p in x["parameters"]))
            self.assertEqual(set(x["terms"]), {"prefill", "decode", "static"})
            self.assertAlmostEqual(sum(v["value"] for v in x["terms"].values()), x["value"],
                                   places=6)
            self.assertAlmostEqual(sum(v["share"] for v in x["terms"].values()), 1.0, places=9)
            self.assertAlmostEqual(x["value"], m.predict({k: [v] for k, v in at.items()})[0],
                                   places=9)
            tp2 = dict(at, tp=4)
            self.assertAlmostEqual(x["double_tp"]["value"],
                                   m.predict({k: [v] for k, v in tp2.items()})[0], places=9)
            # default point: the training median recorded in the model
            self.assertIn("at", m.explain())
            with self.assertRaises(el.MissingError):
                m.explain(at={"tp": 1})


class TestUnits(Base):
    def test_units_hand_computed(self):
        # 360 J/request, 900 output tokens, 30 s, 64 in flight, 4 GPUs,
        # 400 gCO2e/kWh, 0.12 per kWh (the same case as tests/unit/test_units.c)
        u = el.units(360.0, s_out=900, latency_s=30, batch=64, gpus=4, carbon_intensity=400,
                     price=0.12)
        want = {"j_per_request": 360.0, "j_per_token": 0.4, "tokens_per_s": 1920.0,
                "gpu_hours_per_mreq": 1e6 * 30 / 64 * 4 / 3600, "kwh_per_mreq": 100.0,
                "co2e_g_per_mreq": 40000.0, "cost_per_mreq": 12.0}
        self.assertEqual(set(u), set(want))
        for k, v in want.items():
            self.assertAlmostEqual(u[k], v, delta=1e-12 * v)
        u = el.units(360.0, s_out=900, gpus=4)
        self.assertIsNone(u["tokens_per_s"])
        self.assertIsNone(u["co2e_g_per_mreq"])
        self.assertAlmostEqual(u["kwh_per_mreq"], 100.0)
        with self.assertRaises(el.DataError):
            el.units(0.0)
        with self.assertRaises(el.InvalidArgumentError):
            el.units(1.0, price=-1)

    def test_units_in_select_and_explain(self):
        with el.fit(self.t, seed=1) as e, el.fit(self.t, target="latency_s", seed=1) as lat:
            space = {"tp": [1, 2], "pp": 1, "batch": [64, 256], "s_in": 1, "s_out": 900}
            r = el.select(e, lat, space=space, carbon_intensity=400, price=0.1)
            for row in r["rows"]:
                u = row["units"]
                self.assertAlmostEqual(u["j_per_token"], row["energy_j_pred"] / 900)
                self.assertAlmostEqual(u["tokens_per_s"],
                                       row["batch"] * 900 / row["latency_s_pred"])
                self.assertAlmostEqual(u["gpu_hours_per_mreq"], 1e6 * row["latency_s_pred"]
                                       / row["batch"] * row["tp"] / 3600)
                self.assertAlmostEqual(u["co2e_g_per_mreq"], row["energy_j_pred"] / 3.6 * 400)
                self.assertAlmostEqual(u["cost_per_mreq"], row["energy_j_pred"] / 3.6 * 0.1)
            at = {"tp": 2, "pp": 1, "batch": 256, "s_in": 1, "s_out": 900}
            x = e.explain(at=at, latency=lat, price=0.2)
            self.assertAlmostEqual(x["units"]["j_per_token"], x["value"] / 900)
            self.assertAlmostEqual(x["units"]["cost_per_mreq"], x["value"] / 3.6 * 0.2)
            self.assertIsNone(x["units"]["co2e_g_per_mreq"])
            self.assertIsNotNone(x["units"]["tokens_per_s"])


class TestDiscover(Base):
    def test_discover_round_trip(self):
        data = el.read_csv(FEYNMAN, where="mu<3")
        with data, el.discover(data, target="target", max_evals=40000, seed=1, islands=4,
                               population=24) as front:
            entries = front.entries
            self.assertGreater(len(entries), 1)
            self.assertEqual([e["complexity"] for e in entries],
                             sorted(e["complexity"] for e in entries))
            best = entries[front.pick]
            self.assertGreater(best["r2"], 0.99)  # F = mu * Nn
            self.assertIn("mu", best["formula"])
            self.assertEqual(front.stats["nrows"], len(data))
            path = self.tmp("front.json")
            front.save(path)
            self.assertEqual(json.loads(front.to_json())["pick"], front.pick)
            with front.model() as a, el.Model.load(path) as b:
                pa, pb = a.predict(data), b.predict(data)
                for u, v in zip(pa, pb):
                    self.assertAlmostEqual(u, v, delta=1e-9 * max(1.0, abs(u)))


class TestErrors(Base):
    def test_bad_csv_raises_with_file_row_column(self):
        path = self.tmp("bad.csv")
        with open(path, "w") as f:
            f.write("tp,pp,energy_j\n1,1,10\n2,1,abc\n")
        with self.assertRaises(el.DataError) as cm:
            el.read_csv(path)
        e = cm.exception
        self.assertEqual(str(e), "%s:3: column 'energy_j' (3): \"abc\" is not a number" % path)
        self.assertEqual((e.file, e.row, e.column), (path, 3, 3))
        self.assertEqual(e.status, -8)
        self.assertIsInstance(e, ValueError)
        # dropped instead, and counted
        with el.read_csv(path, drop_invalid=True) as t:
            self.assertEqual((len(t), t.dropped), (1, 1))
            self.assertEqual(t.drop_reasons, ["1 row: energy_j is not a number (line 3)"])

    def test_bad_columns_raise_with_row_and_column(self):
        with self.assertRaises(el.DataError) as cm:
            el.table({"tp": [1, 2, 1], "energy_j": [3.0, -1.0, 2.0]}, name="frame")
        self.assertEqual(str(cm.exception), "frame:2: column 'energy_j' (2): -1 <= 0")
        self.assertEqual((cm.exception.row, cm.exception.column), (2, 2))
        with self.assertRaises(el.DataError) as cm:
            el.table({"tp": [1, 2], "energy_j": [3.0, float("nan")]})
        self.assertEqual(str(cm.exception), "<table>:2: column 'energy_j' (2): \"nan\" is not finite")
        with self.assertRaises(el.InvalidArgumentError):
            el.table({"tp": [1, 2], "energy_j": [3.0]})

    def test_other_errors(self):
        with self.assertRaises(el.FileError) as cm:
            el.read_csv("/nonexistent/x.csv")
        self.assertIn("/nonexistent/x.csv", str(cm.exception))
        self.assertIsInstance(cm.exception, OSError)
        with self.assertRaises(el.InvalidArgumentError):
            el.read_csv(DATA, schema="nope")
        with self.assertRaises(el.Error):
            el.read_csv(DATA, schema="mlenergy", where="no_such_column=1")
        with el.table({"tp": [1.0, 2.0], "energy_j": [1.0, 2.0]}) as t:
            with self.assertRaises(el.MissingError) as cm:
                el.fit(t, seed=1)
            self.assertIn("batch", str(cm.exception))
        with self.assertRaises(el.ParseError):
            el.Model.from_json("{")
        with el.fit(self.t, seed=1) as m, self.assertRaises(el.Error):
            el.select(m, space={"tp": "1..x"})


class TestOwnership(Base):
    def test_close_and_with(self):
        m = el.Model.from_template("energylens12")
        with m:
            self.assertEqual(len(m.params), 12)
        with self.assertRaises(ValueError):
            m.params
        m.close()  # idempotent
        t = el.table({"tp": [1.0], "energy_j": [1.0]})
        t.close()
        with self.assertRaises(ValueError):
            len(t)

    def test_rss_flat_over_10000_cycles(self):
        cols = {"tp": [1.0, 2.0, 4.0], "pp": [1.0, 1.0, 2.0], "batch": [8.0, 64.0, 256.0],
                "s_in": [1.0, 1.0, 1.0], "s_out": [900.0, 900.0, 900.0],
                "energy_j": [100.0, 80.0, 60.0], "model": ["a", "b", "c"]}

        def cycle(k):
            # half by with-blocks, half left to the garbage collector
            if k % 2:
                with el.table(cols) as t, el.Model.from_template("energylens12") as m:
                    m.predict(t)
            else:
                t = el.table(cols)
                m = el.Model.from_template("energylens12")
                m.predict(t)
                json.loads(m.to_json())
                del t, m

        for k in range(1000):  # warm up the allocators
            cycle(k)
        gc.collect()
        before = rss_kib()
        for k in range(10000):
            cycle(k)
        gc.collect()
        grown = rss_kib() - before
        # A leak of even 100 bytes a cycle would add about 1 MB.
        self.assertLess(grown, 512, "RSS grew by %d KiB over 10,000 cycles" % grown)


@unittest.skipUnless(numpy, "numpy not installed")
class TestNumpy(Base):
    def test_numpy_columns(self):
        d = self.t.to_dict()
        cols = {k: numpy.asarray(v) for k, v in d.items()
                if isinstance(v[0], float)}
        cols["tp"] = cols["tp"].astype(numpy.int64)
        with el.table(cols) as t2, el.fit(self.t, seed=2) as a, el.fit(t2, seed=2) as b:
            self.assertEqual(a.params, b.params)
        with self.assertRaises(el.DataError) as cm:
            el.table({"tp": numpy.array([1, 0]), "energy_j": numpy.array([1.0, 2.0])})
        self.assertTrue(str(cm.exception).startswith("<table>:2: column 'tp' (1)"))


@unittest.skipUnless(pandas, "pandas not installed")
class TestPandas(Base):
    def test_dataframe(self):
        df = pandas.DataFrame(self.t.to_dict())
        with el.table(df) as t2, el.fit(self.t, seed=2) as a, el.fit(t2, seed=2) as b:
            self.assertEqual(len(t2), 22)
            self.assertEqual(a.params, b.params)


if __name__ == "__main__":
    unittest.main()
