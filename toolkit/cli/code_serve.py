"""``edudial code serve`` and ``edudial code export-labels``: the local coding web app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["export_labels_cmd", "serve_cmd"]


def _load_corpus(spec: str) -> Corpus:
    """A saved corpus directory, or ``NAME:PATH`` read with a corpus loader."""
    from toolkit.io import read_corpus

    if ":" in spec and not Path(spec).exists():
        import corpora

        name, _, path = spec.partition(":")
        if name not in corpora.available():
            raise InputError(
                f"unknown corpus {name!r} in {spec!r}; available: "
                f"{', '.join(corpora.available())} (or give a saved corpus dir)"
            )
        return corpora.load(name, path)
    return read_corpus(spec)


@dataclass(frozen=True)
class _ServeArgs:
    coders: str | None
    store: Path | None
    round_: str
    seed: int
    overlap: float
    adjudicator: str
    host: str
    port: int
    verbose: bool


@dataclass(frozen=True)
class _ExportArgs:
    corpus_spec: str | None
    rubric_name: str | None
    fmt: str
    force: bool


def _coders(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


@click.command("serve")
@click.argument("corpus_spec", metavar="CORPUS")
@click.option("--rubric", "rubric_name", required=True, help="Rubric name or YAML file.")
@click.option(
    "--coders", help="Comma-separated coder names (needed the first time, checked afterwards)."
)
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="The label store (SQLite). Default: <rubric id>-<round>.coding.sqlite here.",
)
@click.option(
    "--round", "round_", default="round1", show_default=True, help="Coding round (run_id)."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the units' split and order.")
@click.option(
    "--overlap",
    default=1.0,
    show_default=True,
    help="Fraction of units every coder codes; the rest are split between coders.",
)
@click.option(
    "--adjudicator", default="lead", show_default=True, help="Name of the person adjudicating."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind. Any non-loopback address requires the per-coder token URLs.",
)
@click.option("--port", default=8750, show_default=True, help="Port (0: any free port).")
@click.option("--verbose", is_flag=True, help="Log every request.")
def serve_cmd(corpus_spec: str, rubric_name: str, **options: Any) -> None:
    """Serve the coding app; print one URL per coder and the lead's URL; open nothing.

    CORPUS is a saved corpus directory or NAME:PATH. Every label is saved in the store the moment
    it is given; stop with Ctrl-C and run the same command again to continue.

    \b
    Examples:
      edudial code serve mathdial.corpus --rubric mathdial-moves --coders ana,ben
      edudial code serve mathdial.corpus --rubric mathdial-moves --host 0.0.0.0 --port 8750
      edudial code export-labels mathdial-moves-round1.coding.sqlite -o coded.corpus
    """
    from annotation.rubric import load_rubric
    from toolkit.app.serving import ServeOptions, serve
    from toolkit.app.session import SessionOptions, open_session

    args = _ServeArgs(**options)
    rubric = load_rubric(rubric_name)
    path = args.store or Path(f"{rubric.id}-{args.round_}.coding.sqlite")
    corpus = _load_corpus(corpus_spec)
    session = open_session(
        corpus,
        rubric,
        path,
        SessionOptions(
            coders=_coders(args.coders),
            round=args.round_,
            seed=args.seed,
            overlap=args.overlap,
            adjudicator=args.adjudicator,
            corpus_path=str(Path(corpus_spec).resolve())
            if Path(corpus_spec).exists()
            else corpus_spec,
        ),
    )
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    serve(session, ServeOptions(host=args.host, port=args.port), echo=click.echo)


@click.command("export-labels")
@click.argument("store", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Corpus dir.")
@click.option(
    "--corpus", "corpus_spec", help="The corpus coded (default: the one recorded in the store)."
)
@click.option("--rubric", "rubric_name", help="Rubric (default: the one recorded in the store).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl"]), default="parquet")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def export_labels_cmd(store: Path, out: Path, **options: Any) -> None:
    """Write the corpus plus the app's labels as ordinary annotation rows (for edudial irr).

    Rows of the coders and rater `adjudicated` of this round replace earlier ones, so exporting
    again never duplicates a row. Safe while the server runs (a consistent snapshot is read).

    \b
    Examples:
      edudial code export-labels mathdial-moves-round1.coding.sqlite -o coded.corpus
      edudial irr coded.corpus --scheme mathdial/move --humans ana,ben
    """
    from annotation.rubric import load_rubric
    from toolkit.app.export import label_rows, merge_rows
    from toolkit.app.questions import questions
    from toolkit.app.store import Store
    from toolkit.app.units import UnitIndex
    from toolkit.io import save_corpus

    args = _ExportArgs(**options)
    st = Store(store)
    info = st.info()
    rubric = load_rubric(args.rubric_name or info.rubric_id)
    if rubric.sha256 != info.rubric_sha256:
        raise InputError(
            f"the store was coded with rubric {info.rubric_id} {info.rubric_version} "
            f"(hash {info.rubric_sha256[:12]}); pass that rubric file with --rubric",
            path=store,
        )
    corpus = _load_corpus(args.corpus_spec or info.corpus_path)
    labels = label_rows(st, questions(rubric), UnitIndex(corpus, rubric).keys)
    merged = merge_rows(corpus, labels).validate()
    save_corpus(merged, out, format=args.fmt, overwrite=args.force)
    counts = labels.rows["rater"].value_counts()
    per = ", ".join(f"{r}: {int(counts.get(r, 0))}" for r in labels.raters)
    click.echo(f"{len(labels.rows)} label rows ({per}) -> {out}")
