"""``edudial load`` and ``edudial info``: corpora into the schema, and what is in them."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from toolkit.deid import deid_status
from toolkit.errors import InputError
from toolkit.io import FORMATS, read_corpus, save_corpus

__all__ = ["info_cmd", "load_cmd"]


def _parse_options(pairs: tuple[str, ...]) -> dict[str, object]:
    """Turn ``key=value`` strings into loader options (``true``/``false``/ints understood)."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"loader option {pair!r} is not KEY=VALUE")
        low = value.lower()
        parsed: object = value
        if low in ("true", "yes"):
            parsed = True
        elif low in ("false", "no"):
            parsed = False
        elif value.isdigit():
            parsed = int(value)
        elif "," in value:
            parsed = [v for v in value.split(",") if v]
        out[key.replace("-", "_")] = parsed
    return out


@click.command("load")
@click.argument("corpus_name", metavar="CORPUS")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to write (dialogues, turns and annotations tables).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="parquet",
    show_default=True,
    help="Table format.",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Loader option, repeatable (e.g. --option transcripts=false).",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def load_cmd(
    *, corpus_name: str, path: Path, out: Path, fmt: str, options: tuple[str, ...], force: bool
) -> None:
    """Load CORPUS from PATH (its files as distributed) and write it to OUT.

    CORPUS is one of: bridge, cima, mathdial, mrbench, ncte_uptake, sight, talkmoves, tscc
    (see docs/corpora.md for the files each expects). Source labels become annotations with
    their rater. The output is written atomically: on any error nothing is left behind.

    \b
    Examples:
      edudial load mathdial $EDUDIAL_DATA/mathdial -o mathdial.corpus
      edudial load sight $EDUDIAL_DATA/sight -o sight.corpus --option transcripts=false
      edudial load tscc ~/data/tscc -o tscc.corpus --format jsonl
    """
    import corpora

    if out.exists() and not force:
        raise InputError("output already exists (pass --force to replace it)", path=out)
    with _status(f"loading {corpus_name} from {path}"):
        corpus = corpora.load(corpus_name, path, **_parse_options(options))
    save_corpus(corpus, out, format=fmt, overwrite=force)
    click.echo(f"{corpus!r} -> {out}")


class _status:
    """A spinner on stderr while a step runs (quiet when stderr is not a terminal)."""

    def __init__(self, message: str) -> None:
        from rich.console import Console

        self._console = Console(stderr=True)
        self._cm = self._console.status(message)

    def __enter__(self) -> None:
        self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)


@click.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write one PNG per statistic to this directory.",
)
@click.option(
    "--max-rows",
    default=20,
    show_default=True,
    help="Rows shown per table (the rest is summarised).",
)
def info_cmd(*, path: Path, plot_dir: Path | None, max_rows: int) -> None:
    """Print counts and statistics of a saved corpus.

    Counts by table, role, kind, scheme, label and rater; turns per dialogue; words per turn
    (spaCy tokenizer); talk per role; questions per role.

    \b
    Examples:
      edudial info mathdial.corpus
      edudial info sight.corpus --plot sight-stats/
    """
    from rich.console import Console

    corpus = read_corpus(path)
    console = Console()
    console.print(f"[bold]{corpus!r}[/bold]  ({path})")
    for status in deid_status(corpus):
        console.print(status.describe(), markup=False, highlight=False)
    with _status("computing statistics"):
        stats = dict(corpus.stats())
    for name, frame in stats.items():
        console.print(_rich_table(name, frame, max_rows))
    if plot_dir is not None:
        from toolkit.stats import plot_stats

        written = plot_stats(stats, plot_dir)
        console.print(f"wrote {len(written)} plot(s) to {plot_dir}")


def _rich_table(title: str, frame: pd.DataFrame, max_rows: int) -> object:
    from rich.table import Table

    table = Table(title=title.replace("_", " "), title_justify="left", show_edge=False)
    shown = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    for col in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in shown.head(max_rows).itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    if len(shown) > max_rows:
        table.caption = f"... {len(shown) - max_rows} more rows"
    return table


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
