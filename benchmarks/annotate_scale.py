"""Benchmark: ``edudial annotate`` over synthetic corpora of up to a million turns (issue 12).

Run from the repository root::

    python benchmarks/annotate_scale.py          # prep and runs at 10k/100k/1M items
    python benchmarks/annotate_scale.py --prep 10000,100000 --run 10000

Every turn of the corpus of ``benchmarks/scale.py`` is made a teacher turn, so the
``mathdial-moves`` rubric gives one item per turn (with its context and the rubric's meta fields,
so turn and dialogue meta are decoded). Each measurement runs in a fresh process that first builds
the corpus, then resets its peak RSS, so the figures are what annotation adds on top of the corpus:

- ``prep``: ``annotation.iter_items`` consumed to the end (item preparation alone);
- ``run``: ``annotation.annotate`` against ``tests/fake_openai.py`` started in its own process on
  127.0.0.1 with zero latency (the client's CPU only: the server runs elsewhere).

Printed per size: peak RSS above the corpus and client CPU per item, with ratios against the
smallest size (targets, issue 12: memory <= 1.2x between 100k and 1M items; CPU per item within
10 % of the 10k run). When what annotation adds is a megabyte or two, that ratio is noise; the
bytes per added item (the growth between the two largest sizes) say whether memory is flat.
``tests/test_benchmark_annotate_scale.py`` runs this code at 2,000 items.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import scale  # noqa: E402

MODEL = "fake-model"
RUBRIC = "mathdial-moves"


def corpus_of(n_items: int) -> Any:
    """The synthetic corpus of ``benchmarks/scale.py`` with every turn a teacher turn."""
    from toolkit import Corpus

    tables = scale.synthetic_tables(n_items)
    tables["turns"]["role"] = "teacher"
    return Corpus(tables["dialogues"], tables["turns"])


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The fake OpenAI server in its own process, zero latency; its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "fake_openai.py"),
            "--latency",
            "0",
            "--no-journal",  # a million journal entries would be the server's 1.7 GB
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}/v1"


def child(mode: str, n_items: int, url: str) -> dict[str, Any]:
    """In a fresh process: build the corpus, then measure ``mode`` on top of it."""
    from annotation import annotate, iter_items, load_rubric

    rubric = load_rubric(RUBRIC)
    corpus = corpus_of(n_items)
    with tempfile.TemporaryDirectory() as out:  # warm up: lazy imports are not the run's memory
        small = corpus_of(100)
        sum(1 for _ in iter_items(small, rubric))
        if mode == "run":
            annotate(small, RUBRIC, model=MODEL, out=out, base_url=url, api_key="k")
    del small
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # glibc: give freed build memory back
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = scale._peak_rss_kb(reset=True)
    c0, t0 = time.process_time(), time.perf_counter()
    if mode == "prep":
        items = sum(1 for _ in iter_items(corpus, rubric))
    else:
        with tempfile.TemporaryDirectory() as out:
            res = annotate(
                corpus,
                RUBRIC,
                model=MODEL,
                out=out,
                base_url=url,
                api_key="k",
                concurrency=32,
                dialect="json_schema",
            )
            items = int(sum(res.counts.values()))
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    peak = scale._peak_rss_kb()
    return {
        "mode": mode,
        "items": items,
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_mb": (peak - base) / 1e3,
    }


def measure(mode: str, n_items: int, url: str = "") -> dict[str, Any]:
    code = "import sys, json; sys.path.insert(0, sys.argv[1]); import annotate_scale as a; "
    code += "print(json.dumps(a.child(sys.argv[2], int(sys.argv[3]), sys.argv[4])))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "benchmarks"), mode, str(n_items), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = dict(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps(result), file=sys.stderr, flush=True)  # a long run's partial results
    return result


def report(rows: list[dict[str, Any]]) -> None:
    first = rows[0]
    per0 = first["cpu_s"] / first["items"] * 1e6
    for r in rows:
        per = r["cpu_s"] / r["items"] * 1e6
        print(
            f"{r['mode']:>4} {r['items']:>9,} items: peak {r['peak_mb']:7.1f} MB above the corpus "
            f"({r['peak_mb'] / max(first['peak_mb'], 1e-9):5.2f}x the {first['items']:,} run); "
            f"client CPU {per:6.1f} us/item ({per / per0:4.2f}x); wall {r['wall_s']:.1f} s"
        )
    big = [r for r in rows if r["items"] >= 100_000]
    if len(big) >= 2:
        lo, hi = big[0], big[-1]
        per_item = (hi["peak_mb"] - lo["peak_mb"]) * 1e6 / (hi["items"] - lo["items"])
        print(
            f"{rows[0]['mode']:>4} memory {hi['items']:,} vs {lo['items']:,} items: "
            f"{hi['peak_mb']:.1f} vs {lo['peak_mb']:.1f} MB above the corpus "
            f"({hi['peak_mb'] / max(lo['peak_mb'], 1e-9):.2f}x, target <= 1.2x); "
            f"{per_item:+.1f} bytes per added item"
        )


def main(argv: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prep", default="10000,100000,1000000", help="sizes (items)")
    parser.add_argument(
        "--run", default="10000,100000,1000000", help="sizes of full runs ('' for none)"
    )
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, Any]]] = {"prep": [], "run": []}
    for n in (int(x) for x in args.prep.split(",") if x):
        results["prep"].append(measure("prep", n))
    report(results["prep"]) if results["prep"] else None
    sizes = [int(x) for x in args.run.split(",") if x]
    if sizes:
        proc, url = start_server()
        try:
            for n in sizes:
                results["run"].append(measure("run", n, url))
        finally:
            proc.terminate()
            proc.wait()
        report(results["run"])
    return results


if __name__ == "__main__":
    main()
