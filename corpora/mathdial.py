"""MathDial (Macina et al. 2023): one-to-one math tutoring dialogues with a teacher move per turn.

Reads the MathDial release folder (``data/test.jsonl`` by default), a folder holding the split
files directly (``test.jsonl``, as exported from the Hugging Face Hub), or one ``.jsonl``/``.csv``
file.

Mapping
-------
- One record -> one dialogue of kind ``tutoring``; ``split`` is the file name stem (``test``).
- ``dialogue_id`` is ``"<qid>-<h>"`` where ``<h>`` is the first 8 hex digits of the SHA-1 of
  the ``conversation`` text: ``(qid, scenario)`` is not a key in MathDial, the conversation is.
  The id is the same whichever file format the record comes from.
- ``conversation`` is split on ``|EOM|`` into turns ``"<Speaker>: <text>"``. ``Teacher`` -> role
  ``teacher``; any other speaker (``Student`` or the student's first name) -> role ``student``,
  with the raw name kept in ``speaker``. Turn text is stripped of surrounding whitespace;
  newlines inside a turn are kept.
- A teacher turn's leading ``(<move>)`` tag (regex ``^\\((\\w+)\\)\\s*``) is removed from the
  text and becomes an annotation of that turn: scheme ``mathdial/move``, rater ``teacher``,
  rater_kind ``human``, label one of ``focus``, ``probing``, ``telling``, ``generic``. An unknown
  move is an error; a teacher turn without a tag gets no annotation.
- Dialogue ``meta``: ``qid``, ``scenario`` (int), ``question``, ``ground_truth``,
  ``student_incorrect_solution``, ``student_profile``, ``student_name`` (first word of the profile),
  ``teacher_described_confusion``, ``self-correctness`` (str or None), ``self-typical-confusion``,
  ``self-typical-interactions`` (Likert 1-5, int or None).

Type drift between ``test.jsonl``, ``test.csv`` and ``example.jsonl`` (all-string values, literal
``\\n`` in the solutions) is normalised, so the same record gives the same rows from every file.

Examples
--------
>>> import corpora                                                     # doctest: +SKIP
>>> c = corpora.load("mathdial", "corpora/mathdial")                   # doctest: +SKIP
>>> c                                                                  # doctest: +SKIP
Corpus(mathdial: 418 dialogues, 4883 turns, 2570 annotations)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpora._common import (
    Rows,
    as_int,
    as_str,
    dialogue_row,
    iter_jsonl,
    read_utf8,
    require_file,
    short_hash,
    source_label,
    turn_row,
)
from toolkit.errors import InputError, csv_records
from toolkit.schema import Corpus

__all__ = ["MOVES", "ParsedTurn", "load", "parse_conversation"]

CORPUS = "mathdial"
MOVE_SCHEME = "mathdial/move"
#: The teacher moves of MathDial: scaffolding (focus, probing), telling, generic.
MOVES: tuple[str, ...] = ("focus", "probing", "telling", "generic")
DEFAULT_FILE = "data/test.jsonl"
EOM = "|EOM|"

_TAG = re.compile(r"^\((\w+)\)\s*")
# A speaker label: one word before the first colon ("Teacher", "Student", "DeAndre"). Every
# speaker in MathDial is one word; allowing more would accept "So the answer: 5" as a speaker.
_SPEAKER = re.compile(r"^\s*([^\W\d_][\w'.\-]*)\s*:")

_REQUIRED = ("qid", "scenario", "conversation")
_TEXT_FIELDS = (
    "question",
    "ground_truth",
    "student_incorrect_solution",
    "student_profile",
    "teacher_described_confusion",
    "self-correctness",
)
_LIKERT_FIELDS = ("self-typical-confusion", "self-typical-interactions")
_SOLUTION_FIELDS = ("ground_truth", "student_incorrect_solution")


@dataclass(frozen=True)
class ParsedTurn:
    """One turn of a MathDial conversation string."""

    speaker: str
    role: str
    text: str
    move: str | None


def parse_conversation(conversation: str) -> list[ParsedTurn]:
    """Split a MathDial ``conversation`` string into turns.

    Parameters
    ----------
    conversation : str
        Turns ``"<Speaker>: <text>"`` joined by ``|EOM|``; teacher turns start ``(<move>)``.

    Returns
    -------
    list of ParsedTurn

    Raises
    ------
    ValueError
        If a turn has no ``Speaker:`` prefix or a teacher move is not one of :data:`MOVES`
        (the message names the 1-based turn number).

    Examples
    --------
    >>> turns = parse_conversation("Teacher: (probing)Why 9?|EOM|Mariana: Because 12 - 3 = 9. ")
    >>> [(t.role, t.speaker, t.move, t.text) for t in turns]  # doctest: +NORMALIZE_WHITESPACE
    [('teacher', 'Teacher', 'probing', 'Why 9?'),
     ('student', 'Mariana', None, 'Because 12 - 3 = 9.')]
    """
    turns: list[ParsedTurn] = []
    for chunk in conversation.split(EOM):
        match = _SPEAKER.match(chunk)
        if match is None:
            shown = chunk.strip()[:40]
            raise ValueError(
                f"turn {len(turns) + 1} has no speaker (expected 'Speaker: text', got {shown!r})"
            )
        speaker, text = match[1], chunk[match.end() :].strip()
        if speaker != "Teacher":
            turns.append(ParsedTurn(speaker, "student", text, None))
            continue
        tag = _TAG.match(text)
        if tag is None:  # an untagged teacher turn: kept, without a move
            turns.append(ParsedTurn(speaker, "teacher", text, None))
            continue
        move = tag[1].lower()
        if move not in MOVES:
            raise ValueError(
                f"turn {len(turns) + 1} has unknown teacher move {tag[1]!r} "
                f"(expected one of {', '.join(MOVES)})"
            )
        turns.append(ParsedTurn(speaker, "teacher", text[tag.end() :].strip(), move))
    return turns


def _records_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return iter_jsonl(path)


def _records_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = read_utf8(path)
    if not text.strip():
        raise InputError("file is empty", path=path)
    columns, records = csv_records(text, path=path)
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        hint = ""
        header = text.split("\n", 1)[0]
        if len(columns) == 1 and any(d in header for d in ("\t", ";")):
            hint = "; the file does not look comma-separated (wrong delimiter?)"
        raise InputError(
            f"missing column(s) {', '.join(missing)}{hint}", path=path, line=1, field=missing[0]
        )
    for line, row in records:
        yield line, dict(zip(columns, row, strict=True))


def _normalise_record(record: dict[str, Any], *, path: Path, line: int) -> dict[str, Any]:
    """Typed dialogue fields from one raw record (JSONL with any value types, or CSV strings)."""
    for key in _REQUIRED:
        if key not in record:
            raise InputError("missing field", path=path, line=line, field=key)
    meta: dict[str, Any] = {
        "qid": as_int(record["qid"], path=path, line=line, field="qid", required=True),
        "scenario": as_int(
            record["scenario"], path=path, line=line, field="scenario", required=True
        ),
    }
    for key in _TEXT_FIELDS:
        value = record.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise InputError(
                f"expected text, got {type(value).__name__}", path=path, line=line, field=key
            )
        text = as_str(value)
        if text == "":
            text = None  # CSV writes missing as an empty field
        if text is not None and key in _SOLUTION_FIELDS and "\n" not in text and "\\n" in text:
            text = text.replace("\\n", "\n")  # example.jsonl escapes its newlines
        meta[key] = text
    for key in _LIKERT_FIELDS:
        value = as_int(record.get(key), path=path, line=line, field=key)
        if value is not None and not 1 <= value <= 5:
            raise InputError(
                f"expected a Likert rating 1-5, got {value}", path=path, line=line, field=key
            )
        meta[key] = value
    profile = meta["student_profile"]
    meta["student_name"] = profile.split(maxsplit=1)[0] if profile and profile.strip() else None
    conversation = record["conversation"]
    if not isinstance(conversation, str) or not conversation.strip():
        raise InputError(
            "expected a non-empty conversation string", path=path, line=line, field="conversation"
        )
    meta["conversation"] = conversation
    return meta


def _read_file(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        records: Iterable[tuple[int, dict[str, Any]]] = _records_jsonl(path)
    elif suffix == ".csv":
        records = _records_csv(path)
    else:
        raise InputError("unsupported MathDial file type; expected .jsonl or .csv", path=path)
    n = 0
    for line, record in records:
        n += 1
        yield line, _normalise_record(record, path=path, line=line)
    if n == 0:
        raise InputError("no dialogues: the file holds no records", path=path)


def _resolve_files(path: Path, files: str | Sequence[str] | None, split: str | None) -> list[Path]:
    if path.is_file():
        if files is not None or split is not None:
            raise InputError(
                "files= and split= apply to a MathDial folder, not a single file", path=path
            )
        return [path]
    if not path.is_dir():
        raise InputError("no such file or directory", path=path)
    if files is not None and split is not None:
        raise InputError("give either files= or split=, not both", path=path)
    if split is not None:
        names: list[str] = [f"data/{split}.jsonl"]
    elif files is None:
        names = [DEFAULT_FILE]
    else:
        names = [files] if isinstance(files, str) else list(files)
        if not names:
            raise InputError("files= is empty", path=path)
    return [_find_file(path, name) for name in names]


def _find_file(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, in its ``data/``, or without ``data/`` (the Hugging Face layout).

    The GitHub release keeps ``data/test.jsonl``; a Hub export has ``test.jsonl`` at the top.
    """
    p = Path(name)
    if p.is_absolute():
        return require_file(p)
    if p.parts[0] == "data" and len(p.parts) > 1:
        candidates = [folder / p, folder.joinpath(*p.parts[1:])]
    else:
        candidates = [folder / p, folder / "data" / p]
    found = next((c for c in candidates if c.is_file()), None)
    if found is not None:
        return found
    if not candidates[0].exists():
        raise InputError(f"file not found (nor {candidates[1]})", path=candidates[0])
    return require_file(candidates[0])


def load(
    path: Path, *, files: str | Sequence[str] | None = None, split: str | None = None
) -> Corpus:
    """Load MathDial into the edudial schema.

    Parameters
    ----------
    path : Path
        The MathDial folder (``$EDUDIAL_DATA/mathdial``), a folder holding ``test.jsonl``
        directly (the Hugging Face layout), or a single ``.jsonl``/``.csv`` file.
    files : str or list of str, optional
        For a folder: the file(s) to read, relative to the folder (or to its ``data/``; a name
        starting ``data/`` is also looked up without it); default ``data/test.jsonl``. Each
        file's stem becomes the ``split``.
    split : str, optional
        For a folder: shorthand for ``files="data/<split>.jsonl"``.

    Returns
    -------
    Corpus
        Not yet validated (``corpora.load`` validates).

    Raises
    ------
    InputError
        Missing/unreadable file, malformed JSON line or CSV row, a bad field value, a turn
        without a speaker, an unknown teacher move, or the same dialogue in two files (the
        message names file, line and field).

    Examples
    --------
    >>> from pathlib import Path                                       # doctest: +SKIP
    >>> load(Path("corpora/mathdial"), files="data/test.csv")          # doctest: +SKIP
    Corpus(mathdial: 418 dialogues, 4883 turns, 2570 annotations)
    """
    rows = Rows()
    seen: dict[str, tuple[Path, int]] = {}  # dialogue id -> where it was read
    for file in _resolve_files(Path(path), files, split):
        for line, meta in _read_file(file):
            conversation = meta.pop("conversation")
            dialogue_id = f"{meta['qid']}-{short_hash(conversation)}"
            if dialogue_id in seen:
                first, first_line = seen[dialogue_id]
                raise InputError(
                    f"dialogue {dialogue_id} (same qid and conversation) already read from "
                    f"{first}:{first_line}; load the files separately",
                    path=file,
                    line=line,
                )
            seen[dialogue_id] = (file, line)
            try:
                turns = parse_conversation(conversation)
            except ValueError as exc:
                raise InputError(str(exc), path=file, line=line, field="conversation") from None
            rows.dialogues.append(dialogue_row(CORPUS, dialogue_id, split=file.stem, meta=meta))
            _add_turns(rows, dialogue_id, turns)
    return rows.corpus()


def _add_turns(rows: Rows, dialogue_id: str, turns: list[ParsedTurn]) -> None:
    """The turns of one dialogue, and each teacher move as an annotation of its turn."""
    for index, turn in enumerate(turns):
        row = turn_row(
            CORPUS,
            dialogue_id,
            index,
            role=turn.role,
            speaker=turn.speaker,
            text=turn.text,
            meta={},
        )
        rows.turns.append(row)
        if turn.move is not None:
            label = source_label(
                CORPUS, row["turn_id"], MOVE_SCHEME, turn.move, rater="teacher", meta={}
            )
            rows.annotations.append(label)
