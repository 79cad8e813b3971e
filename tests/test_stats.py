"""corpus_stats / plot_stats on a hand-built corpus; expected values computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from toolkit import Corpus
from toolkit.stats import STATISTICS, corpus_stats, plot_stats, text_features


def _toy() -> Corpus:
    dialogues = pd.DataFrame(
        {
            "corpus": ["toy", "toy"],
            "dialogue_id": ["d1", "d2"],
            "split": ["test", "train"],
            "kind": ["tutoring", "classroom"],
            "meta": [{}, {}],
        }
    )
    texts = [
        ("d1", "teacher", "What is three times four?"),  # 5 words, 1 sentence, question
        ("d1", "student", "Twelve."),  # 1 word
        ("d1", "teacher", "Good. Can you explain why?"),  # 5 words, 2 sentences, 1 question
        ("d2", "teacher", "Do it now."),  # 3 words, question by the auxiliary rule
        (
            "d2",
            "student",
            "I think it's 12 because 3 x 4 = 12!",
        ),  # I think it 's 12 because 3 x 4 12
        ("d2", "other", ""),
    ]
    turns = pd.DataFrame(
        {
            "corpus": "toy",
            "dialogue_id": [d for d, _, _ in texts],
            "turn_id": ["d1:0", "d1:1", "d1:2", "d2:0", "d2:1", "d2:2"],
            "index": [0, 1, 2, 0, 1, 2],
            "role": [r for _, r, _ in texts],
            "speaker": "x",
            "text": [t for _, _, t in texts],
            "meta": [{}] * 6,
        }
    )
    ann = pd.DataFrame(
        [
            ("d1:0", "move", "probe", "A", "human"),
            ("d1:0", "move", "probe", "B", "model"),
            ("d1:2", "move", "probe", "A", "human"),
            ("d1:2", "move", "tell", "B", "model"),
            ("d2:0", "move", "tell", "A", "human"),
            ("d1", "quality", "good", "A", "human"),
        ],
        columns=["unit_id", "scheme", "label", "rater", "rater_kind"],
    ).assign(corpus="toy", run_id=pd.NA, meta=[{}] * 6)
    toy = Corpus(dialogues, turns, ann).validate()
    other = Corpus(
        pd.DataFrame(
            {
                "corpus": ["two"],
                "dialogue_id": ["x"],
                "split": [pd.NA],
                "kind": ["exchange"],
                "meta": [{}],
            }
        ),
        pd.DataFrame(
            {
                "corpus": ["two"],
                "dialogue_id": ["x"],
                "turn_id": ["x:0"],
                "index": [0],
                "role": ["student"],
                "speaker": ["s"],
                "text": ["Yes?"],
                "meta": [{}],
            }
        ),
    )
    return Corpus.concat([toy, other]).validate()


def test_text_features_hand_counts() -> None:
    f = text_features(
        [
            "What is three times four?",
            "Good. Can you explain why?",
            "Do it now.",
            "I think it's 12 because 3 x 4 = 12!",
            "",
            "Okay!",
            "Okay!",
        ]
    )
    assert f["words"].tolist() == [5, 5, 3, 10, 0, 1, 1]
    assert f["sentences"].tolist() == [1, 2, 1, 1, 0, 1, 1]
    assert f["questions"].tolist() == [1, 1, 1, 0, 0, 0, 0]


def test_tables_kinds_roles() -> None:
    s = corpus_stats(_toy())
    assert list(s) == list(STATISTICS)
    assert s["tables"].to_dict("records") == [
        {"corpus": "toy", "dialogues": 2, "turns": 6, "annotations": 6},
        {"corpus": "two", "dialogues": 1, "turns": 1, "annotations": 0},
    ]
    kinds = {(r.corpus, r.kind, r.split): r.dialogues for r in s["kinds"].itertuples()}
    assert kinds == {
        ("toy", "classroom", "train"): 1,
        ("toy", "tutoring", "test"): 1,
        ("two", "exchange", "<NA>"): 1,
    }
    roles = s["roles"].set_index(["corpus", "role"])
    assert roles.loc[("toy", "teacher"), "turns"] == 3
    assert roles.loc[("toy", "teacher"), "words"] == 13
    assert roles.loc[("toy", "student"), "words"] == 11
    assert roles.loc[("toy", "other"), "words"] == 0
    assert roles.loc[("toy", "teacher"), "turn_share"] == pytest.approx(3 / 6)
    assert roles.loc[("toy", "teacher"), "word_share"] == pytest.approx(13 / 24)
    assert roles.loc[("two", "student"), "turn_share"] == 1.0  # shares are within a corpus


def test_lengths_and_questions() -> None:
    s = corpus_stats(_toy())
    tpd = s["turns_per_dialogue"].set_index("corpus")
    assert tpd.loc["toy", "count"] == 2 and tpd.loc["toy", "mean"] == 3.0
    assert tpd.loc["toy", "std"] == 0.0 and tpd.loc["two", "max"] == 1.0
    wpt = s["words_per_turn"].set_index(["corpus", "role"])
    assert wpt.loc[("toy", "teacher"), "mean"] == pytest.approx(13 / 3)
    assert wpt.loc[("toy", "teacher"), "50%"] == 5.0
    assert wpt.loc[("toy", "teacher"), "min"] == 3.0
    assert wpt.loc[("toy", "student"), "mean"] == 5.5
    assert wpt.loc[("toy", "student"), "std"] == pytest.approx(math.sqrt(2 * 4.5**2))
    q = s["questions"].set_index(["corpus", "role"])
    assert q.loc[("toy", "teacher")][
        ["turns", "sentences", "question_sentences", "question_turns"]
    ].tolist() == [3, 4, 3, 3]
    assert q.loc[("toy", "teacher"), "question_turn_share"] == 1.0
    assert q.loc[("toy", "student"), "question_turns"] == 0
    assert q.loc[("toy", "other"), "sentences"] == 0
    assert q.loc[("two", "student"), "question_turns"] == 1


def test_schemes_raters_labels() -> None:
    s = corpus_stats(_toy())
    sch = {
        (r.scheme, r.rater, r.rater_kind): (r.annotations, r.units, r.labels)
        for r in s["schemes"].itertuples()
    }
    assert sch == {
        ("move", "A", "human"): (3, 3, 2),
        ("move", "B", "model"): (2, 2, 2),
        ("quality", "A", "human"): (1, 1, 1),
    }
    raters = {r.rater: (r.annotations, r.schemes) for r in s["raters"].itertuples()}
    assert raters == {"A": (4, 2), "B": (2, 1)}
    lab = {(r.scheme, r.rater, r.label): (r.count, r.share) for r in s["labels"].itertuples()}
    assert lab[("move", "A", "probe")] == (2, pytest.approx(2 / 3))
    assert lab[("move", "A", "tell")] == (1, pytest.approx(1 / 3))
    assert lab[("move", "B", "tell")] == (1, 0.5)
    assert lab[("quality", "A", "good")] == (1, 1.0)
    assert len(lab) == 5


def test_empty_corpus_and_stats_method() -> None:
    s = corpus_stats(Corpus())
    assert all(frame.empty for frame in s.values())
    assert set(_toy().stats()) == set(STATISTICS)


def test_plot_stats_writes_pngs(tmp_path: Path) -> None:
    paths = plot_stats(corpus_stats(_toy()), tmp_path / "plots")
    assert [p.name for p in paths] == [f"{n}.png" for n in STATISTICS]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_stats(corpus_stats(Corpus()), tmp_path / "empty") == []
