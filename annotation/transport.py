"""The transport: send one chat-completions request to an OpenAI-compatible endpoint.

:class:`OpenAITransport` wraps ``openai.AsyncOpenAI`` with the SDK's own retries switched off and
replaced by a loop that shares one :class:`Gate` between all workers: when any request gets a 429,
every worker pauses for the server's Retry-After. 5xx answers, timeouts and dropped connections are
retried with capped exponential backoff; a refused connection before the endpoint ever answered (a
wrong port, a server not started) stops at once. Authentication, permission, unknown-model and
quota errors (``insufficient_quota``, Retry-After > 120 s) raise :class:`FatalError`, which stops a
run. A server that rejects the ``response_format`` (HTTP 400/422, or 500 like llama-cpp-python)
raises :class:`DialectRejected` so the engine can fall back to the next dialect.

Another backend (a local model, the Batch API) only has to provide ``endpoint`` and
``async complete(body) -> Reply``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from toolkit.errors import EdudialError

__all__ = [
    "DialectRejected",
    "FatalError",
    "Gate",
    "ItemFailure",
    "OpenAITransport",
    "Reply",
    "Transport",
    "connection_refused",
    "endpoint_id",
    "retry_after_seconds",
]

#: Longest Retry-After honoured; a longer wait means "stop and resume later" (as in the SDK).
MAX_RETRY_AFTER = 120.0

_FORMAT_WORDS = re.compile(
    r"response_format|json_schema|json_object|Input should be 'text'", re.IGNORECASE
)


class FatalError(EdudialError):
    """An error that stops the whole run (bad key, no quota, unknown model, long rate limit)."""


class ItemFailure(Exception):
    """A request that failed for good (after retries); the item is recorded with status error."""

    def __init__(self, kind: str, message: str, retries: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retries = retries


class DialectRejected(Exception):
    """The endpoint does not accept this ``response_format``."""


@dataclass
class Reply:
    """A successful response: the parsed body, its raw text and request metadata."""

    data: dict[str, Any]
    text: str
    request_id: str | None = None
    latency_s: float = 0.0
    retries: int = 0
    from_cache: bool = False


class Transport(Protocol):
    """What the engine needs from a backend."""

    endpoint: str

    async def complete(self, body: dict[str, Any]) -> Reply:
        """Send ``body`` (a chat-completions request) and return the reply."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def _response_class() -> Any:
    """The HTTP response class the ``openai`` client returns for ``cast_to`` (httpx2 in 3.x)."""
    try:
        import httpx2

        return httpx2.Response
    except ImportError:  # pragma: no cover - openai < 3 used httpx
        import httpx

        return httpx.Response


def endpoint_id(base_url: str) -> str:
    """The base URL without credentials, query or fragment (safe to store).

    Examples
    --------
    >>> endpoint_id("https://user:secret@api.example.com/v1/?key=abc")
    'https://api.example.com/v1'
    """
    parts = urlsplit(str(base_url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if ra is None:
        return None
    try:
        return max(float(ra), 0.0)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(ra)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - time.time(), 0.0)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def _reset_seconds(text: str | None) -> float | None:
    """Parse OpenAI's ``x-ratelimit-reset-*`` values such as ``6m0s``, ``1s``, ``20ms``."""
    if not text:
        return None
    total, found = 0.0, False
    for num, unit in _DURATION.findall(text):
        found = True
        total += float(num) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    return total if found else None


@dataclass
class Gate:
    """A shared pause: when one worker is rate limited, every worker waits until ``until``."""

    until: float = 0.0
    pauses: int = 0
    paused_s: float = 0.0
    _clock: Any = field(default=time.monotonic, repr=False)

    def pause(self, seconds: float) -> None:
        """Hold every worker for ``seconds`` from now (extends, never shortens, a pause)."""
        target = self._clock() + seconds
        if target > self.until:
            self.paused_s += target - max(self.until, self._clock())
            self.until = target
            self.pauses += 1

    async def wait(self) -> None:
        """Return once no pause is active."""
        while (delay := self.until - self._clock()) > 0:
            await asyncio.sleep(delay)


def connection_refused(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a refused TCP connection (nothing listens at the address).

    Follows the chain the HTTP client builds (``APIConnectionError`` <- ``ConnectError`` <-
    ``OSError("All connection attempts failed")`` <- ``ConnectionRefusedError``), exception
    groups included.

    >>> try:
    ...     raise OSError("All connection attempts failed") from ConnectionRefusedError(111, "no")
    ... except OSError as exc:
    ...     connection_refused(exc)
    True
    >>> connection_refused(TimeoutError("slow"))
    False
    """
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        todo.extend(getattr(current, "exceptions", ()))  # ExceptionGroup
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _error_info(exc: Any) -> tuple[str | None, str]:
    body = getattr(exc, "body", None)
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            code = code or err.get("code") or err.get("type")
            message = str(err.get("message") or message)
    return (str(code) if code else None), message


class OpenAITransport:
    """Chat completions through ``openai.AsyncOpenAI`` with a shared rate-limit gate.

    Parameters
    ----------
    client : openai.AsyncOpenAI, optional
        A configured client (its own retries are disabled here). Built from ``base_url`` /
        ``api_key`` / ``timeout`` (and ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``) when omitted.
    max_retries : int
        Retries of one request after 429, 5xx, timeouts and connection errors.
    backoff : float
        First backoff delay in seconds (doubled per retry, capped at ``backoff_cap``).

    Examples
    --------
    >>> t = OpenAITransport(base_url="http://127.0.0.1:9/v1", api_key="sk-test")
    >>> t.endpoint
    'http://127.0.0.1:9/v1'
    """

    def __init__(
        self,
        client: Any = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        gate: Gate | None = None,
    ) -> None:
        import openai

        self._openai = openai
        self._response_cls = _response_class()
        self._owns_client = client is None
        self._timeout = timeout
        if client is None:
            import os

            key = api_key or os.environ.get("OPENAI_API_KEY")
            url = base_url or os.environ.get("OPENAI_BASE_URL")
            if not key:
                if url is None:
                    raise FatalError(
                        "no API key: set OPENAI_API_KEY (for a local server any value works, "
                        "e.g. OPENAI_API_KEY=sk-local with --base-url)"
                    )
                key = "sk-local"
            self._key, self._url = key, url
            client = self._new_client()
        else:
            client = client.with_options(max_retries=0)
        self._client: Any = client
        self._closed = False
        self.endpoint = endpoint_id(str(client.base_url))
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.gate = gate or Gate()
        self.requests_sent = 0
        self._answered = False  # whether the endpoint has sent any HTTP response yet

    def _new_client(self) -> Any:
        return self._openai.AsyncOpenAI(
            api_key=self._key, base_url=self._url, timeout=self._timeout, max_retries=0
        )

    def _delay(self, attempt: int) -> float:
        base = min(self.backoff * 2**attempt, self.backoff_cap)
        return base * (1 - 0.25 * random.random())

    async def complete(self, body: dict[str, Any]) -> Reply:
        """Send one request; retry transient failures; raise on fatal ones."""
        retries = 0
        if self._closed and self._owns_client:
            self._client, self._closed = self._new_client(), False
        while True:
            await self.gate.wait()
            outcome = await self._attempt(body, retries)
            if isinstance(outcome, Reply):
                return outcome
            if outcome > 0:  # after a 429 the gate holds every worker instead
                await asyncio.sleep(outcome)
            retries += 1

    async def _attempt(self, body: dict[str, Any], retries: int) -> Reply | float:
        """One try: the reply, or the delay before the next try (errors that end it raise)."""
        oa = self._openai
        start = time.monotonic()
        self.requests_sent += 1
        try:
            # The client's low-level POST: the same retries-off client, auth, headers and error
            # classes as ``chat.completions.create``, but the body is sent exactly as built (no
            # TypedDict transform) and the reply is not parsed into pydantic models, which saves
            # about 0.7 ms of CPU per request. Unknown keys (e.g. llama.cpp's ``schema``) pass.
            raw = await self._client.post(
                "/chat/completions", body=body, cast_to=self._response_cls
            )
        except oa.RateLimitError as exc:
            self._answered = True
            return self._rate_limited(exc, retries)
        except (oa.AuthenticationError, oa.PermissionDeniedError) as exc:
            _, message = _error_info(exc)
            raise FatalError(
                f"the endpoint refused the API key (HTTP {exc.status_code}: {message}); "
                "check OPENAI_API_KEY and --base-url"
            ) from None
        except oa.NotFoundError as exc:
            _, message = _error_info(exc)
            raise FatalError(
                f"HTTP 404 from {self.endpoint} ({message}): check --model and --base-url"
            ) from None
        except oa.APIStatusError as exc:
            self._answered = True
            return self._status_error(exc, body, retries)
        except oa.APITimeoutError:
            return self._retry_or(ItemFailure("timeout", "the request timed out", retries), retries)
        except oa.APIConnectionError as exc:
            if not self._answered and connection_refused(exc):
                # Nothing listens there (a wrong port, a server not started): retrying cannot
                # help, so say so at once. Once the endpoint has answered, a refusal is a
                # restarting server and is retried like any dropped connection.
                raise FatalError(
                    f"cannot reach {self.endpoint}: connection refused (nothing is listening "
                    "there); check --base-url / OPENAI_BASE_URL and that the server is running"
                ) from None
            down = FatalError(f"cannot reach {self.endpoint} ({exc}); is the server running?")
            return self._retry_or(down, retries)
        self._answered = True
        return self._reply(raw, time.monotonic() - start, retries)

    def _retry_or(self, error: Exception, retries: int) -> float:
        """The backoff before the next try, or ``error`` when the retries are used up."""
        if retries >= self.max_retries:
            raise error from None
        return self._delay(retries)

    def _reply(self, raw: Any, latency: float, retries: int) -> Reply | float:
        text = raw.text
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            bad = ItemFailure("bad_response", "the server sent a malformed response", retries)
            return self._retry_or(bad, retries)
        self._watch_limits(raw.headers)
        return Reply(data, text, raw.headers.get("x-request-id"), latency, retries)

    def _rate_limited(self, exc: Any, retries: int) -> float:
        """A 429: stop the run (no quota, long Retry-After) or pause every worker."""
        code, message = _error_info(exc)
        if code == "insufficient_quota":
            raise FatalError(
                "the API reports insufficient quota (insufficient_quota): add credit or "
                "use another key; finished items are kept, rerun the same command later"
            ) from None
        wait = retry_after_seconds(exc.response.headers)
        if wait is not None and wait > MAX_RETRY_AFTER:
            raise FatalError(
                f"rate limited with Retry-After {wait:.0f} s (> {MAX_RETRY_AFTER:.0f} s): "
                "stopping; finished items are kept, rerun the same command later"
            ) from None
        self.gate.pause(wait if wait is not None else self._delay(retries))
        if retries >= self.max_retries:
            raise ItemFailure("rate_limited", message, retries) from None
        return 0.0

    def _status_error(self, exc: Any, body: dict[str, Any], retries: int) -> float:
        """Another HTTP error: a rejected dialect, an item error, or a retry (5xx, 408, 409)."""
        _, message = _error_info(exc)
        status = exc.status_code
        rejected = "response_format" in body and _FORMAT_WORDS.search(message)
        if rejected and (status in (400, 422) or status >= 500):
            raise DialectRejected(message) from None
        failure = ItemFailure(f"http_{status}", message, retries)
        no_retry = exc.response.headers.get("x-should-retry") == "false"
        if status in (400, 422) or no_retry or (status < 500 and status not in (408, 409)):
            raise failure from None
        return self._retry_or(failure, retries)

    def _watch_limits(self, headers: Any) -> None:
        """Pause everyone when the server says no requests or tokens are left."""
        for kind in ("requests", "tokens"):
            left = headers.get(f"x-ratelimit-remaining-{kind}")
            if left is not None and left.strip() == "0":
                reset = _reset_seconds(headers.get(f"x-ratelimit-reset-{kind}"))
                if reset is not None and 0 < reset <= MAX_RETRY_AFTER:
                    self.gate.pause(reset)

    async def aclose(self) -> None:
        """Close the connections (a transport built from settings reconnects when used again)."""
        if not self._closed:
            self._closed = True
            await self._client.close()
