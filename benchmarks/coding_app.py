"""Page-to-page time of the coding app on a 200k-turn corpus, against a static page (same run).

Run: ``python benchmarks/coding_app.py`` (about a minute on 2 cores).

One step is what a coder waits for after pressing a key: the label is POSTed and committed to
the SQLite store (``synchronous=FULL``), the server answers 303, and the browser GETs and
receives the next unit's fully rendered page. The corpus has 200,000 turns (20,000 dialogues of
10 turns; 100,000 teacher turns to code); two coders share every unit.

Baseline: the same framework and server (Flask on Werkzeug's threaded server, HTTP/1.1) serving
the same cycle with no application work: a POST answered 303, then a GET of a static copy of a
real coding page. Both servers run as subprocesses; steps alternate between them so both see the
same machine load. Prints p50 and p95 of each and their ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.schema import Corpus  # noqa: E402

_SERVE = "import sys; from toolkit.cli.code_serve import serve_cmd; serve_cmd(sys.argv[1:])"
_STATIC = """
import sys
from flask import Flask, redirect
import logging
from werkzeug.serving import WSGIRequestHandler, make_server
logging.getLogger("werkzeug").setLevel(logging.WARNING)

class Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

page = open(sys.argv[1], encoding="utf-8").read()
app = Flask("static")
app.add_url_rule("/page", "page", lambda: page)
app.add_url_rule("/save", "save", lambda: redirect("/page", 303), methods=["POST"])
server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Handler)
print(f"  static http://127.0.0.1:{server.server_port}/page", flush=True)
print("Labels are saved", flush=True)
server.serve_forever()
"""


def big_corpus(n_dialogues: int, turns_per: int) -> Corpus:
    """``n_dialogues`` x ``turns_per`` turns, teacher and student alternating, ~80 chars each."""
    n = n_dialogues * turns_per
    did = [f"d{i // turns_per:06d}" for i in range(n)]
    idx = [i % turns_per for i in range(n)]
    role = ["teacher" if i % 2 == 0 else "student" for i in idx]
    text = [
        f"{r} says something about step {i} of problem {d}, with a number {j * 7 % 97}."
        for j, (r, i, d) in enumerate(zip(role, idx, did, strict=True))
    ]
    dialogues = pd.DataFrame(
        {
            "corpus": "bench",
            "dialogue_id": [f"d{i:06d}" for i in range(n_dialogues)],
            "split": "test",
            "kind": "tutoring",
            "meta": [{"question": f"Problem {i}: what is {i} x 3?"} for i in range(n_dialogues)],
        }
    )
    turns = pd.DataFrame(
        {
            "corpus": "bench",
            "dialogue_id": did,
            "turn_id": [f"{d}:{i}" for d, i in zip(did, idx, strict=True)],
            "index": idx,
            "role": role,
            "speaker": [r[0].upper() for r in role],
            "text": text,
            "meta": [{} for _ in range(n)],
        }
    )
    return Corpus(dialogues, turns)


class Proc:
    """A server subprocess that prints its URLs, then ``Labels are saved``."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, text=True
        )
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            m = re.match(r"\s+(\S+)\s+(http://\S+)", line)
            if m:
                self.urls[m.group(1)] = m.group(2)
            if line.startswith("Labels are saved"):
                return
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=int, default=20_000)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coding-app-bench-"))
    t0 = time.perf_counter()
    corpus = big_corpus(args.dialogues, args.turns)
    corpus.save(work / "big.corpus")
    print(f"corpus: {len(corpus.turns):,} turns, saved in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    serve = [_SERVE, str(work / "big.corpus"), "--rubric", "mathdial-moves"]
    serve += ["--coders", "ana,ben", "--store", str(work / "s.sqlite"), "--port", "0"]
    app = Proc(serve, work)
    print(f"app server ready in {time.perf_counter() - t0:.1f} s (first start: store created)")
    http = requests.Session()
    first = http.get(app.urls["ana"], timeout=60)
    (work / "page.html").write_text(first.text, encoding="utf-8")
    static = Proc([_STATIC, str(work / "page.html")], work)
    base = static.urls["static"].rsplit("/", 1)[0]
    ours: list[float] = []
    floor: list[float] = []
    page = first
    try:
        for step in range(args.warmup + args.steps):
            data = {**fields(page.text), "answer": f"0:{step % 4}"}
            t1 = time.perf_counter()
            page = http.post(page.url, data=data, timeout=60)  # 303 -> next unit, rendered
            t2 = time.perf_counter()
            http.post(f"{base}/save", data=data, timeout=60)  # 303 -> the static page
            t3 = time.perf_counter()
            assert page.status_code == 200 and 'name="unit"' in page.text, page.text[:200]
            if step >= args.warmup:
                ours.append(t2 - t1)
                floor.append(t3 - t2)
    finally:
        app.stop()
        static.stop()
    size = len(first.content)
    print(f"steps: {args.steps} (after {args.warmup} warm-up), page {size:,} bytes")
    print(f"{'':28}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in (("coding app (label->next)", ours), ("static page, same server", floor)):
        print(f"{name:28}{1000 * pct(values, 50):9.2f}{1000 * pct(values, 95):9.2f}")
    print(
        f"ratio app/static: p50 {pct(ours, 50) / pct(floor, 50):.1f}x, "
        f"p95 {pct(ours, 95) / pct(floor, 95):.1f}x"
    )


if __name__ == "__main__":
    main()
