"""Delete-one-cluster jackknife of statistics that are functions of per-unit sums.

Every coefficient here is ``fn(column sums of S)`` (:class:`eval.coefficients.Stat`), so leaving
cluster g out is ``fn(T - S_g)`` with ``T`` the total and ``S_g`` the cluster's sums: the G
leave-one-out values of every statistic cost one (G x m) evaluation. The variance is the
jackknife's, (G-1)/G * sum (theta_(g) - mean)^2 (the CV3 cluster-robust variance of a smooth
statistic), and the interval is estimate +- t(G-1) * SE: with few clusters a t quantile on
G - 1 degrees of freedom is what keeps coverage near nominal (MacKinnon, Nielsen & Webb 2023).

Above ``MAX_GROUPS`` clusters (a corpus without dialogues has one cluster per unit), whole
clusters are dealt at random into ``MAX_GROUPS`` groups and one group is left out at a time:
the delete-a-group jackknife (Kott 2001), which keeps the cost that of a bootstrap with
B = ``MAX_GROUPS`` and the variance estimator consistent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sstats

from eval.coefficients import Stat

__all__ = ["MAX_GROUPS", "JackknifeResult", "group_sums", "jackknife_ci", "leave_one_out"]

_CHUNK_CELLS = 1_048_576  # leave-one-out rows x statistic columns evaluated at once
MAX_GROUPS = 1000


@dataclass
class JackknifeResult:
    """Leave-one-cluster-out values of several statistics.

    Attributes
    ----------
    values : dict
        Statistic name -> array (G,) of values with one cluster left out (NaN = undefined).
    full : dict
        Statistic name -> array (1,) of the value on every cluster.
    n_clusters : int
        Number of clusters G.
    method : str
        ``cluster`` (dialogues) or ``unit`` (every unit its own cluster).
    n_groups : int
        Number of leave-outs: G, or ``MAX_GROUPS`` groups of clusters above that.
    """

    values: dict[str, np.ndarray]
    full: dict[str, np.ndarray]
    n_clusters: int
    method: str
    n_groups: int = 0

    def at_full(self) -> JackknifeResult:
        """The same statistics on every cluster, in the shape of the leave-outs (G = 1), so a
        function of the resamples gives its full-sample value too."""
        return JackknifeResult(self.full, self.full, 1, self.method, 1)


def group_sums(
    S: np.ndarray, clusters: np.ndarray | None, max_groups: int, seed: int
) -> tuple[np.ndarray, int]:
    """Per-cluster sums of ``S`` (per group of clusters above ``max_groups``) and the number of
    clusters; without ``clusters`` every unit is its own cluster.

    Examples
    --------
    >>> sums, g = group_sums(np.ones((6, 1)), np.array(list("aabbbc")), MAX_GROUPS, 0)
    >>> sums.ravel().tolist(), g
    ([2.0, 3.0, 1.0], 3)
    """
    if clusters is None:
        group = np.arange(len(S))
    else:
        group = np.unique(np.asarray(clusters).astype(str), return_inverse=True)[1]
    g = int(group.max()) + 1 if len(group) else 0
    if g > max_groups:
        # deal whole clusters into max_groups groups of near-equal size, in random order
        dealt = np.random.default_rng(seed).permutation(g) % max_groups
        group = dealt[group]
    sums = np.zeros((min(g, max_groups), S.shape[1]))
    np.add.at(sums, group, S)
    return sums, g


def leave_one_out(
    stats: Sequence[Stat],
    clusters: np.ndarray | None = None,
    *,
    max_groups: int = MAX_GROUPS,
    seed: int = 0,
) -> JackknifeResult:
    """Jackknife values of ``stats``, leaving out one cluster (or one unit) at a time.

    Parameters
    ----------
    stats : sequence of Stat
        Statistics over the same units (rows of every ``S`` align).
    clusters : array, optional
        Cluster label of each unit; without it every unit is its own cluster.
    max_groups : int
        Above this many clusters, leave out groups of clusters (the delete-a-group jackknife).
    seed : int
        Seed of the random dealing of clusters into groups.

    Examples
    --------
    >>> import numpy as np
    >>> from eval.coefficients import family_stat
    >>> counts = np.array([[2, 0], [0, 2], [1, 1], [2, 0]] * 3)
    >>> s = family_stat("percent_agreement", counts, np.eye(2))
    >>> jk = leave_one_out([s], clusters=np.repeat(["d1", "d2", "d3"], 4))
    >>> jk.values["percent_agreement"].round(3).tolist(), jk.n_clusters
    ([0.75, 0.75, 0.75], 3)
    >>> leave_one_out([s], max_groups=5).n_groups  # 12 units dealt into 5 groups
    5
    """
    S = np.hstack([s.S for s in stats]).astype(float) if stats else np.zeros((0, 0))
    bounds = np.cumsum([0] + [s.S.shape[1] for s in stats])
    per_cluster, n_clusters = group_sums(S, clusters, max_groups, seed)
    total = per_cluster.sum(axis=0, keepdims=True)
    g = per_cluster.shape[0]
    values = {s.name: np.empty(g) for s in stats}
    chunk = max(1, _CHUNK_CELLS // max(S.shape[1], 1))
    for start in range(0, g, chunk):
        loo = total - per_cluster[start : start + chunk]
        for i, s in enumerate(stats):
            part = loo[:, bounds[i] : bounds[i + 1]]
            values[s.name][start : start + len(loo)] = np.asarray(s.fn(part), dtype=float)
    full = {
        s.name: np.asarray(s.fn(total[:, bounds[i] : bounds[i + 1]]), dtype=float)
        for i, s in enumerate(stats)
    }
    return JackknifeResult(values, full, n_clusters, "unit" if clusters is None else "cluster", g)


@lru_cache(maxsize=1024)
def t_quantile(level: float, df: int) -> float:
    """Two-sided ``level`` quantile of t(df) (cached: a report asks for the same few hundreds of
    times, and scipy's ``ppf`` costs about a millisecond)."""
    return float(sstats.t.ppf(0.5 + level / 2, df))


def jackknife_ci(
    values: np.ndarray, estimate: float, level: float = 0.95
) -> tuple[float, float, float, int, int]:
    """Jackknife-t interval: ``estimate +- t(G' - 1) * SE`` over the G' finite leave-outs.

    Returns ``(lo, hi, se, df, degenerate)``; NaN bounds when fewer than two leave-outs are
    defined, when more are undefined than defined, or when the estimate is undefined.

    Examples
    --------
    >>> lo, hi, se, df, bad = jackknife_ci(np.array([0.5, 0.6, 0.7, np.nan]), 0.6)
    >>> round(se, 4), df, bad, round(hi - 0.6, 4)
    (0.1155, 2, 1, 0.4968)
    >>> jackknife_ci(np.array([0.5, 0.6, np.nan, np.nan, np.nan]), 0.6)[:2]
    (nan, nan)
    """
    ok = np.isfinite(values)
    bad = int((~ok).sum())
    g = int(ok.sum())
    # most leave-outs undefined (e.g. a category used in one dialogue only): the spread of the
    # few left says nothing of the sampling variance, so the interval is undefined
    if g < 2 or bad > g or not np.isfinite(estimate):
        return (float("nan"), float("nan"), float("nan"), max(g - 1, 0), bad)
    v = values[ok]
    se = float(np.sqrt((g - 1) / g * np.sum((v - v.mean()) ** 2)))
    half = t_quantile(level, g - 1) * se
    return (estimate - half, estimate + half, se, g - 1, bad)
