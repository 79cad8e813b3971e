"""Render an :class:`~eval.result.AgreementResult` as Markdown, self-contained HTML or JSON.

The JSON layout is a stable contract (see ``docs/eval.md``). Markdown is meant for a terminal or
a README; the HTML file embeds its figures (base64 PNG) and a plain-language reading.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

from eval.result import AgreementResult, SchemeResult, jsonable

__all__ = ["FORMATS", "landis_koch", "report"]

FORMATS: tuple[str, ...] = ("md", "html", "json")
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


def _main(s: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    m = s["metrics"]
    for key in ("cohen_kappa", "krippendorff_alpha", "fleiss_kappa"):
        if key in m:
            return key, m[key]
    return None


# ------------------------------------------------------------------------ tables
Table = tuple[list[str], list[list[str]]]


def _metric_table(s: dict[str, Any]) -> Table:
    rows = []
    for k, m in s["metrics"].items():
        name = LABELS.get(k, k)
        if k == "icc":
            name += f" {m.get('form')} (Shrout-Fleiss {m.get('shrout_fleiss')})"
        if k.startswith(
            ("cohen", "fleiss", "scott", "conger", "krippendorff", "gwet", "brennan", "pabak")
        ):
            reading = landis_koch(m["estimate"])
        else:
            reading = ""
        rows.append(
            [
                name,
                _f(m["estimate"]),
                _ci(m["ci"]),
                m.get("ci_method") or "n/a",
                _f(m["n"]),
                reading,
            ]
        )
    return ["coefficient", "estimate", "95% CI", "CI method", "n", "Landis-Koch"], rows


def _pair_table(s: dict[str, Any]) -> Table:
    binary = len(s["categories"]) == 2
    head = ["raters", "n", "Cohen's kappa", "95% CI", "% agreement"]
    if binary:
        head += ["positive rate", "prevalence index", "bias index"]
    rows = []
    for p in s["pairwise"]:
        k = p["metrics"]["cohen_kappa"]
        row = [
            " vs ".join(p["raters"]),
            _f(p["n"]),
            _f(k["estimate"]),
            _ci(k["ci"]),
            _f(p["metrics"]["percent_agreement"]["estimate"]),
        ]
        if binary:
            pr = p.get("positive_rate") or [None, None]
            row += [
                f"{_f(pr[0], 2)} / {_f(pr[1], 2)}",
                _f(p.get("prevalence_index")),
                _f(p.get("bias_index")),
            ]
        rows.append(row)
    return head, rows


def _hm_table(s: dict[str, Any]) -> Table:
    hm = s["human_model"]
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
    ordered = s["level"] != "nominal"
    if ordered:
        head += ["quadratic kappa (mean over humans)", "Spearman rho vs mean human"]
    rows = []
    hh = hm["human_human"]
    for model, e in hm["by_model"].items():
        d = e.get("difference") or {}
        mj = e["majority_kappa"]
        al = e["alpha"]
        rows.append(
            [
                model,
                _f(e["human_model_kappa"]["estimate"]),
                _ci(e["human_model_kappa"]["ci"]),
                f"{_f(hh['kappa_mean'])} {_ci(hh.get('ci'))}",
                f"{_f(d.get('estimate'))} {_ci(d.get('ci'))}" if d else "n/a",
                d.get("verdict") or "n/a",
                f"{_f(mj['estimate'])} (n={mj['n']}, ties={mj['n_ties']})",
                f"{_f(al['delta'])} {_ci(al.get('ci'))}",
            ]
            + (
                [_f(e["quadratic_kappa"]["estimate"]), _f(e["spearman_rho"]["estimate"])]
                if ordered
                else []
            )
        )
    return head, rows


def _percat_table(s: dict[str, Any]) -> Table:
    head = ["category", "kappa", "95% CI", "AC1", "alpha", "prevalence by rater"]
    rows = []
    for r in s["per_category"]:
        k = r.get("cohen_kappa") or r["fleiss_kappa"]
        prev = ", ".join(f"{n} {_f(v, 2)}" for n, v in r["prevalence"].items())
        rows.append(
            [
                r["category"],
                _f(k["estimate"]),
                _ci(k.get("ci")),
                _f(r["gwet_ac1"]["estimate"]),
                _f(r["krippendorff_alpha"]["estimate"]),
                prev,
            ]
        )
    return head, rows


def _family_tables(d: dict[str, Any]) -> list[tuple[str, Table]]:
    """One summary table per scheme family (``family/<category>``) with two or more schemes."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in d["schemes"]:
        if "/" in s["scheme"]:
            groups.setdefault(s["scheme"].split("/", 1)[0], []).append(s)
    out = []
    for fam, items in groups.items():
        if len(items) < 2:
            continue
        rows = []
        for s in items:
            main = _main(s)
            hm = s.get("human_model") or {}
            hm_vals = [(m, e["human_model_kappa"]) for m, e in (hm.get("by_model") or {}).items()]
            hm_text = "; ".join(f"{m}: {_f(v['estimate'])} {_ci(v['ci'])}" for m, v in hm_vals)
            pos = ""
            if len(s["categories"]) == 2 and s["pairwise"]:
                pr = s["pairwise"][0].get("positive_rate")
                pos = "" if not pr else f"{_f(pr[0], 2)} / {_f(pr[1], 2)}"
            rows.append(
                [
                    s["scheme"].split("/", 1)[1],
                    _f(s["n_units"]),
                    "n/a" if main is None else f"{_f(main[1]['estimate'])} {_ci(main[1]['ci'])}",
                    _f(s["metrics"].get("gwet_ac1", {}).get("estimate")),
                    pos,
                    hm_text or "-",
                ]
            )
        head = [
            "category",
            "units",
            "human IRR (Cohen's kappa or alpha) [95% CI]",
            "AC1",
            "positive rate (first pair)",
            "human-model kappa [95% CI]",
        ]
        out.append((fam, (head, rows)))
    return out


def _reading(s: dict[str, Any]) -> list[str]:
    """Plain-language sentences about one scheme."""
    out = []
    main = _main(s)
    if main is None:
        return ["No agreement coefficient could be computed: " + "; ".join(s["notes"])]
    key, m = main
    est = m["estimate"]
    out.append(
        f"{LABELS.get(key, key)} is {_f(est)} ({landis_koch(est)} agreement on the Landis & Koch "
        f"scale) over {m['n']} units; the 95% interval {_ci(m['ci'])} shows the plausible range."
    )
    alpha = s["metrics"].get("krippendorff_alpha", {}).get("estimate")
    if alpha is not None and math.isfinite(alpha):
        if alpha >= 0.8:
            verdict = "reaches the 0.800 Krippendorff recommends for drawing conclusions"
        elif alpha >= 0.667:
            verdict = "is between 0.667 (tentative conclusions only) and the recommended 0.800"
        else:
            verdict = "is below 0.667, the lowest value Krippendorff accepts even tentatively"
        out.append(f"Krippendorff's alpha = {_f(alpha)}: it {verdict}.")
    pa = s["metrics"].get("percent_agreement", {}).get("estimate")
    ac1 = s["metrics"].get("gwet_ac1", {}).get("estimate")
    if pa is not None and est is not None and math.isfinite(est) and pa >= 0.85 and est < 0.6:
        out.append(
            f"Prevalence paradox: raters agree on {100 * pa:.0f}% of units, yet kappa is only "
            f"{_f(est)} because one category dominates (chance agreement is high). The "
            f"prevalence-robust AC1 is {_f(ac1)}; report both."
        )
    hm = s.get("human_model")
    if hm:
        for model, e in hm["by_model"].items():
            d = e.get("difference") or {}
            if d.get("verdict"):
                hmk = _f(e["human_model_kappa"]["estimate"])
                out.append(
                    f"{model} agrees with the humans at kappa {hmk}, "
                    f"{d['verdict']} (humans among themselves: "
                    f"{_f(hm['human_human']['kappa_mean'])}; "
                    f"difference {_f(d['estimate'])}, "
                    f"95% interval {_ci(d.get('ci'))})."
                )
    out.extend(s["notes"])
    return out


# ------------------------------------------------------------------------ markdown
def _md_table(t: Table) -> str:
    head, rows = t
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _conventions_md(d: dict[str, Any]) -> list[str]:
    c = d.get("conventions") or {}
    ci = c.get("ci")
    if not ci:
        return ["- See each scheme's conventions in the JSON output."]
    return [
        f"- Missing data: {c['missing_policy']}.",
        f"- Intervals: {ci['primary']}; analytic: {ci['analytic']}. B = {ci['B']}, "
        f"seed = {ci['seed']}, confidence = {ci['confidence']}, clusters: "
        f"{ci['cluster'] or 'none'}.",
        f"- Level of measurement: {c['level']}; weighted coefficients use the declared category "
        f"order ({c['weights']} weights for AC2).",
        f"- Majority label: {c['tie_rule']}.",
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


def _provenance_table(d: dict[str, Any]) -> Table | None:
    runs = d.get("provenance") or []
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


def _markdown(d: dict[str, Any]) -> str:
    out = ["# Inter-rater reliability report", ""]
    prov = _provenance_table(d)
    if prov is not None:
        out += ["## Where the labels come from", "", _md_table(prov), ""]
    out += ["## Conventions", *_conventions_md(d), ""]
    for fam, t in _family_tables(d):
        out += [f"## Summary of `{fam}/*`", "", _md_table(t), ""]
    for s in d["schemes"]:
        out += [
            f"## Scheme `{s['scheme']}`",
            "",
            f"{s['n_units']} units; raters: {', '.join(s['raters'])}"
            + (
                f" (humans: {', '.join(s['humans'])}; models: {', '.join(s['models'])})"
                if s["models"]
                else ""
            )
            + f". Categories ({s['conventions']['categories_source']}): "
            + ", ".join(s["categories"])
            + f"; level: {s['level']}.",
            "",
        ]
        if s["metrics"]:
            out += [_md_table(_metric_table(s)), ""]
        if s["pairwise"]:
            out += ["### Pairwise", "", _md_table(_pair_table(s)), ""]
        if s.get("human_model"):
            out += ["### Human-model agreement", "", _md_table(_hm_table(s)), ""]
        if s["per_category"]:
            out += ["### Per category (one vs rest)", "", _md_table(_percat_table(s)), ""]
        out += ["### Reading", ""] + [f"- {x}" for x in _reading(s)] + [""]
    return "\n".join(out)


# ------------------------------------------------------------------------ html
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid
#ccc;padding:.25em .5em;text-align:left}th{background:#f2f2f2}h2{border-bottom:2px solid #ddd;
padding-top:.6em}.fig{margin:.5em 0}.note{color:#555;font-size:.9em}img{max-width:100%}"""


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


def _html(d: dict[str, Any]) -> str:
    from eval import plots

    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>Inter-rater reliability report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Inter-rater reliability report</h1>",
    ]
    prov = _provenance_table(d)
    if prov is not None:
        parts += ["<h2>Where the labels come from</h2>", _html_table(prov)]
    parts += [_GUIDE, "<h2>Conventions</h2><ul>"]
    parts += [f"<li>{html.escape(x[2:])}</li>" for x in _conventions_md(d)]
    parts.append("</ul>")
    forest = []
    hm_rows = []
    for s in d["schemes"]:
        main = _main(s)
        if main is not None:
            forest.append(
                {"label": s["scheme"], "estimate": main[1]["estimate"], "ci": main[1]["ci"]}
            )
        hm = s.get("human_model")
        if hm:
            for model, e in hm["by_model"].items():
                hm_rows.append(
                    {
                        "label": f"{s['scheme']} / {model}",
                        "hh": hm["human_human"]["kappa_mean"],
                        "hh_ci": hm["human_human"].get("ci"),
                        "hm": e["human_model_kappa"]["estimate"],
                        "hm_ci": e["human_model_kappa"]["ci"],
                    }
                )
    parts.append("<h2>Overview</h2>")
    if forest:
        parts.append(
            _img(
                plots.forest_png(
                    forest,
                    "Human inter-rater agreement per scheme "
                    "(Cohen's kappa for two raters, else alpha)",
                ),
                "agreement per scheme",
            )
        )
    if hm_rows:
        parts.append(_img(plots.human_model_png(hm_rows), "human-human vs human-model"))
    for fam, t in _family_tables(d):
        parts += [f"<h2>Summary of {html.escape(fam)}/*</h2>", _html_table(t)]
    n_heat = 0
    for s in d["schemes"]:
        parts.append(f"<h2>Scheme {html.escape(s['scheme'])}</h2>")
        parts.append(
            "<p>"
            + html.escape(
                f"{s['n_units']} units; raters {', '.join(s['raters'])}; categories "
                f"({s['conventions']['categories_source']}) {', '.join(s['categories'])}; "
                f"level {s['level']}."
            )
            + "</p>"
        )
        parts.append(
            "<h3>What this means</h3><ul>"
            + "".join(f"<li>{html.escape(x)}</li>" for x in _reading(s))
            + "</ul>"
        )
        if s["metrics"]:
            parts.append(_html_table(_metric_table(s)))
        if s["per_category"]:
            rows = [
                {
                    "label": r["category"],
                    "estimate": (r.get("cohen_kappa") or r["fleiss_kappa"])["estimate"],
                    "ci": (r.get("cohen_kappa") or r["fleiss_kappa"]).get("ci"),
                }
                for r in s["per_category"]
            ]
            parts.append("<h3>Per category (one vs rest)</h3>")
            parts.append(
                _img(plots.forest_png(rows, f"{s['scheme']}: kappa per category"), "per category")
            )
            parts.append(_html_table(_percat_table(s)))
        if s["pairwise"]:
            parts += ["<h3>Pairwise</h3>", _html_table(_pair_table(s))]
            heats = []
            hh = [p for p in s["pairwise"] if not set(p["raters"]) & set(s["models"])][:2]
            hm = [
                p
                for p in s["pairwise"]
                if p["raters"][0] == (s["humans"] or [None])[0] and p["raters"][1] in s["models"]
            ][:4]
            for p in hh + hm:
                if n_heat >= 40:
                    break
                c = p["confusion"]
                heats.append(
                    _img(
                        plots.confusion_png(
                            c["counts"],
                            c["categories"],
                            c["rows"],
                            c["columns"],
                            f"{p['raters'][0]} vs {p['raters'][1]}",
                        ),
                        "confusion matrix",
                    )
                )
                n_heat += 1
            parts.append("<div>" + "".join(heats) + "</div>")
        if s.get("human_model"):
            parts += ["<h3>Human-model agreement</h3>", _html_table(_hm_table(s))]
    parts.append(
        "<p class='note'>Generated by edudial (eval). Numbers in the JSON output carry "
        "full precision and every interval method.</p></body></html>"
    )
    return "\n".join(parts)


def report(
    result: AgreementResult | SchemeResult | dict[str, Any],
    format: str = "md",
    *,
    provenance: list[dict[str, Any]] | None = None,
) -> str:
    """Render results as ``md`` (Markdown), ``html`` (self-contained) or ``json``.

    ``provenance`` (optional) describes where each rater's labels come from, one dict per source
    with any of the keys ``source, rater, backend, model, rubric, run_id, date, items, tokens,
    cost_usd``; it is shown first in Markdown/HTML and stored as ``"provenance"`` in JSON.

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
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if isinstance(result, SchemeResult):
        result = AgreementResult([result], {})
    d = result if isinstance(result, dict) else result.to_dict()
    if provenance is not None:
        d = {**d, "provenance": jsonable(provenance)}
    if format == "json":
        return json.dumps(d, indent=2, allow_nan=False)
    if format == "md":
        return _markdown(d)
    return _html(d)
