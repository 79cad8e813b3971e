"""Dialogue-packed labelling: one request labels every target turn of a dialogue.

The dialogue (and its meta fields) is shown once; the target turns are marked ``>>> (n)`` with
numbers 1..K, and the answer is ``{"answers": [{"turn": n, "label": ...}, ...]}`` whose JSON
schema restricts ``turn`` to the target numbers and ``label`` to the rubric's labels. The codebook
(system message) is the per-turn one with the unit and answer paragraphs swapped.

Alignment is validated: every target must be labelled exactly once, with an allowed label, and
no other number may appear. A faulty answer is re-asked (``max_reasks``, listing the problems);
turns still unresolved then fall back to ordinary per-turn requests. Output rows are the
per-turn rows (same columns and meta keys), one per target turn, with ``provenance.pack``
telling how each label was obtained. The pack's usage is split evenly over its turns, so sums
over rows stay exact.

:class:`PackLabeler` is an :class:`~annotation.engine.UnitLabeler` of packs: the engine runs it
with ``engine.run_units(packs, PackLabeler(engine))`` and it sends through the engine's public
``send``/``record`` and builds rows with ``base_meta``/``row`` (per-turn fallback:
``engine.label``).

Differences from per-turn mode: the model sees the whole dialogue (also the turns after the
target), not only ``context_turns`` previous turns; only single-label turn rubrics with one
sample are supported. Very long dialogues are split into parts of at most ``MAX_TARGETS``
targets, each showing the whole dialogue.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from annotation.engine import Engine, ItemTrace, Row, choice_parts
from annotation.items import Item, clip_text, iter_items, meta_value
from annotation.parse import match_label
from annotation.pricing import ROW_USAGE
from annotation.prompt import SAFETY_TEXT, UNIT_TEXT, system_message
from annotation.requests import RequestBuilder
from annotation.rubric import Rubric
from annotation.transport import ItemFailure, Reply
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = [
    "MAX_TARGETS",
    "PACK_MODES",
    "PACK_TEMPLATE_SHA256",
    "Pack",
    "PackAnswer",
    "PackLabeler",
    "PackStats",
    "check_pack",
    "iter_packs",
    "pack_schema",
    "pack_system_message",
    "parse_pack_answer",
]

PACK_MODES: tuple[str, ...] = ("dialogue",)
#: Most target turns labelled by one request (longer dialogues are split into parts).
MAX_TARGETS = 40

_PACK_UNIT = (
    "You label several turns of one dialogue at once. The turns to label are marked with >>> and "
    "a number in parentheses, e.g. >>> (3)."
)
_PACK_ANSWER = (
    'Answer with a JSON object {{"answers": [...]}} holding exactly one entry per numbered '
    'turn, in order: {{"turn": <the number>, "label": <label>}}. "label" must be exactly '
    "one of: {labels}."
)
_PACK_RATIONALE = ' Each entry also has "rationale": one short sentence explaining the decision.'
_PACK_SCHEMA_LINE = "Reply with only the JSON object, no other text. Its JSON schema: {schema}"
_PACK_HEADER = "Transcript (label every turn marked >>> (n), n = 1 to {k}):"
_PACK_REASK = (
    "Your previous answer could not be used: {problems}. Reply again with only the JSON object: "
    'one entry for each of the turns {numbers}, each exactly once, "label" exactly one of: '
    "{labels}."
)
_TEMPLATES = (
    "pack-v1",
    _PACK_UNIT,
    _PACK_ANSWER,
    _PACK_RATIONALE,
    _PACK_SCHEMA_LINE,
    _PACK_HEADER,
    _PACK_REASK,
)
#: sha256 of the pack-specific template strings (the codebook part is PROMPT_TEMPLATE_SHA256's).
PACK_TEMPLATE_SHA256 = hashlib.sha256("\x1e".join(_TEMPLATES).encode("utf-8")).hexdigest()


def check_pack(pack: str | None, rubric: Rubric, samples: int) -> None:
    """Raise :class:`InputError` when ``pack`` cannot be used with this rubric/settings."""
    if pack is None:
        return
    if pack not in PACK_MODES:
        raise InputError(
            f"unknown pack mode {pack!r}; choose one of {', '.join(PACK_MODES)}", field="pack"
        )
    if rubric.unit != "turn" or rubric.mode != "single":
        raise InputError(
            f"pack {pack!r} needs a single-label turn rubric; {rubric.id} is "
            f"{rubric.mode}/{rubric.unit}",
            field="pack",
        )
    if samples != 1:
        raise InputError("pack mode takes one sample per turn (samples=1)", field="pack")
    if rubric.context.exclude_meta:
        raise InputError(
            f"pack {pack!r} shows the whole dialogue, but {rubric.id} hides some "
            "turns from the context (context.exclude_meta); label turn by turn",
            field="pack",
        )


# ------------------------------------------------------------------------------------ items
@dataclass(frozen=True)
class Pack:
    """One packed request: a dialogue (part) and its target turns.

    ``targets[i]`` (number ``i + 1``) is the per-turn :class:`Item` (used for keys and for the
    per-turn fallback); ``positions[i]`` its position in the dialogue.
    """

    corpus: str
    dialogue_id: str
    part: int
    text: str
    targets: tuple[Item, ...]
    positions: tuple[int, ...]
    n_turns: int

    @property
    def key(self) -> str:
        return f"{self.corpus}\x1f{self.dialogue_id}\x1fpack{self.part}"

    @property
    def numbers(self) -> list[int]:
        return list(range(1, len(self.targets) + 1))


def _render(
    pairs: list[tuple[str, str]],
    marks: dict[int, int],
    meta_lines: list[tuple[str, str]],
    max_chars: int,
) -> str:
    out: list[str] = []
    if meta_lines:
        out.append("Context:")
        out += [f"{k}: {v}" for k, v in meta_lines]
        out.append("")
    out.append(_PACK_HEADER.format(k=len(marks)))
    for pos, (role, text) in enumerate(pairs):
        n = marks.get(pos)
        mark = f">>> ({n}) " if n is not None else "    "
        out.append(f"{mark}[{role}] {clip_text(text, max_chars)}")
    return "\n".join(out) + "\n"


def iter_packs(
    corpus: Corpus,
    rubric: Rubric,
    *,
    context_turns: int | None = None,
    limit: int | None = None,
    max_targets: int = MAX_TARGETS,
) -> Iterator[Pack]:
    """Yield one :class:`Pack` per dialogue (part), in corpus order.

    ``limit`` counts target turns, as in per-turn mode (the last pack may be partial).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import Corpus
    >>> from annotation.rubric import load_rubric
    >>> c = Corpus(pd.DataFrame({"corpus": ["t"], "dialogue_id": ["d"], "split": ["x"],
    ...                          "kind": ["k"], "meta": [{}]}),
    ...            pd.DataFrame({"corpus": ["t"] * 3, "dialogue_id": ["d"] * 3,
    ...                          "turn_id": ["d:0", "d:1", "d:2"], "index": [0, 1, 2],
    ...                          "role": ["teacher", "student", "teacher"],
    ...                          "speaker": ["T", "S", "T"], "text": ["Hi", "5", "Why?"],
    ...                          "meta": [{}, {}, {}]}))
    >>> p = next(iter_packs(c, load_rubric("mathdial-moves")))
    >>> [t.unit_id for t in p.targets], p.text.splitlines()[-1]
    (['d:0', 'd:2'], '>>> (2) [teacher] Why?')
    """
    if max_targets < 1:
        raise InputError("max_targets must be >= 1", field="max_targets")
    turns = corpus.turns.sort_values(["corpus", "dialogue_id", "index"], kind="stable")
    by_dialogue: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for c, d, t, r, x in zip(
        turns["corpus"].tolist(),
        turns["dialogue_id"].tolist(),
        turns["turn_id"].tolist(),
        turns["role"].tolist(),
        turns["text"].tolist(),
        strict=True,
    ):
        by_dialogue.setdefault((str(c), str(d)), []).append(
            (str(t), str(r), x if isinstance(x, str) else "")
        )
    dmeta = {
        (str(c), str(d)): m or {}
        for c, d, m in zip(
            corpus.dialogues["corpus"],
            corpus.dialogues["dialogue_id"],
            corpus.dialogues["meta"],
            strict=True,
        )
    }
    items = iter_items(corpus, rubric, context_turns=context_turns, limit=limit)
    max_chars = rubric.context.max_chars_per_turn
    for (cname, did), group in itertools.groupby(items, key=lambda i: (i.corpus, i.dialogue_id)):
        rows = by_dialogue[(cname, did)]
        where = {tid: pos for pos, (tid, _, _) in enumerate(rows)}
        pairs = [(role, text) for _, role, text in rows]
        meta_lines = [
            (key, v)
            for key in rubric.context.meta
            if (v := meta_value(key, dmeta.get((cname, did), {}))) is not None
        ]
        targets = list(group)
        for part, lo in enumerate(range(0, len(targets), max_targets)):
            chunk = targets[lo : lo + max_targets]
            positions = [where[t.unit_id] for t in chunk]
            marks = {pos: i + 1 for i, pos in enumerate(positions)}
            yield Pack(
                cname,
                did,
                part,
                _render(pairs, marks, meta_lines, max_chars),
                tuple(chunk),
                tuple(positions),
                len(pairs),
            )


# ------------------------------------------------------------------------------------ prompt
def pack_schema(rubric: Rubric, numbers: list[int] | None = None) -> dict[str, Any]:
    """JSON schema of a packed answer (``turn`` restricted to ``numbers`` when given)."""
    turn: dict[str, Any] = {"type": "integer"}
    if numbers is not None:
        turn["enum"] = list(numbers)
    props: dict[str, Any] = {"turn": turn, "label": {"type": "string", "enum": rubric.label_names}}
    if rubric.output.rationale:
        props["rationale"] = {"type": "string", "description": "one short sentence"}
    entry = {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"answers": {"type": "array", "items": entry}},
        "required": ["answers"],
        "additionalProperties": False,
    }


def pack_response_format(rubric: Rubric, dialect: str, numbers: list[int]) -> dict[str, Any] | None:
    """``response_format`` of a packed request in ``dialect``."""
    schema = pack_schema(rubric, numbers)
    if dialect == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "annotation_pack", "schema": schema, "strict": True},
        }
    if dialect == "json_object_schema":
        # llama.cpp compiles the schema to a grammar: fixing the array length makes the model
        # write one entry per target instead of stopping early (SmolLM2 often stopped after 2)
        schema["properties"]["answers"].update(minItems=len(numbers), maxItems=len(numbers))
        return {"type": "json_object", "schema": schema}
    return None


def pack_system_message(rubric: Rubric, dialect: str) -> str:
    """The per-turn codebook with the unit and answer paragraphs for packed labelling."""
    base = system_message(rubric, "json_schema")
    head, sep, _ = base.partition("\n## Answer\n")
    if not sep or UNIT_TEXT["turn"] not in head:  # pragma: no cover - template drift guard
        raise RuntimeError("the per-turn system message changed shape; update annotation.pack")
    labels = ", ".join(json.dumps(n, ensure_ascii=False) for n in rubric.label_names)
    answer = _PACK_ANSWER.format(labels=labels)
    if rubric.output.rationale:
        answer += _PACK_RATIONALE
    parts = [head.replace(UNIT_TEXT["turn"], _PACK_UNIT, 1), "## Answer", SAFETY_TEXT, answer]
    if dialect == "prompt":
        schema = json.dumps(pack_schema(rubric), ensure_ascii=False, separators=(",", ":"))
        parts.append(_PACK_SCHEMA_LINE.format(schema=schema))
    return "\n".join(parts).strip() + "\n"


def _reask_text(rubric: Rubric, problems: str, numbers: list[int]) -> str:
    labels = ", ".join(json.dumps(n, ensure_ascii=False) for n in rubric.label_names)
    return _PACK_REASK.format(
        problems=problems, numbers=", ".join(map(str, numbers)), labels=labels
    )


# ------------------------------------------------------------------------------------- parse
@dataclass
class PackAnswer:
    """A parsed packed answer.

    ``labels`` maps each well-answered turn number to ``(label, rationale, entry JSON)``;
    ``problems`` maps every other target number to the reason; ``unknown`` lists entries whose
    number is not a target (or that have no usable number).
    """

    labels: dict[int, tuple[str, str | None, str]] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
    unknown: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unknown

    def summary(self) -> str:
        """One line naming every problem (for the re-ask and the rows' ``reason``)."""
        by_reason: dict[str, list[int]] = {}
        for n, why in sorted(self.problems.items()):
            by_reason.setdefault(why, []).append(n)
        parts = [
            f"{why}: turn{'s' if len(ns) > 1 else ''} {', '.join(map(str, ns))}"
            for why, ns in by_reason.items()
        ]
        if self.unknown:
            shown = ", ".join(json.dumps(u, ensure_ascii=False)[:40] for u in self.unknown[:5])
            parts.append(f"entries for turns that are not numbered targets: {shown}")
        return "; ".join(parts)


def _turn_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_pack_answer(
    rubric: Rubric,
    content: str | None,
    numbers: list[int],
    *,
    finish_reason: str | None = None,
    refusal: str | None = None,
) -> PackAnswer:
    """Validate a packed answer: JSON, alignment (each target exactly once), allowed labels.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> r = load_rubric("mathdial-moves")
    >>> a = parse_pack_answer(r, '{"answers": [{"turn": 1, "label": "focus"}, '
    ...                          '{"turn": 1, "label": "telling"}, {"turn": 7, "label": "focus"}]}',
    ...                       [1, 2, 3])
    >>> sorted(a.problems.items())
    [(1, 'labelled 2 times'), (2, 'not labelled'), (3, 'not labelled')]
    >>> a.unknown
    [{'turn': 7, 'label': 'focus'}]
    """

    def fail(reason: str) -> PackAnswer:
        return PackAnswer(problems=dict.fromkeys(numbers, reason))

    if refusal:
        return fail("the model refused")
    if finish_reason == "length":
        return fail("the answer was cut off (finish_reason length)")
    if content is None or not content.strip():
        return fail("empty answer")
    decoder = json.JSONDecoder(strict=False)  # raw newlines inside strings are harmless here
    try:
        data = decoder.decode(content)
    except json.JSONDecodeError:
        # the first complete JSON object, ignoring text around it (small local models sometimes
        # keep writing after the grammar-constrained object ends)
        start = content.find("{")
        try:
            data = decoder.raw_decode(content, start)[0] if start >= 0 else None
        except json.JSONDecodeError:
            data = None
    if data is None:
        return fail("the answer is not valid JSON")
    entries = data.get("answers") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return fail('"answers" is missing or not a list')
    wanted = set(numbers)
    seen: dict[int, list[dict[str, Any]]] = {}
    out = PackAnswer()
    for entry in entries:
        n = _turn_number(entry.get("turn")) if isinstance(entry, dict) else None
        if n is None or n not in wanted:
            out.unknown.append(entry)
            continue
        seen.setdefault(n, []).append(entry)
    allowed = rubric.label_names
    for n in numbers:
        got = seen.get(n, [])
        if not got:
            out.problems[n] = "not labelled"
        elif len(got) > 1:
            out.problems[n] = f"labelled {len(got)} times"
        else:
            entry = got[0]
            lab = match_label(entry.get("label"), allowed)
            if lab is None:
                out.problems[n] = f"label {entry.get('label')!r} is not one of the allowed labels"
                continue
            why = entry.get("rationale")
            out.labels[n] = (
                lab,
                why.strip()[:1000] if isinstance(why, str) else None,
                json.dumps(entry, ensure_ascii=False, separators=(",", ":")),
            )
    return out


# ------------------------------------------------------------------------------------ labeller
def _split(value: int, parts: int) -> list[int]:
    base, extra = divmod(value, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


@dataclass
class PackStats:
    """Counts of a packed run (``manifest.pack_stats``)."""

    packs: int = 0
    turns_packed: int = 0
    turns_fallback: int = 0
    reasks: int = 0


@dataclass
class _PackReply:
    """The outcome of a pack's request and re-asks."""

    answer: PackAnswer
    finish: str | None = None
    reasks: int = 0


class PackLabeler:
    """Labels :class:`Pack` s through an :class:`~annotation.engine.Engine` (one request each).

    A :class:`~annotation.engine.UnitLabeler`: ``engine.run_units(packs, PackLabeler(engine))``.
    Turns a pack leaves unresolved are labelled by the engine's per-turn :meth:`Engine.label`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rubric = engine.rubric
        self.stats = PackStats()
        self._system: dict[str, str] = {}

    def pending(self, units: Iterable[Pack]) -> Iterator[Pack]:
        """Packs with at least one target not done yet."""
        done = self.engine.store.done
        return (p for p in units if any(t.key not in done for t in p.targets))

    def _messages(self, pack: Pack, dialect: str) -> list[dict[str, str]]:
        if dialect not in self._system:
            self._system[dialect] = pack_system_message(self.rubric, dialect)
        return [
            {"role": "system", "content": self._system[dialect]},
            {"role": "user", "content": pack.text},
        ]

    def _body(self, messages: list[dict[str, str]], dialect: str, pack: Pack) -> dict[str, Any]:
        builder = self.engine.builder
        body = builder.body(messages, dialect)
        fmt = pack_response_format(self.rubric, dialect, pack.numbers)
        if fmt is None:
            body.pop("response_format", None)
        else:
            body["response_format"] = fmt
        field_ = builder.params.max_tokens_field
        body[field_] = int(body[field_]) * len(pack.targets) + 16
        return body

    def _parse(self, reply: Reply, numbers: list[int]) -> tuple[str | None, str | None, PackAnswer]:
        content, finish, refusal = choice_parts((reply.data.get("choices") or [{}])[0])
        answer = parse_pack_answer(
            self.rubric, content, numbers, finish_reason=finish, refusal=refusal
        )
        return content if content is not None else refusal, finish, answer

    async def _ask(
        self, pack: Pack, dialect: str, messages: list[dict[str, str]], trace: ItemTrace
    ) -> _PackReply:
        """The pack's request, re-asked (listing the problems) until aligned or out of re-asks."""
        engine, numbers = self.engine, pack.numbers
        reply = await engine.send(self._body(messages, dialect, pack), 0, trace)
        engine.record(reply, trace)
        content, finish, answer = self._parse(reply, numbers)
        out = _PackReply(answer, finish)
        conv = messages
        while not out.answer.ok and out.reasks < engine.settings.max_reasks:
            problems = _reask_text(self.rubric, out.answer.summary(), numbers)
            conv = [
                *conv,
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": problems},
            ]
            reply = await engine.send(self._body(conv, dialect, pack), 0, trace)
            engine.record(reply, trace)
            out.reasks += 1
            engine.count_reask(reply, trace)
            if not reply.from_cache:
                self.stats.reasks += 1
            content, out.finish, out.answer = self._parse(reply, numbers)
        return out

    async def label(self, unit: Pack, dialect: str) -> list[Row]:
        """Rows of the pack's targets not done yet (packed labels, else per-turn fallback)."""
        pack = unit
        trace = ItemTrace()
        messages = self._messages(pack, dialect)
        try:
            got = await self._ask(pack, dialect, messages, trace)
        except ItemFailure as exc:  # e.g. the whole dialogue is too long: label turn by turn
            reason = f"pack request failed: {exc.kind}"
            got = _PackReply(PackAnswer(problems=dict.fromkeys(pack.numbers, reason)))
        self.stats.packs += 1
        n_targets = len(pack.targets)
        shares = {key: _split(int(getattr(trace.usage, key)), n_targets) for key in ROW_USAGE}
        rows: list[Row] = []
        for i, target in enumerate(pack.targets):
            if target.key in self.engine.store.done:
                continue
            share = {key: shares[key][i] for key in ROW_USAGE}
            if i + 1 in got.answer.labels:
                rows.append(self._packed_row(pack, i, got, (trace, messages, dialect), share))
            else:
                info = self._info(pack, i, got)
                rows += await self._fallback(target, dialect, info, share, got.answer)
        return rows

    def _info(self, pack: Pack, i: int, got: _PackReply) -> dict[str, Any]:
        """``provenance.pack`` of target ``i``."""
        return {
            "mode": "dialogue",
            "dialogue_id": pack.dialogue_id,
            "part": pack.part,
            "turn_number": i + 1,
            "targets": len(pack.targets),
            "template_sha256": PACK_TEMPLATE_SHA256,
            "reasks": got.reasks,
            "fallback": i + 1 not in got.answer.labels,
        }

    def _packed_row(
        self,
        pack: Pack,
        i: int,
        got: _PackReply,
        request: tuple[ItemTrace, list[dict[str, str]], str],
        share: dict[str, int],
    ) -> Row:
        """The row of a target the pack answered (its usage share, its entry as ``raw``)."""
        trace, messages, dialect = request
        target, pos = pack.targets[i], pack.positions[i]
        self.stats.turns_packed += 1
        label, why, raw = got.answer.labels[i + 1]
        meta = self.engine.base_meta(target, trace, dialect, messages, 1)
        meta["usage"] = share
        meta["provenance"].update(
            context_turns=pos,
            rendered_prompt_sha256=RequestBuilder.prompt_sha256(messages),
            following_turns_shown=pack.n_turns - pos - 1,
            pack=self._info(pack, i, got),
        )
        meta.update(
            status="ok",
            raw=raw,
            finish_reason=got.finish,
            reasks=got.reasks,
            rationale=why,
            logprob_confidence=None,
            confidence=None,
            confidence_kind=None,
        )
        return self.engine.row(target, self.rubric.scheme_for(None), label, meta)

    async def _fallback(
        self,
        target: Item,
        dialect: str,
        info: dict[str, Any],
        share: dict[str, int],
        answer: PackAnswer,
    ) -> list[Row]:
        """Label an unresolved target turn by turn; the pack's usage share is added to it."""
        self.stats.turns_fallback += 1
        info["fallback_reason"] = answer.problems.get(info["turn_number"], answer.summary() or None)
        try:
            rows = await self.engine.label(target, dialect)
        except ItemFailure as exc:
            rows = self.engine.error_rows(target, exc.kind, exc.message)
        for row in rows:
            meta = row["meta"]
            usage = meta.get("usage") or dict.fromkeys(ROW_USAGE, 0)
            meta["usage"] = {key: int(usage.get(key, 0)) + share[key] for key in ROW_USAGE}
            meta.setdefault("provenance", {})["pack"] = info
        return rows

    def error_rows(self, unit: Pack, kind: str, message: str) -> list[Row]:
        """Error rows for each target not done yet, with ``provenance.pack``."""
        rows: list[Row] = []
        for i, target in enumerate(unit.targets):
            if target.key in self.engine.store.done:
                continue
            for row in self.engine.error_rows(target, kind, message):
                row["meta"]["provenance"]["pack"] = {
                    "mode": "dialogue",
                    "dialogue_id": unit.dialogue_id,
                    "part": unit.part,
                    "turn_number": i + 1,
                    "targets": len(unit.targets),
                }
                rows.append(row)
        return rows
