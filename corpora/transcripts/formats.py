"""Reading one transcript file into a :class:`RawTable`: tables, captions and plain text.

Tables (CSV, TSV, XLSX, JSONL, Parquet) keep their own columns. Captions (WebVTT, SRT) and plain
text become the columns ``speaker``, ``text``, ``start``, ``end`` (times in seconds). Every row
knows where it came from (:meth:`RawTable.where`), so later errors name the line or the cell.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import InputError, csv_records, loads_json, reading_workbook

__all__ = [
    "CAPTION_FORMATS",
    "ENCODINGS",
    "EXTENSIONS",
    "FORMATS",
    "TABLE_FORMATS",
    "RawTable",
    "detect_format",
    "find_header",
    "parse_time",
    "read_file",
    "sniff_sep",
]

TABLE_FORMATS = ("csv", "tsv", "xlsx", "jsonl", "parquet")
CAPTION_FORMATS = ("vtt", "srt")
FORMATS = (*TABLE_FORMATS, *CAPTION_FORMATS, "txt")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".vtt": "vtt",
    ".srt": "srt",
    ".txt": "txt",
}
#: Tried in order when no ``encoding`` is given (UTF-16 only when the file starts with its BOM).
ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class RawTable:
    """The rows of one file, as read, with where each came from.

    Attributes
    ----------
    path : Path
        The file.
    format : str
        One of :data:`FORMATS`.
    frame : pandas.DataFrame
        One row per record (cue, line turn); columns as in the file.
    lines : numpy.ndarray
        The 1-based line of each row (CSV/TSV: the line its record starts on, as an editor counts
        lines; XLSX: sheet row; Parquet: record number counted from a header as line 1).
    sheet : str, optional
        The XLSX sheet read.
    encoding : str, optional
        The text encoding used.
    """

    path: Path
    format: str
    frame: pd.DataFrame
    lines: np.ndarray
    sheet: str | None = None
    encoding: str | None = None
    #: what the reader had to guess and the user should know (e.g. a cp1252 fallback)
    warnings: tuple[str, ...] = ()
    #: the 1-based line / sheet row of the header (tables), and how many rows it takes (2: a
    #: group row such as "Codes" over "Coder A", "Coder B", joined as "Codes / Coder A")
    header_row: int | None = None
    header_rows: int = 1
    #: the field separator of a CSV/TSV file
    sep: str | None = None

    def header_note(self) -> str | None:
        """``header row 3`` / ``header rows 1-2 joined`` for tables, else None."""
        if self.header_row is None:
            return None
        if self.header_rows == 1:
            return f"header row {self.header_row}"
        return f"header rows {self.header_row}-{self.header_row + self.header_rows - 1} joined"

    def where(self, row: int, column: str | None = None) -> str:
        """``file:line`` or ``file: sheet 'S', cell C5`` for row position ``row``."""
        line = int(self.lines[row])
        if self.sheet is None:
            return f"{self.path}:{line}"
        cell = f"row {line}"
        if column is not None and column in self.frame.columns:
            cell = f"cell {_column_letter(list(self.frame.columns).index(column))}{line}"
        return f"{self.path}: sheet {self.sheet!r}, {cell}"

    def error(self, message: str, row: int, column: str | None = None) -> InputError:
        """An :class:`InputError` located at ``row`` (and ``column``)."""
        if self.sheet is None:
            return InputError(message, path=self.path, line=int(self.lines[row]), field=column)
        return InputError(f"{self.where(row, column)}: {message}")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def detect_format(path: Path, given: str | None = None) -> str:
    """The format named by ``given`` or by the file's extension.

    >>> detect_format(Path("lesson.VTT"))
    'vtt'
    """
    if given is not None:
        if given.lower() not in FORMATS:
            raise InputError(f"unknown format {given!r}; expected one of {', '.join(FORMATS)}")
        return given.lower()
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the format from the extension {path.suffix!r}; pass --input-format "
            f"(one of {', '.join(FORMATS)})",
            path=path,
        )
    return fmt


def read_file(
    path: Path,
    fmt: str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    sep: str | None = None,
    header_row: int | None = None,
) -> RawTable:
    """Read ``path`` (format ``fmt``) into a :class:`RawTable`.

    ``sep``: the CSV/TSV field separator (else tab for TSV, and for CSV the one
    :func:`sniff_sep` finds). ``header_row``: the 1-based line / sheet row of the header of a
    CSV, TSV or XLSX file (else :func:`find_header` looks for it).
    """
    if header_row is not None and header_row < 1:
        raise InputError(f"--header-row {header_row}: rows are counted from 1", path=path)
    if fmt == "xlsx":
        return _read_xlsx(path, sheet, header_row)
    if fmt == "parquet":
        return _read_parquet(path)
    text, used, note = decode_noting(path, encoding)
    if fmt in ("csv", "tsv"):
        table = _read_delimited(path, fmt, text, used, sep=sep, header_row=header_row)
    elif fmt == "jsonl":
        table = _read_jsonl(path, text, used)
    elif fmt == "vtt":
        table = _read_vtt(path, text, used)
    elif fmt == "srt":
        table = _read_srt(path, text, used)
    else:
        table = _read_text(path, text, used)
    return table if note is None else dataclasses.replace(table, warnings=(note,))


def decode(path: Path, encoding: str | None) -> tuple[str, str]:
    """The text of ``path`` and the encoding used (``encoding``, else :data:`ENCODINGS`)."""
    text, used, _ = decode_noting(path, encoding)
    return text, used


def decode_noting(path: Path, encoding: str | None) -> tuple[str, str, str | None]:
    """:func:`decode`, plus a warning when UTF-8 failed and cp1252 was used for the whole file.

    One stray byte in an otherwise UTF-8 file makes every accented letter mojibake under
    cp1252, so the warning names the line of the first byte that is not UTF-8.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=path) from None
    if encoding is not None:
        tried: tuple[str, ...] = (encoding,)
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        tried = ("utf-16",)
    else:
        tried = ENCODINGS
    first_bad: int | None = None
    for enc in tried:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            first_bad = exc.start if first_bad is None else first_bad
            continue
        except LookupError:
            raise InputError(f"unknown encoding {enc!r}", path=path) from None
        note = None
        if first_bad is not None:
            line = data.count(b"\n", 0, first_bad) + 1
            note = (
                f"{path}:{line}: byte 0x{data[first_bad]:02x} is not UTF-8, so the whole file "
                f"was read as {enc}; if the file is UTF-8 apart from that byte, its accented "
                f"letters are now wrong: fix the byte, or pass --encoding"
            )
            if _UTF8_MULTIBYTE.search(data):
                note += " (the file has UTF-8 letters elsewhere)"
        return text, enc, note
    raise InputError(
        f"cannot decode the file as {' or '.join(tried)}; pass its encoding with --encoding "
        "(e.g. --encoding latin-1)",
        path=path,
        line=None if first_bad is None else data.count(b"\n", 0, first_bad) + 1,
    )


#: A well-formed 2-4 byte UTF-8 sequence (a letter beyond ASCII written as UTF-8).
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


# ----------------------------------------------------------------------------- the header
#: Rows looked at for the header (a title, notes or blank rows may come first).
_HEADER_SCAN = 20
#: Longest cell that still looks like a column name.
_NAME_LEN = 60
#: A cell of digits and punctuation (a number, date or time): data, not a column name.
_NUMBERISH = re.compile(r"^[+-]?[\d.,:/ -]+$")
#: Characters of a CSV file looked at for its separator.
_SNIFF_CHARS = 65536
#: Field separators tried for a CSV file, in order of preference.
SEPARATORS = (",", ";", "\t", "|")


def _filled(cells: Sequence[str]) -> list[int]:
    return [j for j, c in enumerate(cells) if c.strip()]


def _name_like(cell: str) -> bool:
    text = cell.strip()
    return len(text) <= _NAME_LEN and not _NUMBERISH.match(text)


def _full(cells: Sequence[str], width: int) -> bool:
    """At least half the cells (and 2) filled."""
    return len(_filled(cells)) >= max(2, (width + 1) // 2)


def find_header(rows: Sequence[Sequence[str]]) -> int:
    """The position of the header among the first rows of a table (0 unless rows above it are
    sparse, like a merged title row): the first row whose cells are mostly filled with short
    names, not numbers or times. A full row that is not a header first means data from row 0.

    >>> find_header([["Classroom transcript - Grade 4", "", ""], ["Line", "Speaker", "Text"],
    ...              ["1", "T", "What is 3 x 4?"]])
    1
    >>> find_header([["Line", "Speaker", "Text"], ["1", "T", "Hi"]])
    0
    """
    width = max((len(r) for r in rows[:_HEADER_SCAN]), default=0)
    for i, row in enumerate(rows[:_HEADER_SCAN]):
        if _full(row, width):
            if all(_name_like(row[j]) for j in _filled(row)):
                return i
            break
    return 0


def _is_sub_header(top: Sequence[str], sub: Sequence[str]) -> bool:
    """Is ``sub`` the second level of a two-level header ("Codes" over "Coder A", "Coder B")?

    Its filled cells (2 or more) are names; one sits under a blank or repeated top cell that
    continues a group to its left; and a top column has nothing below it (a one-level column).
    """
    filled = _filled(sub)
    if len(filled) < 2 or not all(_name_like(sub[j]) for j in filled):
        return False

    def top_at(j: int) -> str:
        return top[j].strip() if j < len(top) else ""

    grouped = any(
        j > 0 and (not top_at(j) or top_at(j) == top_at(j - 1)) and any(top_at(k) for k in range(j))
        for j in filled
    )
    alone = any(j >= len(sub) or not sub[j].strip() for j in _filled(top))
    return grouped and alone


def _join_levels(
    top: Sequence[str], sub: Sequence[str], width: int, blank: Callable[[int], str]
) -> list[str]:
    """One name per column: ``Group / Sub`` under a group (a merged cell spans blanks to its
    right), the top name alone over nothing, ``blank(j)`` when both are empty."""
    names, group = [], ""
    for j in range(width):
        t = top[j].strip() if j < len(top) else ""
        s = sub[j].strip() if j < len(sub) else ""
        group = t or group
        head = t or (group if s else "")
        names.append(" / ".join(x for x in (head, s) if x) or blank(j))
    return names


def _pick_header(
    path: Path, rows: list[tuple[int, list[str]]], given: int | None, unit: str
) -> tuple[int, bool]:
    """The position in ``rows`` of the header (``given``: its line / row number) and whether
    the row below it is a second header level."""
    if given is None:
        h = find_header([r for _, r in rows])
    else:
        at = [i for i, (line, _) in enumerate(rows) if line == given]
        if not at:
            raise InputError(
                f"--header-row {given}: {unit} {given} is empty or past the end", path=path
            )
        h = at[0]
    two = h + 1 < len(rows) and _is_sub_header(rows[h][1], rows[h + 1][1])
    return h, two


def sniff_sep(text: str) -> str:
    """The field separator of CSV ``text`` among :data:`SEPARATORS` (``csv.Sniffer`` on the first
    lines, kept only when it splits them evenly; ``,`` when that already does, and by default).

    >>> sniff_sep("Line;Speaker;Text\\n1;T;Hello, class\\n2;S;Hi\\n")
    ';'
    >>> sniff_sep("a,b\\n1,2\\n")
    ','
    """
    head = text[:_SNIFF_CHARS].splitlines()
    if len(text) > _SNIFF_CHARS:
        head = head[:-1]  # a line cut short
    sample = "\n".join(head[:_HEADER_SCAN])
    if _splits_evenly(sample, ","):
        return ","
    try:
        found: str | None = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        found = None
    if found is not None and _splits_evenly(sample, found):
        return found
    return next((d for d in SEPARATORS if _splits_evenly(sample, d)), ",")


def _splits_evenly(sample: str, sep: str) -> bool:
    """Do 80% of the non-empty lines split into the same number (2 or more) of fields?"""
    try:
        counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
    except csv.Error:
        return False
    if not counts:
        return False
    top = max(set(counts), key=counts.count)
    return top >= 2 and counts.count(top) >= 0.8 * len(counts)


def _scan_records(text: str, sep: str, upto: int | None) -> list[tuple[int, list[str]]]:
    """The first non-empty records and the line each starts on (leniently: any field count)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    out: list[tuple[int, list[str]]] = []
    before = 0
    while len(out) <= _HEADER_SCAN or (upto is not None and before <= upto):
        try:
            row = next(reader)
        except (StopIteration, csv.Error):
            break
        start, before = before + 1, reader.line_num
        if row:
            out.append((start, row))
    return out


def _read_delimited(
    path: Path,
    fmt: str,
    text: str,
    encoding: str,
    *,
    sep: str | None = None,
    header_row: int | None = None,
) -> RawTable:
    if not text.strip():
        raise InputError("file is empty", path=path)
    if sep is None:
        sep = "\t" if fmt == "tsv" else sniff_sep(text)
    elif len(sep) != 1:
        raise InputError(f"--sep {sep!r}: the field separator is one character", path=path)
    scanned = _scan_records(text, sep, header_row)
    if not scanned:
        raise InputError("file is empty", path=path)
    h, two = _pick_header(path, scanned, header_row, "line")
    start = scanned[h][0]
    if start > 1:  # lines above the header become blank lines: csv_records skips them
        lines = io.StringIO(text, newline="").readlines()
        text = "\n" * (start - 1) + "".join(lines[start - 1 :])
    header, records = csv_records(text, path=path, delimiter=sep)
    if two:
        sub_line = scanned[h + 1][0]
        header = _join_levels(header, scanned[h + 1][1], len(header), lambda j: "")
        records = [(line, row) for line, row in records if line != sub_line]
    columns = [h if h != "" else f"Unnamed: {i}" for i, h in enumerate(header)]
    _check_header(path, columns, start)
    body = [row for _, row in records]
    frame = pd.DataFrame(body, columns=columns, dtype=object) if body else None
    if frame is None:
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    lines_ = np.asarray([line for line, _ in records], dtype=int)
    return RawTable(
        path,
        fmt,
        frame,
        lines_,
        encoding=encoding,
        header_row=start,
        header_rows=2 if two else 1,
        sep=sep,
    )


def _check_header(path: Path, columns: list[str], line: int = 1) -> None:
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            raise InputError(f"the header names column {col!r} twice", path=path, line=line)
        seen.add(col)


def _read_xlsx(path: Path, sheet: str | None, header_row: int | None = None) -> RawTable:
    from python_calamine import CalamineWorkbook

    with reading_workbook(path):
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        if not names:
            raise InputError("the workbook has no sheets", path=path)
        name = sheet if sheet is not None else names[0]
        if name not in names:
            raise InputError(
                f"no sheet {name!r}; the sheets are {', '.join(map(repr, names))}", path=path
            )
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    if not rows:
        raise InputError(f"sheet {name!r} is empty", path=path)
    upto = _HEADER_SCAN + 1 if header_row is None else max(_HEADER_SCAN, header_row) + 1
    scanned = [
        (i + 1, [_cell_text(c).strip() for c in r])
        for i, r in enumerate(rows[:upto])
        if any(_cell_text(c).strip() for c in r)
    ]
    if not scanned:
        raise InputError(f"sheet {name!r} is empty", path=path)
    h, two = _pick_header(path, scanned, header_row, "row")
    first = scanned[h][0] - 1  # the header's position in rows
    width = max(len(r) for r in rows)
    if two:
        header = _join_levels(scanned[h][1], scanned[h + 1][1], width, lambda j: f"column {j + 1}")
        skip = scanned[h + 1][0] - 1  # the second header row
    else:
        header = [
            str(h).strip() if h not in (None, "") else f"column {i + 1}"
            for i, h in enumerate(rows[first])
        ]
        header += [f"column {i + 1}" for i in range(len(header), width)]
        skip = first
    _check_header(path, header, first + 1)
    body = [list(r[:width]) + [""] * (width - len(r)) for r in rows[skip + 1 :]]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame = frame.map(_cell_text) if len(frame) else frame.astype(str)
    return RawTable(
        path,
        "xlsx",
        frame,
        np.arange(skip + 2, skip + 2 + len(frame)),
        sheet=name,
        header_row=first + 1,
        header_rows=2 if two else 1,
    )


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as text (``4.0`` -> ``"4"``; empty -> ``""``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.time):  # a time cell: hh:mm:ss(.mmm), which parses as seconds
        return _clock(value.hour * 3600 + value.minute * 60 + value.second, value.microsecond)
    if isinstance(value, dt.timedelta):
        return _clock(int(value.total_seconds()), value.microseconds)
    return str(value)


def _clock(seconds: int, microseconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    text = f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return text + (f".{microseconds // 1000:03d}" if microseconds else "")


def _read_parquet(path: Path) -> RawTable:
    import pyarrow as pa

    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:  # (ArrowInvalid, a cut file ...)
        raise InputError(f"cannot read the Parquet file ({exc})", path=path) from None
    frame = frame.reset_index(drop=True)
    # Row numbers of a Parquet file: 1-based record numbers, counted as if the header were line 1.
    return RawTable(path, "parquet", frame, np.arange(2, len(frame) + 2))


def _read_jsonl(path: Path, text: str, encoding: str) -> RawTable:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    # (split on "\n" only: JSON strings may hold U+2028 and other line breaks of splitlines)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = loads_json(line, path=path, line=number)
        if not isinstance(record, dict):
            raise InputError("expected a JSON object on each line", path=path, line=number)
        records.append(record)
        lines.append(number)
    if not records:
        raise InputError("file is empty", path=path)
    frame = pd.DataFrame.from_records(records)
    return RawTable(path, "jsonl", frame, np.asarray(lines), encoding=encoding)


# ----------------------------------------------------------------------------- transcripts
#: ``Speaker: text`` at the start of a line or cue. A speaker is a short label: a word that starts
#: with a letter, then up to three words that start with a capital, a digit or "(" ("Ms. Lee",
#: "Student 2", "Teacher (Ann)"); "The answer is 12: twelve" is text, not a speaker.
_SPEAKER = re.compile(
    r"^(?P<speaker>[^\W\d_][\w.'’-]*(?: [A-Z0-9(][\w.'’()\-]*){0,3})\s*:(?:\s+(?P<text>.*))?$", re.S
)
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_STAMP = re.compile(rf"^\s*(?:\[(?P<a>{_TIME})\]|\((?P<b>{_TIME})\)|(?P<c>{_TIME}))\s*(?:-\s*)?")


def parse_time(value: str) -> float | None:
    """Seconds of ``hh:mm:ss(.mmm)`` / ``mm:ss`` text (``,`` as in SRT is accepted), else None.

    >>> parse_time("00:01:02.5"), parse_time("1:02"), parse_time("soon")
    (62.5, 62.0, None)
    """
    text = value.strip().replace(",", ".")
    if not re.fullmatch(_TIME, text):
        return None
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def split_speaker(text: str) -> tuple[str | None, str]:
    """``("Ms. Lee", "Hello")`` for ``"Ms. Lee: Hello"``; ``(None, text)`` without a speaker.

    >>> split_speaker("Teacher: What is 3 x 4?")
    ('Teacher', 'What is 3 x 4?')
    >>> split_speaker("The answer is 12: twelve")
    (None, 'The answer is 12: twelve')
    """
    match = _SPEAKER.match(text)
    if match is None:
        return None, text
    return match.group("speaker").strip(), match.group("text") or ""


def _turn_frame(
    rows: list[tuple[str | None, str, float | None, float | None, int]],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "speaker": [r[0] if r[0] is not None else "" for r in rows],
            "text": [r[1] for r in rows],
            "start": [r[2] for r in rows],
            "end": [r[3] for r in rows],
        }
    )


def _read_vtt(path: Path, text: str, encoding: str) -> RawTable:
    import webvtt
    from webvtt.errors import MalformedFileError

    try:
        captions = webvtt.from_string(text)
    except MalformedFileError as exc:
        raise InputError(f"not a valid WebVTT file ({exc})", path=path) from None
    starts = _cue_lines(text, "-->")
    rows = []
    cues: list[Any] = list(captions)  # type: ignore[call-overload]
    for i, cue in enumerate(cues):
        speaker = cue.voice
        body = cue.text
        if speaker is None:
            speaker, body = split_speaker(body)
        line = starts[i] if i < len(starts) else 0
        start, end = cue.start_time.in_milliseconds() / 1000, cue.end_time.in_milliseconds() / 1000
        rows.append((speaker, body, start, end, line))
    return RawTable(
        path,
        "vtt",
        _turn_frame(rows),
        np.asarray([r[4] for r in rows], dtype=int),
        encoding=encoding,
    )


def _cue_lines(text: str, marker: str) -> list[int]:
    """1-based line numbers of the timing lines (one per cue, in order)."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]


def _read_srt(path: Path, text: str, encoding: str) -> RawTable:
    import srt

    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, exc.actual_start) + 1
        raise InputError(
            f"not a valid SRT cue ({exc.unmatched_content.strip()[:40]!r})", path=path, line=line
        ) from None
    starts = _cue_lines(text, "-->")
    rows = []
    for i, sub in enumerate(subtitles):
        speaker, body = split_speaker(sub.content)
        line = starts[i] if i < len(starts) else 0
        rows.append((speaker, body, sub.start.total_seconds(), sub.end.total_seconds(), line))
    return RawTable(
        path,
        "srt",
        _turn_frame(rows),
        np.asarray([r[4] for r in rows], dtype=int),
        encoding=encoding,
    )


def _read_text(path: Path, text: str, encoding: str) -> RawTable:
    """``Speaker: text`` lines; indented or unprefixed lines continue the previous turn."""
    rows: list[list[Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        start = None
        line = raw
        stamp = _STAMP.match(line)
        if stamp is not None and not raw[:1].isspace():
            start = parse_time(stamp.group("a") or stamp.group("b") or stamp.group("c"))
            line = line[stamp.end() :]
        speaker, body = (None, line) if raw[:1].isspace() else split_speaker(line)
        if speaker is None and rows and start is None:
            rows[-1][1] += "\n" + body.strip()
            continue
        rows.append([speaker, body.strip(), start, None, number])
    if not rows:
        raise InputError("file has no text", path=path)
    frame = _turn_frame([(r[0], r[1], r[2], r[3], r[4]) for r in rows]).drop(columns="end")
    return RawTable(
        path, "txt", frame, np.asarray([r[4] for r in rows], dtype=int), encoding=encoding
    )
