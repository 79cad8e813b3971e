"""The alternative annotator test: may a model replace one of the human coders?

Calderon, Reichart & Dror (2025), "The Alternative Annotator Test for LLM-as-a-Judge: How to
Statistically Justify Replacing Human Annotators with LLMs", ACL 2025, pp. 16051-16081.

For each human ``j`` in turn, the other humans are the reference. On every unit that ``j``, the
model and at least one other human rated, an alignment score ``S`` says how well a label matches
the others (``accuracy``: the share of the other humans giving the same label; ``neg_rmse``: minus
the root mean squared distance of the category scores). With ``W_f = [S(model) >= S(j)]`` and
``W_h = [S(j) >= S(model)]``, the advantage probabilities are ``rho_f = mean W_f`` and
``rho_h = mean W_h``. A one-sided one-sample t-test of ``d = W_h - W_f`` tests
``H0: rho_h - rho_f >= epsilon`` against ``H1: rho_h - rho_f < epsilon`` (the model is at least
as good as ``j`` up to the cost-benefit margin ``epsilon``). The humans' p-values are corrected
with the Benjamini-Yekutieli procedure at ``q``; the winning rate ``omega`` is the share of humans
whose null is rejected and the model passes when ``omega >= 0.5``. The average advantage
probability (mean of ``rho_f`` over humans) ranks models.

This follows the paper and the authors' reference implementation (github.com/nitaytech/AltTest):
units need two or more human labels, humans with fewer than ``min_units`` (30) units are left
out, ``epsilon`` defaults to 0.15 (the paper's value for skilled annotators such as trained
research assistants; it suggests 0.2 for experts and 0.1 for crowd workers). Unlike the reference
code, fewer than ``min_humans`` (3, as the paper recommends and the issue requires) tested humans
give a result that says the test is impossible, not an exception, and a zero-variance ``d``
(all differences equal) gets the limit of the t-test (p = 0 when its mean is below epsilon, 1
otherwise) instead of NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from eval.data import RatingTable
from toolkit.errors import InputError
from toolkit.jsonvalue import plain

__all__ = [
    "DEFAULT_EPSILON",
    "SCORINGS",
    "AltTestHuman",
    "AltTestResult",
    "alt_test",
    "alt_test_codes",
    "benjamini_yekutieli",
]

#: The paper's suggestion for skilled annotators (experts 0.2, crowd workers 0.1).
DEFAULT_EPSILON = 0.15
#: Alignment scores: ``accuracy`` for categories, ``neg_rmse`` for ordered/numeric scores.
SCORINGS: tuple[str, ...] = ("accuracy", "neg_rmse")


@dataclass(frozen=True)
class AltTestHuman:
    """The comparison of the model with one left-out human.

    Attributes
    ----------
    human : str
        The left-out human.
    n_units : int
        Units compared.
    rho_model, rho_human : float
        Advantage probabilities of the model and of the human.
    p_value, p_adjusted : float
        One-sided t-test p-value and its Benjamini-Yekutieli adjustment.
    model_wins : bool
        Whether the null is rejected at ``q``.
    """

    human: str
    n_units: int
    rho_model: float
    rho_human: float
    p_value: float
    p_adjusted: float
    model_wins: bool


@dataclass(frozen=True)
class AltTestResult:
    """Outcome of the alternative annotator test for one model.

    Attributes
    ----------
    model : str
        The model tested.
    humans : list of str
        The humans given.
    epsilon, q : float
        Cost-benefit margin and false discovery rate.
    scoring : str
        ``accuracy`` or ``neg_rmse``.
    possible : bool
        False when too few humans (or units) make the test impossible; ``reason`` says why.
    per_human : list of AltTestHuman
        One row per tested human.
    winning_rate, advantage_probability : float
        ``omega`` and the mean of ``rho_model`` (NaN when impossible).
    passed : bool or None
        ``winning_rate >= 0.5`` (None when impossible).
    verdict : str
        One sentence for the report.
    skipped : list of str
        Humans left out for having fewer than ``min_units`` units.
    """

    model: str
    humans: list[str]
    epsilon: float
    q: float
    scoring: str
    possible: bool
    per_human: list[AltTestHuman] = field(default_factory=list)
    winning_rate: float = float("nan")
    advantage_probability: float = float("nan")
    passed: bool | None = None
    verdict: str = ""
    reason: str | None = None
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        out: dict[str, Any] = plain(asdict(self))
        return out


def benjamini_yekutieli(
    p_values: Sequence[float], q: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini & Yekutieli (2001) step-up procedure under arbitrary dependence.

    Returns the adjusted p-values and the rejections at level ``q``: ``p_(i)`` is compared with
    ``i q / (m H_m)``, ``H_m = 1 + 1/2 + ... + 1/m``.

    Examples
    --------
    >>> adj, rej = benjamini_yekutieli([0.001, 0.02, 0.04, 0.5])
    >>> adj.round(4).tolist(), rej.tolist()
    ([0.0083, 0.0833, 0.1111, 1.0], [True, False, False, False])
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    harmonic = float((1.0 / np.arange(1, m + 1)).sum())
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m * harmonic / np.arange(1, m + 1)
    adjusted_sorted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted, adjusted <= q


def _one_sided_p(d: np.ndarray, epsilon: float) -> float:
    """p-value of ``H0: mean(d) >= epsilon`` against ``mean(d) < epsilon`` (one-sample t)."""
    n = len(d)
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        return 0.0 if mean < epsilon else 1.0
    t = (mean - epsilon) / (sd / np.sqrt(n))
    return float(stats.t.cdf(t, n - 1))


def _scores(
    codes_h: np.ndarray, x: np.ndarray, values: np.ndarray | None, scoring: str
) -> np.ndarray:
    """Alignment of labels ``x`` (per unit) with the reference humans ``codes_h`` (-1 missing)."""
    rated = codes_h >= 0
    n_ref = rated.sum(axis=1)
    if scoring == "accuracy":
        same = (codes_h == x[:, None]) & rated
        return same.sum(axis=1) / n_ref
    assert values is not None
    ref = np.where(rated, values[np.maximum(codes_h, 0)], 0.0)
    diff2 = np.where(rated, (ref - values[x][:, None]) ** 2, 0.0)
    return -np.sqrt(diff2.sum(axis=1) / n_ref)


def _compare(
    humans: np.ndarray, model: np.ndarray, j: int, values: np.ndarray | None, scoring: str
) -> tuple[np.ndarray, np.ndarray]:
    """Indicators ``W_f`` and ``W_h`` on the units usable when human ``j`` is left out."""
    others = np.delete(humans, j, axis=1)
    use = (humans[:, j] >= 0) & (model >= 0) & ((others >= 0).sum(axis=1) >= 1)
    s_model = _scores(others[use], model[use], values, scoring)
    s_human = _scores(others[use], humans[use, j], values, scoring)
    return (s_model >= s_human).astype(float), (s_human >= s_model).astype(float)


def _impossible(base: dict[str, Any], reason: str, skipped: list[str]) -> AltTestResult:
    return AltTestResult(
        **base,
        possible=False,
        verdict=f"The alternative annotator test is impossible: {reason}.",
        reason=reason,
        skipped=skipped,
    )


def alt_test_codes(
    humans: np.ndarray,
    model: np.ndarray,
    names: Sequence[str],
    *,
    model_name: str = "model",
    epsilon: float = DEFAULT_EPSILON,
    q: float = 0.05,
    scoring: str = "accuracy",
    values: np.ndarray | None = None,
    min_units: int = 30,
    min_humans: int = 3,
) -> AltTestResult:
    """The alternative annotator test on category codes (units x humans, ``-1`` = missing).

    Parameters
    ----------
    humans : numpy.ndarray
        Human codes, units x humans.
    model : numpy.ndarray
        The model's code per unit (``-1`` = missing).
    names : sequence of str
        Human names (columns of ``humans``).
    model_name : str
        Name of the model in the result.
    epsilon : float
        Cost-benefit margin (0.2 experts, 0.15 skilled, 0.1 crowd workers).
    q : float
        False discovery rate of the Benjamini-Yekutieli correction.
    scoring : str
        ``accuracy`` or ``neg_rmse`` (needs ``values``, the score of each category).
    values : numpy.ndarray, optional
        Numeric value of each category code.
    min_units, min_humans : int
        Humans with fewer units are left out; fewer tested humans make the test impossible.

    Examples
    --------
    A model that copies human A exactly, with three humans who often disagree:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(0, 3, 200)
    >>> noisy = lambda: np.where(rng.random(200) < 0.3, rng.integers(0, 3, 200), truth)
    >>> H = np.column_stack([noisy(), noisy(), noisy()])
    >>> res = alt_test_codes(H, H[:, 0].copy(), ["A", "B", "C"])
    >>> res.passed, round(res.winning_rate, 2)
    (True, 1.0)
    """
    if scoring not in SCORINGS:
        raise InputError(f"scoring {scoring!r} is not one of {', '.join(SCORINGS)}")
    if scoring == "neg_rmse" and values is None:
        raise InputError("scoring 'neg_rmse' needs numeric category values")
    if not 0 <= epsilon < 1 or not 0 < q < 1:
        raise InputError(f"epsilon {epsilon} must be in [0, 1) and q {q} in (0, 1)")
    humans = np.asarray(humans)
    model = np.asarray(model)
    base: dict[str, Any] = {
        "model": model_name,
        "humans": list(names),
        "epsilon": float(epsilon),
        "q": float(q),
        "scoring": scoring,
    }
    if humans.shape[1] < min_humans:
        reason = f"it needs at least {min_humans} human coders, this scheme has {humans.shape[1]}"
        return _impossible(base, reason, [])
    rows, skipped = [], []
    for j, name in enumerate(names):
        w_f, w_h = _compare(humans, model, j, values, scoring)
        if len(w_f) < min_units:
            skipped.append(name)
            continue
        p = _one_sided_p(w_h - w_f, epsilon)
        rows.append((name, len(w_f), float(w_f.mean()), float(w_h.mean()), p))
    if len(rows) < min_humans:
        reason = (
            f"only {len(rows)} human(s) share at least {min_units} units with the model and "
            f"another human (it needs {min_humans})"
        )
        return _impossible(base, reason, skipped)
    adjusted, rejected = benjamini_yekutieli([r[4] for r in rows], q)
    per_human = [
        AltTestHuman(*r, float(a), bool(x))
        for r, a, x in zip(rows, adjusted, rejected, strict=True)
    ]
    omega = float(rejected.mean())
    rho = float(np.mean([h.rho_model for h in per_human]))
    passed = omega >= 0.5
    verdict = (
        f"{model_name} {'passes' if passed else 'fails'} the alternative annotator test: it wins "
        f"against {int(rejected.sum())} of {len(per_human)} humans (winning rate {omega:.2f}, "
        f"epsilon {epsilon:g}); average advantage probability {rho:.2f}."
    )
    return AltTestResult(
        **base,
        possible=True,
        per_human=per_human,
        winning_rate=omega,
        advantage_probability=rho,
        passed=passed,
        verdict=verdict,
        skipped=skipped,
    )


def alt_test(
    table: RatingTable,
    model: str,
    humans: Sequence[str] | None = None,
    *,
    epsilon: float = DEFAULT_EPSILON,
    q: float = 0.05,
    scoring: str | None = None,
    min_units: int = 30,
    min_humans: int = 3,
) -> AltTestResult:
    """The alternative annotator test for ``model`` against ``humans`` of a rating table.

    Parameters
    ----------
    table : RatingTable
        Ratings of one scheme (humans and the model are columns).
    model : str
        The model rater.
    humans : sequence of str, optional
        Human raters; default: every rater of kind ``human`` (else every rater but the model).
    epsilon, q, min_units, min_humans
        As in :func:`alt_test_codes`.
    scoring : str, optional
        Default: ``accuracy`` for nominal schemes, ``neg_rmse`` on the category scores (or
        positions) for ordinal, interval and ratio ones.

    Examples
    --------
    >>> import numpy as np
    >>> from eval.data import RatingTable
    >>> codes = np.array([[0, 0, 1, 0], [1, 1, 1, 1]] * 20)
    >>> t = RatingTable("s", [f"u{i}" for i in range(40)], ["A", "B", "C", "M"], ["n", "y"], codes)
    >>> alt_test(t, "M", ["A", "B"]).reason
    'it needs at least 3 human coders, this scheme has 2'
    """
    if model not in table.raters:
        raise InputError(f"scheme {table.scheme!r} has no rater {model!r}")
    if humans is None:
        kinds = table.rater_kinds
        humans = [r for r in table.raters if r != model and kinds.get(r, "human") == "human"]
    missing = [h for h in humans if h not in table.raters]
    if missing:
        raise InputError(f"scheme {table.scheme!r} has no rater(s) {', '.join(missing)}")
    if scoring is None:
        scoring = "accuracy" if table.level == "nominal" else "neg_rmse"
    values = None
    if scoring == "neg_rmse":
        values = table.scores if table.scores is not None else np.arange(table.q, dtype=float)
    idx = [table.raters.index(h) for h in humans]
    return alt_test_codes(
        table.codes[:, idx],
        table.codes[:, table.raters.index(model)],
        list(humans),
        model_name=model,
        epsilon=epsilon,
        q=q,
        scoring=scoring,
        values=None if values is None else np.asarray(values, dtype=float),
        min_units=min_units,
        min_humans=min_humans,
    )
