"""Build chat-completion request bodies from a rubric and an item (no I/O).

Kept apart from the transport so other backends (a local model, the Batch API) reuse exactly the
same bodies, hence the same cache keys and provenance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from annotation.items import Item
from annotation.prompt import reask_message, response_format, system_message
from annotation.rubric import Rubric

__all__ = ["RequestBuilder", "RequestParams"]


@dataclass(frozen=True)
class RequestParams:
    """Sampling and format parameters shared by every request of a run."""

    model: str
    temperature: float = 0.0
    seed: int | None = 1234
    max_tokens: int = 120
    max_tokens_field: str = "max_completion_tokens"
    logprobs: bool = False
    top_logprobs: int = 5


class RequestBuilder:
    """Render messages and request bodies for one rubric.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> b = RequestBuilder(load_rubric("mathdial-moves"), RequestParams(model="m"))
    >>> body = b.body(b.messages("Transcript ...", "json_schema"), "json_schema")
    >>> body["response_format"]["type"], body["temperature"], body["seed"]
    ('json_schema', 0.0, 1234)
    """

    def __init__(self, rubric: Rubric, params: RequestParams) -> None:
        self.rubric = rubric
        self.params = params
        self._system: dict[tuple[str, str | None], str] = {}
        self._formats: dict[str, dict[str, Any] | None] = {}

    def system(self, dialect: str, category: str | None = None) -> str:
        """The static system message (memoised)."""
        key = (dialect, category)
        if key not in self._system:
            self._system[key] = system_message(self.rubric, dialect, category)
        return self._system[key]

    def messages(
        self, text: str, dialect: str, category: str | None = None
    ) -> list[dict[str, str]]:
        """``[system, user]`` messages: static codebook first, the item last."""
        return [
            {"role": "system", "content": self.system(dialect, category)},
            {"role": "user", "content": text},
        ]

    def item_messages(self, item: Item, dialect: str) -> list[dict[str, str]]:
        """Messages for an :class:`~annotation.items.Item`."""
        return self.messages(item.text, dialect, item.category)

    def body(
        self, messages: list[dict[str, str]], dialect: str, *, n: int = 1, seed_offset: int = 0
    ) -> dict[str, Any]:
        """The request body (``n`` and ``logprobs`` only when used)."""
        p = self.params
        if dialect not in self._formats:
            self._formats[dialect] = response_format(self.rubric, dialect)
        body: dict[str, Any] = {
            "model": p.model,
            "messages": messages,
            "temperature": p.temperature,
            p.max_tokens_field: p.max_tokens,
        }
        if p.seed is not None:
            body["seed"] = p.seed + seed_offset
        fmt = self._formats[dialect]
        if fmt is not None:
            body["response_format"] = fmt
        if n > 1:
            body["n"] = n
        if p.logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = p.top_logprobs
        return body

    def reask(
        self, messages: list[dict[str, str]], raw: str | None, reason: str
    ) -> list[dict[str, str]]:
        """The conversation extended with the bad answer and a correction request."""
        return [
            *messages,
            {"role": "assistant", "content": raw or ""},
            {"role": "user", "content": reask_message(self.rubric, reason)},
        ]

    @staticmethod
    def prompt_sha256(messages: list[dict[str, str]]) -> str:
        """sha256 of the rendered messages (role and content)."""
        h = hashlib.sha256()
        for m in messages:
            h.update(m["role"].encode())
            h.update(b"\x1f")
            h.update(m["content"].encode("utf-8"))
            h.update(b"\x1e")
        return h.hexdigest()
