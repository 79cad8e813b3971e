"""``edudial code serve`` and ``edudial code export-labels``: the local coding web app.

Registered under the ``edudial code`` group (``toolkit/cli/code.py``); a thin layer over
:mod:`toolkit.app`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from toolkit.cli.inputs import assignment_options, load_corpus_spec
from toolkit.errors import InputError

__all__ = ["default_store", "export_labels_cmd", "serve_cmd"]


def _coders(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def default_store(corpus_spec: str, rubric_id: str, round_: str) -> Path:
    """``<rubric id>-<round>.coding.sqlite`` beside the corpus (a saved corpus directory, or
    the PATH of ``NAME:PATH``), never in the current directory.

    >>> default_store("/data/md.corpus", "mathdial-moves", "r1").as_posix()
    '/data/mathdial-moves-r1.coding.sqlite'
    >>> default_store("mathdial:/data/mathdial", "mathdial-moves", "r2").as_posix()
    '/data/mathdial-moves-r2.coding.sqlite'
    """
    where = Path(corpus_spec)
    name, sep, rest = corpus_spec.partition(":")
    if not where.exists() and sep and len(name) > 1 and rest:
        where = Path(rest)
    return where.resolve().parent / f"{rubric_id}-{round_}.coding.sqlite"


@click.command("serve")
@click.argument("corpus_spec", metavar="CORPUS")
@click.option("--rubric", "rubric_name", required=True, metavar="NAME|FILE", help="Rubric.")
@click.option(
    "--coders", help="Comma-separated coder names (needed the first time, checked afterwards)."
)
@assignment_options
@click.option("--round", "round_", default="r1", show_default=True, help="Coding round (run_id).")
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="The label store (SQLite). Default: <rubric id>-<round>.coding.sqlite beside CORPUS.",
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
def serve_cmd(
    corpus_spec: str,
    *,
    rubric_name: str,
    coders: str | None,
    sample_path: Path | None,
    overlap: float,
    seed: int | None,
    round_: str,
    store: Path | None,
    adjudicator: str,
    host: str,
    port: int,
    verbose: bool,
) -> None:
    """Serve the coding app: print one URL per coder and the lead's URL; open nothing.

    CORPUS is a saved corpus directory or NAME:PATH. The same --sample, --overlap and --seed as
    `edudial code export` give each coder the same units in the same order. Every label is saved
    in the store the moment it is given (beside CORPUS unless --store; its path is printed at
    start); stop with Ctrl-C, run the same command to continue.

    \b
    Examples:
      edudial code serve mathdial.corpus --rubric mathdial-moves --coders ana,ben \\
          --sample sample.json --overlap 0.2
      edudial code serve mathdial.corpus --rubric mathdial-moves --host 0.0.0.0 --port 8750
      edudial code export-labels mathdial-moves-r1.coding.sqlite -o coded.corpus
      (the store is beside mathdial.corpus: run export-labels from that folder)
    """
    from annotation.coding import read_sample
    from annotation.rubric import load_rubric
    from toolkit.app.serving import ServeOptions, serve
    from toolkit.app.session import SessionOptions, open_session

    rubric = load_rubric(rubric_name)
    path = store or default_store(corpus_spec, rubric.id, round_)
    if not path.exists() and path.parent.is_dir() and not os.access(path.parent, os.W_OK):
        raise InputError(
            "cannot create the coding store here (the folder is not writable); "
            "choose where with --store",
            path=path,
        )
    corpus = load_corpus_spec(corpus_spec)
    where = Path(corpus_spec)
    session = open_session(
        corpus,
        rubric,
        path,
        SessionOptions(
            coders=_coders(coders),
            round=round_,
            seed=seed,
            overlap=overlap,
            sample=None if sample_path is None else read_sample(sample_path),
            sample_path=None if sample_path is None else str(sample_path),
            adjudicator=adjudicator,
            corpus_path=str(where.resolve()) if where.exists() else corpus_spec,
        ),
    )
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    serve(session, ServeOptions(host=host, port=port), echo=click.echo)


@click.command("export-labels")
@click.argument("store", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True, help="Corpus dir to write."
)
@click.option(
    "--corpus", "corpus_spec", help="The corpus coded (default: the one recorded in the store)."
)
@click.option("--rubric", "rubric_name", help="Rubric (default: the one recorded in the store).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl"]), default="parquet")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def export_labels_cmd(
    store: Path,
    *,
    out: Path,
    corpus_spec: str | None,
    rubric_name: str | None,
    fmt: str,
    force: bool,
) -> None:
    """Write the corpus plus the app's labels as ordinary annotation rows (for edudial irr).

    The rows are those `edudial code import` writes for a workbook: rater = coder, rater_kind
    human, run_id = the round, and rater `adjudicated` once the lead has decided a disagreement.
    Exporting again replaces the round's rows of these raters: no duplicates. It may run while
    the server is up (it reads the labels committed so far).

    \b
    Examples:
      edudial code export-labels mathdial-moves-r1.coding.sqlite -o coded.corpus
      edudial irr coded.corpus --scheme mathdial/move --humans ana,ben
    """
    from annotation.rubric import load_rubric
    from toolkit.app.export import export_labels
    from toolkit.app.store import Store
    from toolkit.io import save_corpus

    st = Store(store)
    info = st.info()
    rubric = load_rubric(rubric_name or info.rubric_id)
    if rubric.sha256 != info.rubric_sha256:
        raise InputError(
            f"the store was coded with rubric {info.rubric_id} {info.rubric_version} "
            f"(hash {info.rubric_sha256[:12]}); pass that rubric's file with --rubric",
            path=store,
        )
    res = export_labels(load_corpus_spec(corpus_spec or info.corpus_path), st, rubric)
    save_corpus(res.corpus.validate(), out, format=fmt, overwrite=force)
    per = ", ".join(f"{r}: {n}" for r, n in res.rows.items())
    click.echo(f"{sum(res.rows.values())} label rows ({per}) -> {out}")
    if res.undecided:
        click.echo(f"{len(res.undecided)} disagreement(s) not adjudicated yet (no gold row)")
    if res.reopened:
        click.echo(
            f"{len(res.reopened)} of them reopened: a coder changed a label after the decision; "
            "decide them again in the app"
        )
