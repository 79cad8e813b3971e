"""``edudial load`` and ``edudial info``: corpora into the schema, and what is in them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


#: ``edudial load transcripts`` options: (flag, option key, help). Values are column names
#: unless said otherwise; see :mod:`corpora.transcripts`.
_TRANSCRIPT_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--text", "text", "Text column (else text/utterance/sentence/transcript)."),
    ("--speaker", "speaker", "Speaker column (else speaker/speaker_name)."),
    ("--dialogue", "dialogue", "Dialogue column (else session/lesson/conversation_id/...)."),
    ("--order", "order", "Turn order column (else the file order)."),
    ("--role", "role", "Role column (values teacher/student/tutor/T/S/...)."),
    ("--start", "start", "Start time column (else start/timestamp, then time/begin)."),
    ("--teacher", "teacher", "Comma-separated speakers (or role values) who are teachers."),
    ("--student", "student", "Comma-separated speakers (or role values) who are students."),
    ("--roster", "roster", "CSV with name and role columns: the speakers' roles."),
    ("--map", "map", "YAML file with the same keys as these flags (flags win)."),
    ("--input-format", "format", "csv, tsv, xlsx, jsonl, parquet, vtt, srt or txt."),
    ("--sheet", "sheet", "XLSX sheet (else the first)."),
    ("--encoding", "encoding", "Text encoding (else UTF-8, then cp1252)."),
    ("--sep", "sep", "CSV field separator: , ; tab | (else sniffed from the first lines)."),
    (
        "--header-row",
        "header_row",
        "Line / sheet row of the header (else the first that looks like one).",
    ),
    ("--code-sep", "code_sep", "Separates several codes in one cell (default ';')."),
    ("--delimiter", "delimiter", "Deprecated name of --code-sep."),
    ("--name", "corpus", "Corpus name (default 'transcripts')."),
)
_TRANSCRIPT_MULTI: tuple[tuple[str, str, str], ...] = (
    ("--code", "code", "COLUMN=SCHEME[@RATER]: a column of human codes; repeatable."),
    ("--labels", "labels", "SCHEME=LABEL,LABEL,...: the allowed codes; repeatable."),
)


def _transcript_options(command: Any) -> Any:
    """Add the ``transcripts`` importer's flags to ``edudial load``."""
    for flag, key, text in reversed(_TRANSCRIPT_MULTI):
        command = click.option(flag, f"t_{key}", multiple=True, help=f"[transcripts] {text}")(
            command
        )
    for flag, key, text in reversed(_TRANSCRIPT_FLAGS):
        command = click.option(flag, f"t_{key}", default=None, help=f"[transcripts] {text}")(
            command
        )
    return click.option(
        "--inspect",
        is_flag=True,
        help="[transcripts] Print the mapping, roles and first rows; write nothing.",
    )(command)


@click.command("load")
@click.argument("corpus_name", metavar="CORPUS")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    "out",
    default=None,
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
@_transcript_options
def load_cmd(
    *,
    corpus_name: str,
    path: Path,
    out: Path | None,
    fmt: str,
    options: tuple[str, ...],
    force: bool,
    inspect: bool,
    **transcript: Any,
) -> None:
    """Load CORPUS from PATH (its files as distributed) and write it to OUT.

    CORPUS is one of: bridge, cima, mathdial, mrbench, ncte_uptake, sight, talkmoves, tscc
    (see docs/corpora.md for the files each expects), or transcripts: your own tables, captions
    or text (see docs/own-data.md; the [transcripts] flags below). Source labels become
    annotations with their rater. The output is written atomically: on any error nothing is
    left behind.

    \b
    Examples:
      edudial load mathdial $EDUDIAL_DATA/mathdial -o mathdial.corpus
      edudial load sight $EDUDIAL_DATA/sight -o sight.corpus --option transcripts=false
      edudial load tscc ~/data/tscc -o tscc.corpus --format jsonl
      edudial load transcripts lessons.csv --inspect
      edudial load transcripts lessons.csv -o lessons.corpus --code move=moves@coder1
    """
    import corpora

    given = _given(transcript)
    loader_options = _parse_options(options) | given
    is_transcripts = corpus_name.lower() == "transcripts"
    if not is_transcripts and (inspect or given):
        raise InputError("the [transcripts] flags only apply to `edudial load transcripts`")
    if out is None and not inspect:
        raise InputError("missing -o/--out (the directory to write)")
    if out is not None and not inspect:
        _check_out(out, force)
    with _status(f"loading {corpus_name} from {path}"):
        if is_transcripts:
            corpus = _import_transcripts(path, loader_options, inspect)
        else:
            corpus = corpora.load(corpus_name, path, **loader_options)
    if inspect or corpus is None or out is None:
        return
    save_corpus(corpus, out, format=fmt, overwrite=out.exists())
    click.echo(f"{corpus!r} -> {out}")
    if is_transcripts:
        click.echo(
            "not de-identified: run `edudial deid` (e.g. with --roster names.csv) before "
            "sending these texts to a remote model"
        )


def _given(transcript: dict[str, Any]) -> dict[str, Any]:
    """The [transcripts] flags the user gave, keyed as importer options."""
    return {k[2:]: v for k, v in transcript.items() if v not in (None, ())}


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not force and not (out.is_dir() and not any(out.iterdir())):
        raise InputError("output already exists (pass --force to replace it)", path=out)


def _import_transcripts(path: Path, options: dict[str, Any], inspect: bool) -> Any:
    from corpora.transcripts import import_transcripts

    result = import_transcripts(path, **options)
    for line in result.describe():
        click.echo(line)
    if inspect:
        for report in result.files[:3]:
            click.echo(f"first rows of {report.path}:")
            click.echo(report.head.to_string(max_colwidth=40))
        click.echo(f"{result.corpus!r} (--inspect: nothing written)")
        return None
    return result.corpus


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
    piped = not console.is_terminal
    if piped:  # piped or redirected: lines are never wrapped and tables never cut
        console = Console(soft_wrap=True)
    console.print(f"[bold]{corpus!r}[/bold]  ({path})")
    for status in deid_status(corpus):
        console.print(status.describe(), markup=False, highlight=False)
    with _status("computing statistics"):
        stats = dict(corpus.stats())
    tables = [_rich_table(name, frame, max_rows) for name, frame in stats.items()]
    if piped:  # as wide as the widest table
        console.width = max([console.width, *(_natural_width(console, t) for t in tables)])
    for table in tables:
        console.print(table)
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


def _natural_width(console: Any, table: Any) -> int:
    """Columns ``table`` takes when nothing has to be cut."""
    from rich.measure import Measurement

    return int(Measurement.get(console, console.options.update_width(1_000_000), table).maximum)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
