"""Coverage of every interval edudial prints, on simulated ratings with a known truth.

Run: ``python benchmarks/coverage.py`` (about an hour on 2 cores with the defaults:
``--reps 1000 --boot 200``). ``--quick`` runs a small grid. Prints, per cell and estimand, the
coverage of each interval method (with its Monte-Carlo SE, sqrt(p(1-p)/R)), the median width,
the share of replicates where the estimand is undefined, and which interval is the default.

The process: G dialogues of m units each; a true category per unit (balanced: 4 equally
common categories; rare: 2 categories, the positive one 5%); each human coder gives the true
category with probability 0.75, else a draw from the category mix (so the true kappa of two
coders is 0.75^2 = 0.5625); a model rater does the same with probability 0.65. Dependence
inside dialogues: ``coder`` draws the last coder's and the model's accuracy per dialogue from
U(0.45, 1.0) (mean 0.725); ``prevalence`` draws each dialogue's category mix from a
Dirichlet around the population mix. ``missing`` deletes that share of ratings at random
(every unit keeps at least one). The truth of each estimand is its value on one
400,000-unit population of the same process (a pooled ratio's limit does not depend on G
or m).

Estimands: the scheme coefficients of the humans (Cohen's kappa with two coders, Fleiss',
Conger's kappa, Krippendorff's alpha at the cell's level, Gwet's AC1, ICC for interval
cells), the human-model difference (mean kappa(H_i, M) - mean kappa(H_i, H_j)), gold
macro-F1 of the model against the first coder, and separately ``edudial estimate``'s PPI and
PPI++ shares of a code from a simple random sample of a corpus.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.agreement import scheme_agreement
from eval.data import RatingTable
from eval.gold import gold_metrics
from eval.ppi import estimate_shares
from eval.result import Interval, SchemeResult
from toolkit.errors import InputError

ACCURACY, MODEL_ACCURACY = 0.75, 0.65
TRUTH_UNITS = 400_000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Cell:
    """One simulated design."""

    dialogues: int = 8
    units: int = 4
    dependence: str = "none"  # none, coder, prevalence
    codes: str = "balanced"  # balanced (4 categories) or rare (binary, 5% positive)
    raters: int = 2
    missing: float = 0.0
    level: str = "nominal"  # nominal, ordinal, interval

    @property
    def name(self) -> str:
        parts = [f"{self.dialogues}x{self.units}", self.dependence, self.codes, f"{self.raters}r"]
        if self.missing:
            parts.append(f"{self.missing:.0%} missing")
        if self.level != "nominal":
            parts.append(self.level)
        return " ".join(parts)

    def process(self) -> Cell:
        """The cell without its size (cells of one process share a truth)."""
        return replace(self, dialogues=0, units=0)


def _mix(cell: Cell) -> np.ndarray:
    return np.array([0.95, 0.05]) if cell.codes == "rare" else np.full(4, 0.25)


def simulate(cell: Cell, rng: np.random.Generator, dialogues: int | None = None) -> RatingTable:
    """One data set of the cell's process: coders H1.. and a model M (rater kind ``model``).

    Examples
    --------
    >>> t = simulate(Cell(dialogues=3, units=2), np.random.default_rng(0))
    >>> t.codes.shape, t.raters, sorted(set(t.clusters.tolist()))
    ((6, 3), ['H1', 'H2', 'M'], ['d0', 'd1', 'd2'])
    """
    g = cell.dialogues if dialogues is None else dialogues
    m, mix, n_h = cell.units or 4, _mix(cell), cell.raters
    n, q = g * m, len(mix)
    dialogue = np.repeat(np.arange(g), m)
    if cell.dependence == "prevalence":
        per_dialogue = rng.dirichlet(mix * 4.0, size=g)  # concentration 4: strong shifts
    else:
        per_dialogue = np.broadcast_to(mix, (g, q))
    cum = np.cumsum(per_dialogue, axis=1)[dialogue]
    truth = (rng.random((n, 1)) > cum).sum(axis=1).clip(0, q - 1)
    accuracy = np.full((g, n_h + 1), ACCURACY)
    accuracy[:, -1] = MODEL_ACCURACY
    if cell.dependence == "coder":
        accuracy[:, -2:] = rng.uniform(0.45, 1.0, size=(g, 2))
    keep = rng.random((n, n_h + 1)) < accuracy[dialogue]
    noise = (rng.random((n, n_h + 1, 1)) > cum[:, None, :]).sum(axis=2).clip(0, q - 1)
    codes = np.where(keep, truth[:, None], noise)
    if cell.missing:
        drop = rng.random((n, n_h)) < cell.missing
        drop[drop.all(axis=1), 0] = False  # every unit keeps at least one coder
        codes[:, :n_h][drop] = -1
    raters = [f"H{i + 1}" for i in range(n_h)] + ["M"]
    kinds = {r: "human" for r in raters[:-1]} | {"M": "model"}
    scores = np.arange(1.0, q + 1) if cell.level == "interval" else None
    return RatingTable(
        "sim",
        [f"u{i}" for i in range(n)],
        raters,
        [str(k) for k in range(q)],
        codes.astype(np.int64),
        cell.level,
        scores=scores,
        clusters=np.char.add("d", dialogue.astype(str)),
        rater_kinds=kinds,
    )


# ------------------------------------------------------------------ estimands of one result
@dataclass
class Observed:
    """Every interval of every estimand of one replicate, and which one is the default."""

    estimate: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, dict[str, Interval]] = field(default_factory=dict)
    default: dict[str, str | None] = field(default_factory=dict)


SCHEME_METRICS = (
    "cohen_kappa",
    "fleiss_kappa",
    "conger_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
    "icc",
)


def _keyed_default(intervals: dict[str, Interval], ci: tuple[float, float] | None) -> str | None:
    """The key of the interval shown as ``ci`` (``default`` first: it may equal a part)."""
    for key in sorted(intervals, key=lambda k: k != "default"):
        interval = intervals[key]
        if ci is not None and interval.finite() and tuple(interval.ci) == tuple(ci):
            return key
    return None


def observe(res: SchemeResult, table: RatingTable, boot: int, seed: int) -> Observed:
    """The estimands of one :func:`scheme_agreement` result (and gold F1 of the same data)."""
    out = Observed()
    for name in SCHEME_METRICS:
        metric = res.metrics.get(name)
        if metric is None:
            continue
        out.estimate[name] = metric.estimate
        out.intervals[name] = dict(metric.intervals)
        out.default[name] = _keyed_default(metric.intervals, metric.ci)
    hm = res.human_model
    if hm is not None and "M" in hm.by_model and hm.by_model["M"].difference is not None:
        diff = hm.by_model["M"].difference
        out.estimate["human_model_diff"] = diff.estimate
        out.intervals["human_model_diff"] = dict(diff.intervals)
        out.default["human_model_diff"] = _keyed_default(diff.intervals, diff.ci)
    try:
        gold = gold_metrics(table, "M", "H1", B=boot, seed=seed)
    except InputError:  # fewer than two scored units: the estimand is undefined
        return out
    f1 = gold.macro["f1"]
    out.estimate["gold_macro_f1"] = f1.estimate
    over = "dialogues" if gold.bootstrap["method"] == "cluster" else "units"
    boot_ci = f1.bootstrap_ci or (math.nan, math.nan)
    out.intervals["gold_macro_f1"] = {
        "default": Interval(gold.bootstrap["ci_method"], tuple(f1.ci)),
        "bootstrap": Interval(f"percentile bootstrap over {over}", tuple(boot_ci), B=boot),
    }
    out.default["gold_macro_f1"] = "default"
    return out


# ------------------------------------------------------------------ truth and replicates
_TRUTH: dict[Cell, dict[str, float]] = {}


def truth(cell: Cell) -> dict[str, float]:
    """The estimands on one large population of the cell's process (cached per process)."""
    key = cell.process()
    if key not in _TRUTH:
        big = replace(cell, dialogues=TRUTH_UNITS // 4, units=4)
        table = simulate(big, np.random.default_rng(12345))
        res = scheme_agreement(table, bootstrap=0, use_clusters=False)
        values = observe(res, table, 0, 0).estimate
        _TRUTH[key] = values
    return _TRUTH[key]


@dataclass
class Tally:
    """Coverage counts of one estimand and interval method in one cell."""

    covered: int = 0
    defined: int = 0
    widths: list[float] = field(default_factory=list)

    def add(self, interval: Interval, value: float) -> None:
        self.defined += 1
        lo, hi = interval.ci
        self.covered += int(lo <= value <= hi)
        self.widths.append(hi - lo)


@dataclass
class CellResult:
    cell: Cell
    reps: int
    tallies: dict[tuple[str, str], Tally]
    undefined: dict[str, int]
    defaults: dict[str, dict[str, int]]
    truth: dict[str, float]
    seconds: float


def run_cell(cell: Cell, reps: int, boot: int, seed: int = 0) -> CellResult:
    """``reps`` replicates of ``cell``: coverage of every interval of every estimand."""
    t0 = time.perf_counter()
    true = truth(cell)
    tallies: dict[tuple[str, str], Tally] = {}
    undefined = dict.fromkeys(true, 0)
    defaults: dict[str, dict[str, int]] = {k: {} for k in true}
    rng = np.random.default_rng([seed, cell.dialogues, cell.units, hash(cell.name) % 2**31])
    for r in range(reps):
        table = simulate(cell, rng)
        res = scheme_agreement(table, bootstrap=boot, seed=r)
        obs = observe(res, table, boot, r)
        for name, value in true.items():
            est = obs.estimate.get(name, float("nan"))
            if not (math.isfinite(est) and math.isfinite(value)):
                undefined[name] += 1
                continue
            chosen = obs.default.get(name) or "none"
            defaults[name][chosen] = defaults[name].get(chosen, 0) + 1
            candidates = dict(obs.intervals.get(name, {}))
            if obs.default.get(name) in candidates:
                candidates["default"] = candidates[obs.default[name]]  # type: ignore[index]
            for method, interval in candidates.items():
                if interval.finite():
                    tallies.setdefault((name, method), Tally()).add(interval, value)
    return CellResult(cell, reps, tallies, undefined, defaults, true, time.perf_counter() - t0)


# ------------------------------------------------------------------ PPI shares
@dataclass(frozen=True)
class PpiCell:
    corpus: int = 5000
    coded: int = 200
    share: float = 0.25

    @property
    def name(self) -> str:
        return f"PPI corpus {self.corpus}, coded {self.coded}, share {self.share:.0%}"


def run_ppi_cell(cell: PpiCell, reps: int, seed: int = 0) -> dict[str, Tally]:
    """Coverage of the corpus share of the positive code (finite-population truth)."""
    rng = np.random.default_rng([seed, cell.corpus, cell.coded, int(cell.share * 1000)])
    out: dict[str, Tally] = {}
    for _ in range(reps):
        gold_all = (rng.random(cell.corpus) < cell.share).astype(int)
        right = rng.random(cell.corpus) < np.where(gold_all == 1, 0.8, 0.9)  # a biased model
        model = np.where(right, gold_all, 1 - gold_all)
        gold = np.full(cell.corpus, -1)
        idx = rng.choice(cell.corpus, cell.coded, replace=False)
        gold[idx] = gold_all[idx]
        res = estimate_shares(model, gold, ["no", "yes"])
        value = float(gold_all.mean())
        code = res.codes[1]
        for method, est in (
            ("PPI", code.ppi),
            ("PPI++", code.ppi_plus),
            ("gold only", code.gold_only),
        ):
            out.setdefault(method, Tally()).add(Interval(method, tuple(est.ci)), value)
    return out


# ------------------------------------------------------------------ the grid
DIALOGUES = (2, 3, 5, 8, 12, 20, 50, 200)


def grid(quick: bool = False) -> list[Cell]:
    """Cells: dialogues x dependence x codes crossed (4 units each); one factor at a time
    around the base (8 x 4, independent, balanced, two coders); the issue's two cells."""
    if quick:
        return [Cell(2, 16), Cell(5, 8, "coder"), Cell(20, 4, "coder", "rare")]
    crossed = [
        Cell(g, 4, dep, codes)
        for g, dep, codes in itertools.product(DIALOGUES, ("none", "coder"), ("balanced", "rare"))
    ]
    base = Cell()
    one_factor = [
        replace(base, units=1),
        replace(base, units=16),
        replace(base, dependence="prevalence"),
        replace(base, raters=3),
        replace(base, raters=5),
        replace(base, raters=3, missing=0.2),
        replace(base, raters=5, missing=0.2),
        replace(base, level="ordinal"),
        replace(base, level="interval"),
        replace(base, level="interval", dependence="coder"),
        replace(base, raters=3, dependence="coder"),
    ]
    featured = [Cell(2, 16), Cell(4, 8), Cell(5, 8, "coder"), Cell(2, 16, "coder")]
    return list(dict.fromkeys(crossed + one_factor + featured))


def ppi_grid(quick: bool = False) -> list[PpiCell]:
    if quick:
        return [PpiCell(2000, 100, 0.25)]
    return [PpiCell(5000, n, s) for n in (50, 200, 1000) for s in (0.25, 0.05)]


# ------------------------------------------------------------------ printing
def _row(name: str, method: str, tally: Tally, reps: int) -> str:
    p = tally.covered / tally.defined
    se = math.sqrt(p * (1 - p) / tally.defined)
    width = float(np.median(tally.widths))
    n = f"(n {tally.defined}/{reps})"
    return f"  {name:<20} {method:<40} {100 * p:5.1f}% ±{100 * se:3.1f}  width {width:6.3f}  {n}"


def print_cell(res: CellResult) -> None:
    print(f"{res.cell.name}  ({res.reps} replicates, {res.seconds:.0f} s)")
    for name in res.truth:
        methods = sorted(m for (n, m) in res.tallies if n == name)
        for method in methods:
            print(_row(name, method, res.tallies[(name, method)], res.reps))
        if res.undefined[name]:
            print(f"  {name:<20} undefined in {res.undefined[name]} of {res.reps} replicates")
    sys.stdout.flush()


def _run(args: tuple[Cell, int, int]) -> CellResult:
    cell, reps, boot = args
    return run_cell(cell, reps, boot)


def main(argv: Sequence[str] | None = None) -> list[CellResult]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replicates per cell")
    parser.add_argument("--boot", type=int, default=200, help="bootstrap resamples per replicate")
    parser.add_argument("--quick", action="store_true", help="a small grid")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cells", type=str, default="", help="only cells whose name contains this")
    args = parser.parse_args(argv)
    cells = [c for c in grid(args.quick) if args.cells in c.name]
    print(f"{len(cells)} cells x {args.reps} replicates, B = {args.boot}, nominal {CONFIDENCE:.0%}")
    jobs = [(c, args.reps, args.boot) for c in cells]
    results: list[CellResult] = []
    if args.workers > 1:
        with multiprocessing.Pool(args.workers) as pool:
            for res in pool.imap(_run, jobs):
                print_cell(res)
                results.append(res)
    else:
        for job in jobs:
            res = _run(job)
            print_cell(res)
            results.append(res)
    for pcell in ppi_grid(args.quick):
        print(f"{pcell.name}  ({args.reps} replicates)")
        for method, tally in run_ppi_cell(pcell, args.reps).items():
            print(_row("share", method, tally, args.reps))
    print_summary(results)
    return results


SHORT = {
    "cohen_kappa": "Cohen",
    "fleiss_kappa": "Fleiss",
    "conger_kappa": "Conger",
    "krippendorff_alpha": "alpha",
    "gwet_ac1": "AC1",
    "icc": "ICC",
    "human_model_diff": "H-M diff",
    "gold_macro_f1": "gold F1",
}


def summary_line(res: CellResult) -> str:
    """One cell: the default's coverage per estimand; ``!`` where it is outside 93-97.5%
    although another method is inside, ``~`` where no method reaches 93%."""
    cells = []
    for name, short in SHORT.items():
        tally = res.tallies.get((name, "default"))
        if tally is None or not tally.defined:
            continue
        p = tally.covered / tally.defined
        others = [
            t.covered / t.defined
            for (n, m), t in res.tallies.items()
            if n == name and m != "default" and t.defined >= 0.5 * res.reps
        ]
        mark = ""
        if max([*others, p]) < 0.93:
            mark = "~"
        elif not 0.93 <= p <= 0.975 and any(0.93 <= o <= 0.975 for o in others):
            mark = "!"
        cells.append(f"{short} {100 * p:.1f}{mark}")
    return f"{res.cell.name:<34} " + "  ".join(cells)


def print_summary(results: Iterable[CellResult]) -> None:
    print("\nDefault interval coverage (nominal 95%; ! another method is within 93-97.5% and")
    print("the default is not; ~ no method reaches 93%)")
    for res in results:
        print(summary_line(res))


if __name__ == "__main__":
    main()
