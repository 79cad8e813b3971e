"""Single coefficients on a units x raters matrix of labels (missing: ``None``/``NaN``/``""``).

These are thin wrappers over :mod:`eval.coefficients`, for quick use and for checking against
other libraries. Category order always comes from ``categories`` when given (the codebook).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.coefficients import alpha_value, conger_stat, family_stat, pair_stat, weight_matrix
from eval.data import RatingTable
from toolkit.errors import InputError

__all__ = [
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "krippendorff_alpha",
    "matrix_table",
    "pabak",
    "percent_agreement",
    "scott_pi",
]


def _label(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return None
        return str(int(v)) if float(v).is_integer() else str(float(v))
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    s = str(v).strip()
    return s or None


def matrix_table(
    ratings: Any, categories: Sequence[Any] | None = None, level: str = "nominal"
) -> RatingTable:
    """A :class:`RatingTable` from a units x raters array-like of labels.

    Examples
    --------
    >>> matrix_table([["a", "b"], ["b", None]], categories=["a", "b"]).codes.tolist()
    [[0, 1], [1, -1]]
    """
    if isinstance(ratings, RatingTable):
        return ratings
    num = np.asarray(ratings) if isinstance(ratings, np.ndarray) else None
    if num is not None and num.ndim == 2 and num.dtype.kind in "iuf":
        return _numeric_table(num, categories, level)
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise InputError("ratings must be a 2-D units x raters matrix")
    labels = [[_label(v) for v in row] for row in arr]
    observed = sorted({v for row in labels for v in row if v is not None})
    if categories is not None:
        cats = [c for c in (_label(c) for c in categories) if c is not None]
        extra = [v for v in observed if v not in cats]
        if extra:
            raise InputError(f"label(s) {extra[:5]} are not among the categories {cats}")
    else:
        try:
            cats = sorted(observed, key=float)
        except ValueError:
            if level != "nominal":
                raise InputError(f"level {level!r} needs declared categories") from None
            cats = observed
    idx = {c: i for i, c in enumerate(cats)}
    codes = np.array(
        [[-1 if v is None else idx[v] for v in row] for row in labels], dtype=np.int64
    ).reshape(arr.shape)
    scores = None
    try:
        scores = np.array([float(c) for c in cats])
    except ValueError:
        if level in ("interval", "ratio"):
            raise InputError(f"level {level!r} needs numeric categories") from None
    return RatingTable(
        "matrix",
        [str(i) for i in range(arr.shape[0])],
        [str(j) for j in range(arr.shape[1])],
        cats,
        codes,
        level,
        scores,
    )


def _numeric_table(num: np.ndarray, categories: Sequence[Any] | None, level: str) -> RatingTable:
    """Fast path for numeric matrices (NaN = missing): codes by searching the category values."""
    x = num.astype(float)
    ok = np.isfinite(x)
    values = np.unique(x[ok])
    if categories is not None:
        cat_values = np.array([float(c) for c in categories])
        if not np.isin(values, cat_values).all():
            raise InputError(
                f"values {values[~np.isin(values, cat_values)][:5].tolist()} are "
                "not among the categories"
            )
    else:
        cat_values = values
    order = np.argsort(cat_values, kind="stable")
    pos = np.searchsorted(cat_values[order], np.where(ok, x, cat_values[order][0]))
    codes = np.where(ok, order[np.clip(pos, 0, len(order) - 1)], -1).astype(np.int64)
    cats = [_label(v) or "" for v in cat_values]
    return RatingTable(
        "matrix",
        [str(i) for i in range(x.shape[0])],
        [str(j) for j in range(x.shape[1])],
        cats,
        codes,
        level,
        cat_values.astype(float),
    )


def _family(name: str, ratings: Any, categories: Any, weights: str) -> float:
    t = matrix_table(ratings, categories)
    return family_stat(name, t.counts(), weight_matrix(t.q, weights)).value()


def percent_agreement(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "identity"
) -> float:
    """Multi-rater (pairwise) percent agreement over units with >= 2 ratings.

    >>> percent_agreement([[1, 1], [1, 0], [0, 0], [1, None]])
    0.6666666666666666
    """
    return _family("percent_agreement", ratings, categories, weights)


def fleiss_kappa(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "identity"
) -> float:
    """Fleiss' kappa, generalised to unequal numbers of raters per unit (Gwet)."""
    return _family("fleiss_kappa", ratings, categories, weights)


def gwet_ac1(ratings: Any, categories: Sequence[Any] | None = None) -> float:
    """Gwet's AC1 (unweighted)."""
    return _family("gwet_ac", ratings, categories, "identity")


def gwet_ac2(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "quadratic"
) -> float:
    """Gwet's AC2 (weighted AC1) on the declared category order."""
    return _family("gwet_ac", ratings, categories, weights)


def brennan_prediger(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "identity"
) -> float:
    """Brennan-Prediger coefficient (chance agreement 1/q for q declared categories)."""
    return _family("brennan_prediger", ratings, categories, weights)


def pabak(ratings: Any, categories: Sequence[Any] | None = None) -> float:
    """Prevalence- and bias-adjusted kappa ``2 p_o - 1`` for a binary scheme."""
    t = matrix_table(ratings, categories)
    if t.q != 2:
        raise InputError(f"PABAK needs exactly two categories, got {t.q}")
    return family_stat("brennan_prediger", t.counts(), np.eye(2)).value()


def conger_kappa(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "identity"
) -> float:
    """Conger's kappa (multi-rater Cohen's kappa with per-rater marginals)."""
    t = matrix_table(ratings, categories)
    return conger_stat(t, weight_matrix(t.q, weights)).value()


def _two(ratings: Any, categories: Any) -> RatingTable:
    t = matrix_table(ratings, categories)
    if t.codes.shape[1] != 2:
        raise InputError(f"needs exactly two raters (columns), got {t.codes.shape[1]}")
    return t


def cohen_kappa(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "identity"
) -> float:
    """Cohen's kappa of two raters (pairwise deletion), weights on the declared order.

    >>> y1 = ["negative", "positive", "negative", "neutral", "positive"]
    >>> y2 = ["negative", "positive", "negative", "neutral", "negative"]
    >>> round(cohen_kappa(list(zip(y1, y2))), 4)
    0.6875
    """
    t = _two(ratings, categories)
    return pair_stat(
        "cohen_kappa", t.codes[:, 0], t.codes[:, 1], weight_matrix(t.q, weights)
    ).value()


def scott_pi(
    ratings: Any, categories: Sequence[Any] | None = None, weights: str = "identity"
) -> float:
    """Scott's pi of two raters (pooled marginals, pairwise deletion)."""
    t = _two(ratings, categories)
    return pair_stat("scott_pi", t.codes[:, 0], t.codes[:, 1], weight_matrix(t.q, weights)).value()


def krippendorff_alpha(
    ratings: Any, level: str | None = None, categories: Sequence[Any] | None = None
) -> float:
    """Krippendorff's alpha at an explicit level, computed by the ``krippendorff`` package.

    ``ratings`` is a units x raters matrix or a :class:`RatingTable` (then ``level`` defaults to
    the table's). The package gets the unit x value counts, the declared value domain and the
    level; undefined alpha (one category, no pairable unit) is NaN.

    >>> round(krippendorff_alpha([[1, 1], [2, 2], [1, 2]], level="nominal"), 4)
    0.4444
    """
    if isinstance(ratings, RatingTable):
        t = ratings
        level = level or t.level
    else:
        if level is None:
            raise InputError("pass the level of measurement (nominal, ordinal, interval, ratio)")
        t = matrix_table(ratings, categories, level)
    return alpha_value(t.counts(), level, t.scores)[0]
