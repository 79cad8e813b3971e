"""Roles of imported turns: named speakers, a role column, default speaker patterns, else other.

Order of precedence: a speaker named in ``teacher``/``student``; the speaker's role in a roster
(:func:`roster_roles`); the role column's value (through ``role_values``, then the default words);
the default speaker patterns; else ``other``. The
:class:`RoleSummary` lists turns and speakers per role so a wrong guess is visible at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "STUDENT_PATTERN",
    "TEACHER_PATTERN",
    "RoleSummary",
    "assign_roles",
    "guess_role",
    "roster_roles",
]

TEACHER_PATTERN = re.compile(
    r"^(?:t\d*|teacher\s*\d*|tutor\s*\d*|instructor\s*\d*|(?:ms|mr|mrs|miss|mx|dr)\.?\s+\S.*)$",
    re.I,
)
STUDENT_PATTERN = re.compile(
    r"^(?:s\d*|ss|sn|students?\s*\d*|student\s*\(s\)|class|learner\s*\d*|pupil\s*\d*)$", re.I
)
_ROLE_WORDS = {"teacher": "teacher", "tutor": "teacher", "student": "student", "other": "other"}


def guess_role(speaker: str) -> str:
    """The role the default patterns give ``speaker``.

    >>> [guess_role(s) for s in ["T", "Ms. Lee", "S3", "Students", "Class", "Maya"]]
    ['teacher', 'teacher', 'student', 'student', 'student', 'other']
    """
    text = speaker.strip()
    if TEACHER_PATTERN.match(text):
        return "teacher"
    if STUDENT_PATTERN.match(text):
        return "student"
    return "other"


@dataclass(frozen=True)
class RoleSummary:
    """Turns and speakers per role (speakers by number of turns, most first).

    Attributes
    ----------
    turns : dict
        Role -> number of turns.
    speakers : dict
        Role -> speakers with that role.
    """

    turns: Mapping[str, int]
    speakers: Mapping[str, tuple[str, ...]]

    def describe(self, limit: int = 8) -> list[str]:
        """One line per role, e.g. ``  teacher   120 turns: T, Ms. Lee``."""
        lines = []
        for role in ("teacher", "student", "other"):
            n = self.turns.get(role, 0)
            if not n:
                continue
            names = list(self.speakers.get(role, ()))
            shown = ", ".join(names[:limit]) + (
                f", ... ({len(names)} in all)" if len(names) > limit else ""
            )
            lines.append(f"  {role:<8} {n:>7,} turns: {shown or '(no speaker)'}")
        return lines


def roster_roles(pairs: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """Speaker (lower case) -> role from roster ``(name, role)`` pairs that have a role: the full
    name, and the first name when no other roster name starts with it.

    >>> roster_roles([("Maya Patel", "student"), ("Ann Lee", "teacher"), ("Ann Ho", "student")])
    {'maya patel': 'student', 'ann lee': 'teacher', 'ann ho': 'student', 'maya': 'student'}
    """
    out = {name.strip().lower(): role for name, role in pairs if role}
    firsts: dict[str, set[str]] = {}
    for name, role in pairs:
        words = name.split()
        if len(words) > 1:
            firsts.setdefault(words[0].lower(), set()).add(role or "")
    for first, roles in firsts.items():
        if len(roles) == 1 and first not in out and "" not in roles:
            out[first] = roles.pop()
    return out


def _value_role(value: str, role_values: Mapping[str, str]) -> str:
    if value in role_values:
        return role_values[value]
    word = _ROLE_WORDS.get(value.strip().lower())
    return word if word is not None else guess_role(value)


def assign_roles(
    speakers: Sequence[str],
    role_column: Sequence[str] | None,
    *,
    teacher: Sequence[str] = (),
    student: Sequence[str] = (),
    role_values: Mapping[str, str] | None = None,
    roster: Mapping[str, str] | None = None,
) -> np.ndarray:
    """The role of each turn (an object array of ``teacher``/``student``/``other``).

    Parameters
    ----------
    speakers : sequence of str
        Speaker per turn (``""`` when unknown).
    role_column : sequence of str, optional
        The role column's value per turn.
    teacher, student : sequence of str
        Speakers (or role-column values) that are teachers / students.
    role_values : mapping, optional
        Role-column value -> role.
    roster : mapping, optional
        Speaker (lower case) -> role, from :func:`roster_roles`.

    Examples
    --------
    >>> assign_roles(["T", "Maya", "Ms. Lee"], None, student=["Maya"]).tolist()
    ['teacher', 'student', 'teacher']
    >>> values = {"learner": "student"}
    >>> assign_roles(["Ann", "Bo"], ["tutor", "learner"], role_values=values).tolist()
    ['teacher', 'student']
    """
    named = {s: "teacher" for s in teacher} | {s: "student" for s in student}
    listed = roster or {}
    values = role_values or {}
    spk = pd.Series(list(speakers), dtype=object).fillna("").astype(str)
    if role_column is None:
        codes, uniques = pd.factorize(spk)
        table = [named.get(s) or listed.get(s.lower()) or guess_role(s) for s in uniques]
    else:
        col = pd.Series(list(role_column), dtype=object).fillna("").astype(str)
        codes, uniques = pd.factorize(spk + "\x00" + col)  # one decision per (speaker, value)
        table = []
        for pair in uniques:
            who, value = pair.split("\x00", 1)
            table.append(
                named.get(who)
                or listed.get(who.lower())
                or named.get(value)
                or _value_role(value, values)
            )
    return np.asarray(table, dtype=object)[codes] if len(codes) else np.empty(0, dtype=object)


def summarise(speakers: Sequence[str], roles: Sequence[str]) -> RoleSummary:
    """Count turns and list speakers per role.

    >>> summarise(["T", "S", "S"], ["teacher", "student", "student"]).turns
    {'teacher': 1, 'student': 2}
    """
    frame = pd.DataFrame({"speaker": list(speakers), "role": list(roles)})
    turns = {str(r): int(n) for r, n in frame["role"].value_counts(sort=False).items()}
    speakers_by: dict[str, tuple[str, ...]] = {}
    for role, group in frame.groupby("role", sort=False):
        counts = group["speaker"].value_counts()
        speakers_by[str(role)] = tuple(str(s) for s in counts.index if str(s))
    return RoleSummary(turns, speakers_by)
