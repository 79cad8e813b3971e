"""What a run directory records about itself: identity, manifest and result, for every backend.

A run directory's manifest records where its labels came from. :class:`RunIdentity` is what
must match for a run directory to be resumed (:class:`~annotation.store.RunStore` compares it
field by field); :class:`RunManifest` is ``manifest.json``: the run header, identity, rubric
record, rater and versions that every backend writes the same way, then the backend's own
sections (endpoint and usage for LLM runs, pattern hits for the rules baseline, batch files).
The LLM engine (:mod:`annotation.run`), the rules baseline (:mod:`annotation.rules`) and Batch
API runs (:mod:`annotation.batch`) all build them here, so they describe a run identically.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from annotation.pricing import Usage
from annotation.prompt import PROMPT_TEMPLATE_SHA256
from annotation.requests import RequestParams
from annotation.rubric import Rubric

__all__ = [
    "LlmSections",
    "RunIdentity",
    "RunManifest",
    "RunResult",
    "llm_versions",
    "now",
    "rater_name",
    "rubric_record",
    "run_header",
    "versions",
]

KIND = "edudial-annotation-run"


def now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def rater_name(model: str, rubric: Rubric) -> str:
    """The ``rater`` of model labels: ``model@rubric_id@version``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> rater_name("gpt-4o-mini", load_rubric("mathdial-moves"))
    'gpt-4o-mini@mathdial-moves@1.0'
    """
    return f"{model}@{rubric.id}@{rubric.version}"


@dataclass(frozen=True)
class LLMIdentity:
    """The part of a run's identity that decides its requests (LLM backends)."""

    endpoint: str
    temperature: float
    seed: int | None
    samples: int
    context_turns: int
    max_reasks: int
    max_tokens: int
    logprobs: bool
    pack: str | None = None
    pack_template_sha256: str | None = None


@dataclass(frozen=True)
class RunIdentity:
    """What must match for a run directory to be resumed.

    Built by :meth:`for_llm` (synchronous, local and Batch API runs: the same fields, so the
    three can share a run directory) or :meth:`for_rules`; :meth:`as_dict` is what
    ``manifest.json`` stores under ``identity``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> from annotation.requests import RequestParams
    >>> rub = load_rubric("mathdial-moves")
    >>> ident = RunIdentity.for_llm(rub, RequestParams(model="m"), endpoint="http://x/v1",
    ...                             samples=1, context_turns=4, max_reasks=2)
    >>> ident.as_dict()["pack"], ident.as_dict()["endpoint"]
    (None, 'http://x/v1')
    >>> RunIdentity.for_rules(rub).as_dict()["backend"]
    'rules'
    """

    rubric_id: str
    rubric_version: str
    rubric_sha256: str
    model: str
    backend: str | None = None
    llm: LLMIdentity | None = None

    @classmethod
    def for_llm(
        cls,
        rubric: Rubric,
        params: RequestParams,
        *,
        endpoint: str,
        samples: int,
        context_turns: int,
        max_reasks: int,
        pack: str | None = None,
        pack_template_sha256: str | None = None,
    ) -> RunIdentity:
        """The identity of a run sending ``params`` to ``endpoint``."""
        llm = LLMIdentity(
            endpoint=endpoint,
            temperature=params.temperature,
            seed=params.seed,
            samples=samples,
            context_turns=context_turns,
            max_reasks=max_reasks,
            max_tokens=params.max_tokens,
            logprobs=params.logprobs,
            pack=pack,
            pack_template_sha256=pack_template_sha256 if pack is not None else None,
        )
        return cls(rubric.id, rubric.version, rubric.sha256, params.model, llm=llm)

    @classmethod
    def for_rules(cls, rubric: Rubric, backend: str = "rules") -> RunIdentity:
        """The identity of a rules-baseline run (rubric and backend only)."""
        return cls(rubric.id, rubric.version, rubric.sha256, backend, backend=backend)

    def as_dict(self) -> dict[str, Any]:
        """The JSON ``identity`` (field order as written since the first release)."""
        rubric = {
            "rubric_id": self.rubric_id,
            "rubric_version": self.rubric_version,
            "rubric_sha256": self.rubric_sha256,
        }
        if self.llm is None:
            return {"backend": self.backend, "model": self.model, **rubric}
        llm = self.llm
        out: dict[str, Any] = {
            **rubric,
            "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
            "model": self.model,
            "endpoint": llm.endpoint,
            "temperature": llm.temperature,
            "seed": llm.seed,
            "samples": llm.samples,
            "context_turns": llm.context_turns,
            "max_reasks": llm.max_reasks,
            "max_tokens": llm.max_tokens,
            "logprobs": llm.logprobs,
            "pack": llm.pack,
        }
        if llm.pack is not None:
            out["pack_template_sha256"] = llm.pack_template_sha256
        return out


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
    import toolkit

    return {
        "edudial": toolkit.__version__,
        **extra,
        "pandas": pd.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def llm_versions() -> dict[str, str]:
    """:func:`versions` with the ``openai`` package's version (LLM and Batch API runs)."""
    import openai

    return versions(openai=openai.__version__)


@dataclass
class LlmSections:
    """The manifest sections every LLM run writes: synchronous, packed, local or Batch API.

    A backend adds what only it knows (pack statistics, counts, cost, rate-limit pauses, the
    Batch API section) after these, so the shared fields are named and filled in one place.

    Attributes
    ----------
    endpoint : str
        The base URL without credentials or query.
    parameters : dict
        The run's settings (concurrency, context, samples, temperature, ...).
    dialect : str or None
        The output dialect used (``None`` before the first request).
    dialect_forced : bool
        Whether the user chose the dialect (else it was probed).
    models_served, dialects_used : dict
        Items per model name the endpoint reported, and per dialect.
    dialect_probe : list of dict
        What each dialect tried while probing answered.
    usage, usage_cumulative : Usage
        Tokens and requests of this invocation, and of every invocation on the directory.
    """

    endpoint: str
    parameters: dict[str, Any]
    dialect: str | None
    dialect_forced: bool
    models_served: dict[str, int] = field(default_factory=dict)
    dialect_probe: list[dict[str, str]] = field(default_factory=list)
    dialects_used: dict[str, int] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    usage_cumulative: Usage = field(default_factory=Usage)

    def as_dict(self) -> dict[str, Any]:
        """The sections as written to ``manifest.json``."""
        return {
            "prompt_template_sha256": PROMPT_TEMPLATE_SHA256,
            "models_served": dict(self.models_served),
            "endpoint": self.endpoint,
            "dialect": self.dialect,
            "dialect_forced": self.dialect_forced,
            "dialect_probe": list(self.dialect_probe),
            "dialects_used": dict(self.dialects_used),
            "parameters": self.parameters,
            "usage": self.usage.as_dict(),
            "usage_cumulative": self.usage_cumulative.as_dict(),
        }


@dataclass
class RunManifest:
    """``manifest.json`` of a run: the common part every backend writes, then its sections.

    Attributes
    ----------
    run_id, status : str
    identity : RunIdentity
    started : str
        When this invocation began (a resumed run keeps the first ``started`` of ``previous``).
    rubric : Rubric
    rater, rater_kind : str
    model_requested : str or None
    versions : dict
        Package versions (:func:`versions`).
    schemes : list of str, optional
        The schemes labelled (default: all of the rubric's).
    sections : dict
        The backend's own fields, written after the common ones.
    previous : dict, optional
        The manifest of an earlier invocation on the same run directory.
    """

    run_id: str
    status: str
    identity: RunIdentity
    started: str
    rubric: Rubric
    rater: str
    rater_kind: str
    model_requested: str | None
    versions: dict[str, str]
    schemes: list[str] | None = None
    sections: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object written to ``manifest.json``."""
        header = run_header(
            self.run_id,
            self.status,
            self.identity.as_dict(),
            started=self.started,
            previous=self.previous,
        )
        return {
            **header,
            "rubric": rubric_record(self.rubric, self.schemes),
            "rater": self.rater,
            "rater_kind": self.rater_kind,
            "model_requested": self.model_requested,
            **self.sections,
            "versions": self.versions,
        }


@dataclass
class RunResult:
    """Outcome of :func:`annotation.annotate` (and of the local and rules backends).

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
