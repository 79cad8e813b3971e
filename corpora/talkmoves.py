"""TalkMoves (Suresh et al., LREC 2022): K-12 math lessons with teacher and student talk moves.

Input: the corpus folder (``data/Subset 1``, ``data/Subset 2``; either may be absent), the ``data``
folder, one subset folder, one ``.xlsx`` transcript, or any folder of TalkMoves-format ``.xlsx``
files without subset folders (one subset named after the folder). Options: ``subsets``
(``"subset1"``/``"subset2"``, default those present), ``files`` (file names or stems to keep,
e.g. ``["Boats and Fish 1_Grade 4"]``), ``dialog_acts`` (default ``False``; also read the
automatic DAMSL tags of Subset 1).

Mapping
-------
* One dialogue per xlsx file (a lesson), first sheet only (4 files carry a second ``Tags`` legend
  sheet). ``dialogue_id = "<subset>/<file stem>"``, ``split`` = the subset (``subset1`` or
  ``subset2``), ``kind = "classroom"``. Dialogue meta: ``file``, ``subset``, ``columns`` (the raw
  header), ``empty_rows`` (rows dropped, below).
* One turn per sentence row. Headers are mapped by name, not position (case and spaces ignored):
  ``Sentence``, ``Speaker`` (or ``S`` when there is no ``Speaker`` column), ``Teacher Tag``,
  ``Student Tag``, ``Turn``, and the time column ``TimeStamp``/``TImeStamp``/``Video Length`` (or
  ``S``/``SS`` when a ``Speaker`` column exists). The unnamed index column is ignored. Rows whose
  sentence is empty (10 in the release) are dropped and counted in ``empty_rows``. Non-string
  sentences (numbers, the odd Excel date) become text via ``str``; meta ``sentence_type`` names the
  cell type then.
* **Role from the tag columns, not from speaker names**: ``Student Tag`` filled -> ``student``;
  else ``Teacher Tag`` filled -> ``teacher``; neither -> ``other`` (whitespace-only cells count as
  empty). ``speaker`` is the raw speaker string. Meta ``speaker_hint`` is the role suggested by the
  speaker string (``T``, ``T2``, ``Teacher``, ``Ms./Mr./Mrs. ...`` -> teacher; ``S``, ``SS``,
  ``SN``, ``S3``, ``Student(s)``, ``Class`` ... -> student; other names -> ``None``) and
  ``role_conflict`` is ``True`` when that hint disagrees with a tag-based role (teacher/student;
  ``other`` rows are never flagged).
* **"7 - Context"**: in the teacher column it marks *student* lines (6,086 of the 6,120 uses are on
  rows that also carry a student tag); it is not a teacher move. On student turns it is therefore
  **not** emitted as a ``talkmoves/teacher`` annotation; the turn meta keeps ``teacher_tag`` (raw)
  and ``context = True``. On the 34 rows without a student tag it is kept as the label
  ``"7 - Context"`` (it is what the annotators wrote) and the role is ``teacher`` by the rule above
  (about half of these lines are in fact student lines).
* Annotations: ``talkmoves/teacher`` and ``talkmoves/student``, rater ``talkmoves_gold``
  (``rater_kind`` human; one label per sentence, no per-annotator data). Labels are normalised on
  the leading number to the canonical strings of :data:`TEACHER_MOVES` / :data:`STUDENT_MOVES`
  (see :func:`normalise_tag`; the known typos are listed in :data:`KNOWN_VARIANTS`). Annotation
  meta keeps ``raw``. A value with no usable number (``\\``, a number outside the scheme) gives no
  annotation; the turn meta keeps the raw value and ``unparseable`` names the column.
* Turn meta also keeps ``row`` (the 1-based Excel row), ``turn`` (raw ``Turn`` cell) and
  ``timestamp`` (raw cell as text; timestamps are inconsistent, do not rely on them).
* ``dialog_acts=True`` (Subset 1 only): the ``DAMSLTag`` of
  ``Subset1_WithDialogActs/<name>.xlsx_with_dialog_acts.xlsx`` (file names matched
  case-insensitively, padding rows dropped, sentences checked row by row) becomes
  ``talkmoves/dialog_act`` with rater ``damsl_tagger`` and ``rater_kind`` **model** (automatic
  tags); meta ``dialog_act`` keeps the long name.

Example
-------
>>> import corpora
>>> c = corpora.load("talkmoves", "corpora/talkmoves", subsets=["subset1"])  # doctest: +SKIP
>>> c.turns.role.value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from corpora._common import Rows, dialogue_row, source_label, turn_row
from toolkit.errors import InputError, reading_workbook
from toolkit.schema import Corpus

__all__ = [
    "KNOWN_VARIANTS",
    "RATER",
    "STUDENT_MOVES",
    "SUBSETS",
    "TEACHER_MOVES",
    "load",
    "normalise_tag",
    "read_transcript",
    "speaker_hint",
]

CORPUS = "talkmoves"
RATER = "talkmoves_gold"
DA_RATER = "damsl_tagger"
#: Subset key -> folder name under ``data``.
SUBSETS: dict[str, str] = {"subset1": "Subset 1", "subset2": "Subset 2"}
DA_FOLDER = "Subset1_WithDialogActs"
DA_SUFFIX = ".xlsx_with_dialog_acts.xlsx"

#: Leading number -> canonical teacher talk-move label (``talkmoves/teacher``).
TEACHER_MOVES: dict[str, str] = {
    "1": "1 - None",
    "2": "2 - Keeping Everyone Together",
    "3": "3 - Getting Students to Relate",
    "4": "4 - Restating",
    "5": "5 - Revoicing",
    "6": "6 - Marking",
    "7": "7 - Context",
    "8": "8 - Press for Accuracy",
    "9": "9 - Press for Reasoning",
}
#: Leading number -> canonical student talk-move label (``talkmoves/student``).
STUDENT_MOVES: dict[str, str] = {
    "1": "1 - None",
    "2": "2 - Relating to Another Student",
    "3": "3 - Asking for More Information",
    "4": "4 - Making a Claim",
    "5": "5 - Providing Evidence / Explaining Reasoning",
}
CONTEXT = TEACHER_MOVES["7"]
#: Known noisy raw values (anonymisation artefacts, typos, bare numbers) -> (column, canonical).
#: ``None`` = unparseable (no annotation). :func:`normalise_tag` handles them by the leading
#: number; this table documents them and is checked by the tests.
KNOWN_VARIANTS: dict[tuple[str, Any], str | None] = {
    ("teacher", "4 - resSuzannang"): "4 - Restating",
    ("teacher", "8 - PreStudents for Accuracy"): "8 - Press for Accuracy",
    ("teacher", "9 - PreStudents for Reasoning"): "9 - Press for Reasoning",
    ("teacher", "8 - preS for  accuracy"): "8 - Press for Accuracy",
    ("teacher", "9 - preS for reasoning"): "9 - Press for Reasoning",
    ("teacher", "3 - gettingSSto relate"): "3 - Getting Students to Relate",
    ("teacher", "3 - gettingSto relate"): "3 - Getting Students to Relate",
    ("teacher", "3 - getting S to relate"): "3 - Getting Students to Relate",
    ("teacher", "2 - keeping SS together"): "2 - Keeping Everyone Together",
    ("teacher", "6 - marketing"): "6 - Marking",
    ("teacher", "7 - context"): "7 - Context",
    ("teacher", "7\\"): "7 - Context",
    ("teacher", "\\"): None,
    ("teacher", 1): "1 - None",
    ("teacher", 2): "2 - Keeping Everyone Together",
    ("teacher", 8): "8 - Press for Accuracy",
    ("teacher", 128): None,
    ("student", "2 - relating to another S"): "2 - Relating to Another Student",
    ("student", "3 - Asking for Information"): "3 - Asking for More Information",
    ("student", "5 - providing evidence/providing reasoning"): (
        "5 - Providing Evidence / Explaining Reasoning"
    ),
    ("student", "5 - providing evidence / reasoning"): (
        "5 - Providing Evidence / Explaining Reasoning"
    ),
    ("student", "\\"): None,
    ("student", 5): "5 - Providing Evidence / Explaining Reasoning",
}
_LEADING = re.compile(r"^\s*(\d+)(?![\d.])")
_TEACHER_SPK = re.compile(
    r"^(t\d*|teachers?\d*|(ms|mr|mrs|miss|dr)\b.*|co-?teacher.*|instructor.*)$", re.I
)
_STUDENT_SPK = re.compile(
    r"^(s\d*|ss\d*|sn\d*|st\d*|students?\d*|student\(s\)|students?\s*\d+|class|"
    r"(multiple|several|many|some|all|other)\s+students?.*|unknown student.*|group.*)$",
    re.I,
)


def _missing(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, str) and not v.strip())
    )


def normalise_tag(value: Any, column: str) -> str | None:
    """Canonical label of a raw tag cell, or ``None`` if it has no usable leading number.

    ``column`` is ``"teacher"`` or ``"student"``. The number before anything else decides
    (``"4 - resSuzannang"`` -> ``"4 - Restating"``; bare ``8`` or ``8.0`` -> ``"8 - Press for
    Accuracy"``; ``"7\\\\"`` -> ``"7 - Context"``); a number outside the scheme (``128``) or no
    number (``"\\\\"``) gives ``None``.

    >>> normalise_tag("8 - press for  accuracy", "teacher")
    '8 - Press for Accuracy'
    >>> normalise_tag("2 - relating to another S", "student")
    '2 - Relating to Another Student'
    >>> normalise_tag("\\\\", "teacher") is None
    True
    """
    moves = TEACHER_MOVES if column == "teacher" else STUDENT_MOVES
    if _missing(value) or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    m = _LEADING.match(str(value))
    return moves.get(m.group(1).lstrip("0") or "0") if m else None


def speaker_hint(speaker: Any) -> str | None:
    """Role suggested by a raw speaker string (``None`` for names and empty cells).

    >>> speaker_hint("T2"), speaker_hint(" Ms. Carroll "), speaker_hint("SS"), speaker_hint("Erik")
    ('teacher', 'teacher', 'student', None)
    """
    if _missing(speaker):
        return None
    s = str(speaker).strip().rstrip(":").strip()
    if _TEACHER_SPK.match(s):
        return "teacher"
    if _STUDENT_SPK.match(s):
        return "student"
    return None


@functools.lru_cache(maxsize=8192)
def _hint_str(speaker: str) -> str | None:
    return speaker_hint(speaker)


def _hint(speaker: Any) -> str | None:
    return _hint_str(speaker) if isinstance(speaker, str) else speaker_hint(speaker)


@functools.lru_cache(maxsize=8192)
def _tag(value: Any, column: str) -> str | None:
    return normalise_tag(value, column)


def _key(name: Any) -> str:
    return re.sub(r"\s+", "", str(name)).lower()


def _columns(columns: list[Any], file: Path) -> dict[str, Any]:
    """Map roles (sentence, speaker, teacher, student, turn, time) to raw header names."""
    by: dict[str, Any] = {}
    for c in columns:
        by.setdefault(_key(c), c)
    out: dict[str, Any] = {}
    for role, key in (
        ("sentence", "sentence"),
        ("teacher", "teachertag"),
        ("student", "studenttag"),
    ):
        if key not in by:
            raise InputError(
                f"no {role.title() if role == 'sentence' else role.title() + ' Tag'} column "
                f"(header: {', '.join(map(str, columns))})",
                path=file,
                field=role,
            )
        out[role] = by[key]
    time_keys = ["timestamp", "videolength"]
    if "speaker" in by:
        out["speaker"] = by["speaker"]
        time_keys += ["s", "ss"]
    elif "s" in by:
        out["speaker"] = by["s"]
    else:
        raise InputError(
            f"no Speaker column (header: {', '.join(map(str, columns))})",
            path=file,
            field="Speaker",
        )
    out["turn"] = by.get("turn")
    out["time"] = next((by[k] for k in time_keys if k in by), None)
    return out


def _read_sheet(file: Path, engine: str) -> pd.DataFrame:
    with reading_workbook(file):
        frame: pd.DataFrame = pd.read_excel(
            file,
            sheet_name=0,
            engine=engine,  # type: ignore[call-overload]
        )
    return frame


def _cell_value(v: Any) -> Any:
    """A spreadsheet cell as a meta value: blank -> None, a whole float -> int (``2.0`` -> ``2``).

    Excel stores every number as a float and pads cells with spaces, so the same tag reads as
    ``2``, ``2.0`` or ``" "``; this gives one value per idea. numpy scalars become Python
    values; other objects (an Excel date) become their text.
    """
    t = type(v)
    if t is str:
        return v if v.strip() else None
    if t is int or t is bool:
        return v
    if t is float:
        return None if v != v else (int(v) if v.is_integer() else v)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (int, float)):  # numpy scalars
        return _cell_value(v.item() if hasattr(v, "item") else float(v))
    return str(v)


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() if isinstance(v, str) else str(v)


def read_transcript(file: Path, *, subset: str, engine: str = "calamine") -> Corpus:
    """Read one lesson as a corpus of one dialogue (not validated; see :func:`load`)."""
    return _lesson_rows(file, subset, engine).corpus()


def _empty_mask(values: list[Any]) -> list[bool]:
    """``_missing`` for a whole column (inlined for speed)."""
    return [
        v is None or (type(v) is float and v != v) or (type(v) is str and not v.strip())
        for v in values
    ]


def _lesson_rows(file: Path, subset: str, engine: str) -> Rows:
    """The dialogue, turn and annotation rows of one lesson file."""
    df = _read_sheet(file, engine)
    cols = _columns(list(df.columns), file)
    did = f"{subset}/{file.stem}"
    sentences = df[cols["sentence"]].tolist()
    keep = [i for i, empty in enumerate(_empty_mask(sentences)) if not empty]
    tt = df[cols["teacher"]].tolist()
    st = df[cols["student"]].tolist()
    t_empty, s_empty = _empty_mask(tt), _empty_mask(st)
    sp = df[cols["speaker"]].tolist()
    turn = df[cols["turn"]].tolist() if cols["turn"] is not None else [None] * len(df)
    time = df[cols["time"]].tolist() if cols["time"] is not None else [None] * len(df)
    time_empty = _empty_mask(time)
    t_rows: list[dict[str, Any]] = []
    a_rows: list[dict[str, Any]] = []
    for idx, i in enumerate(keep):
        tid = f"{did}:{idx}"
        t_raw, s_raw = tt[i], st[i]
        has_s, has_t = not s_empty[i], not t_empty[i]
        role = "student" if has_s else "teacher" if has_t else "other"
        hint = _hint(sp[i])
        sent = sentences[i]
        meta: dict[str, Any] = {
            "row": i + 2,
            "turn": _cell_value(turn[i]),
            "timestamp": None if time_empty[i] else str(time[i]),
            "teacher_tag": _cell_value(t_raw),
            "student_tag": _cell_value(s_raw),
            "speaker_hint": hint,
            "role_conflict": hint is not None and role != "other" and hint != role,
        }
        if not isinstance(sent, str):
            meta["sentence_type"] = type(sent).__name__
        unparseable = []
        if has_t:
            label = _tag(t_raw, "teacher")
            if label is None:
                unparseable.append("teacher")
            elif label == CONTEXT and role == "student":
                meta["context"] = True
            else:
                a_rows.append(_label(tid, "talkmoves/teacher", label, raw=t_raw))
        if has_s:
            label = _tag(s_raw, "student")
            if label is None:
                unparseable.append("student")
            else:
                a_rows.append(_label(tid, "talkmoves/student", label, raw=s_raw))
        if unparseable:
            meta["unparseable"] = unparseable
        speaker = pd.NA if _missing(sp[i]) else str(sp[i])
        t_rows.append(
            turn_row(CORPUS, did, idx, role=role, speaker=speaker, text=_text(sent), meta=meta)
        )
    meta = {
        "file": file.name,
        "subset": subset,
        "columns": [str(c) for c in df.columns],
        "empty_rows": len(df) - len(keep),
    }
    dialogue = dialogue_row(CORPUS, did, split=subset, kind="classroom", meta=meta)
    return Rows([dialogue], t_rows, a_rows)


def _label(unit: str, scheme: str, label: str, *, raw: Any) -> dict[str, Any]:
    """A gold talk-move label; meta ``raw`` keeps the cell as written."""
    return source_label(CORPUS, unit, scheme, label, rater=RATER, meta={"raw": _cell_value(raw)})


def _dialog_acts(file: Path, turns: list[dict[str, Any]], engine: str) -> list[dict[str, Any]]:
    """DAMSL annotations of one Subset 1 lesson, aligned with its turns."""
    df = _read_sheet(file, engine)
    cols = _columns(list(df.columns), file)
    by = {_key(c): c for c in df.columns}
    if "damsltag" not in by:
        raise InputError("no DAMSLTag column", path=file, field="DAMSLTag")
    df = df[[not _missing(s) for s in df[cols["sentence"]]]]
    if len(df) != len(turns):
        raise InputError(f"{len(df)} sentences, but the transcript has {len(turns)}", path=file)
    rows = []
    acts = df[by["dialogact"]].tolist() if "dialogact" in by else [None] * len(df)
    for turn, sent, tag, act in zip(
        turns, df[cols["sentence"]], df[by["damsltag"]], acts, strict=True
    ):
        tid, text = turn["turn_id"], turn["text"]
        if _text(sent) != text:
            raise InputError(f"sentence of {tid} differs from the transcript", path=file)
        if not _missing(tag):
            rows.append(
                source_label(
                    CORPUS,
                    tid,
                    "talkmoves/dialog_act",
                    str(tag).strip(),
                    rater=DA_RATER,
                    rater_kind="model",
                    meta={"dialog_act": _cell_value(act)},
                )
            )
    return rows


def _data_dir(path: Path) -> Path:
    return path / "data" if (path / "data").is_dir() else path


def _lesson_folders(path: Path, subsets: Iterable[str] | None) -> list[tuple[str, Path]]:
    """``(subset, folder)`` pairs: the subset folders asked for, or else those present.

    A subset folder itself is that subset. A folder without ``Subset 1``/``Subset 2`` (in it or
    in its ``data/``) is one subset of its own, named after the folder: any folder of
    TalkMoves-format ``.xlsx`` files loads.
    """
    if path.name in SUBSETS.values():
        return [(next(k for k, v in SUBSETS.items() if v == path.name), path)]
    base = _data_dir(path)
    present = [k for k, name in SUBSETS.items() if (base / name).is_dir()]
    if subsets is None:
        if not present:
            return [(base.resolve().name or "subset", base)]
        return [(k, base / SUBSETS[k]) for k in present]
    wanted = [subsets] if isinstance(subsets, str) else list(subsets)
    bad = [s for s in wanted if s not in SUBSETS]
    if bad:
        raise InputError(f"unknown subset(s) {', '.join(bad)}; choose from {', '.join(SUBSETS)}")
    missing = [SUBSETS[s] for s in wanted if s not in present]
    if missing:
        raise InputError(f"missing folder {missing[0]!r}", path=base)
    return [(s, base / SUBSETS[s]) for s in wanted]


def discover(
    path: Path, subsets: Iterable[str] | None = None, files: Iterable[str] | None = None
) -> list[tuple[str, Path]]:
    """List ``(subset, file)`` pairs to load from ``path`` (see :func:`load`)."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".xlsx":
            raise InputError("expected an .xlsx transcript", path=path)
        sub = next((k for k, v in SUBSETS.items() if path.parent.name == v), "subset")
        return [(sub, path)]
    dirs = _lesson_folders(path, subsets)
    out = [(s, f) for s, d in dirs for f in sorted(d.glob("*.xlsx")) if not f.name.startswith("~$")]
    if files is not None:
        names = {files} if isinstance(files, str) else set(files)
        out = [(s, f) for s, f in out if f.name in names or f.stem in names]
        found = {f.name for _, f in out} | {f.stem for _, f in out}
        if names - found:
            raise InputError(
                f"no such transcript(s): {', '.join(sorted(names - found))}", path=path
            )
    return out


def load(
    path: Path,
    *,
    subsets: Iterable[str] | None = None,
    files: Iterable[str] | None = None,
    dialog_acts: bool = False,
    engine: str = "calamine",
) -> Corpus:
    """Load TalkMoves transcripts into a :class:`~toolkit.Corpus` (see the module docstring).

    Parameters
    ----------
    path : Path
        Corpus folder, its ``data`` folder, a subset folder or one ``.xlsx`` file.
    subsets : iterable of {"subset1", "subset2"}, optional
        Subsets to read (default both).
    files : iterable of str, optional
        Keep only these transcripts (file names or stems).
    dialog_acts : bool
        Also load the automatic DAMSL dialog acts (Subset 1 only), rater_kind ``model``.
    engine : {"calamine", "openpyxl"}
        pandas Excel engine; calamine is several times faster.

    Raises
    ------
    InputError
        An unreadable xlsx, a sheet without Sentence/Speaker/tag columns, an unknown subset or
        file, a dialog-act file that does not line up with its transcript.
    """
    todo = discover(Path(path), subsets, files)
    if not todo:
        raise InputError("no .xlsx transcripts found", path=path)
    rows = Rows()
    da_dir = _data_dir(Path(path)) / DA_FOLDER if Path(path).is_dir() else None
    da_files: dict[str, Path] = {}
    if dialog_acts:
        if da_dir is None or not da_dir.is_dir():
            raise InputError(f"dialog_acts=True needs the {DA_FOLDER} folder", path=path)
        da_files = {f.name[: -len(DA_SUFFIX)].lower(): f for f in da_dir.glob("*" + DA_SUFFIX)}
    for subset, file in todo:
        lesson = _lesson_rows(file, subset, engine)
        rows.dialogues += lesson.dialogues
        rows.turns += lesson.turns
        rows.annotations += lesson.annotations
        if dialog_acts and subset == "subset1":
            da = da_files.get(file.stem.lower())
            if da is None:
                raise InputError(f"no dialog-act file for {file.name}", path=da_dir)
            rows.annotations += _dialog_acts(da, lesson.turns, engine)
    return rows.corpus()  # not validated here: corpora.load validates the result once
