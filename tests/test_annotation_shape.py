"""The annotation package's shape (issue 11) and the de-identification guard (issue 13).

Run identity built once for every backend (the Batch API identity had no ``pack``), the options
dataclasses, one ``Usage`` builder, the public namespace, and ``annotate`` refusing or warning
before a corpus that is not de-identified leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import annotation
import annotation.privacy as privacy
from annotation import annotate, submit_batch
from annotation.manifest import RunIdentity
from annotation.options import AnnotateOptions, options_from
from annotation.pricing import ROW_USAGE, Usage, format_cost
from annotation.privacy import check_deid, deid_check, is_loopback
from annotation.requests import RequestParams
from tests.fake_openai import FakeOpenAI
from tests.test_annotation_engine import KEY, toy_corpus
from toolkit import InputError
from toolkit.cli import main

#: Never contacted: the tests that use it assert that nothing is sent (TEST-NET-1, RFC 5737).
REMOTE = "http://192.0.2.1:9/v1"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    srv = FakeOpenAI(api_key=KEY).start()
    srv.add_rule(r">>> \[teacher\] Hi", "generic")
    srv.add_rule(r">>> \[teacher\] Why", "probing")
    yield srv
    srv.stop()


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ run identity
def test_batch_and_synchronous_runs_have_the_same_identity(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    common = {"base_url": server.url, "api_key": KEY}
    submit_batch(toy_corpus(2), "mathdial-moves", model="gpt-4o-mini", out=tmp_path / "b", **common)
    annotate(toy_corpus(2), "mathdial-moves", model="gpt-4o-mini", out=tmp_path / "s", **common)
    batch, sync = _manifest(tmp_path / "b")["identity"], _manifest(tmp_path / "s")["identity"]
    assert batch == sync
    assert batch["pack"] is None  # was missing from the batch identity


def test_a_packed_run_cannot_resume_a_batch_run_directory(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    common = {"base_url": server.url, "api_key": KEY}
    submit_batch(toy_corpus(2), "mathdial-moves", model="gpt-4o-mini", out=out, **common)
    sent = server.requests
    with pytest.raises(InputError) as err:
        annotate(
            toy_corpus(2), "mathdial-moves", model="gpt-4o-mini", out=out, pack="dialogue", **common
        )
    assert err.value.field == "pack" and "different pack" in str(err.value)
    assert server.requests == sent  # refused before any request


def test_identity_of_each_backend() -> None:
    rub = annotation.load_rubric("mathdial-moves")
    params = RequestParams(model="m", temperature=0.0, seed=7, max_tokens=50)
    llm = RunIdentity.for_llm(
        rub, params, endpoint="http://x/v1", samples=1, context_turns=4, max_reasks=2
    ).as_dict()
    assert llm["model"] == "m" and llm["seed"] == 7 and llm["max_tokens"] == 50
    assert llm["pack"] is None and "pack_template_sha256" not in llm
    packed = RunIdentity.for_llm(
        rub,
        params,
        endpoint="http://x/v1",
        samples=1,
        context_turns=4,
        max_reasks=2,
        pack="dialogue",
        pack_template_sha256="abc",
    ).as_dict()
    assert packed["pack"] == "dialogue" and packed["pack_template_sha256"] == "abc"
    rules = RunIdentity.for_rules(rub).as_dict()
    assert rules == {
        "backend": "rules",
        "model": "rules",
        "rubric_id": "mathdial-moves",
        "rubric_version": rub.version,
        "rubric_sha256": rub.sha256,
    }


# ------------------------------------------------------------------------------ options
def test_unknown_option_is_an_input_error_naming_it() -> None:
    with pytest.raises(InputError) as err:
        annotate(toy_corpus(1), "mathdial-moves", model="m", concurency=4)
    assert err.value.field == "concurency" and "concurrency" in str(err.value)


@pytest.mark.parametrize(
    ("option", "value"),
    [("samples", 0), ("concurrency", 0), ("max_reasks", -1), ("limit", 0), ("max_cost", -1.0)],
)
def test_out_of_range_options_name_the_field(option: str, value: Any) -> None:
    opts = options_from(AnnotateOptions, {option: value})
    with pytest.raises(InputError) as err:
        opts.check()
    assert err.value.field == option


def test_options_give_the_documented_defaults() -> None:
    rub = annotation.load_rubric("mathdial-moves")
    opts = AnnotateOptions()
    assert opts.sampling_temperature == 0.0
    assert AnnotateOptions(samples=3).sampling_temperature == 0.7
    assert opts.context_turns_for(rub) == rub.context.turns
    assert opts.request_params("m", rub).max_tokens == rub.output.max_tokens


# ------------------------------------------------------------------------------ usage
def test_usage_from_dict_round_trips_and_ignores_noise() -> None:
    u = Usage(requests=3, cache_hits=1, reasks=2, retries=4, prompt_tokens=50)
    assert Usage.from_dict(u.as_dict()) == u
    assert Usage.from_dict({"requests": "7", "nonsense": 3, "prompt_tokens": 9}).as_dict() == {
        **Usage().as_dict(),
        "prompt_tokens": 9,
    }
    assert Usage.from_dict(None) == Usage()
    assert list(u.row_dict()) == list(ROW_USAGE)
    assert format_cost(None).startswith("unknown") and format_cost(0.5) == "$0.5000"


def test_the_namespace_is_the_user_facing_surface() -> None:
    names = set(annotation.__all__)
    for plumbing in ("Gate", "Reply", "request_key", "ResponseCache", "Transport"):
        assert plumbing not in names
    for kept in ("load_rubric", "Rubric", "annotate", "annotate_rules", "annotate_local"):
        assert kept in names
    for kept in ("iter_items", "Item", "render_guide", "submit_batch", "collect_batch"):
        assert kept in names
    assert all(hasattr(annotation, n) for n in names)


# ------------------------------------------------------------------------------ de-identification
@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://127.0.0.1:8000/v1", True),
        ("http://127.5.6.7/v1", True),
        ("http://localhost:8000/v1", True),
        ("http://[::1]:8000/v1", True),
        ("local://llama-cpp-python-0.3.36/model.gguf@abc", True),
        ("https://api.openai.com/v1", False),
        ("http://192.168.1.20:8000/v1", False),
        ("http://127.0.0.1.example.com/v1", False),
        ("offline:run-batch", False),
    ],
)
def test_is_loopback(endpoint: str, loopback: bool) -> None:
    assert is_loopback(endpoint) is loopback


@pytest.mark.parametrize(
    ("deidentified", "endpoint", "warns"),
    [
        (False, REMOTE, True),
        (False, "http://127.0.0.1:8000/v1", False),
        (True, REMOTE, False),
        (True, "http://127.0.0.1:8000/v1", False),
    ],
)
def test_deid_decision(
    deidentified: bool, endpoint: str, warns: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(privacy, "_is_deidentified", lambda corpus: deidentified)
    check = deid_check(toy_corpus(1), endpoint)
    assert check.warn is warns
    said: list[str] = []
    assert check_deid(toy_corpus(1), endpoint, require=False, warn=said.append) is deidentified
    assert len(said) == (1 if warns else 0)
    if warns:
        assert "edudial deid" in said[0] and endpoint in said[0]


def test_loopback_run_does_not_warn_and_records_deidentified(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    res = annotate(
        toy_corpus(2),
        "mathdial-moves",
        model="gpt-4o-mini",
        out=tmp_path / "a",
        base_url=server.url,
        api_key=KEY,
        on_warning=said.append,
    )
    assert said == [] and res.manifest["deidentified"] is False
    assert _manifest(tmp_path / "a")["deidentified"] is False
    monkeypatch.setattr(privacy, "_is_deidentified", lambda corpus: True)
    res = annotate(
        toy_corpus(2),
        "mathdial-moves",
        model="gpt-4o-mini",
        out=tmp_path / "b",
        base_url=server.url,
        api_key=KEY,
        require_deid=True,
    )
    assert res.manifest["deidentified"] is True and res.counts["ok"] == 4


def test_require_deid_refuses_a_remote_endpoint_before_sending(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(InputError) as err:
        annotate(
            toy_corpus(2),
            "mathdial-moves",
            model="gpt-4o-mini",
            out=out,
            base_url=REMOTE,
            api_key=KEY,
            require_deid=True,
            max_retries=0,
            timeout=0.5,
        )
    assert "edudial deid" in str(err.value) and "nothing was sent" in str(err.value)
    assert not out.exists()  # nothing written either


def test_cli_require_deid_is_one_line_error_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus_dir = toy_corpus(2).save(tmp_path / "toy.corpus", format="jsonl")
    out = tmp_path / "run"
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    args = ["annotate", str(corpus_dir), "--rubric", "mathdial-moves", "-o", str(out)]
    args += ["--base-url", REMOTE, "--max-retries", "0", "--timeout", "0.5", "--require-deid"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "edudial deid" in err[0]
    assert not out.exists()


def test_cli_batch_require_deid_refuses_before_uploading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus_dir = toy_corpus(2).save(tmp_path / "toy.corpus", format="jsonl")
    out = tmp_path / "run"
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    args = ["annotate", str(corpus_dir), "--rubric", "mathdial-moves", "-o", str(out)]
    args += ["--base-url", REMOTE, "--batch", "--require-deid"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0 and "edudial deid" in capsys.readouterr().err
    assert not out.exists()
