"""Benchmark: TalkMoves, CIMA, MRBench, Bridge and NCTE uptake loaders vs the raw parse.

For each corpus the loader (``corpora.load``, validation included) is timed against the plain
parse of the same files in the same run (``json.load`` / ``pd.read_csv`` / ``pd.read_excel``);
medians of ``--repeats`` runs and the ratio loader/raw are printed, plus the peak traced memory
(``tracemalloc``, a separate untimed run) of each. TalkMoves (522 xlsx files) is the slow case:
it is compared with the raw ``read_excel`` of the same files with calamine (the engine the loader
uses) and with openpyxl (one run by default; ``--openpyxl-repeats``). Also timed:
``corpus_stats`` on the full TalkMoves corpus (~220k turns) against a naive baseline that runs
spaCy (tokenizer + sentencizer) on every turn text without de-duplication or counting.

Run from the repository root::

    EDUDIAL_DATA=/work/shared/corpora python benchmarks/load_more.py [--repeats 5] [--skip-openpyxl]
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
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpora
from corpora.talkmoves import discover
from toolkit.stats import _nlp, corpus_stats


def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def row(name: str, ours: list[float], raw: list[float], mem_ours: float, mem_raw: float) -> None:
    m_o, m_r = statistics.median(ours), statistics.median(raw)
    print(
        f"{name:<34} {m_o:>9.3f} {m_r:>9.3f} {m_o / m_r:>7.1f}x {mem_ours:>9.1f} {mem_raw:>9.1f}"
        f"   (n={len(ours)}/{len(raw)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("EDUDIAL_DATA"), help="shared corpora dir")
    ap.add_argument("--repeats", type=int, default=5, help="runs per small-corpus measurement")
    ap.add_argument("--talkmoves-repeats", type=int, default=3)
    ap.add_argument("--openpyxl-repeats", type=int, default=1)
    ap.add_argument("--skip-openpyxl", action="store_true")
    ap.add_argument("--skip-memory", action="store_true", help="skip the tracemalloc runs")
    args = ap.parse_args()
    if not args.data:
        sys.exit("set EDUDIAL_DATA or pass --data")
    root = Path(args.data)

    def raw_json(*files: Path) -> Callable[[], Any]:
        return lambda: [json.loads(f.read_text(encoding="utf-8")) for f in files]

    mr = root / "mrbench"
    small: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("cima", lambda: corpora.load("cima", root / "cima"), raw_json(root / "cima/dataset.json")),
        (
            "mrbench (v1+v2+dev)",
            lambda: corpora.load("mrbench", mr),
            raw_json(
                mr / "MRBench/MRBench_V1.json",
                mr / "MRBench/MRBench_V2.json",
                mr / "BEA_Shared_Task_2025_Datasets/mrbench_v3_devset.json",
            ),
        ),
        (
            "bridge (train+validation)",
            lambda: corpora.load("bridge", root / "bridge"),
            raw_json(root / "bridge/dataset/train.json", root / "bridge/dataset/validation.json"),
        ),
        (
            "ncte_uptake",
            lambda: corpora.load("ncte_uptake", root / "ncte_uptake"),
            lambda: pd.read_csv(root / "ncte_uptake/data/uptake_data.csv"),
        ),
    ]
    print(f"python {sys.version.split()[0]}, pandas {pd.__version__}, cpus {os.cpu_count()}")
    print(f"{'corpus':<34} {'ours s':>9} {'raw s':>9} {'ratio':>8} {'ours MB':>9} {'raw MB':>9}")
    for name, ours_fn, raw_fn in small:
        ours_fn()  # warm imports and the OS file cache
        ours = timed(ours_fn, args.repeats)
        raw = timed(raw_fn, args.repeats)
        mo = mr_ = float("nan")
        if not args.skip_memory:
            mo, mr_ = peak_mb(ours_fn), peak_mb(raw_fn)
        row(name, ours, raw, mo, mr_)

    tm = root / "talkmoves"
    files = [f for _, f in discover(tm)]

    def raw_xlsx(engine: str) -> Callable[[], Any]:
        return lambda: [pd.read_excel(f, sheet_name=0, engine=engine) for f in files]

    corpus = corpora.load("talkmoves", tm)
    print(f"talkmoves: {len(files)} files, {len(corpus.turns)} turns")
    ours = timed(lambda: corpora.load("talkmoves", tm), args.talkmoves_repeats)
    raw_c = timed(raw_xlsx("calamine"), args.talkmoves_repeats)
    mo = mc = float("nan")
    if not args.skip_memory:
        mo, mc = peak_mb(lambda: corpora.load("talkmoves", tm)), peak_mb(raw_xlsx("calamine"))
    row("talkmoves vs read_excel(calamine)", ours, raw_c, mo, mc)
    if not args.skip_openpyxl:
        raw_o = timed(raw_xlsx("openpyxl"), args.openpyxl_repeats)
        row("talkmoves vs read_excel(openpyxl)", ours, raw_o, mo, float("nan"))
        print(
            f"  raw read_excel openpyxl/calamine: "
            f"{statistics.median(raw_o) / statistics.median(raw_c):.1f}x slower"
        )

    texts = corpus.turns["text"].tolist()

    def naive() -> None:
        for _ in _nlp().pipe(texts, batch_size=2000):
            pass

    _nlp()
    st = timed(lambda: corpus_stats(corpus), args.talkmoves_repeats)
    nv = timed(naive, 1)
    print(
        f"{'corpus_stats(talkmoves)':<34} {statistics.median(st):>9.3f} "
        f"{statistics.median(nv):>9.3f} {statistics.median(st) / statistics.median(nv):>7.2f}x"
        f"   (baseline: spaCy tokenizer+sentencizer over all {len(texts)} texts, no dedup; "
        f"n={len(st)}/{len(nv)})"
    )


if __name__ == "__main__":
    main()
