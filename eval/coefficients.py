"""Agreement coefficients as functions of per-unit sufficient statistics.

Every coefficient is written as ``value = f(sum over units of S_u)`` where ``S_u`` is a small vector
of per-unit statistics. The point estimate sums over all units; a bootstrap replicate sums with
multinomial unit weights, so all replicates are one matrix product (see :mod:`eval.bootstrap`).
Formulas follow ``docs/eval.md`` (Gwet's generalisation for unequal numbers of raters per unit,
Krippendorff's coincidences for alpha).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np

from eval.data import RatingTable
from toolkit.errors import InputError

__all__ = [
    "WEIGHTS",
    "Stat",
    "alpha_stat",
    "alpha_value",
    "conger_stat",
    "family_stat",
    "masi_distance",
    "pair_stat",
    "read_weights",
    "set_alpha",
    "weight_matrix",
]

WEIGHTS: tuple[str, ...] = (
    "identity",
    "linear",
    "quadratic",
    "ordinal",
    "radical",
    "ratio",
    "circular",
    "bipolar",
)
_EPS = 1e-12


def _normalised(distance: np.ndarray) -> np.ndarray:
    """``1 - d / max d`` (all ones when every distance is zero)."""
    top = distance.max()
    return np.ones_like(distance) if top <= 0 else 1.0 - distance / top


def _gwet_weights(kind: str, k: np.ndarray) -> np.ndarray:
    """Gwet (2014, ch. 3) weights on the positions ``k`` = 1..q (see :func:`weight_matrix`)."""
    a, b = k[:, None], k[None, :]
    lo, hi = k[0], k[-1]
    if kind == "ordinal":
        n_kl = np.abs(a - b) + 1
        return _normalised(n_kl * (n_kl - 1) / 2)
    if kind == "radical":
        return 1.0 - np.sqrt(np.abs(a - b)) / np.sqrt(hi - lo)
    if kind == "ratio":
        return 1.0 - ((a - b) / (a + b)) ** 2 / ((hi - lo) / (hi + lo)) ** 2
    if kind == "circular":
        return _normalised(np.sin(np.pi * (a - b) / (hi - lo + 1)) ** 2)
    # bipolar
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (a - b) ** 2 / ((a + b - 2 * lo) * (2 * hi - a - b))
    return _normalised(np.where(a == b, 0.0, d))


def weight_matrix(q: int, kind: str | np.ndarray = "identity") -> np.ndarray:
    """Agreement weights ``w_kl`` on category positions 1..q (codebook order).

    ``kind`` is one of :data:`WEIGHTS` or a q x q matrix (custom weights, e.g. from
    :func:`read_weights`: symmetric, between 0 and 1, ones on the diagonal). Linear
    ``1 - |k-l|/(q-1)`` and quadratic ``1 - (k-l)^2/(q-1)^2`` as usual; ordinal, radical,
    ratio, circular and bipolar are Gwet's (Handbook of Inter-Rater Reliability, 4th ed., ch. 3;
    R ``irrCAC``), computed on the positions 1..q: irrCAC uses the numeric category labels
    instead, which is the same when the labels are 1..q.

    Examples
    --------
    >>> weight_matrix(3, "linear").tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    >>> weight_matrix(3, "ordinal").round(4).tolist()
    [[1.0, 0.6667, 0.0], [0.6667, 1.0, 0.6667], [0.0, 0.6667, 1.0]]
    >>> weight_matrix(2, [[1, 0.5], [0, 1]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    toolkit.errors.InputError: custom weights: the matrix must be symmetric, but w[1,2] = 0.5 ...
    """
    if not isinstance(kind, str):
        return _check_custom(np.asarray(kind, dtype=float), q)
    if kind not in WEIGHTS:
        raise InputError(f"unknown weights {kind!r}; use one of {', '.join(WEIGHTS)}")
    if kind == "identity" or q < 2:
        return np.eye(q)
    k = np.arange(1, q + 1, dtype=float)
    if kind in ("linear", "quadratic"):
        d = np.abs(k[:, None] - k[None, :]) / (q - 1)
        return 1.0 - d if kind == "linear" else 1.0 - d**2
    return _gwet_weights(kind, k)


def _check_custom(w: np.ndarray, q: int) -> np.ndarray:
    problems = []
    if w.shape != (q, q):
        problems.append(f"the matrix is {' x '.join(map(str, w.shape))}, not {q} x {q}")
    elif not np.isfinite(w).all():
        problems.append("it holds a missing or infinite value")
    else:
        if (w < 0).any() or (w > 1).any():
            problems.append("weights must lie between 0 and 1")
        if not np.allclose(np.diag(w), 1.0):
            problems.append("the diagonal (agreement on the same category) must be 1")
        if not np.allclose(w, w.T):
            # The multi-rater formulas count each pair of raters both ways (w_kl + w_lk) while
            # the two-rater ones use w_kl: a non-symmetric matrix makes them disagree, and
            # every weight family of Gwet's handbook is symmetric.
            a, b = np.argwhere(~np.isclose(w, w.T))[0]
            problems.append(
                f"the matrix must be symmetric, but w[{a + 1},{b + 1}] = {w[a, b]:g} and "
                f"w[{b + 1},{a + 1}] = {w[b, a]:g}"
            )
    if problems:
        raise InputError("custom weights: " + "; ".join(problems))
    return w


def read_weights(path: str | Path, categories: Sequence[str] | None = None) -> np.ndarray:
    r"""A custom weight matrix from a CSV file (q rows of q numbers, optional header row).

    With a header, its names must be the declared categories in codebook order (a first
    column of row names is allowed too). Errors name the file and the row.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "w.csv"
    >>> _ = f.write_text("lo,mid,hi\n1,0.5,0\n0.5,1,0.5\n0,0.5,1\n")
    >>> read_weights(f, ["lo", "mid", "hi"])[0].tolist()
    [1.0, 0.5, 0.0]
    """
    path = Path(path)
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the weights file ({exc})", path=path) from None
    rows = [[c.strip() for c in ln.split(",")] for ln in lines]
    names = [str(c) for c in categories] if categories is not None else None
    has_header = bool(rows) and (
        not all(_numeric(c) for c in rows[0] if c)
        or (names is not None and rows[0][-len(names) :] == names and len(rows) == len(names) + 1)
    )
    if has_header:
        _check_header(rows[0], categories, path)
        rows = rows[1:]
    matrix = []
    for i, row in enumerate(rows, start=2 if has_header else 1):
        cells = row[1:] if row and not _numeric(row[0]) else row
        if not all(_numeric(c) for c in cells):
            raise InputError(f"line {i}: weights must be numbers, got {row}", path=path)
        matrix.append([float(c) for c in cells])
    if len({len(r) for r in matrix}) > 1:
        raise InputError("rows have different numbers of weights", path=path)
    q = len(categories) if categories is not None else len(matrix)
    try:
        return _check_custom(np.array(matrix, dtype=float), q)
    except InputError as exc:
        raise InputError(str(exc), path=path) from None


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_header(header: list[str], categories: Sequence[str] | None, path: Path) -> None:
    names = header[1:] if len(header) > 1 and header[0] == "" else header
    if categories is not None and [str(c) for c in categories] != names:
        raise InputError(
            f"line 1: the header {names} is not the declared category order "
            f"{[str(c) for c in categories]}",
            path=path,
        )


@dataclass
class Stat:
    """A coefficient as ``fn(column sums of S)``.

    Attributes
    ----------
    name : str
        Coefficient name.
    S : numpy.ndarray
        Per-unit statistics (units x m).
    fn : callable
        Maps sums (B x m) to values (B,); NaN marks an undefined value.
    n : int
        Number of units the coefficient uses.
    """

    name: str
    S: np.ndarray
    fn: Callable[[np.ndarray], np.ndarray]
    n: int

    def value(self) -> float:
        """The point estimate (sum over all units)."""
        return float(self.fn(self.S.sum(axis=0, keepdims=True))[0])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(np.abs(den) < _EPS, np.nan, out)


def _chance_corrected(pa: np.ndarray, pe: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (pa - pe) / (1.0 - pe)
    return np.where(np.abs(1.0 - pe) < _EPS, np.nan, out)


# ---------------------------------------------------------------- Gwet's generalised family
def family_parts(counts: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Per-unit pieces of the multi-rater coefficients (Gwet 2014, irrCAC).

    Returns ``r`` (ratings per unit), ``pa_i`` (unit agreement, 0 when r < 2), ``ind2``, ``ind1``
    and ``pik`` (``r_ik / r_i``, 0 when r = 0).
    """
    c = counts.astype(float)
    r = c.sum(axis=1)
    rstar = c @ w.T
    ind2 = (r >= 2).astype(float)
    ind1 = (r >= 1).astype(float)
    den = np.where(r >= 2, r * (r - 1), 1.0)
    pa_i = (c * (rstar - 1.0)).sum(axis=1) / den * ind2
    pik = c / np.where(r >= 1, r, 1.0)[:, None]
    return {"r": r, "pa_i": pa_i, "ind2": ind2, "ind1": ind1, "pik": pik}


def family_stat(name: str, counts: np.ndarray, w: np.ndarray) -> Stat:
    """Percent agreement, Fleiss' kappa, Gwet's AC1/AC2 or Brennan-Prediger from a count table.

    ``name`` is one of ``percent_agreement``, ``fleiss_kappa``, ``gwet_ac``, ``brennan_prediger``.
    Units with at least 2 ratings give the observed agreement; units with at least one give the
    category prevalences ``pi_k``.
    """
    q = counts.shape[1]
    p = family_parts(counts, w)
    S = np.column_stack([p["pa_i"], p["ind2"], p["pik"], p["ind1"]])
    wsum = float(w.sum())

    def fn(T: np.ndarray) -> np.ndarray:
        pa = _ratio(T[:, 0], T[:, 1])
        pi = T[:, 2 : 2 + q] / np.where(T[:, -1:] > 0, T[:, -1:], np.nan)
        if name == "percent_agreement":
            return pa
        if name == "fleiss_kappa":
            pe = np.einsum("bk,kl,bl->b", pi, w, pi)
        elif name == "gwet_ac":
            if q < 2:
                return np.full(len(T), np.nan)
            pe = wsum / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=1)
        elif name == "brennan_prediger":
            if q < 2:
                return np.full(len(T), np.nan)
            pe = np.full(len(T), wsum / q**2)
        else:
            raise ValueError(name)
        return _chance_corrected(pa, pe)

    return Stat(name, S, fn, int(p["ind2"].sum()))


def conger_stat(table: RatingTable, w: np.ndarray) -> Stat:
    """Conger's kappa (multi-rater Cohen): chance agreement from per-rater marginals.

    A rater who rated no unit has no marginals: left out rather than making kappa NaN.
    """
    codes = table.codes[:, (table.codes >= 0).any(axis=0)]
    n, R = codes.shape
    q = table.q
    counts = table.counts()
    p = family_parts(counts, w)
    onehot = np.zeros((n, R * q))
    rows, cols = np.nonzero(codes >= 0)
    onehot[rows, cols * q + codes[rows, cols]] = 1.0
    S = np.column_stack([p["pa_i"], p["ind2"], onehot])

    def fn(T: np.ndarray) -> np.ndarray:
        pa = _ratio(T[:, 0], T[:, 1])
        C = T[:, 2:].reshape(len(T), R, q)
        ng = C.sum(axis=2, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            pgk = C / ng
        if R < 2:
            return np.full(len(T), np.nan)
        pbar = pgk.mean(axis=1)
        dev = pgk - pbar[:, None, :]
        s = np.einsum("bgk,bgl->bkl", dev, dev) / (R - 1)
        pe = np.einsum("kl,bkl->b", w, pbar[:, :, None] * pbar[:, None, :] - s / R)
        return _chance_corrected(pa, pe)

    return Stat("conger_kappa", S, fn, int(p["ind2"].sum()))


# ---------------------------------------------------------------- Krippendorff's alpha
def alpha_delta2(level: str, n_c: np.ndarray, scores: np.ndarray | None) -> np.ndarray:
    """Krippendorff's squared distances ``delta^2_ck`` (B x q x q) for a level of measurement.

    ``n_c`` (B x q) are the pooled value frequencies (needed by the ordinal metric).
    """
    B, q = n_c.shape
    if level == "nominal":
        d = 1.0 - np.eye(q)
        return np.broadcast_to(d, (B, q, q))
    if level == "ordinal":
        cs = np.cumsum(n_c, axis=1)
        d = cs[:, None, :] - cs[:, :, None] + (n_c[:, :, None] - n_c[:, None, :]) / 2.0
        return d**2
    if scores is None:
        raise ValueError(f"level {level!r} needs numeric category scores")
    s = scores.astype(float)
    if level == "interval":
        d = (s[:, None] - s[None, :]) ** 2
    elif level == "ratio":
        tot = s[:, None] + s[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(tot == 0, 0.0, ((s[:, None] - s[None, :]) / tot) ** 2)
    else:
        raise ValueError(f"unknown level {level!r}")
    return np.broadcast_to(d, (B, q, q))


def alpha_stat(counts: np.ndarray, level: str, scores: np.ndarray | None = None) -> Stat:
    """Krippendorff's alpha from per-unit coincidences (units with fewer than 2 values drop out).

    For the nominal level the statistics are compact (``sum_c o_cc`` contributions and the value
    counts); other levels keep the full per-unit coincidence matrix (q^2 columns).
    """
    c = counts.astype(float)
    q = c.shape[1]
    m = c.sum(axis=1)
    pairable = m >= 2
    scale = np.where(pairable, 1.0 / np.where(pairable, m - 1, 1.0), 0.0)
    n_pairable = int(m[pairable].sum())
    if level == "nominal":
        diag = (c * (c - 1.0)).sum(axis=1) * scale
        S = np.column_stack([diag, c * pairable[:, None]])

        def fn_nominal(T: np.ndarray) -> np.ndarray:
            n_c = T[:, 1:]
            n = n_c.sum(axis=1)
            do = n - T[:, 0]
            de = n**2 - (n_c**2).sum(axis=1)
            return 1.0 - (n - 1.0) * _ratio(do, de)

        return Stat("krippendorff_alpha", S, fn_nominal, n_pairable)
    o = (c[:, :, None] * c[:, None, :]).reshape(len(c), q * q)
    o[:, :: q + 1] -= c
    S = o * scale[:, None]

    def fn(T: np.ndarray) -> np.ndarray:
        coinc = T.reshape(len(T), q, q)
        n_c = coinc.sum(axis=2)
        n = n_c.sum(axis=1)
        d2 = alpha_delta2(level, n_c, scores)
        do = np.einsum("bck,bck->b", coinc, d2)
        de = np.einsum("bc,bk,bck->b", n_c, n_c, d2)
        return 1.0 - (n - 1.0) * _ratio(do, de)

    return Stat("krippendorff_alpha", S, fn, n_pairable)


def alpha_value(
    counts: np.ndarray, level: str, scores: np.ndarray | None
) -> tuple[float, str | None]:
    """Alpha from the ``krippendorff`` package (value counts, declared domain, explicit level).

    Returns the value and, when alpha is undefined (NaN), the reason.

    Examples
    --------
    >>> import numpy as np
    >>> value, why = alpha_value(np.array([[2, 0], [0, 2], [1, 1]]), "nominal", None)
    >>> round(value, 4), why
    (0.4444, None)
    """
    pairable = counts[counts.sum(axis=1) >= 2]
    q = counts.shape[1]
    if q < 2:
        return float("nan"), "only one declared category: alpha is undefined"
    if len(pairable) == 0:
        return float("nan"), "no unit has two or more ratings: alpha is undefined"
    if (pairable.sum(axis=0) > 0).sum() < 2:
        return float("nan"), "only one category was used: alpha is undefined (no variation)"
    domain = scores if level in ("interval", "ratio") and scores is not None else np.arange(q)
    try:
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = krippendorff.alpha(
                value_counts=pairable,
                value_domain=domain,
                level_of_measurement=level,  # type: ignore[arg-type]
            )
    except ValueError as exc:
        return float("nan"), f"alpha undefined: {exc}"
    return float(value), None


# ---------------------------------------------------------------- two raters
def pair_joint(codes_a: np.ndarray, codes_b: np.ndarray, q: int) -> np.ndarray:
    """Per-unit one-hot joint cells (units x q*q) for units rated by both (pairwise deletion)."""
    both = (codes_a >= 0) & (codes_b >= 0)
    S = np.zeros((len(codes_a), q * q))
    idx = np.flatnonzero(both)
    S[idx, codes_a[idx] * q + codes_b[idx]] = 1.0
    return S


def pair_value(name: str, T: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Two-rater coefficient from joint counts ``T`` (B x q*q)."""
    q = w.shape[0]
    n = T.sum(axis=1)
    p = T.reshape(len(T), q, q) / np.where(n > 0, n, np.nan)[:, None, None]
    po = np.einsum("kl,bkl->b", w, p)
    row, col = p.sum(axis=2), p.sum(axis=1)
    if name == "percent_agreement":
        return po
    if name == "cohen_kappa":
        pe = np.einsum("kl,bk,bl->b", w, row, col)
    elif name == "scott_pi":
        pi = (row + col) / 2.0
        pe = np.einsum("kl,bk,bl->b", w, pi, pi)
    elif name == "brennan_prediger":
        if q < 2:
            return np.full(len(T), np.nan)
        pe = np.full(len(T), float(w.sum()) / q**2)
    elif name == "gwet_ac":
        if q < 2:
            return np.full(len(T), np.nan)
        pi = (row + col) / 2.0
        pe = float(w.sum()) / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=1)
    else:
        raise ValueError(name)
    return _chance_corrected(po, pe)


def pair_stat(name: str, codes_a: np.ndarray, codes_b: np.ndarray, w: np.ndarray) -> Stat:
    """A two-rater coefficient (Cohen's kappa, Scott's pi, ...) with pairwise deletion."""
    S = pair_joint(codes_a, codes_b, w.shape[0])
    return Stat(name, S, lambda T: pair_value(name, T, w), int(S.sum()))


# ---------------------------------------------------------------- set-valued (multi-label) codes
def masi_distance(a: AbstractSet[Any], b: AbstractSet[Any]) -> float:
    """MASI distance of two label sets (Passonneau 2006): ``1 - J * M``.

    ``J`` is the Jaccard index and ``M`` 1 for equal sets, 2/3 when one contains the other, 1/3
    when they overlap otherwise, 0 when disjoint (nltk's ``masi_distance``). Two empty sets are
    at distance 0.

    Examples
    --------
    >>> round(masi_distance({1, 2}, {1, 2, 3, 4}), 4)
    0.6667
    """
    if not a and not b:
        return 0.0
    inter, union = len(a & b), len(a | b)
    if len(a) == len(b) == inter:
        m = 1.0
    elif inter == min(len(a), len(b)):
        m = 2 / 3
    elif inter > 0:
        m = 1 / 3
    else:
        m = 0.0
    return 1.0 - inter / union * m


def set_alpha(
    values: Sequence[Sequence[frozenset[Any] | None]],
    distance: Callable[[frozenset[Any], frozenset[Any]], float] = masi_distance,
) -> float:
    """Krippendorff's alpha of set-valued ratings (units x raters, ``None`` = missing).

    ``alpha = 1 - (n - 1) sum o_vw d_vw / sum n_v n_w d_vw`` over the distinct sets v, w, with
    coincidences ``o`` from units with two or more ratings and the distance used as the
    disagreement ``delta^2`` itself (as nltk's ``AnnotationTask``). NaN when undefined (no
    pairable unit, or no disagreement is possible).

    Examples
    --------
    >>> a, ab = frozenset("a"), frozenset("ab")
    >>> round(set_alpha([[a, a], [ab, ab], [a, ab], [ab, None]]), 4)
    0.4444
    """
    distinct: dict[frozenset[Any], int] = {}
    cells = [[v for v in row if v is not None] for row in values]
    for row in cells:
        for v in row:
            distinct.setdefault(v, len(distinct))
    counts = np.zeros((len(cells), len(distinct)))
    for i, row in enumerate(cells):
        for v in row:
            counts[i, distinct[v]] += 1
    m = counts.sum(axis=1)
    pairable = counts[m >= 2]
    if len(pairable) == 0:
        return float("nan")
    scale = 1.0 / (pairable.sum(axis=1) - 1)
    coinc = np.einsum("u,uv,uw->vw", scale, pairable, pairable)
    coinc -= np.diag((pairable * scale[:, None]).sum(axis=0))
    n_v = coinc.sum(axis=1)
    sets = list(distinct)
    delta = np.array([[distance(a, b) for b in sets] for a in sets])
    expected = float(np.einsum("v,w,vw->", n_v, n_v, delta))
    if expected <= 0:
        return float("nan")
    return float(1.0 - (n_v.sum() - 1) * float((coinc * delta).sum()) / expected)
