"""Run the app: bind, print one URL per coder, serve until stopped. Opens no browser.

The URL tokens are printed once, at start, for the lead to send to each coder; they never appear
in a log line: request lines (``--verbose``) and error reports show ``t=<redacted>``.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from toolkit.app.security import is_loopback
from toolkit.app.server import create_app
from toolkit.app.session import CodingSession

__all__ = ["RedactTokens", "ServeOptions", "bind", "redact", "serve", "urls"]

#: a token in a query string (``?t=...`` or ``&t=...``), up to the next separator
_TOKEN_IN_URL = re.compile(r"([?&;]t=)[^&;\s\"']*")
REDACTED = "<redacted>"


def redact(text: str, tokens: Iterable[str] = ()) -> str:
    """``text`` with every ``t=`` query value and every one of ``tokens`` replaced.

    >>> redact('"GET /code/ana/3?t=Qm9xYz&x=1 HTTP/1.1" 200 -')
    '"GET /code/ana/3?t=<redacted>&x=1 HTTP/1.1" 200 -'
    >>> redact("token Qm9xYz refused", ["Qm9xYz"])
    'token <redacted> refused'
    """
    out = _TOKEN_IN_URL.sub(lambda m: m.group(1) + REDACTED, text)
    for token in tokens:
        out = out.replace(token, REDACTED)
    return out


class RedactTokens(logging.Filter):
    """A logging filter that takes URL tokens out of every record (message and traceback)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._tokens: frozenset[str] = frozenset()

    def add(self, tokens: Iterable[str]) -> None:
        """Also redact these literal tokens (wherever they appear, not only after ``t=``)."""
        with self._lock:
            self._tokens = self._tokens | {t for t in tokens if t}

    def filter(self, record: logging.LogRecord) -> bool:
        tokens = self._tokens
        message = record.getMessage()
        clean = redact(message, tokens)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, tokens)
        return True


#: one filter for the process (servers started in one process add their tokens to it)
_REDACT = RedactTokens()


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen. A non-loopback ``host`` turns on the per-coder URL tokens."""

    host: str = "127.0.0.1"
    port: int = 8750


class _KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1, so a browser reuses its connection from page to page."""

    protocol_version = "HTTP/1.1"


def bind(session: CodingSession, options: ServeOptions) -> BaseWSGIServer:
    """A threaded WSGI server for ``session`` bound to ``options`` (``port=0``: any free port).

    Takes the store's writer lock first: one server per store.
    """
    session.store.acquire_writer()
    app = create_app(session, token_required=not is_loopback(options.host))
    _REDACT.add(session.tokens.values())
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(_REDACT)
    return make_server(
        options.host, options.port, app, threaded=True, request_handler=_KeepAliveHandler
    )


def urls(session: CodingSession, server: BaseWSGIServer, host: str) -> dict[str, str]:
    """Each coder's URL and the adjudicator's (overview) URL, with tokens when required."""
    shown = host if host not in ("0.0.0.0", "::") else _lan_address()
    if ":" in shown:
        shown = f"[{shown}]"
    base = f"http://{shown}:{server.server_port}"
    tokens = not is_loopback(host)

    def with_token(path: str, who: str) -> str:
        return f"{base}{path}?t={session.tokens[who]}" if tokens else f"{base}{path}"

    out = {c: with_token(f"/code/{c}", c) for c in session.coders}
    out[session.adjudicator] = with_token("/", session.adjudicator)
    return out


def _lan_address() -> str:
    """This machine's address on the network (for the printed URLs when binding 0.0.0.0)."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET address: no packet is sent by connect()
            return str(s.getsockname()[0])
    except OSError:
        return socket.gethostname()


def serve(
    session: CodingSession, options: ServeOptions, *, echo: Callable[[str], Any] = print
) -> None:
    """Bind, print the URLs, and serve until Ctrl-C or SIGTERM; then close the store."""
    server = bind(session, options)
    info = session.info
    echo(f"edudial coding app: rubric {info.rubric_id} {info.rubric_version}, round {info.round}")
    echo(f"  labels are stored in {session.store.path.resolve()}")
    addresses = urls(session, server, options.host)
    width = max(len(n) for n in addresses)
    for name in session.coders:
        done, total = session.store.progress(name)
        echo(f"  {name:<{width}}  {addresses[name]}  ({done}/{total} coded)")
    lead = session.adjudicator
    echo(f"  {lead:<{width}}  {addresses[lead]}  (overview, adjudication)")
    echo("Labels are saved as they are given. Ctrl-C stops the server.")

    def _stop(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        echo("stopped; every label given is in the store")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        session.store.close()
