"""Benchmark: loading every corpus into the edudial schema vs. the raw parse of the same files.

Run from the repository root::

    python benchmarks/load.py                    # EDUDIAL_DATA or ../shared/corpora
    python benchmarks/load.py --quick            # skip TalkMoves and the SIGHT transcripts
    python benchmarks/load.py --only mathdial --only sight --repeats 9

For each case the script times, in the same run and interleaved (raw, loader, load, raw, ...), the
raw parse of the same files (``json`` or ``pandas.read_csv``; ``pandas.read_excel`` with calamine
for TalkMoves) and the loader, and prints medians and the ratio against the raw parse, as
context: there is no target. (The old "load within 2x the raw parse" target of issue 2 is
retired; the speed targets are now those of ``benchmarks/scale.py``, issue 12. Loaders keep one
plain parsing path unless this benchmark shows that speed code matters at realistic sizes.)
``load`` is ``corpora.load`` (loader + ``Corpus.validate()``); ``loader`` is the loader module
alone. The peak memory of one untimed run of each (``tracemalloc``) is shown too.

Extra context: the time to re-type the finished tables (``Corpus(...)``) and to validate them,
and a *floor*: the raw parse plus the per-row work the schema forces on any loader (MathDial:
the turn split; SIGHT: only allocating one ``meta`` dict per comment and per label). Then,
unless skipped: TalkMoves against ``read_excel`` with openpyxl (one run), ``corpus_stats`` on
TalkMoves against a naive spaCy pass, and SIGHT transcript sentence splitting in words per second.

TalkMoves (522 xlsx files, ~220k turns) is the slow case (~10 s a run): ``--quick`` or
``--only`` without ``talkmoves`` skips it. Add corpora by appending to ``CASES``.
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
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

import corpora  # noqa: E402
from corpora.registry import loader_module  # noqa: E402
from toolkit import Corpus  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One benchmark: a raw parse and a load of the same files (paths relative to EDUDIAL_DATA).

    ``raw`` takes the resolved ``path`` and parses exactly the files the loader reads.
    ``floor`` (optional) is an extra reference: the raw parse plus the per-row work the format
    forces on any loader. ``slow`` cases run ``--slow-repeats`` times and are skipped by --quick.
    """

    name: str
    corpus: str
    path: str
    raw: Callable[[Path], Any]
    raw_label: str
    options: dict[str, Any] = field(default_factory=dict)
    floor: Callable[[Path], Any] | None = None
    floor_label: str = ""
    slow: bool = False


def _json_lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _json_files(*names: str) -> Callable[[Path], Any]:
    def parse(folder: Path) -> list[Any]:
        return [json.loads((folder / n).read_text(encoding="utf-8")) for n in names]

    return parse


def _split_all(conversations: list[str]) -> Any:
    """The turn split the loader does (the Python parser)."""
    from corpora.mathdial import parse_conversation

    return [parse_conversation(c) for c in conversations]


def _mathdial_split_jsonl(path: Path) -> Any:
    return _split_all([r["conversation"] for r in _json_lines(path)])


def _mathdial_split_csv(path: Path) -> Any:
    return _split_all(pd.read_csv(path)["conversation"].tolist())


def _sight_meta_dicts(folder: Path) -> Any:
    """read_csv x2 plus only allocating the plain dicts the schema requires: one ``meta`` per
    comment row (a copy of a template with its non-label fields, values not even filled in) and
    one empty ``meta`` per label given. A strict lower bound for any loader of these files."""
    out = []
    for frame in _raw_sight(folder):
        labels = [c for c in frame.columns if str(c).startswith("annotator_")]
        fields = [c for c in frame.columns if c not in labels and c not in ("comment", "video_id")]
        out.append(list(map(dict.copy, repeat(dict.fromkeys(fields), len(frame)))))
        given = int(frame[labels].notna().to_numpy().sum())
        out.append(list(map(dict.copy, repeat({}, given))))
    return out


def _raw_sight(folder: Path) -> list[pd.DataFrame]:
    ann = folder / "data" / "annotations"
    return [
        pd.read_csv(ann / "sight_dataset.csv", sep=" "),
        pd.read_csv(ann / "sample_dataset.csv"),
    ]


def _tscc_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tsv"))


def _raw_tscc(folder: Path) -> list[pd.DataFrame]:
    return [pd.read_csv(f, sep="\t") for f in _tscc_files(folder)]


def _talkmoves_files(folder: Path) -> list[Path]:
    from corpora.talkmoves import discover

    return [f for _, f in discover(folder)]


def _raw_xlsx(engine: str) -> Callable[[Path], Any]:
    def parse(folder: Path) -> list[pd.DataFrame]:
        return [pd.read_excel(f, sheet_name=0, engine=engine) for f in _talkmoves_files(folder)]

    return parse


MRBENCH_FILES = (
    "MRBench/MRBench_V1.json",
    "MRBench/MRBench_V2.json",
    "BEA_Shared_Task_2025_Datasets/mrbench_v3_devset.json",
)

MAX_REPEATS = 41

CASES: list[Case] = [
    Case(
        "mathdial test.jsonl",
        "mathdial",
        "mathdial/data/test.jsonl",
        _json_lines,
        "json per line",
        floor=_mathdial_split_jsonl,
        floor_label="json + turn split",
    ),
    Case(
        "mathdial test.csv",
        "mathdial",
        "mathdial/data/test.csv",
        pd.read_csv,
        "read_csv",
        floor=_mathdial_split_csv,
        floor_label="read_csv + turn split",
    ),
    Case(
        "sight annotations (2 CSVs, no transcripts/metadata)",
        "sight",
        "sight",
        _raw_sight,
        "read_csv x2",
        {"transcripts": False, "metadata": False},
        floor=_sight_meta_dicts,
        floor_label="read_csv x2 + allocating the meta dicts",
    ),
    Case("cima", "cima", "cima", _json_files("dataset.json"), "json"),
    Case("mrbench (v1+v2+dev)", "mrbench", "mrbench", _json_files(*MRBENCH_FILES), "json x3"),
    Case(
        "bridge (train+validation)",
        "bridge",
        "bridge",
        _json_files("dataset/train.json", "dataset/validation.json"),
        "json x2",
    ),
    Case(
        "ncte_uptake",
        "ncte_uptake",
        "ncte_uptake",
        lambda p: pd.read_csv(p / "data" / "uptake_data.csv"),
        "read_csv",
    ),
    Case("tscc (licensed; all .tsv files)", "tscc", "tscc", _raw_tscc, "read_csv(tab)"),
    Case(
        "talkmoves (522 xlsx)",
        "talkmoves",
        "talkmoves",
        _raw_xlsx("calamine"),
        "read_excel calamine",
        slow=True,
    ),
]


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, runs interleaved so load drifts hit all alike.

    Also ``<key>_cpu``: the median process CPU time of the same runs (less sensitive to other jobs
    taking the cores; includes any helper threads).
    """
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times[key].append(time.perf_counter() - start)
            cpu[key].append(time.process_time() - start_cpu)
    out = {k: statistics.median(v) for k, v in times.items()}
    out.update({f"{k}_cpu": statistics.median(v) for k, v in cpu.items()})
    return out


def _peak_mib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _available(case: Case, root: Path) -> str | None:
    """None if the case can run, else why not."""
    path = root / case.path
    if not path.exists():
        return f"{path} not found"
    if case.corpus == "tscc" and not _tscc_files(path):
        return f"no .tsv lesson files under {path} (TSCC is licensed; bring your own copy)"
    return None


def run_case(case: Case, root: Path, repeats: int, memory: bool) -> dict[str, Any]:
    path = root / case.path
    module = loader_module(case.corpus)

    def raw() -> Any:
        return case.raw(path)

    def loader() -> Any:
        return module.load(path, **case.options)

    def full() -> Any:
        return corpora.load(case.corpus, path, **case.options)

    built = full()  # warm caches and imports
    raw()
    warm = _timed(full)
    if not case.slow:  # fast cases: more runs (about 1 s of loading), as noise is relatively larger
        repeats = max(repeats, min(MAX_REPEATS, int(1.0 / max(warm, 1e-3))))
    fns: dict[str, Callable[[], Any]] = {"raw": raw, "loader": loader, "load": full}
    if case.floor is not None:
        floor = case.floor
        fns["floor"] = lambda: floor(path)
    t = _interleaved(fns, repeats)
    # the schema's own share: re-typing the finished tables (Corpus.__init__) and validating them
    tables = (built.dialogues, built.turns, built.annotations)
    schema = _interleaved({"schema": lambda: Corpus(*tables), "validate": built.validate}, repeats)
    nan = float("nan")
    return {
        "case": case,
        "built": built,
        "n": repeats,
        "raw_ms": t["raw"] * 1e3,
        "loader_ms": t["loader"] * 1e3,
        "load_ms": t["load"] * 1e3,
        "floor_ms": t.get("floor", nan) * 1e3,
        "ratio_loader": t["loader"] / t["raw"],
        "ratio": t["load"] / t["raw"],
        "ratio_cpu": t["load_cpu"] / t["raw_cpu"],
        "schema_ms": schema["schema"] * 1e3,
        "validate_ms": schema["validate"] * 1e3,
        "raw_peak_mib": _peak_mib(raw) if memory else nan,
        "load_peak_mib": _peak_mib(full) if memory else nan,
    }


def openpyxl_reference(root: Path, repeats: int, calamine_ms: float) -> None:
    """TalkMoves' raw parse with openpyxl instead of calamine (context for the engine choice)."""
    parse = _raw_xlsx("openpyxl")
    folder = root / "talkmoves"
    seconds = statistics.median(_timed(lambda: parse(folder)) for _ in range(repeats))
    print(
        f"  talkmoves raw read_excel openpyxl: {seconds:.2f} s (n={repeats}) = "
        f"{seconds * 1e3 / calamine_ms:.1f}x the calamine read; the loader uses calamine "
        f"(engine='calamine' default, 'openpyxl' selectable)"
    )


def stats_speed(corpus: Corpus, repeats: int) -> None:
    """``corpus_stats`` against a naive spaCy pass over every turn text (no de-dup, no counting)."""
    from toolkit.stats import _nlp, corpus_stats

    texts = corpus.turns["text"].tolist()

    def naive() -> None:
        for _ in _nlp().pipe(texts, batch_size=2000):
            pass

    _nlp()
    ours = statistics.median(_timed(lambda: corpus_stats(corpus)) for _ in range(repeats))
    base = _timed(naive)
    print(
        f"corpus_stats(talkmoves): {ours:.2f} s vs {base:.2f} s for a naive spaCy "
        f"tokenizer+sentencizer pass over all {len(texts):,} texts = {ours / base:.2f}x "
        f"(n={repeats}/1)"
    )


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
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (>=5)")
    parser.add_argument(
        "--slow-repeats", type=int, default=3, help="timed runs for slow cases (TalkMoves; >=1)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        default=None,
        help="run only this corpus (repeatable), e.g. --only mathdial",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip slow cases (TalkMoves, corpus_stats) and the transcripts",
    )
    parser.add_argument(
        "--openpyxl-repeats",
        type=int,
        default=1,
        help="runs of the TalkMoves openpyxl reference (0 skips it)",
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument(
        "--transcripts",
        type=int,
        default=None,
        help="number of SIGHT transcripts to split (default: all)",
    )
    parser.add_argument("--skip-transcripts", action="store_true")
    args = parser.parse_args(argv)
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    if args.slow_repeats < 1:
        parser.error("--slow-repeats must be at least 1")
    names = {c.corpus for c in CASES}
    unknown = sorted(set(args.only or ()) - names)
    if unknown:
        choices = ", ".join(sorted(names))
        parser.error(f"unknown --only {', '.join(unknown)} (choose from {choices})")
    root = Path(os.environ.get("EDUDIAL_DATA") or REPO.parent / "shared" / "corpora")
    if not root.is_dir():
        parser.error(f"corpora folder not found: {root} (set EDUDIAL_DATA)")
    cases = [
        c
        for c in CASES
        if (args.only is None or c.corpus in args.only) and not (args.quick and c.slow)
    ]
    print(
        f"data: {root}; medians of n interleaved runs (n >= {args.repeats}, more for fast cases; "
        f"{args.slow_repeats} for slow cases); python {sys.version.split()[0]}, "
        f"pandas {pd.__version__}, cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'case':<52} {'raw ms':>9} {'loader ms':>10} {'load ms':>9} {'loader/raw':>10} "
        f"{'load/raw':>9} {'(cpu)':>7} {'raw MiB':>8} {'load MiB':>9} {'n':>3}  raw = "
    )
    print(header)
    print("-" * (len(header) + 20))
    results = []
    for case in cases:
        why = _available(case, root)
        if why:
            print(f"{case.name:<52} skipped: {why}")
            continue
        repeats = args.slow_repeats if case.slow else args.repeats
        r = run_case(case, root, repeats, memory=not args.skip_memory)
        results.append(r)
        print(
            f"{case.name:<52} {r['raw_ms']:>9.1f} {r['loader_ms']:>10.1f} {r['load_ms']:>9.1f} "
            f"{r['ratio_loader']:>9.2f}x {r['ratio']:>8.2f}x {r['ratio_cpu']:>6.2f}x "
            f"{r['raw_peak_mib']:>8.1f} "
            f"{r['load_peak_mib']:>9.1f} {r['n']:>3}  {case.raw_label}"
        )
    print("load = corpora.load (loader + Corpus.validate); loader = the loader module alone;")
    print("(cpu) = load/raw in process CPU time of the same runs (less hit by other jobs)")
    print("MiB = tracemalloc peak of one run (Python allocations only; Arrow/C buffers unseen)")
    print("extra context (not the baseline):")
    for r in results:
        case = r["case"]
        line = (
            f"  {case.name}: re-typing finished tables with Corpus() {r['schema_ms']:.1f} ms "
            f"({r['schema_ms'] / r['raw_ms']:.2f}x raw), validate {r['validate_ms']:.1f} ms "
            f"({r['validate_ms'] / r['raw_ms']:.2f}x raw)"
        )
        if case.floor is not None:
            with_validate = r["floor_ms"] + r["validate_ms"]
            line += (
                f"; {case.floor_label} {r['floor_ms']:.1f} ms "
                f"({r['floor_ms'] / r['raw_ms']:.2f}x raw), that + validate "
                f"{with_validate / r['raw_ms']:.2f}x raw (a lower bound for load/raw "
                "with today's validate)"
            )
        print(line)
    if results:
        worst = max(results, key=lambda r: r["ratio"])
        print(f"worst load/raw ratio: {worst['ratio']:.2f}x ({worst['case'].name}); context only")
    talkmoves = next((r for r in results if r["case"].corpus == "talkmoves"), None)
    if talkmoves is not None:
        if args.openpyxl_repeats > 0:
            openpyxl_reference(root, args.openpyxl_repeats, talkmoves["raw_ms"])
        stats_speed(talkmoves["built"], args.slow_repeats)
    want_sight = args.only is None or "sight" in args.only
    if (
        want_sight
        and not args.quick
        and not args.skip_transcripts
        and (root / "sight" / "data" / "transcripts").is_dir()
    ):
        s = transcript_speed(root, args.transcripts)
        print(
            f"SIGHT transcript sentence splitting: {s['files']} files, {s['words']:,} words, "
            f"{s['sentences']:,} sentences in {s['seconds']:.1f} s = "
            f"{s['words_per_second']:,.0f} words/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
