"""Benchmark the rules baseline (annotation.rules) on all SIGHT comments.

Run: ``EDUDIAL_DATA=/path/to/corpora python benchmarks/rules.py`` (about 1 minute on 2 cores).
Reports medians over ``--repeats`` interleaved runs, in one process:

* ``tokenize``: ``nlp.pipe`` over every comment with ``spacy.blank("en")`` (the floor: labelling
  cannot be faster than tokenising);
* ``naive``: what a straightforward implementation does -- ``nlp(text)`` per comment and one
  ``Matcher`` per category, each run over each comment;
* ``rules``: ``RuleLabeler.label_texts`` (one ``Matcher`` for all patterns, ``nlp.pipe``), i.e.
  all decisions of the ``sight-feedback`` rubric;
* ``annotate_rules``: the whole call (unit selection, labelling, writing the run directory).

Target: every comment labelled in seconds (``annotate_rules`` <= 10 s on this machine) and
``rules`` faster than ``naive``. Ratios are against ``tokenize`` and ``naive`` of the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import corpora  # noqa: E402
from annotation.rubric import load_rubric  # noqa: E402
from annotation.rules import RuleLabeler, _units, annotate_rules  # noqa: E402


def _naive(lab: RuleLabeler, texts: list[str]) -> int:
    from spacy.matcher import Matcher

    matchers = []
    for lb in lab.rubric.labels:
        m = Matcher(lab.nlp.vocab)
        for j, p in enumerate(lb.patterns):
            m.add(f"{lb.name}#{j}", [p.pattern])
        matchers.append(m)
    hits = 0
    for t in texts:
        doc = lab.nlp(t)
        hits += sum(bool(m(doc)) for m in matchers)
    return hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    data = os.environ.get("EDUDIAL_DATA")
    if not data:
        sys.exit("set EDUDIAL_DATA to the shared corpora folder")
    corpus = corpora.load("sight", Path(data) / "sight", transcripts=False)
    rubric = load_rubric("sight-feedback")
    lab = RuleLabeler(rubric)
    texts = [u[2] for u in _units(corpus, rubric, None)]
    n_tokens = sum(len(d) for d in lab.nlp.pipe(texts, batch_size=1000))
    print(
        f"SIGHT: {len(texts)} comments, {n_tokens} tokens, {len(lab.pattern_ids)} patterns, "
        f"{len(rubric.label_names)} categories; {args.repeats} repeats"
    )
    times: dict[str, list[float]] = {
        k: [] for k in ("tokenize", "naive", "rules", "annotate_rules")
    }
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            jobs: list[tuple[str, Any]] = [
                ("tokenize", lambda: sum(1 for _ in lab.nlp.pipe(texts, batch_size=1000))),
                ("naive", lambda: _naive(lab, texts)),
                ("rules", lambda: lab.label_texts(texts)),
                (
                    "annotate_rules",
                    lambda i=i: annotate_rules(corpus, rubric, out=Path(tmp) / f"r{i}"),
                ),
            ]
            for name, fn in jobs:
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(
            f"  {k:15s} median {v:6.2f} s  ({len(texts) / v:8.0f} comments/s)  "
            f"x{v / med['tokenize']:.2f} tokenize  x{v / med['naive']:.2f} naive"
        )
    print(
        f"load average (1/5/15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores "
        "(other processes inflate every time above)"
    )
    ok = med["annotate_rules"] <= 10 and med["rules"] < med["naive"]
    print(f"target (annotate_rules <= 10 s, rules faster than naive): {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
