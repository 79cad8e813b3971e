"""The per-scheme validity view (eval.validity) and its Markdown / HTML rendering."""

from __future__ import annotations

import numpy as np

from eval.data import RatingTable
from eval.validity import scheme_validity, validity_html, validity_markdown


def _table(n_humans: int, seed: int = 0) -> RatingTable:
    rng = np.random.default_rng(seed)
    n = 120
    truth = rng.choice(3, n, p=[0.8, 0.15, 0.05])
    cols = [np.where(rng.random(n) < 0.2, rng.integers(0, 3, n), truth) for _ in range(n_humans)]
    cols.append(np.where(rng.random(n) < 0.2, rng.integers(0, 3, n), truth))
    raters = [f"H{i}" for i in range(n_humans)] + ["M"]
    return RatingTable(
        "moves",
        [f"u{i}" for i in range(n)],
        raters,
        ["focus", "probing", "telling"],
        np.column_stack(cols),
        clusters=np.repeat(np.arange(12), 10),
    )


def test_three_humans_give_every_part() -> None:
    t = _table(3)
    v = scheme_validity(t, humans=["H0", "H1", "H2"], models=["M"], gold="majority", B=100)
    text = "\n".join(validity_markdown(v))
    assert text.startswith("### Validity")
    assert "Against the human majority" in text and "| M | (macro) |" in text
    assert "delete-one-dialogue jackknife, t(G - 1), clipped to [0, 1] over 12 dialogues" in text
    assert "Alternative annotator test" in text and "| H2 | 120 |" in text
    assert "Prevalence" in text and "Sample size" in text
    gold = v.gold_dict()
    assert gold is not None and gold["gold"] == "majority"
    assert set(gold["by_rater"]) == {"M"}
    assert gold["by_rater"]["M"]["n_units"] == v.gold_results["M"].n_units
    doc = v.to_dict()
    assert doc["alt_test"][0]["possible"] is True
    assert v.plan is not None
    assert doc["plan"]["units_needed"] == v.plan.plan.n_units
    assert doc["plan"]["more_units"] == v.plan.plan.n_units - 120


def test_two_humans_say_why_the_test_is_impossible() -> None:
    t = _table(2)
    v = scheme_validity(t, humans=["H0", "H1"], models=["M"], gold="H0", B=50)
    md = "\n".join(validity_markdown(v))
    assert "impossible: it needs at least 3 human coders, this scheme has 1" in md
    assert "Against 'H0'" in md
    page = validity_html(v)
    assert page.startswith("<h3>Validity</h3>") and "impossible" in page
    # the gold rater is not a reference human: one human left, no pilot plan
    assert "Fewer than two humans" in md


def test_without_gold_there_is_no_gold_entry() -> None:
    v = scheme_validity(_table(3), humans=["H0", "H1", "H2"], models=["M"], B=50)
    assert v.gold_dict() is None and not v.gold_results
    assert v.prevalence is not None


def test_a_missing_gold_rater_is_a_note_not_a_crash() -> None:
    v = scheme_validity(_table(3), humans=["H0", "H1", "H2"], models=["M"], gold="adj", B=50)
    assert any("no gold rater 'adj'" in n for n in v.notes)
