"""What goes into the paper: the LaTeX and CSV table, the methods text, --rubric and --plots.

The annotations are written the way edudial writes them: human rows by
``annotation.coding.rows.coder_rows`` (rubric name, version and hash in ``meta``), model rows
with the ``meta.provenance`` of an LLM run (model, rubric, prompt template hash).
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

import eval
from annotation.coding.rows import CodedLabel, LabelSource, coder_rows
from annotation.prompt import PROMPT_TEMPLATE_SHA256
from annotation.rubric import load_rubric
from eval.methods import Codebook, methods_paragraph, scheme_facts, software_version
from eval.paper import apa, csv_table, latex_escape, latex_table, paper_rows
from eval.reporting import figures
from tests.cli_support import run_cli

RUBRIC = load_rubric("mathdial-moves")
SCHEME = "mathdial/move"
MODEL = "gpt-4o-mini"
MODEL_RATER = f"{MODEL}@{RUBRIC.id}@{RUBRIC.version}"
N_UNITS, PER_DIALOGUE = 40, 4  # ten dialogues


def _labels(rng: np.random.Generator, truth: np.ndarray, noise: float) -> list[str]:
    cats = RUBRIC.category_orders[SCHEME]
    return [cats[t] if rng.random() > noise else cats[rng.integers(0, 4)] for t in truth]


def _unit(i: int) -> tuple[str, str]:
    return f"d{i // PER_DIALOGUE}:{i % PER_DIALOGUE}", f"d{i // PER_DIALOGUE}"


def _model_rows(labels: list[str]) -> pd.DataFrame:
    provenance = {
        "rubric_id": RUBRIC.id,
        "rubric_version": RUBRIC.version,
        "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
        "model": MODEL,
        "temperature": 0.0,
    }
    rows = [
        {
            "corpus": "mathdial",
            "unit_id": _unit(i)[0],
            "scheme": SCHEME,
            "label": lab,
            "rater": MODEL_RATER,
            "rater_kind": "model",
            "run_id": "run1",
            "meta": {"status": "ok", "provenance": provenance},
        }
        for i, lab in enumerate(labels)
    ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def moves(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two coders (coder_rows) and one model on mathdial/move, 40 units in ten dialogues."""
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 4, N_UNITS)
    frames = []
    for coder in ("ana", "ben"):
        labels = [
            CodedLabel("mathdial", _unit(i)[0], SCHEME, lab)
            for i, lab in enumerate(_labels(rng, truth, 0.2))
        ]
        frames.append(
            coder_rows(labels, coder=coder, round="r1", rubric=RUBRIC, source=LabelSource("csv"))
        )
    frames.append(_model_rows(_labels(rng, truth, 0.4)))
    frame = pd.concat(frames, ignore_index=True)
    frame["dialogue_id"] = frame["unit_id"].str.split(":").str[0]
    path = tmp_path_factory.mktemp("paper") / "moves.jsonl"
    frame.to_json(path, orient="records", lines=True)
    return path


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_cli(["irr", *args, "--bootstrap", "0"], capsys)
    assert code == 0, err
    return out


def _json(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_cli([str(path), *extra, "--format", "json"], capsys))
    return result


def _apa(x: float) -> str:
    """APA by hand: two decimals, no leading zero (independent of eval.paper.apa)."""
    text = f"{x:.2f}"
    return ("-" if text.startswith("-") else "") + text.lstrip("-").removeprefix("0")


# ------------------------------------------------------------------ LaTeX
def _booktabs_body(text: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and data rows of a booktabs tabular (rules checked, in order)."""
    lines = text.splitlines()
    top, bottom = lines.index(r"\toprule"), lines.index(r"\bottomrule")
    mids = [i for i, line in enumerate(lines) if line == r"\midrule"]
    assert mids and top < mids[0] < bottom, "booktabs: \\toprule, \\midrule, \\bottomrule"
    assert lines.index(r"\begin{tabular}{llrlrl}") < top
    assert lines.index(r"\end{tabular}") == bottom + 1

    def cells(line: str) -> list[str]:
        assert line.endswith(r" \\"), line
        return [c.strip() for c in line[: -len(r" \\")].split(" & ")]

    head = cells(lines[mids[0] - 1])
    body = [cells(line) for line in lines[mids[0] + 1 : bottom] if line != r"\midrule"]
    assert all(len(row) == len(head) for row in body)
    return head, body


def test_latex_table_is_booktabs_with_the_json_numbers(
    moves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scheme = _json(moves, capsys, "--rubric", RUBRIC.id)["schemes"][0]
    text = _cli([str(moves), "--rubric", RUBRIC.id, "--format", "latex"], capsys)
    head, body = _booktabs_body(text)
    assert head == ["Scheme", "Coefficient", "Estimate", r"95\% CI", "$n$ units", "Interval method"]
    assert len(body) == len(scheme["metrics"])
    headline = scheme["headline"]
    # the headline coefficient first, marked; the scheme named on its first row only
    assert body[0][:2] == [SCHEME, headline["label"] + r"$^{\dagger}$"]
    assert all(row[0] == "" for row in body[1:])
    assert sum(r"$^{\dagger}$" in row[1] for row in body) == 1
    order = [headline["metric"], *[k for k in scheme["metrics"] if k != headline["metric"]]]
    for row, key in zip(body, order, strict=True):
        m = scheme["metrics"][key]
        assert row[2] == _apa(m["estimate"]).replace("-", "$-$"), key
        assert row[3] == f"[{_apa(m['ci'][0])}, {_apa(m['ci'][1])}]".replace("-", "$-$"), key
        assert row[4] == str(m["n"])
        assert row[5] == latex_escape(m["ci_method"])
    assert not re.search(r"(?<![\d.])0\.\d", text)  # APA: no leading zero anywhere


def test_latex_escapes_names_and_marks_each_scheme() -> None:
    rows = [
        {"unit_id": f"u{i}", "scheme": s, "rater": r, "label": lab}
        for s in ("talk_moves & co", "100%_sure")
        for i, (a, b) in enumerate(zip("1100101101", "1000101111", strict=True))
        for r, lab in (("X", a), ("Y", b))
    ]
    text = latex_table(eval.agreement(pd.DataFrame(rows), bootstrap=0))
    _, body = _booktabs_body(text)
    firsts = [row[0] for row in body if row[0]]
    assert firsts == [r"talk\_moves \& co", r"100\%\_sure"]
    assert text.count(r"$^{\dagger}$") == 2 + 1  # one per scheme, and the note
    lines = text.splitlines()
    assert lines.count(r"\midrule") == 2  # under the header, between the two schemes


def test_apa_numbers() -> None:
    assert [apa(v) for v in (0.6249, 0.625001, -0.047, 1.0, -1.0, 0.0, -0.001)] == [
        ".62",
        ".63",
        "-.05",
        "1.00",
        "-1.00",
        ".00",
        ".00",
    ]
    assert apa(float("nan")) == "n/a" and apa(2.5, bounded=False) == "2.50"


# ------------------------------------------------------------------ CSV
def test_csv_round_trips_through_pandas_to_the_json_numbers(
    moves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scheme = _json(moves, capsys, "--rubric", RUBRIC.id)["schemes"][0]
    out = _cli([str(moves), "--rubric", RUBRIC.id, "--format", "csv"], capsys)
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == [
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
    ]
    assert table["metric"].iloc[0] == scheme["headline"]["metric"]
    assert table["headline"].tolist() == [True] + [False] * (len(table) - 1)
    assert set(table["metric"]) == set(scheme["metrics"])
    for row in table.itertuples():
        m = scheme["metrics"][row.metric]
        # full precision: the very same doubles as the JSON
        assert (row.estimate, row.ci_low, row.ci_high) == (m["estimate"], *m["ci"])
        assert row.n_units == m["n"] and row.ci_method == m["ci_method"]
        assert row.scheme == SCHEME and row.confidence == 0.95
    assert table["coefficient"].iloc[0] == scheme["headline"]["label"]


def test_csv_leaves_undefined_numbers_empty() -> None:
    a = pd.DataFrame(  # one category only: kappa is undefined
        {"unit_id": list("aabb"), "scheme": "s", "rater": list("XYXY"), "label": list("1111")}
    )
    res = eval.agreement(a, bootstrap=0, categories=["0", "1"])
    table = pd.read_csv(io.StringIO(csv_table(res)))
    kappa = table[table["metric"] == "cohen_kappa"].iloc[0]
    assert np.isnan(kappa["estimate"]) or np.isnan(kappa["ci_low"])
    assert len(paper_rows(res)) == len(table)


# ------------------------------------------------------------------ methods
def test_methods_text_names_what_a_paper_needs(
    moves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scheme = _json(moves, capsys, "--rubric", RUBRIC.id)["schemes"][0]
    text = _cli([str(moves), "--rubric", RUBRIC.id, "--format", "methods"], capsys)
    m = scheme["metrics"][scheme["headline"]["metric"]]
    assert "coding scheme 'mathdial/move'" in text
    assert "4 categories (focus, probing, telling, generic; declared in the codebook)" in text
    assert "nominal level of measurement" in text
    assert "Two human coders (ana, ben) coded 40 units from ten dialogues" in text
    assert (
        f"{MODEL} (rater {MODEL_RATER}; prompt template SHA-256 {PROMPT_TEMPLATE_SHA256})" in text
    )
    assert f"{RUBRIC.id}, version {RUBRIC.version} (SHA-256 {RUBRIC.sha256})" in text
    assert "more than one codebook" not in text  # the rows and --rubric agree
    ci = f"[{_apa(m['ci'][0])}, {_apa(m['ci'][1])}]"
    assert f"We report {scheme['headline']['label']}: {_apa(m['estimate'])}, 95% CI {ci}" in text
    assert f"n = {m['n']} units" in text and m["ci_method"] in text
    assert "(over 10 dialogues)" in text
    assert scheme["headline"]["reason"] in text
    hm = scheme["human_model"]["by_model"][MODEL_RATER]["human_model_kappa"]
    assert f"{MODEL} agreed with the human coders at a mean Cohen's kappa of " in text
    assert _apa(hm["estimate"]) in text
    assert text.rstrip().endswith(f"edudial {software_version()}.")
    assert "\n\n" not in text.strip()  # one scheme, one paragraph


def test_methods_without_rubric_read_the_rows_and_say_what_is_unknown(moves: Path) -> None:
    frame = pd.read_json(moves, lines=True)
    res = eval.agreement(frame, bootstrap=0)
    facts = scheme_facts(res[SCHEME], frame)
    assert facts.n_dialogues == 10
    assert facts.codebooks == (Codebook(RUBRIC.id, RUBRIC.version, RUBRIC.sha256),)
    assert [(m.model, m.prompt_sha256) for m in facts.models] == [(MODEL, PROMPT_TEMPLATE_SHA256)]
    bare = methods_paragraph(res[SCHEME])  # no facts: what the result alone knows
    assert "the dialogue of each unit was not recorded" in bare and "Coding followed" not in bare
    assert f"compared with theirs: {MODEL} (rater {MODEL_RATER})." in bare  # from its name
    # a different codebook given than the rows record: both are named
    other = Codebook(RUBRIC.id, "2.0", "f" * 64)
    text = methods_paragraph(res[SCHEME], scheme_facts(res[SCHEME], frame, codebook=other))
    assert "more than one codebook" in text and "version 2.0" in text and RUBRIC.sha256 in text


def test_methods_of_a_corpus_take_the_dialogues_of_its_units(moves: Path) -> None:
    frame = pd.read_json(moves, lines=True).drop(columns="dialogue_id")

    class Corpus:  # what eval reads of a toolkit.Corpus
        annotations = frame

        @staticmethod
        def unit_dialogues() -> dict[tuple[str, str], str]:
            return {("mathdial", u): u.split(":")[0] for u in frame["unit_id"]}

    res = eval.agreement(Corpus(), bootstrap=0)
    assert scheme_facts(res[SCHEME], Corpus()).n_dialogues == 10
    assert scheme_facts(res[SCHEME], frame).n_dialogues is None


def test_html_report_has_the_methods_paragraph_to_copy(
    moves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    methods = _cli([str(moves), "--rubric", RUBRIC.id, "--format", "methods"], capsys)
    page = _cli([str(moves), "--rubric", RUBRIC.id, "--format", "html"], capsys)
    assert "<h2 id='methods'>Methods paragraph</h2>" in page
    box = re.search(r"<textarea id='methods-text'[^>]*>(.*?)</textarea>", page, re.S)
    assert box is not None and html.unescape(box.group(1)) == methods.strip()
    assert "navigator.clipboard.writeText" in page


# ------------------------------------------------------------------ --rubric
def test_rubric_gives_the_codebooks_categories_and_level(
    moves: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scheme = _json(moves, capsys, "--rubric", RUBRIC.id)["schemes"][0]
    assert scheme["categories"] == RUBRIC.category_orders[SCHEME]
    assert scheme["conventions"]["categories_source"] == "declared"
    assert scheme["level"] == "nominal"
    # the same as declaring them by hand
    by_hand = _json(moves, capsys, "--categories", ",".join(RUBRIC.category_orders[SCHEME]))
    assert by_hand["schemes"][0]["metrics"] == scheme["metrics"]
    # explicit flags that agree with the codebook are accepted (same set, any order if nominal)
    flags = ["--categories", "generic,telling,probing,focus", "--level", "nominal"]
    again = _json(moves, capsys, "--rubric", RUBRIC.id, *flags)["schemes"][0]
    assert again["categories"] == ["generic", "telling", "probing", "focus"]  # the flag wins


ORDERED_RUBRIC = """
id: quality
version: "2"
description: Quality of the tutor's explanation.
scheme: tutor/quality
scale: {min: 1, max: 5, anchors: {1: poor, 5: excellent}}
"""


@pytest.fixture()
def ordered(tmp_path: Path) -> tuple[Path, Path]:
    """An ordered 1-5 rubric and two raters who never use 5 (an unused category)."""
    rubric = tmp_path / "quality.yaml"
    rubric.write_text(ORDERED_RUBRIC, encoding="utf-8")
    a = [1, 2, 3, 4, 2, 3, 1, 4, 3, 2, 4, 1]
    b = [1, 2, 4, 4, 2, 3, 2, 4, 3, 1, 4, 1]
    rows = [
        {"unit_id": f"u{i}", "scheme": "tutor/quality", "rater": r, "label": str(v)}
        for r, labels in (("ana", a), ("ben", b))
        for i, v in enumerate(labels)
    ]
    data = tmp_path / "quality.jsonl"
    pd.DataFrame(rows).to_json(data, orient="records", lines=True)
    return rubric, data


def test_ordered_rubric_declares_the_scale_and_the_level(
    ordered: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rubric, data = ordered
    scheme = _json(data, capsys, "--rubric", str(rubric))["schemes"][0]
    assert scheme["categories"] == load_rubric(rubric).category_orders["tutor/quality"]
    assert scheme["categories"] == ["1", "2", "3", "4", "5"]  # 5 is unused, still declared
    assert scheme["level"] == "ordinal"
    assert scheme["headline"]["metric"] == "cohen_kappa_quadratic"
    observed = _json(data, capsys, "--level", "ordinal")["schemes"][0]
    assert observed["categories"] == ["1", "2", "3", "4"]  # what the flag-less report had
    interval = _json(data, capsys, "--rubric", str(rubric), "--level", "interval")
    assert interval["schemes"][0]["level"] == "interval"  # a stronger claim on an ordered scale


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--categories", "focus,probing"], "--categories focus,probing"),
        (["--categories", "focus,probing,telling,other"], "focus,probing,telling,generic"),
        (["--level", "ordinal"], "--level ordinal"),
        (["--scheme", "sight/setup"], "--scheme sight/setup"),
    ],
)
def test_a_conflict_with_the_rubric_is_an_error_naming_both(
    moves: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    code, out, err = run_cli(["irr", str(moves), "--rubric", RUBRIC.id, *args], capsys)
    assert code == 2 and out == ""
    assert named in err and f"--rubric {RUBRIC.rater}" in err


def test_reordered_categories_conflict_with_an_ordered_rubric(
    ordered: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rubric, data = ordered
    args = ["irr", str(data), "--rubric", str(rubric), "--categories", "5,4,3,2,1"]
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "in this order" in err and "--rubric quality@2" in err


def test_unknown_rubric_is_an_input_error(moves: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["irr", str(moves), "--rubric", "no-such-rubric"], capsys)
    assert code == 2 and "unknown rubric 'no-such-rubric'" in err


# ------------------------------------------------------------------ --plots and -o
def test_plots_writes_every_figure_as_png_and_svg(
    moves: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, folder = tmp_path / "irr.tex", tmp_path / "figs"
    args = ["irr", str(moves), "--rubric", RUBRIC.id, "--bootstrap", "0", "-o", str(out)]
    code, _, err = run_cli([*args, "--plots", str(folder)], capsys)
    assert code == 0, err
    assert out.read_text(encoding="utf-8").startswith(r"\begin{table}")  # -o x.tex -> latex
    res = eval.agreement(pd.read_json(moves, lines=True), bootstrap=0)
    names = [name for name, _ in figures(res)]
    assert "overview-human-model" in names and "overview-agreement" in names
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{n}.{ext}" for n in names for ext in ("png", "svg")
    )
    for name in names:
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        root = ElementTree.parse(folder / f"{name}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert f"wrote {2 * len(names)} plot file(s)" in err


def test_plots_into_a_file_is_an_error(
    moves: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "not-a-folder"
    target.write_text("x", encoding="utf-8")
    code, _, err = run_cli(["irr", str(moves), "--plots", str(target)], capsys)
    assert code == 2 and "--plots" in err
