"""``edudial demo``: the whole pipeline on a bundled sample (or your copy of the data), offline."""

from __future__ import annotations

import os
from pathlib import Path

import click

from toolkit.demo import DEMO_BACKENDS, output_state

__all__ = ["demo_cmd"]


def _ci(ci: object) -> str:
    if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci:
        return f"[{ci[0]:.2f}, {ci[1]:.2f}]"
    return ""


def _num(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"


@click.command("demo")
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Output folder. One an earlier demo wrote is replaced; any other needs --force.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder with mathdial/ and/or sight/ as distributed (e.g. $EDUDIAL_DATA). "
    "Default: the bundled illustrative sample.",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=None,
    help="With --data: MathDial dialogues to use (and 10x as many SIGHT comments).",
)
@click.option(
    "--backend",
    type=click.Choice(DEMO_BACKENDS),
    default="auto",
    show_default=True,
    help="auto = the local SmolLM2 model if edudial[local] is installed, else rules.",
)
@click.option(
    "--bootstrap",
    default=1000,
    show_default=True,
    type=click.IntRange(0),
    help="Bootstrap replicates for the intervals.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the bootstrap.")
@click.option(
    "--force", is_flag=True, help="Replace the output folder even if the demo did not write it."
)
def demo_cmd(
    *,
    out: Path,
    data: Path | None,
    limit: int | None,
    backend: str,
    bootstrap: int,
    seed: int,
    force: bool,
) -> None:
    """Run load -> annotate -> agreement -> report, offline, in one command.

    Without options it uses a small illustrative sample shipped with edudial (8 tutoring
    dialogues written for the package; teacher moves coded by two coders), labels the teacher
    turns with the best offline backend installed, compares the labels with both coders, and
    writes OUT/report.html, OUT/report.md, the corpus and the run manifest.

    \b
    Examples:
      edudial demo
      edudial demo --backend rules --force
      edudial demo --data $EDUDIAL_DATA --limit 20 -o demo-real
    """
    from rich.console import Console
    from rich.table import Table

    from toolkit.demo import choose_backend, run_demo

    console = Console(stderr=True)
    chosen = choose_backend(backend)
    if chosen == "local":
        from annotation.local_server import LOCAL_QUALITY_WARNING

        console.print(f"[yellow]{LOCAL_QUALITY_WARNING}[/yellow]")
    if output_state(out) == "foreign" and not force:  # before any work (or the model's start-up)
        from toolkit.errors import InputError

        raise InputError(
            "output folder exists and was not written by `edudial demo` "
            "(pass --force to replace it, or -o another folder)",
            path=out,
        )
    step = [0]

    def say(message: str) -> None:
        step[0] += 1
        console.print(f"[bold cyan][{step[0]}][/bold cyan] {message}")

    result = run_demo(
        out,
        data=data,
        limit=limit,
        backend=chosen,
        bootstrap=bootstrap,
        seed=seed,
        force=force,
        say=say,
    )
    summary = result.summary
    several = summary["corpus"].nunique() > 1 if len(summary) else False
    table = Table(
        title=f"Cohen's kappa [95% CI]; model labels by the {result.backend} backend",
        title_justify="left",
    )
    columns = (["corpus"] if several else []) + ["scheme", "units", "human-human", "human-model"]
    for col in columns:
        table.add_column(col, justify="right" if col == "units" else "left", no_wrap=True)
    for row in summary.itertuples(index=False):
        cells = [
            str(row.scheme),
            str(row.units),
            f"{_num(row.human_human_kappa)} {_ci(row.human_human_ci)}",
            f"{_num(row.human_model_kappa)} {_ci(row.human_model_ci)}",
        ]
        table.add_row(*(([str(row.corpus)] if several else []) + cells))
    Console().print(table)
    report = result.reports["html"]
    click.echo(
        f"report: {report}  (also {result.reports['md'].name}, {result.reports['json'].name}"
        f"; corpus in {out / 'corpus'})  [{result.seconds:.1f} s]"
    )
    if data is None:
        click.echo(
            "The bundled sample is illustrative, not research data. Next: "
            "edudial demo --data $EDUDIAL_DATA --limit 20"
        )
    if os.environ.get("EDUDIAL_DATA") and data is None:
        click.echo(f"(EDUDIAL_DATA is set: try --data {os.environ['EDUDIAL_DATA']})")
