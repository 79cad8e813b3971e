"""The public label-row API of ``annotation.coding``: units, samples, coder and adjudicated rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from annotation.coding import (
    ADJUDICATED,
    CodedLabel,
    CorpusIdentity,
    LabelSource,
    adjudicated_rows,
    applicable_units,
    coder_rows,
    coding_units,
    draw_sample,
    find_disagreements,
    read_sample,
    replace_round,
    write_sample,
)
from annotation.items import count_units
from annotation.rubric import load_rubric
from toolkit import Corpus, InputError
from toolkit.demo import bundled_sample

MOVES = load_rubric("mathdial-moves")
SRC = LabelSource("python")


def _toy(texts: list[tuple[str, str, dict]]) -> Corpus:
    """One dialogue ``d`` whose turns are (role, text, meta)."""
    n = len(texts)
    return Corpus(
        pd.DataFrame(
            {"corpus": ["t"], "dialogue_id": ["d"], "split": ["x"], "kind": ["k"], "meta": [{}]}
        ),
        pd.DataFrame(
            {
                "corpus": ["t"] * n,
                "dialogue_id": ["d"] * n,
                "turn_id": [f"d:{i}" for i in range(n)],
                "index": list(range(n)),
                "role": [r for r, _, _ in texts],
                "speaker": ["x"] * n,
                "text": [t for _, t, _ in texts],
                "meta": [m for _, _, m in texts],
            }
        ),
    ).validate()


# ------------------------------------------------------------------ units
@pytest.mark.parametrize("name", ["mathdial-moves", "sight-feedback", "talkmoves"])
def test_applicable_units_are_the_units_the_annotator_labels(name: str) -> None:
    corpus, rubric = bundled_sample(), load_rubric(name)
    units = applicable_units(corpus, rubric)
    assert len(units) == count_units(corpus, rubric)
    assert len({u.unit_id for u in units}) == len(units)


def test_coding_unit_shows_context_target_and_fields() -> None:
    c = _toy(
        [
            ("student", "s0", {}),
            ("teacher", "t1", {}),
            ("student", "s2", {}),
            ("teacher", "t3", {}),
            ("student", "s4", {}),
        ]
    )
    c.dialogues.at[0, "meta"] = {"question": "2+2?"}
    rubric = MOVES.model_copy(update={"context": MOVES.context.model_copy(update={"turns": 2})})
    units = coding_units(c, rubric)
    assert [u.unit_id for u in units] == ["d:1", "d:3"]
    last = units[1]
    assert last.target_text == "[teacher] t3"
    assert last.context_text == "question: 2+2?\n\n[teacher] t1\n[student] s2"
    assert last.after_text == ""


def test_excluded_turns_never_appear_as_context() -> None:
    mr = load_rubric("mrbench-pedagogy")
    c = _toy(
        [
            ("student", "history", {}),
            ("teacher", "cand A", {"candidate": True}),
            ("teacher", "cand B", {"candidate": True}),
        ]
    )
    b = coding_units(c, mr)[1]
    assert b.unit_id == "d:2"
    assert "cand A" not in b.context_text and "[student] history" in b.context_text


def test_checksum_changes_with_any_shown_text() -> None:
    a = coding_units(_toy([("teacher", "Why 3?", {})]), MOVES)[0]
    b = coding_units(_toy([("teacher", "Why 4?", {})]), MOVES)[0]
    assert a.checksum != b.checksum and len(a.checksum) == 16


def test_cell_text_is_storable() -> None:
    u = coding_units(_toy([("teacher", "a\r\nb\x07", {})]), MOVES)[0]
    assert u.target_text == "[teacher] a\nb\ufffd"


def test_unknown_unit_is_an_input_error() -> None:
    from annotation.coding import UnitRef

    with pytest.raises(InputError, match="not a turn of the corpus"):
        coding_units(_toy([("teacher", "x", {})]), MOVES, [UnitRef("t", "d:9", "d")])


# ------------------------------------------------------------------ coder rows
def test_coder_rows_have_the_schema_and_provenance() -> None:
    rows = coder_rows(
        [CodedLabel("t", "d:0", "mathdial/move", "focus", note="n", where="ana.xlsx!Code!D2")],
        coder="ana",
        round="r1",
        rubric=MOVES,
        source=LabelSource("workbook", "ana.xlsx", "ab" * 32),
    )
    row = rows.iloc[0]
    assert (row["rater"], row["rater_kind"], row["run_id"], row["label"]) == (
        "ana",
        "human",
        "r1",
        "focus",
    )
    m = row["meta"]
    assert m["file"] == "ana.xlsx" and m["file_sha256"] == "ab" * 32
    assert m["where"] == "ana.xlsx!Code!D2" and m["note"] == "n"
    assert (m["rubric"], m["rubric_version"], m["rubric_sha256"]) == (
        "mathdial-moves",
        "1.0",
        MOVES.sha256,
    )


def test_coder_rows_of_a_binary_rubric_name_the_category() -> None:
    sight = load_rubric("sight-feedback")
    rows = coder_rows(
        [CodedLabel("t", "d:0", "sight/setup", "1")],
        coder="ana",
        round="r1",
        rubric=sight,
        source=SRC,
    )
    assert rows["meta"][0]["category"] == "setup"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (CodedLabel("t", "d:0", "mathdial/move", "probng", where="X!D2"), "X!D2: 'probng' is not"),
        (CodedLabel("t", "d:0", "other/scheme", "focus"), "scheme 'other/scheme'"),
    ],
)
def test_coder_rows_refuse_labels_outside_the_rubric(label: CodedLabel, message: str) -> None:
    with pytest.raises(InputError, match=message):
        coder_rows([label], coder="ana", round="r1", rubric=MOVES, source=SRC)


def test_coder_rows_refuse_duplicates_and_reserved_names() -> None:
    lab = CodedLabel("t", "d:0", "mathdial/move", "focus")
    with pytest.raises(InputError, match="labelled twice"):
        coder_rows([lab, lab], coder="ana", round="r1", rubric=MOVES, source=SRC)
    for bad in (ADJUDICATED, "gpt@x@1", ""):
        with pytest.raises(InputError):
            coder_rows([lab], coder=bad, round="r1", rubric=MOVES, source=SRC)


def test_replace_round_leaves_no_duplicates_and_only_touches_that_round() -> None:
    c = _toy([("teacher", "a", {}), ("teacher", "b", {})])

    def rows(coder: str, rnd: str, labels: dict[str, str]) -> pd.DataFrame:
        return coder_rows(
            [CodedLabel("t", u, "mathdial/move", lab) for u, lab in labels.items()],
            coder=coder,
            round=rnd,
            rubric=MOVES,
            source=SRC,
        )

    def put(corpus: Corpus, coder: str, rnd: str, labels: dict[str, str]) -> Corpus:
        new = rows(coder, rnd, labels)
        return replace_round(corpus, new, rater=coder, round=rnd, schemes=MOVES.schemes)

    c = put(c, "ana", "r1", {"d:0": "focus", "d:1": "telling"})
    c = put(c, "ben", "r1", {"d:0": "generic"})
    c = put(c, "ana", "r0", {"d:0": "probing"})
    c = put(c, "ana", "r1", {"d:0": "probing"}).validate()  # re-import: d:1 now blank
    got = sorted(map(tuple, c.annotations[["rater", "run_id", "unit_id", "label"]].values))
    assert got == [
        ("ana", "r0", "d:0", "probing"),
        ("ana", "r1", "d:0", "probing"),
        ("ben", "r1", "d:0", "generic"),
    ]
    with pytest.raises(InputError, match="does not belong"):
        replace_round(
            c, rows("ben", "r1", {"d:0": "focus"}), rater="ana", round="r1", schemes=["x"]
        )


# ------------------------------------------------------------------ adjudication
def _round() -> pd.DataFrame:
    labels = {
        "ana": {"u1": "focus", "u2": "telling", "u3": "generic", "u4": "focus"},
        "ben": {"u1": "probing", "u2": "telling", "u3": "focus"},
    }
    return pd.concat(
        [
            coder_rows(
                [CodedLabel("c", u, "mathdial/move", lab) for u, lab in by.items()],
                coder=coder,
                round="r1",
                rubric=MOVES,
                source=SRC,
            )
            for coder, by in labels.items()
        ],
        ignore_index=True,
    )


def test_disagreements_are_the_units_coded_differently() -> None:
    found = find_disagreements(_round(), coders=["ana", "ben"], round="r1", schemes=MOVES.schemes)
    assert [(d.unit_id, d.labels) for d in found] == [
        ("u1", (("ana", "focus"), ("ben", "probing"))),
        ("u3", (("ana", "generic"), ("ben", "focus"))),
    ]
    assert find_disagreements(_round(), coders=["ana", "ben"], round="r2", schemes=["x"]) == []


def test_adjudicated_rows_make_the_gold_set_whole() -> None:
    res = adjudicated_rows(
        _round(),
        [CodedLabel("c", "u1", "mathdial/move", "probing", note="asks why")],
        coders=["ana", "ben"],
        round="r1",
        adjudicator="cy",
        rubric=MOVES,
        source=SRC,
    )
    rows = res.rows.set_index("unit_id")
    assert dict(rows["label"]) == {"u1": "probing", "u2": "telling", "u4": "focus"}
    assert {u: m["basis"] for u, m in rows["meta"].items()} == {
        "u1": "decided",
        "u2": "agreed",
        "u4": "single_coder",
    }
    assert set(rows["rater"]) == {ADJUDICATED} and set(rows["rater_kind"]) == {"human"}
    assert rows.loc["u1", "meta"]["adjudicator"] == "cy"
    assert rows.loc["u1", "meta"]["coders"] == {"ana": "focus", "ben": "probing"}
    assert (res.decided, res.agreed, res.single_coder) == (1, 1, 1)
    assert [d.unit_id for d in res.undecided] == ["u3"]


# ------------------------------------------------------------------ samples
def test_sample_is_reproducible_and_weights_sum_to_the_population() -> None:
    corpus = bundled_sample()
    a = draw_sample(corpus, MOVES, n=12, seed=7)
    b = draw_sample(corpus, MOVES, n=12, seed=7)
    c = draw_sample(corpus, MOVES, n=12, seed=8)
    assert a == b and a.units != c.units
    assert {u.inclusion_probability for u in a.units} == {12 / 33}
    assert a.design.population == 33 and len({u.unit_id for u in a.units}) == 12


def test_stratified_sample_gives_rare_labels_their_minimum() -> None:
    corpus = bundled_sample()
    a = corpus.annotations
    sizes = a[a["rater"] == "coder_a"]["label"].value_counts().to_dict()
    s = draw_sample(corpus, MOVES, n=10, seed=1, stratify_by="coder_a", min_per_label=2)
    drawn = pd.Series([u.stratum for u in s.units]).value_counts().to_dict()
    assert all(k >= min(2, sizes[h]) for h, k in drawn.items())
    for st in s.design.strata:
        assert st.population == sizes[st.stratum]
        assert st.inclusion_probability == pytest.approx(st.drawn / st.population)
    assert sum(u.weight for u in s.units) == pytest.approx(33)


def test_exclude_coded_leaves_out_units_with_human_labels() -> None:
    corpus = bundled_sample()
    with pytest.raises(InputError, match="no units left"):
        draw_sample(corpus, MOVES, n=5, seed=1, exclude_coded="mathdial/move")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 3, "stratify_by": "coder_a", "min_per_label": 2}, "too small"),
        ({"n": 3, "min_per_label": 2}, "needs --stratify-by"),
        ({"n": 3, "stratify_by": "nobody"}, "has no labels"),
        ({"n": 0}, "at least 1"),
    ],
)
def test_sample_option_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        draw_sample(bundled_sample(), MOVES, seed=1, **kwargs)


def test_sample_file_round_trip_and_field_names(tmp_path: Path) -> None:
    corpus = bundled_sample()
    s = draw_sample(corpus, MOVES, n=6, seed=3, stratify_by="coder_b")
    p = write_sample(s, tmp_path / "sample.json")
    assert read_sample(p) == s
    data = json.loads(p.read_text())
    assert set(data["units"][0]) == {
        "corpus",
        "unit_id",
        "dialogue_id",
        "stratum",
        "inclusion_probability",
    }
    assert data["rubric"]["sha256"] == MOVES.sha256
    assert data["corpus"]["sha256"] == CorpusIdentity.of(corpus).sha256
    s.check(corpus, MOVES)
    with pytest.raises(InputError, match="sample drawn for rubric mathdial-moves"):
        s.check(corpus, load_rubric("talkmoves"))


def test_bad_sample_files_name_the_field(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text('{"format": "edudial-sample", "units": [], "seed": 1}')
    with pytest.raises(InputError, match="field 'rubric'"):
        read_sample(p)
    p.write_text("{}")
    with pytest.raises(InputError, match="not an edudial sample file"):
        read_sample(p)
    s = draw_sample(bundled_sample(), MOVES, n=2, seed=1).to_dict()
    s["units"][1]["inclusion_probability"] = 0
    p.write_text(json.dumps(s))
    with pytest.raises(InputError, match=r"units\.1\.inclusion_probability"):
        read_sample(p)


def test_exclude_coded_draws_from_the_uncoded_units() -> None:
    corpus = bundled_sample()
    a = corpus.annotations
    coded = sorted(set(a["unit_id"]))[:5]
    corpus = corpus.with_annotations(a[a["unit_id"].isin(coded)], replace=True)
    s = draw_sample(corpus, MOVES, n=40, seed=2, exclude_coded="mathdial/move")
    assert s.design.population == 28 and len(s.units) == 28
    assert not {u.unit_id for u in s.units} & set(coded)
    assert {u.inclusion_probability for u in s.units} == {1.0}
    assert "not eligible" in s.notes[0]


def test_stratifying_rater_with_conflicting_runs_is_refused() -> None:
    corpus = bundled_sample()
    a = corpus.annotations
    first = a[a["rater"] == "coder_a"].iloc[[0]].assign(run_id="run2", label="zzz")
    corpus = corpus.with_annotations(first)
    with pytest.raises(InputError, match="1 unit\\(s\\) different labels in several runs"):
        draw_sample(corpus, MOVES, n=5, seed=1, stratify_by="coder_a")
