"""Prediction-powered shares (eval.ppi): formulas and coverage over 1,000 simulated corpora."""

from __future__ import annotations

import numpy as np
import pytest

from eval.ppi import estimate_shares, ppi_mean
from toolkit.errors import InputError

R, N, P_TRUE = 1000, 4000, 0.2
SENS, FPR = 0.8, 0.1  # the model finds 80% of the code and adds 10% false positives: share 0.24


def _corpora(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """R corpora of N units from a superpopulation with share P_TRUE, and a biased model."""
    rng = np.random.default_rng(seed)
    y = rng.random((R, N)) < P_TRUE
    f = np.where(y, rng.random((R, N)) < SENS, rng.random((R, N)) < FPR)
    return y.astype(float), f.astype(float)


def _stratified(
    rng: np.random.Generator, f: np.ndarray, n1: int, n0: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per corpus, n1 units the model calls positive and n0 it calls negative (without
    replacement): the row indices and the design weights N_h / n_h."""
    keys = rng.random(f.shape)
    pos = np.argpartition(np.where(f == 1, keys, np.inf), n1, axis=1)[:, :n1]
    neg = np.argpartition(np.where(f == 0, keys, np.inf), n0, axis=1)[:, :n0]
    idx = np.hstack([pos, neg])
    n_pos = f.sum(axis=1, keepdims=True)
    w = np.hstack(
        [np.broadcast_to(n_pos / n1, (R, n1)), np.broadcast_to((N - n_pos) / n0, (R, n0))]
    )
    return idx, w


def _coverage(interval_lo: np.ndarray, interval_hi: np.ndarray) -> float:
    return float(((interval_lo <= P_TRUE) & (interval_hi >= P_TRUE)).mean())


def test_coverage_with_a_stratified_sample_and_a_biased_model() -> None:
    y, f = _corpora(seed=7)
    rng = np.random.default_rng(8)
    idx, w = _stratified(rng, f, 150, 150)
    strata = np.r_[np.ones(150), np.zeros(150)]
    ys, fs = np.take_along_axis(y, idx, 1), np.take_along_axis(f, idx, 1)
    out = ppi_mean(f, ys, fs, weights=w, strata=strata)
    cover = {
        m: _coverage(*getattr(out, m).ci) for m in ("model_only", "gold_only", "ppi", "ppi_plus")
    }
    assert 0.935 <= cover["ppi_plus"] <= 0.965, cover
    assert 0.935 <= cover["ppi"] <= 0.965, cover
    assert 0.935 <= cover["gold_only"] <= 0.965, cover
    assert cover["model_only"] < 0.2, cover  # biased by +0.04 with a tight interval
    # stratifying on the model's label already uses it: power tuning then keeps gold-only's
    # precision instead of adding the model's noise
    assert np.median(out.ppi_plus.se) <= 1.001 * np.median(out.gold_only.se)


def test_coverage_with_a_simple_random_sample() -> None:
    y, f = _corpora(seed=11)
    rng = np.random.default_rng(12)
    idx = np.argpartition(rng.random((R, N)), 300, axis=1)[:, :300]
    out = ppi_mean(f, np.take_along_axis(y, idx, 1), np.take_along_axis(f, idx, 1))
    assert 0.935 <= _coverage(*out.ppi_plus.ci) <= 0.965
    assert _coverage(*out.model_only.ci) < 0.2
    # with a simple random sample the model's labels buy precision over gold-only
    assert np.median(out.ppi_plus.se) < 0.9 * np.median(out.gold_only.se)


def test_ppi_point_estimate_is_the_papers_formula() -> None:
    rng = np.random.default_rng(1)
    f_all = (rng.random(1000) < 0.3).astype(float)
    idx = rng.choice(1000, 100, replace=False)
    y = np.where(rng.random(100) < 0.8, f_all[idx], 1 - f_all[idx])
    out = ppi_mean(f_all, y, f_all[idx])
    # Angelopoulos et al. (2023): theta = mean_N(f) - mean_n(f - Y)
    assert out.ppi.estimate == pytest.approx(f_all.mean() - (f_all[idx] - y).mean())
    # variance Var_N(f)/N + Var_n(f - Y)/n, plus the covariance of a sample inside the corpus
    cov = np.cov(y, f_all[idx], ddof=0)[0, 1]
    var_f = f_all[idx].var()
    expected = f_all.var(ddof=1) / 1000 + (f_all[idx] - y).var(ddof=1) / 100
    expected += (2 * cov - var_f - f_all.var(ddof=1)) / 1000
    assert out.ppi.se**2 == pytest.approx(expected)
    assert out.gold_only.estimate == pytest.approx(y.mean())


def test_estimate_shares_with_inclusion_probabilities() -> None:
    rng = np.random.default_rng(2)
    truth = rng.choice(3, 3000, p=[0.6, 0.3, 0.1])
    model = np.where(rng.random(3000) < 0.8, truth, rng.integers(0, 3, 3000))
    inclusion = np.where(model == 2, 0.3, 0.05)  # rare code oversampled
    sampled = rng.random(3000) < inclusion
    gold = np.where(sampled, truth, -1)
    res = estimate_shares(model, gold, ["a", "b", "c"], inclusion=inclusion)
    assert res.weighted and res.n_gold == int(sampled.sum())
    total = sum(c.ppi_plus.estimate for c in res.codes)
    assert total == pytest.approx(1.0, abs=0.05)
    for code, share in zip(res.codes, [0.6, 0.3, 0.1], strict=True):
        lo, hi = code.ppi_plus.ci
        assert lo - 0.02 <= share <= hi + 0.02
    assert res.to_dict()["codes"][0]["code"] == "a"


def test_bad_inputs_are_listed() -> None:
    with pytest.raises(InputError) as err:
        estimate_shares(
            np.array([0, 1, 1]), np.array([0, -1]), ["a"], inclusion=np.array([0.5, 2.0])
        )
    assert "same units" in str(err.value) and "two categories" in str(err.value)
    with pytest.raises(InputError, match="inclusion probability"):
        estimate_shares(
            np.array([0, 1, 1]), np.array([0, 1, -1]), ["a", "b"], inclusion=np.array([0.5, 0, 0])
        )
    with pytest.raises(InputError, match="fewer than two coded units"):
        estimate_shares(np.array([0, 1, 1]), np.array([0, -1, -1]), ["a", "b"])
