"""The scale benchmark's code path at 10,000 turns, so it cannot rot (timings are not asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_scale_benchmark_runs_every_step_at_10k(scale, capsys: pytest.CaptureFixture) -> None:
    rows = scale.main(["--turns", "10000", "--repeat", "1"])
    steps = [r.step for r in rows]
    assert steps == [
        "save",
        "read",
        "read_checked",
        "read_pushdown",
        "filter_role",
        "filter_split",
        "iterate",
        "validate",
    ]
    assert all(r.edudial > 0 and r.baseline > 0 for r in rows)
    out = capsys.readouterr().out
    assert "memory" in out and "Arrow tables" in out


def test_synthetic_corpus_has_the_promised_shape(scale) -> None:
    from toolkit import Corpus, meta_values

    tables = scale.synthetic_tables(1000)
    corpus = Corpus(tables["dialogues"], tables["turns"], tables["annotations"]).validate()
    assert len(corpus.dialogues) == 20 and len(corpus.turns) == 1000
    assert len(corpus.annotations) == 200 + 20  # every fifth turn, and each dialogue
    first, second = meta_values(corpus.turns["meta"])[:2]
    assert first["line"] == 1 and second["line"] == 2 and isinstance(first["start"], float)
    assert all(set(m) == {"line", "start"} for m in meta_values(corpus.turns["meta"]))
    as_dicts = scale.synthetic_tables(1000, meta="dicts")
    assert Corpus(as_dicts["dialogues"], as_dicts["turns"], as_dicts["annotations"]) == corpus
