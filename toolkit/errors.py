"""User-facing errors.

Every error a researcher can cause with bad input is an :class:`EdudialError`. The CLI prints
``str(error)`` as one line and exits non-zero; Python callers can catch the class. Messages name the
file, the line (1-based, as an editor shows it) and the field when they are known.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "EdudialError",
    "InputError",
    "SchemaError",
    "csv_records",
    "decode_utf8",
    "loads_json",
    "reading_workbook",
]


class EdudialError(Exception):
    """Base class of every error edudial raises on purpose."""


class InputError(EdudialError, ValueError):
    """Bad input data: a missing file, a malformed line, an unexpected value.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    path : str or Path, optional
        The offending file.
    line : int, optional
        1-based line (or CSV record) number in ``path``.
    field : str, optional
        The column or key.

    Examples
    --------
    >>> str(InputError("not valid JSON", path="data/test.jsonl", line=3))
    'data/test.jsonl:3: not valid JSON'
    >>> str(InputError("expected 0 or 1, got 'yes'", path="a.csv", line=7, field="H1_setup"))
    "a.csv:7: field 'H1_setup': expected 0 or 1, got 'yes'"
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"field {self.field!r}: " if self.field else ""
        return f"{where}{field}{self.message}"


class SchemaError(EdudialError, ValueError):
    """A corpus that breaks the schema's rules (see :meth:`toolkit.Corpus.validate`).

    ``problems`` lists every problem found; the message shows the first few.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:5]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown)
        if more > 0:
            text += f"; ... and {more} more"
        super().__init__(f"invalid corpus: {text}")


# ------------------------------------------------------------------------------------------------
# Reading helpers shared by the loaders (corpora) and the workbook import (annotation): each turns
# one kind of malformed input into an InputError where it arises, naming the file and line.

_Where = str | os.PathLike[str] | None


def _line_at(data: bytes | str, offset: int) -> int:
    """1-based line of ``offset`` in ``data``."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, offset) + 1  # type: ignore[arg-type]


def decode_utf8(data: bytes, *, path: _Where) -> str:
    """``data`` as UTF-8 text (a leading BOM dropped); else an error naming the line of the byte.

    >>> try:
    ...     decode_utf8(b"a\\nb\\xe9", path="x.csv")
    ... except InputError as exc:
    ...     print(exc.line, exc.message)
    2 not UTF-8 text: byte 0xe9 at column 2 (save the file as UTF-8)
    """
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise InputError("the file is UTF-16 text; save it as UTF-8", path=path, line=1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            "(save the file as UTF-8)",
            path=path,
            line=line,
        ) from None


# A \uD800-\uDFFF escape: one that json.loads leaves unpaired is no character at all, and fails
# later, when the text is written (UnicodeEncodeError), far from the file that holds it.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*(\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any) -> str | None:
    """The path (``c_h[2].text``) of the first string or key holding a lone surrogate, else None.

    Walks without recursion: the value may be nested as deep as JSON allows.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, v = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return where or "(the value)"
        elif isinstance(v, dict):
            for k, item in reversed(list(v.items())):
                if _SURROGATE.search(k):
                    return f"{where}.{k!a}".lstrip(".")
                stack.append((f"{where}.{k}".lstrip("."), item))
        elif isinstance(v, list):
            stack.extend((f"{where}[{i}]", item) for i, item in reversed(list(enumerate(v))))
    return None


def loads_json(text: str, *, path: _Where, line: int | None = None) -> Any:
    """``json.loads(text)``, with every way it can fail as an :class:`InputError`.

    ``line`` is the line of ``text`` in ``path`` (a JSON Lines record); without it, lines are
    counted in ``text``. Refused: malformed JSON, nesting too deep for Python
    (``RecursionError``), and a string with an unpaired surrogate escape such as ``"\\ud800"``
    (not a character; the error names the field).

    >>> try:
    ...     loads_json('{"a": [1, "\\\\ud800"]}', path="x.json")
    ... except InputError as exc:
    ...     print(exc.line, exc.field, exc.message[:31])
    1 a[1] the string holds '\\ud800', half
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg} at column {exc.colno})",
            path=path,
            line=exc.lineno if line is None else line,
        ) from None
    except RecursionError:
        raise InputError(
            "JSON nested too deeply to read (lists or objects inside each other "
            "more than about a thousand levels)",
            path=path,
            line=line,
        ) from None
    if _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate(value)
        if where is not None:
            match = _LONE_ESCAPE.search(text)
            escape = match.group(1) if match else "\\ud800"
            if line is None and match is not None:
                line = _line_at(text, match.start(1))
            raise InputError(
                f"the string holds {escape!r}, half of a surrogate pair and no character "
                "(the text is damaged; remove or fix the escape)".replace("\\\\", "\\"),
                path=path,
                line=line,
                field=where,
            )
    return value


def _csv_error(exc: csv.Error, *, path: _Where, start: int, now: int) -> InputError:
    text = str(exc)
    if "unexpected end of data" in text:
        return InputError(
            "the file ends inside a quoted field that starts on this line (the record is cut "
            "short, or a quote is not closed)",
            path=path,
            line=start,
        )
    if "expected after" in text:
        return InputError(
            "text follows a closing quote before the next delimiter (a quote not closed, or "
            'a quote inside a field that is not doubled "")',
            path=path,
            line=now,
        )
    if "field larger than field limit" in text:
        return InputError(
            f"a field is longer than {csv.field_size_limit():,} characters (a quote not closed?)",
            path=path,
            line=start,
        )
    return InputError(f"malformed row ({text})", path=path, line=start)


def csv_records(
    text: str,
    *,
    path: _Where,
    delimiter: str = ",",
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the ``(line, fields)`` of every record of delimited ``text``, checked.

    Every record must have as many fields as the header, and the text must not end inside a
    quoted field: a deleted or added cell, or a record cut short, is an error naming its line,
    never a row whose later columns silently shift. Empty lines are skipped. ``line`` is the
    line a record starts on (header = line 1), as an editor numbers lines.

    >>> csv_records('a,b\\n1,2\\n\\n3,"x\\ny"\\n', path="t.csv")
    (['a', 'b'], [(2, ['1', '2']), (4, ['3', 'x\\ny'])])
    >>> try:
    ...     csv_records("a,b,c\\n1,2\\n", path="t.csv")
    ... except InputError as exc:
    ...     print(exc.line, exc.message[:42])
    2 this record has 2 fields, the header has 3
    """
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True
    )
    header: list[str] | None = None
    out: list[tuple[int, list[str]]] = []
    before = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(exc, path=path, start=before + 1, now=reader.line_num) from None
        start, before = before + 1, reader.line_num
        if not row:
            continue
        if header is None:
            header = row
        elif len(row) != len(header):
            raise InputError(
                f"this record has {len(row)} fields, the header has {len(header)} (a cell "
                "deleted or added, or a quote not closed?)",
                path=path,
                line=start,
            )
        else:
            out.append((start, row))
    if header is None:
        raise InputError("the file is empty (no header line)", path=path)
    return header, out


@contextmanager
def reading_workbook(path: _Where) -> Iterator[None]:
    """Turn what calamine or openpyxl raise on a damaged ``.xlsx`` into one :class:`InputError`.

    An ``.xlsx`` file is a zip of XML parts, and both readers parse parts lazily, so wrap every
    step that touches the file (opening, listing sheets, reading rows), not just the opening:
    a missing or cut part surfaces as ``BadZipFile``, ``KeyError``, ``IndexError``, an XML
    ``ParseError``, calamine's ``XmlError`` or ``ZipError``, ``zlib.error``, ``EOFError`` or
    ``NotImplementedError`` (an unknown compression method), even ``TypeError`` (openpyxl passes
    XML attributes on as keywords). So keep only the reading inside the ``with`` block.
    """
    import xml.etree.ElementTree as ElementTree
    import zipfile
    import zlib

    errors: list[type[BaseException]] = [
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ElementTree.ParseError,
        zlib.error,
        EOFError,
        NotImplementedError,  # (zipfile: a compression method it does not know)
        TypeError,  # (openpyxl: an XML attribute name damaged, passed on as a keyword)
        KeyError,
        IndexError,
        ValueError,
        OSError,
    ]
    try:
        from python_calamine import CalamineError

        errors.append(CalamineError)
    except ImportError:  # (calamine is optional for the annotation side)
        pass
    try:
        from openpyxl.utils.exceptions import InvalidFileException

        errors.append(InvalidFileException)
    except ImportError:
        pass
    try:
        yield
    except InputError:
        raise
    except tuple(errors) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        what = type(exc).__name__ + (f": {detail}" if detail else "")
        raise InputError(
            f"cannot read the workbook: the file is damaged or not an .xlsx file ({what})",
            path=path,
        ) from None
