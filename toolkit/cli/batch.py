"""``edudial batch``: follow, collect and cancel Batch API runs (and merge vLLM run-batch output).

Submission is ``edudial annotate ... --batch`` (or ``--batch-file-only``); see
:func:`submit_from_cli`, which ``toolkit/cli/annotate.py`` calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from annotation.pricing import format_cost

__all__ = ["batch_cmd", "submit_from_cli"]


def submit_from_cli(
    corpus: Any, rubric: Any, *, out: Path, file_only: bool, **options: Any
) -> None:
    """Run :func:`annotation.submit_batch` for ``edudial annotate --batch`` and print the result."""
    from annotation.batch import submit_batch

    sub = submit_batch(corpus, rubric, out=out, submit=not file_only, **options)
    skipped = (
        f" ({sub.skipped_done} already done, {sub.skipped_pending} waiting in an uncollected batch)"
    )
    if sub.status == "nothing_to_submit":
        click.echo(f"nothing to submit: every item is done or waiting{skipped}")
        if sub.skipped_pending:
            click.echo(f"next: edudial batch status {out}")
        return
    for rec, path in zip(sub.batches, sub.input_files, strict=True):
        click.echo(f"wrote {rec['requests']} requests -> {path}")
        if rec.get("kind") == "openai":
            click.echo(f"submitted batch {rec['id']} (input file {rec['input_file_id']})")
    click.echo(f"  {sub.requests} requests{skipped}; run {sub.run_id}")
    if file_only:
        click.echo(
            "next: run the file elsewhere, e.g. python -m vllm.entrypoints.openai.run_batch "
            f"-i {sub.input_files[0]} -o results.jsonl --model MODEL"
        )
        click.echo(f"      then: edudial batch collect {out} --from-file results.jsonl")
    else:
        click.echo(f"next: edudial batch status {out}   (then: edudial batch collect {out})")


@click.group("batch")
def batch_cmd() -> None:
    """Follow, collect and cancel Batch API runs (submit with `edudial annotate --batch`).

    \b
    Examples:
      edudial annotate md.corpus --rubric mathdial-moves -o runs/md --batch
      edudial batch status runs/md
      edudial batch collect runs/md
      edudial annotate md.corpus --rubric mathdial-moves -o runs/md --batch   # resubmit failed
      edudial annotate md.corpus --rubric mathdial-moves -o runs/md --batch-file-only
      edudial batch collect runs/md --from-file vllm-results.jsonl
    """


@batch_cmd.command("status")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--base-url",
    default=None,
    help="Endpoint (default: the one recorded in the run). Key from OPENAI_API_KEY.",
)
def status_cmd(run: Path, base_url: str | None) -> None:
    """Poll the batches of RUN and print their state.

    \b
    Example:
      edudial batch status runs/md
    """
    from rich.console import Console
    from rich.table import Table

    from annotation.batch import TERMINAL, batch_status

    records = batch_status(run, base_url=base_url)
    table = Table("batch", "kind", "status", "requests", "completed", "failed", "collected")
    for rec in records:
        rc = rec.get("request_counts") or {}
        table.add_row(
            str(rec["id"]),
            str(rec.get("kind")),
            str(rec.get("status")),
            str(rec.get("requests")),
            str(rc.get("completed", "")),
            str(rc.get("failed", "")),
            "yes" if rec.get("collected") else "no",
        )
    console = Console()
    if not console.is_terminal:
        console.width = 120
    console.print(table)
    ready = [
        r
        for r in records
        if r.get("kind") == "openai" and not r.get("collected") and r.get("status") in TERMINAL
    ]
    waiting = [
        r
        for r in records
        if r.get("kind") == "openai" and not r.get("collected") and r.get("status") not in TERMINAL
    ]
    if ready:
        click.echo(f"next: edudial batch collect {run}")
    elif waiting:
        click.echo("not finished yet; check again later")
    elif records and all(r.get("kind") == "file" for r in records):
        click.echo(
            f"file-only run: merge results with edudial batch collect {run} "
            "--from-file RESULTS.jsonl"
        )


@batch_cmd.command("collect")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Merge a results JSONL produced elsewhere (vLLM run-batch, a "
    "downloaded output or error file) instead of downloading.",
)
@click.option(
    "--base-url",
    default=None,
    help="Endpoint (default: the one recorded in the run). Key from OPENAI_API_KEY.",
)
@click.option(
    "--prices",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Price table YAML/JSON (the batch discount x0.5 is applied).",
)
def collect_cmd(
    run: Path, from_file: Path | None, base_url: str | None, prices: Path | None
) -> None:
    """Download finished batches of RUN (or read --from-file) and merge them into the run.

    Rows go to RUN/annotations.jsonl with meta.batch_id/custom_id, responses to the run's cache
    (a later synchronous run sends no request for them). Failed lines are recorded as errors:
    rerun the same `edudial annotate ... --batch` command to resubmit them. Invalid answers are
    recorded as invalid (no re-asks in batch mode).

    \b
    Examples:
      edudial batch collect runs/md
      edudial batch collect runs/md --from-file results.jsonl
    """
    from annotation.batch import collect_batch

    res = collect_batch(run, from_file=from_file, base_url=base_url, prices=prices)
    for p in res.pending:
        rc = p.get("request_counts") or {}
        click.echo(
            f"batch {p['id']}: {p['status']} ({rc.get('completed', 0)}/"
            f"{rc.get('total', '?')} done); collect again later"
        )
    w, c = res.written, res.counts
    click.echo(
        f"{res.status}: wrote {w.get('ok', 0)} ok, {w.get('invalid', 0)} invalid, "
        f"{w.get('error', 0)} error ({res.skipped} already done) -> "
        f"{run / 'annotations.jsonl'}"
    )
    click.echo(
        f"  run: {c.get('ok', 0)} ok, {c.get('invalid', 0)} invalid, {c.get('error', 0)} error"
    )
    u = res.usage
    click.echo(
        f"  requests {u.requests}; tokens {u.prompt_tokens:,} prompt, "
        f"{u.completion_tokens:,} completion; cost {format_cost(res.cost)} with the batch "
        f"discount ({format_cost(res.cost_undiscounted)} at synchronous prices)"
    )
    for note in res.notes:
        click.echo(f"note: {note}", err=True)


@batch_cmd.command("cancel")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--base-url",
    default=None,
    help="Endpoint (default: the one recorded in the run). Key from OPENAI_API_KEY.",
)
def cancel_cmd(run: Path, base_url: str | None) -> None:
    """Cancel the unfinished batches of RUN (completed results can still be collected).

    \b
    Example:
      edudial batch cancel runs/md && edudial batch collect runs/md
    """
    from annotation.batch import cancel_batch

    ids = cancel_batch(run, base_url=base_url)
    click.echo(f"cancelling {', '.join(ids)}" if ids else "no unfinished batch to cancel")
