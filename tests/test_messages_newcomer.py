"""The newcomer's path, codebooks and messages: every rubric problem with its line, a refused
connection said at once, file modes that fit what a file holds, wide tables when piped."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from annotation import FatalError, load_rubric
from annotation.rubric import RubricError
from annotation.transport import OpenAITransport, connection_refused
from tests.cli_support import run_cli
from toolkit import Corpus
from toolkit.cli import cli
from toolkit.demo import bundled_sample
from toolkit.files import open_temp, temp_dir, write_text_atomic

# ------------------------------------------------------------------ 1. rubric check: every problem

#: Six problems, one of them a misspelt required field; the line of each is in the comment.
BAD_RUBRIC = """\
id: toy
version: 1
description: d
scheme: toy/x
mode: singel                 # line 5: not a mode
labels:
  - name: a
    defintion: A             # line 8: misspelt (definition is then missing: said once)
  - name: b
    definition: B
    exampels: []             # line 11: misspelt optional key
context:
  turns: -1                  # line 13: negative
colour: red                  # line 14: no such key, nothing close
applies_to:
  meta: {c: [1]}             # line 16: a list is no meta value
"""


def test_rubric_error_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(BAD_RUBRIC, encoding="utf-8")
    with pytest.raises(RubricError) as err:
        load_rubric(path)
    got = [(p.line, p.field, p.message) for p in err.value.problems]
    assert got == [
        (5, "mode", "Input should be 'single', 'multi', 'binary' or 'dimensions'"),
        (8, "labels.0.defintion", "unknown key (did you mean 'definition'?)"),
        (11, "labels.1.exampels", "unknown key (did you mean 'examples'?)"),
        (13, "context.turns", "Input should be greater than or equal to 0"),
        (14, "colour", got[4][2]),
        (
            16,
            "applies_to.meta.c",
            "Input should be a valid string or a valid integer or a valid number or a valid "
            "boolean",
        ),
    ]
    assert got[4][2].startswith("unknown key (allowed here: id, version, title, description")
    text = str(err.value)
    assert "Field required" not in text and "more problem" not in text
    assert text.splitlines()[1] == (
        f"{path}:8: field 'labels.0.defintion': unknown key (did you mean 'definition'?)"
    )
    assert (err.value.line, err.value.field) == (5, "mode")  # the first problem's, as before


def test_rubric_check_prints_one_line_per_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(BAD_RUBRIC, encoding="utf-8")
    code, out, err = run_cli(["rubric", "check", str(path)], capsys)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 7 and lines[-1] == "6 problems found"
    assert all(line.startswith(f"error: {path}:") for line in lines[:-1])
    assert f"error: {path}:8: field 'labels.0.defintion': unknown key (did you mean" in err
    assert "Traceback" not in err


def test_missing_required_field_still_named_with_the_item_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "id: toy\nversion: 1\ndescription: d\nscheme: toy/x\nlabels:\n"
        "  - name: a\n    definition: A\n  - name: b\n",
        encoding="utf-8",
    )
    with pytest.raises(RubricError) as err:
        load_rubric(path)
    assert [(p.line, p.field, p.message) for p in err.value.problems] == [
        (8, "labels.1.definition", "Field required")
    ]


# ------------------------------------------------------------ 2. a refused connection, at once


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_refused_connection_fails_within_two_seconds() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    transport = OpenAITransport(base_url=url, api_key="sk-test")  # default 6 retries
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

    async def send() -> None:
        try:
            await transport.complete(body)
        finally:
            await transport.aclose()

    start = time.monotonic()
    with pytest.raises(FatalError) as err:
        asyncio.run(send())
    assert time.monotonic() - start < 2.0
    message = str(err.value)
    assert url in message and "connection refused" in message and "\n" not in message
    assert transport.requests_sent == 1  # no retries


def test_refusal_is_found_through_the_clients_exception_chain() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except ConnectionRefusedError as refused:
            raise OSError("All connection attempts failed") from refused
    except OSError as exc:
        assert connection_refused(exc)
    assert not connection_refused(TimeoutError("read timed out"))


def test_annotate_against_a_closed_port_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    args = ["annotate", str(saved), "--rubric", "mathdial-moves", "-o", str(tmp_path / "run")]
    start = time.monotonic()
    code, _, err = run_cli([*args, "--model", "m", "--base-url", url], capsys)
    assert code == 2
    assert err.startswith(f"error: cannot reach {url}: connection refused")
    assert time.monotonic() - start < 15  # it took 22 s of retries before


# --------------------------------------------------------------------------------- 3. file modes


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "shared"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_shareable_files_follow_the_umask_and_secrets_are_owner_only(
    tmp_path: Path, mask: int, shared: int
) -> None:
    with _umask(mask):
        write_text_atomic(tmp_path / "report.md", "# report\n")
        write_text_atomic(tmp_path / "token.txt", "secret\n", private=True)
        fd, name = open_temp(tmp_path, ".x.")
        os.close(fd)
        folder = temp_dir(tmp_path, ".corpus.")
    assert _mode(tmp_path / "report.md") == shared
    assert _mode(tmp_path / "token.txt") == 0o600
    assert _mode(Path(name)) == shared
    assert _mode(folder) == 0o777 & ~mask  # folders: 0777 less the umask


def test_run_manifest_and_rows_follow_the_umask(tmp_path: Path) -> None:
    from annotation import annotate_rules

    with _umask(0o022):
        annotate_rules(bundled_sample(), "mathdial-moves", out=tmp_path / "run")
    assert _mode(tmp_path / "run" / "manifest.json") == 0o644  # was 0600 (mkstemp)
    assert _mode(tmp_path / "run" / "annotations.jsonl") == 0o644


def test_irr_report_follows_the_umask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    with _umask(0o022):
        code, _, _ = run_cli(["irr", str(saved), "-o", str(tmp_path / "irr.md")], capsys)
    assert code == 0
    assert _mode(tmp_path / "irr.md") == 0o644


def test_deid_key_is_owner_only_even_with_an_open_umask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = bundled_sample().save(tmp_path / "demo.corpus")
    key = tmp_path / "private" / "map.json"
    key.parent.mkdir()
    key.write_text("{}", encoding="utf-8")
    key.chmod(0o644)  # an old, readable key is replaced by an owner-only one
    with _umask(0o000):
        args = ["deid", str(saved), "-o", str(tmp_path / "clean"), "--keep-map", str(key)]
        code, _, _ = run_cli(args, capsys)
    assert code == 0
    assert _mode(key) == 0o600
    corpus_files = [p for p in (tmp_path / "clean").iterdir() if p.is_file()]
    assert corpus_files and all(_mode(p) == 0o666 for p in corpus_files)  # the umask's


# ------------------------------------------------------------------- 4. info: wide when piped


def test_info_prints_whole_tables_when_not_a_terminal(tmp_path: Path) -> None:
    base = bundled_sample()
    long_name = "district_seven_middle_school_math_tutoring_2024"

    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(corpus=long_name)

    corpus = Corpus(rename(base.dialogues), rename(base.turns), rename(base.annotations))
    saved = corpus.save(tmp_path / "wide.corpus")
    res = CliRunner().invoke(cli, ["info", str(saved)])
    assert res.exit_code == 0, res.output
    assert "…" not in res.output  # no cell cut ("163.…")
    rows = [line for line in res.output.splitlines() if line.lstrip().startswith(long_name)]
    assert rows and max(len(line) for line in rows) > 120  # wider than the 80 columns of a pipe
    assert any(line.rstrip().endswith("0.61") for line in rows)  # the last column is whole
