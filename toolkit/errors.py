"""User-facing errors.

Every error a researcher can cause with bad input is an :class:`EdudialError`. The CLI prints
``str(error)`` as one line and exits non-zero; Python callers can catch the class. Messages name the
file, the line (1-based, as an editor shows it) and the field when they are known.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["EdudialError", "InputError", "SchemaError"]


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
