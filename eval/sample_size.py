"""How many units must people code? Sample size for an agreement coefficient's interval.

The planned study is described by the coefficient (``kappa``, ``alpha`` or ``ac1``), its expected
value, the category prevalences and the number of raters per unit. Units are modelled as a mixture
(the "common correlation" model of Fleiss & Cuzick 1979 and Donner & Eliasziw 1992): with
probability ``a`` every rater of a unit gives the same category, drawn from the prevalences; with
probability ``1 - a`` the raters pick categories independently from the prevalences. Under this
model Fleiss' kappa (and Cohen's kappa with equal marginals) equals ``a``; for AC1 the mixing
weight is solved so that AC1 takes the expected value.

The per-unit standard deviation of the estimate comes from the analytic variance the agreement
engine already has (:mod:`eval.variance`), evaluated at the planned values:

* two raters, ``kappa``: the Fleiss, Cohen & Everitt (1969) large-sample variance on the expected
  table; for a binary code this is ``(1 - k) [(1 - k)(1 - 2k) + k (2 - k) / (2 p (1 - p))]`` per
  unit (Donner & Eliasziw 1992);
* more raters, ``ac1`` and ``alpha``: Gwet's (2014) linearised design-based variance, evaluated on
  an expected sample whose rating patterns follow the model in exact proportion.

The units needed for a two-sided interval of half-width ``w`` are ``n = z^2 sd^2 / w^2``, rounded
up. :func:`simulate_plan` checks the answer with the bootstrap engine on simulated studies.
:func:`cantor_units` is Cantor's (1996) sample size for a one- or two-sided test of kappa, the
formula of R ``irr::N.cohen.kappa``, computed from the same variance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
from scipy import stats

from eval.bootstrap import percentile_ci, replicate
from eval.coefficients import Stat, alpha_stat, family_stat, pair_stat
from eval.data import RatingTable
from eval.variance import cohen_se, gwet_alpha_se, gwet_family_se
from toolkit.errors import InputError

__all__ = [
    "PLAN_METRICS",
    "PilotPlan",
    "PlanResult",
    "SimulationCheck",
    "binary_prevalences",
    "cantor_units",
    "mixing_weight",
    "pilot_plan",
    "plan",
    "simulate_plan",
    "unit_sd",
]

#: Coefficients ``plan`` knows how to size.
PLAN_METRICS: tuple[str, ...] = ("kappa", "alpha", "ac1")
# size of the expected sample on which Gwet's variance is evaluated: pattern counts are rounded to
# whole units, so a large sample keeps the rounding error below 1e-5 of the variance
_EXPECTED_UNITS = 200_000


@dataclass(frozen=True)
class SimulationCheck:
    """The analytic answer checked on simulated studies of ``n_units`` units.

    Attributes
    ----------
    n_units, studies, B : int
        Units per simulated study, number of studies, bootstrap replicates per study.
    bootstrap_half_width : float
        Mean half-width of the percentile bootstrap interval over the studies.
    empirical_half_width : float
        ``z`` times the standard deviation of the estimates across studies (the half-width the
        analytic plan aims at).
    coverage : float
        Share of studies whose bootstrap interval covers the planned value.
    """

    n_units: int
    studies: int
    B: int
    bootstrap_half_width: float
    empirical_half_width: float
    coverage: float


@dataclass(frozen=True)
class PlanResult:
    """Units needed for an interval of a given half-width.

    Attributes
    ----------
    metric : str
        ``kappa`` (Cohen's with 2 raters, Fleiss' with more), ``alpha`` (nominal) or ``ac1``.
    expected, width, confidence : float
        Planned coefficient, interval half-width and confidence level.
    prevalences : tuple of float
        Category prevalences (sum to 1).
    raters : int
        Ratings per unit.
    n_units : int
        Units needed (analytic).
    unit_sd : float
        ``sqrt(n * Var)``: the standard error of the coefficient is ``unit_sd / sqrt(n)``.
    method : str
        The variance used.
    simulation : SimulationCheck or None
        The simulation check, when run.
    """

    metric: str
    expected: float
    width: float
    confidence: float
    prevalences: tuple[float, ...]
    raters: int
    n_units: int
    unit_sd: float
    method: str
    simulation: SimulationCheck | None = None

    def half_width(self, n_units: int) -> float:
        """Expected half-width with ``n_units`` units (analytic)."""
        z = float(stats.norm.ppf(0.5 + self.confidence / 2))
        return z * self.unit_sd / math.sqrt(n_units)


def _check_inputs(
    metric: str, expected: float, prevalences: Sequence[float] | np.ndarray, raters: int
) -> None:
    problems = []
    if metric not in PLAN_METRICS:
        problems.append(f"metric {metric!r} is not one of {', '.join(PLAN_METRICS)}")
    if not -1 < expected < 1:
        problems.append(f"expected value {expected} must lie strictly between -1 and 1")
    p = np.asarray(prevalences, dtype=float)
    if p.ndim != 1 or len(p) < 2:
        problems.append("give the prevalences of at least two categories")
    elif (p <= 0).any() or abs(p.sum() - 1) > 1e-6:
        problems.append(f"prevalences {p.round(3).tolist()} must be positive and sum to 1")
    if raters < 2:
        problems.append(f"raters must be at least 2, not {raters}")
    if problems:
        raise InputError("; ".join(problems))


def binary_prevalences(p: float) -> tuple[float, float]:
    """``(1 - p, p)`` for a binary code with prevalence ``p``.

    Examples
    --------
    >>> binary_prevalences(0.2)
    (0.8, 0.2)
    """
    if not 0 < p < 1:
        raise InputError(f"prevalence {p} must lie strictly between 0 and 1")
    return (round(1 - p, 12), p)


def mixing_weight(metric: str, expected: float, prevalences: Sequence[float] | np.ndarray) -> float:
    """The model's share ``a`` of all-agree units for which ``metric`` equals ``expected``.

    Under the mixture, pairwise agreement is ``a + (1 - a) S`` with ``S = sum pi_k^2``. Kappa and
    alpha (asymptotically) have chance agreement ``S`` so ``a = expected``; AC1's chance agreement
    is ``sum pi_k (1 - pi_k) / (q - 1)`` (Gwet 2008).

    Examples
    --------
    >>> mixing_weight("kappa", 0.7, [0.5, 0.5])
    0.7
    >>> round(mixing_weight("ac1", 0.7, [0.5, 0.5]), 6)
    0.7
    >>> round(mixing_weight("ac1", 0.7, [0.8, 0.2]), 4)
    0.3625
    """
    pi = np.asarray(prevalences, dtype=float)
    if metric != "ac1":
        return float(expected)
    q = len(pi)
    s = float((pi**2).sum())
    pe = float((pi * (1 - pi)).sum()) / (q - 1)
    po = expected * (1 - pe) + pe
    a = (po - s) / (1 - s)
    if not 0 <= a <= 1:
        raise InputError(
            f"AC1 = {expected} is not reachable with prevalences {pi.round(3).tolist()} "
            "under the planning model (agreement would have to be below chance or above 1)"
        )
    return float(a)


def _patterns(pi: np.ndarray, raters: int, a: float) -> tuple[np.ndarray, np.ndarray]:
    """All count vectors of ``raters`` ratings over q categories and their model probabilities."""
    q = len(pi)
    rows, probs = [], []
    for combo in combinations_with_replacement(range(q), raters):
        counts = np.bincount(combo, minlength=q)
        multinom = math.factorial(raters) / np.prod([math.factorial(int(c)) for c in counts])
        p_indep = multinom * float(np.prod(pi**counts))
        p_agree = float(pi[combo[0]]) if counts.max() == raters else 0.0
        rows.append(counts)
        probs.append((1 - a) * p_indep + a * p_agree)
    return np.array(rows), np.array(probs)


def _expected_sample(pi: np.ndarray, raters: int, a: float) -> np.ndarray:
    """A units x categories count table whose patterns follow the model (largest remainder)."""
    rows, probs = _patterns(pi, raters, a)
    exact = probs * _EXPECTED_UNITS
    whole = np.floor(exact).astype(int)
    short = _EXPECTED_UNITS - whole.sum()
    whole[np.argsort(whole - exact)[:short]] += 1
    return np.repeat(rows, whole, axis=0)


def unit_sd(
    metric: str, expected: float, prevalences: Sequence[float] | np.ndarray, raters: int = 2
) -> tuple[float, str]:
    """Per-unit standard deviation ``sqrt(n Var)`` of the coefficient at the planned values.

    Returns the standard deviation and the name of the variance used.

    Examples
    --------
    >>> sd, method = unit_sd("kappa", 0.7, [0.5, 0.5])
    >>> round(sd**2, 6), method      # (1-k)[(1-k)(1-2k) + k(2-k)/(2p(1-p))] = 0.51
    (0.51, 'Fleiss, Cohen & Everitt (1969)')
    """
    _check_inputs(metric, expected, prevalences, raters)
    pi = np.asarray(prevalences, dtype=float)
    a = mixing_weight(metric, expected, pi)
    q = len(pi)
    if metric == "kappa" and raters == 2:
        table = (1 - a) * np.outer(pi, pi) + a * np.diag(pi)
        _, se = cohen_se(table * _EXPECTED_UNITS, np.eye(q))
        return se * math.sqrt(_EXPECTED_UNITS), "Fleiss, Cohen & Everitt (1969)"
    counts = _expected_sample(pi, raters, a)
    n = len(counts)
    if metric == "alpha":
        _, se, _ = gwet_alpha_se(counts, "nominal")
    else:
        name = "fleiss_kappa" if metric == "kappa" else "gwet_ac"
        _, se, _ = gwet_family_se(name, counts, np.eye(q))
    # Gwet's variance divides by n(n - 1); sqrt(n - 1) undoes it exactly for the per-unit sd
    return se * math.sqrt(n - 1), "Gwet (2014) linearised variance"


def plan(
    metric: str,
    expected: float,
    width: float,
    prevalences: Sequence[float] | np.ndarray,
    *,
    raters: int = 2,
    confidence: float = 0.95,
) -> PlanResult:
    """Units needed for a two-sided interval of half-width ``width`` around ``expected``.

    Parameters
    ----------
    metric : str
        ``kappa``, ``alpha`` or ``ac1``.
    expected : float
        The coefficient expected in the study.
    width : float
        Wanted half-width of the interval.
    prevalences : sequence of float
        Expected category prevalences (sum to 1).
    raters : int
        Ratings per unit.
    confidence : float
        Confidence level of the interval.

    Examples
    --------
    The worked example of Donner & Eliasziw's binary formula (kappa 0.7, prevalence 0.5, 95%):

    >>> plan("kappa", 0.7, 0.1, [0.5, 0.5]).n_units
    196
    """
    if not 0 < width < 1:
        raise InputError(f"width {width} must lie strictly between 0 and 1")
    if not 0 < confidence < 1:
        raise InputError(f"confidence {confidence} must lie strictly between 0 and 1")
    sd, method = unit_sd(metric, expected, prevalences, raters)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    n = max(2, math.ceil((z * sd / width) ** 2 - 1e-9))
    return PlanResult(
        metric,
        float(expected),
        float(width),
        float(confidence),
        tuple(float(p) for p in prevalences),
        int(raters),
        n,
        float(sd),
        method,
    )


def simulate_counts(
    rng: np.random.Generator, pi: np.ndarray, raters: int, a: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """One simulated study: codes (units x raters) under the planning model.

    Examples
    --------
    >>> codes, counts = simulate_counts(np.random.default_rng(0), np.array([.5, .5]), 3, 1.0, 4)
    >>> sorted(set(counts.max(axis=1).tolist()))   # a = 1: every unit unanimous
    [3]
    """
    agree = rng.random(n) < a
    common = rng.choice(len(pi), size=n, p=pi)
    indep = rng.choice(len(pi), size=(n, raters), p=pi)
    codes = np.where(agree[:, None], common[:, None], indep)
    counts = np.stack([(codes == k).sum(axis=1) for k in range(len(pi))], axis=1)
    return codes, counts


def _study_stat(metric: str, codes: np.ndarray, counts: np.ndarray, q: int) -> Stat:
    if metric == "kappa" and codes.shape[1] == 2:
        return pair_stat("cohen_kappa", codes[:, 0], codes[:, 1], np.eye(q))
    if metric == "alpha":
        return alpha_stat(counts, "nominal")
    return family_stat("fleiss_kappa" if metric == "kappa" else "gwet_ac", counts, np.eye(q))


def simulate_plan(
    result: PlanResult, *, studies: int = 200, B: int = 500, seed: int = 0
) -> SimulationCheck:
    """Check a plan on ``studies`` simulated studies of ``result.n_units`` units.

    Each study is drawn from the planning model and gets a percentile bootstrap interval from
    :func:`eval.bootstrap.replicate`; the mean bootstrap half-width, ``z`` times the spread of the
    estimates across studies and the coverage of the planned value are returned.

    Examples
    --------
    >>> res = plan("kappa", 0.7, 0.1, [0.5, 0.5])
    >>> chk = simulate_plan(res, studies=100, B=200, seed=1)
    >>> 0.08 < chk.empirical_half_width < 0.12
    True
    """
    pi = np.asarray(result.prevalences)
    q = len(pi)
    a = mixing_weight(result.metric, result.expected, pi)
    rng = np.random.default_rng(seed)
    z = float(stats.norm.ppf(0.5 + result.confidence / 2))
    estimates, widths, covered = [], [], 0
    for i in range(studies):
        codes, counts = simulate_counts(rng, pi, result.raters, a, result.n_units)
        stat = _study_stat(result.metric, codes, counts, q)
        estimates.append(stat.value())
        values = replicate([stat], B=B, seed=seed * 100_003 + i).values[stat.name]
        lo, hi, _ = percentile_ci(values, result.confidence)
        widths.append((hi - lo) / 2)
        covered += int(lo <= result.expected <= hi)
    est = np.asarray(estimates)
    return SimulationCheck(
        result.n_units,
        studies,
        B,
        float(np.nanmean(widths)),
        float(z * np.nanstd(est, ddof=1)),
        covered / studies,
    )


def _cantor_q(rate1: float, rate2: float, kappa: float) -> float:
    """``n Var(kappa)`` (Fleiss, Cohen & Everitt) on the 2 x 2 table Cantor (1996) implies."""
    pe = rate1 * rate2 + (1 - rate1) * (1 - rate2)
    po = kappa * (1 - pe) + pe
    p22 = (po - rate1 + (1 - rate2)) / 2
    p11 = po - p22
    table = np.array([[p11, rate1 - p11], [rate2 - p11, p22]])
    if (table < 0).any():
        raise InputError(f"kappa {kappa} is impossible with positive rates {rate1} and {rate2}")
    _, se = cohen_se(table * _EXPECTED_UNITS, np.eye(2))
    return se**2 * _EXPECTED_UNITS


def cantor_units(
    rate1: float,
    rate2: float,
    kappa1: float,
    kappa0: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = False,
) -> int:
    """Units to test ``H0: kappa = kappa0`` against a true ``kappa1`` (Cantor 1996).

    ``n = ((z_{1-alpha/d} sqrt(Q0) + z_power sqrt(Q1)) / (kappa1 - kappa0))^2`` with ``Q`` the
    Fleiss, Cohen & Everitt ``n Var`` at each kappa and the raters' positive rates; the formula of
    R ``irr::N.cohen.kappa``.

    Examples
    --------
    R irr's documented example (both raters 50% positive, kappa 0.7 vs 0.85) needs 96 units:

    >>> cantor_units(0.5, 0.5, 0.7, 0.85)
    96
    """
    d = 2 if two_sided else 1
    q1 = _cantor_q(rate1, rate2, kappa1)
    q0 = _cantor_q(rate1, rate2, kappa0)
    za = float(stats.norm.ppf(1 - alpha / d))
    zb = float(stats.norm.ppf(power))
    n = ((za * math.sqrt(q0) + zb * math.sqrt(q1)) / (kappa1 - kappa0)) ** 2
    return math.ceil(n - 1e-9)


@dataclass(frozen=True)
class PilotPlan:
    """A plan from a pilot's observed prevalences and agreement.

    Attributes
    ----------
    plan : PlanResult
        The plan at the observed values.
    observed : float
        The pilot's coefficient (the plan's ``expected``).
    pilot_units : int
        Units of the pilot with at least two ratings.
    more_units : int
        Units still to code beyond the pilot (0 when the pilot is already large enough).
    dropped_categories : list of str
        Declared categories the pilot never used (left out of the prevalences).
    """

    plan: PlanResult
    observed: float
    pilot_units: int
    more_units: int
    dropped_categories: list[str]


def _pilot_value(metric: str, table: RatingTable, counts: np.ndarray) -> float:
    q = counts.shape[1]
    if metric == "kappa" and table.codes.shape[1] == 2:
        return pair_stat("cohen_kappa", table.codes[:, 0], table.codes[:, 1], np.eye(q)).value()
    return _study_stat(metric, table.codes, counts, q).value()


def pilot_plan(
    table: RatingTable, metric: str, width: float, *, confidence: float = 0.95
) -> PilotPlan:
    """Units needed for ``width`` from a pilot's ratings (a :class:`~eval.data.RatingTable`).

    The prevalences are the pooled shares of the pilot's ratings, the expected value is the
    pilot's coefficient and the raters per unit the median number of ratings of its rated units.

    Examples
    --------
    >>> import numpy as np
    >>> from eval.data import RatingTable
    >>> codes = np.array([[0, 0], [1, 1], [0, 0], [1, 0]] * 10)
    >>> t = RatingTable("s", [f"u{i}" for i in range(40)], ["A", "B"], ["no", "yes"], codes)
    >>> p = pilot_plan(t, "kappa", 0.1)
    >>> round(p.observed, 3), p.plan.n_units, p.more_units
    (0.5, 308, 268)
    """
    counts = table.counts()
    rated = counts.sum(axis=1)
    counts = counts[rated >= 2]
    if len(counts) < 2:
        raise InputError(f"scheme {table.scheme!r}: the pilot needs units with two ratings")
    used = counts.sum(axis=0) > 0
    dropped = [c for c, u in zip(table.categories, used, strict=True) if not u]
    if used.sum() < 2:
        raise InputError(f"scheme {table.scheme!r}: the pilot used a single category")
    keep_rows = (table.codes >= 0).sum(axis=1) >= 2
    remap = np.cumsum(used) - 1
    codes = np.where(table.codes >= 0, remap[np.maximum(table.codes, 0)], -1)[keep_rows]
    sub = RatingTable(
        table.scheme,
        [u for u, k in zip(table.units, keep_rows, strict=True) if k],
        table.raters,
        [c for c, u in zip(table.categories, used, strict=True) if u],
        codes,
    )
    counts = counts[:, used]
    observed = _pilot_value(metric, sub, counts)
    if not np.isfinite(observed) or observed <= 0:
        raise InputError(
            f"scheme {table.scheme!r}: the pilot's {metric} is {observed:.3g}; a plan needs "
            "agreement above chance"
        )
    prevalences = counts.sum(axis=0) / counts.sum()
    raters = int(np.median(counts.sum(axis=1)))
    if metric == "kappa" and table.codes.shape[1] == 2:
        raters = 2
    res = plan(metric, observed, width, prevalences, raters=raters, confidence=confidence)
    return PilotPlan(res, observed, len(counts), max(0, res.n_units - len(counts)), dropped)
