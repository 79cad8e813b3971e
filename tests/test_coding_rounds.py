"""Coding rounds (issue "Human coding that holds up over several rounds").

A corpus coded in round r1 by ana and ben, and again in round r2 by ana (20 of the 33 units),
through the real workbook path (export, fill, import), plus adjudicated rows of each round and a
model's labels. ``edudial irr`` (and ``code status``, ``plan``, ``estimate``) take ``--round``;
without it each coder's latest round is used and said on stderr.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from annotation.coding import (
    ROUND_TIME,
    CodedLabel,
    LabelSource,
    adjudicated_rows,
    export_workbooks,
    import_workbooks,
    order_rounds,
    select_round,
)
from annotation.rubric import load_rubric
from tests.cli_support import run_cli
from toolkit.demo import bundled_sample
from toolkit.schema import Corpus

MOVES = load_rubric("mathdial-moves")
SCHEME = "mathdial/move"
MODEL = "m1@mathdial-moves@1.0"


def _labels(coder: str, rnd: str, units: list[str]) -> dict[str, str]:
    rng = random.Random(f"{coder}/{rnd}")
    # mostly one label, so the coders agree more often than by chance, and differ by round
    common = {"r1": "probing", "r2": "focus"}[rnd]
    return {u: common if rng.random() < 0.5 else rng.choice(MOVES.label_names) for u in units}


def _fill(path: Path, labels: dict[str, str]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Code"]
    head = [c.value for c in ws[1]]
    lab, uid = head.index("label") + 1, head.index("unit_id") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, lab).value = labels.get(ws.cell(r, uid).value)
    wb.save(path)


class Study:
    """The coded corpus, its workbooks folder and every coder's labels by round."""

    def __init__(self, tmp: Path) -> None:
        corpus = bundled_sample()
        self.units = corpus.turns.loc[corpus.turns["role"] == "teacher", "turn_id"].tolist()
        self.folder = tmp / "coding"
        self.labels = {
            ("ana", "r1"): _labels("ana", "r1", self.units),
            ("ben", "r1"): _labels("ben", "r1", self.units),
            ("ana", "r2"): _labels("ana", "r2", self.units[:20]),  # 13 units left blank
        }
        paths = []
        for b in export_workbooks(corpus, MOVES, ["ana", "ben"], self.folder, seed=7):
            _fill(b.path, self.labels[(b.path.stem, "r1")])
            paths.append(b.path)
        (ana2,) = export_workbooks(corpus, MOVES, ["ana"], tmp / "r2", seed=7, round="r2")
        _fill(ana2.path, self.labels[("ana", "r2")])
        paths.append(shutil.move(ana2.path, self.folder / "ana-r2.xlsx"))
        coded = import_workbooks(corpus, paths).corpus
        self.corpus = self._gold_and_model(coded)
        self.path = self.corpus.save(tmp / "coded.corpus")

    def _gold_and_model(self, coded: Corpus) -> Corpus:
        src = LabelSource("python")
        gold = [
            adjudicated_rows(
                coded.annotations,
                [
                    CodedLabel("demo", u, SCHEME, lab)
                    for u, lab in self.labels[("ana", rnd)].items()
                ],
                coders=coders,
                round=rnd,
                adjudicator="cy",
                rubric=MOVES,
                source=src,
            ).rows
            for rnd, coders in (("r1", ["ana", "ben"]), ("r2", ["ana"]))
        ]
        model = pd.DataFrame(
            {
                "corpus": "demo",
                "unit_id": self.units,
                "scheme": SCHEME,
                "label": [self.labels[("ben", "r1")][u] for u in self.units],
                "rater": MODEL,
                "rater_kind": "model",
                "run_id": "run-1",
                "meta": [{} for _ in self.units],
            }
        )
        return coded.with_annotations(pd.concat([*gold, model], ignore_index=True))

    def kappa(self, a: tuple[str, str], b: tuple[str, str]) -> float:
        common = [u for u in self.units if u in self.labels[a] and u in self.labels[b]]
        x = [self.labels[a][u] for u in common]
        y = [self.labels[b][u] for u in common]
        return float(cohen_kappa_score(x, y))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return Study(tmp_path_factory.mktemp("rounds"))


def _irr(study: Study, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    args = ["irr", str(study.path), "--scheme", SCHEME, "--humans", "ana,ben"]
    return run_cli([*args, "--bootstrap", "0", "--format", "json", *extra], capsys)


def test_the_corpus_holds_both_rounds(study: Study) -> None:
    a = study.corpus.annotations
    ana = a[a["rater"] == "ana"]
    assert ana["run_id"].value_counts().to_dict() == {"r1": 33, "r2": 20}
    adj = a[a["rater"] == "adjudicated"]
    assert adj["run_id"].value_counts().to_dict() == {"r1": 33, "r2": 20}


def test_irr_uses_each_coders_latest_round_and_says_so(
    study: Study, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _irr(study, capsys)
    assert code == 0, err
    line = (
        "coding rounds: using adjudicated r2, ana r2, ben r1; left out adjudicated r1, ana r1 "
        "(the latest round of each coder; --round picks one)"
    )
    assert line in err.splitlines()
    doc = json.loads(out)
    scheme = doc["schemes"][0]
    assert scheme["n_units"] == 33  # ben's r1 units; ana's r2 covers 20 of them
    kappa = scheme["metrics"]["cohen_kappa"]["estimate"]
    assert kappa == pytest.approx(study.kappa(("ana", "r2"), ("ben", "r1")), abs=1e-9)
    assert any(n.startswith("Coding rounds: using") for n in scheme["notes"])
    rounds = doc["conventions"]["rounds"]
    assert rounds["rule"] == "latest" and rounds["round"] is None
    ana = next(c for c in rounds["choices"] if c["rater"] == "ana")
    assert ana == {"rater": "ana", "scheme": SCHEME, "used": "r2", "left_out": ["r1"]}


def test_irr_round_r1_gives_the_r1_kappa(study: Study, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _irr(study, capsys, "--round", "r1")
    assert code == 0, err
    scheme = json.loads(out)["schemes"][0]
    assert scheme["n_units"] == 33
    expected = study.kappa(("ana", "r1"), ("ben", "r1"))
    assert scheme["metrics"]["cohen_kappa"]["estimate"] == pytest.approx(expected, abs=1e-9)
    assert "left out adjudicated r2, ana r2 (--round r1)" in err
    # the markdown report carries the note too; non-round human rows are untouched
    code, out, err = run_cli(
        ["irr", str(study.path), "--scheme", SCHEME, "--humans", "coder_a,ana", "--round", "r2"],
        capsys,
    )
    assert code == 0, err
    assert "Coding rounds: using adjudicated r2, ana r2; left out" in out


def test_an_unknown_round_is_an_error_listing_the_rounds(
    study: Study, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _irr(study, capsys, "--round", "r3")
    assert code == 2
    assert "round 'r3' is not in the annotations; rounds: r1, r2" in err


def test_code_status_round(study: Study, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["code", "status", str(study.folder), "--bootstrap", "0"]
    code, out, err = run_cli(base, capsys)
    assert code == 0, err
    assert "ana: 20/33 coded (ana-r2.xlsx, round r2)" in out
    assert "coding rounds: using ana r2, ben r1; left out ana r1" in err
    latest = study.kappa(("ana", "r2"), ("ben", "r1"))
    line = next(x for x in out.splitlines() if x.startswith("rounds ana r2, ben r1, "))
    assert line.startswith(f"rounds ana r2, ben r1, {SCHEME}: Cohen's kappa {latest:.3f} [")
    assert line.endswith(" on 20 units coded by ana, ben")
    code, out, err = run_cli([*base, "--round", "r1"], capsys)
    assert code == 0, err
    assert "ana-r2.xlsx" not in out and "ana: 33/33 coded (ana.xlsx, round r1)" in out
    r1 = study.kappa(("ana", "r1"), ("ben", "r1"))
    line = next(x for x in out.splitlines() if x.startswith("round r1, "))
    assert line.startswith(f"round r1, {SCHEME}: Cohen's kappa {r1:.3f} [")
    assert line.endswith(" on 33 units coded by ana, ben")
    code, _, err = run_cli([*base, "--round", "r9"], capsys)
    assert code == 2 and "no workbook of that round; rounds: r1, r2" in err


def _observed(out: str) -> float:
    line = next(x for x in out.splitlines() if x.startswith("pilot:"))
    return float(line.rsplit(" ", 1)[1])


def test_plan_takes_the_round(study: Study, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", str(study.path), "--scheme", SCHEME, "--width", "0.2", "--simulate", "0"]
    base += ["--humans", "ana,ben"]
    code, out, err = run_cli([*base, "--round", "r1"], capsys)
    assert code == 0, err
    assert "33 units with two or more ratings" in out
    assert _observed(out) == round(study.kappa(("ana", "r1"), ("ben", "r1")), 3)
    code, out, err = run_cli(base, capsys)  # default: ana's r2
    assert code == 0, err
    assert "20 units with two or more ratings" in out
    assert _observed(out) == round(study.kappa(("ana", "r2"), ("ben", "r1")), 3)
    assert "coding rounds: using" in err
    code, _, err = run_cli(
        ["plan", "--expected", "0.7", "--width", "0.1", "--prevalence", "0.3", "--round", "r1"],
        capsys,
    )
    assert code == 2 and "give CORPUS" in err


def test_estimate_takes_the_round(study: Study, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["estimate", str(study.path), "--scheme", SCHEME, "--model", "m1"]
    code, out, err = run_cli([*base, "--round", "r1"], capsys)
    assert code == 0, err
    assert "33 units labelled by m1@mathdial-moves@1.0, 33 coded by adjudicated" in out
    code, out, err = run_cli(base, capsys)
    assert code == 0, err
    assert "33 units labelled by m1@mathdial-moves@1.0, 20 coded by adjudicated" in out
    assert "note: Coding rounds: using adjudicated r2" in out
    assert "coding rounds: using adjudicated r2" in err


# ------------------------------------------------------------------ the order of rounds
def test_round_order_by_suffix_then_recorded_time() -> None:
    assert order_rounds(["r10", "r2", "r1"]) == ["r1", "r2", "r10"]
    assert order_rounds(["r1", "round2"]) is None  # different prefixes: no order
    assert order_rounds(["r1", "r01"]) is None  # the same number twice
    t = {
        "pilot": pd.Timestamp("2024-03-01", tz="UTC"),
        "main": pd.Timestamp("2024-05-01", tz="UTC"),
    }
    assert order_rounds(["main", "pilot"], t) == ["pilot", "main"]
    assert order_rounds(["main", "pilot"], {"main": t["main"]}) is None


def _frame(rounds: list[str], times: list[str | None] | None = None) -> pd.DataFrame:
    n = len(rounds)
    metas = [{} if t is None else {ROUND_TIME: t} for t in (times or [None] * n)]
    rows = pd.DataFrame(
        {
            "unit_id": "u1",
            "scheme": "s",
            "label": [f"x{i}" for i in range(n)],
            "rater": "ana",
            "rater_kind": "human",
            "run_id": rounds,
            "meta": metas,
        }
    )
    other = pd.DataFrame(
        {
            "unit_id": ["u1", "u1"],
            "scheme": "s",
            "label": ["y", "z"],
            "rater": ["coder_a", "gpt"],
            "rater_kind": ["human", "model"],
            "run_id": [None, "run-9"],
            "meta": [{}, {}],
        }
    )
    return pd.concat([rows, other], ignore_index=True)


def test_unorderable_rounds_are_an_error_listing_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.errors import InputError

    with pytest.raises(InputError, match=r"ana in s: main, pilot\).*choose one with --round"):
        select_round(_frame(["pilot", "main"]))
    path = tmp_path / "a.jsonl"
    _frame(["pilot", "main"]).to_json(path, orient="records", lines=True)
    code, _, err = run_cli(["irr", str(path), "--bootstrap", "0"], capsys)
    assert (
        code == 2 and "cannot tell which coding round is the latest (ana in s: main, pilot)" in err
    )
    code, _, err = run_cli(["irr", str(path), "--bootstrap", "0", "--round", "main"], capsys)
    assert code == 0, err


def test_recorded_time_orders_rounds_and_other_rows_are_kept() -> None:
    sel = select_round(_frame(["pilot", "main"], ["2024-05-01T10:00:00+00:00", "2024-03-01"]))
    assert sel.annotations["label"].tolist() == ["x0", "y", "z"]  # pilot was recorded later
    assert sel.choices[0].used == "pilot" and sel.choices[0].left_out == ("main",)
    one = select_round(_frame(["r1"]))
    assert len(one.annotations) == 3 and one.note() is None
