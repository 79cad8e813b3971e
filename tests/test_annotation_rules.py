"""The rules baseline (annotation.rules, ``--backend rules``), rule patterns in rubrics, mode
``dimensions`` (MRBench) and ``applies_to.meta`` / ``context.exclude_meta``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from annotation import iter_items, load_rubric, parse_rubric
from annotation.parse import parse_answer
from annotation.prompt import answer_schema, system_message
from annotation.rules import RuleLabeler, annotate_rules
from tests.conftest import corpus_path
from tests.fake_openai import FakeOpenAI
from toolkit import Corpus, InputError, read_annotations
from toolkit.io import save_corpus


def corpus_of(
    texts: list[tuple[str, str]],
    *,
    turn_meta: list[dict[str, Any]] | None = None,
    name: str = "toy",
) -> Corpus:
    """One dialogue with the given (role, text) turns."""
    turns = [
        {
            "corpus": name,
            "dialogue_id": "d",
            "turn_id": f"d:{i}",
            "index": i,
            "role": r,
            "speaker": r,
            "text": t,
            "meta": (turn_meta or [{}] * len(texts))[i],
        }
        for i, (r, t) in enumerate(texts)
    ]
    dialogues = [{"corpus": name, "dialogue_id": "d", "split": "x", "kind": "tutoring", "meta": {}}]
    return Corpus(pd.DataFrame(dialogues), pd.DataFrame(turns)).validate()


def base_rubric(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "toy-rules",
        "version": "1",
        "description": "d",
        "scheme": "toy/move",
        "labels": [
            {
                "name": "ask",
                "definition": "a question",
                "patterns": [[{"LOWER": "why"}], {"id": "qmark", "pattern": [{"ORTH": "?"}]}],
            },
            {
                "name": "tell",
                "definition": "a statement",
                "patterns": [[{"LOWER": "the"}, {"LOWER": "answer"}, {"LOWER": "is"}]],
            },
            {"name": "other", "definition": "anything else"},
        ],
    }
    data.update(over)
    return data


def label_of(rubric: Any, text: str) -> tuple[str | None, str | None]:
    d = RuleLabeler(rubric).label_texts([text])[0][0]
    return d.label, d.decided_by


# ------------------------------------------------------------------ rubric validation
@pytest.mark.parametrize(
    ("patch", "field", "words"),
    [
        (
            {
                "labels": [
                    {"name": "a", "definition": "x", "patterns": [[{"LOWERR": "y"}]]},
                    {"name": "b", "definition": "y"},
                ]
            },
            "labels.0.patterns.0",
            "LOWERR",
        ),
        (
            {
                "labels": [
                    {"name": "a", "definition": "x"},
                    {
                        "name": "b",
                        "definition": "y",
                        "patterns": [[{"LOWER": "ok"}], [{"LOWER": {"IN": "notalist"}}]],
                    },
                ]
            },
            "labels.1.patterns.1",
            "token 0",
        ),
        (
            {
                "labels": [
                    {"name": "a", "definition": "x", "patterns": [[]]},
                    {"name": "b", "definition": "y"},
                ]
            },
            "labels.0.patterns.0",
            "at least 1",
        ),
        ({"rules": {"default": "nope"}}, "rules.default", "not one of the labels"),
        ({"rules": {"precedence": ["ask", "zzz"]}}, "rules.precedence", "zzz"),
        ({"rules": {"precedence": "random"}}, "rules.precedence", None),
    ],
)
def test_pattern_and_rules_validation_names_the_field(
    patch: dict[str, Any], field: str, words: str | None
) -> None:
    with pytest.raises(InputError) as exc:
        parse_rubric(base_rubric(**patch), path="mine.yaml")
    assert exc.value.field == field
    assert "mine.yaml" in str(exc.value) and field in str(exc.value)
    if words:
        assert words in str(exc.value)


def test_levels_only_in_dimensions_mode_and_dimensions_need_levels() -> None:
    bad = base_rubric(
        labels=[
            {"name": "a", "definition": "x", "levels": ["lo", "hi"]},
            {"name": "b", "definition": "y"},
        ]
    )
    with pytest.raises(InputError) as exc:
        parse_rubric(bad)
    assert exc.value.field == "labels.0.levels"
    dims = {
        "id": "dm",
        "version": "1",
        "description": "d",
        "mode": "dimensions",
        "scheme": "toy/{category}",
        "labels": [
            {"name": "a", "definition": "x", "levels": ["lo", "hi"]},
            {"name": "b", "definition": "y", "levels": ["only"]},
        ],
    }
    with pytest.raises(InputError) as exc:
        parse_rubric(dims)
    assert exc.value.field == "labels.1.levels"
    dims["labels"][1]["levels"] = ["no", "yes"]
    dims["rules"] = {"default": {"a": "maybe"}}
    with pytest.raises(InputError) as exc:
        parse_rubric(dims)
    assert exc.value.field == "rules.default" and "'maybe'" in str(exc.value)


def test_builtin_rubric_hashes_unchanged_by_format_extension() -> None:
    # the talkmoves rubric uses none of the new fields: its hash must be the value computed
    # before they existed (rubric_sha256 omits new fields at their defaults)
    r = load_rubric("talkmoves")
    dumped = r.model_dump(mode="json")
    for key in ("rules",):
        dumped.pop(key)
    dumped["applies_to"].pop("meta")
    dumped["context"].pop("exclude_meta")
    for lb in dumped["labels"]:
        lb.pop("levels")
        lb.pop("patterns")
    import hashlib

    text = json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert r.sha256 == hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------ decisions
def test_precedence_order_earliest_and_priority_list() -> None:
    text = "The answer is 4, why?"  # tell matches at 0, ask ("why", "?") later
    assert label_of(parse_rubric(base_rubric()), text) == ("ask", "ask#0")  # declared order
    earliest = parse_rubric(base_rubric(rules={"precedence": "earliest"}))
    assert label_of(earliest, text) == ("tell", "tell#0")
    prio = parse_rubric(base_rubric(rules={"precedence": ["tell"]}))
    assert label_of(prio, "Why? The answer is 4") == ("tell", "tell#0")


def test_default_and_abstention() -> None:
    assert label_of(parse_rubric(base_rubric()), "ok then") == (None, None)
    assert label_of(parse_rubric(base_rubric(rules={"default": "other"})), "ok then") == (
        "other",
        "default",
    )


def test_mathdial_patterns_fire_as_written() -> None:
    r = load_rubric("mathdial-moves")
    lab = RuleLabeler(r)
    texts = {
        "Why did you add 5 here?": ("probing", "why"),
        "Are you sure the 5 dollars should be added?": ("probing", "are-you-sure"),
        "You need to subtract 4 from 10.": ("telling", "you-need-to"),
        "No, the answer is 24 stickers.": ("telling", "no-comma"),
        "Can you calculate how many apples are left?": ("focus", "can-you-compute"),
        "Good. Now what do you need to do with the 12 cookies?": ("focus", "what-should-you-do"),
        "Great job!": ("generic", "good-job"),
        "Hi Ronny, could you walk me through your solution": ("generic", "greeting"),
        "ok": ("generic", "default"),
    }
    got = lab.label_texts(list(texts))
    assert {t: (d[0].label, d[0].decided_by) for t, d in zip(texts, got, strict=True)} == texts


def test_sight_binary_decisions_and_na_fallback() -> None:
    r = load_rubric("sight-feedback")
    lab = RuleLabeler(r)
    out = lab.label_texts(
        [
            "Thank you MIT for making this free!",
            "46:27",
            "Excelente clase, muchas gracias profesor.",
            "I don't understand the second step, why is it zero?",
            "Схема очень понятная",
        ]
    )
    yes = [{d.category for d in ds if d.label == "1"} for ds in out]
    assert yes[0] == {"gratitude"}
    assert yes[1] == {"na"}  # nothing else matched: na by the rules.default fallback
    assert {"non_english", "gratitude"} <= yes[2] and "na" not in yes[2]
    assert yes[3] == {"confusion"}
    assert yes[4] == {"non_english"}  # non-ASCII letters
    for ds in out:  # every category decided, labels from the yes/no vocabulary
        assert [d.category for d in ds] == r.label_names
        assert {d.label for d in ds} <= {"0", "1"}


def test_dictionary_fast_path_equals_the_matcher() -> None:
    texts = [
        "Thanks!! THANKS thank-you thx",
        "Why? why WHY",
        "720p video, chalk and board",
        "Excelente clase, muchas gracias profesor.",
        "",
        "   ",
        "@anna it should be 3",
        "Good try, not quite. Let's check your work: when you added 3 and 4?",
        "You need to subtract. No, the answer is 24 = 20 + 4",
        "lol first",
    ]
    for name in ("mathdial-moves", "sight-feedback", "mrbench-pedagogy"):
        r = load_rubric(name)
        fast, plain = RuleLabeler(r), RuleLabeler(r, fast=False)
        assert fast._fast and not plain._fast  # the fast path is used for some patterns
        assert fast.label_texts(texts) == plain.label_texts(texts)


# ------------------------------------------------------------------ runs
def test_annotate_rules_run_dir_rows_and_determinism(tmp_path: Path) -> None:
    corpus = corpus_of(
        [
            ("teacher", "Hi there, walk me through it"),
            ("student", "I got 8"),
            ("teacher", "Why did you add?"),
            ("student", "because"),
            ("teacher", "The answer is 7."),
            ("teacher", "Hmm"),
        ]
    )
    rub = parse_rubric(base_rubric(applies_to={"roles": ["teacher"]}))
    res = annotate_rules(corpus, rub, out=tmp_path / "run")
    assert (tmp_path / "run" / "annotations.jsonl").is_file()
    man = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert man["rater"] == "rules@toy-rules@1" and man["rater_kind"] == "rule"
    assert man["rubric"]["sha256"] == rub.sha256 and man["status"] == "completed"
    ann = read_annotations(tmp_path / "run" / "annotations.jsonl")
    assert list(ann.unit_id) == ["d:0", "d:2", "d:4", "d:5"]  # teacher turns, corpus order
    assert list(ann.label.fillna("NA")) == ["NA", "ask", "tell", "NA"]
    assert set(ann.rater_kind) == {"rule"} and set(ann.rater) == {"rules@toy-rules@1"}
    assert set(ann.run_id) == {res.run_id}
    metas = list(ann.meta)
    assert metas[1]["matches"] == ["ask#0", "qmark"] and metas[1]["decided_by"] == "ask#0"
    assert metas[1]["span"] == "Why" and metas[0]["status"] == "no_match"
    assert metas[1]["provenance"]["rubric_sha256"] == rub.sha256
    assert res.counts == {"ok": 2, "no_match": 2}
    # a rerun is byte-identical (same run id); another directory differs only in run_id
    first = (tmp_path / "run" / "annotations.jsonl").read_bytes()
    again = annotate_rules(corpus, rub, out=tmp_path / "run")
    assert again.run_id == res.run_id
    assert (tmp_path / "run" / "annotations.jsonl").read_bytes() == first
    other = annotate_rules(corpus, rub, out=tmp_path / "run2").annotations
    assert other.drop(columns="run_id").equals(ann.drop(columns="run_id"))


def test_run_dir_of_another_run_is_refused(tmp_path: Path) -> None:
    corpus = corpus_of([("teacher", "why?")])
    annotate_rules(corpus, parse_rubric(base_rubric()), out=tmp_path / "run")
    other = parse_rubric(base_rubric(id="other-rules"))
    with pytest.raises(InputError) as exc:
        annotate_rules(corpus, other, out=tmp_path / "run")
    assert exc.value.field == "rubric_id"
    res = annotate_rules(corpus, other, out=tmp_path / "run", force=True)
    assert set(res.annotations.rater) == {"rules@other-rules@1"}


def test_public_api() -> None:
    import annotation

    assert annotation.annotate_rules is annotate_rules
    assert annotation.rules_rater(load_rubric("mathdial-moves")) == "rules@mathdial-moves@1.0"


def test_rubric_without_patterns_is_refused() -> None:
    with pytest.raises(InputError, match="no rule patterns"):
        annotate_rules(corpus_of([("teacher", "x")]), "talkmoves")


def test_limit_and_labels_in_rubric_set(tmp_path: Path) -> None:
    corpus = corpus_of([("teacher", f"Why {i}? You need to add {i}.") for i in range(5)])
    res = annotate_rules(corpus, "mathdial-moves", out=tmp_path / "r", limit=3)
    ann = res.annotations
    assert len(ann) == 3 and set(ann.label) <= set(load_rubric("mathdial-moves").label_names)


# ------------------------------------------------------------------ dimensions / MRBench
def mrbench_like() -> Corpus:
    texts = [
        ("teacher", "What is 3 + 4?"),
        ("student", "8"),
        ("teacher", "Not quite. When you added 3 and 4, what did you get? Let's count."),
        ("teacher", "The answer is 7."),
        ("teacher", "Great job, you are doing well!"),
    ]
    metas: list[dict[str, Any]] = [
        {"candidate": False},
        {"candidate": False},
        {"candidate": True},
        {"candidate": True},
        {"candidate": True},
    ]
    return corpus_of(texts, turn_meta=metas, name="mrbench")


def test_mrbench_rubric_levels_match_the_loader_vocabulary() -> None:
    from corpora.mrbench import DIMENSIONS

    r = load_rubric("mrbench-pedagogy")
    assert r.mode == "dimensions" and r.ordered
    assert {s: tuple(v) for s, v in r.category_orders.items()} == DIMENSIONS


def test_candidates_only_and_other_candidates_hidden_from_context() -> None:
    r = load_rubric("mrbench-pedagogy")
    items = list(iter_items(mrbench_like(), r))
    assert [i.unit_id for i in items] == ["d:2", "d:3", "d:4"]
    for it in items:  # history shown, no other candidate
        assert "What is 3 + 4?" in it.text and "[student] 8" in it.text
        assert it.text.count("[teacher]") == 2 and it.context_turns == 2


def test_applies_to_meta_selection_is_strict_about_booleans() -> None:
    from annotation.items import count_units, selects_turn

    r = load_rubric("mrbench-pedagogy")
    assert selects_turn(r, "teacher", {"candidate": True})
    assert not selects_turn(r, "teacher", {"candidate": 1})  # True is not 1 here
    assert not selects_turn(r, "teacher", {})
    assert not selects_turn(r, "student", {"candidate": True})
    assert count_units(mrbench_like(), r) == 3 == len(list(iter_items(mrbench_like(), r)))


def test_rules_on_dimensions(tmp_path: Path) -> None:
    res = annotate_rules(mrbench_like(), "mrbench-pedagogy", out=tmp_path / "r")
    ann = res.annotations
    assert set(ann.unit_id) == {"d:2", "d:3", "d:4"}
    # coherence and humanlikeness have neither patterns nor a default: no rows
    assert "mrbench/coherence" not in set(ann.scheme)
    assert res.manifest["rules"]["abstained_schemes"] == [
        "mrbench/coherence",
        "mrbench/humanlikeness",
    ]
    orders = load_rubric("mrbench-pedagogy").category_orders
    for scheme, label in zip(ann.scheme, ann.label, strict=True):
        assert label in orders[scheme]
    got = {
        (u, s.split("/")[1]): lab
        for u, s, lab in zip(ann.unit_id, ann.scheme, ann.label, strict=True)
    }
    assert got[("d:2", "mistake_identification")] == "Yes"  # "Not quite"
    assert got[("d:2", "mistake_location")] == "Yes"  # "When you added"
    assert got[("d:3", "revealing_of_the_answer")] == "Yes (correct)"  # "The answer is"
    assert got[("d:3", "mistake_identification")] == "No"  # default
    assert got[("d:4", "tutor_tone")] == "Encouraging" and got[("d:3", "tutor_tone")] == "Neutral"


def test_dimensions_prompt_schema_and_parser() -> None:
    r = load_rubric("mrbench-pedagogy")
    schema = answer_schema(r)
    assert schema["required"][:8] == r.label_names
    assert schema["properties"]["tutor_tone"]["enum"] == ["Offensive", "Neutral", "Encouraging"]
    assert "To some extent" in system_message(r, "json_schema")
    full = {lb.name: lb.level_names[-1] for lb in r.labels}
    ok = parse_answer(r, json.dumps({**full, "revealing_of_the_answer": "yes (correct)"}))
    assert ok.ok and ok.labels[2] == "Yes (correct)" and len(ok.labels) == 8
    missing = dict(full)
    del missing["coherence"]
    assert parse_answer(r, json.dumps(missing)).reason == '"coherence" is missing'
    bad = parse_answer(r, json.dumps({**full, "tutor_tone": "Yes"}))
    assert not bad.ok and "tutor_tone" in str(bad.reason)


def test_llm_engine_writes_one_row_per_dimension(tmp_path: Path) -> None:
    from annotation import annotate
    from annotation.transport import OpenAITransport

    srv = FakeOpenAI(latency=0.001).start()
    try:
        tr = OpenAITransport(base_url=srv.url, api_key="sk-test", backoff=0.01, timeout=5.0)
        res = annotate(
            mrbench_like(),
            "mrbench-pedagogy",
            model="gpt-4o-mini",
            out=tmp_path / "llm",
            transport=tr,
        )
    finally:
        srv.stop()
    ann = res.annotations
    r = load_rubric("mrbench-pedagogy")
    assert len(ann) == 3 * 8 and set(ann.scheme) == set(r.schemes)
    orders = r.category_orders
    assert all(lab in orders[s] for s, lab in zip(ann.scheme, ann.label, strict=True))
    assert res.manifest["rubric"]["category_orders"] == orders


# ------------------------------------------------------------------ CLI
def _cli(args: list[str]) -> int:
    from toolkit.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_backend_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_corpus(
        corpus_of([("teacher", "Why?"), ("student", "x"), ("teacher", "Great job!")]),
        tmp_path / "c.corpus",
    )
    code = _cli(
        [
            "annotate",
            str(tmp_path / "c.corpus"),
            "--rubric",
            "mathdial-moves",
            "--backend",
            "rules",
            "-o",
            str(tmp_path / "run"),
            "--save-corpus",
            str(tmp_path / "out.corpus"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "rules@mathdial-moves@1.0" in out
    ann = read_annotations(tmp_path / "out.corpus")
    rule = ann[ann.rater_kind == "rule"]
    assert dict(zip(rule.unit_id, rule.label, strict=True)) == {"d:0": "probing", "d:2": "generic"}
    code = _cli(
        [
            "annotate",
            str(tmp_path / "c.corpus"),
            "--rubric",
            "talkmoves",
            "--backend",
            "rules",
            "-o",
            str(tmp_path / "run2"),
        ]
    )
    assert code == 2 and "no rule patterns" in capsys.readouterr().err
    assert not (tmp_path / "run2").exists()


# ------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_mathdial_rules_align_with_human_labels_and_irr_reads_them(
    data_dir: Path, tmp_path: Path
) -> None:
    import corpora

    corpus = corpora.load("mathdial", corpus_path(data_dir, "mathdial"))
    res = annotate_rules(corpus, "mathdial-moves", out=tmp_path / "run")
    rules = res.annotations
    human = corpus.annotations[corpus.annotations.rater == "teacher"]
    assert len(rules) == len(human) == 2570  # every teacher turn; docs/corpora.md
    pairs = set(zip(rules.unit_id, rules.scheme, strict=True))
    assert pairs == set(zip(human.unit_id, human.scheme, strict=True))
    assert rules.label.notna().all()  # rules.default: generic
    merged = corpus.with_annotations(rules).validate()
    save_corpus(merged, tmp_path / "md.corpus")
    code = _cli(
        [
            "irr",
            str(tmp_path / "md.corpus"),
            "--scheme",
            "mathdial/move",
            "--humans",
            "teacher",
            "--models",
            "rules@mathdial-moves@1.0",
            "--bootstrap",
            "0",
            "--format",
            "json",
            "-o",
            str(tmp_path / "irr.json"),
        ]
    )
    assert code == 0
    scheme = json.loads((tmp_path / "irr.json").read_text())["schemes"][0]
    assert scheme["n_units"] == 2570
    assert scheme["raters"] == ["teacher", "rules@mathdial-moves@1.0"]


@pytest.mark.realdata
def test_mrbench_dev_rules_align_with_gold(data_dir: Path, tmp_path: Path) -> None:
    import corpora

    corpus = corpora.load("mrbench", corpus_path(data_dir, "mrbench"), releases=["dev"])
    res = annotate_rules(corpus, "mrbench-pedagogy", out=tmp_path / "run")
    rules = res.annotations
    gold = corpus.annotations
    assert rules.unit_id.nunique() == gold.unit_id.nunique() == 2476  # dev responses
    for scheme in set(gold.scheme):  # the dev set's four dimensions
        g = gold[gold.scheme == scheme]
        r = rules[rules.scheme == scheme]
        assert set(r.unit_id) == set(g.unit_id)
