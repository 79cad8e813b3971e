"""One file's rows -> dialogues, turns and annotations (vectorised; errors name line and field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from corpora._common import records
from corpora.transcripts.codes import code_rows
from corpora.transcripts.formats import RawTable, parse_time
from corpora.transcripts.mapping import Mapping, Options
from corpora.transcripts.roles import assign_roles
from toolkit.errors import InputError

__all__ = ["FilePart", "build_file"]

_SHOWN = 5


@dataclass
class FilePart:
    """The schema columns built from one file, and what was dropped."""

    dialogues: dict[str, list[Any]]
    turns: dict[str, list[Any]]
    annotations: list[dict[str, list[Any]]] = field(default_factory=list)
    empty_rows: int = 0
    empty_dialogues: list[str] = field(default_factory=list)


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
    numbers = pd.to_numeric(_text(raw).str.strip(), errors="coerce").to_numpy(dtype=float)
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
        return [_time(v) for v in values.tolist()]
    if values.dtype == "str" or values.dtype == object:
        text = values.fillna("") if values.hasnans else values
        if values.dtype == "str":
            nums = pd.to_numeric(text.where(text.str.strip() != ""), errors="coerce")
            blank = (text.str.strip() == "").to_numpy()
            if not nums[~blank].isna().any():
                ints = nums.dropna()
                as_int = bool(len(ints)) and bool((ints == ints.round()).all())
                out = nums.astype("Int64") if as_int else nums
                return [None if b else v for b, v in zip(blank, out.tolist(), strict=True)]
            return [None if b else v for b, v in zip(blank, text.tolist(), strict=True)]
        return [_plain(v) for v in values.tolist()]
    return [_plain(v) for v in values.tolist()]


def _plain(value: Any) -> Any:
    from toolkit.jsonvalue import plain

    if isinstance(value, str):
        return value if value.strip() else None
    return plain(value)


def _time(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    seconds = parse_time(text)
    return seconds if seconds is not None else text


def build_file(
    table: RawTable,
    mapping: Mapping,
    options: Options,
    file_id: str,
    source: str,
    *,
    multi: dict[str, list[str]] | None = None,
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
    dids = pd.Series(ids.to_numpy(dtype=object)[keep], dtype=object)
    turn_ids = (dids + ":" + pd.Series(index).astype(str)).tolist()
    turns = _turn_columns(
        table, mapping, options=options, keep=keep, dids=dids, index=index, text=text
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
    part.empty_dialogues = [str(d) for i, d in enumerate(duniq) if i not in kept_dialogues]
    part.annotations = [
        code_rows(
            table,
            spec,
            keep,
            turn_ids,
            corpus=options.corpus,
            delimiter=options.delimiter,
            labels=options.labels,
            multi=(multi or {}).get(spec.scheme),
        )
        for spec in mapping.codes
    ]
    return part


def _turn_columns(
    table: RawTable,
    mapping: Mapping,
    *,
    options: Options,
    keep: np.ndarray,
    dids: pd.Series,
    index: np.ndarray,
    text: pd.Series,
) -> dict[str, list[Any]]:
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
        "dialogue_id": dids.tolist(),
        "index": index.tolist(),
        "role": roles.tolist(),
        "speaker": speaker_values,
        "text": text.iloc[keep].tolist(),
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
