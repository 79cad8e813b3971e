"""Agreement with a gold standard: per-code precision, recall and F1, and the prevalence warning.

The gold standard is a rater (e.g. ``adjudicated``) or ``majority``: the plurality label of the
human raters (the rater under evaluation excluded), with ties dropped and counted, as in
``human_model.majority_kappa``. Every number is a function of the gold x predicted confusion
matrix, so one bootstrap (over units, or over dialogues when each unit's dialogue is known) of
the per-unit one-hot confusion cells gives paired percentile intervals for all of them, from
:func:`eval.bootstrap.replicate`.

Definitions (Sokolova & Lapalme 2009, "A systematic analysis of performance measures for
classification tasks", Information Processing & Management 45:427-437):

* per code ``k``: precision ``tp / predicted k``, recall ``tp / gold k``, F1
  ``2 tp / (predicted k + gold k)``; a code neither predicted nor in the gold has none;
* macro averages: the mean over codes present in the gold or the predictions; a code predicted
  never (or never in the gold) counts 0 precision (recall), as scikit-learn's ``zero_division=0``;
* micro averages: with one label per unit, micro precision = micro recall = micro F1 = accuracy.

The prevalence warning (:func:`prevalence_warning`) flags the kappa paradox (Feinstein & Cicchetti
1990; Byrt, Bishop & Carlin 1993): when one code dominates, kappa can be low although raters
nearly always agree. It fires when the prevalence index ``2 max_k pi_k - 1`` (Byrt et al.'s
``|a - d| / n`` on pooled prevalences for a binary code) is at least ``0.5`` (the dominant code
has 75% of the ratings) and kappa is at least ``0.2`` below both percent agreement and Gwet's
AC1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from eval.bootstrap import percentile_ci, replicate
from eval.coefficients import Stat, family_stat, pair_joint
from eval.data import RatingTable
from eval.jackknife import MAX_GROUPS, group_sums, jackknife_ci
from toolkit.errors import InputError
from toolkit.jsonvalue import plain

__all__ = [
    "MAJORITY",
    "PREVALENCE_GAP",
    "PREVALENCE_INDEX_THRESHOLD",
    "CodeScores",
    "Estimate",
    "GoldResult",
    "PrevalenceWarning",
    "gold_labels",
    "gold_metrics",
    "prevalence_warning",
]

#: Name of the human-majority gold standard.
MAJORITY = "majority"
#: The prevalence index from which the kappa paradox is flagged (dominant code >= 75%).
PREVALENCE_INDEX_THRESHOLD = 0.5
#: How far kappa must fall below percent agreement and AC1 for the warning.
PREVALENCE_GAP = 0.2


@dataclass(frozen=True)
class Estimate:
    """A number with its interval (NaN when undefined).

    ``ci`` is the default interval: the delete-one-dialogue jackknife-t when dialogues are
    known (the percentile bootstrap over two dialogues covered 48% in benchmarks/coverage.py),
    else the percentile bootstrap over units; ``bootstrap_ci`` is the percentile bootstrap.
    """

    estimate: float
    ci: tuple[float, float]
    bootstrap_ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class CodeScores:
    """Precision, recall and F1 of one code, with the gold and predicted counts."""

    code: str
    precision: Estimate
    recall: Estimate
    f1: Estimate
    gold_n: int
    predicted_n: int


@dataclass
class GoldResult:
    """A rater scored against a gold standard.

    Attributes
    ----------
    rater, gold : str
        The rater evaluated and the gold standard (a rater or ``majority``).
    categories : list of str
        Codes in codebook order (rows/columns of ``confusion``).
    n_units : int
        Units with both a gold and a predicted label.
    n_ties : int
        Units dropped because the human majority was tied (``majority`` only).
    per_code : list of CodeScores
        One entry per code.
    macro, micro : dict
        ``precision``/``recall``/``f1`` -> Estimate (micro: all equal accuracy).
    confusion : list of list of int
        Counts, rows = gold, columns = the rater.
    confusion_ci : list of list of tuple
        Bootstrap interval of each cell's share of all units.
    bootstrap : dict
        ``method`` (``unit``/``cluster``), ``B``, ``seed``, ``n_clusters``, ``confidence``.
    notes : list of str
        Plain sentences (few clusters, dropped units).
    """

    rater: str
    gold: str
    categories: list[str]
    n_units: int
    n_ties: int
    per_code: list[CodeScores]
    macro: dict[str, Estimate]
    micro: dict[str, Estimate]
    confusion: list[list[int]]
    confusion_ci: list[list[tuple[float, float]]]
    bootstrap: dict[str, Any]
    humans: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        out: dict[str, Any] = plain(asdict(self))
        return out


def _majority(codes: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Plurality code per unit (-1 when unrated or tied) and the tie mask."""
    n = len(codes)
    counts = np.zeros((n, q), dtype=np.int64)
    for j in range(codes.shape[1]):
        ok = codes[:, j] >= 0
        np.add.at(counts, (np.flatnonzero(ok), codes[ok, j]), 1)
    top = counts.max(axis=1)
    tied = (counts == top[:, None]).sum(axis=1) > 1
    tied &= top > 0
    label = np.where((top > 0) & ~tied, counts.argmax(axis=1), -1)
    return label, tied


def gold_labels(
    table: RatingTable, gold: str, rater: str, humans: Sequence[str] | None = None
) -> tuple[np.ndarray, int, list[str]]:
    """Gold codes per unit (-1 = none), the number of tied units and the humans used.

    ``gold`` is a rater of the table or ``majority`` (the plurality of ``humans``, default every
    rater of kind ``human``, always without ``rater`` itself).

    Examples
    --------
    >>> import numpy as np
    >>> t = RatingTable("s", ["u1", "u2", "u3"], ["A", "B", "C", "M"], ["n", "y"],
    ...                 np.array([[0, 0, 1, 1], [0, 1, -1, 1], [1, 1, 1, 0]]))
    >>> codes, ties, used = gold_labels(t, "majority", "M")
    >>> codes.tolist(), ties, used
    ([0, -1, 1], 1, ['A', 'B', 'C'])
    """
    if gold != MAJORITY:
        if gold not in table.raters:
            raise InputError(
                f"scheme {table.scheme!r} has no gold rater {gold!r}; raters are "
                f"{', '.join(table.raters)} (or use 'majority')"
            )
        return table.codes[:, table.raters.index(gold)], 0, [gold]
    if humans is None:
        humans = [r for r in table.raters if table.rater_kinds.get(r, "human") == "human"]
    used = [h for h in humans if h != rater]
    if not used:
        raise InputError(f"scheme {table.scheme!r}: no human raters for the 'majority' gold")
    idx = [table.raters.index(h) for h in used]
    label, tied = _majority(table.codes[:, idx], table.q)
    return label, int(tied.sum()), used


class _SumsKeeper:
    """A bootstrap :class:`Stat` function that keeps the replicate sums of all cells.

    The engine maps replicate sums to one value per statistic; every gold metric is a function
    of the same confusion cells, so keeping the (B x q^2) sums and deriving all metrics from them
    afterwards gives paired intervals from one resampling.
    """

    def __init__(self) -> None:
        self.sums = np.zeros((0, 0))

    def __call__(self, T: np.ndarray) -> np.ndarray:
        self.sums = T
        return T[:, 0]


def _resample(
    S: np.ndarray, B: int, seed: int, clusters: np.ndarray | None
) -> tuple[str, int, np.ndarray]:
    """Bootstrap method, number of resampled clusters and the (B x cells) replicate sums.

    ``B = 0`` gives no replicates (a single NaN row, so every interval is undefined).
    """
    method = "unit" if clusters is None else "cluster"
    if B == 0:
        n = len(S) if clusters is None else len(set(clusters.tolist()))
        return method, n, np.full((1, S.shape[1]), np.nan)
    keeper = _SumsKeeper()
    boot = replicate([Stat("cells", S, keeper, len(S))], B=B, seed=seed, clusters=clusters)
    return boot.method, boot.n_clusters, keeper.sums


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _scores(T: np.ndarray, q: int) -> dict[str, np.ndarray]:
    """All metrics from confusion sums ``T`` (B x q*q, rows = gold): arrays (B,) or (B, q)."""
    C = T.reshape(len(T), q, q)
    tp = np.einsum("bkk->bk", C)
    gold_n = C.sum(axis=2)
    pred_n = C.sum(axis=1)
    present = (gold_n + pred_n) > 0
    prec = _ratio(tp, pred_n)
    rec = _ratio(tp, gold_n)
    f1 = _ratio(2 * tp, gold_n + pred_n)
    n_present = present.sum(axis=1)
    macro = {
        name: _ratio(np.where(present, np.nan_to_num(v), 0.0).sum(axis=1), n_present)
        for name, v in (("precision", prec), ("recall", rec), ("f1", f1))
    }
    acc = _ratio(tp.sum(axis=1), C.sum(axis=(1, 2)))
    share = (
        C.reshape(len(T), q * q) / np.where(C.sum(axis=(1, 2)) > 0, C.sum(axis=(1, 2)), 1)[:, None]
    )
    return {"precision": prec, "recall": rec, "f1": f1, "accuracy": acc, "share": share} | {
        f"macro_{k}": v for k, v in macro.items()
    }


#: the clusters evaluated at once by the jackknife (each row holds q^2 confusion sums)
_JACKKNIFE_CHUNK = 20_000
JACKKNIFE_METHOD = "delete-one-dialogue jackknife, t(G - 1), clipped to [0, 1]"


def _leave_one_out(S: np.ndarray, clusters: np.ndarray, q: int) -> dict[str, np.ndarray]:
    """Every metric with one dialogue (or group of dialogues) left out, in chunks."""
    per_cluster, _ = group_sums(S, clusters, MAX_GROUPS, 0)
    total = per_cluster.sum(axis=0, keepdims=True)
    parts = [
        _scores(total - per_cluster[i : i + _JACKKNIFE_CHUNK], q)
        for i in range(0, len(per_cluster), _JACKKNIFE_CHUNK)
    ]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _estimate(
    point: float, reps: np.ndarray, level: float, loo: np.ndarray | None = None
) -> Estimate:
    lo, hi, _ = percentile_ci(reps, level)
    if loo is None:
        return Estimate(float(point), (lo, hi), (lo, hi))
    j_lo, j_hi, _, _, _ = jackknife_ci(loo, float(point), level)
    return Estimate(float(point), (max(j_lo, 0.0), min(j_hi, 1.0)), (lo, hi))


def _assemble(
    point: dict[str, np.ndarray],
    reps: dict[str, np.ndarray],
    categories: list[str],
    level: float,
    loo: dict[str, np.ndarray] | None = None,
) -> tuple[list[CodeScores], dict[str, Estimate], dict[str, Estimate]]:
    q = len(categories)
    C = point["confusion"]

    def est(name: str, k: int | None = None) -> Estimate:
        pick = (lambda a: a[:, k]) if k is not None else (lambda a: a)
        value = point[name][0, k] if k is not None else point[name][0]
        return _estimate(value, pick(reps[name]), level, None if loo is None else pick(loo[name]))

    per_code = [
        CodeScores(
            categories[k],
            est("precision", k),
            est("recall", k),
            est("f1", k),
            int(C[k].sum()),
            int(C[:, k].sum()),
        )
        for k in range(q)
    ]
    macro = {m: est(f"macro_{m}") for m in ("precision", "recall", "f1")}
    acc = est("accuracy")
    return per_code, macro, {"precision": acc, "recall": acc, "f1": acc}


def gold_metrics(
    table: RatingTable,
    rater: str,
    gold: str = MAJORITY,
    *,
    humans: Sequence[str] | None = None,
    B: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> GoldResult:
    """Score ``rater`` against ``gold`` with bootstrap intervals.

    Parameters
    ----------
    table : RatingTable
        Ratings of one scheme; ``table.clusters`` (dialogues), when set, makes it a cluster
        bootstrap.
    rater : str
        The rater scored (usually a model).
    gold : str
        A rater of the table (e.g. ``adjudicated``) or ``majority``.
    humans : sequence of str, optional
        Humans for the majority (default: raters of kind ``human``).
    B, seed, confidence
        Bootstrap replicates, seed and interval level.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[0, 0], [0, 0], [1, 1], [1, 0], [2, 2]] * 4)
    >>> t = RatingTable("s", [f"u{i}" for i in range(20)], ["gold", "M"], ["a", "b", "c"], codes)
    >>> res = gold_metrics(t, "M", "gold", B=200)
    >>> [round(c.recall.estimate, 3) for c in res.per_code], round(res.micro["f1"].estimate, 2)
    ([1.0, 0.5, 1.0], 0.8)
    """
    if rater not in table.raters:
        raise InputError(f"scheme {table.scheme!r} has no rater {rater!r}")
    if gold == rater:
        raise InputError(f"rater {rater!r} cannot be its own gold standard")
    g, n_ties, used = gold_labels(table, gold, rater, humans)
    pred = table.codes[:, table.raters.index(rater)]
    keep = (g >= 0) & (pred >= 0)
    if keep.sum() < 2:
        raise InputError(
            f"scheme {table.scheme!r}: fewer than two units have both a {gold} label and a "
            f"label by {rater}"
        )
    q = table.q
    S = pair_joint(g[keep], pred[keep], q)
    clusters = None if table.clusters is None else np.asarray(table.clusters)[keep]
    method, n_clusters, sums = _resample(S, B, seed, clusters)
    point = _scores(S.sum(axis=0, keepdims=True), q)
    point["confusion"] = S.sum(axis=0).reshape(q, q)
    reps = _scores(sums, q)
    loo = None
    if clusters is not None and n_clusters >= 2:
        loo = _leave_one_out(S, clusters, q)
    per_code, macro, micro = _assemble(point, reps, table.categories, confidence, loo)
    cell_ci = [percentile_ci(reps["share"][:, i], confidence)[:2] for i in range(q * q)]
    notes = []
    if gold == MAJORITY and n_ties:
        notes.append(f"{n_ties} unit(s) with a tied human majority were dropped.")
    if loo is not None and n_clusters < 5:
        notes.append(
            f"Only {n_clusters} dialogues: intervals that allow for dependence within "
            "dialogues are wide, and no narrower one is reliable (docs/eval.md, coverage)."
        )
    if B == 0:
        notes.append("No bootstrap (B = 0): intervals are not computed.")
    return GoldResult(
        rater,
        gold,
        list(table.categories),
        int(keep.sum()),
        n_ties,
        per_code,
        macro,
        micro,
        point["confusion"].astype(int).tolist(),
        [cell_ci[r * q : (r + 1) * q] for r in range(q)],
        {
            "method": method,
            "ci_method": JACKKNIFE_METHOD if loo is not None else "percentile bootstrap",
            "B": B,
            "seed": seed,
            "n_clusters": n_clusters,
            "confidence": confidence,
        },
        used if gold == MAJORITY else [],
        notes,
    )


@dataclass(frozen=True)
class PrevalenceWarning:
    """The kappa paradox check on a set of ratings.

    Attributes
    ----------
    triggered : bool
        Whether the warning applies.
    prevalence_index : float
        ``2 max_k pi_k - 1`` on the pooled prevalences.
    dominant : str
        The most frequent code.
    kappa, percent_agreement, ac1, pabak : float
        Fleiss' kappa (Cohen's with two raters and equal marginals), percent agreement, Gwet's
        AC1 and PABAK (Brennan-Prediger; for a binary code ``2 p_o - 1``).
    message : str
        The sentence for the report (empty when not triggered).
    """

    triggered: bool
    prevalence_index: float
    dominant: str
    kappa: float
    percent_agreement: float
    ac1: float
    pabak: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        out: dict[str, Any] = plain(asdict(self))
        return out


def prevalence_warning(table: RatingTable) -> PrevalenceWarning:
    """Flag the kappa paradox: a dominant code, and kappa far below agreement and AC1.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[0, 0]] * 90 + [[0, 1]] * 5 + [[1, 0]] * 4 + [[1, 1]] * 1)
    >>> t = RatingTable("s", [f"u{i}" for i in range(100)], ["A", "B"], ["no", "yes"], codes)
    >>> w = prevalence_warning(t)
    >>> w.triggered, round(w.kappa, 3), round(w.percent_agreement, 2), round(w.ac1, 3)
    (True, 0.134, 0.91, 0.9)
    """
    counts = table.counts()
    q = counts.shape[1]
    w = np.eye(q)
    values = {
        name: family_stat(name, counts, w).value()
        for name in ("fleiss_kappa", "percent_agreement", "gwet_ac", "brennan_prediger")
    }
    pooled = counts.sum(axis=0)
    total = pooled.sum()
    pi = pooled / total if total else np.full(q, np.nan)
    index = float(2 * np.nanmax(pi) - 1) if total else float("nan")
    dominant = table.categories[int(np.nanargmax(pi))] if total else ""
    kappa, po, ac1 = values["fleiss_kappa"], values["percent_agreement"], values["gwet_ac"]
    triggered = bool(
        index >= PREVALENCE_INDEX_THRESHOLD
        and po - kappa >= PREVALENCE_GAP
        and ac1 - kappa >= PREVALENCE_GAP
    )
    message = ""
    if triggered:
        message = (
            f"'{dominant}' makes up {np.nanmax(pi):.0%} of the ratings (prevalence index "
            f"{index:.2f}): kappa ({kappa:.2f}) is far below percent agreement ({po:.2f}) and "
            f"AC1 ({ac1:.2f}). This is the kappa paradox of a dominant code, not necessarily "
            f"poor agreement; read PABAK ({values['brennan_prediger']:.2f}) and AC1 beside kappa."
        )
    return PrevalenceWarning(
        triggered, index, dominant, kappa, po, ac1, values["brennan_prediger"], message
    )
