"""Which column is which: options from flags or a YAML file, recognised names, the mapping used.

A :class:`Options` holds what the user asked for (flags override the ``map`` YAML file, which has
the same keys). :func:`resolve` turns it into a :class:`Mapping` for one file's header: a field
not given is looked up among common column names (:data:`SYNONYMS`); two plausible columns for
one field, or a named column that does not exist, is an error naming the columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.errors import InputError

__all__ = [
    "FIELDS",
    "OPTION_NAMES",
    "SYNONYMS",
    "CodeSpec",
    "Mapping",
    "Options",
    "parse_code",
    "parse_options",
    "resolve",
]

#: The fields a column can be mapped to, in the order they are printed.
FIELDS = ("dialogue", "order", "speaker", "role", "text", "start")
#: Column names (compared lower case, without spaces, ``_``, ``-``, ``.``) recognised per field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "text": ("text", "utterance", "sentence", "transcript"),
    "speaker": ("speaker", "speakername"),
    "dialogue": (
        "session",
        "lesson",
        "conversationid",
        "transcriptid",
        "dialogueid",
        "sessionid",
        "lessonid",
    ),
    "start": ("start", "timestamp", "starttime"),
    "role": ("role", "speakerrole"),
    "order": (),
}
#: Names recognised only when no name of :data:`SYNONYMS` is there (a ``Time`` column next to a
#: ``Start`` column stays in meta).
WEAK_SYNONYMS: dict[str, tuple[str, ...]] = {"start": ("time", "begin", "begintime")}


def _key(name: object) -> str:
    return re.sub(r"[\s._\-]+", "", str(name)).lower()


@dataclass(frozen=True)
class CodeSpec:
    """A column of human codes: ``--code COL=SCHEME[@RATER]``.

    Attributes
    ----------
    column, scheme, rater : str
        The column, the annotation scheme and the rater (default: the column name).
    """

    column: str
    scheme: str
    rater: str


#: The keys of a code entry in a mapping file (``labels``: the scheme's declared labels).
_CODE_KEYS = {"column", "scheme", "rater", "labels"}


def parse_code(spec: str | MappingABC[str, Any]) -> CodeSpec:
    """Parse ``COL=SCHEME[@RATER]`` (or a YAML mapping with ``column``, ``scheme``, ``rater``;
    its ``labels`` are read by :func:`parse_options`).

    >>> parse_code("Teacher Tag=talkmoves/teacher@coder_a")
    CodeSpec(column='Teacher Tag', scheme='talkmoves/teacher', rater='coder_a')
    >>> parse_code("move=moves").rater
    'move'
    """
    if isinstance(spec, MappingABC):
        unknown = sorted(set(map(str, spec)) - _CODE_KEYS)
        if unknown:
            raise InputError(
                f"code entry {dict(spec)!r}: unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_CODE_KEYS))}"
            )
        column, scheme = spec.get("column"), spec.get("scheme")
        if not column or not scheme:
            raise InputError(f"code entry {dict(spec)!r} needs 'column' and 'scheme'")
        return CodeSpec(str(column), str(scheme), str(spec.get("rater") or column))
    column, sep, rest = str(spec).rpartition("=")
    scheme, at, rater = rest.partition("@")
    if not sep or not column.strip() or not scheme.strip() or (at and not rater.strip()):
        raise InputError(f"--code {spec!r} is not COLUMN=SCHEME or COLUMN=SCHEME@RATER")
    column = column.strip()
    return CodeSpec(column, scheme.strip(), rater.strip() or column)


@dataclass(frozen=True)
class Options:
    """What the user asked for (``None``: not given; recognised from the header when possible).

    Attributes
    ----------
    text, speaker, dialogue, order, role, start : str, optional
        Column names.
    teacher, student : tuple of str
        Speakers (or role-column values) that are teachers / students.
    role_values : dict
        Role-column value -> role (``teacher``, ``student``, ``other``).
    codes : tuple of CodeSpec
        Columns of human codes.
    labels : dict
        Scheme -> its declared labels; a code outside them is an error.
    code_sep : str
        Separates several codes in one cell (``"a; b"``); the option ``delimiter`` is its old,
        deprecated name.
    format, sheet, encoding : str, optional
        Input format (else from the extension), XLSX sheet (else the first), text encoding.
    sep : str, optional
        The CSV field separator (else sniffed among ``,`` ``;`` tab ``|``; TSV: tab).
    header_row : int, optional
        The 1-based line / sheet row of the header (else the first row that looks like one).
    roster : str, optional
        A roster file (CSV with ``name`` and ``role`` columns, as for ``edudial deid``): its
        roles name speakers' roles.
    corpus, kind : str
        The corpus name and the dialogues' kind.
    """

    text: str | None = None
    speaker: str | None = None
    dialogue: str | None = None
    order: str | None = None
    role: str | None = None
    start: str | None = None
    teacher: tuple[str, ...] = ()
    student: tuple[str, ...] = ()
    role_values: MappingABC[str, str] = field(default_factory=dict)
    codes: tuple[CodeSpec, ...] = ()
    labels: MappingABC[str, tuple[str, ...]] = field(default_factory=dict)
    code_sep: str = ";"
    format: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    sep: str | None = None
    header_row: int | None = None
    roster: str | None = None
    corpus: str = "transcripts"
    kind: str | None = None


#: Every option key (``code`` and ``codes`` are the same; ``map`` names a YAML file;
#: ``delimiter`` is the deprecated name of ``code_sep``).
OPTION_NAMES: tuple[str, ...] = (*Options.__dataclass_fields__, "code", "map", "delimiter")
_KNOWN = set(OPTION_NAMES)


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v).strip() for v in value if str(v).strip())


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the mapping file ({exc.strerror})", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML ({exc})".splitlines()[0], path=path, line=line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("a mapping file is a YAML mapping of field: column", path=path)
    return data


def _labels(value: Any) -> dict[str, tuple[str, ...]]:
    """``{"moves": ["a", "b"]}`` or ``["moves=a,b", ...]`` -> ``{"moves": ("a", "b")}``."""
    if value is None:
        return {}
    if isinstance(value, MappingABC):
        return {str(k): _names(v) for k, v in value.items()}
    out = {}
    for item in [value] if isinstance(value, str) else value:
        scheme, sep, labels = str(item).partition("=")
        if not sep or not scheme.strip():
            raise InputError(f"--labels {item!r} is not SCHEME=LABEL,LABEL,...")
        out[scheme.strip()] = _names(labels)
    return out


def _role_values(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    pairs = (
        value.items()
        if isinstance(value, MappingABC)
        else (str(v).partition("=")[::2] for v in ([value] if isinstance(value, str) else value))
    )
    out = {}
    for raw, role in pairs:
        if str(role) not in ("teacher", "student", "other"):
            raise InputError(
                f"role value {raw!r} maps to {role!r}; expected teacher, student or other"
            )
        out[str(raw).strip()] = str(role)
    return out


def parse_options(options: MappingABC[str, Any]) -> Options:
    """Build :class:`Options` from keyword options (a ``map`` YAML file first, then the rest).

    >>> parse_options({"text": "Sentence", "code": ["Tag=moves"]}).codes[0].scheme
    'moves'
    """
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise InputError(
            f"unknown transcripts option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_KNOWN))}"
        )
    merged: dict[str, Any] = {}
    if options.get("map") is not None:
        merged.update(_read_yaml(Path(options["map"])))
        bad = sorted(set(merged) - _KNOWN)
        if bad:
            raise InputError(
                f"unknown key(s) {', '.join(bad)} in the mapping file", path=options["map"]
            )
    merged.update({k: v for k, v in options.items() if k != "map" and v not in (None, (), [])})
    codes = list(_as_list(merged.get("codes"))) + list(_as_list(merged.get("code")))
    return Options(
        **{f: _opt_str(merged.get(f)) for f in (*FIELDS, "format", "sheet", "encoding", "roster")},
        sep=_opt_sep(merged.get("sep")),
        header_row=_opt_int(merged.get("header_row"), "header_row"),
        teacher=_names(merged.get("teacher")),
        student=_names(merged.get("student")),
        role_values=_role_values(merged.get("role_values")),
        codes=tuple(parse_code(c) for c in codes),
        labels=_code_labels(codes, _labels(merged.get("labels"))),
        code_sep=str(merged.get("code_sep", merged.get("delimiter", ";"))),
        corpus=str(merged.get("corpus", "transcripts")),
        kind=_opt_str(merged.get("kind")),
    )


def _code_labels(
    codes: Sequence[Any], labels: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """``labels`` with those declared inside code entries (``{column, scheme, labels}``)."""
    out = dict(labels)
    for entry in codes:
        if not isinstance(entry, MappingABC) or entry.get("labels") is None:
            continue
        scheme, declared = str(entry.get("scheme")), _names(entry["labels"])
        if out.get(scheme, declared) != declared:
            raise InputError(
                f"scheme {scheme!r} is declared with two label sets: "
                f"{', '.join(out[scheme])} and {', '.join(declared)}",
                field="labels",
            )
        out[scheme] = declared
    return out


def _as_list(value: Any) -> Iterable[Any]:
    if value is None:
        return ()
    return [value] if isinstance(value, (str, MappingABC)) else value


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_sep(value: Any) -> str | None:
    """The field separator (``tab`` and ``\\t`` spelled out are a tab)."""
    text = _opt_str(value)
    return {"tab": "\t", "\\t": "\t"}.get(text, text) if text is not None else None


def _opt_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} {value!r} is not a whole number") from None


@dataclass(frozen=True)
class Mapping:
    """The columns used for one file.

    Attributes
    ----------
    columns : dict
        Field -> column (``None``: not present).
    recognised : tuple of str
        Fields whose column was recognised by name rather than given.
    codes : tuple of CodeSpec
        The code columns.
    meta : tuple of str
        Every other column (kept in turn meta).
    """

    columns: MappingABC[str, str | None]
    recognised: tuple[str, ...]
    codes: tuple[CodeSpec, ...]
    meta: tuple[str, ...]

    def describe(self) -> list[str]:
        """One line per field, code column and the meta columns, for people."""
        lines = []
        for f in FIELDS:
            col = self.columns.get(f)
            how = " (recognised)" if f in self.recognised else ""
            lines.append(f"  {f:<9} <- {col!r}{how}" if col else f"  {f:<9} <- (none)")
        lines.extend(f"  code      <- {c.column!r} as {c.scheme} by {c.rater}" for c in self.codes)
        if self.meta:
            lines.append(f"  meta      <- {', '.join(map(repr, self.meta))}")
        return lines


def resolve(header: Sequence[str], options: Options, *, path: Path, fixed: bool = False) -> Mapping:
    """The :class:`Mapping` of a file with columns ``header``.

    ``fixed`` is for captions and text, whose columns are always ``speaker, text, start, end``.
    """
    columns: dict[str, str | None] = {}
    recognised = []
    for f in FIELDS:
        given = getattr(options, f)
        if fixed:
            columns[f] = f if f in header else None
        elif given is not None:
            columns[f] = _given(given, header, f, path)
        else:
            columns[f] = _recognise(header, f, path)
            if columns[f] is not None:
                recognised.append(f)
    if columns["text"] is None:
        raise InputError(
            f"no text column; pass --text COLUMN (the columns are {_list(header)})", path=path
        )
    # the header's own spelling ('coder_a' given, 'Coder A' in the file) is what later reads it
    codes = tuple(replace(s, column=_given(s.column, header, "code", path)) for s in options.codes)
    _check_codes(codes, columns)
    used = {c for c in columns.values() if c} | {s.column for s in codes}
    meta = tuple(c for c in header if c not in used)
    return Mapping(columns, tuple(recognised), codes, meta)


def _list(header: Sequence[str]) -> str:
    return ", ".join(repr(h) for h in header)


def _given(name: str, header: Sequence[str], what: str, path: Path) -> str:
    if name in header:
        return name
    close = [h for h in header if _key(h) == _key(name)]
    if len(close) == 1:
        return close[0]
    raise InputError(f"no column {name!r} (for {what}); the columns are {_list(header)}", path=path)


def _recognise(header: Sequence[str], f: str, path: Path) -> str | None:
    found = [h for h in header if _key(h) in SYNONYMS[f]]
    if not found:
        found = [h for h in header if _key(h) in WEAK_SYNONYMS.get(f, ())]
    if len(found) > 1:
        raise InputError(
            f"two plausible {f} columns, {found[0]!r} and {found[1]!r}; choose one with --{f}",
            path=path,
        )
    return found[0] if found else None


def _check_codes(codes: Sequence[CodeSpec], columns: MappingABC[str, str | None]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for spec in codes:
        taken = [f for f, c in columns.items() if c == spec.column]
        if taken:
            raise InputError(
                f"column {spec.column!r} is both the {taken[0]} column and a code column"
            )
        key = (spec.scheme, spec.rater)
        if key in seen:
            raise InputError(
                f"columns {seen[key]!r} and {spec.column!r} are both scheme {spec.scheme!r} by "
                f"rater {spec.rater!r}; name the raters (--code COL=SCHEME@RATER)"
            )
        seen[key] = spec.column
