"""Analytic SEs, chance agreement, zero tests and Gwet's weights against published values.

Expected numbers are copied from published outputs, never from edudial:

* R irrCAC vignette "Weighted Chance-corrected Agreement Coefficients" (K. Gwet, 2019-09-01,
  github.com/kgwet/irrCAC, vignettes/weighting.html): ``cac.raw4raters``, ``cont3x3abstractors``
  and ``distrib.6raters`` with quadratic weights, and the printed weight matrices for 1:3.
* The Python irrCAC documentation (github.com/afergadis/irrCAC, irrCAC/raw.py docstring and
  its test suite, values printed to 3-5 digits): unweighted AC1, Fleiss and Conger, and
  Conger's kappa with each of Gwet's weights on ``raw_4raters``.
* statsmodels (``cohens_kappa``, ``fleiss_kappa``) where it applies.

* R irr ``kappam.fleiss(diagnoses)`` as printed (kappa 0.430, z = 17.652; category kappas
  0.245, 0.245, 0.520, 0.471, 0.566) on Fleiss (1971), Table 1.

``cac.raw4raters`` is Gwet (2014) Handbook, 4th ed., p. 120 (4 raters x 12 units, categories
1-5, missing ratings); ``distrib.6raters`` is the first 15 patients of Fleiss (1971).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

import eval
from toolkit.errors import InputError

N = None
RAW4 = {
    "Rater1": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "Rater2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, N],
    "Rater3": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    "Rater4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
MATRIX = [list(row) for row in zip(*RAW4.values(), strict=True)]
CATS = [1, 2, 3, 4, 5]

# vignette, raw ratings, weights = "quadratic": (coefficient, se, p_e, p-value)
QUADRATIC = {
    "percent_agreement": (0.9753788, 0.09062, None, 3.526377e-07),
    "gwet_ac2": (0.914, 0.10396, 0.7137044, 2.634438e-06),
    "fleiss_kappa": (0.86494, 0.14603, 0.8177083, 9.976081e-05),
    "conger_kappa": (0.85771, 0.14367, 0.8269638, 9.319979e-05),
    "brennan_prediger": (0.90152, 0.11089, 0.75, 5.60548e-06),
}


def _close(value: float, published: float) -> bool:
    """Equal to the digits printed (the vignette rounds to 5 significant places)."""
    digits = len(f"{published:.10g}".split(".")[-1].split("e")[0])
    tol = 0.6 * 10.0 ** -min(digits, 7)
    if "e" in f"{published:.10g}":
        return value == pytest.approx(published, rel=1e-6)
    return abs(value - published) <= tol


@pytest.mark.parametrize("name", sorted(QUADRATIC))
def test_raw4raters_quadratic_matches_irrcac_vignette(name: str) -> None:
    coeff, se, p_e, p_value = QUADRATIC[name]
    res = eval.analytic(name, MATRIX, categories=CATS, weights="quadratic")
    assert _close(res.estimate, coeff), (res.estimate, coeff)
    assert _close(res.se, se), (res.se, se)
    if p_e is not None:
        assert _close(res.p_e, p_e), (res.p_e, p_e)
    test = res.zero_test()
    if name == "percent_agreement":
        # the vignette prints a p-value for "pa = 0" too; edudial tests only the
        # chance-corrected coefficients (as agreement() does), so analytic() reports none
        assert test is None and np.isnan(res.p_e)
        return
    assert test is not None and test.df == 11  # t(n - 1), n = 12 rated units
    # the vignette's p-values are two-sided t(n - 1), printed to 7 significant digits
    assert test.p_value == pytest.approx(p_value, rel=2e-4)


def test_raw4raters_unweighted_matches_irrcac_python_docs() -> None:
    expected = {  # (coefficient, se, p_e) as printed by irrCAC's raw.py docstring (5 digits)
        "gwet_ac1": (0.77544, 0.14295, 0.19032),
        "fleiss_kappa": (0.76117, 0.15302, 0.23872),
    }
    for name, (coeff, se, p_e) in expected.items():
        res = eval.analytic(name, MATRIX, categories=CATS)
        assert res.estimate == pytest.approx(coeff, abs=6e-6)
        assert res.se == pytest.approx(se, abs=6e-6)
        assert res.p_e == pytest.approx(p_e, abs=6e-6)
    conger = eval.analytic("conger_kappa", MATRIX, categories=CATS)
    assert (round(conger.estimate, 3), round(conger.p_e, 3)) == (0.763, 0.233)
    test = conger.zero_test()
    assert test is not None and round(test.p_value, 5) == 0.00034


# irrCAC (Python) test suite, Conger's kappa on raw_4raters: (coefficient, se, p_e)
CONGER_WEIGHTED = {
    "linear": (0.814, 0.145, 0.675),
    "ordinal": (0.844, 0.144, 0.796),
    "radical": (0.788, 0.146, 0.515),
    "ratio": (0.812, 0.149, 0.756),
    "circular": (0.805, 0.147, 0.499),
    "bipolar": (0.845, 0.142, 0.796),
}


@pytest.mark.parametrize("weights", sorted(CONGER_WEIGHTED))
def test_weighted_conger_with_gwet_weights(weights: str) -> None:
    coeff, se, p_e = CONGER_WEIGHTED[weights]
    res = eval.analytic("conger_kappa", MATRIX, categories=CATS, weights=weights)
    assert (round(res.estimate, 3), round(res.se, 3), round(res.p_e, 3)) == (coeff, se, p_e)


def test_gwet_weight_matrices_as_printed() -> None:
    # vignette: radical.weights(1:3), ordinal.weights(1:3), bipolar.weights(1:3), circular
    assert eval.weight_matrix(3, "radical")[0, 1] == pytest.approx(0.2928932, abs=5e-8)
    assert eval.weight_matrix(3, "ordinal")[0, 1] == pytest.approx(0.6666667, abs=5e-8)
    assert eval.weight_matrix(3, "bipolar")[0, 1] == pytest.approx(0.6666667, abs=5e-8)
    assert eval.weight_matrix(3, "circular")[0, 1] == pytest.approx(0.0, abs=1e-15)
    # irrCAC (Python) docstring: bipolar weights for 5 categories
    first_rows = [[1, 0.85714286, 0.66666667, 0.4, 0], [0.85714286, 1, 0.93333333, 0.75, 0.4]]
    assert eval.weight_matrix(5, "bipolar")[:2] == pytest.approx(np.array(first_rows), abs=5e-9)


CONT3X3 = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]  # cont3x3abstractors (rows = abstractor 1)


def _raw_from_table(table: list[list[int]]) -> list[list[int]]:
    return [
        [i + 1, j + 1] for i, row in enumerate(table) for j, c in enumerate(row) for _ in range(c)
    ]


def test_contingency_table_kappa_and_the_n_squared_convention() -> None:
    # kappa2.table's SE equals the Fleiss-Cohen-Everitt SE edudial uses
    res = eval.kappa_table(CONT3X3, weights="quadratic")
    assert res.estimate == pytest.approx(0.8921569, abs=5e-8)
    assert res.se == pytest.approx(0.03535151, abs=5e-9)
    # the other table functions divide by n^2; edudial (raw ratings, Gwet's handbook) by
    # n (n - 1): the published SEs are edudial's times sqrt((n - 1) / n), n = 100
    published = {
        "scott_pi": (0.8921093, 0.03539506),
        "gwet_ac2": (0.9402369, 0.01792019),
        "brennan_prediger": (0.9175, 0.02346673),
        "percent_agreement": (0.9725, 0.007822244),
    }
    raw = _raw_from_table(CONT3X3)
    for name, (coeff, se) in published.items():
        ours = eval.analytic(name, raw, categories=[1, 2, 3], weights="quadratic")
        assert ours.estimate == pytest.approx(coeff, abs=5e-8), name
        assert ours.se * np.sqrt(99 / 100) == pytest.approx(se, rel=2e-6), name


DISTRIB6 = [  # distrib.6raters: counts per patient (Depression, PD, Schizophrenia, Neurosis, Other)
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
]  # fmt: skip


# Fleiss (1971), Table 1: the first 15 patients (DISTRIB6), then the other 15; 6 diagnoses each
FLEISS1971 = [
    *DISTRIB6,
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
]  # fmt: skip


def test_fleiss_kappa_zero_test_matches_irr_on_fleiss_1971() -> None:
    res = eval.analytic("fleiss_kappa", eval.count_table(FLEISS1971))
    assert round(res.estimate, 3) == 0.430
    test = res.zero_test()
    assert test is not None and test.df is None  # normal, as irr
    assert test.statistic == pytest.approx(17.652, abs=5e-4)
    assert test.method == "variance under kappa = 0 (Fleiss, Nee & Landis 1979)"
    table = np.array(FLEISS1971)
    per_category = [
        eval.fleiss_kappa(eval.count_table(np.column_stack([table[:, j], 6 - table[:, j]])))
        for j in range(5)
    ]
    assert [round(k, 3) for k in per_category] == [0.245, 0.245, 0.520, 0.471, 0.566]
    # the same through agreement(): six rating slots per patient (Fleiss' raters differ by
    # patient, so the slots are not raters; Fleiss' kappa only counts)
    rows = [
        (f"p{i}", "dx", str(k), f"slot{s}", "human")
        for i, row in enumerate(FLEISS1971)
        for s, k in enumerate(k for k, c in enumerate(row) for _ in range(c))
    ]
    long = pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind"])
    m = eval.agreement(long, level="nominal", bootstrap=0, cluster=None)["dx"].metrics
    assert m["fleiss_kappa"].test is not None
    assert m["fleiss_kappa"].test.statistic == pytest.approx(17.652, abs=5e-4)
    assert m["fleiss_kappa"].intervals["analytic"].method.startswith("Gwet")  # interval: Gwet's
    # with a missing rating the null formula does not apply: Gwet's variance and t(n - 1)
    partial = eval.analytic("fleiss_kappa", eval.count_table([[0, 0, 0, 5, 0], *FLEISS1971[1:]]))
    assert partial.se_null is None and partial.zero_test().df == 29


def test_count_table_quadratic_matches_irrcac_dist_functions() -> None:
    table = eval.count_table(DISTRIB6)
    expected = {  # gwet.ac1.dist, fleiss.kappa.dist, bp.coeff.dist: (coeff, se, p_e)
        "gwet_ac2": (0.4837438, 0.1058227, 0.7180556),
        "fleiss_kappa": (0.2511909, 0.1457381, 0.8056173),
        "brennan_prediger": (0.4177778, 0.1067493, 0.75),
    }
    for name, (coeff, se, p_e) in expected.items():
        res = eval.analytic(name, table, weights="quadratic")
        assert res.estimate == pytest.approx(coeff, abs=5e-8), name
        assert res.se == pytest.approx(se, abs=5e-8), name
        assert res.p_e == pytest.approx(p_e, abs=5e-8), name


def test_fractional_counts_match_statsmodels() -> None:
    rng = np.random.default_rng(3)
    # 5 "raters" per unit in quarter counts (exact sums: statsmodels asserts equal row sums)
    table = rng.multinomial(20, [0.4, 0.3, 0.2, 0.1], size=40) / 4
    ours = eval.count_table(table)
    assert eval.fleiss_kappa(ours) == pytest.approx(fleiss_kappa(table), abs=1e-12)
    assert eval.brennan_prediger(ours) == pytest.approx(
        fleiss_kappa(table, method="randolph"), abs=1e-12
    )
    with pytest.raises(InputError, match="not negative"):
        eval.count_table([[1, -1]])
    with pytest.raises(InputError, match="rater's ratings"):
        eval.analytic("cohen_kappa", ours)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_null_se_and_fractional_table_match_statsmodels(weights: str | None) -> None:
    rng = np.random.default_rng(8)
    table = rng.integers(1, 30, (4, 4)) + np.eye(4) * 25 + rng.random((4, 4))  # fractional
    sm = cohens_kappa(table, wt=weights)
    ours = eval.kappa_table(table, weights=weights or "identity")
    assert ours.estimate == pytest.approx(sm.kappa, abs=1e-12)
    assert ours.se == pytest.approx(sm.std_kappa, abs=1e-12)
    assert ours.se_null == pytest.approx(sm.std_kappa0, abs=1e-12)
    test = ours.zero_test()
    assert test is not None and test.df is None
    assert test.statistic == pytest.approx(sm.z_value, abs=1e-9)
    assert test.p_value == pytest.approx(sm.pvalue_two_sided, abs=1e-12)
    assert test.p_value_one_sided == pytest.approx(sm.pvalue_one_sided, abs=1e-12)


def _long(matrix: list[list[int | None]], scheme: str = "s") -> pd.DataFrame:
    rows = [
        (f"u{i}", scheme, str(v), f"R{j}", "human")
        for i, row in enumerate(matrix)
        for j, v in enumerate(row)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind"])


def test_agreement_reports_weighted_coefficients_p_e_and_tests() -> None:
    res = eval.agreement(
        _long(MATRIX), level="ordinal", categories=list("12345"), bootstrap=0, cluster=None
    )["s"]
    m = res.metrics
    for name, (coeff, se, p_e, _) in QUADRATIC.items():
        key = {"gwet_ac2": "gwet_ac2"}.get(name, f"{name}_weighted")
        assert _close(m[key].estimate, coeff) and _close(m[key].se or 0, se), key
        assert m[key].intervals["analytic"].method == "Gwet design-based variance, t interval"
        if p_e is not None:
            assert _close(m[key].p_e or 0, p_e), key
    assert m["conger_kappa"].se == pytest.approx(0.14917, abs=1e-4)  # unweighted, now analytic
    assert m["conger_kappa"].ci is not None  # bootstrap=0: the analytic interval is primary
    assert m["fleiss_kappa"].p_e == pytest.approx(0.23872, abs=6e-6)
    assert m["percent_agreement"].test is None  # no chance correction, no zero test
    d = res.to_dict()["metrics"]["fleiss_kappa"]
    assert d["test_zero"]["distribution"] == "t(11)" and d["p_e"] == m["fleiss_kappa"].p_e


def test_custom_weights_from_file(tmp_path: Path) -> None:
    # irrCAC's custom-weights example is not symmetric: refused (the multi-rater formulas
    # would use w_kl + w_lk, the two-rater ones w_kl; see test_eval_reference_defects.py)
    w = [
        [1.00, 0.75, 0.50, 0.25, 0.00],
        [0.00, 1.00, 0.75, 0.50, 0.25],
        [0.25, 0.00, 1.00, 0.75, 0.50],
        [0.50, 0.25, 0.00, 1.00, 0.75],
        [0.75, 0.50, 0.25, 0.00, 1.00],
    ]
    path = tmp_path / "w.csv"
    path.write_text("1,2,3,4,5\n" + "\n".join(",".join(map(str, r)) for r in w) + "\n")
    with pytest.raises(InputError, match="must be symmetric") as asym:
        eval.read_weights(path, ["1", "2", "3", "4", "5"])
    assert "w.csv" in str(asym.value)
    # the same file with irrCAC's quadratic weights reproduces the vignette's AC2
    quad = [[1 - (i - j) ** 2 / 16 for j in range(5)] for i in range(5)]
    path.write_text("1,2,3,4,5\n" + "\n".join(",".join(map(str, r)) for r in quad) + "\n")
    matrix = eval.read_weights(path, ["1", "2", "3", "4", "5"])
    res = eval.analytic("gwet_ac2", MATRIX, categories=CATS, weights=matrix)
    assert _close(res.estimate, QUADRATIC["gwet_ac2"][0]) and _close(res.se, 0.10396)
    named = tmp_path / "named.csv"
    named.write_text("a,b,c,d,e\n" + "\n".join(",".join(map(str, r)) for r in w) + "\n")
    with pytest.raises(InputError, match="header"):
        eval.read_weights(named, ["1", "2", "3", "4", "5"])
    bad = tmp_path / "bad.csv"
    bad.write_text("1,0.5\n0.5,2\n")
    with pytest.raises(InputError, match="between 0 and 1") as err:
        eval.read_weights(bad)
    assert "bad.csv" in str(err.value)
    with pytest.raises(InputError, match="not 5 x 5"):
        eval.analytic("fleiss_kappa", MATRIX, categories=CATS, weights=np.eye(3))


def test_weights_on_a_nominal_scheme_are_an_error() -> None:
    long = _long(MATRIX)
    with pytest.raises(InputError, match="nominal: linear weights need ordered categories"):
        eval.agreement(long, weights="linear", bootstrap=0)
    with pytest.raises(InputError, match="weights must be one of"):
        eval.agreement(long, level="ordinal", categories=list("12345"), weights="cubic")
    ok = eval.agreement(long, level="ordinal", categories=list("12345"), weights="ordinal")
    assert ok["s"].metrics["gwet_ac2"].info["weights"] == "ordinal"
