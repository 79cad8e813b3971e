"""Speed of ``edudial estimate`` and the alternative annotator test (same run, same data).

Run: ``python benchmarks/validity.py`` (under a minute on 2 cores). Data: 100k units x 3 humans
+ 1 model, 5 categories (humans copy a latent truth with 30% random labels, the model with 35%),
adjudicated labels on a 10k-unit sample. Prints medians of repeated runs, alternating ours and
the baseline so both see the same machine load.

Target: the alternative annotator test and the PPI++ estimate, each starting from the long
annotations table (pivot included, as ``edudial estimate`` does), finish within 3x the plain
percentile bootstrap (B = 1,000) of Cohen's kappa between one human and the model on the same
units (:func:`eval.bootstrap.replicate` on the ready code arrays).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval
from eval.alt_test import alt_test
from eval.bootstrap import replicate
from eval.coefficients import pair_stat
from eval.ppi import estimate_shares

TARGET = 3.0
CATS = ["a", "b", "c", "d", "e"]


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Long annotations (humans A-C, model M, adjudicated on 10%) and the ready codes."""
    rng = np.random.default_rng(seed)
    q = len(CATS)
    truth = rng.integers(0, q, n)
    codes = {
        r: np.where(rng.random(n) < noise, rng.integers(0, q, n), truth)
        for r, noise in (("A", 0.3), ("B", 0.3), ("C", 0.3), ("M", 0.35))
    }
    units = np.array([f"u{i}" for i in range(n)], dtype=object)
    gold_idx = np.sort(rng.choice(n, n // 10, replace=False))
    frames = [
        pd.DataFrame(
            {
                "unit_id": units,
                "scheme": "s",
                "label": np.array(CATS)[c],
                "rater": r,
                "rater_kind": "model" if r == "M" else "human",
            }
        )
        for r, c in codes.items()
    ]
    frames.append(
        pd.DataFrame(
            {
                "unit_id": units[gold_idx],
                "scheme": "s",
                "label": np.array(CATS)[truth[gold_idx]],
                "rater": "adjudicated",
                "rater_kind": "human",
            }
        )
    )
    return pd.concat(frames, ignore_index=True), codes["A"], codes["M"]


def paired(ours: Callable[[], Any], base: Callable[[], Any], repeat: int) -> tuple[float, float]:
    t_o, t_b = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ours()
        t1 = time.perf_counter()
        base()
        t2 = time.perf_counter()
        t_o.append(t1 - t0)
        t_b.append(t2 - t1)
    return statistics.median(t_o), statistics.median(t_b)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    frame, human_a, model = synthetic(args.units, 0)
    eye = np.eye(len(CATS))

    def baseline() -> Any:
        return replicate([pair_stat("cohen_kappa", human_a, model, eye)], B=1000, seed=0)

    def run_alt() -> Any:
        table = eval.ratings_table(frame, "s", categories=CATS, raters=["A", "B", "C", "M"])
        return alt_test(table, "M", ["A", "B", "C"])

    def run_estimate() -> Any:
        table = eval.ratings_table(frame, "s", categories=CATS, raters=["M", "adjudicated"])
        return estimate_shares(table.codes[:, 0], table.codes[:, 1], CATS)

    res = run_alt()
    print(f"{args.units} units x 3 humans + 1 model, {len(frame)} annotation rows")
    print(f"alternative annotator test: {res.verdict}")
    ok = True
    for name, fn in (("alternative annotator test", run_alt), ("estimate (PPI++)", run_estimate)):
        t_ours, t_base = paired(fn, baseline, args.repeat)
        ratio = t_ours / t_base
        ok &= ratio <= TARGET
        print(
            f"{name}: {t_ours:.2f} s vs plain bootstrap of kappa (B=1000) {t_base:.2f} s "
            f"-> {ratio:.2f}x (target <= {TARGET:g}x) {'OK' if ratio <= TARGET else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
