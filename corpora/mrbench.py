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
from pathlib import Path
from typing import Any

import pandas as pd

from corpora._common import read_json, source_label, turn_row
from toolkit.errors import InputError
from toolkit.schema import ANNOTATION_COLUMNS, DIALOGUE_COLUMNS, TURN_COLUMNS, Corpus

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


def load(path: Path, *, releases: Iterable[str] | None = None, **options: Any) -> Corpus:
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
    """
    if options:
        raise InputError(f"mrbench: unknown option(s) {', '.join(sorted(options))}")
    d_rows: list[dict[str, Any]] = []
    t_rows: list[dict[str, Any]] = []
    a_rows: list[dict[str, Any]] = []
    for release, file in _files(Path(path), releases):
        data = read_json(file)
        if not isinstance(data, list):
            raise InputError("expected a JSON list of entries", path=file)
        for pos, entry in enumerate(data):
            where = f"entry {pos}"
            if not isinstance(entry, dict):
                raise InputError(f"{where} is not an object", path=file)
            responses = entry.get("anno_llm_responses", entry.get("tutor_responses"))
            history = entry.get("conversation_history")
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
            did = f"{release}_{pos}"
            meta: dict[str, Any] = {
                "conversation_id": entry.get("conversation_id"),
                "release": release,
                "file": file.name,
                "position": pos,
            }
            for src, dst in (
                ("Data", "data"),
                ("Split", "source_split"),
                ("Topic", "topic"),
                ("Ground_Truth_Solution", "ground_truth_solution"),
            ):
                if src in entry:
                    meta[dst] = entry[src]
            d_rows.append(
                {
                    "corpus": CORPUS,
                    "dialogue_id": did,
                    "split": release,
                    "kind": "tutoring",
                    "meta": meta,
                }
            )
            idx = 0
            for speaker, text in split_history(history):
                role = {"Tutor": "teacher", "Student": "student"}.get(speaker, "other")
                t_rows.append(
                    turn_row(
                        CORPUS,
                        did,
                        idx,
                        role,
                        speaker or pd.NA,
                        text,
                        {"candidate": False},
                    )
                )
                idx += 1
            for tutor, resp in responses.items():
                if not isinstance(resp, dict) or not isinstance(resp.get("response"), str):
                    raise InputError(
                        f"{where}: tutor {tutor!r}: expected {{response: str, ...}}",
                        path=file,
                        field="response",
                    )
                tid = f"{did}:{idx}"
                t_rows.append(
                    turn_row(
                        CORPUS,
                        did,
                        idx,
                        "teacher",
                        tutor,
                        resp["response"],
                        {
                            "candidate": True,
                            "tutor": tutor,
                            "tutor_kind": "human" if tutor in HUMAN_TUTORS else "model",
                        },
                    )
                )
                idx += 1
                ann = resp.get("annotation") or {}
                if not isinstance(ann, dict):
                    raise InputError(
                        f"{where}: tutor {tutor!r}: expected an object",
                        path=file,
                        field="annotation",
                    )
                seen: set[str] = set()
                for key, raw in ann.items():
                    scheme = normalise_key(key)
                    if scheme in seen:
                        raise InputError(
                            f"{where}: tutor {tutor!r}: dimension {key!r} repeats",
                            path=file,
                            field=key,
                        )
                    seen.add(scheme)
                    if scheme not in DIMENSIONS:
                        raise InputError(
                            f"{where}: tutor {tutor!r}: unknown dimension {key!r}",
                            path=file,
                            field=key,
                        )
                    label = normalise_label(scheme, raw) if isinstance(raw, str) else None
                    if label is None:
                        raise InputError(
                            f"{where}: tutor {tutor!r}: unknown label {raw!r}; expected one of "
                            f"{', '.join(DIMENSIONS[scheme])}",
                            path=file,
                            field=key,
                        )
                    a_rows.append(
                        source_label(CORPUS, tid, scheme, label, RATER, {"key": key, "raw": raw})
                    )
    return Corpus(
        pd.DataFrame(d_rows, columns=list(DIALOGUE_COLUMNS)),
        pd.DataFrame(t_rows, columns=list(TURN_COLUMNS)),
        pd.DataFrame(a_rows, columns=list(ANNOTATION_COLUMNS)),
    )  # corpora.load validates the result
