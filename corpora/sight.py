"""SIGHT (Wang et al. 2023): YouTube comments on math lectures, 10 binary labels; transcripts.

Reads the SIGHT release folder (``data/annotations/*.csv``, ``data/transcripts/<video_id>.txt``,
``data/metadata/<video_id>.json``) or a single annotations CSV.

Mapping
-------
- Comments of one video -> one dialogue ``<video_id>/comments`` of kind ``comments``; each comment
  is a turn of role ``student`` and speaker ``commenter``.
- Each transcript -> one dialogue ``<video_id>/lecture`` of kind ``lecture``, split into sentence
  turns (role ``teacher``, speaker ``lecturer``) by spaCy's rule-based ``sentencizer`` on
  ``spacy.blank("en")``; turn ``meta`` has ``start_char``/``end_char`` in the transcript.
  ``transcripts=False`` skips them (much faster).
- Dialogue ``meta``: ``video_id`` and the metadata JSON fields (``video_title``, ``channel_name``,
  ``teaching_environment``, ``playlist_id``, ``transcription_model``; None when a video has no
  metadata file). ``split`` is NA (SIGHT's ``datasplit`` is per comment, in turn meta).
- Label columns ``annotator_<rater>_<category>`` (the category is matched as a known suffix, since
  categories contain ``_``) -> annotations of the comment: scheme ``sight/<category>``, label
  ``"1"``/``"0"``, rater ``H1``/``H2`` (rater_kind ``human``) or ``openaichat_v<N>`` (``model``);
  an empty cell gives no row. The stray column ``68`` (digits-only names) is ignored.

Unit ids and merging
--------------------
- Turn ids are ``<video_id>/comments:<p><comment_id>`` with ``<p>`` = ``c`` for rows first seen in
  ``sight_dataset.csv``, ``s`` for ``sample_dataset.csv`` (other files: ``<file stem>-``). Every row
  is loaded: a ``comment_id`` that repeats within a file gets ``@<row>`` (0-based data row) appended
  on all its rows, so ids stay unique and stable for the same input files.
- Files are read in the order ``sight_dataset.csv``, ``sample_dataset.csv``, other CSVs by name.
  A row of a later file is the same unit as a not-yet-matched row of an earlier file with the same
  ``video_id`` and text, compared after normalising line ends (CRLF/CR -> LF: 3 sample comments
  differ from their sight_dataset copy only in line ends; with this rule all 239 match). The
  earlier file's text and id are kept; the later file adds its labels and its columns to the turn
  ``meta`` (e.g. ``datasplit``, ``sample_dataset_comment_id``). Unmatched rows become new turns.
- If two files give the same (unit, scheme, rater), the later file's label is kept; that
  annotation's ``meta`` lists ``sources`` and, when the labels differ, ``conflicts`` =
  {file stem: label} (one case: ``openaichat_v74`` pedagogy). Other annotations have empty meta.
- Turn ``meta``: ``comment_id`` (int, in the id space of ``source``), ``source`` (file stem),
  ``video_name``, ``playlist_name``, ``datasplit`` (any other column that is not a label: its
  name as key), ``<stem>_comment_id`` of matching rows in later files; missing values are None.

Examples
--------
>>> import corpora                                                               # doctest: +SKIP
>>> corpora.load("sight", "corpora/sight", transcripts=False)                    # doctest: +SKIP
Corpus(sight: 272 dialogues, 15784 turns, ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from corpora._common import (
    DELIMITER_NAMES,
    read_csv_frame,
    read_header_line,
    read_json,
    records,
    require_file,
    sniff_delimiter,
)
from toolkit.errors import InputError
from toolkit.schema import DIALOGUE_COLUMNS, TURN_COLUMNS, Corpus

__all__ = ["CATEGORIES", "METADATA_KEYS", "load", "parse_label_column", "split_sentences"]

CORPUS = "sight"
#: The ten SIGHT comment categories (``bookmark`` was labelled by humans only).
CATEGORIES: tuple[str, ...] = (
    "general",
    "setup",
    "pedagogy",
    "confusion",
    "gratitude",
    "personal_experience",
    "clarification",
    "bookmark",
    "non_english",
    "na",
)
METADATA_KEYS: tuple[str, ...] = (
    "video_title",
    "channel_name",
    "teaching_environment",
    "playlist_id",
    "transcription_model",
)
_REQUIRED = ("comment", "video_id", "comment_id")
_FILE_ORDER = ("sight_dataset.csv", "sample_dataset.csv")
_PREFIX = {"sight_dataset": "c", "sample_dataset": "s"}
_LABEL_COL = re.compile(
    r"^annotator_(?P<rater>.+?)_(?P<category>"
    + "|".join(sorted(CATEGORIES, key=len, reverse=True))
    + r")$"
)
_IGNORED_COL = re.compile(r"^(?:\d+|Unnamed: \d+)$")
_HUMAN_RATER = re.compile(r"^H\d+$")
_STR = pa.large_string()
_DEFAULT_STR = pd.Series([], dtype="str").dtype
#: pandas' default str dtype when it is Arrow-backed (then str arrays are built without a copy)
_STR_DTYPE = (
    _DEFAULT_STR
    if isinstance(_DEFAULT_STR, pd.StringDtype) and _DEFAULT_STR.storage == "pyarrow"
    else None
)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (so messages show ``2``, not ``np.int64(2)``)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def parse_label_column(name: str) -> tuple[str, str] | None:
    """Split ``annotator_<rater>_<category>`` into ``(rater, category)``; None for other columns.

    >>> parse_label_column("annotator_openaichat_v46_personal_experience")
    ('openaichat_v46', 'personal_experience')
    >>> parse_label_column("annotator_H1_non_english")
    ('H1', 'non_english')
    >>> parse_label_column("comment_id") is None
    True
    """
    match = _LABEL_COL.match(name)
    return (match.group("rater"), match.group("category")) if match else None


# ------------------------------------------------------------------------------ annotations
# Speed notes (issue 2: the loader should cost at most ~2x the raw ``read_csv`` of the files).
# String columns are built as Arrow arrays (``pyarrow.compute``; ``+`` on str Series is several
# times slower) and handed to pandas without a copy; repeated per-row dicts are copies of a few
# templates (``dict.copy`` in ``map`` is about twice as fast as a dict display per row).
def _read_annotation_file(path: Path, sep: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The checked file and its comment ids (int64)."""
    header = read_header_line(path)
    found = sniff_delimiter(header)
    if sep is None:
        sep = found or ","
    elif found is not None and found != sep:
        raise InputError(
            f"wrong delimiter: the header is {DELIMITER_NAMES.get(found, repr(found))}-separated, "
            f"not {DELIMITER_NAMES.get(sep, repr(sep))}-separated (sight_dataset.csv is "
            "space-separated, sample_dataset.csv comma-separated; leave sep unset to detect it)",
            path=path,
            line=1,
        )
    frame = read_csv_frame(path, sep=sep)  # (a dtype= argument makes pandas ~50% slower here)
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (wrong delimiter? found columns: "
            f"{', '.join(map(str, frame.columns[:4]))})",
            path=path,
            line=1,
            field=missing[0],
        )
    for col in ("comment", "video_id"):
        values = frame[col]
        string = pd.api.types.is_string_dtype(values)
        if _arrow(values).null_count if string else values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputError("value is missing", path=path, line=row + 2, field=col)
        if not string:  # e.g. all-digit ids parsed as numbers
            frame[col] = values.astype("str")
    ids = pd.to_numeric(frame["comment_id"], errors="coerce")
    numbers = ids.to_numpy()
    if numbers.dtype.kind == "f":  # (inf and NaN are not integers either)
        bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
    elif numbers.dtype.kind in "iu":
        bad = np.zeros(len(numbers), dtype=bool)
    else:
        bad = (ids.isna() | (ids != ids.round())).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"expected an integer comment id, got {_plain(frame['comment_id'].iloc[row])!r}",
            path=path,
            line=row + 2,
            field="comment_id",
        )
    if numbers.dtype.kind == "f":
        return frame, numbers.astype(np.int64)
    return frame, ids.astype("int64").to_numpy()


def _label_matrix(frame: pd.DataFrame, cols: list[str], path: Path) -> np.ndarray:
    """The label columns as a float matrix, one row per column (NaN = no label).

    Any value but 0/1 is an InputError (the first in file order).
    """
    matrix = np.empty((len(cols), len(frame)))
    text_bad = np.zeros(matrix.shape, dtype=bool)
    for j, col in enumerate(cols):
        values = frame[col]
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiu":  # the usual case
            matrix[j] = values.to_numpy()
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            matrix[j] = values.to_numpy(dtype=float, na_value=np.nan)
        else:  # text in a label column: numbers written as text are fine, words are not
            numeric = pd.to_numeric(values, errors="coerce")
            matrix[j] = numeric.to_numpy(dtype=float, na_value=np.nan)
            text_bad[j] = (values.notna() & numeric.isna()).to_numpy()
    bad = text_bad | (~np.isnan(matrix) & (matrix != 0) & (matrix != 1))
    if bad.any():
        row, j = (int(x) for x in np.argwhere(bad.T)[0])
        raise InputError(
            f"expected a label 0 or 1 (or empty), got {_plain(frame[cols[j]].iloc[row])!r}",
            path=path,
            line=row + 2,
            field=cols[j],
        )
    return matrix


def _unit_keys(ids: np.ndarray) -> pa.Array:
    """``<comment_id>`` per row (``@<row>`` appended to repeated ids), an Arrow string array."""
    keys = pa.array(ids, type=pa.int64()).cast(_STR)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        marked = [f"{k}@{r}" for k, r in zip(ids[rows].tolist(), rows.tolist(), strict=True)]
        keys = pc.replace_with_mask(keys, pa.array(dup), pa.array(marked, type=_STR))
    return keys


def _arrow(values: pd.Series) -> pa.Array:
    """A str Series as an Arrow ``large_string`` array (no copy for pandas' Arrow-backed str)."""
    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == _STR else array.cast(_STR)


def _concat(arrays: list[pa.Array]) -> pa.Array:
    return arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)


def _join(left: pa.Array | str, right: pa.Array | str, sep: str) -> pa.Array:
    """``left + sep + right`` element-wise."""
    args = [x if isinstance(x, pa.Array) else pa.scalar(x, _STR) for x in (left, right)]
    return pc.binary_join_element_wise(*args, pa.scalar(sep, _STR))


def _codes(values: pa.Array) -> np.ndarray:
    """Integer codes of equal values, in order of first appearance; -1 for missing."""
    return _encode(values)[0]


def _encode(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """``_codes(values)`` and the distinct values (in code order)."""
    encoded = pc.dictionary_encode(values)
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return indices.to_numpy().astype(np.int64), encoded.dictionary


def _pandas_str(array: pa.Array) -> Any:
    """An Arrow ``large_string`` array as a pandas ``str`` array (no copy)."""
    if _STR_DTYPE is not None:
        return pd.arrays.ArrowStringArray(array, dtype=_STR_DTYPE)  # type: ignore[call-arg]
    return pd.array(array, dtype="str")


def _repeat(value: str | None, n: int) -> Any:
    """A str array of ``n`` copies of ``value`` (None: missing)."""
    array = pa.nulls(n, _STR) if value is None else pa.repeat(pa.scalar(value, _STR), n)
    return _pandas_str(array)


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions have the same code (codes >= 0)."""
    n = len(codes)
    if n and codes.max() < 2**15:
        codes = codes.astype(np.int16)  # a stable argsort of int16 is a radix sort
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    start = np.ones(n, dtype=bool)
    start[1:] = ordered[1:] != ordered[:-1]
    rank = np.arange(n)
    first = np.maximum.accumulate(np.where(start, rank, 0)) if n else rank
    out = np.empty(n, dtype=np.int64)
    out[order] = rank - first
    return out


def _as_objects(values: pd.Series) -> list[Any]:
    """Column values as Python objects with None for missing."""
    out: list[Any] = values.to_numpy(
        dtype=object,
        na_value=None,  # type: ignore[call-overload]  # (stubs lack None)
    ).tolist()
    return out


def _objects(array: pa.Array) -> list[Any]:
    """Arrow values as Python objects, None for missing (faster than ``to_pylist``)."""
    out: list[Any] = array.to_numpy(zero_copy_only=False).tolist()
    return out


def _empty_dicts(n: int) -> Any:
    """An object array of ``n`` distinct empty dicts."""
    return np.fromiter(map(dict.copy, repeat({}, n)), dtype=object, count=n)


def _rows_with_cr(text: pa.Array) -> np.ndarray:
    """Rows of a ``large_string`` array that contain a carriage return (a scan of its bytes)."""
    _, offsets_buffer, data_buffer = text.buffers()
    rows: list[int] = []
    if data_buffer is not None and len(text):
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)
        offsets = offsets[text.offset : text.offset + len(text) + 1]
        find = data_buffer.to_pybytes().find  # (bytes.find is memchr: faster than numpy here)
        end = int(offsets[-1])
        at = find(b"\r", int(offsets[0]), end)  # a CR byte is never part of a UTF-8 sequence
        while at >= 0:
            row = int(np.searchsorted(offsets, at, side="right")) - 1
            rows.append(row)
            at = find(b"\r", int(offsets[row + 1]), end)  # on from the next row
    return np.asarray(rows, dtype=np.int64)


def _normalised_texts(text: pa.Array, rows: np.ndarray, cr_rows: np.ndarray) -> list[str]:
    """``text[rows]`` with CRLF and CR -> LF (``cr_rows``: the rows that contain a CR)."""
    values: list[str] = text.take(rows).to_pylist()
    if len(cr_rows):
        has_cr = set(cr_rows.tolist())
        for i, row in enumerate(rows.tolist()):
            if row in has_cr:
                values[i] = values[i].replace("\r\n", "\n").replace("\r", "\n")
    return values


def _match(
    earlier_video: pa.Array, earlier_text: pa.Array, video: pa.Array, text: pa.Array
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a later file that are an earlier unit (same video, same text up to line ends).

    The k-th row with a given (video, text) matches the k-th earlier unit with it. Returns the
    matching rows and the positions of their earlier units.
    """
    n = len(video)
    later = _normalised_texts(text, np.arange(n), _rows_with_cr(text))
    wanted = pa.array(later, type=_STR)
    # candidates: earlier texts equal to a later one as they are (a text with a CR never is:
    # the later texts have none), or after normalising their line ends
    cr_rows = _rows_with_cr(earlier_text)
    same = pc.is_in(earlier_text, value_set=wanted).to_numpy(zero_copy_only=False)
    fixed = _normalised_texts(earlier_text, cr_rows, cr_rows)
    if fixed:
        same[cr_rows] = pc.is_in(pa.array(fixed, type=_STR), value_set=wanted).to_numpy(
            zero_copy_only=False
        )
    cand = np.flatnonzero(same)
    both_text = pa.array(later + _normalised_texts(earlier_text, cand, cr_rows), type=_STR)
    text_codes = _codes(both_text)
    video_codes = _codes(pa.concat_arrays([video, earlier_video.take(cand)]))
    codes = pd.factorize(video_codes * (int(text_codes.max()) + 1) + text_codes)[0]
    left, right = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    width = len(codes) + 1
    right_key = right * width + _occurrence(right)  # unique: (pair, occurrence)
    found = pd.Index(right_key).get_indexer(left * width + _occurrence(left))
    rows = np.flatnonzero(found >= 0)
    return rows, cand[found[rows]]


class _Units:
    """The new units (turns) that one file creates, in order, and their meta columns."""

    def __init__(
        self,
        stem: str,
        video: pa.Array,
        text: pa.Array,
        turn_id: pa.Array,
        comment_id: np.ndarray,
        meta: dict[str, pd.Series],
    ) -> None:
        self.stem, self.video, self.text, self.turn_id = stem, video, text, turn_id
        self.comment_id, self.meta = comment_id, meta


def _load_annotations(
    paths: list[Path], sep: str | None, videos: set[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Turns (comments), annotations and video ids (in order) from one or more annotation CSVs."""
    pieces: list[_Units] = []  # per file: the new units it creates, in order
    matched_meta: dict[int, dict[str, Any]] = {}  # unit position -> meta from later files
    pair_ids: dict[tuple[str, str], int] = {}  # (scheme, rater) -> small int
    ann_pos: list[np.ndarray] = []
    ann_pair: list[np.ndarray] = []
    ann_label: list[np.ndarray] = []
    ann_source: list[str] = []
    ann_columns: list[list[int]] = []  # per file: the (scheme, rater) of its label columns
    ann_sizes: list[int] = []
    n_units = 0
    for path in paths:
        stem = path.stem
        frame, ids = _read_annotation_file(path, sep)
        label_cols: list[str] = []
        pairs: list[int] = []
        meta_cols: list[str] = []
        for c in frame.columns:
            rc = parse_label_column(str(c))
            if rc is not None:
                label_cols.append(c)
                pairs.append(pair_ids.setdefault((f"sight/{rc[1]}", rc[0]), len(pair_ids)))
            elif not _IGNORED_COL.match(str(c)) and c not in _REQUIRED:
                meta_cols.append(str(c))
        matrix = _label_matrix(frame, label_cols, path)  # validate every row first
        keys = _unit_keys(ids)  # from the whole file, so ids do not depend on `videos`
        video, text = _arrow(frame["video_id"]), _arrow(frame["comment"])
        if videos is not None:
            keep = pc.is_in(video, value_set=pa.array(sorted(videos), type=_STR))
            rows = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
            frame = frame.iloc[rows].reset_index(drop=True)
            matrix, ids = matrix[:, rows], ids[rows]
            keys, video, text = keys.take(rows), video.take(rows), text.take(rows)
        position = np.full(len(frame), -1, dtype=np.int64)
        if n_units and len(frame):
            rows, earlier = _match(
                _concat([p.video for p in pieces]), _concat([p.text for p in pieces]), video, text
            )
            position[rows] = earlier
            id_list = ids.tolist()
            extra = {c: _as_objects(frame[c]) for c in meta_cols}
            for row, pos in zip(rows.tolist(), earlier.tolist(), strict=True):
                meta = matched_meta.setdefault(pos, {})
                meta[f"{stem}_comment_id"] = id_list[row]
                for c in meta_cols:
                    meta[c] = extra[c][row]
        new = position < 0
        n_new = int(new.sum())
        position[new] = np.arange(n_units, n_units + n_new)
        meta_columns = {c: frame[c] for c in meta_cols}
        if n_new == 0:
            keys, video, text, ids = keys[:0], video[:0], text[:0], ids[:0]
            meta_columns = {c: s.iloc[:0] for c, s in meta_columns.items()}
        elif n_new < len(frame):
            rows = np.flatnonzero(new)
            keys, video, text, ids = keys.take(rows), video.take(rows), text.take(rows), ids[rows]
            meta_columns = {c: s.iloc[rows].reset_index(drop=True) for c, s in meta_columns.items()}
        turn_id = _join(video, keys, f"/comments:{_PREFIX.get(stem, f'{stem}-')}")
        pieces.append(_Units(stem, video, text, turn_id, ids, meta_columns))
        n_units += n_new
        # annotations of this file, column by column, addressed by unit position
        cols, rows = np.nonzero(~np.isnan(matrix))
        ann_pos.append(position[rows])
        ann_pair.append(np.asarray(pairs, dtype=np.int64)[cols])
        ann_label.append(matrix[cols, rows] == 1)
        ann_source.append(stem)
        ann_columns.append(pairs)
        ann_sizes.append(len(rows))
    turns, video_ids = _unit_turns(pieces, matched_meta)
    annotations = _annotation_rows(
        _concat([p.turn_id for p in pieces]),
        list(matched_meta),
        pair_ids,
        ann_pos,
        ann_pair,
        ann_label,
        ann_columns,
        ann_source,
        ann_sizes,
    )
    return turns, annotations, video_ids


def _unit_turns(
    pieces: list[_Units], matched_meta: dict[int, dict[str, Any]]
) -> tuple[pd.DataFrame, list[str]]:
    """The turns of the comment units and their video ids in order of first appearance."""
    video = _concat([p.video for p in pieces])
    n = len(video)
    codes, distinct = _encode(video)
    dialogue_id = _join(distinct, "comments", "/").take(codes)
    # meta keys: comment_id, source, the files' meta columns in order of appearance (every file's,
    # even one without new units), then further keys from matching rows of later files, sorted
    columns = list(dict.fromkeys(c for p in pieces for c in p.meta if c != "source"))
    names = ["comment_id", "source", *columns]
    names += sorted({k for m in matched_meta.values() for k in m} - set(names))
    metas = _unit_metas(pieces, names)
    for pos, extra in matched_meta.items():
        meta = metas[pos]
        for k, v in extra.items():
            if meta.get(k) is None:
                meta[k] = v
    table = {
        "corpus": _repeat(CORPUS, n),
        "dialogue_id": _pandas_str(dialogue_id),
        "turn_id": _pandas_str(_concat([p.turn_id for p in pieces])),
        "index": _occurrence(codes),
        "role": _repeat("student", n),
        "speaker": _repeat("commenter", n),
        "text": _pandas_str(_concat([p.text for p in pieces])),
        "meta": metas,
    }
    turns = pd.DataFrame(table, copy=False)  # (fresh arrays: a copy would only cost time)
    return turns, _objects(distinct)


def _unit_metas(pieces: list[_Units], names: list[str]) -> Any:
    """The turn meta dicts (keys ``names``, in that order), an object array."""
    n = sum(len(p.comment_id) for p in pieces)
    plain_text = all(
        isinstance(s.dtype, pd.StringDtype) and c != "source"
        for p in pieces
        for c, s in p.meta.items()
    )
    if not plain_text:  # values as pandas gives them for the files' columns concatenated
        frame = pd.concat(
            [
                pd.DataFrame({"source": p.stem, **p.meta}, index=range(len(p.comment_id)))
                for p in pieces
            ],
            ignore_index=True,
        )
        ids = np.concatenate([p.comment_id for p in pieces]).tolist()
        values = [ids] + [
            _as_objects(frame[c]) if c in frame.columns else [None] * n for c in names[1:]
        ]
        return np.fromiter(records(names, values, n), dtype=object, count=n)
    out: list[dict[str, Any]] = []
    for p in pieces:
        out += _piece_metas(p, names)
    return np.fromiter(out, dtype=object, count=n)


def _piece_metas(piece: _Units, names: list[str]) -> list[dict[str, Any]]:
    """The turn meta dicts of one file's units (its meta columns are all text)."""
    n = len(piece.comment_id)
    arrays = {c: _arrow(s) for c, s in piece.meta.items()}
    # rows with the same text values share a template; each dict is a copy of its template
    group, size = np.zeros(n, dtype=np.int64), 1
    for array in arrays.values():
        if array.null_count == n:  # (None in every template)
            continue
        codes, distinct = _encode(array)
        if size * (len(distinct) + 1) > 2**40:
            group, size = pd.factorize(group)[0].astype(np.int64), int(group.max()) + 1
        group, size = group * (len(distinct) + 1) + codes + 1, size * (len(distinct) + 1)
    group = pd.factorize(group)[0].astype(np.int64)  # numbered in order of first appearance
    n_groups = int(group.max()) + 1 if n else 0
    if n_groups * 4 > n:  # mostly distinct: templates would not pay off
        values = [piece.comment_id.tolist(), [piece.stem] * n]
        values += [_objects(arrays[c]) if c in arrays else [None] * n for c in names[2:]]
        return records(names, values, n)
    # codes are in order of first appearance: a group's first row is where the running max grows
    first = np.flatnonzero(np.diff(np.maximum.accumulate(group), prepend=-1) > 0)
    templates = [dict.fromkeys(names) for _ in range(n_groups)]
    columns = {c: _objects(a.take(first)) for c, a in arrays.items()}
    for g, template in enumerate(templates):
        template["source"] = piece.stem
        for c, values in columns.items():
            template[c] = values[g]
    metas = list(map(dict.copy, map(templates.__getitem__, group.tolist())))
    for meta, comment_id in zip(metas, piece.comment_id.tolist(), strict=True):
        meta["comment_id"] = comment_id
    return metas


def _repeated_labels(
    n_units: int,
    matched: list[int],
    pos: np.ndarray,
    pair: np.ndarray,
    label: np.ndarray,
    file_pairs: list[list[int]],
    sources: list[str],
    sizes: list[int],
) -> tuple[np.ndarray, dict[int, dict[str, Any]]]:
    """Labels that several files give for one (unit, scheme, rater): the later file wins.

    Returns the rows to drop (sorted) and, for each winning row, its meta (``sources``,
    ``conflicts``).
    Rows are in file order and a file labels a (unit, scheme, rater) at most once, so only a unit
    that a later file's row was matched to (``matched``) and a (scheme, rater) that several files
    have a column for (``file_pairs``: the (scheme, rater) of each file's columns) can repeat.
    """
    n_pairs = max((max(p) + 1 for p in file_pairs if p), default=1)
    files_per_pair = np.zeros(n_pairs, dtype=np.int64)
    for pairs in file_pairs:
        files_per_pair[np.unique(np.asarray(pairs, dtype=np.int64))] += 1
    is_matched = np.zeros(n_units, dtype=bool)
    is_matched[matched] = True
    cand = np.flatnonzero(is_matched[pos] & (files_per_pair[pair] > 1))
    codes = pd.factorize(pos[cand] * n_pairs + pair[cand])[0]
    repeated = np.bincount(codes)[codes] > 1
    order = np.argsort(codes[repeated], kind="stable")  # groups together, in file order
    rows = cand[repeated][order]
    ends = np.flatnonzero(np.diff(codes[repeated][order], append=-1))  # last row of each group
    overridden = np.ones(len(rows), dtype=bool)
    overridden[ends] = False
    file_of = np.repeat(np.arange(len(sizes)), sizes)
    names = [sources[k] for k in file_of[rows].tolist()]
    texts = np.where(label[rows], "1", "0").tolist()
    special: dict[int, dict[str, Any]] = {}
    start = 0
    for end, row in zip(ends.tolist(), rows[ends].tolist(), strict=True):
        meta: dict[str, Any] = {"sources": names[start : end + 1]}
        last = texts[end]
        if texts[start:end].count(last) != end - start:
            meta["conflicts"] = {names[j]: texts[j] for j in range(start, end) if texts[j] != last}
        special[row] = meta
        start = end + 1
    return np.sort(rows[overridden]), special


def _annotation_rows(
    unit_ids: pa.Array,
    matched: list[int],
    pair_ids: dict[tuple[str, str], int],
    positions: list[np.ndarray],
    pairs: list[np.ndarray],
    labels: list[np.ndarray],
    file_pairs: list[list[int]],
    sources: list[str],
    sizes: list[int],
) -> pd.DataFrame:
    """The annotation rows; ``matched``: the units that rows of several files were matched to."""
    pos = np.concatenate(positions) if positions else np.empty(0, dtype=np.int64)
    pair = np.concatenate(pairs) if pairs else np.empty(0, dtype=np.int64)
    label = np.concatenate(labels) if labels else np.empty(0, dtype=bool)
    special: dict[int, dict[str, Any]] = {}  # row -> meta of a label given by several files
    if matched:
        dropped, special = _repeated_labels(
            len(unit_ids), matched, pos, pair, label, file_pairs, sources, sizes
        )
        if len(dropped):  # drop the overridden rows before building the columns
            shift = np.searchsorted(dropped, list(special)).tolist()  # dropped rows before
            special = {i - s: m for (i, m), s in zip(special.items(), shift, strict=True)}
            keep = np.ones(len(pos), dtype=bool)
            keep[dropped] = False
            pos, pair, label = pos[keep], pair[keep], label[keep]
    n = len(pos)
    metas = _empty_dicts(n)
    for i, m in special.items():
        metas[i] = m
    table = list(pair_ids)  # index -> (scheme, rater)
    raters = [r for _, r in table]
    kinds = ["human" if _HUMAN_RATER.match(r) else "model" for r in raters]

    def take(values: pa.Array | list[Any], codes: np.ndarray) -> Any:
        array = values if isinstance(values, pa.Array) else pa.array(values, type=_STR)
        return _pandas_str(array.take(codes))

    columns = {
        "corpus": _repeat(CORPUS, n),
        "unit_id": take(unit_ids, pos),
        "scheme": take([s for s, _ in table], pair),
        "label": take(["0", "1"], label.astype(np.intp)),
        "rater": take(raters, pair),
        "rater_kind": take(kinds, pair),
        "run_id": _repeat(None, n),
        "meta": metas,
    }
    return pd.DataFrame(columns, copy=False)  # (fresh arrays: a copy would only cost time)


# ------------------------------------------------------------------------------ transcripts
def split_sentences(texts: Iterable[str], *, batch_size: int = 16) -> list[list[tuple[int, int]]]:
    """Sentence spans ``(start_char, end_char)`` of each text with spaCy's rule-based sentencizer.

    Uses ``spacy.blank("en")`` + ``sentencizer`` through ``nlp.pipe``; whitespace-only sentences
    are dropped and spans exclude surrounding whitespace.

    >>> split_sentences(["Hello there. How are you? Fine."])
    [[(0, 12), (13, 25), (26, 31)]]
    """
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    longest = max((len(t) for t in texts), default=0) if isinstance(texts, list) else 0
    nlp.max_length = max(nlp.max_length, longest + 1)
    out: list[list[tuple[int, int]]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        spans = []
        for sent in doc.sents:
            text = sent.text
            stripped = text.strip()
            if not stripped:
                continue
            start = sent.start_char + (len(text) - len(text.lstrip()))
            spans.append((start, start + len(stripped)))
        out.append(spans)
    return out


def _read_metadata(folder: Path, video_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for vid in video_ids:
        path = folder / f"{vid}.json"
        if not path.is_file():
            continue
        data = read_json(path)
        if not isinstance(data, dict):
            raise InputError("expected a JSON object", path=path, line=1)
        out[vid] = data
    return out


def _dialogue_meta(vid: str, metadata: dict[str, dict[str, Any]]) -> dict[str, Any]:
    data = metadata.get(vid, {})
    meta: dict[str, Any] = {"video_id": vid}
    for key in METADATA_KEYS:
        meta[key] = data.get(key)
    for key, value in data.items():
        if key not in meta:
            meta[key] = value
    return meta


def _lecture_turns(folder: Path, videos: set[str] | None) -> tuple[list[str], pd.DataFrame]:
    files = sorted(folder.glob("*.txt"))
    if videos is not None:
        files = [f for f in files if f.stem in videos]
    texts = []
    for f in files:
        try:
            texts.append(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read transcript ({exc})", path=f) from None
    spans = split_sentences(texts)
    vids: list[str] = []
    dlg: list[str] = []
    index: list[int] = []
    text_out: list[str] = []
    metas: list[dict[str, Any]] = []
    for f, text, sent_spans in zip(files, texts, spans, strict=True):
        if not sent_spans:
            continue
        vids.append(f.stem)
        did = f"{f.stem}/lecture"
        for i, (a, b) in enumerate(sent_spans):
            dlg.append(did)
            index.append(i)
            text_out.append(text[a:b])
            metas.append({"start_char": a, "end_char": b})
    dlg_arr = pd.Series(dlg, dtype=object)
    turns = pd.DataFrame(
        {
            "corpus": CORPUS,
            "dialogue_id": dlg_arr,
            "turn_id": dlg_arr + ":" + pd.Series(index, dtype=object).astype(str),
            "index": index,
            "role": "teacher",
            "speaker": "lecturer",
            "text": text_out,
            "meta": metas,
        }
    )
    return vids, turns


# ------------------------------------------------------------------------------------- load
def _annotation_files(folder: Path) -> list[Path]:
    ann_dir = folder / "data" / "annotations"
    if not ann_dir.is_dir():
        ann_dir = folder / "annotations" if (folder / "annotations").is_dir() else folder
    found = sorted(ann_dir.glob("*.csv"))
    rank = {name: i for i, name in enumerate(_FILE_ORDER)}
    found.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    return found


def load(
    path: Path,
    *,
    transcripts: bool = True,
    metadata: bool = True,
    sep: str | None = None,
    videos: Iterable[str] | None = None,
) -> Corpus:
    """Load SIGHT into the edudial schema.

    Parameters
    ----------
    path : Path
        The SIGHT folder (``$EDUDIAL_DATA/sight``) or one annotations CSV (then only its comments
        and labels are loaded).
    transcripts : bool, default True
        For a folder: also load ``data/transcripts/*.txt`` as sentence-split lecture dialogues.
    metadata : bool, default True
        For a folder: add ``data/metadata/<video_id>.json`` fields to the dialogue meta.
    sep : str, optional
        Delimiter of the annotation CSVs; by default detected from each header line. A given
        ``sep`` that disagrees with the header is an error.
    videos : iterable of str, optional
        Keep only these video ids (comments, labels and transcripts).

    Returns
    -------
    Corpus
        Not yet validated (``corpora.load`` validates).

    Raises
    ------
    InputError
        Missing/unreadable file, wrong delimiter, malformed row, missing column, a label that is
        not 0/1, a bad comment id, malformed metadata JSON (file, line, field named).

    Examples
    --------
    >>> from pathlib import Path                                                 # doctest: +SKIP
    >>> c = load(Path("corpora/sight"), transcripts=False)                       # doctest: +SKIP
    >>> c.filter(scheme="sight/confusion").annotations.rater.unique()           # doctest: +SKIP
    """
    path = Path(path)
    keep = None if videos is None else {str(v) for v in videos}
    if path.is_file():
        ann_paths = [require_file(path)]
        folder = None
    elif path.is_dir():
        ann_paths = _annotation_files(path)
        folder = path
        if not ann_paths:
            raise InputError(
                "no annotation CSVs found (expected data/annotations/sight_dataset.csv or "
                "sample_dataset.csv)",
                path=path,
            )
    else:
        raise InputError("no such file or directory", path=path)

    turns, annotations, comment_vids = _load_annotations(ann_paths, sep, keep)
    lecture_vids: list[str] = []
    lecture_turns = None
    if folder is not None and transcripts:
        t_dir = folder / "data" / "transcripts"
        if t_dir.is_dir():
            lecture_vids, lecture_turns = _lecture_turns(t_dir, keep)
    meta_src: dict[str, dict[str, Any]] = {}
    if folder is not None and metadata:
        m_dir = folder / "data" / "metadata"
        if m_dir.is_dir():
            meta_src = _read_metadata(m_dir, dict.fromkeys(comment_vids + lecture_vids))
    vids = comment_vids + lecture_vids
    dialogue_ids = [f"{v}/comments" for v in comment_vids] + [f"{v}/lecture" for v in lecture_vids]
    kinds = ["comments"] * len(comment_vids) + ["lecture"] * len(lecture_vids)
    columns = {
        "corpus": _repeat(CORPUS, len(vids)),
        "dialogue_id": _pandas_str(pa.array(dialogue_ids, type=_STR)),
        "split": _repeat(None, len(vids)),
        "kind": _pandas_str(pa.array(kinds, type=_STR)),
        "meta": np.fromiter(
            (_dialogue_meta(v, meta_src) for v in vids), dtype=object, count=len(vids)
        ),
    }
    dialogues = pd.DataFrame(columns, columns=list(DIALOGUE_COLUMNS), copy=False)
    if lecture_turns is not None:
        turns = pd.concat([turns, lecture_turns], ignore_index=True)[list(TURN_COLUMNS)]
    return Corpus(dialogues, turns, annotations)
