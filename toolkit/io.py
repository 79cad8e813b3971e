"""Reading and writing corpora: Parquet, JSONL, pandas and Hugging Face ``datasets``.

A saved corpus is a directory with ``dialogues``, ``turns`` and ``annotations`` tables (``.parquet``
or ``.jsonl``) and a ``corpus.json`` manifest (format version, counts). In Parquet every column is a
plain column (``meta`` is JSON object text, as in memory), so DuckDB, Polars, Spark or
``pyarrow.dataset`` read the files directly; in JSONL ``meta`` is a nested object. Writing goes to a
temporary directory that is renamed into place at the end, so a failed write leaves no partial
output. Replacing a corpus (``overwrite``) swaps the folders so the path always holds the old or
the new complete corpus, even if the process is killed midway: the old one is renamed aside
(``.NAME.old-*``), the new one renamed in, then the old one deleted; the next read or save of the
path finishes an interrupted swap, and a save removes the temporaries (``.NAME.tmp-*``) that
killed saves of the same path left. Reading checks what it read (column types, the counts
``corpus.json`` records, the schema's rules) and refuses a damaged corpus, naming each file and
its problems.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit.errors import EdudialError, InputError, loads_json
from toolkit.jsonvalue import plain
from toolkit.meta import MetaArray, MetaDtype
from toolkit.schema import TABLES, Corpus, meta_values, normalise_table

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

__all__ = [
    "FILTERS",
    "FORMATS",
    "iter_jsonl",
    "iter_jsonl_numbered",
    "read_annotations",
    "read_corpus",
    "save_corpus",
    "to_hf",
]

FORMATS = ("parquet", "jsonl")
FORMAT_VERSION = 1
MANIFEST = "corpus.json"
#: The keywords of ``read_corpus(filters=...)``, as in :meth:`Corpus.filter`, and their table.
FILTERS: dict[str, str] = {
    "corpus": "dialogues",
    "split": "dialogues",
    "dialogue_id": "dialogues",
    "role": "turns",
    "scheme": "annotations",
}
#: Columns ``read_corpus(columns=...)`` always reads: the ids and the fields validation needs.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "dialogues": ("corpus", "dialogue_id"),
    "turns": ("corpus", "dialogue_id", "turn_id", "index", "role"),
    "annotations": ("corpus", "unit_id", "scheme", "rater", "rater_kind", "run_id"),
}
# Row groups small enough that a filter on ids sorted together skips most of a large file.
ROW_GROUP_SIZE = 128 * 1024


def save_corpus(
    corpus: Corpus,
    directory: str | os.PathLike[str],
    format: str = "parquet",
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``corpus`` to ``directory`` atomically and return the path.

    Parameters
    ----------
    corpus : Corpus
    directory : path
        Created; it may exist only as an empty folder (e.g. from ``tempfile.mkdtemp()``), unless
        ``overwrite`` (then whatever is there is replaced).
    format : {"parquet", "jsonl"}
    overwrite : bool

    Raises
    ------
    InputError
        If ``directory`` exists and is not an empty folder (without ``overwrite``), or a value
        cannot be written; nothing is left behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit import Corpus, read_corpus
    >>> out = pathlib.Path(tempfile.mkdtemp())  # an existing empty folder is fine
    >>> _ = save_corpus(Corpus(), out, format="jsonl")
    >>> read_corpus(out)
    Corpus(empty: 0 dialogues, 0 turns, 0 annotations)
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    target = Path(directory)
    tidy_save_path(target)
    if _occupied(target) and not overwrite:
        raise InputError("output already exists; pass overwrite=True (CLI: --force)", path=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _save_temp(target)
    try:
        for table in TABLES:
            frame = getattr(corpus, table)
            if format == "parquet":
                _write_parquet(frame, table, tmp / f"{table}.parquet")
            else:
                _write_jsonl(frame, table, tmp / f"{table}.jsonl")
        manifest = {
            "format": format,
            "format_version": FORMAT_VERSION,
            "corpora": corpus.names,
            "counts": {t: len(getattr(corpus, t)) for t in TABLES},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _occupied(target: Path) -> bool:
    """Whether writing to ``target`` would replace something (an empty folder replaces nothing)."""
    if target.is_dir() and not target.is_symlink():
        return any(target.iterdir())
    return target.exists() or target.is_symlink()


# The hidden siblings of a corpus folder NAME that a save makes, and nothing else is named so:
#   .NAME.tmp-<host>-<pid>-<token>  the new corpus being written by process <pid> on <host>
#   .NAME.old-<token>               the old corpus, renamed aside while the new one moves in
#   .NAME.del-<token>               the old corpus being deleted once the new one is in place
#   .NAME.<token>                   a temporary of edudial before 0.x (no writer recorded)
# <host> is 8 hex digits of a hash of the host name, <token> 12 hex digits.
_TOKEN = "[0-9a-f]{12}"
_SIBLING = re.compile(
    rf"tmp-(?P<host>[0-9a-f]{{8}})-(?P<pid>[0-9]+)-{_TOKEN}|(?P<kind>old|del)-{_TOKEN}"
    rf"|(?P<legacy>{_TOKEN})"
)
#: A temporary whose writer cannot be checked (another host, or an older edudial) is stale after
#: this many seconds without a change.
STALE_AFTER = 300.0
#: A temporary whose writer still runs is left alone, unless it is this old (the pid was reused).
STALE_ALIVE_AFTER = 24 * 3600.0
_CORPUS_FILES = {MANIFEST} | {f"{t}.{ext}" for t in TABLES for ext in FORMATS}


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _siblings(target: Path) -> list[tuple[Path, re.Match[str]]]:
    """The save's hidden siblings of ``target`` (see the table above), by the exact pattern."""
    if not target.name:
        return []
    prefix = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith(prefix):
            m = _SIBLING.fullmatch(entry.name[len(prefix) :])
            if m is not None:
                found.append((target.parent / entry.name, m))
    return found


def _save_temp(target: Path) -> Path:
    """A new folder ``.NAME.tmp-<host>-<pid>-<token>`` beside ``target`` (mode 0777 less umask).

    The writer is in the name, so a later save knows whether the process that made it is gone.
    """
    stem = f".{target.name}.tmp-{_host_tag()}-{os.getpid()}-"
    for _ in range(100):
        name = target.parent / f"{stem}{secrets.token_hex(6)}"
        try:
            name.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return name
    raise FileExistsError(f"no free temporary name in {target.parent}")  # pragma: no cover


def _aside_name(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{secrets.token_hex(6)}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def _age(path: Path) -> float:
    """Seconds since ``path`` or anything directly in it last changed."""
    try:
        latest = path.lstat().st_mtime
        if path.is_dir() and not path.is_symlink():
            for entry in os.scandir(path):
                latest = max(latest, entry.stat(follow_symlinks=False).st_mtime)
    except OSError:
        return 0.0
    return time.time() - latest


def _stale(path: Path, m: re.Match[str]) -> bool:
    """Whether a temporary ``path`` was left by a save that will never finish."""
    if not path.is_dir() or path.is_symlink():
        return False
    age = _age(path)
    if m.group("legacy"):  # an older edudial's: only if it holds nothing but corpus files
        try:
            names = {p.name for p in path.iterdir()}
        except OSError:
            return False
        return names <= _CORPUS_FILES and age > STALE_AFTER
    if m.group("host") == _host_tag():
        return not _alive(int(m.group("pid"))) or age > STALE_ALIVE_AFTER
    return age > STALE_AFTER


def _discard(path: Path, target: Path) -> None:
    """Delete ``path``, a corpus folder (or file or link) set aside from ``target``."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    # Renamed first, so a folder still called .NAME.old-* is always complete: a kill during the
    # deletion leaves a .NAME.del-* that the next save removes, never half an "old" corpus.
    doomed = _aside_name(target, "del")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:  # another process finished the job
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _recover(target: Path, siblings: list[tuple[Path, re.Match[str]]]) -> None:
    """Finish a swap a kill interrupted: bring the old corpus back, or delete it if the new one
    is in place."""
    asides = [p for p, m in siblings if m.group("kind") == "old"]
    if not asides:
        return
    if not (target.exists() or target.is_symlink()):
        # Only ever one, unless saves of the same path ran at once: the newest was set aside last.
        asides.sort(key=lambda p: p.lstat().st_mtime_ns, reverse=True)
        try:
            os.rename(asides.pop(0), target)
        except FileNotFoundError:  # another process moved it first
            return
    for p in asides:
        _discard(p, target)


def tidy_save_path(target: str | os.PathLike[str], *, temporaries: bool = True) -> None:
    """Undo what a killed save of ``target`` left: finish an interrupted swap (so ``target``
    holds a complete corpus again) and, with ``temporaries``, delete the stale temporaries of
    saves of ``target`` (whose writer process is gone, or unchanged for :data:`STALE_AFTER`
    seconds where the writer cannot be checked) and the leftovers of deletions.

    Only folders named by the exact pattern a save uses are touched. Called by
    :func:`save_corpus` (everything) and :func:`read_corpus` (the swap only); failures (a
    read-only place) are ignored.
    """
    path = Path(target)
    try:
        siblings = _siblings(path)
        _recover(path, siblings)
        if temporaries:
            for p, m in siblings:
                if m.group("kind") == "del" or (m.group("kind") is None and _stale(p, m)):
                    shutil.rmtree(p, ignore_errors=True)
    except OSError:
        pass


def _move_into_place(tmp: Path, target: Path) -> None:
    """Put the finished corpus ``tmp`` at ``target`` so ``target`` always holds a whole corpus.

    An existing ``target`` is renamed aside, ``tmp`` renamed in, then the old one deleted; a kill
    between the steps leaves the old or the new corpus at ``target`` or the old one aside, which
    :func:`tidy_save_path` moves back. An empty folder (nothing to lose) is just removed.
    """
    aside = None
    if _occupied(target):
        aside = _aside_name(target, "old")
        os.rename(target, aside)
    elif target.is_dir():
        target.rmdir()
    try:
        os.rename(tmp, target)
    except BaseException:
        if aside is not None and not (target.exists() or target.is_symlink()):
            os.rename(aside, target)
        raise
    if aside is not None:
        _discard(aside, target)


def _write_parquet(frame: pd.DataFrame, table: str, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_to_arrow(frame, table), path, row_group_size=ROW_GROUP_SIZE)


def _to_arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    """The table as Arrow: schema columns as typed (already Arrow-backed: no copy), extras kept."""
    import pyarrow as pa

    frame = normalise_table(frame, table)  # a no-op unless a column was changed after building
    schema = pa.schema(
        [pa.field(c, pa.int64() if c == "index" else pa.large_string()) for c in TABLES[table]]
    )
    try:
        arrow = pa.Table.from_pandas(frame, preserve_index=False).cast(
            _with_extras(schema, frame, table), safe=True
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        columns = {
            c: _extra_array(frame[c], table) for c in frame.columns if c not in TABLES[table]
        }
        arrow = pa.Table.from_pandas(
            frame.loc[:, list(TABLES[table])], schema=schema, preserve_index=False
        )
        for name, array in columns.items():
            arrow = arrow.append_column(name, array)
    return _plain_pandas_metadata(arrow)


def _plain_pandas_metadata(arrow: pa.Table) -> pa.Table:
    """``arrow`` with its pandas metadata naming ``meta`` a plain text (object) column.

    pandas records each column's dtype in the file; left as ``edudial.meta``, pandas, pyarrow's
    ``to_pandas`` and ``datasets`` fail in any process that has not imported edudial (the dtype
    is unknown there). The column itself is JSON text either way; :func:`_read_parquet` wraps
    it in a :class:`~toolkit.meta.MetaArray` again.
    """
    metadata = dict(arrow.schema.metadata or {})
    if b"pandas" not in metadata:
        return arrow
    info = json.loads(metadata[b"pandas"])
    for column in info.get("columns", []):
        if column.get("numpy_type") == MetaDtype.name:
            # what pyarrow writes for an object column of str
            column.update(pandas_type="unicode", numpy_type="object")
    metadata[b"pandas"] = json.dumps(info).encode("utf-8")
    return arrow.replace_schema_metadata(metadata)


def _with_extras(schema: pa.Schema, frame: pd.DataFrame, table: str) -> pa.Schema:
    import pyarrow as pa

    inferred = pa.Schema.from_pandas(frame, preserve_index=False)
    extras = [inferred.field(c) for c in frame.columns if c not in TABLES[table]]
    return pa.schema([*schema, *extras], metadata=inferred.metadata)


def _extra_array(column: pd.Series, table: str) -> pa.Array:
    """An extra column whose values Arrow cannot type alone: plain JSON values, else an error."""
    import pyarrow as pa

    try:
        return pa.array([plain(v) for v in column.tolist()])
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise InputError(
            f"column holds values Parquet cannot store in one column ({exc})",
            field=f"{table}.{column.name}",
        ) from None


def _write_jsonl(frame: pd.DataFrame, table: str, path: Path) -> None:
    frame = normalise_table(frame, table)
    columns = [c for c in frame.columns if c != "meta"]
    metas = meta_values(frame["meta"])
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for i, values in enumerate(frame.loc[:, columns].itertuples(index=False, name=None)):
            record = {c: plain(v) for c, v in zip(columns, values, strict=True)}
            record["meta"] = metas[i]
            try:
                line = json.dumps(record, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise InputError(f"row {i} is not plain JSON ({exc})", field=table) from None
            fh.write(line + "\n")


def _read_manifest(directory: Path) -> dict[str, Any] | None:
    """``corpus.json`` as a dict (``None`` if there is none), its ``format`` and ``counts`` checked.

    Raises :class:`InputError` naming the file for anything but a JSON object of the shape
    :func:`save_corpus` writes: text that is not UTF-8 or not JSON, JSON nested too deeply to
    parse, a list, an unknown ``format``, ``counts`` that are not row counts.
    """
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return None
    try:
        text = manifest.read_bytes().decode("utf-8")
        value = json.loads(text)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=manifest) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=manifest) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=manifest, line=exc.lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read", path=manifest) from None
    if not isinstance(value, dict):
        raise InputError(
            f"expected a JSON object (as save_corpus writes), found {_json_kind(value)}",
            path=manifest,
        )
    if "format" in value and value["format"] not in FORMATS:
        raise InputError(
            f"unknown format {value['format']!r}; expected one of {', '.join(FORMATS)}",
            path=manifest,
            field="format",
        )
    counts = value.get("counts")
    if counts is not None and not (
        isinstance(counts, dict) and all(_is_count(counts.get(t)) for t in TABLES)
    ):
        raise InputError(
            f"expected a row count per table ({', '.join(TABLES)}), found {counts!r:.80}",
            path=manifest,
            field="counts",
        )
    return value


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_kind(value: Any) -> str:
    """A JSON value's kind in words, for messages (``a list``, ``text`` ...)."""
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


def _detect_format(directory: Path, manifest: Mapping[str, Any] | None) -> str:
    if manifest is not None and manifest.get("format") in FORMATS:
        return str(manifest["format"])
    for fmt in FORMATS:
        if (directory / f"turns.{fmt}").is_file():
            return fmt
    raise InputError(
        "not a saved edudial corpus (expected corpus.json and turns.parquet or turns.jsonl); "
        "create one with `edudial load`",
        path=directory,
    )


def read_corpus(
    directory: str | os.PathLike[str],
    *,
    columns: Mapping[str, Sequence[str]] | None = None,
    filters: Mapping[str, str | Sequence[str]] | None = None,
    validate: bool = True,
) -> Corpus:
    """Read a corpus written by :func:`save_corpus`, or only the part asked for, and check it.

    Parameters
    ----------
    directory : path
    columns : dict, optional
        Per table, the columns to read, e.g. ``{"turns": ["text"]}``; the ids and the fields
        validation needs (:data:`KEY_COLUMNS`) are always read. A schema column left out is
        missing (``NA``; ``meta`` is ``{}``) in the result, an extra column is dropped.
    filters : dict, optional
        ``corpus``, ``split``, ``dialogue_id``, ``role`` and/or ``scheme``, each a value or a
        list, meaning what they mean in :meth:`Corpus.filter`; the result equals
        ``read_corpus(directory).filter(**filters)``. In Parquet they are pushed down to the
        reader, so only matching row groups and rows are decoded.
    validate : bool
        Check what was read (the default): the schema's rules (:meth:`Corpus.validate`: unique
        ids, annotations of existing units, known roles and rater kinds), and for a whole read
        the row counts ``corpus.json`` records. ``False`` skips the checks (the column types are
        always checked), for a corpus known to be sound.

    Raises
    ------
    InputError
        If the directory is missing, is not a saved corpus, a file is malformed, a column has
        the wrong type, the corpus fails the checks (naming each file and its problems), or a
        filter or column is unknown (the message names the file, line and field).

    Examples
    --------
    >>> import tempfile
    >>> from toolkit.demo import bundled_sample
    >>> out = bundled_sample().save(tempfile.mkdtemp())
    >>> part = read_corpus(out, columns={"turns": ["text"]}, filters={"role": "teacher"})
    >>> sorted(set(part.turns["role"])), bool(part.turns["speaker"].isna().all())
    (['teacher'], True)
    """
    path = Path(directory)
    tidy_save_path(path, temporaries=False)  # a kill mid-swap may have left the corpus aside
    if not path.is_dir():
        raise InputError("no such corpus directory", path=path)
    wanted = _check_filters(filters or {})
    manifest = _read_manifest(path)
    fmt = _detect_format(path, manifest)
    if fmt == "parquet":
        corpus = _read_parquet_corpus(path, wanted, columns or {})
    else:
        tables = {t: _read_table(path / f"{t}.jsonl", t, fmt) for t in TABLES}
        corpus = _corpus_of(tables, path, fmt)
        corpus = _select_columns(corpus, columns or {}, path)
    corpus = corpus.filter(**wanted) if wanted else corpus
    if validate:
        # counts hold for a whole read only (filters keep fewer rows; columns keep them all)
        counts = {} if wanted or manifest is None else manifest.get("counts") or {}
        _check_read(corpus, path, fmt, counts)
    return corpus


def _corpus_of(tables: Mapping[str, pd.DataFrame], path: Path, fmt: str) -> Corpus:
    """The tables as a Corpus; a table that cannot be typed is an error naming its file."""
    typed = {}
    for table in TABLES:
        try:
            typed[table] = normalise_table(tables[table], table)
        except EdudialError as exc:
            raise InputError(str(exc), path=path / f"{table}.{fmt}") from None
    return Corpus(typed["dialogues"], typed["turns"], typed["annotations"])  # typed: no copies


#: Problems shown per file in the error of a corpus that fails the checks on read.
SHOWN_PROBLEMS = 3


def _check_read(corpus: Corpus, path: Path, fmt: str, counts: Mapping[str, int]) -> None:
    """Refuse a corpus whose files break the schema or disagree with ``corpus.json``'s counts.

    One :class:`InputError`, on one line, naming each offending file with its first problems
    (miscounted files first: a cut or emptied file explains the rest) and how many more there
    are. ``counts``: the rows per table ``corpus.json`` records (empty: not checked).
    """
    found: dict[str, list[str]] = {t: [] for t in TABLES}
    miscounted = [t for t in TABLES if t in counts and len(getattr(corpus, t)) != counts[t]]
    for table in miscounted:
        n = len(getattr(corpus, table))
        found[table].append(f"{n} rows, but {MANIFEST} records {counts[table]}")
    for table, message in corpus.problems():
        found[table].append(message)
    parts = []
    for table in [*miscounted, *(t for t in TABLES if t not in miscounted)]:
        problems = found[table]
        more = len(problems) - SHOWN_PROBLEMS
        shown = "; ".join(problems[:SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        if problems:
            parts.append((path / f"{table}.{fmt}", shown))
    if parts:  # the error's path is the first file; the others are named in the message
        rest = "".join(f"; {file}: {shown}" for file, shown in parts[1:])
        raise InputError(parts[0][1] + rest, path=parts[0][0])


def _check_filters(filters: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    unknown = [k for k in filters if k not in FILTERS]
    if unknown:
        raise InputError(
            f"unknown filter(s) {', '.join(map(repr, unknown))}; use {', '.join(FILTERS)}"
        )
    return {k: [v] if isinstance(v, str) else [str(x) for x in v] for k, v in filters.items()}


def _read_parquet_corpus(
    path: Path, wanted: Mapping[str, list[str]], columns: Mapping[str, Sequence[str]]
) -> Corpus:
    """Read with the filters pushed down: dialogues first, then their turns, then annotations."""
    on = {t: [(k, "in", v) for k, v in wanted.items() if FILTERS[k] == t] for t in TABLES}
    if "corpus" in wanted:
        on["turns"].append(("corpus", "in", wanted["corpus"]))
        on["annotations"].append(("corpus", "in", wanted["corpus"]))
    dialogues = _read_parquet(path / "dialogues.parquet", "dialogues", columns, on["dialogues"])
    if on["dialogues"]:  # only the chosen dialogues' turns
        on["turns"].append(("dialogue_id", "in", dialogues["dialogue_id"].unique().tolist()))
    turns = _read_parquet(path / "turns.parquet", "turns", columns, on["turns"])
    if on["dialogues"] or on["turns"]:  # only annotations of what is left
        units = pd.concat([turns["turn_id"], dialogues["dialogue_id"]]).unique().tolist()
        on["annotations"].append(("unit_id", "in", units))
    annotations = _read_parquet(
        path / "annotations.parquet", "annotations", columns, on["annotations"]
    )
    tables = {"dialogues": dialogues, "turns": turns, "annotations": annotations}
    return _corpus_of(tables, path, "parquet")


def _read_parquet(
    path: Path,
    table: str,
    columns: Mapping[str, Sequence[str]],
    filters: list[tuple[str, str, list[str]]],
    *,
    complete: bool = True,
) -> pd.DataFrame:
    """One table of a saved corpus (``complete``: every schema column must be in the file)."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputError("file missing from saved corpus", path=path)
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise InputError(f"cannot read Parquet ({exc})", path=path) from None
    _check_parquet_columns(schema, table, path, complete=complete)
    chosen = _chosen_columns(schema.names, table, columns.get(table), path)
    try:
        data = pq.read_table(path, columns=chosen, filters=_expression(schema, filters))
    except Exception as exc:  # pyarrow raises several unrelated types
        raise InputError(f"cannot read Parquet ({exc})", path=path) from None
    if "meta" not in data.column_names:
        return _fill_unread(data.to_pandas(), table, path)
    _check_meta_text(data.column("meta"), path)
    # meta goes straight into the fast column, sharing the Arrow data: the file's pandas
    # metadata calls it plain text (see _plain_pandas_metadata), so converting it with the rest
    # would make a str column first, to be converted again.
    at = data.column_names.index("meta")
    frame = data.remove_column(at).to_pandas()
    frame.insert(at, "meta", pd.Series(MetaArray(data.column("meta")), index=frame.index))
    return _fill_unread(frame, table, path)


def _check_parquet_columns(schema: pa.Schema, table: str, path: Path, *, complete: bool) -> None:
    """The schema columns are all there (if ``complete``) and typed: text, ``index`` integers.

    Checked on the file's schema, before reading: free at any size. Without it a column of lists
    or numbers would be turned into text by the typing of the table and pass unnoticed.
    """
    import pyarrow as pa

    missing = [c for c in TABLES[table] if c not in schema.names]
    if missing and complete:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; not a {table} table "
            f"(its columns: {', '.join(schema.names)})",
            path=path,
        )
    for name in TABLES[table]:
        if name not in schema.names:
            continue
        typ = schema.field(name).type
        if name == "index":
            ok = pa.types.is_integer(typ)
        else:
            ok = pa.types.is_null(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ)
            # string_view (what some engines write) is known to pyarrow >= 16 only
            ok = ok or getattr(pa.types, "is_string_view", lambda _: False)(typ)
        if not ok:
            want = "integers" if name == "index" else "text"
            raise InputError(f"expected {want}, found {typ}", path=path, field=name)


def _expression(schema: pa.Schema, filters: list[tuple[str, str, list[str]]]) -> Any:
    """``col in values`` for every filter, and-ed, typed as the file's columns (or ``None``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    expr = None
    for col, _, values in filters:
        typ = schema.field(col).type if col in schema.names else pa.large_string()
        term = pc.field(col).isin(pa.array(values, type=typ))
        expr = term if expr is None else expr & term
    return expr


def _chosen_columns(
    names: list[str], table: str, wanted: Sequence[str] | None, path: Path
) -> list[str] | None:
    if wanted is None:
        return None
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise InputError(
            f"no column(s) {', '.join(map(repr, unknown))}; columns: {', '.join(names)}",
            path=path,
        )
    keep = set(KEY_COLUMNS[table]) | set(wanted)
    return [c for c in names if c in keep]


def _check_meta_text(meta: Any, path: Path) -> None:
    """``meta`` must be JSON object text; a cheap check (``{...}``), decoding stays lazy."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(meta.type) or pa.types.is_large_string(meta.type)):
        raise InputError(f"meta must be JSON text, found {meta.type}", path=path, field="meta")
    ok = pc.and_(pc.starts_with(meta, "{"), pc.ends_with(meta, "}"))
    bad = np.flatnonzero(~pc.fill_null(ok, True).to_numpy(zero_copy_only=False))
    if len(bad):
        raise InputError(
            f"row {int(bad[0])}: not a JSON object ({len(bad)} such row(s))",
            path=path,
            field="meta",
        )


def _fill_unread(frame: pd.DataFrame, table: str, path: Path) -> pd.DataFrame:
    """Schema columns not read become missing values (``meta``: no fields)."""
    n = len(frame)
    for col in TABLES[table]:
        if col in frame.columns:
            continue
        if col in KEY_COLUMNS[table]:
            raise InputError(f"missing column {col!r}", path=path)
        fill = "{}" if col == "meta" else None
        frame[col] = pd.Series(np.full(n, fill, dtype=object), index=frame.index, dtype="str")
    return frame


def _select_columns(corpus: Corpus, columns: Mapping[str, Sequence[str]], path: Path) -> Corpus:
    """``columns=`` for formats read whole (JSONL): the same result as a Parquet read."""
    frames = corpus.to_pandas()
    for table, wanted in columns.items():
        if table not in TABLES:
            raise InputError(f"unknown table {table!r} in columns; use {', '.join(TABLES)}")
        frame = frames[table]
        chosen = _chosen_columns(list(frame.columns), table, wanted, path)
        frames[table] = _fill_unread(frame.loc[:, chosen or []], table, path)
    return Corpus(frames["dialogues"], frames["turns"], frames["annotations"])


def _read_table(path: Path, table: str, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return _read_parquet(path, table, {}, [])
    if not path.is_file():
        raise InputError("file missing from saved corpus", path=path)
    numbered = list(iter_jsonl_numbered(path))  # malformed JSON anywhere is named first
    for line, record in numbered:
        problem = _record_problem(record, table)
        if problem is not None:
            raise InputError(problem[1], path=path, line=line, field=problem[0])
    records = [record for _, record in numbered]
    return pd.DataFrame.from_records(records, columns=_columns_of(records, table))


def _record_problem(record: Mapping[str, Any], table: str) -> tuple[str, str] | None:
    """The first schema field of a JSONL record that is absent or mistyped, and what is wrong.

    Text fields hold text or null, ``index`` an integer, ``meta`` an object or null, as
    :func:`save_corpus` writes them; anything else would be turned into text (a list as
    ``turn_id`` becomes ``"['a']"``) by the typing of the table and pass unnoticed.

    Examples
    --------
    >>> _record_problem({"corpus": "c", "dialogue_id": ["d1"], "split": None, "kind": None,
    ...                  "meta": {}}, "dialogues")
    ('dialogue_id', 'expected text or null, found a list')
    """
    for name in TABLES[table]:
        if name not in record:
            return name, f"missing; a {table} line has {', '.join(TABLES[table])}"
        value = record[name]
        if name == "index":
            ok, want = isinstance(value, int) and not isinstance(value, bool), "an integer"
        elif name == "meta":
            ok, want = value is None or isinstance(value, dict), "an object or null"
        else:
            ok, want = value is None or isinstance(value, str), "text or null"
        if not ok:
            return name, f"expected {want}, found {_json_kind(value)}"
    return None


def _columns_of(records: list[dict[str, Any]], table: str) -> list[str]:
    cols = list(TABLES[table])
    for rec in records[:1]:
        cols += [c for c in rec if c not in cols]
    return cols


def iter_jsonl_numbered(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for every non-empty line of a JSONL file.

    Raises :class:`InputError` naming the file (and line) for a missing or unreadable file, text
    that is not UTF-8, malformed, too deeply nested JSON or a lone surrogate escape, or a line
    that is not a JSON object.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=p) from None
    except IsADirectoryError:
        raise InputError("expected a file, found a directory", path=p) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", path=p) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text ({exc.reason})", path=p, line=line) from None
    for lineno, line_text in enumerate(text.split("\n"), start=1):
        if not line_text.strip():
            continue
        # deep nesting and lone surrogates are refused here too, naming the line and field
        record = loads_json(line_text, path=p, line=lineno)
        if not isinstance(record, dict):
            raise InputError("expected a JSON object per line", path=p, line=lineno)
        yield lineno, record


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield one dict per non-empty line of a JSONL file (errors as :func:`iter_jsonl_numbered`)."""
    for _, record in iter_jsonl_numbered(path):
        yield record


def read_annotations(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an annotations table: a saved corpus directory, ``.jsonl``, ``.parquet`` or ``.csv``.

    The result has the schema's annotation columns (read ``meta`` with
    :func:`toolkit.meta_values`); see :mod:`toolkit.schema`.

    Examples
    --------
    >>> import tempfile
    >>> from toolkit.demo import bundled_sample
    >>> out = bundled_sample().save(tempfile.mkdtemp())
    >>> read_annotations(out).columns[:4].tolist()
    ['corpus', 'unit_id', 'scheme', 'label']
    """
    p = Path(path)
    if p.is_dir():
        return read_corpus(p).annotations
    if not p.is_file():
        raise InputError("file not found", path=p)
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        frame = pd.DataFrame.from_records(list(iter_jsonl(p)))
    elif suffix == ".parquet":
        frame = _read_parquet(p, "annotations", {}, [], complete=False)
    elif suffix == ".csv":
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    else:
        raise InputError(
            "unknown annotations format; use .jsonl, .parquet, .csv or a corpus dir", path=p
        )
    for col in TABLES["annotations"]:
        if col not in frame.columns:
            if col in ("unit_id", "label", "rater", "scheme"):
                raise InputError(f"missing required column {col!r}", path=p)
            frame[col] = None
    if "rater_kind" in frame.columns:
        frame["rater_kind"] = frame["rater_kind"].fillna("human")
    if "corpus" in frame.columns:
        frame["corpus"] = frame["corpus"].fillna(p.stem)
    try:
        return normalise_table(frame, "annotations")
    except EdudialError as exc:
        raise InputError(str(exc), path=p) from None


def to_hf(corpus: Corpus) -> datasets.DatasetDict:
    """Return the corpus as a ``datasets.DatasetDict`` (``dialogues``, ``turns``, ``annotations``).

    Columns are as in Parquet: ``meta`` is JSON object text, because Arrow needs one type per
    column and meta fields differ between corpora (decode with :func:`toolkit.meta_values`).
    :func:`corpora.from_hf` is the inverse.

    Examples
    --------
    >>> from toolkit.demo import bundled_sample
    >>> bundled_sample().to_hf()["turns"].num_rows
    60
    """
    import datasets

    splits = {table: datasets.Dataset(_to_arrow(getattr(corpus, table), table)) for table in TABLES}
    return datasets.DatasetDict(splits)
