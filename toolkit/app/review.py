"""Double-coded units: where the coders differ, and the live agreement panel.

Both read only finished units (:meth:`toolkit.app.store.Store.done_answers`). A unit waits for the
lead while a question the coders differ on has no decision, or while a decision no longer holds
because a coder changed a label it decided between (it is *reopened*). The panel's
coefficients come from :func:`eval.agreement` on the overlap coded so far (analytic intervals, so
it stays instant), with the rubric's declared categories and, for an ordered rubric, the ordinal
level.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from annotation.rubric import Rubric
from toolkit.app.store import Answer, Decision
from toolkit.app.units import UnitKey

__all__ = ["Coefficient", "Dispute", "PanelRow", "disputes", "labels_digest", "panel"]

Decisions = Mapping[tuple[UnitKey, str], Decision]


@dataclass(frozen=True)
class Dispute:
    """A unit finished by two or more coders: each coder's label per question.

    ``disputed``: the questions the coders differ on; ``reopened``: the questions whose decision
    no longer holds (a coder changed a label since), whether or not the coders differ now.
    """

    key: UnitKey
    labels: dict[str, dict[str, str]]
    disputed: tuple[str, ...]
    reopened: tuple[str, ...] = ()

    @property
    def to_decide(self) -> tuple[str, ...]:
        """The questions the lead decides: disputed or reopened."""
        return tuple(q for q in self.labels if q in self.disputed or q in self.reopened)

    def final(self, decisions: Decisions) -> dict[str, str]:
        """Question -> the decided label, for the decisions that still hold."""
        return {
            q: decisions[(self.key, q)].label
            for q in self.to_decide
            if (self.key, q) in decisions and q not in self.reopened
        }

    def waiting(self, decisions: Decisions) -> bool:
        """Whether a question still needs the lead's decision."""
        return len(self.final(decisions)) < len(self.to_decide)


def labels_digest(labels: Mapping[str, Mapping[str, str]]) -> str:
    """A short fingerprint of a unit's coder labels (question -> coder -> label): the page sends
    it back, so a decision is only recorded for the labels the lead was shown.

    >>> labels_digest({"": {"ana": "focus", "ben": "probing"}}) == labels_digest(
    ...     {"": {"ben": "probing", "ana": "focus"}})
    True
    """
    text = json.dumps({q: dict(per) for q, per in labels.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _by_unit(answers: Sequence[Answer]) -> dict[UnitKey, dict[str, dict[str, str]]]:
    out: dict[UnitKey, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for a in answers:
        out[(a.corpus, a.unit_id)][a.question][a.coder] = a.label
    return out


def disputes(
    answers: Sequence[Answer],
    order: Sequence[UnitKey],
    *,
    include_agreed: bool = False,
    decisions: Decisions | None = None,
) -> list[Dispute]:
    """Units finished by at least two coders whose labels differ on some question, in ``order``,
    and the units with a decision that no longer holds (given ``decisions``).

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
    decided = decisions or {}
    out = []
    for key in order:
        labels = units.get(key)
        if not labels:
            continue
        coders = {c for per in labels.values() for c in per}
        if len(coders) < 2:
            continue
        disputed = tuple(q for q, per in labels.items() if len(set(per.values())) > 1)
        reopened = tuple(
            q
            for q, per in labels.items()
            if (key, q) in decided and not decided[(key, q)].holds(per)
        )
        if disputed or reopened or include_agreed:
            labels_now = {q: dict(per) for q, per in labels.items()}
            out.append(Dispute(key, labels_now, disputed, reopened))
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
