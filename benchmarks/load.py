"""Benchmark: loading corpora into the edudial schema vs. the raw parse of the same files.

Run from the repository root::

    python benchmarks/load.py                 # EDUDIAL_DATA or ../shared/corpora
    python benchmarks/load.py --repeats 9

For each case the script times, in the same run, the raw parse (``json.loads`` per line or
``pandas.read_csv``) and the loader (``corpora.load``, which also validates the corpus; the loader
alone is shown too), prints the medians, the ratio loader/raw (target: at most 2x) and the peak
memory of one run of each (``tracemalloc``). It then reports SIGHT transcript sentence splitting in
words per second. Add corpora by appending to ``CASES``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

import corpora  # noqa: E402
from corpora.registry import _module  # noqa: E402
from toolkit import Corpus  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One benchmark: a raw parse and a load of the same files (paths relative to EDUDIAL_DATA)."""

    name: str
    corpus: str
    path: str
    options: dict[str, Any]
    raw: Callable[[Path], Any]


def _raw_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _raw_sight(folder: Path) -> list[pd.DataFrame]:
    ann = folder / "data" / "annotations"
    return [
        pd.read_csv(ann / "sight_dataset.csv", sep=" "),
        pd.read_csv(ann / "sample_dataset.csv"),
    ]


CASES: list[Case] = [
    Case("mathdial test.jsonl", "mathdial", "mathdial/data/test.jsonl", {}, _raw_jsonl),
    Case("mathdial test.csv", "mathdial", "mathdial/data/test.csv", {}, pd.read_csv),
    Case(
        "sight annotations (2 CSVs, no transcripts/metadata)",
        "sight",
        "sight",
        {"transcripts": False, "metadata": False},
        _raw_sight,
    ),
]


def _median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_mib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def run_case(case: Case, root: Path, repeats: int) -> dict[str, Any]:
    path = root / case.path
    module = _module(case.corpus)

    def raw() -> Any:
        return case.raw(path)

    def loader() -> Any:
        return module.load(path, **case.options)

    def full() -> Any:
        return corpora.load(case.corpus, path, **case.options)

    built = full()  # warm caches and imports
    raw()
    t_raw = _median_seconds(raw, repeats)
    t_loader = _median_seconds(loader, repeats)
    t_full = _median_seconds(full, repeats)
    # the schema's own share: re-typing the finished tables (Corpus.__init__) and validating them
    tables = (built.dialogues, built.turns, built.annotations)
    t_schema = _median_seconds(lambda: Corpus(*tables), repeats)
    t_validate = _median_seconds(built.validate, repeats)
    return {
        "case": case.name,
        "raw_ms": t_raw * 1e3,
        "loader_ms": t_loader * 1e3,
        "load_ms": t_full * 1e3,
        "ratio_loader": t_loader / t_raw,
        "ratio": t_full / t_raw,
        "schema_ms": t_schema * 1e3,
        "validate_ms": t_validate * 1e3,
        "raw_peak_mib": _peak_mib(raw),
        "load_peak_mib": _peak_mib(full),
    }


def transcript_speed(root: Path, limit: int | None) -> dict[str, float]:
    from corpora.sight import split_sentences

    files = sorted((root / "sight" / "data" / "transcripts").glob("*.txt"))[:limit]
    texts = [f.read_text(encoding="utf-8") for f in files]
    words = sum(len(t.split()) for t in texts)
    split_sentences(texts[:1])  # import spaCy outside the timing
    start = time.perf_counter()
    spans = split_sentences(texts)
    seconds = time.perf_counter() - start
    return {
        "files": len(files),
        "words": words,
        "sentences": sum(len(s) for s in spans),
        "seconds": seconds,
        "words_per_second": words / seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (>=5)")
    parser.add_argument("--transcripts", type=int, default=None,
                        help="number of SIGHT transcripts to split (default: all)")
    parser.add_argument("--skip-transcripts", action="store_true")
    args = parser.parse_args(argv)
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    root = Path(os.environ.get("EDUDIAL_DATA") or REPO.parent / "shared" / "corpora")
    if not root.is_dir():
        parser.error(f"corpora folder not found: {root} (set EDUDIAL_DATA)")
    print(f"data: {root}; medians of {args.repeats} runs; python {sys.version.split()[0]}, "
          f"pandas {pd.__version__}")
    header = (f"{'case':<52} {'raw ms':>8} {'loader ms':>10} {'load ms':>8} {'loader/raw':>10} "
              f"{'load/raw':>9} {'raw MiB':>8} {'load MiB':>9}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    floors = []
    for case in CASES:
        if not (root / case.path).exists():
            print(f"{case.name:<52} skipped: {root / case.path} not found")
            continue
        r = run_case(case, root, args.repeats)
        worst = max(worst, r["ratio"])
        floors.append(r)
        print(f"{r['case']:<52} {r['raw_ms']:>8.1f} {r['loader_ms']:>10.1f} {r['load_ms']:>8.1f} "
              f"{r['ratio_loader']:>9.2f}x {r['ratio']:>8.2f}x {r['raw_peak_mib']:>8.1f} "
              f"{r['load_peak_mib']:>9.1f}")
    print("load = corpora.load (loader + Corpus.validate); loader = the loader module alone")
    print("MiB = tracemalloc peak of one run (Python allocations only; Arrow/C buffers unseen)")
    for r in floors:
        print(f"  {r['case']}: re-typing finished tables with Corpus() {r['schema_ms']:.1f} ms "
              f"({r['schema_ms'] / r['raw_ms']:.1f}x raw) and validate {r['validate_ms']:.1f} ms "
              f"({r['validate_ms'] / r['raw_ms']:.1f}x raw)")
    verdict = "met" if worst <= 2 else "NOT met"
    print(f"worst load/raw ratio: {worst:.2f}x (target <= 2x): {verdict}")
    if not args.skip_transcripts and (root / "sight" / "data" / "transcripts").is_dir():
        s = transcript_speed(root, args.transcripts)
        print(f"SIGHT transcript sentence splitting: {s['files']} files, {s['words']:,} words, "
              f"{s['sentences']:,} sentences in {s['seconds']:.1f} s = "
              f"{s['words_per_second']:,.0f} words/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
