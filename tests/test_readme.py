"""Every shell command of README.md runs as written, in order, so the tour cannot drift.

The ```bash blocks of README.md are one walk-through: each command runs in the same temporary
directory (the working directory), in README order, against the real corpora in
``$EDUDIAL_DATA``, and the test fails on the first command that exits non-zero, naming its README
line. Commands run in this process through ``toolkit.cli.main`` (the ``edudial`` entry point)
rather than in a shell, to pay Python's start-up once; this module is the shell, and it handles
explicitly, and only:

- ``\\`` line continuations (joined) and ``#`` comments (dropped; a full-line comment listed in
  :data:`HUMAN_STEPS` stands for a person's work, e.g. filling the coding workbooks, which the
  test does in their place);
- ``export NAME=VALUE`` (set for the later commands; a placeholder value is replaced from
  :data:`PLACEHOLDERS`, e.g. the API key);
- ``$NAME`` (from the environment), ``*`` globs (sorted, relative to the working directory) and
  ``> FILE`` (standard output written to FILE);
- lines not run, each with its reason, in :data:`NOT_RUN` (``pip install``, ``python -m pytest``,
  the ``edudial code serve`` web server); any other line must be an ``edudial`` command, and a
  ``...`` left in one fails the test.

A ```yaml block whose first line is ``# NAME.yaml`` is a file the README asks the reader to save:
it is written to NAME.yaml before the commands after it. The reader's own files the README
mentions (``lessons.csv``, ``names.csv``, ``ratings.csv``) are made up here (:data:`USER_FILES`).
Every OpenAI request goes to the fake server of ``tests/fake_openai.py``: ``OPENAI_BASE_URL``
(which ``edudial annotate`` honours) points at it, and an explicit ``--base-url`` (the README's
vLLM example) is rewritten to it; the fake answers with a label of the rubric's answer schema.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openai import FakeOpenAI
from toolkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(?P<lang>bash|yaml)[^\n]*\n(?P<code>.*?)^```", re.S | re.M)
CORPUS_REF = re.compile(r"\$EDUDIAL_DATA/(\w+)")
API_KEY = "sk-readme-test-dummy"

#: README lines the test does not run, with the reason.
NOT_RUN = {
    'pip install -e ".[dev]" && edudial demo': "already installed; `edudial demo` (twice in a row) "
    "is tests/test_demo.py",
    "python -m pytest": "the test suite itself (no pytest inside pytest)",
    "edudial code serve": "a web server that runs until Ctrl-C; the coding app is "
    "tests/test_app_*.py",
}

#: ``export NAME=...`` placeholders and the value the test uses instead.
PLACEHOLDERS = {"OPENAI_API_KEY": API_KEY}


def _teacher_labels(corpus: str) -> dict[str, str]:
    from toolkit import read_corpus

    ann = read_corpus(corpus).annotations
    rows = ann[(ann.rater == "teacher") & (ann.scheme == "mathdial/move")]
    return dict(zip(rows.unit_id, rows.label, strict=True))


def _columns(sheet: Any) -> dict[str, int]:
    header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True))
    return {str(name): i + 1 for i, name in enumerate(header) if name is not None}


def fill_coding_workbooks(cwd: Path) -> None:
    """ana codes like MathDial's teachers; ben too, except every fifth unit (the next label)."""
    import openpyxl

    import annotation

    labels = [lab.name for lab in annotation.load_rubric("mathdial-moves").labels]
    source = _teacher_labels("md+model.corpus")
    for coder, every in (("ana", 0), ("ben", 5)):
        path = cwd / "coding" / f"{coder}.xlsx"
        book = openpyxl.load_workbook(path)
        sheet = book["Code"]
        col = _columns(sheet)
        for row in range(2, sheet.max_row + 1):
            label = source[sheet.cell(row, col["unit_id"]).value]
            if every and row % every == 0:
                label = labels[(labels.index(label) + 1) % len(labels)]
            sheet.cell(row, col["label"]).value = label
        book.save(path)


def fill_adjudication(cwd: Path) -> None:
    """The adjudicator decides every disagreement for ana's label."""
    import openpyxl

    path = cwd / "adjudicate.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    col = _columns(sheet)
    final = next(c for name, c in col.items() if name.startswith("final"))
    ana = next(c for name, c in col.items() if "ana" in name)
    assert sheet.max_row > 1, "adjudicate.xlsx lists no disagreement"
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, final).value = sheet.cell(row, ana).value
    book.save(path)


#: Full-line README comments that stand for a person's work, and what the test does instead.
HUMAN_STEPS: dict[str, Callable[[Path], None]] = {
    "#   ... ana and ben fill coding/ana.xlsx and coding/ben.xlsx ...": fill_coding_workbooks,
    "#   ... the adjudicator fills the final labels of adjudicate.xlsx ...": fill_adjudication,
}

_LESSON = [  # (speaker, role, text, code)
    ("Ann Lee", "teacher", "Good morning everyone. Maya, can you read the first problem?", "other"),
    ("Maya Patel", "student", "Three fifths of the class walk to school. What fraction don't?", ""),
    ("Ann Lee", "teacher", "What do you notice about the denominator?", "question"),
    ("Leo Chen", "student", "It's five, so the whole class is five fifths.", ""),
    ("Ann Lee", "teacher", "Yes, Leo, that's right: the whole is five fifths.", "feedback"),
    ("Ann Lee", "teacher", "So we take three fifths away from five fifths.", "explain"),
    ("Maya Patel", "student", "Two fifths don't walk.", ""),
    ("Ann Lee", "teacher", "Why do you subtract, Maya?", "question"),
    ("Maya Patel", "student", "Because the walkers are part of the whole class.", ""),
    ("Ann Lee", "teacher", "Exactly. Open your books at page twelve, please.", "other"),
]
_LESSON_2 = [
    ("Tom Baker", "teacher", "Hello again. Who can tell me what a ratio is?", "question"),
    ("Sara Novak", "student", "It compares two amounts, like 2 to 3.", ""),
    ("Tom Baker", "teacher", "Good, Sara. A ratio compares two quantities.", "feedback"),
    ("Tom Baker", "teacher", "With 4 cats and 6 dogs the ratio is 4 to 6, or 2 to 3.", "explain"),
    ("Leo Chen", "student", "Is 2 to 3 the same as 4 to 6?", ""),
    ("Tom Baker", "teacher", "What do you think, Leo? Try dividing both by two.", "question"),
    ("Leo Chen", "student", "Yes, they are the same.", ""),
    ("Tom Baker", "teacher", "Well done. Now the homework for Friday.", "other"),
]


def _lessons_csv() -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["lesson", "speaker", "role", "text", "coder_a", "coder_b"])
    for lesson, rows in (("fractions-1", _LESSON), ("ratios-1", _LESSON_2)):
        for i, (speaker, role, text, code) in enumerate(rows):
            other = {"question": "feedback", "explain": "explain", "feedback": "feedback"}
            code_b = other.get(code, code) if i % 4 == 2 else code  # B differs now and then
            writer.writerow([lesson, speaker, role, text, code, code_b])
    return buf.getvalue()


def _ratings_csv() -> str:
    rows = ["item,r1,r2,r3"]
    for i in range(1, 25):
        r1 = 1 + i % 5
        r2 = min(5, r1 + (i % 3 == 0))
        r3 = max(1, r1 - (i % 4 == 0))
        rows.append(f"q{i},{r1},{r2},{r3}")
    return "\n".join(rows) + "\n"


#: The reader's own files the README uses (a small lesson spreadsheet, its roster, ratings).
USER_FILES: dict[str, Callable[[], str]] = {
    "lessons.csv": _lessons_csv,
    "names.csv": lambda: (
        "name,role\nAnn Lee,teacher\nTom Baker,teacher\nMaya Patel,student\n"
        "Leo Chen,student\nSara Novak,student\n"
    ),
    "ratings.csv": _ratings_csv,
}


@dataclass
class Step:
    """One README line (continuations joined): a command, a file to write, or a human step."""

    line: int
    text: str
    kind: str  # "command", "file", "human", "not_run"
    content: str = ""


def readme_steps(text: str) -> list[Step]:
    """The steps of README ``text`` in order (see the module docstring)."""
    steps: list[Step] = []
    for m in BLOCK.finditer(text):
        first = text.count("\n", 0, m.start("code")) + 1
        code = m.group("code")
        if m.group("lang") == "yaml":
            head = code.split("\n", 1)[0]
            name = re.fullmatch(r"#\s*([\w.+-]+\.ya?ml)\s*", head)
            if name:
                steps.append(Step(first, name.group(1), "file", code))
            continue
        lines = code.split("\n")
        i = 0
        while i < len(lines):
            start, cur = i, lines[i]
            while cur.endswith("\\") and i + 1 < len(lines):
                i += 1
                cur = cur[:-1] + " " + lines[i].strip()
            i += 1
            stripped = cur.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                if cur in HUMAN_STEPS:
                    steps.append(Step(first + start, cur, "human"))
                continue
            kind = "not_run" if any(stripped.startswith(k) for k in NOT_RUN) else "command"
            steps.append(Step(first + start, stripped, kind))
    return steps


def test_every_readme_line_is_understood() -> None:
    """No placeholder, non-edudial command or unmapped line slips through (no corpora needed)."""
    steps = readme_steps(README.read_text(encoding="utf-8"))
    commands = [s for s in steps if s.kind == "command"]
    assert len(commands) >= 25, "the README's bash blocks were not found"
    assert {s.text for s in steps if s.kind == "human"} == set(HUMAN_STEPS)
    assert {k for k in NOT_RUN if any(s.text.startswith(k) for s in steps)} == set(NOT_RUN)
    for s in commands:
        words = shlex.split(s.text, comments=True)
        assert words[0] in {"edudial", "export"}, f"README.md:{s.line}: cannot run {s.text!r}"
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            assert value != "..." or name in PLACEHOLDERS, f"README.md:{s.line}: {s.text!r}"
        else:
            assert "..." not in words, f"README.md:{s.line}: placeholder in {s.text!r}"


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def _run(
    step: Step,
    cwd: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    """Run one README command in this process: its exit code and output."""
    words = shlex.split(step.text, comments=True)
    if words[0] == "export":
        name, _, value = words[1].partition("=")
        monkeypatch.setenv(name, PLACEHOLDERS[name] if value == "..." else value)
        return 0, ""
    assert words[0] == "edudial"
    redirect = None
    if ">" in words:
        at = words.index(">")
        redirect, words = cwd / words[at + 1], words[:at] + words[at + 2 :]
    args: list[str] = []
    for word in words[1:]:
        word = os.path.expandvars(word)
        assert "$" not in word, f"README.md:{step.line}: unset variable in {word!r}"
        if "*" in word:
            matches = sorted(glob.glob(word, root_dir=cwd))
            assert matches, f"README.md:{step.line}: {word!r} matches no file"
            args.extend(matches)
        else:
            args.append(word)
    if "--base-url" in args:  # the README's own server (vLLM, Ollama, ...): the fake instead
        args[args.index("--base-url") + 1] = url
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    if redirect is not None:
        redirect.write_text(out, encoding="utf-8")
    return code, out + err


def test_readme_commands_run_in_order(
    fake_server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = os.environ.get("EDUDIAL_DATA")
    if not data:
        pytest.skip("EDUDIAL_DATA is not set: the README's tour reads the shared corpora")
    text = README.read_text(encoding="utf-8")
    for name in sorted(set(CORPUS_REF.findall(text))):
        if not (Path(data) / name).is_dir():
            pytest.skip(f"the README's tour reads {name}, which is not in EDUDIAL_DATA={data}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDUDIAL_DATA", str(Path(data).resolve()))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)  # in case the README's export moves
    monkeypatch.delenv("EDUDIAL_MODEL", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name, make in USER_FILES.items():
        (tmp_path / name).write_text(make(), encoding="utf-8")
    done: set[str] = set()
    for step in readme_steps(text):
        if step.kind == "not_run":
            continue
        if step.kind == "file":
            (tmp_path / step.text).write_text(step.content, encoding="utf-8")
            continue
        if step.kind == "human":
            HUMAN_STEPS[step.text](tmp_path)
            continue
        code, output = _run(step, tmp_path, fake_server.url, monkeypatch, capsys)
        assert code == 0, f"README.md:{step.line}: `{step.text}` exited {code}:\n{output[-3000:]}"
        if step.text.startswith("edudial annotate") and step.text in done:
            # "Run the same command again. ... A second complete run sends zero requests."
            assert "requests 0 " in output, f"README.md:{step.line}: the rerun sent requests"
        done.add(step.text)
    assert fake_server.requests > 0, "no README command reached the fake OpenAI server"
