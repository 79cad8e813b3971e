"""Multi-label codes: Krippendorff's alpha with the MASI distance, and agreement per code.

References: nltk's ``masi_distance`` (Passonneau 2006, as implemented in nltk 3.10) and its
``AnnotationTask.alpha`` on the same sets; scikit-learn's ``cohen_kappa_score`` per code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nltk.metrics.agreement import AnnotationTask
from nltk.metrics.distance import masi_distance as nltk_masi
from sklearn.metrics import cohen_kappa_score

import eval
from eval.coefficients import masi_distance
from toolkit.errors import InputError

CODES = "abcd"


def _sets(seed: int, n: int = 40, raters: int = 4) -> list[list[frozenset[str] | None]]:
    rng = np.random.default_rng(seed)
    rows: list[list[frozenset[str] | None]] = []
    for _ in range(n):
        base = set(rng.choice(list(CODES), size=rng.integers(1, 4), replace=False))
        row: list[frozenset[str] | None] = []
        for _ in range(raters):
            if rng.random() < 0.15:
                row.append(None)
                continue
            s = set(base)
            if rng.random() < 0.4:
                s ^= {str(rng.choice(list(CODES)))}
            row.append(frozenset(s or base))  # nltk divides by zero on two empty sets
        rows.append(row)
    return rows


def _nltk_alpha(rows: list[list[frozenset[str] | None]]) -> float:
    data = [(f"r{j}", f"u{i}", v) for i, row in enumerate(rows) for j, v in enumerate(row) if v]
    return AnnotationTask(data=data, distance=nltk_masi).alpha()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_masi_alpha_equals_nltk(seed: int) -> None:
    rows = _sets(seed)
    assert eval.multilabel_alpha(rows) == pytest.approx(_nltk_alpha(rows), abs=1e-12)


def test_masi_distance_equals_nltk() -> None:
    pairs = [
        ({"a"}, {"a"}),
        ({"a", "b"}, {"a", "b", "c", "d"}),
        ({"a", "b"}, {"b", "c"}),
        ({"a"}, {"b"}),
    ]
    for x, y in pairs:
        assert masi_distance(x, y) == pytest.approx(nltk_masi(x, y), abs=1e-15)
    assert masi_distance(set(), set()) == 0.0  # nltk raises ZeroDivisionError here


def test_label_sets_from_a_family_of_binary_schemes() -> None:
    rows = _sets(4, n=25, raters=3)
    long = [
        (f"u{i}", f"fam/{code}", "1" if code in v else "0", f"R{j}")
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
        if v is not None
        for code in CODES
    ]
    frame = pd.DataFrame(long, columns=["unit_id", "scheme", "label", "rater"])
    sets = eval.label_sets(frame, "fam")
    assert sets.loc["u0", "R0"] == rows[0][0]
    assert eval.multilabel_alpha(sets.to_numpy()) == pytest.approx(_nltk_alpha(rows), abs=1e-12)
    with pytest.raises(InputError, match="no schemes named"):
        eval.label_sets(frame, "other")


def test_agreement_per_code_is_binary_cohen_kappa() -> None:
    rows = _sets(5, n=60, raters=2)
    long = pd.DataFrame(
        [
            (f"u{i}", "moves", ";".join(sorted(v)), f"R{j}")
            for i, row in enumerate(rows)
            for j, v in enumerate(row)
            if v is not None
        ],
        columns=["unit_id", "scheme", "label", "rater"],
    )
    binary = eval.multilabel_to_binary(long, "moves", sep=";")
    res = eval.agreement(binary, bootstrap=0, cluster=None)
    both = [i for i, row in enumerate(rows) if row[0] is not None and row[1] is not None]
    for code in CODES:
        first = [int(code in rows[i][0]) for i in both]  # type: ignore[operator]
        second = [int(code in rows[i][1]) for i in both]  # type: ignore[operator]
        kappa = res[f"moves/{code}"].metrics["cohen_kappa"].estimate
        assert kappa == pytest.approx(cohen_kappa_score(first, second), abs=1e-12), code
    assert set(res.to_dict()["families"]["moves"][0]) >= {"category", "irr", "gwet_ac1"}
