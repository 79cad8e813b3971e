"""The agreement table a paper prints: LaTeX (booktabs) and CSV, from the typed results.

One row per scheme and coefficient: the coefficient's label as people read it, the estimate,
the interval's bounds, the number of units the coefficient used and the interval's method
(:attr:`eval.result.Metric.ci_method`). Each scheme's headline coefficient
(:func:`eval.headline.recommend`) comes first and is marked.

* :func:`paper_rows` -- the rows as :class:`PaperRow` dataclasses (full precision);
* :func:`latex_table` -- a ``table`` with a booktabs ``tabular``; numbers in APA style (no leading
  zero for values that cannot exceed 1: ``.62``, ``[.51, .90]``), names escaped;
* :func:`csv_table` -- the same rows as CSV with plain numbers at full precision (``repr``), so
  ``pandas.read_csv`` gives back the JSON numbers;
* :func:`apa` and :func:`latex_escape`, the two formatting helpers.

Examples
--------
>>> import pandas as pd, eval
>>> a = pd.DataFrame({"unit_id": list("aabbccdd"), "scheme": "s", "rater": list("XYXYXYXY"),
...                   "label": list("11001010")})
>>> rows = paper_rows(eval.agreement(a, bootstrap=0))
>>> rows[0].label, rows[0].headline, round(rows[0].estimate, 3)
("Cohen's kappa", True, 0.2)
>>> apa(0.5), apa(-0.047), apa(12.5, bounded=False)
('.50', '-.05', '12.50')
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from eval.reporting import LABELS
from eval.result import AgreementResult, Metric, SchemeResult

__all__ = [
    "CSV_COLUMNS",
    "PaperRow",
    "apa",
    "apa_interval",
    "csv_table",
    "latex_escape",
    "latex_table",
    "metric_label",
    "paper_rows",
]

#: Columns of :func:`csv_table`, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "scheme",
    "coefficient",
    "metric",
    "headline",
    "estimate",
    "ci_low",
    "ci_high",
    "n_units",
    "ci_method",
    "confidence",
)
HEADLINE_MARK = r"$^{\dagger}$"
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass(frozen=True)
class PaperRow:
    """One coefficient of one scheme as the paper's table shows it.

    Attributes
    ----------
    scheme : str
    metric : str
        Its key in ``SchemeResult.metrics`` (``cohen_kappa``, ...).
    label : str
        Its name as people read it (the headline's label for the headline coefficient).
    headline : bool
        Whether it is the scheme's headline coefficient (:func:`eval.headline.recommend`).
    estimate : float
    ci_low, ci_high : float
        Bounds of the primary interval (NaN when undefined).
    n_units : int
        Units the coefficient used (``Metric.n``).
    ci_method : str or None
        How the interval was computed (``Metric.ci_method``).
    confidence : float
        Confidence level of the interval.
    """

    scheme: str
    metric: str
    label: str
    headline: bool
    estimate: float
    ci_low: float
    ci_high: float
    n_units: int
    ci_method: str | None
    confidence: float


def metric_label(key: str, metric: Metric) -> str:
    """The label of a coefficient as the report names it (ICC with its form).

    >>> from eval.result import Metric
    >>> metric_label("icc", Metric("icc", 0.7, 10, info={"form": "ICC(A,1)"}))
    'ICC(A,1)'
    """
    if key == "icc" and metric.info.get("form"):
        return str(metric.info["form"])
    return LABELS.get(key, key)


def _schemes(result: AgreementResult | SchemeResult) -> list[SchemeResult]:
    return [result] if isinstance(result, SchemeResult) else list(result.schemes)


def _scheme_rows(s: SchemeResult) -> list[PaperRow]:
    chosen = s.headline
    keys = [k for k in s.metrics if k == chosen.metric]
    keys += [k for k in s.metrics if k != chosen.metric]
    rows = []
    for key in keys:
        m = s.metrics[key]
        ci = m.ci or (math.nan, math.nan)
        rows.append(
            PaperRow(
                scheme=s.scheme,
                metric=key,
                label=chosen.label if key == chosen.metric else metric_label(key, m),
                headline=key == chosen.metric,
                estimate=float(m.estimate),
                ci_low=float(ci[0]),
                ci_high=float(ci[1]),
                n_units=int(m.n),
                ci_method=m.ci_method,
                confidence=s.conventions.confidence,
            )
        )
    return rows


def paper_rows(result: AgreementResult | SchemeResult) -> list[PaperRow]:
    """The table's rows: per scheme (in result order), the headline coefficient first.

    Parameters
    ----------
    result : AgreementResult or SchemeResult
        The output of :func:`eval.agreement` (or one of its schemes).

    Returns
    -------
    list of PaperRow
        One row per scheme and coefficient, numbers at full precision.
    """
    return [row for s in _schemes(result) for row in _scheme_rows(s)]


def apa(value: float | None, digits: int = 2, *, bounded: bool = True) -> str:
    """A number in APA style: ``.62``, ``-.05``; ``bounded=False`` keeps the leading zero.

    APA drops the leading zero of statistics that cannot exceed 1 in absolute value (kappa,
    alpha, correlations); undefined values are ``n/a``.

    >>> apa(0.6249), apa(1.0), apa(-0.001), apa(float("nan"))
    ('.62', '1.00', '.00', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")  # -0.00 is 0.00
    if bounded:
        text = text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text
    return text


def apa_interval(low: float | None, high: float | None, digits: int = 2) -> str:
    """``[.51, .90]`` (``n/a`` when a bound is undefined).

    >>> apa_interval(0.512, 0.9)
    '[.51, .90]'
    """
    lo, hi = apa(low, digits), apa(high, digits)
    return "n/a" if "n/a" in (lo, hi) else f"[{lo}, {hi}]"


def latex_escape(text: str) -> str:
    r"""Escape LaTeX's special characters (``_`` -> ``\_``, ``&`` -> ``\&``, ...).

    >>> print(latex_escape("talk_moves & 50% {x}"))
    talk\_moves \& 50\% \{x\}
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _latex_number(text: str) -> str:
    return text.replace("-", "$-$")  # a minus sign, not a hyphen


def _latex_row(row: PaperRow, first: bool) -> str:
    # every agreement coefficient is at most 1 in absolute value: APA drops the leading zero
    label = latex_escape(row.label) + (HEADLINE_MARK if row.headline else "")
    cells = [
        latex_escape(row.scheme) if first else "",
        label,
        _latex_number(apa(row.estimate)),
        _latex_number(apa_interval(row.ci_low, row.ci_high)),
        str(row.n_units),
        latex_escape(row.ci_method or "n/a"),
    ]
    return " & ".join(cells) + r" \\"


def _confidence(rows: Iterable[PaperRow]) -> str:
    levels = sorted({r.confidence for r in rows})
    return "/".join(f"{100 * c:g}" for c in levels) or "95"


def latex_table(
    result: AgreementResult | SchemeResult,
    *,
    caption: str = "Inter-rater reliability per coding scheme.",
    label: str = "tab:irr",
) -> str:
    r"""The agreement table as a LaTeX ``table`` with a booktabs ``tabular``.

    Columns: scheme, coefficient, estimate, interval, n units, interval method. Each scheme's
    headline coefficient comes first, marked :data:`HEADLINE_MARK` and explained in a note under
    the table; schemes are separated by ``\midrule``. Needs ``\usepackage{booktabs}``.

    Examples
    --------
    >>> import pandas as pd, eval
    >>> a = pd.DataFrame({"unit_id": list("aabbccdd"), "scheme": "s_1", "rater": list("XYXYXYXY"),
    ...                   "label": list("11001010")})
    >>> text = latex_table(eval.agreement(a, bootstrap=0))
    >>> [line for line in text.splitlines() if line.startswith("s\\_1")][0].split(" & ")[:3]
    ['s\\_1', "Cohen's kappa$^{\\dagger}$", '.20']
    """
    rows = paper_rows(result)
    level = _confidence(rows)
    head = [
        "Scheme",
        "Coefficient",
        "Estimate",
        f"{level}\\% CI",
        "$n$ units",
        "Interval method",
    ]
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        f"\\caption{{{latex_escape(caption)}}}",
        f"\\label{{{label}}}",
        r"\begin{tabular}{llrlrl}",
        r"\toprule",
        " & ".join(head) + r" \\",
        r"\midrule",
    ]
    previous: str | None = None
    for row in rows:
        first = row.scheme != previous
        if first and previous is not None:
            lines.append(r"\midrule")
        lines.append(_latex_row(row, first))
        previous = row.scheme
    lines += [
        r"\bottomrule",
        r"\end{tabular}",
        "",
        r"\smallskip",
        f"{{\\footnotesize {HEADLINE_MARK} The coefficient to quote for the scheme "
        "(chosen by its design: raters, completeness, level of measurement). "
        f"CI = {level}\\% confidence interval.}}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def _csv_number(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ""


def csv_table(result: AgreementResult | SchemeResult) -> str:
    """The agreement table as CSV (:data:`CSV_COLUMNS`), numbers at full precision.

    Undefined numbers are empty cells; ``headline`` is ``true``/``false``.

    Examples
    --------
    >>> import pandas as pd, eval
    >>> a = pd.DataFrame({"unit_id": list("aabbccdd"), "scheme": "s", "rater": list("XYXYXYXY"),
    ...                   "label": list("11001010")})
    >>> csv_table(eval.agreement(a, bootstrap=0)).splitlines()[0]
    'scheme,coefficient,metric,headline,estimate,ci_low,ci_high,n_units,ci_method,confidence'
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in paper_rows(result):
        writer.writerow(
            [
                r.scheme,
                r.label,
                r.metric,
                "true" if r.headline else "false",
                _csv_number(r.estimate),
                _csv_number(r.ci_low),
                _csv_number(r.ci_high),
                r.n_units,
                r.ci_method or "",
                repr(r.confidence),
            ]
        )
    return buf.getvalue()
