"""SIGHT (Wang et al. 2023): reproduce the human IRR and 0-shot human-model kappas per category.

Expected values: /work/shared/docs/corpora.md, SIGHT section (sklearn, pairwise deletion, 239 rows).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import eval
from tests.conftest import corpus_path

pytestmark = pytest.mark.realdata

ZERO_SHOT = {  # category: (model version, kappa(H1,H2), mean human-model kappa)
    "general": ("v39", 0.734893, 0.451383),
    "confusion": ("v8", 0.906328, 0.690113),
    "pedagogy": ("v73d", 0.772274, 0.299665),
    "setup": ("v0", 0.945167, 0.830050),
    "gratitude": ("v1", 0.905901, 0.903434),
    "personal_experience": ("v46", 0.722426, 0.326468),
    "clarification": ("v1", 0.906940, 0.519539),
    "non_english": ("v0", 0.936627, 0.867956),
    "na": ("v3", 0.695210, 0.623637),
}
KAPPA_H1_M = {"general": 0.389985, "confusion": 0.681666, "na": 0.681547}
CATEGORIES = [
    "general",
    "setup",
    "pedagogy",
    "confusion",
    "gratitude",
    "personal_experience",
    "clarification",
    "bookmark",
    "non_english",
    "na",
]


def _own_long(csv: Path) -> pd.DataFrame:
    """Independent reshaping of sample_dataset.csv into the long annotations table."""
    df = pd.read_csv(csv)
    rows = []
    for col in df.columns:
        if not col.startswith("annotator_"):
            continue
        rest = col[len("annotator_") :]
        cat = next(c for c in sorted(CATEGORIES, key=len, reverse=True) if rest.endswith("_" + c))
        rater = rest[: -(len(cat) + 1)]
        for cid, v in zip(df["comment_id"], df[col], strict=True):
            if pd.notna(v):
                rows.append(
                    (
                        str(int(cid)),
                        f"sight/{cat}",
                        str(int(v)),
                        rater,
                        "human" if rater in ("H1", "H2") else "model",
                    )
                )
    return pd.DataFrame(rows, columns=["unit_id", "scheme", "label", "rater", "rater_kind"])


def _check(annotations: pd.DataFrame | object) -> None:
    for cat, (ver, hh, hm) in ZERO_SHOT.items():
        model = f"openaichat_{ver}"
        res = eval.agreement(
            annotations, f"sight/{cat}", humans=["H1", "H2"], models=[model], bootstrap=0
        )
        s = res[f"sight/{cat}"]
        assert s.metrics["cohen_kappa"].estimate == pytest.approx(hh, abs=6e-7), cat
        assert s.metrics["cohen_kappa"].n == (239 if cat == "general" else 236)
        assert s.human_model is not None
        by = s.human_model.by_model[model]
        assert by.human_model_kappa.estimate == pytest.approx(hm, abs=6e-7), cat
        n = [by.kappa_by_human[h].n for h in ("H1", "H2")]
        assert n == ([239, 239] if cat == "general" else [237, 238])
        if cat in KAPPA_H1_M:
            assert by.kappa_by_human["H1"].estimate == pytest.approx(KAPPA_H1_M[cat], abs=6e-7)


def test_sight_sample_own_reshaping(data_dir: Path) -> None:
    csv = corpus_path(data_dir, "sight", "data", "annotations", "sample_dataset.csv")
    _check(_own_long(csv))


def test_sight_via_loader(data_dir: Path) -> None:
    corpora = pytest.importorskip("corpora")
    corpus_path(data_dir, "sight")
    if "sight" not in getattr(corpora, "available", lambda: ["sight"])():
        pytest.skip("SIGHT loader not registered")
    corpus = corpora.load("sight", data_dir / "sight", transcripts=False)
    _check(corpus)
    # whole-corpus run with the dialogue (video) cluster bootstrap
    res = eval.agreement(
        corpus,
        "sight/confusion",
        humans=["H1", "H2"],
        models=["openaichat_v8"],
        bootstrap=200,
        seed=3,
    )
    m = res["sight/confusion"].metrics["cohen_kappa"]
    assert (m.intervals["cluster_bootstrap"].n_clusters or 0) > 1
    assert m.ci is not None and m.ci[0] < m.estimate < m.ci[1]


def test_sight_family_table(data_dir: Path) -> None:
    csv = corpus_path(data_dir, "sight", "data", "annotations", "sample_dataset.csv")
    long = _own_long(csv)
    models = {f"openaichat_{v}" for v, _, _ in ZERO_SHOT.values()}
    long = long[long["rater"].isin({"H1", "H2"} | models)]
    res = eval.agreement(long, [f"sight/{c}" for c in ZERO_SHOT], humans=["H1", "H2"], bootstrap=0)
    fam = {row["category"]: row for row in res.to_dict()["families"]["sight"]}
    assert set(fam) == set(ZERO_SHOT)
    for cat, (ver, hh, hm) in ZERO_SHOT.items():
        assert fam[cat]["irr"]["name"] == "cohen_kappa"
        assert fam[cat]["irr"]["estimate"] == pytest.approx(hh, abs=6e-7)
        assert fam[cat]["human_model_kappa"][f"openaichat_{ver}"]["estimate"] == pytest.approx(
            hm, abs=6e-7
        )
    assert "Summary of `sight/*`" in eval.report(res, format="md")
