"""The commands a paper quotes agree on their defaults (issue "Numbers a paper can quote").

* ``edudial plan CORPUS`` counts the same human coders as ``edudial irr``: not ``adjudicated``.
* ``edudial estimate --sample`` reads the simple sample ``edudial code sample`` writes.
* ``--model`` / ``--models`` take a model's short name when it names exactly one rater.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli_support import run_cli

MODEL = "gpt-4o-mini@mathdial-moves@1.0"


def _kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa by its definition: (p_o - p_e) / (1 - p_e), rater-specific marginals."""
    x, y = np.array(a), np.array(b)
    p_o = float(np.mean(x == y))
    p_e = sum(float(np.mean(x == c) * np.mean(y == c)) for c in set(a) | set(b))
    return (p_o - p_e) / (1 - p_e)


@pytest.fixture()
def pilot(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """40 units coded by ana and ben; 'adjudicated' takes ana's label where they differ."""
    ana = ["x"] * 12 + ["y"] * 8 + ["x"] * 6 + ["y"] * 4 + ["z"] * 10
    ben = ["x"] * 12 + ["y"] * 8 + ["y"] * 6 + ["z"] * 4 + ["z"] * 10
    rows = []
    for rater, labels in (("ana", ana), ("ben", ben), ("adjudicated", ana)):
        rows += [
            {"unit_id": f"u{i}", "scheme": "move", "label": lab, "rater": rater}
            | {"rater_kind": "human"}
            for i, lab in enumerate(labels)
        ]
    rows += [  # a model rater: never a pilot coder
        {"unit_id": f"u{i}", "scheme": "move", "label": "x", "rater": MODEL, "rater_kind": "model"}
        for i in range(40)
    ]
    path = tmp_path / "pilot.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path, ana, ben


def _observed(out: str) -> float:
    line = next(x for x in out.splitlines() if x.startswith("pilot:"))
    return float(line.rsplit(" ", 1)[1])


def test_plan_leaves_the_gold_rater_out_like_irr(
    pilot: tuple[Path, list[str], list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ana, ben = pilot
    two = _kappa(ana, ben)
    assert two == pytest.approx((30 / 40 - 524 / 1600) / (1 - 524 / 1600))  # x 18/12, y 12/14...
    base = ["plan", str(path), "--scheme", "move", "--width", "0.1", "--simulate", "0"]
    code, out, err = run_cli(base, capsys)
    assert code == 0, err
    assert "raters ana, ben, 40 units" in out
    assert _observed(out) == round(two, 3)
    assert "gold rater(s) left out of the coders: adjudicated" in out
    # --humans still decides: counting the adjudicated labels inflates the pilot's agreement
    code, out, err = run_cli([*base, "--humans", "ana,ben,adjudicated"], capsys)
    assert code == 0, err
    assert "raters ana, ben, adjudicated, 40 units" in out
    assert _observed(out) > round(two, 3) + 0.05
    # edudial irr quotes the same two coders and the same kappa
    code, out, err = run_cli(
        ["irr", str(path), "--bootstrap", "0", "--format", "json", "--models", "gpt-4o-mini"],
        capsys,
    )
    assert code == 0, err
    scheme = json.loads(out)["schemes"][0]
    assert scheme["humans"] == ["ana", "ben"] and scheme["models"] == [MODEL]
    assert scheme["metrics"]["cohen_kappa"]["estimate"] == pytest.approx(two, abs=1e-12)


def test_plan_with_only_a_gold_rater_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"unit_id": f"u{i}", "scheme": "move", "label": "xy"[i % 2], "rater": "adjudicated"}
        | {"rater_kind": "human"}
        for i in range(10)
    ]
    path = tmp_path / "gold.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    code, _, err = run_cli(["plan", str(path), "--scheme", "move", "--width", "0.1"], capsys)
    assert code == 2
    assert "no human coders besides the gold rater(s) adjudicated" in err


@pytest.fixture()
def sampled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """The demo corpus with a simple sample of 12 units from `edudial code sample`, a model
    labelling every unit (coder_a's labels) and 'adjudicated' on the sampled units (coder_b's)."""
    pytest.importorskip("annotation.coding")
    from toolkit.demo import bundled_sample
    from toolkit.io import read_corpus

    corpus = bundled_sample().save(tmp_path / "demo.corpus")
    sample = tmp_path / "sample.json"
    code, _, err = run_cli(
        [
            *("code", "sample", str(corpus), "--rubric", "mathdial-moves"),
            *("--n", "12", "--seed", "7", "-o", str(sample)),
        ],
        capsys,
    )
    assert code == 0, err
    drawn = {u["unit_id"] for u in json.loads(sample.read_text())["units"]}
    c = read_corpus(corpus)
    a = c.annotations
    model = a[a["rater"] == "coder_a"].assign(rater=MODEL, rater_kind="model")
    gold = a[(a["rater"] == "coder_b") & a["unit_id"].isin(drawn)].assign(rater="adjudicated")
    coded = c.with_annotations(pd.concat([a, model, gold], ignore_index=True), replace=True)
    return coded.save(tmp_path / "coded.corpus"), sample


def test_estimate_reads_a_simple_sample_of_code_sample(
    sampled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.io import read_corpus

    corpus, sample = sampled
    design = json.loads(sample.read_text())["design"]
    assert design["method"] == "simple" and design["strata"][0]["stratum"] == "all"
    code, out, err = run_cli(
        [
            *("estimate", str(corpus), "--scheme", "mathdial/move", "--model", MODEL),
            *("--sample", str(sample), "--format", "json"),
        ],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["weighted"] is True and doc["stratified"] is False
    assert doc["n_corpus"] == 33 and doc["n_gold"] == 12
    # by hand: N = 33 model labels, n = 12 gold labels, every unit weighted N / n
    a = read_corpus(corpus).annotations
    f_all = a[a["rater"] == MODEL].set_index("unit_id")["label"]
    gold = a[a["rater"] == "adjudicated"].set_index("unit_id")["label"]
    N, n = len(f_all), len(gold)
    for row in doc["codes"]:
        k = row["code"]
        y = (gold == k).to_numpy(float)
        f = (f_all[gold.index] == k).to_numpy(float)
        fa = (f_all == k).to_numpy(float)
        # PPI: the model's share plus the mean rectifier on the coded units
        assert row["ppi"]["estimate"] == pytest.approx(fa.mean() + (y - f).mean(), abs=1e-12)
        assert row["gold_only"]["estimate"] == pytest.approx(y.mean(), abs=1e-12)
        assert row["gold_only"]["se"] == pytest.approx(y.std(ddof=1) / np.sqrt(n), abs=1e-12)
        # its variance: rectifier over the sample, plus the model term over the corpus
        cov = np.mean((y - y.mean()) * (f - f.mean()))
        var = (y - f).var(ddof=1) / n + (2 * cov - f.var()) / N
        assert row["ppi"]["se"] == pytest.approx(np.sqrt(var), abs=1e-12)
    generic = next(r for r in doc["codes"] if r["code"] == "generic")
    # 7 of 33 model labels are generic; 3 gold and 2 model labels among the 12 coded units
    assert generic["ppi"]["estimate"] == pytest.approx(7 / 33 + (3 - 2) / 12, abs=1e-12)


def test_model_short_name(sampled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    corpus, _ = sampled
    base = ["estimate", str(corpus), "--scheme", "mathdial/move", "--format", "json"]
    code, short, err = run_cli([*base, "--model", "gpt-4o-mini"], capsys)
    assert code == 0, err
    code, full, _ = run_cli([*base, "--model", MODEL], capsys)
    assert json.loads(short) == json.loads(full) and json.loads(short)["model"] == MODEL
    code, _, err = run_cli([*base, "--model", "gpt-4o"], capsys)
    assert code == 2
    assert "--model 'gpt-4o' has no labels in scheme 'mathdial/move'; raters: " in err
    assert MODEL in err
    # irr --models resolves the same way
    irr = ["irr", str(corpus), "--bootstrap", "0", "--format", "json"]
    code, out, err = run_cli(
        [*irr, "--models", "gpt-4o-mini", "--humans", "coder_a,coder_b"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["schemes"][0]["models"] == [MODEL]


def test_an_ambiguous_short_name_lists_the_candidates(
    pilot: tuple[Path, list[str], list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = pilot
    frame = pd.read_json(path, lines=True, dtype=False)
    other = frame[frame["rater"] == MODEL].assign(rater="gpt-4o-mini@other-rubric@2.0")
    pd.concat([frame, other]).to_json(path, orient="records", lines=True)
    expected = f"names several raters in scheme 'move': {MODEL}, gpt-4o-mini@other-rubric@2.0"
    code, _, err = run_cli(
        ["estimate", str(path), "--scheme", "move", "--model", "gpt-4o-mini", "--gold", "ana"],
        capsys,
    )
    assert code == 2 and f"--model 'gpt-4o-mini' {expected}" in err
    code, _, err = run_cli(
        ["irr", str(path), "--scheme", "move", "--models", "gpt-4o-mini", "--bootstrap", "0"],
        capsys,
    )
    assert code == 2 and "--models 'gpt-4o-mini' names several raters" in err
