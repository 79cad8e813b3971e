"""Validate a model's answer against the rubric: JSON, allowed labels, completeness."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from annotation.rubric import Rubric

__all__ = ["Answer", "parse_answer"]

_OBJ = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class Answer:
    """A parsed answer. ``ok`` is False with a ``reason`` when the answer is unusable.

    ``labels`` holds one label (single/binary: the written label, e.g. ``"1"`` for yes), the
    chosen categories (multi) or one level per dimension in declared order (dimensions).
    """

    ok: bool
    labels: tuple[str, ...] = ()
    rationale: str | None = None
    reason: str | None = None
    value_span: tuple[int, int] | None = field(default=None, compare=False)


def match_label(value: object, allowed: list[str]) -> str | None:
    """``value`` if it is one of ``allowed`` (exactly, else case-insensitively and unambiguously).

    >>> match_label(" Probing", ["probing", "focus"]), match_label("x", ["probing"])
    ('probing', None)
    """
    if not isinstance(value, str):
        return None
    if value in allowed:
        return value
    folded = [a for a in allowed if a.casefold() == value.strip().casefold()]
    return folded[0] if len(folded) == 1 else None


def parse_answer(
    rubric: Rubric,
    content: str | None,
    *,
    finish_reason: str | None = None,
    refusal: str | None = None,
) -> Answer:
    """Parse ``content`` into an :class:`Answer`.

    Labels are matched exactly, then case-insensitively (unique match only); anything else is
    invalid, so an answer can only ever carry labels of the rubric.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> r = load_rubric("mathdial-moves")
    >>> parse_answer(r, '{"label": "focus", "rationale": "asks next step"}').labels
    ('focus',)
    >>> parse_answer(r, '{"label": "X"}').reason
    "label 'X' is not one of the allowed labels"
    """
    problem = _unusable(content, finish_reason, refusal)
    if problem is not None:
        return Answer(False, reason=problem)
    data = _json_object(str(content).strip())
    if isinstance(data, str):
        return Answer(False, reason=data)
    rationale = data.get("rationale")
    rationale = rationale.strip()[:1000] if isinstance(rationale, str) else None
    if rubric.mode == "multi":
        return _multi(rubric, data, rationale)
    if rubric.mode == "dimensions":
        return _dimensions(rubric, data, rationale)
    if "label" not in data:
        return Answer(False, reason='"label" is missing')
    value = data["label"]
    if rubric.mode == "binary":
        yn = match_label(value, ["yes", "no"])
        if yn is None and isinstance(value, bool):
            yn = "yes" if value else "no"
        if yn is None:
            return Answer(False, reason=f"label {value!r} is not one of the allowed labels")
        return Answer(True, (rubric.yes_no[yn],), rationale)  # type: ignore[index]
    lab = match_label(value, rubric.label_names)
    if lab is None:
        return Answer(False, reason=f"label {value!r} is not one of the allowed labels")
    return Answer(True, (lab,), rationale)


def _unusable(content: str | None, finish_reason: str | None, refusal: str | None) -> str | None:
    """Why an answer cannot be read at all (refused, cut off, empty), else ``None``."""
    if refusal:
        return "the model refused"
    if finish_reason == "length":
        return "the answer was cut off (finish_reason length)"
    if content is None or not content.strip():
        return "empty answer"
    return None


def _json_object(text: str) -> dict[str, Any] | str:
    """The JSON object in ``text`` (the whole text, else its outermost braces), or why not."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        m = _OBJ.search(text)
        try:
            data = json.loads(m.group(0)) if m else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            return "the answer is not valid JSON"
    if not isinstance(data, dict):
        return "the answer is not a JSON object"
    return data


def _multi(rubric: Rubric, data: dict[str, Any], rationale: str | None) -> Answer:
    values = data.get("labels")
    if not isinstance(values, list):
        return Answer(False, reason='"labels" is missing or not a list')
    chosen: list[str] = []
    for v in values:
        m = match_label(v, rubric.label_names)
        if m is None:
            return Answer(False, reason=f"label {v!r} is not one of the allowed labels")
        if m not in chosen:
            chosen.append(m)
    return Answer(True, tuple(chosen), rationale)


def _dimensions(rubric: Rubric, data: dict[str, Any], rationale: str | None) -> Answer:
    levels: list[str] = []
    for lb in rubric.labels:
        if lb.name not in data:
            return Answer(False, reason=f'"{lb.name}" is missing')
        lv = match_label(data[lb.name], lb.level_names)
        if lv is None:
            return Answer(
                False, reason=f"{lb.name}: {data[lb.name]!r} is not one of the allowed levels"
            )
        levels.append(lv)
    return Answer(True, tuple(levels), rationale)
