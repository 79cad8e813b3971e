"""CIMA loader: turns, candidates, action flags, prefix chains, malformed input, real counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import corpora
from corpora.cima import STUDENT_ACTIONS, TUTOR_ACTIONS
from tests.conftest import corpus_path
from toolkit.errors import InputError

FIX = Path(__file__).parent / "fixtures" / "cima"


def test_fixture_turns_and_candidates() -> None:
    c = corpora.load("cima", FIX)
    assert list(c.dialogues.dialogue_id) == ["prep_0", "prep_1", "prep_2"]
    t = c.turns[c.turns.dialogue_id == "prep_1"]
    assert list(t.role) == ["teacher", "student", "teacher", "student"] + ["teacher"] * 3
    assert [m["candidate"] for m in t.meta] == [False] * 4 + [True] * 3
    assert [m.get("response") for m in t.meta][4:] == [0, 1, 2]
    assert t.text.iloc[5] == "Almost: the table is pink."
    m = c.dialogues.meta.iloc[0]
    assert m["img"] == "pictures/cat_under_pink_table.png"
    assert m["img_raw"] == '"pictures/cat_under_pink_table.png"'
    assert m["grammarRules"].startswith('[["il is masculine"')  # unparseable JSON kept raw


def test_fixture_actions() -> None:
    c = corpora.load("cima", FIX)
    a = c.annotations.set_index(["unit_id", "scheme"])
    # prep_0 response 1 (turn 3) is [True, True, False, False, False]
    assert [a.loc[("prep_0:3", s), "label"] for s in TUTOR_ACTIONS] == ["1", "1", "0", "0", "0"]
    # prep_1 response 2 (turn 6): confirmation + other
    assert [a.loc[("prep_1:6", s), "label"] for s in TUTOR_ACTIONS] == ["0", "0", "0", "1", "1"]
    # student actions on the last past_convo turn, raw strings in meta
    assert [a.loc[("prep_2:3", s), "label"] for s in STUDENT_ACTIONS] == ["1", "0", "1", "0"]
    assert a.loc[("prep_2:3", "cima/student_guess"), "meta"] == {"raw": "True"}
    assert a.loc[("prep_0:3", "cima/question"), "meta"] == {"raw": True}
    assert len(c.annotations) == 6 * 5 + 3 * 4
    assert set(c.annotations.rater) == {"cima_gold"}


def test_prefix_chains() -> None:
    c = corpora.load("cima", FIX)
    meta = dict(zip(c.dialogues.dialogue_id, c.dialogues.meta, strict=True))
    assert meta["prep_0"]["parent"] is None and meta["prep_0"]["chain"] == "prep_0"
    assert meta["prep_1"]["parent"] == "prep_0" and meta["prep_1"]["chain"] == "prep_0"
    # same first tutor line, different student reply: a separate chain
    assert meta["prep_2"]["parent"] is None and meta["prep_2"]["chain"] == "prep_2"


def test_malformed(tmp_path: Path) -> None:
    data = json.loads((FIX / "dataset.json").read_text())
    data["prepDataset"]["1"]["tutorActions"].pop()
    (tmp_path / "dataset.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"field 'tutorActions': prepDataset\['1'\]: 2 action"):
        corpora.load("cima", tmp_path)
    data = json.loads((FIX / "dataset.json").read_text())
    data["prepDataset"]["0"]["studentActions"][0] = "maybe"
    (tmp_path / "dataset.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="expected true/false, got 'maybe'"):
        corpora.load("cima", tmp_path / "dataset.json")
    (tmp_path / "dataset.json").write_text('{"shapeDataset": {}}')
    with pytest.raises(InputError, match="prepDataset"):
        corpora.load("cima", tmp_path)


@pytest.mark.realdata
def test_real_counts(data_dir: Path) -> None:
    c = corpora.load("cima", corpus_path(data_dir, "cima"))
    assert len(c.dialogues) == 1135
    lengths = c.dialogues.meta.map(lambda m: m["n_context_turns"]).value_counts().to_dict()
    assert lengths == {2: 373, 4: 325, 6: 230, 8: 125, 10: 82}
    cand = c.turns[[m["candidate"] for m in c.turns.meta]]
    assert len(cand) == 3315
    assert len(c.turns) == 3315 + 2 * 373 + 4 * 325 + 6 * 230 + 8 * 125 + 10 * 82
    pos = c.annotations[c.annotations.label == "1"].scheme.value_counts().to_dict()
    assert pos == {
        "cima/question": 943,
        "cima/hint": 1986,
        "cima/correction": 957,
        "cima/confirmation": 483,
        "cima/other": 62,
        "cima/student_guess": 514,
        "cima/student_question": 551,
        "cima/student_affirmation": 162,
        "cima/student_other": 2,
    }
    assert len(c.annotations) == 3315 * 5 + 1135 * 4
    multi = (
        c.annotations[c.annotations.scheme.isin(TUTOR_ACTIONS)]
        .groupby("unit_id")
        .apply(lambda g: (g.label == "1").sum())
    )
    assert (multi >= 2).sum() == 969
    has_parent = c.dialogues.meta.map(lambda m: m["parent"] is not None).sum()
    assert has_parent == 752
    assert c.dialogues.meta.map(lambda m: m["chain"]).nunique() == 1135 - 752
