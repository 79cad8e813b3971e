"""The ``batch`` section of a run's manifest, and the manifest of a run that only has batches."""

from __future__ import annotations

from typing import Any

from annotation.batch.files import BATCH_DIR, STATE
from annotation.manifest import (
    LlmSections,
    RunIdentity,
    RunManifest,
    llm_versions,
    now,
    rater_name,
)
from annotation.pricing import BATCH_MULTIPLIER, Price, Usage
from annotation.rubric import Rubric
from annotation.store import RunStore

__all__ = ["batch_section", "update_manifest"]

#: Fields of a state record shown in the manifest.
_RECORD_FIELDS = (
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
#: Settings of ``state["config"]`` shown as the manifest's ``parameters``.
_PARAMETERS = (
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


def batch_section(state: dict[str, Any], price: Price | None) -> dict[str, Any]:
    """Batches, merged files, usage and cost (discounted and at synchronous prices)."""
    usage = Usage.from_dict(state.get("usage"))
    full = usage.cost(price)
    return {
        "state_file": f"{BATCH_DIR}/{STATE}",
        "batches": [{k: rec.get(k) for k in _RECORD_FIELDS} for rec in state["batches"]],
        "merged_files": state.get("merged_files", []),
        "usage": usage.as_dict(),
        "price_per_1m": None if price is None else vars(price),
        "price_multiplier": BATCH_MULTIPLIER,
        "cost_usd": None if full is None else full * BATCH_MULTIPLIER,
        "cost_usd_undiscounted": full,
    }


def _new_manifest(
    store: RunStore, rub: Rubric, identity: RunIdentity, state: dict[str, Any], status: str
) -> dict[str, Any]:
    cfg = state["config"]
    sections = LlmSections(
        endpoint=cfg["endpoint"],
        parameters={k: cfg[k] for k in _PARAMETERS},
        dialect=cfg["dialect"],
        dialect_forced=True,
    ).as_dict()
    return RunManifest(
        run_id=store.run_id,
        status=status,
        identity=identity,
        started=now(),
        rubric=rub,
        rater=rater_name(str(cfg["model"]), rub),
        rater_kind="model",
        model_requested=str(cfg["model"]),
        versions=llm_versions(),
        sections=sections,
    ).as_dict()


def update_manifest(
    store: RunStore,
    state: dict[str, Any],
    *,
    items_total: int | None,
    status: str | None,
    price: Price | None,
    new: tuple[Rubric, RunIdentity] | None = None,
    deidentified: bool | None = None,
) -> dict[str, Any]:
    """Update ``manifest.json`` keeping what a synchronous run wrote.

    A run without a manifest gets a new one for ``new`` (rubric and identity, at submission);
    ``deidentified`` (whether the corpus sent was) is recorded when given.
    """
    man = store.read_manifest() or {}
    if not man and new is not None:
        man = _new_manifest(store, *new, state, status or "batch_written")
    elif status is not None:
        man["status"] = status
    if items_total is not None:
        man["items_total"] = items_total
    man["counts"] = dict(store.counts)
    man["updated"] = now()
    if deidentified is not None:
        man["deidentified"] = deidentified
    man["batch"] = batch_section(state, price)
    man["versions"] = llm_versions()
    store.write_manifest(man)
    return man
