"""Batch run files: the state file, input files, item maps and results files (no API calls).

Layout under ``OUT/batch/``::

    state.json               configuration and one record per submitted file / batch
    rubric.json              the validated rubric (collect needs no corpus and no rubric file)
    input-0001.jsonl         the Batch JSONL sent (or written for run-batch)
    input-0001.items.jsonl   custom_id -> item (corpus, unit_id, dialogue_id, category, ...)
    <batch_id>.output.jsonl  downloaded results; <batch_id>.errors.jsonl the error file
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

from annotation.items import Item
from annotation.pricing import Usage
from annotation.rubric import Rubric, parse_rubric
from toolkit.errors import InputError
from toolkit.files import open_temp
from toolkit.io import iter_jsonl

__all__ = [
    "BATCH_DIR",
    "BATCH_URL",
    "MAX_BYTES",
    "MAX_REQUESTS",
    "OFFLINE_ENDPOINT",
    "BatchResult",
    "atomic_write",
    "chunks",
    "custom_id",
    "input_line",
    "item_entry",
    "item_from_entry",
    "load_state",
    "new_state",
    "parse_results",
    "pending_keys",
    "read_bodies",
    "read_items",
    "read_manifest",
    "read_rubric",
    "save_state",
    "state_path",
    "write_rubric",
]

BATCH_URL = "/v1/chat/completions"
#: Endpoint id of a run written with ``submit=False`` and no ``base_url`` (vLLM run-batch etc.).
OFFLINE_ENDPOINT = "offline:run-batch"
#: OpenAI limits per input file: 50,000 requests and 200 MB (we stay a little below).
MAX_REQUESTS = 50_000
MAX_BYTES = 190 * 1024 * 1024
BATCH_DIR = "batch"
STATE = "state.json"
RUBRIC = "rubric.json"

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


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file (never half-written)."""
    fd, tmp = open_temp(path.parent, f".{path.name}.")  # shareable: the umask's mode
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=path, line=exc.lineno) from None


# ----------------------------------------------------------------------------- state
def state_path(run_dir: Path) -> Path:
    """``OUT/batch/state.json``."""
    return run_dir / BATCH_DIR / STATE


def new_state(run_id: str, created: str) -> dict[str, Any]:
    """The state of a run with no batch yet."""
    return {
        "kind": "edudial-batch-state",
        "format": 1,
        "run_id": run_id,
        "created": created,
        "batches": [],
        "merged_files": [],
        "usage": Usage().as_dict(),
    }


def load_state(run_dir: str | Path) -> dict[str, Any]:
    """The run's batch state; :class:`InputError` when ``run_dir`` is not a batch run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("run directory not found", path=run_dir)
    p = state_path(run_dir)
    if not p.is_file():
        raise InputError(
            "not a batch run (no batch/state.json): submit one with "
            "`edudial annotate ... --batch -o RUN`",
            path=run_dir,
        )
    state = _read_json(p)
    if not isinstance(state, dict) or not isinstance(state.get("batches"), list):
        raise InputError("not an edudial batch state file", path=p)
    return state


def save_state(run_dir: Path, state: dict[str, Any]) -> None:
    """Write the state file atomically."""
    atomic_write(state_path(run_dir), json.dumps(state, indent=2, ensure_ascii=False) + "\n")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The run's ``manifest.json``; :class:`InputError` when missing or malformed."""
    p = run_dir / "manifest.json"
    if not p.is_file():
        raise InputError("no manifest.json: not a run directory", path=run_dir)
    data = _read_json(p)
    if not isinstance(data, dict):
        raise InputError("not a run manifest", path=p)
    return data


def write_rubric(run_dir: Path, rubric: Rubric) -> None:
    """Keep the validated rubric with the run (``batch/rubric.json``)."""
    text = json.dumps(rubric.model_dump(mode="json"), indent=1, ensure_ascii=False)
    atomic_write(run_dir / BATCH_DIR / RUBRIC, text)


def read_rubric(run_dir: Path, rubric_sha256: str | None) -> Rubric:
    """The rubric kept with the run, checked against the run's rubric hash."""
    path = run_dir / BATCH_DIR / RUBRIC
    try:
        rub = parse_rubric(json.loads(path.read_text(encoding="utf-8")), path=path)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the run's rubric ({exc})", path=path) from None
    if rub.sha256 != rubric_sha256:
        raise InputError("batch/rubric.json does not match the run's rubric hash", path=path)
    return rub


# ----------------------------------------------------------------------------- input files
def input_line(cid: str, body: dict[str, Any]) -> str:
    """One Batch JSONL request line."""
    line = {"custom_id": cid, "method": "POST", "url": BATCH_URL, "body": body}
    return json.dumps(line, ensure_ascii=False, allow_nan=False)


def item_entry(cid: str, item: Item) -> dict[str, Any]:
    """The ``items.jsonl`` entry mapping ``cid`` back to its item."""
    return {
        "custom_id": cid,
        "item_key": item.key,
        "corpus": item.corpus,
        "unit_id": item.unit_id,
        "dialogue_id": item.dialogue_id,
        "category": item.category,
        "context_turns": item.context_turns,
        "sample_idx": 0,
    }


def item_from_entry(entry: dict[str, Any], text: str) -> Item:
    """The :class:`Item` of an ``items.jsonl`` entry (``text``: the request's user message)."""
    return Item(
        str(entry["corpus"]),
        str(entry["unit_id"]),
        str(entry["dialogue_id"]),
        entry.get("category"),
        text,
        int(entry["context_turns"]),
    )


def read_items(run_dir: Path, rec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``custom_id`` -> item entry of one batch record."""
    path = run_dir / BATCH_DIR / str(rec["items"])
    return {str(entry["custom_id"]): entry for entry in iter_jsonl(path)}


def read_bodies(run_dir: Path, rec: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    """The request bodies of the ``wanted`` custom ids in one batch's input file."""
    if not wanted:
        return {}
    lines = iter_jsonl(run_dir / BATCH_DIR / str(rec["input"]))
    return {str(x["custom_id"]): x["body"] for x in lines if x.get("custom_id") in wanted}


def pending_keys(run_dir: Path, state: dict[str, Any]) -> set[str]:
    """Item keys waiting in uploaded batches that were not collected yet."""
    keys: set[str] = set()
    for rec in state["batches"]:
        if rec.get("kind") == "openai" and not rec.get("collected"):
            keys.update(str(e["item_key"]) for e in read_items(run_dir, rec).values())
    return keys


def chunks(
    lines: Iterable[tuple[str, dict[str, Any]]],
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
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


# ----------------------------------------------------------------------------- results files
@dataclass
class BatchResult:
    """One line of a results file: a chat completion (``ok``) or a failed request."""

    custom_id: str
    ok: bool
    body: dict[str, Any] | None
    request_id: str | None
    kind: str | None
    message: str | None
    source: str
    batch_id: str | None


@dataclass(frozen=True)
class _Where:
    source: str
    line: int

    def error(self, message: str, field: str | None = None) -> InputError:
        return InputError(message, path=self.source, line=self.line, field=field)


def _failure(resp: dict[str, Any] | None, err: Any) -> tuple[str, str]:
    """``(kind, message)`` of a failed line.

    OpenAI error-file lines set ``error`` (``{code, message}``) or carry a non-200 response;
    vLLM sets both (``error`` = its ErrorResponse, or a string).
    """
    status = resp.get("status_code", 200) if resp else None
    body = resp.get("body") if resp else None
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
    return kind, message or (f"HTTP {status}" if status else "the request failed")


def _custom_id_of(obj: Any, where: _Where, known: dict[str, Any], run_id: str) -> str:
    if not isinstance(obj, dict) or not isinstance(obj.get("custom_id"), str):
        raise where.error(
            "malformed results line: expected an object with a string 'custom_id'", "custom_id"
        )
    cid = str(obj["custom_id"])
    if cid not in known:
        raise where.error(
            f"custom_id {cid!r} does not belong to run {run_id} (is this the "
            "results file of another run?)",
            "custom_id",
        )
    return cid


def _result_of(obj: dict[str, Any], cid: str, where: _Where, batch_id: str | None) -> BatchResult:
    resp, err = obj.get("response"), obj.get("error")
    if resp is not None and not isinstance(resp, dict):
        raise where.error(
            "malformed results line: 'response' must be an object or null", "response"
        )
    if resp is None and err is None:
        raise where.error("malformed results line: neither 'response' nor 'error'")
    status = resp.get("status_code", 200) if resp else None  # vLLM's default is 200
    body = resp.get("body") if resp else None
    rid = resp.get("request_id") if resp else None
    if err is None and status == 200:
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
            raise where.error(
                "malformed results line: status 200 without a chat completion body",
                "response.body",
            )
        return BatchResult(cid, True, body, rid, None, None, where.source, batch_id)
    kind, message = _failure(resp, err)
    return BatchResult(cid, False, None, rid, kind, message, where.source, batch_id)


def parse_results(
    text: str, source: str, known: dict[str, Any], run_id: str, batch_id: str | None
) -> list[BatchResult]:
    """Validate every line of a results file (nothing is written before all are valid).

    Errors name the file, the line and the field.
    """
    out: list[BatchResult] = []
    seen: set[str] = set()
    for no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = _Where(source, no)
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise where.error(f"malformed results line: not valid JSON ({exc.msg})") from None
        cid = _custom_id_of(obj, where, known, run_id)
        if cid in seen:
            raise where.error(f"custom_id {cid!r} appears twice", "custom_id")
        seen.add(cid)
        out.append(_result_of(obj, cid, where, batch_id))
    return out
