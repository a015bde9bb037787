"""Sweeps on either engine give the same numbers, resume from their cache, and survive a dying worker."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from isingviz.cli.commands import main
from isingviz.experiments import sweeps as sweeps_module
from isingviz.experiments.cache import TaskCache, task_key
from isingviz.experiments.engines import open_engine
from isingviz.experiments.runner import Stage, Sweep
from isingviz.experiments.sources import source_hash
from isingviz.experiments.sweeps import result_paths, run_sweep
from tests.experiments.test_sweeps import DATA, NET

# fig3 at its smallest: stage 1 pre-trains (its bytes are stage 2's input), stage 2 trains three variants at one T.
FIG3 = {
    "T": [5.0],
    "n_train": 24,
    "n_test": 6,
    "n_general": 6,
    "n_general_lattices": 2,
    "epochs": 1,
    "pretrain": {"n_train": 24, "n_test": 6, "epochs": 1},
    "n_baseline": 3,
    "dataset": DATA,
    "model": NET,
}
VOLATILE = {"seconds", "wall_seconds", "started", "train_seconds", "engine", "workers", "scheduler", "command"}
VOLATILE |= {"seconds_per_instance", "resumed_tasks", "cached", "versions"}


def strip(x: Any) -> Any:
    """A results document without wall times and engine fields (what may differ between two runs)."""
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def fig3(tmp_path: Path, **kw: Any) -> dict[str, Any]:
    return run_sweep("fig3", quick=True, sizes=FIG3, models=tmp_path / "none", out_dir=tmp_path, **kw)


@pytest.fixture(scope="module")
def local_doc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("local")
    return out, fig3(out, workers=2, engine="local")


def test_local_and_dask_engines_give_identical_results(local_doc, tmp_path):
    out, local = local_doc
    dask = fig3(tmp_path, workers=2, engine="dask")
    assert local["errors"] == dask["errors"] == []
    assert (local["engine"], dask["engine"]) == ("local", "dask") and dask["workers"] == 2
    assert len(local["tasks"]) == 4 and local["tasks"][0]["result"]["outputs"]["model"]
    assert strip(local) == strip(dask)
    assert local["devices"] == ["cpu"] and all(t["device"] == "cpu" for t in dask["tasks"])


def test_a_resumed_sweep_reruns_nothing_and_gives_the_same_document(local_doc):
    out, first = local_doc
    events: list[dict[str, Any]] = []
    again = fig3(out, workers=1, resume=True, progress=events.append)
    assert [e["cached"] for e in events] == [True] * 4 and again["resumed_tasks"] == 4
    assert strip(again) == strip(first)


def test_a_stopped_sweep_continues_where_it_stopped(local_doc, tmp_path):
    _, full = local_doc
    stop = threading.Event()

    def stop_after_two(ev: dict[str, Any]) -> None:
        if ev["done"] == 2:
            stop.set()

    part = fig3(tmp_path, workers=1, stop=stop, progress=stop_after_two)
    assert part["stopped"] and len(part["tasks"]) == 2
    assert not result_paths("fig3", True, tmp_path)[0].exists()  # a stopped run writes no results
    events: list[dict[str, Any]] = []
    done = fig3(tmp_path, workers=1, resume=True, progress=events.append)
    assert [e["cached"] for e in events] == [True, True, False, False]
    assert strip(done) == strip(full)


def test_the_cache_key_follows_the_config_and_the_computing_source(tmp_path):
    cfg = {"T": 1.0, "inputs": {"model": "ab" * 32}}
    task = sweeps_module.SWEEPS["fig4"].stages[0].task
    key = task_key("fig4", 0, task, cfg)
    assert key == task_key("fig4", 0, task, dict(cfg)) != task_key("fig4", 0, task, {**cfg, "T": 2.0})
    assert key != task_key("fig4", 0, task, {**cfg, "inputs": {"model": "cd" * 32}})  # another model file
    pkg = tmp_path / "isingviz"
    for src in Path(sweeps_module.__file__).resolve().parents[1].rglob("*.py"):
        dst = pkg / src.relative_to(Path(sweeps_module.__file__).resolve().parents[1])
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    before = source_hash("isingviz.experiments.fig34", pkg)
    (pkg / "figures" / "style.py").write_text("# not imported by the fig4 task\n", encoding="utf-8")
    assert source_hash.__wrapped__("isingviz.experiments.fig34", pkg) == before
    (pkg / "dynamics.py").write_text((pkg / "dynamics.py").read_text() + "\n# changed\n", encoding="utf-8")
    assert source_hash.__wrapped__("isingviz.experiments.fig34", pkg) != before


# --- a worker that dies: a sweep of our own, whose task kills its process the first time it runs a config


def dying_task(cfg: dict[str, Any], inputs: dict[str, bytes]) -> dict[str, Any]:
    marker = Path(cfg["marker"])
    if cfg["always"] or not marker.exists():
        marker.touch()
        os._exit(3)  # the worker process dies: no exception, no result
    return {"value": cfg["value"] * 2}


def _plan(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    folder = Path(sizes["folder"])
    return [
        {"value": 1, "marker": str(folder / "a"), "always": False},
        {"value": 2, "marker": str(folder / "b"), "always": sizes["always"]},
    ]


@pytest.fixture
def dying_sweep(monkeypatch, tmp_path):
    sw = Sweep("dying", "dying", "a test sweep", {"quick": {}, "full": {}}, (Stage(_plan, dying_task),),
               lambda doc: [], lambda records: {})  # fmt: skip
    monkeypatch.setitem(sweeps_module.SWEEPS, "dying", sw)
    return tmp_path


@pytest.mark.parametrize("always", [False, True])
def test_a_task_whose_worker_dies_is_retried_once_then_recorded(dying_sweep, always):
    doc = run_sweep("dying", workers=2, write=False, sizes={"folder": str(dying_sweep), "always": always})
    results = [t["result"] for t in doc["tasks"]]
    assert results[0] == {"value": 2}  # the first config's worker died once: retried, and the value is right
    if always:
        assert "died 2 times" in results[1]["error"] and len(doc["errors"]) == 1
    else:
        assert results[1] == {"value": 4} and doc["errors"] == []


def test_the_engine_arguments_are_checked():
    for kw, msg in (
        ({"name": "spark"}, "engine must be one of"),
        ({"workers": 0}, "workers must be between"),
        ({"scheduler": "tcp://x:1"}, "goes with the dask engine"),
        ({"name": "dask", "scheduler": "x:8786"}, "tcp://HOST:8786"),
    ):
        with pytest.raises(ValueError, match=msg), open_engine(**kw):
            pass


def test_cli_sweep_on_dask_with_resume(tmp_path, capsys):
    args = ["sweep", "fig2b", "--quick", "--engine", "dask", "--workers", "2", "--out-dir", str(tmp_path), "--quiet"]
    assert main(args) == 0
    info = json.loads(capsys.readouterr().out)
    doc = json.loads(Path(info["json"]).read_text())
    assert doc["engine"] == "dask" and doc["errors"] == [] and doc["summary"]["test"]["accuracy"] > 0.9
    assert len(list(TaskCache(tmp_path / ".cache" / "fig2b_quick").folder.glob("*.json"))) == 2
    assert main([*args[:5], "--workers", "1", "--out-dir", str(tmp_path), "--quiet", "--resume"]) == 0
    again = json.loads(Path(json.loads(capsys.readouterr().out)["json"]).read_text())
    assert again["resumed_tasks"] == 2 and strip(again) == strip(doc)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_sigterm_ends_a_sweep_like_ctrl_c_leaving_no_worker_behind(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "isingviz", "sweep", "fig3", "--quick", "--workers", "2", "--quiet",
           "--out-dir", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        workers = [c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
    assert len(workers) >= 2, "the sweep's worker processes did not start"
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    end = time.monotonic() + 20
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < end:
        time.sleep(0.2)
    assert not any(Path(f"/proc/{w}").exists() for w in workers), "a worker outlived its sweep"
    assert not result_paths("fig3", True, tmp_path)[0].exists()
