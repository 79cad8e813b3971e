"""The Corpus model: construction, validation, filtering and iteration."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit import Corpus, SchemaError


def toy(
    *,
    roles: tuple[str, ...] = ("teacher", "student", "teacher"),
    extra_annotation: dict | None = None,
) -> Corpus:
    dialogues = pd.DataFrame(
        {
            "corpus": ["toy", "toy"],
            "dialogue_id": ["d1", "d2"],
            "split": ["train", "test"],
            "kind": ["tutoring", "tutoring"],
            "meta": [{"qid": 1}, {"qid": 2}],
        }
    )
    turns = pd.DataFrame(
        {
            "corpus": ["toy"] * 4,
            "dialogue_id": ["d1", "d1", "d2", "d2"],
            "turn_id": ["d1:0", "d1:1", "d2:0", "d2:1"],
            "index": [0, 1, 0, 1],
            "role": [*roles, "student"],
            "speaker": ["Teacher", "Mariana", "Teacher", "Student"],
            "text": ["Hi", "7?", "Look again", "ok"],
            "meta": [{}, {}, {}, {}],
        }
    )
    rows = [
        ("toy", "d1:0", "mathdial/move", "focus", "teacher", "human", None),
        ("toy", "d2:0", "mathdial/move", "telling", "teacher", "human", None),
        ("toy", "d1", "quality", "3", "coder", "human", None),
    ]
    if extra_annotation:
        rows.append(tuple(extra_annotation.values()))
    annotations = pd.DataFrame(
        rows, columns=["corpus", "unit_id", "scheme", "label", "rater", "rater_kind", "run_id"]
    )
    annotations["meta"] = [{} for _ in range(len(annotations))]
    return Corpus(dialogues, turns, annotations)


def test_valid_corpus_passes_and_returns_itself() -> None:
    c = toy()
    assert c.validate() is c
    assert repr(c) == "Corpus(toy: 2 dialogues, 4 turns, 3 annotations)"


def test_columns_are_ordered_and_typed() -> None:
    c = toy()
    assert list(c.turns.columns[:8]) == [
        "corpus",
        "dialogue_id",
        "turn_id",
        "index",
        "role",
        "speaker",
        "text",
        "meta",
    ]
    assert c.turns["index"].dtype == "int64"
    assert c.annotations["run_id"].isna().all()


def test_missing_column_is_named() -> None:
    with pytest.raises(SchemaError, match=r"turns table lacks column.*speaker"):
        Corpus(
            turns=pd.DataFrame(
                {
                    "corpus": [],
                    "dialogue_id": [],
                    "turn_id": [],
                    "index": [],
                    "role": [],
                    "text": [],
                    "meta": [],
                }
            )
        )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c.turns.__setitem__("turn_id", ["d1:0", "d1:0", "d2:0", "d2:1"]),
            "duplicate turn_id toy / d1:0",
        ),
        (
            lambda c: c.turns.__setitem__("role", ["teacher", "pupil", "teacher", "student"]),
            "turn toy/d1:1 has role 'pupil'",
        ),
        (
            lambda c: c.annotations.__setitem__("unit_id", ["d1:0", "d9:0", "d1"]),
            "annotation \\(mathdial/move\\) refers to unknown unit toy/d9:0",
        ),
        (
            lambda c: c.annotations.__setitem__("rater_kind", ["human", "robot", "human"]),
            "rater_kind 'robot'",
        ),
        (
            lambda c: c.dialogues.__setitem__("dialogue_id", ["d1", "d1"]),
            "duplicate dialogue_id toy / d1",
        ),
        (
            lambda c: c.turns.__setitem__("turn_id", ["d1", "d1:1", "d2:0", "d2:1"]),
            "id toy/d1 is both a dialogue_id and a turn_id",
        ),
    ],
)
def test_validate_names_the_offending_id(mutate, message) -> None:
    c = toy()
    mutate(c)
    with pytest.raises(SchemaError, match=message):
        c.validate()


def test_empty_dialogue_is_reported() -> None:
    c = toy()
    c.turns = c.turns[c.turns["dialogue_id"] != "d2"].reset_index(drop=True)
    c.annotations = c.annotations[c.annotations["unit_id"] != "d2:0"].reset_index(drop=True)
    with pytest.raises(SchemaError, match="dialogue toy/d2 has no turns"):
        c.validate()


def test_duplicate_annotation_is_reported_but_other_run_is_not() -> None:
    dup = {
        "corpus": "toy",
        "unit_id": "d1:0",
        "scheme": "mathdial/move",
        "label": "generic",
        "rater": "teacher",
        "rater_kind": "human",
        "run_id": None,
    }
    with pytest.raises(SchemaError, match="duplicate annotation"):
        toy(extra_annotation=dup).validate()
    toy(extra_annotation={**dup, "run_id": "run-2"}).validate()


def test_all_problems_are_collected() -> None:
    c = toy()
    c.turns["role"] = ["x", "y", "z", "student"]
    with pytest.raises(SchemaError) as info:
        c.validate()
    assert [p.split(" has role")[0] for p in info.value.problems] == [
        "turn toy/d1:0",
        "turn toy/d1:1",
        "turn toy/d2:0",
    ]


def test_filter_by_role_keeps_annotations_of_kept_units() -> None:
    c = toy().filter(role="teacher")
    assert c.turns["turn_id"].tolist() == ["d1:0", "d2:0"]
    assert sorted(c.annotations["unit_id"]) == ["d1", "d1:0", "d2:0"]
    c.validate()


def test_filter_by_role_drops_dialogues_left_empty() -> None:
    c = toy(roles=("student", "student", "teacher")).filter(role="teacher")
    assert c.dialogues["dialogue_id"].tolist() == ["d2"]
    assert c.annotations["unit_id"].tolist() == ["d2:0"]


def test_filter_by_split_and_dialogue_and_scheme() -> None:
    assert toy().filter(split="test").dialogues["dialogue_id"].tolist() == ["d2"]
    assert len(toy().filter(dialogue_id=["d1"]).turns) == 2
    assert toy().filter(scheme="quality").annotations["unit_id"].tolist() == ["d1"]


def test_iteration_yields_dialogues_with_their_turns_and_annotations() -> None:
    dialogues = list(toy())
    assert [d.dialogue_id for d in dialogues] == ["d1", "d2"]
    d1 = dialogues[0]
    assert d1.turns["text"].tolist() == ["Hi", "7?"]
    assert sorted(d1.annotations["unit_id"]) == ["d1", "d1:0"]
    assert d1.meta == {"qid": 1}
    assert len(d1) == 2


def test_dialogue_lookup() -> None:
    assert toy().dialogue("d2").turns["speaker"].tolist() == ["Teacher", "Student"]
    with pytest.raises(KeyError, match="no dialogue with id 'nope'"):
        toy().dialogue("nope")


def test_unit_dialogues_maps_turns_and_dialogues() -> None:
    m = toy().unit_dialogues()
    assert m[("toy", "d1:1")] == "d1"
    assert m[("toy", "d2")] == "d2"


def test_concat_and_with_annotations() -> None:
    a = toy()
    b = toy()
    b.dialogues["corpus"] = "other"
    b.turns["corpus"] = "other"
    b.annotations["corpus"] = "other"
    both = Corpus.concat([a, b]).validate()
    assert both.names == ["toy", "other"]
    extra = pd.DataFrame(
        [
            {
                "corpus": "toy",
                "unit_id": "d1:1",
                "scheme": "s",
                "label": "x",
                "rater": "m",
                "rater_kind": "model",
                "run_id": "r1",
                "meta": {},
            }
        ]
    )
    assert len(a.with_annotations(extra).validate().annotations) == 4
    assert len(a.with_annotations(extra, replace=True).annotations) == 1


def test_to_pandas_returns_copies() -> None:
    c = toy()
    tables = c.to_pandas()
    tables["turns"].loc[0, "text"] = "changed"
    assert c.turns.loc[0, "text"] == "Hi"


def test_meta_values_reads_text_dicts_and_missing_alike() -> None:
    from toolkit import meta_values

    column = pd.Series(['{"grade": 7, "x": [1.0, null]}', None, {"ok": True}, "{} "], name="meta")
    assert meta_values(column) == [{"grade": 7, "x": [1.0, None]}, {}, {"ok": True}, {}]
    assert type(meta_values(column)[0]["x"][0]) is float  # types survive
    assert meta_values(toy().dialogues["meta"]) == [{"qid": 1}, {"qid": 2}]
    assert meta_values([]) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"a": 1', "turns.meta row 1: not JSON"), ("[1, 2]", "row 1: expected a JSON object")],
)
def test_meta_values_names_the_row_of_bad_text(text: str, message: str) -> None:
    from toolkit import meta_values

    with pytest.raises(SchemaError, match=message):
        meta_values(pd.Series(["{}", text], name="turns.meta"))


def test_meta_column_behaves_like_a_column_of_dicts() -> None:
    c = toy()
    meta = c.dialogues["meta"]
    assert str(meta.dtype) == "edudial.meta"
    assert meta.iloc[0] == {"qid": 1} and list(meta) == [{"qid": 1}, {"qid": 2}]
    assert meta.map(lambda m: m["qid"]).tolist() == [1, 2]  # other values: ordinary dtype
    assert meta.map(lambda m: {**m, "x": 1}).iloc[1] == {"qid": 2, "x": 1}
    first = meta.iloc[0]
    first["qid"] = 99  # a copy: the corpus does not change
    assert c.dialogues["meta"].iloc[0] == {"qid": 1}
    both = pd.concat([c.dialogues, c.dialogues], ignore_index=True)
    assert str(both["meta"].dtype) == "edudial.meta" and len(both) == 4
    wide = c.annotations.pivot_table(
        index="unit_id", columns="scheme", values="meta", aggfunc="first"
    )
    assert wide["quality"].isna().sum() == 2  # reshaping leaves missing cells missing
    assert wide.dropna(subset=["quality"])["quality"].tolist() == [{}]
    edited = c.dialogues.copy()
    edited.at[1, "meta"] = {"qid": 3}
    assert edited["meta"].tolist() == [{"qid": 1}, {"qid": 3}]


def test_meta_equality_is_by_value_and_missing_becomes_empty() -> None:
    from toolkit.meta import MetaArray

    reordered = MetaArray._from_sequence([{"b": 1, "a": 2}, {}])
    assert reordered.equals(MetaArray._from_sequence(['{"a": 2, "b": 1}', "{}"]))
    assert not reordered.equals(MetaArray._from_sequence([{"a": 2, "b": 1.5}, {}]))
    d = toy().dialogues.assign(meta=[None, float("nan")])
    assert Corpus(d).dialogues["meta"].tolist() == [{}, {}]
    with_missing = toy().dialogues.assign(meta=MetaArray._from_sequence([None, {"q": 1}]))
    assert Corpus(with_missing).dialogues["meta"].tolist() == [{}, {"q": 1}]


def test_problems_name_the_table_each_is_in() -> None:
    c = toy(
        extra_annotation={
            "corpus": "toy",
            "unit_id": "d9:0",
            "scheme": "s",
            "label": "x",
            "rater": "r",
            "rater_kind": "robot",
            "run_id": None,
        }
    )
    turns = pd.concat([c.turns, c.turns.iloc[[0]]], ignore_index=True)
    broken = Corpus(c.dialogues, turns, c.annotations)
    assert broken.problems() == [
        ("turns", "duplicate turn_id toy / d1:0"),
        (
            "annotations",
            "annotation of toy/d9:0 has rater_kind 'robot', expected one of human, model, rule",
        ),
        ("annotations", "annotation (s) refers to unknown unit toy/d9:0"),
    ]
    with pytest.raises(SchemaError) as caught:
        broken.validate()
    assert caught.value.problems == [message for _, message in broken.problems()]
    assert toy().problems() == []
