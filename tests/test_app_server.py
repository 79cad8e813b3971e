"""The coding app as a real server process: concurrent coders, tokens, ``kill -9`` and restart."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from tests.app_support import Server, form_fields, post_label, small_corpus, write_rubric
from toolkit.io import read_corpus

CODERS = ["c1", "c2", "c3", "c4", "c5"]
LABELS = ["focus", "probing", "telling", "generic"]


def _order(store: Path, coder: str) -> list[str]:
    """The coder's unit ids by position, read from the store (the test's own view of it)."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT unit_id FROM assignment WHERE coder = ? ORDER BY pos", (coder,)
        ).fetchall()
    return [u for (u,) in rows]


def _choice(coder: str, pos: int) -> int:
    return (pos * 7 + CODERS.index(coder) if coder in CODERS else pos) % len(LABELS)


def _code(server: Server, store: Path, coder: str, positions: range) -> int:
    """POST one label per position through the HTTP API; returns how many were accepted."""
    http = requests.Session()
    token = server.urls[coder].partition("?")[2]
    page = http.get(f"{server.base}/code/{coder}/1" + (f"?{token}" if token else ""), timeout=60)
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    units = _order(store, coder)
    accepted = 0
    for pos in positions:
        target = f"{server.base}/code/{coder}/{pos + 1}" + (f"?{token}" if token else "")
        data = {**fields, "unit": units[pos]}
        resp = post_label(http, target, data, f"0:{_choice(coder, pos)}")
        assert resp.status_code == 303, resp.text
        accepted += 1
    return accepted


@pytest.fixture()
def corpus_dir(tmp_path: Path) -> Path:
    return small_corpus(n_dialogues=200, teacher_turns=2).save(tmp_path / "toy.corpus")


def test_five_coders_2000_labels_over_http_none_lost_none_duplicated(
    tmp_path: Path, corpus_dir: Path
) -> None:
    store = tmp_path / "lab.sqlite"
    args = [str(corpus_dir), "--rubric", str(write_rubric(tmp_path)), "--coders", ",".join(CODERS)]
    args += ["--store", str(store), "--host", "0.0.0.0", "--port", "0", "--seed", "3"]
    server = Server(args, tmp_path).start()
    try:
        # beyond loopback every request needs the caller's token
        assert all("?t=" in url for url in server.urls.values())
        bare = f"{server.base}/code/c1"
        assert requests.get(bare, timeout=30).status_code == 403
        assert requests.get(f"{server.base}/static/app.css", timeout=30).status_code == 403
        wrong = server.urls["c2"].partition("?")[2]
        assert requests.get(f"{bare}?{wrong}", timeout=30).status_code == 403
        with ThreadPoolExecutor(len(CODERS)) as pool:
            done = list(pool.map(lambda c: _code(server, store, c, range(400)), CODERS))
            # a second submission of the same answers (a double click) must not duplicate
            again = list(pool.map(lambda c: _code(server, store, c, range(390, 400)), CODERS))
        assert done == [400] * 5 and again == [10] * 5
    finally:
        server.stop()
    out = tmp_path / "coded.corpus"
    from toolkit.cli.code_serve import export_labels_cmd

    res = CliRunner().invoke(
        export_labels_cmd, [str(store), "-o", str(out), "--rubric", str(write_rubric(tmp_path))]
    )
    assert res.exit_code == 0, res.output
    rows = read_corpus(out).annotations
    rows = rows[rows["rater"].isin(CODERS)]
    assert len(rows) == 2000
    assert not rows.duplicated(["rater", "unit_id", "scheme"]).any()
    for coder in CODERS:
        want = {u: LABELS[_choice(coder, pos)] for pos, u in enumerate(_order(store, coder))}
        got = dict(
            zip(
                rows.loc[rows["rater"] == coder, "unit_id"],
                rows.loc[rows["rater"] == coder, "label"],
                strict=True,
            )
        )
        assert got == want
    assert set(rows["rater_kind"]) == {"human"} and set(rows["run_id"]) == {"r1"}


def test_kill_9_then_restart_loses_nothing_and_continues(tmp_path: Path) -> None:
    corpus_dir = small_corpus().save(tmp_path / "toy.corpus")
    store = tmp_path / "lab.sqlite"
    args = [str(corpus_dir), "--rubric", str(write_rubric(tmp_path)), "--coders", "ana,ben"]
    args += ["--store", str(store), "--port", "0"]
    server = Server(args, tmp_path).start()
    try:
        assert _code(server, store, "ana", range(10)) == 10
    finally:
        server.kill9()  # no shutdown, no flush: the labels must already be on disk
    again = Server(
        [
            str(corpus_dir),
            "--rubric",
            str(write_rubric(tmp_path)),
            "--store",
            str(store),
            "--port",
            "0",
        ],
        tmp_path,
    ).start()
    try:
        assert any("(10/24 coded)" in line for line in again.lines)
        resp = requests.get(again.urls["ana"], allow_redirects=False, timeout=30)
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/code/ana/11")
        assert _code(again, store, "ana", range(10, 15)) == 5
    finally:
        again.stop()
    with sqlite3.connect(store) as db:
        got = dict(db.execute("SELECT unit_id, label FROM answers WHERE coder = 'ana'").fetchall())
    want = {u: LABELS[_choice("ana", p)] for p, u in enumerate(_order(store, "ana")[:15])}
    assert got == want


def test_verbose_request_logs_never_show_a_token(tmp_path: Path) -> None:
    corpus_dir = small_corpus().save(tmp_path / "toy.corpus")
    store = tmp_path / "lab.sqlite"
    args = [str(corpus_dir), "--rubric", str(write_rubric(tmp_path)), "--coders", "ana,ben"]
    args += ["--store", str(store), "--host", "0.0.0.0", "--port", "0", "--verbose"]
    server = Server(args, tmp_path).start()
    try:
        printed = len(server.lines)  # the URLs printed at start carry the tokens, on purpose
        ana = server.urls["ana"]
        assert requests.get(ana, timeout=30).status_code == 200
        assert requests.get(f"{server.base}/code/ana/1?t=wrong-token", timeout=30).status_code
        assert requests.get(server.urls["lead"], timeout=30).status_code == 200
        logged = server.output()[printed:]
    finally:
        server.stop()
    requests_logged = [line for line in logged if '"GET ' in line]
    assert len(requests_logged) >= 4, logged  # --verbose logs every request line ...
    tokens = [url.partition("?t=")[2] for url in server.urls.values()] + ["wrong-token"]
    assert all(tok not in line for tok in tokens for line in logged)  # ... without the tokens
    assert any("t=<redacted>" in line for line in requests_logged)


def test_the_store_is_beside_the_corpus_by_default(tmp_path: Path) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    corpus_dir = small_corpus().save(data / "toy.corpus")
    args = [str(corpus_dir), "--rubric", str(write_rubric(tmp_path)), "--coders", "ana,ben"]
    server = Server([*args, "--port", "0"], elsewhere).start()
    server.stop()
    want = data / "toy-moves-r1.coding.sqlite"
    assert want.is_file() and list(elsewhere.iterdir()) == []
    assert any(str(want) in line for line in server.lines), server.lines  # printed at start
