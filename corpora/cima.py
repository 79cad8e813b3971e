"""CIMA (Stasaski, Kao & Hearst, BEA 2020): Italian tutoring prefixes with candidate tutor replies.

Input: ``dataset.json`` or the folder containing it: ``{"prepDataset": {"0": item, ...},
"shapeDataset": {...}}`` (``shapeDataset`` is empty in the release; its items would load the same
way with a ``shape_`` prefix).

Mapping
-------
* One dialogue per item, ``dialogue_id = "prep_<key>"``, ``kind = "tutoring"``, ``split`` NA (no
  splits are released).
* Turns ``0..n-1`` are ``past_convo``, alternating tutor/student with the tutor first (even index ->
  role ``teacher``, speaker ``"tutor"``; odd -> ``student``). Then each candidate in
  ``tutorResponses`` is a turn with role ``teacher`` and meta ``{"candidate": True, "response": j}``
  (0-based). Candidates are alternative next tutor turns written by different crowdworkers, not a
  sequence.
* Tutor actions: one scheme per flag, ``cima/question``, ``cima/hint`` (hint/information reveal),
  ``cima/correction``, ``cima/confirmation``, ``cima/other``, each ``"1"``/``"0"`` on every
  candidate turn (:data:`TUTOR_ACTIONS`). Per-flag binary schemes were chosen over one
  multi-label scheme because 969 responses carry two or more flags and binary schemes keep every
  IRR metric applicable per action.
* Student actions of the last ``past_convo`` turn: ``cima/student_guess``,
  ``cima/student_question``, ``cima/student_affirmation``, ``cima/student_other`` with
  ``"1"``/``"0"`` (:data:`STUDENT_ACTIONS`); the source strings ``"True"``/``"False"`` are kept
  as meta ``raw``.
* All labels: rater ``cima_gold``, ``rater_kind`` human (the crowdworkers' own action labels;
  one label per unit, no inter-annotator data).
* **Non-independence**: items are prefixes of growing conversations (752 items have a shorter prefix
  that is also an item). Dialogue meta ``chain`` is the dialogue id of the shortest item of the
  item's prefix chain (each item is linked to its longest proper prefix that is also an item);
  ``parent`` is that prefix's dialogue id (``None`` for chain roots). Resample and split by
  ``chain``. Meta also keeps ``img`` (surrounding quotes removed; ``img_raw`` verbatim), ``prep``,
  ``engPrep``, ``obj``, ``engObj``, ``color``, ``engColor`` and ``grammarRules`` (raw string: only
  720 of 1,135 parse as JSON).

Example
-------
>>> import corpora
>>> c = corpora.load("cima", "/path/to/corpora/cima")  # doctest: +SKIP
>>> c.dialogues.meta.map(lambda m: m["chain"]).nunique()  # doctest: +SKIP
383
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpora._common import Rows, dialogue_row, read_json, source_label, turn_row
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["RATER", "STUDENT_ACTIONS", "TUTOR_ACTIONS", "load"]

CORPUS = "cima"
RATER = "cima_gold"
#: Schemes of the 5 ``tutorActions`` flags, in source order.
TUTOR_ACTIONS: tuple[str, ...] = (
    "cima/question",
    "cima/hint",
    "cima/correction",
    "cima/confirmation",
    "cima/other",
)
#: Schemes of the 4 ``studentActions`` flags, in source order.
STUDENT_ACTIONS: tuple[str, ...] = (
    "cima/student_guess",
    "cima/student_question",
    "cima/student_affirmation",
    "cima/student_other",
)
_META_KEYS = ("prep", "engPrep", "obj", "engObj", "color", "engColor", "grammarRules")
_SECTIONS = {"prepDataset": "prep", "shapeDataset": "shape"}


def _flag(value: Any, *, file: Path, where: str, field: str) -> str:
    if value is True or value == "True":
        return "1"
    if value is False or value == "False":
        return "0"
    raise InputError(f"{where}: expected true/false, got {value!r}", path=file, field=field)


def _unquote(img: Any) -> Any:
    if isinstance(img, str) and len(img) >= 2 and img[0] == img[-1] == '"':
        return img[1:-1]
    return img


@dataclass(frozen=True)
class _Item:
    """One CIMA item with its place in the file (for ids and error messages)."""

    section: str
    key: str
    dialogue_id: str
    data: dict[str, Any]
    file: Path

    @property
    def where(self) -> str:
        return f"{self.section}[{self.key!r}]"

    @property
    def convo(self) -> list[str]:
        return list(self.data["past_convo"])


def load(path: Path) -> Corpus:
    """Load CIMA into a :class:`~toolkit.Corpus` (see the module docstring).

    Parameters
    ----------
    path : Path
        ``dataset.json`` or its folder.

    Raises
    ------
    InputError
        Invalid JSON, a missing section or key, a non-string utterance, a ``tutorActions`` list that
        does not match ``tutorResponses`` or a flag that is not a 5/4-element true/false list.

    Examples
    --------
    >>> import corpora                                                 # doctest: +SKIP
    >>> corpora.load("cima", "corpora/cima")                           # doctest: +SKIP
    Corpus(cima: 1135 dialogues, 8561 turns, 21115 annotations)
    """
    file = _dataset_file(Path(path))
    rows = Rows()
    items: list[_Item] = []
    for item in _items(read_json(file), file):  # errors in file order
        _check_item(item)
        items.append(item)
        rows.dialogues.append(_dialogue_row(item))
        rows.turns += _context_turns(item)
        rows.annotations += _student_labels(item)
        turns, labels = _candidates(item)
        rows.turns += turns
        rows.annotations += labels
    if not items:
        raise InputError("no items: the dataset's sections are empty", path=file)
    parents = _parents(items)
    for row in rows.dialogues:
        row["meta"]["parent"] = parents[row["dialogue_id"]]
        row["meta"]["chain"] = _root(row["dialogue_id"], parents)
    return rows.corpus()


def _dataset_file(path: Path) -> Path:
    if not path.is_dir():
        return path
    file = path / "dataset.json"
    if not file.is_file():
        raise InputError("no dataset.json in this folder", path=path)
    return file


def _items(data: Any, file: Path) -> Iterator[_Item]:
    """The items of every section, in file order."""
    if not isinstance(data, dict) or "prepDataset" not in data:
        raise InputError("expected an object with a 'prepDataset' section", path=file)
    for section, prefix in _SECTIONS.items():
        items = data.get(section) or {}
        if not isinstance(items, dict):
            raise InputError("expected an object of items", path=file, field=section)
        for key, item in items.items():
            if not isinstance(item, dict):
                raise InputError(f"{section}[{key!r}] is not an object", path=file)
            yield _Item(section, key, f"{prefix}_{key}", item, file)


def _check_item(item: _Item) -> None:
    """The item's lists are there and fit together (flag values are checked as they are read)."""
    where, file, data = item.where, item.file, item.data
    for k in ("past_convo", "tutorResponses", "tutorActions", "studentActions"):
        if not isinstance(data.get(k), list):
            raise InputError(f"{where}: missing or not a list", path=file, field=k)
    convo, responses = data["past_convo"], data["tutorResponses"]
    actions, student = data["tutorActions"], data["studentActions"]
    if not convo or not all(isinstance(u, str) for u in convo):
        raise InputError(f"{where}: expected non-empty strings", path=file, field="past_convo")
    if not all(isinstance(r, str) for r in responses):
        raise InputError(f"{where}: expected strings", path=file, field="tutorResponses")
    if len(actions) != len(responses):
        raise InputError(
            f"{where}: {len(actions)} action lists for {len(responses)} responses",
            path=file,
            field="tutorActions",
        )
    if len(student) != len(STUDENT_ACTIONS):
        raise InputError(
            f"{where}: expected {len(STUDENT_ACTIONS)} flags, got {len(student)}",
            path=file,
            field="studentActions",
        )


def _dialogue_row(item: _Item) -> dict[str, Any]:
    data = item.data
    meta: dict[str, Any] = {k: data.get(k) for k in _META_KEYS}
    meta.update(
        section=item.section,
        key=item.key,
        img=_unquote(data.get("img")),
        img_raw=data.get("img"),
        n_context_turns=len(data["past_convo"]),
        n_candidates=len(data["tutorResponses"]),
    )
    return dialogue_row(CORPUS, item.dialogue_id, meta=meta)


def _context_turns(item: _Item) -> list[dict[str, Any]]:
    """``past_convo``: tutor first, then alternating with the student."""
    return [
        turn_row(
            CORPUS,
            item.dialogue_id,
            i,
            role="teacher" if i % 2 == 0 else "student",
            speaker="tutor" if i % 2 == 0 else "student",
            text=text,
            meta={"candidate": False},
        )
        for i, text in enumerate(item.convo)
    ]


def _student_labels(item: _Item) -> list[dict[str, Any]]:
    """The ``studentActions`` flags, on the last ``past_convo`` turn."""
    last = f"{item.dialogue_id}:{len(item.convo) - 1}"
    out = []
    for scheme, value in zip(STUDENT_ACTIONS, item.data["studentActions"], strict=True):
        label = _flag(value, file=item.file, where=item.where, field="studentActions")
        out.append(_label(last, scheme, label, value))
    return out


def _candidates(item: _Item) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One turn per ``tutorResponses`` entry and its five ``tutorActions`` flags."""
    data, first = item.data, len(item.convo)
    turns, labels = [], []
    for j, (text, flags) in enumerate(
        zip(data["tutorResponses"], data["tutorActions"], strict=True)
    ):
        turns.append(
            turn_row(
                CORPUS,
                item.dialogue_id,
                first + j,
                role="teacher",
                speaker="tutor",
                text=text,
                meta={"candidate": True, "response": j},
            )
        )
        if not isinstance(flags, list) or len(flags) != len(TUTOR_ACTIONS):
            raise InputError(
                f"{item.where}: response {j}: expected {len(TUTOR_ACTIONS)} flags, got {flags!r}",
                path=item.file,
                field="tutorActions",
            )
        unit = f"{item.dialogue_id}:{first + j}"
        for scheme, value in zip(TUTOR_ACTIONS, flags, strict=True):
            label = _flag(value, file=item.file, where=item.where, field="tutorActions")
            labels.append(_label(unit, scheme, label, value))
    return turns, labels


def _parents(items: list[_Item]) -> dict[str, str | None]:
    """Each item's longest proper prefix that is also an item (an exact repeat: its first copy)."""
    first: dict[tuple[str, ...], str] = {}
    for item in items:
        first.setdefault(tuple(item.convo), item.dialogue_id)
    parent: dict[str, str | None] = {}
    for item in items:
        convo, did = tuple(item.convo), item.dialogue_id
        repeat = first[convo]
        parent[did] = (repeat if repeat != did else None) or next(
            (first[convo[:k]] for k in range(len(convo) - 1, 0, -1) if convo[:k] in first),
            None,
        )
    return parent


def _root(dialogue_id: str, parents: dict[str, str | None]) -> str:
    while (parent := parents[dialogue_id]) is not None:
        dialogue_id = parent
    return dialogue_id


def _label(unit: str, scheme: str, label: str, raw: Any) -> dict[str, Any]:
    return source_label(CORPUS, unit, scheme, label, rater=RATER, meta={"raw": raw})
