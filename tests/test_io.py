"""Saving and reading corpora: lossless round trips, atomic writes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import Corpus, InputError, read_annotations, read_corpus, save_corpus
from toolkit.schema import RATER_KINDS, ROLES

# Text without lone surrogates (not encodable as UTF-8, so no file format can hold them).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
meta = st.dictionaries(text, json_value, max_size=4)
maybe_text = st.one_of(st.none(), text)


@st.composite
def corpora(draw: st.DrawFn) -> Corpus:
    n_dialogues = draw(st.integers(min_value=0, max_value=4))
    d_rows, t_rows, a_rows = [], [], []
    for i in range(n_dialogues):
        did = f"d{i}"
        d_rows.append(
            {
                "corpus": "c",
                "dialogue_id": did,
                "split": draw(maybe_text),
                "kind": draw(maybe_text),
                "meta": draw(meta),
            }
        )
        for j in range(draw(st.integers(min_value=1, max_value=3))):
            tid = f"{did}:{j}"
            t_rows.append(
                {
                    "corpus": "c",
                    "dialogue_id": did,
                    "turn_id": tid,
                    "index": j,
                    "role": draw(st.sampled_from(ROLES)),
                    "speaker": draw(maybe_text),
                    "text": draw(text),
                    "meta": draw(meta),
                }
            )
            if draw(st.booleans()):
                a_rows.append(
                    {
                        "corpus": "c",
                        "unit_id": tid,
                        "scheme": draw(text),
                        "label": draw(maybe_text),
                        "rater": draw(text),
                        "rater_kind": draw(st.sampled_from(RATER_KINDS)),
                        "run_id": draw(maybe_text),
                        "meta": draw(meta),
                    }
                )
    cols = {
        "dialogues": ["corpus", "dialogue_id", "split", "kind", "meta"],
        "turns": ["corpus", "dialogue_id", "turn_id", "index", "role", "speaker", "text", "meta"],
        "annotations": [
            "corpus",
            "unit_id",
            "scheme",
            "label",
            "rater",
            "rater_kind",
            "run_id",
            "meta",
        ],
    }
    return Corpus(
        pd.DataFrame(d_rows, columns=cols["dialogues"]),
        pd.DataFrame(t_rows, columns=cols["turns"]),
        pd.DataFrame(a_rows, columns=cols["annotations"]),
    )


def assert_same(a: Corpus, b: Corpus) -> None:
    for table in ("dialogues", "turns", "annotations"):
        left, right = getattr(a, table), getattr(b, table)
        pd.testing.assert_frame_equal(left.drop(columns="meta"), right.drop(columns="meta"))
        assert left["meta"].tolist() == right["meta"].tolist()
        # types inside meta survive too (1 stays int, 1.0 stays float)
        assert [json.dumps(m, sort_keys=True) for m in left["meta"]] == [
            json.dumps(m, sort_keys=True) for m in right["meta"]
        ]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corpus=corpora())
def test_round_trip_is_lossless(tmp_path_factory, fmt: str, corpus: Corpus) -> None:
    out = tmp_path_factory.mktemp("rt") / "corpus"
    save_corpus(corpus, out, format=fmt)
    back = read_corpus(out)
    assert_same(corpus, back)
    assert back == corpus


def test_save_refuses_to_overwrite_and_replaces_with_flag(tmp_path: Path) -> None:
    out = tmp_path / "c"
    save_corpus(Corpus(), out)
    with pytest.raises(InputError, match="already exists"):
        save_corpus(Corpus(), out)
    save_corpus(Corpus(), out, format="jsonl", overwrite=True)
    assert (out / "turns.jsonl").is_file()
    assert not (out / "turns.parquet").exists()


def test_failed_save_leaves_nothing_behind(tmp_path: Path) -> None:
    bad = Corpus(
        dialogues=pd.DataFrame(
            {
                "corpus": ["c"],
                "dialogue_id": ["d"],
                "split": [None],
                "kind": [None],
                "meta": [{"x": float("nan")}],
            }
        )
    )
    with pytest.raises(InputError, match="not plain JSON"):
        save_corpus(bad, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_read_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such corpus directory"):
        read_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a saved edudial corpus"):
        read_corpus(tmp_path / "empty")
    out = save_corpus(Corpus(), tmp_path / "c", format="jsonl")
    (out / "turns.jsonl").write_text('{"corpus": "c"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"turns.jsonl:2: not valid JSON"):
        read_corpus(out)


def test_read_annotations_from_files(tmp_path: Path) -> None:
    rows = [
        {"unit_id": "u1", "scheme": "s", "label": "a", "rater": "r1"},
        {"unit_id": "u1", "scheme": "s", "label": "b", "rater": "r2", "rater_kind": "model"},
    ]
    p = tmp_path / "ann.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    frame = read_annotations(p)
    assert frame["rater_kind"].tolist() == ["human", "model"]
    assert frame["label"].tolist() == ["a", "b"]
    frame.drop(columns="meta").to_csv(tmp_path / "ann.csv", index=False)
    assert read_annotations(tmp_path / "ann.csv")["rater"].tolist() == ["r1", "r2"]
    (tmp_path / "bad.jsonl").write_text(json.dumps({"unit_id": "u", "label": "x"}) + "\n")
    with pytest.raises(InputError, match="missing required column 'scheme'"):
        read_annotations(tmp_path / "bad.jsonl")


def test_to_hf_has_one_split_per_table() -> None:
    from tests.test_schema import toy

    dd = toy().to_hf()
    assert set(dd) == {"dialogues", "turns", "annotations"}
    assert dd["turns"].num_rows == 4
    assert json.loads(dd["dialogues"][0]["meta"]) == {"qid": 1}
    assert dd["annotations"][0]["run_id"] is None
