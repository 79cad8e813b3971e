"""Analytic standard errors and confidence intervals.

* Cohen's kappa (weighted or not): Fleiss, Cohen & Everitt (1969) large-sample variance, as in
  SAS PROC FREQ and ``statsmodels`` (``std_kappa``); Wald interval clipped to [-1, 1].
* Percent agreement, Fleiss' kappa, Gwet's AC1/AC2, Brennan-Prediger and Krippendorff's alpha:
  Gwet's design-based variance ``(1 - f) / (n (n - 1)) * sum_i (k*_i - k)^2`` from per-unit
  pseudo-values (irrCAC), with a t(n - 1) interval clipped at 1; the sampling fraction f is 0.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from eval.coefficients import alpha_delta2, family_parts

__all__ = ["cohen_se", "gwet_alpha_se", "gwet_family_se", "t_interval", "wald_interval"]


def wald_interval(est: float, se: float, level: float = 0.95) -> tuple[float, float]:
    """``est -/+ z se`` clipped to [-1, 1] (NaN when undefined)."""
    if not (np.isfinite(est) and np.isfinite(se)):
        return (float("nan"), float("nan"))
    z = stats.norm.ppf(0.5 + level / 2)
    return (max(-1.0, est - z * se), min(1.0, est + z * se))


def t_interval(est: float, se: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """``est -/+ t(n - 1) se`` with the upper bound clipped at 1 (Gwet)."""
    if not (np.isfinite(est) and np.isfinite(se)) or n < 2:
        return (float("nan"), float("nan"))
    t = stats.t.ppf(0.5 + level / 2, n - 1)
    return (max(-1.0, est - t * se), min(1.0, est + t * se))


def cohen_se(table: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Kappa and its large-sample standard error from a q x q count table (rows = rater 1).

    Fleiss, Cohen & Everitt (1969)::

        Var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - k))^2 - (k - p_e (1 - k))^2]
              / (n (1 - p_e)^2)

    with ``wbar_i. = sum_j p_.j w_ij`` and ``wbar_.j = sum_i p_i. w_ij``; identity weights give the
    unweighted formula.

    Examples
    --------
    >>> import numpy as np
    >>> k, se = cohen_se(np.array([[20., 5.], [10., 15.]]), np.eye(2))
    >>> round(k, 4), round(se, 4)
    (0.4, 0.127)
    """
    n = float(table.sum())
    if n == 0:
        return (float("nan"), float("nan"))
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float(row @ w @ col)
    if abs(1 - pe) < 1e-12:
        return (float("nan"), float("nan"))
    k = (po - pe) / (1 - pe)
    wi = w @ col
    wj = row @ w
    term = (p * (w - (wi[:, None] + wj[None, :]) * (1 - k)) ** 2).sum()
    var = (term - (k - pe * (1 - k)) ** 2) / (n * (1 - pe) ** 2)
    return (k, float(np.sqrt(max(var, 0.0))))


def gwet_family_se(name: str, counts: np.ndarray, w: np.ndarray) -> tuple[float, float, int]:
    """Coefficient, Gwet's design-based SE and n (units with >= 1 rating), multi-rater family.

    ``name``: ``percent_agreement``, ``fleiss_kappa``, ``gwet_ac`` or ``brennan_prediger``.
    """
    keep = counts.sum(axis=1) >= 1
    counts = counts[keep]
    q = counts.shape[1]
    p = family_parts(counts, w)
    n = len(counts)
    n2 = p["ind2"].sum()
    if n < 2 or n2 == 0:
        return (float("nan"), float("nan"), n)
    pa = p["pa_i"].sum() / n2
    pi = p["pik"].mean(axis=0)
    r = p["r"]
    wsum = float(w.sum())
    if name == "percent_agreement":
        ivec = n / n2 * p["pa_i"]
        est = pa
    else:
        if name == "fleiss_kappa":
            pe = float(pi @ w @ pi)
        elif name == "gwet_ac":
            pe = wsum / (q * (q - 1)) * float((pi * (1 - pi)).sum()) if q > 1 else float("nan")
        elif name == "brennan_prediger":
            pe = wsum / q**2 if q > 1 else float("nan")
        else:
            raise ValueError(name)
        if not np.isfinite(pe) or abs(1 - pe) < 1e-12:
            return (float("nan"), float("nan"), n)
        est = (pa - pe) / (1 - pe)
        k_i = n / n2 * (p["pa_i"] - pe * p["ind2"]) / (1 - pe)
        if name == "fleiss_kappa":
            piw = (w @ pi + w.T @ pi) / 2
            pe_i = (counts @ piw) / r
            ivec = k_i - 2 * (1 - est) * (pe_i - pe) / (1 - pe)
        elif name == "gwet_ac":
            pe_i = wsum / (q * (q - 1)) * (counts @ (1 - pi)) / r
            ivec = k_i - 2 * (1 - est) * (pe_i - pe) / (1 - pe)
        else:
            ivec = k_i
    var = float(((ivec - est) ** 2).sum()) / (n * (n - 1))
    return (float(est), float(np.sqrt(var)), n)


def gwet_alpha_se(
    counts: np.ndarray, level: str, scores: np.ndarray | None = None
) -> tuple[float, float, int]:
    """Krippendorff's alpha with Gwet's design-based SE (irrCAC ``krippen.alpha.raw``).

    The weights are ``1 - delta^2 / max delta^2`` of the level's metric (ordinal: computed from
    the pooled frequencies of the whole sample, then held fixed). Returns (alpha, se, n) with n
    the number of rated units (the t interval's df is n - 1, as in irrCAC).
    """
    r_all = counts.sum(axis=1)
    c = counts[r_all >= 2].astype(float)
    n = len(c)
    if n < 2:
        return (float("nan"), float("nan"), n)
    q = c.shape[1]
    d2 = alpha_delta2(level, c.sum(axis=0)[None, :], scores)[0]
    mx = d2.max()
    if mx <= 0:
        return (float("nan"), float("nan"), n)
    w = 1.0 - d2 / mx
    r = c.sum(axis=1)
    rbar = r.mean()
    eps = 1.0 / r.sum()
    sum_q = (c * (c @ w.T - 1.0)).sum(axis=1)
    paprime = float((sum_q / (rbar * (r - 1))).sum()) / n
    pa = (1 - eps) * paprime + eps
    pi = (c / rbar).mean(axis=0)
    pe = float(pi @ w @ pi)
    if abs(1 - pe) < 1e-12 or q < 2:
        return (float("nan"), float("nan"), n)
    est = (pa - pe) / (1 - pe)
    # linearisation around alpha' = (pa' - pe)/(1 - pe), as irrCAC's krippen.alpha.raw
    est_prime = (paprime - pe) / (1 - pe)
    pa_i = sum_q / (rbar * (r - 1)) - paprime * (r - rbar) / rbar
    k_i = (pa_i - pe) / (1 - pe)
    piw = (w @ pi + w.T @ pi) / 2
    pe_i = (c @ piw) / rbar - pe * (r - rbar) / rbar
    ivec = k_i - 2 * (1 - est_prime) * (pe_i - pe) / (1 - pe)
    var = float(((ivec - est_prime) ** 2).sum()) / (n * (n - 1))
    n0 = int((r_all >= 1).sum())  # irrCAC's t interval uses all rated units for its df
    return (float(est), float(np.sqrt(var)), n0)
