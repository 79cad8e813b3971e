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
    # units of different corpora may share ids: key them by corpus when several are present
    multi = "corpus" in sub.columns and sub["corpus"].nunique(dropna=False) > 1
    unit_key = (
        (sub["corpus"].astype(str) + "/" + sub["unit_id"].astype(str))
        if multi
        else (sub["unit_id"])
    )
    u_codes, u_names = pd.factorize(unit_key)
    r_codes, r_names = pd.factorize(sub["rater"])
    if (u_codes < 0).any():
        raise InputError(f"scheme {scheme!r}: unit_id is missing in some rows", field="unit_id")
    if (r_codes < 0).any():
        raise InputError(f"scheme {scheme!r}: rater is missing in some rows", field="rater")
    lab_codes, lab_names = pd.factorize(sub["label"])
    lab_text = [str(x).strip() for x in lab_names]
    observed_mask = np.zeros(len(lab_text), dtype=bool)
    if len(lab_text):
        present = np.bincount(lab_codes[lab_codes >= 0], minlength=len(lab_text)) > 0
        observed_mask = present & np.array([t not in _MISSING_STRINGS for t in lab_text])
    if raters is not None:
        r_text = [str(r) for r in r_names]
        wanted = np.array([r in set(map(str, raters)) for r in r_text], dtype=bool)
        keep = wanted[r_codes]
        sub_codes = lab_codes[keep]
        used = np.bincount(sub_codes[sub_codes >= 0], minlength=len(lab_text)) > 0
        observed_mask &= used
    observed = list(dict.fromkeys(t for t, m in zip(lab_text, observed_mask, strict=True) if m))
    numeric = (
        bool(observed)
        and all(_is_number(v) for v in observed)
        and (categories is None or all(_is_number(str(c)) for c in categories))
    )
    if numeric:  # "1" and "1.0" are the same category
        lab_text = [_canon_number(t) if _is_number(t) else t for t in lab_text]
        observed = list(dict.fromkeys(_canon_number(v) for v in observed))
    cats, source = _resolve_categories(scheme, observed, categories, level)
    lookup = {(_canon_number(c) if numeric else c): i for i, c in enumerate(cats)}
    to_cat = np.array([lookup.get(t, -1) for t in lab_text] + [-1], dtype=np.int64)
    l_codes = to_cat[lab_codes]  # code -1 (NaN) indexes the trailing -1
    flat = u_codes.astype(np.int64) * len(r_names) + r_codes
    if np.bincount(flat, minlength=1).max(initial=0) > 1:
        dup = pd.Series(flat).duplicated().to_numpy()
        i = int(np.flatnonzero(dup)[0])
        raise InputError(
            f"scheme {scheme!r}: rater {r_names[r_codes[i]]!r} rated unit "
            f"{u_names[u_codes[i]]!r} more than once (filter one run_id or rename the raters)"
        )
    codes = np.full((len(u_names), len(r_names)), -1, dtype=np.int64)
    codes.ravel()[flat] = l_codes
    row_ok = l_codes >= 0
    if raters is not None:
        row_ok &= np.isin(
            r_codes, [i for i, r in enumerate(map(str, r_names)) if r in set(map(str, raters))]
        )
    q = len(cats)
    all_ok = bool(row_ok.all())
    cell = u_codes.astype(np.int64) * q + l_codes
    counts = np.bincount(cell if all_ok else cell[row_ok], minlength=len(u_names) * q).reshape(
        len(u_names), q
    )
    rater_list = [str(r) for r in r_names]
    if raters is not None:
        raters = [str(r) for r in raters]
        absent = [r for r in raters if r not in rater_list]
        if absent:
            raise InputError(f"scheme {scheme!r} has no ratings by {', '.join(absent)}")
        order = [rater_list.index(r) for r in raters]
        codes, rater_list = codes[:, order], list(raters)
    scores = None
    if all(_is_number(c) for c in cats):
        scores = np.array([float(c) for c in cats])
    elif level in ("interval", "ratio"):
        raise InputError(
            f"scheme {scheme!r}: level {level!r} needs numeric categories, got {cats[:5]}"
        )
    kinds: dict[str, str] = {}
    if "rater_kind" in sub.columns:
        _, first = np.unique(r_codes, return_index=True)
        kind_col = sub["rater_kind"].to_numpy()
        for j, i in enumerate(first):
            k = kind_col[i]
            if isinstance(k, str):
                kinds[str(r_names[j])] = k
    units_list = pd.Index(u_names).astype(str).tolist()
    cl = None
    if clusters is not None:
        _, first_u = np.unique(u_codes, return_index=True)
        raw_units = sub["unit_id"].astype(str).to_numpy()[first_u]
        corp = sub["corpus"].astype(str).to_numpy()[first_u] if "corpus" in sub.columns else None
        values = []
        for j, u in enumerate(raw_units):
            c = clusters.get((str(corp[j]), u)) if corp is not None else None
            if c is None:
                c = clusters.get(u)
            if c is None:
                values.append(units_list[j])  # unknown unit: its own cluster
            else:
                values.append(f"{corp[j]}/{c}" if multi and corp is not None else str(c))
        cl = np.asarray(values, dtype=object)
    rated = np.ones(len(units_list), dtype=bool) if all_ok else counts.sum(axis=1) > 0
    if not rated.all():
        codes = codes[rated]
        counts = counts[rated]
        units_list = [u for u, k in zip(units_list, list(rated), strict=True) if k]
        cl = None if cl is None else cl[rated]
    return RatingTable(
        scheme,
        units_list,
        rater_list,
        cats,
        codes,
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
