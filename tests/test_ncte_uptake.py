"""NCTE uptake loader: fixture quirks, malformed input, exact counts on the shared file."""

from __future__ import annotations

from pathlib import Path

import pytest

import corpora
from corpora.ncte_uptake import SCHEMES, UPTAKE_LABELS
from tests.conftest import corpus_path
from toolkit.errors import InputError

FIX = Path(__file__).parent / "fixtures" / "ncte_uptake"


def test_fixture_structure_and_labels() -> None:
    c = corpora.load("ncte_uptake", FIX)
    assert list(c.dialogues.dialogue_id) == ["4_65", "4_296", "7_12", "7_13"]
    meta = dict(c.dialogues.meta[1])
    assert meta.pop("deid")["by"] == "publisher"  # the registry marks anonymised releases
    assert meta == {"obs_id": 4, "exchange_idx": 296}
    t = c.turns[c.turns.dialogue_id == "7_13"]
    assert list(t.role) == ["student", "teacher"]
    assert list(t.text) == ["I got twelve for this one too.", "Twelve? How did you get twelve?"]
    a = c.annotations.set_index(["unit_id", "scheme"])
    # uptake majority empty in 4_296 and 7_12 -> no uptake row there
    up = c.annotations[c.annotations.scheme == "ncte/uptake"]
    assert sorted(up.unit_id) == ["4_65:1", "7_13:1"]
    assert a.loc[("7_13:1", "ncte/uptake"), "label"] == "2"
    assert a.loc[("7_13:1", "ncte/uptake"), "meta"] == {
        "mean": 1.5,
        "num_agree": 2,
        "zscore": 1.1,
        "majority_raw": 2.0,
    }
    # student_on_task is on the student turn, teacher_on_task on the teacher turn
    assert a.loc[("7_12:0", "ncte/student_on_task"), "label"] == "0"
    assert a.loc[("7_12:1", "ncte/teacher_on_task"), "label"] == "1"
    assert a.loc[("7_12:0", "ncte/student_on_task"), "meta"]["num_agree"] == 3
    assert set(c.annotations.rater) == {"ncte_majority"}
    assert set(c.annotations.rater_kind) == {"human"}
    assert len(c.annotations) == 4 * 2 + 2
    assert UPTAKE_LABELS["2"] == "high" and SCHEMES["ncte/uptake"] == ("0", "1", "2")


def test_file_path_accepted() -> None:
    c = corpora.load("ncte_uptake", FIX / "uptake_data.csv")
    # 7_12 has no uptake mean and no uptake majority: nothing; 4_296 mean present, majority empty
    assert not ((c.annotations.unit_id == "7_12:1") & (c.annotations.scheme == "ncte/uptake")).any()


def test_bad_label_raises(tmp_path: Path) -> None:
    text = (FIX / "uptake_data.csv").read_text().splitlines()
    text[3] = text[3].replace("1.0,3,1,0.3,,1,,", "1.0,3,1,0.3,,1,3.0,")
    bad = tmp_path / "uptake_data.csv"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match=r"uptake_data.csv:4: field 'uptake_majority'"):
        corpora.load("ncte_uptake", bad)


def test_missing_column_and_duplicate(tmp_path: Path) -> None:
    bad = tmp_path / "uptake_data.csv"
    bad.write_text("obs_id,exchange_idx,student_text\n1,2,hi\n")
    with pytest.raises(InputError, match="missing column"):
        corpora.load("ncte_uptake", bad)
    lines = (FIX / "uptake_data.csv").read_text().splitlines()
    bad.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(InputError, match="repeats line 2"):
        corpora.load("ncte_uptake", bad)


@pytest.mark.realdata
def test_real_counts(data_dir: Path) -> None:
    c = corpora.load("ncte_uptake", corpus_path(data_dir, "ncte_uptake"))
    assert len(c.dialogues) == 2246
    assert c.dialogues.meta.map(lambda m: m["obs_id"]).nunique() == 774
    assert len(c.turns) == 2 * 2246
    counts = c.annotations.groupby(["scheme", "label"]).size().to_dict()
    assert counts == {
        ("ncte/student_on_task", "0"): 2246 - 1880,
        ("ncte/student_on_task", "1"): 1880,
        ("ncte/teacher_on_task", "0"): 2246 - 1918,
        ("ncte/teacher_on_task", "1"): 1918,
        ("ncte/uptake", "0"): 171,
        ("ncte/uptake", "1"): 744,
        ("ncte/uptake", "2"): 780,
    }
    num3 = (
        c.annotations[c.annotations.scheme == "ncte/student_on_task"]
        .meta.map(lambda m: m["num_agree"] == 3)
        .sum()
    )
    assert num3 == 1907
