"""Benchmark: importing a 1M-row transcript CSV vs. ``pandas.read_csv`` of the same file.

Run from the repository root::

    python benchmarks/transcripts.py                 # 1,000,000 rows, 3 repeats
    python benchmarks/transcripts.py --rows 200000 --repeats 5

A synthetic CSV is written once (untimed) to a temporary folder: 2,000 lessons of 500 turns,
columns ``lesson, turn, speaker, utterance, start, code_a, code_b, note`` (speakers T, S1..S9,
Ms. Lee and a few names; codes from a 6-label set, blank on student turns; a free-text note on
one row in ten). Timed, interleaved, in the same run (medians):

* baseline: ``pandas.read_csv(path)`` + ``Corpus(...).validate()`` of the three tables built
  the cheapest way from it (the rows as turns, ids from a vectorised string concat, one empty
  meta dict per row) — what reading the file plus the schema's validation costs at least;
* ``corpora.load("transcripts", path, order="turn", code=[...])`` with two coder columns.

Target: import / baseline <= 3.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import corpora  # noqa: E402
from toolkit import Corpus  # noqa: E402

LABELS = np.array(["press", "revoice", "restate", "together", "relate", "none"])
SPEAKERS = np.array(["T", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "Ms. Lee", "Maya", "Jayden"])


def write_csv(path: Path, rows: int, per_lesson: int = 500) -> None:
    """The synthetic transcript table (deterministic)."""
    rng = np.random.default_rng(0)
    speaker = SPEAKERS[rng.integers(0, len(SPEAKERS), rows)]
    teacher = np.isin(speaker, ["T", "Ms. Lee"])
    words = np.array(["what", "is", "three", "times", "four", "we", "add", "the", "tens", "so"])
    lengths = rng.integers(3, 14, rows)
    vocab = words[rng.integers(0, len(words), lengths.sum())]
    cuts = np.cumsum(lengths)[:-1]
    utterances = [" ".join(w) for w in np.split(vocab, cuts)]
    code_a = np.where(teacher, LABELS[rng.integers(0, len(LABELS), rows)], "")
    code_b = np.where(teacher, LABELS[rng.integers(0, len(LABELS), rows)], "")
    frame = pd.DataFrame(
        {
            "lesson": [f"lesson{i // per_lesson:04d}" for i in range(rows)],
            "turn": np.arange(rows) % per_lesson + 1,
            "speaker": speaker,
            "utterance": utterances,
            "start": [f"00:{(i % 3600) // 60:02d}:{i % 60:02d}" for i in range(rows)],
            "code_a": code_a,
            "code_b": code_b,
            "note": np.where(np.arange(rows) % 10 == 0, "checked, see memo", ""),
        }
    )
    frame.to_csv(path, index=False)


def baseline(path: Path) -> Corpus:
    """read_csv + the cheapest schema tables + validate."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    dialogue = raw["lesson"]
    turns = pd.DataFrame(
        {
            "corpus": "transcripts",
            "dialogue_id": dialogue,
            "turn_id": dialogue + ":" + raw["turn"],
            "index": raw["turn"].astype("int64") - 1,
            "role": "other",
            "speaker": raw["speaker"],
            "text": raw["utterance"],
            "meta": [{} for _ in range(len(raw))],
        }
    )
    ids = pd.unique(dialogue)
    dialogues = pd.DataFrame(
        {
            "corpus": "transcripts",
            "dialogue_id": ids,
            "split": None,
            "kind": None,
            "meta": [{} for _ in ids],
        }
    )
    return Corpus(dialogues, turns).validate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lessons.csv"
        write_csv(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB")
        times: dict[str, list[float]] = {"baseline": [], "import": []}
        corpus = None
        for _ in range(args.repeats):
            start = time.perf_counter()
            baseline(path)
            times["baseline"].append(time.perf_counter() - start)
            start = time.perf_counter()
            corpus = corpora.load(
                "transcripts",
                path,
                order="turn",
                code=["code_a=moves@A", "code_b=moves@B"],
            )
            times["import"].append(time.perf_counter() - start)
    base, ours = (statistics.median(times[k]) for k in ("baseline", "import"))
    print(f"baseline (read_csv + cheapest tables + validate): {base:.2f} s")
    print(f"corpora.load('transcripts', ...):                {ours:.2f} s")
    ratio = ours / base
    print(f"ratio {ratio:.2f}x (target <= 3x): {'OK' if ratio <= 3 else 'OVER'}")
    print(corpus)


if __name__ == "__main__":
    main()
