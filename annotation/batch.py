"""The OpenAI Batch API (and vLLM's offline ``run-batch``): submit, follow and collect a run.

:func:`submit_batch` writes the pending items of a run as Batch JSONL (one line per request:
``custom_id``, ``POST``, ``/v1/chat/completions`` and exactly the body the synchronous engine
would send, so cache keys match), uploads it (``files.create(purpose="batch")``) and creates the
batch; with ``submit=False`` it only writes the file (for vLLM ``run-batch`` or a cluster).
:func:`batch_status` polls; :func:`collect_batch` downloads the results (or reads a results file
produced elsewhere, ``from_file=``), stores every successful response in the run's cache under
the synchronous key and writes the rows through the same engine code, so ``annotations.jsonl``
and provenance are those of an online run plus ``meta.batch_id`` / ``meta.custom_id``.

Run directory additions (``OUT/batch/``)::

    state.json               configuration and one record per submitted file / batch
    rubric.json              the validated rubric (collect needs no corpus and no rubric file)
    input-0001.jsonl         the Batch JSONL sent (or written for run-batch)
    input-0001.items.jsonl   custom_id -> item (corpus, unit_id, dialogue_id, category, ...)
    <batch_id>.output.jsonl  downloaded results; <batch_id>.errors.jsonl the error file

Failed lines (error file, ``error`` set or a non-200 ``status_code``) become rows with
``meta.status = "error"``; rerunning the same ``edudial annotate ... --batch`` command submits
only items that are neither done (ok/invalid) nor waiting in an uncollected batch. Re-asks are
not possible inside a batch: invalid answers are recorded ``invalid`` (``reasks`` 0).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

import pandas as pd

from annotation.cache import ResponseCache, request_key
from annotation.engine import Engine, _check_args, _versions, rater_name
from annotation.items import Item, count_units, iter_items
from annotation.manifest import now, rubric_record, run_header
from annotation.pricing import BATCH_MULTIPLIER, Price, Usage, load_prices, price_for
from annotation.prompt import DIALECTS, PROMPT_TEMPLATE_SHA256
from annotation.requests import RequestBuilder, RequestParams
from annotation.rubric import Rubric, load_rubric, parse_rubric
from annotation.store import RunStore
from annotation.transport import FatalError, ItemFailure, Reply, endpoint_id
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = [
    "BATCH_URL",
    "OFFLINE_ENDPOINT",
    "BatchCollection",
    "BatchSubmission",
    "batch_status",
    "cancel_batch",
    "collect_batch",
    "custom_id",
    "submit_batch",
]

BATCH_URL = "/v1/chat/completions"
#: Endpoint id of a run written with ``submit=False`` and no ``base_url`` (vLLM run-batch etc.).
OFFLINE_ENDPOINT = "offline:run-batch"
#: OpenAI limits per input file: 50,000 requests and 200 MB (we stay a little below).
MAX_REQUESTS = 50_000
MAX_BYTES = 190 * 1024 * 1024
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
BATCH_DIR = "batch"
STATE = "state.json"

_SLUG = re.compile(r"[^A-Za-z0-9_.:-]+")


def custom_id(item: Item, sample_idx: int = 0) -> str:
    """Stable, unique ``custom_id`` of an item's request.

    A readable part (unit id, category) plus 16 hex digits of sha256 of the item key, so ids
    do not change between reruns and cannot collide in practice.

    Examples
    --------
    >>> it = Item("toy", "d0:2", "d0", None, "text", 4)
    >>> cid = custom_id(it)
    >>> cid.startswith("d0:2-"), len(cid.split("-")[1]), cid.endswith("-s0")
    (True, 16, True)
    >>> cid == custom_id(it)  # stable across reruns
    True
    """
    readable = _SLUG.sub("_", item.unit_id)[:48]
    if item.category:
        readable += "." + _SLUG.sub("_", item.category)[:24]
    digest = sha256(item.key.encode("utf-8")).hexdigest()[:16]
    return f"{readable}-{digest}-s{sample_idx}"


# ----------------------------------------------------------------------------- results objects
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


# ----------------------------------------------------------------------------- files
def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _state_path(run_dir: Path) -> Path:
    return run_dir / BATCH_DIR / STATE


def _load_state(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("run directory not found", path=run_dir)
    p = _state_path(run_dir)
    if not p.is_file():
        raise InputError(
            "not a batch run (no batch/state.json): submit one with "
            "`edudial annotate ... --batch -o RUN`",
            path=run_dir,
        )
    try:
        state = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=p, line=exc.lineno) from None
    if not isinstance(state, dict) or not isinstance(state.get("batches"), list):
        raise InputError("not an edudial batch state file", path=p)
    return state


def _save_state(run_dir: Path, state: dict[str, Any]) -> None:
    _atomic_write(_state_path(run_dir), json.dumps(state, indent=2, ensure_ascii=False) + "\n")


def _read_manifest(run_dir: Path) -> dict[str, Any]:
    p = run_dir / "manifest.json"
    if not p.is_file():
        raise InputError("no manifest.json: not a run directory", path=run_dir)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=p, line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError("not a run manifest", path=p)
    return data


def _usage(data: Any) -> Usage:
    u = Usage()
    for key, value in (data or {}).items():
        if key in u.as_dict() and isinstance(value, int):
            setattr(u, key, value)
    return u


# ----------------------------------------------------------------------------- client
def _client(client: Any, base_url: str | None, api_key: str | None) -> Any:
    if client is not None:
        return client
    import openai

    key = api_key or os.environ.get("OPENAI_API_KEY")
    url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not key:
        raise FatalError(
            "no API key: set OPENAI_API_KEY to use the Batch API (or write the "
            "file only with --batch-file-only)"
        )
    return openai.OpenAI(api_key=key, base_url=url, max_retries=5, timeout=120.0)


def _api_error(exc: Exception, what: str, endpoint: str) -> FatalError:
    """One clear message for an API error during a batch operation."""
    import openai

    status = getattr(exc, "status_code", None)
    message = getattr(exc, "message", None) or str(exc)
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            message = str(err["message"])
    if isinstance(exc, openai.APIConnectionError):
        return FatalError(f"{what}: cannot reach {endpoint} ({exc})")
    if status in (401, 403):
        return FatalError(
            f"{what}: the endpoint refused the API key (HTTP {status}: {message}); "
            "check OPENAI_API_KEY"
        )
    return FatalError(f"{what}: HTTP {status} from {endpoint} ({message})")


# ----------------------------------------------------------------------------- submit
def _identity(
    rub: Rubric,
    model: str,
    endpoint: str,
    temp: float,
    seed: int | None,
    samples: int,
    k: int,
    max_reasks: int,
    max_tokens: int,
    logprobs: bool,
) -> dict[str, Any]:
    """The run identity, built exactly like the synchronous engine's (so runs can be shared)."""
    return {
        "rubric_id": rub.id,
        "rubric_version": rub.version,
        "rubric_sha256": rub.sha256,
        "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
        "model": model,
        "endpoint": endpoint,
        "temperature": temp,
        "seed": seed,
        "samples": samples,
        "context_turns": k,
        "max_reasks": max_reasks,
        "max_tokens": max_tokens,
        "logprobs": logprobs,
    }


def _pending_keys(run_dir: Path, state: dict[str, Any]) -> set[str]:
    """Item keys waiting in uploaded batches that were not collected yet."""
    keys: set[str] = set()
    for rec in state["batches"]:
        if rec.get("kind") == "openai" and not rec.get("collected"):
            for entry in _read_items(run_dir, rec).values():
                keys.add(str(entry["item_key"]))
    return keys


def _read_items(run_dir: Path, rec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    path = run_dir / BATCH_DIR / str(rec["items"])
    out: dict[str, dict[str, Any]] = {}
    from toolkit.io import iter_jsonl

    for entry in iter_jsonl(path):
        out[str(entry["custom_id"])] = entry
    return out


def _chunks(
    lines: Iterable[tuple[str, dict[str, Any]]],
) -> Iterable[list[tuple[str, dict[str, Any]]]]:
    """Split (json line, item entry) pairs at the per-file request and size limits."""
    chunk: list[tuple[str, dict[str, Any]]] = []
    size = 0
    for line, entry in lines:
        n = len(line.encode("utf-8")) + 1
        if chunk and (len(chunk) >= MAX_REQUESTS or size + n > MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append((line, entry))
        size += n
    if chunk:
        yield chunk


def submit_batch(
    corpus: Corpus,
    rubric: Rubric | str,
    *,
    model: str,
    out: str | Path,
    submit: bool = True,
    client: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
    dialect: str | None = None,
    context_turns: int | None = None,
    limit: int | None = None,
    samples: int = 1,
    temperature: float | None = None,
    seed: int | None = 1234,
    max_reasks: int = 2,
    max_tokens: int | None = None,
    logprobs: bool = False,
    prices: str | Path | dict[str, Any] | None = None,
    force: bool = False,
    completion_window: str = "24h",
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
    submit : bool
        Upload and create the batch (default); ``False`` only writes ``OUT/batch/input-*.jsonl``
        (for vLLM ``run-batch``; merge its output with ``collect_batch(out, from_file=...)``).
    client : openai.OpenAI, optional
        A configured synchronous client (else built from ``base_url`` / ``api_key`` /
        ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``).
    completion_window : str
        Passed to ``batches.create`` (OpenAI accepts ``"24h"``).

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
    rub = load_rubric(rubric)
    _check_args(samples, 1, max_reasks, context_turns, limit, None, dialect)
    dialect = dialect or "json_schema"
    if dialect not in DIALECTS:  # pragma: no cover - _check_args already refused it
        raise InputError(f"unknown dialect {dialect!r}", field="dialect")
    temp = (0.0 if samples == 1 else 0.7) if temperature is None else float(temperature)
    params = RequestParams(
        model=model,
        temperature=temp,
        seed=seed,
        max_tokens=max_tokens or rub.output.max_tokens,
        logprobs=logprobs,
    )
    price = price_for(model, load_prices(prices))
    cl = _client(client, base_url, api_key) if submit else None
    if cl is not None:
        endpoint = endpoint_id(str(cl.base_url))
    else:
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        endpoint = endpoint_id(url) if url else OFFLINE_ENDPOINT
    k = rub.context.turns if context_turns is None else context_turns
    identity = _identity(
        rub, model, endpoint, temp, seed, samples, k, max_reasks, params.max_tokens, logprobs
    )
    store = RunStore(Path(out), identity, force=force)
    run_dir = store.dir
    bdir = run_dir / BATCH_DIR
    bdir.mkdir(exist_ok=True)
    try:
        state = (
            None if force else (_load_state(run_dir) if _state_path(run_dir).is_file() else None)
        )
        if state is None:
            state = {
                "kind": "edudial-batch-state",
                "format": 1,
                "run_id": store.run_id,
                "created": now(),
                "batches": [],
                "merged_files": [],
                "usage": Usage().as_dict(),
            }
        state["config"] = {
            "model": model,
            "endpoint": endpoint,
            "dialect": dialect,
            "samples": samples,
            "temperature": temp,
            "seed": seed,
            "max_tokens": params.max_tokens,
            "max_tokens_field": params.max_tokens_field,
            "logprobs": logprobs,
            "context_turns": k,
            "max_reasks": max_reasks,
            "limit": limit,
            "price_per_1m": None if price is None else vars(price),
        }
        _atomic_write(
            bdir / "rubric.json",
            json.dumps(rub.model_dump(mode="json"), indent=1, ensure_ascii=False),
        )
        pending = _pending_keys(run_dir, state)
        builder = RequestBuilder(rub, params)
        skipped_done = skipped_pending = 0

        def lines() -> Iterable[tuple[str, dict[str, Any]]]:
            nonlocal skipped_done, skipped_pending
            seen: set[str] = set()
            for item in iter_items(corpus, rub, context_turns=context_turns, limit=limit):
                if item.key in store.done:
                    skipped_done += 1
                    continue
                if item.key in pending:
                    skipped_pending += 1
                    continue
                cid = custom_id(item)
                if cid in seen:  # pragma: no cover - 64-bit digest
                    raise InputError(f"two items share custom_id {cid!r}", field="custom_id")
                seen.add(cid)
                body = builder.body(builder.item_messages(item, dialect), dialect, n=samples)
                line = json.dumps(
                    {"custom_id": cid, "method": "POST", "url": BATCH_URL, "body": body},
                    ensure_ascii=False,
                    allow_nan=False,
                )
                yield (
                    line,
                    {
                        "custom_id": cid,
                        "item_key": item.key,
                        "corpus": item.corpus,
                        "unit_id": item.unit_id,
                        "dialogue_id": item.dialogue_id,
                        "category": item.category,
                        "context_turns": item.context_turns,
                        "sample_idx": 0,
                    },
                )

        created: list[dict[str, Any]] = []
        files: list[Path] = []
        total = 0
        for chunk in _chunks(lines()):
            seq = len(state["batches"]) + 1
            name = f"input-{seq:04d}.jsonl"
            items_name = f"input-{seq:04d}.items.jsonl"
            payload = "".join(line + "\n" for line, _ in chunk)
            _atomic_write(
                bdir / items_name,
                "".join(json.dumps(e, ensure_ascii=False) + "\n" for _, e in chunk),
            )
            _atomic_write(bdir / name, payload)
            rec: dict[str, Any] = {
                "id": f"local-{seq:04d}",
                "kind": "file",
                "input": name,
                "items": items_name,
                "requests": len(chunk),
                "dialect": dialect,
                "created": now(),
                "status": "written",
                "collected": False,
            }
            if cl is not None:
                rec.update(
                    _upload(
                        cl, endpoint, bdir / name, payload, rub, store.run_id, completion_window
                    )
                )
            state["batches"].append(rec)
            _save_state(run_dir, state)  # record each batch as soon as it exists
            created.append(rec)
            files.append(bdir / name)
            total += len(chunk)
        _save_state(run_dir, state)
        status = (
            "nothing_to_submit" if not created else "submitted" if cl is not None else "written"
        )
        _update_manifest(
            store,
            rub,
            identity,
            state,
            corpus_units=count_units(corpus, rub, limit),
            status="batch_submitted" if cl is not None and created else None,
            price=price,
        )
    finally:
        store.close()
    return BatchSubmission(
        store.run_id, run_dir, status, total, created, files, skipped_done, skipped_pending
    )


def _upload(
    cl: Any, endpoint: str, path: Path, payload: str, rub: Rubric, run_id: str, window: str
) -> dict[str, Any]:
    import openai

    try:
        f = cl.files.create(file=(path.name, io.BytesIO(payload.encode("utf-8"))), purpose="batch")
    except openai.NotFoundError:
        raise FatalError(
            f"{endpoint} has no /files route (HTTP 404): local servers have no "
            "Batch API; write the file with --batch-file-only and run it with "
            "vLLM run-batch, then `edudial batch collect RUN --from-file`"
        ) from None
    except openai.OpenAIError as exc:
        raise _api_error(exc, "uploading the batch file", endpoint) from None
    try:
        b = cl.batches.create(
            input_file_id=f.id,
            endpoint=BATCH_URL,
            completion_window=window,
            metadata={
                "rubric": f"{rub.id}@{rub.version}",
                "run_id": run_id,
                "edudial_input": path.name,
            },
        )
    except openai.OpenAIError as exc:
        raise _api_error(
            exc, f"creating the batch (input file {f.id} was uploaded)", endpoint
        ) from None
    return {
        "id": b.id,
        "kind": "openai",
        "input_file_id": f.id,
        "status": b.status,
        "submitted": now(),
        "output_file_id": None,
        "error_file_id": None,
    }


# ----------------------------------------------------------------------------- manifest
def _update_manifest(
    store: RunStore,
    rub: Rubric,
    identity: dict[str, Any],
    state: dict[str, Any],
    *,
    corpus_units: int | None,
    status: str | None,
    price: Price | None,
) -> dict[str, Any]:
    """Create or update ``manifest.json`` keeping what a synchronous run wrote."""
    man = store.read_manifest() or {}
    cfg = state["config"]
    if not man:
        man = {
            **run_header(store.run_id, status or "batch_written", identity, started=now()),
            "rubric": rubric_record(rub),
            "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
            "rater": rater_name(str(cfg["model"]), rub),
            "rater_kind": "model",
            "model_requested": cfg["model"],
            "models_served": {},
            "endpoint": cfg["endpoint"],
            "dialect": cfg["dialect"],
            "dialect_forced": True,
            "dialect_probe": [],
            "dialects_used": {},
            "parameters": {
                k: cfg[k]
                for k in (
                    "context_turns",
                    "limit",
                    "samples",
                    "temperature",
                    "seed",
                    "max_reasks",
                    "max_tokens",
                    "max_tokens_field",
                    "logprobs",
                )
            },
            "usage": Usage().as_dict(),
            "usage_cumulative": Usage().as_dict(),
        }
    elif status is not None:
        man["status"] = status
    if corpus_units is not None:
        per = len(rub.label_names) if rub.mode == "binary" else 1
        man["items_total"] = corpus_units * per
    man["counts"] = dict(store.counts)
    man["updated"] = now()
    usage = _usage(state.get("usage"))
    full = usage.cost(price)
    man["batch"] = {
        "state_file": f"{BATCH_DIR}/{STATE}",
        "batches": [
            {
                k: rec.get(k)
                for k in (
                    "id",
                    "kind",
                    "input",
                    "input_file_id",
                    "output_file_id",
                    "error_file_id",
                    "requests",
                    "status",
                    "request_counts",
                    "collected",
                )
            }
            for rec in state["batches"]
        ],
        "merged_files": state.get("merged_files", []),
        "usage": usage.as_dict(),
        "price_per_1m": None if price is None else vars(price),
        "price_multiplier": BATCH_MULTIPLIER,
        "cost_usd": None if full is None else full * BATCH_MULTIPLIER,
        "cost_usd_undiscounted": full,
    }
    man["versions"] = _versions()
    store.write_manifest(man)
    return man


# ----------------------------------------------------------------------------- status
def _refresh(cl: Any, rec: dict[str, Any], endpoint: str) -> Any:
    import openai

    try:
        b = cl.batches.retrieve(rec["id"])
    except openai.NotFoundError:
        raise FatalError(
            f"batch {rec['id']} not found at {endpoint} (HTTP 404): was it created "
            "with another API key or project? (batch/state.json keeps its "
            f"input file {rec.get('input_file_id')})"
        ) from None
    except openai.OpenAIError as exc:
        raise _api_error(exc, f"checking batch {rec['id']}", endpoint) from None
    rec["status"] = b.status
    rc = b.request_counts
    rec["request_counts"] = (
        None if rc is None else {"total": rc.total, "completed": rc.completed, "failed": rc.failed}
    )
    rec["output_file_id"] = b.output_file_id
    rec["error_file_id"] = b.error_file_id
    errs = getattr(b, "errors", None)
    if errs is not None and getattr(errs, "data", None):
        rec["errors"] = [{"code": e.code, "message": e.message, "line": e.line} for e in errs.data]
    return b


def _run_client(
    state: dict[str, Any], client: Any, base_url: str | None, api_key: str | None
) -> Any:
    endpoint = str(state["config"]["endpoint"])
    if base_url is None and client is None and endpoint != OFFLINE_ENDPOINT:
        base_url = endpoint
    return _client(client, base_url, api_key)


def batch_status(
    run_dir: str | Path,
    *,
    client: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> list[dict[str, Any]]:
    """Poll the run's uploaded batches that are not collected yet; return every record.

    Each record has ``id``, ``kind`` (``openai`` or ``file`` for a file written only),
    ``status``, ``requests``, ``request_counts`` and ``collected``. The state file is updated.

    Examples
    --------
    >>> [b["status"] for b in batch_status("runs/md")]  # doctest: +SKIP
    ['in_progress']
    """
    run_dir = Path(run_dir)
    state = _load_state(run_dir)
    live = [r for r in state["batches"] if r.get("kind") == "openai" and not r.get("collected")]
    if live:
        cl = _run_client(state, client, base_url, api_key)
        for rec in live:
            _refresh(cl, rec, str(state["config"]["endpoint"]))
        _save_state(run_dir, state)
    return [dict(r) for r in state["batches"]]


def cancel_batch(
    run_dir: str | Path,
    *,
    client: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> list[str]:
    """Cancel the run's unfinished uploaded batches; return their ids.

    Results completed before the cancellation are still delivered: collect them as usual.
    """
    import openai

    run_dir = Path(run_dir)
    state = _load_state(run_dir)
    live = [
        r
        for r in state["batches"]
        if r.get("kind") == "openai" and not r.get("collected") and r.get("status") not in TERMINAL
    ]
    if not live:
        return []
    cl = _run_client(state, client, base_url, api_key)
    endpoint = str(state["config"]["endpoint"])
    for rec in live:
        try:
            b = cl.batches.cancel(rec["id"])
        except openai.NotFoundError:
            raise FatalError(f"batch {rec['id']} not found at {endpoint} (HTTP 404)") from None
        except openai.OpenAIError as exc:
            raise _api_error(exc, f"cancelling batch {rec['id']}", endpoint) from None
        rec["status"] = b.status
    _save_state(run_dir, state)
    return [str(r["id"]) for r in live]


# ----------------------------------------------------------------------------- collect
@dataclass
class _Result:
    custom_id: str
    ok: bool
    body: dict[str, Any] | None
    request_id: str | None
    kind: str | None
    message: str | None
    source: str
    batch_id: str | None


def _parse_results(
    text: str, source: str, known: dict[str, Any], run_id: str, batch_id: str | None
) -> list[_Result]:
    """Validate every line of a results file (nothing is written before all are valid)."""
    out: list[_Result] = []
    seen: set[str] = set()
    for no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"malformed results line: not valid JSON ({exc.msg})", path=source, line=no
            ) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("custom_id"), str):
            raise InputError(
                "malformed results line: expected an object with a string 'custom_id'",
                path=source,
                line=no,
                field="custom_id",
            )
        cid = obj["custom_id"]
        if cid not in known:
            raise InputError(
                f"custom_id {cid!r} does not belong to run {run_id} (is this the "
                "results file of another run?)",
                path=source,
                line=no,
                field="custom_id",
            )
        if cid in seen:
            raise InputError(
                f"custom_id {cid!r} appears twice", path=source, line=no, field="custom_id"
            )
        seen.add(cid)
        resp, err = obj.get("response"), obj.get("error")
        if resp is not None and not isinstance(resp, dict):
            raise InputError(
                "malformed results line: 'response' must be an object or null",
                path=source,
                line=no,
                field="response",
            )
        if resp is None and err is None:
            raise InputError(
                "malformed results line: neither 'response' nor 'error'", path=source, line=no
            )
        status = resp.get("status_code", 200) if resp else None  # vLLM's default is 200
        body = resp.get("body") if resp else None
        rid = resp.get("request_id") if resp else None
        if err is None and status == 200:
            if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
                raise InputError(
                    "malformed results line: status 200 without a chat completion body",
                    path=source,
                    line=no,
                    field="response.body",
                )
            out.append(_Result(cid, True, body, rid, None, None, source, batch_id))
            continue
        # a failed request: OpenAI error-file lines set 'error' ({code, message}) or carry a
        # non-200 response; vLLM sets both (error = its ErrorResponse, or a string)
        body_err = body.get("error") if isinstance(body, dict) else None
        message = None
        for src in (err, body_err, body):
            if isinstance(src, dict) and src.get("message"):
                message = str(src["message"])
                break
            if isinstance(src, str) and src:
                message = src
                break
        if isinstance(status, int) and status != 200:
            kind = f"http_{status}"
        else:
            code = err.get("code") if isinstance(err, dict) else None
            kind = f"batch_{code or 'error'}"
        message = message or (f"HTTP {status}" if status else "the request failed")
        out.append(_Result(cid, False, None, rid, kind, message, source, batch_id))
    return out


class _CacheOnly:
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


class _BatchEngine(Engine):
    """The engine, writing batch provenance (ids, billed usage) into each item's rows."""

    tags: dict[str, dict[str, Any]]

    def _emit(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            tag = self.tags.get(str(rows[0]["meta"].get("item_key")), {})
            for row in rows:
                meta = row["meta"]
                meta.update(tag.get("meta", {}))
                if tag.get("usage") is not None and meta.get("status") != "error":
                    meta["usage"] = dict(tag["usage"])
                    meta["cache_hit"] = False
                    prov = meta.get("provenance")
                    if isinstance(prov, dict) and tag.get("request_id"):
                        prov["request_ids"] = [tag["request_id"]]
        super()._emit(rows)


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
    run_dir = Path(run_dir)
    state = _load_state(run_dir)
    man = _read_manifest(run_dir)
    identity = dict(man.get("identity") or {})
    cfg = state["config"]
    bdir = run_dir / BATCH_DIR
    try:
        rub = parse_rubric(
            json.loads((bdir / "rubric.json").read_text(encoding="utf-8")),
            path=bdir / "rubric.json",
        )
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"cannot read the run's rubric ({exc})", path=bdir / "rubric.json"
        ) from None
    if rub.sha256 != identity.get("rubric_sha256"):
        raise InputError(
            "batch/rubric.json does not match the run's rubric hash", path=bdir / "rubric.json"
        )
    if identity.get("prompt_template_sha256") != PROMPT_TEMPLATE_SHA256:
        raise InputError(
            "the prompt template changed since this batch was written (another "
            "edudial version?): results cannot be matched to cache keys",
            path=run_dir,
        )

    # custom_id -> (record, item entry); later records win (resubmissions)
    known: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    rec_items: dict[str, list[str]] = {}
    for rec in state["batches"]:
        ids = _read_items(run_dir, rec)
        rec_items[str(rec["id"])] = list(ids)
        for cid, entry in ids.items():
            known[cid] = (rec, entry)

    sources: list[tuple[str, str, str | None]] = []  # (name, text, batch_id)
    notes: list[str] = []
    pending: list[dict[str, Any]] = []
    finished: list[dict[str, Any]] = []
    if from_file is not None:
        p = Path(from_file)
        if not p.is_file():
            raise InputError("results file not found", path=p)
        sources.append((str(p), p.read_text(encoding="utf-8"), None))
    else:
        live = [r for r in state["batches"] if r.get("kind") == "openai" and not r.get("collected")]
        if not live and not any(r.get("kind") == "openai" for r in state["batches"]):
            raise InputError(
                "this run was written with --batch-file-only (nothing was "
                "uploaded): merge a results file with --from-file OUT.jsonl",
                path=run_dir,
            )
        if not live:
            notes.append("nothing to collect: every uploaded batch was collected already")
        if live:
            import openai

            cl = _run_client(state, client, base_url, api_key)
            endpoint = str(cfg["endpoint"])
            for rec in live:
                b = _refresh(cl, rec, endpoint)
                if b.status not in TERMINAL:
                    pending.append(
                        {
                            "id": rec["id"],
                            "status": b.status,
                            "request_counts": rec.get("request_counts"),
                        }
                    )
                    continue
                finished.append(rec)
                if b.status == "failed":
                    errs = (
                        "; ".join(
                            f"{e.get('code')}: {e.get('message')}"
                            + (f" (line {e['line']})" if e.get("line") else "")
                            for e in rec.get("errors") or []
                        )
                        or "no reason given"
                    )
                    notes.append(f"batch {rec['id']} failed: {errs}")
                elif b.status in ("expired", "cancelled"):
                    notes.append(
                        f"batch {rec['id']} {b.status}: completed results are merged, "
                        "the rest is recorded as error (rerun --batch to resubmit)"
                    )
                for fid, suffix in ((b.output_file_id, "output"), (b.error_file_id, "errors")):
                    if not fid:
                        continue
                    try:
                        text = cl.files.content(fid).text
                    except openai.OpenAIError as exc:
                        raise _api_error(
                            exc, f"downloading {suffix} file {fid} of batch {rec['id']}", endpoint
                        ) from None
                    local = bdir / f"{rec['id']}.{suffix}.jsonl"
                    _atomic_write(local, text)
                    sources.append((str(local), text, str(rec["id"])))
            _save_state(run_dir, state)

    run_id = str(man.get("run_id") or state.get("run_id"))
    results: dict[str, _Result] = {}
    for name, text, bid in sources:
        for r in _parse_results(text, name, known, run_id, bid):
            if r.custom_id in results:
                raise InputError(
                    f"custom_id {r.custom_id!r} appears in two result files",
                    path=name,
                    field="custom_id",
                )
            results[r.custom_id] = r

    # the input lines needed (one pass over each input file)
    needed = set(results)
    for rec in finished:
        needed.update(c for c in rec_items[str(rec["id"])] if known[c][0] is rec)
    bodies: dict[str, dict[str, Any]] = {}
    from toolkit.io import iter_jsonl

    for rec in state["batches"]:
        mine = {c for c in rec_items[str(rec["id"])] if c in needed and known[c][0] is rec}
        if mine:
            for line in iter_jsonl(bdir / str(rec["input"])):
                if line.get("custom_id") in mine:
                    bodies[str(line["custom_id"])] = line["body"]

    price = (
        price_for(str(cfg["model"]), load_prices(prices))
        if prices is not None
        else (Price(**cfg["price_per_1m"]) if cfg.get("price_per_1m") else None)
    )
    store = RunStore(run_dir, identity)
    cache = ResponseCache(store.cache_path)
    usage = Usage()
    written = {"ok": 0, "invalid": 0, "error": 0}
    skipped = 0
    try:
        params = RequestParams(
            model=str(cfg["model"]),
            temperature=float(cfg["temperature"]),
            seed=cfg["seed"],
            max_tokens=int(cfg["max_tokens"]),
            max_tokens_field=str(cfg["max_tokens_field"]),
            logprobs=bool(cfg["logprobs"]),
        )
        builder = RequestBuilder(rub, params)
        endpoint = str(identity.get("endpoint", cfg["endpoint"]))
        engine = _BatchEngine(
            rub,
            builder,
            _CacheOnly(endpoint),
            cache,
            store,
            samples=int(cfg["samples"]),
            max_reasks=0,
            concurrency=1,
            dialect=str(cfg["dialect"]),
            price=None,
            max_cost=None,
            progress=None,
            rater=rater_name(str(cfg["model"]), rub),
        )
        engine.tags = {}
        # item, dialect, result (None: no result line), error kind and message when None
        work: list[tuple[Item, str, _Result | None, str, str]] = []

        def item_of(cid: str) -> tuple[Item, dict[str, Any], str]:
            rec, entry = known[cid]
            body = bodies[cid]
            text = str(body["messages"][-1]["content"])
            item = Item(
                str(entry["corpus"]),
                str(entry["unit_id"]),
                str(entry["dialogue_id"]),
                entry.get("category"),
                text,
                int(entry["context_turns"]),
            )
            dialect = str(rec.get("dialect") or cfg["dialect"])
            rebuilt = builder.body(
                builder.item_messages(item, dialect), dialect, n=int(cfg["samples"])
            )
            if rebuilt != body:
                raise InputError(
                    f"the request of {cid!r} differs from what this edudial "
                    "version builds: cannot match it to the cache",
                    path=bdir / str(rec["input"]),
                )
            return item, body, dialect

        for cid, r in results.items():
            item, body, dialect = item_of(cid)
            if item.key in store.done:
                skipped += 1
                continue
            bid = r.batch_id or (
                known[cid][0]["id"] if known[cid][0].get("kind") == "openai" else None
            )
            meta_tag: dict[str, Any] = {"batch_id": bid, "custom_id": cid}
            if r.batch_id is None:
                meta_tag["batch_results_file"] = Path(r.source).name
            tag: dict[str, Any] = {"meta": meta_tag, "request_id": r.request_id}
            if r.ok and r.body is not None:
                cache.put(request_key(body, endpoint, 0), json.dumps(r.body, ensure_ascii=False))
                u = Usage(requests=1)
                u.add_response(r.body.get("usage"))
                usage.merge(u)
                tag["usage"] = {
                    "prompt_tokens": u.prompt_tokens,
                    "cached_tokens": u.cached_tokens,
                    "completion_tokens": u.completion_tokens,
                    "requests": 1,
                    "cache_hits": 0,
                    "reasks": 0,
                    "retries": 0,
                    "batch": True,
                }
            engine.tags[item.key] = tag
            work.append((item, dialect, r, "", ""))
        # items of finished batches with no result line at all
        for rec in finished:
            for cid in rec_items[str(rec["id"])]:
                if cid in results or known[cid][0] is not rec:
                    continue
                item, _, dialect = item_of(cid)
                if item.key in store.done:
                    continue
                engine.tags[item.key] = {"meta": {"batch_id": rec["id"], "custom_id": cid}}
                if rec["status"] == "completed":
                    kind, why = (
                        "batch_missing",
                        (f"batch {rec['id']} completed without a result line for this request"),
                    )
                else:
                    kind, why = (
                        f"batch_{rec['status']}",
                        (f"batch {rec['id']} {rec['status']} before this request ran"),
                    )
                work.append((item, dialect, None, kind, why))

        async def produce() -> None:
            for item, dialect, r, kind, why in work:
                if r is None:
                    rows = engine._error_rows(item, kind, why)
                elif not r.ok:
                    rows = engine._error_rows(item, str(r.kind), str(r.message))
                else:
                    try:
                        rows = await engine._item(item, dialect)
                    except ItemFailure as exc:
                        rows = engine._error_rows(item, exc.kind, exc.message)
                engine._emit(rows)
                status = str(rows[0]["meta"]["status"])
                written[status] = written.get(status, 0) + 1

        asyncio.run(produce())
        if written["ok"] and cache.get_profile(endpoint, params.model) is None:
            # the endpoint answered this dialect: later synchronous runs need no probe
            cache.put_profile(endpoint, params.model, {"dialect": str(cfg["dialect"])})
        if store.stale_errors:
            store.compact()
        for rec in finished:
            rec["collected"] = True
            rec["collected_at"] = now()
        if from_file is not None:
            state.setdefault("merged_files", []).append(
                {
                    "file": Path(from_file).name,
                    "merged_at": now(),
                    "lines": len(results),
                    "written": dict(written),
                    "skipped": skipped,
                }
            )
        total = _usage(state.get("usage"))
        total.merge(usage)
        state["usage"] = total.as_dict()
        _save_state(run_dir, state)
        if written.get("error", 0):
            notes.append(
                f"{written['error']} item(s) recorded as error: rerun the same "
                "`edudial annotate ... --batch` command to resubmit them"
            )
        still = any(r.get("kind") == "openai" and not r.get("collected") for r in state["batches"])
        done = len(store.done)
        items_total = man.get("items_total")
        if still:
            status = "batch_in_progress"
        elif store.counts.get("error", 0) == 0 and (items_total is None or done >= items_total):
            status = "completed"
        else:
            status = "batch_collected"
        if engine.models_served:
            served = dict(man.get("models_served") or {})
            for m, c in engine.models_served.items():
                served[m] = served.get(m, 0) + c
            man_served: dict[str, int] | None = served
        else:
            man_served = None
        man2 = _update_manifest(
            store, rub, identity, state, corpus_units=None, status=status, price=price
        )
        if man_served is not None:
            man2["models_served"] = man_served
            store.write_manifest(man2)
    finally:
        store.close()
        cache.close()
    full = usage.cost(price)
    return BatchCollection(
        run_id,
        run_dir,
        status,
        written,
        dict(store.counts),
        skipped,
        pending,
        usage,
        None if full is None else full * BATCH_MULTIPLIER,
        full,
        notes,
        man2,
    )
