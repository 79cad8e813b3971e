"""The annotate scale benchmark's code path at 2,000 items (timings and memory not asserted),
and item preparation independent of how the turns are chunked and ordered."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

import annotation.items as items_module
from annotation import iter_items, load_rubric
from toolkit import Corpus

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    path = ROOT / "benchmarks" / "annotate_scale.py"
    spec = importlib.util.spec_from_file_location("annotate_scale", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_benchmark_prepares_and_annotates_every_item(bench, capsys: pytest.CaptureFixture) -> None:
    results = bench.main(["--prep", "2000", "--run", "300"])
    assert [r["items"] for r in results["prep"]] == [2000]
    assert [r["items"] for r in results["run"]] == [300]
    assert all(r["cpu_s"] > 0 and r["peak_mb"] >= 0 for rs in results.values() for r in rs)
    out = capsys.readouterr().out
    assert "us/item" in out and "above the corpus" in out


def _corpus() -> Corpus:
    """Three dialogues whose turns are shuffled across the table and listed out of order."""
    turns = [
        ("b", 1, "teacher", "b one", {"question": "qb1"}),
        ("a", 0, "teacher", "a zero", {}),
        ("c", 0, "student", "c zero", {"candidate": True}),
        ("b", 0, "student", "b zero", {}),
        ("a", 2, "teacher", "a two", {"question": "qa2"}),
        ("c", 1, "teacher", "c one", {}),
        ("a", 1, "student", "a one", {}),
    ]
    frame = pd.DataFrame(
        {
            "corpus": "t",
            "dialogue_id": [d for d, *_ in turns],
            "turn_id": [f"{d}:{i}" for d, i, *_ in turns],
            "index": [i for _, i, *_ in turns],
            "role": [r for *_, r, _t, _m in turns],
            "speaker": "x",
            "text": [t for *_, t, _m in turns],
            "meta": [m for *_, m in turns],
        }
    )
    dialogues = pd.DataFrame(
        {"corpus": "t", "dialogue_id": ["c", "a", "b"], "split": "x", "kind": "k", "meta": [{}] * 3}
    )
    return Corpus(dialogues, frame)


@pytest.mark.parametrize("chunk", [1, 2, 3, 8192])
def test_items_follow_dialogue_order_then_index_whatever_the_chunk(monkeypatch, chunk) -> None:
    monkeypatch.setattr(items_module, "_CHUNK_ROWS", chunk)
    got = [
        (i.unit_id, i.context_turns)
        for i in iter_items(_corpus(), load_rubric("mathdial-moves"), context_turns=1)
    ]
    # the dialogue table's order (c, a, b), then turn index; teacher turns only
    assert got == [("c:1", 1), ("a:0", 0), ("a:2", 1), ("b:1", 1)]
    item = next(
        i for i in iter_items(_corpus(), load_rubric("mathdial-moves")) if i.unit_id == "a:2"
    )
    assert "question: qa2" in item.text and "[student] a one" in item.text
    assert dataclasses.asdict(item)["dialogue_id"] == "a"


def _two_dialogues(turn_rows: list[tuple[str, int]]) -> Corpus:
    frame = pd.DataFrame(
        {
            "corpus": "t",
            "dialogue_id": [d for d, _ in turn_rows],
            "turn_id": [f"{d}:{i}" for d, i in turn_rows],
            "index": [i for _, i in turn_rows],
            "role": "teacher",
            "speaker": "x",
            "text": [f"{d} {i}" for d, i in turn_rows],
            "meta": [{}] * len(turn_rows),
        }
    )
    dialogues = pd.DataFrame(
        {"corpus": "t", "dialogue_id": ["a", "b"], "split": "x", "kind": "k", "meta": [{}] * 2}
    )
    return Corpus(dialogues, frame)


def test_a_corpus_in_order_is_not_sorted_and_disorder_at_a_chunk_edge_is_found(
    monkeypatch,
) -> None:
    monkeypatch.setattr(items_module, "_CHUNK_ROWS", 2)
    rubric = load_rubric("mathdial-moves")
    in_order = _two_dialogues([("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1)])
    assert items_module._turn_order(in_order) is None
    assert [i.unit_id for i in iter_items(in_order, rubric)] == ["a:0", "a:1", "a:2", "b:0", "b:1"]
    # each chunk of two rows is in order on its own; the step between chunks is not
    across = _two_dialogues([("a", 0), ("b", 0), ("a", 1), ("b", 1)])
    assert [i.unit_id for i in iter_items(across, rubric)] == ["a:0", "a:1", "b:0", "b:1"]
    back = _two_dialogues([("a", 0), ("a", 2), ("a", 1), ("b", 0)])
    assert [i.unit_id for i in iter_items(back, rubric)] == ["a:0", "a:1", "a:2", "b:0"]
