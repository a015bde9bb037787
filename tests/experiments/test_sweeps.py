"""Sweeps at tiny sizes: every task returns its documented keys, run_sweep writes JSON + CSV, the paper's linear fit
is right, capped sizes are recorded, and the CLI explains every sweep."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from isingviz.cli.commands import main
from isingviz.experiments.baselines import best_baseline
from isingviz.experiments.fig34 import linear_fit
from isingviz.experiments.sweeps import SWEEPS, load_benchmark, load_results, result_paths, run_sweep
from isingviz.figures import sweeps as ef
from isingviz.jobs.sweep import SweepJob
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import save_model
from isingviz.methods.general import ANSWERS

ROOT = Path(__file__).resolve().parents[2]
DATA = {"L": 6, "M": 12, "family_params": {"n_edges": 5}, "n_lattices": 3, "n_general_lattices": 2}
NET = {"channels": [4], "squeeze": 4, "hidden": 16}
TINY = {
    "fig2a": {"n_train": [30, 60], "n_test": 9, "n_general": 6, "epochs": 1, "n_baseline": 4},
    "fig2b": {"n": 6, "n_general_lattices": 2, "n_baseline": 3, "train_n": 30, "train_epochs": 1},
    "fig3": {
        "T": [5.0, 0.1],
        "n_train": 30,
        "n_test": 6,
        "n_general": 6,
        "n_general_lattices": 2,
        "epochs": 1,
        "pretrain": {"n_train": 30, "n_test": 6, "epochs": 1},
        "n_baseline": 3,
    },
    "fig4": {
        "n_lattices": [1, 3],
        "variants": {"fixed": 100, "per_lattice": 10},
        "n_test": 9,
        "n_general": 6,
        "n_general_lattices": 2,
        "epochs": 1,
        "encoding": "decay",
        "n_baseline": 3,
    },
    "baselines": {"T": [1.0], "noise": [0.0, 1e-3], "n_instances": 6, "pool_per_lattice": 4, "n_unseen_lattices": 2},
    "general": {  # the shipped model on two cells; the models folder of the fixture is empty, so no CNN
        "n": 2,
        "grids": [
            {"families": ["random"], "L": [8, 12], "T": [1.0], "noise": [1e-3]},
            {"families": ["star"], "L": [8], "T": [1.0], "noise": [0.0], "replicas": [100]},
        ],
        "model_file": str(ROOT / "models" / "general.safetensors"),
    },
}
SCORE = {"accuracy", "trivial_accuracy", "majority_accuracy", "mean_entropy_correct", "baseline", "n_instances"}
KEYS = {  # documented result keys of each sweep's (last-stage) task
    "fig2a": {
        "n_train",
        "T",
        "epochs",
        "encoding",
        "train",
        "test",
        "general",
        "history",
        "best_epoch",
        "train_seconds",
    },
    "fig2b": {
        "split",
        "model",
        "model_file",
        "model_sha256",
        "model_source",
        "thresholds",
        "coverage",
        "curve_accuracy",
    },
    "fig3": {"T", "variant", "encoding", "init", "n_train", "epochs", "test", "general", "history", "capped"},
    "fig4": {"variant", "n_lattices", "n_train_asked", "n_train", "n_test", "capped", "test", "general", "history"},
    "baselines": {"lattices", "T", "noise", "n_instances", "trivial_accuracy", "rows", "best", "best_per_instance"},
    "general": {"L", "T", "noise", "replicas", "family", "n", "edges", "trivial", "general", "general_ms",
                "inversion", "inversion_ms", "binary_ml", "var", "naive_mf", "tap", "ml_kinetic", "general_r1",
                "calibration", "by_instance", "honesty", "checks"},
}  # fmt: skip


def tiny(name: str) -> dict:
    if name == "general":  # its own instances (experiments.unseen.evaluation_set): no dataset or network settings
        return TINY[name]
    return {**TINY[name], "dataset": DATA, **({"model": NET} if name != "baselines" else {})}


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return out, {n: run_sweep(n, workers=1, out_dir=out, sizes=tiny(n), models=out / "none") for n in SWEEPS}


@pytest.mark.parametrize("name", list(SWEEPS))
def test_task_results_have_documented_keys(docs, name):
    _, all_docs = docs
    doc = all_docs[name]
    assert doc["errors"] == []
    last = [t["result"] for t in doc["tasks"] if t["stage"] == len(SWEEPS[name].stages) - 1]
    assert last
    for r in last:
        assert KEYS[name] <= set(r), KEYS[name] - set(r)
        blocks = [r] if name == "fig2b" else [] if name in ("baselines", "general") else [r["test"], r["general"]]
        for block in blocks:
            assert SCORE <= set(block)
            assert 0 <= block["accuracy"] <= 1 and 0 <= block["trivial_accuracy"] <= 1
            assert block["baseline"]["best_method"] in block["baseline"]["methods"]
    if name == "baselines":
        methods = {row["method"] for r in last for row in r["rows"]}
        assert {"inversion", "binary_ml", "template", "trivial", "correlation", "var_pooled"} <= methods
        unseen = [r for r in last if r["lattices"] == "unseen"]
        assert unseen and all("template" not in {row["method"] for row in r["rows"]} for r in unseen)


@pytest.mark.parametrize("name", list(SWEEPS))
def test_run_sweep_writes_json_and_csv(docs, name):
    out, all_docs = docs
    js, cs = result_paths(name, True, out)
    doc = json.loads(js.read_text())
    assert doc == load_results(name, True, out) == all_docs[name]
    assert doc["quick"] and doc["workers"] == 1 and doc["sizes"].get("dataset") == tiny(name).get("dataset")
    assert {"versions", "wall_seconds", "command", "started", "summary", "notes"} <= set(doc)
    assert all({"config", "result", "seconds", "stage"} <= set(t) for t in doc["tasks"])
    rows = list(csv.DictReader(cs.open()))
    assert rows and len(rows[0]) > 3
    assert ef.sweep_figure(doc).data  # the page's figure draws from it


def test_capped_sizes_are_recorded(docs):
    doc = docs[1]["fig4"]
    capped = [t["result"] for t in doc["tasks"] if t["result"]["capped"]]
    assert [(r["variant"], r["n_lattices"]) for r in capped] == [("fixed", 1)]
    assert capped[0]["n_train"] == 2**6 - 8 < capped[0]["n_train_asked"] == 100
    assert doc["notes"] and "56 used" in doc["notes"][0]
    assert set(doc["summary"]["fits"]["fixed"]) >= {"test", "general", "test_majority"}


def test_general_sweep_rows_calibration_and_summary(docs):
    out, all_docs = docs
    doc = all_docs["general"]
    assert doc["sweep"] == "general" and len(doc["tasks"]) == 3
    rows = SWEEPS["general"].rows(doc)
    assert [(r["family"], r["L"], r["replicas"]) for r in rows] == [
        ("random", 8, 0),
        ("random", 12, 0),
        ("star", 8, 100),
    ]
    assert all(k not in r for r in rows for k in ("calibration", "by_instance", "honesty", "checks", "answered_by"))
    for r in rows:
        answers = [r[f"answered_by_{a.replace(' ', '_')}"] for a in ANSWERS]
        assert sum(answers) == r["n"]  # which part of the general model answered, per instance, in flat columns
        assert 0 <= r["general"] <= 1 and 0 <= r["inversion"] <= 1 and 0 < r["trivial"] < 1
        assert r["n"] == 2 and r["general_ms"] > 0 and "cnn" not in r
        # per-instance accuracies are stored to 6 decimals (``unseen.per_instance``)
        assert r["margin_trivial"] == pytest.approx(r["general"] - r["trivial"], abs=1e-6) and r["se_trivial"] >= 0
        assert ("replica_ml" in r) == (r["replicas"] > 0)  # the replica decoder reads replica data only
    assert [int(r["L"]) for r in csv.DictReader(result_paths("general", True, out)[1].open())] == [8, 12, 8]
    for t in doc["tasks"]:
        res, L = t["result"], t["result"]["L"]
        c = res["calibration"]
        assert sum(c["count"]) == c["pairs"] == 2 * L * (L - 1) // 2 and c["n_kept"][-1] == c["pairs"]
        assert c["correct"] == round(res["general"] * c["pairs"])  # the timed forward pass, same p(edge)
        assert np.mean(res["by_instance"]["general"]) == pytest.approx(res["general"])
        h = res["honesty"]["general"]
        assert h["wrong"] == c["pairs"] - c["correct"]
        assert set(res["checks"]["general"]) >= {"trivial_ok", "anchor_ok", "vs_trivial", "vs_anchor", "anchor"}
        assert set(res["answered_by"]) <= set(ANSWERS) and sum(res["answered_by"].values()) == res["n"]
    s = doc["summary"]
    assert s["methods"][0] == "general"
    assert {"inversion", "binary_ml", "replica_ml", "var", "naive_mf", "tap", "ml_kinetic"} <= set(s["methods"])
    assert s["model"]["path"] == "models/general.safetensors" and s["model"]["parameters"] > 0
    assert s["model"]["training_distribution"]["L_max"] >= 12
    assert s["calibration"]["pairs"] == 2 * 66 and s["calibration_all"]["pairs"] == 2 * (28 + 66 + 28)
    assert {"reliability", "coverage", "pairs", "accuracy"} == set(s["calibration_all"])
    assert set(s["wins"]) == set(s["methods"]) - {"general"}
    assert all(sum(w.values()) == (1 if m == "replica_ml" else 3) for m, w in s["wins"].items())
    tested = s["checks"]["general"]["trivial_ok"]
    assert tested["cells"] == 3 and tested["passed"] + len(tested["failed"]) == 3


def test_general_sweep_without_a_model_says_how_to_make_it(tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="does not exist.*train-general"):
        run_sweep("general", workers=1, write=False, sizes={**TINY["general"], "model_file": None}, models=tmp_path)
    monkeypatch.setenv("ISINGVIZ_MODELS", str(tmp_path))
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(tmp_path))
    assert main(["sweep", "general", "--quick", "--quiet"]) == 2
    assert "train-general" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_best_baseline_lookup(docs):
    doc = docs[1]["baselines"]
    b = best_baseline(doc, "train", 1.0, 1e-3)
    assert b["method"] and 0 <= b["accuracy"] <= 1 and b["n_instances"] == 6
    assert best_baseline(doc, "train", 7.0) is None and best_baseline(None, "train", 1.0) is None


def test_linear_fit_recovers_the_paper_lines():
    x = np.arange(1, 31)
    exact = linear_fit(x, -0.0038 * x + 1.016)
    assert (
        exact["a"] == pytest.approx(-0.0038) and exact["b"] == pytest.approx(1.016) and exact["r2"] == pytest.approx(1)
    )
    noisy = linear_fit(x, 0.0012 * x + 0.553 + np.random.default_rng(0).normal(0, 1e-3, x.size))
    assert noisy["a"] == pytest.approx(0.0012, abs=2e-4) and noisy["b"] == pytest.approx(0.553, abs=3e-3)
    assert 0.5 < noisy["r2"] < 1 and noisy["n"] == 30
    assert linear_fit([1], [0.5])["a"] is None and linear_fit([2, 2], [0.1, 0.2])["r2"] is None


def test_parallel_workers_match_in_process(docs, tmp_path):
    doc = run_sweep("baselines", workers=2, write=False, sizes=tiny("baselines"), models=tmp_path)
    ref = docs[1]["baselines"]
    assert doc["workers"] == 2 and doc["threads_per_task"] == 1
    acc = [[row["accuracy"] for row in t["result"]["rows"]] for t in doc["tasks"]]
    assert acc == [[row["accuracy"] for row in t["result"]["rows"]] for t in ref["tasks"]]


def test_sweep_job_reports_progress(tmp_path):
    job = SweepJob("baselines", workers=1, write=False, sizes=tiny("baselines"), models=tmp_path).start()
    assert job.join(60) and job.error is None
    s = job.snapshot()
    assert s["finished"] and s["done"] == s["total"] == 4 and s["fraction"] == 1.0
    assert not list(tmp_path.iterdir())  # write=False writes nothing


def test_unknown_sweep_is_refused():
    with pytest.raises(ValueError, match="unknown sweep"):
        run_sweep("fig9")


def test_cli_sweep_help_explains_every_sweep(capsys):
    assert main(["sweep", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--workers" in out and "--out-dir" in out
    assert all(name in out for name in SWEEPS)
    assert main(["sweep", "fig9"]) == 2


def test_baselines_sweep_runs_the_general_model_in_every_cell_but_never_calls_it_a_baseline(tmp_path):
    cfg = ModelConfig(L=6, M=12, arch="general", hidden=8, rounds=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_model(cfg)
    save_model(tmp_path / "general.safetensors", net, cfg, T=1.0, tau=0.1, name="general")
    doc = run_sweep("baselines", workers=1, write=False, sizes=tiny("baselines"), models=tmp_path)
    assert doc["errors"] == []
    for t in doc["tasks"]:
        r = t["result"]
        general = [row for row in r["rows"] if row["method"] == "general"]
        assert len(general) == 1 and 0 <= general[0]["accuracy"] <= 1 and general[0]["data"] == "one instance"
        assert r["best"]["method"] != "general" and r["best_per_instance"]["method"] != "general"
    assert "general" in ef.method_order(doc)


def test_a_benchmarks_document_is_read_or_none(tmp_path):
    assert load_benchmark("replica_calibration", tmp_path) is None  # not made
    (tmp_path / "replica_calibration.json").write_text('{"benchmark": "replica_calibration"}', encoding="utf-8")
    assert load_benchmark("replica_calibration", tmp_path) == {"benchmark": "replica_calibration"}
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "listed.json").write_text("[1, 2]", encoding="utf-8")
    assert load_benchmark("broken", tmp_path) is None and load_benchmark("listed", tmp_path) is None
