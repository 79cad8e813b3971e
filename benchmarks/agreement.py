"""Speed of eval's agreement coefficients against reference implementations (same run).

Run: ``python benchmarks/agreement.py`` (about a minute on 2 cores). Prints medians of repeated
runs and the ratio to the baseline measured in the same run, with the targets:

1. Krippendorff's alpha (nominal) from a long annotations table of ~800k rows (100k units x 10
   raters, 5 categories, 20% missing): pivot + alpha, at most 2.5x ``krippendorff.alpha`` on the
   ready raters x units matrix.
2. Percentile bootstrap CI of alpha, B = 1,000, on 10k units x 3 raters: at least 15x faster
   than a loop calling ``krippendorff.alpha`` per resample. The loop is timed on fewer resamples
   (``--naive-b``, default 100) and extrapolated linearly to 1,000.
3. Fleiss' kappa on a complete 100k x 10 matrix: at most 2x statsmodels
   (``aggregate_raters`` + ``fleiss_kappa``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval
from eval.bootstrap import percentile_ci, replicate
from eval.coefficients import alpha_stat


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def paired_times(
    ours: Callable[[], Any], base: Callable[[], Any], repeat: int
) -> tuple[float, Any, float, Any]:
    """Medians of ``ours`` and ``base`` run alternately (both see the same machine load)."""
    t_o, t_b = [], []
    out_o = out_b = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out_o = ours()
        t1 = time.perf_counter()
        out_b = base()
        t2 = time.perf_counter()
        t_o.append(t1 - t0)
        t_b.append(t2 - t1)
    return statistics.median(t_o), out_o, statistics.median(t_b), out_b


def synthetic(n_units: int, n_raters: int, q: int, missing: float, seed: int) -> np.ndarray:
    """units x raters float matrix with values 1..q (NaN = missing), raters agreeing ~60%."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, q + 1, n_units)
    x = np.where(
        rng.random((n_units, n_raters)) < 0.6,
        truth[:, None],
        rng.integers(1, q + 1, (n_units, n_raters)),
    ).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


def long_table(x: np.ndarray) -> pd.DataFrame:
    units, raters = np.nonzero(np.isfinite(x))
    return pd.DataFrame(
        {
            "unit_id": pd.array([f"u{u}" for u in units], dtype="str"),
            "scheme": "s",
            "label": pd.array(x[units, raters].astype(int).astype(str), dtype="str"),
            "rater": pd.array([f"r{r}" for r in raters], dtype="str"),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=9, help="runs per measurement (median)")
    ap.add_argument("--naive-b", type=int, default=100, help="resamples timed for the loop")
    args = ap.parse_args()
    rows: list[tuple[str, float, str, float, float, str, bool]] = []

    # 1. alpha from the long table
    x = synthetic(100_000, 10, 5, 0.2, seed=1)
    long = long_table(x)
    ready = x.T.copy()  # raters x units, as krippendorff wants

    def ours_alpha() -> float:
        table = eval.ratings_table(long, "s", categories=list("12345"))
        return eval.krippendorff_alpha(table, level="nominal")

    t_ours, a_ours, t_base, a_base = paired_times(
        ours_alpha,
        lambda: krippendorff.alpha(reliability_data=ready, level_of_measurement="nominal"),
        args.repeat,
    )
    assert abs(a_ours - a_base) < 1e-9, (a_ours, a_base)
    rows.append(
        (
            f"alpha nominal, long table {len(long):,} rows",
            t_ours,
            "krippendorff.alpha on ready matrix",
            t_base,
            t_ours / t_base,
            "<= 2.5x",
            t_ours / t_base <= 2.5,
        )
    )

    # 2. bootstrap of alpha
    y = synthetic(10_000, 3, 5, 0.2, seed=2)
    B = 1000
    table = eval.api.matrix_table(y, categories=[1, 2, 3, 4, 5])

    def ours_boot() -> tuple[float, float, int]:
        st = alpha_stat(table.counts(), "nominal")
        return percentile_ci(replicate([st], B=B, seed=0).values["krippendorff_alpha"])

    t_boot, ci_ours = median_time(ours_boot, args.repeat)
    data = y.T.copy()

    def naive() -> list[float]:
        rng = np.random.default_rng(0)
        n = data.shape[1]
        return [
            krippendorff.alpha(
                reliability_data=data[:, rng.integers(0, n, n)], level_of_measurement="nominal"
            )
            for _ in range(args.naive_b)
        ]

    t_naive_part, naive_vals = median_time(naive, max(1, args.repeat // 2))
    t_naive = t_naive_part * B / args.naive_b
    lo, hi = np.quantile(naive_vals, [0.025, 0.975])
    speedup = t_naive / t_boot
    rows.append(
        (
            f"bootstrap CI alpha, B={B}, 10k x 3",
            t_boot,
            f"loop over krippendorff.alpha ({args.naive_b} resamples x {B // args.naive_b})",
            t_naive,
            speedup,
            ">= 15x faster",
            speedup >= 15,
        )
    )

    # 3. Fleiss' kappa
    z = np.random.default_rng(3).integers(0, 5, (100_000, 10))
    t_fk, k_fk, t_sm, k_sm = paired_times(
        lambda: eval.fleiss_kappa(z), lambda: fleiss_kappa(aggregate_raters(z)[0]), args.repeat
    )
    assert abs(k_fk - k_sm) < 1e-9, (k_fk, k_sm)
    rows.append(
        (
            "Fleiss' kappa, 100k x 10 complete",
            t_fk,
            "statsmodels aggregate_raters + fleiss_kappa",
            t_sm,
            t_fk / t_sm,
            "<= 2x",
            t_fk / t_sm <= 2,
        )
    )

    print(
        f"medians of {args.repeat} runs, ours and baseline alternating (naive loop: "
        f"{max(1, args.repeat // 2)} runs)\n"
    )
    print(f"{'task':<44} {'ours s':>8}  {'baseline':<58} {'base s':>8} {'ratio':>7}  target")
    for task, t1, base, t2, ratio, target, ok in rows:
        print(
            f"{task:<44} {t1:8.3f}  {base:<58} {t2:8.3f} {ratio:7.2f}  {target} "
            f"{'OK' if ok else 'MISSED'}"
        )
    print(
        f"\nbootstrap CIs agree within Monte-Carlo error: vectorised "
        f"[{ci_ours[0]:.4f}, {ci_ours[1]:.4f}], loop ({args.naive_b} resamples) "
        f"[{lo:.4f}, {hi:.4f}]"
    )


if __name__ == "__main__":
    main()
