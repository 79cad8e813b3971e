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

from pathlib import Path
from typing import Any

import pandas as pd

from corpora._common import read_json, source_label, turn_row
from toolkit.errors import InputError
from toolkit.schema import ANNOTATION_COLUMNS, DIALOGUE_COLUMNS, TURN_COLUMNS, Corpus

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


def load(path: Path, **options: Any) -> Corpus:
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
    """
    if options:
        raise InputError(f"cima takes no options, got {', '.join(sorted(options))}")
    file = Path(path)
    if file.is_dir():
        file = file / "dataset.json"
        if not file.is_file():
            raise InputError("no dataset.json in this folder", path=path)
    data = read_json(file)
    if not isinstance(data, dict) or "prepDataset" not in data:
        raise InputError("expected an object with a 'prepDataset' section", path=file)

    d_rows: list[dict[str, Any]] = []
    t_rows: list[dict[str, Any]] = []
    a_rows: list[dict[str, Any]] = []
    convo_of: dict[tuple[str, ...], str] = {}
    order: list[tuple[tuple[str, ...], str]] = []
    for section, prefix in _SECTIONS.items():
        items = data.get(section) or {}
        if not isinstance(items, dict):
            raise InputError("expected an object of items", path=file, field=section)
        for key, item in items.items():
            did = f"{prefix}_{key}"
            where = f"{section}[{key!r}]"
            if not isinstance(item, dict):
                raise InputError(f"{where} is not an object", path=file)
            for k in ("past_convo", "tutorResponses", "tutorActions", "studentActions"):
                if not isinstance(item.get(k), list):
                    raise InputError(f"{where}: missing or not a list", path=file, field=k)
            convo, responses = item["past_convo"], item["tutorResponses"]
            actions, student = item["tutorActions"], item["studentActions"]
            if not convo or not all(isinstance(u, str) for u in convo):
                raise InputError(
                    f"{where}: expected non-empty strings", path=file, field="past_convo"
                )
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
            convo_of.setdefault(tuple(convo), did)  # an exact repeat chains to the first copy
            order.append((tuple(convo), did))
            meta: dict[str, Any] = {k: item.get(k) for k in _META_KEYS}
            meta.update(
                section=section,
                key=key,
                img=_unquote(item.get("img")),
                img_raw=item.get("img"),
                n_context_turns=len(convo),
                n_candidates=len(responses),
            )
            d_rows.append(
                {
                    "corpus": CORPUS,
                    "dialogue_id": did,
                    "split": pd.NA,
                    "kind": "tutoring",
                    "meta": meta,
                }
            )
            for i, text in enumerate(convo):
                role = "teacher" if i % 2 == 0 else "student"
                t_rows.append(
                    turn_row(
                        CORPUS,
                        did,
                        i,
                        role,
                        "tutor" if role == "teacher" else "student",
                        text,
                        {"candidate": False},
                    )
                )
            last = f"{did}:{len(convo) - 1}"
            for scheme, value in zip(STUDENT_ACTIONS, student, strict=True):
                label = _flag(value, file=file, where=where, field="studentActions")
                a_rows.append(_ann(last, scheme, label, value))
            for j, (text, flags) in enumerate(zip(responses, actions, strict=True)):
                idx = len(convo) + j
                tid = f"{did}:{idx}"
                t_rows.append(
                    turn_row(
                        CORPUS,
                        did,
                        idx,
                        "teacher",
                        "tutor",
                        text,
                        {"candidate": True, "response": j},
                    )
                )
                if not isinstance(flags, list) or len(flags) != len(TUTOR_ACTIONS):
                    raise InputError(
                        f"{where}: response {j}: expected {len(TUTOR_ACTIONS)} flags, got {flags!r}"
                        "",
                        path=file,
                        field="tutorActions",
                    )
                for scheme, value in zip(TUTOR_ACTIONS, flags, strict=True):
                    label = _flag(value, file=file, where=where, field="tutorActions")
                    a_rows.append(_ann(tid, scheme, label, value))

    # prefix chains: link each item to its longest proper prefix that is also an item
    parent: dict[str, str | None] = {}
    for convo, did in order:
        first = convo_of[convo]
        parent[did] = (first if first != did else None) or next(
            (convo_of[convo[:k]] for k in range(len(convo) - 1, 0, -1) if convo[:k] in convo_of),
            None,
        )

    def _root(did: str) -> str:
        while (p := parent[did]) is not None:
            did = p
        return did

    for row in d_rows:
        did = row["dialogue_id"]
        row["meta"]["parent"] = parent[did]
        row["meta"]["chain"] = _root(did)
    return Corpus(
        pd.DataFrame(d_rows, columns=list(DIALOGUE_COLUMNS)),
        pd.DataFrame(t_rows, columns=list(TURN_COLUMNS)),
        pd.DataFrame(a_rows, columns=list(ANNOTATION_COLUMNS)),
    )  # corpora.load validates the result


def _ann(unit: str, scheme: str, label: str, raw: Any) -> dict[str, Any]:
    return source_label(CORPUS, unit, scheme, label, RATER, {"raw": raw})
