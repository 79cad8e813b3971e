"""De-identification: planted names and contacts never survive; ordinary words are left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit import Corpus, deidentify, is_deidentified, read_corpus
from toolkit.cli import main
from toolkit.deid import (
    DEID_KEY,
    check,
    deid_status,
    deidentify_corpus,
    possible_names,
    read_roster,
)
from toolkit.errors import InputError

#: (speaker, role, text) of one lesson with planted names, contacts and look-alike words.
LESSON = [
    ("Ms. Grace Okafor", "teacher", "Good morning! Maya, will you read problem 3?"),
    ("Maya", "student", "Yes. May I use Jayden's calculator? Grace said we may."),
    ("Ms. Grace Okafor", "teacher", "Mark the answer first. Then ask Will if he agrees."),
    ("Will", "student", "I will. MAYA's answer was 12, and jayden got 21."),
    ("T", "teacher", "Email me at g.okafor@school.org or call 555-123-4567, Maya."),
    ("S", "student", "See https://example.com/maya-notes or @mayap_22 on the forum."),
    ("Jayden Brooks", "student", "Okafor, my mark was a 9. The grace period ends in May."),
]
ROSTER = "name,role\nMaya Patel,student\nJayden Brooks,student\nGrace Okafor,teacher\n"
PLANTED = ["Maya", "MAYA", "Jayden", "jayden", "Okafor", "Patel", "Brooks", "okafor@", "555-123"]


def _lesson(name: str = "lab", dialogue: str = "maya-lesson1") -> Corpus:
    n = len(LESSON)
    return Corpus(
        dialogues=pd.DataFrame(
            {
                "corpus": [name],
                "dialogue_id": [dialogue],
                "split": [None],
                "kind": [None],
                "meta": [{"source": f"{dialogue}.txt", "teacher_email": "g.okafor@school.org"}],
            }
        ),
        turns=pd.DataFrame(
            {
                "corpus": [name] * n,
                "dialogue_id": [dialogue] * n,
                "turn_id": [f"{dialogue}:{i}" for i in range(n)],
                "index": list(range(n)),
                "role": [r for _, r, _ in LESSON],
                "speaker": [s for s, _, _ in LESSON],
                "text": [t for _, _, t in LESSON],
                "meta": [{"note": "Maya was absent"} if i == 1 else {} for i in range(n)],
            }
        ),
        annotations=pd.DataFrame(
            {
                "corpus": [name],
                "unit_id": [f"{dialogue}:1"],
                "scheme": ["move"],
                "label": ["ask"],
                "rater": ["coder1"],
                "rater_kind": ["human"],
                "run_id": [None],
                "meta": [{"rationale": "Maya asks Jayden for help"}],
            }
        ),
    ).validate()


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "names.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def _all_strings(corpus: Corpus) -> str:
    parts = []
    for table in ("dialogues", "turns", "annotations"):
        frame = getattr(corpus, table)
        for col in frame.columns:
            values = frame[col].tolist()
            parts.extend(
                json.dumps(v, default=str) if isinstance(v, dict) else str(v) for v in values
            )
    return "\n".join(parts)


def test_planted_names_and_contacts_are_replaced(roster: Path) -> None:
    out = deidentify(_lesson(), roster=roster)
    texts = out.turns["text"].tolist()
    assert texts == [
        "Good morning! [STUDENT_1], will you read problem 3?",
        "Yes. May I use [STUDENT_2]'s calculator? [TEACHER_1] said we may.",
        "Mark the answer first. Then ask [STUDENT_3] if he agrees.",
        "I will. [STUDENT_1]'s answer was 12, and [STUDENT_2] got 21.",
        "Email me at [EMAIL] or call [PHONE], [STUDENT_1].",
        "See [URL] or [HANDLE] on the forum.",
        "[TEACHER_1], my mark was a 9. The grace period ends in May.",
    ]
    assert out.turns["speaker"].tolist() == [
        "[TEACHER_1]",
        "[STUDENT_1]",
        "[TEACHER_1]",
        "[STUDENT_3]",
        "T",
        "S",
        "[STUDENT_2]",
    ]
    everything = _all_strings(out)
    for name in PLANTED:
        assert name not in everything.replace(DEID_KEY, ""), name
    assert out.turns["turn_id"].tolist()[0] == "[STUDENT_1]-lesson1:0"  # ids held a name
    assert out.annotations["unit_id"].tolist() == ["[STUDENT_1]-lesson1:1"]
    assert out.annotations["meta"].iloc[0] == {"rationale": "[STUDENT_1] asks [STUDENT_2] for help"}
    assert out.validate() is out


def test_ordinary_words_are_left_alone(roster: Path) -> None:
    before = _lesson().turns["text"].tolist()
    after = deidentify(_lesson(), roster=roster).turns["text"].tolist()
    # every word that is not a planted name or contact is unchanged, in place
    for old, new in zip(before, after, strict=True):
        kept = [w for w in old.split() if not any(p.lower() in w.lower() for p in PLANTED)]
        kept = [w for w in kept if not w.startswith(("Will", "Grace", "Ms.", "http", "@", "g."))]
        for word in kept:
            assert word in new, (word, new)
    for word in (
        "will you",
        "May I",
        "we may",
        "Mark the",
        "I will.",
        "my mark",
        "grace period",
        "in May",
    ):
        assert any(word in t for t in after), word


def test_every_saved_file_is_free_of_names(tmp_path: Path, roster: Path) -> None:
    out = deidentify(_lesson(), roster=roster, keep_map=tmp_path / "private" / "map.json")
    out.save(tmp_path / "c.jsonl", format="jsonl")
    out.save(tmp_path / "c.parquet", format="parquet")
    for path in (tmp_path / "c.jsonl").iterdir():  # plain text files: read every byte
        text = path.read_text(encoding="utf-8")
        for name in PLANTED:
            assert name not in text, (path.name, name)
    again = _all_strings(read_corpus(tmp_path / "c.parquet"))
    assert not any(name in again for name in PLANTED)
    mapping = json.loads((tmp_path / "private" / "map.json").read_text(encoding="utf-8"))
    assert mapping["Maya Patel"] == mapping["Maya"] == mapping["Patel"] == "[STUDENT_1]"
    assert mapping["Ms. Grace Okafor"] == mapping["Okafor"] == "[TEACHER_1]"


def test_same_person_same_pseudonym_across_dialogues(roster: Path) -> None:
    both = Corpus.concat([_lesson(dialogue="a"), _lesson(dialogue="b")])
    out = deidentify(both, roster=roster)
    a = out.turns[out.turns["dialogue_id"] == "a"]["text"].tolist()
    b = out.turns[out.turns["dialogue_id"] == "b"]["text"].tolist()
    assert a == b


def test_record_counts_and_idempotence(roster: Path) -> None:
    result = deidentify_corpus(_lesson(), roster=roster)
    out = result.corpus
    assert is_deidentified(out)
    record = out.dialogues["meta"].iloc[0][DEID_KEY]
    assert record["by"] == "edudial" and record["sources"] == ["speakers", "roster", "patterns"]
    assert record["counts"] == dict(result.counts)
    assert record["counts"]["email"] == 2  # the turn and the dialogue meta
    assert record["counts"]["phone"] == 1 and record["counts"]["url"] == 1
    assert record["counts"]["handle"] == 1
    (status,) = deid_status(out)
    assert status.complete and status.counts == record["counts"]
    assert deidentify(out, roster=roster) == out  # running it twice changes nothing
    assert deidentify(deidentify(out)) == out


def test_common_word_names_only_when_used_as_names() -> None:
    c = _lesson()
    out = deidentify(c, roster=["Will Hart", "May Lin", "Mark Diaz"], speakers=False)
    texts = out.turns["text"].tolist()
    assert texts[1].startswith("Yes. May I use")  # sentence-initial "May I": a word
    assert "ask [PERSON_1] if" in texts[2] and texts[2].startswith("Mark the answer")
    assert texts[6].endswith("ends in [PERSON_2].")  # capitalised mid-sentence: a name
    forced = deidentify(c, roster=["Will Hart"], speakers=False, always=["Will"])
    assert forced.turns["text"].tolist()[3].startswith("I [PERSON_1].")


def test_check_lists_names_left(roster: Path) -> None:
    raw = _lesson()
    found = check(raw, roster=roster)
    assert ("maya-lesson1:0", "text", "Maya") in [(f.turn_id, f.field, f.name) for f in found]
    assert ("maya-lesson1:1", "speaker", "Maya") in [(f.turn_id, f.field, f.name) for f in found]
    assert check(deidentify(raw, roster=roster), roster=roster) == []


def test_cli_deid_and_check(
    tmp_path: Path, roster: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _lesson().save(tmp_path / "raw")
    with pytest.raises(SystemExit) as exit_info:
        main(["deid", "--check", str(tmp_path / "raw"), "--roster", str(roster)])
    assert exit_info.value.code == 1
    assert "lab/maya-lesson1:0\ttext\tMaya" in capsys.readouterr().out
    main(["deid", str(tmp_path / "raw"), "-o", str(tmp_path / "clean"), "--roster", str(roster)])
    assert "replaced: name" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["deid", "--check", str(tmp_path / "clean"), "--roster", str(roster)])
    assert exit_info.value.code == 0
    info = main(["info", str(tmp_path / "clean")])
    assert info is None
    assert "lab: de-identified; by edudial" in capsys.readouterr().out


def test_cli_errors_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _lesson().save(tmp_path / "raw")
    for args in (
        ["deid", str(tmp_path / "raw"), "-o", str(tmp_path / "o1"), "--ner", "no_such_pipeline"],
        [
            "deid",
            str(tmp_path / "raw"),
            "-o",
            str(tmp_path / "o2"),
            "--roster",
            str(tmp_path / "x.csv"),
        ],
        ["deid", str(tmp_path / "raw")],
        ["deid", str(tmp_path / "raw"), "-o", str(tmp_path / "o3"), "--keep-map", str(tmp_path)],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not any((tmp_path / o).exists() for o in ("o1", "o2", "o3"))


def test_ner_uses_an_installed_pipeline_only(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Zed"}])  # type: ignore[attr-defined]
    nlp.to_disk(tmp_path / "ner")
    c = _lesson()
    c.turns.loc[0, "text"] = "Zed and Maya, sit down."
    out = deidentify(c, ner=str(tmp_path / "ner"), speakers=False)
    assert out.turns["text"].iloc[0] == "[PERSON_1] and Maya, sit down."
    with pytest.raises(InputError, match="'en_core_web_zz' is not installed; install it yourself"):
        deidentify(c, ner="en_core_web_zz")


def test_roster_formats_and_errors(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Maya Patel\n\nJayden\n", encoding="utf-8")
    assert read_roster(tmp_path / "a.txt") == [("Maya Patel", None), ("Jayden", None)]
    (tmp_path / "b.csv").write_text("first_name,last_name\nMaya,Patel\n", encoding="utf-8")
    assert read_roster(tmp_path / "b.csv") == [("Maya Patel", None)]
    (tmp_path / "c.csv").write_text("name,role\nMaya,pupil\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"c.csv:2: role 'pupil': expected teacher, student"):
        read_roster(tmp_path / "c.csv")


def test_stray_words_in_the_speaker_column_are_not_names() -> None:
    turns = [
        ("T", "teacher", "Well, what did you get? Let's see how well it works."),
        ("Well", "student", "It works well, I think, as well as before."),  # a mis-filed label
        ("Erik", "student", "Erik says well done."),
        ("T", "teacher", "Well done, Erik. Tell Well the answer."),
    ]
    n = len(turns)
    c = Corpus(
        dialogues=pd.DataFrame(
            {"corpus": ["x"], "dialogue_id": ["d"], "split": [None], "kind": [None], "meta": [{}]}
        ),
        turns=pd.DataFrame(
            {
                "corpus": ["x"] * n,
                "dialogue_id": ["d"] * n,
                "turn_id": [f"d:{i}" for i in range(n)],
                "index": list(range(n)),
                "role": [r for _, r, _ in turns],
                "speaker": [s for s, _, _ in turns],
                "text": [t for _, _, t in turns],
                "meta": [{}] * n,
            }
        ),
    ).validate()
    out = deidentify(c).turns
    assert out["speaker"].tolist() == ["T", "[STUDENT_1]", "[STUDENT_2]", "T"]
    assert out["text"].tolist() == [
        "Well, what did you get? Let's see how well it works.",
        "It works well, I think, as well as before.",
        "[STUDENT_2] says well done.",
        "Well done, [STUDENT_2]. Tell [STUDENT_1] the answer.",  # mid-sentence: a name
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My mom's number is 555-0142.", "My mom's number is [PHONE]."),
        ("Call me at 555 0142 tonight", "Call me at [PHONE] tonight"),
        ("text my cell, 555.0142", "text my cell, [PHONE]"),
        # arithmetic stays, also with a phone word nearby
        ("What is 555 - 142?", "What is 555 - 142?"),
        ("So 555-142 = 413.", "So 555-142 = 413."),
        ("What number is 555-1000 minus 3?", "What number is 555-1000 minus 3?"),
        ("Let's call it x = 200-1000.", "Let's call it x = 200-1000."),
        ("the number 555-1000 is big", "the number 555-1000 is big"),
        ("From 2019-2020 we called it", "From 2019-2020 we called it"),
    ],
)
def test_local_phone_numbers_only_in_a_phone_context(text: str, expected: str) -> None:
    c = _lesson()
    c = Corpus(c.dialogues, c.turns.assign(text=[text] * len(c.turns)), c.annotations)
    out = deidentify_corpus(c, speakers=False)
    assert out.corpus.turns["text"].tolist()[0] == expected
    assert out.counts["phone"] == (len(c.turns) if expected != text else 0)


def test_check_lists_possible_names_off_the_roster(
    tmp_path: Path, roster: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = _lesson()
    extra = ["Ask Priya and Tomás to help.", "Priya's answer is 12, on Monday, says Mr. Okoye."]
    texts = lesson.turns["text"].tolist()
    texts[2], texts[3] = extra
    raw = Corpus(lesson.dialogues, lesson.turns.assign(text=texts), lesson.annotations)
    clean = deidentify(raw, roster=roster)
    found = possible_names(clean, roster=roster)
    assert [(p.name, p.count, p.turn_id) for p in found] == [
        ("Priya", 2, "[STUDENT_1]-lesson1:2"),
        ("Okoye", 1, "[STUDENT_1]-lesson1:3"),
        ("Tomás", 1, "[STUDENT_1]-lesson1:2"),
    ]  # not: sentence starts (Ask, Yes), May (written "may"), Monday, pseudonyms, roster names
    clean.save(tmp_path / "clean")
    with pytest.raises(SystemExit) as exit_info:
        main(["deid", "--check", str(tmp_path / "clean"), "--roster", str(roster)])
    assert exit_info.value.code == 0  # for review: they do not fail the check
    out = capsys.readouterr().out
    assert "possible names to review" in out
    assert "  Priya\t2\tlab/[STUDENT_1]-lesson1:2" in out
    assert out.splitlines()[-1] == "no roster or speaker names left; 3 possible name(s) to review"
