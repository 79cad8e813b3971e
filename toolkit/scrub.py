"""Finding people's names, e-mails, phone numbers, URLs and handles in text, and replacing them.

A :class:`Scrubber` is built once per corpus from a list of :class:`Person` (each with its name
variants and pseudonym) and scrubs strings with one compiled regular expression for the names and
one for the other kinds (run only on strings that can contain them). Names that are also common
words (Will, May, Mark, Grace, ...) are replaced only when written capitalised mid-sentence (or
capitalised at the start of a sentence and followed by a comma or a possessive), unless the user
listed them to be replaced everywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CAPITALISED_WORDS",
    "COMMON_WORD_NAMES",
    "KINDS",
    "NOT_NAMES",
    "ROLE_WORD",
    "Person",
    "Scrubber",
    "local_phone_context",
    "name_variants",
    "speaker_names",
    "trie_pattern",
]

#: Replacement kinds counted in the de-identification record.
KINDS = ("name", "email", "url", "phone", "handle")

#: Names that are also ordinary English words; replaced only where clearly used as a name.
COMMON_WORD_NAMES = frozenset(
    [
        "will",
        "may",
        "mark",
        "grace",
        "bill",
        "rose",
        "hope",
        "faith",
        "joy",
        "june",
        "april",
        "august",
        "frank",
        "pat",
        "sue",
        "jack",
        "ray",
        "dawn",
        "rich",
        "sunny",
        "cliff",
        "gene",
        "guy",
        "miles",
        "penny",
        "ruby",
        "sky",
        "iris",
        "lily",
        "ivy",
        "holly",
        "violet",
        "autumn",
        "summer",
        "winter",
        "river",
        "brook",
        "chase",
        "hunter",
        "carter",
        "mason",
        "baker",
        "cook",
        "young",
        "long",
        "wood",
        "bell",
        "king",
        "hill",
        "white",
        "black",
        "brown",
        "green",
        "gray",
        "grey",
        "price",
        "rice",
        "page",
        "star",
        "angel",
        "amber",
        "pearl",
        "honey",
        "storm",
        "rain",
        "sage",
        "reed",
        "drew",
        "bob",
        "nick",
        "sandy",
        "max",
        "harmony",
        "melody",
        "liberty",
        "justice",
        "patience",
        "mercy",
        "art",
        "bud",
        "buck",
        "chip",
        "dean",
        "don",
        "earl",
        "sterling",
        "rob",
        "robin",
        "skip",
        "tom",
        "van",
        "wade",
        "win",
        "glen",
        "major",
        "mo",
        "norm",
        "ace",
    ]
)

#: Speaker labels that are roles, not people (never treated as names).
ROLE_WORD = re.compile(
    r"^(?:t\d*|s\d*|ss|sn|st|teacher\s*\d*|tutor\s*\d*|instructor\s*\d*|students?\s*\d*|"
    r"student\s*\(s\)|class|learners?\s*\d*|pupils?\s*\d*|group\s*\d*|speaker\s*\d*|unknown|"
    r"other|all|everyone|lecturer|system|bot|ai|assistant|narrator|video|inaudible|\W*|"
    r"\[[^\]]*\]|<[^>]*>)$",
    re.I,
)
#: Words that describe speakers without naming them (and frequent words): never names.
NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "all",
        "both",
        "each",
        "every",
        "either",
        "neither",
        "some",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "everyone",
        "everybody",
        "no",
        "none",
        "nobody",
        "other",
        "others",
        "another",
        "many",
        "several",
        "multiple",
        "few",
        "more",
        "most",
        "one",
        "two",
        "three",
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "they",
        "them",
        "their",
        "who",
        "what",
        "which",
        "yes",
        "yeah",
        "ok",
        "okay",
        "hi",
        "hello",
        "voice",
        "voices",
        "partner",
        "partners",
        "pair",
        "boy",
        "boys",
        "girl",
        "girls",
        "man",
        "men",
        "woman",
        "women",
        "kid",
        "kids",
        "child",
        "children",
        "person",
        "people",
        "blonde",
        "observer",
        "researcher",
        "interviewer",
        "camera",
        "audio",
        "video",
        "mom",
        "dad",
        "mother",
        "father",
        "parent",
        "parents",
        "aide",
        "para",
        "sub",
        "substitute",
        "principal",
        "coach",
        "student",
        "students",
        "teacher",
        "teachers",
        "tutor",
        "tutors",
        "class",
        "group",
        "groups",
        "table",
        "tables",
        "team",
        "row",
        "whole",
        "entire",
        "unknown",
        "unidentified",
        "inaudible",
        "crosstalk",
        "laughter",
        "background",
        "noise",
        "female",
        "male",
        "chorus",
        "choral",
        "together",
        "same",
        "answer",
        "question",
        "response",
        "room",
        "here",
        "there",
    ]
)
#: Words written capitalised that are not people's names: days, months, languages, subjects,
#: interjections. ``edudial deid --check`` never lists them as possible names.
CAPITALISED_WORDS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "september",
        "october",
        "november",
        "december",
        "christmas",
        "easter",
        "halloween",
        "thanksgiving",
        "english",
        "spanish",
        "french",
        "german",
        "chinese",
        "mandarin",
        "japanese",
        "korean",
        "arabic",
        "hindi",
        "latin",
        "greek",
        "italian",
        "portuguese",
        "russian",
        "vietnamese",
        "american",
        "british",
        "canadian",
        "mexican",
        "european",
        "african",
        "asian",
        "indian",
        "america",
        "england",
        "britain",
        "canada",
        "mexico",
        "europe",
        "africa",
        "asia",
        "math",
        "maths",
        "algebra",
        "geometry",
        "calculus",
        "biology",
        "chemistry",
        "physics",
        "science",
        "history",
        "geography",
        "pythagorean",
        "pythagoras",
        "euclid",
        "celsius",
        "fahrenheit",
        "newton",
        "einstein",
        "google",
        "youtube",
        "zoom",
        "internet",
        "ok",
        "okay",
        "um",
        "uh",
        "oh",
        "ah",
        "hmm",
        "mhm",
        "yeah",
        "yep",
        "nope",
        "wow",
        "huh",
        "ooh",
        "alright",
        "god",
        "mr",
        "mrs",
        "ms",
        "mx",
        "dr",
        "prof",
        "sir",
        "madam",
        "miss",
    ]
)
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’.-]*$")
_SPLIT_SPEAKERS = re.compile(r"\s*(?:&|\+|/|,|;|\band\b)\s*", re.I)


def speaker_names(label: str) -> list[str]:
    """The person names in a speaker label (none for role words, numbers and descriptions).

    >>> speaker_names("Meredith and David"), speaker_names("MS. Liu:"), speaker_names("T2")
    (['Meredith', 'David'], ['MS. Liu'], [])
    >>> speaker_names("Both"), speaker_names("~23"), speaker_names("Boy 2")
    ([], [], [])
    """
    out = []
    for part in _SPLIT_SPEAKERS.split(label.strip().rstrip(":`?.,;")):
        part = " ".join(part.split())
        if not part or ROLE_WORD.match(part):
            continue
        words = part.split(" ")
        if not all(_NAME_WORD.match(w) for w in words):
            continue
        if any(w.lower().strip(".") in NOT_NAMES for w in words):
            continue
        real = [w for w in words if not _TITLE.match(w)]
        if not real or all(len(w.strip(".")) < 2 for w in real):
            continue
        out.append(part)
    return out


_TITLE = re.compile(r"^(?:ms|mr|mrs|miss|mx|dr|prof|sir|madam)\.?$", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)"
    r"|(?<![\w+])\+\d{1,3}(?:[\s.-]\d{2,4}){2,4}(?!\w)"
)
#: A local seven-digit number (555-0142, 555 0142, 555.0142): a phone only in a phone context.
_LOCAL_PHONE = re.compile(r"(?<![\w+.,-])\d{3}[ .-]\d{4}(?![\w-]|[.,]\d)")
#: Words that make a nearby local number a phone number ("number" only as someone's number).
_PHONE_WORDS = re.compile(
    r"\b(?:(?:tele|cell|smart)?phon(?:e|es|ed|ing)|tel|cell|cellphone|mobile|call(?:s|ed|ing)?|"
    r"text(?:s|ed|ing)?|dial(?:s|ed|ing)?|fax|whatsapp|contact|reach|ring|"
    r"(?:my|your|his|her|their|our|\w+['’]s|home|work|house|office)\s+(?:phone\s+)?numbers?)\b",
    re.IGNORECASE,
)
#: Arithmetic beside a number: "555 - 142", "x = 200-1000", "minus", "times" stay numbers.
_ARITHMETIC = re.compile(
    r"[=+*/×÷^<>]|\b(?:plus|minus|times|equals?|subtract\w*|add\w*|divided|multipl\w*|"
    r"sum|difference|product|quotient|solve|calculate|compute)\b",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d{3}")
_HANDLE = re.compile(r"(?<![\w.@])@\w{2,}")
_SENTENCE_END = ".!?\n\x00"
_SEP = "\x00"
_WORD_FOLLOWERS = frozenset(
    [
        "i",
        "you",
        "we",
        "they",
        "he",
        "she",
        "it",
        "me",
        "us",
        "them",
        "this",
        "that",
        "these",
        "those",
        "the",
        "a",
        "an",
        "my",
        "your",
        "our",
        "their",
        "his",
        "her",
        "its",
        "be",
        "not",
        "all",
        "some",
        "any",
        "there",
    ]
)


def name_variants(name: str) -> list[str]:
    """The strings that stand for a person: the full name (with and without a title) and its
    first and last words.

    >>> name_variants("Maya Patel")
    ['Maya Patel', 'Maya', 'Patel']
    >>> name_variants("Ms. Grace Okafor")
    ['Ms. Grace Okafor', 'Grace Okafor', 'Grace', 'Okafor']
    >>> name_variants("Ms. Lee")
    ['Ms. Lee', 'Lee']
    """
    full = " ".join(name.split())
    words = [w for w in full.split(" ") if not _TITLE.match(w)]
    words = [w.strip(".,") for w in words if len(w.strip(".,")) >= 2]
    out = [full] if full else []
    for w in [" ".join(words)] + (words[:1] + words[-1:]) if words else []:
        if w not in out:
            out.append(w)
    return out


@dataclass(frozen=True)
class Person:
    """One person: the names that stand for them and the pseudonym replacing them.

    Attributes
    ----------
    names : tuple of str
        Full names and parts, as written (matched case-insensitively unless common words).
    pseudonym : str
        E.g. ``[STUDENT_1]``.
    """

    names: tuple[str, ...]
    pseudonym: str


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words`` (lower case), factored as a trie.

    A trie keeps the engine from trying thousands of alternatives at every position; a space
    in a word matches any run of whitespace.

    >>> trie_pattern(["ann", "anna", "bo"])
    '(?:ann(?:a)?|bo)'
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [
            (r"\s+" if ch == " " else re.escape(ch)) + emit(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    top = emit(trie)
    if not top:
        return "(?!)"
    return top if top.startswith("(?:") and top.endswith(")") else f"(?:{top})"


class Scrubber:
    """Replace names (per :class:`Person`) and e-mails, URLs, phones, handles in strings.

    Parameters
    ----------
    people : sequence of Person
        Earlier people win a name variant they share with later ones.
    always : iterable of str
        Common-word names to replace everywhere, in any case.

    Examples
    --------
    >>> s = Scrubber([Person(("Will Smith", "Will", "Smith"), "[STUDENT_1]")])
    >>> s.scrub("Will you ask Will? WILL SMITH's turn; mail will@school.org")
    "Will you ask [STUDENT_1]? [STUDENT_1]'s turn; mail [EMAIL]"
    >>> sorted(s.counts.items())
    [('email', 1), ('name', 2)]
    """

    def __init__(
        self, people: Sequence[Person], *, always: Iterable[str] = (), words: Iterable[str] = ()
    ) -> None:
        self.table: dict[str, str] = {}
        for person in people:
            for name in person.names:
                self.table.setdefault(_norm(name), person.pseudonym)
        forced = {_norm(a) for a in always}
        self.common = {k for k in self.table if _is_weak(k) and k not in forced}
        # Words the corpus itself mostly writes in lower case ("well", "math"): names only when
        # capitalised mid-sentence, never at a sentence start.
        self.words = {_norm(w) for w in words} - forced
        self.common |= self.words
        self.counts: Counter[str] = Counter()
        pattern = trie_pattern(self.table)
        self.names_rx = re.compile(rf"(?<!\w){pattern}(?!\w)", re.I) if self.table else None

    def _name(self, match: re.Match[str]) -> str:
        found = match.group()
        key = _norm(found)
        if key in self.common and not _used_as_name(match, key in self.words):
            return found
        self.counts["name"] += 1
        return self.table[key]

    def _other(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"[{kind.upper()}]"

    def scrub_contacts(self, text: str) -> str:
        """``text`` with e-mails, URLs, handles and phone numbers replaced."""
        if "@" in text:
            text = _EMAIL.sub(lambda m: self._other("email"), text)
        if "http" in text or "www." in text:
            text = _URL.sub(lambda m: self._other("url"), text)
        if "@" in text:
            text = _HANDLE.sub(lambda m: self._other("handle"), text)
        if _DIGITS.search(text) is not None:
            text = _PHONE.sub(lambda m: self._other("phone"), text)
            text = _LOCAL_PHONE.sub(self._local_phone, text)
        return text

    def _local_phone(self, match: re.Match[str]) -> str:
        """A seven-digit number near a phone word and away from arithmetic becomes [PHONE]."""
        if not local_phone_context(match.string, match.start(), match.end()):
            return match.group()
        return self._other("phone")

    def scrub(self, text: str) -> str:
        """``text`` with names and contact details replaced (counted in :attr:`counts`)."""
        text = self.scrub_contacts(text)
        if self.names_rx is not None:
            text = self.names_rx.sub(self._name, text)
        return text

    def scrub_texts(self, texts: Sequence[str]) -> tuple[list[str], list[Counter[str]]]:
        """Scrub many texts at once; also returns the replacements per text.

        The names pass runs once over all texts joined by NUL (a sentence boundary for the
        common-word rule), which is much faster than one substitution per text.
        """
        per_text: list[Counter[str]] = [Counter() for _ in texts]
        out = list(texts)
        if not out:
            return [], []
        for i, text in enumerate(texts):
            if ("@" in text or "www." in text or "http" in text) or _DIGITS.search(text):
                out[i] = self.scrub_contacts(text)
                per_text[i].update(self.counts)
                self.counts.clear()
        joined = _SEP.join(out)
        if self.names_rx is None or (_SEP in joined and joined.count(_SEP) != len(out) - 1):
            return self._one_by_one(out, per_text)
        starts = np.cumsum([0] + [len(t) + 1 for t in out[:-1]]) if out else np.empty(0)
        hits: list[int] = []

        def replace(match: re.Match[str]) -> str:
            before = self.counts["name"]
            new = self._name(match)
            if self.counts["name"] != before:
                hits.append(match.start())
            return new

        result = self.names_rx.sub(replace, joined).split(_SEP)
        for i in np.searchsorted(starts, hits, side="right") - 1:
            per_text[int(i)]["name"] += 1
        self.counts.clear()
        return result, per_text

    def _one_by_one(
        self, texts: list[str], per_text: list[Counter[str]]
    ) -> tuple[list[str], list[Counter[str]]]:
        out = []
        for i, text in enumerate(texts):
            out.append(self.names_rx.sub(self._name, text) if self.names_rx else text)
            per_text[i].update(self.counts)
            self.counts.clear()
        return out, per_text

    def find(self, text: str) -> list[str]:
        """The name variants in ``text`` that :meth:`scrub` would replace (nothing is counted)."""
        if self.names_rx is None:
            return []
        found = []
        for m in self.names_rx.finditer(text):
            key = _norm(m.group())
            if key not in self.common or _used_as_name(m, key in self.words):
                found.append(m.group())
        return found


def local_phone_context(text: str, start: int, end: int) -> bool:
    """Whether the seven-digit number at ``text[start:end]`` reads as a phone number.

    A phone word (phone, call, text, cell, someone's number: "my number", "mom's number", ...)
    within 40 characters before it or 20 after, and no arithmetic (a sign, or a word such as
    minus or solve) within 15. "The number 555-1000" alone is arithmetic, not a phone.

    >>> text = "My mom's number is 555-0142."
    >>> local_phone_context(text, text.index("555"), text.index("2.") + 1)
    True
    >>> text = "What number is 555-1000 minus 3?"
    >>> local_phone_context(text, text.index("555"), text.index("0 m") + 1)
    False
    """
    before, after = text[max(0, start - 40) : start], text[end : end + 20]
    if not (_PHONE_WORDS.search(before) or _PHONE_WORDS.search(after)):
        return False
    near = text[max(0, start - 15) : start] + " " + text[end : end + 15]
    return _ARITHMETIC.search(near) is None


def _norm(name: str) -> str:
    return " ".join(name.split()).lower()


def _is_weak(key: str) -> bool:
    """A name variant that is also a word (or too short to be safe) in any case."""
    return key in COMMON_WORD_NAMES or len(key) <= 2


def _used_as_name(match: re.Match[str], mid_only: bool = False) -> bool:
    """A common-word name counts as a name when capitalised (not all caps) mid-sentence, or
    capitalised at a sentence start and followed by a comma or a possessive."""
    found = match.group()
    if not found[:1].isupper() or (len(found) > 1 and found.isupper()):
        return False
    start = match.start()
    before = match.string[max(0, start - 12) : start].rstrip(" \t\"'“‘(")
    if not before and start > 12:  # only spaces in the window: look further back
        before = match.string[max(0, start - 200) : start].rstrip(" \t\"'“‘(")
    if before and before[-1] not in _SENTENCE_END:
        return True
    if mid_only:
        return False
    after = match.string[match.end() : match.end() + 12]
    if after[:1] == "," or after[:2] in ("'s", "’s"):
        return True
    # At a sentence start a name is followed by a verb ("Grace said"); the word is followed by
    # a pronoun or determiner ("May I", "Will you", "Mark the").
    following = after.split(" ", 2)[1:2] if after[:1] == " " else []
    return bool(following) and following[0].strip(".,!?;:").lower() not in _WORD_FOLLOWERS
