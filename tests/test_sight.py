"""SIGHT loader tests: expected values come from the shared corpora.md (counted on the files)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

import corpora
from corpora.sight import CATEGORIES, parse_label_column, split_sentences
from tests.conftest import corpus_path
from toolkit import Corpus
from toolkit.errors import InputError


@pytest.fixture(scope="module")
def sight_dir(data_dir: Path) -> Path:
    return corpus_path(data_dir, "sight")


@pytest.fixture(scope="module")
def sight(sight_dir: Path) -> Corpus:
    return corpora.load("sight", sight_dir, transcripts=False)


def _h1_h2(corpus: Corpus, category: str) -> pd.DataFrame:
    a = corpus.annotations
    a = a[(a["scheme"] == f"sight/{category}") & a["rater"].isin(["H1", "H2"])]
    return a.pivot(index="unit_id", columns="rater", values="label").dropna()


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("category", "n", "kappa"),
    [
        ("confusion", 236, 0.906328),
        ("general", 239, 0.734893),
        ("setup", 236, 0.945167),
        ("na", 236, 0.695210),
    ],
)
def test_human_kappa_matches_the_documented_values(
    sight: Corpus, category: str, n: int, kappa: float
) -> None:
    pairs = _h1_h2(sight, category)
    assert len(pairs) == n
    assert cohen_kappa_score(pairs["H1"], pairs["H2"]) == pytest.approx(kappa, abs=5e-7)


@pytest.mark.realdata
def test_whole_folder_without_transcripts(sight: Corpus) -> None:
    t, d, a = sight.turns, sight.dialogues, sight.annotations
    assert len(t) == 15784  # every sight_dataset row; all 239 sample rows join one of them
    assert t["turn_id"].is_unique
    assert len(d) == 272 and set(d["kind"]) == {"comments"}
    assert d["dialogue_id"].str.endswith("/comments").all()
    assert set(t["role"]) == {"student"} and set(t["speaker"]) == {"commenter"}
    assert all(isinstance(m["comment_id"], int) for m in t["meta"])
    assert Counter(m["datasplit"] for m in t["meta"]) == {
        None: 15784 - 239,
        "train": 100,
        "expansion": 79,
        "validation": 60,
    }
    # sight_dataset model labels: counts 1/0 as documented (NaN -> no row)
    for rater, category, ones, zeros in [
        ("openaichat_v0", "setup", 671, 15107),
        ("openaichat_v8", "confusion", 2542, 13236),
    ]:
        labels = a.loc[(a["rater"] == rater) & (a["scheme"] == f"sight/{category}"), "label"]
        assert labels.value_counts().to_dict() == {"1": ones, "0": zeros}
    assert set(a["label"]) == {"0", "1"}
    assert set(a.loc[a["rater"].isin(["H1", "H2"]), "rater_kind"]) == {"human"}
    assert set(a.loc[a["rater"].str.startswith("openaichat_"), "rater_kind"]) == {"model"}
    assert set(a["scheme"]) == {f"sight/{c}" for c in CATEGORIES}


@pytest.mark.realdata
def test_human_positive_counts_and_missing(sight: Corpus) -> None:
    a = sight.annotations
    expected = {
        "general": (49, 64),
        "confusion": (49, 45),
        "pedagogy": (15, 13),
        "setup": (10, 9),
        "bookmark": (8, 3),
        "na": (91, 77),
    }
    for category, (h1, h2) in expected.items():
        sub = a[a["scheme"] == f"sight/{category}"]
        assert int(((sub["rater"] == "H1") & (sub["label"] == "1")).sum()) == h1
        assert int(((sub["rater"] == "H2") & (sub["label"] == "1")).sum()) == h2
        n_h1 = int((sub["rater"] == "H1").sum())
        n_h2 = int((sub["rater"] == "H2").sum())
        assert (n_h1, n_h2) == ((239, 239) if category == "general" else (237, 238))


@pytest.mark.realdata
def test_sample_file_alone_matches_the_raw_columns(sight_dir: Path) -> None:
    path = sight_dir / "data" / "annotations" / "sample_dataset.csv"
    c = corpora.load("sight", path)
    raw = pd.read_csv(path)
    assert len(c.turns) == 239
    assert c.turns["turn_id"].str.contains(":s").all()
    # independent count: every non-empty label cell except the stray column 68 is one row
    label_cols = [col for col in raw.columns if col.startswith("annotator_")]
    assert len(label_cols) == 20 + 64
    assert len(c.annotations) == int(raw[label_cols].notna().sum().sum())
    a = c.annotations
    v8 = a[(a["rater"] == "openaichat_v8") & (a["scheme"] == "sight/confusion")]
    assert len(v8) == int(raw["annotator_openaichat_v8_confusion"].notna().sum())
    # H1 vs H2 kappa is the same whichever way the file is loaded
    pairs = _h1_h2(c, "confusion")
    assert cohen_kappa_score(pairs["H1"], pairs["H2"]) == pytest.approx(0.906328, abs=5e-7)


@pytest.mark.realdata
def test_sight_dataset_alone_keeps_duplicate_ids(sight_dir: Path) -> None:
    path = sight_dir / "data" / "annotations" / "sight_dataset.csv"
    c = corpora.load("sight", path)
    raw = pd.read_csv(path, sep=" ")
    assert len(c.turns) == len(raw) == 15784
    assert raw["comment_id"].nunique() == 15746
    dup_ids = raw["comment_id"][raw["comment_id"].duplicated(keep=False)].nunique()
    assert dup_ids == 35
    assert int(c.turns["turn_id"].str.contains("@").sum()) == 35 + 38
    assert c.dialogues["dialogue_id"].nunique() == raw["video_id"].nunique() == 272


@pytest.mark.realdata
def test_merged_units_carry_both_files(sight: Corpus, sight_dir: Path) -> None:
    # independent join of the raw files on video id + text (line ends normalised)
    ann = sight_dir / "data" / "annotations"
    sample = pd.read_csv(ann / "sample_dataset.csv")
    full = pd.read_csv(ann / "sight_dataset.csv", sep=" ")
    for f in (sample, full):
        f["key"] = (
            f["video_id"] + "|" + f["comment"].str.replace("\r\n", "\n").str.replace("\r", "\n")
        )
    joined = sample.merge(full, on="key", suffixes=("_s", "_f"))
    assert len(joined) == 239
    shared = [c for c in full.columns if c.startswith("annotator_") and c in sample.columns]
    both = sum(int((joined[c + "_s"].notna() & joined[c + "_f"].notna()).sum()) for c in shared)
    differ = sum(
        int(
            (
                joined[c + "_s"].notna()
                & joined[c + "_f"].notna()
                & (joined[c + "_s"] != joined[c + "_f"])
            ).sum()
        )
        for c in shared
    )
    a = sight.annotations
    merged = a[a["meta"].map(lambda m: "sources" in m)]
    assert len(merged) == both
    assert all(m["sources"] == ["sight_dataset", "sample_dataset"] for m in merged["meta"])
    conflicts = a[a["meta"].map(lambda m: "conflicts" in m)]
    assert len(conflicts) == differ == 1
    assert conflicts["rater"].iloc[0] == "openaichat_v74"
    # total = non-empty label cells of both files minus the pairs given twice
    cells = int(sample.filter(like="annotator_").notna().sum().sum()) + int(
        full.filter(like="annotator_").notna().sum().sum()
    )
    assert len(a) == cells - both


@pytest.mark.realdata
def test_transcripts_and_metadata_for_some_videos(sight_dir: Path) -> None:
    videos = ["Cx5Z-OslNWE", "HgEqXhsIq_g"]
    c = corpora.load("sight", sight_dir, videos=videos)
    ids = set(c.dialogues["dialogue_id"])
    assert {"HgEqXhsIq_g/comments", "HgEqXhsIq_g/lecture", "Cx5Z-OslNWE/lecture"} <= ids
    lecture = c.turns[c.turns["dialogue_id"] == "Cx5Z-OslNWE/lecture"]
    assert len(lecture) > 10 and set(lecture["role"]) == {"teacher"}
    raw = (sight_dir / "data" / "transcripts" / "Cx5Z-OslNWE.txt").read_text(encoding="utf-8")
    for text, meta in zip(lecture["text"], lecture["meta"], strict=True):
        assert raw[meta["start_char"] : meta["end_char"]] == text
    # every non-space character of the transcript is in exactly one sentence
    assert "".join(lecture["text"]).replace(" ", "") == "".join(raw.split())
    meta = c.dialogues.set_index("dialogue_id").loc["Cx5Z-OslNWE/lecture", "meta"]
    assert meta["channel_name"] == "MIT OpenCourseWare" and meta["video_id"] == "Cx5Z-OslNWE"


def test_parse_label_column_splits_on_known_category() -> None:
    assert parse_label_column("annotator_openaichat_v73d_pedagogy") == (
        "openaichat_v73d",
        "pedagogy",
    )
    assert parse_label_column("annotator_H2_personal_experience") == ("H2", "personal_experience")
    assert parse_label_column("annotator_H1_na") == ("H1", "na")
    assert parse_label_column("annotator_H1_potential_mistake") is None
    assert parse_label_column("68") is None


def test_split_sentences_spans() -> None:
    text = "So this is a limit. Right?  And then we differentiate!"
    spans = split_sentences([text, "", "one"])
    assert [text[a:b] for a, b in spans[0]] == [
        "So this is a limit.",
        "Right?",
        "And then we differentiate!",
    ]
    assert spans[1] == [] and spans[2] == [(0, 3)]


def test_synthetic_folder(tmp_path: Path) -> None:
    ann = tmp_path / "data" / "annotations"
    ann.mkdir(parents=True)
    (tmp_path / "data" / "transcripts").mkdir()
    (tmp_path / "data" / "transcripts" / "vid1.txt").write_text("Hello class. Today limits.")
    pd.DataFrame(
        {
            "comment": ["great\r\nlecture", "thanks", "thanks"],
            "video_id": ["vid1", "vid1", "vid2"],
            "video_name": "v",
            "playlist_name": "p",
            "comment_id": [5.0, 5.0, 6.0],
            "annotator_openaichat_v8_confusion": [0.0, np.nan, 1.0],
        }
    ).to_csv(ann / "sight_dataset.csv", sep=" ", index=False)
    pd.DataFrame(
        {
            "datasplit": ["train", "validation"],
            "comment": ["great\nlecture", "not in the big file"],
            "video_id": ["vid1", "vid2"],
            "annotator_H1_confusion": [1.0, 0.0],
            "annotator_H2_confusion": [1.0, np.nan],
            "comment_id": [0.0, 1.0],
            "68": [np.nan, 1.0],
        }
    ).to_csv(ann / "sample_dataset.csv", index=False)
    c = corpora.load("sight", tmp_path)
    t = c.turns.set_index("turn_id")
    assert list(t.index) == [
        "vid1/comments:c5@0",
        "vid1/comments:c5@1",
        "vid2/comments:c6",
        "vid2/comments:s1",
        "vid1/lecture:0",
        "vid1/lecture:1",
    ]
    assert t.loc["vid1/comments:c5@0", "meta"]["datasplit"] == "train"
    assert t.loc["vid1/comments:c5@0", "meta"]["sample_dataset_comment_id"] == 0
    assert t.loc["vid2/comments:s1", "meta"]["source"] == "sample_dataset"
    assert list(t["index"]) == [0, 1, 0, 1, 0, 1]
    a = c.annotations.set_index(["unit_id", "rater"])
    assert a.loc[("vid1/comments:c5@0", "H1"), "label"] == "1"
    assert a.loc[("vid1/comments:c5@0", "openaichat_v8"), "label"] == "0"
    assert ("vid1/comments:c5@1", "openaichat_v8") not in a.index  # NaN -> no row
    assert ("vid2/comments:s1", "H2") not in a.index
    assert len(c.annotations) == 5
    d = c.dialogues.set_index("dialogue_id")
    assert d.loc["vid1/lecture", "kind"] == "lecture"
    assert d.loc["vid1/comments", "meta"]["channel_name"] is None  # no metadata file


def test_infinite_comment_id_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "sample_dataset.csv"
    path.write_text("comment,video_id,comment_id\na,v,1\nb,v,inf\n")
    with pytest.raises(InputError, match="expected an integer comment id, got inf") as info:
        corpora.load("sight", path)
    assert (info.value.line, info.value.field) == (3, "comment_id")


def test_other_columns_are_turn_meta(tmp_path: Path) -> None:
    # columns named like internal fields (text, key) are plain meta columns; numbers stay numbers
    path = tmp_path / "sample_dataset.csv"
    path.write_text(
        "comment,video_id,comment_id,text,key,likes\ngreat,v1,7,T1,K1,3\nthanks,v1,8,,K2,0\n"
    )
    t = corpora.load("sight", path).turns
    assert list(t["turn_id"]) == ["v1/comments:s7", "v1/comments:s8"]
    assert list(t["text"]) == ["great", "thanks"]
    assert list(t["meta"]) == [
        {"comment_id": 7, "source": "sample_dataset", "text": "T1", "key": "K1", "likes": 3},
        {"comment_id": 8, "source": "sample_dataset", "text": None, "key": "K2", "likes": 0},
    ]
    assert all(type(m["likes"]) is int for m in t["meta"])


@pytest.mark.parametrize("distinct", [False, True])
def test_turn_meta_per_row(tmp_path: Path, distinct: bool) -> None:
    # meta values shared by many rows, or mostly distinct: one new dict per row, the file's values
    ann = tmp_path / "data" / "annotations"
    ann.mkdir(parents=True)
    n = 40
    playlist = [(f"p{i}" if distinct else "p") if i % 2 else None for i in range(n)]
    pd.DataFrame(
        {
            "comment": [f"c{i}" for i in range(n)],
            "video_id": ["v1"] * (n // 2) + ["v2"] * (n // 2),
            "video_name": ["Lec 1"] * (n // 2) + ["Lec 2"] * (n // 2),
            "playlist_name": playlist,
            "comment_id": [float(i) for i in range(n)],
        }
    ).to_csv(ann / "sight_dataset.csv", sep=" ", index=False)
    c = corpora.load("sight", tmp_path, transcripts=False, metadata=False)
    metas = list(c.turns["meta"])
    assert len({id(m) for m in metas}) == n
    for i, m in enumerate(metas):
        assert m == {
            "comment_id": i,
            "source": "sight_dataset",
            "video_name": "Lec 1" if i < n // 2 else "Lec 2",
            "playlist_name": playlist[i],
        }
        assert list(m) == ["comment_id", "source", "video_name", "playlist_name"]
    assert list(c.turns["index"]) == list(range(n // 2)) * 2
    metas[0]["x"] = 1  # no dict is shared with another row
    assert all("x" not in m for m in metas[1:])


def test_no_matching_video_gives_an_empty_valid_corpus(tmp_path: Path) -> None:
    path = tmp_path / "sample_dataset.csv"
    path.write_text("comment,video_id,comment_id,annotator_H1_na\na,v,1,1\n")
    c = corpora.load("sight", path, videos=["other"])
    assert (len(c.dialogues), len(c.turns), len(c.annotations)) == (0, 0, 0)
    assert str(c.turns["meta"].dtype) == str(c.dialogues["meta"].dtype) == "edudial.meta"
