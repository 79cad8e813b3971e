"""Shared pieces of the coding-app tests: a small corpus, a real server subprocess, form posts."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.schema import Corpus

ROOT = Path(__file__).resolve().parent.parent
XSS = "<script>document.title='pwned'</script><img src=x onerror=alert(1)> & \"quotes\""

#: runs the click command directly, so these tests do not depend on how `edudial code` registers it
_SERVE = "import sys; from toolkit.cli.code_serve import serve_cmd; serve_cmd(sys.argv[1:])"


def small_corpus(n_dialogues: int = 12, teacher_turns: int = 2, *, xss: bool = True) -> Corpus:
    """Dialogues of alternating teacher/student turns; one student turn holds an XSS payload."""
    dialogues, turns, anns = [], [], []
    for d in range(n_dialogues):
        did = f"d{d:03d}"
        dialogues.append(("toy", did, "test", "tutoring", {"question": f"What is {d} + {d}?"}))
        for i in range(teacher_turns * 2):
            role = "teacher" if i % 2 == 0 else "student"
            text = f"{role} turn {i} of {did}"
            if xss and d == 0 and i == 1:
                text = XSS
            turns.append(("toy", did, f"{did}:{i}", i, role, role[0].upper(), text, {}))
            if role == "teacher":  # a source label the coders must never see
                anns.append(("toy", f"{did}:{i}", "mathdial/move", "telling", "teacher", "human"))
    return Corpus(
        pd.DataFrame(dialogues, columns=["corpus", "dialogue_id", "split", "kind", "meta"]),
        pd.DataFrame(
            turns,
            columns=[
                "corpus",
                "dialogue_id",
                "turn_id",
                "index",
                "role",
                "speaker",
                "text",
                "meta",
            ],
        ),
        pd.DataFrame(
            [(*a, "src", {}) for a in anns],
            columns=[
                "corpus",
                "unit_id",
                "scheme",
                "label",
                "rater",
                "rater_kind",
                "run_id",
                "meta",
            ],
        ),
    ).validate()


#: mathdial-moves' labels without its rule patterns: loading it needs no spaCy, so the server
#: subprocesses of these tests start seconds sooner
RUBRIC = """
id: toy-moves
version: "1"
description: Teacher moves (as mathdial-moves, without rule patterns).
scheme: mathdial/move
applies_to: {roles: [teacher]}
context: {turns: 4, meta: [question]}
labels:
  - {name: focus, definition: Directs attention to a step.}
  - {name: probing, definition: Asks the student to explain.}
  - {name: telling, definition: Gives the answer or a step.}
  - {name: generic, definition: Anything else.}
"""


def write_rubric(folder: Path) -> Path:
    """The test rubric as a YAML file in ``folder``."""
    path = folder / "toy-moves.yaml"
    path.write_text(RUBRIC, encoding="utf-8")
    return path


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields (csrf, corpus, unit) of a coding or adjudication page."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


@dataclass
class Server:
    """``edudial code serve`` in a subprocess; ``urls`` are the printed coder/lead URLs."""

    args: list[str]
    cwd: Path
    proc: subprocess.Popen[str] | None = None
    urls: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str] = field(default_factory=queue.Queue)

    def start(self, timeout: float = 120.0) -> Server:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVE, *self.args],
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = self._queue
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.lines.append(line)
            m = re.match(r"\s+(\S+)\s+(http://\S+)", line)
            if m:
                self.urls[m.group(1)] = m.group(2)
            if line.startswith("Labels are saved"):
                return self
        self.stop()
        raise RuntimeError("server did not start:\n" + "".join(self.lines))

    def output(self, wait: float = 1.0) -> list[str]:
        """Every line printed so far (after ``wait`` seconds for the last ones to arrive)."""
        time.sleep(wait)
        while True:
            try:
                self.lines.append(self._queue.get_nowait())
            except queue.Empty:
                return self.lines

    def _pump(self, lines: queue.Queue[str]) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put(line)

    @property
    def base(self) -> str:
        m = re.match(r"(http://[^/]+)", next(iter(self.urls.values())))
        assert m
        return m.group(1)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def post_label(session: Any, url: str, fields: dict[str, str], answer: str) -> Any:
    """POST one answer (``"question:option"``) without following the redirect."""
    return session.post(url, data={**fields, "answer": answer}, allow_redirects=False, timeout=60)
