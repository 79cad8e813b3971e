"""Benchmark: de-identifying TalkMoves with a 200-name roster vs. one compiled regex substitution.

Run from the repository root::

    python benchmarks/deid.py                     # EDUDIAL_DATA or ../shared/corpora
    python benchmarks/deid.py --repeats 5 --corpus tm.corpus   # a saved TalkMoves corpus

The corpus (TalkMoves, 219,662 turns) is loaded once, untimed. The roster is 200 synthetic full
names (first and last names drawn from fixed lists, so every run uses the same ones). Timed,
interleaved, in the same run (medians):

* baseline: ``[rx.sub("[NAME]", t) for t in texts]`` with one compiled, case-insensitive,
  word-bounded alternation of the roster's 600 name variants (full, first, last), i.e. the least
  any name replacement must do;
* ``toolkit.deidentify(corpus, roster=names)``: speakers and roster, pseudonyms per role, common-
  word rule, e-mails/URLs/phones/handles, speakers, every meta string and ids, the record.

Target: deidentify / baseline <= 3.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import corpora  # noqa: E402
from toolkit import Corpus, deidentify, read_corpus  # noqa: E402
from toolkit.scrub import name_variants  # noqa: E402

FIRST = [
    "Maya",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Elijah",
    "Ava",
    "Lucas",
    "Sophia",
    "Mateo",
    "Isabella",
    "Levi",
    "Mia",
    "Asher",
    "Amelia",
    "Ezra",
    "Harper",
    "Leo",
    "Evelyn",
    "Kai",
    "Aria",
    "Theo",
    "Luna",
    "Ivan",
    "Chloe",
    "Omar",
    "Zoe",
    "Jamal",
    "Nora",
    "Diego",
]
LAST = [
    "Patel",
    "Garcia",
    "Nguyen",
    "Okafor",
    "Smith",
    "Johnson",
    "Kowalski",
    "Haddad",
    "Rossi",
    "Tanaka",
    "Silva",
    "Murphy",
    "Cohen",
    "Andersen",
    "Mendez",
    "Kaur",
    "Novak",
    "Dubois",
    "Yilmaz",
    "Ochoa",
]


def roster(n: int = 200) -> list[str]:
    """``n`` distinct synthetic full names, the same on every run."""
    return [
        f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + i // len(FIRST)) % len(LAST)]}" for i in range(n)
    ]


def baseline(texts: list[str], names: list[str]) -> list[str]:
    variants = sorted({v for n in names for v in name_variants(n)}, key=len, reverse=True)
    rx = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, variants)) + r")(?!\w)", re.I)
    return [rx.sub("[NAME]", t) for t in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--corpus", type=Path, help="a saved TalkMoves corpus (else load it)")
    args = parser.parse_args()
    if args.corpus is not None:
        corpus: Corpus = read_corpus(args.corpus)
    else:
        data = Path(os.environ.get("EDUDIAL_DATA", REPO.parent / "shared" / "corpora"))
        corpus = corpora.load("talkmoves", data / "talkmoves")
    texts = corpus.turns["text"].tolist()
    names = roster()
    print(f"{corpus!r}; roster of {len(names)} names")
    times: dict[str, list[float]] = {"baseline": [], "deidentify": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        baseline(texts, names)
        times["baseline"].append(time.perf_counter() - start)
        start = time.perf_counter()
        out = deidentify(corpus, roster=names)
        times["deidentify"].append(time.perf_counter() - start)
    base, ours = (statistics.median(times[k]) for k in ("baseline", "deidentify"))
    print(f"baseline (one compiled regex sub): {base:.2f} s")
    print(f"toolkit.deidentify:                {ours:.2f} s")
    ratio = ours / base
    verdict = "OK" if ratio <= 3 else "OVER"
    print(f"ratio {ratio:.2f}x (target <= 3x): {verdict}")
    from toolkit.deid import deid_status

    for status in deid_status(out):
        print(status.describe())


if __name__ == "__main__":
    main()
