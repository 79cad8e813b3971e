"""``edudial annotate`` and ``edudial rubric``: label corpora with an LLM; inspect rubrics."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from annotation.pricing import format_cost
from toolkit.cli.inputs import load_corpus_spec
from toolkit.errors import InputError
from toolkit.schema import Corpus

__all__ = ["ANNOTATE_BACKENDS", "annotate_cmd", "rubric_cmd"]

#: Values of ``edudial annotate --backend`` (first = default). ``openai``: any OpenAI-compatible
#: endpoint; ``rules``: the rubric's spaCy Matcher patterns (annotation.rules), offline;
#: ``local``: the bundled SmolLM2-135M behind llama_cpp.server (annotation.local, edudial[local]).
#: (The demo's backends are ``toolkit.demo.DEMO_BACKENDS``.)
ANNOTATE_BACKENDS: tuple[str, ...] = ("openai", "rules", "local")


class _RichProgress:
    """Items done, rate, ETA, tokens and cost on stderr (hidden when stderr is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("annotating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[tokens]} tok"),
            TextColumn("{task.fields[cost]}"),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._task: Any = None
        self._done_at_start = 0

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, total: int, done: int) -> None:
        self._done_at_start = done
        self._task = self._progress.add_task(
            "annotate", total=total, completed=done, rate="", tokens=0, cost=""
        )

    def advance(self, usage: Any, cost: float | None) -> None:
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        done_now = task.completed + 1 - self._done_at_start
        rate = f"{done_now / elapsed:.1f} it/s" if elapsed > 0 else ""
        self._progress.update(
            self._task,
            advance=1,
            rate=rate,
            tokens=usage.prompt_tokens + usage.completion_tokens,
            cost="" if cost is None else f"${cost:.4f}",
        )


@dataclass(frozen=True)
class _Args:
    """The options of ``edudial annotate`` (one field per command-line option)."""

    rubric: str
    out: Path | None
    model: str
    base_url: str | None
    concurrency: int
    context_turns: int | None
    limit: int | None
    samples: int
    temperature: float | None
    seed: int
    max_reasks: int
    logprobs: bool
    dialect: str | None
    max_cost: float | None
    prices: Path | None
    timeout: float
    max_retries: int
    dry_run: bool
    force: bool
    save_corpus: Path | None
    no_progress: bool
    batch: bool
    batch_file_only: bool
    backend: str
    local_model: Path | None
    local_port: int | None
    pack: str | None
    require_deid: bool

    @property
    def batching(self) -> bool:
        return self.batch or self.batch_file_only

    def request_options(self) -> dict[str, Any]:
        """Options shared by the synchronous and the Batch API paths."""
        return {
            "context_turns": self.context_turns,
            "limit": self.limit,
            "samples": self.samples,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_reasks": self.max_reasks,
            "logprobs": self.logprobs,
            "dialect": self.dialect,
            "prices": self.prices,
            "force": self.force,
            "require_deid": self.require_deid,
            "on_warning": _warn,
        }

    def run_options(self) -> dict[str, Any]:
        """Options of :func:`annotation.annotate` (and ``annotate_local``)."""
        return {
            **self.request_options(),
            "concurrency": self.concurrency,
            "max_cost": self.max_cost,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "pack": self.pack,
        }


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _dry_run(corpus: Corpus, rub: Any, args: _Args, input_spec: str) -> None:
    """``--dry-run``: requests, tokens and cost estimated offline."""
    import annotation

    est = annotation.estimate(
        corpus,
        rub,
        model=args.model,
        out=args.out,
        context_turns=args.context_turns,
        limit=args.limit,
        samples=args.samples,
        dialect=args.dialect or "json_schema",
        prices=args.prices,
    )
    click.echo(
        f"dry run: {rub.id}@{rub.version} on {input_spec} with {args.model} (no request sent)"
    )
    click.echo(f"  items: {est.items} ({est.done} already done, {est.pending} pending)")
    click.echo(f"  requests: {est.requests} (+ re-asks for invalid answers)")
    click.echo(f"  prompt tokens: ~{est.prompt_tokens:,} (heuristic: ~4 characters per token)")
    click.echo(
        f"  completion tokens: ~{est.completion_tokens_typical:,} typical, "
        f"<= {est.completion_tokens_max:,} at max_tokens"
    )
    click.echo(
        f"  cost: ~{format_cost(est.cost_typical)} typical, "
        f"<= {format_cost(est.cost_max)} (estimate)"
    )
    if args.pack is not None:
        click.echo(
            "  (estimated for per-turn requests; --pack dialogue sends one request "
            "per dialogue and far fewer prompt tokens)"
        )


#: In the run directory: the ``--save-corpus`` folders this run wrote, each with the hash of its
#: files then, so that rerunning the same command (to resume) may rewrite them.
SAVED_CORPORA = "saved-corpora.json"


def _tree_sha256(folder: Path) -> str:
    """Hash of every file's relative path and bytes under ``folder``."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _saved_by_run(out: Path) -> dict[str, str]:
    try:
        saved = json.loads((out / SAVED_CORPORA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def _check_save_corpus(out: Path, target: Path) -> None:
    """Refuse an existing ``--save-corpus`` folder unless this run wrote it and it is unchanged."""
    recorded = _saved_by_run(out).get(str(target.resolve()))
    if recorded is None:
        raise InputError(
            f"already exists and was not saved by the run in {out} "
            "(pass --force to replace it, or choose another --save-corpus)",
            path=target,
        )
    if recorded != _tree_sha256(target):
        raise InputError(
            "already exists and was changed since this run saved it (e.g. by `edudial code "
            "import`); pass --force to replace it, or choose another --save-corpus",
            path=target,
        )


def _check_outputs(args: _Args) -> Path:
    """The run directory; refuse to overwrite ``--save-corpus`` and unsupported mixes.

    An existing ``--save-corpus`` folder is rewritten only with ``--force`` or when the same run
    directory saved it and it has not changed since: rerunning the same command resumes.
    """
    if args.out is None:
        raise InputError("-o/--out is required (the run directory)", field="out")
    if args.save_corpus is not None and args.save_corpus.exists() and not args.force:
        _check_save_corpus(args.out, args.save_corpus)
    if args.pack is not None and args.batching:
        raise InputError("--pack is not supported with --batch yet", field="pack")
    return args.out


def _run(corpus: Corpus, rub: Any, args: _Args, out: Path) -> Any:
    """The synchronous run (OpenAI-compatible endpoint or the local model) with a progress bar."""
    import annotation

    opts = args.run_options()
    with _RichProgress(enabled=not args.no_progress and sys.stderr.isatty()) as bar:
        if args.backend == "local":
            ctx = click.get_current_context()
            for name in ("concurrency", "timeout", "prices"):  # local defaults unless given
                if ctx.get_parameter_source(name) is click.core.ParameterSource.DEFAULT:
                    opts.pop(name)
            return annotation.annotate_local(
                corpus,
                rub,
                out=out,
                model_path=args.local_model,
                port=args.local_port,
                progress=bar,
                **opts,
            )
        return annotation.annotate(
            corpus, rub, model=args.model, out=out, base_url=args.base_url, progress=bar, **opts
        )


def _report(result: Any, out: Path) -> None:
    u, c = result.usage, result.counts
    click.echo(
        f"{result.status}: {c.get('ok', 0)} ok, {c.get('invalid', 0)} invalid, "
        f"{c.get('error', 0)} error -> {out / 'annotations.jsonl'}"
    )
    click.echo(
        f"  requests {u.requests} (cache hits {u.cache_hits}, re-asks {u.reasks}, "
        f"retries {u.retries}); tokens {u.prompt_tokens:,} prompt "
        f"({u.cached_tokens:,} cached), {u.completion_tokens:,} completion; "
        f"cost {format_cost(result.cost)}"
    )
    click.echo(f"  dialect {result.manifest.get('dialect')}; run {result.run_id}")


def _save_labels(corpus: Corpus, result: Any, path: Path, out: Path) -> None:
    """``--save-corpus``: the input corpus plus the rows that have a label.

    Overwrites ``path`` (``_check_outputs`` has refused it unless ``--force`` or this run saved
    it) and records it in ``OUT/saved-corpora.json``.
    """
    from toolkit.files import write_text_atomic
    from toolkit.io import save_corpus

    rows = result.annotations
    merged = corpus.with_annotations(rows[rows["label"].notna()]).validate()
    save_corpus(merged, path, overwrite=True)
    saved = _saved_by_run(out)
    saved[str(path.resolve())] = _tree_sha256(path)
    write_text_atomic(out / SAVED_CORPORA, json.dumps(saved, indent=2, sort_keys=True) + "\n")


@click.command("annotate")
@click.argument("input_spec", metavar="INPUT")
@click.option(
    "--rubric",
    "rubric",
    required=True,
    metavar="NAME|FILE",
    help="Built-in rubric name (see `edudial rubric list`) or a rubric YAML file.",
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Run directory (annotations.jsonl, manifest.json, cache). Rerun to resume.",
)
@click.option(
    "--backend",
    type=click.Choice(ANNOTATE_BACKENDS),
    default=ANNOTATE_BACKENDS[0],
    show_default=True,
    help="openai: an OpenAI-compatible endpoint; rules: the rubric's keyword patterns "
    "(offline, instant; rater rules@RUBRIC@VERSION; LLM options are ignored); "
    "local: the bundled SmolLM2-135M model served on 127.0.0.1 for this run "
    "(needs edudial[local]; near-random labels, for pipeline checks).",
)
@click.option(
    "--pack",
    type=click.Choice(["dialogue"]),
    default=None,
    help="dialogue: one request labels every target turn of a dialogue (shown once, "
    "targets numbered); misaligned answers are re-asked, then labelled turn by "
    "turn. Single-label turn rubrics only.",
)
@click.option(
    "--local-model",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="--backend local: a GGUF model file instead of the bundled SmolLM2-135M.",
)
@click.option(
    "--local-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="--backend local: loopback port of the server (default: a free one).",
)
@click.option(
    "--model",
    default="gpt-4o-mini",
    show_default=True,
    envvar="EDUDIAL_MODEL",
    help="Model name sent to the endpoint.",
)
@click.option(
    "--base-url",
    envvar="OPENAI_BASE_URL",
    help="OpenAI-compatible endpoint (default: OPENAI_BASE_URL or api.openai.com). "
    "The key is read from OPENAI_API_KEY only.",
)
@click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 512),
    help="Requests in flight at most.",
)
@click.option(
    "--context-turns",
    type=click.IntRange(0),
    default=None,
    help="Previous turns shown (default: the rubric's).",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Label only the first N units.")
@click.option(
    "--samples",
    default=1,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Self-consistency samples per item (vote share = confidence).",
)
@click.option(
    "--temperature",
    type=float,
    default=None,
    help="Sampling temperature (default 0; 0.7 with --samples > 1).",
)
@click.option("--seed", type=int, default=1234, show_default=True, help="Request seed.")
@click.option(
    "--max-reasks",
    default=2,
    show_default=True,
    type=click.IntRange(0, 10),
    help="Re-ask after invalid JSON / unknown label, then record 'invalid'.",
)
@click.option("--logprobs", is_flag=True, help="Request token logprobs (label confidence).")
@click.option(
    "--dialect",
    type=click.Choice(["json_schema", "json_object_schema", "prompt"]),
    default=None,
    help="Force the output dialect (default: detect once per endpoint).",
)
@click.option(
    "--max-cost",
    type=float,
    default=None,
    metavar="USD",
    help="Stop cleanly before this invocation would spend more than USD.",
)
@click.option(
    "--prices",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Price table YAML/JSON {model: {input, cached_input, output}} per 1M tokens.",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per request.")
@click.option(
    "--max-retries",
    default=6,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Retries after 429/5xx/timeouts.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Estimate requests, tokens and cost offline (no request is sent).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Discard previous results in OUT made with other settings (cache kept).",
)
@click.option(
    "--save-corpus",
    type=click.Path(path_type=Path),
    default=None,
    help="Also save INPUT plus the model labels (rows with a label) as a corpus dir, "
    "ready for `edudial irr`. Rerunning the same command rewrites it (unless it was changed "
    "since); any other existing folder needs --force.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option(
    "--batch",
    "batch",
    is_flag=True,
    help="Submit the pending items to the OpenAI Batch API (50% price, within 24 h) "
    "and return; follow with `edudial batch status/collect OUT`.",
)
@click.option(
    "--batch-file-only",
    is_flag=True,
    help="Only write OUT/batch/input-*.jsonl (Batch format, e.g. for vLLM run-batch); "
    "merge results with `edudial batch collect OUT --from-file`.",
)
@click.option(
    "--require-deid",
    is_flag=True,
    help="Refuse (send nothing) when INPUT is not de-identified (`edudial deid`) and the "
    "endpoint is not on this machine; without it such a run only warns.",
)
def annotate_cmd(input_spec: str, **options: Any) -> None:
    """Label the units of INPUT with an LLM following a rubric; write a resumable run to OUT.

    INPUT is a saved corpus directory (`edudial load`) or CORPUS:PATH (e.g.
    mathdial:$EDUDIAL_DATA/mathdial). Rows go to OUT/annotations.jsonl as each item completes
    (rater MODEL@RUBRIC@VERSION, rater_kind model); rerunning the same command finishes only the
    missing items, and a complete rerun sends no request. Exit status 3 when --max-cost stopped
    the run. A corpus that is not de-identified sent to an endpoint off this machine gets a
    warning (run `edudial deid` first; --require-deid makes it an error).

    \b
    Examples:
      edudial annotate mathdial.corpus --rubric mathdial-moves -o runs/md --limit 50
      edudial annotate mathdial:$EDUDIAL_DATA/mathdial --rubric mathdial-moves -o runs/md \\
          --dry-run
      OPENAI_API_KEY=sk-local edudial annotate sight.corpus --rubric sight-feedback \\
          --base-url http://127.0.0.1:8766/v1 --model smollm2-135m -o runs/sight
      edudial annotate mathdial.corpus --rubric mathdial-moves -o runs/md \\
          --save-corpus md+model.corpus
      edudial irr md+model.corpus --scheme mathdial/move --humans teacher \\
          --models gpt-4o-mini@mathdial-moves@1.0
      edudial annotate mathdial.corpus --rubric mathdial-moves -o runs/md --batch
      edudial annotate mathdial:$EDUDIAL_DATA/mathdial --rubric mathdial-moves \\
          --backend rules -o runs/md-rules --save-corpus md-rules.corpus
      edudial annotate mathdial:$EDUDIAL_DATA/mathdial --rubric mathdial-moves \\
          --backend local -o runs/md-local --limit 24 --context-turns 1
      edudial annotate mathdial.corpus --rubric mathdial-moves -o runs/md-packed \\
          --pack dialogue
      edudial annotate my-lessons.corpus --rubric mathdial-moves -o runs/mine --require-deid
    """
    import annotation

    args = _Args(**options)
    rub = annotation.load_rubric(args.rubric)
    corpus = load_corpus_spec(input_spec)
    if args.backend == "rules":
        _annotate_rules(corpus, rub, args)
        return
    if args.backend == "local":
        from annotation.local_server import LOCAL_MODEL_ALIAS, LOCAL_QUALITY_WARNING

        if args.batching:
            raise InputError("--batch needs an OpenAI endpoint, not --backend local", field="batch")
        args = replace(args, model=LOCAL_MODEL_ALIAS)
        click.echo(LOCAL_QUALITY_WARNING, err=True)
    if args.dry_run:
        _dry_run(corpus, rub, args, input_spec)
        return
    out = _check_outputs(args)
    if args.batching:  # Batch API / run-batch file: see toolkit/cli/batch.py
        from toolkit.cli.batch import submit_from_cli

        submit_from_cli(
            corpus,
            rub,
            out=out,
            file_only=args.batch_file_only,
            model=args.model,
            base_url=args.base_url,
            **args.request_options(),
        )
        return
    result = _run(corpus, rub, args, out)
    _report(result, out)
    if args.save_corpus is not None:
        _save_labels(corpus, result, args.save_corpus, out)
        click.echo(f"  corpus with model labels -> {args.save_corpus}")
    if result.status == "stopped_max_cost":
        click.echo(
            f"stopped before exceeding --max-cost ${args.max_cost}: rerun with a higher "
            "--max-cost to finish the remaining items",
            err=True,
        )
        sys.exit(3)


def _annotate_rules(corpus: Corpus, rub: Any, args: _Args) -> None:
    """``--backend rules``: label with the rubric's patterns (annotation.rules)."""
    from annotation.items import count_units
    from annotation.rules import RuleLabeler, annotate_rules

    if args.dry_run:
        lab = RuleLabeler(rub)
        click.echo(
            f"dry run: rules backend, {rub.id}@{rub.version}: "
            f"{count_units(corpus, rub, args.limit)} units, {len(lab.pattern_ids)} patterns, "
            f"schemes {', '.join(lab.schemes)} (offline, no cost)"
        )
        return
    out = _check_outputs(replace(args, pack=None))
    result = annotate_rules(corpus, rub, out=out, limit=args.limit, force=args.force)
    c, m = result.counts, result.manifest
    click.echo(
        f"completed: {m['units']} units, {c.get('ok', 0)} labels, "
        f"{c.get('no_match', 0)} no match (label NA) -> {out / 'annotations.jsonl'}"
    )
    click.echo(
        f"  rater {m['rater']}; {m['rules']['patterns']} patterns; "
        f"{m['seconds']:.2f} s; run {result.run_id}"
    )
    if m["rules"]["abstained_schemes"]:
        click.echo(f"  no patterns, no rows: {', '.join(m['rules']['abstained_schemes'])}")
    if args.save_corpus is not None:
        _save_labels(corpus, result, args.save_corpus, out)
        click.echo(f"  corpus with the rule labels -> {args.save_corpus}")


@click.group("rubric")
def rubric_cmd() -> None:
    """List, show and check rubrics (codebooks).

    \b
    Examples:
      edudial rubric list
      edudial rubric show mathdial-moves --guide > guide.md
      edudial rubric check my-rubric.yaml
    """


@rubric_cmd.command("list")
def rubric_list() -> None:
    """List the built-in rubrics.

    \b
    Example:
      edudial rubric list
    """
    from rich.console import Console
    from rich.table import Table

    import annotation

    table = Table("name", "version", "mode", "unit", "applies to", "scheme", "labels", "title")
    for name in annotation.builtin_rubrics():
        r = annotation.load_rubric(name)
        table.add_row(
            r.id,
            r.version,
            r.mode,
            r.unit,
            ",".join(r.applies_to.roles or ["all"]),
            r.scheme,
            str(len(r.labels)),
            r.title or "",
        )
    console = Console()
    if not console.is_terminal:
        console.width = 160
    console.print(table)


@rubric_cmd.command("show")
@click.argument("name", metavar="NAME|FILE")
@click.option("--guide", is_flag=True, help="Print the human coding guide (Markdown).")
@click.option(
    "--dialect",
    type=click.Choice(["json_schema", "json_object_schema", "prompt"]),
    default="json_schema",
    show_default=True,
    help="Prompt variant to show.",
)
def rubric_show(name: str, guide: bool, dialect: str) -> None:
    """Show a rubric's LLM prompt and answer schema, or (--guide) its coding guide.

    \b
    Examples:
      edudial rubric show mathdial-moves
      edudial rubric show sight-feedback --guide > sight-guide.md
    """
    import annotation
    from annotation.prompt import system_message

    r = annotation.load_rubric(name)
    if guide:
        click.echo(annotation.render_guide(r), nl=False)
        return
    cats = r.label_names if r.mode == "binary" else [None]
    click.echo(
        f"# {r.id} version {r.version} (sha256 {r.sha256[:16]}; prompt template "
        f"{annotation.PROMPT_TEMPLATE_SHA256[:16]})"
    )
    click.echo(f"# writes: {', '.join(r.schemes)}; labels in order: {', '.join(r.category_order)}")
    for cat in cats[:1]:
        if cat is not None:
            click.echo(f"# one system prompt per category; showing {cat!r}")
        click.echo("\n--- system ---")
        click.echo(system_message(r, dialect, cat), nl=False)
    click.echo("--- response_format ---")
    click.echo(json.dumps(annotation.response_format(r, dialect), indent=2))


@rubric_cmd.command("check")
@click.argument("path", type=click.Path(path_type=Path))
def rubric_check(path: Path) -> None:
    """Validate a rubric YAML file; lists every problem with its line and field.

    \b
    Example:
      edudial rubric check my-rubric.yaml
    """
    import annotation
    from annotation.rubric import RubricError

    try:
        r = annotation.load_rubric(path if str(path).endswith((".yaml", ".yml")) else str(path))
    except RubricError as exc:
        if (click.get_current_context().find_root().obj or {}).get("debug"):
            raise
        for problem in exc.problems:  # one line each, as every other error
            click.echo(f"error: {problem}", err=True)
        n = len(exc.problems)
        click.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)
        sys.exit(2)
    click.echo(
        f"ok: {r.id} version {r.version}, {r.mode}, {len(r.labels)} labels, "
        f"writes {', '.join(r.schemes[:3])}{' ...' if len(r.schemes) > 3 else ''}; "
        f"sha256 {r.sha256[:16]}"
    )
