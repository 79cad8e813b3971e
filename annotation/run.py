"""Orchestration of a labelling run: options, run directory, engine choice, manifest.

:func:`annotate` (and :func:`annotate_async`) run a rubric over a corpus against any
OpenAI-compatible endpoint: they check the options, build the transport, open the run
directory (:class:`~annotation.store.RunStore`) and cache, choose the labeller (per item, or
dialogue packs from :mod:`annotation.pack`), run the :class:`~annotation.engine.Engine` and write
the manifest. This is the one module that imports both the engine and packing.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from annotation import pack as packing
from annotation.cache import ResponseCache
from annotation.engine import Engine, EngineSettings
from annotation.items import count_units, iter_items
from annotation.manifest import (
    LlmSections,
    RunIdentity,
    RunManifest,
    RunResult,
    llm_versions,
    now,
    rater_name,
)
from annotation.options import AnnotateOptions, options_from
from annotation.pricing import Price, Usage, load_prices, price_for
from annotation.privacy import check_deid
from annotation.requests import RequestBuilder
from annotation.rubric import Rubric, load_rubric
from annotation.store import RunStore
from annotation.transport import OpenAITransport, Transport
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["annotate", "annotate_async"]


@dataclass
class _Setup:
    """What a run is made of, once the options are checked."""

    rubric: Rubric
    model: str
    options: AnnotateOptions
    price: Price | None
    transport: Transport
    identity: RunIdentity
    deidentified: bool


def _price(model: str, opts: AnnotateOptions) -> Price | None:
    price = price_for(model, load_prices(opts.prices))
    if opts.max_cost is not None and price is None:
        raise InputError(
            f"no price for model {model!r}: --max-cost needs one; pass a price table "
            "with --prices FILE",
            field="max_cost",
        )
    return price


def _transport(opts: AnnotateOptions) -> Transport:
    if opts.transport is not None:
        return opts.transport
    return OpenAITransport(
        opts.client,
        base_url=opts.base_url,
        api_key=opts.api_key,
        timeout=opts.timeout,
        max_retries=opts.max_retries,
    )


async def _setup(corpus: Corpus, rubric: Rubric | str, model: str, opts: AnnotateOptions) -> _Setup:
    """Check everything that can be checked before a request is sent or a file written."""
    rub = load_rubric(rubric)
    opts.check()
    packing.check_pack(opts.pack, rub, opts.samples)
    price = _price(model, opts)
    tr = _transport(opts)
    try:
        deid = check_deid(corpus, tr.endpoint, require=opts.require_deid, warn=opts.on_warning)
    except InputError:
        if opts.transport is None:
            await tr.aclose()
        raise
    identity = RunIdentity.for_llm(
        rub,
        opts.request_params(model, rub),
        endpoint=tr.endpoint,
        samples=opts.samples,
        context_turns=opts.context_turns_for(rub),
        max_reasks=opts.max_reasks,
        pack=opts.pack,
        pack_template_sha256=packing.PACK_TEMPLATE_SHA256,
    )
    return _Setup(rub, model, opts, price, tr, identity, deid)


def _engine(s: _Setup, store: RunStore, cache: ResponseCache) -> Engine:
    opts = s.options
    profile = cache.get_profile(s.transport.endpoint, s.model)
    settings = EngineSettings(
        samples=opts.samples,
        max_reasks=opts.max_reasks,
        concurrency=opts.concurrency,
        dialect=opts.dialect or (profile or {}).get("dialect"),
        price=s.price,
        max_cost=opts.max_cost,
    )
    builder = RequestBuilder(s.rubric, opts.request_params(s.model, s.rubric))
    return Engine(
        s.rubric,
        builder,
        s.transport,
        cache,
        store,
        settings=settings,
        rater=rater_name(s.model, s.rubric),
        progress=opts.progress,
    )


def _parameters(s: _Setup, engine: Engine) -> dict[str, Any]:
    opts, params = s.options, engine.builder.params
    return {
        "concurrency": opts.concurrency,
        "context_turns": opts.context_turns_for(s.rubric),
        "limit": opts.limit,
        "samples": opts.samples,
        "temperature": params.temperature,
        "seed": opts.seed,
        "max_reasks": opts.max_reasks,
        "max_tokens": params.max_tokens,
        "max_tokens_field": params.max_tokens_field,
        "logprobs": opts.logprobs,
        "max_cost": opts.max_cost,
        "timeout": opts.timeout,
        "max_retries": opts.max_retries,
        "pack": opts.pack,
    }


@dataclass
class _Run:
    """A run in progress: its setup, store, engine and the manifest it writes."""

    setup: _Setup
    store: RunStore
    engine: Engine
    started: str
    items_total: int
    packer: packing.PackLabeler | None

    def manifest(self, status: str) -> dict[str, Any]:
        s, engine, store = self.setup, self.engine, self.store
        previous = store.previous or {}
        cumulative = Usage.from_dict(previous.get("usage_cumulative"))
        cumulative.merge(engine.usage)
        llm = LlmSections(
            endpoint=s.transport.endpoint,
            parameters=_parameters(s, engine),
            dialect=engine.dialect,
            dialect_forced=engine.forced_dialect,
            models_served=dict(engine.models_served),
            dialect_probe=engine.probe_log,
            dialects_used=dict(engine.dialect_counts),
            usage=engine.usage,
            usage_cumulative=cumulative,
        )
        sections: dict[str, Any] = {
            **llm.as_dict(),
            "backend": s.options.backend_info,
            "deidentified": s.deidentified,
            "pack_stats": None if self.packer is None else asdict(self.packer.stats),
            "items_total": self.items_total,
            "counts": dict(store.counts),
            "price_per_1m": None if s.price is None else vars(s.price),
            "cost_usd": engine.usage.cost(s.price),
            "cost_usd_cumulative": cumulative.cost(s.price),
            "rate_limit_pauses": getattr(getattr(s.transport, "gate", None), "pauses", 0),
            "stop_reason": engine.stop_reason,
        }
        if previous.get("batch"):  # kept from a Batch API run in the same directory
            sections["batch"] = previous["batch"]
        return RunManifest(
            run_id=store.run_id,
            status=status,
            identity=s.identity,
            started=self.started,
            rubric=s.rubric,
            rater=engine.rater,
            rater_kind="model",
            model_requested=s.model,
            versions=llm_versions(),
            sections=sections,
            previous=store.previous,
        ).as_dict()


async def _label(run: _Run, corpus: Corpus) -> None:
    """Run the engine over the pending items (or dialogue packs)."""
    opts, rub, engine = run.setup.options, run.setup.rubric, run.engine
    if run.packer is None:
        await engine.run(
            iter_items(corpus, rub, context_turns=opts.context_turns, limit=opts.limit)
        )
        return
    packs = packing.iter_packs(corpus, rub, context_turns=opts.context_turns, limit=opts.limit)
    await engine.run_units(packs, run.packer)


async def _execute(run: _Run, corpus: Corpus, close_transport: bool) -> str:
    """Label, then always leave the run directory consistent (rows, cache profile, manifest)."""
    s, store, engine = run.setup, run.store, run.engine
    status = "failed"
    try:
        await _label(run, corpus)
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
            engine.cache.put_profile(s.transport.endpoint, s.model, {"dialect": engine.dialect})
        store.write_manifest(run.manifest(status))
        engine.cache.close()
        if close_transport:
            await s.transport.aclose()
    return status


async def annotate_async(
    corpus: Corpus, rubric: Rubric | str, *, model: str, **options: Any
) -> RunResult:
    """Async version of :func:`annotate` (use it inside a running event loop, e.g. Jupyter).

    ``options`` are the fields of :class:`~annotation.options.AnnotateOptions`.
    ``close_transport`` (default: only when the run built the transport) closes its
    connections at the end. ``backend_info`` (JSON) is written to the manifest as ``backend``
    (e.g. the local server build and model file hash). ``pack="dialogue"`` labels all target
    turns of a dialogue with one request (see :mod:`annotation.pack`).

    Examples
    --------
    >>> res = await annotate_async(corpus, "mathdial-moves", model="gpt-4o-mini",
    ...                            out="runs/md")  # doctest: +SKIP
    """
    opts = options_from(AnnotateOptions, options)
    close_transport = opts.close_transport
    if close_transport is None:
        close_transport = opts.transport is None and opts.client is None
    s = await _setup(corpus, rubric, model, opts)
    out_dir = (
        Path(opts.out) if opts.out is not None else Path(tempfile.mkdtemp(prefix="edudial-run-"))
    )
    store = RunStore(out_dir, s.identity.as_dict(), force=opts.force)
    engine = _engine(s, store, ResponseCache(store.cache_path))
    per_unit = len(s.rubric.label_names) if s.rubric.mode == "binary" else 1
    total = count_units(corpus, s.rubric, opts.limit) * per_unit
    packer = packing.PackLabeler(engine) if opts.pack is not None else None
    run = _Run(s, store, engine, now(), total, packer)
    store.write_manifest(run.manifest("running"))
    if opts.progress is not None:
        opts.progress.start(total, len(store.done))
    status = await _execute(run, corpus, close_transport)
    cost = engine.usage.cost(s.price)
    counts = dict(store.counts)
    return RunResult(
        store.run_id, out_dir, status, counts, engine.usage, cost, run.manifest(status)
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
    logprobs, dialect, max_cost, prices, timeout, max_retries, force, progress, pack,
    require_deid, on_warning
        See :class:`~annotation.options.AnnotateOptions`, ``edudial annotate --help`` and
        docs/annotation.md.

    Returns
    -------
    RunResult
        ``.annotations`` gives the rows as a DataFrame.

    Raises
    ------
    FatalError
        Authentication/quota errors or a long rate limit (finished items are kept; rerun).
    InputError
        A bad option, or ``require_deid`` with a corpus that is not de-identified and an
        endpoint off this machine (nothing is sent).

    Examples
    --------
    >>> res = annotate(corpus, "mathdial-moves", model="gpt-4o-mini",
    ...                out="runs/md")  # doctest: +SKIP
    >>> res.annotations.label.value_counts()  # doctest: +SKIP
    """
    options.setdefault("close_transport", True)  # the event loop ends with this call
    return asyncio.run(annotate_async(corpus, rubric, model=model, **options))
