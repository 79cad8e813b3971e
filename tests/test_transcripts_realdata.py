"""The importer against the named loaders: shared corpora written out in other shapes.

24 TalkMoves lessons become one CSV with renamed columns and two coder columns; MathDial becomes
one SRT, VTT or text file per dialogue. The importer must give the same dialogues, turns, texts,
roles and (for the CSV) labels as the named loader.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import corpora
from corpora.transcripts import import_transcripts
from tests.conftest import corpus_path
from toolkit import Corpus

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def talkmoves(data_dir: Path) -> Corpus:
    folder = corpus_path(data_dir, "talkmoves", "data", "Subset 1")
    lessons = sorted(p.stem for p in folder.glob("*.xlsx"))[::8]  # 24 of 191 lessons: fast
    return corpora.load("talkmoves", folder, files=lessons)


@pytest.fixture(scope="module")
def mathdial(data_dir: Path) -> Corpus:
    return corpora.load("mathdial", corpus_path(data_dir, "mathdial"))


def _labels(corpus: Corpus, scheme: str, rater: str) -> dict[tuple[str, int], str]:
    """(dialogue, turn index) -> label of ``scheme`` by ``rater``."""
    t = corpus.turns.set_index("turn_id")
    a = corpus.annotations
    a = a[(a["scheme"] == scheme) & (a["rater"] == rater)]
    return {
        (str(t.at[u, "dialogue_id"]), int(t.at[u, "index"])): str(label)
        for u, label in zip(a["unit_id"], a["label"], strict=True)
    }


def test_talkmoves_as_one_csv_with_two_coders(talkmoves: Corpus, tmp_path: Path) -> None:
    t = talkmoves.turns
    teacher = _labels(talkmoves, "talkmoves/teacher", "talkmoves_gold")
    student = _labels(talkmoves, "talkmoves/student", "talkmoves_gold")
    keys = list(zip(t["dialogue_id"], t["index"].astype(int), strict=True))
    frame = pd.DataFrame(
        {
            "Lesson": t["dialogue_id"],
            "Line": t["index"] + 1,
            "Who": t["speaker"],
            "Said": t["text"],
            "Role": t["role"],
            "Coder A": [teacher.get(k, "") for k in keys],
            "Coder B": [teacher.get(k, "") for k in keys],
            "Student move": [student.get(k, "") for k in keys],
        }
    ).sample(frac=1.0, random_state=0)  # shuffled: the order column must restore the order
    frame.to_csv(tmp_path / "talkmoves.csv", index=False)
    result = import_transcripts(
        tmp_path / "talkmoves.csv",
        dialogue="Lesson",
        order="Line",
        speaker="Who",
        text="Said",
        role="Role",
        code=[
            "Coder A=talkmoves/teacher@A",
            "Coder B=talkmoves/teacher@B",
            "Student move=talkmoves/student@talkmoves_gold",
        ],
    )
    got = result.corpus
    assert sorted(got.dialogues["dialogue_id"]) == sorted(talkmoves.dialogues["dialogue_id"])
    assert len(got.turns) == len(t)
    assert len(got.dialogues) == len(talkmoves.dialogues) == 24
    mine = got.turns.sort_values(["dialogue_id", "index"]).reset_index(drop=True)
    theirs = t.sort_values(["dialogue_id", "index"]).reset_index(drop=True)
    assert mine["text"].tolist() == theirs["text"].tolist()
    assert mine["role"].tolist() == theirs["role"].tolist()
    assert mine["speaker"].fillna("").tolist() == theirs["speaker"].fillna("").tolist()
    assert _labels(got, "talkmoves/teacher", "A") == teacher
    assert _labels(got, "talkmoves/teacher", "B") == teacher
    assert _labels(got, "talkmoves/student", "talkmoves_gold") == student


def _write_caption(path: Path, turns: pd.DataFrame, fmt: str) -> None:
    lines = ["WEBVTT", ""] if fmt == "vtt" else []
    for i, (speaker, text) in enumerate(zip(turns["speaker"], turns["text"], strict=True)):
        start, end = f"00:00:{i:02d}", f"00:00:{i:02d}"
        body = "\n".join(x for x in str(text).split("\n") if x.strip())  # captions: no blank lines
        if fmt == "srt":
            lines += [str(i + 1), f"{start},000 --> {end},500", f"{speaker}: {body}", ""]
        elif fmt == "vtt":
            lines += [f"{start}.000 --> {end}.500", f"<v {speaker}>{body}", ""]
        else:  # text: continuation lines are indented
            first, *rest = str(text).split("\n")
            lines += [f"[{start}] {speaker}: {first}"] + [f"    {r}" for r in rest if r.strip()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _norm(texts: list[str]) -> list[str]:
    return [" ".join(t.split()) for t in texts]


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt"])
def test_mathdial_as_caption_and_text_files(mathdial: Corpus, tmp_path: Path, fmt: str) -> None:
    all_turns = mathdial.turns
    empty = set(all_turns.loc[all_turns["text"].str.strip() == "", "dialogue_id"])
    first = set(list(mathdial.dialogues["dialogue_id"])[:120])  # a third of the split: fast
    ids = [d for d in mathdial.dialogues["dialogue_id"] if d in first or d in empty]
    t = mathdial.turns[mathdial.turns["dialogue_id"].isin(ids)]
    for n, (_, turns) in enumerate(t.groupby("dialogue_id", sort=False)):
        _write_caption(tmp_path / f"d{n:03d}.{fmt}", turns, fmt)
    students = sorted(set(t["speaker"]) - {"Teacher"})
    result = import_transcripts(tmp_path, student=students)
    got = result.corpus
    theirs = t[t["text"].str.strip() != ""]  # the importer drops empty turns and counts them
    assert result.empty_rows == len(t) - len(theirs) == 8  # teacher turns with only a move tag
    assert len(got.dialogues) == len(ids)
    assert len(got.turns) == len(theirs)
    assert _norm(got.turns["text"].tolist()) == _norm(theirs["text"].tolist())
    assert got.turns["role"].tolist() == theirs["role"].tolist()
    assert got.turns["speaker"].tolist() == theirs["speaker"].tolist()
    same = [a == b for a, b in zip(got.turns["text"], theirs["text"], strict=True)]
    one_line = ["\n" not in x for x in theirs["text"]]
    # single-line turns come back exactly (bar trailing spaces, which the formats do not keep)
    exact = [a.strip() == b.strip() for a, b in zip(got.turns["text"], theirs["text"], strict=True)]
    assert all(e for e, o in zip(exact, one_line, strict=True) if o)
    assert sum(same) > 0.9 * len(same)
