"""Analytic standard errors, confidence intervals and tests of "agreement is zero".

* Cohen's kappa (weighted or not): Fleiss, Cohen & Everitt (1969) large-sample variance, as in
  SAS PROC FREQ and ``statsmodels`` (``std_kappa``); Wald interval clipped to [-1, 1]. The test
  of kappa = 0 uses the variance under the null (``std_kappa0``) and the normal distribution.
* Percent agreement, Fleiss' kappa, Gwet's AC1/AC2, Brennan-Prediger, Scott's pi, Conger's
  kappa and Krippendorff's alpha, weighted or not: Gwet's design-based variance
  ``(1 - f) / (n (n - 1)) * sum_i (k*_i - k)^2`` from per-unit linearised pseudo-values
  (Gwet 2014; irrCAC), with a t(n - 1) interval clipped at 1 and a t(n - 1) test; the sampling
  fraction f is 0 (infinite population). ``n`` counts the units with at least one rating.
* The test of Fleiss' kappa = 0 (unweighted, the same number of ratings on every unit) uses the
  variance under the null of Fleiss, Nee & Landis (1979), with the normal distribution, as
  ``irr::kappam.fleiss``; the interval stays Gwet's.

Every function returns an :class:`Analytic` (estimate, SE, n, chance agreement p_e).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from eval.coefficients import alpha_delta2, family_parts
from eval.result import ZeroTest

__all__ = [
    "Analytic",
    "cohen",
    "cohen_se",
    "conger",
    "fleiss_null_se",
    "gwet_alpha",
    "gwet_alpha_se",
    "gwet_family",
    "gwet_family_se",
    "t_interval",
    "wald_interval",
]

NAN = float("nan")


#: How the null variance of Cohen's kappa is computed (the z test of kappa = 0).
COHEN_NULL = "variance under kappa = 0 (Fleiss et al. 1969)"
#: How the null variance of Fleiss' kappa is computed.
FLEISS_NULL = "variance under kappa = 0 (Fleiss, Nee & Landis 1979)"


@dataclass
class Analytic:
    """A coefficient with its analytic standard error.

    ``n`` is the sample size of the variance (units with at least one rating for Gwet's
    variance, rated pairs for Cohen's kappa); ``p_e`` the chance agreement; ``se_null`` the
    standard error under "agreement is zero" where the literature gives one (Cohen's kappa,
    Fleiss' kappa with a constant number of ratings per unit) and ``null_method`` its source;
    ``wald`` whether the interval is Wald's (normal) rather than Gwet's t(n - 1); ``chance``
    whether the coefficient is chance-corrected (percent agreement is not: no p_e, no test).
    """

    estimate: float
    se: float
    n: int
    p_e: float = NAN
    se_null: float | None = None
    null_method: str = COHEN_NULL
    wald: bool = False
    chance: bool = True

    def zero_test(self) -> ZeroTest | None:
        """z (or t) statistic and p-values for "agreement is zero"; None when undefined.

        None for percent agreement too: "no agreement at all" is not a hypothesis of interest
        (chance alone agrees), and the chance-corrected coefficients carry the test.
        """
        if not self.chance:
            return None
        if self.se_null is not None:
            se, df, method = self.se_null, None, self.null_method
        else:
            se, df, method = self.se, self.n - 1, "Gwet design-based variance (irrCAC)"
        if not (np.isfinite(self.estimate) and np.isfinite(se) and se > 0) or (df or 2) < 1:
            return None
        z = self.estimate / se
        dist = stats.norm if df is None else stats.t(df)
        one = float(dist.sf(z))
        return ZeroTest(float(z), float(2 * dist.sf(abs(z))), one, float(se), df, method)


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


def cohen(table: np.ndarray, w: np.ndarray) -> Analytic:
    """Cohen's kappa from a q x q count table (rows = rater 1), its SE and its SE under kappa = 0.

    Fleiss, Cohen & Everitt (1969)::

        Var  = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - k))^2 - (k - p_e (1 - k))^2]
               / (n (1 - p_e)^2)
        Var0 = [sum_ij p_i. p_.j (w_ij - (wbar_i. + wbar_.j))^2 - p_e^2] / (n (1 - p_e)^2)

    with ``wbar_i. = sum_j p_.j w_ij`` and ``wbar_.j = sum_i p_i. w_ij``; identity weights give
    the unweighted formulas. Counts may be fractional (weighted tables).

    Examples
    --------
    >>> import numpy as np
    >>> res = cohen(np.array([[20., 5.], [10., 15.]]), np.eye(2))
    >>> round(res.estimate, 4), round(res.se, 4), round(res.p_e, 4)
    (0.4, 0.127, 0.5)
    """
    n = float(table.sum())
    if n == 0:
        return Analytic(NAN, NAN, 0)
    p = table / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float(row @ w @ col)
    if abs(1 - pe) < 1e-12:
        return Analytic(NAN, NAN, round(n), pe)
    k = (po - pe) / (1 - pe)
    wbar = (w @ col)[:, None] + (row @ w)[None, :]
    term = (p * (w - wbar * (1 - k)) ** 2).sum()
    var = (term - (k - pe * (1 - k)) ** 2) / (n * (1 - pe) ** 2)
    var0 = (np.outer(row, col) * (w - wbar) ** 2).sum() - pe**2
    var0 /= n * (1 - pe) ** 2
    se0 = float(np.sqrt(max(var0, 0.0)))
    return Analytic(float(k), float(np.sqrt(max(var, 0.0))), round(n), pe, se0, wald=True)


def cohen_se(table: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Kappa and its large-sample standard error (see :func:`cohen`).

    >>> import numpy as np
    >>> k, se = cohen_se(np.array([[20., 5.], [10., 15.]]), np.eye(2))
    >>> round(k, 4), round(se, 4)
    (0.4, 0.127)
    """
    res = cohen(table, w)
    return (res.estimate, res.se)


def _family_chance(name: str, pi: np.ndarray, w: np.ndarray) -> float:
    """Chance agreement p_e of a multi-rater coefficient from the prevalences ``pi``.

    Percent agreement gets 0, so that the common formula ``(pa - p_e) / (1 - p_e)`` is pa.
    """
    q = len(pi)
    if name == "percent_agreement":
        return 0.0
    if name == "fleiss_kappa":
        return float(pi @ w @ pi)
    if q < 2:
        return NAN
    if name == "gwet_ac":
        return float(w.sum()) / (q * (q - 1)) * float((pi * (1 - pi)).sum())
    if name == "brennan_prediger":
        return float(w.sum()) / q**2
    raise ValueError(name)


def _chance_pseudo(name: str, counts: np.ndarray, pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-unit chance-agreement terms pe_i of the linearisation (constant p_e: zeros)."""
    r = counts.sum(axis=1)
    q = len(pi)
    if name == "fleiss_kappa":
        return (counts @ ((w @ pi + w.T @ pi) / 2)) / r
    if name == "gwet_ac":
        return float(w.sum()) / (q * (q - 1)) * (counts @ (1 - pi)) / r
    return np.zeros(len(counts))


def gwet_family(name: str, counts: np.ndarray, w: np.ndarray) -> Analytic:
    """A multi-rater coefficient with Gwet's design-based SE, n and p_e.

    ``name``: ``percent_agreement``, ``fleiss_kappa``, ``gwet_ac`` or ``brennan_prediger``;
    ``counts`` is the units x categories table (fractional counts allowed), ``w`` the weights.
    ``n`` counts the units with at least one rating (irrCAC), and the t interval uses n - 1 df.
    One rated unit gives the estimate with a NaN SE (the variance divides by n - 1); percent
    agreement reports no p_e (NaN) and no zero test.

    Examples
    --------
    >>> import numpy as np
    >>> res = gwet_family("fleiss_kappa", np.array([[2, 0], [0, 2], [1, 1], [2, 0]]), np.eye(2))
    >>> round(res.estimate, 4), res.n, round(res.p_e, 4)
    (0.4667, 4, 0.5312)
    """
    counts = counts[counts.sum(axis=1) > 0].astype(float)
    p = family_parts(counts, w)
    n = len(counts)
    n2 = p["ind2"].sum()
    chance = name != "percent_agreement"
    if n2 == 0:
        return Analytic(NAN, NAN, n, chance=chance)
    pa = p["pa_i"].sum() / n2
    pi = p["pik"].mean(axis=0)
    pe = _family_chance(name, pi, w)
    shown_pe = pe if chance else NAN
    if not np.isfinite(pe) or abs(1 - pe) < 1e-12:
        return Analytic(NAN, NAN, n, shown_pe, chance=chance)
    est = (pa - pe) / (1 - pe)
    pseudo = n / n2 * (p["pa_i"] - pe * p["ind2"]) / (1 - pe)
    if name in ("fleiss_kappa", "gwet_ac"):
        pe_i = _chance_pseudo(name, counts, pi, w)
        pseudo = pseudo - 2 * (1 - est) * (pe_i - pe) / (1 - pe)
    se = _design_se(pseudo, est)
    null = None
    if name == "fleiss_kappa" and n >= 2 and np.array_equal(w, np.eye(len(w))):
        null = fleiss_null_se(counts)
    return Analytic(float(est), se, n, shown_pe, null, FLEISS_NULL, chance=chance)


def _design_se(pseudo: np.ndarray, est: float) -> float:
    """Gwet's ``sqrt(sum_i (k*_i - k)^2 / (n (n - 1)))``; NaN for one unit (no spread)."""
    n = len(pseudo)
    if n < 2:
        return NAN
    return float(np.sqrt(float(((pseudo - est) ** 2).sum()) / (n * (n - 1))))


def fleiss_null_se(counts: np.ndarray) -> float | None:
    """The SE of Fleiss' kappa under "no agreement beyond chance" (Fleiss, Nee & Landis 1979).

    ``Var0 = 2 / (n m (m - 1) (sum_j p_j q_j)^2) * [(sum_j p_j q_j)^2 - sum_j p_j q_j (q_j -
    p_j)]`` for n units rated m times each into categories with shares p_j (q_j = 1 - p_j).
    ``None`` when the units do not all have the same number m >= 2 of ratings (the formula
    assumes it) or every rating is in one category.

    Examples
    --------
    >>> import numpy as np
    >>> round(fleiss_null_se(np.array([[3, 0], [0, 3], [2, 1], [1, 2]])), 4)
    0.2887
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    if len(counts) == 0 or not np.allclose(m, m[0]) or m[0] < 2:
        return None
    n, m0 = len(counts), float(m[0])
    p = counts.sum(axis=0) / (n * m0)
    pq = p * (1 - p)
    total = float(pq.sum())
    if total <= 0:
        return None
    var = 2 * (total**2 - float((pq * (1 - 2 * p)).sum())) / (total**2 * n * m0 * (m0 - 1))
    return float(np.sqrt(var)) if var > 0 else None


def gwet_family_se(name: str, counts: np.ndarray, w: np.ndarray) -> tuple[float, float, int]:
    """Coefficient, Gwet's design-based SE and n (see :func:`gwet_family`)."""
    res = gwet_family(name, counts, w)
    return (res.estimate, res.se, res.n)


def _conger_chance(codes: np.ndarray, q: int, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Conger's p_e and its per-unit linearised terms pe_i (Gwet 2014, ch. 5; irrCAC).

    With delta_igl = rater g put unit i in l, eps_ig = g rated i, n_g and p_gl = g's units and
    share in l, ``lambda_ig = sum_k (n/n_g) sum_l w_kl [delta_igl - (eps_ig - n_g/n) p_gl]
    (R pbar_k - p_gk)`` and ``pe_i = sum_g lambda_ig / (R (R - 1))``.
    """
    n, raters = codes.shape
    rated = codes >= 0
    onehot = np.zeros((n, raters, q))
    i, g = np.nonzero(rated)
    onehot[i, g, codes[i, g]] = 1.0
    n_g = rated.sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_gk = onehot.sum(axis=0) / n_g[:, None]
    p_mean = p_gk.mean(axis=0)
    s_kl = (p_gk.T @ p_gk - raters * np.outer(p_mean, p_mean)) / (raters - 1)
    pe = float((w * (np.outer(p_mean, p_mean) - s_kl / raters)).sum())
    centred = onehot @ w.T - (rated - n_g / n)[:, :, None] * (p_gk @ w.T)[None, :, :]
    lam = (n / n_g)[None, :, None] * centred * (raters * p_mean[None, :] - p_gk)[None, :, :]
    return pe, lam.sum(axis=(1, 2)) / (raters * (raters - 1))


def conger(codes: np.ndarray, q: int, w: np.ndarray) -> Analytic:
    """Conger's kappa of a units x raters code matrix (-1 = missing) with Gwet's SE and p_e.

    Observed agreement as Fleiss' (units with >= 2 ratings); chance agreement from the
    per-rater marginals; variance by linearisation (Gwet 2014; irrCAC ``conger.kappa.raw``).
    A rater who rated no unit has no marginals and is left out (as
    :func:`eval.coefficients.conger_stat`); one rated unit gives a NaN SE.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[0, 0, 0], [1, 1, 0], [1, 1, 1], [0, 1, 0], [0, 0, -1]])
    >>> round(conger(codes, 2, np.eye(2)).estimate, 4)
    0.4737
    """
    codes = codes[(codes >= 0).any(axis=1)][:, (codes >= 0).any(axis=0)]
    n, raters = codes.shape
    counts = np.zeros((n, q))
    i, g = np.nonzero(codes >= 0)
    np.add.at(counts, (i, codes[i, g]), 1.0)
    p = family_parts(counts, w)
    n2 = p["ind2"].sum()
    if n2 == 0 or raters < 2 or q < 2:
        return Analytic(NAN, NAN, n)
    pa = p["pa_i"].sum() / n2
    pe, pe_i = _conger_chance(codes, q, w)
    if not np.isfinite(pe) or abs(1 - pe) < 1e-12:
        return Analytic(NAN, NAN, n, pe)
    est = (pa - pe) / (1 - pe)
    pseudo = n / n2 * (p["pa_i"] - pe * p["ind2"]) / (1 - pe)
    pseudo = pseudo - 2 * (1 - est) * (pe_i - pe) / (1 - pe)
    return Analytic(float(est), _design_se(pseudo, est), n, pe)


def gwet_alpha(counts: np.ndarray, level: str, scores: np.ndarray | None = None) -> Analytic:
    """Krippendorff's alpha with Gwet's design-based SE, n and p_e (irrCAC ``krippen.alpha.raw``).

    Gwet writes alpha as ``(pa - p_e) / (1 - p_e)`` with the weights ``w = 1 - delta^2 / max
    delta^2`` of the level's metric (ordinal: computed from the pooled frequencies of the whole
    sample, then held fixed), ``pa = (1 - eps) pa' + eps`` (eps = 1 / number of pairable
    values) and ``p_e = sum_kl w_kl pi_k pi_l`` over the pooled value shares ``pi``; so ``1 -
    p_e = D_e / max delta^2`` with the expected disagreement ``D_e`` taken over N^2 value
    pairs. ``n`` is the number of rated units (the t interval's and test's df is n - 1, as in
    irrCAC); one pairable unit gives the estimate with a NaN SE.

    Examples
    --------
    >>> import numpy as np
    >>> res = gwet_alpha(np.array([[2, 0], [0, 2], [1, 1], [2, 0]]), "nominal")
    >>> round(res.estimate, 4), round(res.p_e, 4), res.n
    (0.5333, 0.5312, 4)
    """
    r_all = counts.sum(axis=1)
    c = counts[r_all >= 2].astype(float)
    n = len(c)
    n0 = int((r_all >= 1).sum())  # irrCAC's t interval uses all rated units for its df
    q = c.shape[1]
    if n == 0 or q < 2:
        return Analytic(NAN, NAN, n0)
    d2 = alpha_delta2(level, c.sum(axis=0)[None, :], scores)[0]
    mx = d2.max()
    if mx <= 0:
        return Analytic(NAN, NAN, n0)
    w = 1.0 - d2 / mx
    r = c.sum(axis=1)
    rbar = r.mean()
    eps = 1.0 / r.sum()
    sum_q = (c * (c @ w.T - 1.0)).sum(axis=1)
    paprime = float((sum_q / (rbar * (r - 1))).sum()) / n
    pa = (1 - eps) * paprime + eps
    pi = (c / rbar).mean(axis=0)
    pe = float(pi @ w @ pi)
    if abs(1 - pe) < 1e-12:
        return Analytic(NAN, NAN, n0, pe)
    est = (pa - pe) / (1 - pe)
    # linearisation around alpha' = (pa' - pe)/(1 - pe), as irrCAC's krippen.alpha.raw
    est_prime = (paprime - pe) / (1 - pe)
    pa_i = sum_q / (rbar * (r - 1)) - paprime * (r - rbar) / rbar
    k_i = (pa_i - pe) / (1 - pe)
    piw = (w @ pi + w.T @ pi) / 2
    pe_i = (c @ piw) / rbar - pe * (r - rbar) / rbar
    ivec = k_i - 2 * (1 - est_prime) * (pe_i - pe) / (1 - pe)
    return Analytic(float(est), _design_se(ivec, est_prime), n0, pe)


def gwet_alpha_se(
    counts: np.ndarray, level: str, scores: np.ndarray | None = None
) -> tuple[float, float, int]:
    """Alpha, Gwet's design-based SE and n (see :func:`gwet_alpha`).

    >>> import numpy as np
    >>> alpha, se, n = gwet_alpha_se(np.array([[2, 0], [0, 2], [1, 1], [2, 0]]), "nominal")
    >>> round(alpha, 4), n
    (0.5333, 4)
    """
    res = gwet_alpha(counts, level, scores)
    return (res.estimate, res.se, res.n)
