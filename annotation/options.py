"""The options of a run, as dataclasses: what decides the requests, and how a run is sent.

:class:`RequestOptions` holds the settings that decide the request bodies (so the run identity
and the cache keys); :class:`AnnotateOptions` adds how the synchronous engine sends them
(:func:`annotation.annotate`), :class:`annotation.batch.BatchOptions` how the Batch API does.
The Python functions still take these options as keyword arguments (``annotate(corpus, rubric,
model=..., concurrency=16)``); :func:`options_from` turns the keywords into the dataclass and
names an unknown option.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from annotation.engine import Progress
from annotation.prompt import DIALECTS
from annotation.requests import RequestParams
from annotation.rubric import Rubric
from annotation.transport import Transport
from toolkit.errors import InputError

__all__ = ["AnnotateOptions", "RequestOptions", "options_from"]

T = TypeVar("T")


@dataclass(frozen=True)
class RequestOptions:
    """Settings that decide the request bodies, shared by synchronous and Batch API runs.

    Attributes
    ----------
    out : path, optional
        Run directory (created or resumed).
    client, base_url, api_key
        The endpoint: a configured ``openai`` client, else one built from ``base_url`` /
        ``api_key`` or ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``.
    context_turns, limit, samples, temperature, seed, max_reasks, max_tokens, logprobs, dialect
        See ``edudial annotate --help``; ``temperature`` ``None`` is 0 (0.7 with samples > 1),
        ``max_tokens`` ``None`` the rubric's, ``dialect`` ``None`` detected.
    prices : path or dict, optional
        Price table override (USD per 1M tokens).
    force : bool
        Discard previous results in ``out`` made with other settings.
    require_deid : bool
        Refuse (send nothing) when the corpus is not de-identified and the endpoint is not on
        this machine (see :mod:`annotation.privacy`).
    on_warning : callable, optional
        Receives warnings meant for the user (default: :func:`warnings.warn`).
    """

    out: str | Path | None = None
    client: Any = None
    base_url: str | None = None
    api_key: str | None = None
    context_turns: int | None = None
    limit: int | None = None
    samples: int = 1
    temperature: float | None = None
    seed: int | None = 1234
    max_reasks: int = 2
    max_tokens: int | None = None
    logprobs: bool = False
    dialect: str | None = None
    prices: str | Path | dict[str, Any] | None = None
    force: bool = False
    require_deid: bool = False
    on_warning: Callable[[str], None] | None = None

    def _minimums(self) -> list[tuple[str, float | None, int]]:
        return [
            ("samples", self.samples, 1),
            ("max_reasks", self.max_reasks, 0),
            ("context_turns", self.context_turns, 0),
            ("limit", self.limit, 1),
        ]

    def check(self) -> None:
        """Raise :class:`InputError` naming the first option out of range."""
        for name, value, minimum in self._minimums():
            if value is not None and value < minimum:
                raise InputError(f"{name} must be >= {minimum}", field=name)
        if self.dialect is not None and self.dialect not in DIALECTS:
            raise InputError(
                f"unknown dialect {self.dialect!r}; choose one of {', '.join(DIALECTS)}",
                field="dialect",
            )

    @property
    def sampling_temperature(self) -> float:
        """The temperature sent: as given, else 0 (0.7 with several samples)."""
        if self.temperature is None:
            return 0.0 if self.samples == 1 else 0.7
        return float(self.temperature)

    def context_turns_for(self, rubric: Rubric) -> int:
        """Previous turns shown: as given, else the rubric's ``context.turns``."""
        return rubric.context.turns if self.context_turns is None else self.context_turns

    def request_params(self, model: str, rubric: Rubric) -> RequestParams:
        """The sampling and format parameters of every request of the run."""
        return RequestParams(
            model=model,
            temperature=self.sampling_temperature,
            seed=self.seed,
            max_tokens=self.max_tokens or rubric.output.max_tokens,
            logprobs=self.logprobs,
        )


@dataclass(frozen=True)
class AnnotateOptions(RequestOptions):
    """Options of :func:`annotation.annotate`: :class:`RequestOptions` plus how to send.

    Attributes
    ----------
    transport : Transport, optional
        Another backend (overrides ``client``).
    concurrency : int
        Requests in flight at most.
    max_cost : float, optional
        Stop before this invocation could spend more (USD; needs a price for the model).
    timeout, max_retries
        Per request.
    progress : Progress, optional
        A progress display.
    close_transport : bool, optional
        Close the transport's connections at the end (default: only when the run built it).
    backend_info : dict, optional
        JSON written to the manifest as ``backend`` (e.g. the local server build).
    pack : str, optional
        ``"dialogue"``: one request labels every target turn of a dialogue.
    """

    transport: Transport | None = None
    concurrency: int = 8
    max_cost: float | None = None
    timeout: float = 60.0
    max_retries: int = 6
    progress: Progress | None = None
    close_transport: bool | None = None
    backend_info: dict[str, Any] | None = None
    pack: str | None = None

    def _minimums(self) -> list[tuple[str, float | None, int]]:
        return [
            *super()._minimums(),
            ("concurrency", self.concurrency, 1),
            ("max_cost", self.max_cost, 0),
        ]


def options_from(cls: type[T], options: dict[str, Any]) -> T:
    """``cls(**options)``, with an :class:`InputError` naming an unknown option.

    Examples
    --------
    >>> options_from(AnnotateOptions, {"concurrency": 4}).concurrency
    4
    >>> options_from(AnnotateOptions, {"concurency": 4})
    Traceback (most recent call last):
    ...
    toolkit.errors.InputError: field 'concurency': unknown option; known: ...
    """
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"unknown option; known: {', '.join(sorted(known))}", field=unknown[0])
    return cls(**options)
