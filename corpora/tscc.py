"""TSCC (Caines et al. 2020/2022): ESL chat lessons, one TSV per lesson (your licensed copy).

The Teacher-Student Chatroom Corpus may not be redistributed: point this loader at your own copy (a
folder of per-lesson ``.tsv`` files, or one file). The format follows the papers and a third-party
loader; it has not been checked against the real files.

Format
------
Tab-separated, one header row, one row per chat message, ``NA`` (or an empty cell) = missing.
Columns (matched by name, ignoring case, ``.``, ``_``, ``-`` and spaces; e.g. ``turn.number``,
``Turn_Number``; ``anonymised``/``anonymized``): timestamp, user id, role, turn number,
anonymised text, edited text, responding-to, sequence, sequence type, focus, resource, assessment.
``role`` and the anonymised text are required.

Mapping
-------
- One file -> one dialogue of kind ``chat_lesson``; ``dialogue_id`` = file stem; ``split`` NA.
- One row -> one turn (messages are not merged; ``turn_number`` in ``meta`` groups them). ``role``
  ``teacher``/``student`` (case-insensitive; anything else -> ``other``); ``speaker`` = user id.
- Turn text = anonymised text. Turn ``meta``: ``timestamp``, ``edited`` (corrected text),
  ``turn_number``, ``responding_to``, ``sequence`` (ints when integral, else text), plus any
  unknown columns under their header name; missing -> None.
- Sequence type, focus, resource and assessment -> annotations of the turn, schemes
  ``tscc/seq_type``, ``tscc/focus``, ``tscc/resource``, ``tscc/assessment``; rater ``tscc``,
  rater_kind ``human``; missing -> no row.

Examples
--------
>>> import corpora                                              # doctest: +SKIP
>>> corpora.load("tscc", "~/data/tscc")                         # doctest: +SKIP
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd

from corpora._common import (
    DELIMITER_NAMES,
    as_str,
    build_corpus,
    header_key,
    read_csv_frame,
    read_header_line,
    require_file,
    sniff_delimiter,
)
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["COLUMNS", "SCHEMES", "load"]

CORPUS = "tscc"
#: canonical column -> accepted spellings (after :func:`corpora._common.header_key`)
COLUMNS: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "time", "datetime"),
    "user_id": ("userid", "user", "username"),
    "role": ("role", "userrole"),
    "turn_number": ("turnnumber", "turnno", "turnnum", "turn"),
    "text": ("anonymised", "anonymized", "anonymisedtext", "anonymizedtext", "text"),
    "edited": ("edited", "editedtext", "corrected", "correctedtext"),
    "responding_to": ("respondingto", "responseto", "replyto"),
    "sequence": ("sequence", "seq", "sequencenumber", "seqnumber"),
    "seq_type": ("sequencetype", "seqtype"),
    "focus": ("focus", "teachingfocus"),
    "resource": ("resource", "resources"),
    "assessment": ("assessment",),
}
REQUIRED = ("role", "text")
#: annotation column -> scheme
SCHEMES: dict[str, str] = {
    "seq_type": "tscc/seq_type",
    "focus": "tscc/focus",
    "resource": "tscc/resource",
    "assessment": "tscc/assessment",
}
_META_COLUMNS = ("timestamp", "edited", "turn_number", "responding_to", "sequence")
_INT_LIKE = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_ALIASES = {alias: canon for canon, aliases in COLUMNS.items() for alias in aliases}


def _column_map(columns: list[str], path: Path) -> dict[str, str]:
    """Raw header -> canonical name (unknown headers map to themselves)."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for raw in columns:
        canon = _ALIASES.get(header_key(raw))
        if canon is None:
            out[raw] = raw
            continue
        if canon in seen:
            raise InputError(
                f"columns {seen[canon]!r} and {raw!r} both look like {canon!r}", path=path, line=1
            )
        seen[canon] = raw
        out[raw] = canon
    return out


def _typed(value: Any) -> Any:
    text = as_str(value)
    if text is None:
        return None
    return int(float(text)) if _INT_LIKE.match(text.strip()) else text


def _read_lesson(path: Path) -> tuple[pd.DataFrame, list[int]]:
    header = read_header_line(path)
    found = sniff_delimiter(header, ("\t", ",", ";"))
    if found is not None and found != "\t":
        raise InputError(
            f"wrong delimiter: the header is {DELIMITER_NAMES[found]}-separated; TSCC lesson files "
            "are tab-separated (.tsv)",
            path=path,
            line=1,
        )
    table = read_csv_frame(
        path,
        sep="\t",
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
        na_values=["NA", ""],
    )
    frame, lines = table.frame, table.lines
    frame = frame.rename(columns=_column_map([str(c) for c in frame.columns], path))
    for col in REQUIRED:
        if col not in frame.columns:
            label = "anonymised text" if col == "text" else col
            raise InputError(
                f"missing required column {label!r} (found: {', '.join(map(str, frame.columns))})",
                path=path,
                line=1,
                field=col,
            )
    roles = frame["role"]
    if roles.isna().any():
        row = int(roles.isna().to_numpy().nonzero()[0][0])
        raise InputError("turn without a role (speaker)", path=path, line=lines[row], field="role")
    if "turn_number" in frame.columns:
        numbers = frame["turn_number"]
        bad = numbers.notna() & ~numbers.astype(str).str.strip().str.match(_INT_LIKE.pattern)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                f"expected an integer turn number, got {frame['turn_number'].iloc[row]!r}",
                path=path,
                line=lines[row],
                field="turn_number",
            )
    return frame, lines


def _lesson_files(path: Path) -> list[Path]:
    if path.is_file():
        return [require_file(path)]
    if not path.is_dir():
        raise InputError("no such file or directory", path=path)
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".tsv" and p.is_file())
    if not files:
        raise InputError("no .tsv lesson files found", path=path)
    return files


def load(path: Path) -> Corpus:
    """Load a local copy of TSCC into the edudial schema.

    Parameters
    ----------
    path : Path
        A folder of per-lesson ``.tsv`` files or a single lesson file.

    Returns
    -------
    Corpus
        Not yet validated (``corpora.load`` validates).

    Raises
    ------
    InputError
        Missing/unreadable file, a comma/semicolon file instead of TSV, a malformed row, a missing
        role or anonymised-text column, a row without a role, a non-integer turn number.

    Examples
    --------
    >>> from pathlib import Path                                   # doctest: +SKIP
    >>> load(Path("tests/fixtures/tscc"))                          # doctest: +SKIP
    """
    files = _lesson_files(Path(path))
    dialogues: dict[str, list[Any]] = {
        k: [] for k in ("corpus", "dialogue_id", "split", "kind", "meta")
    }
    turns: dict[str, list[Any]] = {
        k: []
        for k in ("corpus", "dialogue_id", "turn_id", "index", "role", "speaker", "text", "meta")
    }
    ann: dict[str, list[Any]] = {
        k: []
        for k in ("corpus", "unit_id", "scheme", "label", "rater", "rater_kind", "run_id", "meta")
    }
    seen: dict[str, Path] = {}
    for file in files:
        frame, _ = _read_lesson(file)
        if frame.empty:
            continue
        did = file.stem
        if did in seen:
            raise InputError(f"lesson id {did!r} also comes from {seen[did]}", path=file)
        seen[did] = file
        dialogues["corpus"].append(CORPUS)
        dialogues["dialogue_id"].append(did)
        dialogues["split"].append(None)
        dialogues["kind"].append("chat_lesson")
        dialogues["meta"].append({"source": file.name, "n_messages": len(frame)})
        extra = [c for c in frame.columns if c not in COLUMNS]
        records = frame.to_dict("records")
        for index, rec in enumerate(records):
            turn_id = f"{did}:{index}"
            role = str(rec["role"]).strip().lower()
            turns["corpus"].append(CORPUS)
            turns["dialogue_id"].append(did)
            turns["turn_id"].append(turn_id)
            turns["index"].append(index)
            turns["role"].append(role if role in ("teacher", "student") else "other")
            turns["speaker"].append(as_str(rec.get("user_id")))
            turns["text"].append(as_str(rec["text"]))
            meta: dict[str, Any] = {"raw_role": as_str(rec["role"])}
            for col in _META_COLUMNS:
                meta[col] = (
                    as_str(rec.get(col)) if col in ("timestamp", "edited") else _typed(rec.get(col))
                )
            for col in extra:
                meta[col] = as_str(rec.get(col))
            turns["meta"].append(meta)
            for col, scheme in SCHEMES.items():
                label = as_str(rec.get(col))
                if label is None or not label.strip():
                    continue
                ann["corpus"].append(CORPUS)
                ann["unit_id"].append(turn_id)
                ann["scheme"].append(scheme)
                ann["label"].append(label.strip())
                ann["rater"].append("tscc")
                ann["rater_kind"].append("human")
                ann["run_id"].append(None)
                ann["meta"].append({})
    if not seen:
        raise InputError(
            "no messages: the lesson file has a header but no rows"
            if len(files) == 1
            else f"no messages: none of the {len(files)} lesson files has a row",
            path=files[0] if len(files) == 1 else Path(path),
        )
    return build_corpus(dialogues, turns, ann)
