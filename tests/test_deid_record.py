"""The de-identification record: where it lives, how it survives saving, who gets it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import corpora
from corpora.anonymised import PUBLISHED
from tests.conftest import corpus_path
from toolkit import Corpus, read_corpus
from toolkit.cli import cli
from toolkit.deid import DEID_KEY, DeidRecord, deid_status, is_deidentified, mark


def _toy(n: int = 2, name: str = "toy") -> Corpus:
    ids = [f"d{i}" for i in range(n)]
    return Corpus(
        dialogues=pd.DataFrame(
            {"corpus": name, "dialogue_id": ids, "split": None, "kind": None, "meta": [{}] * n}
        ),
        turns=pd.DataFrame(
            {
                "corpus": name,
                "dialogue_id": ids,
                "turn_id": [f"{d}:0" for d in ids],
                "index": 0,
                "role": "teacher",
                "speaker": "T",
                "text": "Hello",
                "meta": [{}] * n,
            }
        ),
    ).validate()


def test_unmarked_corpus_is_not_deidentified() -> None:
    corpus = _toy()
    assert not is_deidentified(corpus)
    (status,) = deid_status(corpus)
    assert (status.dialogues, status.deidentified, status.complete) == (2, 0, False)
    assert "NOT de-identified" in status.describe()


def test_mark_copies_meta_and_records_every_field() -> None:
    corpus = _toy()
    record = DeidRecord(
        by="edudial", version="0.1.0", sources=("speakers", "roster"), counts={"name": 3}
    )
    marked = mark(corpus, record)
    assert corpus.dialogues["meta"].tolist() == [{}, {}]  # the input is left as it was
    assert is_deidentified(marked)
    assert marked.dialogues["meta"].iloc[0][DEID_KEY] == {
        "deidentified": True,
        "by": "edudial",
        "version": "0.1.0",
        "sources": ["speakers", "roster"],
        "counts": {"name": 3},
    }
    (status,) = deid_status(marked)
    assert status.counts == {"name": 6}  # summed over the two dialogues
    assert status.sources == ("speakers", "roster")


def test_partly_marked_corpus_is_not_deidentified() -> None:
    corpus = _toy(3)
    half = mark(corpus, {("toy", "d0"): DeidRecord(by="publisher", basis="toy")})
    assert not is_deidentified(half)
    (status,) = deid_status(half)
    assert (status.deidentified, status.dialogues) == (1, 3)
    assert "PARTLY" in status.describe()


def test_concatenated_corpora_keep_their_own_status() -> None:
    both = Corpus.concat([mark(_toy(name="a"), DeidRecord(by="publisher")), _toy(name="b")])
    assert not is_deidentified(both)
    assert [(s.corpus, s.complete) for s in deid_status(both)] == [("a", True), ("b", False)]
    assert is_deidentified(both.filter(corpus="a"))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_record_survives_save_and_read(tmp_path: Path, fmt: str) -> None:
    marked = mark(_toy(), DeidRecord(by="edudial", version="0.1.0", counts={"email": 1}))
    marked.save(tmp_path / "c", format=fmt)
    again = read_corpus(tmp_path / "c")
    assert is_deidentified(again)
    assert deid_status(again) == deid_status(marked)


def test_info_shows_the_record(tmp_path: Path) -> None:
    _toy().save(tmp_path / "plain")
    mark(_toy(), DeidRecord(by="publisher", basis="synthetic toy")).save(tmp_path / "marked")
    runner = CliRunner()
    plain = runner.invoke(cli, ["info", str(tmp_path / "plain")])
    marked = runner.invoke(cli, ["info", str(tmp_path / "marked")])
    assert plain.exit_code == 0 and marked.exit_code == 0, plain.output + marked.output
    assert "toy: NOT de-identified" in plain.output
    assert "toy: de-identified; by publisher; basis: synthetic toy" in marked.output


def test_every_published_basis_names_a_real_loader() -> None:
    assert set(PUBLISHED) <= set(corpora.available())
    assert "transcripts" not in PUBLISHED


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("mathdial", ("mathdial",)),
        ("cima", ("cima",)),
        ("bridge", ("bridge",)),
        ("ncte_uptake", ("ncte_uptake",)),
        ("mrbench", ("mrbench",)),
    ],
)
def test_named_loaders_of_anonymised_releases_are_marked(
    data_dir: Path, name: str, parts: tuple[str, ...]
) -> None:
    corpus = corpora.load(name, corpus_path(data_dir, *parts))
    assert is_deidentified(corpus)
    (status,) = deid_status(corpus)
    assert status.by == ("publisher",) and status.bases == (PUBLISHED[name],)
