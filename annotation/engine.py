"""The annotation engine: items -> requests -> validated labels -> annotation rows.

:func:`annotate` (and :func:`annotate_async`) run a rubric over a corpus against any
OpenAI-compatible endpoint with bounded concurrency, a response cache, resumable output and a run
manifest. Pieces are separable: :mod:`annotation.requests` builds bodies, a
:class:`~annotation.transport.Transport` sends them, :mod:`annotation.cache` stores responses and
:mod:`annotation.store` writes the run directory.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from annotation.cache import ResponseCache, request_key
from annotation.items import Item, count_units, iter_items
from annotation.manifest import now, rubric_record, run_header, versions
from annotation.parse import Answer, parse_answer
from annotation.pricing import Price, Usage, estimate_tokens, load_prices, price_for
from annotation.prompt import DIALECTS, PROMPT_TEMPLATE_SHA256
from annotation.requests import RequestBuilder, RequestParams
from annotation.rubric import Rubric, load_rubric
from annotation.store import RunStore
from annotation.transport import (
    DialectRejected,
    FatalError,
    ItemFailure,
    OpenAITransport,
    Reply,
    Transport,
)
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["Progress", "RunResult", "annotate", "annotate_async", "rater_name"]


class Progress(Protocol):
    """What the engine reports to a progress display."""

    def start(self, total: int, done: int) -> None:
        """``total`` items in the run, ``done`` of them finished earlier."""

    def advance(self, usage: Usage, cost: float | None) -> None:
        """One more item finished; ``usage``/``cost`` are this invocation's totals."""


class _Stop(Exception):
    """Stop dispatching (``--max-cost`` reached or a fatal error elsewhere)."""


def rater_name(model: str, rubric: Rubric) -> str:
    """The ``rater`` of model labels: ``model@rubric_id@version``."""
    return f"{model}@{rubric.id}@{rubric.version}"


@dataclass
class RunResult:
    """Outcome of :func:`annotate`.

    Attributes
    ----------
    run_id, out : str, Path
        Run id and run directory (``annotations.jsonl``, ``manifest.json``, ``cache.sqlite``).
    status : str
        ``completed`` or ``stopped_max_cost``.
    counts : dict
        Items by status (``ok``, ``invalid``, ``error``) over the whole run directory.
    usage : Usage
        Requests, cache hits, re-asks and tokens of this invocation.
    cost : float or None
        Cost of this invocation in USD (``None``: model not in the price table).
    manifest : dict
    """

    run_id: str
    out: Path
    status: str
    counts: dict[str, int]
    usage: Usage
    cost: float | None
    manifest: dict[str, Any]

    @property
    def annotations(self) -> pd.DataFrame:
        """The run's annotation rows (schema columns; read from ``annotations.jsonl``)."""
        from toolkit.io import read_annotations

        return read_annotations(self.out / "annotations.jsonl")


@dataclass
class _Sample:
    answer: Answer
    raw: str | None
    finish_reason: str | None
    logprob_conf: float | None
    reasks: int


@dataclass
class _ItemTrace:
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


def _choice_parts(choice: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    msg = choice.get("message") or {}
    content = msg.get("content")
    return (
        content if isinstance(content, str) else None,
        choice.get("finish_reason"),
        msg.get("refusal"),
    )


class Engine:
    """Run one rubric over items with one transport, cache and run store."""

    def __init__(
        self,
        rubric: Rubric,
        builder: RequestBuilder,
        transport: Transport,
        cache: ResponseCache,
        store: RunStore,
        *,
        samples: int,
        max_reasks: int,
        concurrency: int,
        dialect: str | None,
        price: Price | None,
        max_cost: float | None,
        progress: Progress | None,
        rater: str,
    ) -> None:
        self.rubric = rubric
        self.builder = builder
        self.transport = transport
        self.cache = cache
        self.store = store
        self.samples = samples
        self.max_reasks = max_reasks
        self.concurrency = concurrency
        self.dialect = dialect
        self.forced_dialect = dialect is not None
        self.price = price
        self.max_cost = max_cost
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
        return self.usage.cost(self.price) or 0.0

    def _estimate_cost(self, body: dict[str, Any]) -> float:
        if self.price is None:
            return 0.0
        prompt = sum(estimate_tokens(m["content"]) + 4 for m in body["messages"])
        out = int(body.get(self.builder.params.max_tokens_field, 0)) * int(body.get("n", 1))
        return self.price.cost(prompt, 0, out)

    async def _send(self, body: dict[str, Any], sample_idx: int, trace: _ItemTrace) -> Reply:
        key = request_key(body, self.transport.endpoint, sample_idx)
        hit = self.cache.get(key)
        if hit is not None:
            self.usage.cache_hits += 1
            trace.usage.cache_hits += 1
            return Reply(json.loads(hit), hit, from_cache=True)
        if self.stop_reason is not None:
            raise _Stop
        est = 0.0
        if self.max_cost is not None:
            est = self._estimate_cost(body)
            if self._spent() + self._reserved + est > self.max_cost:
                self.stop_reason = "max_cost"
                raise _Stop
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

    def _record(self, reply: Reply, trace: _ItemTrace) -> None:
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

    async def _sample(
        self,
        messages: list[dict[str, str]],
        choice: dict[str, Any],
        idx: int,
        dialect: str,
        trace: _ItemTrace,
    ) -> _Sample:
        content, finish, refusal = _choice_parts(choice)
        answer = parse_answer(self.rubric, content, finish_reason=finish, refusal=refusal)
        conf = _logprob_confidence(choice, content) if answer.ok else None
        reasks = 0
        conv = messages
        while not answer.ok and reasks < self.max_reasks:
            conv = self.builder.reask(
                conv, content if content is not None else refusal, answer.reason or "invalid"
            )
            body = self.builder.body(conv, dialect, seed_offset=idx)
            reply = await self._send(body, idx, trace)
            self._record(reply, trace)
            reasks += 1
            trace.usage.reasks += 1
            if not reply.from_cache:  # replayed re-asks were counted when they were sent
                self.usage.reasks += 1
            ch = (reply.data.get("choices") or [{}])[0]
            content, finish, refusal = _choice_parts(ch)
            answer = parse_answer(self.rubric, content, finish_reason=finish, refusal=refusal)
            conf = _logprob_confidence(ch, content) if answer.ok else None
        return _Sample(answer, content if content is not None else refusal, finish, conf, reasks)

    async def _item(self, item: Item, dialect: str) -> list[dict[str, Any]]:
        trace = _ItemTrace()
        messages = self.builder.item_messages(item, dialect)
        k = self.samples
        reply = await self._send(self.builder.body(messages, dialect, n=k), 0, trace)
        self._record(reply, trace)
        choices = list(reply.data.get("choices") or [])[:k] or [{}]
        n_choices = len(choices)
        samples = [
            await self._sample(messages, ch, i, dialect, trace) for i, ch in enumerate(choices)
        ]
        for i in range(len(samples), k):
            body = self.builder.body(messages, dialect, seed_offset=i)
            r = await self._send(body, i, trace)
            self._record(r, trace)
            ch = (r.data.get("choices") or [{}])[0]
            samples.append(await self._sample(messages, ch, i, dialect, trace))
        return self._rows(item, samples, trace, dialect, messages, n_choices)

    # ---------------------------------------------------------------- rows
    def _base_meta(
        self,
        item: Item,
        trace: _ItemTrace,
        dialect: str,
        messages: list[dict[str, str]],
        n_choices: int | None,
    ) -> dict[str, Any]:
        p = self.builder.params
        if trace.served:
            self.models_served[trace.served] += 1
        self.dialect_counts[dialect] += 1
        return {
            "item_key": item.key,
            "usage": {
                "prompt_tokens": trace.usage.prompt_tokens,
                "cached_tokens": trace.usage.cached_tokens,
                "completion_tokens": trace.usage.completion_tokens,
                "requests": trace.usage.requests,
                "cache_hits": trace.usage.cache_hits,
                "reasks": trace.usage.reasks,
                "retries": trace.usage.retries,
            },
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
                "samples": self.samples,
                "n_choices": n_choices,
            },
        }

    def _row(
        self, item: Item, scheme: str, label: str | None, meta: dict[str, Any]
    ) -> dict[str, Any]:
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

    def _rows(
        self,
        item: Item,
        samples: list[_Sample],
        trace: _ItemTrace,
        dialect: str,
        messages: list[dict[str, str]],
        n_choices: int,
    ) -> list[dict[str, Any]]:
        meta = self._base_meta(item, trace, dialect, messages, n_choices)
        valid = [s for s in samples if s.answer.ok]
        k = len(samples)
        raws: Any = samples[0].raw if k == 1 else [s.raw for s in samples]
        meta["raw"] = raws
        meta["finish_reason"] = samples[0].finish_reason
        meta["reasks"] = sum(s.reasks for s in samples)
        if not valid:
            meta.update(status="invalid", reason=samples[0].answer.reason, confidence=None)
            if self.rubric.mode in ("multi", "dimensions"):
                return [
                    self._row(item, self.rubric.scheme_for(c), None, dict(meta, category=c))
                    for c in self.rubric.label_names
                ]
            if item.category is not None:
                meta["category"] = item.category
            return [self._row(item, self.rubric.scheme_for(item.category), None, meta)]
        if self.rubric.mode == "multi":
            rows = []
            yes, no = self.rubric.yes_no["yes"], self.rubric.yes_no["no"]
            for c in self.rubric.label_names:
                share = sum(c in s.answer.labels for s in valid) / len(valid)
                m = dict(
                    meta,
                    status="ok",
                    category=c,
                    confidence=round(max(share, 1 - share) * len(valid) / k, 6) if k > 1 else None,
                    confidence_kind="vote_share" if k > 1 else None,
                    rationale=valid[0].answer.rationale,
                )
                rows.append(
                    self._row(item, self.rubric.scheme_for(c), yes if share > 0.5 else no, m)
                )
            return rows
        if self.rubric.mode == "dimensions":
            return self._dimension_rows(item, valid, k, meta)
        votes = Counter(s.answer.labels[0] for s in valid)
        order = {lab: i for i, lab in enumerate(self.rubric.category_order)}
        top = max(votes.values())
        winner = min((lab for lab, v in votes.items() if v == top), key=lambda x: order.get(x, 0))
        chosen = next(s for s in valid if s.answer.labels[0] == winner)
        meta.update(
            status="ok", rationale=chosen.answer.rationale, logprob_confidence=chosen.logprob_conf
        )
        if k > 1:
            meta.update(
                confidence=round(top / k, 6),
                confidence_kind="vote_share",
                votes=dict(votes),
                tie=sum(v == top for v in votes.values()) > 1,
            )
        else:
            meta.update(
                confidence=chosen.logprob_conf,
                confidence_kind="logprob" if chosen.logprob_conf is not None else None,
            )
        if item.category is not None:
            meta["category"] = item.category
        return [self._row(item, self.rubric.scheme_for(item.category), winner, meta)]

    def _dimension_rows(
        self, item: Item, valid: list[_Sample], k: int, meta: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """One row per dimension; with several samples the majority level (ties: scale order)."""
        rows = []
        for i, lb in enumerate(self.rubric.labels):
            votes = Counter(s.answer.labels[i] for s in valid)
            order = {lv: j for j, lv in enumerate(lb.level_names)}
            top = max(votes.values())
            winner = min((lv for lv, v in votes.items() if v == top), key=lambda x: order.get(x, 0))
            m = dict(meta, status="ok", category=lb.name, rationale=valid[0].answer.rationale)
            if k > 1:
                m.update(
                    confidence=round(top / k, 6),
                    confidence_kind="vote_share",
                    votes=dict(votes),
                    tie=sum(v == top for v in votes.values()) > 1,
                )
            else:
                m.update(confidence=None, confidence_kind=None)
            rows.append(self._row(item, self.rubric.scheme_for(lb.name), winner, m))
        return rows

    def _error_rows(self, item: Item, kind: str, message: str) -> list[dict[str, Any]]:
        meta = {
            "item_key": item.key,
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
            else [item.category]
        )
        return [
            self._row(item, self.rubric.scheme_for(c), None, dict(meta, category=c) if c else meta)
            for c in cats
        ]

    # ----------------------------------------------------------------- run
    async def _safe_item(self, item: Item) -> list[dict[str, Any]] | None:
        assert self.dialect is not None
        try:
            return await self._item(item, self.dialect)
        except ItemFailure as exc:
            return self._error_rows(item, exc.kind, exc.message)
        except DialectRejected as exc:
            return self._error_rows(item, "dialect_rejected", str(exc))
        except _Stop:
            return None
        except FatalError as exc:
            if self.fatal is None:
                self.fatal = exc
            self.stop_reason = "fatal"
            return None

    async def _probe(self, item: Item) -> list[dict[str, Any]] | None:
        """Find the endpoint's dialect with a real item, falling back in order."""
        ladder = list(DIALECTS)
        for dialect in ladder:
            try:
                rows = await self._item(item, dialect)
            except DialectRejected as exc:
                self.probe_log.append({"dialect": dialect, "result": f"rejected: {exc}"[:300]})
                continue
            except ItemFailure as exc:
                self.dialect = dialect
                self.probe_log.append({"dialect": dialect, "result": f"error: {exc.kind}"})
                return self._error_rows(item, exc.kind, exc.message)
            self.dialect = dialect
            self.probe_log.append({"dialect": dialect, "result": "accepted"})
            return rows
        raise FatalError("the endpoint rejected every output dialect")  # pragma: no cover

    def _emit(self, rows: list[dict[str, Any]]) -> None:
        self.store.append(rows)
        if self.progress is not None:
            self.progress.advance(self.usage, self.usage.cost(self.price))

    async def run(self, items: Iterable[Item]) -> None:
        pending: Iterator[Item] = (it for it in items if it.key not in self.store.done)
        if self.dialect is None:
            first = next(pending, None)
            if first is None:
                return
            try:
                rows = await self._probe(first)
            except _Stop:
                return
            except FatalError as exc:
                self.fatal, self.stop_reason = exc, "fatal"
                return
            if rows is not None:
                self._emit(rows)

        async def worker() -> None:
            while self.stop_reason is None:
                item = next(pending, None)
                if item is None:
                    return
                rows = await self._safe_item(item)
                if rows is None:
                    return
                self._emit(rows)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))


def _usage_from(data: Any) -> Usage:
    u = Usage()
    if isinstance(data, dict):
        for key, value in data.items():
            if hasattr(u, key) and isinstance(value, int):
                setattr(u, key, value)
    return u


def _versions() -> dict[str, str]:
    import openai

    return versions(openai=openai.__version__)


def _check_args(
    samples: int,
    concurrency: int,
    max_reasks: int,
    context_turns: int | None,
    limit: int | None,
    max_cost: float | None,
    dialect: str | None,
) -> None:
    if samples < 1:
        raise InputError("samples must be >= 1", field="samples")
    if concurrency < 1:
        raise InputError("concurrency must be >= 1", field="concurrency")
    if max_reasks < 0:
        raise InputError("max_reasks must be >= 0", field="max_reasks")
    if context_turns is not None and context_turns < 0:
        raise InputError("context_turns must be >= 0", field="context_turns")
    if limit is not None and limit < 1:
        raise InputError("limit must be >= 1", field="limit")
    if max_cost is not None and max_cost < 0:
        raise InputError("max_cost must be >= 0", field="max_cost")
    if dialect is not None and dialect not in DIALECTS:
        raise InputError(
            f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}", field="dialect"
        )


async def annotate_async(
    corpus: Corpus,
    rubric: Rubric | str,
    *,
    model: str,
    out: str | Path | None = None,
    client: Any = None,
    transport: Transport | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    concurrency: int = 8,
    context_turns: int | None = None,
    limit: int | None = None,
    samples: int = 1,
    temperature: float | None = None,
    seed: int | None = 1234,
    max_reasks: int = 2,
    max_tokens: int | None = None,
    logprobs: bool = False,
    dialect: str | None = None,
    max_cost: float | None = None,
    prices: str | Path | dict[str, Any] | None = None,
    timeout: float = 60.0,
    max_retries: int = 6,
    force: bool = False,
    progress: Progress | None = None,
    close_transport: bool | None = None,
    backend_info: dict[str, Any] | None = None,
    pack: str | None = None,
) -> RunResult:
    """Async version of :func:`annotate` (use it inside a running event loop, e.g. Jupyter).

    ``close_transport`` (default: only when the engine built it) closes the transport's
    connections at the end. ``backend_info`` (JSON) is written to the manifest as ``backend``
    (e.g. the local server build and model file hash). ``pack="dialogue"`` labels all target
    turns of a dialogue with one request (see :mod:`annotation.pack`).
    """
    if close_transport is None:
        close_transport = transport is None and client is None
    rub = load_rubric(rubric)
    _check_args(samples, concurrency, max_reasks, context_turns, limit, max_cost, dialect)
    if pack is not None:
        from annotation import pack as packing

        packing.check_pack(pack, rub, samples)
    temp = (0.0 if samples == 1 else 0.7) if temperature is None else float(temperature)
    params = RequestParams(
        model=model,
        temperature=temp,
        seed=seed,
        max_tokens=max_tokens or rub.output.max_tokens,
        logprobs=logprobs,
    )
    price_table = load_prices(prices)
    price = price_for(model, price_table)
    if max_cost is not None and price is None:
        raise InputError(
            f"no price for model {model!r}: --max-cost needs one; pass a price table "
            "with --prices FILE",
            field="max_cost",
        )
    tr: Transport = transport or OpenAITransport(
        client, base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries
    )
    k = rub.context.turns if context_turns is None else context_turns
    identity = {
        "rubric_id": rub.id,
        "rubric_version": rub.version,
        "rubric_sha256": rub.sha256,
        "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
        "model": model,
        "endpoint": tr.endpoint,
        "temperature": temp,
        "seed": seed,
        "samples": samples,
        "context_turns": k,
        "max_reasks": max_reasks,
        "max_tokens": params.max_tokens,
        "logprobs": logprobs,
        "pack": pack,
    }
    if pack is not None:
        identity["pack_template_sha256"] = packing.PACK_TEMPLATE_SHA256
    out_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="edudial-run-"))
    store = RunStore(out_dir, identity, force=force)
    cache = ResponseCache(store.cache_path)
    profile = cache.get_profile(tr.endpoint, model)
    chosen = dialect or (profile or {}).get("dialect")
    engine_cls = Engine if pack is None else packing.PackEngine
    engine = engine_cls(
        rub,
        RequestBuilder(rub, params),
        tr,
        cache,
        store,
        samples=samples,
        max_reasks=max_reasks,
        concurrency=concurrency,
        dialect=chosen,
        price=price,
        max_cost=max_cost,
        progress=progress,
        rater=rater_name(model, rub),
    )
    started = now()
    total_units = count_units(corpus, rub, limit)
    per_unit = len(rub.label_names) if rub.mode == "binary" else 1
    total = total_units * per_unit
    prev_usage = _usage_from((store.previous or {}).get("usage_cumulative"))

    def manifest(status: str) -> dict[str, Any]:
        cumulative = _usage_from(prev_usage.as_dict())
        cumulative.merge(engine.usage)
        return {
            **run_header(store.run_id, status, identity, started=started, previous=store.previous),
            "rubric": rubric_record(rub),
            "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
            "rater": engine.rater,
            "rater_kind": "model",
            "model_requested": model,
            "models_served": dict(engine.models_served),
            "endpoint": tr.endpoint,
            "backend": backend_info,
            "dialect": engine.dialect,
            "dialect_forced": engine.forced_dialect,
            "dialect_probe": engine.probe_log,
            "dialects_used": dict(engine.dialect_counts),
            "parameters": {
                "concurrency": concurrency,
                "context_turns": k,
                "limit": limit,
                "samples": samples,
                "temperature": temp,
                "seed": seed,
                "max_reasks": max_reasks,
                "max_tokens": params.max_tokens,
                "max_tokens_field": params.max_tokens_field,
                "logprobs": logprobs,
                "max_cost": max_cost,
                "timeout": timeout,
                "max_retries": max_retries,
                "pack": pack,
            },
            "pack_stats": getattr(engine, "pack_stats", None),
            "items_total": total,
            "counts": dict(store.counts),
            "usage": engine.usage.as_dict(),
            "usage_cumulative": cumulative.as_dict(),
            "price_per_1m": None if price is None else vars(price),
            "cost_usd": engine.usage.cost(price),
            "cost_usd_cumulative": cumulative.cost(price),
            "rate_limit_pauses": getattr(getattr(tr, "gate", None), "pauses", 0),
            "stop_reason": engine.stop_reason,
            "versions": _versions(),
            # kept from a Batch API submission/collection in the same run (annotation.batch)
            **(
                {"batch": (store.previous or {})["batch"]}
                if (store.previous or {}).get("batch")
                else {}
            ),
        }

    store.write_manifest(manifest("running"))
    if progress is not None:
        progress.start(total, len(store.done))
    items: Iterable[Any] = iter_items(corpus, rub, context_turns=context_turns, limit=limit)
    if pack is not None:
        assert isinstance(engine, packing.PackEngine)
        items = engine.pending(
            packing.iter_packs(corpus, rub, context_turns=context_turns, limit=limit)
        )
    status = "failed"
    try:
        await engine.run(items)
        if engine.fatal is not None:
            status = "stopped_error"
            raise engine.fatal
        status = "stopped_max_cost" if engine.stop_reason == "max_cost" else "completed"
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
        raise
    finally:
        if store.stale_errors and status == "completed":
            store.compact()
        store.close()
        if engine.dialect and not engine.forced_dialect:
            cache.put_profile(tr.endpoint, model, {"dialect": engine.dialect})
        store.write_manifest(manifest(status))
        cache.close()
        if close_transport:
            await tr.aclose()
    return RunResult(
        store.run_id,
        out_dir,
        status,
        dict(store.counts),
        engine.usage,
        engine.usage.cost(price),
        manifest(status),
    )


def annotate(corpus: Corpus, rubric: Rubric | str, *, model: str, **options: Any) -> RunResult:
    """Label ``corpus`` with ``rubric`` using an LLM behind an OpenAI-compatible endpoint.

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric or str
        A rubric, a built-in name (``mathdial-moves``) or a YAML path.
    model : str
    out : path, optional
        Run directory (created or resumed); a temporary directory when omitted.
    client : openai.AsyncOpenAI, optional
        A configured client; else one is built from ``base_url``/``api_key`` or
        ``OPENAI_BASE_URL``/``OPENAI_API_KEY``.
    transport : Transport, optional
        Another backend (overrides ``client``).
    concurrency, context_turns, limit, samples, temperature, seed, max_reasks, max_tokens,
    logprobs, dialect, max_cost, prices, timeout, max_retries, force, progress
        See ``edudial annotate --help`` and docs/annotation.md.

    Returns
    -------
    RunResult
        ``.annotations`` gives the rows as a DataFrame.

    Raises
    ------
    FatalError
        Authentication/quota errors or a long rate limit (finished items are kept; rerun).

    Examples
    --------
    >>> res = annotate(corpus, "mathdial-moves", model="gpt-4o-mini",
    ...                out="runs/md")  # doctest: +SKIP
    >>> res.annotations.label.value_counts()  # doctest: +SKIP
    """
    options.setdefault("close_transport", True)  # the event loop ends with this call
    return asyncio.run(annotate_async(corpus, rubric, model=model, **options))
