"""Blind coding workbooks (XLSX or CSV): one per coder, rows shuffled per coder with the seed.

A coding workbook has four sheets:

``Code``
    One row per unit: ``#`` (the row's number at export), ``context`` (the rubric's dialogue
    fields and previous turns, role-tagged), ``code this turn`` (the target turn, set apart),
    one label column per scheme of the rubric (a dropdown of that scheme's labels; Excel data
    validation refuses anything else), ``notes``, the following turns when the rubric shows
    any, then the hidden, locked ``unit_id`` and ``checksum`` columns. The sheet is protected
    (no password: it prevents accidents, not attacks); only label and notes cells are editable.
``Guide``
    The coding guide rendered from the rubric (:func:`annotation.guide.render_guide`), so
    coders and the model read the same codebook.
``Lists`` (hidden)
    The label lists the dropdowns read.
``edudial`` (hidden)
    The :class:`WorkbookManifest` as JSON: kind, coder, round, the rubric itself, the corpus
    identity and every row's unit and checksum in export order. Import checks each row against
    it, so a sorted, moved, deleted or edited row is reported, never silently misread.

No model label and no other coder's label is ever shown in a coding workbook. The CSV variant
(for Google Sheets) has the same columns, all visible, and keeps the manifest in a
``NAME.manifest.json`` file next to ``NAME.csv``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from annotation.coding.rows import check_coder_name
from annotation.coding.sampling import CorpusIdentity, Sample
from annotation.coding.units import CodingUnit, coding_units
from annotation.guide import render_guide
from annotation.rubric import Rubric, parse_rubric
from toolkit.errors import InputError, loads_json
from toolkit.schema import Corpus

__all__ = [
    "CODE_SHEET",
    "FORMAT",
    "Column",
    "ExportedWorkbook",
    "SheetRow",
    "WorkbookManifest",
    "assign_units",
    "coder_seed",
    "export_workbooks",
    "manifest_rows",
    "sheet_columns",
    "write_csv",
    "write_xlsx",
]

FORMAT = "edudial-workbook"
_VERSION = 1
CODE_SHEET = "Code"
GUIDE_SHEET = "Guide"
LISTS_SHEET = "Lists"
MANIFEST_SHEET = "edudial"
_CHUNK = 30_000  # manifest JSON characters per cell (Excel holds 32,767)

Kind = Literal["coding", "adjudication"]


@dataclass(frozen=True)
class SheetRow:
    """One data row as exported: its unit, the scheme it decides (adjudication) and checksum."""

    corpus: str
    unit_id: str
    dialogue_id: str
    checksum: str
    scheme: str | None = None
    #: adjudication: each coder's label (and the model's when shown), as exported
    shown: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WorkbookManifest:
    """What a workbook was made for; stored inside it (or beside a CSV) and checked on import.

    Attributes
    ----------
    kind : {"coding", "adjudication"}
    person : str
        The coder (or the adjudicator) the workbook is for.
    round : str
        The coding round, the ``run_id`` of the rows written on import.
    rubric : Rubric
        The rubric itself (import needs no rubric file; its hash is checked).
    corpus : CorpusIdentity
    rows : tuple of SheetRow
        In the order of the sheet's rows.
    seed : int
    coders : tuple of str
        Adjudication: the coders whose labels are compared.
    model : str, optional
        Adjudication: the model rater shown for reference, if any.
    sample_sha256 : str, optional
        sha256 of the sample file the units came from.
    following : bool
        Whether the sheet has a "following turns" column.
    """

    kind: Kind
    person: str
    round: str
    rubric: Rubric
    corpus: CorpusIdentity
    rows: tuple[SheetRow, ...]
    seed: int
    coders: tuple[str, ...] = ()
    model: str | None = None
    sample_sha256: str | None = None
    following: bool = False

    def to_json(self) -> str:
        """The manifest as compact JSON."""
        data = {
            "format": FORMAT,
            "version": _VERSION,
            "kind": self.kind,
            "person": self.person,
            "round": self.round,
            "rubric": self.rubric.model_dump(mode="json"),
            "rubric_sha256": self.rubric.sha256,
            "corpus": {**vars(self.corpus), "names": list(self.corpus.names)},
            "seed": self.seed,
            "coders": list(self.coders),
            "model": self.model,
            "sample_sha256": self.sample_sha256,
            "following": self.following,
            "rows": [
                [
                    r.corpus,
                    r.unit_id,
                    r.dialogue_id,
                    r.checksum,
                    r.scheme,
                    [list(s) for s in r.shown],
                ]
                for r in self.rows
            ],
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, *, path: str | os.PathLike[str]) -> WorkbookManifest:
        """Parse :meth:`to_json`'s output; errors name ``path`` and the damaged field."""
        try:
            data = loads_json(text, path=path)
        except InputError as exc:
            raise InputError(
                f"the edudial manifest is damaged ({exc.message})", path=path
            ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError("not an edudial workbook (no edudial manifest)", path=path)
        if data.get("version") != _VERSION:
            raise InputError(
                f"workbook format version {data.get('version')} is not supported", path=path
            )
        try:
            rubric = parse_rubric(data.get("rubric"), path=path)
        except InputError as exc:  # (a pydantic message can run over several lines)
            raise InputError(
                f"the rubric stored in the manifest is damaged: {exc.message.splitlines()[0]}",
                path=path,
                field=f"rubric.{exc.field}" if exc.field else "rubric",
            ) from None
        if rubric.sha256 != data.get("rubric_sha256"):
            raise InputError("the rubric stored in the workbook does not match its hash", path=path)
        get = _ManifestReader(data, path)
        c = get.mapping("corpus")
        names = _Field(c, path, "corpus")
        return cls(
            kind=get.choice("kind", ("coding", "adjudication")),  # type: ignore[arg-type]
            person=get.text("person"),
            round=get.text("round"),
            rubric=rubric,
            corpus=CorpusIdentity(
                tuple(names.texts("names")),
                names.integer("dialogues"),
                names.integer("turns"),
                names.text("sha256"),
            ),
            rows=tuple(get.row(i, r, rubric) for i, r in enumerate(get.array("rows"))),
            seed=get.integer("seed"),
            coders=tuple(get.texts("coders")),
            model=get.text("model", optional=True),
            sample_sha256=get.text("sample_sha256", optional=True),
            following=bool(data.get("following")),
        )


@dataclass(frozen=True)
class _Field:
    """Typed access to the keys of one manifest object; a wrong value names its field."""

    data: dict[str, Any]
    path: str | os.PathLike[str]
    prefix: str = ""

    def damaged(self, key: str, expected: str) -> InputError:
        return InputError(
            f"the edudial manifest is damaged: expected {expected}",
            path=self.path,
            field=f"{self.prefix}.{key}".lstrip("."),
        )

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self.damaged(key, "a list")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise self.damaged(key, "an object")
        return value

    def text(self, key: str, *, optional: bool = False) -> Any:
        value = self.data.get(key)
        if not (isinstance(value, str) or (optional and value is None)):
            raise self.damaged(key, "text")
        return value

    def texts(self, key: str) -> list[str]:
        values = self.array(key)
        if not all(isinstance(v, str) for v in values):
            raise self.damaged(key, "a list of texts")
        return values

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.damaged(key, "an integer")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.data.get(key)
        if value not in allowed:
            raise self.damaged(key, " or ".join(map(repr, allowed)))
        return str(value)


class _ManifestReader(_Field):
    """The top-level manifest object, which also reads its ``rows``."""

    def row(self, i: int, row: Any, rubric: Rubric) -> SheetRow:
        """``rows[i]``: ``[corpus, unit_id, dialogue_id, checksum, scheme, shown]``."""
        expected = "[corpus, unit id, dialogue id, checksum, scheme, shown labels]"
        if not (
            isinstance(row, list) and len(row) == 6 and all(isinstance(v, str) for v in row[:4])
        ):
            raise self.damaged(f"rows[{i}]", expected)
        co, u, d, h, scheme, shown = row
        if scheme is not None and scheme not in rubric.schemes:
            raise self.damaged(f"rows[{i}]", f"a scheme of rubric {rubric.id}, not {scheme!r}")
        if not isinstance(shown, list) or not all(
            isinstance(x, list) and len(x) == 2 and all(isinstance(v, str) for v in x)
            for x in shown
        ):
            raise self.damaged(f"rows[{i}]", "shown labels as [rater, label] pairs")
        return SheetRow(co, u, d, h, scheme, tuple((a, b) for a, b in shown))


@dataclass(frozen=True)
class Column:
    """One column of the ``Code`` sheet.

    ``role`` says what the column holds: ``index``, ``context``, ``target``, ``scheme``,
    ``shown`` (an adjudication's coder or model label), ``label`` (an editable label of
    ``scheme``; ``None`` = the row's own scheme), ``notes``, ``after``, ``unit_id`` or
    ``checksum``.
    """

    header: str
    role: str
    width: float
    scheme: str | None = None
    editable: bool = False
    hidden: bool = False


def _label_header(rubric: Rubric, scheme: str) -> str:
    if rubric.mode == "single":
        return "label"
    cat = next(c for c in rubric.label_names if rubric.scheme_for(c) == scheme)
    return f"label: {cat}"


def sheet_columns(m: WorkbookManifest) -> list[Column]:
    """The columns of the ``Code`` sheet of a workbook with manifest ``m``, left to right.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> m = WorkbookManifest("coding", "ana", "r1", load_rubric("mathdial-moves"),
    ...                      CorpusIdentity(("x",), 0, 0, ""), (), 0)
    >>> [c.header for c in sheet_columns(m)]
    ['#', 'context', 'code this turn', 'label', 'notes', 'unit_id', 'checksum']
    """
    cols = [
        Column("#", "index", 6),
        Column("context", "context", 70),
        Column("code this turn", "target", 60),
    ]
    if m.kind == "coding":
        cols += [
            Column(_label_header(m.rubric, s), "label", 18, scheme=s, editable=True)
            for s in m.rubric.schemes
        ]
    else:
        if len(m.rubric.schemes) > 1:
            cols.append(Column("scheme", "scheme", 22))
        cols += [Column(c, "shown", 16, scheme=c) for c in m.coders]
        if m.model is not None:
            cols.append(Column(f"MODEL {m.model} (reference only)", "shown", 22, scheme=m.model))
        cols.append(Column("final label", "label", 18, editable=True))
    cols.append(Column("notes", "notes", 30, editable=True))
    if m.following:
        cols.append(Column("following turns", "after", 40))
    cols += [
        Column("unit_id", "unit_id", 24, hidden=True),
        Column("checksum", "checksum", 18, hidden=True),
    ]
    return cols


def coder_seed(seed: int, person: str) -> int:
    """The shuffle seed of one coder's workbook: derived from ``seed`` and the coder's name.

    Examples
    --------
    >>> coder_seed(7, "ana") == coder_seed(7, "ana") != coder_seed(7, "ben")
    True
    """
    digest = hashlib.sha256(f"{seed}\x1f{person}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


_U = TypeVar("_U")


def assign_units(
    units: Sequence[_U], coders: Sequence[str], *, overlap: float, seed: int
) -> dict[str, list[_U]]:
    """Split ``units`` between ``coders``: a shared overlap, the rest dealt out, shuffled per coder.

    ``units`` may be :class:`CodingUnit` s or any other items (the coding app passes unit keys):
    the split depends only on their number and order.

    ``round(overlap * len(units))`` units (chosen with ``seed``) go to every coder, for
    reliability; the others are dealt to the coders in turn. Each coder's list is then shuffled
    with :func:`coder_seed`, so no two coders see the same order.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from annotation.coding.units import coding_units
    >>> from toolkit.demo import bundled_sample
    >>> units = coding_units(bundled_sample(), load_rubric("mathdial-moves"))[:10]
    >>> parts = assign_units(units, ["ana", "ben"], overlap=0.2, seed=7)
    >>> len(parts["ana"]), len(parts["ben"])
    (6, 6)
    >>> len({u.unit_id for u in parts["ana"]} & {u.unit_id for u in parts["ben"]})
    2
    """
    if not 0 <= overlap <= 1:
        raise InputError(f"--overlap must lie between 0 and 1, got {overlap}")
    if not coders:
        raise InputError("--coders: name at least one coder")
    names = [check_coder_name(c) for c in coders]
    if len(set(names)) != len(names):
        raise InputError(f"--coders: a coder is named twice ({', '.join(names)})")
    keys = np.random.default_rng(seed).random(len(units))
    order = [units[int(i)] for i in np.argsort(keys, kind="stable")]
    n_shared = math.floor(overlap * len(units) + 0.5)
    shared, rest = order[:n_shared], order[n_shared:]
    out = {}
    for k, name in enumerate(names):
        mine = shared + rest[k :: len(names)]
        perm = np.random.default_rng(coder_seed(seed, name)).permutation(len(mine))
        out[name] = [mine[int(i)] for i in perm]
    return out


def manifest_rows(units: Sequence[CodingUnit]) -> tuple[SheetRow, ...]:
    """The :class:`SheetRow` of each unit of a coding workbook, in order."""
    return tuple(SheetRow(u.corpus, u.unit_id, u.dialogue_id, u.checksum) for u in units)


@dataclass(frozen=True)
class ExportedWorkbook:
    """A written workbook (or CSV plus manifest) and what it holds."""

    path: Path
    person: str
    units: int
    shared: int = 0
    files: tuple[Path, ...] = field(default=())


def _cell_values(m: WorkbookManifest, units: Sequence[CodingUnit]) -> list[list[Any]]:
    """The values of every data row, one per column of :func:`sheet_columns`."""
    cols = sheet_columns(m)
    out = []
    for i, (row, unit) in enumerate(zip(m.rows, units, strict=True), start=1):
        shown = dict(row.shown)
        values: dict[str, Any] = {
            "index": i,
            "context": unit.context_text,
            "target": unit.target_text,
            "scheme": row.scheme,
            "after": unit.after_text,
            "unit_id": row.unit_id,
            "checksum": row.checksum,
        }
        out.append(
            [
                shown.get(c.scheme or "", "") if c.role == "shown" else values.get(c.role)
                for c in cols
            ]
        )
    return out


def _atomic_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp")


def write_csv(
    path: str | os.PathLike[str], m: WorkbookManifest, units: Sequence[CodingUnit]
) -> ExportedWorkbook:
    """Write the ``Code`` sheet as UTF-8 CSV (``path``) and the manifest beside it.

    The manifest goes to ``<stem>.manifest.json``; import finds it there (or pass its path).
    """
    p = Path(path)
    manifest = p.with_name(p.stem + ".manifest.json")
    tmp = _atomic_path(p)
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c.header for c in sheet_columns(m)])
        w.writerows(["" if v is None else v for v in row] for row in _cell_values(m, units))
    tmp_m = _atomic_path(manifest)
    tmp_m.write_text(m.to_json() + "\n", encoding="utf-8")
    os.replace(tmp_m, manifest)
    os.replace(tmp, p)
    return ExportedWorkbook(p, m.person, len(units), files=(p, manifest))


def _lists_sheet(wb: Any, m: WorkbookManifest) -> dict[str, str]:
    """Write each scheme's labels into a column of the hidden Lists sheet; scheme -> range."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(LISTS_SHEET)
    ranges = {}
    for j, (scheme, labels) in enumerate(m.rubric.category_orders.items(), start=1):
        letter = get_column_letter(j)
        for i, lab in enumerate(labels, start=1):
            ws.cell(i, j).value = lab
            ws.cell(i, j).data_type = "s"  # "1"/"0" stay text, as the rows store them
        ranges[scheme] = f"{LISTS_SHEET}!${letter}$1:${letter}${len(labels)}"
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ranges


def _guide_sheet(wb: Any, rubric: Rubric) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(GUIDE_SHEET)
    ws.column_dimensions["A"].width = 120
    for i, line in enumerate(render_guide(rubric).splitlines(), start=1):
        cell = ws.cell(i, 1)
        cell.value = line
        cell.data_type = "s"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if line.startswith("#"):
            cell.font = Font(bold=True, size=14 if line.startswith("# ") else 12)
    ws.protection.sheet = True


def _manifest_sheet(wb: Any, m: WorkbookManifest) -> None:
    ws = wb.create_sheet(MANIFEST_SHEET)
    text = m.to_json()
    for i in range(0, max(len(text), 1), _CHUNK):
        cell = ws.cell(i // _CHUNK + 1, 1)
        cell.value = text[i : i + _CHUNK]
        cell.data_type = "s"
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


def _validations(ws: Any, m: WorkbookManifest, cols: list[Column], ranges: dict[str, str]) -> None:
    """A list validation (dropdown) on every label cell, each with its scheme's labels."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    by_scheme: dict[str, list[str]] = {}
    for j, col in enumerate(cols, start=1):
        if col.role != "label":
            continue
        letter = get_column_letter(j)
        schemes = [col.scheme or row.scheme or m.rubric.schemes[0] for row in m.rows]
        start = 0
        for i in range(1, len(schemes) + 1):  # one range per run of rows of the same scheme
            if i == len(schemes) or schemes[i] != schemes[start]:
                by_scheme.setdefault(schemes[start], []).append(
                    f"{letter}{start + 2}:{letter}{i + 1}"
                )
                start = i
    for scheme, cells in by_scheme.items():
        dv = DataValidation(
            type="list",
            formula1=f"={ranges[scheme]}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not a label of the rubric",
            error=f"Choose one of the labels of {m.rubric.id} {m.rubric.version} "
            f"({scheme}); leave the cell empty if not coded yet.",
            promptTitle="Label",
            prompt="Choose from the list (see the Guide sheet)",
            showInputMessage=True,
        )
        for cells_range in cells:
            dv.add(cells_range)
        ws.add_data_validation(dv)


def _code_sheet(ws: Any, m: WorkbookManifest, units: Sequence[CodingUnit]) -> list[Column]:
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter

    cols = sheet_columns(m)
    ws.title = CODE_SHEET
    target_fill = PatternFill("solid", fgColor="FFF2CC")
    edit_fill = PatternFill("solid", fgColor="E2EFDA")
    for j, col in enumerate(cols, start=1):
        cell = ws.cell(1, j)
        cell.value = col.header
        cell.font = Font(bold=True)
        dim = ws.column_dimensions[get_column_letter(j)]
        dim.width = col.width
        dim.hidden = col.hidden
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, values in enumerate(_cell_values(m, units), start=2):
        for j, (col, value) in enumerate(zip(cols, values, strict=True), start=1):
            cell = ws.cell(i, j)
            if value not in (None, ""):
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # a turn "=2+2" is text, never a formula
            cell.alignment = wrap
            if col.role == "target":
                cell.fill, cell.font = target_fill, Font(bold=True)
            if col.editable:
                cell.fill = edit_fill
                cell.protection = Protection(locked=False)
    ws.freeze_panes = "B2"
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # coders may widen columns and rows
    ws.protection.formatRows = False
    return cols


def write_xlsx(
    path: str | os.PathLike[str], m: WorkbookManifest, units: Sequence[CodingUnit]
) -> ExportedWorkbook:
    """Write one workbook (sheets Code, Guide, hidden Lists and edudial) atomically to ``path``.

    ``units`` are the rows' units in ``m.rows`` order.
    """
    from openpyxl import Workbook

    p = Path(path)
    wb = Workbook()
    cols = _code_sheet(wb.active, m, units)
    _guide_sheet(wb, m.rubric)
    _validations(wb[CODE_SHEET], m, cols, _lists_sheet(wb, m))
    _manifest_sheet(wb, m)
    tmp = _atomic_path(p)
    wb.save(tmp)
    os.replace(tmp, p)
    return ExportedWorkbook(p, m.person, len(units), files=(p,))


def _planned_paths(out: Path, coders: Sequence[str], fmt: str) -> list[Path]:
    paths = [out / f"{c}.{fmt}" for c in coders]
    if fmt == "csv":
        paths += [out / f"{c}.manifest.json" for c in coders]
    return paths


def export_workbooks(
    corpus: Corpus,
    rubric: Rubric,
    coders: Sequence[str],
    out: str | os.PathLike[str],
    *,
    sample: Sample | None = None,
    sample_sha256: str | None = None,
    overlap: float = 1.0,
    seed: int | None = None,
    round: str = "r1",
    fmt: Literal["xlsx", "csv"] = "xlsx",
    overwrite: bool = False,
) -> list[ExportedWorkbook]:
    """Write one blind coding workbook per coder into the folder ``out``.

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric
    coders : list of str
        One workbook each: ``out/<coder>.xlsx`` (or ``.csv`` plus ``.manifest.json``).
    sample : Sample, optional
        The units to code (checked against ``corpus`` and ``rubric``); default: every unit the
        rubric applies to.
    sample_sha256 : str, optional
        The sample file's hash, recorded in the manifests.
    overlap : float
        Fraction of the units every coder codes (1.0: all; see :func:`assign_units`).
    seed : int, optional
        Seed of the split and of each coder's shuffle (default: the sample's seed, else 0).
    round : str
        The coding round (the ``run_id`` of the imported rows).
    fmt : {"xlsx", "csv"}
    overwrite : bool
        Replace existing workbooks (a coder's work may be in them: refused by default).

    Examples
    --------
    >>> import tempfile
    >>> from annotation.rubric import load_rubric
    >>> from toolkit.demo import bundled_sample
    >>> books = export_workbooks(bundled_sample(), load_rubric("mathdial-moves"), ["ana", "ben"],
    ...                          tempfile.mkdtemp(), overlap=0.5, seed=7)
    >>> [(b.path.name, b.units, b.shared) for b in books]  # 17 of 33 shared, 8 more each
    [('ana.xlsx', 25, 17), ('ben.xlsx', 25, 17)]
    """
    if fmt not in ("xlsx", "csv"):
        raise InputError(f"--format must be xlsx or csv, got {fmt!r}")
    check_coder_name(round, "round")
    folder = Path(out)
    existing = [p for p in _planned_paths(folder, coders, fmt) if p.exists()]
    if existing and not overwrite:
        raise InputError(
            "would replace existing workbook(s) (coders' work may be in them); pass --force",
            path=existing[0],
        )
    if sample is not None:
        sample.check(corpus, rubric)
    units = coding_units(corpus, rubric, None if sample is None else sample.refs)
    if not units:
        raise InputError(f"no units to code: rubric {rubric.id} applies to none of the corpus")
    seed = (sample.seed if sample is not None else 0) if seed is None else seed
    parts = assign_units(units, coders, overlap=overlap, seed=seed)
    n_shared = math.floor(overlap * len(units) + 0.5)
    folder.mkdir(parents=True, exist_ok=True)
    ident = CorpusIdentity.of(corpus)
    written = []
    for coder, mine in parts.items():
        m = WorkbookManifest(
            kind="coding",
            person=coder,
            round=round,
            rubric=rubric,
            corpus=ident,
            rows=manifest_rows(mine),
            seed=seed,
            sample_sha256=sample_sha256,
            following=rubric.unit == "turn" and rubric.context.following_turns > 0,
        )
        write = write_csv if fmt == "csv" else write_xlsx
        book = write(folder / f"{coder}.{fmt}", m, mine)
        written.append(
            ExportedWorkbook(
                book.path, coder, len(mine), n_shared if len(parts) > 1 else 0, book.files
            )
        )
    return written
