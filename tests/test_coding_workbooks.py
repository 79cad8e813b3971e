"""Coding workbooks: what is written, what import accepts, and every bad edit refused.

Uses the bundled demo corpus (33 MathDial-style teacher turns); the real-data round trip is in
``test_coding_realdata.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from annotation.coding import (
    ADJUDICATED,
    WorkbookError,
    export_workbooks,
    import_workbooks,
    read_workbook,
    write_disagreements,
)
from annotation.guide import render_guide
from annotation.rubric import load_rubric, parse_rubric
from toolkit.cli import cli, main
from toolkit.demo import bundled_sample
from toolkit.errors import InputError
from toolkit.schema import meta_values

MOVES = load_rubric("mathdial-moves")
LABELS = MOVES.label_names


def _header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _fill(path: Path, pick: Callable[[str, int], str | None]) -> None:
    """Fill the label column of a workbook: ``pick(unit_id, row_index)`` -> label or None."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Code"]
    head = _header(ws)
    lab, uid = head.index("label") + 1, head.index("unit_id") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, lab).value = pick(ws.cell(r, uid).value, r - 2)
    wb.save(path)


def _export(tmp_path: Path, coders=("ana", "ben"), **kw):
    corpus = bundled_sample()
    books = export_workbooks(corpus, MOVES, list(coders), tmp_path / "coding", seed=7, **kw)
    return corpus, books


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


# ------------------------------------------------------------------ what is written
def test_workbook_has_dropdown_protected_hidden_ids_and_guide(tmp_path: Path) -> None:
    _, books = _export(tmp_path)
    wb = openpyxl.load_workbook(books[0].path)
    assert wb.sheetnames[:2] == ["Code", "Guide"]
    ws = wb["Code"]
    head = _header(ws)
    assert head == ["#", "context", "code this turn", "label", "notes", "unit_id", "checksum"]
    assert ws.max_row == 1 + 33
    # the dropdown: a list validation over every label cell, reading the rubric's labels
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.showErrorMessage
    assert str(dv.sqref) == "D2:D34"
    sheet, rng = dv.formula1.lstrip("=").split("!")
    values = [c.value for row in wb[sheet][rng.replace("$", "")] for c in row]
    assert values == LABELS
    assert wb[sheet].sheet_state == "hidden"
    # ids and checksums: hidden, locked, on a protected sheet; labels and notes editable
    assert ws.protection.sheet
    for col in ("F", "G"):
        assert ws.column_dimensions[col].hidden
        assert ws[f"{col}2"].protection.locked
    assert not ws["D2"].protection.locked and not ws["E2"].protection.locked
    assert ws["C2"].protection.locked
    # the guide is the rubric's rendered guide, line by line
    guide = [c.value or "" for (c,) in wb["Guide"].iter_rows(max_col=1)]
    assert guide == render_guide(MOVES).rstrip("\n").splitlines()
    assert wb["edudial"].sheet_state == "hidden"


def test_workbook_is_blind_and_shuffled_per_coder(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    order = {}
    for b in books:
        ws = openpyxl.load_workbook(b.path)["Code"]
        cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        # no label of the corpus's coders appears outside the Lists sheet
        assert not any(c in LABELS for c in cells)
        order[b.person] = [ws.cell(r, 6).value for r in range(2, ws.max_row + 1)]
    assert sorted(order["ana"]) == sorted(order["ben"]) and order["ana"] != order["ben"]
    again = export_workbooks(corpus, MOVES, ["ana"], tmp_path / "again", seed=7)
    ws = openpyxl.load_workbook(again[0].path)["Code"]
    assert [ws.cell(r, 6).value for r in range(2, ws.max_row + 1)] == order["ana"]


def test_target_turn_text_matches_the_corpus(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    ws = openpyxl.load_workbook(books[0].path)["Code"]
    text = dict(zip(corpus.turns["turn_id"], corpus.turns["text"], strict=True))
    for r in range(2, ws.max_row + 1):
        assert ws.cell(r, 3).value == f"[teacher] {text[ws.cell(r, 6).value]}"


def test_overlap_splits_the_rest(tmp_path: Path) -> None:
    _, books = _export(tmp_path, coders=("ana", "ben", "cy"), overlap=0.2)
    ids = {
        b.person: {
            c.value
            for (c,) in openpyxl.load_workbook(b.path)["Code"].iter_rows(
                min_row=2, min_col=6, max_col=6
            )
        }
        for b in books
    }
    shared = ids["ana"] & ids["ben"] & ids["cy"]
    assert len(shared) == 7  # round(0.2 * 33)
    assert len(ids["ana"] | ids["ben"] | ids["cy"]) == 33
    assert sum(len(v) for v in ids.values()) == 33 + 2 * 7


def test_export_refuses_to_overwrite_a_coders_workbook(tmp_path: Path) -> None:
    _export(tmp_path)
    with pytest.raises(Exception, match="pass --force"):
        _export(tmp_path)


# ------------------------------------------------------------------ import
def test_import_counts_blanks_and_reimport_replaces(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    _fill(books[0].path, lambda u, i: None if i < 5 else LABELS[i % 4])
    res = import_workbooks(corpus, [books[0].path])
    assert res.books[0].progress() == "ana: 28/33 coded"
    rows = res.corpus.annotations.query("rater == 'ana'")
    assert len(rows) == 28 and set(rows["run_id"]) == {"r1"}
    meta = meta_values(rows["meta"])[0]
    assert meta["file"] == "ana.xlsx" and meta["source"] == "workbook"
    assert meta["file_sha256"] == hashlib.sha256(books[0].path.read_bytes()).hexdigest()
    assert meta["where"].startswith("ana.xlsx!Code!D")
    _fill(books[0].path, lambda u, i: "focus")
    again = import_workbooks(res.corpus, [books[0].path])
    rows = again.corpus.annotations.query("rater == 'ana'")
    assert len(rows) == 33 and set(rows["label"]) == {"focus"}
    again.corpus.validate()


def test_typed_numbers_and_case_are_read_as_labels(tmp_path: Path) -> None:
    _, books = _export(tmp_path)
    _fill(books[0].path, lambda u, i: "PROBING" if i == 0 else None)
    labels = read_workbook(books[0].path).labels
    assert [lab.label for lab in labels] == ["probing"]


def _edit_cell(path: Path, edit: Callable) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb["Code"])
    wb.save(path)


def _sort_by_text(ws) -> None:
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    rows.sort(key=lambda r: str(r[2]))
    for r, values in enumerate(rows, start=2):
        for j, v in enumerate(values, start=1):
            ws.cell(r, j).value = v


BAD_EDITS = {
    "wrong label": (
        lambda ws: ws.__setitem__("D17", "probng"),
        "ana.xlsx!Code!D17: 'probng' is not a label of mathdial-moves 1.0 "
        "(did you mean 'probing'?)",
    ),
    "deleted row": (lambda ws: ws.delete_rows(10), "is missing: a row was deleted"),
    "sorted sheet": (_sort_by_text, "the sheet was sorted or rows were moved"),
    "edited turn text": (
        lambda ws: ws.__setitem__("C5", str(ws["C5"].value) + " (edited)"),
        "ana.xlsx!Code!C5: the text of unit",
    ),
    "changed unit id": (
        lambda ws: ws.__setitem__("F6", "nonsense:1"),
        "ana.xlsx!Code!F6: unit id 'nonsense:1' was not exported",
    ),
    "changed column layout": (lambda ws: ws.insert_cols(2), "the columns were changed"),
}


@pytest.mark.parametrize("name", sorted(BAD_EDITS))
def test_bad_edits_give_their_named_error_and_write_nothing(tmp_path: Path, name: str) -> None:
    corpus, books = _export(tmp_path)
    saved = corpus.save(tmp_path / "demo.corpus")
    _fill(books[0].path, lambda u, i: "focus")
    edit, message = BAD_EDITS[name]
    _edit_cell(books[0].path, edit)
    before = _digest(saved)
    res = CliRunner().invoke(cli, ["code", "import", str(books[0].path), "--into", str(saved)])
    assert res.exit_code != 0
    assert message in str(res.exception) or message in res.output
    assert _digest(saved) == before


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    corpus, books = _export(tmp_path)
    saved = corpus.save(tmp_path / "demo.corpus")
    _fill(books[0].path, lambda u, i: "probng" if i < 3 else "focus")
    with pytest.raises(SystemExit) as info:
        main(["code", "import", str(books[0].path), "--into", str(saved)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: 3 problems, nothing imported: ana.xlsx!Code!D2: 'probng'")


def test_workbook_of_another_rubric_version_is_refused(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    newer = parse_rubric({**MOVES.model_dump(mode="json"), "version": "1.1"})
    with pytest.raises(
        WorkbookError, match=r"made for rubric mathdial-moves 1\.0 .* not mathdial-moves 1\.1"
    ):
        import_workbooks(corpus, [books[0].path], rubric=newer)


def test_workbook_of_another_corpus_is_refused(tmp_path: Path) -> None:
    _, books = _export(tmp_path)
    other = bundled_sample()
    other.turns["text"] = other.turns["text"] + "!"
    with pytest.raises(WorkbookError, match="reads differently in the corpus"):
        import_workbooks(other, [books[0].path])
    renamed = bundled_sample()
    for t in (renamed.dialogues, renamed.turns, renamed.annotations):
        t["corpus"] = "other"
    with pytest.raises(WorkbookError, match="made for corpus demo"):
        import_workbooks(renamed, [books[0].path])


def test_same_round_twice_and_round_of_another_rubric_are_refused(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    copy = books[0].path.with_name("ana-copy.xlsx")
    copy.write_bytes(books[0].path.read_bytes())
    with pytest.raises(WorkbookError, match="is also in"):
        import_workbooks(corpus, [books[0].path, copy])
    _fill(books[0].path, lambda u, i: "focus")
    done = import_workbooks(corpus, [books[0].path]).corpus
    newer = parse_rubric({**MOVES.model_dump(mode="json"), "version": "1.1"})
    other = export_workbooks(done, newer, ["ana"], tmp_path / "v11", seed=1)
    with pytest.raises(WorkbookError, match="use a new round"):
        import_workbooks(done, [other[0].path])


def test_csv_round_trip(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path, fmt="csv")
    path = books[0].path
    assert path.name == "ana.csv" and path.with_name("ana.manifest.json").is_file()
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        row[3] = "telling"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    res = import_workbooks(corpus, [path])
    rows_ana = res.corpus.annotations.query("rater == 'ana'")
    assert len(rows_ana) == 33 and meta_values(rows_ana["meta"])[0]["source"] == "csv"


# ------------------------------------------------------------------ adjudication
def test_disagreements_and_adjudication(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    truth = dict(
        corpus.annotations.query("rater == 'coder_a'")[["unit_id", "label"]].itertuples(False)
    )
    changed = sorted(truth)[:5]
    _fill(books[0].path, lambda u, i: truth[u])
    _fill(
        books[1].path,
        lambda u, i: (
            "generic"
            if u in changed and truth[u] != "generic"
            else (truth[u] if u not in changed else "focus")
        ),
    )
    coded = import_workbooks(corpus, [b.path for b in books]).corpus
    adj = tmp_path / "adjudicate.xlsx"
    book = write_disagreements(
        coded, MOVES, adj, coders=["ana", "ben"], round="r1", adjudicator="cy", model="coder_b"
    )
    assert book.units == 5
    ws = openpyxl.load_workbook(adj)["Code"]
    head = _header(ws)
    assert head[3:7] == ["ana", "ben", "MODEL coder_b (reference only)", "final label"]
    shown = {
        ws.cell(r, head.index("unit_id") + 1).value: (ws.cell(r, 4).value, ws.cell(r, 5).value)
        for r in range(2, ws.max_row + 1)
    }
    assert set(shown) == set(changed)
    assert all(a == truth[u] and b != a for u, (a, b) in shown.items())
    final = head.index("final label") + 1
    wb = openpyxl.load_workbook(adj)
    for r in range(2, wb["Code"].max_row):  # leave the last one undecided
        wb["Code"].cell(r, final).value = "telling"
    wb.save(adj)
    res = import_workbooks(coded, [adj])
    gold = res.corpus.annotations.query(f"rater == '{ADJUDICATED}'")
    (a,) = res.adjudications
    assert (a.decided, a.agreed, a.single_coder, len(a.undecided)) == (4, 28, 0, 1)
    assert len(gold) == 32 and set(gold["rater_kind"]) == {"human"}
    assert {m["adjudicator"] for m in meta_values(gold["meta"])} == {"cy"}
    decided = gold[[m["basis"] == "decided" for m in meta_values(gold["meta"])]]
    assert set(decided["label"]) == {"telling"}
    # re-import: replaced, not duplicated
    again = import_workbooks(res.corpus, [adj]).corpus
    assert len(again.annotations.query(f"rater == '{ADJUDICATED}'")) == 32
    again.validate()


def test_model_labels_are_off_by_default(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    _fill(books[0].path, lambda u, i: "focus")
    _fill(books[1].path, lambda u, i: "probing")
    coded = import_workbooks(corpus, [b.path for b in books]).corpus
    write_disagreements(coded, MOVES, tmp_path / "a.xlsx", coders=["ana", "ben"], round="r1")
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["Code"]
    assert not any("MODEL" in str(h) for h in _header(ws))
    values = {str(c.value) for row in ws.iter_rows() for c in row}
    assert not values & set(pd.unique(corpus.annotations["label"])) - {"focus", "probing"}


# ------------------------------------------------------------------ rubrics with several schemes
def _fill_all(path: Path, value: Callable[[str, int], object]) -> None:
    """Fill every label column: ``value(header, row_index)``."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Code"]
    head = _header(ws)
    for j, h in enumerate(head, start=1):
        if h.startswith("label") or h == "final label":
            for r in range(2, ws.max_row + 1):
                ws.cell(r, j).value = value(h, r - 2)
    wb.save(path)


def test_binary_rubric_has_one_dropdown_per_category_and_round_trips(tmp_path: Path) -> None:
    sight = load_rubric("sight-feedback")
    corpus = bundled_sample()
    books = export_workbooks(corpus, sight, ["ana", "ben"], tmp_path, seed=3)
    ws = openpyxl.load_workbook(books[0].path)["Code"]
    head = _header(ws)
    assert [h for h in head if h.startswith("label")] == [f"label: {c}" for c in sight.label_names]
    assert len(ws.data_validations.dataValidation) == len(sight.label_names)
    # Excel stores a typed 1 as a number: read back as the label "1"
    _fill_all(books[0].path, lambda h, i: 1)
    _fill_all(books[1].path, lambda h, i: 1 if h != "label: setup" or i % 3 else 0)
    coded = import_workbooks(corpus, [b.path for b in books]).corpus
    ana = coded.annotations.query("rater == 'ana'")
    assert len(ana) == 9 * books[0].units and set(ana["label"]) == {"1"}
    assert {m["category"] for m in meta_values(ana["meta"])} == set(sight.label_names)
    adj = write_disagreements(
        coded, sight, tmp_path / "adj.xlsx", coders=["ana", "ben"], round="r1"
    )
    ws = openpyxl.load_workbook(adj.path)["Code"]
    head = _header(ws)
    assert "scheme" in head
    assert {ws.cell(r, head.index("scheme") + 1).value for r in range(2, ws.max_row + 1)} == {
        "sight/setup"
    }
    _fill_all(adj.path, lambda h, i: "1")
    gold = import_workbooks(coded, [adj.path]).corpus.annotations.query(f"rater == '{ADJUDICATED}'")
    assert len(gold) == 9 * books[0].units and set(gold["label"]) == {"1"}


def test_cli_refuses_another_rubric_and_another_corpus_writing_nothing(tmp_path: Path) -> None:
    corpus, books = _export(tmp_path)
    _fill(books[0].path, lambda u, i: "focus")
    newer = {**MOVES.model_dump(mode="json"), "version": "1.1"}
    rubric_file = tmp_path / "moves-1.1.yaml"
    rubric_file.write_text(json.dumps(newer))  # JSON is YAML
    other = bundled_sample()
    other.turns["text"] = other.turns["text"].str.upper()
    for target, extra, message in (
        (corpus, ["--rubric", str(rubric_file)], "not mathdial-moves 1.1"),
        (other, [], "reads differently in the corpus"),
    ):
        saved = target.save(tmp_path / f"c{len(extra)}.corpus")
        before = _digest(saved)
        args = ["code", "import", str(books[0].path), "--into", str(saved), *extra]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code != 0 and message in str(res.exception)
        assert _digest(saved) == before


# ------------------------------------------------------------- damaged files (no surprises)
def _rezip(path: Path, edit: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite the xlsx zip, each part through ``edit`` (None drops the part)."""
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = edit(name, src.read(name))
            if content is not None:
                dst.writestr(name, content)
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize(
    "edit",
    [
        lambda name, data: None if name == "xl/worksheets/sheet1.xml" else data,  # part missing
        lambda name, data: data[: len(data) // 2] if name == "xl/worksheets/sheet1.xml" else data,
        lambda name, data: data[:40] if name == "xl/worksheets/sheet4.xml" else data,  # manifest
    ],
    ids=["code-sheet-missing", "code-sheet-cut", "manifest-sheet-cut"],
)
def test_damaged_xlsx_is_one_clean_error(tmp_path: Path, capsys, edit) -> None:
    # openpyxl reads a read-only workbook's sheets lazily: the damage surfaced as BadZipFile,
    # KeyError or ParseError while the rows were read, outside the try around the opening.
    corpus, books = _export(tmp_path)
    saved = corpus.save(tmp_path / "demo.corpus")
    _rezip(books[0].path, edit)
    with pytest.raises(SystemExit) as info:
        main(["code", "import", str(books[0].path), "--into", str(saved)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "ana.xlsx" in err


def _csv_book(tmp_path: Path) -> tuple[object, Path]:
    corpus, books = _export(tmp_path, fmt="csv", coders=("ana",))
    return corpus, books[0].path


def test_csv_workbook_short_row_and_cut_record(tmp_path: Path) -> None:
    corpus, path = _csv_book(tmp_path)
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines(keepends=True)))
    rows[2] = rows[2][:-1]  # a deleted cell: the old import padded the row and read on
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(InputError, match=r"this record has 6 fields, the header has 7") as info:
        import_workbooks(corpus, [path])
    assert str(info.value).startswith(f"{path}:")  # file and line
    cut = text.index('"', text.index("\n") + 1) + 5  # inside the first quoted cell of a row
    path.write_text(text[:cut], encoding="utf-8")
    with pytest.raises(InputError, match="ends inside a quoted field"):
        import_workbooks(corpus, [path])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.encode("utf-8").replace(b'"ana"', b'"an\xe9"'), "not UTF-8 text"),
        (lambda t: t.replace('"rows":[[', '"rows":[["x"],[', 1), r"field 'rows\[0\]'"),
        (lambda t: t.replace('"corpus":{', '"korpus":{', 1), "field 'corpus'"),
        (lambda t: t.replace('"seed":', '"seed":"seven","x":', 1), "field 'seed'"),
        (lambda t: t[: len(t) // 2], "the edudial manifest is damaged"),
        (lambda t: t.replace('"person":"ana"', '"person":"an\\ud800"', 1), "surrogate"),
    ],
    ids=["latin1", "row-too-short", "missing-corpus", "seed-text", "cut", "surrogate"],
)
def test_csv_workbook_bad_manifest(tmp_path: Path, damage, message: str) -> None:
    # Was: UnicodeDecodeError, ValueError (not enough values to unpack), KeyError.
    corpus, path = _csv_book(tmp_path)
    manifest = path.with_name("ana.manifest.json")
    out = damage(manifest.read_text(encoding="utf-8"))
    if isinstance(out, str):
        manifest.write_text(out, encoding="utf-8")
    else:
        manifest.write_bytes(out)
    with pytest.raises(InputError, match=message) as info:
        import_workbooks(corpus, [path])
    assert "ana.manifest.json" in str(info.value) and "\n" not in str(info.value)
