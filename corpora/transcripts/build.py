"""One file's rows -> dialogues, turns and annotations (vectorised; errors name line and field)."""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from corpora._common import records
from corpora.transcripts.codes import code_rows
from corpora.transcripts.formats import RawTable
from corpora.transcripts.mapping import Mapping, Options
from corpora.transcripts.roles import assign_roles
from toolkit.errors import InputError

__all__ = ["FilePart", "build_file"]

_SHOWN = 5


@dataclass
class FilePart:
    """The schema columns built from one file, and what was dropped."""

    dialogues: dict[str, Any]
    turns: dict[str, Any]
    annotations: list[dict[str, list[Any]]] = field(default_factory=list)
    empty_rows: int = 0
    empty_dialogues: list[str] = field(default_factory=list)
    #: each of ``empty_dialogues`` for people: its id (or "rows with no dialogue id") and rows
    empty_named: list[str] = field(default_factory=list)


def _text(values: pd.Series) -> pd.Series:
    """Cells as text; missing -> ``""``."""
    if values.dtype == object or values.dtype == "str":
        out = values.fillna("") if values.hasnans else values
        return out if values.dtype == "str" else out.map(_as_text)
    return values.astype(object).map(_as_text)


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _problems(table: RawTable, rows: np.ndarray, column: str | None, what: str) -> InputError:
    shown = [table.where(int(r), column) for r in rows[:_SHOWN]]
    more = f"; ... and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    return InputError(f"{len(rows)} row(s) {what}: " + "; ".join(shown) + more)


def _dialogue_ids(table: RawTable, mapping: Mapping, file_id: str, empty: np.ndarray) -> pd.Series:
    col = mapping.columns.get("dialogue")
    if col is None:
        return pd.Series([file_id] * len(table.frame), dtype=object)
    ids = _text(table.frame[col])  # kept as written: an id may end in a space
    missing = np.flatnonzero((ids.str.strip() == "").to_numpy() & ~empty)
    if len(missing):
        raise _problems(table, missing, col, f"have no dialogue id in column {col!r}")
    return ids.astype(object)


def _order(table: RawTable, col: str, dcodes: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Row positions sorted by dialogue (first appearance) then the order column; checked."""
    raw = table.frame[col]
    fast = _numbers(raw)
    numbers = (
        fast
        if fast is not None
        else pd.to_numeric(_text(raw).str.strip(), errors="coerce").to_numpy(dtype=float)
    )
    bad = np.flatnonzero(~np.isfinite(numbers) | (numbers != np.round(numbers)))
    if len(bad):
        raise _problems(table, bad, col, f"have no whole number in the order column {col!r}")
    pos = np.lexsort((numbers, dcodes))
    same = dcodes[pos][1:] == dcodes[pos][:-1]
    step = np.diff(numbers[pos])
    for where, what in ((same & (step == 0), "repeats"), (same & (step > 1), "skips")):
        hits = np.flatnonzero(where)
        if len(hits):
            row = int(pos[hits[0] + 1])
            prev = int(numbers[pos[hits[0]]])
            value = int(numbers[row])
            gap = f"order {value} after {prev}" if what == "skips" else f"order {value}"
            raise table.error(
                f"dialogue {ids.iloc[row]!r} {what} {gap} ({len(hits)} place(s) in all); the "
                "order column must count 1, 2, 3, ... without gaps or repeats",
                row,
                col,
            )
    return pos


def _meta_column(values: pd.Series, key: str) -> list[Any]:
    """A column for turn meta: blank -> None; text columns of numbers -> numbers."""
    if key in ("start", "end"):
        return _times(values)
    if values.dtype == "str" or values.dtype == object:
        text = values.fillna("") if values.hasnans else values
        if values.dtype == "str":
            blank = (text.str.strip() == "").to_numpy()
            nums = _numbers(values)
            if nums is not None and not blank.all():
                kept = nums[~blank]
                if bool((kept == np.round(kept)).all()) and bool((np.abs(kept) < 2**53).all()):
                    ints = [
                        None if b else int(v) for b, v in zip(blank, nums.tolist(), strict=True)
                    ]
                    return ints
                return [None if b else v for b, v in zip(blank, nums.tolist(), strict=True)]
            return [None if b else v for b, v in zip(blank, text.tolist(), strict=True)]
        return [_plain(v) for v in values.tolist()]
    return [_plain(v) for v in values.tolist()]


def _plain(value: Any) -> Any:
    from toolkit.jsonvalue import plain

    if isinstance(value, str):
        return value if value.strip() else None
    return plain(value)


_CLOCK = r"^(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2}(?:\.\d{1,3})?)$"


def _arrow_text(values: pd.Series) -> pa.Array:
    """The cells as an Arrow string array, stripped (missing -> ``""``)."""
    arr = pa.array(_text(values), type=pa.large_string())
    return pc.utf8_trim_whitespace(pc.fill_null(arr, ""))


def _numbers(values: pd.Series) -> np.ndarray | None:
    """The column as floats (blank -> NaN) when every non-blank cell is a plain decimal number
    (no leading zero, exponent or letters), else None."""
    arr = _arrow_text(values)
    blank = pc.equal(arr, "")
    if pc.any(pc.match_substring_regex(arr, r"^[+-]?0\d|[A-Za-z]")).as_py():
        return None  # "007" is an id, "1e5" / "nan" / "inf" are not meant as numbers here
    try:
        nums = pc.cast(pc.if_else(blank, pa.scalar(None, pa.large_string()), arr), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out: np.ndarray = nums.to_numpy(zero_copy_only=False)
    return out


def _times(values: pd.Series) -> list[Any]:
    """Times in seconds (numbers, or ``hh:mm:ss`` / ``mm:ss`` text); other text kept as is."""
    if values.dtype.kind in "iuf":
        return [None if v != v else float(v) for v in values.tolist()]
    arr = _arrow_text(values)
    parts = pc.extract_regex(pc.replace_substring(arr, ",", "."), pattern=_CLOCK)
    ok = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    out = np.asarray(arr.to_pylist(), dtype=object)
    if ok.any():
        fields = []
        for name in ("h", "m", "s"):
            f = pc.struct_field(parts, name)
            f = pc.if_else(pc.equal(f, ""), "0", f)
            fields.append(pc.cast(f, pa.float64()).to_numpy(zero_copy_only=False))
        h, m, sec = fields
        out[ok] = (h * 3600 + m * 60 + sec)[ok].tolist()
    out[out == ""] = None
    return out.tolist()


def build_file(
    table: RawTable,
    mapping: Mapping,
    options: Options,
    file_id: str,
    source: str,
    *,
    multi: dict[str, list[str]] | None = None,
    roster: MappingABC[str, str] | None = None,
) -> FilePart:
    """The rows of one file as schema columns (dialogue ids from the column or ``file_id``)."""
    frame = table.frame
    text = _text(frame[str(mapping.columns["text"])])
    empty = (text.str.strip() == "").to_numpy()
    ids = _dialogue_ids(table, mapping, file_id, empty)
    dcodes, duniq = pd.factorize(ids)
    order_col = mapping.columns.get("order")
    if order_col is not None:
        pos = _order(table, order_col, dcodes, ids)
    else:
        pos = np.argsort(dcodes, kind="stable")
    keep = pos[~empty[pos]]
    kd = dcodes[keep]
    starts = np.r_[0, np.flatnonzero(kd[1:] != kd[:-1]) + 1] if len(kd) else np.empty(0, int)
    index = np.arange(len(kd)) - np.repeat(starts, np.diff(np.r_[starts, len(kd)]))
    dids = ids.iloc[keep].reset_index(drop=True).astype("str")
    turn_ids = dids + ":" + pd.Series(index).astype("str")
    turns = _turn_columns(
        table,
        mapping,
        options=options,
        keep=keep,
        dids=dids,
        index=index,
        text=text,
        roster=roster,
    )
    turns["turn_id"] = turn_ids
    part = FilePart(
        dialogues=_dialogue_columns(
            table,
            options,
            source=source,
            duniq=duniq,
            dcodes=dcodes,
            empty=empty,
            kept_codes=kd,
        ),
        turns=turns,
        empty_rows=int(empty.sum()),
    )
    kept_dialogues = set(np.unique(kd).tolist())
    gone = [i for i in range(len(duniq)) if i not in kept_dialogues]
    part.empty_dialogues = [str(duniq[i]) for i in gone]
    part.empty_named = [
        _name_empty(table, str(duniq[i]), np.flatnonzero(dcodes == i)) for i in gone
    ]
    part.annotations = [
        code_rows(
            table,
            spec,
            keep,
            turn_ids,
            corpus=options.corpus,
            delimiter=options.code_sep,
            labels=options.labels,
            multi=(multi or {}).get(spec.scheme),
        )
        for spec in mapping.codes
    ]
    return part


def _name_empty(table: RawTable, did: str, rows: np.ndarray) -> str:
    """``'L3' (a.csv:5 and 1 more row)``; ``rows with no dialogue id (...)`` for a blank id."""
    more = f" and {len(rows) - 1} more row(s)" if len(rows) > 1 else ""
    where = f"{table.where(int(rows[0]))}{more}" if len(rows) else str(table.path)
    name = repr(did) if did.strip() else "rows with no dialogue id"
    return f"{name} ({where})"


def _turn_columns(
    table: RawTable,
    mapping: Mapping,
    *,
    options: Options,
    keep: np.ndarray,
    dids: pd.Series,
    index: np.ndarray,
    text: pd.Series,
    roster: MappingABC[str, str] | None = None,
) -> dict[str, Any]:
    frame = table.frame
    spk_col = mapping.columns.get("speaker")
    raw = _text(frame[spk_col].iloc[keep]) if spk_col else pd.Series([""] * len(keep))
    speakers = raw.str.strip()  # roles from the stripped label; the label is kept as written
    role_col = mapping.columns.get("role")
    roles = assign_roles(
        speakers.tolist(),
        _text(frame[role_col].iloc[keep]).str.strip().tolist() if role_col else None,
        teacher=options.teacher,
        student=options.student,
        role_values=options.role_values,
        roster=roster,
    )
    keys = ["line"]
    columns: list[list[Any]] = [table.lines[keep].tolist()]
    start_col = mapping.columns.get("start")
    for key, col in [("start", start_col)] * bool(start_col) + [(c, c) for c in mapping.meta]:
        keys.append(key)
        columns.append(_meta_column(frame[col].iloc[keep].reset_index(drop=True), key))
    speaker_values = [
        r if s else None for r, s in zip(raw.tolist(), speakers.tolist(), strict=True)
    ]
    return {
        "corpus": [options.corpus] * len(keep),
        "dialogue_id": dids,
        "index": index,
        "role": roles,
        "speaker": speaker_values,
        "text": text.iloc[keep].reset_index(drop=True),
        "meta": records(keys, columns, len(keep)),
    }


def _dialogue_columns(
    table: RawTable,
    options: Options,
    *,
    source: str,
    duniq: Any,
    dcodes: np.ndarray,
    empty: np.ndarray,
    kept_codes: np.ndarray,
) -> dict[str, list[Any]]:
    present = np.zeros(len(duniq), dtype=bool)
    present[kept_codes] = True
    dropped = np.bincount(dcodes[empty], minlength=len(duniq))
    rows = np.flatnonzero(present)
    metas = []
    for i in rows:
        meta: dict[str, Any] = {"source": source, "format": table.format}
        if table.sheet is not None:
            meta["sheet"] = table.sheet
        meta["empty_rows"] = int(dropped[i])
        metas.append(meta)
    return {
        "corpus": [options.corpus] * len(rows),
        "dialogue_id": [str(duniq[i]) for i in rows],
        "split": [None] * len(rows),
        "kind": [options.kind] * len(rows),
        "meta": metas,
    }
