"""Rubrics: built-ins, validation messages, prompt layout, coding guide, answer parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from annotation import (
    PROMPT_TEMPLATE_SHA256,
    builtin_rubrics,
    iter_items,
    load_rubric,
    render_guide,
    response_format,
)
from annotation.parse import parse_answer
from annotation.prompt import answer_schema
from annotation.requests import RequestBuilder, RequestParams
from toolkit import Corpus, InputError

# Label sets as documented in /work/shared/docs/corpora.md and the papers.
MATHDIAL_MOVES = {"focus", "probing", "telling", "generic"}
SIGHT_CATEGORIES = [
    "general",
    "setup",
    "pedagogy",
    "confusion",
    "gratitude",
    "personal_experience",
    "clarification",
    "non_english",
    "na",
]
TALKMOVES_TEACHER = {
    "1 - None",
    "2 - Keeping Everyone Together",
    "3 - Getting Students to Relate",
    "4 - Restating",
    "5 - Revoicing",
    "8 - Press for Accuracy",
    "9 - Press for Reasoning",
}


def test_builtins_have_the_papers_label_sets() -> None:
    assert set(builtin_rubrics()) >= {"mathdial-moves", "sight-feedback", "talkmoves"}
    md = load_rubric("mathdial-moves")
    assert set(md.label_names) == MATHDIAL_MOVES
    assert (md.scheme, md.mode, md.applies_to.roles) == ("mathdial/move", "single", ["teacher"])
    assert md.context.meta == ["question", "student_incorrect_solution"]
    sight = load_rubric("sight-feedback")
    assert sight.label_names == SIGHT_CATEGORIES and sight.mode == "binary"
    assert sight.schemes == [f"sight/{c}" for c in SIGHT_CATEGORIES]
    assert sight.category_order == ["0", "1"] and sight.applies_to.roles == ["student"]
    tm = load_rubric("talkmoves")
    assert set(tm.label_names) == TALKMOVES_TEACHER and tm.scheme == "talkmoves/teacher"


def test_builtin_labels_match_the_talkmoves_loader_vocabulary() -> None:
    loader = pytest.importorskip("corpora.talkmoves")
    canonical = set(loader.TEACHER_MOVES.values())
    assert canonical >= TALKMOVES_TEACHER
    # Context marks student lines and Marking is (almost) unused: deliberately not offered.
    assert canonical - TALKMOVES_TEACHER == {"6 - Marking", "7 - Context"}


def _write(tmp_path: Path, data: object, name: str = "r.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


GOOD = {
    "id": "toy",
    "version": 2,
    "description": "d",
    "scheme": "toy/x",
    "labels": [{"name": "a", "definition": "A"}, {"name": "b", "definition": "B"}],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"labels": [{"name": "a"}, {"name": "b", "definition": "B"}]}, "labels.0.definition"),
        ({"mode": "several"}, "mode"),
        ({"colour": "red"}, "colour"),
        (
            {"labels": [{"name": "a", "definition": "A"}, {"name": "a", "definition": "B"}]},
            "labels",
        ),
        ({"mode": "binary"}, "scheme"),
        ({"context": {"turns": -1}}, "context.turns"),
        ({"unit": "sentence"}, "unit"),
    ],
)
def test_invalid_rubric_names_the_field(tmp_path: Path, change: dict, field: str) -> None:
    path = _write(tmp_path, {**GOOD, **change})
    with pytest.raises(InputError) as err:
        load_rubric(path)
    assert err.value.field == field
    assert str(path) in str(err.value)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: x\nlabels: [a, b\nversion: 1\n")
    with pytest.raises(InputError) as err:
        load_rubric(path)
    assert err.value.line is not None and err.value.line >= 2


def test_unknown_name_lists_builtins() -> None:
    with pytest.raises(InputError, match="mathdial-moves"):
        load_rubric("no-such-rubric")


def test_scale_becomes_ordered_categories(tmp_path: Path) -> None:
    data = {k: v for k, v in GOOD.items() if k != "labels"}
    r = load_rubric(
        _write(tmp_path, {**data, "scale": {"min": 1, "max": 7, "anchors": {1: "none", 7: "all"}}})
    )
    assert r.ordered and r.category_order == [str(i) for i in range(1, 8)]
    assert r.labels[0].definition == "none"
    assert "ordered scale" in RequestBuilder(r, RequestParams(model="m")).system("json_schema")


def test_hash_changes_with_content_only(tmp_path: Path) -> None:
    a = load_rubric(_write(tmp_path, GOOD, "a.yaml"))
    b = load_rubric(_write(tmp_path, "# comment\n" + yaml.safe_dump(GOOD), "b.yaml"))
    c = load_rubric(_write(tmp_path, {**GOOD, "description": "other"}, "c.yaml"))
    assert a.sha256 == b.sha256 != c.sha256
    assert len(PROMPT_TEMPLATE_SHA256) == 64


def _toy() -> Corpus:
    d = pd.DataFrame(
        {
            "corpus": ["t"],
            "dialogue_id": ["d"],
            "split": ["x"],
            "kind": ["k"],
            "meta": [{"question": "How many apples?", "student_incorrect_solution": "7"}],
        }
    )
    texts = [
        ("teacher", "Hello"),
        ("student", "Hi"),
        ("teacher", "What is 3+4?"),
        ("student", "8"),
        ("teacher", "Check again."),
    ]
    t = pd.DataFrame(
        {
            "corpus": "t",
            "dialogue_id": "d",
            "turn_id": [f"d:{i}" for i in range(5)],
            "index": range(5),
            "role": [r for r, _ in texts],
            "speaker": [r for r, _ in texts],
            "text": [x for _, x in texts],
            "meta": [{} for _ in texts],
        }
    )
    return Corpus(d, t).validate()


def test_prompt_static_first_item_last_with_context() -> None:
    r = load_rubric("mathdial-moves")
    items = list(iter_items(_toy(), r, context_turns=2))
    assert [i.unit_id for i in items] == ["d:0", "d:2", "d:4"]
    b = RequestBuilder(r, RequestParams(model="m"))
    bodies = [b.body(b.item_messages(i, "json_schema"), "json_schema") for i in items]
    systems = {body["messages"][0]["content"] for body in bodies}
    assert len(systems) == 1  # identical static prefix for every item
    last = bodies[-1]["messages"][-1]
    assert last["role"] == "user"
    lines = last["content"].splitlines()
    assert "question: How many apples?" in lines and "student_incorrect_solution: 7" in lines
    # two previous turns, role-tagged, target marked
    assert lines[-3:] == [
        "    [teacher] What is 3+4?",
        "    [student] 8",
        ">>> [teacher] Check again.",
    ]
    assert "Hello" not in last["content"]
    for name in MATHDIAL_MOVES:
        assert name in bodies[0]["messages"][0]["content"]


def test_response_formats_constrain_labels_with_an_enum() -> None:
    r = load_rubric("mathdial-moves")
    schema = answer_schema(r)
    assert schema["properties"]["label"]["enum"] == r.label_names
    assert schema["additionalProperties"] is False and set(schema["required"]) == {
        "label",
        "rationale",
    }
    js = response_format(r, "json_schema")
    assert js is not None and js["json_schema"]["strict"] is True
    jo = response_format(r, "json_object_schema")
    assert jo == {"type": "json_object", "schema": schema}
    assert response_format(r, "prompt") is None
    b = RequestBuilder(r, RequestParams(model="m"))
    assert json.dumps(schema, separators=(",", ":")) in b.system("prompt")


def test_guide_lists_every_label_with_definition() -> None:
    for name in builtin_rubrics():
        r = load_rubric(name)
        guide = render_guide(r)
        assert guide.startswith("# ")
        for lb in r.labels:
            assert f"`{lb.name}`" in guide
            assert lb.definition.split()[0] in guide


@pytest.mark.parametrize(
    ("content", "finish", "ok", "labels"),
    [
        ('{"label": "focus", "rationale": "x"}', "stop", True, ("focus",)),
        ('{"label": "Focus"}', "stop", True, ("focus",)),
        ('```json\n{"label": "telling"}\n```', "stop", True, ("telling",)),
        ('{"label": "answer X"}', "stop", False, ()),
        ("not json", "stop", False, ()),
        ('{"label": "fo', "length", False, ()),
        ("", "stop", False, ()),
        ('["focus"]', "stop", False, ()),
    ],
)
def test_parse_answer(content: str, finish: str, ok: bool, labels: tuple) -> None:
    a = parse_answer(load_rubric("mathdial-moves"), content, finish_reason=finish)
    assert a.ok is ok and a.labels == labels
    if not ok:
        assert a.reason


def test_parse_binary_maps_yes_no_to_written_labels() -> None:
    r = load_rubric("sight-feedback")
    assert parse_answer(r, '{"label": "yes"}').labels == ("1",)
    assert parse_answer(r, '{"label": "no"}').labels == ("0",)
    assert not parse_answer(r, '{"label": "1"}').ok
