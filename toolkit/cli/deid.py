"""``edudial deid``: replace people's names and contact details before texts leave the machine."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from toolkit.errors import InputError
from toolkit.io import FORMATS, read_corpus, save_corpus
from toolkit.schema import Corpus

__all__ = ["deid_cmd"]

_SHOWN = 50


@click.command("deid")
@click.argument("corpus_path", metavar="CORPUS", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Directory to write.")
@click.option(
    "--roster",
    type=click.Path(path_type=Path),
    help="CSV with a 'name' (and optional 'role') column, or a text file of names.",
)
@click.option(
    "--ner",
    metavar="MODEL",
    help="Also find names with this installed spaCy pipeline (never downloaded).",
)
@click.option(
    "--keep-map",
    type=click.Path(path_type=Path),
    help="Write the name -> pseudonym map here (the only place it is ever written).",
)
@click.option(
    "--always",
    metavar="NAMES",
    default="",
    help="Comma-separated common-word names (Will, May, ...) to replace in any position.",
)
@click.option("--no-speakers", is_flag=True, help="Do not take names from the speaker column.")
@click.option(
    "--check",
    is_flag=True,
    help="List roster/speaker names left (exit 1 if any) and other possible names to review.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="parquet", show_default=True)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def deid_cmd(
    *,
    corpus_path: Path,
    out: Path | None,
    roster: Path | None,
    ner: str | None,
    keep_map: Path | None,
    always: str,
    no_speakers: bool,
    check: bool,
    fmt: str,
    force: bool,
) -> None:
    """De-identify CORPUS: names become [STUDENT_1], [TEACHER_1], ...; e-mails [EMAIL], ...

    Names come from the speaker column, --roster (full names also match first and last names
    alone) and --ner. The same person gets the same pseudonym in every dialogue. Names that are
    common words (Will, May, Mark, Grace) are replaced only where capitalised mid-sentence,
    unless listed with --always. The map is written only to --keep-map. The corpus records what
    was done (see `edudial info`). Running it again changes nothing. --check lists the roster and
    speaker names still present, with their turn ids, and exits 1 if any remain; it also lists
    capitalised words that are neither dictionary words nor on the roster as possible names to
    review, with counts (these do not fail the check).

    \b
    Examples:
      edudial deid lessons.corpus -o lessons.deid --roster names.csv --keep-map private/map.json
      edudial deid --check lessons.deid --roster names.csv
    """
    from toolkit.deid import deidentify_corpus, write_map

    corpus = read_corpus(corpus_path)
    if check:
        sys.exit(_check(corpus, roster, speakers=not no_speakers))
    if out is None:
        raise InputError("missing -o/--out (the directory to write), or pass --check")
    if out.exists() and not force and not (out.is_dir() and not any(out.iterdir())):
        raise InputError("output already exists (pass --force to replace it)", path=out)
    if keep_map is not None and keep_map.is_dir():  # checked before anything is written
        raise InputError("--keep-map must name a file, not a folder", path=keep_map)
    names = tuple(n.strip() for n in always.split(",") if n.strip())
    result = deidentify_corpus(
        corpus, roster=roster, ner=ner, speakers=not no_speakers, always=names
    )
    save_corpus(result.corpus, out, format=fmt, overwrite=out.exists())
    if keep_map is not None:
        write_map(keep_map, result.mapping)
    done = ", ".join(f"{k} {v:,}" for k, v in result.counts.items() if v) or "nothing to replace"
    click.echo(f"{result.corpus!r} -> {out}; replaced: {done}")
    if keep_map is not None:
        click.echo(f"name map -> {keep_map} (keep it private)")


def _check(corpus: Corpus, roster: Path | None, *, speakers: bool) -> int:
    """Print what ``--check`` finds; the exit status (1 when roster or speaker names are left)."""
    from toolkit.deid import check, possible_names

    findings = check(corpus, roster=roster, speakers=speakers)
    for f in findings[:_SHOWN]:
        click.echo(f"{f.corpus}/{f.turn_id}\t{f.field}\t{f.name}")
    if len(findings) > _SHOWN:
        click.echo(f"... and {len(findings) - _SHOWN} more")
    review = possible_names(corpus, roster=roster, speakers=speakers)
    if review:
        click.echo(
            "possible names to review (capitalised, not in the roster, never written in lower "
            "case; they do not fail the check): word, times written, first turn"
        )
        for p in review[:_SHOWN]:
            click.echo(f"  {p.name}\t{p.count}\t{p.corpus}/{p.turn_id}")
        if len(review) > _SHOWN:
            click.echo(f"  ... and {len(review) - _SHOWN} more")
    left = f"{len(findings)} name(s) left" if findings else "no roster or speaker names left"
    extra = f"; {len(review)} possible name(s) to review" if review else ""
    click.echo(left + extra)
    return 1 if findings else 0
