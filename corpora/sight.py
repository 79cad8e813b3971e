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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from corpora._common import (
    DELIMITER_NAMES,
    build_corpus,
    dialogue_row,
    read_csv_frame,
    read_header_line,
    read_json,
    read_utf8,
    require_file,
    sniff_delimiter,
    turn_row,
)
from toolkit.errors import InputError
from toolkit.schema import Corpus

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
@dataclass(frozen=True)
class _File:
    """One checked annotations CSV (rows kept by ``videos``), as Python values."""

    stem: str
    video: list[str]
    comment: list[str]
    comment_id: list[int]
    key: list[str]  # the comment id, with ``@<row>`` where the id repeats in the file
    meta: dict[str, list[Any]]  # the other non-label columns (None for missing)
    pairs: list[tuple[str, str]]  # (scheme, rater) of each label column
    labels: np.ndarray  # one row per label column, one column per row: 0, 1 or NaN (none)
    rows: int  # data rows in the file, kept or not

    @property
    def id_prefix(self) -> str:
        return _PREFIX.get(self.stem, f"{self.stem}-")


def _read_file(path: Path, sep: str | None, videos: set[str] | None) -> _File:
    frame, ids, lines = _read_annotation_file(path, sep)
    label_cols: list[str] = []
    pairs: list[tuple[str, str]] = []
    meta_cols: list[str] = []
    for c in map(str, frame.columns):
        rc = parse_label_column(c)
        if rc is not None:
            label_cols.append(c)
            pairs.append((f"sight/{rc[1]}", rc[0]))
        elif not _IGNORED_COL.match(c) and c not in _REQUIRED:
            meta_cols.append(c)
    labels = _label_matrix(frame, label_cols, path, lines)  # every row is checked, kept or not
    comment_id = ids.tolist()
    key = _unit_keys(comment_id)  # from the whole file, so ids do not depend on `videos`
    video = frame["video_id"].tolist()
    rows = range(len(video)) if videos is None else [i for i, v in enumerate(video) if v in videos]

    def kept(values: list[Any]) -> list[Any]:
        return values if videos is None else [values[i] for i in rows]

    return _File(
        stem=path.stem,
        video=kept(video),
        comment=kept(frame["comment"].tolist()),
        comment_id=kept(comment_id),
        key=kept(key),
        meta={c: kept(_as_objects(frame[c])) for c in meta_cols},
        pairs=pairs,
        labels=labels if videos is None else labels[:, list(rows)],
        rows=len(video),
    )


def _read_annotation_file(
    path: Path, sep: str | None
) -> tuple[pd.DataFrame, np.ndarray, list[int]]:
    """The checked file, its comment ids (int64) and the line each row starts on."""
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
    table = read_csv_frame(path, sep=sep)
    frame, lines = table.frame, table.lines
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
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputError("value is missing", path=path, line=lines[row], field=col)
        if not pd.api.types.is_string_dtype(values):  # e.g. all-digit ids parsed as numbers
            frame[col] = values.astype("str")
    _check_video_ids(frame["video_id"].tolist(), path, lines)
    return frame, _comment_ids(frame, path, lines), lines


#: A YouTube video id is 11 characters; allow any one-line name that can be a file name.
_VIDEO_ID = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")


def _check_video_ids(videos: list[str], path: Path, lines: list[int]) -> None:
    """Each ``video_id`` names the transcript and metadata files: one line, no ``/``, short.

    A quote left open in the row before can make a whole stretch of the file one "video id".
    """
    for vid in dict.fromkeys(videos):
        if not _VIDEO_ID.match(vid) or vid in (".", ".."):
            row = videos.index(vid)
            shown = vid if len(vid) <= 40 else f"{vid[:40]}... ({len(vid):,} characters)"
            raise InputError(
                f"not a video id: {shown!r} (a video id is one short line without '/'; "
                "a quote not closed earlier in the file?)",
                path=path,
                line=lines[row],
                field="video_id",
            )


def _comment_ids(frame: pd.DataFrame, path: Path, lines: list[int]) -> np.ndarray:
    """The ``comment_id`` column as int64; a value that is not an integer is an error."""
    ids = pd.to_numeric(frame["comment_id"], errors="coerce")
    if isinstance(ids.dtype, np.dtype) and ids.dtype.kind in "iu":  # exact, however large
        return ids.to_numpy().astype(np.int64)
    numbers = ids.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))  # (NaN: not a number at all)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"expected an integer comment id, got {_cell(frame, 'comment_id', row)!r}",
            path=path,
            line=lines[row],
            field="comment_id",
        )
    return numbers.astype(np.int64)


def _cell(frame: pd.DataFrame, column: str, row: int) -> object:
    """A cell as the Python value pandas read (a message shows ``2.0``, not a numpy repr)."""
    value: object = frame[column].iloc[row : row + 1].tolist()[0]
    return value


def _label_matrix(frame: pd.DataFrame, cols: list[str], path: Path, lines: list[int]) -> np.ndarray:
    """The label columns as a float matrix, one row per column (NaN = no label).

    Any value but 0/1 is an InputError (the first in file order).
    """
    matrix = np.empty((len(cols), len(frame)))
    text_bad = np.zeros(matrix.shape, dtype=bool)
    for j, col in enumerate(cols):
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            matrix[j] = values.to_numpy(dtype=float, na_value=np.nan)
        else:  # text in a label column: numbers written as text are fine, words are not
            numeric = pd.to_numeric(values, errors="coerce")
            matrix[j] = numeric.to_numpy(dtype=float, na_value=np.nan)
            text_bad[j] = (values.notna() & numeric.isna()).to_numpy()
    bad = text_bad | (~np.isnan(matrix) & (matrix != 0) & (matrix != 1))
    if bad.any():
        row, j = (int(x) for x in np.argwhere(bad.T)[0])
        raise InputError(
            f"expected a label 0 or 1 (or empty), got {_cell(frame, cols[j], row)!r}",
            path=path,
            line=lines[row],
            field=cols[j],
        )
    return matrix


def _unit_keys(ids: list[int]) -> list[str]:
    """``<comment_id>`` per row, ``<comment_id>@<row>`` where the id repeats in the file.

    >>> _unit_keys([7, 8, 7])
    ['7@0', '8', '7@2']
    """
    counts = Counter(ids)
    return [f"{i}@{row}" if counts[i] > 1 else str(i) for row, i in enumerate(ids)]


def _as_objects(values: pd.Series) -> list[Any]:
    """Column values as Python objects with None for missing."""
    out: list[Any] = values.to_numpy(
        dtype=object,
        na_value=None,  # type: ignore[call-overload]  # (stubs lack None)
    ).tolist()
    return out


def _line_ends(text: str) -> str:
    """CRLF and CR -> LF: 3 sample comments differ from their sight_dataset copy only so."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass
class _Comments:
    """The comment units (turns) of the files read so far, and what later files add to them.

    Units are kept as plain columns (the file and row that created each, its turn id), so a
    large file costs no Python object per unit beyond what the tables need.
    """

    files: list[_File] = field(default_factory=list)
    file_of: list[int] = field(default_factory=list)
    row_of: list[int] = field(default_factory=list)
    turn_ids: list[str] = field(default_factory=list)
    #: unit -> meta from the rows of later files that are the same comment
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, file: _File) -> list[int]:
        """Add one file's rows; return the unit of each row (an earlier unit or a new one).

        The k-th row of the file with a given (video, text) is the k-th earlier unit with it.
        """
        keys = [(v, _line_ends(t)) for v, t in zip(file.video, file.comment, strict=True)]
        earlier = self._units_with(set(keys))
        positions: list[int] = []
        prefix = f"/comments:{file.id_prefix}"
        for row, key in enumerate(keys):
            units = earlier.get(key)
            if units:  # the next earlier unit with this key, in order
                positions.append(units.pop(0))
                self._join(positions[-1], file, row)
                continue
            positions.append(len(self.turn_ids))
            self.file_of.append(len(self.files))
            self.row_of.append(row)
            self.turn_ids.append(f"{file.video[row]}{prefix}{file.key[row]}")
        self.files.append(file)
        return positions

    def _units_with(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """The units so far whose (video, text with LF line ends) is one of ``keys``, in order."""
        found: dict[tuple[str, str], list[int]] = {}
        for pos, (f, row) in enumerate(zip(self.file_of, self.row_of, strict=True)):
            file = self.files[f]
            key = (file.video[row], _line_ends(file.comment[row]))
            if key in keys:
                found.setdefault(key, []).append(pos)
        return found

    def _join(self, pos: int, file: _File, row: int) -> None:
        meta = self.extra.setdefault(pos, {})
        meta[f"{file.stem}_comment_id"] = file.comment_id[row]
        for c, values in file.meta.items():
            meta[c] = values[row]


def _comment_turns(comments: _Comments) -> dict[str, list[Any]]:
    """The turns table as columns: one turn per unit, indexed per video in order.

    Meta keys: ``comment_id``, ``source``, every file's meta columns in order of appearance, then
    the keys that matching rows of later files add, sorted; a later file fills only what is None.
    """
    files = comments.files
    columns = [c for c in dict.fromkeys(c for f in files for c in f.meta) if c != "source"]
    names = ["comment_id", "source", *columns]
    names += sorted({k for m in comments.extra.values() for k in m} - set(names))
    index: Counter[str] = Counter()
    dialogue, number, text, metas = [], [], [], []
    for pos, (f, row) in enumerate(zip(comments.file_of, comments.row_of, strict=True)):
        file = files[f]
        meta = dict.fromkeys(names)
        meta["comment_id"] = file.comment_id[row]
        meta["source"] = file.stem
        for c, values in file.meta.items():
            meta[c] = values[row]
        for k, v in comments.extra.get(pos, {}).items():
            if meta.get(k) is None:
                meta[k] = v
        video = file.video[row]
        dialogue.append(f"{video}/comments")
        number.append(index[video])
        index[video] += 1
        text.append(file.comment[row])
        metas.append(meta)
    n = len(metas)
    return {  # (turn ids are comment-based, not "<dialogue>:<index>": stable across files)
        "corpus": [CORPUS] * n,
        "dialogue_id": dialogue,
        "turn_id": comments.turn_ids,
        "index": number,
        "role": ["student"] * n,
        "speaker": ["commenter"] * n,
        "text": text,
        "meta": metas,
    }


def _label_columns(comments: _Comments, files: list[_File], positions: list[list[int]]) -> Any:
    """The annotations table as columns: file by file, label column by column, row by row.

    Where several files label one (unit, scheme, rater), only the last file's row is kept; its
    meta lists the ``sources`` and, where labels differ, ``conflicts`` = {file stem: its label}.
    Other rows have empty meta. Only units that rows of several files joined can repeat.
    """
    offsets = np.cumsum([0] + [len(f.pairs) for f in files])
    parts = [
        _file_labels(file, where, first)
        for file, where, first in zip(files, positions, offsets[:-1].tolist(), strict=True)
    ]
    unit, pair, one = (np.concatenate([p[k] for p in parts]) for k in range(3))
    source = np.repeat(np.arange(len(files)), [len(p[0]) for p in parts])
    pairs = [p for f in files for p in f.pairs]  # (scheme, rater) by the codes in `pair`
    label = np.where(one, "1", "0").astype(object)
    keep = np.ones(len(unit), dtype=bool)
    metas: dict[int, dict[str, Any]] = {}  # row -> meta of a label several files give
    groups: dict[tuple[int, str, str], list[int]] = {}
    for i in np.flatnonzero(np.isin(unit, list(comments.extra))).tolist():
        groups.setdefault((int(unit[i]), *pairs[pair[i]]), []).append(i)
    for rows in groups.values():
        if len(rows) > 1:
            *earlier, last = rows
            keep[earlier] = False
            stems = [files[k].stem for k in source[rows].tolist()]
            metas[last] = {"sources": stems}
            conflicts = {
                stem: label[i]
                for stem, i in zip(stems[:-1], earlier, strict=True)
                if label[i] != label[last]
            }
            if conflicts:
                metas[last]["conflicts"] = conflicts
    meta = np.empty(len(unit), dtype=object)
    meta[:] = [metas.get(i) or {} for i in range(len(unit))]  # a new dict per row
    schemes, raters = [s for s, _ in pairs], [r for _, r in pairs]
    kinds = ["human" if _HUMAN_RATER.match(r) else "model" for r in raters]
    n = int(keep.sum())
    return {
        "corpus": [CORPUS] * n,
        "unit_id": np.asarray(comments.turn_ids, dtype=object)[unit[keep]],
        "scheme": np.asarray(schemes, dtype=object)[pair[keep]],
        "label": label[keep],
        "rater": np.asarray(raters, dtype=object)[pair[keep]],
        "rater_kind": np.asarray(kinds, dtype=object)[pair[keep]],
        "run_id": [None] * n,
        "meta": meta[keep],
    }


def _file_labels(
    file: _File, where: list[int], first: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One file's labels, column by column: unit, (scheme, rater) code and whether it is 1.

    ``first`` is the code of the file's first label column.
    """
    cols, rows = np.nonzero(~np.isnan(file.labels))
    units = np.asarray(where, dtype=np.int64)[rows]
    return units, cols + first, file.labels[cols, rows] == 1


def _comments(
    paths: list[Path], sep: str | None, videos: set[str] | None
) -> tuple[dict[str, list[Any]], Any]:
    """The comment turns and their labels (as columns) from the annotation CSVs."""
    comments = _Comments()
    files = [_read_file(path, sep, videos) for path in paths]
    if all(f.rows == 0 for f in files):
        raise InputError(
            "no comments: the annotation CSV has a header but no rows"
            if len(paths) == 1
            else f"no comments: none of the {len(paths)} annotation CSVs has a row",
            path=paths[0],
        )
    positions = [comments.add(file) for file in files]
    return _comment_turns(comments), _label_columns(comments, comments.files, positions)


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


def _lecture_turns(folder: Path, videos: set[str] | None) -> tuple[list[str], list[dict[str, Any]]]:
    """The videos with a transcript (in file name order) and their sentence turns."""
    files = sorted(folder.glob("*.txt"))
    if videos is not None:
        files = [f for f in files if f.stem in videos]
    texts = [read_utf8(f) for f in files]
    vids: list[str] = []
    turns: list[dict[str, Any]] = []
    for f, text, spans in zip(files, texts, split_sentences(texts), strict=True):
        if spans:
            vids.append(f.stem)
        turns += [
            turn_row(
                CORPUS,
                f"{f.stem}/lecture",
                i,
                role="teacher",
                speaker="lecturer",
                text=text[a:b],
                meta={"start_char": a, "end_char": b},
            )
            for i, (a, b) in enumerate(spans)
        ]
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


def _input_files(path: Path) -> tuple[list[Path], Path | None]:
    """The annotation CSVs to read and the release folder (None for a single CSV)."""
    if path.is_file():
        return [require_file(path)], None
    if not path.is_dir():
        raise InputError("no such file or directory", path=path)
    found = _annotation_files(path)
    if not found:
        raise InputError(
            "no annotation CSVs found (expected data/annotations/sight_dataset.csv or "
            "sample_dataset.csv)",
            path=path,
        )
    return found, path


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
    keep = None if videos is None else {str(v) for v in videos}
    paths, folder = _input_files(Path(path))
    turns, labels = _comments(paths, sep, keep)
    comment_vids = [d[: -len("/comments")] for d in dict.fromkeys(turns["dialogue_id"])]
    lecture_vids: list[str] = []
    if folder is not None and transcripts and (folder / "data" / "transcripts").is_dir():
        lecture_vids, lecture = _lecture_turns(folder / "data" / "transcripts", keep)
        turns = {k: v + [t[k] for t in lecture] for k, v in turns.items()}
    sources: dict[str, dict[str, Any]] = {}
    if folder is not None and metadata and (folder / "data" / "metadata").is_dir():
        wanted = dict.fromkeys(comment_vids + lecture_vids)
        sources = _read_metadata(folder / "data" / "metadata", wanted)
    dialogues = [
        dialogue_row(CORPUS, f"{v}/{kind}", kind=kind, meta=_dialogue_meta(v, sources))
        for vids, kind in ((comment_vids, "comments"), (lecture_vids, "lecture"))
        for v in vids
    ]
    return build_corpus(dialogues, turns, labels)
