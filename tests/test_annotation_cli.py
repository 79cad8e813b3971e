"""``edudial annotate`` / ``edudial rubric`` end to end, incl. kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.test_annotation_engine import KEY, toy_corpus
from toolkit import read_annotations
from toolkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    srv = FakeOpenAI().start()
    srv.add_rule(r">>> \[teacher\] Why", "probing")
    yield srv
    srv.stop()


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return toy_corpus(30).save(tmp_path / "toy.corpus", format="jsonl")


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, key: str = KEY) -> int:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_annotate_writes_rows_readable_by_toolkit(
    server: FakeOpenAI,
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(out),
            "--base-url",
            server.url,
            "--limit",
            "10",
            "--concurrency",
            "3",
        ],
        monkeypatch,
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "completed: 10 ok" in text and "requests 10" in text
    ann = read_annotations(out / "annotations.jsonl")
    assert len(ann) == 10 and set(ann.rater_kind) == {"model"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["endpoint"] == server.url and KEY not in json.dumps(manifest)
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(out),
            "--base-url",
            server.url,
            "--limit",
            "10",
        ],
        monkeypatch,
    )
    assert rc == 0 and server.requests == 10
    assert "requests 0" in capsys.readouterr().out


def test_dry_run_sends_nothing(
    server: FakeOpenAI,
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(tmp_path / "run"),
            "--base-url",
            server.url,
            "--dry-run",
        ],
        monkeypatch,
    )
    assert rc == 0 and server.requests == 0
    text = capsys.readouterr().out
    assert "items: 60 (0 already done, 60 pending)" in text
    assert "heuristic" in text and "$" in text
    assert not (tmp_path / "run").exists()


def test_auth_error_is_one_line_exit_2(
    server: FakeOpenAI,
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.api_key = "sk-the-right-one"
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(tmp_path / "run"),
            "--base-url",
            server.url,
        ],
        monkeypatch,
        key="sk-wrong-1",
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: the endpoint refused the API key")
    assert "Traceback" not in err and "sk-wrong-1" not in err


def test_rubric_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(["rubric", "list"], monkeypatch) == 0
    assert "sight-feedback" in capsys.readouterr().out
    assert _cli(["rubric", "show", "mathdial-moves", "--guide"], monkeypatch) == 0
    guide = capsys.readouterr().out
    assert guide.startswith("# MathDial teacher moves — coding guide")
    assert "### `probing`" in guide
    assert _cli(["rubric", "show", "talkmoves"], monkeypatch) == 0
    shown = capsys.readouterr().out
    assert "9 - Press for Reasoning" in shown and '"json_schema"' in shown
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: 1\ndescription: d\nscheme: s\nlabels:\n"
        "  - name: a\n    definition: A\n  - name: b\n",
        encoding="utf-8",
    )
    assert _cli(["rubric", "check", str(bad)], monkeypatch) == 2
    assert "field 'labels.1.definition'" in capsys.readouterr().err


def test_user_rubric_file(
    server: FakeOpenAI, corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.rules.clear()  # labels chosen from this rubric's enum by the fake
    rub = tmp_path / "mine.yaml"
    rub.write_text(
        "id: questions\nversion: '0.1'\ndescription: Is the teacher asking a question?\n"
        "scheme: mine/question\napplies_to: {roles: [teacher]}\n"
        "labels:\n  - {name: question, definition: asks something}\n"
        "  - {name: statement, definition: says something}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            str(rub),
            "-o",
            str(out),
            "--base-url",
            server.url,
            "--limit",
            "4",
        ],
        monkeypatch,
    )
    assert rc == 0
    ann = read_annotations(out / "annotations.jsonl")
    assert set(ann.scheme) == {"mine/question"}
    assert set(ann.label) <= {"question", "statement"}
    assert set(ann.rater) == {"gpt-4o-mini@questions@0.1"}


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]


def test_kill_9_then_rerun_finishes_only_the_rest(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    # 0.25 s per request at concurrency 2: the full run takes ~8 s, so the kill after 8 rows
    # lands mid-run even when this machine is busy.
    with FakeOpenAI(latency=0.25) as srv:
        cmd = [
            sys.executable,
            "-c",
            "import sys; from toolkit.cli import main; main(sys.argv[1:])",
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(out),
            "--base-url",
            srv.url,
            "--concurrency",
            "2",
            "--no-progress",
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(_lines(out / "annotations.jsonl")) < 8 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = {r["meta"]["item_key"] for r in _lines(out / "annotations.jsonl")}
        assert 8 <= len(before) < 60
        first_run_requests = srv.requests
        srv.reset()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        rows = _lines(out / "annotations.jsonl")
        keys = [r["meta"]["item_key"] for r in rows]
        assert len(keys) == len(set(keys)) == 60  # nothing lost, nothing duplicated
        # the rerun asked only for items not written before the kill
        texts = _texts(corpus_dir)
        done_texts = {texts[k.split("\x1f")[1]] for k in before}
        targets = [
            b["messages"][1]["content"].split(">>> [teacher] ")[1].strip() for b in srv.chat_bodies
        ]
        assert targets and not set(targets) & done_texts
        # nothing is requested twice except what was in flight at the kill (<= concurrency)
        assert first_run_requests + srv.requests <= 60 + 2
        assert KEY.encode() not in b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())


def _texts(corpus_dir: Path) -> dict[str, str]:
    recs = [json.loads(x) for x in (corpus_dir / "turns.jsonl").read_text().splitlines()]
    return {r["turn_id"]: r["text"] for r in recs}


@pytest.mark.realdata
def test_mathdial_labels_line_up_with_human_labels(
    data_dir: Path, server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import corpus_path

    src = corpus_path(data_dir, "mathdial")
    out = tmp_path / "run"
    rc = _cli(
        [
            "annotate",
            f"mathdial:{src}",
            "--rubric",
            "mathdial-moves",
            "-o",
            str(out),
            "--base-url",
            server.url,
            "--limit",
            "25",
        ],
        monkeypatch,
    )
    assert rc == 0
    import corpora

    corpus = corpora.load("mathdial", src)
    human = corpus.annotations[corpus.annotations.scheme == "mathdial/move"]
    model = read_annotations(out / "annotations.jsonl")
    assert len(model) == 25
    assert set(model.unit_id) <= set(human.unit_id)  # same unit ids as the human labels
    assert set(model.scheme) == set(human.scheme) == {"mathdial/move"}
    assert set(model.label) <= set(human.label)  # same vocabulary
    merged = corpus.with_annotations(model).validate()
    assert len(merged.annotations) == len(corpus.annotations) + 25
    first = server.chat_bodies[0]["messages"][1]["content"]
    q = corpus.dialogues.meta.iloc[0]["question"]
    assert f"question: {q.strip()[:40]}" in first


@pytest.mark.realdata
def test_sight_labels_line_up_with_human_labels(
    data_dir: Path, server: FakeOpenAI, tmp_path: Path
) -> None:
    import corpora
    from annotation import annotate
    from tests.conftest import corpus_path
    from toolkit import Corpus

    full = corpora.load("sight", corpus_path(data_dir, "sight"), transcripts=False)
    human = full.annotations[full.annotations.rater == "H1"]
    units = list(dict.fromkeys(human.unit_id))[:3]
    turns = full.turns[full.turns.turn_id.isin(units)]
    dialogues = full.dialogues[full.dialogues.dialogue_id.isin(turns.dialogue_id)]
    corpus = Corpus(dialogues, turns, full.annotations[full.annotations.unit_id.isin(units)])
    res = annotate(
        corpus,
        "sight-feedback",
        model="gpt-4o-mini",
        out=tmp_path / "run",
        base_url=server.url,
        api_key=KEY,
    )
    model = res.annotations
    assert len(model) == 27 and server.requests == 27
    pairs = set(zip(model.unit_id, model.scheme, strict=True))
    human_pairs = set(zip(human.unit_id, human.scheme, strict=True))
    assert pairs <= human_pairs  # same units, same schemes as H1 (bookmark excluded)
    assert set(model.label) <= set(human.label) == {"0", "1"}
    corpus.with_annotations(model).validate()
    first = server.chat_bodies[0]["messages"][1]["content"]
    assert "video_name: " in first and "playlist_name: " in first


def test_save_corpus_feeds_edudial_irr(
    server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pandas as pd

    corpus = toy_corpus(10)
    teacher = corpus.turns[corpus.turns.role == "teacher"]
    human = pd.DataFrame(
        {
            "corpus": "toy",
            "unit_id": teacher.turn_id,
            "scheme": "mathdial/move",
            "label": ["generic" if "Hi Sam" in x else "probing" for x in teacher.text],
            "rater": "teacher",
            "rater_kind": "human",
            "run_id": None,
            "meta": [{} for _ in range(len(teacher))],
        }
    )
    src = corpus.with_annotations(human).validate().save(tmp_path / "c", format="jsonl")
    server.add_rule(r">>> \[teacher\] Hi", "generic")
    merged = tmp_path / "merged"
    assert (
        _cli(
            [
                "annotate",
                str(src),
                "--rubric",
                "mathdial-moves",
                "-o",
                str(tmp_path / "run"),
                "--base-url",
                server.url,
                "--save-corpus",
                str(merged),
            ],
            monkeypatch,
        )
        == 0
    )
    from toolkit import read_corpus

    both = read_corpus(merged)
    assert sorted(set(both.annotations.rater)) == ["gpt-4o-mini@mathdial-moves@1.0", "teacher"]
    capsys.readouterr()
    if not (ROOT / "toolkit" / "cli" / "irr.py").exists():
        pytest.skip("edudial irr is not available")
    rc = _cli(
        [
            "irr",
            str(merged),
            "--scheme",
            "mathdial/move",
            "--humans",
            "teacher",
            "--models",
            "gpt-4o-mini@mathdial-moves@1.0",
            "--bootstrap",
            "0",
        ],
        monkeypatch,
    )
    report = capsys.readouterr().out
    assert rc == 0
    # the fake answers exactly the human label for every turn: perfect agreement on 20 units
    assert "| teacher vs gpt-4o-mini@mathdial-moves@1.0 | 20 | 1.000" in report


def test_rerun_with_save_corpus_resumes_and_rewrites_its_own_corpus(
    server: FakeOpenAI,
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from toolkit import read_corpus

    saved, out = tmp_path / "toy+model.corpus", tmp_path / "run"
    base = ["annotate", str(corpus_dir), "--rubric", "mathdial-moves", "--base-url", server.url]
    args = [*base, "-o", str(out), "--save-corpus", str(saved)]
    model = "gpt-4o-mini@mathdial-moves@1.0"

    def labelled() -> int:
        ann = read_corpus(saved).annotations
        return int((ann.rater == model).sum())

    assert _cli([*args, "--limit", "10"], monkeypatch) == 0  # a first, partial run
    assert labelled() == 10
    capsys.readouterr()
    assert _cli(args, monkeypatch) == 0  # the same command again: resumes, rewrites its corpus
    text = capsys.readouterr().out
    assert "completed: 60 ok" in text and "requests 50 " in text and f"-> {saved}" in text
    assert labelled() == 60
    assert _cli(args, monkeypatch) == 0  # complete: zero requests, the same corpus
    assert "requests 0 " in capsys.readouterr().out and labelled() == 60

    # a corpus this run did not write, or one changed since (here: by hand), needs --force
    other = tmp_path / "other"
    assert _cli([*base, "-o", str(other), "--save-corpus", str(saved)], monkeypatch) == 2
    assert "was not saved by the run in" in capsys.readouterr().err
    (saved / "manifest.json").write_text("{}\n", encoding="utf-8")
    assert _cli(args, monkeypatch) == 2
    assert "was changed since this run saved it" in capsys.readouterr().err
    assert _cli([*args, "--force"], monkeypatch) == 0 and labelled() == 60
    assert _cli(args, monkeypatch) == 0  # --force recorded it as this run's again
