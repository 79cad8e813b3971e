"""Turn a long annotations table into a units x raters matrix of category codes.

The matrix is the input of every coefficient. Categories, their order and the level of measurement
are explicit: the declared category list (the codebook) is kept whole, unused categories included;
missing ratings are never a category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import InputError

__all__ = ["LEVELS", "RatingTable", "ratings_table", "wide_to_long"]

LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
_MISSING_STRINGS = {""}


def _canon_number(text: str) -> str:
    """``"1.0"`` -> ``"1"``, ``"2.50"`` -> ``"2.5"`` (numbers compare by value, not spelling)."""
    v = float(text)
    return str(int(v)) if v.is_integer() else repr(v)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


@dataclass
class RatingTable:
    """Ratings of one scheme as a units x raters matrix of category codes.

    Attributes
    ----------
    scheme : str
        Scheme name.
    units : list of str
        Unit ids (rows).
    raters : list of str
        Rater names (columns).
    categories : list of str
        Declared categories in codebook order; ``codes`` index into it.
    codes : numpy.ndarray
        ``int64`` array (units x raters); ``-1`` marks a missing rating.
    level : str
        Level of measurement: ``nominal``, ``ordinal``, ``interval`` or ``ratio``.
    scores : numpy.ndarray or None
        Numeric value of each category (interval/ratio and ICC); ``None`` when not numeric.
    clusters : numpy.ndarray or None
        Cluster (dialogue) of each unit, for the cluster bootstrap.
    categories_source : str
        ``declared``, ``binary`` (labels within 0/1), ``observed`` or ``observed-numeric``.
    rater_kinds : dict
        Rater -> ``human``/``model``/``rule`` when known.

    Examples
    --------
    >>> import numpy as np
    >>> t = RatingTable("s", ["u1", "u2"], ["A", "B"], ["no", "yes"],
    ...                 np.array([[0, 0], [1, -1]]), "nominal")
    >>> t.counts().tolist()
    [[2, 0], [0, 1]]
    """

    scheme: str
    units: list[str]
    raters: list[str]
    categories: list[str]
    codes: np.ndarray
    level: str = "nominal"
    scores: np.ndarray | None = None
    clusters: np.ndarray | None = None
    categories_source: str = "declared"
    rater_kinds: dict[str, str] = field(default_factory=dict)
    count_cache: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n_units(self) -> int:
        return int(self.codes.shape[0])

    @property
    def q(self) -> int:
        return len(self.categories)

    def counts(self) -> np.ndarray:
        """Units x categories count table ``r_ik`` (missing ratings not counted; read-only)."""
        if self.count_cache is not None:
            return self.count_cache
        n, q = self.codes.shape[0], self.q
        flat = np.where(self.codes >= 0, np.arange(n)[:, None] * q + self.codes, n * q)
        counts = np.bincount(flat.ravel(), minlength=n * q + 1)[:-1]
        return counts.reshape(n, q).astype(np.int64)

    def select(self, raters: Sequence[str]) -> RatingTable:
        """A table restricted to ``raters`` (in that order); units keep their rows."""
        missing = [r for r in raters if r not in self.raters]
        if missing:
            raise InputError(
                f"scheme {self.scheme!r} has no rater(s) {', '.join(missing)}; "
                f"raters are {', '.join(self.raters)}"
            )
        idx = [self.raters.index(r) for r in raters]
        return RatingTable(
            self.scheme,
            self.units,
            list(raters),
            self.categories,
            self.codes[:, idx],
            self.level,
            self.scores,
            self.clusters,
            self.categories_source,
            {r: self.rater_kinds[r] for r in raters if r in self.rater_kinds},
        )

    def rated_units(self, min_ratings: int = 1) -> RatingTable:
        """A table keeping only units with at least ``min_ratings`` ratings."""
        return self.subset_units((self.codes >= 0).sum(axis=1) >= min_ratings)

    def subset_units(self, keep: np.ndarray) -> RatingTable:
        """A table keeping the units (rows) where the boolean mask ``keep`` is true."""
        return RatingTable(
            self.scheme,
            [u for u, k in zip(self.units, keep, strict=True) if k],
            self.raters,
            self.categories,
            self.codes[keep],
            self.level,
            self.scores,
            None if self.clusters is None else self.clusters[keep],
            self.categories_source,
            dict(self.rater_kinds),
            None if self.count_cache is None else self.count_cache[keep],
        )


def _resolve_categories(
    scheme: str, observed: list[str], declared: Sequence[str] | None, level: str
) -> tuple[list[str], str]:
    if declared is not None:
        cats = [str(c) for c in declared]
        if len(set(cats)) != len(cats):
            raise InputError(f"scheme {scheme!r}: declared categories repeat a value: {cats}")
        known = set(cats)
        if observed and all(_is_number(v) for v in observed) and all(map(_is_number, cats)):
            known = {_canon_number(c) for c in cats}
        extra = sorted(set(observed) - known)
        if extra:
            raise InputError(
                f"scheme {scheme!r}: label(s) {', '.join(map(repr, extra[:5]))} are not among the "
                f"declared categories {', '.join(cats)}"
            )
        return cats, "declared"
    if set(observed) <= {"0", "1"}:
        return ["0", "1"], "binary"
    if all(_is_number(v) for v in observed):
        return sorted(observed, key=float), "observed-numeric"
    if level != "nominal":
        raise InputError(
            f"scheme {scheme!r}: level {level!r} needs the category order; declare it, e.g. "
            f"--categories {','.join(sorted(observed)[:5])} (labels are not numbers)"
        )
    return sorted(observed), "observed"


def _scheme_rows(annotations: pd.DataFrame, scheme: str, level: str) -> pd.DataFrame:
    """The rows of ``scheme`` (after checking the level and the required columns)."""
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    for col in ("unit_id", "scheme", "label", "rater"):
        if col not in annotations.columns:
            raise InputError(f"annotations lack column {col!r}", field=col)
    in_scheme = (annotations["scheme"] == scheme).to_numpy(dtype=bool, na_value=False)
    sub = annotations if in_scheme.all() else annotations[in_scheme]
    if len(sub) == 0:
        known = ", ".join(map(str, pd.unique(annotations["scheme"])[:10]))
        raise InputError(f"no annotations for scheme {scheme!r} (schemes: {known})")
    return sub


@dataclass
class _Rows:
    """Each annotation row of one scheme as integer codes: its unit, rater and raw label."""

    scheme: str
    sub: pd.DataFrame
    unit: np.ndarray
    unit_names: pd.Index
    rater: np.ndarray
    rater_names: list[str]
    label: np.ndarray
    label_text: list[str]
    multi_corpus: bool  # units keyed "corpus/unit_id"


def _factorize(sub: pd.DataFrame, scheme: str) -> _Rows:
    # units of different corpora may share ids: key them by corpus when several are present
    multi = "corpus" in sub.columns and sub["corpus"].nunique(dropna=False) > 1
    unit_key = (
        (sub["corpus"].astype(str) + "/" + sub["unit_id"].astype(str)) if multi else sub["unit_id"]
    )
    u_codes, u_names = pd.factorize(unit_key)
    r_codes, r_names = pd.factorize(sub["rater"])
    if (u_codes < 0).any():
        raise InputError(f"scheme {scheme!r}: unit_id is missing in some rows", field="unit_id")
    if (r_codes < 0).any():
        raise InputError(f"scheme {scheme!r}: rater is missing in some rows", field="rater")
    lab_codes, lab_names = pd.factorize(sub["label"])
    return _Rows(
        scheme,
        sub,
        u_codes,
        pd.Index(u_names),
        r_codes,
        [str(r) for r in r_names],
        lab_codes,
        [str(x).strip() for x in lab_names],
        multi,
    )


def _observed_labels(rows: _Rows, raters: Sequence[str] | None) -> list[str]:
    """Distinct non-empty labels given by the kept raters, in order of appearance."""
    text = rows.label_text
    observed_mask = np.zeros(len(text), dtype=bool)
    if text:
        present = np.bincount(rows.label[rows.label >= 0], minlength=len(text)) > 0
        observed_mask = present & np.array([t not in _MISSING_STRINGS for t in text])
    if raters is not None:
        wanted = set(map(str, raters))
        keep = np.array([r in wanted for r in rows.rater_names], dtype=bool)[rows.rater]
        kept = rows.label[keep]
        observed_mask &= np.bincount(kept[kept >= 0], minlength=len(text)) > 0
    return list(dict.fromkeys(t for t, m in zip(text, observed_mask, strict=True) if m))


def _category_codes(
    rows: _Rows, observed: list[str], categories: Sequence[str] | None, level: str
) -> tuple[np.ndarray, list[str], str]:
    """Each row's category code (-1 = missing), the categories and where they came from."""
    numeric = (
        bool(observed)
        and all(_is_number(v) for v in observed)
        and (categories is None or all(_is_number(str(c)) for c in categories))
    )
    text = rows.label_text
    if numeric:  # "1" and "1.0" are the same category
        text = [_canon_number(t) if _is_number(t) else t for t in text]
        observed = list(dict.fromkeys(_canon_number(v) for v in observed))
    cats, source = _resolve_categories(rows.scheme, observed, categories, level)
    lookup = {(_canon_number(c) if numeric else c): i for i, c in enumerate(cats)}
    to_cat = np.array([lookup.get(t, -1) for t in text] + [-1], dtype=np.int64)
    return to_cat[rows.label], cats, source  # label code -1 (NaN) indexes the trailing -1


def _check_duplicates(rows: _Rows, flat: np.ndarray) -> None:
    if np.bincount(flat, minlength=1).max(initial=0) > 1:
        i = int(np.flatnonzero(pd.Series(flat).duplicated().to_numpy())[0])
        raise InputError(
            f"scheme {rows.scheme!r}: rater {rows.rater_names[rows.rater[i]]!r} rated unit "
            f"{rows.unit_names[rows.unit[i]]!r} more than once (filter one run_id or rename "
            "the raters)"
        )


def _code_matrix(
    rows: _Rows, codes: np.ndarray, q: int, raters: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Units x raters codes, units x categories counts of the kept raters, rater order."""
    n_units, n_raters = len(rows.unit_names), len(rows.rater_names)
    flat = rows.unit.astype(np.int64) * n_raters + rows.rater
    _check_duplicates(rows, flat)
    matrix = np.full((n_units, n_raters), -1, dtype=np.int64)
    matrix.ravel()[flat] = codes
    counted = codes >= 0
    rater_list = list(rows.rater_names)
    if raters is not None:
        raters = [str(r) for r in raters]
        counted &= np.isin(rows.rater, [i for i, r in enumerate(rater_list) if r in set(raters)])
        absent = [r for r in raters if r not in rater_list]
        if absent:
            raise InputError(f"scheme {rows.scheme!r} has no ratings by {', '.join(absent)}")
        matrix = matrix[:, [rater_list.index(r) for r in raters]]
        rater_list = raters
    cell = rows.unit.astype(np.int64) * q + codes
    counts = np.bincount(cell if counted.all() else cell[counted], minlength=n_units * q)
    return matrix, counts.reshape(n_units, q), rater_list


def _scores(cats: list[str], level: str, scheme: str) -> np.ndarray | None:
    if all(_is_number(c) for c in cats):
        return np.array([float(c) for c in cats])
    if level in ("interval", "ratio"):
        raise InputError(
            f"scheme {scheme!r}: level {level!r} needs numeric categories, got {cats[:5]}"
        )
    return None


def _rater_kinds(rows: _Rows) -> dict[str, str]:
    """Rater -> rater_kind of its first row (when the column exists and holds text)."""
    if "rater_kind" not in rows.sub.columns:
        return {}
    _, first = np.unique(rows.rater, return_index=True)
    kind_col = rows.sub["rater_kind"].to_numpy()
    return {
        rows.rater_names[j]: kind_col[i]
        for j, i in enumerate(first)
        if isinstance(kind_col[i], str)
    }


def _unit_clusters(rows: _Rows, clusters: Mapping[Any, Any], units: list[str]) -> np.ndarray:
    """Cluster of each unit: ``(corpus, unit_id)`` or ``unit_id`` key, else the unit itself."""
    _, first = np.unique(rows.unit, return_index=True)
    raw_units = rows.sub["unit_id"].astype(str).to_numpy()[first]
    has_corpus = "corpus" in rows.sub.columns
    corp = rows.sub["corpus"].astype(str).to_numpy()[first] if has_corpus else None
    values = []
    for j, u in enumerate(raw_units):
        c = clusters.get((str(corp[j]), u)) if corp is not None else None
        if c is None:
            c = clusters.get(u)
        if c is None:
            values.append(units[j])  # unknown unit: its own cluster
        else:
            values.append(f"{corp[j]}/{c}" if rows.multi_corpus and corp is not None else str(c))
    return np.asarray(values, dtype=object)


def ratings_table(
    annotations: pd.DataFrame,
    scheme: str,
    *,
    categories: Sequence[str] | None = None,
    level: str = "nominal",
    raters: Sequence[str] | None = None,
    clusters: Mapping[Any, Any] | None = None,
) -> RatingTable:
    """Pivot the long annotations of one scheme to a units x raters code matrix.

    Parameters
    ----------
    annotations : pandas.DataFrame
        Long table with at least ``unit_id, scheme, label, rater`` (``rater_kind`` optional).
    scheme : str
        The scheme to take.
    categories : sequence of str, optional
        Declared categories in codebook order. Default: ``["0", "1"]`` when every label is 0/1,
        numeric labels in numeric order, otherwise (nominal only) the sorted observed labels.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement.
    raters : sequence of str, optional
        Raters to keep (columns in this order); default all, in order of appearance.
    clusters : mapping, optional
        ``unit_id`` (or ``(corpus, unit_id)``) -> cluster id (dialogue), for the cluster bootstrap.

    Returns
    -------
    RatingTable

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"unit_id": ["u1", "u1", "u2"], "scheme": "s", "label": ["1", "1", "0"],
    ...                   "rater": ["A", "B", "A"]})
    >>> t = ratings_table(a, "s")
    >>> t.categories, t.codes.tolist()
    (['0', '1'], [[1, 1], [0, -1]])
    """
    rows = _factorize(_scheme_rows(annotations, scheme, level), scheme)
    observed = _observed_labels(rows, raters)
    codes, cats, source = _category_codes(rows, observed, categories, level)
    matrix, counts, rater_list = _code_matrix(rows, codes, len(cats), raters)
    scores = _scores(cats, level, scheme)
    kinds = _rater_kinds(rows)
    units = rows.unit_names.astype(str).tolist()
    cl = None if clusters is None else _unit_clusters(rows, clusters, units)
    rated = counts.sum(axis=1) > 0
    if not rated.all():
        matrix, counts = matrix[rated], counts[rated]
        units = [u for u, k in zip(units, rated.tolist(), strict=True) if k]
        cl = None if cl is None else cl[rated]
    return RatingTable(
        scheme,
        units,
        rater_list,
        cats,
        matrix,
        level,
        scores,
        cl,
        source,
        {r: kinds[r] for r in rater_list if r in kinds},
        counts,
    )


def wide_to_long(frame: pd.DataFrame, unit_col: str, *, scheme: str = "wide") -> pd.DataFrame:
    """Turn a wide table (one column per rater) into the long annotations layout.

    Examples
    --------
    >>> import pandas as pd
    >>> w = pd.DataFrame({"id": ["a", "b"], "R1": ["1", "2"], "R2": ["1", None]})
    >>> wide_to_long(w, "id")[["unit_id", "rater", "label"]].values.tolist()
    [['a', 'R1', '1'], ['b', 'R1', '2'], ['a', 'R2', '1']]
    """
    if unit_col not in frame.columns:
        raise InputError(f"no column {unit_col!r} in the wide table", field=unit_col)
    if frame[unit_col].duplicated().any():
        dup = frame.loc[frame[unit_col].duplicated(), unit_col].iloc[0]
        raise InputError(f"unit id {dup!r} appears twice in column {unit_col!r}", field=unit_col)
    long = frame.melt(id_vars=[unit_col], var_name="rater", value_name="label")
    long = long[long["label"].notna()]
    long = long[long["label"].astype(str).str.strip() != ""]
    labels = [
        str(int(v)) if isinstance(v, float) and float(v).is_integer() else str(v)
        for v in long["label"]
    ]
    return pd.DataFrame(
        {
            "unit_id": long[unit_col].astype(str).to_numpy(),
            "scheme": scheme,
            "label": labels,
            "rater": long["rater"].astype(str).to_numpy(),
            "rater_kind": "human",
        }
    )
