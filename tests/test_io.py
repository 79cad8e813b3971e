"""Saving and reading corpora: lossless round trips, atomic writes, clear errors."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import (
    Corpus,
    InputError,
    SchemaError,
    meta_values,
    read_annotations,
    read_corpus,
    save_corpus,
)
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
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="already exists"):
        save_corpus(Corpus(), tmp_path / "file")


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_save_into_an_existing_empty_folder(tmp_path: Path, fmt: str) -> None:
    from tests.test_schema import toy

    empty = Path(tempfile.mkdtemp(dir=tmp_path))
    assert toy().save(empty, format=fmt) == empty
    assert read_corpus(empty) == toy()
    with pytest.raises(InputError, match="already exists"):  # now it holds a corpus
        toy().save(empty, format=fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == [empty.name]  # no temporary left


def test_meta_that_is_not_json_is_refused_naming_the_row() -> None:
    rows = {"corpus": "c", "dialogue_id": ["d", "e"], "split": None, "kind": None}
    with pytest.raises(SchemaError, match=r"dialogues.meta row 1 is not plain JSON"):
        Corpus(pd.DataFrame({**rows, "meta": [{}, {"x": {1, 2}}]}))
    # NaN is JSON's null (the schema's missing value); numpy scalars become Python numbers
    ok = Corpus(pd.DataFrame({**rows, "meta": [{"x": float("nan")}, {"n": np.int64(3)}]}))
    assert meta_values(ok.dialogues["meta"]) == [{"x": None}, {"n": 3}]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_failed_save_leaves_nothing_behind(tmp_path: Path, fmt: str) -> None:
    from tests.test_schema import toy

    bad = toy()
    bad.annotations["meta"] = [{"x": {1, 2}}, {}, {}]  # changed after building: written last
    with pytest.raises(SchemaError, match=r"annotations\.meta row 0 is not plain JSON"):
        save_corpus(bad, tmp_path / "out", format=fmt)
    assert list(tmp_path.iterdir()) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SchemaError):
        save_corpus(bad, empty, format=fmt)
    assert [p.name for p in tmp_path.iterdir()] == ["empty"] and not any(empty.iterdir())


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


# ------------------------------------------------------------------ partial reads, outside tools
def two_corpora() -> Corpus:
    from tests.test_schema import toy

    other = toy()
    frames = {
        t: getattr(other, t).assign(corpus="other") for t in ("dialogues", "turns", "annotations")
    }
    return Corpus.concat([toy(), Corpus(**frames)])


FILTER_CASES = [
    {"role": "student"},
    {"split": "test"},
    {"split": ["test", "train"], "role": "teacher"},
    {"dialogue_id": "d1", "scheme": "quality"},
    {"corpus": "other", "role": ["teacher"]},
    {"corpus": "toy", "split": "train", "scheme": "mathdial/move"},
    {"dialogue_id": "nope"},
]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
@pytest.mark.parametrize("filters", FILTER_CASES, ids=str)
def test_read_with_filters_equals_filter_after_reading(tmp_path: Path, fmt: str, filters) -> None:
    corpus = two_corpora()
    out = corpus.save(tmp_path / "c", format=fmt)
    part = read_corpus(out, filters=filters)
    assert part == corpus.filter(**filters)
    assert part == Corpus.read(out, filters=filters)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_read_only_some_columns(tmp_path: Path, fmt: str) -> None:
    corpus = two_corpora()
    out = corpus.save(tmp_path / "c", format=fmt)
    part = read_corpus(
        out, columns={"turns": ["text"], "dialogues": []}, filters={"role": "student"}
    )
    want = corpus.filter(role="student")
    assert part.turns["text"].tolist() == want.turns["text"].tolist()
    assert part.turns["turn_id"].tolist() == want.turns["turn_id"].tolist()  # ids always read
    assert part.turns["speaker"].isna().all() and part.dialogues["split"].isna().all()
    assert meta_values(part.dialogues["meta"]) == [{}] * len(want.dialogues)
    assert part.annotations.equals(want.annotations)  # tables not named are whole
    part.validate()
    with pytest.raises(InputError, match=r"no column\(s\) 'words'; columns: corpus"):
        read_corpus(out, columns={"turns": ["words"]})
    with pytest.raises(InputError, match=r"unknown filter\(s\) 'speaker'; use corpus, split"):
        read_corpus(out, filters={"speaker": "Ana"})


def test_saved_corpus_is_a_plain_parquet_dataset(tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    out = two_corpora().save(tmp_path / "c")
    turns = ds.dataset(out / "turns.parquet", format="parquet")
    table = turns.to_table(
        filter=(ds.field("corpus") == "other") & (ds.field("dialogue_id") == "d2"),
        columns=["turn_id", "text", "meta"],
    )
    assert table.column("turn_id").to_pylist() == ["d2:0", "d2:1"]
    assert table.column("text").to_pylist() == ["Look again", "ok"]
    assert table.schema.field("meta").type in ("string", "large_string")  # JSON text
    dialogues = ds.dataset(out / "dialogues.parquet").to_table(filter=ds.field("corpus") == "toy")
    assert [json.loads(m) for m in dialogues.column("meta").to_pylist()] == [{"qid": 1}, {"qid": 2}]


def test_parquet_meta_that_is_not_json_object_text_is_named(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from tests.test_schema import toy

    out = toy().save(tmp_path / "c")
    table = pq.read_table(out / "turns.parquet")
    broken = table.set_column(7, "meta", pa_strings(["{}", "[1]", "{}", "{}"]))
    pq.write_table(broken, out / "turns.parquet")
    with pytest.raises(InputError, match=r"turns.parquet: field 'meta': row 1: not a JSON object"):
        read_corpus(out)


def pa_strings(values: list[str]):
    import pyarrow as pa

    return pa.array(values, type=pa.large_string())


# ----------------------------------------------------------------------------- Hugging Face
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corpus=corpora())
def test_hf_round_trip_is_lossless(corpus: Corpus) -> None:
    import corpora as loaders

    back = loaders.from_hf(corpus.to_hf())
    assert_same(corpus, back)
    assert back == corpus


def test_from_hf_errors_name_the_split() -> None:
    import datasets

    import corpora as loaders
    from tests.test_schema import toy

    dd = toy().to_hf()
    with pytest.raises(InputError, match=r"no 'turns' split; .*found: dialogues, annotations"):
        loaders.from_hf(
            datasets.DatasetDict({"dialogues": dd["dialogues"], "annotations": dd["annotations"]})
        )
    bad = datasets.DatasetDict({**dd, "turns": dd["turns"].remove_columns("role")})
    with pytest.raises(InputError, match="turns table lacks column"):
        loaders.from_hf(bad)
    no_annotations = loaders.from_hf({"dialogues": dd["dialogues"], "turns": dd["turns"]})
    assert len(no_annotations.annotations) == 0 and len(no_annotations.turns) == 4


# -------------------------------------------------------------------------------- real data
LOADERS = ["mathdial", "sight", "tscc", "talkmoves", "cima", "mrbench", "bridge", "ncte_uptake"]


@pytest.mark.realdata
@pytest.mark.parametrize("name", LOADERS)
def test_every_loader_round_trips_losslessly(data_dir: Path, tmp_path: Path, name: str) -> None:
    import corpora as loaders
    from tests.conftest import corpus_path

    path = corpus_path(data_dir, name)
    if name == "tscc" and not any(path.rglob("*.tsv")):
        pytest.skip("TSCC may not be redistributed: EDUDIAL_DATA/tscc holds no lesson files")
    corpus = loaders.load(name, path)
    back = read_corpus(corpus.save(tmp_path / name))
    assert_same(corpus, back)
    assert back == corpus


def test_docs_duckdb_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The DuckDB example of docs/toolkit.md, over a corpus saved by edudial."""
    pytest.importorskip("duckdb", reason="duckdb is not installed (pip install duckdb)")
    from tests.test_docs import ROOT, python_blocks
    from toolkit.demo import bundled_sample

    page = ROOT / "docs" / "toolkit.md"
    blocks = [code for _, code, skipped in python_blocks(page) if skipped and "duckdb" in code]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    sample = bundled_sample()
    sample.save("sample.corpus")
    namespace: dict[str, object] = {"sample": sample}
    exec(compile(blocks[0], "docs/toolkit.md (duckdb)", "exec"), namespace)
    talk = namespace["talk"]
    roles = sample.turns["role"].value_counts()
    assert dict(zip(talk["role"], talk["turns"], strict=True)) == roles.to_dict()
    assert set(talk["questions"]) == {len(sample.dialogues)}  # meta read through JSON functions


def test_parquet_written_by_other_tools_reads(tmp_path: Path) -> None:
    """Plain string columns without pandas metadata (edudial <= 0.1 wrote these, as do engines)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.test_schema import toy

    corpus = toy()
    out = corpus.save(tmp_path / "c")
    for table in ("dialogues", "turns", "annotations"):
        frame = getattr(corpus, table)
        columns = {
            c: pa.array(
                frame[c].to_numpy() if c != "meta" else frame["meta"].array.texts(),
                type=pa.int64() if c == "index" else pa.string(),
                from_pandas=True,
            )
            for c in frame.columns
        }
        pq.write_table(pa.table(columns), out / f"{table}.parquet")
    assert read_corpus(out) == corpus
