"""Prices per model and cost accounting; an offline token estimate for dry runs.

Prices are USD per 1M tokens: ``input``, ``cached_input`` (prompt tokens served from the
provider's prefix cache) and ``output``. The built-in table is a convenience snapshot of OpenAI's
public list prices and may be out of date: pass your own table (``--prices FILE``, YAML or JSON
``{model: {input: .., cached_input: .., output: ..}}``) for numbers you report. A model missing
from the table costs ``None`` (unknown), which ``--max-cost`` refuses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import InputError

__all__ = [
    "BATCH_MULTIPLIER",
    "DEFAULT_PRICES",
    "ROW_USAGE",
    "Price",
    "Usage",
    "estimate_tokens",
    "format_cost",
    "load_prices",
    "price_for",
]

#: USD per 1M tokens (snapshot of public list prices; verify before reporting costs).
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o": {"input": 2.50, "cached_input": 1.25, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    "gpt-4.1": {"input": 2.00, "cached_input": 0.50, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "cached_input": 0.025, "output": 0.40},
    "gpt-5": {"input": 1.25, "cached_input": 0.125, "output": 10.00},
    "gpt-5-mini": {"input": 0.25, "cached_input": 0.025, "output": 2.00},
    "gpt-5-nano": {"input": 0.05, "cached_input": 0.005, "output": 0.40},
}

#: OpenAI Batch API price factor: 50 % of synchronous input and output token prices.
BATCH_MULTIPLIER = 0.5

#: Heuristic characters per token for offline estimates (no tokenizer download).
CHARS_PER_TOKEN = 4.0


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input: float
    cached_input: float
    output: float

    def cost(self, prompt: int, cached: int, completion: int) -> float:
        """Cost of token counts (``cached`` is the part of ``prompt`` billed at the cached rate)."""
        fresh = max(prompt - cached, 0)
        return (fresh * self.input + cached * self.cached_input + completion * self.output) / 1e6


def load_prices(source: str | os.PathLike[str] | dict[str, Any] | None = None) -> dict[str, Price]:
    """The built-in price table, updated with a user's file or mapping."""
    table: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_PRICES.items()}
    where: str | None = None
    if isinstance(source, dict):
        extra: Any = source
    elif source is not None:
        where = str(source)
        p = Path(source)
        if not p.is_file():
            raise InputError("price file not found", path=p)
        try:
            extra = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML/JSON ({exc})", path=p) from None
    else:
        extra = {}
    if not isinstance(extra, dict):
        raise InputError("a price table maps model -> {input, cached_input, output}", path=where)
    out: dict[str, Price] = {}
    for model, entry in {**table, **extra}.items():
        if not isinstance(entry, dict):
            raise InputError("expected {input, cached_input, output}", path=where, field=str(model))
        try:
            inp = float(entry["input"])
            outp = float(entry["output"])
            cached = float(entry.get("cached_input", inp))
        except (KeyError, TypeError, ValueError):
            raise InputError(
                "needs numbers 'input' and 'output' (USD per 1M tokens)",
                path=where,
                field=str(model),
            ) from None
        if min(inp, outp, cached) < 0:
            raise InputError("prices must be >= 0", path=where, field=str(model))
        out[str(model)] = Price(inp, cached, outp)
    return out


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """Price of ``model``: exact name, else the longest table name it starts with (dated ids)."""
    if model in prices:
        return prices[model]
    best = max((m for m in prices if model.startswith(m + "-")), key=len, default=None)
    return prices[best] if best else None


def estimate_tokens(text: str) -> int:
    """Heuristic token count (~4 characters per token); flagged as an estimate where shown."""
    return max(1, round(len(text) / CHARS_PER_TOKEN))


#: The per-row usage written in ``meta.usage`` of annotation rows, in this order.
ROW_USAGE = (
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "requests",
    "cache_hits",
    "reasks",
    "retries",
)


@dataclass
class Usage:
    """Token and request counters (billed requests, re-asks and cache hits counted separately).

    Examples
    --------
    >>> u = Usage.from_dict({"requests": 2, "prompt_tokens": 10, "unknown": 1})
    >>> u.requests, u.prompt_tokens, u.row_dict()["requests"]
    (2, 10, 2)
    """

    requests: int = 0
    cache_hits: int = 0
    reasks: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> Usage:
        """A counter from its JSON form (:meth:`as_dict`); unknown keys and non-integers are
        ignored, ``None`` gives zeros."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict):
            return cls()
        return cls(**{k: v for k, v in data.items() if k in names and isinstance(v, int)})

    def add_response(self, usage: dict[str, Any] | None) -> None:
        """Add the ``usage`` object of one billed response."""
        if not usage:
            return
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        ptd = usage.get("prompt_tokens_details") or {}
        ctd = usage.get("completion_tokens_details") or {}
        self.cached_tokens += int(ptd.get("cached_tokens") or 0)
        self.reasoning_tokens += int(ctd.get("reasoning_tokens") or 0)

    def merge(self, other: Usage) -> None:
        """Add another counter into this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def cost(self, price: Price | None) -> float | None:
        """Cost in USD (``None`` when the price is unknown)."""
        if price is None:
            return None
        return price.cost(self.prompt_tokens, self.cached_tokens, self.completion_tokens)

    def as_dict(self) -> dict[str, int]:
        """Plain dict for JSON (every counter)."""
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}

    def row_dict(self) -> dict[str, int]:
        """The counters an annotation row records (``meta.usage``, :data:`ROW_USAGE`)."""
        return {name: int(getattr(self, name)) for name in ROW_USAGE}


def format_cost(value: float | None) -> str:
    """A cost for people: ``$0.0123``, or why it is unknown.

    Examples
    --------
    >>> format_cost(0.01234), format_cost(None)
    ('$0.0123', 'unknown (model not in price table)')
    """
    return "unknown (model not in price table)" if value is None else f"${value:.4f}"
