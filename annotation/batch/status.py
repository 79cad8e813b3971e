"""Follow and cancel a run's batches (``edudial batch status`` / ``cancel``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotation.batch.api import TERMINAL, cancel, refresh, run_client
from annotation.batch.files import load_state, save_state

__all__ = ["batch_status", "cancel_batch", "live_batches"]


def live_batches(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Records of uploaded batches not collected yet."""
    return [r for r in state["batches"] if r.get("kind") == "openai" and not r.get("collected")]


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
    state = load_state(run_dir)
    live = live_batches(state)
    if live:
        cl = run_client(state, client, base_url, api_key)
        for rec in live:
            refresh(cl, rec, str(state["config"]["endpoint"]))
        save_state(run_dir, state)
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

    Examples
    --------
    >>> cancel_batch("runs/md")  # doctest: +SKIP
    ['batch_abc123']
    """
    run_dir = Path(run_dir)
    state = load_state(run_dir)
    live = [r for r in live_batches(state) if r.get("status") not in TERMINAL]
    if not live:
        return []
    cl = run_client(state, client, base_url, api_key)
    endpoint = str(state["config"]["endpoint"])
    for rec in live:
        cancel(cl, rec, endpoint)
    save_state(run_dir, state)
    return [str(r["id"]) for r in live]
