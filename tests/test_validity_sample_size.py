"""Sample size for agreement intervals (eval.sample_size): published values and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.data import RatingTable
from eval.sample_size import (
    cantor_units,
    pilot_plan,
    plan,
    simulate_plan,
    unit_sd,
)
from toolkit.errors import InputError


def _binary_formula(k: float, p: float) -> float:
    """n Var(kappa), two raters, binary, equal marginals (Donner & Eliasziw 1992)."""
    return (1 - k) * ((1 - k) * (1 - 2 * k) + k * (2 - k) / (2 * p * (1 - p)))


def test_worked_example_of_the_validity_notes() -> None:
    # kappa 0.7, prevalence 0.5, half-width 0.1 at 95% -> about 196 units
    assert plan("kappa", 0.7, 0.1, [0.5, 0.5]).n_units == 196


@pytest.mark.parametrize("k,p", [(0.4, 0.3), (0.6, 0.1), (0.8, 0.5), (0.2, 0.2)])
def test_two_rater_variance_is_the_closed_form(k: float, p: float) -> None:
    sd, _ = unit_sd("kappa", k, [1 - p, p])
    assert sd**2 == pytest.approx(_binary_formula(k, p), rel=1e-6)
    n = math.ceil(1.959963984540054**2 * _binary_formula(k, p) / 0.1**2)
    assert plan("kappa", k, 0.1, [1 - p, p]).n_units == n


def test_cantor_matches_irr_documented_example() -> None:
    # R irr::N.cohen.kappa(0.5, 0.5, 0.7, 0.85) prints 96 (irr 0.84.1 manual)
    assert cantor_units(0.5, 0.5, 0.7, 0.85) == 96


def test_cantor_two_sided_needs_more_units() -> None:
    assert cantor_units(0.3, 0.4, 0.6, 0.4, two_sided=True) > cantor_units(0.3, 0.4, 0.6, 0.4)


@pytest.mark.parametrize(
    "metric,raters,prev",
    [("kappa", 2, [0.5, 0.5]), ("ac1", 3, [0.6, 0.3, 0.1]), ("alpha", 3, [0.8, 0.2])],
)
def test_plan_checked_by_simulation(metric: str, raters: int, prev: list[float]) -> None:
    res = plan(metric, 0.6, 0.1, prev, raters=raters)
    chk = simulate_plan(res, studies=120, B=150, seed=3)
    # the spread of estimates across simulated studies and the bootstrap half-width both land
    # near the planned 0.1 (Monte Carlo error of 120 studies is a few percent)
    assert 0.085 < chk.empirical_half_width < 0.115
    assert 0.085 < chk.bootstrap_half_width < 0.115
    assert chk.coverage > 0.85


def test_more_raters_need_fewer_units() -> None:
    two = plan("kappa", 0.6, 0.1, [0.7, 0.3], raters=2).n_units
    four = plan("kappa", 0.6, 0.1, [0.7, 0.3], raters=4).n_units
    assert four < two


def test_half_width_inverts_the_plan() -> None:
    res = plan("ac1", 0.7, 0.05, [0.5, 0.3, 0.2], raters=2)
    assert res.half_width(res.n_units) <= 0.05 < res.half_width(res.n_units - 1)


def test_bad_inputs_are_listed_together() -> None:
    with pytest.raises(InputError) as err:
        plan("kappa", 1.2, 0.1, [0.5, 0.6], raters=1)
    text = str(err.value)
    assert "expected value 1.2" in text and "sum to 1" in text and "raters" in text
    with pytest.raises(InputError, match="metric 'icc'"):
        plan("icc", 0.5, 0.1, [0.5, 0.5])
    with pytest.raises(InputError, match="not reachable"):
        plan("ac1", 0.2, 0.1, [0.95, 0.05])


def test_pilot_plan_from_a_rating_table() -> None:
    codes = np.array([[0, 0], [1, 1], [0, 0], [1, 0], [2, 2]] * 8)
    units = [f"u{i}" for i in range(len(codes))]
    table = RatingTable("s", units, ["A", "B"], ["a", "b", "c", "unused"], codes)
    res = pilot_plan(table, "kappa", 0.1)
    assert res.dropped_categories == ["unused"]
    assert res.pilot_units == 40
    assert res.plan.prevalences == pytest.approx((0.5, 0.3, 0.2))
    assert res.more_units == res.plan.n_units - 40
    with pytest.raises(InputError, match="above chance"):
        pilot_plan(
            RatingTable(
                "s", units[:4], ["A", "B"], ["a", "b"], np.array([[0, 1], [1, 0], [0, 1], [1, 0]])
            ),
            "kappa",
            0.1,
        )
