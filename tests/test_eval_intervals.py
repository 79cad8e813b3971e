"""The default intervals (issue 20): the jackknife against brute force, the default rule, the
coverage notes, and a small seeded coverage study of benchmarks/coverage.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score, f1_score

import eval
from eval.agreement import scheme_agreement
from eval.coefficients import pair_stat
from eval.data import RatingTable
from eval.gold import gold_metrics
from eval.jackknife import leave_one_out

ROOT = Path(__file__).resolve().parent.parent


def _table(codes: np.ndarray, clusters: np.ndarray | None, raters=("H1", "H2"), q=4):
    kinds = {r: ("model" if r.startswith("M") else "human") for r in raters}
    return RatingTable(
        "s",
        [f"u{i}" for i in range(len(codes))],
        list(raters),
        [str(k) for k in range(q)],
        codes,
        clusters=clusters,
        rater_kinds=kinds,
    )


def _data(seed: int, g: int, m: int, raters: int = 2, accuracy: float = 0.75):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, g * m)
    codes = np.column_stack(
        [
            np.where(rng.random(g * m) < accuracy, truth, rng.integers(0, 4, g * m))
            for _ in range(raters)
        ]
    )
    return codes, np.repeat([f"d{i}" for i in range(g)], m)


def _jackknife_by_hand(values: list[float], estimate: float, level: float = 0.95):
    v = np.asarray(values)
    g = len(v)
    se = np.sqrt((g - 1) / g * ((v - v.mean()) ** 2).sum())
    half = stats.t.ppf(0.5 + level / 2, g - 1) * se
    return se, (estimate - half, estimate + half)


def test_cohen_kappa_jackknife_equals_leaving_each_dialogue_out_with_sklearn() -> None:
    codes, clusters = _data(1, 6, 7)
    k = scheme_agreement(_table(codes, clusters), bootstrap=0).metrics["cohen_kappa"]
    loo = [
        cohen_kappa_score(codes[clusters != d, 0], codes[clusters != d, 1])
        for d in dict.fromkeys(clusters)
    ]
    se, ci = _jackknife_by_hand(loo, cohen_kappa_score(codes[:, 0], codes[:, 1]))
    jack = k.intervals["cluster_jackknife"]
    assert jack.se == pytest.approx(se, abs=1e-12)
    assert jack.ci == pytest.approx(ci, abs=1e-12)
    assert jack.df == 5 and jack.n_clusters == 6


def test_default_is_the_wider_of_analytic_and_jackknife_clipped() -> None:
    codes, clusters = _data(2, 3, 12)
    k = scheme_agreement(_table(codes, clusters), bootstrap=50).metrics["cohen_kappa"]
    a, j = k.intervals["analytic"].ci, k.intervals["cluster_jackknife"].ci
    assert k.ci == (max(min(a[0], j[0]), -1.0), min(max(a[1], j[1]), 1.0))
    assert k.ci_method == (
        "wider of Fleiss-Cohen-Everitt 1969 asymptotic SE, Wald and "
        "delete-one-dialogue jackknife, t(G - 1)"
    )
    assert k.to_dict()["intervals"]["default"]["ci"] == list(k.ci)


def test_without_dialogues_the_jackknife_leaves_out_units() -> None:
    codes, _ = _data(3, 1, 40)
    k = scheme_agreement(_table(codes, None), bootstrap=0).metrics["cohen_kappa"]
    loo = [
        cohen_kappa_score(np.delete(codes[:, 0], i), np.delete(codes[:, 1], i)) for i in range(40)
    ]
    se, _ = _jackknife_by_hand(loo, k.estimate)
    assert k.intervals["jackknife"].se == pytest.approx(se, abs=1e-12)
    assert "delete-one-unit jackknife" in k.ci_method


def test_grouped_jackknife_above_max_groups_keeps_whole_dialogues() -> None:
    codes, clusters = _data(4, 3000, 2)
    s = pair_stat("cohen_kappa", codes[:, 0], codes[:, 1], np.eye(4))
    full = leave_one_out([s], clusters=clusters, max_groups=100_000)
    grouped = leave_one_out([s], clusters=clusters, seed=1)
    assert full.n_groups == 3000 and grouped.n_groups == 1000 and grouped.n_clusters == 3000

    def se(jk):
        v = jk.values[s.name]
        return np.sqrt((len(v) - 1) / len(v) * ((v - v.mean()) ** 2).sum())

    # the delete-a-group jackknife estimates the same variance (Kott 2001), with more noise
    assert se(grouped) == pytest.approx(se(full), rel=0.15)
    k = scheme_agreement(_table(codes, clusters), bootstrap=0).metrics["cohen_kappa"]
    assert "delete-a-group jackknife (1000 groups of dialogues), t(999)" in k.ci_method


def test_human_model_difference_jackknife_by_hand() -> None:
    codes, clusters = _data(5, 5, 8, raters=3)
    t = _table(codes, clusters, raters=("H1", "H2", "M"))
    diff = scheme_agreement(t, bootstrap=0).human_model.by_model["M"].difference

    def difference(mask):
        h1, h2, mo = codes[mask, 0], codes[mask, 1], codes[mask, 2]
        return (cohen_kappa_score(h1, mo) + cohen_kappa_score(h2, mo)) / 2 - cohen_kappa_score(
            h1, h2
        )

    everything = np.ones(len(codes), bool)
    loo = [difference(clusters != d) for d in dict.fromkeys(clusters)]
    _, ci = _jackknife_by_hand(loo, difference(everything))
    assert diff.estimate == pytest.approx(difference(everything), abs=1e-12)
    assert diff.ci_method == "delete-one-dialogue jackknife, t(G - 1)"
    assert diff.ci == pytest.approx(ci, abs=1e-12)


def test_gold_f1_jackknife_equals_sklearn_by_dialogue() -> None:
    codes, clusters = _data(6, 6, 10)
    t = _table(codes, clusters, raters=("gold", "M"))
    res = gold_metrics(t, "M", "gold", B=100)
    labels = list(range(4))
    loo = [
        f1_score(codes[clusters != d, 0], codes[clusters != d, 1], labels=labels, average="macro")
        for d in dict.fromkeys(clusters)
    ]
    point = f1_score(codes[:, 0], codes[:, 1], labels=labels, average="macro")
    _, (lo, hi) = _jackknife_by_hand(loo, point)
    f1 = res.macro["f1"]
    assert f1.estimate == pytest.approx(point, abs=1e-12)
    assert f1.ci == pytest.approx((max(lo, 0.0), min(hi, 1.0)), abs=1e-12)
    assert f1.bootstrap_ci is not None and f1.bootstrap_ci != f1.ci
    assert res.bootstrap["ci_method"].startswith("delete-one-dialogue jackknife")


def test_two_dialogues_carry_a_coverage_note_in_json_and_report() -> None:
    codes, clusters = _data(7, 2, 16)
    rows = [
        (f"u{i}", "s", str(codes[i, j]), r, "human", clusters[i])
        for i in range(len(codes))
        for j, r in enumerate(("H1", "H2"))
    ]
    frame = pd.DataFrame(
        rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind", "dialogue_id"]
    )
    res = eval.agreement(frame, categories=list("0123"), bootstrap=100)
    kappa = res["s"].metrics["cohen_kappa"]
    assert kappa.coverage_note is not None and "2 dialogues" in kappa.coverage_note
    assert (
        res.to_dict()["schemes"][0]["metrics"]["cohen_kappa"]["coverage_note"]
        == kappa.coverage_note
    )
    assert kappa.coverage_note in eval.report(res, format="md")
    assert "only 2 dialogues" in eval.report(res, format="html")


def test_enough_balanced_dialogues_have_no_coverage_note() -> None:
    codes, clusters = _data(8, 20, 4)
    kappa = scheme_agreement(_table(codes, clusters), bootstrap=0).metrics["cohen_kappa"]
    assert kappa.coverage_note is None


def test_a_rare_code_carries_a_coverage_note() -> None:
    rng = np.random.default_rng(9)
    truth = (rng.random(80) < 0.05).astype(int)
    codes = np.column_stack(
        [
            np.where(rng.random(80) < 0.75, truth, (rng.random(80) < 0.05).astype(int))
            for _ in range(2)
        ]
    )
    codes[0] = 1  # at least one positive rating
    clusters = np.repeat([f"d{i}" for i in range(20)], 4)
    kappa = scheme_agreement(_table(codes, clusters, q=2), bootstrap=0).metrics["cohen_kappa"]
    assert kappa.coverage_note is not None and "rarest" in kappa.coverage_note


@pytest.fixture(scope="module")
def coverage():
    spec = importlib.util.spec_from_file_location(
        "bench_coverage", ROOT / "benchmarks" / "coverage.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    module.TRUTH_UNITS = 40_000  # the truth's Monte-Carlo error stays ~0.005
    yield module
    del sys.modules[spec.name]


def test_coverage_study_two_dialogues(coverage) -> None:
    """100 seeded replicates of 2 dialogues x 16 units: the default covers (Monte-Carlo SE
    ~2 points; the benchmark's 1,000 replicates decide the 93% target), the percentile
    bootstrap over dialogues does not (52% at 1,000 replicates)."""
    res = coverage.run_cell(coverage.Cell(2, 16), reps=100, boot=50, seed=3)
    assert res.truth["cohen_kappa"] == pytest.approx(0.75**2, abs=0.01)
    tally = res.tallies
    default = tally[("cohen_kappa", "default")]
    cluster = tally[("cohen_kappa", "cluster_bootstrap")]
    assert default.covered / default.defined >= 0.90
    assert cluster.covered / cluster.defined <= 0.70
    assert res.defaults["cohen_kappa"] == {"default": 100}


def test_estimate_says_when_few_coded_units_carry_a_code() -> None:
    from eval.ppi import estimate_shares

    rng = np.random.default_rng(10)
    model = (rng.random(2000) < 0.05).astype(int)
    gold = np.full(2000, -1)
    coded = rng.choice(2000, 100, replace=False)
    gold[coded] = model[coded]
    res = estimate_shares(model, gold, ["no", "yes"])
    carrying = int((gold[coded] == 1).sum())
    assert carrying < 20
    assert [n for n in res.notes if "carry" in n] == [
        f"Only {carrying} coded unit(s) carry 'yes': with fewer than 20 the PPI++ interval "
        "covered 87-92% in edudial's coverage study; quote the PPI interval (docs/eval.md)."
    ]


def test_icc_jackknife_equals_leaving_each_dialogue_out_with_eval_icc() -> None:
    from eval.icc import icc

    rng = np.random.default_rng(11)
    truth = rng.integers(0, 5, 48)
    codes = np.column_stack([np.clip(truth + rng.integers(-1, 2, 48), 0, 4) for _ in range(3)])
    clusters = np.repeat([f"d{i}" for i in range(8)], 6)
    t = RatingTable(
        "s",
        [f"u{i}" for i in range(48)],
        ["A", "B", "C"],
        [str(v) for v in range(1, 6)],
        codes,
        "interval",
        scores=np.arange(1.0, 6.0),
        clusters=clusters,
    )
    m = scheme_agreement(t, bootstrap=0).metrics["icc"]
    x = codes + 1.0
    loo = [icc(x[clusters != d], 0.95)["ICC(A,1)"].estimate for d in dict.fromkeys(clusters)]
    se, ci = _jackknife_by_hand(loo, icc(x, 0.95)["ICC(A,1)"].estimate)
    jack = m.intervals["cluster_jackknife"]
    assert jack.se == pytest.approx(se, abs=1e-12)
    assert jack.ci == pytest.approx(ci, abs=1e-12)
