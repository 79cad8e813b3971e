"""The parts of a run's ``manifest.json`` that every backend writes the same way.

A run directory's manifest records where its labels came from. The LLM engine
(:mod:`annotation.engine`), the rules baseline (:mod:`annotation.rules`) and Batch API runs
(:mod:`annotation.batch`) each add their own fields (endpoint and usage, pattern hits, batch
files); the run header, the rubric record and the software versions come from here, so the
three kinds of run describe a rubric and a run identically.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Iterable
from typing import Any

from annotation.rubric import Rubric

__all__ = ["now", "rubric_record", "run_header", "versions"]

KIND = "edudial-annotation-run"


def now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def rubric_record(rubric: Rubric, schemes: Iterable[str] | None = None) -> dict[str, Any]:
    """The rubric as the manifest records it: id, version, hash, mode, unit, schemes, orders.

    ``schemes`` restricts the record to the schemes the run labels (the rules baseline abstains
    on schemes without patterns); by default all of the rubric's schemes.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> record = rubric_record(load_rubric("mathdial-moves"))
    >>> record["id"], record["schemes"]
    ('mathdial-moves', ['mathdial/move'])
    """
    labelled = list(rubric.schemes if schemes is None else schemes)
    return {
        "id": rubric.id,
        "version": rubric.version,
        "sha256": rubric.sha256,
        "mode": rubric.mode,
        "unit": rubric.unit,
        "schemes": labelled,
        "category_order": rubric.category_order,
        "category_orders": {s: o for s, o in rubric.category_orders.items() if s in labelled},
        "ordered": rubric.ordered,
    }


def run_header(
    run_id: str,
    status: str,
    identity: dict[str, Any],
    *,
    started: str,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The first fields of every manifest.

    ``started`` is when this invocation began; a resumed run keeps the ``started`` of its
    ``previous`` manifest and records this invocation as ``invocation_started``.
    """
    return {
        "run_id": run_id,
        "status": status,
        "kind": KIND,
        "started": (previous or {}).get("started", started),
        "invocation_started": started,
        "updated": now(),
        "identity": identity,
    }


def versions(**extra: str) -> dict[str, str]:
    """Versions of edudial, pandas and Python, the platform, and ``extra`` (e.g. ``openai``)."""
    import pandas as pd

    import toolkit

    return {
        "edudial": toolkit.__version__,
        **extra,
        "pandas": pd.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
