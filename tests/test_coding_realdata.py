"""Human coding round trip on real MathDial data, through the CLI.

A stratified sample is exported for two coders; the test fills the workbooks with openpyxl (ana
gives MathDial's teacher-move labels, ben the same except known changes on shared units),
imports them, and checks the rows, the disagreement set, the kappa ``edudial code status``
reports (against eval and scikit-learn on the same labels) and the adjudicated gold set.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score

import corpora
import eval
from annotation.coding import ADJUDICATED, find_disagreements, read_sample
from annotation.rubric import load_rubric
from tests.conftest import corpus_path
from toolkit import Corpus, read_corpus
from toolkit.cli import cli

MOVES = load_rubric("mathdial-moves")
LABELS = MOVES.label_names


@pytest.fixture(scope="module")
def mathdial(data_dir: Path) -> Corpus:
    return corpora.load("mathdial", corpus_path(data_dir, "mathdial"))


def _run(*args: str) -> str:
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res.output


def _rows(path: Path) -> dict[str, int]:
    ws = openpyxl.load_workbook(path)["Code"]
    uid = [c.value for c in ws[1]].index("unit_id") + 1
    return {ws.cell(r, uid).value: r for r in range(2, ws.max_row + 1)}


def _fill(path: Path, labels: dict[str, str], column: str = "label") -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Code"]
    head = [c.value for c in ws[1]]
    col, uid = head.index(column) + 1, head.index("unit_id") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col).value = labels[ws.cell(r, uid).value]
    wb.save(path)


@pytest.mark.realdata
def test_mathdial_round_trip(mathdial: Corpus, tmp_path: Path) -> None:
    saved = mathdial.save(tmp_path / "md.corpus")
    truth = dict(mathdial.annotations[["unit_id", "label"]].itertuples(index=False))
    _run(
        "code",
        "sample",
        saved,
        "--rubric",
        "mathdial-moves",
        "--n",
        120,
        "--seed",
        7,
        "--stratify-by",
        "teacher",
        "--min-per-label",
        20,
        "-o",
        tmp_path / "sample.json",
    )
    sample = read_sample(tmp_path / "sample.json")
    counts = {lab: list(truth.values()).count(lab) for lab in LABELS}
    assert {s.stratum: s.population for s in sample.design.strata} == counts
    assert all(s.drawn >= 20 for s in sample.design.strata)
    assert sum(u.weight for u in sample.units) == pytest.approx(2570)

    _run(
        "code",
        "export",
        saved,
        "--rubric",
        "mathdial-moves",
        "--coders",
        "ana,ben",
        "--sample",
        tmp_path / "sample.json",
        "--overlap",
        "0.5",
        "-o",
        tmp_path / "coding",
    )
    ana, ben = tmp_path / "coding/ana.xlsx", tmp_path / "coding/ben.xlsx"
    shared = sorted(set(_rows(ana)) & set(_rows(ben)))
    assert len(shared) == 60
    changed = set(shared[::4])  # ben codes these 15 shared units differently, known in advance
    ben_labels = {
        u: LABELS[(LABELS.index(truth[u]) + 1) % 4] if u in changed else truth[u]
        for u in _rows(ben)
    }
    _fill(ana, truth)
    _fill(ben, ben_labels)

    out = _run("code", "import", ana, ben, "--into", saved)
    assert "ana: 90/90 coded" in out and "ben: 90/90 coded" in out
    coded = read_corpus(saved)
    a = coded.annotations
    for coder, want in (("ana", truth), ("ben", ben_labels)):
        rows = a[a["rater"] == coder]
        assert len(rows) == 90 and set(rows["rater_kind"]) == {"human"}
        assert set(rows["run_id"]) == {"r1"}
        assert all(want[u] == lab for u, lab in zip(rows["unit_id"], rows["label"], strict=True))
    found = find_disagreements(a, coders=["ana", "ben"], round="r1", schemes=MOVES.schemes)
    assert {d.unit_id for d in found} == changed

    # kappa on the overlap: the status line equals eval's and scikit-learn's on the same labels
    status = _run("code", "status", tmp_path / "coding", "--bootstrap", 200)
    m = re.search(
        r"Cohen's kappa (-?[0-9.]+) \[(-?[0-9.]+), (-?[0-9.]+)\] .* on (\d+) units", status
    )
    assert m, status
    y1, y2 = [truth[u] for u in shared], [ben_labels[u] for u in shared]
    assert float(m.group(1)) == pytest.approx(cohen_kappa_score(y1, y2), abs=5e-4)
    assert float(m.group(1)) == pytest.approx(
        eval.cohen_kappa(list(zip(y1, y2, strict=True))), abs=5e-4
    )
    assert float(m.group(2)) < float(m.group(1)) < float(m.group(3)) and m.group(4) == "60"

    # adjudication: decisions give MathDial's label back; the gold set covers all 120 units
    adj = tmp_path / "adjudicate.xlsx"
    _run(
        "code",
        "disagreements",
        saved,
        "--scheme",
        "mathdial/move",
        "--raters",
        "ana,ben",
        "--adjudicator",
        "cy",
        "-o",
        adj,
    )
    assert set(_rows(adj)) == changed
    _fill(adj, truth, column="final label")
    out = _run("code", "import", adj, "--into", saved)
    assert "15 decided, 45 agreed, 60 single-coder, 0 undecided" in out
    gold = read_corpus(saved).annotations
    gold = gold[gold["rater"] == ADJUDICATED]
    assert len(gold) == 120
    assert all(truth[u] == lab for u, lab in zip(gold["unit_id"], gold["label"], strict=True))
    assert {u.unit_id for u in sample.units} == set(gold["unit_id"])
