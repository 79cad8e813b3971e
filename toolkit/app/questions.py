"""What a coder answers per unit, derived from the rubric's mode.

``single``: one question whose options are the labels (an ordered scale when the rubric is
ordered). ``binary``: one yes/no question per category. ``multi``: the same yes/no questions, shown
as toggles (unticked categories are "no" when the unit is saved). ``dimensions``: one question per
dimension whose options are its levels, in scale order. Each question writes one scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotation.rubric import Label, Rubric

__all__ = ["Option", "Question", "questions"]


@dataclass(frozen=True)
class Option:
    """One choosable answer: the written label plus the codebook text shown beside it."""

    label: str
    title: str
    definition: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """One decision per unit; ``name`` is the category or dimension ("" in single mode)."""

    name: str
    title: str
    scheme: str
    help: str
    options: tuple[Option, ...]
    ordered: bool


def _examples(lb: Label) -> tuple[str, ...]:
    out = []
    for ex in lb.examples:
        ctx = f" (after: {ex.context})" if ex.context else ""
        note = f" — {ex.note}" if ex.note else ""
        out.append(f"“{ex.text}”{ctx}{note}")
    return tuple(out)


def _option(lb: Label) -> Option:
    return Option(
        label=lb.name,
        title=lb.title or lb.name,
        definition=lb.definition.strip(),
        include=tuple(lb.include),
        exclude=tuple(lb.exclude),
        examples=_examples(lb),
    )


def questions(rubric: Rubric) -> list[Question]:
    """The questions a coder answers for each unit of ``rubric``.

    Examples
    --------
    >>> from annotation.rubric import load_rubric
    >>> [q.scheme for q in questions(load_rubric("mathdial-moves"))]
    ['mathdial/move']
    >>> q = questions(load_rubric("sight-feedback"))[0]
    >>> q.name, [o.label for o in q.options]
    ('general', ['1', '0'])
    """
    r = rubric
    if r.mode == "single":
        opts = tuple(_option(lb) for lb in r.labels)
        return [Question("", r.title or r.id, r.scheme, r.description.strip(), opts, r.ordered)]
    if r.mode == "dimensions":
        return [
            Question(
                lb.name,
                lb.title or lb.name,
                r.scheme_for(lb.name),
                lb.definition.strip(),
                tuple(Option(lv.name, lv.name, (lv.definition or "").strip()) for lv in lb.levels),
                r.ordered,
            )
            for lb in r.labels
        ]
    yes, no = r.yes_no["yes"], r.yes_no["no"]
    return [
        Question(
            lb.name,
            lb.title or lb.name,
            r.scheme_for(lb.name),
            lb.definition.strip(),
            (
                Option(yes, "yes", "", tuple(lb.include), tuple(lb.exclude), _examples(lb)),
                Option(no, "no"),
            ),
            False,
        )
        for lb in r.labels
    ]
