"""NCTE uptake (Demszky et al., ACL 2021): student->teacher exchanges with majority labels.

Input: ``uptake_data.csv`` (or the corpus folder containing ``data/uptake_data.csv``; the
upstream README calls it ``uptake_dataset.csv``, which is also accepted). One CSV row = one
exchange: a student utterance and the next teacher turn from an NCTE 4th-5th grade math lesson.

Mapping
-------
* One dialogue per row, ``dialogue_id = "<obs_id>_<exchange_idx>"``, ``kind = "exchange"``,
  ``split`` NA (the release has no splits). Dialogue meta keeps ``obs_id`` and ``exchange_idx``;
  resample by ``obs_id`` (the lesson observation), not by exchange.
* Two turns: index 0 the student (role ``student``, speaker ``"student"``), index 1 the teacher.
* Annotations, rater ``ncte_majority`` (``rater_kind`` human), only where the majority is present:

  - ``ncte/student_on_task`` on the student turn, labels ``"0"``/``"1"``;
  - ``ncte/teacher_on_task`` on the teacher turn, labels ``"0"``/``"1"``;
  - ``ncte/uptake`` on the teacher turn, labels ``"0"`` (low), ``"1"`` (mid), ``"2"`` (high)
    (:data:`UPTAKE_LABELS`). An empty ``uptake_majority`` (551 rows, the three raters all
    disagreed) gives no row.

  Each annotation's meta holds the source aggregates: ``mean`` (the raters' mean), ``num_agree``,
  ``zscore`` (mean of per-rater z-scores) and ``majority_raw`` (the float as written); missing
  values are ``None``.

**Per-rater labels are not released**: only these aggregates are, so inter-rater reliability cannot
be recomputed from this corpus; use the majority as a gold label and report ``num_agree``.

Example
-------
>>> import corpora
>>> c = corpora.load("ncte_uptake", "/path/to/corpora/ncte_uptake")  # doctest: +SKIP
>>> c.annotations.scheme.value_counts()["ncte/uptake"]  # doctest: +SKIP
1695
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from corpora._common import Rows, dialogue_row, read_csv_frame, source_label, turn_row
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["ITEMS", "RATER", "SCHEMES", "UPTAKE_LABELS", "load"]

CORPUS = "ncte_uptake"
RATER = "ncte_majority"
#: Items in the file, in column order.
ITEMS: tuple[str, ...] = ("student_on_task", "teacher_on_task", "uptake")
#: Scheme name -> allowed labels (in order).
SCHEMES: dict[str, tuple[str, ...]] = {
    "ncte/student_on_task": ("0", "1"),
    "ncte/teacher_on_task": ("0", "1"),
    "ncte/uptake": ("0", "1", "2"),
}
#: Meaning of the uptake labels (Demszky et al. 2021).
UPTAKE_LABELS: dict[str, str] = {"0": "low", "1": "mid", "2": "high"}
_NAMES = (
    "data/uptake_data.csv",
    "uptake_data.csv",
    "data/uptake_dataset.csv",
    "uptake_dataset.csv",
)
_ID_FIELDS = ("obs_id", "exchange_idx")
_REQUIRED = (
    "obs_id",
    "exchange_idx",
    "student_text",
    "teacher_text",
    *(f"{i}{s}" for i in ITEMS for s in ("", "_num_agree", "_majority", "_zscore")),
)


def _find(path: Path) -> Path:
    if path.is_file():
        return path
    for name in _NAMES:
        if (path / name).is_file():
            return path / name
    raise InputError("no uptake_data.csv in this folder (expected data/uptake_data.csv)", path=path)


def _num(value: Any, *, path: Path, line: int, field: str) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"expected a number (or an empty cell), got {value!r}",
            path=path,
            line=line,
            field=field,
        ) from None
    return int(f) if f.is_integer() and not isinstance(value, float) else f


def _int_label(value: Any, *, path: Path, line: int, field: str, allowed: tuple[str, ...]) -> str:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"expected a number, got {value!r}", path=path, line=line, field=field
        ) from None
    label = str(int(f)) if f.is_integer() else str(f)
    if label not in allowed:
        raise InputError(
            f"expected one of {', '.join(allowed)}, got {value!r}",
            path=path,
            line=line,
            field=field,
        )
    return label


def load(path: Path) -> Corpus:
    """Load the NCTE uptake CSV into a :class:`~toolkit.Corpus` (see the module docstring).

    Parameters
    ----------
    path : Path
        ``uptake_data.csv`` or a folder containing it.

    Raises
    ------
    InputError
        Missing columns, a non-integer id, a label outside the documented values, or a repeated
        ``(obs_id, exchange_idx)``.
    """
    file = _find(Path(path))
    table = read_csv_frame(file, sep=",", dtype={"student_text": object, "teacher_text": object})
    df = table.frame
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=file, line=1)
    if df.empty:
        raise InputError("no exchanges: the file has a header but no rows", path=file)

    rows = Rows()
    seen: dict[str, int] = {}
    for line, rec in zip(table.lines, df.to_dict("records"), strict=True):
        obs, idx = (_id(rec[field], file=file, line=line, field=field) for field in _ID_FIELDS)
        did = f"{obs}_{idx}"
        if did in seen:
            raise InputError(
                f"(obs_id, exchange_idx) = ({obs}, {idx}) repeats line {seen[did]}",
                path=file,
                line=line,
            )
        seen[did] = line
        meta = {"obs_id": obs, "exchange_idx": idx}
        rows.dialogues.append(dialogue_row(CORPUS, did, kind="exchange", meta=meta))
        rows.turns += _exchange_turns(did, rec)
        rows.annotations += _majority_labels(did, rec, file=file, line=line)
    return rows.corpus()  # corpora.load validates the result


def _id(value: Any, *, file: Path, line: int, field: str) -> int:
    try:
        f = float(value)
        if not f.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(
            f"expected an integer, got {value!r}", path=file, line=line, field=field
        ) from None
    return int(f)


def _exchange_turns(did: str, rec: Mapping[Any, Any]) -> list[dict[str, Any]]:
    """The student utterance, then the teacher's reply."""
    return [
        turn_row(
            CORPUS,
            did,
            i,
            role=role,
            speaker=role,
            text=rec[col] if isinstance(rec[col], str) else "",
            meta={},
        )
        for i, (role, col) in enumerate((("student", "student_text"), ("teacher", "teacher_text")))
    ]


def _majority_labels(
    did: str, rec: Mapping[Any, Any], *, file: Path, line: int
) -> list[dict[str, Any]]:
    """The raters' majority of each item (an empty majority gives no row)."""
    out = []
    for item in ITEMS:
        scheme = f"ncte/{item}"
        raw = rec[f"{item}_majority"]
        meta = {  # every aggregate cell is checked, also where the majority is empty
            key: _num(rec[col], path=file, line=line, field=col)
            for key, col in (
                ("mean", item),
                ("num_agree", f"{item}_num_agree"),
                ("zscore", f"{item}_zscore"),
                ("majority_raw", f"{item}_majority"),
            )
        }
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            continue
        label = _int_label(
            raw, path=file, line=line, field=f"{item}_majority", allowed=SCHEMES[scheme]
        )
        unit = f"{did}:0" if item == "student_on_task" else f"{did}:1"
        out.append(source_label(CORPUS, unit, scheme, label, rater=RATER, meta=meta))
    return out
