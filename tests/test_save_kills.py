"""Saves that cannot lose a corpus: kill -9 during saves, and each state a kill can leave.

The long version (50+ kills across ``Corpus.save``, ``load -o``, ``code import``, ``deid -o``)
is ``benchmarks/kill_saves.py``.
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.demo import bundled_sample
from toolkit.errors import InputError
from toolkit.io import STALE_AFTER, _host_tag, read_corpus, save_corpus
from toolkit.schema import Corpus

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "kill_saves.py"


def _two_versions() -> tuple[Corpus, Corpus]:
    a = bundled_sample()
    return a, a.filter(dialogue_id=sorted(set(a.dialogues["dialogue_id"]))[:3])


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(proc.stdout)


# ---- each state a kill can leave, made by hand -------------------------------------------------


def test_corpus_left_aside_comes_back_on_read(tmp_path: Path) -> None:
    a, _ = _two_versions()
    out = save_corpus(a, tmp_path / "c.corpus")
    os.rename(out, tmp_path / ".c.corpus.old-0123456789ab")  # killed between the two renames
    assert read_corpus(out) == a
    assert _hidden(out) == []


def test_aside_copy_is_deleted_once_the_new_one_is_in(tmp_path: Path) -> None:
    a, b = _two_versions()
    out = save_corpus(b, tmp_path / "c.corpus")
    save_corpus(a, tmp_path / ".c.corpus.old-0123456789ab")  # killed before deleting the old one
    assert read_corpus(out) == b and _hidden(out) == []
    save_corpus(a, tmp_path / ".c.corpus.old-0123456789ab")
    save_corpus(a, out, overwrite=True)
    assert read_corpus(out) == a and _hidden(out) == []


def test_save_without_overwrite_sees_the_corpus_left_aside(tmp_path: Path) -> None:
    a, b = _two_versions()
    out = save_corpus(a, tmp_path / "c.corpus")
    os.rename(out, tmp_path / ".c.corpus.old-0123456789ab")
    with pytest.raises(InputError, match="already exists"):  # it is back, not replaced
        save_corpus(b, out)
    assert read_corpus(out) == a and _hidden(out) == []


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    a, b = _two_versions()
    out = save_corpus(a, tmp_path / "c.corpus")
    host = _host_tag()
    dead = tmp_path / f".c.corpus.tmp-{host}-{_dead_pid()}-0123456789ab"
    live = tmp_path / f".c.corpus.tmp-{host}-{os.getpid()}-0123456789ab"
    other_host_new = tmp_path / ".c.corpus.tmp-00000000-1-0123456789ab"
    other_host_old = tmp_path / ".c.corpus.tmp-00000000-2-0123456789ab"
    deleting = tmp_path / ".c.corpus.del-0123456789ab"
    legacy_old = tmp_path / ".c.corpus.0123456789ab"
    legacy_new = tmp_path / ".c.corpus.abcdef012345"
    legacy_foreign = tmp_path / ".c.corpus.aaaaaaaaaaaa"
    not_ours = [tmp_path / ".c.corpus.backup", tmp_path / ".other.corpus.0123456789ab"]
    for p in (dead, live, other_host_new, other_host_old, deleting, legacy_old, legacy_new):
        p.mkdir()
        (p / "turns.parquet").write_bytes(b"half")
    legacy_foreign.mkdir()
    (legacy_foreign / "notes.txt").write_text("mine")
    for p in not_ours:
        p.mkdir()
    long_ago = time.time() - STALE_AFTER - 60
    for p in (other_host_old, legacy_old, legacy_foreign, *not_ours):
        for q in (*p.iterdir(), p):
            os.utime(q, (long_ago, long_ago))
    save_corpus(b, out, overwrite=True)
    assert read_corpus(out) == b
    left = set(_hidden(out))
    assert left == {p.name for p in (live, other_host_new, legacy_new, legacy_foreign)} | {
        ".c.corpus.backup"
    }
    assert (tmp_path / ".other.corpus.0123456789ab").is_dir()


def test_a_failed_rename_puts_the_old_corpus_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _two_versions()
    out = save_corpus(a, tmp_path / "c.corpus")
    real = os.rename

    def rename(src: str, dst: str) -> None:
        if ".tmp-" in str(src):
            raise OSError("disk gone")
        real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="disk gone"):
        save_corpus(b, out, overwrite=True)
    monkeypatch.undo()
    assert read_corpus(out) == a and _hidden(out) == []


# ---- real kills (the benchmark's children and kill, run a few times) --------------------------


@pytest.fixture(scope="module")
def kills():
    spec = importlib.util.spec_from_file_location("bench_kill_saves", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_kill_9_during_repeated_saves_never_loses_the_corpus(kills, tmp_path: Path) -> None:
    a, b = _two_versions()
    out = save_corpus(a, tmp_path / "c.corpus")
    rng = random.Random(20240611)
    for _ in range(7):
        kills.kill_at_random(kills.SAVER, [str(out)], rng, 0.4)
        got = read_corpus(out)  # a complete corpus that passes the checks
        assert got in (a, b)
    save_corpus(a, out, overwrite=True)
    assert read_corpus(out) == a and _hidden(out) == []


def test_kill_9_during_code_import_never_loses_the_corpus(kills, tmp_path: Path) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    run = CliRunner()
    res = run.invoke(cli, ["code", "sample", str(saved), "--rubric", "mathdial-moves", "--n", "8",
                           "--seed", "1", "-o", str(tmp_path / "s.json")])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = run.invoke(cli, ["code", "export", str(saved), "--rubric", "mathdial-moves", "--coders",
                           "ana", "--sample", str(tmp_path / "s.json"), "-o",
                           str(tmp_path / "coding")])  # fmt: skip
    assert res.exit_code == 0, res.output
    book = tmp_path / "coding" / "ana.xlsx"
    wb = openpyxl.load_workbook(book)
    for (cell,) in wb["Code"].iter_rows(min_row=2, min_col=4, max_col=4):
        cell.value = "focus"
    wb.save(book)
    old = read_corpus(saved)
    rng = random.Random(7)
    for _ in range(3):
        import_args = ["code", "import", str(book), "--into", str(saved)]
        kills.kill_at_random(kills.LOOP, import_args, rng, 1.0)
        got = read_corpus(saved)
        assert got == old or (len(got.annotations) == len(old.annotations) + 8), got
    res = run.invoke(cli, ["code", "import", str(book), "--into", str(saved)])
    assert res.exit_code == 0, res.output
    assert len(read_corpus(saved).annotations) == len(old.annotations) + 8
    assert _hidden(saved) == []
