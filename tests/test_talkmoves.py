"""TalkMoves loader: header variants, role rule, 7 - Context, label normalisation, real counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import corpora
from corpora.talkmoves import (
    KNOWN_VARIANTS,
    STUDENT_MOVES,
    TEACHER_MOVES,
    normalise_tag,
    speaker_hint,
)
from tests.conftest import corpus_path
from toolkit import Corpus
from toolkit.errors import InputError

FIX = Path(__file__).parent / "fixtures" / "talkmoves"
LESSON = "subset1/Lesson A_Grade 4"


def test_known_variants_mapping() -> None:
    for (column, raw), expected in KNOWN_VARIANTS.items():
        assert normalise_tag(raw, column) == expected, (column, raw)
    # the typos the brief names, spelled out
    assert normalise_tag("4 - resSuzannang", "teacher") == "4 - Restating"
    assert normalise_tag("8 - PreStudents for Accuracy", "teacher") == "8 - Press for Accuracy"
    assert normalise_tag("3 - gettingSSto relate", "teacher") == "3 - Getting Students to Relate"
    assert normalise_tag("6 - marketing", "teacher") == "6 - Marking"
    assert normalise_tag(2, "teacher") == "2 - Keeping Everyone Together"
    assert normalise_tag(1.0, "student") == "1 - None"
    assert normalise_tag("7\\", "teacher") == "7 - Context"
    assert normalise_tag("\\", "student") is None
    assert normalise_tag("7 - Context", "student") is None  # outside the student scheme
    assert normalise_tag(128, "teacher") is None
    assert normalise_tag("   ", "teacher") is None
    assert len(TEACHER_MOVES) == 9 and len(STUDENT_MOVES) == 5
    assert all(v.startswith(k + " - ") for k, v in {**TEACHER_MOVES, **STUDENT_MOVES}.items())


def test_speaker_hint() -> None:
    assert [speaker_hint(s) for s in ("T", "T1:", "Teacher", "Ms.Carroll", "Mr. Van")] == [
        "teacher"
    ] * 5
    assert [speaker_hint(s) for s in ("S", "SS", "SN", "s1", "Student 1", "Class")] == [
        "student"
    ] * 6
    assert speaker_hint("Erik") is None and speaker_hint(None) is None


def test_fixture_roles_and_labels() -> None:
    c = corpora.load("talkmoves", FIX, subsets=["subset1"])
    assert list(c.dialogues.dialogue_id) == [LESSON]
    d = c.dialogues.iloc[0]
    assert d.split == "subset1" and d.kind == "classroom" and d.meta["empty_rows"] == 1
    t = c.turns.set_index("index")
    assert len(t) == 12  # 13 rows, one without a sentence
    assert list(t.role) == [
        "teacher",
        "teacher",
        "student",
        "teacher",
        "teacher",
        "other",
        "student",
        "teacher",
        "teacher",
        "teacher",
        "other",
        "student",
    ]
    assert t.loc[5, "speaker"] == "Class" and t.loc[5, "meta"]["row"] == 8
    assert t.loc[9, "text"] == "42" and t.loc[9, "meta"]["sentence_type"] == "int"
    assert t.loc[9, "meta"]["turn"] == "8a"
    assert t.loc[0, "meta"]["timestamp"] == "00:01:05"
    # 7 - Context on a student line: meta only, no teacher annotation
    assert t.loc[2, "meta"]["context"] is True and t.loc[2, "meta"]["teacher_tag"] == "7 - Context"
    # conflicts: 'S' with only a teacher tag; 'T' with a student tag
    assert [i for i in t.index if t.loc[i, "meta"]["role_conflict"]] == [4, 6]
    assert t.loc[6, "meta"]["unparseable"] == ["student"]
    assert t.loc[11, "meta"]["unparseable"] == ["teacher"]
    a = c.annotations
    teacher = dict(
        zip(
            a[a.scheme == "talkmoves/teacher"].unit_id,
            a[a.scheme == "talkmoves/teacher"].label,
            strict=True,
        )
    )
    assert teacher == {
        f"{LESSON}:0": "1 - None",
        f"{LESSON}:1": "4 - Restating",
        f"{LESSON}:3": "8 - Press for Accuracy",
        f"{LESSON}:4": "8 - Press for Accuracy",
        f"{LESSON}:6": "3 - Getting Students to Relate",
        f"{LESSON}:7": "7 - Context",
        f"{LESSON}:8": "6 - Marking",
        f"{LESSON}:9": "7 - Context",
    }
    student = a[a.scheme == "talkmoves/student"].set_index("unit_id")
    assert student.label.to_dict() == {
        f"{LESSON}:2": "5 - Providing Evidence / Explaining Reasoning",
        f"{LESSON}:11": "3 - Asking for More Information",
    }
    assert student.loc[f"{LESSON}:2", "meta"] == {
        "raw": "5 - providing evidence/providing reasoning"
    }
    assert set(a.rater) == {"talkmoves_gold"} and set(a.rater_kind) == {"human"}


def test_fixture_header_variants_subset2() -> None:
    c = corpora.load("talkmoves", FIX / "data" / "Subset 2")
    did = "subset2/TalkBack.Year1.Smith.Fall.010120"
    assert list(c.dialogues.dialogue_id) == [did]
    assert list(c.turns.speaker) == ["Ms. Smith", "S1", "Ms. Smith"]  # speaker column named 'S'
    assert list(c.turns.role) == ["teacher", "student", "teacher"]
    assert list(c.annotations.label) == ["1 - None", "1 - None", "9 - Press for Reasoning"]
    assert [m["turn"] for m in c.turns.meta] == [1, 2, 3]  # column named 'turn'


def test_files_option_single_file_and_dialog_acts() -> None:
    c = corpora.load("talkmoves", FIX / "data" / "Subset 1" / "Lesson A_Grade 4.xlsx")
    assert len(c.turns) == 12 and c.dialogues.split[0] == "subset1"
    c = corpora.load("talkmoves", FIX, files=["TalkBack.Year1.Smith.Fall.010120"])
    assert len(c.dialogues) == 1
    with pytest.raises(InputError, match="no such transcript"):
        corpora.load("talkmoves", FIX, files=["nope"])
    c = corpora.load("talkmoves", FIX, dialog_acts=True)
    da = c.annotations[c.annotations.scheme == "talkmoves/dialog_act"]
    assert set(da.rater_kind) == {"model"} and set(da.rater) == {"damsl_tagger"}
    assert list(da.label) == ["sd", "sv", "sd", "qy", "aa", "%", "qy", "sd", "b", "sd", "qy", "qy"]
    assert da.meta.iloc[4] == {"dialog_act": "Agree/Accept"}
    assert len(c.annotations) == 10 + 3 + 12


def test_malformed(tmp_path: Path) -> None:
    sub = tmp_path / "Subset 1"
    sub.mkdir()
    pd.DataFrame({"Speaker": ["T"], "Sentence": ["Hi"], "Teacher Tag": ["1 - None"]}).to_excel(
        sub / "bad.xlsx", index=False, engine="openpyxl"
    )
    with pytest.raises(InputError, match=r"bad.xlsx: field 'student': no Student Tag column"):
        corpora.load("talkmoves", sub)
    (sub / "bad.xlsx").write_text("not a zip")
    with pytest.raises(InputError, match="cannot read the workbook: the file is damaged"):
        corpora.load("talkmoves", sub / "bad.xlsx")
    with pytest.raises(InputError, match="unknown subset"):
        corpora.load("talkmoves", FIX, subsets=["subset3"])


@pytest.fixture(scope="module")
def real(data_dir: Path) -> Corpus:
    return corpora.load("talkmoves", corpus_path(data_dir, "talkmoves"))


@pytest.mark.realdata
def test_real_full_counts(real: Corpus) -> None:
    c = real
    assert c.dialogues.split.value_counts().to_dict() == {"subset2": 331, "subset1": 191}
    # 56,292 + 163,380 rows, 10 without a sentence
    assert len(c.turns) == 56292 + 163380 - 10
    assert c.dialogues.meta.map(lambda m: m["empty_rows"]).sum() == 10
    assert (c.turns.role == "other").sum() == 1302
    a = c.annotations
    teacher = a[a.scheme == "talkmoves/teacher"].label.value_counts().to_dict()
    context_marks = c.turns.meta.map(lambda m: m.get("context", False)).sum()
    assert context_marks == 6086
    assert teacher == {  # corpora.md table; 7 - Context 6,120 = 6,086 student-line marks + 34
        "1 - None": 108111,
        "2 - Keeping Everyone Together": 20946,
        "3 - Getting Students to Relate": 2462,
        "4 - Restating": 2415,
        "5 - Revoicing": 3745,
        "6 - Marking": 7,
        "7 - Context": 6120 - 6086,
        "8 - Press for Accuracy": 20991,
        "9 - Press for Reasoning": 1840,
    }
    student = a[a.scheme == "talkmoves/student"].label.value_counts().to_dict()
    assert student == {
        "1 - None": 24831,
        "2 - Relating to Another Student": 6474,
        "3 - Asking for More Information": 1859,
        "4 - Making a Claim": 17245,
        "5 - Providing Evidence / Explaining Reasoning": 7471,
    }
    # unparseable: teacher '\' (1); student '\' (1) -- corpora.md's second student one is ' ',
    # which the loader treats as empty
    unp = c.turns.meta.map(lambda m: tuple(m.get("unparseable", ()))).value_counts().to_dict()
    assert unp[("teacher",)] == 1 and unp[("student",)] == 1


@pytest.mark.realdata
def test_real_dialog_acts(data_dir: Path) -> None:
    root = corpus_path(data_dir, "talkmoves")
    c = corpora.load("talkmoves", root, subsets=["subset1"], dialog_acts=True)
    assert len(c.turns) == 56292 - 2
    da = c.annotations[c.annotations.scheme == "talkmoves/dialog_act"].label.value_counts()
    assert {k: da[k] for k in ("sd", "b", "sv", "aa", "%", "ba", "qy")} == {
        "sd": 43515,
        "b": 5620,
        "sv": 2264,
        "aa": 2111,
        "%": 1245,
        "ba": 1244,
        "qy": 291,
    }
