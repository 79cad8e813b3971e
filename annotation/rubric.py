"""Rubrics (codebooks): versioned YAML files that define what an LLM or a human coder labels.

A rubric names its ``id`` and ``version``, the ``unit`` it labels (``turn`` or ``dialogue``), which
turns it applies to, its labels (definition, include/exclude notes, examples), the ``mode``
(``single``: one label; ``multi``: any number of categories; ``binary``: one yes/no decision per
category, as SIGHT did), an optional ordered scale, the context to show and the output format. The
same file renders the LLM prompt (:mod:`annotation.prompt`) and the human coding guide
(:mod:`annotation.guide`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toolkit.errors import InputError

__all__ = [
    "Example",
    "Label",
    "Rubric",
    "builtin_rubrics",
    "load_rubric",
    "parse_rubric",
    "rubric_sha256",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Example(_Strict):
    """One coded example: the text, optionally its context and a note why it gets the label."""

    text: str = Field(min_length=1)
    context: str | None = None
    note: str | None = None


class Label(_Strict):
    """One label (single mode) or category (multi/binary mode)."""

    name: str = Field(min_length=1)
    title: str | None = None
    definition: str = Field(min_length=1)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_is_clean(cls, v: str) -> str:
        if v != v.strip() or "\n" in v:
            raise ValueError("label names must not have surrounding spaces or newlines")
        return v


class AppliesTo(_Strict):
    """Which units a turn-level rubric labels (``None`` = no restriction)."""

    roles: list[Literal["teacher", "student", "other"]] | None = None


class Context(_Strict):
    """What the prompt shows besides the target: previous turns and dialogue meta fields."""

    turns: int = Field(default=3, ge=0)
    following_turns: int = Field(default=0, ge=0)
    meta: list[str] = Field(default_factory=list)
    max_chars_per_turn: int = Field(default=2000, ge=20)


class Output(_Strict):
    """Answer format: a label plus (optionally) a short rationale."""

    rationale: bool = True
    max_tokens: int = Field(default=120, ge=1)


class Scale(_Strict):
    """An ordered integer scale, e.g. 1-7; generates labels "1".."7" when none are given."""

    min: int
    max: int
    anchors: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError("scale.max must be greater than scale.min")
        return self


def _default_yes_no() -> dict[Literal["yes", "no"], str]:
    return {"yes": "1", "no": "0"}


class Rubric(_Strict):
    """A validated rubric. Build with :func:`load_rubric` or :func:`parse_rubric`.

    Examples
    --------
    >>> r = load_rubric("mathdial-moves")
    >>> r.id, r.scheme, r.label_names
    ('mathdial-moves', 'mathdial/move', ['focus', 'probing', 'telling', 'generic'])
    """

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    version: str = Field(min_length=1)
    title: str | None = None
    description: str = Field(min_length=1)
    source: str | None = None
    unit: Literal["turn", "dialogue"] = "turn"
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    mode: Literal["single", "multi", "binary"] = "single"
    scheme: str = Field(min_length=1)
    ordered: bool = False
    scale: Scale | None = None
    labels: list[Label] = Field(default_factory=list)
    yes_no: dict[Literal["yes", "no"], str] = Field(default_factory=_default_yes_no)
    context: Context = Field(default_factory=Context)
    output: Output = Field(default_factory=Output)
    instructions: str | None = None
    notes: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v

    @model_validator(mode="after")
    def _check(self) -> Rubric:
        labels = list(self.labels)
        if self.scale is not None:
            if not labels:
                labels = [
                    Label(name=str(i), definition=self.scale.anchors.get(i, f"scale point {i}"))
                    for i in range(self.scale.min, self.scale.max + 1)
                ]
                object.__setattr__(self, "labels", labels)
            object.__setattr__(self, "ordered", True)
        if len(labels) < (1 if self.mode != "single" else 2):
            raise ValueError("labels: a single-label rubric needs at least two labels")
        names = [lb.name for lb in labels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"labels: duplicate label name(s) {', '.join(dupes)}")
        if self.mode in ("multi", "binary") and "{category}" not in self.scheme:
            raise ValueError("scheme: multi/binary rubrics need '{category}' in scheme, "
                             "e.g. 'sight/{category}'")
        if self.mode == "single" and "{category}" in self.scheme:
            raise ValueError("scheme: '{category}' is only allowed in multi/binary rubrics")
        if self.mode == "binary" and len(set(self.yes_no.values())) != 2:
            raise ValueError("yes_no: needs two distinct labels for 'yes' and 'no'")
        if self.ordered and self.mode != "single":
            raise ValueError("ordered: only single-label rubrics can be ordered")
        if self.unit == "dialogue" and self.applies_to.roles:
            raise ValueError("applies_to.roles: only turn-level rubrics select turns by role")
        return self

    # ------------------------------------------------------------- accessors
    @property
    def label_names(self) -> list[str]:
        """Label (single mode) or category (multi/binary mode) names in declared order."""
        return [lb.name for lb in self.labels]

    @property
    def category_order(self) -> list[str]:
        """The written label vocabulary in declared order (scale order when ``ordered``).

        Single mode: the labels; multi/binary mode: the ``yes``/``no`` labels (e.g. ``["1", "0"]``).
        ``edudial irr`` can use it to order categories (and, when :attr:`ordered`, as the scale).
        """
        if self.mode == "single":
            return self.label_names
        return [self.yes_no["no"], self.yes_no["yes"]]

    def scheme_for(self, category: str | None = None) -> str:
        """The annotation scheme written for ``category`` (multi/binary) or the rubric."""
        if self.mode == "single":
            return self.scheme
        if category is None:
            raise ValueError("multi/binary rubrics need a category")
        return self.scheme.replace("{category}", category)

    @property
    def schemes(self) -> list[str]:
        """Every scheme this rubric writes."""
        if self.mode == "single":
            return [self.scheme]
        return [self.scheme_for(c) for c in self.label_names]

    @property
    def sha256(self) -> str:
        """Content hash (canonical JSON of the validated rubric)."""
        return rubric_sha256(self)

    @property
    def rater(self) -> str:
        """Rubric part of the rater name: ``id@version``."""
        return f"{self.id}@{self.version}"


def rubric_sha256(rubric: Rubric) -> str:
    """sha256 of the rubric's canonical JSON (sorted keys, compact, UTF-8)."""
    data = rubric.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def parse_rubric(data: Any, *, path: str | os.PathLike[str] | None = None) -> Rubric:
    """Validate a rubric mapping (parsed YAML); errors name the field (``labels.2.definition``)."""
    if not isinstance(data, dict):
        raise InputError("a rubric must be a YAML mapping (key: value)", path=path)
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        msg = str(err.get("msg", "invalid value"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
            field, _, rest = msg.partition(": ")
            if rest and " " not in field:
                loc, msg = (*loc, field), rest
        if err.get("type") == "extra_forbidden":
            msg = "unknown field (check the spelling; see docs/annotation.md)"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise InputError(msg, path=path, field=_loc(loc)) from None


def builtin_rubrics() -> list[str]:
    """Names of the rubrics shipped with edudial."""
    folder = resources.files("annotation").joinpath("rubrics")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@dataclass(frozen=True)
class _Source:
    text: str
    path: str


def _read_source(name_or_path: str | os.PathLike[str]) -> _Source:
    s = str(name_or_path)
    p = Path(s)
    if s.endswith((".yaml", ".yml")) or os.sep in s or p.is_file():
        if not p.is_file():
            raise InputError("rubric file not found", path=p)
        return _Source(p.read_text(encoding="utf-8"), str(p))
    if s not in builtin_rubrics():
        raise InputError(
            f"unknown rubric {s!r}; built-in: {', '.join(builtin_rubrics())} "
            "(or pass a path to a .yaml file)"
        )
    res = resources.files("annotation").joinpath("rubrics").joinpath(f"{s}.yaml")
    return _Source(res.read_text(encoding="utf-8"), f"{s}.yaml (built-in)")


def load_rubric(name_or_path: str | os.PathLike[str] | Rubric) -> Rubric:
    """Load a built-in rubric by name (``mathdial-moves``) or a user's YAML file.

    Raises
    ------
    InputError
        Unknown name, missing file, invalid YAML (with line) or an invalid field (named).

    Examples
    --------
    >>> load_rubric("sight-feedback").schemes[:2]
    ['sight/general', 'sight/setup']
    """
    if isinstance(name_or_path, Rubric):
        return name_or_path
    src = _read_source(name_or_path)
    try:
        data = yaml.safe_load(src.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML ({problem})", path=src.path, line=line) from None
    return parse_rubric(data, path=src.path)
