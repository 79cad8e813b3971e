"""Running the ``edudial`` CLI inside a test: exit code and captured output, never a traceback."""

from __future__ import annotations

import pytest

from toolkit.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``edudial ARGS`` in this process: its exit code, standard output and standard error."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
