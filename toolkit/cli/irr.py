"""``edudial irr``: inter-rater reliability and human-model agreement reports."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit.cli.inputs import round_option
from toolkit.errors import InputError
from toolkit.files import open_temp

if TYPE_CHECKING:
    from annotation.coding import RoundSelection
    from annotation.rubric import Rubric
    from eval.methods import Codebook

__all__ = ["IrrOptions", "irr_cmd", "run_irr"]


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def _categories(values: tuple[str, ...]) -> list[str] | dict[str, list[str]] | None:
    """``("1,2,3",)`` -> a list for every scheme; ``("s1=a,b", "s2=x,y")`` -> per scheme."""
    if not values:
        return None
    per: dict[str, list[str]] = {}
    common: list[str] | None = None
    for v in values:
        if "=" in v:
            scheme, _, cats = v.partition("=")
            per[scheme.strip()] = _split(cats) or []
        elif common is not None:
            raise InputError("--categories without SCHEME= may be given once")
        else:
            common = _split(v)
    if per and common is not None:
        raise InputError("use either --categories LIST or --categories SCHEME=LIST, not both")
    return per or common


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = open_temp(path.parent, f".{path.name}.")  # the umask's mode, unlike mkstemp
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("irr")
@click.argument("annotations", type=click.Path(path_type=Path))
@click.option(
    "--scheme", "schemes", multiple=True, help="Scheme to analyse (repeatable; default all)."
)
@click.option(
    "--humans",
    help="Comma-separated human raters (default: rater_kind == human, except the gold rater and "
    "'adjudicated').",
)
@round_option
@click.option(
    "--models",
    help="Comma-separated model raters compared with the humans (a model's name alone, e.g. "
    "gpt-4o-mini, when it names one rater).",
)
@click.option(
    "--level",
    type=click.Choice(["nominal", "ordinal", "interval", "ratio"]),
    help="Level of measurement (default: the scheme's, else nominal).",
)
@click.option(
    "--rubric",
    metavar="NAME|FILE",
    help="Codebook (built-in rubric name or YAML file) giving each scheme's categories, their "
    "order and the level (ordered rubrics: ordinal); without --scheme, the rubric's schemes. "
    "--categories/--level may still be given but must agree with it.",
)
@click.option(
    "--categories",
    multiple=True,
    help="Declared categories in codebook order, e.g. 1,2,3,4,5; per scheme with "
    "SCHEME=1,2,3 (repeatable).",
)
@click.option(
    "--weights",
    metavar="NAME|FILE",
    help="Weights of AC2 and the weighted coefficients (ordered levels only): quadratic "
    "(default), linear, ordinal, radical, ratio, circular, bipolar, or a CSV file with a q x q "
    "matrix (header = the categories in order).",
)
@click.option(
    "--bootstrap",
    "B",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap replicates (0 = analytic intervals only).",
)
@click.option(
    "--cluster",
    type=click.Choice(["dialogue", "none"]),
    default="dialogue",
    show_default=True,
    help="Also resample whole dialogues (corpus input).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of the intervals.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json", "latex", "csv", "methods"]),
    help="Output format (default: from -o's suffix, else md): the report (md, html, json), the "
    "paper's agreement table (latex: booktabs, csv) or the methods paragraph (methods).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file.")
@click.option(
    "--plots",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write each figure of the report to this folder (PNG and SVG).",
)
@click.option("--wide", is_flag=True, help="ANNOTATIONS is a wide CSV: one column per rater.")
@click.option("--unit-col", help="Unit id column of a --wide CSV.")
@click.option(
    "--gold",
    help="Gold rater (e.g. adjudicated) or 'majority' (human majority): adds per-code "
    "precision/recall/F1 to the Validity section and schemes[i].gold to the JSON.",
)
@click.option(
    "--epsilon",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.15,
    show_default=True,
    help="Margin of the alternative annotator test (0.2 experts, 0.15 skilled, 0.1 crowd).",
)
@click.option(
    "--plan-width",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.1,
    show_default=True,
    help="Interval half-width for the 'how many more units' line of the Validity section.",
)
def irr_cmd(**options: Any) -> None:
    """Inter-rater reliability (kappa, alpha, AC1, ...) with confidence intervals.

    ANNOTATIONS is a saved corpus directory (units are clustered by dialogue for the cluster
    bootstrap), an annotations file (.jsonl, .parquet, .csv) or, with --wide --unit-col ID, a
    CSV with one column per rater.

    \b
    Examples:
      edudial irr sight.corpus --scheme sight/confusion --humans H1,H2 --models openaichat_v8
      edudial irr ratings.jsonl --level ordinal --categories 1,2,3,4,5 --format html -o irr.html
      edudial irr scores.csv --wide --unit-col item --level interval --bootstrap 2000 --seed 7
      edudial irr coded.corpus --scheme mathdial/move --models gpt-4o-mini --gold adjudicated
      edudial irr coded.corpus --rubric mathdial-moves --format latex -o irr.tex --plots figs
      edudial irr coded.corpus --scheme mathdial/move --humans ana,ben --round r1
    """
    run_irr(IrrOptions(**options))


@dataclass
class IrrOptions:
    """The options of ``edudial irr`` (one field per command-line option)."""

    annotations: Path
    schemes: tuple[str, ...]
    humans: str | None
    models: str | None
    level: str | None
    categories: tuple[str, ...]
    weights: str | None
    B: int
    cluster: str
    seed: int
    confidence: float
    fmt: str | None
    output: Path | None
    wide: bool
    unit_col: str | None
    gold: str | None = None
    epsilon: float = 0.15
    plan_width: float = 0.1
    rubric: str | None = None
    plots: Path | None = None
    round_: str | None = None

    @property
    def format(self) -> str:
        """The output format: ``--format``, else from ``-o``'s suffix, else Markdown."""
        if self.fmt is not None:
            return self.fmt
        suffix = self.output.suffix.lower().lstrip(".") if self.output else ""
        known = {"html": "html", "htm": "html", "json": "json", "tex": "latex", "csv": "csv"}
        return known.get(suffix, "md")


def _read_wide(opts: IrrOptions) -> tuple[Any, tuple[str, ...]]:
    """A wide CSV (one column per rater) as long annotations, and its one scheme."""
    import pandas as pd

    import eval

    path, unit_col = opts.annotations, opts.unit_col
    if not unit_col:
        raise InputError("--wide needs --unit-col (the column with the unit ids)")
    if not path.is_file():
        raise InputError("file not found", path=path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV ({exc})", path=path) from None
    if unit_col not in frame.columns:
        raise InputError(
            f"no column {unit_col!r}; columns: {', '.join(frame.columns)}",
            path=path,
            field=unit_col,
        )
    scheme = opts.schemes[0] if len(opts.schemes) == 1 else path.stem
    return eval.wide_to_long(frame, unit_col, scheme=scheme), (scheme,)


def _read_input(opts: IrrOptions) -> tuple[Any, tuple[str, ...]]:
    """The annotations (a corpus or a long frame) and the schemes asked for."""
    from toolkit.io import read_annotations, read_corpus

    if opts.wide:
        return _read_wide(opts)
    if opts.annotations.is_dir():
        return read_corpus(opts.annotations), opts.schemes
    return read_annotations(opts.annotations), opts.schemes


def _weights(opts: IrrOptions, categories: Any = None) -> Any:
    """A weight name, or the matrix of a weights file (checked against the categories)."""
    from eval.coefficients import WEIGHTS, read_weights

    if opts.weights is None or opts.weights in WEIGHTS:
        return opts.weights
    path = Path(opts.weights)
    if not path.is_file():
        raise InputError(
            f"--weights must be one of {', '.join(WEIGHTS[1:])} or a CSV file; "
            f"{opts.weights!r} is neither"
        )
    common = _categories(opts.categories) if categories is None else categories
    if isinstance(common, Mapping) and len({tuple(v) for v in common.values()}) == 1:
        common = list(next(iter(common.values())))
    return read_weights(path, common if isinstance(common, list) else None)


def _annotations(opts: IrrOptions, data: Any) -> Any:
    """The annotation rows of the schemes asked for (all schemes by default)."""
    table = getattr(data, "annotations", data)
    if opts.schemes and "scheme" in getattr(table, "columns", ()):
        return table[table["scheme"].isin(list(opts.schemes))]
    return table


def _humans(opts: IrrOptions, data: Any) -> list[str] | None:
    """The human raters: ``--humans``, else every human rater but the gold ones.

    The default is :func:`toolkit.cli.inputs.human_coders`, shared with ``edudial plan``. When
    no gold rater was left out, ``None`` lets :func:`eval.agreement` take the humans of each
    scheme by ``rater_kind`` (the same raters, but chosen per scheme).
    """
    from toolkit.cli.inputs import human_coders

    named = _split(opts.humans)
    coders = human_coders(_annotations(opts, data), named=named, gold=opts.gold)
    if named is not None:
        return named
    return coders.names if coders.names and coders.left_out else None


def _models(opts: IrrOptions, data: Any) -> list[str] | None:
    """``--models``, each given in full or by its model name alone (``gpt-4o-mini``)."""
    from toolkit.cli.inputs import resolve_raters

    table = _annotations(opts, data)
    present = table["rater"].dropna().astype(str)
    where = f" in scheme(s) {', '.join(opts.schemes)}" if opts.schemes else ""
    return resolve_raters(_split(opts.models), present, option="--models", where=where)


# ------------------------------------------------------------------ --rubric
@dataclass
class Declared:
    """What the analysis declares per scheme: from the flags, or the codebook (``--rubric``)."""

    schemes: tuple[str, ...]
    categories: list[str] | dict[str, list[str]] | None
    level: str | dict[str, str] | None
    codebook: Codebook | None = None


def _load_rubric(opts: IrrOptions) -> Rubric | None:
    from annotation.rubric import load_rubric

    return None if opts.rubric is None else load_rubric(opts.rubric)


def _flag_categories(flags: Any, scheme: str) -> list[str] | None:
    if isinstance(flags, Mapping):
        return flags.get(scheme)
    return flags


def _check_categories(flag: Sequence[str], rubric: Rubric, scheme: str, ordered: bool) -> None:
    """``--categories`` must be the codebook's categories (in its order for ordered levels)."""
    declared = rubric.category_orders[scheme]
    same = list(flag) == declared if ordered else sorted(flag) == sorted(declared)
    if not same:
        raise InputError(
            f"--categories {','.join(flag)} conflicts with --rubric {rubric.rater}: scheme "
            f"{scheme!r} has the categories {','.join(declared)}"
            + (" in this order" if ordered else "")
            + " (drop --categories, or change the rubric)"
        )


def _level(opts: IrrOptions, rubric: Rubric) -> str:
    """``--level`` checked against the codebook, else the codebook's level."""
    if opts.level is None:
        return "ordinal" if rubric.ordered else "nominal"
    if opts.level != "nominal" and not rubric.ordered:
        raise InputError(
            f"--level {opts.level} conflicts with --rubric {rubric.rater}: its labels are not "
            "ordered (the rubric declares neither 'ordered: true' nor a 'scale'); drop --level "
            "or declare the order in the rubric"
        )
    return opts.level


def _rubric_schemes(opts: IrrOptions, rubric: Rubric, present: Sequence[str]) -> tuple[str, ...]:
    """``--scheme`` (each one of the rubric's), else the rubric's schemes in the annotations."""
    if opts.schemes:
        unknown = [s for s in opts.schemes if s not in rubric.category_orders]
        if unknown:
            raise InputError(
                f"--scheme {', '.join(unknown)} is not a scheme of --rubric {rubric.rater} "
                f"(its schemes: {', '.join(rubric.schemes)})"
            )
        return tuple(opts.schemes)
    chosen = tuple(s for s in rubric.schemes if s in set(present))
    if not chosen:
        raise InputError(
            f"none of the schemes of --rubric {rubric.rater} ({', '.join(rubric.schemes[:10])}) "
            f"is in {opts.annotations}; its schemes: {', '.join(list(present)[:10])}"
        )
    return chosen


def declared(opts: IrrOptions, rubric: Rubric | None, present: Sequence[str]) -> Declared:
    """Schemes, categories and level to analyse: the flags, completed by the codebook.

    With ``--rubric`` each scheme's categories (in codebook order) and level come from the
    rubric; ``--categories`` and ``--level`` may be given as well but must agree with it (same
    categories, in the same order for ordered levels; an ordered level only for an ordered
    rubric), else the error names both.
    """
    from eval.methods import Codebook

    flags = _categories(opts.categories)
    if rubric is None:
        return Declared(opts.schemes, flags, opts.level)
    schemes = _rubric_schemes(opts, rubric, present)
    level = _level(opts, rubric)
    categories: dict[str, list[str]] = {}
    for scheme in schemes:
        flag = _flag_categories(flags, scheme)
        if flag is not None:
            _check_categories(flag, rubric, scheme, ordered=level != "nominal")
        categories[scheme] = list(flag) if flag is not None else rubric.category_orders[scheme]
    codebook = Codebook(rubric.id, rubric.version, rubric.sha256)
    return Declared(schemes, categories, dict.fromkeys(schemes, level), codebook)


def _present_schemes(data: Any) -> list[str]:
    table = getattr(data, "annotations", data)
    if "scheme" not in getattr(table, "columns", ()):
        return []
    return [str(s) for s in table["scheme"].dropna().unique()]


def _check_plots_dir(opts: IrrOptions) -> None:
    if opts.plots is not None and opts.plots.exists() and not opts.plots.is_dir():
        raise InputError("--plots needs a folder; this is a file", path=opts.plots)


def _note_rounds(result: Any, rounds: RoundSelection) -> None:
    """Each scheme's notes name the coding rounds used and left out (when one was left out)."""
    from toolkit.cli.inputs import round_note

    for s in result.schemes:
        note = round_note(rounds, [s.scheme])
        if note is not None:
            s.notes.append(note)


def _render(
    opts: IrrOptions, result: Any, data: Any, decl: Declared, rounds: RoundSelection
) -> str:
    """The output text; the methods text and the HTML report get the annotations' facts.

    The JSON's ``conventions.rounds`` records the coding rounds chosen (when rows carry rounds).
    """
    import eval
    from eval.methods import study

    fmt = opts.format
    facts = None
    if fmt in ("methods", "html"):
        facts = study(result, data, codebook=decl.codebook)
    if rounds.choices and result.conventions is not None:
        result.conventions.rounds = rounds.to_dict()
    return eval.report(result, format=fmt, study=facts)


def run_irr(opts: IrrOptions) -> None:
    """Compute the agreement of ``opts`` and print or write the report."""
    import eval
    from eval.validity import add_validity
    from toolkit.cli.inputs import coding_round

    _check_plots_dir(opts)
    rubric = _load_rubric(opts)
    if rubric is not None and opts.wide and not opts.schemes and len(rubric.schemes) == 1:
        opts = replace(opts, schemes=tuple(rubric.schemes))  # the wide CSV's one scheme
    data, schemes = _read_input(opts)
    data, rounds = coding_round(data, opts.round_)
    decl = declared(replace(opts, schemes=schemes), rubric, _present_schemes(data))
    opts = replace(opts, schemes=decl.schemes)
    result = eval.agreement(
        data,
        list(decl.schemes) or None,
        humans=_humans(opts, data),
        models=_models(opts, data),
        level=decl.level,
        categories=decl.categories,
        weights=_weights(opts, decl.categories),
        bootstrap=opts.B,
        cluster=None if opts.cluster == "none" else "dialogue",
        seed=opts.seed,
        confidence=opts.confidence,
    )
    add_validity(
        result,
        data,
        gold=opts.gold,
        epsilon=opts.epsilon,
        plan_width=opts.plan_width,
        bootstrap=opts.B,
        seed=opts.seed,
        confidence=opts.confidence,
        cluster=None if opts.cluster == "none" else "dialogue",
    )
    _note_rounds(result, rounds)
    fmt = opts.format
    text = _render(opts, result, data, decl, rounds)
    if opts.plots is not None:
        from eval.reporting import write_plots

        paths = write_plots(result, opts.plots)
        click.echo(f"wrote {len(paths)} plot file(s) to {opts.plots}", err=True)
    if opts.output is None:
        click.echo(text.rstrip("\n") if fmt in ("latex", "csv", "methods") else text)
    else:
        _write_atomic(opts.output, text + ("" if text.endswith("\n") else "\n"))
        click.echo(f"wrote {opts.output} ({fmt}, {len(result.schemes)} scheme(s))", err=True)
