"""Typed agreement results, from the coefficients to the report.

Every result is a dataclass with ``to_dict()`` giving the JSON contract of ``docs/eval.md`` (NaN
becomes ``None`` through :func:`toolkit.jsonvalue.plain`). The report (:mod:`eval.reporting`)
reads these objects, never the JSON. The pieces:

* :class:`Interval` -- one confidence interval (analytic, jackknife or bootstrap);
  :func:`primary` picks the one a table shows (:func:`default_interval`: the wider of the
  analytic and the jackknife-t intervals, as the coverage study chose).
* :class:`Metric` -- a coefficient with all its intervals (``SchemeResult.metrics``).
* :class:`PairResult` -- one rater pair: confusion matrix, Cohen's kappa, percent agreement,
  binary indices (``SchemeResult.pairwise``).
* :class:`CategoryResult` -- one category against the rest (``SchemeResult.per_category``).
* :class:`HumanModel` with :class:`HumanHuman` and one :class:`ModelComparison` per model
  (``SchemeResult.human_model``).
* :class:`SchemeResult`, :class:`AgreementResult` with their conventions, and
  :func:`families` / :func:`main_metric` shared by the JSON and the report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.jsonvalue import plain

if TYPE_CHECKING:  # eval.validity imports the coefficient modules, which import this one
    from eval.headline import Headline
    from eval.validity import ValidityResult

__all__ = [
    "ANALYTIC_TEXT",
    "MISSING_POLICY",
    "PRIMARY_ORDER",
    "PRIMARY_TEXT",
    "TIE_RULE",
    "AgreementResult",
    "AlphaChange",
    "BinaryIndices",
    "CategoryCoefficient",
    "CategoryResult",
    "Confusion",
    "Conventions",
    "Difference",
    "Estimate",
    "FamilyRow",
    "HumanHuman",
    "HumanModel",
    "Interval",
    "MajorityKappa",
    "MeanKappa",
    "Metric",
    "ModelComparison",
    "PairKappa",
    "PairResult",
    "RankCorrelation",
    "SchemeConventions",
    "SchemeResult",
    "WeightedMeanKappa",
    "ZeroTest",
    "default_interval",
    "families",
    "main_metric",
    "primary",
    "with_default",
]

MISSING_POLICY = (
    "missing ratings are not a category; two-rater coefficients use pairwise deletion (units "
    "rated by both); multi-rater coefficients use all units with >= 2 ratings for observed "
    "agreement and >= 1 rating for prevalences (Gwet); Krippendorff's alpha uses pairable values "
    "(units with >= 2 ratings); ICC uses units rated by every rater"
)
TIE_RULE = (
    "majority = the most frequent human label (strict plurality) among the humans who rated the "
    "unit; ties -> unit dropped (counted in n_ties)"
)
DEFAULT_KEY = "default"
JACKKNIFE_KEYS: tuple[str, ...] = ("cluster_jackknife", "jackknife")
PRIMARY_ORDER: tuple[str, ...] = (
    DEFAULT_KEY,
    *JACKKNIFE_KEYS,
    "analytic",
    "bootstrap",
    "cluster_bootstrap",
)
PRIMARY_TEXT = (
    "the wider of the analytic interval and the delete-one-dialogue jackknife-t interval "
    "(delete-one-unit when dialogues are unknown), clipped to the coefficient's range; chosen "
    "by the coverage study in docs/eval.md (the percentile cluster bootstrap covered 52% with "
    "two dialogues); statistics without an analytic variance use the jackknife alone"
)
ANALYTIC_TEXT = (
    "Cohen: Fleiss-Cohen-Everitt 1969 (Wald); Gwet family and alpha: Gwet design-based variance "
    "(t); ICC: exact F"
)
HUMAN_MODEL_DEFINITION = (
    "human_model_kappa = mean over humans of Cohen's kappa(H_i, M) with pairwise deletion "
    "(SIGHT); human_human_kappa = mean pairwise kappa among humans"
)
DIFFERENCE_DEFINITION = "human_model_kappa - human_human_kappa (same replicates)"
WALD_METHOD = "Fleiss-Cohen-Everitt 1969 asymptotic SE, Wald"
# the coefficient a one-line summary shows: Cohen's kappa for two raters, else alpha, else Fleiss
MAIN_METRICS: tuple[str, ...] = ("cohen_kappa", "krippendorff_alpha", "fleiss_kappa")

CI = tuple[float, float]


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


# ------------------------------------------------------------------ intervals
@dataclass
class Interval:
    """One confidence interval.

    Analytic intervals carry ``se`` (``None`` for Wilson and exact-F intervals); bootstrap
    intervals carry the replicates ``B``, the ``seed``, the number of ``degenerate`` replicates
    and, for the cluster bootstrap, ``n_clusters``.

    Examples
    --------
    >>> Interval("Wilson score", (0.5, 0.9)).to_dict()
    {'method': 'Wilson score', 'se': None, 'ci': [0.5, 0.9]}
    """

    method: str
    ci: CI
    se: float | None = None
    B: int | None = None
    seed: int | None = None
    degenerate: int | None = None
    n_clusters: int | None = None
    df: int | None = None

    @property
    def is_bootstrap(self) -> bool:
        return self.B is not None

    def finite(self) -> bool:
        """Both bounds are numbers (a NaN bound means the interval is undefined)."""
        return all(_finite(v) for v in self.ci)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if not self.is_bootstrap:
            out.update(se=self.se, ci=list(self.ci))
            if self.df is not None:
                out.update(df=self.df, n_clusters=self.n_clusters, degenerate=self.degenerate)
            return plain(out)
        out.update(ci=list(self.ci), B=self.B, seed=self.seed, degenerate=self.degenerate)
        if self.n_clusters is not None:
            out["n_clusters"] = self.n_clusters
        return plain(out)


Intervals = dict[str, Interval]


def default_interval(
    intervals: Mapping[str, Interval], bounds: tuple[float, float] = (-math.inf, 1.0)
) -> Interval | None:
    """The default interval: the wider of the analytic and the jackknife-t intervals.

    Either alone can be too narrow: the analytic one ignores dependence inside dialogues, the
    jackknife's variance is noisy with few dialogues. Taking the union covered 93-98% in
    every cell of ``benchmarks/coverage.py`` where some method could (docs/eval.md). The bounds
    are the coefficient's range (kappa is at most 1). ``None`` when neither is finite.

    Examples
    --------
    >>> a = Interval("analytic", (0.2, 0.6), se=0.1)
    >>> j = Interval("jackknife", (0.1, 1.3), se=0.3, df=4)
    >>> d = default_interval({"analytic": a, "cluster_jackknife": j})
    >>> d.ci, d.method
    ((0.1, 1.0), 'wider of analytic and jackknife')
    """
    jackknife = next((intervals[k] for k in JACKKNIFE_KEYS if k in intervals), None)
    parts = [i for i in (intervals.get("analytic"), jackknife) if i is not None and i.finite()]
    if not parts:
        return None
    lo = max(min(p.ci[0] for p in parts), bounds[0])
    hi = min(max(p.ci[1] for p in parts), bounds[1])
    method = (
        parts[0].method if len(parts) == 1 else f"wider of {parts[0].method} and {parts[1].method}"
    )
    n_clusters = jackknife.n_clusters if jackknife is not None else None
    return Interval(method, (float(lo), float(hi)), n_clusters=n_clusters)


def with_default(intervals: Intervals, bounds: tuple[float, float] = (-math.inf, 1.0)) -> Intervals:
    """``intervals`` with the :func:`default_interval` added under ``default`` (when defined)."""
    chosen = default_interval(intervals, bounds)
    if chosen is not None:
        intervals[DEFAULT_KEY] = chosen
    return intervals


def primary(intervals: Mapping[str, Interval]) -> Interval | None:
    """The interval a table shows: the first finite one in :data:`PRIMARY_ORDER`.

    Examples
    --------
    >>> analytic = Interval("Wald", (0.1, 0.5), se=0.1)
    >>> primary({"analytic": analytic, "bootstrap": Interval("b", (0.2, 0.6), B=9)}).method
    'Wald'
    """
    for key in PRIMARY_ORDER:
        interval = intervals.get(key)
        if interval is not None and interval.finite():
            return interval
    return None


class _PrimaryMixin:
    """``ci`` and ``ci_method`` of the primary interval of ``self.intervals``, and the
    ``coverage_note`` that says when the coverage study found no reliable interval."""

    intervals: Intervals
    coverage_note: str | None

    @property
    def ci(self) -> CI | None:
        chosen = primary(self.intervals)
        return None if chosen is None else (float(chosen.ci[0]), float(chosen.ci[1]))

    @property
    def ci_method(self) -> str | None:
        chosen = primary(self.intervals)
        return None if chosen is None else chosen.method

    def _intervals_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() for k, v in self.intervals.items()}

    def _note_dict(self) -> dict[str, Any]:
        return {"coverage_note": self.coverage_note} if self.coverage_note else {}


@dataclass
class Estimate(_PrimaryMixin):
    """A point estimate with every interval computed (``ci`` is the primary one)."""

    estimate: float
    intervals: Intervals = field(default_factory=dict)
    coverage_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "estimate": self.estimate,
                "intervals": self._intervals_dict(),
                "ci": self.ci,
                "ci_method": self.ci_method,
                **self._note_dict(),
            }
        )


@dataclass
class ZeroTest:
    """Test of H0 "agreement is zero" (no agreement beyond chance).

    ``statistic`` = estimate / SE, compared with the normal distribution (``df`` None) or
    t(df); ``p_value`` is two-sided, ``p_value_one_sided`` for H1 "agreement above chance".
    """

    statistic: float
    p_value: float
    p_value_one_sided: float
    se: float
    df: int | None
    method: str

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "z": self.statistic,
                "p_value": self.p_value,
                "p_value_one_sided": self.p_value_one_sided,
                "se": self.se,
                "distribution": "normal" if self.df is None else f"t({self.df})",
                "method": self.method,
            }
        )


@dataclass
class Metric(_PrimaryMixin):
    """One coefficient with its intervals.

    ``ci`` is the primary interval (``default``: the wider of the analytic and the jackknife-t
    intervals, see :func:`primary`); ``intervals`` keeps every interval computed, keyed
    ``default``, ``analytic``, ``cluster_jackknife`` (or ``jackknife`` over units),
    ``bootstrap`` and ``cluster_bootstrap``. ``info``
    holds coefficient-specific facts written beside the estimate (``raters``, ``weights``,
    ``level``, ICC ``forms``, ...). ``p_e`` is the chance agreement of chance-corrected
    coefficients and ``test`` the test of "agreement is zero" (JSON ``test_zero``).
    """

    name: str
    estimate: float
    n: int
    se: float | None = None
    intervals: Intervals = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    p_e: float | None = None
    test: ZeroTest | None = None
    coverage_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "ci": self.ci,
            "ci_method": self.ci_method,
            **self._note_dict(),
            "se": self.se,
            "n": self.n,
        }
        out.update(self.info)
        out["intervals"] = self._intervals_dict()
        if self.note:
            out["note"] = self.note
        if self.p_e is not None:
            out["p_e"] = self.p_e
        if self.test is not None:
            out["test_zero"] = self.test.to_dict()
        return plain(out)


# ------------------------------------------------------------------ pairwise
@dataclass
class Confusion:
    """Confusion matrix of a rater pair: ``counts[i][j]`` = units ``rows`` put in category i and
    ``columns`` in category j (declared order)."""

    rows: str
    columns: str
    categories: list[str]
    counts: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "rows": self.rows,
                "columns": self.columns,
                "categories": self.categories,
                "counts": self.counts,
            }
        )


@dataclass
class BinaryIndices:
    """Prevalence and bias indices of a 2 x 2 table (Byrt, Bishop & Carlin 1993) and PABAK."""

    prevalence_index: float
    bias_index: float
    positive_rate: tuple[float, float]
    pabak: float

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "prevalence_index": self.prevalence_index,
                "bias_index": self.bias_index,
                "positive_rate": list(self.positive_rate),
                "pabak": self.pabak,
            }
        )


@dataclass
class PairResult:
    """Agreement of one rater pair (``raters[0]`` = rows of the confusion matrix).

    ``metrics`` holds ``cohen_kappa``, ``percent_agreement`` and, for ordered levels,
    ``cohen_kappa_linear`` and ``cohen_kappa_quadratic``; ``binary`` is set for two categories.
    """

    raters: tuple[str, str]
    n: int
    confusion: Confusion
    metrics: dict[str, Metric]
    binary: BinaryIndices | None = None

    @property
    def kappa(self) -> Metric:
        return self.metrics["cohen_kappa"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "raters": list(self.raters),
            "n": self.n,
            "confusion": self.confusion.to_dict(),
        }
        if self.binary is not None:
            out.update(self.binary.to_dict())
        out["metrics"] = {k: m.to_dict() for k, m in self.metrics.items()}
        return plain(out)


# ------------------------------------------------------------------ one vs rest
@dataclass
class CategoryCoefficient:
    """A one-vs-rest coefficient: estimate, units used and its analytic interval."""

    estimate: float
    n: int
    ci: CI

    def to_dict(self) -> dict[str, Any]:
        return plain({"estimate": self.estimate, "n": self.n, "ci": list(self.ci)})


@dataclass
class CategoryResult:
    """One category against all others (schemes with more than two categories).

    ``prevalence`` is each metric rater's share of ratings in the category; ``cohen_kappa`` and
    ``binary`` are set with exactly two metric raters.
    """

    category: str
    fleiss_kappa: CategoryCoefficient
    gwet_ac1: CategoryCoefficient
    krippendorff_alpha: float
    prevalence: dict[str, float | None]
    cohen_kappa: CategoryCoefficient | None = None
    binary: BinaryIndices | None = None

    @property
    def kappa(self) -> CategoryCoefficient:
        """Cohen's kappa with two raters, else Fleiss' kappa."""
        return self.cohen_kappa or self.fleiss_kappa

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "fleiss_kappa": self.fleiss_kappa.to_dict(),
            "gwet_ac1": self.gwet_ac1.to_dict(),
            "krippendorff_alpha": {"estimate": self.krippendorff_alpha},
            "prevalence": self.prevalence,
        }
        if self.cohen_kappa is not None:
            out["cohen_kappa"] = self.cohen_kappa.to_dict()
        if self.binary is not None:
            out.update(self.binary.to_dict())
        return plain(out)


# ------------------------------------------------------------------ human-model
@dataclass
class PairKappa:
    """Cohen's kappa of one human pair."""

    raters: tuple[str, str]
    kappa: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return plain({"raters": list(self.raters), "kappa": self.kappa, "n": self.n})


@dataclass
class HumanHuman(_PrimaryMixin):
    """Pairwise kappas among the humans: mean (with paired bootstrap intervals), min and max."""

    pairs: list[PairKappa]
    kappa_mean: float
    kappa_min: float | None
    kappa_max: float | None
    intervals: Intervals = field(default_factory=dict)
    coverage_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "pairs": [p.to_dict() for p in self.pairs],
                "kappa_mean": self.kappa_mean,
                "kappa_min": self.kappa_min,
                "kappa_max": self.kappa_max,
                "intervals": self._intervals_dict(),
                "ci": self.ci,
                "ci_method": self.ci_method,
                **self._note_dict(),
            }
        )


@dataclass
class MeanKappa(Estimate):
    """Human-model kappa: the mean over humans of kappa(H_i, M); ``n`` per human."""

    n: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return plain({**super().to_dict(), "n": self.n})


@dataclass
class Difference(Estimate):
    """Human-model minus human-human kappa on the same replicates, with a verdict."""

    verdict: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(definition=DIFFERENCE_DEFINITION, verdict=self.verdict)
        return plain(out)


@dataclass
class MajorityKappa:
    """Kappa of the model against the human plurality label (ties dropped, counted)."""

    estimate: float
    n: int
    n_ties: int
    se: float
    ci: CI

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "estimate": self.estimate,
                "n": self.n,
                "n_ties": self.n_ties,
                "se": self.se,
                "ci": list(self.ci),
                "ci_method": WALD_METHOD,
                "tie_rule": TIE_RULE,
            }
        )


@dataclass
class AlphaChange(_PrimaryMixin):
    """Krippendorff's alpha of the humans and of the humans plus the model; ``delta`` has
    paired bootstrap intervals."""

    humans: float
    humans_plus_model: float
    intervals: Intervals = field(default_factory=dict)
    coverage_note: str | None = None

    @property
    def delta(self) -> float:
        return self.humans_plus_model - self.humans

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "humans": self.humans,
                "humans_plus_model": self.humans_plus_model,
                "delta": self.delta,
                "intervals": self._intervals_dict(),
                "ci": self.ci,
                "ci_method": self.ci_method,
                **self._note_dict(),
            }
        )


@dataclass
class RankCorrelation:
    """Spearman's rho of the model's score against the mean human score (ordered levels)."""

    estimate: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return plain({"estimate": self.estimate, "n": self.n, "against": "mean human score"})


@dataclass
class WeightedMeanKappa:
    """Mean over humans of quadratic-weighted kappa(H_i, M) (ordered levels)."""

    estimate: float
    by_human: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return plain({"estimate": self.estimate, "by_human": self.by_human})


@dataclass
class ModelComparison:
    """One model against the humans.

    ``kappa_by_human`` are the pairwise kappa metrics (H_i, M); ``difference`` and
    ``within_human_range`` need two or more humans; ``spearman_rho`` and ``quadratic_kappa``
    are set for ordered levels.
    """

    kappa_by_human: dict[str, Metric]
    human_model_kappa: MeanKappa
    majority_kappa: MajorityKappa
    alpha: AlphaChange
    difference: Difference | None = None
    within_human_range: bool | None = None
    spearman_rho: RankCorrelation | None = None
    quadratic_kappa: WeightedMeanKappa | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kappa_by_human": {
                h: {
                    "estimate": m.estimate,
                    "n": m.n,
                    "ci": m.ci,
                    "ci_method": m.ci_method,
                    **m._note_dict(),
                }
                for h, m in self.kappa_by_human.items()
            },
            "human_model_kappa": self.human_model_kappa.to_dict(),
        }
        if self.difference is not None:
            out["difference"] = self.difference.to_dict()
            out["within_human_range"] = self.within_human_range
        out["majority_kappa"] = self.majority_kappa.to_dict()
        out["alpha"] = self.alpha.to_dict()
        if self.spearman_rho is not None:
            out["spearman_rho"] = self.spearman_rho.to_dict()
        if self.quadratic_kappa is not None:
            out["quadratic_kappa"] = self.quadratic_kappa.to_dict()
        return plain(out)


@dataclass
class HumanModel:
    """Human-model agreement of a scheme: the human baseline and one comparison per model."""

    humans: list[str]
    models: list[str]
    human_human: HumanHuman
    by_model: dict[str, ModelComparison]

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "humans": self.humans,
                "models": self.models,
                "definition": HUMAN_MODEL_DEFINITION,
                "tie_rule": TIE_RULE,
                "human_human": self.human_human.to_dict(),
                "by_model": {m: c.to_dict() for m, c in self.by_model.items()},
            }
        )


# ------------------------------------------------------------------ scheme and result
@dataclass
class SchemeConventions:
    """How one scheme was analysed (recorded in every report)."""

    level: str
    categories: list[str]
    categories_source: str
    weights: str
    metrics_raters: list[str]
    confidence: float
    bootstrap_B: int
    seed: int
    bootstrap_methods: list[str]
    weight_values: list[list[float]] | None = None  # a custom weight matrix

    def to_dict(self) -> dict[str, Any]:
        boot = None
        if self.bootstrap_methods:
            boot = {"B": self.bootstrap_B, "seed": self.seed, "methods": self.bootstrap_methods}
        return plain(
            {
                "level": self.level,
                "categories": self.categories,
                "categories_source": self.categories_source,
                "weights": {
                    "unweighted": "identity",
                    "weighted": self.weights,
                    "on": "category positions in the declared order",
                    **({} if self.weight_values is None else {"matrix": self.weight_values}),
                },
                "missing_policy": MISSING_POLICY,
                "metrics_raters": self.metrics_raters,
                "confidence": self.confidence,
                "bootstrap": boot,
            }
        )


@dataclass
class SchemeResult:
    """Agreement results of one scheme (see ``docs/eval.md`` for the JSON layout).

    ``metrics`` are scheme-level coefficients of the metric raters; ``pairwise`` one
    :class:`PairResult` per rater pair; ``per_category`` one :class:`CategoryResult` per
    category (more than two categories); ``human_model`` is ``None`` without humans and models.
    """

    scheme: str
    n_units: int
    raters: list[str]
    humans: list[str]
    models: list[str]
    categories: list[str]
    level: str
    metrics: dict[str, Metric]
    pairwise: list[PairResult]
    per_category: list[CategoryResult]
    human_model: HumanModel | None
    conventions: SchemeConventions
    notes: list[str] = field(default_factory=list)
    #: gold metrics, alternative annotator test, prevalence warning, plan (eval.validity)
    validity: ValidityResult | None = None

    @property
    def headline(self) -> Headline:
        """The coefficient to quote and why (:func:`eval.headline.recommend`, on demand)."""
        from eval.headline import recommend  # it reads SchemeResult: imported when used

        return recommend(self)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(
            {
                "scheme": self.scheme,
                "n_units": self.n_units,
                "raters": self.raters,
                "humans": self.humans,
                "models": self.models,
                "categories": self.categories,
                "level": self.level,
                "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
                "pairwise": [p.to_dict() for p in self.pairwise],
                "per_category": [c.to_dict() for c in self.per_category],
                "human_model": None if self.human_model is None else self.human_model.to_dict(),
                "conventions": self.conventions.to_dict(),
                "notes": self.notes,
            }
        )
        out["headline"] = self.headline.to_dict()  # additive key: the coefficient to quote
        if self.validity is not None:  # additive keys (issue 15): the contract's old keys stay
            gold = self.validity.gold_dict()
            if gold is not None:
                out["gold"] = gold
            out["validity"] = self.validity.to_dict()
        return out


def main_metric(scheme: SchemeResult) -> Metric | None:
    """The coefficient a one-line summary shows (:data:`MAIN_METRICS`, first present).

    Examples
    --------
    >>> import pandas as pd, eval
    >>> a = pd.DataFrame({"unit_id": list("aabb"), "scheme": "s", "rater": list("XYXY"),
    ...                   "label": list("1100")})
    >>> main_metric(eval.agreement(a, bootstrap=0)["s"]).name
    'cohen_kappa'
    """
    for key in MAIN_METRICS:
        if key in scheme.metrics:
            return scheme.metrics[key]
    return None


@dataclass
class FamilyRow:
    """One scheme of a family ``<family>/<category>`` (e.g. SIGHT's nine binary schemes).

    ``irr`` is the scheme's :func:`main_metric`; ``positive_rate`` the first pair's positive
    rates (binary schemes); ``human_model_kappa`` the mean human-model kappa per model.
    """

    category: str
    scheme: str
    n_units: int
    irr: Metric | None
    gwet_ac1: float | None
    positive_rate: tuple[float, float] | None
    human_model_kappa: dict[str, MeanKappa]

    def to_dict(self) -> dict[str, Any]:
        irr = None
        if self.irr is not None:
            m = self.irr
            irr = {"name": m.name, "estimate": m.estimate, "ci": m.ci, "n": m.n}
        return plain(
            {
                "category": self.category,
                "scheme": self.scheme,
                "n_units": self.n_units,
                "irr": irr,
                "gwet_ac1": self.gwet_ac1,
                "positive_rate": self.positive_rate,
                "human_model_kappa": {
                    model: {"estimate": k.estimate, "ci": k.ci}
                    for model, k in self.human_model_kappa.items()
                },
            }
        )


def _family_row(s: SchemeResult) -> FamilyRow:
    binary = s.pairwise[0].binary if s.pairwise and len(s.categories) == 2 else None
    ac1 = s.metrics.get("gwet_ac1")
    return FamilyRow(
        category=s.scheme.split("/", 1)[1],
        scheme=s.scheme,
        n_units=s.n_units,
        irr=main_metric(s),
        gwet_ac1=None if ac1 is None else ac1.estimate,
        positive_rate=None if binary is None else binary.positive_rate,
        human_model_kappa=(
            {}
            if s.human_model is None
            else {m: c.human_model_kappa for m, c in s.human_model.by_model.items()}
        ),
    )


def families(schemes: Sequence[SchemeResult]) -> dict[str, list[FamilyRow]]:
    """Scheme families ``<family>/<category>`` with two or more schemes, one row per scheme.

    The JSON ``families`` and the report's summary tables both come from here.
    """
    out: dict[str, list[FamilyRow]] = {}
    for s in schemes:
        if "/" in s.scheme:
            out.setdefault(s.scheme.split("/", 1)[0], []).append(_family_row(s))
    return {k: v for k, v in out.items() if len(v) >= 2}


@dataclass
class Conventions:
    """Conventions of a whole :func:`eval.agreement` call (the JSON top-level ``conventions``)."""

    B: int
    seed: int
    confidence: float
    cluster: str | None
    level: str | dict[str, str]
    categories: list[str] | dict[str, list[str]] | str
    weights: str
    # the human coding rounds chosen, when the caller selected among several (``edudial irr``)
    rounds: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        extra = {} if self.rounds is None else {"rounds": self.rounds}
        return plain(
            {
                "missing_policy": MISSING_POLICY,
                "tie_rule": TIE_RULE,
                "ci": {
                    "primary": PRIMARY_TEXT,
                    "analytic": ANALYTIC_TEXT,
                    "B": self.B,
                    "seed": self.seed,
                    "confidence": self.confidence,
                    "cluster": self.cluster,
                },
                "level": self.level,
                "categories": self.categories,
                "weights": self.weights,
                **extra,
            }
        )


@dataclass
class AgreementResult:
    """Results for every scheme plus the conventions used (``None`` for a bare scheme)."""

    schemes: list[SchemeResult]
    conventions: Conventions | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "schemes": [s.to_dict() for s in self.schemes],
                "families": {
                    fam: [row.to_dict() for row in rows]
                    for fam, rows in families(self.schemes).items()
                },
                "conventions": {} if self.conventions is None else self.conventions.to_dict(),
            }
        )

    def __getitem__(self, scheme: str) -> SchemeResult:
        for s in self.schemes:
            if s.scheme == scheme:
                return s
        raise KeyError(scheme)
