"""Human-model agreement: SIGHT mean kappa, majority-label kappa with ties, delta alpha, ordinal."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

import eval


def _frame(ratings: dict[str, list[int | None]], kinds: dict[str, str]) -> pd.DataFrame:
    rows = []
    for r, vals in ratings.items():
        for i, v in enumerate(vals):
            if v is not None:
                rows.append((f"u{i}", "s", str(v), r, kinds[r]))
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind"])


RNG = np.random.default_rng(21)
N = 60
TRUTH = RNG.integers(1, 5, N)


def _noisy(p: float) -> list[int | None]:
    out: list[int | None] = [
        int(np.clip(t + RNG.integers(-1, 2), 1, 4)) if RNG.random() > p else int(t) for t in TRUTH
    ]
    return out


H = {"A": _noisy(0.6), "B": _noisy(0.6), "C": _noisy(0.6)}
M = _noisy(0.3)
H["C"][3] = None  # missing rating: pairwise deletion
M[5] = None
KINDS = {"A": "human", "B": "human", "C": "human", "GPT": "model"}
DATA = _frame({**H, "GPT": M}, KINDS)
CATS = ["1", "2", "3", "4"]


def _pair(x: list[int | None], y: list[int | None], weights: str | None = None) -> float:
    keep = [i for i in range(N) if x[i] is not None and y[i] is not None]
    return cohen_kappa_score(
        [x[i] for i in keep], [y[i] for i in keep], labels=[1, 2, 3, 4], weights=weights
    )


@pytest.fixture(scope="module")
def result() -> eval.SchemeResult:
    return eval.agreement(DATA, level="ordinal", categories=CATS, bootstrap=200, seed=4)["s"]


def test_roles_from_rater_kind(result: eval.SchemeResult) -> None:
    assert result.humans == ["A", "B", "C"] and result.models == ["GPT"]
    assert result.conventions.metrics_raters == ["A", "B", "C"]


def test_mean_kappa_over_humans(result: eval.SchemeResult) -> None:
    assert result.human_model is not None
    by = result.human_model.by_model["GPT"]
    expected = {h: _pair(H[h], M) for h in H}
    for h, v in expected.items():
        assert by.kappa_by_human[h].estimate == pytest.approx(v, abs=1e-12)
    assert by.human_model_kappa.estimate == pytest.approx(
        np.mean(list(expected.values())), abs=1e-12
    )
    hh = [_pair(H["A"], H["B"]), _pair(H["A"], H["C"]), _pair(H["B"], H["C"])]
    assert result.human_model.human_human.kappa_mean == pytest.approx(np.mean(hh))
    assert by.within_human_range == (min(hh) <= np.mean(list(expected.values())) <= max(hh))
    pairs = {p.raters for p in result.pairwise}
    assert {("A", "B"), ("A", "C"), ("B", "C"), ("A", "GPT"), ("B", "GPT"), ("C", "GPT")} <= pairs


def test_majority_kappa_ties_dropped(result: eval.SchemeResult) -> None:
    maj, ties = [], 0
    for i in range(N):
        vals = [H[h][i] for h in H if H[h][i] is not None]
        counts = pd.Series(vals).value_counts()
        if (counts == counts.max()).sum() > 1:
            ties += 1
            maj.append(None)
        else:
            maj.append(int(counts.index[0]))
    assert result.human_model is not None
    by = result.human_model.by_model["GPT"].majority_kappa
    assert by.n_ties == ties
    assert by.estimate == pytest.approx(_pair(M, maj), abs=1e-12)
    assert by.n == sum(1 for i in range(N) if maj[i] is not None and M[i] is not None)


def test_delta_alpha(result: eval.SchemeResult) -> None:
    def kalpha(raters: list[list[int | None]]) -> float:
        data = np.array([[np.nan if v is None else v for v in r] for r in raters], dtype=float)
        return krippendorff.alpha(
            reliability_data=data, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4]
        )

    a_h = kalpha(list(H.values()))
    a_m = kalpha([*H.values(), M])
    assert result.human_model is not None
    al = result.human_model.by_model["GPT"].alpha
    assert al.humans == pytest.approx(a_h, abs=1e-12)
    assert al.humans_plus_model == pytest.approx(a_m, abs=1e-12)
    assert al.delta == pytest.approx(a_m - a_h, abs=1e-12)
    assert al.ci is not None and al.ci[0] <= al.delta <= al.ci[1]


def test_ordered_extras(result: eval.SchemeResult) -> None:
    assert result.human_model is not None
    by = result.human_model.by_model["GPT"]
    hmean = [np.mean([H[h][i] for h in H if H[h][i] is not None]) for i in range(N)]
    keep = [i for i in range(N) if M[i] is not None]
    rho = spearmanr([hmean[i] for i in keep], [M[i] for i in keep]).statistic
    assert by.spearman_rho is not None
    assert by.spearman_rho.estimate == pytest.approx(rho, abs=1e-12)
    qk = np.mean([_pair(H[h], M, "quadratic") for h in H])
    assert by.quadratic_kappa is not None
    assert by.quadratic_kappa.estimate == pytest.approx(qk, abs=1e-12)


def test_humans_and_models_flags_override_kinds() -> None:
    data = DATA.assign(rater_kind="human")
    res = eval.agreement(data, humans=["A", "B"], models=["GPT"], categories=CATS, bootstrap=0)["s"]
    assert res.humans == ["A", "B"] and res.models == ["GPT"]
    assert res.metrics["cohen_kappa"].estimate == pytest.approx(_pair(H["A"], H["B"]))
    assert "C" not in res.raters


def test_per_category_one_vs_rest(result: eval.SchemeResult) -> None:
    rows = {r.category: r for r in result.per_category}
    assert list(rows) == CATS
    # one-vs-rest Fleiss kappa for category "2" equals Fleiss on the binarised matrix
    x = [[None if H[h][i] is None else int(H[h][i] == 2) for h in H] for i in range(N)]
    assert rows["2"].fleiss_kappa.estimate == pytest.approx(eval.fleiss_kappa(x), abs=1e-12)
    prev = np.mean([v == 2 for v in H["A"]])
    assert rows["2"].prevalence["A"] == pytest.approx(prev)


def test_binary_prevalence_and_bias_indices() -> None:
    # a = both 1, b = A1/B0, c = A0/B1, d = both 0
    x = {"A": [1] * 10 + [1] * 4 + [0] * 2 + [0] * 24, "B": [1] * 10 + [0] * 4 + [1] * 2 + [0] * 24}
    res = eval.agreement(_frame(x, {"A": "human", "B": "human"}), bootstrap=0)["s"]
    p = res.pairwise[0]
    assert p.binary is not None
    assert p.binary.prevalence_index == pytest.approx((10 - 24) / 40)
    assert p.binary.bias_index == pytest.approx((4 - 2) / 40)
    assert p.confusion.counts == [[24, 2], [4, 10]]
    assert res.metrics["pabak"].estimate == pytest.approx(2 * 34 / 40 - 1)
