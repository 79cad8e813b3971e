"""``edudial plan`` and ``edudial estimate`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_support import run_cli


def _rows(labels: np.ndarray, rater: str, kind: str, units: list[str]) -> list[dict[str, str]]:
    return [
        {"unit_id": u, "scheme": "move", "label": str(v), "rater": rater, "rater_kind": kind}
        for u, v in zip(units, labels, strict=True)
        if v is not None
    ]


@pytest.fixture()
def coded(tmp_path: Path) -> tuple[Path, float]:
    """2,000 units labelled by a biased model, 300 of them adjudicated; and the corpus share."""
    rng = np.random.default_rng(0)
    n = 2000
    units = [f"d{i // 10}:{i % 10}" for i in range(n)]
    truth = np.where(rng.random(n) < 0.3, "probing", "focus")
    flip = rng.random(n) < np.where(truth == "probing", 0.1, 0.25)  # over-calls probing
    model = np.where(flip, np.where(truth == "probing", "focus", "probing"), truth)
    sampled = np.zeros(n, dtype=bool)
    sampled[rng.choice(n, 300, replace=False)] = True
    rows = _rows(model, "m1", "model", units)
    rows += _rows(
        truth[sampled],
        "adjudicated",
        "human",
        [u for u, s in zip(units, sampled, strict=True) if s],
    )
    path = tmp_path / "ann.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path, float((truth == "probing").mean())


def test_plan_prints_the_analytic_answer_and_its_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["plan", "--expected", "0.7", "--width", "0.1", "--prevalence", "0.5", "--simulate", "40"],
        capsys,
    )
    assert code == 0
    assert "196 units" in out and "simulation (40 studies of 196 units" in out


def test_plan_needs_expected_or_a_pilot(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["plan", "--width", "0.1", "--prevalence", "0.5"], capsys)
    assert code == 2 and err.startswith("error: give --expected")
    code, _, err = run_cli(["plan", "--expected", "0.7", "--width", "0.1"], capsys)
    assert code == 2 and "--prevalence" in err


def test_plan_from_a_pilot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    units = [f"u{i}" for i in range(60)]
    a = rng.choice(["x", "y"], 60, p=[0.7, 0.3])
    b = np.where(rng.random(60) < 0.85, a, rng.choice(["x", "y"], 60))
    rows = _rows(a, "A", "human", units) + _rows(b, "B", "human", units)
    path = tmp_path / "pilot.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    code, out, err = run_cli(
        ["plan", str(path), "--scheme", "move", "--width", "0.1", "--simulate", "0"], capsys
    )
    assert code == 0, err
    assert "pilot: scheme move, raters A, B, 60 units" in out
    assert "more units" in out


def test_estimate_text_and_json(
    coded: tuple[Path, float], capsys: pytest.CaptureFixture[str]
) -> None:
    path, share = coded
    code, out, err = run_cli(["estimate", str(path), "--scheme", "move", "--model", "m1"], capsys)
    assert code == 0, err
    assert "2000 units labelled by m1, 300 coded by adjudicated" in out
    assert "PPI++" in out and "simple random sample" in out
    code, out, _ = run_cli(
        ["estimate", str(path), "--scheme", "move", "--model", "m1", "--format", "json"], capsys
    )
    doc = json.loads(out)
    probing = next(c for c in doc["codes"] if c["code"] == "probing")
    lo, hi = probing["ppi_plus"]["ci"]
    assert lo <= share <= hi
    assert probing["model_only"]["ci"][0] > share  # the model over-calls probing


def test_estimate_names_a_missing_rater(
    coded: tuple[Path, float], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = coded
    code, _, err = run_cli(
        ["estimate", str(path), "--scheme", "move", "--model", "m1", "--gold", "ana"], capsys
    )
    assert code == 2
    assert "--gold 'ana' has no labels in scheme 'move'" in err


def test_estimate_with_a_sample_file(
    coded: tuple[Path, float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("annotation.coding")
    path, share = coded
    ann = pd.read_json(path, lines=True)
    gold_units = ann.loc[ann["rater"] == "adjudicated", "unit_id"].tolist()
    sample = {
        "format": "edudial-sample",
        "version": 1,
        "seed": 7,
        "rubric": {"id": "r", "version": "1.0", "sha256": "x"},
        "corpus": {"names": ["c"], "dialogues": 200, "turns": 2000, "sha256": "y"},
        "design": {
            "method": "simple",
            "n": 300,
            "population": 2000,
            "strata": [],
        },
        "units": [
            {
                "corpus": "c",
                "unit_id": u,
                "dialogue_id": u.split(":")[0],
                "stratum": None,
                "inclusion_probability": 0.15,
            }
            for u in gold_units
        ],
    }
    sample_path = tmp_path / "sample.json"
    sample_path.write_text(json.dumps(sample), encoding="utf-8")
    code, out, err = run_cli(
        [
            "estimate",
            str(path),
            "--scheme",
            "move",
            "--model",
            "m1",
            "--sample",
            str(sample_path),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["weighted"] is True and doc["n_gold"] == 300
    probing = next(c for c in doc["codes"] if c["code"] == "probing")
    assert probing["ppi_plus"]["ci"][0] <= share <= probing["ppi_plus"]["ci"][1]
