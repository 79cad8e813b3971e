"""``edudial code`` sample, export, status and disagreements (import errors: elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.demo import bundled_sample


def _run(*args: object) -> tuple[int, str]:
    res = CliRunner().invoke(cli, [str(a) for a in args])
    return res.exit_code, res.output + ("" if res.exception is None else str(res.exception))


def test_sample_export_status(tmp_path: Path) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    code, out = _run(
        "code",
        "sample",
        saved,
        "--rubric",
        "mathdial-moves",
        "--n",
        12,
        "--seed",
        7,
        "--stratify-by",
        "coder_a",
        "--min-per-label",
        2,
        "-o",
        tmp_path / "s.json",
    )
    assert code == 0, out
    assert "12 of 33 units (stratified, seed 7)" in out
    data = json.loads((tmp_path / "s.json").read_text())
    assert len(data["units"]) == 12 and data["design"]["stratify_by"] == "coder_a"
    code, out = _run(
        "code",
        "export",
        saved,
        "--rubric",
        "mathdial-moves",
        "--coders",
        "ana,ben,cy",
        "--sample",
        tmp_path / "s.json",
        "--overlap",
        "0.5",
        "-o",
        tmp_path / "coding",
    )
    assert code == 0, out
    assert "ana.xlsx: 8 units (6 shared by every coder)" in out
    code, out = _run("code", "status", tmp_path / "coding")
    assert code == 0 and "ana: 0/8 coded" in out and "no unit coded by two coders yet" in out
    for name in ("ana", "ben", "cy"):
        path = tmp_path / "coding" / f"{name}.xlsx"
        wb = openpyxl.load_workbook(path)
        for (cell,) in wb["Code"].iter_rows(min_row=2, min_col=4, max_col=4):
            cell.value = "focus"
        wb.save(path)
    code, out = _run("code", "status", tmp_path / "coding", "--bootstrap", 0)
    assert code == 0, out
    assert "cy: 8/8 coded" in out and "Fleiss' kappa" in out and "on 6 units coded by" in out


def test_export_with_a_sample_of_another_rubric_is_refused(tmp_path: Path) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    _run(
        "code",
        "sample",
        saved,
        "--rubric",
        "mathdial-moves",
        "--n",
        5,
        "--seed",
        1,
        "-o",
        tmp_path / "s.json",
    )
    code, out = _run(
        "code",
        "export",
        saved,
        "--rubric",
        "talkmoves",
        "--coders",
        "ana",
        "--sample",
        tmp_path / "s.json",
        "-o",
        tmp_path / "coding",
    )
    assert code != 0 and "sample drawn for rubric mathdial-moves" in out
    assert not (tmp_path / "coding").exists()


def test_disagreements_need_two_coders_and_a_known_round(tmp_path: Path) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    code, out = _run(
        "code",
        "disagreements",
        saved,
        "--scheme",
        "mathdial/move",
        "--raters",
        "coder_a,coder_b",
        "--rubric",
        "mathdial-moves",
        "-o",
        tmp_path / "a.xlsx",
    )
    assert code != 0 and "give --round" in out
    assert not (tmp_path / "a.xlsx").exists()


def test_the_coding_app_commands_are_offered_under_code() -> None:
    from toolkit.cli.code import EXTRA_COMMANDS, _exists

    code, out = _run("code", "--help")
    assert code == 0
    for name in ("sample", "export", "import", "disagreements", "status"):
        assert name in out
    for name, (module, _) in EXTRA_COMMANDS.items():
        if _exists(module):
            assert name in out
            assert _run("code", name, "--help")[0] == 0
