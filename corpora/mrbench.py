"""MRBench V1/V2 and the BEA 2025 dev set: tutor responses to student mistakes with gold ratings.

Input: the corpus folder (``MRBench/MRBench_V1.json``, ``MRBench/MRBench_V2.json``,
``BEA_Shared_Task_2025_Datasets/mrbench_v3_devset.json``; each may also sit directly in the
folder) or one of these files. Option ``releases`` picks files by key (:data:`RELEASES`: ``"v1"``,
``"v2"``, ``"dev"``); default all present. The releases overlap heavily (V1 and V2 share 188 ids;
175/182 ids also occur in the dev set, and 44 shared V1/V2 records differ), so they are kept as
separate releases: ``split`` is the release key -- analyse one release at a time.

Mapping
-------
* One dialogue per entry, keyed by (file, position) because ``conversation_id`` repeats within a
  file: ``dialogue_id = "<release>_<position>"``, ``kind = "tutoring"``. Dialogue meta:
  ``conversation_id``, ``release``, ``file``, ``position``, and for V1/V2 ``data`` (MathDial or
  Bridge), ``source_split`` (the source corpus split), ``topic``, ``ground_truth_solution`` (raw,
  including ``"Not Available"``). Resample by ``conversation_id``: contexts are reused.
* History turns: ``conversation_history`` split only before ``Tutor:``/``Student:`` (regex
  ``\\s*\\n\\s*(?=(?:Tutor|Student)\\s*:)``, which also covers the NBSP-wrapped newlines and
  ``Student :``); the prefix is removed, ``Tutor`` -> role ``teacher``, ``Student`` -> ``student``
  (a first segment without a prefix would be ``other``); text is stripped (inner ``\\n`` kept).
* Then one turn per candidate response (role ``teacher``; ``speaker`` and meta ``tutor`` = the tutor
  name, e.g. ``GPT4``, ``Expert``; meta ``candidate=True``, ``tutor_kind`` ``human`` for
  ``Expert``/``Novice`` else ``model``). Candidates are alternatives, not a sequence.
* Ratings: one annotation per response and dimension, scheme ``mrbench/<dimension>``
  (:data:`DIMENSIONS`, which gives each scheme's categories in order, low to high), rater
  ``mrbench_gold``, ``rater_kind`` human; meta keeps the raw ``key`` and ``raw`` label. Keys are
  matched case-insensitively (the data say ``humanlikeness``, the README ``Humanlikeness``); labels
  are mapped explicitly by :data:`LABEL_MAP` (the data's ``Yes (and the answer is correct)`` ->
  the README's ``Yes (correct)``). An unknown key or label is an error. The dev set has only the
  first four dimensions. BEA 2025 "lenient" scoring merges ``Yes`` and ``To some extent``.

Example
-------
>>> import corpora
>>> c = corpora.load("mrbench", "/path/to/corpora/mrbench", releases=["v1"])  # doctest: +SKIP
>>> int((c.turns.role == "teacher").sum())  # doctest: +SKIP
2110
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from corpora._common import Rows, dialogue_row, read_json, source_label, turn_row
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["DIMENSIONS", "LABEL_MAP", "RATER", "RELEASES", "load", "normalise_key", "split_history"]

CORPUS = "mrbench"
RATER = "mrbench_gold"
#: Release key -> candidate relative paths (first found wins).
RELEASES: dict[str, tuple[str, ...]] = {
    "v1": ("MRBench/MRBench_V1.json", "MRBench_V1.json"),
    "v2": ("MRBench/MRBench_V2.json", "MRBench_V2.json"),
    "dev": ("BEA_Shared_Task_2025_Datasets/mrbench_v3_devset.json", "mrbench_v3_devset.json"),
}
_YTN = ("No", "To some extent", "Yes")
#: Scheme -> categories in order (low to high). ``revealing_of_the_answer`` is nominal in spirit
#: (whether the answer was revealed, and whether it was right); its order is a convention.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "mrbench/mistake_identification": _YTN,
    "mrbench/mistake_location": _YTN,
    "mrbench/revealing_of_the_answer": ("No", "Yes (incorrect)", "Yes (correct)"),
    "mrbench/providing_guidance": _YTN,
    "mrbench/actionability": _YTN,
    "mrbench/coherence": _YTN,
    "mrbench/tutor_tone": ("Offensive", "Neutral", "Encouraging"),
    "mrbench/humanlikeness": _YTN,
}
_COMMON = {"yes": "Yes", "to some extent": "To some extent", "no": "No"}
#: Scheme -> {lower-cased, whitespace-collapsed raw label: canonical label}.
LABEL_MAP: dict[str, dict[str, str]] = {s: dict(_COMMON) for s in DIMENSIONS}
LABEL_MAP["mrbench/revealing_of_the_answer"] = {
    "no": "No",
    "yes (and the answer is correct)": "Yes (correct)",
    "yes (correct)": "Yes (correct)",
    "yes (but the answer is incorrect)": "Yes (incorrect)",
    "yes (incorrect)": "Yes (incorrect)",
}
LABEL_MAP["mrbench/tutor_tone"] = {
    "encouraging": "Encouraging",
    "neutral": "Neutral",
    "offensive": "Offensive",
}
HUMAN_TUTORS = frozenset({"Expert", "Novice"})
_SPLIT = re.compile(r"\s*\n\s*(?=(?:Tutor|Student)\s*:)")
_PREFIX = re.compile(r"^(Tutor|Student)\s*:\s*")
_ROLES = {"Tutor": "teacher", "Student": "student"}
#: Entry field -> dialogue meta key (V1/V2 only; the dev set has none of them).
_META_FIELDS = (
    ("Data", "data"),
    ("Split", "source_split"),
    ("Topic", "topic"),
    ("Ground_Truth_Solution", "ground_truth_solution"),
)


def normalise_key(key: str) -> str:
    """Map a rating key of the data to its scheme name.

    >>> normalise_key("Mistake_Identification"), normalise_key("Humanlikeness")
    ('mrbench/mistake_identification', 'mrbench/humanlikeness')
    """
    return "mrbench/" + re.sub(r"[\s\-]+", "_", key.strip()).lower()


def normalise_label(scheme: str, raw: str) -> str | None:
    """Canonical label of ``raw`` for ``scheme`` (``None`` if unknown).

    >>> normalise_label("mrbench/revealing_of_the_answer", "Yes (and the answer is correct)")
    'Yes (correct)'
    """
    return LABEL_MAP.get(scheme, {}).get(" ".join(raw.split()).lower())


def split_history(history: str) -> list[tuple[str, str]]:
    """Split a ``conversation_history`` into ``(speaker, text)`` pairs (speaker ``""`` if none).

    >>> split_history("Tutor: Hi\\xa0\\n\\xa0Student : 2\\n3\\xa0\\n\\xa0Tutor: ok")
    [('Tutor', 'Hi'), ('Student', '2\\n3'), ('Tutor', 'ok')]
    """
    out = []
    for seg in _SPLIT.split(history.strip()):
        m = _PREFIX.match(seg)
        out.append((m.group(1), seg[m.end() :].strip()) if m else ("", seg.strip()))
    return out


def _files(path: Path, releases: Iterable[str] | None) -> list[tuple[str, Path]]:
    if path.is_file():
        for key, names in RELEASES.items():
            if path.name in {Path(n).name for n in names}:
                return [(key, path)]
        return [(path.stem, path)]
    if releases is None:
        keys = [k for k, names in RELEASES.items() if any((path / n).is_file() for n in names)]
        if not keys:
            raise InputError("no MRBench release file in this folder", path=path)
    else:
        keys = [releases] if isinstance(releases, str) else list(releases)
    bad = [k for k in keys if k not in RELEASES]
    if bad:
        raise InputError(f"unknown release(s) {', '.join(bad)}; choose from {', '.join(RELEASES)}")
    out = []
    for key in keys:
        found = next((path / n for n in RELEASES[key] if (path / n).is_file()), None)
        if found is None:
            raise InputError(
                f"release {key!r} not found (looked for {RELEASES[key][0]})", path=path
            )
        out.append((key, found))
    return out


def load(path: Path, *, releases: Iterable[str] | None = None) -> Corpus:
    """Load MRBench releases into a :class:`~toolkit.Corpus` (see the module docstring).

    Parameters
    ----------
    path : Path
        Corpus folder or one release file.
    releases : iterable of {"v1", "v2", "dev"}, optional
        Releases to read when ``path`` is a folder (default: every release file present; a
        requested release that is missing is an error).

    Raises
    ------
    InputError
        Invalid JSON, a missing field, an unknown rating key or label.

    Examples
    --------
    >>> import corpora                                                 # doctest: +SKIP
    >>> corpora.load("mrbench", "corpora/mrbench", releases=["v1"])    # doctest: +SKIP
    Corpus(mrbench: 192 dialogues, ...)
    """
    rows = Rows()
    for release, file in _files(Path(path), releases):
        data = read_json(file)
        if not isinstance(data, list):
            raise InputError("expected a JSON list of entries", path=file)
        if not data:
            raise InputError("no entries: the file holds an empty list", path=file)
        for pos, entry in enumerate(data):
            _add_entry(rows, _Entry(release, file, pos, entry))
    return rows.corpus()


@dataclass(frozen=True)
class _Entry:
    """One entry of a release file, with its place (for ids and error messages)."""

    release: str
    file: Path
    position: int
    data: Any

    @property
    def dialogue_id(self) -> str:
        return f"{self.release}_{self.position}"

    @property
    def where(self) -> str:
        return f"entry {self.position}"


def _add_entry(rows: Rows, entry: _Entry) -> None:
    """The entry's dialogue, history turns, one turn per tutor response and its ratings."""
    history, responses = _checked(entry)
    rows.dialogues.append(_dialogue_row(entry))
    turns = _history_turns(entry.dialogue_id, history)
    for tutor, response in responses.items():
        turn = _response_turn(entry, tutor, response, index=len(turns))
        turns.append(turn)
        rows.annotations += _ratings(entry, tutor, response, turn["turn_id"])
    rows.turns += turns


def _checked(entry: _Entry) -> tuple[str, dict[str, Any]]:
    """The entry's history string and its responses (V1/V2 and the dev set name them apart)."""
    where, file, data = entry.where, entry.file, entry.data
    if not isinstance(data, dict):
        raise InputError(f"{where} is not an object", path=file)
    responses = data.get("anno_llm_responses", data.get("tutor_responses"))
    history = data.get("conversation_history")
    if not isinstance(history, str):
        raise InputError(
            f"{where}: missing or not a string", path=file, field="conversation_history"
        )
    if not isinstance(responses, dict):
        raise InputError(
            f"{where}: missing or not an object",
            path=file,
            field="anno_llm_responses/tutor_responses",
        )
    return history, responses


def _dialogue_row(entry: _Entry) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "conversation_id": entry.data.get("conversation_id"),
        "release": entry.release,
        "file": entry.file.name,
        "position": entry.position,
    }
    for src, dst in _META_FIELDS:
        if src in entry.data:
            meta[dst] = entry.data[src]
    return dialogue_row(CORPUS, entry.dialogue_id, split=entry.release, meta=meta)


def _history_turns(dialogue_id: str, history: str) -> list[dict[str, Any]]:
    return [
        turn_row(
            CORPUS,
            dialogue_id,
            idx,
            role=_ROLES.get(speaker, "other"),
            speaker=speaker or pd.NA,
            text=text,
            meta={"candidate": False},
        )
        for idx, (speaker, text) in enumerate(split_history(history))
    ]


def _response_turn(entry: _Entry, tutor: str, response: Any, *, index: int) -> dict[str, Any]:
    if not isinstance(response, dict) or not isinstance(response.get("response"), str):
        raise InputError(
            f"{entry.where}: tutor {tutor!r}: expected {{response: str, ...}}",
            path=entry.file,
            field="response",
        )
    meta = {
        "candidate": True,
        "tutor": tutor,
        "tutor_kind": "human" if tutor in HUMAN_TUTORS else "model",
    }
    return turn_row(
        CORPUS,
        entry.dialogue_id,
        index,
        role="teacher",
        speaker=tutor,
        text=response["response"],
        meta=meta,
    )


def _ratings(
    entry: _Entry, tutor: str, response: dict[str, Any], unit: str
) -> list[dict[str, Any]]:
    """One annotation per rated dimension of one response."""
    where = f"{entry.where}: tutor {tutor!r}"
    ratings = response.get("annotation") or {}
    if not isinstance(ratings, dict):
        raise InputError(f"{where}: expected an object", path=entry.file, field="annotation")
    out = []
    seen: set[str] = set()
    for key, raw in ratings.items():
        scheme = normalise_key(key)
        if scheme in seen:
            raise InputError(f"{where}: dimension {key!r} repeats", path=entry.file, field=key)
        seen.add(scheme)
        label = _label(scheme, key, raw, where=where, file=entry.file)
        out.append(
            source_label(CORPUS, unit, scheme, label, rater=RATER, meta={"key": key, "raw": raw})
        )
    return out


def _label(scheme: str, key: str, raw: Any, *, where: str, file: Path) -> str:
    if scheme not in DIMENSIONS:
        raise InputError(f"{where}: unknown dimension {key!r}", path=file, field=key)
    label = normalise_label(scheme, raw) if isinstance(raw, str) else None
    if label is None:
        raise InputError(
            f"{where}: unknown label {raw!r}; expected one of {', '.join(DIMENSIONS[scheme])}",
            path=file,
            field=key,
        )
    return label
