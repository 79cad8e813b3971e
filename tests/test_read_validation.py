"""A saved corpus is checked when read: damaged files are refused, naming the file and problem.

Each case damages a copy of the bundled sample (8 dialogues, 60 turns, 66 annotations) the way
a hand edit, a cut download or a wrong copy would, and reads it through ``read_corpus`` and
through ``edudial info``, which opens corpora the same way.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli_support import run_cli
from toolkit import Corpus, InputError, read_annotations, read_corpus
from toolkit.demo import bundled_sample


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    sample = bundled_sample()
    root = tmp_path_factory.mktemp("saved")
    return {fmt: sample.save(root / f"sample.{fmt}", format=fmt) for fmt in ("jsonl", "parquet")}


def damaged(saved: dict[str, Path], tmp_path: Path, fmt: str, damage: Callable[[Path], None]):
    copy = Path(shutil.copytree(saved[fmt], tmp_path / "copy.corpus"))
    damage(copy)
    return copy


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def edit_line(path: Path, number: int, **fields: object) -> None:
    """Set ``fields`` in the record on 1-based line ``number`` of a JSONL file."""
    rows = lines(path)
    record = json.loads(rows[number - 1])
    record.update(fields)
    rows[number - 1] = json.dumps(record) + "\n"
    path.write_text("".join(rows), encoding="utf-8")


def refused(folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line message of reading ``folder``; ``edudial info`` refuses it the same way."""
    with pytest.raises(InputError) as caught:
        read_corpus(folder)
    message = str(caught.value)
    assert "\n" not in message
    code, out, err = run_cli(["info", str(folder)], capsys)
    assert (code, out, err) == (2, "", f"error: {message}\n")
    return message


def test_the_intact_copies_read(saved: dict[str, Path], capsys) -> None:
    sample = bundled_sample()
    assert read_corpus(saved["jsonl"]) == sample == read_corpus(saved["parquet"])
    assert run_cli(["info", str(saved["parquet"])], capsys)[0] == 0


def test_an_emptied_turns_file(saved, tmp_path: Path, capsys) -> None:
    folder = damaged(saved, tmp_path, "jsonl", lambda d: (d / "turns.jsonl").write_text(""))
    message = refused(folder, capsys)
    # the cause first, then what follows from it, each named by its file
    assert message.startswith(f"{folder / 'turns.jsonl'}: 0 rows, but corpus.json records 60; ")
    assert f"{folder / 'dialogues.jsonl'}: dialogue demo/apples has no turns;" in message
    assert "; and 5 more" in message  # 8 dialogues, 3 shown
    assert f"{folder / 'annotations.jsonl'}: annotation (mathdial/move) refers to unknown unit" in (
        message
    )
    assert message.endswith("; and 63 more")  # all 66 annotations lost their units


def test_dialogues_replaced_by_the_turns_table(saved, tmp_path: Path, capsys) -> None:
    def swap(d: Path) -> None:
        shutil.copy(d / "turns.parquet", d / "dialogues.parquet")

    folder = damaged(saved, tmp_path, "parquet", swap)
    assert refused(folder, capsys) == (
        f"{folder / 'dialogues.parquet'}: missing column(s) split, kind; not a dialogues table "
        "(its columns: corpus, dialogue_id, turn_id, index, role, speaker, text, meta)"
    )


def test_the_turns_table_in_place_of_dialogues_with_their_columns(
    saved, tmp_path: Path, capsys
) -> None:
    """The same swap when the columns happen to fit: the ids give it away."""

    def swap(d: Path) -> None:
        turns = pq.read_table(d / "turns.parquet")
        like_dialogues = pa.table(
            {
                "corpus": turns["corpus"],
                "dialogue_id": turns["dialogue_id"],
                "split": turns["role"],
                "kind": turns["speaker"],
                "meta": turns["meta"],
            }
        )
        pq.write_table(like_dialogues, d / "dialogues.parquet")

    folder = damaged(saved, tmp_path, "parquet", swap)
    message = refused(folder, capsys)
    assert message.startswith(
        f"{folder / 'dialogues.parquet'}: 60 rows, but corpus.json records 8; "
        "duplicate dialogue_id demo / apples; duplicate dialogue_id demo / apples; and 50 more"
    )


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_duplicated_turn(saved, tmp_path: Path, fmt: str, capsys) -> None:
    def duplicate(d: Path) -> None:
        if fmt == "jsonl":
            rows = lines(d / "turns.jsonl")
            (d / "turns.jsonl").write_text("".join([*rows, rows[3]]), encoding="utf-8")
        else:
            table = pq.read_table(d / "turns.parquet")
            pq.write_table(pa.concat_tables([table, table.slice(3, 1)]), d / "turns.parquet")

    folder = damaged(saved, tmp_path, fmt, duplicate)
    assert refused(folder, capsys) == (
        f"{folder / f'turns.{fmt}'}: 61 rows, but corpus.json records 60; "
        "duplicate turn_id demo / apples:3"
    )


def test_a_duplicated_annotation_line(saved, tmp_path: Path, capsys) -> None:
    def duplicate(d: Path) -> None:
        rows = lines(d / "annotations.jsonl")
        (d / "annotations.jsonl").write_text("".join([*rows, rows[0]]), encoding="utf-8")

    folder = damaged(saved, tmp_path, "jsonl", duplicate)
    assert refused(folder, capsys) == (
        f"{folder / 'annotations.jsonl'}: 67 rows, but corpus.json records 66; "
        "duplicate annotation demo / apples:0 / mathdial/move / coder_a / "
    )


def test_a_deleted_dialogue_line(saved, tmp_path: Path, capsys) -> None:
    def delete(d: Path) -> None:
        (d / "dialogues.jsonl").write_text("".join(lines(d / "dialogues.jsonl")[1:]))

    folder = damaged(saved, tmp_path, "jsonl", delete)
    message = refused(folder, capsys)
    assert message.startswith(
        f"{folder / 'dialogues.jsonl'}: 7 rows, but corpus.json records 8; "
        f"{folder / 'turns.jsonl'}: turn demo/apples:0 belongs to an unknown dialogue;"
    )


def test_a_deleted_turn_line(saved, tmp_path: Path, capsys) -> None:
    """A turn nobody annotated: only the count tells (the teacher turns all carry labels)."""

    def delete(d: Path) -> None:
        rows = lines(d / "turns.jsonl")
        (d / "turns.jsonl").write_text("".join(rows[:1] + rows[2:]), encoding="utf-8")

    folder = damaged(saved, tmp_path, "jsonl", delete)
    assert (
        refused(folder, capsys) == f"{folder / 'turns.jsonl'}: 59 rows, but corpus.json records 60"
    )


def test_a_list_as_turn_id(saved, tmp_path: Path, capsys) -> None:
    folder = damaged(
        saved, tmp_path, "jsonl", lambda d: edit_line(d / "turns.jsonl", 3, turn_id=["apples:2"])
    )
    assert refused(folder, capsys) == (
        f"{folder / 'turns.jsonl'}:3: field 'turn_id': expected text or null, found a list"
    )


def test_a_list_column_in_parquet(saved, tmp_path: Path, capsys) -> None:
    def listify(d: Path) -> None:
        table = pq.read_table(d / "turns.parquet")
        ids = pa.array([[x] for x in table["turn_id"].to_pylist()])
        pq.write_table(table.set_column(2, "turn_id", ids), d / "turns.parquet")

    folder = damaged(saved, tmp_path, "parquet", listify)
    assert refused(folder, capsys) == (
        f"{folder / 'turns.parquet'}: field 'turn_id': expected text, found list<element: string>"
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"index": "2"}, "field 'index': expected an integer, found text"),
        ({"meta": [1]}, "field 'meta': expected an object or null, found a list"),
        ({"text": 7}, "field 'text': expected text or null, found a number"),
    ],
)
def test_other_mistyped_fields(saved, tmp_path: Path, fields: dict, problem: str, capsys) -> None:
    folder = damaged(saved, tmp_path, "jsonl", lambda d: edit_line(d / "turns.jsonl", 5, **fields))
    assert refused(folder, capsys) == f"{folder / 'turns.jsonl'}:5: {problem}"


def test_a_rater_kind_outside_the_schema(saved, tmp_path: Path, capsys) -> None:
    folder = damaged(
        saved, tmp_path, "jsonl", lambda d: edit_line(d / "annotations.jsonl", 1, rater_kind="-1")
    )
    assert refused(folder, capsys) == (
        f"{folder / 'annotations.jsonl'}: annotation of demo/apples:0 has rater_kind '-1', "
        "expected one of human, model, rule"
    )


def test_annotations_cut_short(saved, tmp_path: Path, capsys) -> None:
    def cut(d: Path) -> None:
        (d / "annotations.jsonl").write_text("".join(lines(d / "annotations.jsonl")[:40]))

    folder = damaged(saved, tmp_path, "jsonl", cut)
    assert refused(folder, capsys) == (
        f"{folder / 'annotations.jsonl'}: 40 rows, but corpus.json records 66"
    )
    with pytest.raises(InputError, match=r"40 rows, but corpus\.json records 66"):
        read_annotations(folder)  # the annotations alone come from the same checked read


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[]", "expected a JSON object (as save_corpus writes), found a list"),
        ('{"note": "café"}'.encode("latin-1"), "not UTF-8 text (invalid continuation byte)"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read"),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "JSON nested too deeply to read"),
        (b'{"format": "csv"}', "field 'format': unknown format 'csv'; expected one of parquet"),
        (b'{"counts": {"turns": "60"}}', "field 'counts': expected a row count per table"),
    ],
    ids=["list", "latin-1", "deep-list", "deep-object", "format", "counts"],
)
def test_a_broken_manifest(saved, tmp_path: Path, content: bytes, problem: str, capsys) -> None:
    folder = damaged(saved, tmp_path, "jsonl", lambda d: (d / "corpus.json").write_bytes(content))
    message = refused(folder, capsys)
    assert message.startswith(f"{folder / 'corpus.json'}: {problem}")


def test_a_manifest_without_counts_still_checks_the_schema(saved, tmp_path: Path, capsys) -> None:
    def damage(d: Path) -> None:
        (d / "corpus.json").write_text('{"format": "jsonl"}', encoding="utf-8")
        edit_line(d / "annotations.jsonl", 2, rater_kind="robot")

    folder = damaged(saved, tmp_path, "jsonl", damage)
    assert "has rater_kind 'robot'" in refused(folder, capsys)


def test_filtered_reads_skip_the_counts_but_not_the_rules(saved, tmp_path: Path) -> None:
    sample = bundled_sample()
    part = read_corpus(saved["parquet"], filters={"role": "teacher"})
    assert part == sample.filter(role="teacher")  # fewer rows than recorded: fine
    folder = damaged(
        saved, tmp_path, "jsonl", lambda d: edit_line(d / "turns.jsonl", 1, role="pupil")
    )
    with pytest.raises(InputError, match=re.escape("has role 'pupil'")):
        read_corpus(folder, filters={"dialogue_id": "apples"})


def test_validate_false_reads_a_damaged_corpus_as_it_is(saved, tmp_path: Path) -> None:
    def cut(d: Path) -> None:
        (d / "annotations.jsonl").write_text("".join(lines(d / "annotations.jsonl")[:40]))

    folder = damaged(saved, tmp_path, "jsonl", cut)
    assert len(read_corpus(folder, validate=False).annotations) == 40
    assert len(Corpus.read(folder, validate=False).annotations) == 40
    with pytest.raises(InputError, match="40 rows"):
        Corpus.read(folder)
    # the column types are checked either way: a mistyped field cannot be read at all
    edit_line(folder / "turns.jsonl", 1, turn_id=["x"])
    with pytest.raises(InputError, match="expected text or null, found a list"):
        read_corpus(folder, validate=False)


def test_deep_json_and_lone_surrogates_in_a_saved_jsonl_table_are_named(tmp_path: Path) -> None:
    """A saved corpus's JSONL tables go through the same JSON checks as the loaders'."""
    from toolkit.io import iter_jsonl_numbered

    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"a": 1}\n' + '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(InputError) as exc:
        list(iter_jsonl_numbered(deep))
    assert exc.value.line == 2 and "nested too deeply" in str(exc.value)
    lone = tmp_path / "lone.jsonl"
    lone.write_text('{"text": "fine"}\n{"text": "half \\ud800 of a pair"}\n')
    with pytest.raises(InputError) as exc:
        list(iter_jsonl_numbered(lone))
    assert exc.value.line == 2 and exc.value.field == "text"
