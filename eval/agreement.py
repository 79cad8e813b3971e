"""``agreement()``: every coefficient, interval and human-model comparison for each scheme.

:func:`scheme_agreement` is a chain of named steps over one :class:`~eval.data.RatingTable`:
choose the raters, compute the scheme-level coefficients, the pairwise tables, the bootstrap
shared by all of them, the human-model comparison, one-vs-rest agreement and the conventions.
Every step returns the typed results of :mod:`eval.result`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sstats

from eval.bootstrap import BootstrapResult, percentile_ci, replicate
from eval.coefficients import (
    WEIGHTS,
    Stat,
    alpha_stat,
    alpha_value,
    conger_stat,
    family_stat,
    pair_joint,
    pair_stat,
    pair_value,
    weight_matrix,
)
from eval.data import LEVELS, RatingTable, ratings_table
from eval.icc import icc, icc_form_value, icc_unit_stats
from eval.jackknife import JackknifeResult, jackknife_ci, leave_one_out
from eval.result import (
    MISSING_POLICY,
    TIE_RULE,
    WALD_METHOD,
    AgreementResult,
    AlphaChange,
    BinaryIndices,
    CategoryCoefficient,
    CategoryResult,
    Confusion,
    Conventions,
    Difference,
    HumanHuman,
    HumanModel,
    Interval,
    Intervals,
    MajorityKappa,
    MeanKappa,
    Metric,
    ModelComparison,
    PairKappa,
    PairResult,
    RankCorrelation,
    SchemeConventions,
    SchemeResult,
    WeightedMeanKappa,
    with_default,
)
from eval.variance import (
    Analytic,
    cohen,
    cohen_se,
    conger,
    gwet_alpha,
    gwet_family,
    gwet_family_se,
    t_interval,
    wald_interval,
)
from toolkit.errors import InputError

__all__ = [
    "MISSING_POLICY",
    "TIE_RULE",
    "agreement",
    "choose_raters",
    "coverage_note",
    "scheme_agreement",
]

MAX_BOOT_CELLS = 60_000_000  # units x statistic columns kept in the bootstrap
GWET_METHOD = "Gwet design-based variance, t interval"
JACKKNIFE_METHODS = {
    "cluster": "delete-one-dialogue jackknife, t(G - 1)",
    "unit": "delete-one-unit jackknife, t(n - 1)",
}
GROUPED_METHODS = {
    "cluster": "delete-a-group jackknife ({k} groups of dialogues), t({df})",
    "unit": "delete-a-group jackknife ({k} groups of units), t({df})",
}
WeightSpec = str | np.ndarray  # a name of eval.coefficients.WEIGHTS or a q x q matrix
# bootstrap replicates, or the leave-one-dialogue-out values of the jackknife
Resamples = BootstrapResult | JackknifeResult
# values of a derived statistic on every resample (None when one lacks a statistic it needs)
Replicates = Callable[[Resamples], "np.ndarray | None"]
JACKKNIFE_KEY = "cluster_jackknife"
KAPPA_RANGE = (-1.0, 1.0)  # kappa, pi, AC1, Brennan-Prediger and their means
DIFFERENCE_RANGE = (-2.0, 2.0)  # a difference of two kappas
# the coefficients bounded below (alpha and ICC are not bounded by -1); every one is <= 1
BOUNDS: dict[str, tuple[float, float]] = {"percent_agreement": (0.0, 1.0)}
UNBOUNDED_BELOW = ("krippendorff_alpha", "icc")
# where benchmarks/coverage.py found no interval covering 93% (docs/eval.md)
FEW_DIALOGUES = 5
RARE_RATINGS = 20
UNIT_JACKKNIFE_KEY = "jackknife"


# ------------------------------------------------------------------ raters
@dataclass
class Raters:
    """Who is compared with whom in one scheme.

    ``metric_raters`` give the scheme-level coefficients (the humans when there are two or
    more, else every rater); each model in ``models`` is compared with ``humans``.
    """

    humans: list[str]
    models: list[str]
    metric_raters: list[str]
    notes: list[str] = field(default_factory=list)


def _default_models(table: RatingTable, humans: list[str], asked_humans: bool) -> list[str]:
    kinds = table.rater_kinds
    if asked_humans:
        return [r for r in table.raters if r not in humans and kinds.get(r, "model") != "human"]
    return [r for r in table.raters if kinds.get(r) in ("model", "rule")]


def choose_raters(
    table: RatingTable,
    humans: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
) -> Raters:
    """Humans, models and metric raters of a table (names given, else from ``rater_kind``).

    Examples
    --------
    >>> import numpy as np
    >>> t = RatingTable("s", ["u"], ["A", "B", "M"], ["0", "1"], np.array([[0, 0, 1]]),
    ...                 rater_kinds={"A": "human", "B": "human", "M": "model"})
    >>> choose_raters(t).metric_raters
    ['A', 'B']
    """
    kinds = table.rater_kinds
    human_list = list(humans) if humans else [r for r in table.raters if kinds.get(r) == "human"]
    model_list = list(models) if models else _default_models(table, human_list, bool(humans))
    for r in [*human_list, *model_list]:
        if r not in table.raters:
            raise InputError(
                f"scheme {table.scheme!r} has no rater {r!r}; raters: {', '.join(table.raters)}"
            )
    notes = []
    if len(human_list) == 1 and model_list:
        metric_raters = [*human_list, *model_list]
        notes.append(
            f"only one human ({human_list[0]}): scheme-level metrics use all raters (the human "
            "and the models); see human_model for the model-by-model comparison"
        )
    elif human_list:
        metric_raters = human_list
    else:
        metric_raters = [r for r in table.raters if r not in model_list] or list(table.raters)
    return Raters(human_list, model_list if human_list else [], metric_raters, notes)


# ------------------------------------------------------------------ the work of one scheme
@dataclass
class _Scheme:
    """One scheme's table restricted to the chosen raters, and the analysis options."""

    table: RatingTable  # humans, models and metric raters; units rated by a metric rater
    metric_table: RatingTable  # the metric raters only
    raters: Raters
    weights: WeightSpec  # AC2 and the other weighted coefficients (ordered levels)
    confidence: float
    notes: list[str]

    @property
    def q(self) -> int:
        return self.table.q

    @property
    def ordered(self) -> bool:
        return self.table.level != "nominal"

    @property
    def n_metric_raters(self) -> int:
        return len(self.raters.metric_raters)

    @property
    def identity(self) -> np.ndarray:
        return np.eye(self.q)

    @property
    def weights_name(self) -> str:
        return self.weights if isinstance(self.weights, str) else "custom"

    def weight_matrix(self) -> np.ndarray:
        return weight_matrix(self.q, self.weights)

    def counts(self) -> np.ndarray:
        return self.metric_table.counts()

    def codes_of(self, rater: str) -> np.ndarray:
        return self.table.codes[:, self.table.raters.index(rater)]


def _prepare(table: RatingTable, raters: Raters, weights: WeightSpec, confidence: float) -> _Scheme:
    keep = list(dict.fromkeys([*raters.metric_raters, *raters.models]))
    t = table.select(keep)
    # every statistic needs a rating by a metric rater: drop units rated only by models
    t = t.subset_units(np.asarray((t.select(raters.metric_raters).codes >= 0).any(axis=1)))
    work = _Scheme(t, t.select(raters.metric_raters), raters, weights, confidence, [])
    work.notes.extend(raters.notes)
    work.notes.extend(_degenerate_notes(work))
    return work


def _degenerate_notes(work: _Scheme) -> list[str]:
    t, counts, n_raters = work.table, work.counts(), work.n_metric_raters
    notes = []
    if t.n_units == 0:
        notes.append("no ratings")
    if n_raters < 2:
        names = ", ".join(work.raters.metric_raters)
        notes.append(f"only one rater ({names}): agreement coefficients need two or more")
    if work.q < 2:
        notes.append(
            f"only one declared category ({', '.join(t.categories)}): chance-corrected "
            "coefficients are undefined (NaN)"
        )
    if n_raters >= 2 and int((counts.sum(axis=1) >= 2).sum()) == 0:
        notes.append("no unit is rated by two or more raters: coefficients are undefined (NaN)")
    if work.q >= 2 and (counts.sum(axis=0) > 0).sum() == 1:
        notes.append(
            "only one category was used: kappa-type coefficients are undefined (NaN); "
            "percent agreement, AC1 and Brennan-Prediger remain defined"
        )
    return notes


@dataclass
class _Coefficient:
    """A metric and the bootstrap statistic (if any) whose replicates give its intervals."""

    metric: Metric
    stat: Stat | None = None


def _metric(name: str, estimate: float, n: int, **info: Any) -> Metric:
    return Metric(name=name, estimate=float(estimate), n=int(n), info=info)


def _set_analytic(metric: Metric, res: Analytic, conf: float, chance: bool = True) -> None:
    """Attach the analytic SE and interval (Wald for Cohen's kappa, else Gwet's t(n - 1)) and,
    for chance-corrected coefficients, p_e and the test of "agreement is zero"."""
    if chance:
        metric.p_e = res.p_e if np.isfinite(res.p_e) else None
        metric.test = res.zero_test()
    if not np.isfinite(res.se):
        return
    if res.wald:
        method, ci = WALD_METHOD, wald_interval(metric.estimate, res.se, conf)
    else:
        method, ci = GWET_METHOD, t_interval(metric.estimate, res.se, res.n, conf)
    metric.se = float(res.se)
    metric.intervals["analytic"] = Interval(method, ci, se=float(res.se))


# ------------------------------------------------------------------ scheme-level coefficients
def _family_coefficients(work: _Scheme) -> dict[str, _Coefficient]:
    """Percent agreement, Fleiss, AC1/AC2, Brennan-Prediger and PABAK (Gwet's family)."""
    counts, eye, n_raters = work.counts(), work.identity, work.n_metric_raters
    family = [
        ("percent_agreement", "percent_agreement", eye),
        ("fleiss_kappa", "fleiss_kappa", eye),
        ("gwet_ac1", "gwet_ac", eye),
        ("brennan_prediger", "brennan_prediger", eye),
    ]
    if work.ordered:
        family.append(("gwet_ac2", "gwet_ac", work.weight_matrix()))
    if work.q == 2:
        family.append(("pabak", "brennan_prediger", eye))
    out = {}
    for name, kind, w in family:
        stat = family_stat(kind, counts, w)
        metric = _metric(name, stat.value(), stat.n, raters=n_raters)
        if name == "gwet_ac2":
            metric.info["weights"] = work.weights_name
        if name == "pabak":
            metric.info["definition"] = "2 p_o - 1 (binary scheme; equals Brennan-Prediger)"
        chance = kind != "percent_agreement"
        _set_analytic(metric, gwet_family(kind, counts, w), work.confidence, chance)
        out[name] = _Coefficient(metric, stat)
    return out


def _conger_coefficient(work: _Scheme, w: np.ndarray, name: str) -> _Coefficient:
    stat = conger_stat(work.metric_table, w)
    metric = _metric(name, stat.value(), stat.n, raters=work.n_metric_raters)
    _set_analytic(metric, conger(work.metric_table.codes, work.q, w), work.confidence)
    return _Coefficient(metric, stat)


def _weighted_coefficients(work: _Scheme) -> dict[str, _Coefficient]:
    """Weighted percent agreement, Fleiss, Brennan-Prediger, Conger (and Scott's pi with two
    raters) with the scheme's weights (ordered levels; AC2 is ``gwet_ac2``)."""
    counts, w, info = work.counts(), work.weight_matrix(), {"weights": work.weights_name}
    out = {}
    for kind in ("percent_agreement", "fleiss_kappa", "brennan_prediger"):
        stat = family_stat(kind, counts, w)
        metric = _metric(f"{kind}_weighted", stat.value(), stat.n, **info)
        metric.info["raters"] = work.n_metric_raters
        chance = kind != "percent_agreement"
        _set_analytic(metric, gwet_family(kind, counts, w), work.confidence, chance)
        out[metric.name] = _Coefficient(metric, stat)
    out["conger_kappa_weighted"] = _conger_coefficient(work, w, "conger_kappa_weighted")
    out["conger_kappa_weighted"].metric.info.update(info)
    if work.n_metric_raters == 2:
        codes = work.metric_table.codes
        stat = pair_stat("scott_pi", codes[:, 0], codes[:, 1], w)
        metric = _metric("scott_pi_weighted", stat.value(), stat.n, **info)
        both = (codes[:, 0] >= 0) & (codes[:, 1] >= 0)
        _set_analytic(metric, gwet_family("fleiss_kappa", counts[both], w), work.confidence)
        out["scott_pi_weighted"] = _Coefficient(metric, stat)
    return out


def _alpha_coefficient(work: _Scheme) -> _Coefficient:
    t, counts = work.table, work.counts()
    value, why = alpha_value(counts, t.level, t.scores)
    stat = alpha_stat(counts, t.level, t.scores)
    pairable = int((counts.sum(axis=1) >= 2).sum())
    metric = _metric("krippendorff_alpha", value, pairable, level=t.level, n_values=stat.n)
    if why:
        metric.note = why
    else:
        res = gwet_alpha(counts, t.level, t.scores)
        # Gwet's p_e (1 - D_e / max delta^2) and the zero test, as R irrCAC prints them
        _set_analytic(metric, Analytic(value, res.se, res.n, res.p_e), work.confidence)
    return _Coefficient(metric, stat)


def _two_rater_coefficients(work: _Scheme) -> dict[str, _Coefficient]:
    """Cohen's kappa (weighted too for ordered levels) and Scott's pi of exactly two raters."""
    first, second = work.raters.metric_raters
    pair = _pair_result(work.metric_table, (first, second), work.ordered, work.confidence)
    codes = work.metric_table.codes
    out = {}
    for name, metric in pair.metrics.items():
        if name == "percent_agreement":
            continue  # the multi-rater percent agreement is the same number
        w = weight_matrix(work.q, metric.info["weights"])
        out[name] = _Coefficient(metric, pair_stat("cohen_kappa", codes[:, 0], codes[:, 1], w))
    stat = pair_stat("scott_pi", codes[:, 0], codes[:, 1], work.identity)
    metric = _metric("scott_pi", stat.value(), stat.n)
    both = (codes[:, 0] >= 0) & (codes[:, 1] >= 0)
    both_counts = work.counts()[both]
    _set_analytic(metric, gwet_family("fleiss_kappa", both_counts, work.identity), work.confidence)
    out["scott_pi"] = _Coefficient(metric, stat)
    return out


def _icc_coefficient(work: _Scheme, icc_form: str) -> _Coefficient:
    t, scores = work.table, work.table.scores
    assert scores is not None
    codes = work.metric_table.codes
    x = np.where(codes >= 0, scores[np.clip(codes, 0, None)], np.nan)
    forms = icc(x, work.confidence)
    chosen = forms[icc_form]
    metric = _metric(
        "icc",
        chosen.estimate,
        chosen.n,
        form=chosen.form,
        shrout_fleiss=chosen.shrout_fleiss,
        raters=chosen.k,
        forms={k: v.to_dict() for k, v in forms.items()},
    )
    method = "exact F (Shrout & Fleiss 1979; McGraw & Wong 1996)"
    metric.intervals["analytic"] = Interval(method, chosen.ci)
    if chosen.n < t.n_units:
        metric.note = f"listwise deletion: {chosen.n} of {t.n_units} units are rated by all raters"
    # the mean squares are sums over units, so the jackknife and bootstrap apply: the exact F
    # interval alone covered 85% on 4-point scores (normal scores assumed; docs/eval.md)
    k = x.shape[1]
    stat = Stat("icc", icc_unit_stats(x), lambda T: icc_form_value(T, k, icc_form), chosen.n)
    return _Coefficient(metric, stat)


def _coefficients(work: _Scheme, icc_form: str) -> dict[str, _Coefficient]:
    """Every scheme-level coefficient of the metric raters (in report order)."""
    out: dict[str, _Coefficient] = {}
    if work.n_metric_raters >= 2:
        out.update(_family_coefficients(work))
        out["conger_kappa"] = _conger_coefficient(work, work.identity, "conger_kappa")
        out["krippendorff_alpha"] = _alpha_coefficient(work)
        if work.n_metric_raters == 2:
            out.update(_two_rater_coefficients(work))
        if work.table.level in ("interval", "ratio") and work.table.scores is not None:
            out["icc"] = _icc_coefficient(work, icc_form)
        if work.ordered:
            out.update(_weighted_coefficients(work))
    return out


# ------------------------------------------------------------------ pairwise
def _binary_indices(joint: np.ndarray) -> BinaryIndices | None:
    """Prevalence and bias indices (Byrt, Bishop & Carlin 1993) of a 2 x 2 table (1 = positive)."""
    n = joint.sum()
    if n == 0:
        return None
    both_pos, first_only, second_only, both_neg = joint[1, 1], joint[1, 0], joint[0, 1], joint[0, 0]
    return BinaryIndices(
        prevalence_index=float((both_pos - both_neg) / n),
        bias_index=float((first_only - second_only) / n),
        positive_rate=(float((both_pos + first_only) / n), float((both_pos + second_only) / n)),
        pabak=float(2 * (both_pos + both_neg) / n - 1),
    )


def _wilson(p: float, n: int, conf: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` of ``n``."""
    z = sstats.norm.ppf(0.5 + conf / 2)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return (centre - half, centre + half)


def _kappa_metric(joint: np.ndarray, w: np.ndarray, name: str, weights: str, conf: float) -> Metric:
    res = cohen(joint, w)
    metric = _metric(name, res.estimate, int(joint.sum()), weights=weights)
    _set_analytic(metric, res, conf)
    return metric


def _pair_result(t: RatingTable, pair: tuple[str, str], ordered: bool, conf: float) -> PairResult:
    """Confusion matrix, Cohen's kappa(s) and percent agreement of two raters of ``t``."""
    first, second = pair
    q = t.q
    codes = t.codes
    joint = pair_joint(codes[:, t.raters.index(first)], codes[:, t.raters.index(second)], q)
    joint = joint.sum(axis=0).reshape(q, q)
    n = int(joint.sum())
    eye = np.eye(q)
    metrics = {"cohen_kappa": _kappa_metric(joint, eye, "cohen_kappa", "identity", conf)}
    agree = float(pair_value("percent_agreement", joint.reshape(1, -1), eye)[0]) if n else np.nan
    metrics["percent_agreement"] = _metric("percent_agreement", agree, n)
    if n:
        interval = Interval("Wilson score", _wilson(agree, n, conf))
        metrics["percent_agreement"].intervals["analytic"] = interval
    if ordered:
        for weights in ("linear", "quadratic"):
            name = f"cohen_kappa_{weights}"
            metrics[name] = _kappa_metric(joint, weight_matrix(q, weights), name, weights, conf)
    confusion = Confusion(first, second, list(t.categories), joint.astype(int).tolist())
    binary = _binary_indices(joint) if q == 2 else None
    return PairResult((first, second), n, confusion, metrics, binary)


def _rater_pairs(raters: Raters) -> list[tuple[str, str]]:
    """Every pair of metric raters, then every (human, model) pair, without repeats."""
    metric_pairs = list(itertools.combinations(raters.metric_raters, 2))
    human_model = [(h, m) for m in raters.models for h in raters.humans]
    return list(dict.fromkeys(metric_pairs + human_model))


def _pair_key(pair: tuple[str, str]) -> str:
    return f"pair:{pair[0]}|{pair[1]}"


def _pairwise(work: _Scheme) -> tuple[list[PairResult], list[Stat]]:
    """One :class:`PairResult` per rater pair and the kappa statistics to bootstrap."""
    pairs = _rater_pairs(work.raters)
    results, stats = [], []
    boot_pairs = len(pairs) * work.q * work.q * max(work.table.n_units, 1) <= MAX_BOOT_CELLS
    if not boot_pairs:
        work.notes.append(
            "too many rater pairs for the pairwise bootstrap: pairwise CIs are analytic"
        )
    for pair in pairs:
        results.append(_pair_result(work.table, pair, work.ordered, work.confidence))
        if boot_pairs:
            a, b = (work.codes_of(r) for r in pair)
            stat = pair_stat("cohen_kappa", a, b, work.identity)
            stat.name = _pair_key(pair)
            stats.append(stat)
    return results, stats


# ------------------------------------------------------------------ bootstrap
def _alpha_stats(work: _Scheme) -> list[Stat]:
    """Alpha of the humans and of the humans plus each model (for the paired alpha change)."""
    humans, t = work.raters.humans, work.table
    if not (humans and work.raters.models):
        return []
    stats = []
    if len(humans) >= 2:
        stat = alpha_stat(t.select(humans).counts(), t.level, t.scores)
        stat.name = "alpha:humans"
        stats.append(stat)
    for model in work.raters.models:
        stat = alpha_stat(t.select([*humans, model]).counts(), t.level, t.scores)
        stat.name = f"alpha:+{model}"
        stats.append(stat)
    return stats


def _cluster_count(work: _Scheme, use_clusters: bool) -> int | None:
    """Number of dialogues to resample, or None when units are resampled one by one."""
    t = work.table
    if not (use_clusters and t.clusters is not None):
        return None
    n_clusters = len(set(t.clusters.tolist()))
    if n_clusters >= t.n_units:
        work.notes.append(
            "every unit is its own cluster: the cluster bootstrap equals "
            "the unit bootstrap and is not repeated"
        )
        return None
    return n_clusters


def _bootstrap(
    work: _Scheme, stats: list[Stat], B: int, seed: int, use_clusters: bool
) -> dict[str, Resamples]:
    """The resamples every statistic shares: the jackknife (over dialogues when they are known,
    else over units; it gives the default interval), the bootstrap over units and, when
    dialogues are known, the bootstrap over dialogues."""
    t = work.table
    if not (stats and t.n_units >= 2):
        return {}
    if sum(s.S.shape[1] for s in stats) * t.n_units > 4 * MAX_BOOT_CELLS:
        work.notes.append("too many statistics for the bootstrap: analytic intervals only")
        return {}
    n_clusters = _cluster_count(work, use_clusters)
    boot: dict[str, Resamples] = {}
    if n_clusters is None:
        boot[UNIT_JACKKNIFE_KEY] = leave_one_out(stats, seed=seed)
    elif n_clusters >= 2:
        boot[JACKKNIFE_KEY] = leave_one_out(stats, clusters=t.clusters, seed=seed)
    if B:
        boot["bootstrap"] = replicate(stats, B=B, seed=seed)
        if n_clusters is not None:
            boot["cluster_bootstrap"] = replicate(stats, B=B, seed=seed, clusters=t.clusters)
    return boot


def _boot_interval(values: np.ndarray, res: BootstrapResult, conf: float) -> Interval:
    lo, hi, bad = percentile_ci(values, conf)
    over = "clusters (dialogues)" if res.method == "cluster" else "units"
    return Interval(
        f"percentile bootstrap over {over}",
        (lo, hi),
        B=res.B,
        seed=res.seed,
        degenerate=bad,
        n_clusters=res.n_clusters if res.method == "cluster" else None,
    )


def _jackknife_interval(
    replicates: Replicates, res: JackknifeResult, conf: float
) -> Interval | None:
    values, full = replicates(res), replicates(res.at_full())
    if values is None or full is None:
        return None
    lo, hi, se, df, bad = jackknife_ci(values, float(full[0]), conf)
    method = JACKKNIFE_METHODS[res.method]
    if res.n_groups < res.n_clusters:
        method = GROUPED_METHODS[res.method].format(k=res.n_groups, df=df)
    return Interval(
        method,
        (lo, hi),
        se=se if np.isfinite(se) else None,
        degenerate=bad,
        n_clusters=res.n_clusters if res.method == "cluster" else None,
        df=df,
    )


def _boot_intervals(
    replicates: Replicates,
    boot: Mapping[str, Resamples],
    conf: float,
    bounds: tuple[float, float] = KAPPA_RANGE,
) -> Intervals:
    """Intervals of a function of the resamples: each bootstrap kind, the jackknife, and the
    default (:func:`eval.result.with_default`, clipped to ``bounds``).

    ``replicates(res)`` returns the statistic's value on every resample, or ``None`` when
    ``res`` lacks a needed statistic.
    """
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-NaN replicates
        for label, res in boot.items():
            if isinstance(res, JackknifeResult):
                interval = _jackknife_interval(replicates, res, conf)
                if interval is not None:
                    out[label] = interval
                continue
            values = replicates(res)
            if values is not None:
                out[label] = _boot_interval(values, res, conf)
    return with_default(out, bounds)


def _bounds(name: str) -> tuple[float, float]:
    """The range of a coefficient (its default interval is clipped to it)."""
    base = name.removesuffix("_weighted")
    if base in BOUNDS:
        return BOUNDS[base]
    if any(base.startswith(u) for u in UNBOUNDED_BELOW):
        return (-np.inf, 1.0)
    return KAPPA_RANGE


def _attach_boot(metric: Metric, key: str, boot: Mapping[str, Resamples], conf: float) -> None:
    metric.intervals.update(_boot_intervals(lambda res: res.values.get(key), boot, conf))
    with_default(metric.intervals, _bounds(metric.name))


def _mean_of(keys: Sequence[str]) -> Replicates:
    """Replicates of the mean of several statistics (``None`` when one is missing)."""

    def replicates(res: Resamples) -> np.ndarray | None:
        if not keys or not all(k in res.values for k in keys):
            return None
        return np.nanmean(np.column_stack([res.values[k] for k in keys]), axis=1)

    return replicates


# ------------------------------------------------------------------ human-model
def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _human_human(
    work: _Scheme, kappas: Mapping[tuple[str, str], Metric], boot: Mapping[str, Resamples]
) -> HumanHuman:
    pairs = list(itertools.combinations(work.raters.humans, 2))
    values = [kappas[p].estimate for p in pairs]
    finite = [v for v in values if np.isfinite(v)]
    keys = [_pair_key(p) for p in pairs]
    return HumanHuman(
        pairs=[PairKappa(p, v, kappas[p].n) for p, v in zip(pairs, values, strict=True)],
        kappa_mean=_mean(values),
        kappa_min=min(finite) if finite else None,
        kappa_max=max(finite) if finite else None,
        intervals=_boot_intervals(_mean_of(keys), boot, work.confidence),
    )


def _verdict(ci: tuple[float, float] | None) -> str | None:
    if ci is None:
        return None
    if ci[1] < 0:
        return "below the human-human level"
    if ci[0] > 0:
        return "above the human-human level"
    return "comparable to the human-human level"


def _difference(
    work: _Scheme, model: str, baseline: HumanHuman, boot: Mapping[str, Resamples]
) -> tuple[Difference, MeanKappa]:
    """Paired difference human-model minus human-human kappa (same replicates)."""
    model_keys = [_pair_key((h, model)) for h in work.raters.humans]
    human_keys = [_pair_key(p.raters) for p in baseline.pairs]
    model_mean, human_mean = _mean_of(model_keys), _mean_of(human_keys)

    def replicates(res: Resamples) -> np.ndarray | None:
        hm, hh = model_mean(res), human_mean(res)
        return None if hm is None or hh is None else hm - hh

    diff_intervals = _boot_intervals(replicates, boot, work.confidence, DIFFERENCE_RANGE)
    diff = Difference(float("nan"), diff_intervals)
    return diff, MeanKappa(float("nan"), _boot_intervals(model_mean, boot, work.confidence))


def _within_human_range(mean_kappa: float, baseline: HumanHuman, diff: Difference) -> bool | None:
    """Whether the model's mean kappa lies within the human pairs' range (one pair: whether
    the difference interval covers 0)."""
    lo, hi = baseline.kappa_min, baseline.kappa_max
    if lo is None or hi is None or not np.isfinite(mean_kappa):
        return None
    if sum(np.isfinite(p.kappa) for p in baseline.pairs) > 1:
        return bool(lo <= mean_kappa <= hi)
    ci = diff.ci
    return None if ci is None else bool(ci[0] <= 0 <= ci[1])


def _majority(codes: np.ndarray, q: int) -> tuple[np.ndarray, int]:
    """Plurality label per unit (-1 when no rating or a tie) and the number of ties."""
    counts = np.zeros((len(codes), q), dtype=int)
    rows, cols = np.nonzero(codes >= 0)
    np.add.at(counts, (rows, codes[rows, cols]), 1)
    top = counts.max(axis=1) if q else np.zeros(len(codes), dtype=int)
    n_top = (counts == top[:, None]).sum(axis=1)
    rated = top > 0
    tie = rated & (n_top > 1)
    out = np.where(rated & ~tie, counts.argmax(axis=1), -1)
    return out, int(tie.sum())


def _majority_kappa(work: _Scheme, model: str) -> MajorityKappa:
    human_codes = work.table.select(work.raters.humans).codes
    majority, n_ties = _majority(human_codes, work.q)
    joint = pair_joint(work.codes_of(model), majority, work.q).sum(axis=0).reshape(work.q, work.q)
    kappa, se = cohen_se(joint, work.identity)
    ci = wald_interval(kappa, se, work.confidence)
    return MajorityKappa(kappa, int(joint.sum()), n_ties, se, ci)


def _alpha_change(work: _Scheme, model: str, boot: Mapping[str, Resamples]) -> AlphaChange:
    t, humans = work.table, work.raters.humans
    alpha_humans = alpha_value(t.select(humans).counts(), t.level, t.scores)[0]
    with_model = t.select([*humans, model]).counts()
    alpha_with = alpha_value(with_model, t.level, t.scores)[0]

    def replicates(res: Resamples) -> np.ndarray | None:
        if "alpha:humans" not in res.values or _pair_key((humans[0], model)) not in res.values:
            return None
        return res.values[f"alpha:+{model}"] - res.values["alpha:humans"]

    intervals = _boot_intervals(replicates, boot, work.confidence, DIFFERENCE_RANGE)
    return AlphaChange(alpha_humans, alpha_with, intervals)


def _spearman(work: _Scheme, model: str) -> RankCorrelation:
    """Spearman's rho of the model's score and the mean human score (ordered levels)."""
    t = work.table
    scores = t.scores if t.scores is not None else np.arange(work.q, dtype=float)
    human_codes = t.select(work.raters.humans).codes
    human_x = np.where(human_codes >= 0, scores[np.clip(human_codes, 0, None)], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        human_mean = np.nanmean(human_x, axis=1)
    model_codes = work.codes_of(model)
    model_x = np.where(model_codes >= 0, scores[np.clip(model_codes, 0, None)], np.nan)
    ok = np.isfinite(human_mean) & np.isfinite(model_x)
    rho = float("nan")
    if ok.sum() >= 3 and np.ptp(human_mean[ok]) > 0 and np.ptp(model_x[ok]) > 0:
        rho = float(sstats.spearmanr(human_mean[ok], model_x[ok]).statistic)
    return RankCorrelation(rho, int(ok.sum()))


def _model_comparison(
    work: _Scheme,
    model: str,
    pairs: Mapping[tuple[str, str], PairResult],
    baseline: HumanHuman,
    boot: Mapping[str, Resamples],
) -> ModelComparison:
    humans = work.raters.humans
    by_human = {h: pairs[(h, model)].kappa for h in humans}
    mean_kappa = _mean([m.estimate for m in by_human.values()])
    diff, hm_kappa = _difference(work, model, baseline, boot)
    hm_kappa.estimate, hm_kappa.n = mean_kappa, [m.n for m in by_human.values()]
    comparison = ModelComparison(
        kappa_by_human=by_human,
        human_model_kappa=hm_kappa,
        majority_kappa=_majority_kappa(work, model),
        alpha=_alpha_change(work, model, boot),
    )
    if baseline.pairs:
        diff.estimate = mean_kappa - baseline.kappa_mean
        diff.verdict = _verdict(diff.ci)
        comparison.difference = diff
        comparison.within_human_range = _within_human_range(mean_kappa, baseline, diff)
    if work.ordered:
        comparison.spearman_rho = _spearman(work, model)
        weighted = [pairs[(h, model)].metrics["cohen_kappa_quadratic"].estimate for h in humans]
        comparison.quadratic_kappa = WeightedMeanKappa(
            _mean(weighted), dict(zip(humans, weighted, strict=True))
        )
    return comparison


def _human_model(
    work: _Scheme, pairs: list[PairResult], boot: Mapping[str, Resamples]
) -> HumanModel | None:
    raters = work.raters
    if not (raters.humans and raters.models):
        return None
    by_pair = {p.raters: p for p in pairs}
    kappas = {k: p.kappa for k, p in by_pair.items()}
    baseline = _human_human(work, kappas, boot)
    by_model = {m: _model_comparison(work, m, by_pair, baseline, boot) for m in raters.models}
    return HumanModel(list(raters.humans), list(raters.models), baseline, by_model)


# ------------------------------------------------------------------ one vs rest
def _category_coefficient(kind: str, counts: np.ndarray, conf: float) -> CategoryCoefficient:
    estimate, se, n = gwet_family_se(kind, counts, np.eye(2))
    return CategoryCoefficient(estimate, n, t_interval(estimate, se, n, conf))


def _prevalence(binary: np.ndarray, raters: Sequence[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for j, rater in enumerate(raters):
        rated = binary[:, j] >= 0
        out[rater] = float((binary[:, j] == 1).sum() / rated.sum()) if rated.any() else None
    return out


def _one_category(work: _Scheme, k: int) -> CategoryResult:
    codes = work.metric_table.codes
    binary = np.where(codes < 0, -1, (codes == k).astype(int))
    counts = np.zeros((len(binary), 2), dtype=int)
    rows, cols = np.nonzero(binary >= 0)
    np.add.at(counts, (rows, binary[rows, cols]), 1)
    result = CategoryResult(
        category=work.table.categories[k],
        fleiss_kappa=_category_coefficient("fleiss_kappa", counts, work.confidence),
        gwet_ac1=_category_coefficient("gwet_ac", counts, work.confidence),
        krippendorff_alpha=alpha_value(counts, "nominal", None)[0],
        prevalence=_prevalence(binary, work.raters.metric_raters),
    )
    if work.n_metric_raters == 2:
        joint = pair_joint(binary[:, 0], binary[:, 1], 2).sum(axis=0).reshape(2, 2)
        kappa, se = cohen_se(joint, np.eye(2))
        ci = wald_interval(kappa, se, work.confidence)
        result.cohen_kappa = CategoryCoefficient(kappa, int(joint.sum()), ci)
        result.binary = _binary_indices(joint)
    return result


def _one_vs_rest(work: _Scheme) -> list[CategoryResult]:
    """Each category against the rest (schemes with more than two categories)."""
    if work.q <= 2 or work.n_metric_raters < 2:
        return []
    return [_one_category(work, k) for k in range(work.q)]


# ------------------------------------------------------------------ coverage notes
def coverage_note(n_dialogues: int | None, rarest: int | None) -> str | None:
    """The sentence beside an interval where ``benchmarks/coverage.py`` found no reliable one.

    ``n_dialogues`` is the number of dialogues (None when unknown); ``rarest`` the number of
    ratings of the least used category that was used. The thresholds are the study's: with
    fewer than :data:`FEW_DIALOGUES` dialogues only an interval about as wide as the
    coefficient's range covers 95%, and with fewer than :data:`RARE_RATINGS` ratings of a
    category no interval covered 93% (docs/eval.md, "Which interval is the default").

    Examples
    --------
    >>> coverage_note(2, 40)[:40]
    'only 2 dialogues: the interval allows fo'
    >>> coverage_note(20, 40) is None
    True
    """
    notes = []
    if n_dialogues is not None and n_dialogues < FEW_DIALOGUES:
        notes.append(
            f"only {n_dialogues} dialogue{'s' if n_dialogues != 1 else ''}: the interval allows "
            "for dependence within dialogues and is wide; with fewer than "
            f"{FEW_DIALOGUES} no narrower interval covered 93% in edudial's coverage study"
        )
    if rarest is not None and 0 < rarest < RARE_RATINGS:
        notes.append(
            f"the rarest category has only {rarest} rating{'s' if rarest != 1 else ''}: with "
            f"fewer than {RARE_RATINGS} no interval covered 93% in edudial's coverage study; "
            "read the interval as approximate"
        )
    return "; ".join(notes) + " (docs/eval.md)" if notes else None


def _scheme_coverage_note(work: _Scheme, use_clusters: bool) -> str | None:
    t = work.table
    dialogues = None
    if use_clusters and t.clusters is not None:
        dialogues = len(set(t.clusters.tolist()))
    used = work.counts().sum(axis=0)
    used = used[used > 0]
    rarest = int(used.min()) if len(used) >= 2 else None
    return coverage_note(dialogues, rarest)


def _flag(result: SchemeResult, note: str | None) -> None:
    """Put the coverage note beside every interval of the scheme's results."""
    if note is None:
        return
    flagged: list[Any] = list(result.metrics.values())
    flagged += [m for pair in result.pairwise for m in pair.metrics.values()]
    hm = result.human_model
    if hm is not None:
        flagged.append(hm.human_human)
        for comparison in hm.by_model.values():
            flagged += [comparison.human_model_kappa, comparison.alpha]
            if comparison.difference is not None:
                flagged.append(comparison.difference)
    for item in flagged:
        if item.intervals:
            item.coverage_note = note


# ------------------------------------------------------------------ the chain
def check_weights(weights: WeightSpec | None, table: RatingTable) -> WeightSpec:
    """The weights of a table's weighted coefficients (default quadratic), checked.

    Weights only make sense for ordered categories: asking for them on a nominal scheme is an
    :class:`~toolkit.errors.InputError`, never silently ignored.

    Examples
    --------
    >>> import numpy as np
    >>> t = RatingTable("s", ["a"], ["X", "Y"], ["lo", "hi"], np.array([[0, 1]]))
    >>> check_weights(None, t)
    'quadratic'
    >>> check_weights("linear", t)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    toolkit.errors.InputError: scheme 's' is nominal: linear weights need ordered categories; ...
    """
    if weights is None:
        return "quadratic"
    if isinstance(weights, str) and weights not in WEIGHTS[1:]:
        raise InputError(
            f"weights must be one of {', '.join(WEIGHTS[1:])} or a q x q matrix, got {weights!r}"
        )
    if table.level == "nominal":
        name = weights if isinstance(weights, str) else "custom"
        raise InputError(
            f"scheme {table.scheme!r} is nominal: {name} weights need ordered categories; pass "
            "--level ordinal (or interval, ratio) with the categories in codebook order, or "
            "leave out --weights"
        )
    weight_matrix(table.q, weights)  # a custom matrix must fit the declared categories
    return weights


def scheme_agreement(
    table: RatingTable,
    *,
    humans: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    weights: WeightSpec | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    use_clusters: bool = True,
    confidence: float = 0.95,
    icc_form: str = "ICC(A,1)",
) -> SchemeResult:
    """All coefficients, intervals, pairwise tables and the human-model comparison of one table.

    See :func:`agreement` for the parameters; ``use_clusters`` adds the cluster bootstrap when
    the table knows each unit's cluster. Weights given for a nominal table are an error.

    Examples
    --------
    >>> import numpy as np
    >>> t = RatingTable("s", ["a", "b", "c"], ["X", "Y"], ["0", "1"],
    ...                 np.array([[0, 0], [1, 1], [1, 0]]))
    >>> res = scheme_agreement(t, bootstrap=0)
    >>> round(res.metrics["cohen_kappa"].estimate, 4), res.pairwise[0].confusion.counts
    (0.4, [[1, 0], [1, 1]])
    """
    spec = check_weights(weights, table)
    work = _prepare(table, choose_raters(table, humans, models), spec, confidence)
    coefficients = _coefficients(work, icc_form)
    pairs, pair_stats = _pairwise(work)
    scheme_stats = []
    for name, coefficient in coefficients.items():
        if coefficient.stat is not None:
            coefficient.stat.name = name
            scheme_stats.append(coefficient.stat)
    boot = _bootstrap(
        work, [*scheme_stats, *pair_stats, *_alpha_stats(work)], bootstrap, seed, use_clusters
    )
    for name, coefficient in coefficients.items():
        if coefficient.stat is not None:
            _attach_boot(coefficient.metric, name, boot, confidence)
        with_default(coefficient.metric.intervals, _bounds(name))
    for pair in pairs:
        _attach_boot(pair.kappa, _pair_key(pair.raters), boot, confidence)
        for metric in pair.metrics.values():
            with_default(metric.intervals, _bounds(metric.name))
    result = SchemeResult(
        scheme=work.table.scheme,
        n_units=work.table.n_units,
        raters=list(work.table.raters),
        humans=work.raters.humans,
        models=work.raters.models,
        categories=list(work.table.categories),
        level=work.table.level,
        metrics={name: c.metric for name, c in coefficients.items()},
        pairwise=pairs,
        per_category=_one_vs_rest(work),
        human_model=_human_model(work, pairs, boot),
        conventions=_scheme_conventions(work, bootstrap, seed, sorted(boot)),
        notes=work.notes + _category_notes(work.table),
    )
    _flag(result, _scheme_coverage_note(work, use_clusters))
    return result


def _category_notes(table: RatingTable) -> list[str]:
    if table.categories_source.startswith("observed"):
        return [
            "categories were inferred from the observed labels; declare the codebook "
            "(--categories) so unused categories count"
        ]
    return []


def _scheme_conventions(work: _Scheme, B: int, seed: int, methods: list[str]) -> SchemeConventions:
    t = work.table
    return SchemeConventions(
        level=t.level,
        categories=list(t.categories),
        categories_source=t.categories_source,
        weights=work.weights_name,
        weight_values=None if isinstance(work.weights, str) else work.weight_matrix().tolist(),
        metrics_raters=list(work.raters.metric_raters),
        confidence=work.confidence,
        bootstrap_B=B,
        seed=seed,
        bootstrap_methods=methods,
    )


# ------------------------------------------------------------------ many schemes
def _per_scheme(value: Any, scheme: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(scheme)
    return value


def _scheme_meta(sub: pd.DataFrame, key: str) -> Any:
    if "meta" not in sub.columns or len(sub) == 0:
        return None
    meta = sub["meta"].iloc[0]
    return meta.get(key) if isinstance(meta, dict) else None


def _unwrap(annotations: Any, cluster: Any) -> tuple[pd.DataFrame, Mapping[Any, Any] | None]:
    """The annotations frame and the unit -> dialogue map of a corpus (if one was passed)."""
    corpus_map = None
    if hasattr(annotations, "annotations") and hasattr(annotations, "unit_dialogues"):
        corpus_map = annotations.unit_dialogues() if cluster == "dialogue" else None
        annotations = annotations.annotations
    if not isinstance(annotations, pd.DataFrame):
        raise InputError("annotations must be a pandas DataFrame or a toolkit.Corpus")
    for col in ("unit_id", "scheme", "label", "rater"):
        if col not in annotations.columns:
            raise InputError(f"annotations lack column {col!r}", field=col)
    return annotations, corpus_map


def _check_options(cluster: Any, bootstrap: int, confidence: float) -> None:
    if not (cluster in ("dialogue", None, "none") or isinstance(cluster, Mapping)):
        raise InputError(f"cluster must be 'dialogue', None or a mapping, got {cluster!r}")
    if bootstrap < 0:
        raise InputError("bootstrap must be 0 or a positive number of replicates")
    if not 0 < confidence < 1:
        raise InputError("confidence must lie between 0 and 1")


def _choose_schemes(annotations: pd.DataFrame, schemes: str | Sequence[str] | None) -> list[str]:
    available = [str(s) for s in pd.unique(annotations["scheme"].dropna())]
    if schemes is None:
        chosen = available
    else:
        chosen = [schemes] if isinstance(schemes, str) else list(schemes)
        unknown = [s for s in chosen if s not in available]
        if unknown:
            raise InputError(
                f"unknown scheme(s) {', '.join(unknown)}; available: {', '.join(available[:20])}"
            )
    if not chosen:
        raise InputError("no annotations to analyse")
    return chosen


def _cluster_map(
    annotations: pd.DataFrame, cluster: Any, corpus_map: Mapping[Any, Any] | None
) -> Mapping[Any, Any] | None:
    """unit -> cluster: given, else the corpus's dialogues, else a ``dialogue_id`` column."""
    if isinstance(cluster, Mapping):
        return cluster
    if cluster != "dialogue":
        return None
    if corpus_map is not None:
        return corpus_map
    if "dialogue_id" in annotations.columns:
        known = annotations.dropna(subset=["dialogue_id"])
        units, dialogues = known["unit_id"].astype(str), known["dialogue_id"].astype(str)
        return dict(zip(units, dialogues, strict=True))
    return None


@dataclass
class _Request:
    """The options of one :func:`agreement` call that every scheme shares."""

    humans: Sequence[str] | None
    models: Sequence[str] | None
    level: str | Mapping[str, str] | None
    categories: Sequence[str] | Mapping[str, Sequence[str]] | None
    clusters: Mapping[Any, Any] | None


def _scheme_table(sub: pd.DataFrame, scheme: str, request: _Request) -> RatingTable:
    level = _per_scheme(request.level, scheme) or _scheme_meta(sub, "level") or "nominal"
    if level not in LEVELS:
        raise InputError(
            f"unknown level {level!r} for scheme {scheme!r}; use one of {', '.join(LEVELS)}"
        )
    categories = None
    if request.categories is not None:
        categories = _per_scheme(request.categories, scheme)
    if categories is None:
        categories = _scheme_meta(sub, "categories")
    raters = None
    humans, models = request.humans or [], request.models or []
    if humans or models:
        present = set(sub["rater"].astype(str))
        missing = [r for r in humans if r not in present]
        if missing:
            raise InputError(f"scheme {scheme!r} has no ratings by {', '.join(missing)}")
        if models:
            raters = [r for r in [*humans, *models] if r in present]
    return ratings_table(
        sub, scheme, categories=categories, level=level, raters=raters, clusters=request.clusters
    )


def _conventions(
    request: _Request, weights: WeightSpec | None, bootstrap: int, seed: int, confidence: float
) -> Conventions:
    level, categories = request.level, request.categories
    if categories is not None and not isinstance(categories, Mapping):
        declared: Any = list(categories)
    elif categories:
        declared = {k: list(v) for k, v in categories.items()}
    else:
        declared = "per scheme (see schemes)"
    return Conventions(
        B=bootstrap,
        seed=seed,
        confidence=confidence,
        cluster="dialogue" if request.clusters is not None else None,
        level=level if isinstance(level, str) else (dict(level) if level else "nominal"),
        categories=declared,
        weights="quadratic"
        if weights is None
        else weights
        if isinstance(weights, str)
        else "custom",
    )


def agreement(
    annotations: Any,
    schemes: str | Sequence[str] | None = None,
    *,
    humans: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    level: str | Mapping[str, str] | None = None,
    categories: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    weights: WeightSpec | None = None,
    bootstrap: int = 1000,
    cluster: str | Mapping[Any, Any] | None = "dialogue",
    seed: int = 0,
    confidence: float = 0.95,
    icc_form: str = "ICC(A,1)",
) -> AgreementResult:
    """Inter-rater reliability and human-model agreement for each scheme.

    Parameters
    ----------
    annotations : pandas.DataFrame or toolkit.Corpus
        Long annotations (``unit_id, scheme, label, rater[, rater_kind, corpus]``). A corpus also
        provides the dialogue of each unit for the cluster bootstrap.
    schemes : str or list of str, optional
        Schemes to analyse (default: all, in order of appearance).
    humans, models : list of str, optional
        Rater names; default from ``rater_kind``. Scheme-level metrics use the humans when there
        are any (IRR); models are compared with them in ``human_model``.
    level : str or dict, optional
        Level of measurement (``nominal``, ``ordinal``, ``interval``, ``ratio``), one for all
        schemes or per scheme. Default: the scheme's ``meta["level"]``, else ``nominal``.
    categories : list or dict, optional
        Declared categories in codebook order (all schemes or per scheme). Default: the scheme's
        ``meta["categories"]``, else ``["0", "1"]`` for 0/1 labels, numeric labels in numeric
        order, or (nominal only) the sorted observed labels -- recorded in the conventions.
    weights : str or array, optional
        Weights of AC2 and of the other weighted coefficients (``*_weighted``) for ordered
        levels: ``quadratic`` (default), ``linear``, Gwet's ``ordinal``, ``radical``, ``ratio``,
        ``circular``, ``bipolar``, or a q x q matrix (:func:`eval.coefficients.read_weights`).
        Weighted Cohen's kappa is reported with linear and quadratic weights. Passing weights
        for a nominal scheme is an error.
    bootstrap : int
        Replicates B of the percentile bootstraps (0 = analytic intervals only).
    cluster : "dialogue", None or mapping
        ``"dialogue"`` also resamples whole dialogues, known from a corpus or a ``dialogue_id``
        column; a mapping ``unit_id`` or ``(corpus, unit_id)`` -> cluster id gives the clusters
        directly; ``None`` resamples units only.
    seed : int
        Seed: the same seed gives the same intervals.
    confidence : float
        Confidence level of every interval.
    icc_form : str
        ICC form reported as ``icc`` (interval/ratio levels); all forms are kept in its info.

    Returns
    -------
    AgreementResult
        One typed :class:`~eval.result.SchemeResult` per scheme (see :mod:`eval.result`).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(u, r, l) for u, labs in enumerate(["aab", "bbb", "aaa", "abb", "aaa"])
    ...         for r, l in zip("XYZ", labs)]
    >>> a = pd.DataFrame(rows, columns=["unit_id", "rater", "label"]).assign(scheme="s")
    >>> res = agreement(a, bootstrap=200, seed=1)
    >>> round(res["s"].metrics["fleiss_kappa"].estimate, 4)
    0.4444
    """
    _check_options(cluster, bootstrap, confidence)
    frame, corpus_map = _unwrap(annotations, cluster)
    chosen = _choose_schemes(frame, schemes)
    clusters = _cluster_map(frame, cluster, corpus_map)
    request = _Request(humans, models, level, categories, clusters)
    results = []
    for scheme in chosen:
        table = _scheme_table(frame[frame["scheme"] == scheme], scheme, request)
        scheme_models = [r for r in (models or []) if r in table.raters] if models else None
        if models and not scheme_models:
            raise InputError(f"scheme {scheme!r} has none of the models {', '.join(models)}")
        results.append(
            scheme_agreement(
                table,
                humans=humans,
                models=scheme_models,
                weights=weights,
                bootstrap=bootstrap,
                seed=seed,
                use_clusters=clusters is not None,
                confidence=confidence,
                icc_form=icc_form,
            )
        )
    if cluster == "dialogue" and clusters is None and bootstrap:
        for r in results:
            r.notes.append(
                "no dialogue of each unit is known (pass a corpus, a dialogue_id "
                "column or cluster=): intervals resample units only"
            )
    return AgreementResult(results, _conventions(request, weights, bootstrap, seed, confidence))
