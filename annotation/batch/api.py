"""Calls to the OpenAI Batch API (files and batches), each turned into one clear error.

Every function takes a synchronous ``openai.OpenAI`` client and the run's endpoint (for
messages); errors are :class:`~annotation.transport.FatalError` with one line saying what
failed, where, and what to do.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from annotation.batch.files import BATCH_URL, OFFLINE_ENDPOINT
from annotation.manifest import now
from annotation.rubric import Rubric
from annotation.transport import FatalError

__all__ = [
    "TERMINAL",
    "api_error",
    "cancel",
    "download",
    "make_client",
    "refresh",
    "run_client",
    "upload",
]

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


def make_client(client: Any, base_url: str | None, api_key: str | None) -> Any:
    """``client``, else an ``openai.OpenAI`` client for ``base_url`` / ``OPENAI_*``."""
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


def run_client(
    state: dict[str, Any], client: Any, base_url: str | None, api_key: str | None
) -> Any:
    """A client for the endpoint recorded in the run's state (unless one is given)."""
    endpoint = str(state["config"]["endpoint"])
    if base_url is None and client is None and endpoint != OFFLINE_ENDPOINT:
        base_url = endpoint
    return make_client(client, base_url, api_key)


def api_error(exc: Exception, what: str, endpoint: str) -> FatalError:
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


def _upload_file(cl: Any, endpoint: str, path: Path, payload: str) -> Any:
    import openai

    try:
        return cl.files.create(
            file=(path.name, io.BytesIO(payload.encode("utf-8"))), purpose="batch"
        )
    except openai.NotFoundError:
        raise FatalError(
            f"{endpoint} has no /files route (HTTP 404): local servers have no "
            "Batch API; write the file with --batch-file-only and run it with "
            "vLLM run-batch, then `edudial batch collect RUN --from-file`"
        ) from None
    except openai.OpenAIError as exc:
        raise api_error(exc, "uploading the batch file", endpoint) from None


def upload(
    cl: Any,
    endpoint: str,
    path: Path,
    payload: str,
    *,
    rubric: Rubric,
    run_id: str,
    window: str,
) -> dict[str, Any]:
    """Upload an input file and create its batch; the fields of the batch's state record."""
    import openai

    f = _upload_file(cl, endpoint, path, payload)
    try:
        b = cl.batches.create(
            input_file_id=f.id,
            endpoint=BATCH_URL,
            completion_window=window,
            metadata={
                "rubric": f"{rubric.id}@{rubric.version}",
                "run_id": run_id,
                "edudial_input": path.name,
            },
        )
    except openai.OpenAIError as exc:
        raise api_error(
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


def refresh(cl: Any, rec: dict[str, Any], endpoint: str) -> Any:
    """Poll one batch and update its state record (status, counts, file ids, errors)."""
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
        raise api_error(exc, f"checking batch {rec['id']}", endpoint) from None
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


def cancel(cl: Any, rec: dict[str, Any], endpoint: str) -> None:
    """Cancel one batch and record its new status."""
    import openai

    try:
        b = cl.batches.cancel(rec["id"])
    except openai.NotFoundError:
        raise FatalError(f"batch {rec['id']} not found at {endpoint} (HTTP 404)") from None
    except openai.OpenAIError as exc:
        raise api_error(exc, f"cancelling batch {rec['id']}", endpoint) from None
    rec["status"] = b.status


def download(cl: Any, file_id: str, what: str, endpoint: str) -> str:
    """The text of an output or error file."""
    import openai

    try:
        return str(cl.files.content(file_id).text)
    except openai.OpenAIError as exc:
        raise api_error(exc, f"downloading {what}", endpoint) from None
