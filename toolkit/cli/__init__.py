"""The ``edudial`` command line: a thin layer over the Python API.

Each command lives in its own module and is imported only when invoked, so ``edudial --help`` is
fast. Errors a user can cause print one line (``error: ...``) and exit with status 2; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from toolkit.errors import EdudialError

__all__ = ["main"]

#: command name -> (module, attribute, one-line help). Offered once its module exists.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "load": ("toolkit.cli.corpus", "load_cmd", "Load a corpus into the edudial schema."),
    "info": ("toolkit.cli.corpus", "info_cmd", "Print counts and statistics of a saved corpus."),
    "deid": ("toolkit.cli.deid", "deid_cmd", "Replace people's names before texts leave."),
    "annotate": ("toolkit.cli.annotate", "annotate_cmd", "Label turns or dialogues with an LLM."),
    "rubric": ("toolkit.cli.annotate", "rubric_cmd", "List, show and check rubrics."),
    "batch": ("toolkit.cli.batch", "batch_cmd", "Follow and collect Batch API runs."),
    "irr": ("toolkit.cli.irr", "irr_cmd", "Inter-rater reliability and human-model agreement."),
    "code": ("toolkit.cli.code", "code_cmd", "Human coding: samples, workbooks, adjudication."),
    "demo": ("toolkit.cli.demo", "demo_cmd", "Run the whole pipeline on a bundled sample."),
    "plan": ("toolkit.cli.validity", "plan_cmd", "Units to code for an agreement interval."),
    "estimate": ("toolkit.cli.validity", "estimate_cmd", "Corpus-wide code shares (PPI++)."),
}


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n, (m, _, _) in COMMANDS.items() if _exists(m)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _exists(entry[0]):
            return None
        command: click.Command = getattr(importlib.import_module(entry[0]), entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="edudial")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """edudial: educational dialogue corpora, LLM annotation and inter-rater reliability.

    \b
    Examples:
      edudial demo                                   # whole pipeline, offline
      edudial load mathdial $EDUDIAL_DATA/mathdial -o mathdial.corpus
      edudial info mathdial.corpus
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``edudial`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        return cli.main(args=args, prog_name="edudial", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except EdudialError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
            err=True,
        )
        sys.exit(1)
