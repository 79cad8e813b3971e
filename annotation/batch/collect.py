"""Collect a run's batch results (``edudial batch collect``): download, check, merge.

Results arrive in any order and are joined on ``custom_id``. Every successful response is
stored in the run's cache under the synchronous request key and turned into rows by the
engine (:meth:`annotation.engine.Engine.label` with a cache-only transport), so rows have the
schema and provenance of an online run plus ``meta.batch_id`` / ``meta.custom_id``. Failed lines
and items of failed, expired or cancelled batches become ``error`` rows; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from annotation.batch.api import TERMINAL, download, refresh, run_client
from annotation.batch.files import (
    BATCH_DIR,
    BatchResult,
    atomic_write,
    item_from_entry,
    load_state,
    parse_results,
    read_bodies,
    read_items,
    read_manifest,
    read_rubric,
    save_state,
)
from annotation.batch.record import update_manifest
from annotation.batch.status import live_batches
from annotation.cache import ResponseCache, request_key
from annotation.engine import Engine, EngineSettings, Row
from annotation.items import Item
from annotation.manifest import now, rater_name
from annotation.pricing import BATCH_MULTIPLIER, Price, Usage, load_prices, price_for
from annotation.prompt import PROMPT_TEMPLATE_SHA256
from annotation.requests import RequestBuilder, RequestParams
from annotation.rubric import Rubric
from annotation.store import RunStore
from annotation.transport import ItemFailure, Reply
from toolkit.errors import InputError

__all__ = ["BatchCollection", "collect_batch"]


@dataclass
class BatchCollection:
    """Outcome of :func:`collect_batch`.

    Attributes
    ----------
    run_id, out, status : str, Path, str
        ``status`` is the run's status after collecting: ``completed`` (every item done),
        ``batch_in_progress`` (a batch is not finished) or ``batch_collected`` (items failed or
        are missing: rerun the ``--batch`` command to resubmit them).
    written : dict
        Items written by this call by status (``ok``, ``invalid``, ``error``).
    counts : dict
        Items by status over the whole run directory.
    skipped : int
        Result lines for items already done (not written again, not counted in usage).
    pending : list of dict
        Batches not finished yet (``id``, ``status``, ``request_counts``).
    usage : Usage
        Requests and tokens of the results merged by this call.
    cost, cost_undiscounted : float or None
        USD with the batch discount (x0.5) and at synchronous prices.
    notes : list of str
        Batch states worth reporting (failed, expired, cancelled, missing lines).
    """

    run_id: str
    out: Path
    status: str
    written: dict[str, int]
    counts: dict[str, int]
    skipped: int
    pending: list[dict[str, Any]]
    usage: Usage
    cost: float | None
    cost_undiscounted: float | None
    notes: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def annotations(self) -> pd.DataFrame:
        """The run's annotation rows (read from ``annotations.jsonl``)."""
        from toolkit.io import read_annotations

        return read_annotations(self.out / "annotations.jsonl")


class CacheOnlyTransport:
    """A transport that only has the cache: any miss means the batch lacks that request."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    async def complete(self, body: dict[str, Any]) -> Reply:
        raise ItemFailure(
            "batch_incomplete",
            "the batch result lacks a response this item needs (fewer choices "
            "than --samples); rerun the --batch command to resubmit it",
        )

    async def aclose(self) -> None:
        return None


@dataclass
class _Work:
    """One item to write: its result line (``None``: the batch ended without one) and tag."""

    item: Item
    dialect: str
    result: BatchResult | None
    tag: dict[str, Any]
    failure: tuple[str, str] = ("", "")


@dataclass
class _Sources:
    """Results files to merge and what polling the batches found."""

    files: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, text, id
    notes: list[str] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    finished: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Collect:
    """The run being collected: its files, settings and the input lines it knows."""

    run_dir: Path
    state: dict[str, Any]
    manifest: dict[str, Any]
    rubric: Rubric
    #: custom_id -> (batch record, item entry); later records win (resubmissions)
    known: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    #: batch id -> its custom ids
    rec_items: dict[str, list[str]] = field(default_factory=dict)

    @property
    def cfg(self) -> dict[str, Any]:
        return dict(self.state["config"])

    @property
    def identity(self) -> dict[str, Any]:
        return dict(self.manifest.get("identity") or {})

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.state.get("run_id"))

    @property
    def endpoint(self) -> str:
        return str(self.identity.get("endpoint", self.cfg["endpoint"]))

    def owns(self, cid: str, rec: dict[str, Any]) -> bool:
        """Whether ``rec`` is the latest record that sent ``cid``."""
        return self.known[cid][0] is rec


def _open(run_dir: Path) -> _Collect:
    """Read and check the run's state, manifest, rubric and item maps."""
    state = load_state(run_dir)
    man = read_manifest(run_dir)
    identity = man.get("identity") or {}
    rub = read_rubric(run_dir, identity.get("rubric_sha256"))
    if identity.get("prompt_template_sha256") != PROMPT_TEMPLATE_SHA256:
        raise InputError(
            "the prompt template changed since this batch was written (another "
            "edudial version?): results cannot be matched to cache keys",
            path=run_dir,
        )
    run = _Collect(run_dir, state, man, rub)
    for rec in state["batches"]:
        ids = read_items(run_dir, rec)
        run.rec_items[str(rec["id"])] = list(ids)
        for cid, entry in ids.items():
            run.known[cid] = (rec, entry)
    return run


def _failure_note(rec: dict[str, Any], status: str) -> str | None:
    if status == "failed":
        errs = "; ".join(
            f"{e.get('code')}: {e.get('message')}"
            + (f" (line {e['line']})" if e.get("line") else "")
            for e in rec.get("errors") or []
        )
        return f"batch {rec['id']} failed: {errs or 'no reason given'}"
    if status in ("expired", "cancelled"):
        return (
            f"batch {rec['id']} {status}: completed results are merged, "
            "the rest is recorded as error (rerun --batch to resubmit)"
        )
    return None


def _download(run: _Collect, cl: Any, rec: dict[str, Any], b: Any, found: _Sources) -> None:
    """Keep a finished batch's output and error files (``OUT/batch/<id>.*.jsonl``)."""
    for fid, suffix in ((b.output_file_id, "output"), (b.error_file_id, "errors")):
        if not fid:
            continue
        what = f"{suffix} file {fid} of batch {rec['id']}"
        text = download(cl, fid, what, str(run.cfg["endpoint"]))
        local = run.run_dir / BATCH_DIR / f"{rec['id']}.{suffix}.jsonl"
        atomic_write(local, text)
        found.files.append((str(local), text, str(rec["id"])))


def _poll(run: _Collect, options: dict[str, Any]) -> _Sources:
    """Poll the uploaded batches; download the files of the finished ones."""
    found = _Sources()
    live = live_batches(run.state)
    if not live and not any(r.get("kind") == "openai" for r in run.state["batches"]):
        raise InputError(
            "this run was written with --batch-file-only (nothing was "
            "uploaded): merge a results file with --from-file OUT.jsonl",
            path=run.run_dir,
        )
    if not live:
        found.notes.append("nothing to collect: every uploaded batch was collected already")
        return found
    cl = run_client(run.state, options["client"], options["base_url"], options["api_key"])
    for rec in live:
        b = refresh(cl, rec, str(run.cfg["endpoint"]))
        if b.status not in TERMINAL:
            counts = rec.get("request_counts")
            found.pending.append({"id": rec["id"], "status": b.status, "request_counts": counts})
            continue
        found.finished.append(rec)
        note = _failure_note(rec, b.status)
        if note:
            found.notes.append(note)
        _download(run, cl, rec, b, found)
    save_state(run.run_dir, run.state)
    return found


def _from_file(path: str | Path) -> _Sources:
    p = Path(path)
    if not p.is_file():
        raise InputError("results file not found", path=p)
    return _Sources(files=[(str(p), p.read_text(encoding="utf-8"), None)])


def _results(run: _Collect, found: _Sources) -> dict[str, BatchResult]:
    """Every result line of every file, checked before anything is written."""
    results: dict[str, BatchResult] = {}
    for name, text, bid in found.files:
        for r in parse_results(text, name, run.known, run.run_id, bid):
            if r.custom_id in results:
                raise InputError(
                    f"custom_id {r.custom_id!r} appears in two result files",
                    path=name,
                    field="custom_id",
                )
            results[r.custom_id] = r
    return results


def _bodies(run: _Collect, needed: set[str]) -> dict[str, dict[str, Any]]:
    """The request bodies of ``needed`` custom ids (one pass over each input file)."""
    bodies: dict[str, dict[str, Any]] = {}
    for rec in run.state["batches"]:
        mine = {c for c in run.rec_items[str(rec["id"])] if c in needed and run.owns(c, rec)}
        bodies.update(read_bodies(run.run_dir, rec, mine))
    return bodies


def _builder(run: _Collect) -> RequestBuilder:
    cfg = run.cfg
    params = RequestParams(
        model=str(cfg["model"]),
        temperature=float(cfg["temperature"]),
        seed=cfg["seed"],
        max_tokens=int(cfg["max_tokens"]),
        max_tokens_field=str(cfg["max_tokens_field"]),
        logprobs=bool(cfg["logprobs"]),
    )
    return RequestBuilder(run.rubric, params)


@dataclass
class _Items:
    """Rebuilds each result's item and checks its body is what this version sends."""

    run: _Collect
    builder: RequestBuilder
    bodies: dict[str, dict[str, Any]]

    def of(self, cid: str) -> tuple[Item, dict[str, Any], str]:
        rec, entry = self.run.known[cid]
        body = self.bodies[cid]
        item = item_from_entry(entry, str(body["messages"][-1]["content"]))
        dialect = str(rec.get("dialect") or self.run.cfg["dialect"])
        samples = int(self.run.cfg["samples"])
        rebuilt = self.builder.body(self.builder.item_messages(item, dialect), dialect, n=samples)
        if rebuilt != body:
            raise InputError(
                f"the request of {cid!r} differs from what this edudial "
                "version builds: cannot match it to the cache",
                path=self.run.run_dir / BATCH_DIR / str(rec["input"]),
            )
        return item, body, dialect


def _result_tag(run: _Collect, cid: str, r: BatchResult) -> dict[str, Any]:
    rec = run.known[cid][0]
    bid = r.batch_id or (rec["id"] if rec.get("kind") == "openai" else None)
    meta_tag: dict[str, Any] = {"batch_id": bid, "custom_id": cid}
    if r.batch_id is None:
        meta_tag["batch_results_file"] = Path(r.source).name
    return {"meta": meta_tag, "request_id": r.request_id}


@dataclass
class _Merge:
    """What merging the results found: the work to write, usage, skipped lines."""

    work: list[_Work] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    skipped: int = 0


def _merge_results(
    items: _Items, results: dict[str, BatchResult], store: RunStore, cache: ResponseCache
) -> _Merge:
    """Store each successful response in the cache (synchronous key) and plan its rows."""
    merge = _Merge()
    for cid, r in results.items():
        item, body, dialect = items.of(cid)
        if item.key in store.done:
            merge.skipped += 1
            continue
        tag = _result_tag(items.run, cid, r)
        if r.ok and r.body is not None:
            cache.put(
                request_key(body, items.run.endpoint, 0), json.dumps(r.body, ensure_ascii=False)
            )
            u = Usage(requests=1)
            u.add_response(r.body.get("usage"))
            merge.usage.merge(u)
            tag["usage"] = {**u.row_dict(), "batch": True}
        failure = ("", "") if r.ok else (str(r.kind), str(r.message))
        merge.work.append(_Work(item, dialect, r, tag, failure))
    return merge


def _missing_lines(
    items: _Items, results: dict[str, BatchResult], finished: list[dict[str, Any]], store: RunStore
) -> list[_Work]:
    """Items of finished batches with no result line at all (error rows)."""
    work: list[_Work] = []
    run = items.run
    for rec in finished:
        for cid in run.rec_items[str(rec["id"])]:
            if cid in results or not run.owns(cid, rec):
                continue
            item, _, dialect = items.of(cid)
            if item.key in store.done:
                continue
            tag = {"meta": {"batch_id": rec["id"], "custom_id": cid}}
            if rec["status"] == "completed":
                why = f"batch {rec['id']} completed without a result line for this request"
                failure = ("batch_missing", why)
            else:
                why = f"batch {rec['id']} {rec['status']} before this request ran"
                failure = (f"batch_{rec['status']}", why)
            work.append(_Work(item, dialect, None, tag, failure))
    return work


def _tag_rows(rows: list[Row], tag: dict[str, Any]) -> None:
    """Batch provenance (ids, billed usage, batch request id) on an item's rows."""
    for row in rows:
        meta = row["meta"]
        meta.update(tag.get("meta", {}))
        if tag.get("usage") is not None and meta.get("status") != "error":
            meta["usage"] = dict(tag["usage"])
            meta["cache_hit"] = False
            prov = meta.get("provenance")
            if isinstance(prov, dict) and tag.get("request_id"):
                prov["request_ids"] = [tag["request_id"]]


async def _write(engine: Engine, work: list[_Work]) -> dict[str, int]:
    """Rows of each item through the engine (replayed from the cache), tagged and written."""
    written = {"ok": 0, "invalid": 0, "error": 0}
    for w in work:
        if w.result is None or not w.result.ok:
            rows = engine.error_rows(w.item, *w.failure)
        else:
            try:
                rows = await engine.label(w.item, w.dialect)
            except ItemFailure as exc:
                rows = engine.error_rows(w.item, exc.kind, exc.message)
        if rows:
            _tag_rows(rows, w.tag)
        engine.emit(rows)
        status = str(rows[0]["meta"]["status"])
        written[status] = written.get(status, 0) + 1
    return written


def _engine(
    run: _Collect, builder: RequestBuilder, store: RunStore, cache: ResponseCache
) -> Engine:
    cfg = run.cfg
    settings = EngineSettings(
        samples=int(cfg["samples"]), max_reasks=0, concurrency=1, dialect=str(cfg["dialect"])
    )
    rater = rater_name(str(cfg["model"]), run.rubric)
    return Engine(
        run.rubric,
        builder,
        CacheOnlyTransport(run.endpoint),
        cache,
        store,
        settings=settings,
        rater=rater,
    )


def _run_status(run: _Collect, store: RunStore) -> str:
    still = any(r.get("kind") == "openai" and not r.get("collected") for r in run.state["batches"])
    items_total = run.manifest.get("items_total")
    if still:
        return "batch_in_progress"
    if store.counts.get("error", 0) == 0 and (
        items_total is None or len(store.done) >= items_total
    ):
        return "completed"
    return "batch_collected"


def _record(
    run: _Collect, found: _Sources, merged: dict[str, Any], from_file: str | Path | None
) -> None:
    """Mark finished batches collected, note a merged file, add the usage to the state."""
    for rec in found.finished:
        rec["collected"] = True
        rec["collected_at"] = now()
    if from_file is not None:
        run.state.setdefault("merged_files", []).append(
            {"file": Path(from_file).name, "merged_at": now(), **merged}
        )


def _price(run: _Collect, prices: Any) -> Price | None:
    cfg = run.cfg
    if prices is not None:
        return price_for(str(cfg["model"]), load_prices(prices))
    return Price(**cfg["price_per_1m"]) if cfg.get("price_per_1m") else None


def _served(run: _Collect, engine: Engine) -> dict[str, int] | None:
    """The manifest's ``models_served`` plus the models of the merged responses."""
    if not engine.models_served:
        return None
    served = dict(run.manifest.get("models_served") or {})
    for m, c in engine.models_served.items():
        served[m] = served.get(m, 0) + c
    return served


def collect_batch(
    run_dir: str | Path,
    *,
    from_file: str | Path | None = None,
    client: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
    prices: str | Path | dict[str, Any] | None = None,
) -> BatchCollection:
    """Download finished batches (or read ``from_file``) and merge the results into the run.

    Successful responses go into the run's cache under the synchronous request key and are
    turned into rows by the engine (same schema and provenance as an online run, plus
    ``meta.batch_id`` and ``meta.custom_id``); a later synchronous run of the same command
    sends no request for them. Failed lines are written as ``error`` rows (never dropped);
    rerun the ``--batch`` command to resubmit them. Results arrive in any order.

    Parameters
    ----------
    run_dir : path
        A run directory made by :func:`submit_batch`.
    from_file : path, optional
        A results file produced elsewhere (vLLM ``run-batch``, a downloaded output file):
        lines ``{"id", "custom_id", "response": {"status_code", "request_id", "body"},
        "error"}``. Every ``custom_id`` must belong to the run.
    client, base_url, api_key
        The API client (default: built for the endpoint recorded in the run).
    prices : path or dict, optional
        Price table override; the batch discount (x0.5) is applied.

    Examples
    --------
    >>> res = collect_batch("runs/md")  # doctest: +SKIP
    >>> res.written, res.cost  # doctest: +SKIP
    ({'ok': 98, 'invalid': 1, 'error': 1}, 0.0123)
    """
    run = _open(Path(run_dir))
    if from_file is not None:
        found = _from_file(from_file)
    else:
        found = _poll(run, {"client": client, "base_url": base_url, "api_key": api_key})
    results = _results(run, found)
    needed = set(results)
    for rec in found.finished:
        needed.update(c for c in run.rec_items[str(rec["id"])] if run.owns(c, rec))
    items = _Items(run, _builder(run), _bodies(run, needed))
    price = _price(run, prices)
    store = RunStore(run.run_dir, run.identity)
    cache = ResponseCache(store.cache_path)
    try:
        merge = _merge_results(items, results, store, cache)
        work = merge.work + _missing_lines(items, results, found.finished, store)
        engine = _engine(run, items.builder, store, cache)
        written = asyncio.run(_write(engine, work))
        model = str(run.cfg["model"])
        if written["ok"] and cache.get_profile(run.endpoint, model) is None:
            # the endpoint answered this dialect: later synchronous runs need no probe
            cache.put_profile(run.endpoint, model, {"dialect": str(run.cfg["dialect"])})
        if store.stale_errors:
            store.compact()
        merged = {"lines": len(results), "written": dict(written), "skipped": merge.skipped}
        _record(run, found, merged, from_file)
        total = Usage.from_dict(run.state.get("usage"))
        total.merge(merge.usage)
        run.state["usage"] = total.as_dict()
        save_state(run.run_dir, run.state)
        if written.get("error", 0):
            found.notes.append(
                f"{written['error']} item(s) recorded as error: rerun the same "
                "`edudial annotate ... --batch` command to resubmit them"
            )
        status = _run_status(run, store)
        man = update_manifest(store, run.state, items_total=None, status=status, price=price)
        served = _served(run, engine)
        if served is not None:
            man["models_served"] = served
            store.write_manifest(man)
    finally:
        store.close()
        cache.close()
    full = merge.usage.cost(price)
    discounted = None if full is None else full * BATCH_MULTIPLIER
    return BatchCollection(
        run.run_id,
        run.run_dir,
        status,
        written,
        dict(store.counts),
        merge.skipped,
        found.pending,
        merge.usage,
        discounted,
        full,
        found.notes,
        man,
    )
