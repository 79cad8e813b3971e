"""Rubrics (codebooks): versioned YAML files that define what an LLM or a human coder labels.

A rubric names its ``id`` and ``version``, the ``unit`` it labels (``turn`` or ``dialogue``), which
turns it applies to, its labels (definition, include/exclude notes, examples), the ``mode``
(``single``: one label; ``multi``: any number of categories; ``binary``: one yes/no decision per
category, as SIGHT did; ``dimensions``: one label per dimension, each dimension with its own
``levels``, as MRBench rates tutor responses), an optional ordered scale, the context to show and
the output format. The same file renders the LLM prompt (:mod:`annotation.prompt`) and the human
coding guide (:mod:`annotation.guide`). Optional spaCy ``Matcher`` token ``patterns`` per label
(and a ``rules`` block) drive the transparent keyword baseline :mod:`annotation.rules`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toolkit.errors import InputError

__all__ = [
    "Example",
    "Label",
    "Level",
    "Rubric",
    "RubricError",
    "RulePattern",
    "Rules",
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


def _pattern_problems(pattern: Any) -> list[str]:
    """Problems of one spaCy ``Matcher`` token pattern (empty when valid)."""
    from spacy.schemas import validate_token_pattern

    out = []
    for err in validate_token_pattern(pattern):
        where, _, msg = err.partition("] ")
        parts = [p for p in where.strip("[").split(" -> ") if p != "pattern"]
        if parts and parts[0].isdigit():
            parts[0] = f"token {parts[0]}"
        out.append(f"{' -> '.join(parts) or 'pattern'}: {msg}")
    return out


class RulePattern(_Strict):
    """One spaCy ``Matcher`` token pattern (a list of token dicts) with an optional id.

    In YAML either the bare token list (``- [{LOWER: why}]``) or ``{id: ..., pattern: [...]}``;
    the id defaults to ``<label>#<position>`` and is recorded in the rule rows' ``meta``.
    """

    id: str | None = Field(default=None, min_length=1)
    pattern: list[dict[str, Any]]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, v: Any) -> Any:
        return {"pattern": v} if isinstance(v, list) else v

    @model_validator(mode="after")
    def _valid_for_spacy(self) -> RulePattern:
        if not self.pattern:
            raise ValueError("a pattern needs at least 1 token")
        problems = _pattern_problems(self.pattern)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ValueError(f"invalid spaCy Matcher pattern: {problems[0]}{more}")
        return self


class Level(_Strict):
    """One level of a dimension's scale (``dimensions`` mode), e.g. ``Yes`` / ``To some extent``."""

    name: str = Field(min_length=1)
    definition: str | None = None
    patterns: list[RulePattern] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v


class Label(_Strict):
    """One label (single mode), category (multi/binary mode) or dimension (dimensions mode)."""

    name: str = Field(min_length=1)
    title: str | None = None
    definition: str = Field(min_length=1)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)
    levels: list[Level] = Field(default_factory=list)
    patterns: list[RulePattern] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_is_clean(cls, v: str) -> str:
        if v != v.strip() or "\n" in v:
            raise ValueError("label names must not have surrounding spaces or newlines")
        return v

    @property
    def level_names(self) -> list[str]:
        """Names of :attr:`levels` in declared order."""
        return [lv.name for lv in self.levels]


class AppliesTo(_Strict):
    """Which units a turn-level rubric labels (``None`` = no restriction)."""

    roles: list[Literal["teacher", "student", "other"]] | None = None
    #: Turn ``meta`` values a turn must have, e.g. ``{candidate: true}`` (MRBench candidates).
    meta: dict[str, str | int | float | bool | None] | None = None


class Context(_Strict):
    """What the prompt shows besides the target: previous turns and dialogue meta fields."""

    turns: int = Field(default=3, ge=0)
    following_turns: int = Field(default=0, ge=0)
    meta: list[str] = Field(default_factory=list)
    max_chars_per_turn: int = Field(default=2000, ge=20)
    #: Turns whose ``meta`` has these values are never shown as context, e.g.
    #: ``{candidate: true}``: MRBench's alternative candidate responses are not a sequence.
    exclude_meta: dict[str, str | int | float | bool | None] | None = None


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


class Rules(_Strict):
    """Settings of the rules baseline (:mod:`annotation.rules`).

    ``default``: the label for units no pattern matches (single mode); ``{dimension: level}``
    (dimensions mode); in binary/multi mode a category that is "yes" when no *other* category's
    patterns match (e.g. SIGHT's ``na``). Without one the rules abstain (label NA,
    ``meta.status = "no_match"``). ``precedence`` when patterns of several labels (levels) match:
    ``order`` (the first in declared order wins), ``earliest`` (the one whose match starts first
    in the text; ties by declared order) or a priority list, highest first (single mode: label
    names; dimensions mode: level names, applied within each dimension); unlisted labels come
    after, in declared order.
    """

    default: str | dict[str, str] | None = None
    precedence: str | list[str] = "order"

    @field_validator("default", mode="before")
    @classmethod
    def _default_type(cls, v: Any) -> Any:
        ok = (
            v is None
            or isinstance(v, str)
            or (isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))
        )
        if not ok:
            raise ValueError("a label name, or {dimension: level} in mode 'dimensions'")
        return v

    @field_validator("precedence", mode="before")
    @classmethod
    def _precedence_type(cls, v: Any) -> Any:
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return v
        if v not in ("order", "earliest"):
            raise ValueError(f"expected 'order', 'earliest' or a list of labels, got {v!r}")
        return v


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
    mode: Literal["single", "multi", "binary", "dimensions"] = "single"
    scheme: str = Field(min_length=1)
    ordered: bool = False
    scale: Scale | None = None
    labels: list[Label] = Field(default_factory=list)
    yes_no: dict[Literal["yes", "no"], str] = Field(default_factory=_default_yes_no)
    context: Context = Field(default_factory=Context)
    output: Output = Field(default_factory=Output)
    rules: Rules = Field(default_factory=Rules)
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
        if self.mode != "single" and "{category}" not in self.scheme:
            raise ValueError(
                "scheme: multi/binary/dimensions rubrics need '{category}' in "
                "scheme, e.g. 'sight/{category}'"
            )
        if self.mode == "single" and "{category}" in self.scheme:
            raise ValueError("scheme: '{category}' is only allowed in multi/binary rubrics")
        if self.mode == "binary" and len(set(self.yes_no.values())) != 2:
            raise ValueError("yes_no: needs two distinct labels for 'yes' and 'no'")
        if self.ordered and self.mode not in ("single", "dimensions"):
            raise ValueError("ordered: only single-label and dimensions rubrics can be ordered")
        if self.unit == "dialogue" and (self.applies_to.roles or self.applies_to.meta):
            raise ValueError("applies_to: only turn-level rubrics select turns by role or meta")
        self._check_levels(labels)
        self._check_rules(labels)
        return self

    def _check_levels(self, labels: list[Label]) -> None:
        for i, lb in enumerate(labels):
            if self.mode != "dimensions":
                if lb.levels:
                    raise ValueError(f"labels.{i}.levels: only allowed in mode 'dimensions'")
                continue
            if self.scale is not None:
                raise ValueError("scale: use per-dimension 'levels' in mode 'dimensions'")
            if len(lb.levels) < 2:
                raise ValueError(f"labels.{i}.levels: a dimension needs at least two levels")
            names = lb.level_names
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"labels.{i}.levels: duplicate level name(s) {', '.join(dupes)}")
            if lb.patterns:
                raise ValueError(
                    f"labels.{i}.patterns: in mode 'dimensions' patterns belong to "
                    "the levels (labels.N.levels.M.patterns)"
                )

    def _check_rules(self, labels: list[Label]) -> None:
        names = [lb.name for lb in labels]
        prec = self.rules.precedence
        if isinstance(prec, list):
            if self.mode not in ("single", "dimensions"):
                raise ValueError(
                    "rules.precedence: a priority list is only for single and dimensions mode"
                )
            known = (
                [lv for lb in labels for lv in lb.level_names]
                if self.mode == "dimensions"
                else names
            )
            unknown = [p for p in prec if p not in known]
            if unknown or len(set(prec)) != len(prec):
                raise ValueError(
                    f"rules.precedence: unknown or repeated label(s) "
                    f"{', '.join(unknown) or 'repeated'}"
                )
        default = self.rules.default
        if default is None:
            return
        if self.mode in ("binary", "multi"):
            if not isinstance(default, str) or default not in names:
                raise ValueError(f"rules.default: {default!r} is not one of the categories")
        elif self.mode == "single":
            if not isinstance(default, str) or default not in [lb.name for lb in labels]:
                raise ValueError(f"rules.default: {default!r} is not one of the labels")
        elif self.mode == "dimensions":
            if not isinstance(default, dict):
                raise ValueError("rules.default: in mode 'dimensions' give {dimension: level}")
            dims = {lb.name: lb for lb in labels}
            for dim, level in default.items():
                if dim not in dims:
                    raise ValueError(f"rules.default: unknown dimension {dim!r}")
                if level not in dims[dim].level_names:
                    raise ValueError(f"rules.default: {level!r} is not a level of {dim!r}")

    # ------------------------------------------------------------- accessors
    @property
    def label_names(self) -> list[str]:
        """Label (single mode) or category (multi/binary mode) names in declared order."""
        return [lb.name for lb in self.labels]

    @property
    def category_order(self) -> list[str]:
        """The written label vocabulary in declared order (scale order when ``ordered``).

        Single mode: the labels; multi/binary mode: the ``yes``/``no`` labels (e.g. ``["1", "0"]``);
        dimensions mode: every level name, first seen first (per scheme: :attr:`category_orders`).
        ``edudial irr`` can use it to order categories (and, when :attr:`ordered`, as the scale).
        """
        if self.mode == "single":
            return self.label_names
        if self.mode == "dimensions":
            seen: dict[str, None] = {}
            for lb in self.labels:
                seen.update(dict.fromkeys(lb.level_names))
            return list(seen)
        return [self.yes_no["no"], self.yes_no["yes"]]

    @property
    def category_orders(self) -> dict[str, list[str]]:
        """Scheme -> its written labels in declared order (one scale per dimension)."""
        if self.mode == "dimensions":
            return {self.scheme_for(lb.name): lb.level_names for lb in self.labels}
        return {s: self.category_order for s in self.schemes}

    @property
    def has_patterns(self) -> bool:
        """Whether any label (or level) declares rule patterns."""
        return any(lb.patterns or any(lv.patterns for lv in lb.levels) for lb in self.labels)

    def scheme_for(self, category: str | None = None) -> str:
        """The annotation scheme written for ``category`` (multi/binary/dimensions)."""
        if self.mode == "single":
            return self.scheme
        if category is None:
            raise ValueError("multi/binary/dimensions rubrics need a category")
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
    """sha256 of the rubric's canonical JSON (sorted keys, compact, UTF-8).

    Fields added after version 1 of the format (``levels``, ``patterns``, ``rules``,
    ``applies_to.meta``, ``context.exclude_meta``) are left out while they hold their defaults,
    so older rubrics keep their hash.
    """
    data = rubric.model_dump(mode="json")
    if data.get("rules") == Rules().model_dump(mode="json"):
        del data["rules"]
    if data.get("applies_to", {}).get("meta") is None:
        data.get("applies_to", {}).pop("meta", None)
    if data.get("context", {}).get("exclude_meta") is None:
        data.get("context", {}).pop("exclude_meta", None)
    for lb in data.get("labels", []):
        for key in ("levels", "patterns"):
            if lb.get(key) == []:
                del lb[key]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RubricError(InputError):
    """Every problem found in one rubric, one :class:`~toolkit.errors.InputError` each.

    ``problems`` lists them in file order; ``str()`` is one line per problem (file, line, field
    and what is wrong); ``path``, ``line``, ``field`` and ``message`` are those of the first.

    Examples
    --------
    >>> try:
    ...     parse_rubric({"id": "x", "version": 1, "description": "d", "scheme": "x/y",
    ...                   "labels": [{"name": "a", "defintion": "A"}, {"name": "b"}]})
    ... except RubricError as exc:
    ...     print(exc)
    field 'labels.0.defintion': unknown key (did you mean 'definition'?)
    field 'labels.1.definition': Field required
    """

    def __init__(self, problems: Sequence[InputError]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.message, path=first.path, line=first.line, field=first.field)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


#: Where each key and item of a rubric file starts: path (keys and indexes as text) -> 1-based line.
_Lines = dict[tuple[str, ...], int]


def _node_lines(node: yaml.Node | None) -> _Lines:
    """The 1-based line of every mapping key and sequence item below ``node`` (``()``: the top)."""
    lines: _Lines = {}
    if node is None:
        return lines
    lines[()] = node.start_mark.line + 1
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(node, ())]
    while stack:
        current, where = stack.pop()
        if len(where) > 40:  # a recursive alias: nothing a rubric needs
            continue
        if isinstance(current, yaml.MappingNode):
            children = [((str(k.value),), k, v) for k, v in current.value]
        elif isinstance(current, yaml.SequenceNode):
            children = [((str(i),), v, v) for i, v in enumerate(current.value)]
        else:
            continue
        for part, mark_node, value in children:
            key = where + part
            lines.setdefault(key, mark_node.start_mark.line + 1)
            stack.append((value, key))
    return lines


def _line_of(lines: _Lines, where: tuple[str, ...]) -> int | None:
    """The line of ``where``, else of its nearest parent that has one."""
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return None


def _child(value: Any, part: Any) -> tuple[bool, Any]:
    """(found, value[part]) for a mapping key or a list index."""
    if isinstance(value, dict):
        for key in (part, str(part)):
            if key in value:
                return True, value[key]
        return False, None
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return True, value[part]
    return False, None


def _data_path(loc: tuple[Any, ...], data: Any, missing: bool) -> tuple[str, ...]:
    """The part of pydantic's ``loc`` that exists in ``data`` (type tags of unions dropped)."""
    out: list[str] = []
    value = data
    for part in loc:
        found, value = _child(value, part)
        if not found:
            if missing:
                out.append(str(part))
            break
        out.append(str(part))
    return tuple(out)


def _model_at(where: tuple[str, ...]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``where`` (None when it is no model)."""
    tp: Any = Rubric
    for part in where:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(part)
            if info is None:
                return None
            tp = _container_or_model(info.annotation)
        elif get_origin(tp) in (list, dict):
            tp = _container_or_model(get_args(tp)[-1])
        else:
            return None
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _container_or_model(tp: Any) -> Any:
    """The member of a union that holds nested keys: a model, else a list or dict type."""
    if get_origin(tp) in (Union, UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        nested = [
            a
            for a in members
            if (isinstance(a, type) and issubclass(a, BaseModel)) or get_origin(a) in (list, dict)
        ]
        return nested[0] if nested else members[0]
    return tp


def _merge(messages: list[str]) -> str:
    """One message for one value (a union gives one error per member type)."""
    unique = list(dict.fromkeys(messages))
    head = "Input should be "
    if len(unique) > 1 and all(m.startswith(head) for m in unique):
        return head + " or ".join(m[len(head) :] for m in unique)
    return "; ".join(unique)


def _unknown_key(where: tuple[str, ...], data: Any) -> tuple[str, str | None]:
    """The message for an unknown key at ``where`` and the field it was probably meant as."""
    model = _model_at(where[:-1])
    if model is None:
        return "unknown key (check the spelling; see docs/annotation.md)", None
    value = data
    for part in where[:-1]:
        value = _child(value, int(part) if isinstance(value, list) else part)[1]
    present = set(value) if isinstance(value, dict) else set()
    absent = [f for f in model.model_fields if f not in present]
    close = difflib.get_close_matches(where[-1], absent, n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)", close[0]
    return f"unknown key (allowed here: {', '.join(model.model_fields)})", None


def _split_value_error(loc: tuple[Any, ...], msg: str) -> tuple[tuple[Any, ...], str]:
    """``Value error, labels.2.levels: ...`` from a model check: the field joins the location."""
    if not msg.startswith("Value error, "):
        return loc, msg
    msg = msg[len("Value error, ") :]
    field, _, rest = msg.partition(": ")
    if rest and " " not in field:
        parts = tuple(int(p) if p.isdigit() else p for p in field.split("."))
        return (*loc, *parts), rest
    return loc, msg


def _problems(exc: ValidationError, data: Any, lines: _Lines, path: Any) -> list[InputError]:
    """Every problem of ``exc``, one per value, in file order, each with its line and field."""
    found: dict[tuple[str, ...], list[str]] = {}
    meant: set[tuple[str, ...]] = set()
    for err in exc.errors():
        loc, msg = _split_value_error(tuple(err.get("loc", ())), str(err.get("msg", "invalid")))
        where = _data_path(loc, data, missing=err.get("type") == "missing")
        if err.get("type") == "extra_forbidden":
            msg, field = _unknown_key(where, data)
            if field is not None:
                meant.add((*where[:-1], field))
        found.setdefault(where, []).append(msg)
    problems = [
        (where, _merge(msgs)) for where, msgs in found.items() if where not in meant
    ]  # a missing field that an unknown key near it was meant as is said once, at that key
    problems.sort(key=lambda p: _line_of(lines, p[0]) or 0)
    return [
        InputError(msg, path=path, line=_line_of(lines, where), field=".".join(where) or None)
        for where, msg in problems
    ]


def parse_rubric(
    data: Any,
    *,
    path: str | os.PathLike[str] | None = None,
    lines: Mapping[tuple[str, ...], int] | None = None,
) -> Rubric:
    """Validate a rubric mapping (parsed YAML).

    Raises
    ------
    RubricError
        Listing every problem, each naming its field (``labels.2.definition``) and, given
        ``lines`` (as :func:`load_rubric` passes them), its line in the file.
    """
    if not isinstance(data, dict):
        raise InputError("a rubric must be a YAML mapping (key: value)", path=path)
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_problems(exc, data, dict(lines or {}), path)) from None


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
        node, data = _compose(src.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML ({problem})", path=src.path, line=line) from None
    return parse_rubric(data, path=src.path, lines=_node_lines(node))


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree of ``text`` (for line numbers) and the data built from it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()
