"""Benchmark: kill -9 at random moments while corpora are saved over the same path.

Run from the repository root::

    python benchmarks/kill_saves.py                  # 15 kills of each of 4 ways to save
    python benchmarks/kill_saves.py --kills 25 --seed 3

Each way to save runs in a child process that saves over one path again and again; the child
is killed (SIGKILL) after a random wait (seeded), ``--kills`` times:

* ``Corpus.save``: the bundled sample and a 3-dialogue part of it, alternately, Parquet / JSONL;
* ``load -o``: ``edudial load tscc tests/fixtures/tscc -o OUT --force``;
* ``code import``: ``edudial code import ana.xlsx --into CORPUS`` (in place, as coders do);
* ``deid -o``: ``edudial deid CORPUS -o OUT --force``.

After each kill the path is checked as the next command would find it (``read_corpus``, which
finishes an interrupted swap and validates): **lost** (no corpus at the path), **half-written**
(a corpus that does not read, or reads but is neither the old nor the new version), or sound.
"mid-swap" counts kills that left the path empty with the old corpus set aside (recovered by
the read). After all kills of a way, one more save runs; **stale temporaries** are the hidden
``.NAME.*`` siblings still there after it (before it: what the kills left).

Target: 0 lost, 0 half-written, 0 stale temporaries after the rerun.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.cli import main  # noqa: E402
from toolkit.demo import bundled_sample  # noqa: E402
from toolkit.errors import EdudialError  # noqa: E402
from toolkit.io import read_corpus  # noqa: E402
from toolkit.schema import Corpus  # noqa: E402

LOOP = """
import os, sys
from toolkit.cli import main
args = sys.argv[1:]
print("ready", flush=True)
sys.stdout = open(os.devnull, "w")
while True:
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, exc.code
"""

SAVER = """
import sys
from pathlib import Path
from toolkit.demo import bundled_sample
a = bundled_sample()
b = a.filter(dialogue_id=sorted(set(a.dialogues["dialogue_id"]))[:3])
out = Path(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    (a if i % 2 else b).save(out, format=("parquet", "jsonl")[i % 3 == 0], overwrite=True)
    i += 1
"""


def _cli(*args: object) -> None:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main([str(a) for a in args])
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"edudial {' '.join(map(str, args))} exited {exc.code}") from None


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@dataclasses.dataclass
class Way:
    """One way to save: the child's command, the path it saves over, the versions allowed."""

    name: str
    script: str
    args: list[str]
    out: Path
    versions: list[Corpus]
    rerun: Callable[[], None]


def _ways(work: Path) -> list[Way]:
    a = bundled_sample()
    b = a.filter(dialogue_id=sorted(set(a.dialogues["dialogue_id"]))[:3])
    saved = a.save(work / "save.corpus")
    ways = [
        Way("Corpus.save", SAVER, [str(saved)], saved, [a, b],
            lambda: a.save(saved, overwrite=True)),
    ]  # fmt: skip

    src = ROOT / "tests" / "fixtures" / "tscc"
    loaded = work / "load.corpus"
    load_args = ["load", "tscc", str(src), "-o", str(loaded), "--force"]
    _cli(*load_args)
    ways.append(Way("load -o", LOOP, load_args, loaded, [read_corpus(loaded)],
                    lambda: _cli(*load_args)))  # fmt: skip

    coded = a.save(work / "code.corpus")
    _cli("code", "sample", coded, "--rubric", "mathdial-moves", "--n", 8, "--seed", 1,
         "-o", work / "s.json")  # fmt: skip
    _cli("code", "export", coded, "--rubric", "mathdial-moves", "--coders", "ana",
         "--sample", work / "s.json", "-o", work / "coding")  # fmt: skip
    book = work / "coding" / "ana.xlsx"
    import openpyxl

    wb = openpyxl.load_workbook(book)
    for (cell,) in wb["Code"].iter_rows(min_row=2, min_col=4, max_col=4):
        cell.value = "focus"
    wb.save(book)
    old = read_corpus(coded)
    import_args = ["code", "import", str(book), "--into", str(coded)]
    probe = work / "probe.corpus"
    a.save(probe)
    _cli("code", "import", book, "--into", probe)
    ways.append(Way("code import", LOOP, import_args, coded, [old, read_corpus(probe)],
                    lambda: _cli(*import_args)))  # fmt: skip

    deid_out = work / "deid.corpus"
    raw = a.save(work / "deid-src.corpus")
    deid_args = ["deid", str(raw), "-o", str(deid_out), "--force"]
    _cli(*deid_args)
    ways.append(Way("deid -o", LOOP, deid_args, deid_out, [read_corpus(deid_out)],
                    lambda: _cli(*deid_args)))  # fmt: skip
    return ways


def kill_at_random(script: str, args: list[str], rng: random.Random, most: float) -> None:
    """Run ``script`` (a ``-c`` program that prints ``ready`` and then saves in a loop) and
    kill it with SIGKILL after a random wait of up to ``most`` seconds."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=err,
        )
        try:
            assert proc.stdout is not None
            ready = proc.stdout.readline().strip() == b"ready"
            if ready:
                time.sleep(rng.uniform(0.0, most))
            if not ready or proc.poll() is not None:
                proc.wait()
                err.seek(0)
                raise RuntimeError(f"the child ended before the kill: {err.read().decode()}")
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()


def _kill_once(way: Way, rng: random.Random, most: float) -> None:
    try:
        kill_at_random(way.script, way.args, rng, most)
    except RuntimeError as exc:
        raise RuntimeError(f"{way.name}: {exc}") from None


def run(kills: int, seed: int, most: float) -> dict[str, dict[str, int]]:
    rng = random.Random(seed)
    results: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for way in _ways(Path(tmp)):
            r = {"kills": 0, "lost": 0, "half": 0, "mid_write": 0, "mid_swap": 0, "stale": 0}
            for _ in range(kills):
                _kill_once(way, rng, most)
                r["kills"] += 1
                hidden = _hidden(way.out)
                r["mid_write"] += any(".tmp-" in h for h in hidden)
                r["mid_swap"] += not way.out.exists() and any(".old-" in h for h in hidden)
                try:
                    got = read_corpus(way.out)
                except EdudialError as exc:
                    if "no such corpus directory" in str(exc):
                        r["lost"] += 1
                    else:
                        r["half"] += 1
                    continue
                if not any(got == v for v in way.versions):
                    r["half"] += 1
            way.rerun()
            r["stale"] = len(_hidden(way.out))
            results[way.name] = r
            print(
                f"{way.name:12} kills {r['kills']:3}  lost {r['lost']}  half-written {r['half']}  "
                f"left a temporary {r['mid_write']:2}  mid-swap (recovered) {r['mid_swap']}  "
                f"stale temporaries after rerun {r['stale']}",
                flush=True,
            )
    return results


def main_(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=15, help="kills per way to save (default 15)")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--most", type=float, default=0.6, help="longest wait before a kill (s)")
    ns = ap.parse_args(argv)
    t0 = time.monotonic()
    res = run(ns.kills, ns.seed, ns.most)
    total = {k: sum(r[k] for r in res.values()) for k in ("kills", "lost", "half", "stale")}
    print(
        f"total: kills {total['kills']}, corpora lost {total['lost']}, half-written "
        f"{total['half']}, stale temporaries after reruns {total['stale']} "
        f"({time.monotonic() - t0:.0f} s)"
    )
    return 0 if total["lost"] == total["half"] == total["stale"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main_())
