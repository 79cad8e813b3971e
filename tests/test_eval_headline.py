"""The headline coefficient of each scheme (eval.headline) and where the report shows it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import eval
from eval.headline import Headline, prevalences, recommend
from eval.result import SchemeResult

ANA = ["x"] * 12 + ["y"] * 8 + ["x"] * 6 + ["y"] * 4 + ["z"] * 10
BEN = ["x"] * 12 + ["y"] * 8 + ["y"] * 6 + ["z"] * 4 + ["z"] * 10


def _scheme(
    labels: dict[str, list[str | None]], *, level: str = "nominal", **options: object
) -> SchemeResult:
    """One scheme of eval.agreement from rater -> labels by unit (None: not rated)."""
    rows = [
        {"unit_id": f"u{i}", "scheme": "s", "rater": rater, "label": lab}
        for rater, column in labels.items()
        for i, lab in enumerate(column)
        if lab is not None
    ]
    return eval.agreement(pd.DataFrame(rows), level=level, bootstrap=0, **options)["s"]


def test_two_raters_nominal_quote_cohen_kappa() -> None:
    h = recommend(_scheme({"ana": ANA, "ben": BEN}))
    assert (h.metric, h.label, h.also) == ("cohen_kappa", "Cohen's kappa", ())
    assert h.reason.startswith("Two raters coded every unit on a nominal scale")
    assert h.reason.count(".") == 1 and h.reason.endswith(".")  # one sentence


def test_three_raters_or_missing_ratings_quote_alpha() -> None:
    cy = ANA[:20] + BEN[20:]
    h = recommend(_scheme({"ana": ANA, "ben": BEN, "cy": cy}))
    assert (h.metric, h.label) == ("krippendorff_alpha", "Krippendorff's alpha (nominal)")
    assert h.reason.startswith("3 raters coded every unit")
    # three raters, cy skipped ten units
    h = recommend(_scheme({"ana": ANA, "ben": BEN, "cy": [*cy[:30], *[None] * 10]}))
    assert h.metric == "krippendorff_alpha"
    assert h.reason.startswith("Not every rater coded every unit")
    # two raters, one unit rated by ana alone: kappa would drop it, alpha does not
    h = recommend(_scheme({"ana": ANA, "ben": [*BEN[:-1], None]}))
    assert h.metric == "krippendorff_alpha" and "Not every rater" in h.reason


def test_ordered_levels() -> None:
    a = ["1", "2", "3", "4", "5"] * 8
    b = ["1", "2", "4", "4", "5"] * 4 + ["2", "2", "3", "5", "5"] * 4
    options = {"categories": list("12345")}
    h = recommend(_scheme({"a": a, "b": b}, level="ordinal", **options))
    assert (h.metric, h.label) == ("cohen_kappa_quadratic", "Cohen's kappa (quadratic weights)")
    h = recommend(_scheme({"a": a, "b": b}, level="ordinal", weights="linear", **options))
    assert h.metric == "cohen_kappa_linear" and "linear weights" in h.reason
    h = recommend(_scheme({"a": a, "b": b, "c": a}, level="ordinal", **options))
    assert (h.metric, h.label) == ("krippendorff_alpha", "Krippendorff's alpha (ordinal)")
    assert "at the ordinal level" in h.reason
    h = recommend(_scheme({"a": a, "b": b}, level="interval", **options))
    assert (h.metric, h.label) == ("krippendorff_alpha", "Krippendorff's alpha (interval)")
    assert h.reason.startswith("The codes are interval scores")


def test_a_rare_category_adds_the_prevalence_robust_coefficients() -> None:
    # 50 units; ana says yes on u0 and u1, ben on u0 and u2: 4 yes among 100 ratings
    ana = ["yes", "yes"] + ["no"] * 48
    ben = ["yes", "no", "yes"] + ["no"] * 47
    s = _scheme({"ana": ana, "ben": ben})
    assert prevalences(s) == pytest.approx({"no": 0.96, "yes": 0.04})
    h = recommend(s)
    assert h.metric == "cohen_kappa" and h.also == ("gwet_ac1", "pabak")
    assert "category 'yes' makes up 4.0% of the ratings" in h.reason
    assert "prevalence paradox" in h.reason and "report Gwet's AC1 and PABAK" in h.reason
    assert h.reason.endswith("beside it.")
    # 5 of 100 ratings is not extreme
    s = _scheme({"ana": ana, "ben": ["yes", "no", "yes", "yes"] + ["no"] * 46})
    assert prevalences(s)["yes"] == pytest.approx(0.05) and recommend(s).also == ()
    # beyond two categories, PABAK's form is Brennan-Prediger
    three = _scheme({"ana": [*ANA, "w"], "ben": [*BEN, "w"]})
    h = recommend(three)
    assert h.also == ("gwet_ac1", "brennan_prediger") and "category 'w'" in h.reason


def test_reports_show_the_headline_above_the_table() -> None:
    s = _scheme({"ana": ANA, "ben": BEN})
    kappa = (30 / 40 - 524 / 1600) / (1 - 524 / 1600)  # p_o 30/40; marginals 18/12/10, 12/14/14
    assert s.metrics["cohen_kappa"].estimate == pytest.approx(kappa, abs=1e-12)
    md = eval.report(s, format="md")
    line = next(x for x in md.splitlines() if x.startswith("**Headline:"))
    assert line.startswith(f"**Headline: Cohen's kappa = {kappa:.3f}, 95% CI [")
    assert line.endswith("is the coefficient to quote.")
    assert md.index("**Headline:") < md.index("| coefficient |")
    assert "| Krippendorff's alpha |" in md  # the others stay in the table
    page = eval.report(s, format="html")
    assert page.index("<p class='headline'><b>Headline: Cohen&#x27;s kappa") < page.index("<table>")
    doc = json.loads(eval.report(s, format="json"))["schemes"][0]
    assert doc["headline"] == recommend(s).to_dict()
    assert doc["headline"]["metric"] == "cohen_kappa"


def test_the_markdown_headline_names_what_to_report_beside_it() -> None:
    ana = ["yes", "yes"] + ["no"] * 48
    ben = ["yes", "no", "yes"] + ["no"] * 47
    s = _scheme({"ana": ana, "ben": ben})
    line = next(x for x in eval.report(s).splitlines() if x.startswith("**Headline:"))
    ac1 = s.metrics["gwet_ac1"].estimate
    assert f"; beside it Gwet's AC1 = {ac1:.3f} [" in line and ", PABAK = " in line


def test_headline_to_dict() -> None:
    h = Headline("cohen_kappa", "Cohen's kappa", "Because.", ("gwet_ac1",))
    assert h.to_dict() == {
        "metric": "cohen_kappa",
        "label": "Cohen's kappa",
        "reason": "Because.",
        "also": ["gwet_ac1"],
    }
