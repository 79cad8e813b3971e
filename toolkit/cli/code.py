"""``edudial code``: samples, blind coding workbooks, import, disagreements and status.

A thin layer over :mod:`annotation.coding`; the agreement shown by ``code status`` comes from
:mod:`eval` (``annotation`` never imports ``eval``, the CLI ties them together).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

from toolkit.cli.inputs import assignment_options, coding_round, load_corpus_spec, round_option
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["EXTRA_COMMANDS", "code_cmd"]

#: ``edudial code`` subcommands defined in other modules (the coding web app, issue 16):
#: name -> (module, attribute). Offered once their module exists; imported only when invoked.
EXTRA_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("toolkit.cli.code_serve", "serve_cmd"),
    "export-labels": ("toolkit.cli.code_serve", "export_labels_cmd"),
}


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class _CodeGroup(click.Group):
    """The ``code`` group: its own subcommands plus :data:`EXTRA_COMMANDS`, loaded lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        extra = [n for n, (m, _) in EXTRA_COMMANDS.items() if _exists(m)]
        return [*super().list_commands(ctx), *extra]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name)
        entry = EXTRA_COMMANDS.get(cmd_name)
        if own is not None or entry is None or not _exists(entry[0]):
            return own
        command: click.Command = getattr(importlib.import_module(entry[0]), entry[1])
        return command


def _split(value: str | None, option: str) -> list[str]:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    if not items:
        raise InputError(f"{option}: give comma-separated names, e.g. ana,ben")
    return items


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@click.group("code", cls=_CodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def code_cmd() -> None:
    """Human coding: samples, blind workbooks, import, disagreements and adjudication.

    \b
    Examples:
      edudial code sample mathdial.corpus --rubric mathdial-moves --n 200 --seed 7 -o sample.json
      edudial code export mathdial.corpus --rubric mathdial-moves --coders ana,ben \\
          --sample sample.json --overlap 0.2 -o coding/
      edudial code import coding/ana.xlsx coding/ben.xlsx --into mathdial.corpus
      edudial code status coding/
      edudial code disagreements mathdial.corpus --scheme mathdial/move --raters ana,ben \\
          -o adjudicate.xlsx
      edudial code import adjudicate.xlsx --into mathdial.corpus
    """


# ---------------------------------------------------------------------------------- sample
@code_cmd.command("sample")
@click.argument("corpus_spec", metavar="CORPUS")
@click.option("--rubric", required=True, metavar="NAME|FILE", help="Rubric whose units to draw.")
@click.option("--n", "n", type=int, required=True, help="Units to draw.")
@click.option("--seed", type=int, required=True, help="Seed: the same seed, the same sample.")
@click.option("--stratify-by", metavar="RATER", help="Stratify on this rater's labels.")
@click.option("--stratify-scheme", metavar="SCHEME", help="Scheme of those labels.")
@click.option(
    "--min-per-label",
    type=int,
    default=0,
    show_default=True,
    metavar="K",
    help="At least K units per label of the stratifying rater.",
)
@click.option(
    "--exclude-coded",
    metavar="SCHEME",
    help="Skip units that already have a human label in SCHEME.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Sample file (JSON) to write.",
)
def sample_cmd(
    corpus_spec: str,
    *,
    rubric: str,
    n: int,
    seed: int,
    stratify_by: str | None,
    stratify_scheme: str | None,
    min_per_label: int,
    exclude_coded: str | None,
    out: Path,
) -> None:
    """Draw a reproducible sample of the units a rubric applies to.

    Every unit's inclusion probability is written to the sample file (units[].inclusion_probability)
    so estimates can weight by it.

    \b
    Example:
      edudial code sample mathdial.corpus --rubric mathdial-moves --n 200 --seed 7 \\
          --stratify-by gpt-4o-mini@mathdial-moves@1.0 --min-per-label 20 -o sample.json
    """
    from annotation.coding import draw_sample, write_sample
    from annotation.rubric import load_rubric

    s = draw_sample(
        load_corpus_spec(corpus_spec),
        load_rubric(rubric),
        n=n,
        seed=seed,
        stratify_by=stratify_by,
        stratify_scheme=stratify_scheme,
        min_per_label=min_per_label,
        exclude_coded=exclude_coded,
    )
    write_sample(s, out)
    d = s.design
    click.echo(f"{out}: {d.n} of {d.population} units ({d.method}, seed {s.seed})")
    for st in d.strata if d.stratify_by else ():
        click.echo(
            f"  {st.stratum}: {st.drawn}/{st.population} "
            f"(inclusion probability {st.inclusion_probability:.4g})"
        )
    for note in s.notes:
        click.echo(f"note: {note}")


# ---------------------------------------------------------------------------------- export
@code_cmd.command("export")
@click.argument("corpus_spec", metavar="CORPUS")
@click.option("--rubric", required=True, metavar="NAME|FILE", help="Rubric to code with.")
@click.option("--coders", required=True, help="Comma-separated coder names (one workbook each).")
@assignment_options
@click.option(
    "--round",
    "round_",
    default="r1",
    show_default=True,
    help="Coding round (run_id of the imported rows).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    default="xlsx",
    show_default=True,
    help="csv: for Google Sheets (no dropdowns).",
)
@click.option("--force", is_flag=True, help="Replace existing workbooks of these coders.")
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True, help="Folder for the workbooks."
)
def export_cmd(
    corpus_spec: str,
    *,
    rubric: str,
    coders: str,
    sample_path: Path | None,
    overlap: float,
    seed: int | None,
    round_: str,
    fmt: str,
    force: bool,
    out: Path,
) -> None:
    """Write one blind coding workbook per coder (rows shuffled per coder).

    \b
    Example:
      edudial code export mathdial.corpus --rubric mathdial-moves --coders ana,ben \\
          --sample sample.json --overlap 0.2 -o coding/
    """
    from annotation.coding import export_workbooks, read_sample
    from annotation.rubric import load_rubric

    sample = None if sample_path is None else read_sample(sample_path)
    books = export_workbooks(
        load_corpus_spec(corpus_spec),
        load_rubric(rubric),
        _split(coders, "--coders"),
        out,
        sample=sample,
        sample_sha256=None if sample_path is None else _file_sha256(sample_path),
        overlap=overlap,
        seed=seed,
        round=round_,
        fmt="csv" if fmt == "csv" else "xlsx",
        overwrite=force,
    )
    for b in books:
        shared = f" ({b.shared} shared by every coder)" if b.shared else ""
        click.echo(f"{b.path}: {b.units} units{shared}")


# ---------------------------------------------------------------------------------- import
@code_cmd.command("import")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--into", "into", required=True, metavar="CORPUS", help="Saved corpus the labels are added to."
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Write the corpus here (default: replace CORPUS in place).",
)
@click.option(
    "--rubric", metavar="NAME|FILE", help="Refuse workbooks made for another rubric version."
)
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    help="A CSV's manifest, if not NAME.manifest.json beside it.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def import_cmd(
    workbooks: tuple[Path, ...],
    *,
    into: str,
    out: Path | None,
    rubric: str | None,
    manifest: Path | None,
    force: bool,
) -> None:
    """Import filled coding or adjudication workbooks; nothing is written on any error.

    Re-importing a workbook replaces that coder's labels of that round (no duplicates).

    \b
    Example:
      edudial code import coding/*.xlsx --into mathdial.corpus -o mathdial+coded.corpus
    """
    from annotation.coding import import_workbooks
    from annotation.rubric import load_rubric

    if out is None and not Path(into).is_dir():
        raise InputError(f"--into {into!r} is not a saved corpus folder: give -o OUT")
    corpus = load_corpus_spec(into)
    target = Path(into) if out is None else out
    if out is not None and out.exists() and not force and out.resolve() != Path(into).resolve():
        raise InputError("output already exists; pass --force", path=out)
    res = import_workbooks(
        corpus,
        list(workbooks),
        rubric=None if rubric is None else load_rubric(rubric),
        manifest=manifest,
    )
    res.corpus.validate()
    res.corpus.save(target, overwrite=True)
    for b in res.books:
        if b.manifest.kind == "coding":
            click.echo(f"{b.progress()} ({b.path.name}, round {b.manifest.round})")
    for b, a in zip(
        (b for b in res.books if b.manifest.kind != "coding"), res.adjudications, strict=True
    ):
        click.echo(
            f"adjudicated ({b.manifest.person}, round {b.manifest.round}): {a.decided} decided, "
            f"{a.agreed} agreed, {a.single_coder} single-coder, {len(a.undecided)} undecided"
        )
    click.echo(f"wrote {target}")


# ---------------------------------------------------------------------------- disagreements
def _round_of(corpus: Corpus, raters: Sequence[str], schemes: Sequence[str]) -> str:
    a = corpus.annotations
    mask = (a["rater"].isin(list(raters)) & a["scheme"].isin(list(schemes))).fillna(False)
    rounds = sorted({str(r) for r in a.loc[mask.to_numpy(dtype=bool), "run_id"].dropna()})
    if len(rounds) != 1:
        found = ", ".join(rounds) or "none"
        raise InputError(f"--raters {','.join(raters)}: give --round (rounds found: {found})")
    return rounds[0]


def _rubric_of(corpus: Corpus, raters: Sequence[str], scheme: str) -> Any:
    """The rubric the raters coded ``scheme`` with (from their rows' meta), if built in."""
    from annotation.coding import meta_dicts
    from annotation.rubric import builtin_rubrics, load_rubric

    a = corpus.annotations
    mask = (a["rater"].isin(list(raters)) & (a["scheme"] == scheme)).fillna(False)
    metas = meta_dicts(a.loc[mask.to_numpy(dtype=bool), "meta"])
    refs = {(m.get("rubric"), m.get("rubric_sha256")) for m in metas if m.get("rubric")}
    if len(refs) != 1:
        raise InputError(f"cannot tell which rubric coded {scheme}: pass --rubric")
    rid, sha = next(iter(refs))
    if rid in builtin_rubrics() and load_rubric(str(rid)).sha256 == sha:
        return load_rubric(str(rid))
    raise InputError(
        f"{scheme} was coded with rubric {rid} (sha256 {str(sha)[:12]}): pass --rubric"
    )


@code_cmd.command("disagreements")
@click.argument("corpus_spec", metavar="CORPUS")
@click.option(
    "--scheme", "schemes", multiple=True, required=True, help="Scheme to compare (repeatable)."
)
@click.option("--raters", required=True, help="Comma-separated coders to compare.")
@click.option("--round", "round_", help="Coding round (default: the only one of these raters).")
@click.option("--rubric", metavar="NAME|FILE", help="Default: the rubric named in the rows.")
@click.option(
    "--show-model",
    metavar="RATER",
    help="Also show this model's label, marked as such (off by default).",
)
@click.option(
    "--adjudicator",
    default="adjudicator",
    show_default=True,
    help="Name recorded in the adjudicated rows.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Adjudication workbook (.xlsx, or .csv) to write.",
)
def disagreements_cmd(
    corpus_spec: str,
    *,
    schemes: tuple[str, ...],
    raters: str,
    round_: str | None,
    rubric: str | None,
    show_model: str | None,
    adjudicator: str,
    out: Path,
) -> None:
    """Write the units where coders differ, side by side, with a final-label dropdown.

    \b
    Example:
      edudial code disagreements mathdial.corpus --scheme mathdial/move --raters ana,ben \\
          --adjudicator cy -o adjudicate.xlsx
    """
    from annotation.coding import write_disagreements
    from annotation.rubric import load_rubric

    corpus = load_corpus_spec(corpus_spec)
    coders = _split(raters, "--raters")
    rub = load_rubric(rubric) if rubric else _rubric_of(corpus, coders, schemes[0])
    book = write_disagreements(
        corpus,
        rub,
        out,
        coders=coders,
        round=round_ or _round_of(corpus, coders, schemes),
        adjudicator=adjudicator,
        model=show_model,
        schemes=list(schemes),
    )
    click.echo(f"{book.path}: {book.units} disagreements to adjudicate")


# ---------------------------------------------------------------------------------- status
def _label_frame(books: Sequence[Any]) -> pd.DataFrame:
    """The coding workbooks' labels as human annotation rows (``run_id`` = the round)."""
    rows = [
        (lab.unit_id, lab.scheme, b.manifest.person, lab.label, b.manifest.round)
        for b in books
        if b.manifest.kind == "coding"
        for lab in b.labels
    ]
    frame = pd.DataFrame(rows, columns=["unit_id", "scheme", "rater", "label", "run_id"])
    return frame.assign(rater_kind="human")


def _rounds_named(sub: pd.DataFrame) -> str:
    """``round r1``, or ``rounds ana r2, ben r1`` when the coders' rounds differ."""
    rounds = sorted(set(sub["run_id"]))
    if len(rounds) == 1:
        return f"round {rounds[0]}"
    pairs = sorted(set(zip(sub["rater"], sub["run_id"], strict=True)))
    return "rounds " + ", ".join(f"{r} {n}" for r, n in pairs)


def _agreement_lines(books: Sequence[Any], frame: pd.DataFrame, bootstrap: int) -> list[str]:
    """Per scheme, the kappa on the units coded by at least two coders (one round each)."""
    import eval

    n = frame.groupby(["scheme", "unit_id"])["rater"].transform("nunique")
    frame = frame[n >= 2]
    orders = {s: o for b in books for s, o in b.manifest.rubric.category_orders.items()}
    clusters = {r.unit_id: r.dialogue_id for b in books for r in b.manifest.rows}
    out = []
    for scheme, sub in frame.groupby("scheme", sort=True):
        res = eval.agreement(
            sub[["unit_id", "scheme", "rater", "label"]],
            bootstrap=bootstrap,
            cluster=clusters,
            categories=orders.get(str(scheme)),
            seed=0,
        )[str(scheme)]
        name = "cohen_kappa" if len(res.raters) == 2 else "fleiss_kappa"
        k = res.metrics[name]
        ci = "" if k.ci is None else f" [{k.ci[0]:.3f}, {k.ci[1]:.3f}] ({k.ci_method})"
        label = "Cohen's kappa" if name == "cohen_kappa" else "Fleiss' kappa"
        out.append(
            f"{_rounds_named(sub)}, {scheme}: {label} {k.estimate:.3f}{ci} on {res.n_units} "
            f"units coded by {', '.join(res.raters)}"
        )
    return out


def _status_labels(books: Sequence[Any], round_: str | None) -> tuple[list[Any], pd.DataFrame]:
    """The workbooks to list and the labels to compare: ``round_``'s, else each coder's latest."""
    from annotation.coding import order_rounds

    frame = _label_frame(books)
    if round_ is None:
        return list(books), coding_round(frame)[0]
    rounds = {b.manifest.round for b in books}
    if round_ not in rounds:
        listed = order_rounds(rounds) or sorted(rounds)
        raise InputError(
            f"--round {round_!r}: no workbook of that round; rounds: {', '.join(listed)}"
        )
    shown = [b for b in books if b.manifest.round == round_]
    if not (frame["run_id"] == round_).any():  # nothing coded in that round yet
        return shown, frame.iloc[:0]
    return shown, coding_round(frame, round_)[0]


@code_cmd.command("status")
@click.argument("folder", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--bootstrap",
    "bootstrap",
    type=int,
    default=1000,
    show_default=True,
    help="Bootstrap replicates of the kappa interval (0: analytic).",
)
@round_option
def status_cmd(folder: Path, *, bootstrap: int, round_: str | None) -> None:
    """Per coder coded/total, and agreement on the overlap so far (kappa with its interval).

    \b
    Examples:
      edudial code status coding/
      edudial code status coding/ --round r2
    """
    from annotation.coding import read_workbooks

    paths = (
        sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xlsx", ".csv"))
        if folder.is_dir()
        else [folder]
    )
    if not paths:
        raise InputError("no .xlsx or .csv workbooks here", path=folder)
    books, problems = read_workbooks(paths)
    shown, labels = _status_labels(books, round_)
    for b in shown:
        click.echo(f"{b.progress()} ({b.path.name}, round {b.manifest.round})")
    for p in problems:
        click.echo(f"problem: {p}")
    lines = _agreement_lines(books, labels, bootstrap)
    for line in lines or ["no unit coded by two coders yet: no agreement to report"]:
        click.echo(line)
