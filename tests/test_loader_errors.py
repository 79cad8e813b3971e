"""Bad input to the MathDial, SIGHT and TSCC loaders: one clear InputError, no partial corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import corpora
from toolkit.errors import InputError

GOOD_CONV = "Teacher: (focus)What is 2+2?|EOM|Student: 4"


def _mathdial_record(**changes: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "qid": 7,
        "scenario": 1,
        "question": "q",
        "ground_truth": "a",
        "student_incorrect_solution": "b",
        "student_profile": "Ana is a student.",
        "teacher_described_confusion": "c",
        "self-correctness": "Yes",
        "self-typical-confusion": 4,
        "self-typical-interactions": 2,
        "conversation": GOOD_CONV,
    }
    rec.update(changes)
    return rec


def _jsonl(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _raises(match: str, name: str, path: Path, **options: object) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        corpora.load(name, path, **options)
    assert "\n" not in str(info.value)  # one line for the CLI
    return info.value


# ------------------------------------------------------------------------- missing / unreadable
@pytest.mark.parametrize("name", ["mathdial", "sight", "tscc"])
def test_missing_path(tmp_path: Path, name: str) -> None:
    err = _raises("no such file or directory", name, tmp_path / "nope")
    assert err.path == tmp_path / "nope"


def test_missing_file_inside_folder(tmp_path: Path) -> None:
    err = _raises("file not found", "mathdial", tmp_path, files="data/train.jsonl")
    assert err.path == tmp_path / "data" / "train.jsonl"
    _raises("file not found", "mathdial", tmp_path)  # default data/test.jsonl absent
    _raises("no annotation CSVs", "sight", tmp_path)
    _raises(r"no \.tsv lesson files", "tscc", tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "x.jsonl", _mathdial_record())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read mode-000 files (root)")
        _raises("cannot read file", "mathdial", path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as root, mode 000 is still readable; simulate the permission error the OS would raise
    path = _jsonl(tmp_path / "x.jsonl", _mathdial_record())
    real_open = Path.open

    def deny(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", deny)
    err = _raises(r"cannot read file \(Permission denied\)", "mathdial", path)
    assert err.path == path


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "lesson.tsv"
    path.write_bytes(b"role\tanonymised\nteacher\tcaf\xe9\n")
    _raises("not UTF-8", "tscc", path)
    bad_json = tmp_path / "x.jsonl"
    bad_json.write_bytes(json.dumps(_mathdial_record()).encode() + b"\n\xff\xfe\n")
    err = _raises("not UTF-8", "mathdial", bad_json)
    assert err.line == 2


def test_directory_given_as_file(tmp_path: Path) -> None:
    (tmp_path / "data" / "test.jsonl").mkdir(parents=True)
    _raises("expected a file", "mathdial", tmp_path)


# ---------------------------------------------------------------------------- wrong delimiter
def test_tscc_comma_file(tmp_path: Path) -> None:
    path = tmp_path / "lesson.tsv"
    path.write_text("timestamp,user.id,role,anonymised\n1,T1,teacher,hello\n")
    err = _raises("comma-separated; TSCC lesson files are tab-separated", "tscc", path)
    assert err.line == 1


def test_sight_wrong_sep(tmp_path: Path) -> None:
    path = tmp_path / "sight_dataset.csv"
    pd.DataFrame(
        {
            "comment": ["a b", "c"],
            "video_id": ["v", "v"],
            "comment_id": [1.0, 2.0],
            "annotator_openaichat_v8_confusion": [0.0, 1.0],
        }
    ).to_csv(path, sep=" ", index=False)
    _raises(
        "wrong delimiter: the header is space-separated, not comma-separated",
        "sight",
        path,
        sep=",",
    )
    assert len(corpora.load("sight", path).turns) == 2  # detected when sep is not given


def test_sight_unrecognised_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("comment|video_id|comment_id\na|v|1\n")
    err = _raises(
        r"missing column\(s\) comment, video_id, comment_id \(wrong delimiter\?", "sight", path
    )
    assert err.field == "comment"


def test_mathdial_csv_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "test.csv"
    pd.DataFrame([_mathdial_record()]).to_csv(path, sep="\t", index=False)
    _raises(r"missing column\(s\) qid, scenario, conversation; .*wrong delimiter", "mathdial", path)


# -------------------------------------------------------------------- malformed lines and rows
def test_malformed_json_line(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(_mathdial_record()) + "\n\n{not json\n")
    err = _raises("not valid JSON", "mathdial", path)
    assert (err.path, err.line) == (path, 3)
    assert str(err).startswith(f"{path}:3: ")


def test_json_line_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text("[1, 2]\n")
    assert _raises("expected a JSON object", "mathdial", path).line == 1


def test_malformed_mathdial_csv_row(tmp_path: Path) -> None:
    path = tmp_path / "test.csv"
    pd.DataFrame([_mathdial_record(), _mathdial_record(qid=8)]).to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[2] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    err = _raises("this record has 12 fields, the header has 11", "mathdial", path)
    assert err.line == 3


def test_malformed_sight_and_tscc_rows(tmp_path: Path) -> None:
    sight = tmp_path / "sample_dataset.csv"
    sight.write_text("comment,video_id,comment_id,annotator_H1_na\na,v,1,0\nb,v,2,1,9\n")
    err = _raises("this record has 5 fields, the header has 4", "sight", sight)
    assert err.line == 3
    tscc = tmp_path / "lesson.tsv"
    tscc.write_text("role\tanonymised\nteacher\thi\nstudent\thello\textra\n")
    err = _raises("this record has 3 fields, the header has 2", "tscc", tscc)
    assert err.line == 3


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"qid": "abc"}, "qid", "expected an integer"),
        ({"scenario": 1.5}, "scenario", "expected an integer"),
        ({"self-typical-confusion": 7}, "self-typical-confusion", "Likert rating 1-5"),
        ({"self-typical-interactions": "x"}, "self-typical-interactions", "expected an integer"),
        ({"qid": None}, "qid", "value is missing"),
        ({"conversation": ""}, "conversation", "non-empty conversation"),
        ({"question": ["a"]}, "question", "expected text"),
    ],
)
def test_mathdial_bad_field(
    tmp_path: Path, change: dict[str, object], field: str, message: str
) -> None:
    path = _jsonl(tmp_path / "test.jsonl", _mathdial_record(), _mathdial_record(**change))
    err = _raises(message, "mathdial", path)
    assert (err.line, err.field) == (2, field)


def test_mathdial_missing_key(tmp_path: Path) -> None:
    rec = _mathdial_record()
    del rec["scenario"]
    err = _raises("missing field", "mathdial", _jsonl(tmp_path / "t.jsonl", rec))
    assert (err.line, err.field) == (1, "scenario")


# ---------------------------------------------------------------------- speakers and labels
def test_mathdial_turn_without_speaker(tmp_path: Path) -> None:
    conv = GOOD_CONV + "|EOM|and then I added them"
    path = _jsonl(tmp_path / "t.jsonl", _mathdial_record(conversation=conv))
    err = _raises("turn 3 has no speaker", "mathdial", path)
    assert (err.line, err.field) == (1, "conversation")
    path = _jsonl(tmp_path / "t.jsonl", _mathdial_record(conversation=GOOD_CONV + "|EOM|"))
    _raises("turn 3 has no speaker", "mathdial", path)
    conv = GOOD_CONV + "|EOM|So the answer is: 5"
    path = _jsonl(tmp_path / "t.jsonl", _mathdial_record(conversation=conv))
    _raises("turn 3 has no speaker", "mathdial", path)


def test_mathdial_unknown_move(tmp_path: Path) -> None:
    conv = "Teacher: (hinting)Try again|EOM|Student: ok"
    path = _jsonl(tmp_path / "t.jsonl", _mathdial_record(), _mathdial_record(conversation=conv))
    err = _raises("turn 1 has unknown teacher move 'hinting'", "mathdial", path)
    assert (err.line, err.field) == (2, "conversation")


def test_mathdial_reports_the_first_bad_line_first(tmp_path: Path) -> None:
    # turns are split after all records are read; an earlier bad turn still comes first
    bad_turn = _mathdial_record(conversation="Teacher: (hinting)Try again|EOM|Student: ok")
    path = _jsonl(tmp_path / "t.jsonl", _mathdial_record(), bad_turn, _mathdial_record(qid="x"))
    err = _raises("unknown teacher move 'hinting'", "mathdial", path)
    assert (err.line, err.field) == (2, "conversation")
    path = _jsonl(tmp_path / "t.jsonl", _mathdial_record(qid="x"), bad_turn)
    err = _raises("expected an integer", "mathdial", path)
    assert (err.line, err.field) == (1, "qid")


def test_tscc_turn_without_role(tmp_path: Path) -> None:
    path = tmp_path / "lesson.tsv"
    path.write_text("user.id\trole\tanonymised\nT1\tteacher\thi\nS1\tNA\thello\n")
    err = _raises("turn without a role", "tscc", path)
    assert (err.line, err.field) == (3, "role")


def test_tscc_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "lesson.tsv"
    path.write_text("user.id\trole\tedited\nT1\tteacher\thi\n")
    err = _raises("missing required column 'anonymised text'", "tscc", path)
    assert (err.path, err.field) == (path, "text")
    path.write_text("user.id\tanonymised\nT1\thi\n")
    assert _raises("missing required column 'role'", "tscc", path).field == "role"


def test_tscc_bad_turn_number(tmp_path: Path) -> None:
    path = tmp_path / "lesson.tsv"
    path.write_text("role\tturn.number\tanonymised\nteacher\t1\thi\nstudent\ttwo\thello\n")
    err = _raises("expected an integer turn number", "tscc", path)
    assert (err.line, err.field) == (3, "turn_number")


@pytest.mark.parametrize("bad", ["2", "yes", "0.5"])
def test_sight_unexpected_label(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "sample_dataset.csv"
    path.write_text(
        "comment,video_id,comment_id,annotator_H1_confusion,annotator_H2_confusion\n"
        f"a,v,1.0,1.0,0.0\nb,v,2.0,,{bad}\n"
    )
    err = _raises(f"expected a label 0 or 1 \\(or empty\\), got .*{bad}", "sight", path)
    assert (err.line, err.field) == (3, "annotator_H2_confusion")
    assert "np." not in str(err)  # the value as written, not a numpy repr


def test_sight_bad_comment_id(tmp_path: Path) -> None:
    path = tmp_path / "sample_dataset.csv"
    path.write_text("comment,video_id,comment_id\na,v,1.0\nb,v,x\n")
    err = _raises("expected an integer comment id", "sight", path)
    assert (err.line, err.field) == (3, "comment_id")


def test_sight_malformed_metadata(tmp_path: Path) -> None:
    ann = tmp_path / "data" / "annotations"
    ann.mkdir(parents=True)
    (ann / "sample_dataset.csv").write_text("comment,video_id,comment_id\na,v1,1\n")
    (tmp_path / "data" / "metadata").mkdir()
    (tmp_path / "data" / "metadata" / "v1.json").write_text('{"video_id": "v1",\n oops}')
    err = _raises("not valid JSON", "sight", tmp_path, transcripts=False)
    assert err.line == 2


# ------------------------------------------------------------------------------ no partial output
def test_one_bad_lesson_fails_the_whole_load(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text("role\tanonymised\nteacher\thi\n")
    (tmp_path / "b.tsv").write_text("role\tanonymised\nNA\thi\n")
    with pytest.raises(InputError, match=r"b\.tsv:2"):
        corpora.load("tscc", tmp_path)


# --------------------------------------------------- the fuzzing run's cases (issue: no surprises)
def _sight_csv(path: Path, rows: list[str]) -> Path:
    header = "comment,video_id,video_name,comment_id,annotator_H1_confusion,annotator_H1_general"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_sight_row_with_a_deleted_cell_is_refused_not_shifted(tmp_path: Path) -> None:
    # One deleted cell used to move the later cells left: the labels changed, exit 0.
    path = _sight_csv(tmp_path / "sample_dataset.csv", ["a,v1,L1,1,1.0,0.0", "b,v1,2,1.0,0.0"])
    err = _raises("this record has 5 fields, the header has 6", "sight", path)
    assert (err.path, err.line) == (path, 3)


def test_sight_record_cut_inside_a_quoted_comment(tmp_path: Path) -> None:
    path = tmp_path / "sample_dataset.csv"
    header = "comment,video_id,comment_id,annotator_H1_na"
    path.write_text(f'{header}\na,v,1,1\n"cut here\nand the rest,v,2,1\n', encoding="utf-8")
    err = _raises("ends inside a quoted field that starts on this line", "sight", path)
    assert err.line == 3


def test_sight_quote_imbalance_giving_a_huge_video_id(tmp_path: Path) -> None:
    # A stray quote swallowed kilobytes into one "video id": it used to reach the file system
    # as a metadata file name (OSError: File name too long).
    root = tmp_path / "sight"
    (root / "data" / "metadata").mkdir(parents=True)
    (root / "data" / "annotations").mkdir(parents=True)
    junk = "x" * 5000
    _sight_csv(root / "data" / "annotations" / "sample_dataset.csv", [f"a,{junk},L,1,1.0,0.0"])
    err = _raises("not a video id", "sight", root, transcripts=False)
    assert (err.line, err.field) == (2, "video_id")


def test_mathdial_csv_latin1_byte_after_the_first_5kb(tmp_path: Path) -> None:
    path = tmp_path / "test.csv"
    rows = [_mathdial_record(qid=i, conversation=GOOD_CONV + f" {i}") for i in range(100)]
    pd.DataFrame(rows).to_csv(path, index=False)
    data = path.read_bytes()
    assert len(data) > 6000
    at = data.index(b"\n", 5500) + 1
    path.write_bytes(data[:at] + b"caf\xe9" + data[at:])
    err = _raises(r"not UTF-8 text: byte 0xe9 at column 4", "mathdial", path)
    assert err.line == data[:at].count(b"\n") + 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_mathdial_empty_input_is_an_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"test{suffix}"
    path.write_text("" if suffix == ".jsonl" else "qid,scenario,conversation\n")
    _raises("no dialogues|file is empty", "mathdial", path)


@pytest.mark.parametrize("name", ["mathdial", "transcripts"])
def test_deep_json_lines(tmp_path: Path, name: str) -> None:
    path = tmp_path / "test.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(json.dumps(_mathdial_record()) + "\n" + '{"text": ' + deep + "}\n")
    err = _raises("JSON nested too deeply", name, path)
    assert (err.path, err.line) == (path, 2)


@pytest.mark.parametrize("name", ["mathdial", "transcripts"])
def test_lone_surrogate_in_json_lines(tmp_path: Path, name: str) -> None:
    path = tmp_path / "test.jsonl"
    bad = json.dumps(_mathdial_record(question="x\ud800", text="y"))
    assert "\\ud800" in bad
    path.write_text(json.dumps({**_mathdial_record(), "text": "a"}) + "\n" + bad + "\n")
    err = _raises("half of a surrogate pair", name, path)
    assert (err.line, err.field) == (2, "question")


def test_ncte_non_numeric_aggregate(tmp_path: Path) -> None:
    src = Path(__file__).parent / "fixtures" / "ncte_uptake" / "uptake_data.csv"
    frame = pd.read_csv(src)
    frame["uptake_num_agree"] = frame["uptake_num_agree"].astype(object)
    frame.loc[1, "uptake_num_agree"] = "two"
    frame.to_csv(tmp_path / "uptake_data.csv", index=False)
    err = _raises("expected a number", "ncte_uptake", tmp_path / "uptake_data.csv")
    assert (err.line, err.field) == (3, "uptake_num_agree")


def test_ncte_short_row(tmp_path: Path) -> None:
    src = Path(__file__).parent / "fixtures" / "ncte_uptake" / "uptake_data.csv"
    lines = src.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]
    (tmp_path / "uptake_data.csv").write_text("\n".join(lines) + "\n")
    err = _raises("this record has 15 fields, the header has 16", "ncte_uptake", tmp_path)
    assert err.line == 3


def test_bridge_object_where_a_string_belongs(tmp_path: Path) -> None:
    src = Path(__file__).parent / "fixtures" / "bridge" / "dataset" / "train.json"
    data = json.loads(src.read_text())
    data[0]["c_h"][0]["user"] = {"name": "tutor"}  # was: TypeError unhashable type: 'dict'
    path = tmp_path / "train.json"
    path.write_text(json.dumps(data))
    err = _raises("item 0: expected a list of", "bridge", path)
    assert err.field == "c_h"


@pytest.mark.parametrize(
    ("name", "file", "text", "message"),
    [
        ("bridge", "train.json", "[]", "no items"),
        ("mrbench", "MRBench_V1.json", "[]", "no entries"),
        ("cima", "dataset.json", '{"prepDataset": {}}', "no items"),
        ("tscc", "lesson.tsv", "role\tanonymised\n", "no messages"),
        ("ncte_uptake", "uptake_data.csv", "obs_id\n", "missing column"),
    ],
)
def test_empty_inputs(tmp_path: Path, name: str, file: str, text: str, message: str) -> None:
    path = tmp_path / file
    path.write_text(text)
    _raises(message, name, path)


def test_sight_header_only_is_an_error(tmp_path: Path) -> None:
    _raises("no comments", "sight", _sight_csv(tmp_path / "sample_dataset.csv", []))


_JSON_FIXTURES = {
    "cima": "cima/dataset.json",
    "bridge": "bridge/dataset/train.json",
    "mrbench": "mrbench/MRBench/MRBench_V1.json",
}


@pytest.mark.parametrize("name", sorted(_JSON_FIXTURES))
def test_deep_json_and_lone_surrogates_in_json_files(tmp_path: Path, name: str) -> None:
    src = Path(__file__).parent / "fixtures" / _JSON_FIXTURES[name]
    text = json.dumps(json.loads(src.read_text()), indent=1)
    path = tmp_path / src.name
    deep = "[" * 100_000 + "]" * 100_000
    at = text.index('": "') + 3  # the first string value becomes 100,000-deep nesting
    end = text.index('"', at + 1) + 1
    path.write_text(text[:at] + deep + text[end:])
    err = _raises("JSON nested too deeply", name, path)
    assert err.path == path
    path.write_text(text[:at] + '"x\\ud800' + text[at + 1 :])
    err = _raises("half of a surrogate pair", name, path)
    assert err.line == text[:at].count("\n") + 1
    assert err.field  # the key path of the damaged string
