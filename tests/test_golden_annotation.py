"""Golden outputs of annotation runs against the fake server (issue 11: "behaviour unchanged").

``tests/golden/annotation_fake_runs.json`` was captured with the code as it was *before* the
annotation package was reshaped (engine hooks, orchestration module, split Batch API modules,
typed run identity and manifest). Each scenario runs the bundled demo sample (8 MathDial-style
dialogues, 33 teacher turns) through one path of the engine and records every annotation row
(ids, labels, meta, provenance) and the run manifest, minus what differs between two identical
runs (run id, timestamps, durations, the fake server's port, package versions).

The expected values come from the old code, not from the code under test: a failure means the
refactoring changed an output. When a change is intended (and only then), regenerate with
``python -m tests.test_golden_annotation`` and say in the commit message what changed and why.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from annotation import annotate, annotate_rules, batch_status, collect_batch, submit_batch
from tests.fake_openai import FakeOpenAI
from toolkit.demo import bundled_sample

GOLDEN = Path(__file__).resolve().parent / "golden" / "annotation_fake_runs.json"
KEY = "sk-golden-0123456789"
MODEL = "gpt-4o-mini"
#: USD per 1M tokens, fixed for the golden (not the built-in table, which may be updated).
PRICES = {MODEL: {"input": 1.0, "cached_input": 0.5, "output": 3.0}}
#: Keys whose values differ between two identical runs; dropped wherever they appear.
VOLATILE = frozenset(
    {
        "latency_s",
        "started",
        "invocation_started",
        "updated",
        "created",
        "submitted",
        "collected_at",
        "merged_at",
        "seconds",
        "versions",
        "annotations_sha256",  # hashes rows that hold the random run id
    }
)
_PORT = re.compile(r"127\.0\.0\.1:\d+")


def _normalise(value: Any, run_id: str) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v, run_id) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_normalise(v, run_id) for v in value]
    if isinstance(value, str):
        return _PORT.sub("127.0.0.1:PORT", value.replace(run_id, "RUN_ID"))
    return value


def _row_order(row: dict[str, Any]) -> tuple[str, ...]:
    meta = row.get("meta") or {}
    return (row["unit_id"], row["scheme"], str(meta.get("category")), str(meta.get("status")))


def _read_run(out: Path) -> dict[str, Any]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    run_id = str(manifest["run_id"])
    lines = (out / "annotations.jsonl").read_text(encoding="utf-8").splitlines()
    rows = sorted((json.loads(x) for x in lines if x.strip()), key=_row_order)
    found: dict[str, Any] = {"rows": rows, "manifest": manifest}
    state = out / "batch" / "state.json"
    if state.is_file():
        found["batch_state"] = json.loads(state.read_text(encoding="utf-8"))
    return _normalise(found, run_id)


def _server() -> FakeOpenAI:
    srv = FakeOpenAI(api_key=KEY)  # started by `with`
    srv.add_rule(r">>> \[teacher\] Why", "probing")
    srv.add_rule(r">>> \[teacher\] (Hi|Tell me)", "generic")
    srv.add_rule(r">>> \[teacher\] (Great|Well done|Yes\.)", "telling")
    return srv


def _per_turn(out: Path) -> None:
    # a re-asked invalid answer and an item that fails with HTTP 400 (an error row)
    with _server() as srv:
        srv.add_fault("invalid_json", match=r">>> \[teacher\] Tell me what you did first")
        srv.add_fault("400", match=r">>> \[teacher\] What happened to the half hour")
        annotate(
            bundled_sample(),
            "mathdial-moves",
            model=MODEL,
            out=out,
            base_url=srv.url,
            api_key=KEY,
            concurrency=1,
            prices=PRICES,
        )


def _samples(out: Path) -> None:
    # three samples per item (votes, ties in rubric order) with token logprobs
    with _server() as srv:
        srv.add_rule(r">>> \[teacher\] (Can|How)", ["focus", "probing", "focus"])
        annotate(
            bundled_sample(),
            "mathdial-moves",
            model=MODEL,
            out=out,
            base_url=srv.url,
            api_key=KEY,
            concurrency=1,
            samples=3,
            logprobs=True,
            limit=12,
            prices=PRICES,
        )


def _binary(out: Path) -> None:
    # one request per category (sight-feedback on the sample's student turns)
    with _server() as srv:
        annotate(
            bundled_sample(),
            "sight-feedback",
            model=MODEL,
            out=out,
            base_url=srv.url,
            api_key=KEY,
            concurrency=1,
            limit=4,
            prices=PRICES,
        )


def _packed(out: Path) -> None:
    # one request per dialogue; one pack stays misaligned after its re-asks (per-turn fallback)
    with _server() as srv:
        srv.add_fault("pack_missing", times=3, match=r"stickers")
        srv.add_fault("pack_duplicate", times=1, match=r"bus with 40 seats")
        annotate(
            bundled_sample(),
            "mathdial-moves",
            model=MODEL,
            out=out,
            base_url=srv.url,
            api_key=KEY,
            concurrency=1,
            pack="dialogue",
            prices=PRICES,
        )


def _batch(out: Path) -> None:
    # Batch API: submit, poll to the end, collect (two lines go to the error file)
    with _server() as srv:
        srv.batch_fail = r"^(apples:2|bus:0)-"
        submit_batch(
            bundled_sample(),
            "mathdial-moves",
            model=MODEL,
            out=out,
            base_url=srv.url,
            api_key=KEY,
            prices=PRICES,
        )
        for _ in range(3):
            batch_status(out, api_key=KEY)
        collect_batch(out, api_key=KEY)


def _rules(out: Path) -> None:
    annotate_rules(bundled_sample(), "mathdial-moves", out=out)


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "per_turn": _per_turn,
    "samples": _samples,
    "binary": _binary,
    "packed": _packed,
    "batch": _batch,
    "rules": _rules,
}


def capture(name: str, tmp: Path) -> dict[str, Any]:
    """Run scenario ``name`` in ``tmp`` and return its normalised rows and manifest."""
    out = tmp / name
    SCENARIOS[name](out)
    return _read_run(out)


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_golden_covers_every_path(golden: dict[str, Any]) -> None:
    assert set(golden) == set(SCENARIOS)
    per_turn = golden["per_turn"]["rows"]
    statuses = {r["meta"]["status"] for r in per_turn}
    assert statuses == {"ok", "error"}  # the 400 item
    assert any(r["meta"]["reasks"] == 1 for r in per_turn)  # the re-asked invalid answer
    packed = golden["packed"]["rows"]
    assert any(r["meta"]["provenance"]["pack"]["fallback"] for r in packed)
    batch = golden["batch"]["rows"]
    assert sum(r["meta"]["status"] == "error" for r in batch) == 2  # the error-file lines


def _intended_changes(name: str, fresh: dict[str, Any]) -> None:
    """Check, then remove, the manifest fields changed on purpose since the golden was taken.

    * issue 13: every LLM run records whether the corpus sent was de-identified (the demo
      sample is not marked de-identified);
    * issue 11: the Batch API run identity lacked ``pack`` (a packed synchronous run could
      resume a batch run directory); it is now built like every LLM identity.
    """
    manifest = fresh["manifest"]
    if name != "rules":
        assert manifest.pop("deidentified") is False
    if name == "batch":
        assert manifest["identity"].pop("pack") is None


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_run_matches_the_golden(name: str, golden: dict[str, Any], tmp_path: Path) -> None:
    fresh = capture(name, tmp_path)
    _intended_changes(name, fresh)
    want = golden[name]
    assert fresh["manifest"] == want["manifest"]
    assert len(fresh["rows"]) == len(want["rows"])
    for got, expected in zip(fresh["rows"], want["rows"], strict=True):
        assert got == expected, f"{name}: row of unit {expected['unit_id']} changed"
    assert fresh.get("batch_state") == want.get("batch_state")


def _write_golden(tmp: Path) -> None:
    data = {name: capture(name, tmp) for name in SCENARIOS}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        _write_golden(Path(d))
