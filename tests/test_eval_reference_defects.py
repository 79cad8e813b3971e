"""Defects found by running other libraries' own test cases, and the numbers that pin the fixes.

Expected numbers come from the named sources, never from edudial (or, where no library
prints the case, from a hand computation shown in the test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import eval


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
