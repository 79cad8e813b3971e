"""The vectorised bootstrap equals explicit resampling; seeding; cluster resampling; paired CIs."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest

import eval
from eval.bootstrap import _weights, percentile_ci, replicate
from eval.coefficients import alpha_stat, family_stat, pair_stat
from eval.variance import cohen_se


def _matrix(seed: int, n: int = 60, R: int = 3, q: int = 4, miss: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n)
    x = np.where(rng.random((n, R)) < 0.7, truth[:, None], rng.integers(0, q, (n, R)))
    x[rng.random((n, R)) < miss] = -1
    return x


def _counts(x: np.ndarray, q: int) -> np.ndarray:
    c = np.zeros((len(x), q), dtype=int)
    r, k = np.nonzero(x >= 0)
    np.add.at(c, (r, x[r, k]), 1)
    return c


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_replicates_equal_explicit_resamples(level: str) -> None:
    x, q, B, seed = _matrix(1), 4, 8, 5
    st = alpha_stat(_counts(x, q), level, np.arange(1.0, q + 1))
    res = replicate([st], B=B, seed=seed)
    w = _weights(np.random.default_rng(seed), B, len(x)).astype(int)
    for b in range(B):
        resample = np.repeat(x, w[b], axis=0)  # each drawn copy is a separate unit
        data = np.where(resample >= 0, resample + 1.0, np.nan).T
        expected = krippendorff.alpha(
            reliability_data=data, level_of_measurement=level, value_domain=np.arange(1, q + 1)
        )
        assert res.values["krippendorff_alpha"][b] == pytest.approx(expected, abs=1e-10)


def test_cluster_replicates_equal_explicit_resamples() -> None:
    x, q, B, seed = _matrix(2, n=40), 4, 6, 9
    clusters = np.array([f"d{i // 4}" for i in range(len(x))])  # 10 dialogues of 4 turns
    stats = [
        family_stat("fleiss_kappa", _counts(x, q), np.eye(q)),
        pair_stat("cohen_kappa", x[:, 0], x[:, 1], np.eye(q)),
    ]
    res = replicate(stats, B=B, seed=seed, clusters=clusters)
    assert res.method == "cluster" and res.n_clusters == 10
    labels = np.unique(clusters)
    w = _weights(np.random.default_rng(seed), B, len(labels)).astype(int)
    for b in range(B):
        parts = [x[clusters == c] for c, k in zip(labels, w[b], strict=True) for _ in range(k)]
        sample = np.vstack(parts)
        fk = eval.fleiss_kappa(np.where(sample >= 0, sample, None), categories=range(q))
        assert res.values["fleiss_kappa"][b] == pytest.approx(fk, abs=1e-12)
        both = (sample[:, 0] >= 0) & (sample[:, 1] >= 0)
        table = np.zeros((q, q))
        np.add.at(table, (sample[both, 0], sample[both, 1]), 1)
        assert res.values["cohen_kappa"][b] == pytest.approx(
            cohen_se(table, np.eye(q))[0], abs=1e-12
        )


def test_chunking_does_not_change_replicates(monkeypatch: pytest.MonkeyPatch) -> None:
    x, q = _matrix(3), 4
    st = family_stat("gwet_ac", _counts(x, q), np.eye(q))
    a = replicate([st], B=50, seed=1).values["gwet_ac"]
    monkeypatch.setattr("eval.bootstrap._CHUNK_CELLS", 7 * len(x))  # chunks of 7 replicates
    monkeypatch.setattr("eval.bootstrap._MIN_CHUNK", 1)
    b = replicate([st], B=50, seed=1).values["gwet_ac"]
    # the random stream is consumed in a different shape, so only the distribution matches;
    # what must hold is that chunks of one size are reproducible
    c = replicate([st], B=50, seed=1).values["gwet_ac"]
    assert np.array_equal(b, c)
    assert abs(np.mean(a) - np.mean(b)) < 0.05


def _long(x: np.ndarray, units: list[str] | None = None) -> pd.DataFrame:
    rows = []
    for i, row in enumerate(x):
        for j, v in enumerate(row):
            if v >= 0:
                rows.append((units[i] if units else f"u{i}", "s", str(v), f"R{j}"))
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater"])


def test_same_seed_same_interval_and_recorded() -> None:
    a = _long(_matrix(4, n=80))
    r1 = eval.agreement(a, categories=["0", "1", "2", "3"], bootstrap=200, seed=11)
    r2 = eval.agreement(a, categories=["0", "1", "2", "3"], bootstrap=200, seed=11)
    r3 = eval.agreement(a, categories=["0", "1", "2", "3"], bootstrap=200, seed=12)
    m1 = r1["s"].metrics["krippendorff_alpha"]
    boot = [r["s"].metrics["krippendorff_alpha"].intervals["bootstrap"].ci for r in (r1, r2, r3)]
    assert boot[0] == boot[1] and boot[0] != boot[2]
    iv = m1.intervals["bootstrap"]
    assert iv.B == 200 and iv.seed == 11 and iv.degenerate == 0
    # the headline interval does not depend on the seed: analytic and jackknife over units
    assert m1.ci == r3["s"].metrics["krippendorff_alpha"].ci
    assert m1.ci_method == (
        "wider of Gwet design-based variance, t interval and delete-one-unit jackknife, t(n - 1)"
    )
    analytic, jack = m1.intervals["analytic"].ci, m1.intervals["jackknife"].ci
    assert m1.ci == (min(analytic[0], jack[0]), max(analytic[1], jack[1]))
    assert m1.ci[0] < m1.estimate < m1.ci[1]
    d = r1.to_dict()
    assert d["conventions"]["ci"]["B"] == 200 and d["conventions"]["ci"]["seed"] == 11


def test_bootstrap_se_close_to_analytic() -> None:
    # large sample: bootstrap spread ~ Gwet / FCE analytic SE (independent computations)
    x = _matrix(5, n=1500, R=2, miss=0.0)
    a = _long(x)
    m = eval.agreement(a, categories=["0", "1", "2", "3"], bootstrap=1000, seed=2)["s"].metrics
    for name in ("cohen_kappa", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha"):
        iv_b = m[name].intervals["bootstrap"].ci
        iv_a = m[name].intervals["analytic"].ci
        assert (iv_b[1] - iv_b[0]) == pytest.approx(iv_a[1] - iv_a[0], rel=0.15), name


def test_degenerate_replicates_counted() -> None:
    # one unit carries the only disagreement and the only second category: many resamples
    # contain a single category, where kappa is undefined
    x = np.array([[0, 0]] * 8 + [[1, 1]])
    a = _long(x)
    m = eval.agreement(a, bootstrap=300, seed=0)["s"].metrics["cohen_kappa"]
    bad = m.intervals["bootstrap"].degenerate
    assert 0 < bad < 300
    # P(unit 9 never drawn) = (8/9)^9 ~ 0.346
    assert bad / 300 == pytest.approx((8 / 9) ** 9, abs=0.1)


def test_cluster_bootstrap_from_mapping_and_paired_difference() -> None:
    rng = np.random.default_rng(6)
    n = 120
    truth = rng.integers(0, 2, n)
    h1 = np.where(rng.random(n) < 0.9, truth, 1 - truth)
    h2 = np.where(rng.random(n) < 0.9, truth, 1 - truth)
    mo = np.where(rng.random(n) < 0.75, truth, 1 - truth)
    rows = []
    for i in range(n):
        for r, v, k in (("H1", h1[i], "human"), ("H2", h2[i], "human"), ("M", mo[i], "model")):
            rows.append((f"d{i // 6}:{i % 6}", "s", str(v), r, k))
    a = pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind"])
    clusters = {f"d{i // 6}:{i % 6}": f"d{i // 6}" for i in range(n)}
    res = eval.agreement(a, cluster=clusters, bootstrap=300, seed=1)["s"]
    assert res.humans == ["H1", "H2"] and res.models == ["M"]
    k = res.metrics["cohen_kappa"]
    assert k.ci_method == (
        "wider of Fleiss-Cohen-Everitt 1969 asymptotic SE, Wald and "
        "delete-one-dialogue jackknife, t(G - 1)"
    )
    assert k.intervals["cluster_bootstrap"].n_clusters == 20
    jack = k.intervals["cluster_jackknife"]
    assert jack.n_clusters == 20 and jack.df == 19
    assert res.human_model is not None
    hm = res.human_model.by_model["M"]
    diff = hm.difference
    assert diff is not None
    assert diff.estimate == pytest.approx(
        hm.human_model_kappa.estimate - res.metrics["cohen_kappa"].estimate, abs=1e-12
    )
    assert diff.ci is not None
    lo, hi = diff.ci
    assert lo <= diff.estimate <= hi
    assert diff.ci_method == "delete-one-dialogue jackknife, t(G - 1)"
    assert diff.verdict == "below the human-human level"  # 0.75 vs 0.9 accuracy, n = 120


def test_percentile_ci_all_nan() -> None:
    lo, hi, bad = percentile_ci(np.full(5, np.nan))
    assert np.isnan(lo) and np.isnan(hi) and bad == 5
