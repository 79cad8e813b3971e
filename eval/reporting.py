"""Render an :class:`~eval.result.AgreementResult` as Markdown, self-contained HTML or JSON.

The JSON layout is a stable contract (see ``docs/eval.md``). Markdown is meant for a terminal or
a README; the HTML file embeds its figures (base64 PNG), a plain-language reading and a methods
paragraph to copy. For the paper: ``latex`` and ``csv`` give the agreement table
(:mod:`eval.paper`), ``methods`` the methods text (:mod:`eval.methods`); :func:`write_plots`
writes the report's figures as PNG and SVG files.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.result import (
    ANALYTIC_TEXT,
    MISSING_POLICY,
    PRIMARY_TEXT,
    TIE_RULE,
    AgreementResult,
    FamilyRow,
    HumanHuman,
    HumanModel,
    Metric,
    ModelComparison,
    PairResult,
    SchemeResult,
    families,
    main_metric,
)
from eval.validity import validity_html, validity_markdown
from toolkit.errors import InputError
from toolkit.jsonvalue import plain

if TYPE_CHECKING:  # eval.paper and eval.methods import this module (its LABELS)
    from matplotlib.figure import Figure

    from eval.methods import Study

__all__ = ["FORMATS", "figures", "landis_koch", "report", "write_plots"]

FORMATS: tuple[str, ...] = ("md", "html", "json", "latex", "csv", "methods")
LABELS = {
    "percent_agreement": "Percent agreement",
    "cohen_kappa": "Cohen's kappa",
    "cohen_kappa_linear": "Cohen's kappa (linear weights)",
    "cohen_kappa_quadratic": "Cohen's kappa (quadratic weights)",
    "scott_pi": "Scott's pi",
    "fleiss_kappa": "Fleiss' kappa (Gwet's generalisation)",
    "conger_kappa": "Conger's kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "brennan_prediger": "Brennan-Prediger",
    "pabak": "PABAK",
    "icc": "ICC",
    "percent_agreement_weighted": "Percent agreement (weighted)",
    "fleiss_kappa_weighted": "Fleiss' kappa (weighted)",
    "brennan_prediger_weighted": "Brennan-Prediger (weighted)",
    "conger_kappa_weighted": "Conger's kappa (weighted)",
    "scott_pi_weighted": "Scott's pi (weighted)",
}
_BANDS = (
    (0.0, "poor"),
    (0.2, "slight"),
    (0.4, "fair"),
    (0.6, "moderate"),
    (0.8, "substantial"),
    (1.0, "almost perfect"),
)


def landis_koch(value: float | None) -> str:
    """Landis & Koch (1977) label of a kappa-type value.

    >>> landis_koch(0.72)
    'substantial'
    """
    if value is None or not math.isfinite(value):
        return "undefined"
    if value < 0:
        return "poor (below chance)"
    for upper, name in _BANDS[1:]:
        if value <= upper:
            return name
    return "almost perfect"


def _f(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ci(ci: Sequence[Any] | None) -> str:
    if not ci or any(v is None or not math.isfinite(v) for v in ci):
        return "n/a"
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _estimate(s: SchemeResult, name: str) -> float | None:
    metric = s.metrics.get(name)
    return None if metric is None else metric.estimate


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


# ------------------------------------------------------------------------ tables
Table = tuple[list[str], list[list[str]]]
_CHANCE_CORRECTED = (
    "cohen",
    "fleiss",
    "scott",
    "conger",
    "krippendorff",
    "gwet",
    "brennan",
    "pabak",
)


def _metric_row(key: str, m: Metric) -> list[str]:
    name = LABELS.get(key, key)
    if key == "icc":
        name += f" {m.info.get('form')} (Shrout-Fleiss {m.info.get('shrout_fleiss')})"
    if "weights" in m.info and key.endswith("_weighted"):
        name += f" [{m.info['weights']}]"
    reading = landis_koch(m.estimate) if key.startswith(_CHANCE_CORRECTED) else ""
    p_e = "" if m.p_e is None else _f(m.p_e)
    test = "" if m.test is None else _p(m.test.p_value)
    return [name, _f(m.estimate), _ci(m.ci), m.ci_method or "n/a", _f(m.n), reading, p_e, test]


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _metric_table(s: SchemeResult) -> Table:
    rows = [_metric_row(k, m) for k, m in s.metrics.items()]
    head = ["coefficient", "estimate", "95% CI", "CI method", "n", "Landis-Koch"]
    return [*head, "chance agreement p_e", "p (agreement = 0)"], rows


def _pair_row(p: PairResult, binary: bool) -> list[str]:
    row = [
        " vs ".join(p.raters),
        _f(p.n),
        _f(p.kappa.estimate),
        _ci(p.kappa.ci),
        _f(p.metrics["percent_agreement"].estimate),
    ]
    if binary:
        b = p.binary
        rate: Sequence[float | None] = [None, None] if b is None else b.positive_rate
        row += [
            f"{_f(rate[0], 2)} / {_f(rate[1], 2)}",
            _f(None if b is None else b.prevalence_index),
            _f(None if b is None else b.bias_index),
        ]
    return row


def _pair_table(s: SchemeResult) -> Table:
    binary = len(s.categories) == 2
    head = ["raters", "n", "Cohen's kappa", "95% CI", "% agreement"]
    if binary:
        head += ["positive rate", "prevalence index", "bias index"]
    return head, [_pair_row(p, binary) for p in s.pairwise]


def _model_row(model: str, c: ModelComparison, baseline: HumanHuman, ordered: bool) -> list[str]:
    d, mj, al = c.difference, c.majority_kappa, c.alpha
    row = [
        model,
        _f(c.human_model_kappa.estimate),
        _ci(c.human_model_kappa.ci),
        f"{_f(baseline.kappa_mean)} {_ci(baseline.ci)}",
        "n/a" if d is None else f"{_f(d.estimate)} {_ci(d.ci)}",
        (d.verdict if d is not None else None) or "n/a",
        f"{_f(mj.estimate)} (n={mj.n}, ties={mj.n_ties})",
        f"{_f(al.delta)} {_ci(al.ci)}",
    ]
    if ordered:
        quadratic, rho = c.quadratic_kappa, c.spearman_rho
        row += [
            _f(None if quadratic is None else quadratic.estimate),
            _f(None if rho is None else rho.estimate),
        ]
    return row


def _hm_table(s: SchemeResult, hm: HumanModel) -> Table:
    head = [
        "model",
        "human-model kappa (mean over humans)",
        "95% CI",
        "human-human kappa",
        "difference [95% CI]",
        "reading",
        "kappa vs majority (n, ties)",
        "alpha change when added [95% CI]",
    ]
    ordered = s.level != "nominal"
    if ordered:
        head += ["quadratic kappa (mean over humans)", "Spearman rho vs mean human"]
    rows = [_model_row(m, c, hm.human_human, ordered) for m, c in hm.by_model.items()]
    return head, rows


def _percat_table(s: SchemeResult) -> Table:
    head = ["category", "kappa", "95% CI", "AC1", "alpha", "prevalence by rater"]
    rows = []
    for r in s.per_category:
        prev = ", ".join(f"{n} {_f(v, 2)}" for n, v in r.prevalence.items())
        rows.append(
            [
                r.category,
                _f(r.kappa.estimate),
                _ci(r.kappa.ci),
                _f(r.gwet_ac1.estimate),
                _f(r.krippendorff_alpha),
                prev,
            ]
        )
    return head, rows


def _family_row(row: FamilyRow) -> list[str]:
    hm_text = "; ".join(
        f"{m}: {_f(k.estimate)} {_ci(k.ci)}" for m, k in row.human_model_kappa.items()
    )
    rate = row.positive_rate
    return [
        row.category,
        _f(row.n_units),
        "n/a" if row.irr is None else f"{_f(row.irr.estimate)} {_ci(row.irr.ci)}",
        _f(row.gwet_ac1),
        "" if not rate else f"{_f(rate[0], 2)} / {_f(rate[1], 2)}",
        hm_text or "-",
    ]


def _family_tables(result: AgreementResult) -> list[tuple[str, Table]]:
    """One summary table per scheme family (``family/<category>``) with two or more schemes."""
    head = [
        "category",
        "units",
        "human IRR (Cohen's kappa or alpha) [95% CI]",
        "AC1",
        "positive rate (first pair)",
        "human-model kappa [95% CI]",
    ]
    return [
        (fam, (head, [_family_row(r) for r in rows]))
        for fam, rows in families(result.schemes).items()
    ]


def _alpha_sentence(alpha: float) -> str:
    if alpha >= 0.8:
        verdict = "reaches the 0.800 Krippendorff recommends for drawing conclusions"
    elif alpha >= 0.667:
        verdict = "is between 0.667 (tentative conclusions only) and the recommended 0.800"
    else:
        verdict = "is below 0.667, the lowest value Krippendorff accepts even tentatively"
    return f"Krippendorff's alpha = {_f(alpha)}: it {verdict}."


def _model_sentences(hm: HumanModel | None) -> list[str]:
    out: list[str] = []
    if hm is None:
        return out
    for model, c in hm.by_model.items():
        d = c.difference
        if d is not None and d.verdict:
            out.append(
                f"{model} agrees with the humans at kappa {_f(c.human_model_kappa.estimate)}, "
                f"{d.verdict} (humans among themselves: {_f(hm.human_human.kappa_mean)}; "
                f"difference {_f(d.estimate)}, 95% interval {_ci(d.ci)})."
            )
    return out


def _headline(s: SchemeResult) -> tuple[str, str] | None:
    """The headline's figures (the coefficient to quote, those to report beside it) and reason.

    ``None`` when the scheme has no such coefficient (nothing could be computed).
    """
    h = s.headline
    chosen = s.metrics.get(h.metric)
    if chosen is None:
        return None
    level = f"{s.conventions.confidence:.0%}"
    figures = f"{h.label} = {_f(chosen.estimate)}, {level} CI {_ci(chosen.ci)}, n = {chosen.n}"
    beside = [
        f"{LABELS.get(k, k)} = {_f(s.metrics[k].estimate)} {_ci(s.metrics[k].ci)}"
        for k in h.also
        if k in s.metrics
    ]
    if beside:
        figures += "; beside it " + ", ".join(beside)
    if chosen.coverage_note:  # beside the number, where a reader copies it from
        return figures, f"{h.reason} Interval: {chosen.coverage_note}."
    return figures, h.reason


def _reading(s: SchemeResult) -> list[str]:
    """Plain-language sentences about one scheme (first: the headline coefficient)."""
    main = s.metrics.get(s.headline.metric) or main_metric(s)
    if main is None:
        return ["No agreement coefficient could be computed: " + "; ".join(s.notes)]
    est = main.estimate
    out = [
        f"{LABELS.get(main.name, main.name)} is {_f(est)} ({landis_koch(est)} agreement on the "
        f"Landis & Koch scale) over {main.n} units; the 95% interval {_ci(main.ci)} shows the "
        "plausible range."
    ]
    alpha = _estimate(s, "krippendorff_alpha")
    if alpha is not None and _finite(alpha):
        out.append(_alpha_sentence(alpha))
    pa, ac1 = _estimate(s, "percent_agreement"), _estimate(s, "gwet_ac1")
    if pa is not None and _finite(est) and pa >= 0.85 and est < 0.6:
        out.append(
            f"Prevalence paradox: raters agree on {100 * pa:.0f}% of units, yet kappa is only "
            f"{_f(est)} because one category dominates (chance agreement is high). The "
            f"prevalence-robust AC1 is {_f(ac1)}; report both."
        )
    out.extend(_model_sentences(s.human_model))
    out.extend(s.notes)
    return out


# ------------------------------------------------------------------------ markdown
def _md_table(t: Table) -> str:
    head, rows = t
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _conventions_md(result: AgreementResult) -> list[str]:
    c = result.conventions
    if c is None:
        return ["- See each scheme's conventions in the JSON output."]
    return [
        f"- Missing data: {MISSING_POLICY}.",
        f"- Intervals: {PRIMARY_TEXT}; analytic: {ANALYTIC_TEXT}. B = {c.B}, "
        f"seed = {c.seed}, confidence = {c.confidence}, clusters: {c.cluster or 'none'}.",
        f"- Level of measurement: {c.level}; weighted coefficients use the declared category "
        f"order ({c.weights} weights for AC2).",
        f"- Majority label: {TIE_RULE}.",
    ]


_PROVENANCE_FIELDS = (
    ("source", "source"),
    ("rater", "rater"),
    ("backend", "backend"),
    ("model", "model"),
    ("rubric", "rubric"),
    ("run_id", "run id"),
    ("date", "date"),
    ("items", "items"),
    ("tokens", "tokens"),
    ("cost_usd", "cost (USD)"),
)
Provenance = Sequence[Mapping[str, Any]]


def _provenance_table(runs: Provenance) -> Table | None:
    if not runs:
        return None
    keys = [(k, h) for k, h in _PROVENANCE_FIELDS if any(r.get(k) is not None for r in runs)]
    rows = [[_prov_cell(r.get(k)) for k, _ in keys] for r in runs]
    return [h for _, h in keys], rows


def _prov_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _scheme_line(s: SchemeResult) -> str:
    roles = f" (humans: {', '.join(s.humans)}; models: {', '.join(s.models)})" if s.models else ""
    return (
        f"{s.n_units} units; raters: {', '.join(s.raters)}{roles}. Categories "
        f"({s.conventions.categories_source}): {', '.join(s.categories)}; level: {s.level}."
    )


def _scheme_md(s: SchemeResult) -> list[str]:
    out = [f"## Scheme `{s.scheme}`", "", _scheme_line(s), ""]
    headline = _headline(s)
    if headline is not None:  # the one number to quote, above the table of all of them
        out += [f"**Headline: {headline[0]}.** {headline[1]}", ""]
    if s.metrics:
        out += [_md_table(_metric_table(s)), ""]
    if s.pairwise:
        out += ["### Pairwise", "", _md_table(_pair_table(s)), ""]
    if s.human_model is not None:
        out += ["### Human-model agreement", "", _md_table(_hm_table(s, s.human_model)), ""]
    if s.per_category:
        out += ["### Per category (one vs rest)", "", _md_table(_percat_table(s)), ""]
    if s.validity is not None:
        out += validity_markdown(s.validity)
    return out + ["### Reading", ""] + [f"- {x}" for x in _reading(s)] + [""]


def _markdown(result: AgreementResult, provenance: Provenance) -> str:
    out = ["# Inter-rater reliability report", ""]
    prov = _provenance_table(provenance)
    if prov is not None:
        out += ["## Where the labels come from", "", _md_table(prov), ""]
    out += ["## Conventions", *_conventions_md(result), ""]
    for fam, t in _family_tables(result):
        out += [f"## Summary of `{fam}/*`", "", _md_table(t), ""]
    for s in result.schemes:
        out += _scheme_md(s)
    return "\n".join(out)


# ------------------------------------------------------------------------ html
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid
#ccc;padding:.25em .5em;text-align:left}th{background:#f2f2f2}h2{border-bottom:2px solid #ddd;
padding-top:.6em}.headline{background:#f4f8ff;border-left:4px solid #3465a4;padding:.4em
.7em}.fig{margin:.5em 0}.note{color:#555;font-size:.9em}img{max-width:100%}"""


def _html_table(t: Table) -> str:
    head, rows = t
    h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _img(b64: str, alt: str) -> str:
    src = f"data:image/png;base64,{b64}"
    return f'<div class="fig"><img alt="{html.escape(alt)}" src="{src}"></div>'


_GUIDE = """<h2>How to read this report</h2><ul>
<li><b>Kappa, pi, alpha, AC1</b> measure agreement beyond chance: 1 = perfect, 0 = what raters
guessing with their own category frequencies would reach, below 0 = worse than chance.</li>
<li><b>Landis &amp; Koch (1977)</b> labels: &lt;0 poor, 0-0.20 slight, 0.21-0.40 fair,
0.41-0.60 moderate, 0.61-0.80 substantial, 0.81-1 almost perfect. They are conventions, not
tests; Krippendorff asks for alpha &ge; 0.800 (&ge; 0.667 for tentative conclusions).</li>
<li><b>Prevalence paradox</b>: when one category is rare (typical for discourse codes), kappa and
alpha can be low although raters agree on almost every unit. Look at percent agreement, AC1/PABAK
and the positive rates next to kappa.</li>
<li><b>Intervals</b>: the 95% interval is the range of values compatible with the data. Units of
the same dialogue are correlated, so when dialogues are known the interval resamples whole
dialogues (wider, more honest); with fewer than about 20-30 dialogues it is unreliable.</li>
<li><b>Human-model</b>: the model is compared with each human separately and the kappas are
averaged (as in SIGHT). The model reaches "human level" when the difference to the human-human
kappa is compatible with zero.</li></ul>"""


def _overview_rows(result: AgreementResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of the overview's forest plot and of the human-model bar chart."""
    forest, hm_rows = [], []
    for s in result.schemes:
        main = main_metric(s)
        if main is not None:
            forest.append({"label": s.scheme, "estimate": main.estimate, "ci": main.ci})
        hm = s.human_model
        for model, c in (hm.by_model if hm is not None else {}).items():
            assert hm is not None
            hm_rows.append(
                {
                    "label": f"{s.scheme} / {model}",
                    "hh": hm.human_human.kappa_mean,
                    "hh_ci": hm.human_human.ci,
                    "hm": c.human_model_kappa.estimate,
                    "hm_ci": c.human_model_kappa.ci,
                }
            )
    return forest, hm_rows


_FOREST_TITLE = "Human inter-rater agreement per scheme (Cohen's kappa for two raters, else alpha)"


def _overview(result: AgreementResult) -> list[str]:
    """The forest plot of each scheme's main coefficient and the human-model plot."""
    from eval import plots

    forest, hm_rows = _overview_rows(result)
    parts = ["<h2>Overview</h2>"]
    if forest:
        parts.append(_img(plots.forest_png(forest, _FOREST_TITLE), "agreement per scheme"))
    if hm_rows:
        parts.append(_img(plots.human_model_png(hm_rows), "human-human vs human-model"))
    return parts


def _percat_rows(s: SchemeResult) -> list[dict[str, Any]]:
    return [
        {"label": r.category, "estimate": r.kappa.estimate, "ci": r.kappa.ci}
        for r in s.per_category
    ]


def _per_category_html(s: SchemeResult) -> list[str]:
    from eval import plots

    figure = plots.forest_png(_percat_rows(s), f"{s.scheme}: kappa per category")
    return [
        "<h3>Per category (one vs rest)</h3>",
        _img(figure, "per category"),
        _html_table(_percat_table(s)),
    ]


_MAX_HEATMAPS = 40  # confusion-matrix figures per report (they dominate its size)


def _heatmap_pairs(s: SchemeResult, budget: int) -> list[PairResult]:
    """The pairs whose confusion matrix the report draws: the first human pairs and the first
    human with each model (at most ``budget``)."""
    models = set(s.models)
    first_human = s.humans[0] if s.humans else None
    human_pairs = [p for p in s.pairwise if not set(p.raters) & models][:2]
    with_model = [p for p in s.pairwise if p.raters[0] == first_human and p.raters[1] in models]
    return (human_pairs + with_model[:4])[: max(budget, 0)]


def _heatmaps(s: SchemeResult, budget: int) -> list[str]:
    """Confusion matrices of the first human pairs and of the first human with each model."""
    from eval import plots

    out = []
    for p in _heatmap_pairs(s, budget):
        c = p.confusion
        title = f"{p.raters[0]} vs {p.raters[1]}"
        png = plots.confusion_png(c.counts, c.categories, c.rows, c.columns, title)
        out.append(_img(png, "confusion matrix"))
    return out


def _scheme_html(s: SchemeResult, budget: int) -> tuple[list[str], int]:
    """One scheme's section and the number of heatmaps it used."""
    facts = (
        f"{s.n_units} units; raters {', '.join(s.raters)}; categories "
        f"({s.conventions.categories_source}) {', '.join(s.categories)}; level {s.level}."
    )
    headline = _headline(s)
    parts = [
        f"<h2>Scheme {html.escape(s.scheme)}</h2>",
        "<p>" + html.escape(facts) + "</p>",
    ]
    if headline is not None:  # the one number to quote, above the table of all of them
        parts.append(
            f"<p class='headline'><b>Headline: {html.escape(headline[0])}.</b> "
            f"{html.escape(headline[1])}</p>"
        )
    parts.append(
        "<h3>What this means</h3><ul>"
        + "".join(f"<li>{html.escape(x)}</li>" for x in _reading(s))
        + "</ul>"
    )
    if s.metrics:
        parts.append(_html_table(_metric_table(s)))
    if s.per_category:
        parts += _per_category_html(s)
    used = 0
    if s.pairwise:
        heats = _heatmaps(s, budget)
        used = len(heats)
        parts += ["<h3>Pairwise</h3>", _html_table(_pair_table(s))]
        parts.append("<div>" + "".join(heats) + "</div>")
    if s.human_model is not None:
        parts += ["<h3>Human-model agreement</h3>", _html_table(_hm_table(s, s.human_model))]
    if s.validity is not None:
        parts.append(validity_html(s.validity))
    return parts, used


_COPY_JS = (
    "navigator.clipboard.writeText(document.getElementById('methods-text').value)"
    ".then(()=>{this.textContent='Copied'})"
)


def _methods_html(result: AgreementResult, study: Study | None) -> list[str]:
    """The methods paragraph (:mod:`eval.methods`) in a text box with a copy button."""
    from eval.methods import methods_text

    text = methods_text(result, study).strip()
    rows = min(40, 4 + len(text) // 90)
    return [
        "<h2 id='methods'>Methods paragraph</h2>",
        "<p class='note'>Text for the paper's methods section: copy it and edit it.</p>",
        f"<textarea id='methods-text' readonly rows='{rows}' style='width:100%;font:inherit'>"
        f"{html.escape(text)}</textarea>",
        f'<p><button type="button" onclick="{_COPY_JS}">Copy</button></p>',
    ]


def _html(result: AgreementResult, provenance: Provenance, study: Study | None = None) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>Inter-rater reliability report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Inter-rater reliability report</h1>",
    ]
    prov = _provenance_table(provenance)
    if prov is not None:
        parts += ["<h2>Where the labels come from</h2>", _html_table(prov)]
    parts += [_GUIDE, "<h2>Conventions</h2><ul>"]
    parts += [f"<li>{html.escape(x[2:])}</li>" for x in _conventions_md(result)]
    parts.append("</ul>")
    parts += _overview(result)
    for fam, t in _family_tables(result):
        parts += [f"<h2>Summary of {html.escape(fam)}/*</h2>", _html_table(t)]
    budget = _MAX_HEATMAPS
    for s in result.schemes:
        section, used = _scheme_html(s, budget)
        parts += section
        budget -= used
    parts += _methods_html(result, study)
    parts.append(
        "<p class='note'>Generated by edudial (eval). Numbers in the JSON output carry "
        "full precision and every interval method.</p></body></html>"
    )
    return "\n".join(parts)


def report(
    result: AgreementResult | SchemeResult,
    format: str = "md",
    *,
    provenance: Provenance | None = None,
    study: Study | None = None,
) -> str:
    """Render results as ``md`` (Markdown), ``html`` (self-contained) or ``json``, or for the
    paper as ``latex`` / ``csv`` (the agreement table, :mod:`eval.paper`) or ``methods`` (the
    methods text, :mod:`eval.methods`).

    ``provenance`` (optional) describes where each rater's labels come from, one dict per source
    with any of the keys ``source, rater, backend, model, rubric, run_id, date, items, tokens,
    cost_usd``; it is shown first in Markdown/HTML and stored as ``"provenance"`` in JSON.
    ``study`` (:func:`eval.methods.study`: dialogues, codebooks, models read from the
    annotations) completes the methods text of ``methods`` and of the HTML report.

    Examples
    --------
    >>> import pandas as pd
    >>> import eval
    >>> a = pd.DataFrame({"unit_id": list("aabbcc"), "scheme": "s", "rater": list("XYXYXY"),
    ...                   "label": list("110010")})
    >>> text = report(eval.agreement(a, bootstrap=0), format="md")
    >>> text.splitlines()[0]
    '# Inter-rater reliability report'
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if isinstance(result, SchemeResult):
        result = AgreementResult([result])
    if not isinstance(result, AgreementResult):
        raise InputError(
            f"report() renders an AgreementResult or SchemeResult, got {type(result).__name__}"
        )
    runs = list(provenance or [])
    if format in ("latex", "csv", "methods"):
        return _paper(result, format, study)
    if format == "json":
        d = result.to_dict()
        if provenance is not None:
            d["provenance"] = plain(runs)
        return json.dumps(d, indent=2, allow_nan=False)
    if format == "md":
        return _markdown(result, runs)
    return _html(result, runs, study)


def _paper(result: AgreementResult, format: str, study: Study | None) -> str:
    from eval import methods, paper

    if format == "latex":
        return paper.latex_table(result)
    if format == "csv":
        return paper.csv_table(result)
    return methods.methods_text(result, study)


# ------------------------------------------------------------------------ figures as files
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "plot"


def figures(result: AgreementResult | SchemeResult) -> list[tuple[str, Callable[[], Figure]]]:
    """The report's figures, each as (file name without suffix, a function drawing it).

    The same figures as the HTML report, in its order: the overview (agreement per scheme,
    human-human vs human-model), then per scheme the per-category plot and the confusion
    matrices. Names are unique and safe as file names (``overview-agreement``,
    ``sight_confusion-confusion-H1-vs-H2``).
    """
    from eval import plots

    if isinstance(result, SchemeResult):
        result = AgreementResult([result])
    out: list[tuple[str, Callable[[], Figure]]] = []
    forest, hm_rows = _overview_rows(result)
    if forest:
        out.append(("overview-agreement", partial(plots.forest_figure, forest, _FOREST_TITLE)))
    if hm_rows:
        out.append(("overview-human-model", partial(plots.human_model_figure, hm_rows)))
    budget = _MAX_HEATMAPS
    for s in result.schemes:
        if s.per_category:
            title = f"{s.scheme}: kappa per category"
            draw = partial(plots.forest_figure, _percat_rows(s), title)
            out.append((f"{_slug(s.scheme)}-per-category", draw))
        pairs = _heatmap_pairs(s, budget) if s.pairwise else []
        budget -= len(pairs)
        for p in pairs:
            c, title = p.confusion, f"{p.raters[0]} vs {p.raters[1]}"
            name = f"{_slug(s.scheme)}-confusion-{_slug(p.raters[0])}-vs-{_slug(p.raters[1])}"
            draw = partial(plots.confusion_figure, c.counts, c.categories, c.rows, c.columns, title)
            out.append((name, draw))
    return _unique(out)


def _unique(
    named: list[tuple[str, Callable[[], Figure]]],
) -> list[tuple[str, Callable[[], Figure]]]:
    seen: dict[str, int] = {}
    out = []
    for name, draw in named:
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}-{seen[name]}", draw))
    return out


def write_plots(result: AgreementResult | SchemeResult, directory: str | Path) -> list[Path]:
    """Write every figure of the report (:func:`figures`) to ``directory`` as PNG and SVG.

    Returns the files written, two per figure (``overview-agreement.png``, ``.svg``, ...).

    Examples
    --------
    >>> import pandas as pd, tempfile, eval
    >>> a = pd.DataFrame({"unit_id": list("aabbcc"), "scheme": "s", "rater": list("XYXYXY"),
    ...                   "label": list("110010")})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_plots(eval.agreement(a, bootstrap=0), d)][:2]
    ['overview-agreement.png', 'overview-agreement.svg']
    """
    from eval import plots

    folder = Path(directory)
    written: list[Path] = []
    for name, draw in figures(result):
        written += plots.save_figure(draw(), folder / name)
    return written
