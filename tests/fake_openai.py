"""A fake OpenAI-compatible HTTP server for tests and benchmarks (stdlib asyncio only).

It speaks HTTP/1.1 with keep-alive on 127.0.0.1 and implements ``GET /v1/models`` and
``POST /v1/chat/completions`` with real response bodies (usage with deterministic token counts:
words and punctuation marks), scriptable labels, faults, capability switches, a request journal
and the peak number of requests in flight. Routes are a table (:meth:`FakeOpenAI.route`), so
``/v1/files`` and ``/v1/batches`` can be added without touching the HTTP layer.

In a test::

    server = FakeOpenAI(latency=0.01).start()      # background thread with its own event loop
    server.add_rule(r"why", "probing")             # regex on the item (first user message)
    server.add_fault("429", times=2, retry_after_ms=20)
    ... AsyncOpenAI(base_url=server.url, api_key="sk-test") ...
    server.journal, server.peak_in_flight
    server.stop()

As a process (benchmarks, CLI tests): ``python tests/fake_openai.py --port 0 --latency 0.05``
prints ``PORT <n>`` and serves until killed; ``GET /_stats`` returns the counters and
``POST /_control`` (JSON: ``rules``, ``faults``, ``latency``, ``reset``) reconfigures it.

Label choice: the first rule whose regex matches (``where="item"``: the first user message, i.e.
the item, also on re-asks; ``"all"``: every message) gives the label (``labels=[...]`` rotates by
``seed + choice index``); otherwise the enum of the answer schema (from ``response_format`` or,
for prompt-only requests, an ``"enum": [...]`` in the messages) indexed by
``crc32(item) % len(enum)``. A fault's ``match`` regex is tried on all messages.

Faults (``add_fault(kind, times=1, match=None, **params)``): ``429`` (``retry_after``,
``retry_after_ms``), ``quota`` (429 insufficient_quota), ``500``/``502``/``503``,
``500_noretry`` (``x-should-retry: false``), ``400``, ``401``, ``404``, ``hang``
(``seconds``), ``drop`` (close the connection), and bad outputs ``invalid_json``,
``out_of_set``, ``length`` (truncated JSON, finish_reason length), ``refusal``, ``empty``.

Batch API: ``POST /v1/files`` (multipart ``purpose`` + ``file``), ``GET /v1/files/{id}``,
``GET /v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}`` (each poll
advances ``validating -> in_progress -> completed``; the results are computed on completion with
the same logic as the synchronous route, chat faults included, but not counted in ``requests`` or
the journal), ``POST /v1/batches/{id}/cancel``. Output lines are shuffled
(``batch_shuffle_seed``); ``batch_fail`` (set of custom_ids or a regex string) sends lines to the
error file (``batch_fail_mode``: ``"error"`` sets ``error``, ``"status"`` a 500 response);
``batch_final`` (``completed``, ``expired``, ``failed``) chooses how batches end (an expired
(or cancelled) batch delivers only its first ``batch_expire_after`` lines). ``batches``,
``files`` and ``batch_requests`` are inspectable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FakeOpenAI", "Fault", "Request", "Response", "count_tokens"]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECES = re.compile(r"\w+|\s+|[^\w\s]")
_ENUM = re.compile(r'"enum"\s*:\s*(\[[^\]]*\])')
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def count_tokens(text: str) -> int:
    """Deterministic token count: words plus punctuation marks."""
    return len(_TOKEN.findall(text))


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass
class Fault:
    kind: str
    times: int | None = 1
    match: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rule:
    pattern: re.Pattern[str]
    labels: list[str]
    where: str = "item"


Handler = Callable[[Request], Awaitable[Response]]


def _error(
    status: int, message: str, code: str | None, type_: str = "invalid_request_error"
) -> Response:
    return Response(
        status, {"error": {"message": message, "type": type_, "param": None, "code": code}}
    )


class FakeOpenAI:
    """The fake server. See the module docstring."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        api_key: str | None = None,
        reject_json_schema: bool = False,
        reject_response_format: bool = False,
        ignore_n: bool = False,
        label_logprob: float = math.log(0.8),
        journal_bodies: bool = True,
        keep_journal: bool = True,
        served_model: str | None = None,
    ) -> None:
        self.latency = latency
        self.api_key = api_key
        self.reject_json_schema = reject_json_schema
        self.reject_response_format = reject_response_format
        self.ignore_n = ignore_n
        self.label_logprob = label_logprob
        self.journal_bodies = journal_bodies
        self.keep_journal = keep_journal
        self.served_model = served_model
        self.rules: list[Rule] = []
        self.faults: list[Fault] = []
        self.journal: list[dict[str, Any]] = []
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.connections = 0
        self.port = 0
        self._ids = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self.route("GET", r"/v1/models")(self._models)
        self.route("POST", r"/v1/chat/completions")(self._chat)
        self.route("GET", r"/_stats")(self._stats)
        self.route("POST", r"/_control")(self._control)
        self._batch_setup()

    # ------------------------------------------------------------ scripting
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register ``async handler(Request) -> Response`` for ``method`` and a path regex."""

        def deco(fn: Handler) -> Handler:
            self._routes.append((method, re.compile(pattern + r"$"), fn))
            return fn

        return deco

    def add_rule(self, pattern: str, label: str | list[str], where: str = "item") -> None:
        """Answer ``label`` when ``pattern`` matches (a list rotates by seed + choice index)."""
        labels = [label] if isinstance(label, str) else list(label)
        self.rules.append(Rule(re.compile(pattern, re.IGNORECASE | re.DOTALL), labels, where))

    def add_fault(
        self, kind: str, times: int | None = 1, match: str | None = None, **params: Any
    ) -> None:
        """Inject a fault for the next ``times`` matching requests (``None``: always)."""
        self.faults.append(Fault(kind, times, match, params))

    def reset(self) -> None:
        """Forget the journal and counters (rules and faults stay)."""
        self.journal.clear()
        self.requests = 0
        self.peak_in_flight = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_bodies(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completions requests received, in arrival order."""
        return [e["body"] for e in self.journal if e["path"] == "/v1/chat/completions"]

    # ------------------------------------------------------------ lifecycle
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._conn, host, port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> FakeOpenAI:
        """Serve from a background thread; returns once the port is bound."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self.serve())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-openai")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- HTTP
    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await self._read_chunked(reader)
                else:
                    length = int(headers.get("content-length", "0") or 0)
                    body = await reader.readexactly(length) if length else b""
                req = Request(method, target.split("?", 1)[0], headers, body)
                resp = await self._dispatch(req)
                if resp.drop:
                    writer.close()
                    return
                payload = (
                    resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
                )
                self._ids += 1
                hdrs = {
                    "content-type": "application/json",
                    "content-length": str(len(payload)),
                    "x-request-id": f"req_fake_{self._ids}",
                    **resp.headers,
                }
                out = f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'X')}\r\n"
                out += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
                writer.write(out.encode("latin-1") + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def _dispatch(self, req: Request) -> Response:
        for method, pattern, handler in self._routes:
            if method == req.method and pattern.match(req.path):
                return await handler(req)
        return _error(404, f"no route {req.method} {req.path}", "not_found")

    # --------------------------------------------------------------- routes
    async def _models(self, req: Request) -> Response:
        model = self.served_model or "fake-model"
        return Response(
            200,
            {
                "object": "list",
                "data": [{"id": model, "object": "model", "created": 0, "owned_by": "fake"}],
            },
        )

    async def _stats(self, req: Request) -> Response:
        return Response(
            200,
            {
                "requests": self.requests,
                "peak_in_flight": self.peak_in_flight,
                "in_flight": self.in_flight,
                "connections": self.connections,
            },
        )

    async def _control(self, req: Request) -> Response:
        cfg = req.json()
        if cfg.get("reset"):
            self.reset()
        if "latency" in cfg:
            self.latency = float(cfg["latency"])
        for r in cfg.get("rules", []):
            self.add_rule(r["pattern"], r["label"], r.get("where", "item"))
        for f in cfg.get("faults", []):
            f = dict(f)
            self.add_fault(f.pop("kind"), f.pop("times", 1), f.pop("match", None), **f)
        for key in ("reject_json_schema", "reject_response_format", "ignore_n"):
            if key in cfg:
                setattr(self, key, bool(cfg[key]))
        return Response(200, {"ok": True})

    def _take_fault(self, text: str) -> Fault | None:
        for f in self.faults:
            if f.times is not None and f.times <= 0:
                continue
            if f.match is not None and not re.search(f.match, text, re.IGNORECASE | re.DOTALL):
                continue
            if f.times is not None:
                f.times -= 1
            return f
        return None

    async def _chat(self, req: Request) -> Response:
        self.requests += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            body = req.json()
            entry: dict[str, Any] = {
                "path": req.path,
                "headers": dict(req.headers),
                "time": time.monotonic(),
            }
            if self.journal_bodies:
                entry["body"] = body
            if self.keep_journal:
                self.journal.append(entry)
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._chat_response(req, body)
        finally:
            self.in_flight -= 1

    @staticmethod
    def _http_fault(kind: str | None, p: dict[str, Any]) -> Response | None:
        """The error response of an HTTP fault, if ``kind`` is one."""
        if kind == "429":
            r = _error(429, "Rate limit reached for requests", "rate_limit_exceeded", "requests")
            for param, header in (
                ("retry_after_ms", "retry-after-ms"),
                ("retry_after", "retry-after"),
            ):
                if param in p:
                    r.headers[header] = str(p[param])
            return r
        if kind == "500_noretry":
            r = _error(500, "The server had an error", None, "server_error")
            r.headers["x-should-retry"] = "false"
            return r
        fixed = {
            "quota": (
                429,
                "You exceeded your current quota.",
                "insufficient_quota",
                "insufficient_quota",
            ),
            "500": (500, "The server had an error", None, "server_error"),
            "502": (502, "The server had an error", None, "server_error"),
            "503": (503, "The server had an error", None, "server_error"),
            "400": (400, str(p.get("message", "Bad request")), None, "invalid_request_error"),
            "401": (401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error"),
            "404": (404, "The model does not exist", "model_not_found", "invalid_request_error"),
        }
        if kind in fixed:
            return _error(*fixed[kind])
        return None

    async def _fault_response(self, kind: str | None, p: dict[str, Any]) -> Response | None:
        """The response a fault replaces the answer with (``None``: answer, maybe late)."""
        if kind == "hang":
            await asyncio.sleep(float(p.get("seconds", 30)))
        if kind == "drop":
            return Response(drop=True)
        return self._http_fault(kind, p)

    async def _chat_response(self, req: Request, body: dict[str, Any]) -> Response:
        if self.api_key is not None and req.headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        messages = body.get("messages") or []
        first_user = next(
            (str(m.get("content") or "") for m in messages if m.get("role") == "user"), ""
        )
        everything = "\n".join(str(m.get("content") or "") for m in messages)
        fault = self._take_fault(everything)
        kind = fault.kind if fault else None
        p = fault.params if fault else {}
        faulty = await self._fault_response(kind, p)
        if faulty is not None:
            return faulty
        fmt = body.get("response_format")
        if fmt is not None and self.reject_response_format:
            return _error(400, "response_format is not supported", None)
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and self.reject_json_schema:
            return _error(
                500,
                "1 validation error: response_format.type Input should be 'text' or 'json_object'",
                None,
                "server_error",
            )
        schema = self._schema(fmt, everything)
        n = 1 if self.ignore_n else max(1, int(body.get("n") or 1))
        seed = int(body.get("seed") or 0)
        choices = []
        completion = 0
        for i in range(n):
            content, finish, refusal = self._content(kind, schema, first_user, everything, seed + i)
            completion += count_tokens(content or refusal or "")
            choice: dict[str, Any] = {
                "index": i,
                "finish_reason": finish,
                "logprobs": None,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
            if body.get("logprobs") and content:
                choice["logprobs"] = {
                    "content": self._logprobs(content, int(body.get("top_logprobs") or 0))
                }
            choices.append(choice)
        prompt = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        return Response(
            200,
            {
                "id": f"chatcmpl-{self.requests}",
                "object": "chat.completion",
                "created": 1700000000,
                "model": self.served_model or body.get("model"),
                "system_fingerprint": "fp_fake",
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                    "prompt_tokens_details": {"cached_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0},
                },
            },
        )

    @staticmethod
    def _schema(fmt: Any, text: str) -> dict[str, Any]:
        if isinstance(fmt, dict):
            if fmt.get("type") == "json_schema":
                return dict((fmt.get("json_schema") or {}).get("schema") or {})
            if isinstance(fmt.get("schema"), dict):
                return dict(fmt["schema"])
        m = _ENUM.search(text)
        props: dict[str, Any] = {
            "label": {"type": "string", "enum": json.loads(m.group(1)) if m else []},
            "rationale": {"type": "string"},
        }
        return {"properties": props}

    def _content(
        self, kind: str | None, schema: dict[str, Any], item: str, everything: str, rot: int
    ) -> tuple[str | None, str, str | None]:
        if kind == "invalid_json":
            return "Sure! The label is {label: maybe", "stop", None
        if kind == "refusal":
            return None, "stop", "I'm sorry, I can't help with that."
        if kind == "empty":
            return "", "stop", None
        props = schema.get("properties") or {}
        if "answers" in props:
            return self._pack_content(kind, props, item, rot), "stop", None
        multi = "labels" in props
        enum = (
            list(((props.get("labels") or {}).get("items") or {}).get("enum") or [])
            if multi
            else list((props.get("label") or {}).get("enum") or [])
        )
        label = None
        for rule in self.rules:
            target = item if rule.where == "item" else everything
            if rule.pattern.search(target):
                label = rule.labels[rot % len(rule.labels)]
                break
        if label is None:
            label = enum[zlib.crc32(item.encode()) % len(enum)] if enum else "unknown"
        if kind == "out_of_set":
            label = "not-a-real-label"
        answer: dict[str, Any] = {"labels": [label]} if multi else {"label": label}
        dims = {
            k: v["enum"]
            for k, v in props.items()
            if k not in ("label", "labels", "rationale")
            and isinstance(v, dict)
            and isinstance(v.get("enum"), list)
            and v["enum"]
        }
        if dims:  # a "dimensions" rubric: one enum field per dimension, no "label"
            answer = {
                k: (
                    "not-a-real-level"
                    if kind == "out_of_set"
                    else e[zlib.crc32((item + k).encode()) % len(e)]
                )
                for k, e in dims.items()
            }
        if "rationale" in props:
            answer["rationale"] = "Fake rationale."
        content = json.dumps(answer)
        if kind == "length":
            return content[: max(3, len(content) // 2)], "length", None
        return content, "stop", None

    def _pack_content(self, kind: str | None, props: dict[str, Any], item: str, rot: int) -> str:
        """A dialogue-packed answer: one entry per ``>>> (n)`` target, labelled as per-turn.

        Each target line is turned back into its per-turn form (``>>> [role] text``) so the
        same rules apply. Faults ``pack_missing`` (last target left out), ``pack_duplicate``
        (first target twice), ``pack_unknown`` (an extra number) and ``out_of_set`` (first
        label not allowed) break the alignment.
        """
        entry = ((props.get("answers") or {}).get("items") or {}).get("properties") or {}
        enum = list((entry.get("label") or {}).get("enum") or [])
        lines = dict(re.findall(r"^>>> \((\d+)\) (.*)$", item, re.MULTILINE))
        numbers = list((entry.get("turn") or {}).get("enum") or []) or sorted(map(int, lines))
        answers: list[dict[str, Any]] = []
        for n in numbers:
            text = ">>> " + lines.get(str(n), "")
            label = None
            for rule in self.rules:
                if rule.pattern.search(text):
                    label = rule.labels[rot % len(rule.labels)]
                    break
            if label is None:
                label = enum[zlib.crc32(text.encode()) % len(enum)] if enum else "unknown"
            answer: dict[str, Any] = {"turn": n, "label": label}
            if "rationale" in entry:
                answer["rationale"] = "Fake rationale."
            answers.append(answer)
        if answers and kind == "pack_missing":
            answers.pop()
        elif answers and kind == "pack_duplicate":
            answers.append(dict(answers[0]))
        elif kind == "pack_unknown":
            answers.append({"turn": max(numbers, default=0) + 1, "label": enum[0] if enum else ""})
        elif answers and kind == "out_of_set":
            answers[0]["label"] = "not-a-real-label"
        return json.dumps({"answers": answers})

    def _logprobs(self, content: str, top: int) -> list[dict[str, Any]]:
        m = re.search(r'"label"\s*:\s*"([^"]*)"', content)
        span = m.span(1) if m else (-1, -1)
        out, pos = [], 0
        for piece in _PIECES.findall(content):
            a, b = pos, pos + len(piece)
            pos = b
            lp = self.label_logprob if (b > span[0] and a < span[1]) else -0.001
            entry = {
                "token": piece,
                "logprob": lp,
                "bytes": list(piece.encode()),
                "top_logprobs": [],
            }
            if top:
                entry["top_logprobs"] = [
                    {"token": piece, "logprob": lp, "bytes": list(piece.encode())}
                ]
            out.append(entry)
        return out

    # ------------------------------------------------------------ batch API
    def _batch_setup(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_requests = 0
        self.batch_fail: set[str] | str = set()
        self.batch_fail_mode = "error"
        self.batch_final = "completed"
        self.batch_expire_after = 1
        self.batch_shuffle_seed = 7
        self.route("POST", r"/v1/files")(self._file_create)
        self.route("GET", r"/v1/files/(?P<id>[^/]+)")(self._file_get)
        self.route("GET", r"/v1/files/(?P<id>[^/]+)/content")(self._file_content)
        self.route("POST", r"/v1/batches")(self._batch_create)
        self.route("GET", r"/v1/batches/(?P<id>[^/]+)")(self._batch_get)
        self.route("POST", r"/v1/batches/(?P<id>[^/]+)/cancel")(self._batch_cancel)

    def _authorised(self, req: Request) -> bool:
        return self.api_key is None or req.headers.get("authorization") == (
            f"Bearer {self.api_key}"
        )

    @staticmethod
    def _multipart(req: Request) -> dict[str, tuple[str | None, bytes]]:
        """Parse multipart/form-data: name -> (filename, content)."""
        ctype = req.headers.get("content-type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not m:
            return {}
        out: dict[str, tuple[str | None, bytes]] = {}
        for part in req.body.split(b"--" + m.group(1).encode())[1:]:
            if part.startswith(b"--"):
                break
            head, _, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
            disp = head.decode("latin-1")
            name = re.search(r'name="([^"]*)"', disp)
            fname = re.search(r'filename="([^"]*)"', disp)
            if name:
                out[name.group(1)] = (
                    fname.group(1) if fname else None,
                    content[:-2] if content.endswith(b"\r\n") else content,
                )
        return out

    def _new_file(self, data: bytes, purpose: str, filename: str) -> dict[str, Any]:
        fid = f"file-fake{len(self.files) + 1}"
        obj = {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": 1700000000,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[fid] = {"meta": obj, "data": data}
        return obj

    async def _file_create(self, req: Request) -> Response:
        if not self._authorised(req):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        parts = self._multipart(req)
        if "file" not in parts or "purpose" not in parts:
            return _error(400, "multipart fields 'file' and 'purpose' are required", None)
        purpose = parts["purpose"][1].decode()
        return Response(
            200, self._new_file(parts["file"][1], purpose, parts["file"][0] or "upload")
        )

    def _path_id(self, req: Request, pattern: str) -> str:
        m = re.match(pattern, req.path)
        return m.group(1) if m else ""

    async def _file_get(self, req: Request) -> Response:
        fid = self._path_id(req, r"/v1/files/([^/]+)")
        if fid not in self.files:
            return _error(404, f"No such File object: {fid}", None)
        return Response(200, self.files[fid]["meta"])

    async def _file_content(self, req: Request) -> Response:
        fid = self._path_id(req, r"/v1/files/([^/]+)/content")
        if fid not in self.files:
            return _error(404, f"No such File object: {fid}", None)
        return Response(200, self.files[fid]["data"], {"content-type": "application/octet-stream"})

    async def _batch_create(self, req: Request) -> Response:
        if not self._authorised(req):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        body = req.json()
        fid = body.get("input_file_id")
        if fid not in self.files:
            return _error(400, f"input_file_id {fid!r} not found", None)
        bid = f"batch_fake{len(self.batches) + 1}"
        n = sum(1 for line in self.files[fid]["data"].splitlines() if line.strip())
        batch = {
            "id": bid,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "errors": None,
            "input_file_id": fid,
            "completion_window": body.get("completion_window"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": 1700000000,
            "request_counts": {"total": n, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        self.batches[bid] = {"obj": batch, "headers": dict(req.headers)}
        return Response(200, batch)

    def _failing(self, custom_id: str) -> bool:
        if isinstance(self.batch_fail, str):
            return re.search(self.batch_fail, custom_id) is not None
        return custom_id in self.batch_fail

    async def _batch_finish(self, entry: dict[str, Any], final: str) -> None:
        import random

        batch = entry["obj"]
        lines = [
            json.loads(x)
            for x in self.files[batch["input_file_id"]]["data"].splitlines()
            if x.strip()
        ]
        if final == "failed":
            batch["status"] = "failed"
            batch["errors"] = {
                "object": "list",
                "data": [
                    {"code": "invalid_request", "message": "fake validation failure", "line": 1}
                ],
            }
            return
        if final in ("expired", "cancelled"):
            lines = lines[: self.batch_expire_after]
        ok, bad = [], []
        for i, line in enumerate(lines):
            cid = line["custom_id"]
            rid = f"req_batch_{batch['id']}_{i}"
            if self._failing(cid):
                self.batch_requests += 1
                if self.batch_fail_mode == "status":
                    bad.append(
                        {
                            "id": f"batch_req_{i}",
                            "custom_id": cid,
                            "response": {
                                "status_code": 500,
                                "request_id": rid,
                                "body": {
                                    "error": {
                                        "message": "The server had an error",
                                        "type": "server_error",
                                        "code": None,
                                    }
                                },
                            },
                            "error": None,
                        }
                    )
                else:
                    bad.append(
                        {
                            "id": f"batch_req_{i}",
                            "custom_id": cid,
                            "response": None,
                            "error": {
                                "code": "fake_failure",
                                "message": f"request {cid} failed (fake)",
                            },
                        }
                    )
                continue
            self.batch_requests += 1
            fake = Request("POST", "/v1/chat/completions", entry["headers"], b"")
            resp = await self._chat_response(fake, line["body"])
            self._ids += 1
            ok.append(
                {
                    "id": f"batch_req_{i}",
                    "custom_id": cid,
                    "response": {"status_code": resp.status, "request_id": rid, "body": resp.body},
                    "error": None,
                }
            )
        rng = random.Random(self.batch_shuffle_seed)
        rng.shuffle(ok)
        rng.shuffle(bad)
        if ok:
            batch["output_file_id"] = self._new_file(
                "".join(json.dumps(x) + "\n" for x in ok).encode(),
                "batch_output",
                "batch_output.jsonl",
            )["id"]
        if bad:
            batch["error_file_id"] = self._new_file(
                "".join(json.dumps(x) + "\n" for x in bad).encode(),
                "batch_output",
                "batch_errors.jsonl",
            )["id"]
        batch["request_counts"] = {
            "total": batch["request_counts"]["total"],
            "completed": len(ok),
            "failed": len(bad),
        }
        batch["status"] = final

    async def _batch_get(self, req: Request) -> Response:
        bid = self._path_id(req, r"/v1/batches/([^/]+)")
        entry = self.batches.get(bid)
        if entry is None:
            return _error(404, f"No batch found with id '{bid}'.", None)
        batch = entry["obj"]
        status = batch["status"]
        if status == "validating":
            batch["status"] = "in_progress" if self.batch_final != "failed" else status
            if self.batch_final == "failed":
                await self._batch_finish(entry, "failed")
        elif status == "in_progress":
            await self._batch_finish(entry, self.batch_final)
        elif status == "cancelling":
            await self._batch_finish(entry, "cancelled")
        return Response(200, batch)

    async def _batch_cancel(self, req: Request) -> Response:
        bid = self._path_id(req, r"/v1/batches/([^/]+)/cancel")
        entry = self.batches.get(bid)
        if entry is None:
            return _error(404, f"No batch found with id '{bid}'.", None)
        if entry["obj"]["status"] in ("validating", "in_progress"):
            entry["obj"]["status"] = "cancelling"
        return Response(200, entry["obj"])


def main() -> None:  # pragma: no cover - used by benchmarks and subprocess tests
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--no-journal-bodies", action="store_true")
    ap.add_argument("--no-journal", action="store_true", help="keep no journal (long benchmarks)")
    args = ap.parse_args()
    server = FakeOpenAI(
        latency=args.latency,
        journal_bodies=not args.no_journal_bodies,
        keep_journal=not args.no_journal,
    )

    async def run() -> None:
        await server.serve(port=args.port)
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":  # pragma: no cover
    main()
