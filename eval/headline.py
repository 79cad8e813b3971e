"""The one coefficient a paper should quote for a scheme, and why.

The report lists every coefficient; most are near-identical on a given table and none is more
"right" than the others in general. Which one to quote follows from the design
(``docs/eval.md``, ``agreement.md`` of the shared notes):

* **two raters, every unit coded by both, nominal codes** -> Cohen's kappa (chance from each
  rater's own category frequencies);
* **two raters on an ordinal scale, complete** -> Cohen's kappa with the scheme's linear or
  quadratic weights (near misses count as partial agreement);
* **three or more raters, or missing ratings** -> Krippendorff's alpha, which uses every
  pairable rating (Cohen's kappa would drop the units one rater skipped);
* **ordinal, interval or ratio codes otherwise** -> Krippendorff's alpha at that level;
* **a category with an extreme prevalence** (below 5% or above 95% of the ratings) -> the same
  coefficient, but the reason says to report Gwet's AC1 (AC2 for ordered levels) and PABAK
  (Brennan-Prediger beyond two categories) beside it: kappa and alpha can be low although the
  raters agree on almost every unit (the prevalence paradox).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # eval.result imports this module lazily (SchemeResult.headline)
    from eval.result import SchemeResult

__all__ = ["RARE", "Headline", "prevalences", "recommend"]

#: Below this share of the ratings (or above 1 - RARE) a category triggers the prevalence warning.
RARE = 0.05

_LABELS = {
    "cohen_kappa": "Cohen's kappa",
    "cohen_kappa_linear": "Cohen's kappa (linear weights)",
    "cohen_kappa_quadratic": "Cohen's kappa (quadratic weights)",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "pabak": "PABAK",
    "brennan_prediger": "Brennan-Prediger",
}


@dataclass(frozen=True)
class Headline:
    """The coefficient to quote for one scheme.

    Attributes
    ----------
    metric : str
        Its key in ``SchemeResult.metrics`` (``cohen_kappa``, ``krippendorff_alpha``, ...).
    label : str
        Its name as people read it (``Krippendorff's alpha (ordinal)``).
    reason : str
        One sentence: why this coefficient, and what to report beside it.
    also : tuple of str
        Metric keys to report beside it (prevalence-robust ones when a category is extreme).
    """

    metric: str
    label: str
    reason: str
    also: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (``schemes[i].headline``)."""
        return {
            "metric": self.metric,
            "label": self.label,
            "reason": self.reason,
            "also": list(self.also),
        }


def prevalences(scheme: SchemeResult) -> dict[str, float]:
    """Share of each category among the ratings of the metric raters' pairs (pooled).

    Both margins of every pair's confusion matrix count, so each rating of a unit both raters
    coded counts once per pair; without a pair (one rater) the result is empty.

    Examples
    --------
    >>> import pandas as pd, eval
    >>> a = pd.DataFrame({"unit_id": list("aabbccdd"), "scheme": "s", "rater": list("XYXYXYXY"),
    ...                   "label": list("00000001")})
    >>> prevalences(eval.agreement(a, bootstrap=0)["s"])
    {'0': 0.875, '1': 0.125}
    """
    raters = set(scheme.conventions.metrics_raters)
    totals = dict.fromkeys(scheme.categories, 0.0)
    for pair in scheme.pairwise:
        if not set(pair.raters) <= raters:
            continue
        counts = pair.confusion.counts
        for i, category in enumerate(pair.confusion.categories):
            totals[category] += sum(counts[i]) + sum(row[i] for row in counts)
    n = sum(totals.values())
    return {c: v / n for c, v in totals.items()} if n else {}


def _complete(scheme: SchemeResult, n_raters: int) -> bool:
    """Every metric rater coded every unit (alpha's pairable values are all the ratings)."""
    alpha = scheme.metrics.get("krippendorff_alpha")
    if alpha is not None and alpha.info.get("n_values") is not None:
        return bool(alpha.info["n_values"] == scheme.n_units * n_raters)
    agreement = scheme.metrics.get("percent_agreement")
    return agreement is not None and agreement.n == scheme.n_units


def _choice(scheme: SchemeResult, n_raters: int, complete: bool) -> tuple[str, str, str]:
    """The metric key, its label and the reason for it (without the prevalence clause)."""
    level, weights = scheme.level, scheme.conventions.weights
    two = n_raters == 2 and complete
    if level == "nominal" and two:
        reason = (
            "two raters coded every unit on a nominal scale, so Cohen's kappa (chance from "
            "each rater's own category frequencies) is the coefficient to quote"
        )
        return "cohen_kappa", _LABELS["cohen_kappa"], reason
    if level == "ordinal" and two and weights in ("linear", "quadratic"):
        key = f"cohen_kappa_{weights}"
        reason = (
            f"two raters coded every unit on an ordinal scale, so Cohen's kappa with {weights} "
            "weights (near misses count as partial agreement) is the coefficient to quote"
        )
        return key, _LABELS[key], reason
    label = f"{_LABELS['krippendorff_alpha']} ({level})"
    if n_raters < 2:
        reason = "with a single rater no agreement can be measured; Krippendorff's alpha is shown"
        return "krippendorff_alpha", label, reason
    if not complete:
        cause = "not every rater coded every unit, and alpha uses every pairable rating"
    elif n_raters > 2:
        cause = f"{n_raters} raters coded every unit, and alpha takes any number of raters"
    elif level == "ordinal":
        cause = f"Cohen's kappa has no form with {weights} weights"
    else:
        cause = f"the codes are {level} scores"
    at = "" if level == "nominal" else f" at the {level} level (disagreements weighed by distance)"
    return (
        "krippendorff_alpha",
        label,
        f"{cause}, so Krippendorff's alpha{at} is the coefficient to quote",
    )


def _paradox(scheme: SchemeResult) -> tuple[str, tuple[str, ...]]:
    """The prevalence clause and the robust coefficients to report, if a category is extreme."""
    shares = prevalences(scheme)
    extreme = [(c, p) for c, p in shares.items() if p > 1 - RARE or 0 < p < RARE]
    if not extreme:
        return "", ()
    category, share = min(extreme, key=lambda cp: min(cp[1], 1 - cp[1]))
    ordered = scheme.level != "nominal"
    also = ["gwet_ac2" if ordered else "gwet_ac1"]
    also.append("pabak" if len(scheme.categories) == 2 else "brennan_prediger")
    also = [m for m in also if m in scheme.metrics]
    if not also:
        return "", ()
    names = " and ".join(_LABELS[m] for m in also)
    clause = (
        f"; category {category!r} makes up {100 * share:.1f}% of the ratings, where kappa and "
        "alpha can be low although the raters agree on almost every unit (the prevalence "
        f"paradox), so report {names} beside it"
    )
    return clause, tuple(also)


def recommend(scheme: SchemeResult) -> Headline:
    """The coefficient to quote for ``scheme``, chosen by level, raters and prevalence.

    Parameters
    ----------
    scheme : SchemeResult
        One scheme of :func:`eval.agreement`.

    Returns
    -------
    Headline
        The metric key, its label and a one-sentence reason (see the module docstring).

    Examples
    --------
    >>> import pandas as pd, eval
    >>> a = pd.DataFrame({"unit_id": list("aabbcc"), "scheme": "s", "rater": list("XYXYXY"),
    ...                   "label": list("110010")})
    >>> recommend(eval.agreement(a, bootstrap=0)["s"]).label
    "Cohen's kappa"
    """
    n_raters = len(scheme.conventions.metrics_raters)
    key, label, why = _choice(scheme, n_raters, _complete(scheme, n_raters))
    clause, also = _paradox(scheme)
    reason = why[0].upper() + why[1:] + clause + "."
    return Headline(key, label, reason, also)
