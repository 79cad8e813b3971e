"""``edudial plan`` and ``edudial estimate``: how many units to code, and corpus-wide shares.

Thin click layers over :mod:`eval.sample_size` and :mod:`eval.ppi`; the sample file of
``edudial code sample`` is read through :func:`annotation.coding.read_sample`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from toolkit.cli.inputs import coding_round, round_note, round_option
from toolkit.errors import InputError

__all__ = ["PlanOptions", "estimate_cmd", "plan_cmd", "run_plan"]


def _floats(value: str, name: str) -> list[float]:
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{name} must be comma-separated numbers, got {value!r}") from None


def _load(path: Path) -> tuple[Any, Mapping[Any, Any] | None]:
    """Annotations and unit -> dialogue map of a saved corpus or an annotations file."""
    from toolkit.io import read_annotations, read_corpus

    if path.is_dir():
        corpus = read_corpus(path)
        return corpus.annotations, corpus.unit_dialogues()
    return read_annotations(path), None


def _prevalences(prevalence: float | None, prevalences: str | None) -> list[float]:
    from eval.sample_size import binary_prevalences

    if prevalences is not None:
        return _floats(prevalences, "--prevalences")
    if prevalence is None:
        raise InputError("give --prevalence P (binary code) or --prevalences P1,P2,...")
    return list(binary_prevalences(prevalence))


def _plan_lines(res: Any, check: Any) -> list[str]:
    prev = ", ".join(f"{p:.3g}" for p in res.prevalences)
    lines = [
        f"metric {res.metric}, expected {res.expected:.3f}, {res.raters} raters per unit, "
        f"prevalences [{prev}], {res.confidence:.0%} interval of half-width {res.width:g}",
        f"analytic ({res.method}): {res.n_units} units "
        f"(standard error {res.unit_sd:.3f} / sqrt(n))",
    ]
    if check is not None:
        lines.append(
            f"simulation ({check.studies} studies of {check.n_units} units, bootstrap "
            f"B={check.B}): mean bootstrap half-width {check.bootstrap_half_width:.3f}, "
            f"spread of estimates (z x sd) {check.empirical_half_width:.3f}, "
            f"coverage {check.coverage:.1%}"
        )
    return lines


@dataclass(frozen=True)
class PlanOptions:
    """The options of ``edudial plan`` (one field per command-line option)."""

    corpus: Path | None
    scheme: str | None
    metric: str
    expected: float | None
    width: float
    prevalence: float | None
    prevalences: str | None
    raters: int
    humans: str | None
    confidence: float
    studies: int
    seed: int
    round_: str | None = None


def _pilot(corpus: Path, scheme: str, opts: PlanOptions) -> tuple[Any, list[str]]:
    import eval
    from eval.sample_size import pilot_plan
    from toolkit.cli.inputs import human_coders

    annotations, clusters = _load(corpus)
    annotations, _ = coding_round(annotations, opts.round_)
    named = [h.strip() for h in opts.humans.split(",")] if opts.humans else None
    coders = human_coders(annotations, named=named, schemes=[scheme])
    if coders.names == [] and coders.left_out:
        raise InputError(
            f"scheme {scheme!r} has no human coders besides the gold rater(s) "
            f"{', '.join(coders.left_out)}; name the pilot raters with --humans"
        )
    table = eval.ratings_table(annotations, scheme, raters=coders.names or None, clusters=clusters)
    metric, width = opts.metric, opts.width
    pilot = pilot_plan(table, metric, width, confidence=opts.confidence)
    lines = [
        f"pilot: scheme {scheme}, raters {', '.join(table.raters)}, {pilot.pilot_units} units "
        f"with two or more ratings, observed {metric} {pilot.observed:.3f}",
    ]
    if coders.left_out:
        lines.append(
            f"gold rater(s) left out of the coders: {', '.join(coders.left_out)} (derived from "
            "the coders' labels; name them with --humans to count them)"
        )
    if pilot.dropped_categories:
        lines.append(f"unused categories left out: {', '.join(pilot.dropped_categories)}")
    more = "no more units needed" if not pilot.more_units else f"{pilot.more_units} more units"
    lines.append(f"to reach half-width {width:g}: {pilot.plan.n_units} units in all ({more})")
    return pilot.plan, lines


@click.command("plan")
@click.argument("corpus", required=False, type=click.Path(path_type=Path))
@click.option("--scheme", help="Pilot scheme (with CORPUS).")
@click.option(
    "--metric",
    type=click.Choice(["kappa", "alpha", "ac1"]),
    default="kappa",
    show_default=True,
    help="Coefficient whose interval is planned.",
)
@click.option("--expected", type=float, help="Expected coefficient (without CORPUS).")
@click.option(
    "--width",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    required=True,
    help="Wanted half-width of the interval.",
)
@click.option("--prevalence", type=float, help="Prevalence of a binary code.")
@click.option("--prevalences", help="Prevalence of each category, comma-separated.")
@click.option("--raters", type=click.IntRange(min=2), default=2, show_default=True)
@click.option(
    "--humans",
    help="Pilot raters, comma-separated (default: rater_kind == human, except 'adjudicated').",
)
@round_option
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
)
@click.option(
    "--simulate",
    "studies",
    type=click.IntRange(min=0),
    default=300,
    show_default=True,
    help="Simulated studies for the check (0 = skip).",
)
@click.option("--seed", type=int, default=0, show_default=True)
def plan_cmd(**options: Any) -> None:
    """How many units must people code for an agreement interval of a given half-width.

    Without CORPUS the planned values are given; with CORPUS a pilot's observed prevalences and
    agreement are used. The analytic answer is checked by simulation with the bootstrap.

    \b
    Examples:
      edudial plan --metric kappa --expected 0.7 --width 0.1 --prevalence 0.2
      edudial plan --metric ac1 --expected 0.8 --width 0.05 --prevalences 0.6,0.3,0.1 --raters 3
      edudial plan pilot.corpus --scheme mathdial/move --width 0.1 --round r1
    """
    run_plan(PlanOptions(**options))


def run_plan(opts: PlanOptions) -> None:
    """Plan the number of units of ``opts`` and print it."""
    from eval.sample_size import plan, simulate_plan

    if opts.corpus is not None:
        if opts.scheme is None:
            raise InputError("edudial plan CORPUS needs --scheme")
        res, lines = _pilot(opts.corpus, opts.scheme, opts)
    else:
        if opts.round_ is not None:
            raise InputError("--round chooses the coding round of a pilot CORPUS: give CORPUS")
        if opts.expected is None:
            raise InputError("give --expected (or a pilot CORPUS with --scheme)")
        prev = _prevalences(opts.prevalence, opts.prevalences)
        res = plan(
            opts.metric,
            opts.expected,
            opts.width,
            prev,
            raters=opts.raters,
            confidence=opts.confidence,
        )
        lines = []
    check = simulate_plan(res, studies=opts.studies, seed=opts.seed) if opts.studies else None
    for line in _plan_lines(res, check) + lines:
        click.echo(line)


def _populations(sample: Any, path: Path) -> dict[str | None, int]:
    """``N_h`` of each stratum of a sample's design, keyed as its units name their stratum.

    A simple random sample is a design with one stratum: ``edudial code sample`` writes it as
    the stratum ``"all"`` while its units carry no stratum (``None``), so ``None`` is keyed to
    that one stratum (or to the design's population when the file lists no stratum).
    """
    population: dict[str | None, int] = {s.stratum: s.population for s in sample.design.strata}
    if any(u.stratum is None for u in sample.units):
        if len(population) > 1:
            raise InputError(
                f"units without a stratum in a design with {len(population)} strata", path=path
            )
        population[None] = next(iter(population.values()), sample.design.population)
    return population


def _sample_design(
    sample_path: Path, units: list[str], gold: np.ndarray, n_model: int
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Inclusion probabilities and strata of the coded units from a sample file.

    Coded units outside the sample are not part of the design and are dropped (gold set to -1).
    Within each stratum the coded units are treated as a simple random sample of its
    ``population`` (sampled but not yet coded units as missing at random), so the weight is
    ``N_h / (coded units of h)``. A simple random sample has no strata (``None``): its one
    stratum's variance is the unstratified one.
    """
    from annotation.coding import read_sample

    sample = read_sample(sample_path)
    info = {}
    for u in sample.units:
        info[u.unit_id] = u
        info[f"{u.corpus}/{u.unit_id}"] = u
    population = _populations(sample, sample_path)
    in_sample = np.array([u in info for u in units])
    strata = np.array([info[u].stratum if u in info else "" for u in units], dtype=object)
    notes = []
    if abs(sample.design.population - n_model) > 0.01 * max(n_model, 1):
        notes.append(
            f"The sample was drawn from {sample.design.population} units but the model labelled "
            f"{n_model}: shares refer to the model-labelled units."
        )
    outside = int(((gold >= 0) & ~in_sample).sum())
    if outside:
        notes.append(f"{outside} coded unit(s) outside the sample file were left out.")
    coded = in_sample & (gold >= 0)
    inclusion = np.full(len(units), np.nan)
    for h in set(strata[coded]):
        if h not in population:
            raise InputError(f"stratum {h!r} is not in the design of the sample", path=sample_path)
        m = coded & np.array([s == h for s in strata], dtype=bool)  # h may be None
        inclusion[m] = m.sum() / population[h]
    simple = all(h is None for h in strata[coded])
    return inclusion, None if simple else strata, notes


@click.command("estimate")
@click.argument("corpus", type=click.Path(path_type=Path))
@click.option("--scheme", required=True, help="Scheme whose codes are counted.")
@click.option(
    "--model",
    "model",
    required=True,
    help="Model rater labelling every unit (gpt-4o-mini for gpt-4o-mini@rubric@version when it "
    "names one rater).",
)
@click.option("--gold", default="adjudicated", show_default=True, help="Gold rater.")
@round_option
@click.option("--sample", "sample", type=click.Path(path_type=Path), help="Sample file.")
@click.option("--categories", help="Declared categories in codebook order, comma-separated.")
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def estimate_cmd(
    *,
    corpus: Path,
    scheme: str,
    model: str,
    gold: str,
    round_: str | None,
    sample: Path | None,
    categories: str | None,
    confidence: float,
    fmt: str,
) -> None:
    """Share of units carrying each code across the corpus, with valid intervals (PPI++).

    Uses the model's labels on every unit and the gold labels on the coded sample, weighted by
    the inclusion probabilities of --sample (from `edudial code sample`; without it the coded
    units are taken as a simple random sample). Prints model-only, gold-only, PPI and PPI++.

    \b
    Examples:
      edudial estimate md.corpus --scheme mathdial/move --model gpt-4o-mini --gold adjudicated
      edudial estimate md.corpus --scheme mathdial/move --model m1 --sample sample.json
      edudial estimate md.corpus --scheme mathdial/move --model m1 --round r2
    """
    import json

    import eval
    from eval.ppi import estimate_shares
    from toolkit.cli.inputs import resolve_rater
    from toolkit.jsonvalue import plain

    annotations, _ = _load(corpus)
    annotations, rounds = coding_round(annotations, round_)
    cats = [c.strip() for c in categories.split(",")] if categories else None
    table = eval.ratings_table(annotations, scheme, categories=cats)
    model = resolve_rater(model, table.raters, option="--model", where=f" in scheme {scheme!r}")
    if gold not in table.raters:
        raise InputError(
            f"--gold {gold!r} has no labels in scheme {scheme!r}; raters: {', '.join(table.raters)}"
        )
    m = table.codes[:, table.raters.index(model)]
    g = table.codes[:, table.raters.index(gold)]
    inclusion = strata = None
    notes: list[str] = []
    if sample is not None:
        inclusion, strata, notes = _sample_design(sample, table.units, g, int((m >= 0).sum()))
        g = np.where(np.isfinite(inclusion), g, -1)
    else:
        notes.append("No --sample: the coded units are taken as a simple random sample.")
    res = estimate_shares(
        m, g, table.categories, inclusion=inclusion, strata=strata, confidence=confidence
    )
    chosen = round_note(rounds, [scheme])
    res.notes[:0] = notes + ([] if chosen is None else [chosen])
    if fmt == "json":
        doc = {"scheme": scheme, "model": model, "gold": gold, **res.to_dict()}
        click.echo(json.dumps(plain(doc), indent=2))
        return
    click.echo(
        f"scheme {scheme}: {res.n_corpus} units labelled by {model}, {res.n_gold} coded by "
        f"{gold}; {confidence:.0%} intervals"
    )
    header = f"{'code':<20} {'model-only':>22} {'gold-only':>22} {'PPI':>22} {'PPI++':>22}"
    click.echo(header)
    for c in res.codes:
        cells = [
            f"{iv.estimate:.3f} [{iv.ci[0]:.3f}, {iv.ci[1]:.3f}]"
            for iv in (c.model_only, c.gold_only, c.ppi, c.ppi_plus)
        ]
        click.echo(f"{c.code:<20} " + " ".join(f"{cell:>22}" for cell in cells))
    for note in res.notes:
        click.echo(f"note: {note}")
