"""Markdown tables of a ``general`` sweep document, as docs/general.md quotes them.

    python benchmarks/general_tables.py results/general.json > /tmp/tables.md

Tables: the never-worse-than-guessing checks (the general model as shipped, and the network alone); accuracy by
kind of data and family (general, network alone, best non-learned anchor, trivial; cells failing); the failing
cells one by one; the honesty of the entropy; the replica targets; milliseconds per instance.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

import numpy as np

ANCHORS = ("inversion", "binary_ml")
CHECKS = ("trivial_ok", "anchor_ok", "entropy_ok", "confident_ok")


def kind(r: dict[str, Any]) -> str:
    R = r.get("replicas") or 0
    return f"replicas R = {R}" if R else f"Eq. 1, noise {r['noise']:g}"


def best_anchor(r: dict[str, Any]) -> float | None:
    vals = [r[a] for a in ANCHORS if a in r]
    return max(vals) if vals else None


def checks_table(doc: dict[str, Any]) -> list[str]:
    checks = doc["summary"].get("checks", {})
    out = ["| check | as shipped | network alone |", "|---|---|---|"]
    for test in CHECKS:
        cells = [checks.get(n, {}).get(test) for n in ("general", "general_raw")]
        text = [f"{c['passed']} / {c['cells']}" if c else "-" for c in cells]
        out.append(f"| {test} | {text[0]} | {text[1]} |")
    return out


def by_kind_table(rows: list[dict[str, Any]]) -> list[str]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(kind(r), r["family"])].append(r)
    out = [
        "| data | family | cells | general | network alone | best anchor | trivial | below trivial | below anchor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (k, fam), rs in sorted(groups.items()):
        g = np.mean([r["general"] for r in rs])
        raws = [r["general_raw"] for r in rs if "general_raw" in r]
        raw = np.mean(raws) if raws else None
        anchors = [best_anchor(r) for r in rs if best_anchor(r) is not None]
        c = [r["checks"]["general"] for r in rs]
        out.append(
            f"| {k} | {fam} | {len(rs)} | {g:.3f} | {'-' if raw is None else f'{raw:.3f}'} |"
            f" {np.mean(anchors):.3f} | {np.mean([r['trivial'] for r in rs]):.3f} |"
            f" {sum(not x['trivial_ok'] for x in c)} | {sum(not x['anchor_ok'] for x in c)} |"
        )
    return out


def failing_table(rows: list[dict[str, Any]], limit: int = 60) -> list[str]:
    bad = [r for r in rows if not (r["checks"]["general"]["trivial_ok"] and r["checks"]["general"]["anchor_ok"])]
    out = [f"{len(bad)} cells fail a margin check (shown: the {min(limit, len(bad))} with the largest deficit).", "",
           "| family | L | T | noise | R | general | network alone | trivial | best anchor | deficit ± 2 SE |",
           "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip

    def deficit(r: dict[str, Any]) -> tuple[float, float]:
        c = r["checks"]["general"]
        worst = min([c["vs_trivial"]] + ([c["vs_anchor"]] if c["vs_anchor"] else []), key=lambda m: m["margin"])
        return worst["margin"], worst["se"]

    for r in sorted(bad, key=lambda r: deficit(r)[0])[:limit]:
        m, se = deficit(r)
        raw = f"{r['general_raw']:.3f}" if "general_raw" in r else "-"
        a = best_anchor(r)
        out.append(
            f"| {r['family']} | {r['L']} | {r['T']:g} | {r['noise']:g} | {r.get('replicas') or 0} |"
            f" {r['general']:.3f} | {raw} | {r['trivial']:.3f} | {'-' if a is None else f'{a:.3f}'} |"
            f" {m:+.3f} ± {2 * se:.3f} |"
        )
    return out


def honesty_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| data | model | cells with >= 20 wrong pairs | S wrong > S right | <= 20 % wrong with S < 0.1 |"
           " mean S wrong | mean S right | wrong with S < 0.1 |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for k in sorted({kind(r) for r in rows}):
        for name in ("general", "general_raw"):
            hs = [r["honesty"][name] for r in rows if kind(r) == k and name in r["honesty"]]
            hs = [h for h in hs if h["wrong"] >= 20]
            if not hs:
                continue
            ok1 = sum(h["entropy_right"] is None or h["entropy_wrong"] > h["entropy_right"] for h in hs)
            ok2 = sum(h["confident_wrong"] <= 0.2 for h in hs)
            sw = np.mean([h["entropy_wrong"] for h in hs])
            sr = np.mean([h["entropy_right"] for h in hs if h["entropy_right"] is not None])
            cw = np.mean([h["confident_wrong"] for h in hs])
            out.append(f"| {k} | {name} | {len(hs)} | {ok1} | {ok2} | {sw:.2f} | {sr:.2f} | {cw:.0%} |")
    return out


def targets_table(rows: list[dict[str, Any]]) -> list[str]:
    methods = ("general", "general_raw", "replica_ml", "binary_ml", "inversion", "ml_kinetic", "naive_mf", "var")
    out = ["| R | T | trivial | " + " | ".join(methods) + " |", "|---|---|---|" + "---|" * len(methods)]
    for r in sorted(
        (r for r in rows if r["family"] == "random" and r["L"] == 12 and r.get("replicas")),
        key=lambda r: (r["replicas"], r["T"]),
    ):
        vals = " | ".join(f"{r[m]:.3f}" if m in r else "-" for m in methods)
        out.append(f"| {r['replicas']} | {r['T']:g} | {r['trivial']:.3f} | {vals} |")
    return out


def timing_table(rows: list[dict[str, Any]]) -> list[str]:
    methods = sorted({k[:-3] for r in rows for k in r if k.endswith("_ms")})
    out = ["| L | data | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for L in sorted({r["L"] for r in rows}):
        for rep in (False, True):
            rs = [r for r in rows if r["L"] == L and bool(r.get("replicas")) == rep]
            if not rs:
                continue
            vals = []
            for m in methods:
                v = [r[f"{m}_ms"] for r in rs if f"{m}_ms" in r]
                vals.append(f"{np.median(v):.1f}" if v else "-")
            out.append(f"| {L} | {'replicas' if rep else 'Eq. 1'} | " + " | ".join(vals) + " |")
    return out


def main() -> None:
    args = sys.argv[1:]
    doc = json.load(open(args[0] if args else "results/general.json"))
    rows = [t["result"] for t in doc["tasks"] if "error" not in t["result"]]
    for title, table in (
        ("Checks", checks_table(doc)),
        ("By kind of data and family", by_kind_table(rows)),
        ("Cells failing a margin check", failing_table(rows)),
        ("Honesty of the entropy", honesty_table(rows)),
        ("Replica targets (random, L = 12)", targets_table(rows)),
        ("Median ms per instance", timing_table(rows)),
    ):
        print(f"### {title}\n")
        print("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
