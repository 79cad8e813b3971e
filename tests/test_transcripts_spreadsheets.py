"""Own spreadsheets as they come: a title row, a two-level header, a semicolon CSV, blank rows,
a roster with roles and a Time column (issue "the newcomer's path")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from corpora.transcripts import import_transcripts
from tests.cli_support import run_cli
from toolkit.errors import InputError

_ROWS = [
    (1, "Ms. Lee", "Good morning. What is 3 x 4?", "00:00:05", "focus", "focus"),
    (2, "Maya", "12", "00:00:09", "", "claim"),
    (3, "Ms. Lee", "How do you know?", "00:01:02", "press", "press"),
    (4, "Jonah", "Because 4 + 4 + 4 is 12.", "00:01:10", "", ""),
]


def _lesson_xlsx(path: Path, *, title: bool = True, two_level: bool = False) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Lesson"
    if title:
        sheet.append(["Classroom transcript - Grade 4 - Fractions - 12 March"])
        sheet.merge_cells("A1:F1")
    if two_level:
        sheet.append(["Line", "Speaker", "Text", "Time", "Codes", None])
        sheet.append([None, None, None, None, "Coder A", "Coder B"])
        top = sheet.max_row - 1
        sheet.merge_cells(f"E{top}:F{top}")
    else:
        sheet.append(["Line", "Speaker", "Text", "Time", "Coder A", "Coder B"])
    for line, speaker, text, time, a, b in _ROWS:
        h, m, s = (int(x) for x in time.split(":"))
        sheet.append([line, speaker, text, dt.time(h, m, s), a or None, b or None])
    book.save(path)
    return path


def test_a_title_row_above_the_header_is_skipped_and_said(tmp_path: Path) -> None:
    path = _lesson_xlsx(tmp_path / "lesson.xlsx")
    result = import_transcripts(path, student=["Maya", "Jonah"])
    turns = result.corpus.turns
    assert turns["text"].tolist()[0] == "Good morning. What is 3 x 4?"
    assert turns["meta"][0]["line"] == 3  # sheet row 3: title, header, then the first turn
    assert "header row 2" in "\n".join(result.describe())
    # the header row can be given; a wrong one is said
    given = import_transcripts(path, header_row=2, text="Text")
    assert given.corpus.turns["text"].tolist() == turns["text"].tolist()
    with pytest.raises(InputError, match="no text column"):
        import_transcripts(path, header_row=4)
    with pytest.raises(InputError, match="row 40 is empty or past the end"):
        import_transcripts(path, header_row=40)


def test_a_title_line_in_a_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "lesson.csv"
    lines = ["Classroom transcript - Grade 4,,,", "", "Line,Speaker,Text,Time"]
    lines += [f'{n},{s},"{t}",{time}' for n, s, t, time, _, _ in _ROWS]
    path.write_text("\n".join(lines) + "\n")
    result = import_transcripts(path)
    assert len(result.corpus.turns) == 4
    assert result.corpus.turns["meta"][1]["line"] == 5
    assert "header row 3" in "\n".join(result.describe())


def test_a_two_level_header_joins_its_levels(tmp_path: Path) -> None:
    path = _lesson_xlsx(tmp_path / "lesson.xlsx", two_level=True)
    result = import_transcripts(
        path, code=["Codes / Coder A=moves@coder_a", "Codes / Coder B=moves@coder_b"]
    )
    assert "header rows 2-3 joined" in "\n".join(result.describe())
    ann = result.corpus.annotations
    assert sorted(set(ann["rater"])) == ["coder_a", "coder_b"]
    assert ann[ann["rater"] == "coder_b"]["label"].tolist() == ["focus", "claim", "press"]
    # without --code the joined names are kept in meta, and the first turn is the first data row
    plain = import_transcripts(path)
    meta = plain.corpus.turns["meta"][0]
    assert meta["Codes / Coder A"] == "focus" and meta["line"] == 4


def test_a_two_level_header_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "lesson.csv"
    lines = ["Line,Speaker,Text,Codes,", ",,,Coder A,Coder B"]
    lines += [f'{n},{s},"{t}",{a},{b}' for n, s, t, _, a, b in _ROWS]
    path.write_text("\n".join(lines) + "\n")
    result = import_transcripts(path)
    assert result.files[0].mapping.meta == ("Line", "Codes / Coder A", "Codes / Coder B")
    assert len(result.corpus.turns) == 4


def test_a_semicolon_csv_is_sniffed_or_given(tmp_path: Path) -> None:
    path = tmp_path / "lesson.csv"
    lines = ["Zeile;Sprecher;Text;Zeit"]
    lines += [f"{n};{s};{t};{time}" for n, s, t, time, _, _ in _ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    result = import_transcripts(path, speaker="Sprecher", start="Zeit")
    assert result.corpus.turns["text"].tolist()[3] == "Because 4 + 4 + 4 is 12."
    assert result.corpus.turns["meta"][2]["start"] == 62.0
    assert "separator ';'" in "\n".join(result.describe())
    pipes = tmp_path / "pipes.csv"
    pipes.write_text("speaker|text\nT|a; b, c\nS|d\n")
    assert import_transcripts(pipes, sep="|").corpus.turns["text"].tolist() == ["a; b, c", "d"]
    with pytest.raises(InputError, match="no text column"):
        import_transcripts(path, sep=",")


def test_code_sep_and_the_deprecated_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "lesson.csv"
    path.write_text("speaker,text,move\nT,What is 3 x 4?,focus|press\nS,12,\n")
    new = import_transcripts(path, code=["move=moves"], code_sep="|")
    old = import_transcripts(path, code=["move=moves"], delimiter="|")
    assert sorted(set(new.corpus.annotations["scheme"])) == ["moves/focus", "moves/press"]
    assert new.corpus.annotations.equals(old.corpus.annotations)
    assert any("deprecated" in line for line in old.describe())
    assert not any("deprecated" in line for line in new.describe())


def test_skipped_dialogues_are_named_with_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "lessons.csv"
    path.write_text(
        "lesson,speaker,text\nL1,T,Hello\nL2,T,\n,,\n,,\n",
    )
    result = import_transcripts(path)
    line = next(x for x in result.describe() if x.startswith("skipped"))
    assert f"'L2' ({path}:3)" in line
    assert f"rows with no dialogue id ({path}:4 and 1 more row(s))" in line


def test_roster_roles_and_a_time_column(tmp_path: Path) -> None:
    path = _lesson_xlsx(tmp_path / "lesson.xlsx", title=False)
    roster = tmp_path / "names.csv"
    roster.write_text("name,role\nAnn Lee,teacher\nMaya Patel,student\nJonah,student\n")
    result = import_transcripts(path, roster=str(roster))
    turns = result.corpus.turns
    assert turns["role"].tolist() == ["teacher", "student", "teacher", "student"]
    assert [m["start"] for m in turns["meta"]] == [5.0, 9.0, 62.0, 70.0]
    assert result.files[0].mapping.columns["start"] == "Time"
    # --student still wins over the roster; a roster naming no speaker is said
    other = tmp_path / "other.csv"
    other.write_text("name,role\nZoe Ng,student\n")
    lines = import_transcripts(path, roster=str(other)).describe()
    assert any("no speaker is named in the roster" in x for x in lines)


def test_time_column_next_to_a_start_column_stays_meta(tmp_path: Path) -> None:
    path = tmp_path / "lesson.csv"
    path.write_text("speaker,text,start,time\nT,Hi,1.5,09:00\n")
    result = import_transcripts(path)
    assert result.files[0].mapping.columns["start"] == "start"
    assert result.corpus.turns["meta"][0]["time"] == "09:00"


def test_cli_header_row_sep_code_sep_roster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _lesson_xlsx(tmp_path / "lesson.xlsx")
    roster = tmp_path / "names.csv"
    roster.write_text("name,role\nMaya,student\nJonah,student\n")
    code, out, err = run_cli(
        [
            "load",
            "transcripts",
            str(path),
            "--inspect",
            "--header-row",
            "2",
            "--roster",
            str(roster),
            "--code",
            "Coder A=moves@coder_a",
            "--code-sep",
            "|",
        ],
        capsys,
    )
    assert code == 0, err
    assert "header row 2" in out
    assert "student        2 turns: Maya, Jonah" in out
    semi = tmp_path / "semi.csv"
    semi.write_text("speaker;text\nT;Hello, class\n")
    code, out, err = run_cli(
        ["load", "transcripts", str(semi), "--inspect", "--sep", ";", "--delimiter", "|"], capsys
    )
    assert code == 0, err
    assert "separator ';'" in out and "deprecated" in out
