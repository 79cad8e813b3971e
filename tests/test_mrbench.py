"""MRBench loader: history splitting, candidates, label/key normalisation, errors, real counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import corpora
from corpora.mrbench import DIMENSIONS, LABEL_MAP, normalise_key, normalise_label, split_history
from tests.conftest import corpus_path
from toolkit.errors import InputError

FIX = Path(__file__).parent / "fixtures" / "mrbench"


def test_label_and_key_mapping() -> None:
    assert (
        normalise_key("humanlikeness")
        == normalise_key("Humanlikeness")
        == ("mrbench/humanlikeness")
    )
    assert normalise_key("Revealing_of_the_Answer") == "mrbench/revealing_of_the_answer"
    rev = "mrbench/revealing_of_the_answer"
    assert normalise_label(rev, "Yes (and the answer is correct)") == "Yes (correct)"
    assert normalise_label(rev, "Yes (but the answer is incorrect)") == "Yes (incorrect)"
    assert normalise_label(rev, "Yes (correct)") == "Yes (correct)"
    assert normalise_label("mrbench/coherence", " to  some extent ") == "To some extent"
    assert normalise_label("mrbench/tutor_tone", "Yes") is None
    assert DIMENSIONS["mrbench/mistake_identification"] == ("No", "To some extent", "Yes")
    assert len(DIMENSIONS) == 8 and set(LABEL_MAP) == set(DIMENSIONS)
    for scheme, mapping in LABEL_MAP.items():  # every mapped label is a declared category
        assert set(mapping.values()) == set(DIMENSIONS[scheme])


def test_split_history_quirks() -> None:
    h = json.loads((FIX / "MRBench" / "MRBench_V1.json").read_text())[0]["conversation_history"]
    turns = split_history(h)
    assert [s for s, _ in turns] == ["Tutor", "Student", "Tutor", "Student"]
    # multi-line student solution incl. a 'Now we can find ...:' line and the NBSP-wrapped answer
    assert turns[1][1].startswith("3 apples cost 6.\nNow we can find the price of one:\n6 + 3 = 9")
    assert turns[1][1].endswith("9")
    assert turns[3] == ("Student", "I added them.")  # 'Student :' tolerated
    assert split_history("Tutor: a \n Student: b") == [("Tutor", "a"), ("Student", "b")]


def test_fixture_corpus() -> None:
    c = corpora.load("mrbench", FIX)
    assert list(c.dialogues.dialogue_id) == ["v1_0", "v1_1", "v1_2", "dev_0"]
    # same conversation_id twice in V1: separate dialogues keyed by position
    ids = [m["conversation_id"] for m in c.dialogues.meta]
    assert ids[:2] == ["930-abc", "930-abc"]
    assert (
        c.dialogues.meta[0]["source_split"] == "test" and c.dialogues.meta[0]["data"] == "MathDial"
    )
    assert list(c.dialogues.split) == ["v1", "v1", "v1", "dev"]
    t = c.turns[c.turns.dialogue_id == "v1_0"]
    assert list(t.role) == ["teacher", "student", "teacher", "student", "teacher", "teacher"]
    assert list(t.speaker) == ["Tutor", "Student", "Tutor", "Student", "GPT4", "Expert"]
    assert t.meta.iloc[5] == {"candidate": True, "tutor": "Expert", "tutor_kind": "human"}
    assert t.meta.iloc[4]["tutor_kind"] == "model"
    a = c.annotations.set_index(["unit_id", "scheme"])
    assert a.loc[("v1_0:4", "mrbench/revealing_of_the_answer"), "label"] == "Yes (correct)"
    assert a.loc[("v1_0:4", "mrbench/revealing_of_the_answer"), "meta"] == {
        "key": "Revealing_of_the_Answer",
        "raw": "Yes (and the answer is correct)",
    }
    assert a.loc[("v1_1:4", "mrbench/revealing_of_the_answer"), "label"] == "Yes (incorrect)"
    assert a.loc[("v1_2:3", "mrbench/humanlikeness"), "meta"]["key"] == "Humanlikeness"
    assert a.loc[("dev_0:4", "mrbench/mistake_location"), "label"] == "No"
    assert len(c.annotations) == 4 * 8 + 4
    assert set(c.annotations.rater) == {"mrbench_gold"}


def test_release_option_and_errors(tmp_path: Path) -> None:
    c = corpora.load("mrbench", FIX, releases=["dev"])
    assert list(c.dialogues.dialogue_id) == ["dev_0"]
    with pytest.raises(InputError, match="release 'v2' not found"):
        corpora.load("mrbench", FIX, releases=["v2"])
    with pytest.raises(InputError, match="unknown release"):
        corpora.load("mrbench", FIX, releases=["v9"])
    data = json.loads((FIX / "MRBench" / "MRBench_V1.json").read_text())
    data[1]["anno_llm_responses"]["Sonnet"]["annotation"]["Tutor_Tone"] = "Angry"
    bad = tmp_path / "MRBench_V1.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"field 'Tutor_Tone': entry 1: tutor 'Sonnet': unknown "):
        corpora.load("mrbench", bad)
    data[1]["anno_llm_responses"]["Sonnet"]["annotation"] = {"Politeness": "Yes"}
    bad.write_text(json.dumps(data))
    with pytest.raises(InputError, match="unknown dimension 'Politeness'"):
        corpora.load("mrbench", bad)


@pytest.mark.realdata
def test_real_counts(data_dir: Path) -> None:
    c = corpora.load("mrbench", corpus_path(data_dir, "mrbench"))
    assert c.dialogues.split.value_counts().to_dict() == {"dev": 300, "v2": 200, "v1": 192}
    cand = c.turns[[m["candidate"] for m in c.turns.meta]]
    n = cand.dialogue_id.str.split("_").str[0].value_counts().to_dict()
    assert n == {"v1": 1589, "v2": 1655, "dev": 2476}
    novice = cand[cand.speaker == "Novice"].dialogue_id.str.split("_").str[0].value_counts()
    assert novice.to_dict() == {"v1": 53, "v2": 55, "dev": 76}
    a = c.annotations.assign(rel=c.annotations.unit_id.str.split("_").str[0])
    got = Counter(zip(a.rel, a.scheme, a.label, strict=True))
    doc = {  # corpora.md table, V1 / V2 / dev
        "mistake_identification": {
            "Yes": (1271, 1326, 1932),
            "To some extent": (92, 96, 174),
            "No": (226, 233, 370),
        },
        "mistake_location": {
            "Yes": (1027, 1069, 1543),
            "To some extent": (121, 137, 220),
            "No": (441, 449, 713),
        },
        "providing_guidance": {
            "Yes": (930, 960, 1407),
            "To some extent": (366, 391, 503),
            "No": (293, 304, 566),
        },
        "actionability": {
            "Yes": (873, 916, 1310),
            "To some extent": (192, 198, 369),
            "No": (524, 541, 797),
        },
        "revealing_of_the_answer": {
            "Yes (correct)": (232, 237, 0),
            "Yes (incorrect)": (26, 29, 0),
            "No": (1331, 1389, 0),
        },
        "coherence": {"Yes": (1286, 1346, 0), "To some extent": (140, 143, 0), "No": (163, 166, 0)},
        "humanlikeness": {
            "Yes": (1405, 1462, 0),
            "To some extent": (96, 102, 0),
            "No": (88, 91, 0),
        },
        "tutor_tone": {
            "Encouraging": (515, 528, 0),
            "Neutral": (1073, 1126, 0),
            "Offensive": (1, 1, 0),
        },
    }
    for dim, labels in doc.items():
        for label, counts in labels.items():
            for rel, expected in zip(("v1", "v2", "dev"), counts, strict=True):
                assert got[(rel, f"mrbench/{dim}", label)] == expected, (rel, dim, label)
    v1 = c.filter(split="v1")
    hist = v1.turns[[not m["candidate"] for m in v1.turns.meta]]
    last = hist.sort_values("index").groupby("dialogue_id").role.last()
    first = hist.sort_values("index").groupby("dialogue_id").role.first()
    assert (last == "student").sum() == 186 and (first == "student").sum() == 13
