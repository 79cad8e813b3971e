"""Single coefficients on a units x raters matrix of labels (missing: ``None``/``NaN``/``""``).

These are thin wrappers over :mod:`eval.coefficients`, for quick use and for checking against
other libraries. Category order always comes from ``categories`` when given (the codebook).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eval.coefficients import (
    alpha_value,
    conger_stat,
    family_stat,
    masi_distance,
    pair_stat,
    set_alpha,
    weight_matrix,
)
from eval.data import RatingTable
from eval.variance import Analytic, cohen, conger, gwet_family
from toolkit.errors import InputError

__all__ = [
    "ANALYTIC",
    "CountTable",
    "analytic",
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "count_table",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "kappa_table",
    "krippendorff_alpha",
    "label_sets",
    "matrix_table",
    "multilabel_alpha",
    "multilabel_to_binary",
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


@dataclass
class CountTable:
    """Units x categories counts ``r_ik`` (how many raters put unit i in category k).

    Counts may be fractional (e.g. weighted or averaged ratings), as statsmodels'
    ``fleiss_kappa`` accepts. Coefficients that need rater identities (Cohen, Scott, Conger)
    cannot be computed from counts.
    """

    counts: np.ndarray
    categories: list[str]

    @property
    def q(self) -> int:
        return len(self.categories)


def count_table(counts: Any, categories: Sequence[Any] | None = None) -> CountTable:
    """A :class:`CountTable` from a units x categories array (fractional counts allowed).

    Examples
    --------
    >>> t = count_table([[1.5, 1.5], [3, 0], [0.5, 2.5]], categories=["no", "yes"])
    >>> round(fleiss_kappa(t), 4)
    0.2125
    """
    arr = np.asarray(counts, dtype=float)
    problems = []
    if arr.ndim != 2:
        problems.append("counts must be a 2-D units x categories table")
    elif not np.isfinite(arr).all() or (arr < 0).any():
        problems.append("counts must be finite and not negative")
    cats = [str(c) for c in categories] if categories is not None else None
    if arr.ndim == 2 and cats is not None and len(cats) != arr.shape[1]:
        problems.append(f"{len(cats)} categories for {arr.shape[1]} count columns")
    if problems:
        raise InputError("; ".join(problems))
    return CountTable(arr, cats or [str(k + 1) for k in range(arr.shape[1])])


def _counts(ratings: Any, categories: Any) -> tuple[np.ndarray, int]:
    if isinstance(ratings, CountTable):
        return ratings.counts, ratings.q
    t = matrix_table(ratings, categories)
    return t.counts(), t.q


def _family(name: str, ratings: Any, categories: Any, weights: Any) -> float:
    counts, q = _counts(ratings, categories)
    return family_stat(name, counts, weight_matrix(q, weights)).value()


def percent_agreement(
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "identity"
) -> float:
    """Multi-rater (pairwise) percent agreement over units with >= 2 ratings.

    >>> percent_agreement([[1, 1], [1, 0], [0, 0], [1, None]])
    0.6666666666666666
    """
    return _family("percent_agreement", ratings, categories, weights)


def fleiss_kappa(
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "identity"
) -> float:
    """Fleiss' kappa, generalised to unequal numbers of raters per unit (Gwet)."""
    return _family("fleiss_kappa", ratings, categories, weights)


def gwet_ac1(ratings: Any, categories: Sequence[Any] | None = None) -> float:
    """Gwet's AC1 (unweighted)."""
    return _family("gwet_ac", ratings, categories, "identity")


def gwet_ac2(
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "quadratic"
) -> float:
    """Gwet's AC2 (weighted AC1) on the declared category order."""
    return _family("gwet_ac", ratings, categories, weights)


def brennan_prediger(
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "identity"
) -> float:
    """Brennan-Prediger coefficient (chance agreement 1/q for q declared categories)."""
    return _family("brennan_prediger", ratings, categories, weights)


def pabak(ratings: Any, categories: Sequence[Any] | None = None) -> float:
    """Prevalence- and bias-adjusted kappa ``2 p_o - 1`` for a binary scheme."""
    counts, q = _counts(ratings, categories)
    if q != 2:
        raise InputError(f"PABAK needs exactly two categories, got {q}")
    return family_stat("brennan_prediger", counts, np.eye(2)).value()


def conger_kappa(
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "identity"
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
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "identity"
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
    ratings: Any, categories: Sequence[Any] | None = None, weights: Any = "identity"
) -> float:
    """Scott's pi of two raters (pooled marginals, pairwise deletion)."""
    t = _two(ratings, categories)
    return pair_stat("scott_pi", t.codes[:, 0], t.codes[:, 1], weight_matrix(t.q, weights)).value()


def krippendorff_alpha(
    ratings: Any, level: str | None = None, categories: Sequence[Any] | None = None
) -> float:
    """Krippendorff's alpha at an explicit level, computed by the ``krippendorff`` package.

    ``ratings`` is a units x raters matrix, a :class:`RatingTable` (then ``level`` defaults to
    the table's) or a :class:`CountTable`, whose categories are the values at the interval and
    ratio levels (``count_table(counts, categories=[1, 2, 4])``; without categories 1..q). The
    package gets the unit x value counts, the declared value domain and the level; undefined
    alpha (one category, no pairable unit) is NaN.

    >>> round(krippendorff_alpha([[1, 1], [2, 2], [1, 2]], level="nominal"), 4)
    0.4444
    >>> t = count_table([[2, 0, 0], [0, 1, 1], [1, 0, 1], [0, 0, 2]], categories=[1, 2, 4])
    >>> round(krippendorff_alpha(t, level="interval"), 4)  # = [[1, 1], [2, 4], [1, 4], [4, 4]]
    0.2835
    """
    if isinstance(ratings, CountTable):
        if level is None:
            raise InputError("pass the level of measurement (nominal, ordinal, interval, ratio)")
        return alpha_value(ratings.counts, level, _count_scores(ratings, level))[0]
    if isinstance(ratings, RatingTable):
        t = ratings
        level = level or t.level
    else:
        if level is None:
            raise InputError("pass the level of measurement (nominal, ordinal, interval, ratio)")
        t = matrix_table(ratings, categories, level)
    return alpha_value(t.counts(), level, t.scores)[0]


def _count_scores(table: CountTable, level: str) -> np.ndarray | None:
    """The numeric values of a count table's categories (as a ratings matrix has them)."""
    try:
        return np.array([float(c) for c in table.categories])
    except ValueError:
        if level in ("interval", "ratio"):
            raise InputError(
                f"level {level!r} needs numeric categories, got {table.categories[:5]}"
            ) from None
        return None


ANALYTIC: tuple[str, ...] = (
    "percent_agreement",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "brennan_prediger",
    "conger_kappa",
    "cohen_kappa",
    "scott_pi",
)
_FAMILY = {
    "percent_agreement": "percent_agreement",
    "fleiss_kappa": "fleiss_kappa",
    "gwet_ac1": "gwet_ac",
    "gwet_ac2": "gwet_ac",
    "brennan_prediger": "brennan_prediger",
}


def analytic(
    name: str,
    ratings: Any,
    categories: Sequence[Any] | None = None,
    weights: Any = None,
) -> Analytic:
    """One coefficient with its analytic SE, sample size, chance agreement p_e and z test.

    ``name`` is one of :data:`ANALYTIC`; ``ratings`` a units x raters matrix, a
    :class:`RatingTable` or (multi-rater family only) a :class:`CountTable`; ``weights`` a name
    of :data:`eval.coefficients.WEIGHTS` or a q x q matrix (default: quadratic for
    ``gwet_ac2``, identity for the others). Percent agreement has no chance agreement and no
    test of "agreement is zero" (``p_e`` is NaN, ``zero_test()`` None). Variances: see
    :mod:`eval.variance` (Gwet's design-based variance with n(n - 1) and t(n - 1), NaN for a
    single unit; Cohen's kappa: Fleiss, Cohen & Everitt with z).

    Examples
    --------
    >>> res = analytic("fleiss_kappa", [[1, 1], [2, 2], [1, 2], [2, 2]])
    >>> round(res.estimate, 4), round(res.p_e, 4), res.zero_test().df  # z: 2 ratings per unit
    (0.4667, 0.5312, None)
    """
    if name not in ANALYTIC:
        raise InputError(f"unknown coefficient {name!r}; use one of {', '.join(ANALYTIC)}")
    if weights is None:
        weights = "quadratic" if name == "gwet_ac2" else "identity"
    if name in _FAMILY:
        counts, q = _counts(ratings, categories)
        return gwet_family(_FAMILY[name], counts, weight_matrix(q, weights))
    if isinstance(ratings, CountTable):
        raise InputError(f"{name} needs each rater's ratings, not a count table")
    t = matrix_table(ratings, categories)
    w = weight_matrix(t.q, weights)
    if name == "conger_kappa":
        return conger(t.codes, t.q, w)
    t = _two(t, categories)
    both = (t.codes[:, 0] >= 0) & (t.codes[:, 1] >= 0)
    if name == "scott_pi":
        return gwet_family("fleiss_kappa", t.counts()[both], w)
    joint = np.zeros((t.q, t.q))
    np.add.at(joint, (t.codes[both, 0], t.codes[both, 1]), 1.0)
    return cohen(joint, w)


def kappa_table(table: Any, weights: Any = "identity") -> Analytic:
    """Cohen's kappa of a q x q contingency table (rows = rater 1; fractional counts allowed).

    Returns the :class:`~eval.variance.Analytic` result: ``se`` (Fleiss, Cohen & Everitt
    1969, as statsmodels' ``std_kappa``), ``se_null`` (``std_kappa0``), ``p_e``.

    Examples
    --------
    >>> res = kappa_table([[20, 5], [10, 15]])
    >>> round(res.estimate, 4), round(res.se, 4)
    (0.4, 0.127)
    """
    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InputError("a contingency table must be square (q x q)")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InputError("contingency counts must be finite and not negative")
    return cohen(arr, weight_matrix(arr.shape[0], weights))


# ------------------------------------------------------------------ multi-label codes
def _label_set(value: Any) -> frozenset[str] | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return frozenset([value])  # a single code
    try:
        return frozenset(str(v) for v in value)
    except TypeError:
        raise InputError(
            f"a multi-label rating must be a set or list of codes, got {value!r}"
        ) from None


def multilabel_alpha(ratings: Any, distance: str = "masi") -> float:
    """Krippendorff's alpha of multi-label ratings with the MASI distance (Passonneau 2006).

    ``ratings`` is a units x raters matrix whose cells are collections of codes (a set, list
    or tuple; a string is one code; ``None`` = not rated; an empty set = rated, no code). The
    result equals nltk's ``AnnotationTask(distance=masi_distance).alpha()`` on the same sets,
    except that a degenerate table gives NaN (nltk returns 1). Pitfalls: see ``docs/eval.md``
    (MASI's partial-credit steps are conventions, the distance enters alpha unsquared, and
    per-code binary agreement is usually easier to read).

    Examples
    --------
    >>> round(multilabel_alpha([[["a"], ["a"]], [["a", "b"], ["a", "b"]], [["a"], ["a", "b"]]]), 4)
    0.4444
    """
    if distance != "masi":
        raise InputError(f"unknown set distance {distance!r}; use 'masi'")
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        arr = np.empty((len(ratings), len(ratings[0]) if len(ratings) else 0), dtype=object)
        for i, row in enumerate(ratings):
            for j, cell in enumerate(row):
                arr[i, j] = cell
    values = [[_label_set(cell) for cell in row] for row in arr]
    return set_alpha(values, masi_distance)


def label_sets(annotations: Any, family: str, yes: str = "1") -> Any:
    """Units x raters label sets of a multi-label family of binary schemes ``family/<code>``.

    edudial stores a multi-label rubric as one yes/no scheme per code (``sight/confusion``,
    ...); this reassembles each rater's set of codes per unit (``None`` when the rater rated no
    code of the unit) for :func:`multilabel_alpha`. Returns a pandas DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"unit_id": ["u", "u", "u", "u"], "rater": ["A", "A", "B", "B"],
    ...                   "scheme": ["f/x", "f/y", "f/x", "f/y"], "label": ["1", "1", "1", "0"]})
    >>> label_sets(a, "f").loc["u", "B"] == frozenset({"x"})
    True
    """

    frame = annotations.annotations if hasattr(annotations, "annotations") else annotations
    prefix = family.rstrip("/") + "/"
    rows = frame[frame["scheme"].astype(str).str.startswith(prefix)]
    if rows.empty:
        raise InputError(f"no schemes named {prefix}<code> in the annotations")
    code = rows["scheme"].astype(str).str[len(prefix) :]
    chosen = code.where(rows["label"].astype(str).str.strip() == yes)
    keys = [rows["unit_id"].astype(str), rows["rater"].astype(str)]
    sets = chosen.groupby(keys).agg(lambda c: frozenset(c.dropna()))
    return sets.unstack("rater").astype(object).where(lambda t: t.notna(), None)


def multilabel_to_binary(annotations: Any, scheme: str, sep: str | None = None) -> Any:
    """Long multi-label annotations of ``scheme`` as one binary scheme per code.

    Each row's label is a list of codes (or a string joined by ``sep``); the result has, for
    every unit and rater, a row ``scheme/<code>`` with label ``"1"`` or ``"0"`` for every code
    seen, so :func:`eval.agreement` gives agreement per code and the family summary.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"unit_id": ["u", "u"], "scheme": "m", "rater": ["A", "B"],
    ...                   "label": ["x;y", "x"]})
    >>> b = multilabel_to_binary(a, "m", sep=";")
    >>> sorted(map(tuple, b.loc[b["rater"] == "B", ["scheme", "label"]].to_numpy()))
    [('m/x', '1'), ('m/y', '0')]
    """
    import pandas as pd

    frame = annotations.annotations if hasattr(annotations, "annotations") else annotations
    rows = frame[frame["scheme"] == scheme]
    if rows.empty:
        raise InputError(f"no annotations for scheme {scheme!r}")
    labels = [
        _label_set(v.split(sep) if sep is not None and isinstance(v, str) else v)
        for v in rows["label"]
    ]
    rated = np.array([s is not None for s in labels], dtype=bool)
    sets = [frozenset(c.strip() for c in s) for s in labels if s is not None]
    codes = sorted({c for s in sets for c in s if c})
    base = rows.loc[rated, [c for c in rows.columns if c not in ("scheme", "label")]]
    out = [
        base.assign(scheme=f"{scheme}/{code}", label=["1" if code in s else "0" for s in sets])
        for code in codes
    ]
    return pd.concat(out, ignore_index=True) if out else rows.iloc[0:0]
