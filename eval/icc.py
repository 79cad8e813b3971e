"""Intraclass correlation coefficients with exact F-based confidence intervals.

Forms are named after McGraw & Wong (1996), with Shrout & Fleiss (1979) in brackets:

=============  ==========================================  =============
form           model                                       Shrout-Fleiss
=============  ==========================================  =============
``ICC(1)``     one-way random, single rater                ICC(1,1)
``ICC(1,k)``   one-way random, mean of k raters            ICC(1,k)
``ICC(A,1)``   two-way random, absolute agreement, single  ICC(2,1)
``ICC(A,k)``   two-way random, absolute agreement, mean    ICC(2,k)
``ICC(C,1)``   two-way, consistency, single                ICC(3,1)
``ICC(C,k)``   two-way, consistency, mean                  ICC(3,k)
=============  ==========================================  =============

Only units rated by every rater are used (listwise deletion). Intervals: F-based for one-way and
consistency forms; McGraw & Wong's approximate-F (Satterthwaite degrees of freedom) for absolute
agreement, single and average (not the psych package's Spearman-Brown-derived ICC(A,k) bounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["ICC_FORMS", "IccResult", "icc"]

ICC_FORMS: dict[str, str] = {
    "ICC(1)": "ICC(1,1)",
    "ICC(1,k)": "ICC(1,k)",
    "ICC(A,1)": "ICC(2,1)",
    "ICC(A,k)": "ICC(2,k)",
    "ICC(C,1)": "ICC(3,1)",
    "ICC(C,k)": "ICC(3,k)",
}


@dataclass
class IccResult:
    """One ICC form: estimate, exact CI, F test and the units/raters used."""

    form: str
    shrout_fleiss: str
    estimate: float
    ci: tuple[float, float]
    F: float
    df1: float
    df2: float
    p_value: float
    n: int
    k: int

    def to_dict(self) -> dict[str, object]:
        return {
            "form": self.form,
            "shrout_fleiss": self.shrout_fleiss,
            "estimate": self.estimate,
            "ci": list(self.ci),
            "ci_method": "exact F (McGraw & Wong 1996)",
            "F": self.F,
            "df1": self.df1,
            "df2": self.df2,
            "p_value": self.p_value,
            "n": self.n,
            "k": self.k,
        }


def _f_bounds(f: float, d1: int, d2: int, a: float) -> tuple[float, float, float]:
    """Lower and upper confidence bounds of the F ratio ``f`` (df ``d1``, ``d2``) and its p."""
    lower = f / stats.f.ppf(1 - a / 2, d1, d2)
    upper = f * stats.f.ppf(1 - a / 2, d2, d1)
    return lower, upper, float(stats.f.sf(f, d1, d2))


def icc(x: np.ndarray, level: float = 0.95) -> dict[str, IccResult]:
    """All six ICC forms of a units x raters score matrix (NaN rows are dropped).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
    ...               [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float)   # Shrout & Fleiss (1979)
    >>> r = icc(x)
    >>> [round(float(r[f].estimate), 2) for f in ("ICC(1)", "ICC(A,1)", "ICC(C,1)")]
    [0.17, 0.29, 0.71]
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x).all(axis=1)]
    n, k = x.shape if x.ndim == 2 else (0, 0)
    nan = float("nan")
    if n < 2 or k < 2:
        return {
            f: IccResult(f, sf, nan, (nan, nan), nan, nan, nan, nan, n, k)
            for f, sf in ICC_FORMS.items()
        }
    grand = x.mean()
    row = x.mean(axis=1)
    col = x.mean(axis=0)
    ssr = k * ((row - grand) ** 2).sum()
    ssc = n * ((col - grand) ** 2).sum()
    sst = ((x - grand) ** 2).sum()
    sse = sst - ssr - ssc
    msr = ssr / (n - 1)
    msw = (sst - ssr) / (n * (k - 1))
    msc = ssc / (k - 1)
    mse = sse / ((n - 1) * (k - 1))
    a = 1 - level
    out: dict[str, IccResult] = {}

    def _div(u: float, v: float) -> float:
        return u / v if v != 0 else nan

    # one-way
    f1 = _div(msr, msw)
    d1, d2 = n - 1, n * (k - 1)
    fl, fu, p1 = _f_bounds(f1, d1, d2, a)
    out["ICC(1)"] = IccResult(
        "ICC(1)",
        "ICC(1,1)",
        _div(msr - msw, msr + (k - 1) * msw),
        (_div(fl - 1, fl + k - 1), _div(fu - 1, fu + k - 1)),
        f1,
        d1,
        d2,
        p1,
        n,
        k,
    )
    out["ICC(1,k)"] = IccResult(
        "ICC(1,k)",
        "ICC(1,k)",
        _div(msr - msw, msr),
        (1 - _div(1, fl), 1 - _div(1, fu)),
        f1,
        d1,
        d2,
        p1,
        n,
        k,
    )
    # consistency
    f3 = _div(msr, mse)
    d1, d2 = n - 1, (n - 1) * (k - 1)
    fl, fu, p3 = _f_bounds(f3, d1, d2, a)
    out["ICC(C,1)"] = IccResult(
        "ICC(C,1)",
        "ICC(3,1)",
        _div(msr - mse, msr + (k - 1) * mse),
        (_div(fl - 1, fl + k - 1), _div(fu - 1, fu + k - 1)),
        f3,
        d1,
        d2,
        p3,
        n,
        k,
    )
    out["ICC(C,k)"] = IccResult(
        "ICC(C,k)",
        "ICC(3,k)",
        _div(msr - mse, msr),
        (1 - _div(1, fl), 1 - _div(1, fu)),
        f3,
        d1,
        d2,
        p3,
        n,
        k,
    )
    # absolute agreement (McGraw & Wong 1996, Table 7)
    for form, sf, single in (("ICC(A,1)", "ICC(2,1)", True), ("ICC(A,k)", "ICC(2,k)", False)):
        m = k if single else 1  # McGraw & Wong: a = m*rho/(n(1-rho)), b = 1 + m*rho(n-1)/(n(1-rho))
        if single:
            est = _div(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
        else:
            est = _div(msr - mse, msr + (msc - mse) / n)
        c = _div(m * est, n * (1 - est))
        d = 1 + _div(m * est * (n - 1), n * (1 - est))
        v = _div(
            (c * msc + d * mse) ** 2,
            (c * msc) ** 2 / (k - 1) + (d * mse) ** 2 / ((n - 1) * (k - 1)),
        )
        fs = fs2 = nan
        if np.isfinite(v) and v > 0:
            fs = stats.f.ppf(1 - a / 2, n - 1, v)
            fs2 = stats.f.ppf(1 - a / 2, v, n - 1)
        # a Satterthwaite df that vanishes (v ~ 1e-31 when c msc + d mse cancels) has an
        # infinite F quantile: the interval is undefined, not inf / inf
        if 0 < fs < np.inf and 0 < fs2 < np.inf:
            if single:
                lo = _div(n * (msr - fs * mse), fs * (k * msc + (k * n - k - n) * mse) + n * msr)
                hi = _div(n * (fs2 * msr - mse), k * msc + (k * n - k - n) * mse + n * fs2 * msr)
            else:
                lo = _div(n * (msr - fs * mse), fs * (msc - mse) + n * msr)
                hi = _div(n * (fs2 * msr - mse), msc - mse + n * fs2 * msr)
        else:
            lo = hi = nan
        out[form] = IccResult(form, sf, est, (lo, hi), f3, n - 1, (n - 1) * (k - 1), p3, n, k)
    return out


def _mean_squares(T: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Mean squares of the two-way layout from summed per-unit statistics (B x (4 + k))."""
    n, total, rows2, squares, cols = T[:, 0], T[:, 1], T[:, 2], T[:, 3], T[:, 4:]
    with np.errstate(divide="ignore", invalid="ignore"):
        correction = total**2 / (n * k)
        ss_total = squares - correction
        ss_rows = rows2 / k - correction
        ss_cols = (cols**2).sum(axis=1) / n - correction
        ss_err = ss_total - ss_rows - ss_cols
        return {
            "n": n,
            "MSR": ss_rows / (n - 1),
            "MSC": ss_cols / (k - 1),
            "MSE": ss_err / ((n - 1) * (k - 1)),
            "MSW": (ss_total - ss_rows) / (n * (k - 1)),
        }


def icc_form_value(T: np.ndarray, k: int, form: str) -> np.ndarray:
    """One ICC form from summed per-unit statistics (see :func:`icc_unit_stats`).

    Examples
    --------
    >>> x = np.array([[9., 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
    ...               [6, 2, 4, 7]])
    >>> T = icc_unit_stats(x).sum(axis=0, keepdims=True)
    >>> round(float(icc_form_value(T, 4, "ICC(A,1)")[0]), 4)  # Shrout & Fleiss: 0.29
    0.2898
    """
    m = _mean_squares(T, k)
    msr, msc, mse, msw, n = m["MSR"], m["MSC"], m["MSE"], m["MSW"], m["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = {
            "ICC(1)": (msr - msw) / (msr + (k - 1) * msw),
            "ICC(1,k)": (msr - msw) / msr,
            "ICC(A,1)": (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n),
            "ICC(A,k)": (msr - mse) / (msr + (msc - mse) / n),
            "ICC(C,1)": (msr - mse) / (msr + (k - 1) * mse),
            "ICC(C,k)": (msr - mse) / msr,
        }[form]
    return np.where(n >= 2, value, np.nan)


def icc_unit_stats(x: np.ndarray) -> np.ndarray:
    """Per-unit statistics whose sums give every ICC form: (1, row sum, row sum^2, sum of
    squares, the k scores); a unit with a missing score is a zero row (listwise deletion)."""
    complete = ~np.isnan(x).any(axis=1)
    filled = np.where(complete[:, None], np.nan_to_num(x), 0.0)
    rows = filled.sum(axis=1)
    return np.column_stack([complete.astype(float), rows, rows**2, (filled**2).sum(axis=1), filled])
