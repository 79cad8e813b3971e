"""Reading and writing corpora: Parquet, JSONL, pandas and Hugging Face ``datasets``.

A saved corpus is a directory with ``dialogues``, ``turns`` and ``annotations`` tables (``.parquet``
or ``.jsonl``) and a ``corpus.json`` manifest (format version, counts). In Parquet the ``meta``
column is stored as JSON text; in JSONL it is a nested object. Writing goes to a temporary directory
that is renamed into place at the end, so a failed write leaves no partial output.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit.errors import InputError
from toolkit.schema import TABLES, Corpus

if TYPE_CHECKING:
    import datasets

__all__ = [
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


def _dump_meta(meta: Any, table: str, row: int) -> str:
    try:
        return json.dumps(meta, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"meta of row {row} is not plain JSON ({exc}); use numbers, strings, lists, dicts "
            "and None (not NaN)",
            field=f"{table}.meta",
        ) from None


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


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
        Created; it must not exist unless ``overwrite`` (then it is replaced).
    format : {"parquet", "jsonl"}
    overwrite : bool

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit import Corpus, read_corpus
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "empty"
    >>> _ = save_corpus(Corpus(), out, format="jsonl")
    >>> read_corpus(out)
    Corpus(empty: 0 dialogues, 0 turns, 0 annotations)
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    target = Path(directory)
    if target.exists() and not overwrite:
        raise InputError("output already exists; pass overwrite=True (CLI: --force)", path=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
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
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_parquet(frame: pd.DataFrame, table: str, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = frame.copy()
    out["meta"] = [_dump_meta(m, table, i) for i, m in enumerate(out["meta"])]
    fields = [pa.field(c, pa.int64() if c == "index" else pa.string()) for c in TABLES[table]]
    arrays = [
        pa.array(out[c].tolist() if c == "index" else [_str_or_none(v) for v in out[c]], f.type)
        for c, f in zip(TABLES[table], fields, strict=True)
    ]
    extra = [c for c in out.columns if c not in TABLES[table]]
    data = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    for c in extra:
        data = data.append_column(c, pa.array([_jsonable(v) for v in out[c]]))
    pq.write_table(data, path)


def _str_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _write_jsonl(frame: pd.DataFrame, table: str, path: Path) -> None:
    columns = list(frame.columns)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for i, values in enumerate(frame.itertuples(index=False, name=None)):
            record = {c: _jsonable(v) for c, v in zip(columns, values, strict=True)}
            try:
                line = json.dumps(record, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"row {i} is not plain JSON ({exc})", field=f"{table}.meta"
                ) from None
            fh.write(line + "\n")


def _detect_format(directory: Path) -> str:
    manifest = directory / MANIFEST
    if manifest.is_file():
        try:
            fmt = json.loads(manifest.read_text(encoding="utf-8")).get("format")
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg})", path=manifest, line=exc.lineno
            ) from None
        if fmt in FORMATS:
            return str(fmt)
    for fmt in FORMATS:
        if (directory / f"turns.{fmt}").is_file():
            return fmt
    raise InputError(
        "not a saved edudial corpus (expected corpus.json and turns.parquet or turns.jsonl); "
        "create one with `edudial load`",
        path=directory,
    )


def read_corpus(directory: str | os.PathLike[str]) -> Corpus:
    """Read a corpus written by :func:`save_corpus`.

    Raises
    ------
    InputError
        If the directory is missing, is not a saved corpus, or a file is malformed (the message
        names the file, line and field).
    """
    path = Path(directory)
    if not path.is_dir():
        raise InputError("no such corpus directory", path=path)
    fmt = _detect_format(path)
    tables = {t: _read_table(path / f"{t}.{fmt}", t, fmt) for t in TABLES}
    return Corpus(tables["dialogues"], tables["turns"], tables["annotations"])


def _read_table(path: Path, table: str, fmt: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError("file missing from saved corpus", path=path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            frame = pq.read_table(path).to_pandas()
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputError(f"cannot read Parquet ({exc})", path=path) from None
        metas = []
        for i, text in enumerate(frame.get("meta", pd.Series([], dtype=object))):
            try:
                metas.append(json.loads(text) if isinstance(text, str) else {})
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"meta is not JSON ({exc.msg})", path=path, line=i + 1, field="meta"
                ) from None
        frame["meta"] = pd.Series(metas, index=frame.index, dtype=object)
    else:
        records = list(iter_jsonl(path))
        frame = pd.DataFrame.from_records(records, columns=_columns_of(records, table))
    missing = [c for c in TABLES[table] if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path)
    return frame


def _columns_of(records: list[dict[str, Any]], table: str) -> list[str]:
    cols = list(TABLES[table])
    for rec in records[:1]:
        cols += [c for c in rec if c not in cols]
    return cols


def iter_jsonl_numbered(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for every non-empty line of a JSONL file.

    Raises :class:`InputError` naming the file (and line) for a missing or unreadable file, text
    that is not UTF-8, malformed JSON, or a line that is not a JSON object.
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
        try:
            record = json.loads(line_text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg} at column {exc.colno})", path=p, line=lineno
            ) from None
        if not isinstance(record, dict):
            raise InputError("expected a JSON object per line", path=p, line=lineno)
        yield lineno, record


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield one dict per non-empty line of a JSONL file (errors as :func:`iter_jsonl_numbered`)."""
    for _, record in iter_jsonl_numbered(path):
        yield record


def read_annotations(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an annotations table: a saved corpus directory, ``.jsonl``, ``.parquet`` or ``.csv``.

    The result has the schema's annotation columns (``meta`` as dicts); see :mod:`toolkit.schema`.
    """
    from toolkit.schema import ANNOTATION_COLUMNS, _normalise

    p = Path(path)
    if p.is_dir():
        return read_corpus(p).annotations
    if not p.is_file():
        raise InputError("file not found", path=p)
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        frame = pd.DataFrame.from_records(list(iter_jsonl(p)))
    elif suffix == ".parquet":
        frame = _read_table(p, "annotations", "parquet")
    elif suffix == ".csv":
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
        if "meta" in frame.columns:
            frame["meta"] = [json.loads(m) if isinstance(m, str) else {} for m in frame["meta"]]
    else:
        raise InputError(
            "unknown annotations format; use .jsonl, .parquet, .csv or a corpus dir", path=p
        )
    for col in ANNOTATION_COLUMNS:
        if col not in frame.columns:
            if col in ("unit_id", "label", "rater", "scheme"):
                raise InputError(f"missing required column {col!r}", path=p)
            frame[col] = None
    if "rater_kind" in frame.columns:
        frame["rater_kind"] = frame["rater_kind"].fillna("human")
    if "corpus" in frame.columns:
        frame["corpus"] = frame["corpus"].fillna(p.stem)
    return _normalise(frame, "annotations")


def to_hf(corpus: Corpus) -> datasets.DatasetDict:
    """Return the corpus as a ``datasets.DatasetDict`` (``dialogues``, ``turns``, ``annotations``).

    ``meta`` becomes a JSON string column, because Arrow needs one type per column and meta fields
    differ between corpora; decode with ``json.loads``.
    """
    import datasets

    splits = {}
    for table in TABLES:
        frame = getattr(corpus, table).copy()
        frame["meta"] = [_dump_meta(m, table, i) for i, m in enumerate(frame["meta"])]
        for col in frame.columns:
            if col != "index":
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        splits[table] = datasets.Dataset.from_pandas(frame, preserve_index=False)
    return datasets.DatasetDict(splits)
