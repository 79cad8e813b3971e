"""Published reference values (agreement.md section 6); cross-checks with other libraries."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

import eval
from eval.coefficients import alpha_stat, family_stat, weight_matrix
from eval.variance import cohen_se, gwet_alpha_se

# Krippendorff (2011), 4 observers x 12 units
K2011 = """1 2 3 3 2 1 4 1 2 . . .
1 2 3 3 2 2 4 1 2 5 . 3
. 3 3 3 2 3 4 2 2 5 1 .
1 2 3 3 2 4 4 1 2 5 1 ."""
K2011_ALPHA = {
    "nominal": 0.7434210526,
    "ordinal": 0.8153875038,
    "interval": 0.8491071429,
    "ratio": 0.7974027747,
}

# Fleiss (1971) Table 1: counts per patient over 5 categories
FLEISS = """0 0 0 6 0  0 3 0 0 3  0 1 4 0 1  0 0 0 0 6  0 3 0 3 0
2 0 4 0 0  0 0 4 0 2  2 0 3 1 0  2 0 0 4 0  0 0 0 0 6
1 0 0 5 0  1 1 0 4 0  0 3 3 0 0  1 0 0 5 0  0 2 0 3 1
0 0 5 0 1  3 0 0 1 2  5 1 0 0 0  0 2 0 4 0  1 0 2 0 3
0 0 0 0 6  0 1 0 5 0  0 2 0 1 3  2 0 0 4 0  1 0 0 4 1
0 5 0 1 0  4 0 0 0 2  0 2 0 4 0  1 0 5 0 0  0 0 0 0 6"""


def k2011_long() -> pd.DataFrame:
    rows = []
    for rater, line in zip("ABCD", K2011.splitlines(), strict=True):
        for unit, v in enumerate(line.split()):
            if v != ".":
                rows.append((f"u{unit}", "k", v, rater))
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater"])


def fleiss_long() -> pd.DataFrame:
    counts = np.array(FLEISS.split(), dtype=int).reshape(30, 5)
    rows = []
    for p, row in enumerate(counts):
        labels = np.repeat(np.arange(1, 6), row)
        for j, lab in enumerate(labels):  # 6 anonymous ratings per patient
            rows.append((f"p{p}", "dx", str(lab), f"rating{j}"))
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater"])


@pytest.mark.parametrize("level", list(K2011_ALPHA))
def test_krippendorff_2011_published_alpha(level: str) -> None:
    res = eval.agreement(k2011_long(), level=level, categories=list("12345"), bootstrap=0)
    m = res["k"].metrics["krippendorff_alpha"]
    assert m.estimate == pytest.approx(K2011_ALPHA[level], abs=1e-9)
    assert m.n == 11  # unit 12 has one value and is not pairable
    # the vectorised statistic used by the bootstrap gives the same value
    t = eval.ratings_table(k2011_long(), "k", categories=list("12345"), level=level)
    assert alpha_stat(t.counts(), level, t.scores).value() == pytest.approx(
        K2011_ALPHA[level], abs=1e-9
    )
    # Gwet's formulation (used for the analytic SE) reproduces alpha
    assert gwet_alpha_se(t.counts(), level, t.scores)[0] == pytest.approx(
        K2011_ALPHA[level], abs=1e-9
    )


def test_krippendorff_unpairable_unit_does_not_matter() -> None:
    a = k2011_long()
    a = a[a["unit_id"] != "u11"]
    res = eval.agreement(a, level="nominal", categories=list("12345"), bootstrap=0)
    assert res["k"].metrics["krippendorff_alpha"].estimate == pytest.approx(
        K2011_ALPHA["nominal"], abs=1e-9
    )


def test_fleiss_1971_published_kappa() -> None:
    res = eval.agreement(fleiss_long(), categories=list("12345"), bootstrap=0)
    m = res["dx"].metrics["fleiss_kappa"]
    assert m.estimate == pytest.approx(0.4302445201, abs=1e-9)
    assert m.n == 30
    counts = np.array(FLEISS.split(), dtype=int).reshape(30, 5)
    assert counts.sum(axis=0).tolist() == [26, 26, 30, 55, 43]
    assert sm_fleiss(counts) == pytest.approx(m.estimate, abs=1e-12)


def test_sklearn_docstring_cohen() -> None:
    y1 = ["negative", "positive", "negative", "neutral", "positive"]
    y2 = ["negative", "positive", "negative", "neutral", "negative"]
    a = pd.DataFrame(
        [(str(i), "s", lab, r) for r, ys in (("y1", y1), ("y2", y2)) for i, lab in enumerate(ys)],
        columns=["unit_id", "scheme", "label", "rater"],
    )
    m = eval.agreement(a, bootstrap=0)["s"].metrics
    assert m["cohen_kappa"].estimate == pytest.approx(0.6875, abs=1e-9)
    assert m["percent_agreement"].estimate == pytest.approx(0.8, abs=1e-12)
    assert eval.cohen_kappa(list(zip(y1, y2, strict=True))) == pytest.approx(0.6875, abs=1e-9)


def _random_pair(seed: int, q: int = 5, n: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, q, n)
    b = np.clip(a + rng.integers(-1, 2, n), 0, q - 1)
    noise = rng.random(n) < 0.1
    b[noise] = rng.integers(0, q, int(noise.sum()))
    return a, b


@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic"])
def test_cohen_matches_sklearn_and_statsmodels(weights: str) -> None:
    a, b = _random_pair(3)
    labels = [1, 2, 3, 4, 5]
    x, y = a + 1, b + 1
    ours = eval.cohen_kappa(np.column_stack([x, y]), categories=labels, weights=weights)
    sk = cohen_kappa_score(x, y, labels=labels, weights=None if weights == "identity" else weights)
    assert ours == pytest.approx(sk, abs=1e-12)
    table = np.zeros((5, 5))
    np.add.at(table, (a, b), 1)
    sm = cohens_kappa(table, wt=None if weights == "identity" else weights)
    k, se = cohen_se(table, weight_matrix(5, weights))
    assert k == pytest.approx(sm.kappa, abs=1e-12)
    assert se == pytest.approx(sm.std_kappa, rel=1e-9)


def test_unused_declared_category_changes_weights() -> None:
    # declared 1-4 scale where 3 is never used (agreement.md section 3)
    x = [1, 2, 4, 4, 2, 1, 2, 4]
    y = [1, 2, 4, 2, 2, 1, 1, 4]
    declared = eval.cohen_kappa(
        np.column_stack([x, y]), categories=[1, 2, 3, 4], weights="quadratic"
    )
    sk = cohen_kappa_score(x, y, labels=[1, 2, 3, 4], weights="quadratic")
    sk_observed = cohen_kappa_score(x, y, weights="quadratic")
    assert declared == pytest.approx(sk, abs=1e-12)
    assert abs(declared - sk_observed) > 1e-3
    # and the same through the long-table API with --categories
    a = pd.DataFrame(
        [(str(i), "s", str(v), r) for r, vs in (("A", x), ("B", y)) for i, v in enumerate(vs)],
        columns=["unit_id", "scheme", "label", "rater"],
    )
    m = eval.agreement(a, level="ordinal", categories=["1", "2", "3", "4"], bootstrap=0)
    assert m["s"].metrics["cohen_kappa_quadratic"].estimate == pytest.approx(sk, abs=1e-12)
    assert m["s"].categories == ["1", "2", "3", "4"]


def test_declared_order_not_alphabetical() -> None:
    r1 = ["low", "medium", "high", "medium", "low", "high", "high", "low"]
    r2 = ["low", "high", "high", "medium", "medium", "high", "medium", "low"]
    order = ["low", "medium", "high"]
    sk = cohen_kappa_score(r1, r2, labels=order, weights="quadratic")
    a = pd.DataFrame(
        [(str(i), "s", v, r) for r, vs in (("A", r1), ("B", r2)) for i, v in enumerate(vs)],
        columns=["unit_id", "scheme", "label", "rater"],
    )
    m = eval.agreement(a, level="ordinal", categories=order, bootstrap=0)["s"].metrics
    assert m["cohen_kappa_quadratic"].estimate == pytest.approx(sk, abs=1e-12)
    with pytest.raises(eval.data.InputError, match="category order"):
        eval.agreement(a, level="ordinal", bootstrap=0)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorff_with_missing(level: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, size=(4, 60)).astype(float)
    x[rng.random(x.shape) < 0.25] = np.nan
    expected = krippendorff.alpha(
        reliability_data=x, level_of_measurement=level, value_domain=[1, 2, 3, 4, 5]
    )
    got = eval.krippendorff_alpha(x.T, level=level, categories=[1, 2, 3, 4, 5])
    assert got == pytest.approx(expected, abs=1e-10)


def test_fleiss_equal_raters_matches_statsmodels() -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(0, 4, size=(80, 5))
    counts, _ = aggregate_raters(x)
    assert eval.fleiss_kappa(x) == pytest.approx(sm_fleiss(counts), abs=1e-12)
    # Brennan-Prediger = Randolph's free-marginal kappa with all categories used
    assert eval.brennan_prediger(x) == pytest.approx(
        sm_fleiss(counts, method="randolph"), abs=1e-12
    )


def test_two_rater_identities() -> None:
    a, b = _random_pair(5, q=3, n=120)
    x = np.column_stack([a, b])
    n = len(a)
    po = float((a == b).mean())
    pi = eval.scott_pi(x)
    # Fleiss' kappa with two raters is Scott's pi; alpha = 1 - (1 - pi)(n2 - 1)/n2
    assert eval.fleiss_kappa(x) == pytest.approx(pi, abs=1e-12)
    alpha = eval.krippendorff_alpha(x, level="nominal")
    assert alpha == pytest.approx(1 - (1 - pi) * (2 * n - 1) / (2 * n), abs=1e-12)
    assert eval.percent_agreement(x) == pytest.approx(po, abs=1e-12)
    assert eval.brennan_prediger(x) == pytest.approx((po - 1 / 3) / (1 - 1 / 3), abs=1e-12)
    # Conger's kappa with two raters is Cohen's kappa
    assert eval.conger_kappa(x) == pytest.approx(eval.cohen_kappa(x), abs=1e-12)


def test_gwet_ac1_and_pabak_by_hand() -> None:
    # 2 x 2 table: a=40 (both 1), b=5, c=5, d=50 (both 0); n = 100
    x = [[1, 1]] * 40 + [[1, 0]] * 5 + [[0, 1]] * 5 + [[0, 0]] * 50
    pi1 = (45 + 45) / 200
    pe = 2 * pi1 * (1 - pi1)  # sum_k pi_k (1 - pi_k) / (q - 1), q = 2
    assert eval.gwet_ac1(x) == pytest.approx((0.9 - pe) / (1 - pe), abs=1e-12)
    assert eval.pabak(x) == pytest.approx(2 * 0.9 - 1, abs=1e-12)


def test_gwet_ac2_quadratic_by_hand() -> None:
    x = np.array([[1, 1], [1, 2], [2, 2], [3, 3], [3, 2], [1, 1]])
    q = 3
    w = weight_matrix(q, "quadratic")
    codes = x - 1
    pa = float(np.mean([w[i, j] for i, j in codes]))
    pik = np.bincount(codes.ravel(), minlength=q) / codes.size
    pe = w.sum() / (q * (q - 1)) * float((pik * (1 - pik)).sum())
    assert eval.gwet_ac2(x, categories=[1, 2, 3]) == pytest.approx((pa - pe) / (1 - pe), abs=1e-12)


def test_conger_by_hand_three_raters() -> None:
    x = np.array([[0, 0, 1], [1, 1, 1], [0, 1, 0], [0, 0, 0], [1, 1, 0]])
    R, q = 3, 2
    pgk = np.array([[np.mean(x[:, g] == k) for k in range(q)] for g in range(R)])
    pbar = pgk.mean(axis=0)
    s2 = pgk.var(axis=0, ddof=1)
    pe = float((pbar**2 - s2 / R).sum())
    pa = family_stat("percent_agreement", eval.api.matrix_table(x).counts(), np.eye(2)).value()
    assert eval.conger_kappa(x) == pytest.approx((pa - pe) / (1 - pe), abs=1e-12)


def test_icc_shrout_fleiss_1979() -> None:
    # Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges; published ICCs to two decimals
    x = np.array(
        [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
        dtype=float,
    )
    r = eval.icc(x)
    published = {
        "ICC(1)": 0.17,
        "ICC(A,1)": 0.29,
        "ICC(C,1)": 0.71,
        "ICC(1,k)": 0.44,
        "ICC(A,k)": 0.62,
        "ICC(C,k)": 0.91,
    }
    for form, value in published.items():
        assert round(r[form].estimate, 2) == value
        lo, hi = r[form].ci
        assert lo < r[form].estimate < hi


def test_icc_consistency_ci_is_exact_f() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 1)) + rng.normal(scale=0.5, size=(40, 3))
    r = eval.icc(x)["ICC(C,1)"]
    from scipy import stats

    n, k = x.shape
    f = r.F
    fl = f / stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    assert r.ci[0] == pytest.approx((fl - 1) / (fl + k - 1), abs=1e-12)


def test_icc_reported_for_interval_level() -> None:
    rng = np.random.default_rng(4)
    true = rng.integers(1, 6, 50)
    rows = [
        (f"u{i}", "score", str(int(np.clip(t + rng.integers(-1, 2), 1, 5))), r)
        for r in ("A", "B", "C")
        for i, t in enumerate(true)
    ]
    a = pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater"])
    m = eval.agreement(a, level="interval", categories=list("12345"), bootstrap=0)
    icc_m = m["score"].metrics["icc"]
    assert icc_m.info["form"] == "ICC(A,1)"
    assert icc_m.ci is not None and icc_m.ci_method.startswith("wider of exact F")
    exact, jack = icc_m.intervals["analytic"].ci, icc_m.intervals["jackknife"].ci
    assert icc_m.ci == (min(exact[0], jack[0]), min(max(exact[1], jack[1]), 1.0))


def test_icc_agreement_irr_anxiety() -> None:
    # R irr's `anxiety` data (20 subjects x 3 raters); irr::icc(anxiety, "twoway", "agreement")
    # prints ICC(A,1) = 0.198, 95% CI -0.039 < ICC < 0.494
    x = np.array(
        [
            [3, 3, 2],
            [3, 6, 1],
            [3, 4, 4],
            [4, 6, 4],
            [5, 2, 3],
            [5, 4, 2],
            [2, 2, 1],
            [3, 4, 6],
            [5, 3, 1],
            [2, 3, 1],
            [2, 2, 1],
            [6, 3, 2],
            [1, 3, 3],
            [5, 3, 3],
            [2, 2, 1],
            [2, 2, 1],
            [1, 1, 3],
            [2, 3, 3],
            [4, 3, 2],
            [3, 4, 2],
        ],
        dtype=float,
    )
    r = eval.icc(x)["ICC(A,1)"]
    assert round(r.estimate, 3) == 0.198
    assert round(r.F, 2) == 1.83
    assert [round(v, 3) for v in r.ci] == [-0.039, 0.494]


def test_unknown_weights_are_an_input_error_everywhere() -> None:
    from toolkit.errors import InputError

    ratings = [["1", "2"], ["2", "2"], ["3", "3"]]
    with pytest.raises(InputError, match="unknown weights 'cubic'"):
        eval.cohen_kappa(ratings, weights="cubic")
    with pytest.raises(InputError, match="unknown weights 'cubic'"):
        eval.fleiss_kappa(ratings, weights="cubic")
    long = pd.DataFrame(
        [
            (str(u), "s", v, r)
            for u, row in enumerate(ratings)
            for r, v in zip("AB", row, strict=True)
        ],
        columns=["unit_id", "scheme", "label", "rater"],
    )
    with pytest.raises(InputError, match="weights must be one of"):
        eval.agreement(long, weights="cubic")
