"""``edudial irr`` end to end: formats, wide CSV, corpus directories, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eval
from tests.cli_support import run_cli
from tests.conftest import corpus_path


@pytest.fixture()
def ordinal_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 6, 40)
    rows = []
    for r, kind, noise in (("A", "human", 0.3), ("B", "human", 0.3), ("LLM", "model", 0.5)):
        for i, t in enumerate(truth):
            v = int(np.clip(t + (rng.integers(-1, 2) if rng.random() < noise else 0), 1, 5))
            rows.append(
                {
                    "unit_id": f"d{i // 4}:{i % 4}",
                    "scheme": "quality",
                    "label": str(v),
                    "rater": r,
                    "rater_kind": kind,
                    "dialogue_id": f"d{i // 4}",
                }
            )
    path = tmp_path / "ratings.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path


def test_json_contract(ordinal_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        [
            "irr",
            str(ordinal_file),
            "--level",
            "ordinal",
            "--categories",
            "1,2,3,4,5",
            "--bootstrap",
            "200",
            "--seed",
            "3",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    d = json.loads(out)
    s = d["schemes"][0]
    assert {"scheme", "n_units", "raters", "metrics", "pairwise", "human_model"} <= s.keys()
    assert s["scheme"] == "quality" and s["n_units"] == 40
    for name in (
        "krippendorff_alpha",
        "cohen_kappa",
        "fleiss_kappa",
        "conger_kappa",
        "scott_pi",
        "gwet_ac1",
        "gwet_ac2",
        "brennan_prediger",
        "percent_agreement",
        "cohen_kappa_quadratic",
    ):
        m = s["metrics"][name]
        assert {"estimate", "ci", "n"} <= m.keys(), name
        assert len(m["ci"]) == 2 and m["ci"][0] <= m["estimate"] <= m["ci"][1], name
    assert s["metrics"]["krippendorff_alpha"]["level"] == "ordinal"
    assert s["categories"] == ["1", "2", "3", "4", "5"]
    conv = d["conventions"]
    assert conv["ci"]["B"] == 200 and conv["ci"]["seed"] == 3 and conv["ci"]["cluster"]
    assert "missing" in conv["missing_policy"]
    kappa = s["metrics"]["cohen_kappa"]
    assert kappa["ci_method"].endswith("delete-one-dialogue jackknife, t(G - 1)")
    assert (
        kappa["intervals"]["cluster_bootstrap"]["n_clusters"]
        == kappa["intervals"]["cluster_jackknife"]["n_clusters"]
    )
    assert s["human_model"]["by_model"]["LLM"]["spearman_rho"]["estimate"] is not None
    # the library gives the same numbers
    a = pd.read_json(ordinal_file, lines=True, dtype=False).astype({"label": str})
    res = eval.agreement(a, level="ordinal", categories=list("12345"), bootstrap=0)
    assert s["metrics"]["krippendorff_alpha"]["estimate"] == pytest.approx(
        res["quality"].metrics["krippendorff_alpha"].estimate, abs=1e-12
    )


def test_markdown_and_html(
    ordinal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        [
            "irr",
            str(ordinal_file),
            "--level",
            "ordinal",
            "--categories",
            "1,2,3,4,5",
            "--bootstrap",
            "100",
        ],
        capsys,
    )
    assert code == 0
    assert "# Inter-rater reliability report" in out and "| Krippendorff's alpha |" in out
    target = tmp_path / "out" / "irr.html"
    code, _, err = run_cli(
        [
            "irr",
            str(ordinal_file),
            "--level",
            "ordinal",
            "--categories",
            "1,2,3,4,5",
            "--bootstrap",
            "100",
            "-o",
            str(target),
        ],
        capsys,
    )
    assert code == 0, err
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r"src=\"data:image/png;base64,", page)) >= 3
    assert "Landis" in page and "http" not in page.split("<body>")[1].split("Generated")[0]


def test_wide_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wide.csv"
    pd.DataFrame(
        {
            "item": ["a", "b", "c", "d", "e"],
            "R1": ["1", "2", "3", "3", ""],
            "R2": ["1", "2", "3", "2", "1"],
        }
    ).to_csv(path, index=False)
    code, out, err = run_cli(
        ["irr", str(path), "--wide", "--unit-col", "item", "--bootstrap", "0", "--format", "json"],
        capsys,
    )
    assert code == 0, err
    s = json.loads(out)["schemes"][0]
    expected = eval.cohen_kappa([["1", "1"], ["2", "2"], ["3", "3"], ["3", "2"]])
    assert s["metrics"]["cohen_kappa"]["estimate"] == pytest.approx(expected)
    assert s["metrics"]["cohen_kappa"]["n"] == 4


def test_errors_exit_2_without_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x.json"
    code, _, err = run_cli(["irr", str(tmp_path / "missing.jsonl"), "-o", str(target)], capsys)
    assert code == 2 and err.startswith("error:") and "Traceback" not in err
    assert not target.exists()
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {"unit_id": ["u1", "u1"], "scheme": "s", "label": ["a", "b"], "rater": ["A", "B"]}
    ).to_csv(bad, index=False)
    code, _, err = run_cli(["irr", str(bad), "--level", "ordinal", "-o", str(target)], capsys)
    assert code == 2 and "category order" in err
    assert not target.exists()
    code, _, err = run_cli(["irr", str(bad), "--wide"], capsys)
    assert code == 2 and "--unit-col" in err


def test_weights_need_an_ordered_level(
    ordinal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.json"
    code, _, err = run_cli(
        ["irr", str(ordinal_file), "--weights", "linear", "-o", str(target)], capsys
    )
    assert code == 2 and "nominal: linear weights need ordered categories" in err
    assert "Traceback" not in err and not target.exists()
    code, _, err = run_cli(["irr", str(ordinal_file), "--weights", "cubic"], capsys)
    assert code == 2 and "or a CSV file" in err
    weights = tmp_path / "w.csv"
    rows = [[1 - abs(i - j) / 4 for j in range(5)] for i in range(5)]  # = linear weights
    weights.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    args = ["irr", str(ordinal_file), "--level", "ordinal", "--categories", "1,2,3,4,5"]
    code, out, err = run_cli(
        [*args, "--weights", str(weights), "--bootstrap", "0", "--format", "json"], capsys
    )
    assert code == 0, err
    s = json.loads(out)["schemes"][0]
    assert s["conventions"]["weights"]["weighted"] == "custom"
    assert s["metrics"]["gwet_ac2"]["estimate"] == pytest.approx(
        eval.gwet_ac2(_wide(ordinal_file), categories=[1, 2, 3, 4, 5], weights="linear")
    )


def _wide(path: Path) -> list[list[str | None]]:
    long = pd.read_json(path, lines=True, dtype={"label": str})
    wide = long.pivot(index="unit_id", columns="rater", values="label")[["A", "B"]]
    return wide.to_numpy().tolist()


@pytest.mark.realdata
def test_sight_corpus_dir(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpora = pytest.importorskip("corpora")
    corpus = corpora.load("sight", corpus_path(data_dir, "sight"), transcripts=False)
    saved = tmp_path / "sight.corpus"
    corpus.filter(scheme=["sight/confusion", "sight/setup"]).save(saved)
    code, out, err = run_cli(
        [
            "irr",
            str(saved),
            "--humans",
            "H1,H2",
            "--models",
            "openaichat_v8,openaichat_v0",
            "--bootstrap",
            "200",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    d = {s["scheme"]: s for s in json.loads(out)["schemes"]}
    conf = d["sight/confusion"]
    assert conf["metrics"]["cohen_kappa"]["estimate"] == pytest.approx(0.906328, abs=6e-7)
    hm = conf["human_model"]["by_model"]["openaichat_v8"]["human_model_kappa"]["estimate"]
    assert hm == pytest.approx(0.690113, abs=6e-7)
    assert d["sight/setup"]["human_model"]["by_model"]["openaichat_v0"]["human_model_kappa"][
        "estimate"
    ] == pytest.approx(0.830050, abs=6e-7)
    ck = conf["metrics"]["cohen_kappa"]["intervals"]["cluster_bootstrap"]
    assert ck["n_clusters"] > 10 and ck["B"] == 200


def test_report_of_one_scheme_and_multi_corpus_ids() -> None:
    a = pd.DataFrame(
        {
            "corpus": ["A", "A", "B", "B", "A", "A"],
            "unit_id": ["u1", "u1", "u1", "u1", "u2", "u2"],
            "scheme": "s",
            "label": ["1", "1", "0", "1", "0", "0"],
            "rater": ["X", "Y"] * 3,
        }
    )
    res = eval.agreement(a, bootstrap=0)
    s = res["s"]
    assert s.n_units == 3  # A/u1 and B/u1 are different units
    assert s.metrics["percent_agreement"].estimate == pytest.approx(2 / 3)
    for fmt in ("md", "html", "json"):
        assert eval.report(s, format=fmt)


def test_per_scheme_categories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        ("u1", "a", "x", "A"),
        ("u1", "a", "x", "B"),
        ("u2", "a", "y", "A"),
        ("u2", "a", "x", "B"),
        ("u1", "b", "1", "A"),
        ("u1", "b", "1", "B"),
        ("u2", "b", "2", "A"),
        ("u2", "b", "2", "B"),
    ]
    path = tmp_path / "ann.csv"
    pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater"]).to_csv(path, index=False)
    code, out, err = run_cli(
        [
            "irr",
            str(path),
            "--categories",
            "a=x,y,z",
            "--categories",
            "b=1,2,3",
            "--bootstrap",
            "0",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    d = {s["scheme"]: s for s in json.loads(out)["schemes"]}
    assert d["a"]["categories"] == ["x", "y", "z"] and d["b"]["categories"] == ["1", "2", "3"]
    # Brennan-Prediger uses q = 3 declared categories: (0.5 - 1/3) / (1 - 1/3)
    assert d["a"]["metrics"]["brennan_prediger"]["estimate"] == pytest.approx(0.25)
    code, _, err = run_cli(
        ["irr", str(path), "--categories", "x,y", "--categories", "b=1,2"], capsys
    )
    assert code == 2 and "not both" in err
