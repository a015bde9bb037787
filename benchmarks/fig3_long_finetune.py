"""Does a longer fine-tune escape the T = 50 plateau? The fig3 sweep's fine-tune task with more epochs, as JSON.

Usage: python benchmarks/fig3_long_finetune.py [--T 50] [--epochs 200] [--out results/fig3_long_finetune.json]

Exactly the full ``fig3`` sweep's "finetune" task (the shipped raw pretrain_T0.1 model fine-tuned on its own 10
lattices with 10,000 instances at T, scored on 3,000 fresh test and 3,000 unseen-lattice instances), one torch
thread, only the number of epochs changed (the one-cycle schedule stretches with it). Prints and writes the test
accuracy per epoch beside the majority-label plateau level and the decay-encoded run's accuracy from
results/fig3.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from isingviz.experiments.fig34 import task_fig3  # noqa: E402
from isingviz.experiments.runner import run_task  # noqa: E402
from isingviz.files import atomic_write  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--T", type=float, default=50.0)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--out", default=str(ROOT / "results" / "fig3_long_finetune.json"))
    a = ap.parse_args()
    base = (ROOT / "models" / "pretrain_T0.1.safetensors").read_bytes()
    cfg = {"T": a.T, "variant": "finetune", "inputs": {"base": hashlib.sha256(base).hexdigest()},
           "base_source": "shipped models/pretrain_T0.1.safetensors", "seed": 2, "train_seed": 0, "n_train": 10000,
           "n_test": 3000, "n_general": 3000, "epochs": a.epochs, "n_baseline": 300, "n_general_lattices": 10,
           "dataset": {}, "model": {}, "train": {}}  # fmt: skip  # the full fig3 sweep's config, epochs aside
    t0 = time.perf_counter()
    res, seconds = run_task(task_fig3, cfg, {"base": base})
    if "error" in res:
        raise SystemExit(res["error"])
    out = {
        "command": f"python benchmarks/fig3_long_finetune.py --T {a.T:g} --epochs {a.epochs}",
        "config": cfg,
        "wall_seconds": time.perf_counter() - t0,
        "test_accuracy_per_epoch": [round(h["test_accuracy"], 4) for h in res["history"]],
        "best_epoch": res["best_epoch"],
        "test": {k: res["test"][k] for k in ("accuracy", "trivial_accuracy", "majority_accuracy")},
        "general": {k: res["general"][k] for k in ("accuracy", "trivial_accuracy")},
    }
    text = json.dumps(out, indent=1)
    atomic_write(Path(a.out), (text + "\n").encode(), overwrite=True)
    print(text)


if __name__ == "__main__":
    main()
