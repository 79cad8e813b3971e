"""MathDial loader tests: expected values come from the shared corpora.md, counted on the files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpora
from corpora.mathdial import MOVES, parse_conversation
from tests.conftest import corpus_path
from toolkit import Corpus
from toolkit.errors import InputError

# ------------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def mathdial_dir(data_dir: Path) -> Path:
    return corpus_path(data_dir, "mathdial")


@pytest.fixture(scope="module")
def test_jsonl(mathdial_dir: Path) -> Corpus:
    return corpora.load("mathdial", mathdial_dir)


@pytest.mark.realdata
def test_counts_on_test_jsonl(test_jsonl) -> None:
    c = test_jsonl
    assert len(c.dialogues) == 418
    assert len(c.turns) == 4883
    assert int((c.turns["role"] == "teacher").sum()) == 2570
    moves = c.annotations.loc[c.annotations["scheme"] == "mathdial/move", "label"]
    assert moves.value_counts().to_dict() == {
        "focus": 867,
        "probing": 655,
        "generic": 630,
        "telling": 418,
    }
    # every teacher turn carries exactly one move, students none
    teacher_ids = set(c.turns.loc[c.turns["role"] == "teacher", "turn_id"])
    assert set(c.annotations["unit_id"]) == teacher_ids
    assert set(c.annotations["rater"]) == {"teacher"}
    assert set(c.annotations["rater_kind"]) == {"human"}
    assert c.annotations["run_id"].isna().all()
    assert set(c.dialogues["split"]) == {"test"}
    assert set(c.dialogues["kind"]) == {"tutoring"}


@pytest.mark.realdata
def test_turn_details(test_jsonl) -> None:
    t = test_jsonl.turns
    per_dialogue = t.groupby("dialogue_id").size()
    assert (per_dialogue.min(), per_dialogue.max()) == (4, 46)
    students = Counter(t.loc[t["role"] == "student", "speaker"])
    assert students["Student"] == 2140
    assert students["Mariana"] == 87 and students["Ronny"] == 18 and students["Rishi"] == 2
    assert sum(students.values()) == 4883 - 2570
    assert set(t.loc[t["role"] == "teacher", "speaker"]) == {"Teacher"}
    # 8 teacher turns are only a tag; no text keeps a tag, padding or |EOM|
    assert int(((t["role"] == "teacher") & (t["text"] == "")).sum()) == 8
    assert not t["text"].str.match(r"^\((focus|probing|telling|generic)\)").any()
    assert not t["text"].str.contains("|EOM|", regex=False).any()
    assert (t["text"] == t["text"].str.strip()).all()
    # all dialogues start with the teacher; 219 end with the student
    first = t[t["index"] == 0]
    assert (first["role"] == "teacher").all()
    last = t.loc[t.groupby("dialogue_id")["index"].idxmax()]
    assert int((last["role"] == "student").sum()) == 219


@pytest.mark.realdata
def test_inner_newlines_are_kept(mathdial_dir: Path, test_jsonl) -> None:
    # independent count on the raw file: turns whose stripped chunk still holds a newline
    raw = [json.loads(line) for line in (mathdial_dir / "data" / "test.jsonl").open()]
    assert sum("\n" in r["conversation"] for r in raw) == 47  # as documented
    bodies = [ch.split(":", 1)[1].strip() for r in raw for ch in r["conversation"].split("|EOM|")]
    inner = sum("\n" in b for b in bodies)
    assert inner > 0
    assert int(test_jsonl.turns["text"].str.contains("\n").sum()) == inner


@pytest.mark.realdata
def test_dialogue_meta_types(test_jsonl) -> None:
    meta = list(test_jsonl.dialogues["meta"])
    assert len({(m["qid"], m["scenario"]) for m in meta}) < 418  # not a key, as documented
    assert len(set(test_jsonl.dialogues["dialogue_id"])) == 418
    assert Counter(m["scenario"] for m in meta) == {1: 98, 2: 74, 3: 85, 4: 77, 5: 84}
    assert len({m["qid"] for m in meta}) == 267
    assert all(isinstance(m["qid"], int) and isinstance(m["scenario"], int) for m in meta)
    assert Counter(m["self-typical-confusion"] for m in meta) == {
        1: 23,
        2: 46,
        3: 118,
        4: 136,
        5: 93,
        None: 2,
    }
    assert Counter(m["self-typical-interactions"] for m in meta) == {
        1: 34,
        2: 46,
        3: 135,
        4: 125,
        5: 76,
        None: 2,
    }
    assert Counter(m["self-correctness"] for m in meta) == {
        "Yes": 309,
        "Yes, but I had to reveal the answer": 64,
        "No": 43,
        None: 2,
    }
    nulls = sorted(m["qid"] for m in meta if m["self-correctness"] is None)
    assert nulls == [5000056, 5000275]
    for m in meta:
        if m["self-correctness"] is None:
            assert m["teacher_described_confusion"] is None
            assert m["self-typical-confusion"] is None and m["self-typical-interactions"] is None
        assert m["student_name"] == m["student_profile"].split()[0]
        assert m["ground_truth"].splitlines()[-1].startswith(" ")
    for d in test_jsonl.dialogues.itertuples():
        assert d.dialogue_id.startswith(f"{d.meta['qid']}-")


@pytest.mark.realdata
def test_jsonl_and_csv_give_the_same_corpus(mathdial_dir: Path, test_jsonl) -> None:
    from_csv = corpora.load("mathdial", mathdial_dir / "data" / "test.csv")
    assert from_csv == test_jsonl
    assert corpora.load("mathdial", mathdial_dir, files="data/test.csv") == test_jsonl
    assert corpora.load("mathdial", mathdial_dir, split="test") == test_jsonl


@pytest.mark.realdata
def test_example_jsonl_types_are_normalised(mathdial_dir: Path, test_jsonl) -> None:
    ex = corpora.load("mathdial", mathdial_dir / "data" / "example.jsonl")
    assert len(ex.dialogues) == 2
    assert set(ex.dialogues["split"]) == {"example"}
    by_key = {(m["qid"], m["scenario"]): m for m in ex.dialogues["meta"]}
    assert set(by_key) == {(5000794, 3), (5000195, 4)}
    m = by_key[(5000794, 3)]
    assert m["self-typical-confusion"] == 1 and isinstance(m["self-typical-confusion"], int)
    assert "\\n" not in m["ground_truth"] and "\n" in m["ground_truth"]
    # the shared dialogue gives identical rows to test.jsonl
    shared = ex.dialogues[[m["qid"] == 5000195 for m in ex.dialogues["meta"]]].iloc[0]
    same = test_jsonl.dialogues.set_index("dialogue_id").loc[shared["dialogue_id"]]
    assert same["meta"] == shared["meta"]
    t_ex = ex.filter(dialogue_id=shared["dialogue_id"])
    t_test = test_jsonl.filter(dialogue_id=shared["dialogue_id"])
    assert t_ex.turns.equals(t_test.turns)
    assert t_ex.annotations.equals(t_test.annotations)


@pytest.mark.realdata
def test_two_files_with_a_shared_dialogue_is_an_error(mathdial_dir: Path) -> None:
    with pytest.raises(InputError, match="already read from"):
        corpora.load("mathdial", mathdial_dir, files=["data/test.jsonl", "data/example.jsonl"])


# ---------------------------------------------------------------------------- synthetic input


def _record(conversation: str, **extra: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "qid": 1,
        "scenario": 2,
        "question": "q",
        "ground_truth": "a\n 1",
        "student_incorrect_solution": "b\n 2",
        "student_profile": "Ana is a 7th grade student.",
        "teacher_described_confusion": None,
        "self-correctness": "Yes",
        "self-typical-confusion": 3.0,
        "self-typical-interactions": None,
        "conversation": conversation,
    }
    rec.update(extra)
    return rec


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_parse_conversation_edge_cases() -> None:
    conv = (
        "Teacher: (focus) What is 2+2?  |EOM|Ana: It is\n5.\n|EOM|Teacher: (generic)"
        "|EOM|Student:4|EOM|Teacher: no tag here"
    )
    turns = parse_conversation(conv)
    assert [(t.role, t.speaker, t.move, t.text) for t in turns] == [
        ("teacher", "Teacher", "focus", "What is 2+2?"),
        ("student", "Ana", None, "It is\n5."),
        ("teacher", "Teacher", "generic", ""),
        ("student", "Student", None, "4"),
        ("teacher", "Teacher", None, "no tag here"),
    ]


def test_load_single_jsonl_file(tmp_path: Path) -> None:
    conv = "Teacher: (probing)Why?|EOM|Ana: Because.|EOM|Teacher: (Telling)It is 4."
    path = _write_jsonl(tmp_path / "dev.jsonl", [_record(conv)])
    c = corpora.load("mathdial", path)
    assert list(c.dialogues["split"]) == ["dev"]
    assert list(c.turns["role"]) == ["teacher", "student", "teacher"]
    assert list(c.annotations["label"]) == ["probing", "telling"]
    assert list(c.annotations["unit_id"]) == [c.turns["turn_id"][0], c.turns["turn_id"][2]]
    meta = c.dialogues["meta"][0]
    assert meta["self-typical-confusion"] == 3 and meta["self-typical-interactions"] is None
    assert meta["teacher_described_confusion"] is None


def test_csv_empty_fields_are_none(tmp_path: Path) -> None:
    import pandas as pd

    conv = "Teacher: (probing)Why?|EOM|Ana: Because."
    rec = _record(conv, **{"self-correctness": None, "self-typical-confusion": None})
    pd.DataFrame([rec]).to_csv(tmp_path / "x.csv", index=False)
    _write_jsonl(tmp_path / "x.jsonl", [rec])
    from_csv = corpora.load("mathdial", tmp_path / "x.csv")
    assert from_csv == corpora.load("mathdial", tmp_path / "x.jsonl")
    assert from_csv.dialogues["meta"][0]["self-correctness"] is None


# Hypothesis: formatting turns in the MathDial encoding and parsing them gives them back.
_speaker = st.sampled_from(["Teacher", "Student", "Mariana", "DeAndre", "Ayisha"])
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="|"), max_size=40
).map(str.strip)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(_speaker, st.sampled_from([*MOVES, None]), _text, st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_parse_conversation_round_trips(turns: list[tuple[str, str | None, str, bool]]) -> None:
    chunks = []
    expected = []
    for speaker, move, text, pad in turns:
        is_teacher = speaker == "Teacher"
        # an untagged teacher text must not itself look like a tag
        if is_teacher and move is None and text.startswith("("):
            text = "x" + text
        tag = f"({move})" + (" " if pad else "") if is_teacher and move else ""
        chunks.append(f"{speaker}: {tag}{text}" + ("  " if pad else ""))
        expected.append(
            ("teacher" if is_teacher else "student", speaker, move if is_teacher else None, text)
        )
    parsed = parse_conversation("|EOM|".join(chunks))
    assert [(t.role, t.speaker, t.move, t.text) for t in parsed] == expected
