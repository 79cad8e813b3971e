"""Double-coded units: where the coders differ, and the live agreement panel.

Both read only finished units (:meth:`toolkit.app.store.Store.done_answers`). The panel's
coefficients come from :func:`eval.agreement` on the overlap coded so far (analytic intervals, so
it stays instant), with the rubric's declared categories and, for an ordered rubric, the ordinal
level.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from annotation.rubric import Rubric
from toolkit.app.store import Answer
from toolkit.app.units import UnitKey

__all__ = ["Coefficient", "Dispute", "PanelRow", "disputes", "panel"]


@dataclass(frozen=True)
class Dispute:
    """A unit finished by two or more coders: each coder's label per question."""

    key: UnitKey
    labels: dict[str, dict[str, str]]
    disputed: tuple[str, ...]


def _by_unit(answers: Sequence[Answer]) -> dict[UnitKey, dict[str, dict[str, str]]]:
    out: dict[UnitKey, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for a in answers:
        out[(a.corpus, a.unit_id)][a.question][a.coder] = a.label
    return out


def disputes(
    answers: Sequence[Answer], order: Sequence[UnitKey], *, include_agreed: bool = False
) -> list[Dispute]:
    """Units finished by at least two coders whose labels differ on some question, in ``order``.

    With ``include_agreed`` every double-coded unit is returned (``disputed`` may be empty).

    Examples
    --------
    >>> a = [Answer("ana", "c", "u1", "", "x", False, "", ""),
    ...      Answer("ben", "c", "u1", "", "y", False, "", ""),
    ...      Answer("ana", "c", "u2", "", "x", False, "", ""),
    ...      Answer("ben", "c", "u2", "", "x", False, "", "")]
    >>> [(d.key, d.disputed) for d in disputes(a, [("c", "u1"), ("c", "u2")])]
    [(('c', 'u1'), ('',))]
    """
    units = _by_unit(answers)
    out = []
    for key in order:
        labels = units.get(key)
        if not labels:
            continue
        coders = {c for per in labels.values() for c in per}
        if len(coders) < 2:
            continue
        disputed = tuple(q for q, per in labels.items() if len(set(per.values())) > 1)
        if disputed or include_agreed:
            out.append(Dispute(key, {q: dict(per) for q, per in labels.items()}, disputed))
    return out


@dataclass(frozen=True)
class Coefficient:
    """One coefficient on the overlap so far."""

    name: str
    estimate: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class PanelRow:
    """Agreement of one scheme on the units coded by two or more coders so far."""

    scheme: str
    n_overlap: int
    coefficients: tuple[Coefficient, ...]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _coefficients(res: object, names: Sequence[str]) -> tuple[Coefficient, ...]:
    metrics = getattr(res, "metrics", {})
    out = []
    for name in names:
        m = metrics.get(name)
        if m is None:
            continue
        low, high = m.ci if m.ci is not None else (None, None)
        out.append(Coefficient(name, _finite(m.estimate), _finite(low), _finite(high), m.n))
    return tuple(out)


def panel(answers: Sequence[Answer], rubric: Rubric, schemes: dict[str, str]) -> list[PanelRow]:
    """Kappa and alpha with 95% intervals per scheme on the double-coded units so far.

    ``schemes`` maps each question name to its scheme. Cohen's kappa is shown for two coders,
    Fleiss' kappa for more; Krippendorff's alpha always.
    """
    import eval as agreement_stats  # scipy & co. load on the first panel, not at server start

    rows = [(a.unit_id, a.coder, a.label, schemes[a.question]) for a in answers]
    frame = pd.DataFrame(rows, columns=["unit_id", "rater", "label", "scheme"])
    out = []
    orders = rubric.category_orders
    for scheme in schemes.values():
        sub = frame[frame["scheme"] == scheme]
        counts = sub.groupby("unit_id")["rater"].nunique()
        overlap = counts[counts >= 2].index
        sub = sub[sub["unit_id"].isin(overlap)].assign(rater_kind="human")
        if len(overlap) < 2:
            out.append(PanelRow(scheme, len(overlap), ()))
            continue
        n_coders = sub["rater"].nunique()
        res = agreement_stats.agreement(
            sub,
            level="ordinal" if rubric.ordered else "nominal",
            categories=orders.get(scheme),
            bootstrap=0,
            cluster=None,
        )[scheme]
        names = ["cohen_kappa" if n_coders == 2 else "fleiss_kappa", "krippendorff_alpha"]
        out.append(PanelRow(scheme, len(overlap), _coefficients(res, names)))
    return out
