"""Submit the pending items of a run as Batch JSONL (``edudial annotate ... --batch``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.batch.api import make_client, upload
from annotation.batch.files import (
    BATCH_DIR,
    OFFLINE_ENDPOINT,
    atomic_write,
    chunks,
    custom_id,
    input_line,
    item_entry,
    load_state,
    new_state,
    pending_keys,
    save_state,
    state_path,
    write_rubric,
)
from annotation.batch.record import update_manifest
from annotation.items import count_units, iter_items
from annotation.manifest import RunIdentity, now
from annotation.options import RequestOptions, options_from
from annotation.pricing import Price, load_prices, price_for
from annotation.privacy import check_deid
from annotation.requests import RequestBuilder
from annotation.rubric import Rubric, load_rubric
from annotation.store import RunStore
from annotation.transport import endpoint_id
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["BatchOptions", "BatchSubmission", "submit_batch"]


@dataclass(frozen=True)
class BatchOptions(RequestOptions):
    """Options of :func:`submit_batch`: :class:`~annotation.options.RequestOptions` plus

    Attributes
    ----------
    submit : bool
        Upload and create the batch (default); ``False`` only writes the input files.
    completion_window : str
        Passed to ``batches.create`` (OpenAI accepts ``"24h"``).
    """

    submit: bool = True
    completion_window: str = "24h"


@dataclass
class BatchSubmission:
    """Outcome of :func:`submit_batch`.

    Attributes
    ----------
    run_id, out : str, Path
    status : str
        ``submitted`` (uploaded), ``written`` (``submit=False``) or ``nothing_to_submit``.
    requests : int
        Lines written by this call.
    batches : list of dict
        The records created by this call (``id``, ``input``, ``input_file_id``, ``requests``).
    input_files : list of Path
    skipped_done, skipped_pending : int
        Items already done, and items waiting in an uncollected batch (not resubmitted).
    """

    run_id: str
    out: Path
    status: str
    requests: int
    batches: list[dict[str, Any]]
    input_files: list[Path]
    skipped_done: int = 0
    skipped_pending: int = 0

    @property
    def batch_ids(self) -> list[str]:
        return [str(b["id"]) for b in self.batches]


@dataclass
class _Submitter:
    """One submission: writes input files from the pending items and uploads them."""

    corpus: Corpus
    rubric: Rubric
    opts: BatchOptions
    builder: RequestBuilder
    store: RunStore
    state: dict[str, Any]
    endpoint: str
    client: Any
    dialect: str
    skipped_done: int = 0
    skipped_pending: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def lines(self, pending: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """(request line, item entry) of every item neither done nor waiting in a batch."""
        seen: set[str] = set()
        opts = self.opts
        items = iter_items(
            self.corpus, self.rubric, context_turns=opts.context_turns, limit=opts.limit
        )
        for item in items:
            if item.key in self.store.done:
                self.skipped_done += 1
                continue
            if item.key in pending:
                self.skipped_pending += 1
                continue
            cid = custom_id(item)
            if cid in seen:  # pragma: no cover - 64-bit digest
                raise InputError(f"two items share custom_id {cid!r}", field="custom_id")
            seen.add(cid)
            messages = self.builder.item_messages(item, self.dialect)
            body = self.builder.body(messages, self.dialect, n=opts.samples)
            yield input_line(cid, body), item_entry(cid, item)

    def write(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        """Write one input file (and its item map), upload it, and record it at once."""
        bdir = self.store.dir / BATCH_DIR
        seq = len(self.state["batches"]) + 1
        name, items_name = f"input-{seq:04d}.jsonl", f"input-{seq:04d}.items.jsonl"
        payload = "".join(line + "\n" for line, _ in chunk)
        entries = "".join(json.dumps(e, ensure_ascii=False) + "\n" for _, e in chunk)
        atomic_write(bdir / items_name, entries)
        atomic_write(bdir / name, payload)
        rec: dict[str, Any] = {
            "id": f"local-{seq:04d}",
            "kind": "file",
            "input": name,
            "items": items_name,
            "requests": len(chunk),
            "dialect": self.dialect,
            "created": now(),
            "status": "written",
            "collected": False,
        }
        if self.client is not None:
            rec.update(
                upload(
                    self.client,
                    self.endpoint,
                    bdir / name,
                    payload,
                    rubric=self.rubric,
                    run_id=self.store.run_id,
                    window=self.opts.completion_window,
                )
            )
        self.state["batches"].append(rec)
        save_state(self.store.dir, self.state)  # record each batch as soon as it exists
        self.created.append(rec)
        self.files.append(bdir / name)


def _endpoint(client: Any, opts: BatchOptions) -> str:
    if client is not None:
        return endpoint_id(str(client.base_url))
    url = opts.base_url or os.environ.get("OPENAI_BASE_URL")
    return endpoint_id(url) if url else OFFLINE_ENDPOINT


def _config(
    model: str, endpoint: str, opts: BatchOptions, builder: RequestBuilder, price: Price | None
) -> dict[str, Any]:
    """``state["config"]``: the settings collect needs to rebuild the bodies."""
    p = builder.params
    return {
        "model": model,
        "endpoint": endpoint,
        "dialect": opts.dialect or "json_schema",
        "samples": opts.samples,
        "temperature": p.temperature,
        "seed": p.seed,
        "max_tokens": p.max_tokens,
        "max_tokens_field": p.max_tokens_field,
        "logprobs": p.logprobs,
        "context_turns": opts.context_turns_for(builder.rubric),
        "max_reasks": opts.max_reasks,
        "limit": opts.limit,
        "price_per_1m": None if price is None else vars(price),
    }


def _state(store: RunStore, force: bool) -> dict[str, Any]:
    if not force and state_path(store.dir).is_file():
        return load_state(store.dir)
    return new_state(store.run_id, now())


def submit_batch(
    corpus: Corpus, rubric: Rubric | str, *, model: str, out: str | Path, **options: Any
) -> BatchSubmission:
    """Write the pending items of a run as Batch JSONL and (unless ``submit=False``) submit it.

    The request bodies are exactly those of :func:`annotation.annotate` with the same settings
    (dialect ``json_schema`` unless ``dialect`` says otherwise), so the run directory, cache and
    rows are shared with synchronous runs. Items already done (ok/invalid) and items waiting in
    a batch not yet collected are not resubmitted; items whose batch line failed are.

    Parameters
    ----------
    corpus, rubric, model, out
        As for :func:`annotation.annotate` (``out`` is required).
    **options
        The fields of :class:`BatchOptions`: ``submit`` (``False`` only writes
        ``OUT/batch/input-*.jsonl``, for vLLM ``run-batch``; merge its output with
        ``collect_batch(out, from_file=...)``), ``client`` (a configured synchronous
        ``openai.OpenAI``, else built from ``base_url`` / ``api_key`` / ``OPENAI_BASE_URL`` /
        ``OPENAI_API_KEY``), ``completion_window``, and the request settings
        (``context_turns``, ``samples``, ``dialect``, ``prices``, ``require_deid``...).

    Returns
    -------
    BatchSubmission

    Examples
    --------
    >>> sub = submit_batch(corpus, "mathdial-moves", model="gpt-4o-mini",
    ...                    out="runs/md")  # doctest: +SKIP
    >>> sub.batch_ids  # doctest: +SKIP
    ['batch_abc123']
    """
    opts = options_from(BatchOptions, {**options, "out": out})
    rub = load_rubric(rubric)
    opts.check()
    builder = RequestBuilder(rub, opts.request_params(model, rub))
    price = price_for(model, load_prices(opts.prices))
    cl = make_client(opts.client, opts.base_url, opts.api_key) if opts.submit else None
    endpoint = _endpoint(cl, opts)
    deid = check_deid(corpus, endpoint, require=opts.require_deid, warn=opts.on_warning)
    identity = RunIdentity.for_llm(
        rub,
        builder.params,
        endpoint=endpoint,
        samples=opts.samples,
        context_turns=opts.context_turns_for(rub),
        max_reasks=opts.max_reasks,
    )
    store = RunStore(Path(out), identity.as_dict(), force=opts.force)
    (store.dir / BATCH_DIR).mkdir(exist_ok=True)
    try:
        state = _state(store, opts.force)
        state["config"] = _config(model, endpoint, opts, builder, price)
        write_rubric(store.dir, rub)
        job = _Submitter(
            corpus, rub, opts, builder, store, state, endpoint, cl, str(state["config"]["dialect"])
        )
        for chunk in chunks(job.lines(pending_keys(store.dir, state))):
            job.write(chunk)
        save_state(store.dir, state)
        update_manifest(
            store,
            state,
            items_total=count_units(corpus, rub, opts.limit) * _per_unit(rub),
            status="batch_submitted" if cl is not None and job.created else None,
            price=price,
            new=(rub, identity),
            deidentified=deid,
        )
    finally:
        store.close()
    status = (
        "nothing_to_submit" if not job.created else "submitted" if cl is not None else "written"
    )
    total = sum(int(r["requests"]) for r in job.created)
    return BatchSubmission(
        store.run_id,
        store.dir,
        status,
        total,
        job.created,
        job.files,
        job.skipped_done,
        job.skipped_pending,
    )


def _per_unit(rub: Rubric) -> int:
    return len(rub.label_names) if rub.mode == "binary" else 1
