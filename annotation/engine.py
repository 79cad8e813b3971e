"""The annotation engine: items -> requests -> validated labels -> annotation rows.

:class:`Engine` labels :class:`~annotation.items.Item` s against one endpoint with bounded
concurrency, a response cache and a run store; :mod:`annotation.run` sets it up (``annotate``).
Pieces are separable: :mod:`annotation.requests` builds bodies, a
:class:`~annotation.transport.Transport` sends them, :mod:`annotation.cache` stores responses and
:mod:`annotation.store` writes the run directory.

Public surface for other unit shapes and backends
-------------------------------------------------
The engine runs any *unit* through a :class:`UnitLabeler` (``pending``, ``label``,
``error_rows``); the engine itself is the labeller of single items. Another labeller (the
dialogue packs of :mod:`annotation.pack`) builds on these public methods:

* :meth:`Engine.send` (cache, ``max_cost`` guard, usage) and :meth:`Engine.record` (request ids,
  served model) for each request, with an :class:`ItemTrace` per unit;
* :meth:`Engine.base_meta` and :meth:`Engine.row` to build rows in the common schema;
* :meth:`Engine.label` / :meth:`Engine.error_rows` for per-item labels (e.g. a fallback);
* :meth:`Engine.emit` to write rows (grouped per item) and report progress.

The Batch API collector (:mod:`annotation.batch.collect`) replays responses through
:meth:`Engine.label` with a cache-only transport and writes the rows with :meth:`Engine.emit`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from annotation.cache import ResponseCache, request_key
from annotation.items import Item
from annotation.parse import Answer, parse_answer
from annotation.pricing import Price, Usage, estimate_tokens
from annotation.prompt import DIALECTS, PROMPT_TEMPLATE_SHA256
from annotation.requests import RequestBuilder
from annotation.rubric import Rubric
from annotation.store import RunStore
from annotation.transport import (
    DialectRejected,
    FatalError,
    ItemFailure,
    Reply,
    Transport,
)

__all__ = ["Engine", "EngineSettings", "ItemTrace", "Progress", "Row", "UnitLabeler"]

#: One annotation row as written to ``annotations.jsonl`` (schema columns, ``meta`` a dict).
Row = dict[str, Any]
U = TypeVar("U")


class Progress(Protocol):
    """What the engine reports to a progress display."""

    def start(self, total: int, done: int) -> None:
        """``total`` items in the run, ``done`` of them finished earlier."""

    def advance(self, usage: Usage, cost: float | None) -> None:
        """One more item finished; ``usage``/``cost`` are this invocation's totals."""


class UnitLabeler(Protocol[U]):
    """How the engine labels one kind of unit (an item, a dialogue pack...).

    ``label`` may raise :class:`~annotation.transport.ItemFailure` (the unit gets
    ``error_rows``) or :class:`~annotation.transport.DialectRejected` (the dialect probe moves
    on to the next dialect).
    """

    def pending(self, units: Iterable[U]) -> Iterator[U]:
        """The units with something left to label."""
        ...

    async def label(self, unit: U, dialect: str) -> list[Row]:
        """The rows of one unit (of every item it covers that is not done yet)."""
        ...

    def error_rows(self, unit: U, kind: str, message: str) -> list[Row]:
        """Rows recording that the unit failed for good (``meta.status = "error"``)."""
        ...


@dataclass(frozen=True)
class EngineSettings:
    """How the engine sends: samples per item, re-asks, concurrency, dialect and cost guard.

    ``dialect`` ``None`` probes the endpoint with the first item; ``price`` ``None`` means the
    cost is unknown (``max_cost`` then needs a price and is refused by :mod:`annotation.run`).
    """

    samples: int = 1
    max_reasks: int = 2
    concurrency: int = 8
    dialect: str | None = None
    price: Price | None = None
    max_cost: float | None = None


class _Stop(Exception):
    """Stop dispatching (``--max-cost`` reached or a fatal error elsewhere)."""


@dataclass
class _Sample:
    answer: Answer
    raw: str | None
    finish_reason: str | None
    logprob_conf: float | None
    reasks: int


@dataclass
class ItemTrace:
    """What the requests of one unit cost and returned (usage, request ids, served model)."""

    usage: Usage = field(default_factory=Usage)
    request_ids: list[str] = field(default_factory=list)
    served: str | None = None
    fingerprint: str | None = None
    latency: float = 0.0
    all_cached: bool = True


_LABEL_VALUE = re.compile(r'"label"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _logprob_confidence(choice: dict[str, Any], content: str | None) -> float | None:
    """Probability of the label value's tokens, when token logprobs cover the content exactly."""
    lp = (choice.get("logprobs") or {}).get("content") if isinstance(choice, dict) else None
    if not lp or not content:
        return None
    tokens = [str(t.get("token") or "") for t in lp]
    if "".join(tokens) != content:
        return None
    m = _LABEL_VALUE.search(content)
    if m is None:
        return None
    start, end = m.span(1)
    pos, total, used = 0, 0.0, False
    for tok, entry in zip(tokens, lp, strict=True):
        a, b = pos, pos + len(tok)
        pos = b
        if b > start and a < end:
            total += float(entry.get("logprob") or 0.0)
            used = True
        if a >= end:
            break
    return round(math.exp(total), 6) if used else None


def choice_parts(choice: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """``(content, finish_reason, refusal)`` of one chat-completion choice."""
    msg = choice.get("message") or {}
    content = msg.get("content")
    return (
        content if isinstance(content, str) else None,
        choice.get("finish_reason"),
        msg.get("refusal"),
    )


def _majority(votes: Counter[str], order: list[str]) -> tuple[str, int]:
    """The most voted value (ties: first in ``order``) and its vote count."""
    rank = {v: i for i, v in enumerate(order)}
    top = max(votes.values())
    return min((v for v, c in votes.items() if c == top), key=lambda x: rank.get(x, 0)), top


def _vote_meta(votes: Counter[str], top: int, n_samples: int) -> dict[str, Any]:
    return {
        "confidence": round(top / n_samples, 6),
        "confidence_kind": "vote_share",
        "votes": dict(votes),
        "tie": sum(v == top for v in votes.values()) > 1,
    }


class Engine:
    """Run one rubric over units with one transport, cache and run store.

    Examples
    --------
    >>> import asyncio  # doctest: +SKIP
    >>> engine = Engine(rubric, RequestBuilder(rubric, params), transport, cache, store,
    ...                 settings=EngineSettings(concurrency=4),
    ...                 rater="gpt-4o-mini@mathdial-moves@1.0")  # doctest: +SKIP
    >>> asyncio.run(engine.run(iter_items(corpus, rubric)))  # doctest: +SKIP
    """

    def __init__(
        self,
        rubric: Rubric,
        builder: RequestBuilder,
        transport: Transport,
        cache: ResponseCache,
        store: RunStore,
        *,
        settings: EngineSettings,
        rater: str,
        progress: Progress | None = None,
    ) -> None:
        self.rubric = rubric
        self.builder = builder
        self.transport = transport
        self.cache = cache
        self.store = store
        self.settings = settings
        self.dialect = settings.dialect
        self.forced_dialect = settings.dialect is not None
        self.progress = progress
        self.rater = rater
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.fatal: FatalError | None = None
        self._reserved = 0.0
        self.models_served: Counter[str] = Counter()
        self.dialect_counts: Counter[str] = Counter()
        self.probe_log: list[dict[str, str]] = []

    # ------------------------------------------------------------ requests
    def _spent(self) -> float:
        return self.usage.cost(self.settings.price) or 0.0

    def _estimate_cost(self, body: dict[str, Any]) -> float:
        price = self.settings.price
        if price is None:
            return 0.0
        prompt = sum(estimate_tokens(m["content"]) + 4 for m in body["messages"])
        out = int(body.get(self.builder.params.max_tokens_field, 0)) * int(body.get("n", 1))
        return price.cost(prompt, 0, out)

    def _reserve(self, body: dict[str, Any]) -> float:
        """The worst-case cost of ``body``, refused (stop) when it could exceed ``max_cost``."""
        if self.stop_reason is not None:
            raise _Stop
        max_cost = self.settings.max_cost
        if max_cost is None:
            return 0.0
        est = self._estimate_cost(body)
        if self._spent() + self._reserved + est > max_cost:
            self.stop_reason = "max_cost"
            raise _Stop
        return est

    async def send(self, body: dict[str, Any], sample_idx: int, trace: ItemTrace) -> Reply:
        """Send ``body`` (or replay it from the cache), counting usage in the run and ``trace``.

        Raises the transport's errors (:class:`ItemFailure`, :class:`FatalError`, ...); stops
        dispatching when ``max_cost`` would be exceeded.
        """
        key = request_key(body, self.transport.endpoint, sample_idx)
        hit = self.cache.get(key)
        if hit is not None:
            self.usage.cache_hits += 1
            trace.usage.cache_hits += 1
            return Reply(json.loads(hit), hit, from_cache=True)
        est = self._reserve(body)
        self._reserved += est
        try:
            reply = await self.transport.complete(body)
        finally:
            self._reserved -= est
        trace.all_cached = False
        for u in (self.usage, trace.usage):
            u.requests += 1
            u.retries += reply.retries
            u.add_response(reply.data.get("usage"))
        self.cache.put(key, reply.text)
        return reply

    def record(self, reply: Reply, trace: ItemTrace) -> None:
        """Note a reply's request id, served model, fingerprint and latency in ``trace``."""
        data = reply.data
        if reply.request_id:
            trace.request_ids.append(reply.request_id)
        served = data.get("model")
        if isinstance(served, str):
            trace.served = served
        fp = data.get("system_fingerprint")
        if isinstance(fp, str):
            trace.fingerprint = fp
        trace.latency += reply.latency_s

    def count_reask(self, reply: Reply, trace: ItemTrace) -> None:
        """Count one re-ask in ``trace`` and (unless replayed from the cache) in the run."""
        trace.usage.reasks += 1
        if not reply.from_cache:  # replayed re-asks were counted when they were sent
            self.usage.reasks += 1

    async def _sample(
        self,
        messages: list[dict[str, str]],
        choice: dict[str, Any],
        idx: int,
        dialect: str,
        trace: ItemTrace,
    ) -> _Sample:
        content, finish, refusal = choice_parts(choice)
        answer = parse_answer(self.rubric, content, finish_reason=finish, refusal=refusal)
        conf = _logprob_confidence(choice, content) if answer.ok else None
        reasks = 0
        conv = messages
        while not answer.ok and reasks < self.settings.max_reasks:
            conv = self.builder.reask(
                conv, content if content is not None else refusal, answer.reason or "invalid"
            )
            body = self.builder.body(conv, dialect, seed_offset=idx)
            reply = await self.send(body, idx, trace)
            self.record(reply, trace)
            reasks += 1
            self.count_reask(reply, trace)
            ch = (reply.data.get("choices") or [{}])[0]
            content, finish, refusal = choice_parts(ch)
            answer = parse_answer(self.rubric, content, finish_reason=finish, refusal=refusal)
            conf = _logprob_confidence(ch, content) if answer.ok else None
        return _Sample(answer, content if content is not None else refusal, finish, conf, reasks)

    # ------------------------------------------------------------ the item labeller
    def pending(self, units: Iterable[Item]) -> Iterator[Item]:
        """The items not done yet (``ok``/``invalid`` rows in the run directory)."""
        return (it for it in units if it.key not in self.store.done)

    async def label(self, unit: Item, dialect: str) -> list[Row]:
        """Label one item: ``samples`` answers (``n``, else separate seeds), re-asks, rows."""
        trace = ItemTrace()
        messages = self.builder.item_messages(unit, dialect)
        n_samples = self.settings.samples
        reply = await self.send(self.builder.body(messages, dialect, n=n_samples), 0, trace)
        self.record(reply, trace)
        choices = list(reply.data.get("choices") or [])[:n_samples] or [{}]
        n_choices = len(choices)
        samples = [
            await self._sample(messages, ch, i, dialect, trace) for i, ch in enumerate(choices)
        ]
        for i in range(len(samples), n_samples):
            body = self.builder.body(messages, dialect, seed_offset=i)
            r = await self.send(body, i, trace)
            self.record(r, trace)
            ch = (r.data.get("choices") or [{}])[0]
            samples.append(await self._sample(messages, ch, i, dialect, trace))
        meta = self.base_meta(unit, trace, dialect, messages, n_choices)
        return self._rows(unit, samples, meta)

    # ---------------------------------------------------------------- rows
    def base_meta(
        self,
        item: Item,
        trace: ItemTrace,
        dialect: str,
        messages: list[dict[str, str]],
        n_choices: int | None,
    ) -> dict[str, Any]:
        """``meta`` shared by an item's rows: key, usage, cache hit, latency and provenance."""
        p = self.builder.params
        if trace.served:
            self.models_served[trace.served] += 1
        self.dialect_counts[dialect] += 1
        return {
            "item_key": item.key,
            "usage": trace.usage.row_dict(),
            "cache_hit": trace.all_cached,
            "latency_s": round(trace.latency, 4),
            "provenance": {
                "rubric_id": self.rubric.id,
                "rubric_version": self.rubric.version,
                "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
                "rendered_prompt_sha256": RequestBuilder.prompt_sha256(messages),
                "context_turns": item.context_turns,
                "dialect": dialect,
                "model": p.model,
                "model_served": trace.served,
                "system_fingerprint": trace.fingerprint,
                "request_ids": trace.request_ids,
                "endpoint": self.transport.endpoint,
                "temperature": p.temperature,
                "seed": p.seed,
                "samples": self.settings.samples,
                "n_choices": n_choices,
            },
        }

    def row(self, item: Item, scheme: str, label: str | None, meta: dict[str, Any]) -> Row:
        """One annotation row of ``item`` in the schema (rater and run id of this engine)."""
        return {
            "corpus": item.corpus,
            "unit_id": item.unit_id,
            "scheme": scheme,
            "label": label,
            "rater": self.rater,
            "rater_kind": "model",
            "run_id": self.store.run_id,
            "meta": meta,
        }

    def _per_category(self, item: Item, meta: dict[str, Any]) -> list[Row]:
        """One unlabelled row per category (multi/dimensions) with ``meta`` as given."""
        return [
            self.row(item, self.rubric.scheme_for(c), None, dict(meta, category=c))
            for c in self.rubric.label_names
        ]

    def _rows(self, item: Item, samples: list[_Sample], meta: dict[str, Any]) -> list[Row]:
        valid = [s for s in samples if s.answer.ok]
        n_samples = len(samples)
        meta["raw"] = samples[0].raw if n_samples == 1 else [s.raw for s in samples]
        meta["finish_reason"] = samples[0].finish_reason
        meta["reasks"] = sum(s.reasks for s in samples)
        if not valid:
            meta.update(status="invalid", reason=samples[0].answer.reason, confidence=None)
            if self.rubric.mode in ("multi", "dimensions"):
                return self._per_category(item, meta)
            if item.category is not None:
                meta["category"] = item.category
            return [self.row(item, self.rubric.scheme_for(item.category), None, meta)]
        if self.rubric.mode == "multi":
            return self._multi_rows(item, valid, n_samples, meta)
        if self.rubric.mode == "dimensions":
            return self._dimension_rows(item, valid, n_samples, meta)
        return [self._single_row(item, valid, n_samples, meta)]

    def _single_row(
        self, item: Item, valid: list[_Sample], n_samples: int, meta: dict[str, Any]
    ) -> Row:
        """The majority label (ties: rubric order) with its vote or logprob confidence."""
        votes = Counter(s.answer.labels[0] for s in valid)
        winner, top = _majority(votes, self.rubric.category_order)
        chosen = next(s for s in valid if s.answer.labels[0] == winner)
        meta.update(
            status="ok", rationale=chosen.answer.rationale, logprob_confidence=chosen.logprob_conf
        )
        if n_samples > 1:
            meta.update(_vote_meta(votes, top, n_samples))
        else:
            meta.update(
                confidence=chosen.logprob_conf,
                confidence_kind="logprob" if chosen.logprob_conf is not None else None,
            )
        if item.category is not None:
            meta["category"] = item.category
        return self.row(item, self.rubric.scheme_for(item.category), winner, meta)

    def _multi_rows(
        self, item: Item, valid: list[_Sample], n_samples: int, meta: dict[str, Any]
    ) -> list[Row]:
        """One yes/no row per category: yes when more than half of the valid answers chose it."""
        rows = []
        yes, no = self.rubric.yes_no["yes"], self.rubric.yes_no["no"]
        for c in self.rubric.label_names:
            share = sum(c in s.answer.labels for s in valid) / len(valid)
            several = n_samples > 1
            m = dict(
                meta,
                status="ok",
                category=c,
                confidence=round(max(share, 1 - share) * len(valid) / n_samples, 6)
                if several
                else None,
                confidence_kind="vote_share" if several else None,
                rationale=valid[0].answer.rationale,
            )
            rows.append(self.row(item, self.rubric.scheme_for(c), yes if share > 0.5 else no, m))
        return rows

    def _dimension_rows(
        self, item: Item, valid: list[_Sample], n_samples: int, meta: dict[str, Any]
    ) -> list[Row]:
        """One row per dimension; with several samples the majority level (ties: scale order)."""
        rows = []
        for i, lb in enumerate(self.rubric.labels):
            votes = Counter(s.answer.labels[i] for s in valid)
            winner, top = _majority(votes, lb.level_names)
            m = dict(meta, status="ok", category=lb.name, rationale=valid[0].answer.rationale)
            if n_samples > 1:
                m.update(_vote_meta(votes, top, n_samples))
            else:
                m.update(confidence=None, confidence_kind=None)
            rows.append(self.row(item, self.rubric.scheme_for(lb.name), winner, m))
        return rows

    def error_rows(self, unit: Item, kind: str, message: str) -> list[Row]:
        """Rows recording that ``unit`` failed for good (``meta.error`` = ``kind``)."""
        meta = {
            "item_key": unit.key,
            "status": "error",
            "error": kind,
            "reason": message,
            "cache_hit": False,
            "provenance": {
                "rubric_id": self.rubric.id,
                "rubric_version": self.rubric.version,
                "dialect": self.dialect,
                "model": self.builder.params.model,
                "endpoint": self.transport.endpoint,
            },
        }
        cats = (
            self.rubric.label_names
            if self.rubric.mode in ("multi", "dimensions")
            else [unit.category]
        )
        return [
            self.row(unit, self.rubric.scheme_for(c), None, dict(meta, category=c) if c else meta)
            for c in cats
        ]

    # ----------------------------------------------------------------- run
    async def _safe_label(self, labeler: UnitLabeler[U], unit: U) -> list[Row] | None:
        assert self.dialect is not None
        try:
            return await labeler.label(unit, self.dialect)
        except ItemFailure as exc:
            return labeler.error_rows(unit, exc.kind, exc.message)
        except DialectRejected as exc:
            return labeler.error_rows(unit, "dialect_rejected", str(exc))
        except _Stop:
            return None
        except FatalError as exc:
            if self.fatal is None:
                self.fatal = exc
            self.stop_reason = "fatal"
            return None

    async def _probe(self, labeler: UnitLabeler[U], unit: U) -> list[Row] | None:
        """Find the endpoint's dialect with a real unit, falling back in order."""
        for dialect in DIALECTS:
            try:
                rows = await labeler.label(unit, dialect)
            except DialectRejected as exc:
                self.probe_log.append({"dialect": dialect, "result": f"rejected: {exc}"[:300]})
                continue
            except ItemFailure as exc:
                self.dialect = dialect
                self.probe_log.append({"dialect": dialect, "result": f"error: {exc.kind}"})
                return labeler.error_rows(unit, exc.kind, exc.message)
            self.dialect = dialect
            self.probe_log.append({"dialect": dialect, "result": "accepted"})
            return rows
        raise FatalError("the endpoint rejected every output dialect")  # pragma: no cover

    def emit(self, rows: list[Row]) -> None:
        """Append rows (one store write and one progress step per item) to the run."""
        for _, group in itertools.groupby(rows, key=lambda r: r["meta"]["item_key"]):
            self.store.append(list(group))
            if self.progress is not None:
                self.progress.advance(self.usage, self.usage.cost(self.settings.price))

    async def _first(self, labeler: UnitLabeler[U], pending: Iterator[U]) -> bool:
        """Probe the dialect with the first pending unit; ``False`` when the run must end."""
        first = next(pending, None)
        if first is None:
            return False
        try:
            rows = await self._probe(labeler, first)
        except _Stop:
            return False
        except FatalError as exc:
            self.fatal, self.stop_reason = exc, "fatal"
            return False
        if rows is not None:
            self.emit(rows)
        return True

    async def run_units(self, units: Iterable[U], labeler: UnitLabeler[U]) -> None:
        """Label every pending unit with ``labeler``, ``concurrency`` at a time."""
        pending = labeler.pending(units)
        if self.dialect is None and not await self._first(labeler, pending):
            return

        async def worker() -> None:
            while self.stop_reason is None:
                unit = next(pending, None)
                if unit is None:
                    return
                rows = await self._safe_label(labeler, unit)
                if rows is None:
                    return
                self.emit(rows)

        await asyncio.gather(*(worker() for _ in range(self.settings.concurrency)))

    async def run(self, items: Iterable[Item]) -> None:
        """Label every pending item (the engine is its own item labeller)."""
        await self.run_units(items, self)
