"""Golden outputs: the eval reshaping (issue 11) and later additions keep every number.

The files in ``tests/golden/`` were written by the code on main *before* the first refactoring
commit of issue 11 (``python -m tests.test_golden``, see the bottom of this file) and are never
regenerated to make a test pass. They hold numbers, category names and notes only, no corpus
text. The comparison is one-way: every key and value of the golden must be present and equal
(floats to 1e-9); keys the golden lacks are allowed, so new output (e.g. ``gold`` or p-values)
does not break it. Timestamps and run ids are removed before comparing.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

GOLDEN = Path(__file__).parent / "golden"
TOLERANCE = 1e-9
VOLATILE = ("run_id", "date")  # provenance fields that change with every run


def differences(golden: Any, actual: Any, path: str = "$") -> list[str]:
    """Every place where ``actual`` lacks or changes a value of ``golden`` (extra keys allowed).

    >>> differences({"a": 1.0, "b": [1, 2]}, {"a": 1.0 + 1e-12, "b": [1, 2], "c": 0})
    []
    >>> differences({"a": {"x": 1}}, {"a": {}})
    ['$.a.x: missing']
    """
    if isinstance(golden, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {type(actual).__name__}"]
        out: list[str] = []
        for key, value in golden.items():
            if key not in actual:
                out.append(f"{path}.{key}: missing")
            else:
                out += differences(value, actual[key], f"{path}.{key}")
        return out
    if isinstance(golden, list):
        if not isinstance(actual, list) or len(actual) != len(golden):
            return [f"{path}: expected a list of {len(golden)}, got {actual!r:.80}"]
        return [
            d
            for i, (g, a) in enumerate(zip(golden, actual, strict=True))
            for d in differences(g, a, f"{path}[{i}]")
        ]
    if (
        isinstance(golden, float)
        and isinstance(actual, (int, float))
        and not isinstance(actual, bool)
    ):
        if math.isclose(golden, actual, rel_tol=0, abs_tol=TOLERANCE):
            return []
        return [f"{path}: {actual!r} != golden {golden!r}"]
    if golden != actual or type(golden) is not type(actual):
        return [f"{path}: {actual!r:.80} != golden {golden!r:.80}"]
    return []


def _strip(report: dict[str, Any]) -> dict[str, Any]:
    for source in report.get("provenance") or []:
        for key in VOLATILE:
            source.pop(key, None)
    return report


def _cli(args: list[str]) -> None:
    from toolkit.cli import main

    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, f"edudial {' '.join(args)} exited with {exc.code}"


def _irr(source: Path, out: Path, *options: str) -> dict[str, Any]:
    _cli(["irr", str(source), *options, "--format", "json", "-o", str(out)])
    return json.loads(out.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the cases
def demo_report(tmp: Path) -> dict[str, Any]:
    """``edudial demo --backend rules`` on the bundled sample: its report.json."""
    _cli(["demo", "--backend", "rules", "-o", str(tmp / "demo"), "--force"])
    return _strip(json.loads((tmp / "demo" / "report.json").read_text(encoding="utf-8")))


def _saved(name: str, tmp: Path, data: Path, **options: Any) -> Path:
    import corpora

    saved = tmp / f"{name}.corpus"
    corpora.load(name, data / name, **options).save(saved)
    return saved


def sight_irr(tmp: Path, data: Path) -> dict[str, Any]:
    """``edudial irr sight.corpus --humans H1,H2`` (README), every scheme and model."""
    saved = _saved("sight", tmp, data, transcripts=False)
    return _irr(saved, tmp / "sight.json", "--humans", "H1,H2")


def mathdial_irr(tmp: Path, data: Path) -> dict[str, Any]:
    """``edudial irr mathdial.corpus`` (one human rater: the degenerate path and its notes)."""
    saved = _saved("mathdial", tmp, data)
    return _irr(saved, tmp / "mathdial.json")


def synthetic_ratings(path: Path) -> Path:
    """Seeded ratings: 3 humans and 2 models, 60 units in 15 dialogues, some missing.

    Scheme ``ord`` has 5 ordered levels (1-5), ``nom`` 4 nominal categories (a-d); the same
    file serves the ordinal, interval and nominal cases, which cover the branches the real
    data do not reach (weighted kappa, AC2, ICC, Spearman, per category, three humans).
    """
    rng = np.random.default_rng(20261203)
    rows = []
    raters = (("H1", "human", 0.2), ("H2", "human", 0.3), ("H3", "human", 0.3))
    raters += (("M1", "model", 0.4), ("M2", "model", 0.6))
    for scheme, q in (("ord", 5), ("nom", 4)):
        truth = rng.integers(0, q, 60)
        for rater, kind, noise in raters:
            for i, t in enumerate(truth):
                if rng.random() < 0.1:
                    continue  # missing rating
                v = int(t)
                if rng.random() < noise:
                    v = (
                        int(np.clip(t + rng.integers(-1, 2), 0, q - 1))
                        if scheme == "ord"
                        else int(rng.integers(0, q))
                    )
                label = str(v + 1) if scheme == "ord" else "abcd"[v]
                rows.append((f"d{i // 4}:{i % 4}", scheme, label, rater, kind, f"d{i // 4}"))
    columns = ["unit_id", "scheme", "label", "rater", "rater_kind", "dialogue_id"]
    pd.DataFrame(rows, columns=columns).to_json(path, orient="records", lines=True)
    return path


SYNTHETIC = {
    "synthetic_ordinal": ["--scheme", "ord", "--level", "ordinal", "--categories", "1,2,3,4,5"],
    "synthetic_interval": ["--scheme", "ord", "--level", "interval", "--weights", "linear"],
    "synthetic_nominal": ["--scheme", "nom", "--categories", "a,b,c,d", "--bootstrap", "500"],
}


def synthetic_irr(name: str, tmp: Path) -> dict[str, Any]:
    source = synthetic_ratings(tmp / "ratings.jsonl")
    return _irr(source, tmp / f"{name}.json", *SYNTHETIC[name])


def _golden(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def _assert_same(name: str, actual: dict[str, Any]) -> None:
    diffs = differences(_golden(name), actual)
    assert not diffs, f"{len(diffs)} difference(s) from tests/golden/{name}.json:\n" + "\n".join(
        diffs[:30]
    )


# ------------------------------------------------------------------ tests
def test_demo_report(tmp_path: Path) -> None:
    _assert_same("demo_report", demo_report(tmp_path))


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_irr(name: str, tmp_path: Path) -> None:
    _assert_same(name, synthetic_irr(name, tmp_path))


@pytest.mark.realdata
def test_sight_irr(tmp_path: Path, data_dir: Path) -> None:
    _assert_same("sight_irr", sight_irr(tmp_path, data_dir))


@pytest.mark.realdata
def test_mathdial_irr(tmp_path: Path, data_dir: Path) -> None:
    _assert_same("mathdial_irr", mathdial_irr(tmp_path, data_dir))


def test_differences_catches_changes() -> None:
    golden = {"x": 0.5, "rows": [{"n": 3, "ci": [0.1, None]}], "note": "a"}
    assert differences(golden, {**golden, "extra": 1}) == []
    changed = {"x": 0.5 + 1e-6, "rows": [{"n": 3.0, "ci": [0.1, 0.2]}], "note": "a"}
    assert differences(golden, changed) == [
        "$.x: 0.500001 != golden 0.5",
        "$.rows[0].n: 3.0 != golden 3",
        "$.rows[0].ci[1]: 0.2 != golden None",
    ]


def write_goldens(data: Path) -> None:
    """Write every golden from the current code (only before a behaviour-preserving change)."""
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "demo_report": lambda: demo_report(Path(tmp)),
            "sight_irr": lambda: sight_irr(Path(tmp), data),
            "mathdial_irr": lambda: mathdial_irr(Path(tmp), data),
        }
        cases.update({name: (lambda n=name: synthetic_irr(n, Path(tmp))) for name in SYNTHETIC})
        for name, make in cases.items():
            text = json.dumps(make(), indent=1, sort_keys=True, allow_nan=False)
            (GOLDEN / f"{name}.json").write_text(text + "\n", encoding="utf-8")
            print(f"wrote tests/golden/{name}.json", file=sys.stderr)


if __name__ == "__main__":
    import os

    write_goldens(Path(os.environ["EDUDIAL_DATA"]))
