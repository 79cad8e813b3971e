"""Corpus-wide share of each code with valid intervals: prediction-powered inference.

A model labels every unit of the corpus; people code a sample (possibly stratified, with unequal
inclusion probabilities recorded by ``edudial code sample``). For each code ``k`` the target is
the share ``theta_k`` of units whose gold label is ``k``. With ``f = [model label = k]`` on all
``N`` units and ``Y = [gold label = k]`` on the sample:

* **model-only**: ``mean_N(f)``, interval from ``Var(f)/N``. Biased whenever the model is.
* **gold-only**: the Horvitz-Thompson mean of ``Y`` over the sample (weights ``1/pi_i``).
* **PPI** (Angelopoulos, Bates, Fannjiang, Jordan & Zrnic 2023, "Prediction-powered inference",
  Science 382:669-674): ``mean_N(f) + HT mean of (Y - f)``: the model's share corrected by the
  rectifier estimated on the coded sample.
* **PPI++** (Angelopoulos, Duchi & Zrnic 2023, "PPI++: Efficient prediction-powered inference",
  arXiv:2311.01453): ``lambda mean_N(f) + HT mean of (Y - lambda f)`` with the power-tuning
  ``lambda`` that minimises the variance, estimated from the sample and clipped to [0, 1] (as
  the authors' ``ppi_py``); ``lambda = 0`` is the gold-only estimate and ``lambda = 1`` PPI, so
  PPI++ is (up to the estimation of lambda) never worse than either.

Assumptions, stated because they differ from the paper's setting: the coded units are part of the
corpus (not an independent set), so the variance has the covariance term
``(2 lambda Cov(Y, f) - lambda^2 Var(f)) / N``, and lambda minimises the estimated variance under
the actual design (:func:`_power_tuning`); under simple random sampling that is
``Cov(Y, f) / Var(f)`` (the regression estimator, Cochran 1977 ch. 7) rather than PPI++'s
``Cov / ((1 + n/N) Var)`` for independent unlabeled data. The estimand is the superpopulation
share (the rate the corpus was drawn from), hence the ``Var(f)/N`` term. The sample's variance is
the stratified one (``sum_h (N_h/N)^2 s_h^2 / n_h``, no finite population correction) when
strata are known, else the with-replacement (Hansen-Hurwitz) approximation for unequal weights.
Intervals are normal (Wald) at the chosen confidence, clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from toolkit.errors import InputError
from toolkit.jsonvalue import plain

__all__ = [
    "METHODS",
    "Interval",
    "PpiEstimates",
    "ShareEstimate",
    "ShareResult",
    "estimate_shares",
    "ppi_mean",
]

#: Estimators in the order they are printed.
METHODS: tuple[str, ...] = ("model_only", "gold_only", "ppi", "ppi_plus")


@dataclass(frozen=True)
class Interval:
    """An estimate with its standard error and Wald interval."""

    estimate: float
    se: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class PpiEstimates:
    """The four estimates of one mean and the power-tuning ``lam`` (arrays when batched)."""

    model_only: Interval
    gold_only: Interval
    ppi: Interval
    ppi_plus: Interval
    lam: Any


@dataclass(frozen=True)
class ShareEstimate:
    """The share of one code by each estimator."""

    code: str
    model_only: Interval
    gold_only: Interval
    ppi: Interval
    ppi_plus: Interval
    lam: float


@dataclass
class ShareResult:
    """Shares of every code.

    Attributes
    ----------
    codes : list of ShareEstimate
        One per category, codebook order.
    n_corpus, n_gold : int
        Units with a model label, and coded units (with a model label too).
    weighted : bool
        Whether inclusion probabilities were used.
    stratified : bool
        Whether the stratified variance was used.
    confidence : float
        Interval level.
    notes : list of str
        Plain sentences (dropped units, assumptions).
    """

    codes: list[ShareEstimate]
    n_corpus: int
    n_gold: int
    weighted: bool
    stratified: bool
    confidence: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        out: dict[str, Any] = plain(asdict(self))
        return out


def _wald(est: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    se = np.sqrt(np.maximum(var, 0.0))
    return se, np.clip(est - z * se, 0.0, 1.0), np.clip(est + z * se, 0.0, 1.0)


def _ht_var(z: np.ndarray, w: np.ndarray, N: float, strata: np.ndarray | None) -> np.ndarray:
    """Variance of ``sum(w z)/N`` over the last axis (stratified, or with-replacement)."""
    if strata is None:
        n = z.shape[-1]
        t = (w * z).sum(axis=-1, keepdims=True) / N
        return n / (n - 1) * ((w * z / N - t / n) ** 2).sum(axis=-1)
    var = np.zeros(z.shape[:-1])
    for h in np.unique(strata):
        m = strata == h
        n_h = int(m.sum())
        if n_h < 2:
            continue  # a one-unit stratum has no within variance estimate (noted by the caller)
        share = w[..., m].sum(axis=-1) / N  # N_h / N, from the design weights
        var = var + share**2 * z[..., m].var(axis=-1, ddof=1) / n_h
    return var


def _weighted_moments(y: np.ndarray, f: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design-weighted ``Cov(Y, f)`` and ``Var(f)`` of the sample (last axis)."""
    sw = w.sum(axis=-1, keepdims=True)
    my = (w * y).sum(axis=-1, keepdims=True) / sw
    mf = (w * f).sum(axis=-1, keepdims=True) / sw
    cov = (w * (y - my) * (f - mf)).sum(axis=-1) / sw[..., 0]
    var = (w * (f - mf) ** 2).sum(axis=-1) / sw[..., 0]
    return cov, var


def _power_tuning(
    y: np.ndarray,
    f: np.ndarray,
    w: np.ndarray,
    N: float,
    *,
    strata: np.ndarray | None,
    cov: np.ndarray,
    var_f: np.ndarray,
) -> np.ndarray:
    """The ``lambda`` in [0, 1] minimising the estimated variance of the PPI++ estimate.

    The variance is quadratic in lambda: ``A - 2 lambda B + lambda^2 D + (2 lambda C -
    lambda^2 V) / N`` with ``A, B, D`` the design variance of the sample mean of ``Y``, its
    covariance with that of ``f`` and the variance of that of ``f`` (by polarisation of the same
    estimator), ``C = Cov(Y, f)`` and ``V = Var(f)``. Under simple random sampling the minimiser
    is ``C / V``; a sample stratified on the model's label makes ``D`` small, and the minimum then
    sits at an end of [0, 1].
    """
    d = _ht_var(f, w, N, strata) - var_f / N
    b = (_ht_var(y + f, w, N, strata) - _ht_var(y - f, w, N, strata)) / 4 - cov / N
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.clip(np.where(d > 0, b / d, 0.0), 0.0, 1.0)
    # with d <= 0 the quadratic is concave: compare the two ends (variance change at lambda = 1)
    end = np.where(d - 2 * b < 0, 1.0, 0.0)
    return np.where(d > 0, inner, end)


def ppi_mean(
    f_all: np.ndarray,
    y: np.ndarray,
    f: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    confidence: float = 0.95,
) -> PpiEstimates:
    """Model-only, gold-only, PPI and PPI++ estimates of a mean, with Wald intervals.

    Arrays may carry leading batch axes (one row per simulated corpus): ``f_all`` is
    (..., N), ``y``, ``f``, ``weights`` (..., n); ``strata`` (n,) is shared.

    Parameters
    ----------
    f_all : numpy.ndarray
        The model's value (0/1 for a share) on every unit of the corpus.
    y, f : numpy.ndarray
        Gold and model values on the coded sample.
    weights : numpy.ndarray, optional
        Inverse inclusion probabilities of the sampled units (default: ``N / n`` each).
    strata : numpy.ndarray, optional
        Stratum of each sampled unit (stratified variance).
    confidence : float
        Interval level.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.random(20000) < 0.3
    >>> model = np.where(truth, rng.random(20000) < 0.9, rng.random(20000) < 0.2)  # biased
    >>> idx = rng.choice(20000, 500, replace=False)
    >>> out = ppi_mean(model.astype(float), truth[idx].astype(float), model[idx].astype(float))
    >>> lo, hi = out.ppi_plus.ci
    >>> bool(lo < 0.3 < hi), bool(out.model_only.ci[0] > 0.3)   # truth 0.3
    (True, True)
    """
    N = f_all.shape[-1]
    n = y.shape[-1]
    if n < 2:
        raise InputError("at least two coded units are needed")
    w = np.full(y.shape, N / n) if weights is None else np.broadcast_to(weights, y.shape)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    mean_all = f_all.mean(axis=-1)
    var_all = f_all.var(axis=-1, ddof=1)
    cov, var_f = _weighted_moments(y, f, w)
    lam = _power_tuning(y, f, w, N, strata=strata, cov=cov, var_f=var_f)

    def tuned(lmb: np.ndarray | float) -> Interval:
        per_unit = np.asarray(lmb)[..., None]  # broadcast over the sample axis
        est = lmb * mean_all + (w * (y - per_unit * f)).sum(axis=-1) / N
        var = _ht_var(y - per_unit * f, w, N, strata) + (2 * lmb * cov - lmb**2 * var_f) / N
        se, lo, hi = _wald(est, var, z)
        return Interval(_item(est), _item(se), (_item(lo), _item(hi)))

    se, lo, hi = _wald(mean_all, var_all / N, z)
    return PpiEstimates(
        Interval(_item(mean_all), _item(se), (_item(lo), _item(hi))),
        tuned(0.0),
        tuned(1.0),
        tuned(lam),
        _item(lam),
    )


def _item(x: Any) -> Any:
    """A Python float for 0-d results; arrays (batched simulations) stay arrays."""
    arr = np.asarray(x)
    return float(arr) if arr.ndim == 0 else arr


def _check(model: np.ndarray, gold: np.ndarray, inclusion: np.ndarray | None, q: int) -> list[str]:
    problems = []
    if model.shape != gold.shape:
        problems.append("model and gold labels must cover the same units")
    if inclusion is not None:
        if inclusion.shape != gold.shape:
            problems.append("inclusion probabilities must cover the same units")
        else:
            bad = (gold >= 0) & ~((inclusion > 0) & (inclusion <= 1))
            if bad.any():
                problems.append(
                    f"{int(bad.sum())} coded unit(s) have no inclusion probability in (0, 1]"
                )
    if q < 2:
        problems.append("at least two categories are needed")
    return problems


#: Fewer coded units than this carrying a code: PPI++ covered 87-92% (benchmarks/coverage.py).
FEW_CODED = 20


def _few_coded_notes(gold: np.ndarray, categories: Sequence[str]) -> list[str]:
    """A note for each code that few coded units carry (where PPI++ under-covered)."""
    counts = np.bincount(gold, minlength=len(categories))
    return [
        f"Only {int(c)} coded unit(s) carry '{name}': with fewer than {FEW_CODED} the PPI++ "
        "interval covered 87-92% in edudial's coverage study; quote the PPI interval "
        "(docs/eval.md)."
        for name, c in zip(categories, counts, strict=True)
        if c < FEW_CODED
    ]


def estimate_shares(
    model: np.ndarray,
    gold: np.ndarray,
    categories: Sequence[str],
    *,
    inclusion: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    confidence: float = 0.95,
) -> ShareResult:
    """Share of every code across the corpus by model-only, gold-only, PPI and PPI++.

    Parameters
    ----------
    model : numpy.ndarray
        The model's category code per corpus unit (``-1``: no model label, unit left out).
    gold : numpy.ndarray
        The gold code per corpus unit (``-1``: not coded).
    categories : sequence of str
        Category names (codes index into them).
    inclusion : numpy.ndarray, optional
        Inclusion probability of each unit in the coded sample (from ``edudial code sample``);
        default: a simple random sample.
    strata : numpy.ndarray, optional
        Sampling stratum of each unit (stratified variance).
    confidence : float
        Interval level.

    Examples
    --------
    >>> import numpy as np
    >>> model = np.array([0, 1, 1, 0, 1, 0, 0, 1] * 50)
    >>> gold = np.full(400, -1); gold[:40] = [0, 1, 0, 0, 1, 0, 0, 1] * 5
    >>> res = estimate_shares(model, gold, ["no", "yes"])
    >>> [round(c.ppi.estimate, 3) for c in res.codes], round(res.codes[1].model_only.estimate, 2)
    ([0.625, 0.375], 0.5)
    """
    model, gold = np.asarray(model), np.asarray(gold)
    inc = None if inclusion is None else np.asarray(inclusion, dtype=float)
    problems = _check(model, gold, inc, len(categories))
    if problems:
        raise InputError("; ".join(problems))
    notes = []
    labelled = model >= 0
    if (~labelled).any():
        notes.append(f"{int((~labelled).sum())} unit(s) without a model label were left out.")
    coded = labelled & (gold >= 0)
    if int(((gold >= 0) & ~labelled).sum()):
        notes.append(
            f"{int(((gold >= 0) & ~labelled).sum())} coded unit(s) without a model label "
            "were left out."
        )
    n = int(coded.sum())
    if n < 2:
        raise InputError("fewer than two coded units have a model label")
    weights = None if inc is None else 1.0 / inc[coded]
    st = None if strata is None else np.asarray(strata)[coded]
    if st is not None and (np.unique(st, return_counts=True)[1] < 2).any():
        notes.append("A stratum with a single coded unit adds no variance estimate.")
    notes.extend(_few_coded_notes(gold[coded], categories))
    rows = []
    for k, name in enumerate(categories):
        f_all = (model[labelled] == k).astype(float)
        out = ppi_mean(
            f_all,
            (gold[coded] == k).astype(float),
            (model[coded] == k).astype(float),
            weights=weights,
            strata=st,
            confidence=confidence,
        )
        rows.append(
            ShareEstimate(
                str(name), out.model_only, out.gold_only, out.ppi, out.ppi_plus, float(out.lam)
            )
        )
    return ShareResult(
        rows, int(labelled.sum()), n, inc is not None, st is not None, confidence, notes
    )
