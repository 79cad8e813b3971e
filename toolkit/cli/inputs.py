"""What the commands read: a saved corpus folder, or ``NAME:PATH`` loaded with a corpus loader;
and the rater defaults every command shares (who counts as a human coder, short model names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from toolkit.errors import InputError
from toolkit.schema import Corpus

if TYPE_CHECKING:
    from annotation.coding import RoundSelection

__all__ = [
    "Coders",
    "assignment_options",
    "coding_round",
    "human_coders",
    "load_corpus_spec",
    "resolve_rater",
    "resolve_raters",
    "round_note",
    "round_option",
]

F = TypeVar("F", bound=Callable[..., object])


def load_corpus_spec(spec: str) -> Corpus:
    """A saved corpus directory, or ``NAME:PATH`` read with the corpus loader ``NAME``.

    A path that exists is always read as a saved corpus, so a folder whose name holds a colon
    still works; the loader name is matched case-insensitively, ``-`` as ``_``.
    """
    name, sep, rest = spec.partition(":")
    if sep and len(name) > 1 and not Path(spec).exists():
        import corpora

        loader = name.lower().replace("-", "_")
        if loader not in corpora.available():
            raise InputError(
                f"unknown corpus {name!r} in {spec!r}; available: "
                f"{', '.join(corpora.available())} (or give a saved corpus dir)"
            )
        return corpora.load(loader, rest)
    from toolkit.io import read_corpus

    return read_corpus(spec)


def assignment_options(command: F) -> F:
    """``--sample``, ``--overlap`` and ``--seed``: which units each coder gets, in which order.

    ``edudial code export`` and ``edudial code serve`` share them, so the workbooks and the app
    give every coder the same units in the same order.
    """
    options = (
        click.option(
            "--sample",
            "sample_path",
            type=click.Path(path_type=Path),
            help="Sample file from `edudial code sample` (default: every unit).",
        ),
        click.option(
            "--overlap",
            type=click.FloatRange(0, 1),
            default=1.0,
            show_default=True,
            help="Fraction of units every coder codes; the rest is split between coders.",
        ),
        click.option(
            "--seed",
            type=int,
            help="Seed of the split and of each coder's order (default: the sample's).",
        ),
    )
    for option in reversed(options):  # as if stacked as decorators, top first
        command = option(command)
    return command


def round_option(command: F) -> F:
    """``--round ROUND``: only that coding round's human labels (default: each coder's latest).

    ``edudial irr``, ``edudial code status``, ``edudial plan`` and ``edudial estimate`` share it;
    the choice itself is :func:`annotation.coding.select_round` (see :func:`coding_round`).
    """
    return click.option(
        "--round",
        "round_",
        metavar="ROUND",
        help="Only this coding round's human labels (their run_id, e.g. r1). Default: each "
        "coder's latest round (r1 < r2 < r10, else by recorded time), said on stderr.",
    )(command)


def coding_round(data: Any, round: str | None = None) -> tuple[Any, RoundSelection]:
    """``data`` with one coding round per human coder and scheme, and the selection made.

    ``data`` is a :class:`~toolkit.schema.Corpus` or an annotations frame; the rows are chosen by
    :func:`annotation.coding.select_round` (``round``, else each coder's latest round; model rows
    and human rows without a round are kept). When a round was left out, the selection's note
    goes to stderr in one line.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"unit_id": ["u1", "u1"], "scheme": "s", "label": ["x", "y"],
    ...                   "rater": "ana", "rater_kind": "human", "run_id": ["r1", "r2"]})
    >>> rows, sel = coding_round(a, "r1")
    >>> rows["label"].tolist(), sel.choices[0].left_out
    (['x'], ('r2',))
    """
    from annotation.coding import select_round

    table = getattr(data, "annotations", data)
    selection = select_round(table, round)
    note = selection.note()
    if note is not None:
        click.echo(note, err=True)
    if len(selection.annotations) == len(table):
        return data, selection
    if isinstance(data, Corpus):
        return data.with_annotations(selection.annotations, replace=True), selection
    return selection.annotations, selection


def round_note(selection: RoundSelection, schemes: Sequence[str]) -> str | None:
    """The selection's note for ``schemes`` as a sentence of a report's notes (or ``None``)."""
    note = selection.note(schemes)
    return None if note is None else note[0].upper() + note[1:] + "."


@dataclass(frozen=True)
class Coders:
    """The human coders a command compares, and the gold raters it left out of them.

    ``names`` is ``None`` when the annotations carry no ``rater_kind`` (the caller then decides,
    usually every rater); ``left_out`` lists the gold raters of kind human that were not counted.
    """

    names: list[str] | None
    left_out: list[str]


def human_coders(
    annotations: Any,
    *,
    named: Sequence[str] | None = None,
    gold: str | None = None,
    schemes: Iterable[str] | None = None,
) -> Coders:
    """The human coders: ``named`` when given, else every rater of kind human but the gold ones.

    Gold labels (``adjudicated``, or the ``--gold`` rater) are derived from the coders' own
    labels: counted as one more coder they would inflate the agreement among the humans. Every
    command that compares human coders (``edudial irr``, ``edudial plan CORPUS``) takes this
    default, so a report and a plan from the same corpus quote the same coders.

    Parameters
    ----------
    annotations : pandas.DataFrame
        Annotation rows (``rater``, ``scheme``, optionally ``rater_kind``).
    named : sequence of str, optional
        The ``--humans`` of the command line: when given, exactly these raters (gold or not).
    gold : str, optional
        The ``--gold`` rater, left out like ``adjudicated``.
    schemes : iterable of str, optional
        Only raters of these schemes (default: every scheme).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"scheme": "move", "rater": ["ana", "ben", "adjudicated", "gpt"],
    ...                   "rater_kind": ["human", "human", "human", "model"]})
    >>> human_coders(a)
    Coders(names=['ana', 'ben'], left_out=['adjudicated'])
    >>> human_coders(a, named=["ana", "adjudicated"]).names
    ['ana', 'adjudicated']
    """
    from annotation.coding import ADJUDICATED

    if named is not None:
        return Coders(list(named), [])
    if "rater_kind" not in getattr(annotations, "columns", ()):
        return Coders(None, [])
    rows = annotations
    if schemes is not None:
        rows = rows[rows["scheme"].isin(list(schemes))]
    humans = sorted({str(r) for r in rows.loc[rows["rater_kind"] == "human", "rater"].dropna()})
    gold_raters = {ADJUDICATED, gold}
    return Coders(
        [r for r in humans if r not in gold_raters], [r for r in humans if r in gold_raters]
    )


def resolve_rater(name: str, raters: Iterable[str], *, option: str, where: str = "") -> str:
    """The rater ``name`` stands for: itself, or the one rater whose name starts ``name@``.

    Model raters are named ``model@rubric@version`` (``gpt-4o-mini@mathdial-moves@1.0``); on the
    command line the model alone is enough when it names exactly one rater.

    Parameters
    ----------
    name : str
        What the user typed.
    raters : iterable of str
        The raters present.
    option : str
        The option's name for the error (``--model``).
    where : str
        Where the raters were looked for (``" in scheme 'move'"``), for the error.

    Raises
    ------
    InputError
        ``name`` names no rater or several; the message lists the candidates.

    Examples
    --------
    >>> raters = ["ana", "gpt-4o-mini@mathdial-moves@1.0", "gpt-4o@mathdial-moves@1.0"]
    >>> resolve_rater("gpt-4o-mini", raters, option="--model")
    'gpt-4o-mini@mathdial-moves@1.0'
    >>> resolve_rater("ana", raters, option="--model")
    'ana'
    """
    present = sorted(set(raters))
    if name in present:
        return name
    matches = [r for r in present if r.split("@", 1)[0] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(
            f"{option} {name!r} names several raters{where}: {', '.join(matches)}; give one in full"
        )
    raise InputError(f"{option} {name!r} has no labels{where}; raters: {', '.join(present)}")


def resolve_raters(
    names: Sequence[str] | None, raters: Iterable[str], *, option: str, where: str = ""
) -> list[str] | None:
    """:func:`resolve_rater` for each of ``names`` (``None`` stays ``None``).

    Examples
    --------
    >>> resolve_raters(["m1", "m2@r@1"], ["m1@r@1", "m2@r@1"], option="--models")
    ['m1@r@1', 'm2@r@1']
    """
    if names is None:
        return None
    present = list(raters)
    return [resolve_rater(n, present, option=option, where=where) for n in names]
