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


# Issue 20 changed which interval is the headline (``ci``, ``ci_method``) and added the
# jackknife and ``default`` intervals; every interval computed before is still computed, under
# the same key, with the same numbers. The goldens are compared with the output as the old
# rule would have shown it, so an interval that changed still fails.
OLD_PRIMARY = ("cluster_bootstrap", "bootstrap", "analytic")
NEW_METHODS = ("cluster_jackknife", "jackknife")


def _old_choice(node: dict[str, Any]) -> None:
    # ICC (the metric with "forms") had its exact-F interval only; it now has resamples too
    order = ("analytic",) if "forms" in node else OLD_PRIMARY
    for key in order:
        interval = node["intervals"].get(key)
        if interval and all(isinstance(v, float) for v in interval["ci"]):
            node["ci"], node["ci_method"] = interval["ci"], interval["method"]
            return
    node["ci"] = node["ci_method"] = None


def _old_verdict(comparison: dict[str, Any]) -> None:
    diff = comparison.get("difference")
    if not diff:
        return
    ci = diff["ci"]
    diff["verdict"] = (
        None
        if ci is None
        else "below the human-human level"
        if ci[1] < 0
        else "above the human-human level"
        if ci[0] > 0
        else "comparable to the human-human level"
    )
    # with one human pair (two humans) "within the human range" is read from the difference's CI
    if len(comparison.get("kappa_by_human", {})) <= 2 and ci is not None:
        comparison["within_human_range"] = bool(ci[0] <= 0 <= ci[1])


def _old_kappa_by_human(scheme: dict[str, Any]) -> None:
    """``kappa_by_human`` prints only the headline interval: take it from the same pair's
    Cohen's kappa in ``pairwise`` (already converted), which keeps every interval."""
    pairs = {tuple(p["raters"]): p["metrics"]["cohen_kappa"] for p in scheme.get("pairwise", [])}
    for model, comparison in ((scheme.get("human_model") or {}).get("by_model") or {}).items():
        for human, entry in comparison.get("kappa_by_human", {}).items():
            kappa = pairs.get((human, model))
            if kappa is not None:
                entry["ci"], entry["ci_method"] = kappa["ci"], kappa["ci_method"]
        _old_verdict(comparison)
    # the note on few clusters became the coverage note of each interval
    scheme["notes"] = [n for n in scheme.get("notes", []) if "cluster-bootstrap" not in n]


def _old_families(report: dict[str, Any]) -> None:
    """Family rows print headline intervals only: take them from their (converted) scheme."""
    schemes = {s["scheme"]: s for s in report.get("schemes", [])}
    for rows in (report.get("families") or {}).values():
        for row in rows:
            scheme = schemes[row["scheme"]]
            if row.get("irr"):
                row["irr"]["ci"] = scheme["metrics"][row["irr"]["name"]]["ci"]
            by_model = (scheme.get("human_model") or {}).get("by_model") or {}
            for model, entry in row.get("human_model_kappa", {}).items():
                entry["ci"] = by_model[model]["human_model_kappa"]["ci"]


def as_before_issue_20(node: Any) -> Any:
    """``node`` with the headline intervals chosen by the rule before issue 20."""
    if isinstance(node, list):
        return [as_before_issue_20(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: as_before_issue_20(v) for k, v in node.items()}
    if isinstance(out.get("intervals"), dict) and "ci_method" in out:
        _old_choice(out)
    if "methods" in out and isinstance(out["methods"], list):
        out["methods"] = [m for m in out["methods"] if m not in NEW_METHODS]
    if "pairwise" in out and "human_model" in out:
        _old_kappa_by_human(out)
    if "families" in out and "schemes" in out:
        _old_families(out)
    if isinstance(out.get("ci"), dict) and "primary" in out["ci"]:
        out["ci"]["primary"] = (
            "cluster bootstrap over dialogues when clusters are known, else percentile "
            "bootstrap over units, else analytic"
        )
    return out


def _golden(name: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def _assert_same(name: str, actual: dict[str, Any]) -> None:
    golden = _golden(name)
    for scheme in golden.get("schemes", []):
        scheme["notes"] = [n for n in scheme.get("notes", []) if "cluster-bootstrap" not in n]
    diffs = differences(golden, as_before_issue_20(actual))
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
