"""Every loader: unknown options, and the folder layouts people download (issue 13).

Layouts are rebuilt in ``tmp_path`` from symlinks to the shared files, so each test reads exactly
the released bytes in the shape a user has them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import corpora
from corpora.registry import options
from tests.conftest import corpus_path
from toolkit import Corpus
from toolkit.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
TALKMOVES_SUBSET2 = ["TalkBack.Year1.Gibson.Fall.121319", "TalkBack.Year1.Keene.Fall.120619-1"]
TALKMOVES_SUBSET1 = ["Boats and Fish 1_Grade 4"]


def _link(target: Path, link: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def _assert_same(a: Corpus, b: Corpus) -> None:
    for name in ("dialogues", "turns", "annotations"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


# ------------------------------------------------------------------------------ unknown options
@pytest.mark.parametrize("name", corpora.available())
def test_unknown_option_is_an_input_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match=r"unknown .*option.*no_such_option") as info:
        corpora.load(name, tmp_path, no_such_option=True)
    assert "\n" not in str(info.value)
    for known in options(name):  # the message lists what the loader does take
        assert known in str(info.value)


def test_unknown_options_are_all_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown options 'colour', 'splt' \(mathdial takes "):
        corpora.load("mathdial", tmp_path, splt="test", colour=1)
    with pytest.raises(InputError, match=r"\(cima takes no options\)"):
        corpora.load("cima", tmp_path, releases=["v1"])


def test_known_options_are_the_keyword_parameters() -> None:
    assert options("mathdial") == ["files", "split"]
    assert options("bridge") == ["splits"]
    assert options("cima") == []


# ---------------------------------------------------------------------------------- MathDial
@pytest.mark.realdata
def test_mathdial_hugging_face_layout(data_dir: Path, tmp_path: Path) -> None:
    """A folder holding ``test.jsonl`` directly loads like the release's ``data/test.jsonl``."""
    release = corpus_path(data_dir, "mathdial")
    hub = tmp_path / "mathdial_hf"
    _link(release / "data" / "test.jsonl", hub / "test.jsonl")
    _link(release / "data" / "example.jsonl", hub / "train.jsonl")  # a second split file
    expected = corpora.load("mathdial", release)
    _assert_same(corpora.load("mathdial", hub), expected)
    _assert_same(corpora.load("mathdial", hub, split="test"), expected)
    _assert_same(corpora.load("mathdial", hub, files="data/test.jsonl"), expected)
    train = corpora.load("mathdial", hub, split="train")
    assert len(train.dialogues) == 2 and set(train.dialogues["split"]) == {"train"}


def test_mathdial_missing_file_names_both_places(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as info:
        corpora.load("mathdial", tmp_path)
    assert info.value.path == tmp_path / "data" / "test.jsonl"
    assert str(tmp_path / "test.jsonl") in str(info.value)


# --------------------------------------------------------------------------------- TalkMoves
@pytest.fixture(scope="module")
def talkmoves_dir(data_dir: Path) -> Path:
    return corpus_path(data_dir, "talkmoves")


def _talkmoves_files(root: Path, subset: str, stems: list[str]) -> list[Path]:
    return [root / "data" / subset / f"{stem}.xlsx" for stem in stems]


@pytest.mark.realdata
@pytest.mark.parametrize("inside_data", [True, False])
def test_talkmoves_only_subset_2(talkmoves_dir: Path, tmp_path: Path, inside_data: bool) -> None:
    """A download with only ``Subset 2`` (in ``data/`` or not) loads that subset."""
    root = tmp_path / "talkmoves"
    folder = (root / "data" if inside_data else root) / "Subset 2"
    for f in _talkmoves_files(talkmoves_dir, "Subset 2", TALKMOVES_SUBSET2):
        _link(f, folder / f.name)
    expected = corpora.load(
        "talkmoves", talkmoves_dir, subsets=["subset2"], files=TALKMOVES_SUBSET2
    )
    _assert_same(corpora.load("talkmoves", root), expected)
    _assert_same(corpora.load("talkmoves", root, subsets="subset2"), expected)
    with pytest.raises(InputError, match="missing folder 'Subset 1'"):
        corpora.load("talkmoves", root, subsets=["subset1", "subset2"])


@pytest.mark.realdata
def test_talkmoves_any_folder_of_lessons(talkmoves_dir: Path, tmp_path: Path) -> None:
    """TalkMoves-format files under any folder name load as one subset named after the folder."""
    folder = tmp_path / "my lessons"
    files = _talkmoves_files(talkmoves_dir, "Subset 1", TALKMOVES_SUBSET1)
    files += _talkmoves_files(talkmoves_dir, "Subset 2", TALKMOVES_SUBSET2)
    for f in files:
        _link(f, folder / f.name)
    c = corpora.load("talkmoves", folder)
    stems = sorted(TALKMOVES_SUBSET1 + TALKMOVES_SUBSET2)
    assert list(c.dialogues["dialogue_id"]) == [f"my lessons/{s}" for s in stems]
    assert set(c.dialogues["split"]) == {"my lessons"}
    one = corpora.load("talkmoves", talkmoves_dir, subsets=["subset1"], files=TALKMOVES_SUBSET1)
    two = corpora.load("talkmoves", talkmoves_dir, subsets=["subset2"], files=TALKMOVES_SUBSET2)
    # the same turns, texts, roles and labels as from the release folders, under the new ids
    assert len(c.turns) == len(one.turns) + len(two.turns)
    assert len(c.annotations) == len(one.annotations) + len(two.annotations)
    mine = c.turns.assign(lesson=c.turns["dialogue_id"].str.split("/").str[1])
    theirs = pd.concat([one.turns, two.turns]).assign(
        lesson=lambda t: t["dialogue_id"].str.split("/").str[1]
    )
    columns = ["lesson", "index", "role", "speaker", "text"]
    pd.testing.assert_frame_equal(
        mine[columns].sort_values(["lesson", "index"]).reset_index(drop=True),
        theirs[columns].sort_values(["lesson", "index"]).reset_index(drop=True),
    )
    labels = sorted(c.annotations["label"].tolist())
    assert labels == sorted(one.annotations["label"].tolist() + two.annotations["label"].tolist())


def test_talkmoves_folder_without_lessons(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.xlsx transcripts found"):
        corpora.load("talkmoves", tmp_path)


def test_talkmoves_fixture_subset_folders_still_load() -> None:
    c = corpora.load("talkmoves", FIXTURES / "talkmoves")
    assert set(c.dialogues["split"]) == {"subset1", "subset2"}
