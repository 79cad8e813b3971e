"""The ``transcripts`` importer: formats, mapping, roles, codes and every bad-input error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import corpora
from corpora.transcripts import import_transcripts
from toolkit import is_deidentified
from toolkit.cli import cli, main
from toolkit.errors import InputError

ROWS = [
    {"lesson": "L1", "speaker": "T", "utterance": "What is 3 x 4?", "c1": "press", "c2": "press"},
    {"lesson": "L1", "speaker": "Maya", "utterance": "12", "c1": "", "c2": "claim"},
    {"lesson": "L1", "speaker": "T", "utterance": "  ", "c1": "", "c2": ""},
    {"lesson": "L2", "speaker": "Ms. Lee", "utterance": "Hello, class", "c1": "focus", "c2": ""},
    {"lesson": "L2", "speaker": "Class", "utterance": "Hello!", "c1": "", "c2": ""},
]


def _write(frame: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, sheet_name="Lesson")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".jsonl", ".parquet"])
def test_every_table_format_gives_the_same_corpus(tmp_path: Path, suffix: str) -> None:
    path = _write(pd.DataFrame(ROWS), tmp_path / f"lessons{suffix}")
    result = import_transcripts(path, code=["c1=moves@A", "c2=moves@B"])
    c = result.corpus
    assert list(c.dialogues["dialogue_id"]) == ["L1", "L2"]
    assert c.turns["text"].tolist() == ["What is 3 x 4?", "12", "Hello, class", "Hello!"]
    assert c.turns["role"].tolist() == ["teacher", "other", "teacher", "student"]
    assert c.turns["turn_id"].tolist() == ["L1:0", "L1:1", "L2:0", "L2:1"]
    assert [m["empty_rows"] for m in c.dialogues["meta"]] == [1, 0]
    assert result.empty_rows == 1
    ann = c.annotations.sort_values(["rater", "unit_id"])
    assert ann[["unit_id", "scheme", "label", "rater"]].values.tolist() == [
        ["L1:0", "moves", "press", "A"],
        ["L2:0", "moves", "focus", "A"],
        ["L1:0", "moves", "press", "B"],
        ["L1:1", "moves", "claim", "B"],
    ]
    assert set(ann["rater_kind"]) == {"human"}
    assert not is_deidentified(c)  # imported transcripts are not marked


def test_mapping_is_recognised_and_described(tmp_path: Path) -> None:
    path = _write(pd.DataFrame(ROWS), tmp_path / "a.csv")
    result = import_transcripts(path)
    text = "\n".join(result.describe())
    assert "dialogue  <- 'lesson' (recognised)" in text
    assert "text      <- 'utterance' (recognised)" in text
    assert "meta      <- 'c1', 'c2'" in text
    assert "teacher        2 turns: T, Ms. Lee" in text
    assert "student        1 turns: Class" in text
    assert result.corpus.turns["meta"].iloc[0] == {"line": 2, "c1": "press", "c2": "press"}


def test_two_plausible_columns_is_an_error_naming_both(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a"], "utterance": ["b"]})
    with pytest.raises(InputError, match=r"two plausible text columns, 'text' and 'utterance'"):
        import_transcripts(_write(frame, tmp_path / "a.csv"))
    c = import_transcripts(tmp_path / "a.csv", text="utterance").corpus
    assert c.turns["text"].tolist() == ["b"] and c.turns["meta"].iloc[0]["text"] == "a"


def test_unknown_column_lists_the_real_headers(tmp_path: Path) -> None:
    path = _write(pd.DataFrame(ROWS), tmp_path / "a.csv")
    with pytest.raises(InputError) as info:
        import_transcripts(path, speaker="who")
    assert str(info.value) == (
        f"{path}: no column 'who' (for speaker); the columns are 'lesson', 'speaker', "
        "'utterance', 'c1', 'c2'"
    )
    with pytest.raises(InputError, match=r"no column 'tag' \(for code\)"):
        import_transcripts(path, code=["tag=moves"])


def test_map_file_and_flags(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"sess": ["s", "s", "s"], "who": ["Ann", "Bo", "Cy"], "said": ["a", "b", "c"]}
    )
    path = _write(frame, tmp_path / "a.csv")
    (tmp_path / "map.yaml").write_text(
        "dialogue: sess\nspeaker: who\ntext: said\nteacher: [Ann]\nstudent: Bo\n",
        encoding="utf-8",
    )
    c = import_transcripts(path, map=tmp_path / "map.yaml", student="Bo,Cy").corpus
    assert c.turns["role"].tolist() == ["teacher", "student", "student"]  # flags win
    (tmp_path / "bad.yaml").write_text("txt: said\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown key\(s\) txt in the mapping file"):
        import_transcripts(path, map=tmp_path / "bad.yaml")


def test_role_column_with_value_map(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "speaker": ["Ann", "Bo", "Cy", "Di"],
            "role": ["tutor", "learner", "kid", "?"],
            "text": list("abcd"),
        }
    )
    path = _write(frame, tmp_path / "a.csv")
    roles = import_transcripts(path, role_values=["kid=student"]).corpus.turns["role"].tolist()
    assert roles == ["teacher", "student", "student", "other"]


def test_order_column_sorts_and_checks(tmp_path: Path) -> None:
    frame = pd.DataFrame({"session": ["a", "a", "a"], "n": [3, 1, 2], "text": ["c", "a", "b"]})
    c = import_transcripts(_write(frame, tmp_path / "ok.csv"), order="n").corpus
    assert c.turns["text"].tolist() == ["a", "b", "c"]
    gap = pd.DataFrame({"session": ["a", "a"], "n": [1, 3], "text": ["x", "y"]})
    with pytest.raises(InputError, match=r"gap.csv:3: field 'n': dialogue 'a' skips order 3"):
        import_transcripts(_write(gap, tmp_path / "gap.csv"), order="n")
    dup = pd.DataFrame({"session": ["a", "a", "b"], "n": [1, 1, 1], "text": ["x", "y", "z"]})
    with pytest.raises(InputError, match=r"dup.csv:3: field 'n': dialogue 'a' repeats order 1"):
        import_transcripts(_write(dup, tmp_path / "dup.csv"), order="n")
    bad = pd.DataFrame({"n": ["1", "two"], "text": ["x", "y"]})
    with pytest.raises(InputError, match=r"no whole number in the order column 'n': .*bad.csv:3"):
        import_transcripts(_write(bad, tmp_path / "bad.csv"), order="n")


def test_errors_name_the_line_a_record_starts_on_after_multi_line_cells(tmp_path: Path) -> None:
    text = (
        "session,n,text\n"  # line 1
        'a,1,"first line\nsecond line\nthird"\n'  # lines 2-4: one record
        "\n"  # line 5: blank, skipped by the reader
        "a,2,ok\n"  # line 6
        "a,x,bad\n"  # line 7
    )
    path = tmp_path / "quoted.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"quoted.csv:7\b"):
        import_transcripts(path, order="n")
    tsv = tmp_path / "quoted.tsv"
    tsv.write_text(text.replace(",", "\t"), encoding="utf-8")
    with pytest.raises(InputError, match=r"quoted.tsv:7\b"):
        import_transcripts(tsv, order="n")
    path.write_text(text.replace("a,x,bad", "a,3,fine"), encoding="utf-8")
    turns = import_transcripts(path, order="n").corpus.turns
    assert [m["line"] for m in turns["meta"]] == [2, 6, 7]  # where each turn's record starts


def test_multi_label_cells_become_yes_no_schemes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c"], "A": ["x; y", "", "z"], "B": ["x", "y", ""]})
    path = _write(frame, tmp_path / "a.csv")
    ann = import_transcripts(path, code=["A=moves", "B=moves"]).corpus.annotations
    got = {(r.unit_id, r.scheme, r.rater): r.label for r in ann.itertuples()}
    assert got == {
        ("a:0", "moves/x", "A"): "1",
        ("a:0", "moves/y", "A"): "1",
        ("a:0", "moves/z", "A"): "0",
        ("a:2", "moves/x", "A"): "0",
        ("a:2", "moves/y", "A"): "0",
        ("a:2", "moves/z", "A"): "1",
        ("a:0", "moves/x", "B"): "1",
        ("a:0", "moves/y", "B"): "0",
        ("a:0", "moves/z", "B"): "0",
        ("a:1", "moves/x", "B"): "0",
        ("a:1", "moves/y", "B"): "1",
        ("a:1", "moves/z", "B"): "0",
    }  # blank cells are not coded: no row for a:1 by A or a:2 by B


def test_code_outside_declared_labels_names_every_cell(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c"], "move": ["focus", "telling", "foccus"]})
    path = _write(frame, tmp_path / "a.csv")
    with pytest.raises(InputError) as info:
        import_transcripts(path, code=["move=moves"], labels=["moves=focus,probing,telling"])
    assert str(info.value) == (
        "1 code(s) in column 'move' outside the labels declared for 'moves' "
        f"(focus, probing, telling): {path}:4: 'foccus'"
    )
    xlsx = _write(frame, tmp_path / "a.xlsx")
    with pytest.raises(InputError, match=r"a.xlsx: sheet 'Lesson', cell B4: 'foccus'"):
        import_transcripts(xlsx, code=["move=moves"], labels=["moves=focus,probing,telling"])


def test_labels_inside_a_code_entry_of_a_mapping_file_are_checked(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a", "b"], "move": ["focus", "foccus"]})
    path = _write(frame, tmp_path / "a.csv")
    (tmp_path / "map.yaml").write_text(
        "codes:\n  - {column: move, scheme: moves, rater: A, labels: [focus, telling]}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"outside the labels declared for 'moves' \(focus, tel"):
        import_transcripts(path, map=tmp_path / "map.yaml")
    (tmp_path / "typo.yaml").write_text(
        "codes:\n  - {column: move, scheme: moves, label: [focus]}\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"unknown key\(s\) label; known: column, labels"):
        import_transcripts(path, map=tmp_path / "typo.yaml")
    (tmp_path / "two.yaml").write_text(
        "codes:\n  - {column: move, scheme: moves, labels: [focus]}\nlabels: {moves: [x]}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"'moves' is declared with two label sets"):
        import_transcripts(path, map=tmp_path / "two.yaml")


def test_two_code_columns_for_one_rater_is_an_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a"], "x": ["1"], "y": ["2"]})
    with pytest.raises(InputError, match=r"columns 'x' and 'y' are both scheme 's' by rater 'r'"):
        import_transcripts(_write(frame, tmp_path / "a.csv"), code=["x=s@r", "y=s@r"])


def test_encodings(tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes("text,speaker\nCafé au lait,Zoë\n".encode("cp1252"))
    result = import_transcripts(path)
    assert result.corpus.turns["text"].tolist() == ["Café au lait"]
    assert result.files[0].encoding == "cp1252"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"T: caf\x81\n")
    with pytest.raises(InputError) as info:
        import_transcripts(bad)
    assert str(info.value) == (
        f"{bad}:1: cannot decode the file as utf-8-sig or cp1252; pass its encoding with "
        "--encoding (e.g. --encoding latin-1)"
    )
    assert import_transcripts(bad, encoding="latin-1").corpus.turns["text"].tolist() == ["caf\x81"]


VTT = """WEBVTT

00:00:01.250 --> 00:00:04.000
<v Ms. Lee>What is 2+2?</v>

00:00:05.000 --> 00:00:06.500
S1: Four.
I think.

00:00:07.000 --> 00:00:08.000
<v.loud Maya>Yes!
"""

SRT = """1
00:00:01,250 --> 00:00:04,000
Ms. Lee: What is 2+2?

2
00:00:05,000 --> 00:00:06,500
S1: Four.
I think.

3
00:00:07,000 --> 00:00:08,000
Maya: Yes!
"""

TXT = """[00:00:01] Ms. Lee: What is 2+2?
00:00:05 S1: Four.
    I think.
Maya: Yes!
"""


@pytest.mark.parametrize(("name", "content"), [("a.vtt", VTT), ("a.srt", SRT), ("a.txt", TXT)])
def test_captions_and_text(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    c = import_transcripts(path).corpus
    assert c.turns["speaker"].tolist() == ["Ms. Lee", "S1", "Maya"]
    assert c.turns["text"].tolist() == ["What is 2+2?", "Four.\nI think.", "Yes!"]
    assert c.turns["role"].tolist() == ["teacher", "student", "other"]
    starts = [m["start"] for m in c.turns["meta"]]
    assert starts == ([1.25, 5.0, 7.0] if name != "a.txt" else [1.0, 5.0, None])
    if name != "a.txt":
        assert [m["end"] for m in c.turns["meta"]] == [4.0, 6.5, 8.0]


def test_folder_of_files_one_dialogue_per_file(tmp_path: Path) -> None:
    (tmp_path / "week1").mkdir()
    (tmp_path / "week1" / "mon.txt").write_text("T: Hi\nS: Hello\n", encoding="utf-8")
    (tmp_path / "tue.vtt").write_text(VTT, encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    c = import_transcripts(tmp_path).corpus
    assert sorted(c.dialogues["dialogue_id"]) == ["tue", "week1/mon"]
    sources = {
        d: m["source"] for d, m in zip(c.dialogues["dialogue_id"], c.dialogues["meta"], strict=True)
    }
    assert sources == {"tue": "tue.vtt", "week1/mon": "week1/mon.txt"}


def test_same_dialogue_id_in_two_files_is_an_error(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        _write(pd.DataFrame({"session": ["s1"], "text": ["x"]}), tmp_path / name)
    with pytest.raises(InputError, match=r"dialogue 's1' appears in .*a.csv and in .*b.csv"):
        import_transcripts(tmp_path)


def test_registry_and_bad_paths(tmp_path: Path) -> None:
    assert "transcripts" in corpora.available()
    with pytest.raises(InputError, match="no such file or directory"):
        corpora.load("transcripts", tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"transcripts: unknown option 'txt' \(transcripts takes"):
        corpora.load("transcripts", tmp_path, txt="words")
    with pytest.raises(InputError, match=r"no transcript files here"):
        corpora.load("transcripts", tmp_path)
    (tmp_path / "a.doc").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"cannot tell the format from the extension '.doc'"):
        corpora.load("transcripts", tmp_path / "a.doc")
    (tmp_path / "broken.jsonl").write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.jsonl:2: not valid JSON"):
        corpora.load("transcripts", tmp_path / "broken.jsonl")
    _write(pd.DataFrame({"speaker": ["a"]}), tmp_path / "notext.csv")
    with pytest.raises(InputError, match=r"no text column; pass --text COLUMN"):
        corpora.load("transcripts", tmp_path / "notext.csv")
    _write(pd.DataFrame({"text": ["", " "]}), tmp_path / "empty.csv")
    with pytest.raises(InputError, match=r"no turns with text found"):
        corpora.load("transcripts", tmp_path / "empty.csv")


def _cli_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``edudial ARGS`` as the console script does; return its one-line error."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_cli_load_inspect_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(pd.DataFrame(ROWS), tmp_path / "a.csv")
    runner = CliRunner()
    out = tmp_path / "out.corpus"
    inspect = runner.invoke(cli, ["load", "transcripts", str(path), "--inspect", "-o", str(out)])
    assert inspect.exit_code == 0, inspect.output
    assert "first rows of" in inspect.output and "nothing written" in inspect.output
    assert not out.exists()
    done = runner.invoke(
        cli,
        [
            "load",
            "transcripts",
            str(path),
            "-o",
            str(out),
            "--code",
            "c1=moves@A",
            "--code",
            "c2=moves@B",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "not de-identified" in done.output
    saved = json.loads((out / "corpus.json").read_text(encoding="utf-8"))
    assert saved["counts"] == {"dialogues": 2, "turns": 4, "annotations": 4}
    bad_out = tmp_path / "bad.corpus"
    err = _cli_error(["load", "transcripts", str(path), "-o", str(bad_out), "--text", "x"], capsys)
    assert "no column 'x' (for text)" in err and not bad_out.exists()
    err = _cli_error(["load", "mathdial", str(path), "-o", str(bad_out), "--text", "x"], capsys)
    assert "only apply to `edudial load transcripts`" in err
    bad_labels = ["--code", "c1=moves", "--labels", "moves=focus"]
    err = _cli_error(["load", "transcripts", str(path), "-o", str(bad_out), *bad_labels], capsys)
    assert "outside the labels declared for 'moves' (focus)" in err and not bad_out.exists()


def test_a_stray_byte_forcing_cp1252_is_reported(tmp_path: Path) -> None:
    # One Latin-1 byte on line 3 of an otherwise UTF-8 file: the whole file is read as cp1252
    # (so "Zoë" becomes mojibake), and the import says so, naming the line of the byte.
    path = tmp_path / "mixed.csv"
    path.write_bytes("text,speaker\nhi,Zoë\nCaf\xe9,T\n".encode().replace(b"\xc3\xa9", b"\xe9"))
    result = import_transcripts(path)
    assert result.files[0].encoding == "cp1252"
    (warning,) = [line for line in result.describe() if line.startswith("warning:")]
    assert f"{path}:3: byte 0xe9 is not UTF-8, so the whole file was read as cp1252" in warning
    assert "UTF-8 letters elsewhere" in warning
    with pytest.warns(UserWarning, match=r"mixed\.csv:3: byte 0xe9 is not UTF-8"):
        corpora.load("transcripts", path)
    clean = tmp_path / "clean.csv"
    clean.write_text("text,speaker\nCafé,Zoë\n", encoding="utf-8")
    assert not [x for x in import_transcripts(clean).describe() if x.startswith("warning:")]


def test_a_code_column_given_in_another_spelling_reads_the_header_column(tmp_path) -> None:
    """--code coder_a=... on a file whose column is 'Coder A' (it crashed with KeyError)."""
    import corpora

    path = tmp_path / "lesson.csv"
    path.write_text(
        "Lesson,Speaker,Utterance,Coder A\n1,Teacher,What is 3+4?,question\n1,Ana,7,answer\n"
    )
    corpus = corpora.load("transcripts", path, code=["coder_a=moves@A"])
    rows = corpus.annotations[["scheme", "label", "rater"]].values.tolist()
    assert rows == [["moves", "question", "A"], ["moves", "answer", "A"]]
