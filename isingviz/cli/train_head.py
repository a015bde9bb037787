"""``python -m isingviz train-head BASE``: give a general model its confidence head (``isingviz.learn.general.head``);
prints the written file, the head's last fit record, the metrics and notes as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tqdm import tqdm

from ..learn.general.head import HeadTrainConfig
from ..learn.general.recipe import train_and_save_head
from ..learn.store import load_model
from ..limits import THREADS_MAX, check_int
from .checks import check_out
from .help import TRAIN_HEAD_HELP
from .settings import _set_fields


def add_parser(cmd: Any) -> None:
    p = cmd("train-head", run, TRAIN_HEAD_HELP)
    p.add_argument("base", metavar="BASE.safetensors", help="the general model to give a confidence head")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a HeadTrainConfig field (repeat)")
    p.add_argument("--out", required=True, metavar="PATH.safetensors", help="model file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(a: argparse.Namespace) -> int:
    out = check_out(a.out, ".safetensors", a.overwrite)
    tc = HeadTrainConfig.from_dict(HeadTrainConfig().to_dict() | _set_fields(a.set, HeadTrainConfig, "train-head"))
    check_int("threads", a.threads, 1, THREADS_MAX)
    with tqdm(total=tc.n_instances, file=sys.stderr, disable=a.quiet, unit="inst", desc="examples") as bar:
        history, path = train_and_save_head(
            a.base, out, tc, threads=a.threads, collect_progress=lambda done, _: bar.update(done - bar.n),
            overwrite=a.overwrite,
        )  # fmt: skip
    meta = load_model(path).metadata
    doc = {"out": str(path), "history": history[-1], "metrics": meta["metrics"], "notes": meta["notes"]}
    print(json.dumps(doc, allow_nan=False))
    return 0
