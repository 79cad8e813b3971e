"""Read filled workbooks (XLSX or CSV) back into labels, checking every row against its manifest.

Every problem of every workbook is collected before anything is returned, and one
:class:`WorkbookError` lists them, each naming workbook, sheet and cell
(``ana.xlsx!Code!D17: 'probng' is not a label of mathdial-moves 1.0 (did you mean 'probing'?)``).
Refused: a workbook of another rubric (when one is expected), of another corpus, a changed unit
id, a deleted, added or moved row (a sorted sheet), an edited turn text, a changed column
layout. A blank label cell means "not coded yet": it is counted, never read as a category.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.coding.rows import CodedLabel, LabelSource
from annotation.coding.sampling import CorpusIdentity
from annotation.coding.units import UnitRef, coding_units, unit_checksum
from annotation.coding.workbook import (
    CODE_SHEET,
    MANIFEST_SHEET,
    Column,
    SheetRow,
    WorkbookManifest,
    sheet_columns,
)
from annotation.rubric import Rubric
from toolkit.errors import InputError, csv_records, decode_utf8, reading_workbook
from toolkit.schema import Corpus

__all__ = ["ReadWorkbook", "WorkbookError", "check_against_corpus", "match_label", "read_workbook"]

_MAX_SHOWN = 8


class WorkbookError(InputError):
    """Problems found in one or more workbooks (``problems`` lists every one)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:_MAX_SHOWN])
        more = len(self.problems) - _MAX_SHOWN
        tail = f"; ... and {more} more" if more > 0 else ""
        n = len(self.problems)
        head = "" if n == 1 else f"{n} problems, nothing imported: "
        super().__init__(head + shown + tail)


@dataclass
class ReadWorkbook:
    """A checked workbook: its manifest, the labels given and the coding progress.

    Attributes
    ----------
    path : Path
    sha256 : str
        The file's hash at import (recorded in every row's ``meta``).
    manifest : WorkbookManifest
    labels : list of CodedLabel
        One per filled label cell.
    units : int
        Rows (units, or unit and scheme pairs in an adjudication workbook).
    coded : int
        Rows whose every label cell is filled.
    partly : int
        Rows with some but not all label cells filled.
    """

    path: Path
    sha256: str
    manifest: WorkbookManifest
    labels: list[CodedLabel] = field(default_factory=list)
    units: int = 0
    coded: int = 0
    partly: int = 0

    @property
    def source(self) -> LabelSource:
        """The :class:`LabelSource` of its rows."""
        if self.path.suffix.lower() == ".csv":
            return LabelSource("csv", self.path.name, self.sha256)
        return LabelSource("workbook", self.path.name, self.sha256)

    def progress(self) -> str:
        """``ana: 143/200 coded`` (plus the partly coded rows, if any)."""
        part = f", {self.partly} partly" if self.partly else ""
        return f"{self.manifest.person}: {self.coded}/{self.units} coded{part}"


def match_label(value: Any, allowed: Sequence[str]) -> tuple[str | None, str | None]:
    """``(label, None)`` for a filled cell holding an allowed label, ``(None, problem)`` if not.

    A blank cell gives ``(None, None)``. Numbers typed into a cell (Excel stores ``1`` as a
    number) are read as their text; case is ignored when it leaves one label (Excel's own
    dropdown validation ignores case too).

    Examples
    --------
    >>> match_label("Probing ", ["focus", "probing"])
    ('probing', None)
    >>> match_label("probng", ["focus", "probing"])[1]
    "'probng' is not a label (did you mean 'probing'?)"
    >>> match_label(1.0, ["0", "1"]), match_label("  ", ["0", "1"])
    (('1', None), (None, None))
    """
    if value is None:
        return None, None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return None, None
    if text in allowed:
        return text, None
    folded = [a for a in allowed if a.casefold() == text.casefold()]
    if len(folded) == 1:
        return folded[0], None
    close = difflib.get_close_matches(text, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (one of: {', '.join(allowed)})"
    return None, f"{text!r} is not a label{hint}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j)


@dataclass(frozen=True)
class _Sheet:
    """A sheet's rows as text values (row 1 = header), and how to name one of its cells."""

    name: str
    rows: list[list[Any]]

    def cell(self, row: int, col: int | None = None) -> str:
        """``ana.xlsx!Code!D17`` (``col`` 1-based; ``None`` names the row)."""
        where = f"{row}" if col is None else f"{_letter(col)}{row}"
        return f"{self.name}!{where}"


def _read_xlsx(path: Path) -> tuple[_Sheet, WorkbookManifest]:
    from openpyxl import load_workbook

    # openpyxl reads a read-only workbook's parts lazily: a damaged file fails while the rows
    # are read, not only when it is opened, so every step is inside reading_workbook.
    with reading_workbook(path):
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            if MANIFEST_SHEET not in wb.sheetnames:
                raise InputError("not an edudial workbook (no edudial manifest sheet)", path=path)
            for ws in wb.worksheets:  # apps that store no (or a wrong) sheet size: read all rows
                ws.reset_dimensions()
            text = "".join(
                str(r[0]) for r in wb[MANIFEST_SHEET].iter_rows(values_only=True) if r and r[0]
            )
            if CODE_SHEET not in wb.sheetnames:
                raise InputError(f"the sheet {CODE_SHEET!r} is missing", path=path)
            rows = [list(r) for r in wb[CODE_SHEET].iter_rows(values_only=True)]
        finally:
            wb.close()
    manifest = WorkbookManifest.from_json(text, path=path)  # (our code: outside the wrapper)
    return _Sheet(f"{path.name}!{CODE_SHEET}", rows), manifest


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=path) from None
    return decode_utf8(data, path=path)


def _read_csv(path: Path, manifest_path: Path | None) -> tuple[_Sheet, WorkbookManifest]:
    mp = manifest_path or path.with_name(path.stem + ".manifest.json")
    if not mp.is_file():
        raise InputError(
            f"no manifest {mp.name} next to the CSV (pass the one written at export)", path=path
        )
    manifest = WorkbookManifest.from_json(_read_text(mp), path=mp)
    text = _read_text(path)
    # Every record must have the header's number of fields and the file must not end inside a
    # quoted cell (a cut download): errors name the line. Rows are then numbered as a
    # spreadsheet numbers them (blank lines included), which the cell names use.
    csv_records(text, path=path)
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    return _Sheet(path.name, rows), manifest


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _data_rows(sheet: _Sheet, width: int) -> list[tuple[int, list[Any]]]:
    """(sheet row number, values padded to ``width``) of the non-empty rows after the header."""
    out = []
    for r, values in enumerate(sheet.rows[1:], start=2):
        if all(_blank(v) for v in values):
            continue  # trailing empty rows some editors add
        out.append((r, (list(values) + [None] * width)[:width]))
    return out


@dataclass
class _Check:
    """One workbook being checked: its sheet, manifest, columns and the problems found."""

    sheet: _Sheet
    m: WorkbookManifest
    cols: list[Column]
    problems: list[str] = field(default_factory=list)

    def add(self, row: int, col: int | None, message: str) -> None:
        self.problems.append(f"{self.sheet.cell(row, col)}: {message}")


def _check_header(check: _Check) -> bool:
    cols = check.cols
    header = [_text(v).strip() for v in (check.sheet.rows[0] if check.sheet.rows else [])]
    want = [c.header for c in cols]
    if header[: len(want)] != want:
        check.add(
            1, None, f"the columns were changed: expected {want}, found {header[: len(want)]}"
        )
        return False
    return True


def _row_checksum(m: WorkbookManifest, exp: SheetRow, values: dict[str, Any]) -> str:
    return unit_checksum(
        exp.corpus,
        exp.unit_id,
        _text(values.get("context")),
        _text(values.get("target")),
        _text(values.get("after")) if m.following else "",
    )


def _row_key(m: WorkbookManifest, by_role: dict[str, Any]) -> tuple[str, str]:
    """The (unit id, scheme) a data row claims to hold."""
    uid = _text(by_role.get("unit_id")).strip()
    if "scheme" in by_role:
        return uid, _text(by_role["scheme"]).strip()
    return uid, (m.rows[0].scheme or "") if m.rows else ""


def _match_rows(
    check: _Check, rows: list[tuple[int, list[Any]]]
) -> list[tuple[int, list[Any], SheetRow]]:
    """Pair each data row with the manifest row it holds; report changed, moved, added, deleted.

    Returns the pairs only when the rows are all known and in export order.
    """
    m, cols = check.m, check.cols
    pos = {c.role: j + 1 for j, c in enumerate(cols)}
    index = {(r.unit_id, r.scheme or ""): k for k, r in enumerate(m.rows)}
    pairs, seen, top = [], set(), -1
    for r, values in rows:
        by_role = {c.role: values[j] for j, c in enumerate(cols) if c.role != "label"}
        key = _row_key(m, by_role)
        k = index.get(key)
        if k is None:
            check.add(
                r,
                pos["unit_id"],
                f"unit id {key[0]!r} was not exported in this workbook "
                "(the unit id was changed, or a row was added)",
            )
        elif k in seen:
            check.add(r, pos["unit_id"], f"unit {key[0]!r} appears twice (a copied row?)")
        elif k < top:
            check.add(
                r,
                1,
                f"holds unit {key[0]!r} exported in row {k + 2}: the sheet was sorted "
                "or rows were moved; restore the order (sort by column A '#')",
            )
        else:
            pairs.append((r, values, m.rows[k]))
        if k is not None:
            seen.add(k)
            top = max(top, k)
    for k, exp in enumerate(m.rows):
        if k not in seen:
            check.add(
                k + 2,
                None,
                f"unit {exp.unit_id!r} (row {k + 2} at export) is missing: a row was deleted",
            )
    return pairs


def _check_text(check: _Check, r: int, values: list[Any], exp: SheetRow) -> bool:
    """Whether sheet row ``r`` still shows the text (and checksum) it was exported with."""
    m, cols = check.m, check.cols
    pos = {c.role: j + 1 for j, c in enumerate(cols)}
    by_role = {c.role: values[j] for j, c in enumerate(cols) if c.role != "label"}
    if _text(by_role.get("checksum")).strip() != exp.checksum:
        check.add(
            r, pos["checksum"], "the checksum cell was changed (or the manifest's copy of it)"
        )
        return False
    if _row_checksum(m, exp, by_role) != exp.checksum:
        check.add(
            r,
            pos["target"],
            f"the text of unit {exp.unit_id!r} was edited since export "
            "(checksum mismatch); restore it",
        )
        return False
    return True


def _row_labels(
    check: _Check, r: int, values: list[Any], exp: SheetRow
) -> tuple[list[CodedLabel], int]:
    """The labels of one row and how many of its label cells are blank."""
    m, cols = check.m, check.cols
    notes = next((values[j] for j, c in enumerate(cols) if c.role == "notes"), None)
    note = None if _blank(notes) else _text(notes).strip()
    out, blank = [], 0
    for j, col in enumerate(cols):
        if col.role != "label":
            continue
        scheme = col.scheme or exp.scheme or m.rubric.schemes[0]
        label, problem = match_label(values[j], m.rubric.category_orders[scheme])
        if problem:
            what = "" if m.rubric.mode == "single" else f" for {scheme}"
            problem = problem.replace(
                "is not a label", f"is not a label of {m.rubric.id} {m.rubric.version}{what}"
            )
            check.add(r, j + 1, problem)
        elif label is None:
            blank += 1
        else:
            where = check.sheet.cell(r, j + 1)
            out.append(CodedLabel(exp.corpus, exp.unit_id, scheme, label, note, where))
    return out, blank


def read_workbook(
    path: str | os.PathLike[str],
    *,
    rubric: Rubric | None = None,
    manifest_path: str | os.PathLike[str] | None = None,
) -> ReadWorkbook:
    """Read and check one filled workbook (``.xlsx``, or ``.csv`` with its manifest).

    Parameters
    ----------
    path : path
    rubric : Rubric, optional
        When given, a workbook made for another rubric (id, version or content) is refused.
    manifest_path : path, optional
        A CSV's manifest, if it is not ``<stem>.manifest.json`` beside the CSV.

    Raises
    ------
    WorkbookError
        Listing every problem of the workbook, each naming its cell.
    InputError
        Not a workbook edudial wrote.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("workbook not found", path=p)
    if p.suffix.lower() == ".csv":
        sheet, m = _read_csv(p, None if manifest_path is None else Path(manifest_path))
    else:
        sheet, m = _read_xlsx(p)
    cols = sheet_columns(m)
    check = _Check(sheet, m, cols)
    if rubric is not None and rubric.sha256 != m.rubric.sha256:
        check.add(
            1,
            None,
            f"made for rubric {m.rubric.id} {m.rubric.version} "
            f"(sha256 {m.rubric.sha256[:12]}), not {rubric.id} {rubric.version} "
            f"(sha256 {rubric.sha256[:12]})",
        )
        raise WorkbookError(check.problems)
    res = ReadWorkbook(p, _sha256(p), m, units=len(m.rows))
    if not _check_header(check):
        raise WorkbookError(check.problems)
    rows = _data_rows(sheet, len(cols))
    n_label = sum(c.role == "label" for c in cols)
    for r, values, exp in _match_rows(check, rows):
        if not _check_text(check, r, values, exp):
            continue
        labels, blank = _row_labels(check, r, values, exp)
        res.labels += labels
        res.coded += blank == 0
        res.partly += 0 < blank < n_label
    if check.problems:
        raise WorkbookError(check.problems)
    return res


def check_against_corpus(books: Sequence[ReadWorkbook], corpus: Corpus) -> list[str]:
    """Problems of workbooks made from another corpus: names, and each unit's text.

    Every exported row's checksum is recomputed from ``corpus``; a unit missing from it or
    shown with another text is a problem (the workbook came from another corpus or version).
    """
    problems: list[str] = []
    ident = CorpusIdentity.of(corpus)
    for book in books:
        m = book.manifest
        if not set(m.corpus.names) <= set(ident.names):
            problems.append(f"{book.path.name}: made for corpus {m.corpus}, not {ident}")
            continue
        problems += _unit_problems(book, corpus)
    return problems


def _unit_problems(book: ReadWorkbook, corpus: Corpus) -> list[str]:
    m = book.manifest
    turns = corpus.turns
    known = set(zip(turns["corpus"].tolist(), turns["turn_id"].tolist(), strict=True))
    known |= set(
        zip(
            corpus.dialogues["corpus"].tolist(),
            corpus.dialogues["dialogue_id"].tolist(),
            strict=True,
        )
    )
    dialogue_of = dict(
        zip(
            zip(turns["corpus"].tolist(), turns["turn_id"].tolist(), strict=True),
            turns["dialogue_id"].tolist(),
            strict=True,
        )
    )
    present = [r for r in m.rows if (r.corpus, r.unit_id) in known]
    out = [
        f"{book.path.name}: unit {r.corpus}/{r.unit_id} is not in the corpus (workbook of "
        f"another corpus: made for {m.corpus})"
        for r in m.rows
        if (r.corpus, r.unit_id) not in known
    ]
    for r in present:  # a turn's dialogue, or a dialogue unit itself
        actual = dialogue_of.get((r.corpus, r.unit_id), r.unit_id)
        if actual != r.dialogue_id:
            out.append(
                f"{book.path.name}: its manifest puts unit {r.corpus}/{r.unit_id} in dialogue "
                f"{r.dialogue_id!r}, the corpus in {actual!r} (the manifest was changed)"
            )
    present = [
        r for r in present if dialogue_of.get((r.corpus, r.unit_id), r.unit_id) == r.dialogue_id
    ]
    units = coding_units(
        corpus, m.rubric, [UnitRef(r.corpus, r.unit_id, r.dialogue_id) for r in present]
    )
    for r, u in zip(present, units, strict=True):
        if u.checksum != r.checksum:
            out.append(
                f"{book.path.name}: unit {r.corpus}/{r.unit_id} reads differently in the "
                f"corpus (workbook made from another version: {m.corpus})"
            )
    return out
