"""``edudial irr --gold``: the JSON contract's additive ``gold``/``validity`` keys and the report's
Validity section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_support import run_cli


@pytest.fixture()
def coded(tmp_path: Path) -> Path:
    """60 units in 12 dialogues: three coders, a model and adjudicated labels."""
    rng = np.random.default_rng(0)
    n = 60
    truth = rng.choice(["focus", "probing", "telling"], n, p=[0.6, 0.3, 0.1])
    rows = []
    for rater, kind, noise in (
        ("ana", "human", 0.2),
        ("ben", "human", 0.2),
        ("cy", "human", 0.2),
        ("gpt", "model", 0.3),
        ("adjudicated", "human", 0.0),
    ):
        labels = np.where(
            rng.random(n) < noise, rng.choice(["focus", "probing", "telling"], n), truth
        )
        rows += [
            {
                "unit_id": f"d{i // 5}:{i % 5}",
                "dialogue_id": f"d{i // 5}",
                "scheme": "move",
                "label": lab,
                "rater": rater,
                "rater_kind": kind,
            }
            for i, lab in enumerate(labels)
        ]
    path = tmp_path / "coded.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path


def test_gold_adds_keys_to_the_json_contract(
    coded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["irr", str(coded), "--humans", "ana,ben,cy", "--models", "gpt", "--bootstrap", "200"]
    code, out, err = run_cli([*args, "--format", "json", "--gold", "adjudicated"], capsys)
    assert code == 0, err
    scheme = json.loads(out)["schemes"][0]
    assert scheme["gold"]["gold"] == "adjudicated"
    g = scheme["gold"]["by_rater"]["gpt"]
    assert g["n_units"] == 60 and len(g["per_code"]) == 3
    assert g["bootstrap"]["method"] == "cluster" and g["bootstrap"]["n_clusters"] == 12
    assert scheme["validity"]["alt_test"][0]["possible"] is True
    # without --gold the old keys are untouched and no gold entry appears
    code, out, _ = run_cli([*args, "--format", "json"], capsys)
    plain = json.loads(out)["schemes"][0]
    assert "gold" not in plain
    assert plain["metrics"].keys() == scheme["metrics"].keys()
    assert plain["metrics"]["fleiss_kappa"] == scheme["metrics"]["fleiss_kappa"]


def test_report_has_a_validity_section(coded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        [
            "irr",
            str(coded),
            "--humans",
            "ana,ben",
            "--models",
            "gpt",
            "--gold",
            "majority",
            "--bootstrap",
            "100",
        ],
        capsys,
    )
    assert code == 0, err
    section = out[out.index("### Validity") :]
    assert "Against the human majority" in section
    assert "impossible: it needs at least 3 human coders, this scheme has 2" in section
    assert "Sample size:" in section
    # rater kinds decide: ana, ben, cy are the humans (the gold rater is left out), gpt the model
    code, out, _ = run_cli(
        ["irr", str(coded), "--gold", "adjudicated", "--format", "html", "--bootstrap", "50"],
        capsys,
    )
    assert "<h3>Validity</h3>" in out
    assert "counts among the humans" not in out
    # naming the gold rater among the humans is allowed, and the section says what it means
    code, out, _ = run_cli(
        [
            *("irr", str(coded), "--gold", "adjudicated", "--format", "html"),
            *("--bootstrap", "50", "--humans", "ana,ben,cy,adjudicated"),
        ],
        capsys,
    )
    assert "counts among the humans" in out


def test_unknown_gold_rater_is_an_error(coded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["irr", str(coded), "--gold", "adjudicatd", "--bootstrap", "0"], capsys)
    assert code == 2
    assert err.startswith("error: gold rater 'adjudicatd' has no labels")


def test_gold_raters_are_left_out_of_the_humans(
    coded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without --humans, the adjudicated labels must not count as a fourth coder: the agreement
    # equals the one computed with the three coders named, and differs from four "humans".
    base = ["irr", str(coded), "--models", "gpt", "--bootstrap", "0", "--format", "json"]
    _, out, _ = run_cli([*base, "--gold", "adjudicated"], capsys)
    defaulted = json.loads(out)["schemes"][0]
    _, out, _ = run_cli([*base, "--humans", "ana,ben,cy", "--gold", "adjudicated"], capsys)
    named = json.loads(out)["schemes"][0]
    _, out, _ = run_cli([*base, "--humans", "ana,ben,cy,adjudicated"], capsys)
    four = json.loads(out)["schemes"][0]
    _, out, _ = run_cli(base, capsys)  # no --gold: 'adjudicated' is still not a coder
    no_gold = json.loads(out)["schemes"][0]
    fleiss = "fleiss_kappa"
    assert defaulted["metrics"][fleiss]["estimate"] == named["metrics"][fleiss]["estimate"]
    assert no_gold["metrics"][fleiss]["estimate"] == named["metrics"][fleiss]["estimate"]
    assert defaulted["metrics"][fleiss]["estimate"] != four["metrics"][fleiss]["estimate"]
    assert not any("counts among the humans" in n for n in defaulted["validity"]["notes"])
