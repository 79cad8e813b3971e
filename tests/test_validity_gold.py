"""Gold-standard metrics and the prevalence warning (eval.gold), checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from eval.data import RatingTable
from eval.gold import gold_labels, gold_metrics, prevalence_warning
from toolkit.errors import InputError

CATS = ["a", "b", "c", "d"]


def _table(codes: np.ndarray, raters: list[str], clusters: np.ndarray | None = None) -> RatingTable:
    units = [f"u{i}" for i in range(len(codes))]
    return RatingTable("s", units, raters, CATS, codes, clusters=clusters)


def _noisy(rng: np.random.Generator, truth: np.ndarray, k: float) -> np.ndarray:
    return np.where(rng.random(len(truth)) < k, rng.integers(0, 4, len(truth)), truth)


def test_point_estimates_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    gold = rng.choice(4, 400, p=[0.5, 0.3, 0.15, 0.05])
    model = _noisy(rng, gold, 0.35)
    res = gold_metrics(_table(np.column_stack([gold, model]), ["adj", "M"]), "M", "adj", B=100)
    p, r, f, _ = precision_recall_fscore_support(gold, model, labels=range(4), zero_division=0)
    for k, code in enumerate(res.per_code):
        assert code.precision.estimate == pytest.approx(p[k])
        assert code.recall.estimate == pytest.approx(r[k])
        assert code.f1.estimate == pytest.approx(f[k])
    for avg in ("macro", "micro"):
        p, r, f, _ = precision_recall_fscore_support(gold, model, average=avg, zero_division=0)
        got = getattr(res, avg)
        assert (got["precision"].estimate, got["recall"].estimate, got["f1"].estimate) == (
            pytest.approx(p),
            pytest.approx(r),
            pytest.approx(f),
        )
    assert res.confusion == confusion_matrix(gold, model, labels=range(4)).tolist()


def test_intervals_cover_the_estimate_and_shrink_with_more_units() -> None:
    rng = np.random.default_rng(1)
    widths = []
    for n in (100, 1600):
        gold = rng.integers(0, 4, n)
        codes = np.column_stack([gold, _noisy(rng, gold, 0.3)])
        res = gold_metrics(_table(codes, ["adj", "M"]), "M", "adj", B=300, seed=2)
        lo, hi = res.macro["f1"].ci
        assert lo <= res.macro["f1"].estimate <= hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2.5  # 16x the units: about a quarter of the width


def test_cluster_bootstrap_when_dialogues_are_known() -> None:
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 4, 200)
    clusters = np.repeat(np.arange(20), 10)
    res = gold_metrics(
        _table(np.column_stack([gold, _noisy(rng, gold, 0.3)]), ["adj", "M"], clusters),
        "M",
        "adj",
        B=200,
    )
    assert res.bootstrap["method"] == "cluster" and res.bootstrap["n_clusters"] == 20
    assert res.bootstrap["ci_method"].startswith("delete-one-dialogue jackknife")
    assert not res.notes  # 20 dialogues: no few-cluster note (that starts below 5)


def test_majority_gold_drops_and_counts_ties() -> None:
    codes = np.array(
        [
            [0, 0, 1, 0],  # majority a
            [0, 1, -1, 1],  # tie a/b -> dropped
            [2, 2, 2, 3],  # majority c
            [-1, -1, -1, 0],  # no human -> dropped, not a tie
            [3, 1, 1, 1],  # majority b
        ]
    )
    t = _table(codes, ["A", "B", "C", "M"])
    labels, ties, used = gold_labels(t, "majority", "M")
    assert labels.tolist() == [0, -1, 2, -1, 1] and ties == 1 and used == ["A", "B", "C"]
    res = gold_metrics(t, "M", "majority", B=50)
    assert res.n_units == 3 and res.n_ties == 1 and res.humans == ["A", "B", "C"]
    assert "1 unit(s) with a tied human majority" in res.notes[0]


def test_majority_leaves_out_the_rater_scored() -> None:
    codes = np.array([[0, 1, 1], [1, 0, 0]] * 5)
    t = _table(codes, ["A", "B", "C"])
    # scoring C against the majority of A and B only: every unit is a tie
    with pytest.raises(InputError, match="fewer than two units"):
        gold_metrics(t, "C", "majority")


def test_errors_name_the_rater() -> None:
    t = _table(np.array([[0, 1], [1, 1]]), ["A", "M"])
    with pytest.raises(InputError, match="no gold rater 'adjudicated'"):
        gold_metrics(t, "M", "adjudicated")
    with pytest.raises(InputError, match="no rater 'X'"):
        gold_metrics(t, "X", "A")
    with pytest.raises(InputError, match="its own gold"):
        gold_metrics(t, "M", "M")


def test_to_dict_is_plain_json() -> None:
    gold = np.array([0, 1, 2, 0, 1, 2, 0, 0])
    model = np.array([0, 1, 1, 0, 2, 2, 0, 1])
    res = gold_metrics(_table(np.column_stack([gold, model]), ["g", "M"]), "M", "g", B=50)
    d = res.to_dict()
    assert d["per_code"][3]["precision"]["estimate"] is None  # code d: never in gold or predicted
    assert d["per_code"][0]["recall"]["estimate"] == pytest.approx(0.75)
    assert isinstance(d["confusion"][0][0], int)


def test_prevalence_warning_fires_on_the_paradox_only() -> None:
    rare = np.array([[0, 0]] * 90 + [[0, 1]] * 5 + [[1, 0]] * 4 + [[1, 1]] * 1)
    table = RatingTable("s", [f"u{i}" for i in range(100)], ["A", "B"], ["no", "yes"], rare)
    w = prevalence_warning(table)
    assert w.triggered and w.dominant == "no"
    assert w.prevalence_index == pytest.approx(0.89)
    assert w.pabak == pytest.approx(2 * 0.91 - 1)
    assert "kappa paradox" in w.message and "PABAK" in w.message
    balanced = np.array([[0, 0]] * 45 + [[0, 1]] * 5 + [[1, 0]] * 5 + [[1, 1]] * 45)
    table = RatingTable("s", [f"u{i}" for i in range(100)], ["A", "B"], ["no", "yes"], balanced)
    assert not prevalence_warning(table).triggered
    # dominant code but kappa also high: no paradox
    good = np.array([[0, 0]] * 88 + [[0, 1]] * 1 + [[1, 1]] * 11)
    table = RatingTable("s", [f"u{i}" for i in range(100)], ["A", "B"], ["no", "yes"], good)
    assert not prevalence_warning(table).triggered


def test_no_bootstrap_gives_estimates_without_intervals() -> None:
    codes = np.array([[0, 0], [1, 1], [1, 0], [2, 2]] * 5)
    res = gold_metrics(_table(codes, ["g", "M"]), "M", "g", B=0)
    assert res.micro["f1"].estimate == pytest.approx(0.75)
    assert all(np.isnan(v) for v in res.micro["f1"].ci)
    assert "B = 0" in res.notes[-1]
