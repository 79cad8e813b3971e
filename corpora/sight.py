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
  ``video_name``, ``playlist_name``, ``datasplit``, ``<stem>_comment_id`` of matching rows in
  later files; missing values are None.

Examples
--------
>>> import corpora                                                               # doctest: +SKIP
>>> corpora.load("sight", "corpora/sight", transcripts=False)                    # doctest: +SKIP
Corpus(sight: 272 dialogues, 15784 turns, ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
def _read_annotation_file(path: Path, sep: str | None) -> pd.DataFrame:
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
        bad = frame[col].isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError("value is missing", path=path, line=row + 2, field=col)
        if not pd.api.types.is_string_dtype(frame[col]):  # e.g. all-digit ids parsed as numbers
            frame[col] = frame[col].astype("str")
    ids = pd.to_numeric(frame["comment_id"], errors="coerce")
    bad = ids.isna() | (ids != ids.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected an integer comment id, got {_plain(frame['comment_id'].iloc[row])!r}",
            path=path,
            line=row + 2,
            field="comment_id",
        )
    frame["comment_id"] = ids.astype("int64")
    return frame


def _label_matrix(frame: pd.DataFrame, cols: list[str], path: Path) -> np.ndarray:
    """The label columns as a float matrix (NaN = no label); any value but 0/1 is an InputError."""
    if not cols:
        return np.empty((len(frame), 0))
    block = frame[cols]
    matrix = np.empty((len(frame), len(cols)))
    text_bad = np.zeros(matrix.shape, dtype=bool)
    plain = [
        j for j, dt in enumerate(block.dtypes) if isinstance(dt, np.dtype) and dt.kind in "fiu"
    ]
    if plain:  # numpy int/float columns (the usual case), converted in one go
        matrix[:, plain] = block.iloc[:, plain].to_numpy(dtype=float)
    done = set(plain)
    for j, col in enumerate(cols):
        if j in done:
            continue
        values = block[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            matrix[:, j] = values.to_numpy(dtype=float, na_value=np.nan)
        else:  # text in a label column: numbers written as text are fine, words are not
            numeric = pd.to_numeric(values, errors="coerce")
            matrix[:, j] = numeric.to_numpy(dtype=float, na_value=np.nan)
            text_bad[:, j] = (values.notna() & numeric.isna()).to_numpy()
    bad = text_bad | (~np.isnan(matrix) & (matrix != 0) & (matrix != 1))
    if bad.any():
        row, j = (int(x) for x in np.argwhere(bad)[0])
        raise InputError(
            f"expected a label 0 or 1 (or empty), got {_plain(block[cols[j]].iloc[row])!r}",
            path=path,
            line=row + 2,
            field=cols[j],
        )
    return matrix


def _unit_keys(frame: pd.DataFrame, stem: str) -> pd.Series:
    """``<prefix><comment_id>`` per row (``@<row>`` appended to repeated ids), a str Series."""
    prefix = _PREFIX.get(stem, f"{stem}-")
    ids = frame["comment_id"]  # int64
    keys = prefix + ids.astype("str")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        keys.iloc[rows] = pd.Series(
            [f"{k}@{r}" for k, r in zip(keys.iloc[rows].tolist(), rows.tolist(), strict=True)],
            index=keys.index[rows],
            dtype="str",
        )
    return keys


def _match_key(video: pd.Series, text: pd.Series) -> pd.Series:
    # str dtype: adding "\x00" to an object column would drop it (numpy strips trailing NULs)
    text = text.astype("str").str.replace("\r\n", "\n", regex=False)
    return video.astype("str") + "\x00" + text.str.replace("\r", "\n", regex=False)


def _repeat(value: str, n: int) -> Any:
    """A str array of ``n`` copies of ``value``."""
    return pd.array([value], dtype="str").take(np.zeros(n, dtype=np.intp))


def _occurrence(codes: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions have the same code (0, 1, ...)."""
    return pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()


def _as_objects(values: pd.Series) -> list[Any]:
    """Column values as Python objects with None for missing."""
    out: list[Any] = values.to_numpy(
        dtype=object, na_value=None  # type: ignore[call-overload]  # (stubs lack None)
    ).tolist()
    return out


def _load_annotations(
    paths: list[Path], sep: str | None, videos: set[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turns (comments) and annotations from one or more annotation CSVs."""
    unit_frames: list[pd.DataFrame] = []  # per file: the new units it creates, in order
    matched_meta: dict[int, dict[str, Any]] = {}  # unit position -> meta from later files
    pair_ids: dict[tuple[str, str], int] = {}  # (scheme, rater) -> small int
    ann_pos: list[np.ndarray] = []
    ann_pair: list[np.ndarray] = []
    ann_label: list[np.ndarray] = []
    ann_source: list[str] = []
    ann_sizes: list[int] = []
    n_units = 0
    for path in paths:
        stem = path.stem
        frame = _read_annotation_file(path, sep)
        label_cols: list[str] = []
        pairs: list[int] = []
        for c in frame.columns:
            rc = parse_label_column(str(c))
            if rc is not None:
                label_cols.append(c)
                pairs.append(pair_ids.setdefault((f"sight/{rc[1]}", rc[0]), len(pair_ids)))
        meta_cols = [
            str(c)
            for c in frame.columns
            if parse_label_column(str(c)) is None
            and not _IGNORED_COL.match(str(c))
            and c not in ("comment", "video_id", "comment_id")
        ]
        matrix = _label_matrix(frame, label_cols, path)  # validate every row first
        keys = _unit_keys(frame, stem)  # from the whole file, so ids do not depend on `videos`
        if videos is not None:
            keep = frame["video_id"].isin(videos).to_numpy()
            frame = frame[keep].reset_index(drop=True)
            matrix, keys = matrix[keep], keys[keep].reset_index(drop=True)
        position = np.full(len(frame), -1, dtype=np.int64)
        if n_units and len(frame):
            earlier = pd.concat([u[["video_id", "text"]] for u in unit_frames], ignore_index=True)
            earlier = earlier[earlier["video_id"].isin(frame["video_id"])]
            # the k-th row with a given (video, text) key matches the k-th earlier unit with it
            left_mk = _match_key(frame["video_id"], frame["comment"])
            right_mk = _match_key(earlier["video_id"], earlier["text"])
            codes = pd.factorize(pd.concat([left_mk, right_mk], ignore_index=True))[0]
            left_code, right_code = codes[: len(left_mk)], codes[len(left_mk) :]
            width = len(codes) + 1
            right_key = right_code * width + _occurrence(right_code)  # unique
            found = pd.Index(right_key).get_indexer(left_code * width + _occurrence(left_code))
            rows = np.flatnonzero(found >= 0)
            position[rows] = earlier.index.to_numpy()[found[rows]]
            ids = frame["comment_id"].to_numpy()
            extra = {c: _as_objects(frame[c]) for c in meta_cols}
            for row, pos in zip(rows.tolist(), position[rows].tolist(), strict=True):
                meta = matched_meta.setdefault(pos, {})
                meta[f"{stem}_comment_id"] = int(ids[row])
                for c in meta_cols:
                    meta[c] = extra[c][row]
        new = position < 0
        n_new = int(new.sum())
        position[new] = np.arange(n_units, n_units + n_new)
        sub = frame if new.all() else frame[new].reset_index(drop=True)
        units = pd.DataFrame(
            {
                "video_id": sub["video_id"],
                "text": sub["comment"],
                "key": keys if sub is frame else keys[new].reset_index(drop=True),
                "comment_id": sub["comment_id"],
                "source": pd.Series(stem, index=sub.index, dtype="str"),
                **{c: sub[c] for c in meta_cols},
            }
        )
        unit_frames.append(units)
        n_units += n_new
        # annotations of this file, column by column, addressed by unit position
        cols, rows = np.nonzero(~np.isnan(matrix.T))
        ann_pos.append(position[rows])
        ann_pair.append(np.asarray(pairs, dtype=np.int64)[cols])
        ann_label.append(matrix[rows, cols] == 1)
        ann_source.append(stem)
        ann_sizes.append(len(rows))
    all_units = pd.concat(unit_frames, ignore_index=True)
    turns = _unit_turns(all_units, matched_meta)
    unit_ids = turns["turn_id"]
    annotations = _annotation_rows(
        unit_ids, pair_ids, ann_pos, ann_pair, ann_label, ann_source, ann_sizes
    )
    return turns, annotations


def _unit_turns(units: pd.DataFrame, matched_meta: dict[int, dict[str, Any]]) -> pd.DataFrame:
    n = len(units)
    dialogue_id = (units["video_id"] + "/comments").astype("str")
    meta_keys = [c for c in units.columns if c not in ("video_id", "text", "key")]
    extra_keys = sorted({k for m in matched_meta.values() for k in m} - set(meta_keys))
    columns: list[list[Any]] = [units["comment_id"].astype("int64").tolist()]
    columns += [_as_objects(units[c]) for c in meta_keys[1:]]
    columns += [[None] * n for _ in extra_keys]
    metas = records(meta_keys + extra_keys, columns, n)
    for pos, extra in matched_meta.items():
        meta = metas[pos]
        for k, v in extra.items():
            if meta.get(k) is None:
                meta[k] = v
    codes = pd.factorize(dialogue_id)[0]
    return pd.DataFrame(
        {
            "corpus": _repeat(CORPUS, n),
            "dialogue_id": dialogue_id,
            "turn_id": dialogue_id + ":" + units["key"].astype("str"),
            "index": pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy(),
            "role": _repeat("student", n),
            "speaker": _repeat("commenter", n),
            "text": units["text"].astype("str"),
            "meta": metas,
        }
    )


def _annotation_rows(
    unit_ids: pd.Series,
    pair_ids: dict[tuple[str, str], int],
    positions: list[np.ndarray],
    pairs: list[np.ndarray],
    labels: list[np.ndarray],
    sources: list[str],
    sizes: list[int],
) -> pd.DataFrame:
    pos = np.concatenate(positions) if positions else np.empty(0, dtype=np.int64)
    pair = np.concatenate(pairs) if pairs else np.empty(0, dtype=np.int64)
    label = np.concatenate(labels) if labels else np.empty(0, dtype=bool)
    ends = np.cumsum(sizes)  # rows of file k are ends[k-1] .. ends[k]-1
    table = list(pair_ids)  # index -> (scheme, rater)
    schemes = np.array([s for s, _ in table], dtype=object)
    raters = np.array([r for _, r in table], dtype=object)
    kinds = np.array(["human" if _HUMAN_RATER.match(r) else "model" for r in raters], dtype=object)
    special: dict[int, dict[str, Any]] = {}  # row -> meta of a label given by several files
    keep = np.ones(len(pos), dtype=bool)
    key = pos * max(len(table), 1) + pair
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        groups: dict[int, list[int]] = {}
        for i in np.flatnonzero(dup).tolist():
            groups.setdefault(int(key[i]), []).append(i)
        for rows in groups.values():
            last = rows[-1]  # the later file wins
            source = [sources[k] for k in np.searchsorted(ends, rows, side="right").tolist()]
            text = ["1" if label[i] else "0" for i in rows]
            meta: dict[str, Any] = {"sources": source}
            conflicts = {
                source[j]: text[j] for j in range(len(rows) - 1) if text[j] != text[-1]
            }
            if conflicts:
                meta["conflicts"] = conflicts
            special[last] = meta
            keep[rows[:-1]] = False
    if not keep.all():  # drop the overridden rows before building the columns
        new_row = np.cumsum(keep) - 1
        special = {int(new_row[i]): m for i, m in special.items()}
        pos, pair, label = pos[keep], pair[keep], label[keep]
    n = len(pos)
    metas: list[Any] = [{} for _ in range(n)]
    for i, m in special.items():
        metas[i] = m

    def take(values: np.ndarray | pd.Series, codes: np.ndarray) -> Any:
        # an Arrow ``take`` is cheaper than converting an object array of repeated strings
        array = values.array if isinstance(values, pd.Series) else pd.array(values, dtype="str")
        return array.take(codes)

    zeros = np.zeros(n, dtype=np.intp)
    return pd.DataFrame(
        {
            "corpus": take(np.array([CORPUS], dtype=object), zeros),
            "unit_id": take(unit_ids, pos),
            "scheme": take(schemes, pair),
            "label": take(np.array(["0", "1"], dtype=object), label.astype(np.intp)),
            "rater": take(raters, pair),
            "rater_kind": take(kinds, pair),
            "run_id": take(np.array([None], dtype=object), zeros),
            "meta": np.fromiter(metas, dtype=object, count=n),
        }
    )


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
    meta["video_id"] = vid
    return meta


def _lecture_turns(
    folder: Path, videos: set[str] | None
) -> tuple[list[str], pd.DataFrame]:
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

    turns, annotations = _load_annotations(ann_paths, sep, keep)
    comment_vids = [
        str(d).removesuffix("/comments") for d in pd.unique(turns["dialogue_id"])
    ]
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
    dialogues = pd.DataFrame(
        {
            "corpus": CORPUS,
            "dialogue_id": [f"{v}/comments" for v in comment_vids]
            + [f"{v}/lecture" for v in lecture_vids],
            "split": None,
            "kind": ["comments"] * len(comment_vids) + ["lecture"] * len(lecture_vids),
            "meta": [_dialogue_meta(v, meta_src) for v in comment_vids + lecture_vids],
        },
        columns=list(DIALOGUE_COLUMNS),
    )
    all_turns = turns if lecture_turns is None else pd.concat(
        [turns, lecture_turns], ignore_index=True
    )
    return Corpus(dialogues, all_turns[list(TURN_COLUMNS)], annotations)

