"""Benchmark the annotation engine against the fake OpenAI server (separate process).

Run: ``python benchmarks/annotate.py`` (about 2 minutes on 2 cores). Reports, in one run:

* throughput of ``annotation.annotate`` at concurrency 32 and 16 against (a) the ideal
  ``concurrency / latency`` and (b) a bare ``AsyncOpenAI`` loop (same prebuilt requests, same
  concurrency, no cache / validation / writes); targets >= 90 % of bare at 32, >= 80 % of ideal
  at 16; for reference also a plain ``httpx2`` loop without the SDK (what one event loop can do
  on this machine: with requests in lock step, each round trip costs latency + concurrency x
  client CPU per request);
* client CPU time per item (engine and bare loop);
* a cached rerun of a finished run directory (0 requests, target <= 2 s);
* peak RSS of a fresh process annotating 10k vs 2k items (target <= 1.2x).

The server runs in its own process (``tests/fake_openai.py``) with 50 ms latency so it does not
take the client's CPU. Medians over ``--repeats`` runs, interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from toolkit import Corpus  # noqa: E402

KEY = "sk-bench"
MODEL = "gpt-4o-mini"


def synthetic_corpus(n_items: int) -> Corpus:
    """``n_items`` teacher turns: dialogues of 4 turns (2 teacher), all texts distinct."""
    n_dlg = (n_items + 1) // 2
    dialogues = pd.DataFrame(
        {
            "corpus": "bench",
            "dialogue_id": [f"d{i}" for i in range(n_dlg)],
            "split": "test",
            "kind": "tutoring",
            "meta": [
                {
                    "question": f"Problem {i}: Sam has {i} apples and buys 3 more. How many?",
                    "student_incorrect_solution": f"{i} + 3 = {i + 4}",
                }
                for i in range(n_dlg)
            ],
        }
    )
    rows = []
    for i in range(n_dlg):
        for j, (role, text) in enumerate(
            [
                ("teacher", f"Hi! Can you walk me through problem {i}?"),
                ("student", f"I added 3 to {i} and got {i + 4}."),
                ("teacher", f"Why did you get {i + 4} when adding 3 to {i}?"),
                ("student", "I think I counted wrong."),
            ]
        ):
            rows.append(
                {
                    "corpus": "bench",
                    "dialogue_id": f"d{i}",
                    "turn_id": f"d{i}:{j}",
                    "index": j,
                    "role": role,
                    "speaker": role,
                    "text": text,
                    "meta": {},
                }
            )
    turns = pd.DataFrame(rows)
    keep = turns[turns.role == "teacher"].head(n_items)
    turns = turns[(turns.role == "student") | turns.turn_id.isin(keep.turn_id)]
    return Corpus(dialogues, turns)


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_openai.py"),
            "--latency",
            str(latency),
            "--no-journal-bodies",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    port = int(line.split()[1])
    return proc, f"http://127.0.0.1:{port}/v1"


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.replace("/v1", "/_stats")) as r:
        return dict(json.loads(r.read()))


def bodies_for(corpus: Corpus) -> list[dict[str, Any]]:
    from annotation import iter_items, load_rubric
    from annotation.requests import RequestBuilder, RequestParams

    rub = load_rubric("mathdial-moves")
    b = RequestBuilder(rub, RequestParams(model=MODEL, max_tokens=rub.output.max_tokens))
    return [
        b.body(b.item_messages(it, "json_schema"), "json_schema") for it in iter_items(corpus, rub)
    ]


def bare_loop(url: str, bodies: list[dict[str, Any]], concurrency: int) -> tuple[float, float]:
    from openai import AsyncOpenAI

    async def main() -> None:
        async with AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0) as client:
            sem = asyncio.Semaphore(concurrency)

            async def one(body: dict[str, Any]) -> Any:
                async with sem:
                    return await client.chat.completions.create(**body)

            await asyncio.gather(*(one(b) for b in bodies))

    t0, c0 = time.perf_counter(), time.process_time()
    asyncio.run(main())
    return time.perf_counter() - t0, time.process_time() - c0


def raw_loop(url: str, bodies: list[dict[str, Any]], concurrency: int) -> tuple[float, float]:
    """Reference only: plain httpx2 (no openai SDK), the ceiling of one Python event loop."""
    import httpx2

    async def main() -> None:
        headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}"}
        async with httpx2.AsyncClient(base_url=url, timeout=60) as client:
            sem = asyncio.Semaphore(concurrency)

            async def one(body: dict[str, Any]) -> Any:
                async with sem:
                    r = await client.post(
                        "/chat/completions", content=json.dumps(body), headers=headers
                    )
                    return r.json()

            await asyncio.gather(*(one(b) for b in bodies))

    t0, c0 = time.perf_counter(), time.process_time()
    asyncio.run(main())
    return time.perf_counter() - t0, time.process_time() - c0


def engine_run(url: str, corpus: Corpus, concurrency: int, out: Path) -> tuple[float, float, Any]:
    from annotation import annotate

    t0, c0 = time.perf_counter(), time.process_time()
    res = annotate(
        corpus,
        "mathdial-moves",
        model=MODEL,
        out=out,
        base_url=url,
        api_key=KEY,
        concurrency=concurrency,
        dialect="json_schema",
    )
    return time.perf_counter() - t0, time.process_time() - c0, res


def child(n_items: int, url: str, concurrency: int) -> None:
    """Annotate ``n_items`` in this (fresh) process and print peak RSS."""
    corpus = synthetic_corpus(n_items)
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu, res = engine_run(url, corpus, concurrency, Path(tmp) / "run")
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "items": n_items,
                "wall": wall,
                "cpu": cpu,
                "maxrss_kb": rss_kb,
                "ok": res.counts["ok"],
            }
        )
    )


def _measure(
    url: str, corpus: Corpus, bodies: list[dict[str, Any]], repeats: int
) -> tuple[dict[str, list[tuple[float, float]]], list[float], list[int]]:
    """Interleaved runs: bare loop, engine, raw httpx2 at 32 and 16; a cached rerun at 32."""
    n = len(bodies)
    results: dict[str, list[tuple[float, float]]] = {}
    cached: list[float] = []
    cached_requests: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            for conc in (32, 16):
                results.setdefault(f"bare{conc}", []).append(bare_loop(url, bodies, conc))
                out = Path(tmp) / f"run{conc}-{rep}"
                wall, cpu, res = engine_run(url, corpus, conc, out)
                assert res.counts["ok"] == n, res.counts
                results.setdefault(f"engine{conc}", []).append((wall, cpu))
                results.setdefault(f"raw-httpx2-{conc}", []).append(raw_loop(url, bodies, conc))
                if conc == 32:
                    before = stats(url)["requests"]
                    t0 = time.perf_counter()
                    _, _, res2 = engine_run(url, corpus, conc, out)
                    cached.append(time.perf_counter() - t0)
                    cached_requests.append(stats(url)["requests"] - before)
                    assert res2.counts["ok"] == n
    return results, cached, cached_requests


def _report_throughput(
    results: dict[str, list[tuple[float, float]]], n: int, latency: float
) -> None:
    def med(key: str, idx: int) -> float:
        return statistics.median(x[idx] for x in results[key])

    print()
    print(f"{'run':<22}{'wall s':>9}{'items/s':>10}{'CPU ms/item':>13}")
    for key in ("bare32", "engine32", "raw-httpx2-32", "bare16", "engine16", "raw-httpx2-16"):
        wall, cpu = med(key, 0), med(key, 1)
        print(f"{key:<22}{wall:>9.2f}{n / wall:>10.1f}{cpu / n * 1000:>13.3f}")
    print()
    for conc in (32, 16):
        ideal = conc / latency
        eng = n / med(f"engine{conc}", 0)
        bare = n / med(f"bare{conc}", 0)
        print(
            f"concurrency {conc}: engine {eng:.1f}/s = {eng / bare:.1%} of bare loop "
            f"({bare:.1f}/s), {eng / ideal:.1%} of ideal ({ideal:.0f}/s)"
        )
        raw = n / med(f"raw-httpx2-{conc}", 0)
        print(
            f"  reference: plain httpx2 loop without the openai SDK {raw:.1f}/s = "
            f"{raw / ideal:.1%} of ideal (one Python event loop's ceiling here)"
        )
    print("targets: engine >= 90% of bare at 32; >= 80% of ideal at 16")


def _report_memory(url: str, items: int, big: int) -> None:
    """Peak RSS of fresh processes annotating ``items`` and ``big`` items."""
    mem = {}
    for count in (items, big):
        cmd = [sys.executable, __file__, "--child", str(count), "--url", url]
        out = subprocess.run(
            [*cmd, "--concurrency", "32"], capture_output=True, text=True, check=True
        )
        mem[count] = json.loads(out.stdout.strip().splitlines()[-1])
    small, large = mem[items], mem[big]
    print(
        f"peak RSS: {items} items {small['maxrss_kb'] / 1024:.1f} MiB, "
        f"{big} items {large['maxrss_kb'] / 1024:.1f} MiB, ratio "
        f"{large['maxrss_kb'] / small['maxrss_kb']:.2f}x (target <= 1.2x); "
        f"{big}-item run {large['items'] / large['wall']:.1f} items/s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big", type=int, default=10000, help="items of the memory comparison")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--url", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--concurrency", type=int, default=32, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.url, args.concurrency)
        return

    server, url = start_server(args.latency)
    try:
        corpus = synthetic_corpus(args.items)
        bodies = bodies_for(corpus)
        n = len(bodies)
        print(
            f"items {n}, server latency {args.latency * 1000:.0f} ms (separate process), "
            f"repeats {args.repeats}, cpus {os.cpu_count()}"
        )
        bare_loop(url, bodies[:50], 8)  # warm-up
        server_cpu0, server_req0 = proc_cpu(server.pid), stats(url)["requests"]
        results, cached, cached_requests = _measure(url, corpus, bodies, args.repeats)
        server_ms = (
            (proc_cpu(server.pid) - server_cpu0)
            / max(stats(url)["requests"] - server_req0, 1)
            * 1000
        )
        _report_throughput(results, n, args.latency)
        print(
            f"fake server CPU {server_ms:.2f} ms/request (its own process); load average "
            f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus"
        )
        print(
            f"cached rerun: median {statistics.median(cached):.2f} s, requests "
            f"{cached_requests} (target 0 requests, <= 2 s)"
        )
        _report_memory(url, args.items, args.big)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
