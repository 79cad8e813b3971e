"""The Batch API flow (annotation.batch, `annotate --batch`, `edudial batch`) against the fake."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation import annotate, batch_status, cancel_batch, collect_batch, submit_batch
from annotation.batch import custom_id
from annotation.transport import FatalError
from tests.fake_openai import FakeOpenAI, count_tokens
from tests.test_annotation_engine import KEY, MOVES, toy_corpus
from toolkit import InputError, read_annotations
from toolkit.cli import main

RUBRIC = "mathdial-moves"
MODEL = "gpt-4o-mini"
#: USD per 1M tokens, chosen for the test (not the built-in table).
PRICES = {MODEL: {"input": 1.0, "cached_input": 0.5, "output": 3.0}}


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    srv = FakeOpenAI(api_key=KEY).start()
    srv.add_rule(r">>> \[teacher\] Hi", "generic")
    srv.add_rule(r">>> \[teacher\] Why", "probing")
    yield srv
    srv.stop()


def _submit(srv: FakeOpenAI, out: Path, n: int = 6, **kw: Any) -> Any:
    kw.setdefault("prices", PRICES)
    return submit_batch(
        toy_corpus(n), RUBRIC, model=MODEL, out=out, base_url=srv.url, api_key=KEY, **kw
    )


def _collect(out: Path, **kw: Any) -> Any:
    return collect_batch(out, api_key=KEY, **kw)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _rows(out: Path) -> list[dict[str, Any]]:
    return _lines(out / "annotations.jsonl")


def _finish(out: Path) -> None:
    """Poll until every uploaded batch reached a final state (the fake needs two polls)."""
    for _ in range(3):
        batch_status(out, api_key=KEY)


def _no_key_anywhere(out: Path) -> None:
    for p in out.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p


def test_submit_writes_the_synchronous_bodies(server: FakeOpenAI, tmp_path: Path) -> None:
    sub = _submit(server, tmp_path / "b")
    assert sub.status == "submitted" and sub.requests == 12  # 6 dialogues x 2 teacher turns
    lines = _lines(sub.input_files[0])
    assert {x["method"] for x in lines} == {"POST"}
    assert {x["url"] for x in lines} == {"/v1/chat/completions"}
    ids = [x["custom_id"] for x in lines]
    assert len(set(ids)) == len(ids) == 12
    # what the synchronous engine sends for the same settings
    annotate(
        toy_corpus(6), RUBRIC, model=MODEL, out=tmp_path / "sync", base_url=server.url, api_key=KEY
    )
    canon = sorted(json.dumps(b, sort_keys=True) for b in server.chat_bodies)
    assert sorted(json.dumps(x["body"], sort_keys=True) for x in lines) == canon
    # uploaded with purpose batch; batch created with the rubric and run id as metadata
    ((fid, f),) = server.files.items()
    assert f["meta"]["purpose"] == "batch" and f["data"].decode() == (
        sub.input_files[0].read_text()
    )
    batch = server.batches[sub.batch_ids[0]]["obj"]
    assert batch["completion_window"] == "24h" and batch["endpoint"] == "/v1/chat/completions"
    assert batch["metadata"] == {
        "rubric": "mathdial-moves@1.0",
        "run_id": sub.run_id,
        "edudial_input": "input-0001.jsonl",
    }
    man = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert man["status"] == "batch_submitted"
    # the batch run describes its rubric exactly as the synchronous run does
    sync = json.loads((tmp_path / "sync" / "manifest.json").read_text())
    assert man["rubric"] == sync["rubric"]
    assert man["rubric"]["category_orders"] == {
        "mathdial/move": ["focus", "probing", "telling", "generic"]
    }
    assert man["batch"]["batches"][0]["id"] == sub.batch_ids[0]
    assert man["batch"]["batches"][0]["input_file_id"] == fid
    # custom ids are stable: a second submission into a fresh directory gives the same ones
    sub2 = _submit(server, tmp_path / "b2")
    assert [x["custom_id"] for x in _lines(sub2.input_files[0])] == ids
    # and nothing is resubmitted while the first batch is waiting
    again = _submit(server, tmp_path / "b")
    assert again.status == "nothing_to_submit" and again.skipped_pending == 12
    _no_key_anywhere(tmp_path / "b")


def test_status_advances_and_collect_waits(server: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "b"
    sub = _submit(server, out, n=2)
    assert sub.batches[0]["status"] == "validating"
    res = _collect(out)  # this poll moves the batch to in_progress: nothing to merge yet
    assert res.status == "batch_in_progress" and res.pending[0]["status"] == "in_progress"
    assert res.written == {"ok": 0, "invalid": 0, "error": 0}
    assert not (out / "annotations.jsonl").read_text()
    assert [r["status"] for r in batch_status(out, api_key=KEY)] == ["completed"]
    res = _collect(out)
    assert res.status == "completed" and res.written["ok"] == 4 and res.pending == []
    assert [r["collected"] for r in batch_status(out, api_key=KEY)] == [True]


def test_collect_failures_resubmit_and_sync_cache(server: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "b"
    corpus = toy_corpus(6)
    failing = {custom_id(it) for it in _items(corpus) if it.unit_id in ("d1:0", "d3:2")}
    server.batch_fail = failing
    sub = _submit(server, out)
    _finish(out)
    res = _collect(out)
    assert res.written == {"ok": 10, "invalid": 0, "error": 2}
    rows = {r["unit_id"]: r for r in _rows(out)}
    assert len(rows) == 12
    for uid, r in rows.items():
        meta = r["meta"]
        assert meta["batch_id"] == sub.batch_ids[0] and meta["custom_id"].startswith(uid)
        if uid in ("d1:0", "d3:2"):
            assert meta["status"] == "error" and r["label"] is None
            assert meta["error"] == "batch_fake_failure" and "failed (fake)" in meta["reason"]
        else:
            # the fake's rules: "Hi ..." turns (index 0) generic, "Why ..." turns probing
            assert r["label"] == ("generic" if uid.endswith(":0") else "probing")
            assert meta["status"] == "ok" and meta["provenance"]["request_ids"]
            assert meta["usage"]["requests"] == 1 and meta["cache_hit"] is False
    assert any("resubmit" in n for n in res.notes)
    # rerunning the --batch command resubmits exactly the failed items
    server.batch_fail = set()
    again = _submit(server, out)
    assert again.requests == 2 and again.skipped_done == 10
    assert {x["custom_id"] for x in _lines(again.input_files[0])} == failing
    _finish(out)
    res = _collect(out)
    assert res.status == "completed" and res.written == {"ok": 2, "invalid": 0, "error": 0}
    ann = read_annotations(out / "annotations.jsonl")
    assert len(ann) == 12 and set(ann["label"]) <= MOVES and ann["label"].notna().all()
    # the synchronous path of the same command now sends nothing
    server.reset()
    sync = annotate(
        corpus, RUBRIC, model=MODEL, out=out, base_url=server.url, api_key=KEY, prices=PRICES
    )
    assert sync.status == "completed" and server.chat_bodies == [] and sync.usage.requests == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["batch"]["usage"]["requests"] == 12  # 10 + 2 resubmitted; failed lines unbilled
    # and a fresh synchronous run elsewhere gives the same labels (same bodies, same answers)
    fresh = annotate(
        corpus, RUBRIC, model=MODEL, out=tmp_path / "sync", base_url=server.url, api_key=KEY
    )
    a = fresh.annotations.set_index("unit_id")["label"].sort_index()
    b = ann.set_index("unit_id")["label"].sort_index()
    assert a.equals(b)
    _no_key_anywhere(out)


def _items(corpus: Any) -> list[Any]:
    from annotation import iter_items, load_rubric

    return list(iter_items(corpus, load_rubric(RUBRIC)))


def test_batch_discount_in_cost(server: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "b"
    sub = _submit(server, out, n=3)
    _finish(out)
    res = _collect(out)
    # expected tokens computed from the input file with the fake's documented counting rule
    prompt = sum(
        count_tokens(m["content"])
        for x in _lines(sub.input_files[0])
        for m in x["body"]["messages"]
    )
    completion = sum(count_tokens(r["meta"]["raw"]) for r in _rows(out))
    assert (res.usage.prompt_tokens, res.usage.completion_tokens) == (prompt, completion)
    full = (prompt * 1.0 + completion * 3.0) / 1e6
    assert res.cost_undiscounted == pytest.approx(full)
    assert res.cost == pytest.approx(full * 0.5)
    man = json.loads((out / "manifest.json").read_text())["batch"]
    assert man["price_multiplier"] == 0.5 and man["cost_usd"] == pytest.approx(full * 0.5)


def _vllm_results(input_file: Path, label: dict[str, str], fail: set[str]) -> list[str]:
    """Output lines in vLLM run-batch format, built here independently of edudial."""
    out = []
    for i, x in enumerate(_lines(input_file)):
        cid = x["custom_id"]
        if cid in fail:
            out.append(
                json.dumps(
                    {
                        "id": f"vllm-{i}",
                        "custom_id": cid,
                        "response": {
                            "status_code": 400,
                            "request_id": f"r{i}",
                            "body": {
                                "error": {"message": "prompt too long", "type": "BadRequestError"}
                            },
                        },
                        "error": None,
                    }
                )
            )
            continue
        content = json.dumps({"label": label.get(cid, "telling"), "rationale": "r"})
        body = {
            "id": f"cmpl-{i}",
            "object": "chat.completion",
            "created": 0,
            "model": "served-model",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "logprobs": None,
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        }
        out.append(
            json.dumps(
                {
                    "id": f"vllm-{i}",
                    "custom_id": cid,
                    "response": {"status_code": 200, "request_id": f"r{i}", "body": body},
                    "error": None,
                }
            )
        )
    random.Random(3).shuffle(out)
    return out


def test_file_only_and_from_file_merge(server: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "b"
    sub = _submit(server, out, n=3, submit=False)
    assert sub.status == "written" and sub.batches[0]["kind"] == "file" and not server.files
    ids = [x["custom_id"] for x in _lines(sub.input_files[0])]
    bad, fail = ids[0], ids[1]
    results = tmp_path / "results.jsonl"
    lines = _vllm_results(sub.input_files[0], {bad: "nonsense"}, {fail})
    # vLLM's own error lines: a non-200 response without body and ``error`` = its ErrorResponse
    vllm_err = ids[2]
    lines = [x for x in lines if json.loads(x)["custom_id"] != vllm_err] + [
        json.dumps(
            {
                "id": "vllm-x",
                "custom_id": vllm_err,
                "response": {"status_code": 400, "request_id": "rx", "body": None},
                "error": {
                    "object": "error",
                    "message": "bad schema",
                    "type": "BadRequestError",
                    "code": 400,
                },
            }
        )
    ]
    results.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="--from-file"):
        _collect(out)  # nothing was uploaded
    res = _collect(out, from_file=results)
    assert res.written == {"ok": 3, "invalid": 1, "error": 2}
    by_cid = {r["meta"]["custom_id"]: r for r in _rows(out)}
    assert by_cid[bad]["meta"]["status"] == "invalid" and by_cid[bad]["meta"]["reasks"] == 0
    assert by_cid[fail]["meta"]["error"] == "http_400"
    assert by_cid[fail]["meta"]["reason"] == "prompt too long"
    assert by_cid[vllm_err]["meta"]["error"] == "http_400"
    assert by_cid[vllm_err]["meta"]["reason"] == "bad schema"
    ok = [r for r in by_cid.values() if r["meta"]["status"] == "ok"]
    assert {r["label"] for r in ok} == {"telling"}
    assert {r["meta"]["provenance"]["model_served"] for r in ok} == {"served-model"}
    assert {r["meta"]["batch_results_file"] for r in ok} == {"results.jsonl"}
    assert res.usage.prompt_tokens == 400 and res.usage.completion_tokens == 40
    # merging the same file again writes nothing new (done items are skipped, not re-billed)
    res2 = _collect(out, from_file=results)
    assert res2.written["ok"] == 0 and res2.skipped == 4 and res2.usage.requests == 0
    # the synchronous run on the same endpoint only sends the two failed items
    server.reset()
    annotate(toy_corpus(3), RUBRIC, model=MODEL, out=out, base_url=server.url, api_key=KEY)
    assert len(server.chat_bodies) == 2
    _no_key_anywhere(out)


def test_results_file_errors_leave_the_run_unchanged(server: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "b"
    sub = _submit(server, out, n=2, submit=False)
    good = _vllm_results(sub.input_files[0], {}, set())
    before = (out / "annotations.jsonl").read_bytes()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(good[0] + "\n{not json\n")
    with pytest.raises(InputError) as exc:
        _collect(out, from_file=broken)
    assert str(exc.value.path) == str(broken) and exc.value.line == 2
    assert "broken.jsonl" in str(exc.value) and "2" in str(exc.value)
    alien = tmp_path / "alien.jsonl"
    alien.write_text(good[0] + "\n" + good[1].replace('"custom_id": "', '"custom_id": "x') + "\n")
    with pytest.raises(InputError, match="does not belong to run") as exc:
        _collect(out, from_file=alien)
    assert exc.value.line == 2
    shape = tmp_path / "shape.jsonl"
    shape.write_text(
        json.dumps(
            {
                "custom_id": json.loads(good[0])["custom_id"],
                "response": {"status_code": 200, "body": {"x": 1}},
            }
        )
        + "\n"
    )
    with pytest.raises(InputError, match="chat completion"):
        _collect(out, from_file=shape)
    with pytest.raises(InputError, match="not found"):
        _collect(out, from_file=tmp_path / "missing.jsonl")
    assert (out / "annotations.jsonl").read_bytes() == before


def test_unknown_batch_and_not_a_batch_run(server: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "b"
    _submit(server, out, n=1)
    state_p = out / "batch" / "state.json"
    state = json.loads(state_p.read_text())
    state["batches"][0]["id"] = "batch_unknown"
    state_p.write_text(json.dumps(state))
    with pytest.raises(FatalError, match=r"batch_unknown not found.*404"):
        batch_status(out, api_key=KEY)
    with pytest.raises(FatalError, match="batch_unknown not found"):
        _collect(out)
    sync = tmp_path / "sync"
    annotate(toy_corpus(1), RUBRIC, model=MODEL, out=sync, base_url=server.url, api_key=KEY)
    with pytest.raises(InputError, match="not a batch run"):
        _collect(sync)
    with pytest.raises(InputError, match="not found"):
        batch_status(tmp_path / "nope")


def test_failed_expired_cancelled_batches(server: FakeOpenAI, tmp_path: Path) -> None:
    # failed validation: reported, every item recorded as error, resubmittable
    server.batch_final = "failed"
    out = tmp_path / "f"
    _submit(server, out, n=2)
    _finish(out)
    res = _collect(out)
    assert any("failed" in n and "fake validation failure" in n for n in res.notes)
    assert res.written == {"ok": 0, "invalid": 0, "error": 4}
    assert {r["meta"]["error"] for r in _rows(out)} == {"batch_failed"}
    server.batch_final = "completed"
    assert _submit(server, out, n=2).requests == 4
    # expired: completed results are delivered, the rest is recorded as error
    server.batch_final, server.batch_expire_after = "expired", 3
    out = tmp_path / "e"
    _submit(server, out, n=3)
    _finish(out)
    res = _collect(out)
    assert res.written == {"ok": 3, "invalid": 0, "error": 3}
    assert any("expired" in n for n in res.notes)
    errs = [r for r in _rows(out) if r["meta"]["status"] == "error"]
    assert {r["meta"]["error"] for r in errs} == {"batch_expired"}
    # cancelled: the same, through cancel_batch
    server.batch_final, server.batch_expire_after = "completed", 1
    out = tmp_path / "c"
    _submit(server, out, n=2)
    assert len(cancel_batch(out, api_key=KEY)) == 1
    _finish(out)
    res = _collect(out)
    assert res.written == {"ok": 1, "invalid": 0, "error": 3}
    assert {r["meta"]["error"] for r in _rows(out) if r["meta"]["status"] == "error"} == {
        "batch_cancelled"
    }


def test_dialect_override_and_samples(server: FakeOpenAI, tmp_path: Path) -> None:
    sub = _submit(server, tmp_path / "b", n=2, dialect="json_object_schema", samples=3)
    bodies = [x["body"] for x in _lines(sub.input_files[0])]
    assert {b["response_format"]["type"] for b in bodies} == {"json_object"}
    assert {b["n"] for b in bodies} == {3} and {b["temperature"] for b in bodies} == {0.7}
    _finish(tmp_path / "b")
    res = _collect(tmp_path / "b")
    assert res.written["ok"] == 4
    assert all(r["meta"]["confidence"] == 1.0 for r in _rows(tmp_path / "b"))


# ----------------------------------------------------------------------------- CLI
def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_batch_flow(
    server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    corpus_dir = toy_corpus(4).save(tmp_path / "toy.corpus", format="jsonl")
    out = tmp_path / "run"
    base = [
        "annotate",
        str(corpus_dir),
        "--rubric",
        RUBRIC,
        "-o",
        str(out),
        "--base-url",
        server.url,
        "--model",
        MODEL,
    ]
    server.batch_fail = r"^d2:0-"
    assert _cli([*base, "--batch"], monkeypatch) == 0
    text = capsys.readouterr().out
    assert "submitted batch batch_fake1" in text and f"edudial batch status {out}" in text
    assert _cli(["batch", "status", str(out)], monkeypatch) == 0
    assert "in_progress" in capsys.readouterr().out
    assert _cli(["batch", "status", str(out)], monkeypatch) == 0
    assert f"edudial batch collect {out}" in capsys.readouterr().out
    assert _cli(["batch", "collect", str(out)], monkeypatch) == 0
    cap = capsys.readouterr()
    assert "wrote 7 ok, 0 invalid, 1 error" in cap.out and "batch discount" in cap.out
    assert "resubmit" in cap.err
    server.batch_fail = set()
    assert _cli([*base, "--batch"], monkeypatch) == 0
    assert "wrote 1 requests" in capsys.readouterr().out
    _cli(["batch", "status", str(out)], monkeypatch)
    _cli(["batch", "status", str(out)], monkeypatch)
    assert _cli(["batch", "collect", str(out)], monkeypatch) == 0
    assert "completed: wrote 1 ok" in capsys.readouterr().out
    server.reset()
    assert _cli(base, monkeypatch) == 0
    assert "requests 0" in capsys.readouterr().out and server.chat_bodies == []
    # errors: one line, exit 2
    assert _cli(["batch", "collect", str(corpus_dir)], monkeypatch) == 2
    assert "error:" in capsys.readouterr().err
    _no_key_anywhere(out)


def test_cli_file_only_then_from_file(
    server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    corpus_dir = toy_corpus(2).save(tmp_path / "toy.corpus", format="jsonl")
    out = tmp_path / "run"
    assert (
        _cli(
            ["annotate", str(corpus_dir), "--rubric", RUBRIC, "-o", str(out), "--batch-file-only"],
            monkeypatch,
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "run_batch" in text and "--from-file" in text and not server.files
    inp = out / "batch" / "input-0001.jsonl"
    results = tmp_path / "res.jsonl"
    results.write_text("\n".join(_vllm_results(inp, {}, set())) + "\n")
    assert _cli(["batch", "collect", str(out), "--from-file", str(results)], monkeypatch) == 0
    assert "completed: wrote 4 ok" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[]\n")
    assert _cli(["batch", "collect", str(out), "--from-file", str(bad)], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "bad.jsonl" in err and err.count("\n") == 1


def test_endpoint_without_batch_routes_and_ignored_n(server: FakeOpenAI, tmp_path: Path) -> None:
    # a server that answers fewer choices than --samples: the item is recorded, not dropped
    server.ignore_n = True
    _submit(server, tmp_path / "n", n=1, samples=2)
    _finish(tmp_path / "n")
    res = _collect(tmp_path / "n")
    assert res.written == {"ok": 0, "invalid": 0, "error": 2}
    assert {r["meta"]["error"] for r in _rows(tmp_path / "n")} == {"batch_incomplete"}
    # a local server has no /v1/files: one clear message, nothing recorded as submitted
    server._routes = [r for r in server._routes if "files" not in r[1].pattern]
    with pytest.raises(FatalError, match="--batch-file-only"):
        _submit(server, tmp_path / "local", n=1)
    state = (
        json.loads((tmp_path / "local" / "batch" / "state.json").read_text())
        if (tmp_path / "local" / "batch" / "state.json").exists()
        else {"batches": []}
    )
    assert state["batches"] == []
