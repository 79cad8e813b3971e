"""TSCC loader on synthetic fixtures (the real corpus may not be redistributed).

The fixtures in tests/fixtures/tscc/ are invented text in the documented format; the expected values
below are read off those files by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import corpora
from corpora._common import header_key
from corpora.tscc import COLUMNS
from toolkit import Corpus

FIXTURES = Path(__file__).parent / "fixtures" / "tscc"


@pytest.fixture(scope="module")
def tscc():
    return corpora.load("tscc", FIXTURES)


def test_dialogues_and_turns(tscc) -> None:
    assert list(tscc.dialogues["dialogue_id"]) == ["lesson001", "lesson002"]
    assert set(tscc.dialogues["kind"]) == {"chat_lesson"}
    assert tscc.turns.groupby("dialogue_id").size().to_dict() == {"lesson001": 6, "lesson002": 3}
    t = tscc.turns.set_index("turn_id")
    assert list(t["role"]) == [
        "teacher",
        "student",
        "teacher",
        "teacher",
        "student",
        "teacher",
        "teacher",
        "student",
        "teacher",
    ]
    assert t.loc["lesson001:1", "speaker"] == "S1"
    assert t.loc["lesson001:1", "text"] == "hi, it was good i go to the <PLACE PLACE>"
    assert t.loc["lesson001:5", "text"] == 'Let\'s look at this text: "A day out"'
    meta = t.loc["lesson001:1", "meta"]
    assert meta["edited"] == "hi, it was good, I went to the <PLACE PLACE>"
    assert meta["turn_number"] == 2 and meta["responding_to"] == 1 and meta["sequence"] == 1
    assert meta["timestamp"] == "10:00:09"
    assert t.loc["lesson001:0", "meta"]["edited"] is None  # NA -> None
    # two messages of one turn keep their shared turn number
    assert t.loc["lesson001:2", "meta"]["turn_number"] == 3
    assert t.loc["lesson001:3", "meta"]["turn_number"] == 3
    # an unknown column is kept in meta; capitalised roles are normalised
    assert t.loc["lesson002:1", "meta"]["Notes"] == "short"
    assert t.loc["lesson002:0", "role"] == "teacher"


def test_annotations(tscc) -> None:
    a = tscc.annotations
    counts = a.groupby("scheme").size().to_dict()
    assert counts == {"tscc/seq_type": 8, "tscc/focus": 4, "tscc/resource": 1, "tscc/assessment": 2}
    assert set(a["rater"]) == {"tscc"} and set(a["rater_kind"]) == {"human"}
    one = a[(a["unit_id"] == "lesson001:2")].set_index("scheme")["label"].to_dict()
    assert one == {
        "tscc/seq_type": "topic development",
        "tscc/focus": "grammar",
        "tscc/assessment": "correction",
    }
    assert "lesson001:4" not in set(a.loc[a["scheme"] == "tscc/seq_type", "unit_id"])


def test_single_file_and_round_trip(tmp_path: Path, tscc) -> None:
    one = corpora.load("tscc", FIXTURES / "lesson002.tsv")
    assert len(one.turns) == 3
    out = tscc.save(tmp_path / "c", format="jsonl")
    assert Corpus.read(out) == tscc


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("turn.number", "turn_number"),
        ("Turn_Number", "turn_number"),
        ("TURN NUMBER", "turn_number"),
        ("anonymised", "text"),
        ("Anonymized", "text"),
        ("sequence.type", "seq_type"),
        ("responding-to", "responding_to"),
        ("user.id", "user_id"),
    ],
)
def test_header_variants(header: str, canonical: str) -> None:
    assert header_key(header) in COLUMNS[canonical]


def test_header_variants_load(tmp_path: Path) -> None:
    path = tmp_path / "l.tsv"
    path.write_text("ROLE\tTurn Number\tAnonymised Text\nstudent\t1\thello\nteacher\t2\thi\n")
    c = corpora.load("tscc", path)
    assert list(c.turns["text"]) == ["hello", "hi"]
    assert [m["turn_number"] for m in c.turns["meta"]] == [1, 2]
    assert c.turns["speaker"].isna().all()
    assert len(c.annotations) == 0
