"""Defects found by running other libraries' own test cases, and the numbers that pin the fixes.

Expected numbers come from the named sources, never from edudial:

* irrCAC (Python, github.com/afergadis/irrCAC) test suite: ``table_cont4x4diagnosis`` (223
  psychiatric patients, clinical vs research diagnosis) with linear weights (Gwet's AC2 0.377,
  SE 0.056; Brennan-Prediger 0.347, SE 0.060; Scott's pi 0.406, SE 0.054), its non-symmetric
  custom weights (test_bp.py), ``table_cont3x3abstractors`` (AC1 0.849, AC2 quadratic 0.940),
  and Krippendorff's alpha on ``raw_4raters`` (pe, coefficient and SE per weighting).
* R irrCAC ``krippen.alpha.raw`` (github.com/kgwet/irrCAC, R/agree.coeff3.raw.r): the
  p-value and interval use ``t(n0 - 1)`` with n0 the rated units.
* The ``krippendorff`` package (installed), with ``value_domain`` the declared values.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

import eval
from eval.variance import gwet_alpha
from toolkit.errors import InputError

# irrCAC table_cont4x4diagnosis (rows: clinical diagnosis; columns: research diagnosis)
DIAGNOSIS = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]
# irrCAC test_bp.py test_bp_cont4x4diagnosis_custom_weights: not symmetric
ASYMMETRIC = [
    [1.00, 0.67, 0.33, 0.00],
    [0.00, 1.00, 0.67, 0.33],
    [0.00, 0.00, 1.00, 0.67],
    [0.33, 0.00, 0.00, 1.00],
]
CONT3X3 = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]  # irrCAC table_cont3x3abstractors

N = None
RAW4 = [  # irrCAC raw_4raters = R cac.raw4raters (Gwet 2014, p. 120): units x raters
    [1, 1, N, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [N, 5, 5, 5], [N, N, 1, 1], [N, N, 3, N],
]  # fmt: skip


def _raw(table: list[list[int]]) -> list[list[int]]:
    """The two raters' ratings (1..q) behind a contingency table (rows = rater 1)."""
    return [
        [i + 1, j + 1] for i, row in enumerate(table) for j, c in enumerate(row) for _ in range(c)
    ]


def _long(matrix: list[list[int | None]]) -> pd.DataFrame:
    rows = [
        (f"u{i}", "s", str(v), f"R{j}", "human")
        for i, row in enumerate(matrix)
        for j, v in enumerate(row)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind"])


# ------------------------------------------------------------------ 1. non-symmetric weights
RATINGS_4X4 = _raw(DIAGNOSIS)
CATS4 = [1, 2, 3, 4]


@pytest.mark.parametrize(
    "call",
    [
        lambda w: eval.gwet_ac2(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.fleiss_kappa(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.brennan_prediger(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.percent_agreement(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.conger_kappa(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.cohen_kappa(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.scott_pi(RATINGS_4X4, CATS4, weights=w),
        lambda w: eval.kappa_table(DIAGNOSIS, weights=w),
        lambda w: eval.weight_matrix(4, w),
    ],
    ids=["gwet_ac2", "fleiss", "bp", "pa", "conger", "cohen", "scott", "kappa_table", "matrix"],
)
def test_non_symmetric_weights_are_refused(call: object) -> None:
    # irrCAC's table functions use pa = sum w_kl p_kl (0.461 for AC2 here); the multi-rater
    # formulas count each pair both ways, i.e. use (w + w') / 2: the same weights would give
    # two answers, so a non-symmetric matrix is an error everywhere a matrix is accepted
    with pytest.raises(
        InputError, match=r"must be symmetric, but w\[1,2\] = 0.67 and w\[2,1\] = 0"
    ):
        call(np.array(ASYMMETRIC))  # type: ignore[operator]
    with pytest.raises(InputError, match="must be symmetric"):
        call(ASYMMETRIC)  # type: ignore[operator]


@pytest.mark.parametrize("name", eval.api.ANALYTIC)
def test_analytic_refuses_non_symmetric_weights(name: str) -> None:
    with pytest.raises(InputError, match="must be symmetric"):
        eval.analytic(name, RATINGS_4X4, categories=CATS4, weights=np.array(ASYMMETRIC))


def test_agreement_and_weights_files_refuse_non_symmetric_weights(tmp_path: Path) -> None:
    long = _long(RATINGS_4X4)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="must be symmetric"):
        eval.agreement(long, level="ordinal", categories=list("1234"), weights=np.array(ASYMMETRIC))
    path = tmp_path / "asym.csv"
    path.write_text("\n".join(",".join(map(str, row)) for row in ASYMMETRIC) + "\n")
    with pytest.raises(InputError, match="must be symmetric") as err:
        eval.read_weights(path, ["1", "2", "3", "4"])
    assert "asym.csv" in str(err.value)


def test_symmetric_custom_matrix_reproduces_irrcac_on_the_diagnosis_table() -> None:
    # linear weights passed as a matrix: irrCAC's table test suite, 3 digits
    linear = [[1 - abs(i - j) / 3 for j in range(4)] for i in range(4)]
    published = {
        "gwet_ac2": (0.377, 0.056),
        "brennan_prediger": (0.347, 0.060),
        "scott_pi": (0.406, 0.054),
    }
    for name, (coeff, se) in published.items():
        res = eval.analytic(name, RATINGS_4X4, categories=CATS4, weights=np.array(linear))
        assert (round(res.estimate, 3), round(res.se, 3)) == (coeff, se), name
        # the point estimate of the wrapper and of analytic() are one number
    assert eval.scott_pi(RATINGS_4X4, CATS4, weights=linear) == pytest.approx(0.406, abs=5e-4)
    assert eval.gwet_ac2(RATINGS_4X4, CATS4, weights=linear) == pytest.approx(0.377, abs=5e-4)


# ------------------------------------------------------------------ 2. an array as weights
def test_analytic_accepts_weight_arrays() -> None:
    rows = _raw(CONT3X3)
    ac1 = eval.analytic("gwet_ac2", rows, categories=[1, 2, 3], weights=np.eye(3))
    listed = eval.analytic("gwet_ac2", rows, categories=[1, 2, 3], weights=np.eye(3).tolist())
    assert round(ac1.estimate, 3) == round(listed.estimate, 3) == 0.849  # irrCAC AC1
    assert ac1.se == listed.se
    default = eval.analytic("gwet_ac2", rows, categories=[1, 2, 3])
    assert round(default.estimate, 3) == 0.940  # irrCAC AC2, quadratic weights
    quadratic = eval.weight_matrix(3, "quadratic")
    as_array = eval.analytic("gwet_ac2", rows, categories=[1, 2, 3], weights=quadratic)
    assert as_array.estimate == default.estimate
    named = eval.analytic("gwet_ac2", rows, categories=[1, 2, 3], weights="identity")
    assert named.estimate == ac1.estimate  # an explicit name is used as given


# ------------------------------------------------------------------ 3. count-table values
VALUES = [1, 2, 4]
RELIABILITY = np.array(  # 3 raters x 10 units, values 1, 2, 4 (NaN = not rated)
    [
        [1, 2, 4, 4, 1, 2, np.nan, 4, 1, 2],
        [1, 4, 4, 2, 1, 2, 2, 4, np.nan, 1],
        [2, 4, 4, 4, np.nan, 1, 2, 4, 1, 4],
    ]
)


def _value_counts(data: np.ndarray) -> np.ndarray:
    return np.array([[np.sum(col == v) for v in VALUES] for col in data.T], dtype=float)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_count_table_categories_are_the_values(level: str) -> None:
    expected = krippendorff.alpha(
        reliability_data=RELIABILITY, value_domain=VALUES, level_of_measurement=level
    )
    table = eval.count_table(_value_counts(RELIABILITY), categories=VALUES)
    assert eval.krippendorff_alpha(table, level=level) == pytest.approx(expected, abs=1e-12)
    ratings = eval.krippendorff_alpha(RELIABILITY.T, level=level, categories=VALUES)
    assert ratings == pytest.approx(expected, abs=1e-12)


def test_count_table_without_numeric_values() -> None:
    counts = _value_counts(RELIABILITY)
    # no categories: the values are 1..q, as the package's default domain for counts
    expected = krippendorff.alpha(value_counts=counts, level_of_measurement="interval")
    assert eval.krippendorff_alpha(eval.count_table(counts), level="interval") == pytest.approx(
        expected, abs=1e-12
    )
    labels = eval.count_table(counts, categories=["low", "mid", "high"])
    with pytest.raises(InputError, match="level 'interval' needs numeric categories"):
        eval.krippendorff_alpha(labels, level="interval")
    nominal = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    assert eval.krippendorff_alpha(labels, level="nominal") == pytest.approx(nominal, abs=1e-12)


# ------------------------------------------------------------------ 4. p_e, zero tests, n = 1
# irrCAC (Python) test_krippendorff.py, raw_4raters: level -> (pe, alpha, se); Gwet's
# quadratic and ratio weights are Krippendorff's interval and ratio metrics on 1..5
ALPHA_IRRCAC = {
    "nominal": (0.240, 0.743, 0.146),
    "interval": (0.825, 0.849, 0.129),
    "ratio": (0.757, 0.797, 0.140),
}


@pytest.mark.parametrize("level", sorted(ALPHA_IRRCAC))
def test_alpha_chance_agreement_matches_irrcac(level: str) -> None:
    pe, coeff, se = ALPHA_IRRCAC[level]
    table = eval.api.matrix_table(RAW4, categories=[1, 2, 3, 4, 5], level=level)
    res = gwet_alpha(table.counts(), level, table.scores)
    assert (round(res.p_e, 3), round(res.estimate, 3)) == (pe, coeff)
    # irrCAC (Python) centres the unit terms on pa, R's krippen.alpha.raw (and edudial) on
    # pa': nominal SE 0.14557 (printed 0.146) vs 0.14548, so allow one unit of the last digit
    assert res.se == pytest.approx(se, abs=6e-4)
    assert res.estimate == pytest.approx(eval.krippendorff_alpha(table), abs=1e-12)
    # p_e is 1 - D_e / max delta^2, D_e Krippendorff's expected disagreement over N^2 pairs
    n_c = table.counts()[table.counts().sum(axis=1) >= 2].sum(axis=0)
    d2 = eval.coefficients.alpha_delta2(level, n_c[None, :], table.scores)[0]
    d_e = float(np.einsum("c,k,ck->", n_c, n_c, d2)) / n_c.sum() ** 2
    assert res.p_e == pytest.approx(1 - d_e / d2.max(), abs=1e-12)
    test = res.zero_test()
    assert test is not None and test.df == 11  # R irrCAC: t(n0 - 1), 12 rated units


def test_percent_agreement_has_no_chance_agreement_or_zero_test() -> None:
    res = eval.analytic("percent_agreement", RAW4, categories=[1, 2, 3, 4, 5])
    assert np.isnan(res.p_e) and res.zero_test() is None
    assert round(res.estimate, 5) == 0.81818  # irrCAC (Python) raw.py docstring: pa
    # the irrCAC vignette's quadratic SE stays (the interval is kept; only the test goes)
    quadratic = eval.analytic("percent_agreement", RAW4, [1, 2, 3, 4, 5], weights="quadratic")
    assert round(quadratic.se, 5) == 0.09062 and quadratic.zero_test() is None
    metric = eval.agreement(_long(RAW4), bootstrap=0, cluster=None)["s"].metrics
    assert metric["percent_agreement"].p_e is None and metric["percent_agreement"].test is None


def test_one_unit_has_an_estimate_and_no_standard_error() -> None:
    assert eval.percent_agreement([[1, 1]]) == 1.0
    res = eval.analytic("percent_agreement", [[1, 1]])
    assert res.estimate == 1.0 and np.isnan(res.se) and res.n == 1
    bp = eval.analytic("brennan_prediger", [[1, 1, 2]], categories=[1, 2])
    # 3 raters, 1 pair of 3 agrees: pa = 1/3, p_e = 1/2
    assert bp.estimate == pytest.approx(eval.brennan_prediger([[1, 1, 2]], [1, 2])) == -1 / 3
    assert np.isnan(bp.se) and bp.zero_test() is None


def test_a_rater_without_ratings_leaves_conger_unchanged() -> None:
    # irrCAC (Python) docstring: Conger's kappa of raw_4raters 0.763, p_e 0.233; an added
    # rater who rated nothing has no marginals and used to make it NaN (and divide by zero)
    with_empty = [[*row, None] for row in RAW4]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = eval.analytic("conger_kappa", with_empty, categories=[1, 2, 3, 4, 5])
        value = eval.conger_kappa(with_empty, categories=[1, 2, 3, 4, 5])
    assert (round(res.estimate, 3), round(res.p_e, 3)) == (0.763, 0.233)
    assert value == pytest.approx(res.estimate, abs=1e-12)


def test_icc_interval_with_a_vanishing_satterthwaite_df() -> None:
    # hypothesis found it: MSR = 0, MSC = 1/6, MSE = 2/3 (by hand) give McGraw & Wong's
    # ICC(A,1) = -MSE / (MSE + 2 (MSC - MSE) / 3) = -2 and a Satterthwaite df of ~1e-31, whose
    # F quantile is infinite: the interval is undefined (NaN), without an inf / inf warning
    x = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        forms = eval.icc(x)
    assert forms["ICC(A,1)"].estimate == pytest.approx(-2.0)
    assert all(np.isnan(b) for b in forms["ICC(A,1)"].ci + forms["ICC(A,k)"].ci)
    assert forms["ICC(C,1)"].estimate == pytest.approx(-1.0)  # (0 - 2/3) / (0 + 2/3)
