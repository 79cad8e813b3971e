"""A saved corpus is plain Parquet: tools that never import edudial read every table.

Each reader runs in a subprocess started with ``-I`` in which importing any edudial package
raises (the editable install would otherwise put it on the path), so nothing edudial registers,
such as the pandas dtype of the in-memory ``meta`` column, can help it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from toolkit import Corpus, read_corpus
from toolkit.schema import TABLES

READERS = ("pandas", "pyarrow", "duckdb", "polars", "datasets")

# Runs in the child: argv[1] is the corpus folder, argv[2] the reader. Prints, per table, the
# column names and the values as JSON (missing values as null, meta as its JSON text).
CHILD = r"""
import json, math, sys

class NoEdudial:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"toolkit", "corpora", "annotation", "eval", "tests"}:
            raise ImportError(f"edudial must not be imported here ({name})")
        return None

sys.meta_path.insert(0, NoEdudial())
folder, reader = sys.argv[1], sys.argv[2]

def plain(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v

def from_frame(frame):
    return {"columns": list(frame.columns),
            "rows": [[plain(v) for v in row] for row in frame.itertuples(index=False)]}

def read(table):
    path = f"{folder}/{table}.parquet"
    if reader == "pandas":
        import pandas
        return from_frame(pandas.read_parquet(path))
    if reader == "pyarrow":
        import pyarrow.parquet
        return from_frame(pyarrow.parquet.read_table(path).to_pandas())
    if reader == "duckdb":
        import duckdb
        rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
        return {"columns": rel.columns, "rows": [list(r) for r in rel.fetchall()]}
    if reader == "polars":
        import polars
        frame = polars.read_parquet(path)
        return {"columns": frame.columns, "rows": [list(r) for r in frame.iter_rows()]}
    if reader == "datasets":
        import datasets
        data = datasets.load_dataset("parquet", data_files=path, split="train")
        return {"columns": data.column_names,
                "rows": [[row[c] for c in data.column_names] for row in data]}
    raise SystemExit(f"unknown reader {reader}")

out = {t: read(t) for t in ("dialogues", "turns", "annotations")}
leaked = sorted(m for m in sys.modules if m.partition(".")[0] in {"toolkit", "corpora"})
assert not leaked, leaked
print(json.dumps(out))
"""


def read_elsewhere(folder: Path, reader: str, tmp_path: Path) -> dict[str, Any]:
    """What ``reader`` sees in ``folder``, read by a Python that never imports edudial."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HF_"))}
    env |= {"HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-I", "-c", CHILD, str(folder), reader],
        cwd=tmp_path,  # not the repository: its packages are not importable from here
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def expected(corpus: Corpus, table: str) -> dict[str, Any]:
    """The table as the child prints it: meta as JSON text, missing values as ``None``."""
    frame = getattr(corpus, table)
    columns = {
        c: frame["meta"].array.texts()
        if c == "meta"
        else [None if pd.isna(v) else v for v in frame[c].tolist()]
        for c in frame.columns
    }
    rows = [list(r) for r in zip(*columns.values(), strict=True)]
    return {"columns": list(frame.columns), "rows": rows}


def rich_corpus() -> Corpus:
    """Meta of every JSON type, missing values, non-ASCII text and an extra column."""
    dialogues = pd.DataFrame(
        {
            "corpus": ["toy", "toy"],
            "dialogue_id": ["d1", "d2"],
            "split": ["train", None],
            "kind": ["tutoring", "lesson"],
            "meta": [{"grade": 7, "ratio": 0.5, "tags": ["a", "ü"]}, {"nested": {"x": None}}],
        }
    )
    turns = pd.DataFrame(
        {
            "corpus": "toy",
            "dialogue_id": ["d1", "d1", "d2"],
            "turn_id": ["d1:0", "d1:1", "d2:0"],
            "index": [0, 1, 0],
            "role": ["teacher", "student", "other"],
            "speaker": ["Teacher", None, "Zoë"],
            "text": ["Why 7?", "Because 3+4 — ✓", ""],
            "meta": [{"start": 1.25}, {}, {"ok": True}],
            "minutes": [1, 2, 3],  # an extra column stays an ordinary column
        }
    )
    annotations = pd.DataFrame(
        {
            "corpus": "toy",
            "unit_id": ["d1:0", "d1"],
            "scheme": ["move", "quality"],
            "label": ["probing", None],
            "rater": ["coder_a", "gpt"],
            "rater_kind": ["human", "model"],
            "run_id": [None, "run-1"],
            "meta": [{}, {"confidence": 0.9}],
        }
    )
    return Corpus(dialogues, turns, annotations).validate()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Corpus, Path]:
    corpus = rich_corpus()
    return corpus, corpus.save(tmp_path_factory.mktemp("plain") / "toy.corpus")


@pytest.mark.parametrize("reader", READERS)
def test_every_table_reads_without_edudial(saved, reader: str, tmp_path: Path) -> None:
    pytest.importorskip(reader, reason=f"{reader} is not installed (pip install -e '.[dev]')")
    corpus, folder = saved
    seen = read_elsewhere(folder, reader, tmp_path)
    for table in TABLES:
        assert seen[table] == expected(corpus, table), (reader, table)
        meta = seen[table]["columns"].index("meta")
        decoded = [json.loads(row[meta]) for row in seen[table]["rows"]]
        assert decoded == getattr(corpus, table)["meta"].tolist()  # numbers stay numbers


def test_the_bundled_sample_reads_with_pandas_without_edudial(tmp_path: Path) -> None:
    from toolkit.demo import bundled_sample

    sample = bundled_sample()
    seen = read_elsewhere(sample.save(tmp_path / "sample.corpus"), "pandas", tmp_path)
    assert [len(seen[t]["rows"]) for t in TABLES] == [len(getattr(sample, t)) for t in TABLES]
    assert all(seen[t] == expected(sample, t) for t in TABLES)


def test_the_child_really_lacks_edudial(saved, tmp_path: Path) -> None:
    """The check has teeth: a file naming edudial's dtype (as saves before this fix did) fails."""
    import pyarrow.parquet as pq

    _, folder = saved
    old = tmp_path / "old.corpus"
    old.mkdir()
    for table in TABLES:
        data = pq.read_table(folder / f"{table}.parquet")
        text = data.schema.metadata[b"pandas"].decode("utf-8")
        info = json.loads(text)
        for column in info["columns"]:
            if column["name"] == "meta":
                column["numpy_type"] = "edudial.meta"
        meta = {**data.schema.metadata, b"pandas": json.dumps(info).encode("utf-8")}
        pq.write_table(data.replace_schema_metadata(meta), old / f"{table}.parquet")
    with pytest.raises(AssertionError, match=r"data type 'edudial\.meta' not understood"):
        read_elsewhere(old, "pandas", tmp_path)
    (old / "corpus.json").write_bytes((folder / "corpus.json").read_bytes())
    assert read_corpus(old) == read_corpus(folder)  # edudial still reads the old files


def test_saved_metadata_names_meta_a_plain_text_column(saved) -> None:
    import pyarrow.parquet as pq

    corpus, folder = saved
    for table in TABLES:
        info = json.loads(pq.read_schema(folder / f"{table}.parquet").metadata[b"pandas"])
        meta = next(c for c in info["columns"] if c["name"] == "meta")
        assert (meta["pandas_type"], meta["numpy_type"]) == ("unicode", "object")
    back = read_corpus(folder)
    assert back == corpus
    assert all(str(getattr(back, t)["meta"].dtype) == "edudial.meta" for t in TABLES)
