"""Parsing helpers shared by the loaders: file checks, delimiter sniffing, typed values, frames.

Private to :mod:`corpora`; every helper raises :class:`toolkit.errors.InputError` naming the file,
line and field so a loader can let the error through unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.errors import InputError, csv_records, decode_utf8, loads_json
from toolkit.schema import ANNOTATION_COLUMNS, DIALOGUE_COLUMNS, TURN_COLUMNS, Corpus

__all__ = [
    "DELIMITER_NAMES",
    "CsvTable",
    "Rows",
    "as_int",
    "as_str",
    "build_corpus",
    "dialogue_row",
    "header_key",
    "iter_jsonl",
    "read_csv_frame",
    "read_header_line",
    "read_json",
    "read_utf8",
    "records",
    "require_file",
    "short_hash",
    "sniff_delimiter",
    "source_label",
    "turn_row",
]

DELIMITER_NAMES: dict[str, str] = {",": "comma", "\t": "tab", " ": "space", ";": "semicolon"}


def require_file(path: Path) -> Path:
    """Return ``path`` if it is a readable file, else raise a one-line :class:`InputError`."""
    if not path.exists():
        raise InputError("file not found", path=path)
    if not path.is_file():
        raise InputError("expected a file, found a directory", path=path)
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=path) from None
    return path


def read_utf8(path: Path) -> str:
    """The text of a UTF-8 file (a BOM dropped); errors name the line of the first bad byte."""
    require_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=path) from None
    return decode_utf8(data, path=path)


def read_header_line(path: Path) -> str:
    """The first line of a text file (without the line end), decoded as UTF-8."""
    require_file(path)
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            line = fh.readline()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path, line=1) from None
    if not line.strip():
        raise InputError("file is empty or has an empty header line", path=path, line=1)
    return line.rstrip("\r\n")


def sniff_delimiter(header: str, candidates: Sequence[str] = (",", "\t", " ", ";")) -> str | None:
    """Guess the delimiter of a header line whose column names contain no delimiter characters.

    Returns the first candidate (in order) that occurs outside double quotes, or ``None``.

    >>> sniff_delimiter("comment video_id comment_id")
    ' '
    >>> sniff_delimiter("a,b c")
    ','
    """
    unquoted = re.sub(r'"[^"]*"', "", header)
    for cand in candidates:
        if cand in unquoted:
            return cand
    return None


def header_key(name: object) -> str:
    """Normalise a column name for matching: lower case, without ``.``, ``_``, ``-``, spaces.

    >>> header_key("Turn_Number"), header_key("turn.number"), header_key(" Turn number ")
    ('turnnumber', 'turnnumber', 'turnnumber')
    """
    return re.sub(r"[\s._\-]+", "", str(name)).lower()


@dataclass(frozen=True)
class CsvTable:
    """A checked delimited file: pandas' typed frame and the line each of its rows starts on."""

    frame: pd.DataFrame
    lines: list[int]


def read_csv_frame(
    path: Path, *, sep: str, quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL, **kwargs: Any
) -> CsvTable:
    """``pandas.read_csv`` of a file first checked record by record (:func:`csv_records`).

    pandas fills a short row with missing values and so shifts nothing visibly: a deleted cell
    would move every later cell of its row one column left. The check refuses any record whose
    field count differs from the header's, and a file cut inside a quoted field, naming the
    line; pandas then types the values. ``lines`` are the 1-based lines the rows start on.
    """
    text = read_utf8(path)
    _, records = csv_records(text, path=path, delimiter=sep, quoting=quoting)
    name = DELIMITER_NAMES.get(sep, repr(sep))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, quoting=quoting, **kwargs)
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", path=path) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        detail = str(exc).split("C error:", 1)[-1].strip()
        raise InputError(f"malformed {name}-separated row ({detail})", path=path) from None
    if len(frame) != len(records):  # (both readers saw the same records above; a safeguard)
        raise InputError(
            f"read {len(frame)} rows but the file has {len(records)} {name}-separated records",
            path=path,
        )
    return CsvTable(frame, [line for line, _ in records])


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` of every non-empty line of a JSON Lines file (UTF-8), each checked.

    Errors (:func:`toolkit.errors.loads_json`) name the line: malformed JSON, nesting too deep,
    a lone surrogate escape, a line that is not a JSON object.
    """
    text = read_utf8(path)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = loads_json(line, path=path, line=number)
        if not isinstance(record, dict):
            raise InputError(
                f"expected a JSON object on each line, got {_json_kind(record)}",
                path=path,
                line=number,
            )
        yield number, record


def _json_kind(value: Any) -> str:
    """``a list``, ``a string``, ... for messages about a JSON value of the wrong type."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")


_INT_TEXT = re.compile(r"^\s*[+-]?\d+(?:\.0*)?\s*$")


def as_int(
    value: Any, *, path: Path, line: int | None, field: str, required: bool = False
) -> int | None:
    """Return ``value`` as ``int`` (accepting ``4``, ``4.0``, ``"4"``, ``"4.0"``); missing -> None.

    Missing is ``None``, NaN, ``""`` or ``"NA"``; ``required`` turns missing into an error.

    >>> as_int("4.0", path=Path("x"), line=1, field="f")
    4
    >>> as_int(float("nan"), path=Path("x"), line=1, field="f") is None
    True
    """
    if type(value) is int:  # the common case (not bool, whose type is bool)
        return value
    if _missing(value):
        if required:
            raise InputError("value is missing", path=path, line=line, field=field)
        return None
    if isinstance(value, bool):
        raise InputError(f"expected an integer, got {value!r}", path=path, line=line, field=field)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
    elif isinstance(value, str) and _INT_TEXT.match(value):
        return int(float(value))
    elif hasattr(value, "item"):  # numpy scalar
        return as_int(value.item(), path=path, line=line, field=field, required=required)
    raise InputError(f"expected an integer, got {value!r}", path=path, line=line, field=field)


def as_str(value: Any) -> str | None:
    """Return ``value`` as ``str``; missing (None, NaN, NA) -> None. Empty strings stay empty."""
    if type(value) is str:
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else str(value)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip() in ("", "NA")
    return False


def short_hash(text: str, length: int = 8) -> str:
    """A short, stable hex digest (SHA-1) of ``text``.

    >>> short_hash("Teacher: (generic)Hi")
    'c87d0bba'
    """
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


_RECORD_MAKERS: dict[int, Callable[..., list[dict[str, Any]]]] = {}


def _record_maker(width: int) -> Callable[..., list[dict[str, Any]]]:
    """``make(columns, k0, k1, ..)`` -> ``[{k0: v0, k1: v1, ..} for v0, v1, .. in zip(*columns)]``.

    A dict display in a comprehension is about twice as fast as ``dict(zip(names, row))``. The
    generated source depends only on ``width`` (keys are arguments), never on the data.
    """
    maker = _RECORD_MAKERS.get(width)
    if maker is None:
        keys = ", ".join(f"k{i}" for i in range(width))
        values = ", ".join(f"v{i}" for i in range(width))
        display = ", ".join(f"k{i}: v{i}" for i in range(width))
        namespace: dict[str, Any] = {}
        exec(  # a fixed template: only the integer width varies
            f"def make(columns, {keys}):\n"
            f"    return [{{{display}}} for ({values},) in zip(*columns)]\n",
            namespace,
        )
        maker = _RECORD_MAKERS[width] = namespace["make"]
    return maker


def records(
    names: Sequence[str], columns: Sequence[Sequence[Any]], n_rows: int
) -> list[dict[str, Any]]:
    """One new dict per row, ``{names[j]: columns[j][i]}``, from equal-length columns.

    >>> records(["a", "b"], [[1, 2], ["x", None]], 2)
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': None}]
    >>> records([], [], 2)
    [{}, {}]
    """
    if len(names) != len(columns) or any(len(c) != n_rows for c in columns):
        raise ValueError("records() needs one column of n_rows values per name")
    if not names:
        return [{} for _ in range(n_rows)]
    return _record_maker(len(names))(columns, *names)


Table = Sequence[Mapping[str, Any]] | Mapping[str, Iterable[Any]]


def build_corpus(
    dialogues: Table,
    turns: Table,
    annotations: Table | None = None,
) -> Corpus:
    """The one way a loader assembles its :class:`Corpus` (not yet validated).

    Each table is given either as rows (a list of dicts, e.g. from :func:`dialogue_row`,
    :func:`turn_row`, :func:`source_label`) or as columns (column name -> values); columns a
    table lacks are missing values, keys outside the schema are dropped.

    >>> build_corpus([dialogue_row("toy", "d1", meta={})], {"dialogue_id": [], "turn_id": []})
    Corpus(toy: 1 dialogues, 0 turns, 0 annotations)
    """
    return Corpus(
        _frame(dialogues, DIALOGUE_COLUMNS),
        _frame(turns, TURN_COLUMNS),
        _frame(annotations, ANNOTATION_COLUMNS),
    )


def _frame(table: Table | None, names: tuple[str, ...]) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame(columns=list(names))
    if isinstance(table, Mapping):
        columns = {c: list(table.get(c, [])) for c in names}
        # (an empty list would become a float column; the schema types the others)
        return pd.DataFrame({c: v if v else np.empty(0, dtype=object) for c, v in columns.items()})
    return pd.DataFrame(list(table), columns=list(names))


@dataclass
class Rows:
    """The rows of a corpus being built, one dict per dialogue, turn and annotation.

    >>> rows = Rows()
    >>> rows.dialogues.append(dialogue_row("toy", "d1", meta={}))
    >>> rows.corpus()
    Corpus(toy: 1 dialogues, 0 turns, 0 annotations)
    """

    dialogues: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)

    def corpus(self) -> Corpus:
        """The assembled :class:`Corpus` (:func:`build_corpus`; ``corpora.load`` validates)."""
        return build_corpus(self.dialogues, self.turns, self.annotations)


def dialogue_row(
    corpus: str,
    dialogue_id: str,
    *,
    split: Any = pd.NA,
    kind: str = "tutoring",
    meta: dict[str, Any],
) -> dict[str, Any]:
    """One row of the dialogues table.

    >>> dialogue_row("toy", "d1", meta={"n": 1})["kind"]
    'tutoring'
    """
    return {
        "corpus": corpus,
        "dialogue_id": dialogue_id,
        "split": split,
        "kind": kind,
        "meta": meta,
    }


def turn_row(
    corpus: str,
    dialogue_id: str,
    index: int,
    *,
    role: str,
    speaker: Any,
    text: Any,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """One row of the turns table, with the conventional ``turn_id`` ``"<dialogue_id>:<index>"``.

    >>> turn_row("toy", "d1", 0, role="teacher", speaker="T", text="Hi", meta={})["turn_id"]
    'd1:0'
    """
    return {
        "corpus": corpus,
        "dialogue_id": dialogue_id,
        "turn_id": f"{dialogue_id}:{index}",
        "index": index,
        "role": role,
        "speaker": speaker,
        "text": text,
        "meta": meta,
    }


def read_json(path: Path) -> Any:
    """Parse a JSON file (UTF-8), raising one :class:`InputError` naming the file (and line).

    Refused: text that is not UTF-8, malformed JSON, nesting too deep for Python, and a lone
    surrogate escape such as ``"\\ud800"`` (:func:`toolkit.errors.loads_json`).
    """
    return loads_json(read_utf8(path), path=path)


def source_label(
    corpus: str,
    unit_id: str,
    scheme: str,
    label: Any,
    *,
    rater: str,
    meta: dict[str, Any],
    rater_kind: str = "human",
) -> dict[str, Any]:
    """One annotation row for a label shipped with the corpus (a human rater by default; no run).

    >>> source_label("toy", "d1:0", "move", "focus", rater="teacher", meta={})["rater_kind"]
    'human'
    """
    return {
        "corpus": corpus,
        "unit_id": unit_id,
        "scheme": scheme,
        "label": label,
        "rater": rater,
        "rater_kind": rater_kind,
        "run_id": pd.NA,
        "meta": meta,
    }
