"""Property tests: invariances, bounds, perfect agreement and degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eval

NAMES = [
    "percent_agreement",
    "fleiss_kappa",
    "conger_kappa",
    "gwet_ac1",
    "brennan_prediger",
    "krippendorff_alpha",
    "cohen_kappa",
    "scott_pi",
]


@st.composite
def matrices(draw: st.DrawFn, max_units: int = 12, max_raters: int = 4, max_q: int = 4):
    n = draw(st.integers(2, max_units))
    R = draw(st.integers(2, max_raters))
    q = draw(st.integers(2, max_q))
    cells = draw(st.lists(st.integers(-1, q - 1), min_size=n * R, max_size=n * R))
    return np.array(cells).reshape(n, R), q


def _long(
    x: np.ndarray, cats: list[str], units: list[str] | None = None, raters: list[str] | None = None
) -> pd.DataFrame:
    rows = []
    for i, row in enumerate(x):
        for j, v in enumerate(row):
            if v >= 0:
                rows.append(
                    (
                        (units or [f"u{k}" for k in range(len(x))])[i],
                        "s",
                        cats[v],
                        (raters or [f"R{k}" for k in range(x.shape[1])])[j],
                    )
                )
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater"])


def _values(a: pd.DataFrame, cats: list[str], level: str = "nominal") -> dict[str, float]:
    if len(a) == 0:
        return {}
    m = eval.agreement(a, categories=cats, level=level, bootstrap=0)["s"].metrics
    return {k: v.estimate for k, v in m.items()}


def _same(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if math.isnan(a[k]):
            assert math.isnan(b[k]), k
        else:
            assert a[k] == pytest.approx(b[k], abs=1e-9), k


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(matrices(), st.randoms(use_true_random=False))
def test_invariant_under_unit_and_rater_permutation(mq, rnd) -> None:
    x, q = mq
    cats = [f"c{k}" for k in range(q)]
    base = _values(_long(x, cats), cats)
    units = list(range(len(x)))
    rnd.shuffle(units)
    raters = list(range(x.shape[1]))
    rnd.shuffle(raters)
    # same ratings, rows and columns listed in another order (ids travel with their ratings)
    perm = _long(
        x[units][:, raters], cats, units=[f"u{u}" for u in units], raters=[f"R{r}" for r in raters]
    )
    _same(base, _values(perm, cats))


@SETTINGS
@given(matrices(), st.randoms(use_true_random=False))
def test_nominal_invariant_under_relabeling(mq, rnd) -> None:
    x, q = mq
    cats = [f"c{k}" for k in range(q)]
    mapping = list(range(q))
    rnd.shuffle(mapping)
    y = np.where(x >= 0, np.array(mapping)[np.clip(x, 0, None)], -1)
    _same(_values(_long(x, cats), cats), _values(_long(y, cats), cats))


@SETTINGS
@given(matrices())
def test_bounds(mq) -> None:
    x, q = mq
    cats = [str(k) for k in range(q)]
    for level in ("nominal", "ordinal", "interval"):
        vals = _values(_long(x, cats), cats, level)
        for k, v in vals.items():
            if math.isnan(v):
                continue
            assert v <= 1 + 1e-9, k
            if k == "percent_agreement":
                assert v >= -1e-12
            if k == "brennan_prediger":
                assert v >= -1 / (q - 1) - 1e-9
            # two-rater kappa/pi lie in [-1, 1]; the generalised multi-rater coefficients can
            # fall below -1 when singly rated units shift the prevalences (Gwet's definition)
            if k in ("cohen_kappa", "scott_pi"):
                assert v >= -1 - 1e-9, k


@SETTINGS
@given(st.integers(2, 10), st.integers(2, 4), st.integers(2, 5), st.data())
def test_perfect_agreement_gives_one(n, R, q, data) -> None:
    truth = data.draw(st.lists(st.integers(0, q - 1), min_size=n, max_size=n))
    if len(set(truth)) < 2:
        truth[0], truth[1] = 0, 1
    x = np.repeat(np.array(truth)[:, None], R, axis=1)
    vals = _values(_long(x, [str(k) for k in range(q)]), [str(k) for k in range(q)])
    for k in NAMES:
        if k in vals:
            assert vals[k] == pytest.approx(1.0, abs=1e-12), k


def test_single_category_is_nan_with_message() -> None:
    a = _long(np.zeros((5, 2), dtype=int), ["yes"])
    res = eval.agreement(a, bootstrap=50)["s"]
    assert math.isnan(res.metrics["cohen_kappa"].estimate)
    assert math.isnan(res.metrics["krippendorff_alpha"].estimate)
    assert res.metrics["percent_agreement"].estimate == 1.0
    assert any("one declared category" in n for n in res.notes)
    assert res.to_dict()["metrics"]["cohen_kappa"]["estimate"] is None  # JSON null


def test_one_category_used_of_two_declared() -> None:
    a = _long(np.zeros((5, 2), dtype=int), ["no", "yes"])
    res = eval.agreement(a, categories=["no", "yes"], bootstrap=0)["s"]
    assert math.isnan(res.metrics["cohen_kappa"].estimate)
    assert res.metrics["gwet_ac1"].estimate == pytest.approx(1.0)
    assert res.metrics["pabak"].estimate == pytest.approx(1.0)
    assert any("only one category was used" in n for n in res.notes)


def test_single_rater_message() -> None:
    a = _long(np.array([[0], [1], [1]]), ["0", "1"])
    res = eval.agreement(a, bootstrap=50)["s"]
    assert res.metrics == {}
    assert any("only one rater" in n for n in res.notes)


def test_no_overlapping_units() -> None:
    x = np.array([[0, -1], [1, -1], [-1, 0], [-1, 1]])
    res = eval.agreement(_long(x, ["0", "1"]), bootstrap=50)["s"]
    assert math.isnan(res.metrics["krippendorff_alpha"].estimate)
    assert math.isnan(res.metrics["cohen_kappa"].estimate)
    assert res.metrics["cohen_kappa"].n == 0
    assert any("no unit is rated by two" in n for n in res.notes)


def test_missing_is_never_a_category() -> None:
    a = _long(np.array([[0, 0], [1, 1], [1, 0]]), ["0", "1"])
    extra = pd.DataFrame(
        [("u0", "s", None, "R2"), ("u1", "s", "", "R2")],
        columns=["unit_id", "scheme", "label", "rater"],
    )
    res = eval.agreement(pd.concat([a, extra]), bootstrap=0)["s"]
    assert res.categories == ["0", "1"]
    base = eval.agreement(a, bootstrap=0)["s"]
    assert res.metrics["krippendorff_alpha"].estimate == pytest.approx(
        base.metrics["krippendorff_alpha"].estimate
    )


def test_bad_inputs_raise_input_error() -> None:
    from toolkit.errors import InputError

    a = _long(np.array([[0, 1], [1, 1]]), ["0", "1"])
    with pytest.raises(InputError, match="unknown level"):
        eval.agreement(a, level="cardinal")
    with pytest.raises(InputError, match="not among the declared"):
        eval.agreement(a, categories=["1", "2"])
    with pytest.raises(InputError, match="unknown scheme"):
        eval.agreement(a, "nope")
    with pytest.raises(InputError, match="more than once"):
        eval.agreement(pd.concat([a, a.iloc[:1]]))
    with pytest.raises(InputError, match="no ratings by"):
        eval.agreement(a, humans=["X"])


def test_numeric_labels_compare_by_value() -> None:
    a = pd.DataFrame(
        {
            "unit_id": ["u1", "u1", "u2", "u2", "u3", "u3"],
            "scheme": "s",
            "label": ["1", "1.0", "2", "2.0", "3", "1"],
            "rater": ["A", "B"] * 3,
        }
    )
    res = eval.agreement(a, level="ordinal", categories=["1", "2", "3", "4"], bootstrap=0)["s"]
    assert res.metrics["percent_agreement"].estimate == pytest.approx(2 / 3)
    assert res.categories == ["1", "2", "3", "4"]
    res = eval.agreement(a, bootstrap=0)["s"]
    assert res.categories == ["1", "2", "3"]


def test_one_human_and_a_model_get_scheme_metrics() -> None:
    a = pd.DataFrame(
        {
            "unit_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4", "u4"],
            "scheme": "s",
            "label": ["1", "1", "0", "0", "1", "0", "0", "0"],
            "rater": ["H", "M"] * 4,
            "rater_kind": ["human", "model"] * 4,
        }
    )
    res = eval.agreement(a, bootstrap=0)["s"]
    assert res.humans == ["H"] and res.models == ["M"]
    k = eval.cohen_kappa([[1, 1], [0, 0], [1, 0], [0, 0]])
    assert res.metrics["cohen_kappa"].estimate == pytest.approx(k)
    assert res.human_model is not None
    assert res.human_model.by_model["M"].human_model_kappa.estimate == pytest.approx(k)
    assert any("only one human" in n for n in res.notes)


@SETTINGS
@given(matrices(), st.booleans())
def test_cached_counts_match_codes(mq, subset) -> None:
    import dataclasses

    x, q = mq
    cats = [f"c{k}" for k in range(q)]
    a = _long(x, cats)
    if len(a) == 0:
        return
    raters = sorted(set(a["rater"]))[:2] if subset else None
    t = eval.ratings_table(a, "s", categories=cats, raters=raters)
    fresh = dataclasses.replace(t, count_cache=None)
    assert t.count_cache is not None
    assert np.array_equal(t.counts(), fresh.counts())
