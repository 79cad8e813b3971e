"""Dialogue-packed labelling (``pack="dialogue"``) against the fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation import load_rubric
from annotation.pack import iter_packs, pack_schema, parse_pack_answer
from tests.fake_openai import FakeOpenAI
from tests.test_annotation_engine import rows, run, toy_corpus
from toolkit import InputError

RUBRIC = load_rubric("mathdial-moves")


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    srv = FakeOpenAI().start()
    srv.add_rule(r">>> \[teacher\] Hi", "generic")
    srv.add_rule(r">>> \[teacher\] Why", "probing")
    yield srv
    srv.stop()


def _expected(corpus: Any) -> dict[str, str]:
    """Independent truth: the toy texts decide the label (the fake's rules)."""
    t = corpus.turns[corpus.turns.role == "teacher"]
    return {
        tid: ("generic" if x.startswith("Hi") else "probing")
        for tid, x in zip(t.turn_id, t.text, strict=True)
    }


# ----------------------------------------------------------------------------------- parsing
def test_parse_accepts_a_complete_aligned_answer() -> None:
    a = parse_pack_answer(
        RUBRIC,
        json.dumps(
            {
                "answers": [
                    {"turn": 2, "label": "telling", "rationale": "r2"},
                    {"turn": 1, "label": "Focus", "rationale": "r1"},
                ]
            }
        ),
        [1, 2],
    )
    assert a.ok and a.summary() == ""
    assert {n: v[:2] for n, v in a.labels.items()} == {1: ("focus", "r1"), 2: ("telling", "r2")}


@pytest.mark.parametrize(
    ("answers", "problems", "unknown"),
    [
        ([{"turn": 1, "label": "focus"}], {2: "not labelled"}, 0),
        (
            [
                {"turn": 1, "label": "focus"},
                {"turn": 2, "label": "focus"},
                {"turn": 2, "label": "telling"},
            ],
            {2: "labelled 2 times"},
            0,
        ),
        (
            [
                {"turn": 1, "label": "focus"},
                {"turn": 2, "label": "focus"},
                {"turn": 3, "label": "focus"},
            ],
            {},
            1,
        ),
        (
            [{"turn": 1, "label": "focus"}, {"turn": 2, "label": "X"}],
            {2: "label 'X' is not one of the allowed labels"},
            0,
        ),
        (
            [{"turn": "1", "label": "focus"}, {"turn": True, "label": "focus"}, {"label": "focus"}],
            {2: "not labelled"},
            2,
        ),
    ],
)
def test_parse_flags_alignment_problems(
    answers: list[dict[str, Any]], problems: dict[int, str], unknown: int
) -> None:
    a = parse_pack_answer(RUBRIC, json.dumps({"answers": answers}), [1, 2])
    assert a.problems == problems and len(a.unknown) == unknown and not a.ok
    assert set(a.labels) == {1, 2} - set(problems)


def test_parse_reads_the_first_object_and_ignores_trailing_text() -> None:
    # seen from SmolLM2 through llama-cpp-python: text after the constrained object
    content = (
        'Sure: { "answers": [{"turn": 1, "label":"focus", "rationale":"4}, {"}, '
        '{"turn": 2, "label":"generic", "rationale":"5\n"}] }\n{\n  " } ] }'
    )
    a = parse_pack_answer(RUBRIC, content, [1, 2, 3])
    assert {n: v[0] for n, v in a.labels.items()} == {1: "focus", 2: "generic"}
    assert a.problems == {3: "not labelled"}


@pytest.mark.parametrize(
    ("content", "finish", "reason"),
    [
        (
            '{"answers": [{"turn": 1, "lab',
            "length",
            "the answer was cut off (finish_reason length)",
        ),
        ("not json", "stop", "the answer is not valid JSON"),
        ('{"label": "focus"}', "stop", '"answers" is missing or not a list'),
        ("", "stop", "empty answer"),
    ],
)
def test_parse_unusable_answers_fail_every_turn(content: str, finish: str, reason: str) -> None:
    a = parse_pack_answer(RUBRIC, content, [1, 2, 3], finish_reason=finish)
    assert a.problems == {1: reason, 2: reason, 3: reason} and not a.labels


def test_schema_restricts_turn_numbers_and_labels() -> None:
    s = pack_schema(RUBRIC, [1, 2, 3])
    entry = s["properties"]["answers"]["items"]
    assert entry["properties"]["turn"]["enum"] == [1, 2, 3]
    assert entry["properties"]["label"]["enum"] == ["focus", "probing", "telling", "generic"]
    assert entry["required"] == ["turn", "label", "rationale"]
    assert entry["additionalProperties"] is False and s["additionalProperties"] is False


def test_packs_show_the_dialogue_once_with_numbered_targets() -> None:
    corpus = toy_corpus(3)
    packs = list(iter_packs(corpus, RUBRIC))
    assert [p.dialogue_id for p in packs] == ["d0", "d1", "d2"]
    p = packs[1]
    assert [t.unit_id for t in p.targets] == ["d1:0", "d1:2"] and p.positions == (0, 2)
    lines = p.text.splitlines()
    assert "question: Q1: 3 apples + 4 apples?" in lines
    assert ">>> (1) [teacher] Hi Sam 1, walk me through your solution." in lines
    assert "    [student] I added them 1" in lines
    assert ">>> (2) [teacher] Why did you add the apples in problem 1?" in lines
    assert lines[-1] == "    [student] Because 1"  # the whole dialogue, also after targets
    # limit counts target turns; long dialogues split into parts
    assert [len(p.targets) for p in iter_packs(corpus, RUBRIC, limit=3)] == [2, 1]
    parts = list(iter_packs(corpus, RUBRIC, max_targets=1))
    assert [(p.dialogue_id, p.part) for p in parts][:2] == [("d0", 0), ("d0", 1)]


# ----------------------------------------------------------------------------------- engine
def test_packed_run_labels_every_turn_with_one_request_per_dialogue(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    corpus = toy_corpus(6)
    res = run(server, tmp_path / "packed", corpus, pack="dialogue")
    assert server.requests == 6  # one per dialogue, 12 turns
    assert res.status == "completed" and res.counts == {"ok": 12, "invalid": 0, "error": 0}
    got = {r["unit_id"]: r["label"] for r in rows(tmp_path / "packed")}
    assert got == _expected(corpus)
    body = server.chat_bodies[0]
    assert body["response_format"]["json_schema"]["schema"]["properties"]["answers"]["items"][
        "properties"
    ]["turn"]["enum"] == [1, 2]
    assert "marked with >>> and a number" in body["messages"][0]["content"]
    man = res.manifest
    assert man["identity"]["pack"] == "dialogue" and man["parameters"]["pack"] == "dialogue"
    assert man["pack_stats"] == {"packs": 6, "turns_packed": 12, "turns_fallback": 0, "reasks": 0}


def test_packed_rows_have_the_per_turn_schema(server: FakeOpenAI, tmp_path: Path) -> None:
    corpus = toy_corpus(3)
    run(server, tmp_path / "turn", corpus)
    run(server, tmp_path / "packed", corpus, pack="dialogue")
    # rows are appended as items finish, so concurrent runs may write them in any order
    per_turn, packed = (
        sorted(rows(tmp_path / name), key=lambda r: (r["unit_id"], r["scheme"]))
        for name in ("turn", "packed")
    )
    assert [set(r) for r in packed] == [set(r) for r in per_turn]
    assert [set(r["meta"]) for r in packed] == [set(r["meta"]) for r in per_turn]
    assert [{k: v for k, v in r.items() if k not in ("meta", "run_id")} for r in packed] == [
        {k: v for k, v in r.items() if k not in ("meta", "run_id")} for r in per_turn
    ]
    pp, tp = packed[1]["meta"]["provenance"], per_turn[1]["meta"]["provenance"]
    assert set(tp) <= set(pp)
    assert pp["pack"]["turn_number"] == 2 and pp["pack"]["targets"] == 2
    assert pp["pack"]["fallback"] is False and pp["context_turns"] == 2
    assert pp["following_turns_shown"] == 1
    # usage is split over the turns of a pack: row sums equal the run's totals
    total = sum(r["meta"]["usage"]["prompt_tokens"] for r in packed)
    man = json.loads((tmp_path / "packed" / "manifest.json").read_text())
    assert total == man["usage"]["prompt_tokens"] > 0
    assert sum(r["meta"]["usage"]["requests"] for r in packed) == 3


@pytest.mark.parametrize("fault", ["pack_missing", "pack_duplicate", "pack_unknown", "out_of_set"])
def test_misaligned_answer_is_reasked(server: FakeOpenAI, tmp_path: Path, fault: str) -> None:
    corpus = toy_corpus(3)
    server.add_fault(fault, times=1, match="problem 1")
    res = run(server, tmp_path / "run", corpus, pack="dialogue")
    assert server.requests == 4  # 3 packs + 1 re-ask, no per-turn fallback
    assert {r["unit_id"]: r["label"] for r in rows(tmp_path / "run")} == _expected(corpus)
    reask = next(b["messages"] for b in server.chat_bodies if len(b["messages"]) > 2)
    assert reask[-2]["role"] == "assistant" and "could not be used" in reask[-1]["content"]
    d1 = [r for r in rows(tmp_path / "run") if r["unit_id"].startswith("d1:")]
    assert {r["meta"]["provenance"]["pack"]["reasks"] for r in d1} == {1}
    assert res.usage.reasks == 1 and res.manifest["pack_stats"]["turns_fallback"] == 0


def test_unresolved_turns_fall_back_to_per_turn_requests(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    corpus = toy_corpus(3)
    server.add_fault(
        "pack_missing",
        times=None,
        match=r"\(2\) \[teacher\] Why did you add the "
        r"apples in problem 1\?",
    )
    res = run(server, tmp_path / "run", corpus, pack="dialogue", max_reasks=1)
    # 3 packs + 1 re-ask for d1, then one per-turn request for the turn left out (d1:2)
    assert server.requests == 5
    per_turn = next(b for b in server.chat_bodies if "answers" not in json.dumps(b))
    assert "answers" not in json.dumps(per_turn["response_format"])
    assert (
        ">>> [teacher] Why did you add the apples in problem 1?"
        in per_turn["messages"][1]["content"]
    )
    out = {r["unit_id"]: r for r in rows(tmp_path / "run")}
    assert {u: r["label"] for u, r in out.items()} == _expected(corpus)
    fb = out["d1:2"]["meta"]
    assert fb["provenance"]["pack"]["fallback"] is True
    assert fb["provenance"]["pack"]["fallback_reason"] == "not labelled"
    assert out["d1:0"]["meta"]["provenance"]["pack"]["fallback"] is False
    assert res.manifest["pack_stats"]["turns_fallback"] == 1
    total = sum(r["meta"]["usage"]["requests"] for r in out.values())
    assert total == res.usage.requests == 5


def test_pack_rerun_is_served_from_cache_per_dialogue(server: FakeOpenAI, tmp_path: Path) -> None:
    corpus = toy_corpus(6)
    run(server, tmp_path / "run", corpus, pack="dialogue", limit=5)  # 3 packs, the last partial
    assert server.requests == 3
    res = run(server, tmp_path / "run", corpus, pack="dialogue")
    # d2 is requested again with both targets (a different request, new cache key); d0, d1 skipped
    assert server.requests == 3 + 4 and res.counts["ok"] == 12
    assert sorted(r["unit_id"] for r in rows(tmp_path / "run")) == sorted(_expected(corpus))
    n = server.requests
    again = run(server, tmp_path / "run", corpus, pack="dialogue")
    assert server.requests == n and again.usage.requests == 0
    # rows lost (e.g. killed before writing): replayed from the cache, no request
    (tmp_path / "run" / "annotations.jsonl").unlink()
    replay = run(server, tmp_path / "run", corpus, pack="dialogue")
    assert server.requests == n and replay.usage.cache_hits == 6
    assert all(r["meta"]["cache_hit"] for r in rows(tmp_path / "run"))


def test_pack_mode_is_part_of_the_run_identity(server: FakeOpenAI, tmp_path: Path) -> None:
    run(server, tmp_path / "run", toy_corpus(2))
    with pytest.raises(InputError, match="different pack"):
        run(server, tmp_path / "run", toy_corpus(2), pack="dialogue")


def test_pack_needs_a_single_label_turn_rubric(server: FakeOpenAI, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="single-label turn rubric"):
        run(server, tmp_path / "a", rubric="sight-feedback", pack="dialogue")
    with pytest.raises(InputError, match="samples=1"):
        run(server, tmp_path / "b", pack="dialogue", samples=3)
    with pytest.raises(InputError, match="unknown pack mode"):
        run(server, tmp_path / "c", pack="session")


def test_cli_pack_dialogue(
    server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from toolkit.cli import main

    corpus = toy_corpus(4)
    src = corpus.save(tmp_path / "toy.corpus", format="jsonl")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    args = [
        "annotate",
        str(src),
        "--rubric",
        "mathdial-moves",
        "-o",
        str(tmp_path / "run"),
        "--base-url",
        server.url,
        "--pack",
        "dialogue",
        "--no-progress",
    ]
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code in (0, None)
    assert "completed: 8 ok" in capsys.readouterr().out and server.requests == 4
    assert {r["unit_id"]: r["label"] for r in rows(tmp_path / "run")} == _expected(corpus)


def test_pack_refuses_rubrics_that_hide_context_turns(server: FakeOpenAI, tmp_path: Path) -> None:
    from annotation.rubric import Context

    rub = RUBRIC.model_copy(update={"context": Context(exclude_meta={"candidate": True})})
    with pytest.raises(InputError, match="exclude_meta"):
        run(server, tmp_path / "a", rubric=rub, pack="dialogue")  # type: ignore[arg-type]
