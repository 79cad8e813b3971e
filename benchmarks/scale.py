"""Benchmark: a synthetic corpus of millions of turns against pyarrow and pandas alone (issue 12).

Run from the repository root::

    python benchmarks/scale.py                           # 1M and 5M turns, 3 repeats
    python benchmarks/scale.py --turns 200000 --repeat 5
    python benchmarks/scale.py --turns 1000000 --meta dicts   # build meta as dicts (the old way)

The corpus has 50 turns per dialogue, two small ``meta`` fields per turn (``line``, ``start``),
one field per dialogue, one annotation for every fifth turn and one per dialogue. Each step is
timed against the same work done with pyarrow or pandas alone, measured in the same run,
interleaved, and reported as medians with the ratio (targets: at most 2x):

- ``save``: ``Corpus.save`` vs ``pyarrow.parquet.write_table`` of the same three tables (``meta``
  already encoded as edudial stores it);
- ``read``: ``read_corpus(validate=False)`` vs ``pyarrow.parquet.read_table(...).to_pandas()`` of
  the same files;
- ``read_checked``: ``read_corpus`` (the default: every check of a saved corpus) vs the same
  ``read_table`` calls followed by the schema's checks in pandas (``pandas_validate``);
- ``read_pushdown``: ``read_corpus(columns=..., filters=...)`` (teacher turns of one split) vs the
  same ``read_table`` call;
- ``filter_role``, ``filter_split``: ``Corpus.filter`` vs boolean masks and ``isin`` in pandas;
- ``iterate``: ``for dialogue in corpus`` vs ``groupby`` over turns and annotations;
- ``validate``: ``Corpus.validate()`` vs the same checks written with ``duplicated``/``isin``.

Then, unless ``--no-memory``: the peak memory (RSS above the interpreter's) of reading and saving
the corpus in a fresh process, against the size of its in-memory Arrow tables (target: at most
2x). Every edudial result is checked against its baseline's (same rows), so the ratios compare
equal work. ``tests/test_benchmark_scale.py`` runs this code at 10,000 turns.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from toolkit import Corpus, read_corpus  # noqa: E402

TABLES = ("dialogues", "turns", "annotations")
TURNS_PER_DIALOGUE = 50
ROLES = np.array(["teacher", "student", "student", "other"])
LABELS = np.array(["probing", "telling", "focus", "generic", "none"])
WORDS = [
    "why",
    "do",
    "you",
    "think",
    "that",
    "the",
    "answer",
    "is",
    "seven",
    "because",
    "three",
    "plus",
    "four",
    "makes",
]


@dataclass
class Row:
    """One line of the results table: edudial's median, the baseline's, and their ratio."""

    turns: int
    step: str
    edudial: float
    baseline: float

    @property
    def ratio(self) -> float:
        return self.edudial / self.baseline if self.baseline > 0 else float("inf")


# ---------------------------------------------------------------------------- synthetic data
def _texts(rng: np.random.Generator, n: int) -> np.ndarray:
    pool = np.array([" ".join(rng.choice(WORDS, size=k)) + "?" for k in range(1, 40)] * 25)
    return pool[rng.integers(0, len(pool), size=n)]


def synthetic_tables(n_turns: int, *, meta: str = "text", seed: int = 0) -> dict[str, pd.DataFrame]:
    """The three tables of a synthetic corpus with ``n_turns`` turns (``meta``: text or dicts)."""
    rng = np.random.default_rng(seed)
    n_dlg = max(1, -(-n_turns // TURNS_PER_DIALOGUE))
    dlg_num = np.arange(n_turns) // TURNS_PER_DIALOGUE
    index = np.arange(n_turns) % TURNS_PER_DIALOGUE
    dialogue_ids = pd.Series(np.arange(n_dlg)).astype(str).radd("lesson")
    turn_dlg = dialogue_ids.to_numpy()[dlg_num]
    turn_ids = pd.Series(turn_dlg).str.cat(pd.Series(index).astype(str), sep=":")
    start = pd.Series(index * 7.5 + rng.integers(0, 5, n_turns)).map("{:.1f}".format)
    turn_meta = '{"line": ' + pd.Series(index + 1).astype(str) + ', "start": ' + start + "}"
    dialogues = pd.DataFrame(
        {
            "corpus": "synthetic",
            "dialogue_id": dialogue_ids,
            "split": np.where(np.arange(n_dlg) % 5 == 0, "test", "train"),
            "kind": "lesson",
            "meta": '{"grade": ' + pd.Series(np.arange(n_dlg) % 12 + 1).astype(str) + "}",
        }
    )
    turns = pd.DataFrame(
        {
            "corpus": "synthetic",
            "dialogue_id": turn_dlg,
            "turn_id": turn_ids,
            "index": index,
            "role": ROLES[rng.integers(0, len(ROLES), n_turns)],
            "speaker": np.where(index % 2 == 0, "Teacher", "S" + str(seed)),
            "text": _texts(rng, n_turns),
            "meta": turn_meta,
        }
    )
    coded = turn_ids[::5].reset_index(drop=True)
    units = pd.concat([coded, dialogue_ids], ignore_index=True)
    n_ann = len(units)
    annotations = pd.DataFrame(
        {
            "corpus": "synthetic",
            "unit_id": units,
            "scheme": np.where(np.arange(n_ann) < len(coded), "move", "quality"),
            "label": LABELS[rng.integers(0, len(LABELS), n_ann)],
            "rater": "coder_a",
            "rater_kind": "human",
            "run_id": None,
            "meta": np.where(np.arange(n_ann) < len(coded), "{}", '{"round": 1}'),
        }
    )
    tables = {"dialogues": dialogues, "turns": turns, "annotations": annotations}
    if meta == "dicts":
        for frame in tables.values():
            frame["meta"] = [json.loads(m) for m in frame["meta"]]
    return tables


# ------------------------------------------------------------------------- plain baselines
def arrow_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pa.Table]:
    """The tables as Arrow, ``meta`` as the JSON text edudial stores."""
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        if len(frame) and not isinstance(frame["meta"].iloc[0], str):
            frame["meta"] = [json.dumps(m, sort_keys=True) for m in frame["meta"]]
        out[name] = pa.Table.from_pandas(frame, preserve_index=False)
    return out


def isin(values: pd.Series, allowed: pd.Series) -> pd.Series:
    """``values.isin(allowed)`` on object arrays: the fastest plain pandas form measured here.

    pandas 3.1's ``isin`` on Arrow strings against a large value set costs ~25 us per value (2.5 s
    for 100,000 turn ids on this machine), which would make a weak baseline.
    """
    return values.astype(object).isin(allowed.astype(object))


def pandas_filter_role(d: pd.DataFrame, t: pd.DataFrame, a: pd.DataFrame, role: str) -> tuple:
    t2 = t[t["role"] == role]
    d2 = d[isin(d["dialogue_id"], t2["dialogue_id"])]
    a2 = a[isin(a["unit_id"], t2["turn_id"]) | isin(a["unit_id"], d2["dialogue_id"])]
    return d2, t2, a2


def pandas_filter_split(d: pd.DataFrame, t: pd.DataFrame, a: pd.DataFrame, split: str) -> tuple:
    d2 = d[d["split"] == split]
    t2 = t[isin(t["dialogue_id"], d2["dialogue_id"])]
    a2 = a[isin(a["unit_id"], t2["turn_id"]) | isin(a["unit_id"], d2["dialogue_id"])]
    return d2, t2, a2


def pandas_iterate(d: pd.DataFrame, t: pd.DataFrame, a: pd.DataFrame) -> Iterator[tuple]:
    """Each dialogue row with its turn group and annotation group (``groupby``)."""
    unit_dlg = pd.concat(
        [
            pd.Series(t["dialogue_id"].to_numpy(), index=t["turn_id"]),
            pd.Series(d["dialogue_id"].to_numpy(), index=d["dialogue_id"]),
        ]
    )
    t_groups = dict(tuple(t.groupby("dialogue_id", sort=False)))
    a_groups = dict(tuple(a.groupby(a["unit_id"].map(unit_dlg), sort=False)))
    for row in d.itertuples(index=False):
        yield row, t_groups[row.dialogue_id], a_groups.get(row.dialogue_id)


def pandas_validate(d: pd.DataFrame, t: pd.DataFrame, a: pd.DataFrame) -> bool:
    """The schema's checks for one corpus, written with ``duplicated`` and ``isin``."""
    units = pd.concat([t["turn_id"], d["dialogue_id"]])
    return not (
        d["dialogue_id"].isna().any()
        or t["turn_id"].isna().any()
        or a["unit_id"].isna().any()
        or d["dialogue_id"].duplicated().any()
        or t["turn_id"].duplicated().any()
        or isin(d["dialogue_id"], t["turn_id"]).any()
        or not isin(t["dialogue_id"], d["dialogue_id"]).all()
        or not isin(d["dialogue_id"], t["dialogue_id"]).all()
        or not t["role"].isin(["teacher", "student", "other"]).all()
        or not a["rater_kind"].isin(["human", "model", "rule"]).all()
        or not isin(a["unit_id"], units).all()
        or a.fillna({"run_id": ""}).duplicated(["unit_id", "scheme", "rater", "run_id"]).any()
    )


# ------------------------------------------------------------------------------- timing
def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def compare(
    turns: int, step: str, ours: Callable[[], Any], base: Callable[[], Any], repeat: int
) -> tuple[Row, Any, Any]:
    """Time ``ours`` and ``base`` interleaved (one of each per round) and keep the medians."""
    t_ours, t_base, r_ours, r_base = [], [], None, None
    for _ in range(repeat):
        s, r_base = median_time(base, 1)
        t_base.append(s)
        s, r_ours = median_time(ours, 1)
        t_ours.append(s)
    row = Row(turns, step, statistics.median(t_ours), statistics.median(t_base))
    print(f"{turns:>9,} {step:<14} {row.edudial:8.3f} s {row.baseline:8.3f} s {row.ratio:6.2f}x")
    return row, r_ours, r_base


def _same_rows(step: str, ours: Corpus, base: tuple) -> None:
    for name, frame in zip(TABLES, base, strict=True):
        if len(getattr(ours, name)) != len(frame):
            raise AssertionError(f"{step}: {name} has {len(getattr(ours, name))} != {len(frame)}")


# ---------------------------------------------------------------------------------- steps
def run_size(n_turns: int, *, repeat: int, meta: str, workdir: Path) -> list[Row]:
    """Every timed step at one size; returns the rows printed."""
    tables = synthetic_tables(n_turns, meta=meta)
    start = time.perf_counter()
    corpus = Corpus(tables["dialogues"], tables["turns"], tables["annotations"])
    print(f"{n_turns:>9,} build Corpus from frames: {time.perf_counter() - start:.3f} s ({meta})")
    arrow = arrow_tables(tables)
    rows = [*io_steps(n_turns, corpus, arrow, repeat, workdir)]
    d, t, a = corpus.dialogues, corpus.turns, corpus.annotations
    plain_filters = {
        "filter_role": lambda: pandas_filter_role(d, t, a, "teacher"),
        "filter_split": lambda: pandas_filter_split(d, t, a, "test"),
    }
    ours_filters = {
        "filter_role": lambda: corpus.filter(role="teacher"),
        "filter_split": lambda: corpus.filter(split="test"),
    }
    for name, plain_filter in plain_filters.items():
        row, ours, base = compare(n_turns, name, ours_filters[name], plain_filter, repeat)
        _same_rows(name, ours, base)
        rows.append(row)
    row, ours, base = compare(
        n_turns,
        "iterate",
        lambda: sum(len(x.turns) + len(x.annotations) for x in corpus),
        lambda: sum(len(g) + (0 if h is None else len(h)) for _, g, h in pandas_iterate(d, t, a)),
        repeat,
    )
    if ours != base:
        raise AssertionError(f"iterate: {ours} rows != {base}")
    rows.append(row)
    row, _, ok = compare(
        n_turns, "validate", corpus.validate, lambda: pandas_validate(d, t, a), repeat
    )
    if not ok:
        raise AssertionError("the synthetic corpus fails the plain pandas checks")
    rows.append(row)
    return rows


def io_steps(
    n_turns: int, corpus: Corpus, arrow: dict[str, pa.Table], repeat: int, workdir: Path
) -> list[Row]:
    ours_dir, base_dir = workdir / "ours", workdir / "base"
    base_dir.mkdir(exist_ok=True)

    def base_save() -> None:
        for name, table in arrow.items():
            pq.write_table(table, base_dir / f"{name}.parquet")

    row_save, _, _ = compare(
        n_turns, "save", lambda: corpus.save(ours_dir, overwrite=True), base_save, repeat
    )

    def base_read() -> dict[str, pd.DataFrame]:
        return {n: pq.read_table(ours_dir / f"{n}.parquet").to_pandas() for n in TABLES}

    def ours_read() -> Corpus:
        return read_corpus(ours_dir, validate=False)

    row_read, back, _ = compare(n_turns, "read", ours_read, base_read, repeat)
    if back != corpus:
        raise AssertionError("read_corpus(save(corpus)) != corpus")

    def base_checked() -> dict[str, pd.DataFrame]:
        tables = base_read()
        if not pandas_validate(tables["dialogues"], tables["turns"], tables["annotations"]):
            raise AssertionError("the saved corpus fails the pandas checks")
        return tables

    row_checked, _, _ = compare(
        n_turns, "read_checked", lambda: read_corpus(ours_dir), base_checked, repeat
    )
    rows = [row_save, row_read, row_checked]
    rows.extend(pushdown_step(n_turns, ours_dir, repeat))
    return rows


def pushdown_step(n_turns: int, directory: Path, repeat: int) -> list[Row]:
    """Teacher turns of the test split, read with pushdown, against the same pyarrow read."""
    import inspect

    if "filters" not in inspect.signature(read_corpus).parameters:
        print(f"{n_turns:>9,} read_pushdown  (read_corpus has no filters= here)")
        return []
    columns = ["corpus", "dialogue_id", "turn_id", "role", "text"]

    def base() -> pd.DataFrame:
        d = pq.read_table(directory / "dialogues.parquet", filters=[("split", "=", "test")])
        ids = d.column("dialogue_id").to_pylist()
        filters = [("role", "=", "teacher"), ("dialogue_id", "in", ids)]
        return pq.read_table(
            directory / "turns.parquet", columns=columns, filters=filters
        ).to_pandas()

    def ours() -> Corpus:
        return read_corpus(  # type: ignore[call-arg]
            directory, columns={"turns": columns}, filters={"split": "test", "role": "teacher"}
        )

    row, got, want = compare(n_turns, "read_pushdown", ours, base, repeat)
    if len(got.turns) != len(want):
        raise AssertionError(f"read_pushdown: {len(got.turns)} turns != {len(want)}")
    return [row]


# --------------------------------------------------------------------------------- memory
def _peak_rss_kb(reset: bool = False) -> int:
    """This process's peak RSS (VmHWM), optionally reset to the current RSS first.

    ``ru_maxrss`` would not do: Linux carries the parent's peak over fork and exec, and the
    parent holds the whole corpus. Writing 5 to ``clear_refs`` resets the peak (Linux >= 4.0).
    """
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: an upper bound


def memory_child(directory: str, how: str = "edudial") -> None:
    """In a fresh process: read the corpus and save it again; print RSS figures as JSON.

    ``how="pyarrow"`` does the same with ``read_table`` and ``write_table`` alone, for context.
    """
    base = _peak_rss_kb(reset=True)
    out = Path(directory).with_name(f"resaved-{how}")
    if how == "edudial":
        read_corpus(directory).save(out, overwrite=True)
    else:
        out.mkdir(exist_ok=True)
        tables = {n: pq.read_table(Path(directory) / f"{n}.parquet") for n in TABLES}
        for name, table in tables.items():
            pq.write_table(table, out / f"{name}.parquet")
    peak = _peak_rss_kb()
    print(json.dumps({"base_kb": base, "peak_kb": peak}))


def _child_peak_mb(directory: Path, how: str) -> float:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from toolkit import read_corpus; import pandas, pyarrow.parquet; "
        "sys.path.insert(0, sys.argv[2]); import scale; "
        "scale.memory_child(sys.argv[3], sys.argv[4])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO), str(REPO / "benchmarks"), str(directory), how],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return float(figures["peak_kb"] - figures["base_kb"]) / 1e3


def memory_step(n_turns: int, workdir: Path) -> dict[str, float]:
    directory = workdir / "ours"
    arrow_mb = sum(pq.read_table(directory / f"{n}.parquet").nbytes for n in TABLES) / 1e6
    peak_mb, arrow_only_mb = (_child_peak_mb(directory, how) for how in ("edudial", "pyarrow"))
    print(
        f"{n_turns:>9,} memory         load+save peak {peak_mb:8.0f} MB above the interpreter; "
        f"Arrow tables {arrow_mb:6.0f} MB; {peak_mb / arrow_mb:5.2f}x "
        f"(pyarrow read_table+write_table alone: {arrow_only_mb:.0f} MB, "
        f"{arrow_only_mb / arrow_mb:.2f}x)"
    )
    return {"turns": n_turns, "peak_mb": peak_mb, "arrow_mb": arrow_mb, "pyarrow_mb": arrow_only_mb}


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", default="1000000,5000000", help="comma-separated sizes")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--meta", choices=("text", "dicts"), default="text")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory step")
    args = parser.parse_args(argv)
    print(f"{'turns':>9} {'step':<14} {'edudial':>10} {'baseline':>10} {'ratio':>7}")
    rows: list[Row] = []
    for n in (int(x) for x in args.turns.split(",")):
        workdir = Path(tempfile.mkdtemp(prefix="edudial-scale-"))
        try:
            rows.extend(run_size(n, repeat=args.repeat, meta=args.meta, workdir=workdir))
            if not args.no_memory:
                memory_step(n, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
