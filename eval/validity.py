"""The validity view of one scheme: gold metrics, the alternative annotator test, the prevalence
warning and how many more units would narrow the interval, with its Markdown and HTML rendering.

:func:`scheme_validity` gathers :mod:`eval.gold`, :mod:`eval.alt_test` and
:mod:`eval.sample_size` for one :class:`~eval.data.RatingTable`; :func:`validity_markdown` and
:func:`validity_html` render the report's "Validity" section. ``edudial irr --gold RATER`` puts
``ValidityResult.gold_dict()`` under ``schemes[i].gold`` of the JSON contract.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from eval.alt_test import DEFAULT_EPSILON, AltTestResult, alt_test
from eval.data import RatingTable, ratings_table
from eval.gold import MAJORITY, GoldResult, PrevalenceWarning, gold_metrics, prevalence_warning
from eval.sample_size import PilotPlan, pilot_plan
from toolkit.errors import InputError
from toolkit.jsonvalue import plain

if TYPE_CHECKING:
    from eval.result import AgreementResult

__all__ = [
    "DEFAULT_PLAN_WIDTH",
    "ValidityResult",
    "add_validity",
    "scheme_validity",
    "validity_html",
    "validity_markdown",
]

#: Interval half-width the report's sample-size line aims at unless another is chosen.
DEFAULT_PLAN_WIDTH = 0.1

Table = tuple[list[str], list[list[str]]]


@dataclass
class ValidityResult:
    """Validity of one scheme's ratings.

    Attributes
    ----------
    scheme : str
        The scheme.
    gold : str or None
        The gold standard asked for (a rater or ``majority``).
    gold_results : dict
        Rater -> :class:`~eval.gold.GoldResult`.
    alt_tests : list of AltTestResult
        One per model (the test or why it is impossible).
    prevalence : PrevalenceWarning or None
        The kappa paradox check on the humans' ratings.
    plan : PilotPlan or None
        Units needed for ``plan_width`` from these ratings as a pilot.
    plan_width : float
        The chosen half-width.
    notes : list of str
        Why a part is missing.
    """

    scheme: str
    gold: str | None = None
    gold_results: dict[str, GoldResult] = field(default_factory=dict)
    alt_tests: list[AltTestResult] = field(default_factory=list)
    prevalence: PrevalenceWarning | None = None
    plan: PilotPlan | None = None
    plan_width: float = DEFAULT_PLAN_WIDTH
    notes: list[str] = field(default_factory=list)

    def gold_dict(self) -> dict[str, Any] | None:
        """The ``schemes[i].gold`` entry of the JSON contract (None without a gold)."""
        if self.gold is None:
            return None
        out: dict[str, Any] = plain(
            {"gold": self.gold, "by_rater": {r: g.to_dict() for r, g in self.gold_results.items()}}
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``schemes[i].validity`` entry: alternative annotator tests, prevalence, plan."""
        plan = None
        if self.plan is not None:
            p = self.plan
            plan = {
                "metric": p.plan.metric,
                "width": self.plan_width,
                "observed": p.observed,
                "pilot_units": p.pilot_units,
                "units_needed": p.plan.n_units,
                "more_units": p.more_units,
                "current_half_width": p.plan.half_width(max(p.pilot_units, 1)),
            }
        out: dict[str, Any] = plain(
            {
                "alt_test": [a.to_dict() for a in self.alt_tests],
                "prevalence": None if self.prevalence is None else self.prevalence.to_dict(),
                "plan": plan,
                "notes": self.notes,
            }
        )
        return out


def _gold_part(
    table: RatingTable,
    gold: str,
    scored: Sequence[str],
    humans: Sequence[str],
    opts: dict[str, Any],
) -> tuple[dict[str, GoldResult], list[str]]:
    results, notes = {}, []
    for rater in scored:
        if rater == gold:
            continue
        try:
            results[rater] = gold_metrics(table, rater, gold, humans=humans, **opts)
        except InputError as exc:
            notes.append(f"Gold metrics for {rater}: {exc}")
    return results, notes


def _plan_part(table: RatingTable, humans: Sequence[str], width: float) -> tuple[Any, list[str]]:
    metric = "kappa"
    try:
        return pilot_plan(table.select(list(humans)), metric, width), []
    except InputError as exc:
        return None, [f"No sample-size line: {exc}"]


def scheme_validity(
    table: RatingTable,
    *,
    humans: Sequence[str],
    models: Sequence[str],
    gold: str | None = None,
    epsilon: float = DEFAULT_EPSILON,
    plan_width: float = DEFAULT_PLAN_WIDTH,
    B: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> ValidityResult:
    """Gold metrics, alternative annotator tests, prevalence warning and plan for one scheme.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[0, 0, 1, 0], [1, 1, 1, 1], [0, 0, 0, 1]] * 15)
    >>> t = RatingTable("s", [f"u{i}" for i in range(45)], ["A", "B", "C", "M"], ["n", "y"], codes)
    >>> v = scheme_validity(t, humans=["A", "B", "C"], models=["M"], gold="majority", B=100)
    >>> round(v.gold_results["M"].micro["f1"].estimate, 3), v.alt_tests[0].possible
    (0.667, True)
    """
    res = ValidityResult(table.scheme, gold=gold, plan_width=plan_width)
    opts = {"B": B, "seed": seed, "confidence": confidence}
    if gold is not None:
        scored = list(models) or [h for h in humans if h != gold]
        res.gold_results, notes = _gold_part(table, gold, scored, humans, opts)
        res.notes.extend(notes)
    human_list = [h for h in humans if h != gold]
    res.alt_tests = [alt_test(table, m, human_list, epsilon=epsilon) for m in models]
    if len(human_list) >= 2:
        res.prevalence = prevalence_warning(table.select(human_list))
        res.plan, notes = _plan_part(table, human_list, plan_width)
        res.notes.extend(notes)
    else:
        res.notes.append("Fewer than two humans: no prevalence check or sample-size line.")
    return res


def _frame_and_clusters(
    annotations: Any, cluster: str | Mapping[Any, Any] | None
) -> tuple[pd.DataFrame, Mapping[Any, Any] | None]:
    """The annotations frame and the unit -> dialogue map, as :func:`eval.agreement` finds them."""
    clusters: Mapping[Any, Any] | None = cluster if isinstance(cluster, Mapping) else None
    if hasattr(annotations, "annotations") and hasattr(annotations, "unit_dialogues"):
        if cluster == "dialogue":
            clusters = annotations.unit_dialogues()
        annotations = annotations.annotations
    frame: pd.DataFrame = annotations
    if cluster == "dialogue" and clusters is None and "dialogue_id" in frame.columns:
        known = frame.dropna(subset=["dialogue_id"])
        units, dialogues = known["unit_id"].astype(str), known["dialogue_id"].astype(str)
        clusters = dict(zip(units, dialogues, strict=True))
    return frame, clusters


def add_validity(
    result: AgreementResult,
    annotations: Any,
    *,
    gold: str | None = None,
    epsilon: float = DEFAULT_EPSILON,
    plan_width: float = DEFAULT_PLAN_WIDTH,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    cluster: str | Mapping[Any, Any] | None = "dialogue",
) -> AgreementResult:
    """Attach each scheme's :class:`ValidityResult` to an :func:`eval.agreement` result.

    ``annotations`` and ``cluster`` are what was passed to :func:`eval.agreement`; each scheme's
    table is rebuilt with the result's categories and level (and every rater, so the gold rater
    is there even when it was not a metric rater). Returns ``result`` (changed in place).

    Examples
    --------
    >>> import pandas as pd, eval
    >>> rows = [(u, r, l) for u, labs in enumerate(["aab", "bbb", "aaa", "abb"] * 10)
    ...         for r, l in zip("XYZ", labs)]
    >>> a = pd.DataFrame(rows, columns=["unit_id", "rater", "label"]).assign(scheme="s")
    >>> res = add_validity(eval.agreement(a, bootstrap=0), a, gold="Z", bootstrap=0)
    >>> sorted(res["s"].validity.gold_results)
    ['X', 'Y']
    """
    frame, clusters = _frame_and_clusters(annotations, cluster)
    asked = frame[frame["scheme"].isin([s.scheme for s in result.schemes])]
    if gold not in (None, MAJORITY) and gold not in set(asked["rater"].astype(str)):
        raters = ", ".join(sorted(set(asked["rater"].astype(str)))[:20])
        raise InputError(f"gold rater {gold!r} has no labels in these schemes; raters: {raters}")
    for s in result.schemes:
        table = ratings_table(
            frame[frame["scheme"] == s.scheme],
            s.scheme,
            categories=s.categories,
            level=s.level,
            clusters=clusters,
        )
        # without rater kinds every rater but the models counts as a human (as the metrics do)
        humans = s.humans or [r for r in table.raters if r not in s.models]
        s.validity = scheme_validity(
            table,
            humans=humans,
            models=s.models,
            gold=gold,
            epsilon=epsilon,
            plan_width=plan_width,
            B=bootstrap,
            seed=seed,
            confidence=confidence,
        )
        if gold is not None and gold in s.humans:
            s.validity.notes.append(
                f"The gold rater {gold!r} is of kind human and counts among the humans of the "
                "agreement coefficients above; pass the coders with --humans to leave it out."
            )
    return result


# ------------------------------------------------------------------ rendering
def _f(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def _est(e: Any) -> str:
    return f"{_f(e.estimate)} [{_f(e.ci[0])}, {_f(e.ci[1])}]"


def _gold_table(res: ValidityResult) -> Table:
    head = ["rater", "code", "precision", "recall", "F1", "n gold", "n rater"]
    rows = []
    for rater, g in res.gold_results.items():
        for c in g.per_code:
            rows.append(
                [
                    rater,
                    c.code,
                    _est(c.precision),
                    _est(c.recall),
                    _est(c.f1),
                    str(c.gold_n),
                    str(c.predicted_n),
                ]
            )
        for avg in ("macro", "micro"):
            scores = getattr(g, avg)
            rows.append(
                [
                    rater,
                    f"({avg})",
                    _est(scores["precision"]),
                    _est(scores["recall"]),
                    _est(scores["f1"]),
                    str(g.n_units),
                    "",
                ]
            )
    return head, rows


def _alt_table(a: AltTestResult) -> Table:
    head = ["left-out human", "units", "rho model", "rho human", "p", "p (BY)", "model wins"]
    rows = [
        [
            h.human,
            str(h.n_units),
            _f(h.rho_model),
            _f(h.rho_human),
            f"{h.p_value:.3g}",
            f"{h.p_adjusted:.3g}",
            "yes" if h.model_wins else "no",
        ]
        for h in a.per_human
    ]
    return head, rows


def _gold_intro(res: ValidityResult) -> str:
    boot = next(iter(res.gold_results.values())).bootstrap
    gold = "the human majority" if res.gold == "majority" else f"'{res.gold}'"
    if boot["method"] == "cluster":
        how = f"{boot['ci_method']} over {boot['n_clusters']} dialogues"
    else:
        how = f"percentile bootstrap intervals (B = {boot['B']}, resampling units)"
    return (
        f"Against {gold}: per-code precision, recall and F1 with {boot['confidence']:.0%} "
        f"{how}; micro F1 = accuracy."
    )


def _plan_sentence(res: ValidityResult) -> str | None:
    if res.plan is None:
        return None
    p = res.plan
    now = p.plan.half_width(max(p.pilot_units, 1))
    more = (
        "no more units are needed"
        if not p.more_units
        else f"about {p.more_units} more units ({p.plan.n_units} in all) would be needed"
    )
    return (
        f"Sample size: the humans' kappa is {_f(p.observed)} on {p.pilot_units} units "
        f"(interval about +/-{_f(now, 2)}); for +/-{res.plan_width:g} at 95% {more} "
        "(analytic variance, same prevalences; `edudial plan` checks it by simulation)."
    )


def _sections(res: ValidityResult) -> list[tuple[str, str | Table]]:
    """The section's parts in order: ('p', sentence) or ('t', table)."""
    parts: list[tuple[str, str | Table]] = []
    if res.gold_results:
        parts += [("p", _gold_intro(res)), ("t", _gold_table(res))]
        first = next(iter(res.gold_results.values()))
        parts += [("p", n) for n in first.notes]
    for a in res.alt_tests:
        parts.append(("p", f"Alternative annotator test (Calderon et al. 2025): {a.verdict}"))
        if a.possible:
            parts.append(("t", _alt_table(a)))
    if res.prevalence is not None:
        w = res.prevalence
        text = w.message or (
            f"no paradox: the most frequent code '{w.dominant}' has prevalence index "
            f"{_f(w.prevalence_index, 2)} (kappa {_f(w.kappa, 2)}, AC1 {_f(w.ac1, 2)}, PABAK "
            f"{_f(w.pabak, 2)})."
        )
        parts.append(("p", ("Prevalence: " if not w.triggered else "Prevalence warning: ") + text))
    sentence = _plan_sentence(res)
    if sentence:
        parts.append(("p", sentence))
    parts += [("p", n) for n in res.notes]
    return parts


def validity_markdown(res: ValidityResult) -> list[str]:
    """The "Validity" section of one scheme as Markdown lines.

    Examples
    --------
    >>> validity_markdown(ValidityResult("s"))[0]
    '### Validity'
    """
    lines = ["### Validity", ""]
    for kind, part in _sections(res):
        if kind == "t":
            assert isinstance(part, tuple)
            head, rows = part
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
        else:
            lines.append(f"- {part}")
        lines.append("")
    return lines


def validity_html(res: ValidityResult) -> str:
    """The "Validity" section of one scheme as HTML."""
    out = ["<h3>Validity</h3>"]
    for kind, part in _sections(res):
        if kind == "t":
            assert isinstance(part, tuple)
            head, rows = part
            h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
            )
            out.append(f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>")
        else:
            out.append(f"<p>{html.escape(str(part))}</p>")
    return "".join(out)
