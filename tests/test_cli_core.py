"""``edudial load`` / ``edudial info`` and the CLI's error handling."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import corpora
from toolkit import read_corpus
from toolkit.cli import COMMANDS, cli, main
from toolkit.demo import bundled_sample


def test_load_help_names_every_available_corpus() -> None:
    text = CliRunner().invoke(cli, ["load", "--help"]).output
    for name in corpora.available():
        assert name in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_help_has_an_example(command: str) -> None:
    res = CliRunner().invoke(cli, [command, "--help"])
    assert res.exit_code == 0, res.output
    assert "edudial " + command in res.output.split("Example", 1)[-1]


def test_errors_are_one_line_without_traceback(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["load", "mathdial", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such file or directory" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_unknown_corpus_lists_the_available_ones(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["load", "nosuch", str(tmp_path), "-o", str(tmp_path / "out")])
    assert "available: " + ", ".join(corpora.available()) in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from toolkit import InputError

    with pytest.raises(InputError):
        main(["--debug", "info", str(tmp_path / "missing")])


def test_info_prints_counts_and_statistics(tmp_path: Path) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    res = CliRunner().invoke(cli, ["info", str(saved), "--plot", str(tmp_path / "plots")])
    assert res.exit_code == 0, res.output
    assert "Corpus(demo: 8 dialogues, 60 turns, 66 annotations)" in res.output
    assert "mathdial/move" in res.output
    assert list((tmp_path / "plots").glob("*.png"))


def test_load_writes_a_readable_corpus_and_refuses_to_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "lessons"
    src.mkdir()
    fixture = Path(__file__).parent / "fixtures" / "tscc"
    lesson = sorted(p for p in fixture.glob("*.tsv"))[0]
    (src / lesson.name).write_bytes(lesson.read_bytes())
    out = tmp_path / "tscc.corpus"
    res = CliRunner().invoke(cli, ["load", "tscc", str(src), "-o", str(out), "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert read_corpus(out).validate().names == ["tscc"]
    again = CliRunner().invoke(cli, ["load", "tscc", str(src), "-o", str(out)])
    assert again.exit_code != 0
