"""Validity tools on SIGHT's real ratings (two humans and a model on sight/confusion)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import corpora
import eval
from eval.alt_test import alt_test
from eval.gold import gold_metrics, prevalence_warning
from eval.sample_size import pilot_plan
from tests.conftest import corpus_path

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def confusion(data_dir: Path) -> eval.RatingTable:
    corpus = corpora.load("sight", corpus_path(data_dir, "sight"), transcripts=False)
    return eval.ratings_table(
        corpus.annotations,
        "sight/confusion",
        raters=["H1", "H2", "openaichat_v8"],
        clusters=corpus.unit_dialogues(),
    )


def test_gold_metrics_against_h1_match_sklearn(confusion: eval.RatingTable) -> None:
    res = gold_metrics(confusion, "openaichat_v8", "H1", B=300)
    both = (confusion.codes[:, 0] >= 0) & (confusion.codes[:, 2] >= 0)
    gold, model = confusion.codes[both, 0], confusion.codes[both, 2]
    assert res.n_units == int(both.sum())
    expected = f1_score(gold, model, labels=[0, 1], average=None)
    assert [c.f1.estimate for c in res.per_code] == pytest.approx(expected.tolist())
    assert res.bootstrap["method"] == "cluster" and res.bootstrap["n_clusters"] > 30


def test_pilot_plan_reads_sights_published_kappa(confusion: eval.RatingTable) -> None:
    pilot = pilot_plan(confusion.select(["H1", "H2"]), "kappa", 0.1)
    assert round(pilot.observed, 6) == 0.906328  # kappa(H1, H2) as in the SIGHT paper (0.906)
    assert pilot.more_units == max(0, pilot.plan.n_units - pilot.pilot_units)
    w = prevalence_warning(confusion.select(["H1", "H2"]))
    assert not w.triggered and w.kappa > 0.85  # a rare code, but kappa is high: no paradox


def test_two_humans_make_the_alt_test_impossible(confusion: eval.RatingTable) -> None:
    res = alt_test(confusion, "openaichat_v8", ["H1", "H2"])
    assert not res.possible and "at least 3 human coders" in res.reason
    assert np.isnan(res.winning_rate)
