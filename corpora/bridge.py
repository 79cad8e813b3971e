"""Bridge (Wang et al., NAACL 2024): novice tutor replies, expert revisions and expert labels.

Input: the corpus folder (containing ``dataset/train.json`` and ``dataset/validation.json``), the
``dataset`` folder, or one of the two JSON files. Option ``splits`` (default both) selects files.

Mapping
-------
* **One dialogue per context** (``c_id``), ``kind = "tutoring"``. ``c_id`` is not unique in the
  release: 111 contexts occur twice with identical history and novice reply but a different expert
  revision and labels -- two anonymous expert annotations of one context. They become one dialogue
  with two raters, ``expert_1`` (first occurrence, train before validation, file order) and
  ``expert_2``. The loader checks that the history, novice reply and topic are identical.
* ``split`` is the file of the first occurrence. 27 double-annotated contexts straddle train and
  validation; their dialogue meta ``splits`` lists both files and each annotation's meta names its
  file. Split by ``meta["conversation"]`` (the part of ``c_id`` before ``_``) to avoid leakage.
* Turns, in order: the 4 history turns (``c_h``, meta ``source="c_h"``), the novice tutor's reply
  (``c_r``, ``source="c_r"``), then for each expert the revised exchange ``c_revision``: its first
  turns equal ``c_r_`` (``source="c_r_"``, ``revised=True``), the rest continue the rewritten
  exchange (``source="c_revision"``, ``revised=True``); every revised turn has meta ``expert``.
  Revised turns are alternatives to the novice reply, not a continuation of it: filter on
  ``meta["source"]`` to get one linear conversation. ``user`` tutor -> role ``teacher``, student ->
  ``student`` (raw in ``speaker``); ``id`` and ``time`` go to meta.
* Annotations on the dialogue (both experts label the same context, so the unit is shared), rater
  ``expert_1``/``expert_2``, ``rater_kind`` human: ``bridge/error`` (``e``), ``bridge/strategy``
  (``z_what``), ``bridge/intention`` (``z_why``). Labels outside the canonical sets
  (:data:`SCHEMES`) become ``"other"``; meta keeps ``raw`` (verbatim, including trailing newlines),
  ``file`` and ``item`` (0-based position in the file).

Example
-------
>>> import corpora
>>> c = corpora.load("bridge", "/path/to/corpora/bridge")  # doctest: +SKIP
>>> len(c.dialogues), c.annotations.rater.value_counts()["expert_2"]  # doctest: +SKIP
(379, 333)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpora._common import Rows, dialogue_row, read_json, source_label, turn_row
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["ERRORS", "INTENTIONS", "SCHEMES", "SPLITS", "STRATEGIES", "load"]

CORPUS = "bridge"
SPLITS: tuple[str, ...] = ("train", "validation")
#: Canonical error types (``e``), as in the paper's taxonomy.
ERRORS: tuple[str, ...] = (
    "guess",
    "misinterpret",
    "careless",
    "right-idea",
    "imprecise",
    "diagnose",
)
#: Canonical remediation strategies (``z_what``).
STRATEGIES: tuple[str, ...] = (
    "explain_concept",
    "ask_question",
    "provide_hint",
    "provide_strategy",
    "provide_similar_problem",
    "provide_correction",
    "provide_example",
    "simplify_question",
    "affirm_correct_answer",
    "encourage_student",
)
#: Canonical intentions (``z_why``).
INTENTIONS: tuple[str, ...] = (
    "motivate_student",
    "understand_topic",
    "clarify_misunderstanding",
    "support_thinking",
    "signal_goal",
    "correct_mistake",
    "diagnose_mistake",
    "hint_mistake",
    "elaborate_answer",
    "explain_mistake",
)
OTHER = "other"
#: Scheme -> (source field, canonical labels); anything else is labelled ``"other"``.
SCHEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "bridge/error": ("e", ERRORS),
    "bridge/strategy": ("z_what", STRATEGIES),
    "bridge/intention": ("z_why", INTENTIONS),
}
_ROLES = {"tutor": "teacher", "student": "student"}
_KEYS = ("c_id", "lesson_topic", "c_h", "c_r", "c_r_", "c_revision", "e", "z_what", "z_why")


def canonical(raw: str, labels: tuple[str, ...]) -> str:
    """Return ``raw`` if it is one of ``labels`` (after stripping whitespace), else ``"other"``.

    >>> canonical("guess", ERRORS), canonical("Student is correct\\n", ERRORS)
    ('guess', 'other')
    """
    value = raw.strip()
    return value if value in labels else OTHER


def _files(path: Path, splits: Iterable[str]) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.stem, path)]
    wanted = list(splits)
    bad = [s for s in wanted if s not in SPLITS]
    if bad:
        raise InputError(f"unknown split(s) {', '.join(bad)}; choose from {', '.join(SPLITS)}")
    base = path / "dataset" if (path / "dataset").is_dir() else path
    out = []
    for s in wanted:
        f = base / f"{s}.json"
        if not f.is_file():
            raise InputError(f"missing {s}.json", path=base)
        out.append((s, f))
    return out


def _turn_list(value: Any, *, file: Path, item: int, field: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("text"), str)
        and isinstance(t.get("user"), str)
        and t["user"] in _ROLES
        for t in value
    ):
        raise InputError(
            f"item {item}: expected a list of {{user: tutor|student, text: str}} turns",
            path=file,
            field=field,
        )
    return value


@dataclass(frozen=True)
class _Annotation:
    """One expert's item: the shared context, the expert's revision and labels, and its place."""

    split: str
    file: str
    item: int
    data: dict[str, Any]


def load(path: Path, *, splits: Iterable[str] = SPLITS) -> Corpus:
    """Load Bridge into a :class:`~toolkit.Corpus` (see the module docstring).

    Parameters
    ----------
    path : Path
        Corpus folder, ``dataset`` folder or one JSON file (its stem is the split).
    splits : iterable of {"train", "validation"}
        Files to read when ``path`` is a folder.

    Raises
    ------
    InputError
        Invalid JSON, a missing key, a malformed turn list, or a repeated ``c_id`` whose context
        differs (not a double annotation) or that occurs more than twice.

    Examples
    --------
    >>> import corpora                                                 # doctest: +SKIP
    >>> corpora.load("bridge", "corpora/bridge")                       # doctest: +SKIP
    Corpus(bridge: 379 dialogues, 4448 turns, 1470 annotations)
    """
    contexts = _contexts(_files(Path(path), splits))
    rows = Rows()
    for cid, experts in contexts.items():
        rows.dialogues.append(_dialogue_row(cid, experts))
        rows.turns += _turns(cid, experts)
        rows.annotations += _labels(cid, experts)
    return rows.corpus()


def _contexts(files: list[tuple[str, Path]]) -> dict[str, list[_Annotation]]:
    """``c_id`` -> its one or two expert annotations, in file order."""
    contexts: dict[str, list[_Annotation]] = {}
    for split, file in files:
        data = read_json(file)
        if not isinstance(data, list):
            raise InputError("expected a JSON list of items", path=file)
        if not data:
            raise InputError("no items: the file holds an empty list", path=file)
        for i, item in enumerate(data):
            _check_item(item, file=file, i=i)
            entry = _Annotation(split, file.name, i, item)
            experts = contexts.setdefault(item["c_id"], [])
            if experts:
                _check_repeat(experts, entry, file=file)
            experts.append(entry)
    return contexts


def _check_item(item: Any, *, file: Path, i: int) -> None:
    """Item ``i`` has every key, well-formed turn lists and string labels."""
    if not isinstance(item, dict):
        raise InputError(f"item {i} is not an object", path=file)
    missing = [k for k in _KEYS if k not in item]
    if missing:
        raise InputError(f"item {i} lacks {', '.join(missing)}", path=file, field=missing[0])
    for k in ("c_h", "c_r", "c_r_", "c_revision"):
        _turn_list(item[k], file=file, item=i, field=k)
    for k in ("c_id", "e", "z_what", "z_why"):
        if not isinstance(item[k], str):
            raise InputError(f"item {i}: expected a string", path=file, field=k)


def _check_repeat(experts: list[_Annotation], entry: _Annotation, *, file: Path) -> None:
    """A second annotation of a context must share its history, novice reply and topic."""
    i, item = entry.item, entry.data
    cid = item["c_id"]
    if len(experts) >= 2:
        raise InputError(f"item {i}: c_id {cid!r} occurs more than twice", path=file)
    for k in ("c_h", "c_r", "lesson_topic"):
        if experts[0].data[k] != item[k]:
            raise InputError(
                f"item {i}: c_id {cid!r} repeats with a different {k}", path=file, field=k
            )


def _dialogue_row(cid: str, experts: list[_Annotation]) -> dict[str, Any]:
    meta = {
        "c_id": cid,
        "conversation": cid.split("_", 1)[0],
        "lesson_topic": experts[0].data["lesson_topic"],
        "n_experts": len(experts),
        "splits": [e.split for e in experts],
    }
    return dialogue_row(CORPUS, cid, split=experts[0].split, meta=meta)


def _turns(cid: str, experts: list[_Annotation]) -> list[dict[str, Any]]:
    """History and novice reply, then each expert's revised exchange."""
    base = experts[0].data
    turns: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (t, {"source": src, "id": t.get("id"), "time": t.get("time")})
        for src in ("c_h", "c_r")
        for t in base[src]
    ]
    for n, expert in enumerate(experts, start=1):
        turns += _revision(expert.data, f"expert_{n}")
    return [
        turn_row(
            CORPUS,
            cid,
            idx,
            role=_ROLES[t["user"]],
            speaker=t["user"],
            text=t["text"],
            meta=meta,
        )
        for idx, (t, meta) in enumerate(turns)
    ]


def _revision(item: dict[str, Any], expert: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``c_revision`` (its first turns are ``c_r_``), each turn with its meta."""
    n_r = len(item["c_r_"])
    out = [
        (t, {"source": "c_r_" if j < n_r else "c_revision", "revised": True, "expert": expert})
        for j, t in enumerate(item["c_revision"])
    ]
    if item["c_revision"][:n_r] != item["c_r_"]:
        # c_r_ is not a prefix of c_revision (never in the release): keep c_r_ as well
        out += [(t, {"source": "c_r_", "revised": True, "expert": expert}) for t in item["c_r_"]]
    return out


def _labels(cid: str, experts: list[_Annotation]) -> list[dict[str, Any]]:
    """Each expert's error, strategy and intention, on the dialogue."""
    return [
        source_label(
            CORPUS,
            cid,
            scheme,
            canonical(e.data[field], labels),
            rater=f"expert_{n}",
            meta={"raw": e.data[field], "file": e.file, "item": e.item},
        )
        for n, e in enumerate(experts, start=1)
        for scheme, (field, labels) in SCHEMES.items()
    ]
