"""``python -m isingviz sweep NAME``: run one of the experiment sweeps (``isingviz.experiments.sweeps``) with a
progress bar, resumable, on the local pool or Dask; prints where the results went and their summary as JSON."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import textwrap
import threading
from typing import Any

from tqdm import tqdm

from .help import SWEEP_HELP


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a sweep like Ctrl-C: its workers are shut down, finished tasks stay cached


def run(a: argparse.Namespace) -> int:
    from ..experiments.sweeps import result_paths, run_sweep

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        with tqdm(total=0, file=sys.stderr, disable=a.quiet, unit="task", desc=f"sweep {a.name}") as bar:

            def progress(ev: dict[str, Any]) -> None:
                bar.total = ev["total"]
                bar.update(ev["done"] - bar.n)
                eta = "?" if ev["eta"] is None else f"{ev['eta'] / 60:.1f} min"
                bar.set_postfix_str(
                    f"running {ev['running']}, queued {ev['queued']}, cached {ev['cached_total']}, ETA {eta}"
                )

            kw = {"engine": a.engine, "scheduler": a.scheduler, "resume": a.resume}
            doc = run_sweep(a.name, quick=a.quick, workers=a.workers, progress=progress, out_dir=a.out_dir, **kw)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    js, cs = result_paths(a.name, a.quick, a.out_dir)
    info = {"sweep": a.name, "quick": a.quick, "json": str(js), "csv": str(cs), "wall_seconds": doc["wall_seconds"]}
    print(
        json.dumps({**info, "errors": doc["errors"], "notes": doc["notes"], "summary": doc["summary"]}, allow_nan=False)
    )
    return 0


def add_parser(cmd: Any) -> None:
    from ..experiments.sweeps import SWEEPS

    text = SWEEP_HELP + "".join(
        f"\n  {n:<10} {textwrap.fill(s.help, 100, subsequent_indent=' ' * 13)}" for n, s in SWEEPS.items()
    )
    p = cmd("sweep", run, text)
    p.add_argument("name", choices=list(SWEEPS), metavar="NAME", help=f"one of: {', '.join(SWEEPS)}")
    p.add_argument("--quick", action="store_true", help="reduced sizes that finish in <= 5 minutes on 2 cores")
    p.add_argument("--workers", type=int, help="parallel processes (default: min(2, cores); local 1: in this process)")
    p.add_argument("--engine", choices=("local", "dask"), default="local", help="local process pool, or Dask")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="dask: an existing cluster (default: a local one)")
    p.add_argument("--resume", action="store_true", help="take finished tasks from OUT_DIR/.cache instead of rerunning")
    p.add_argument("--out-dir", help="folder for NAME[_quick].json and .csv (default: results/, or $ISINGVIZ_RESULTS)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
