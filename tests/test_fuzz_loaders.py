"""Malformed input never surprises: seeded mutations of small inputs for every loader.

The cases are those of ``benchmarks/fuzz.py`` (which runs thousands per target with a timeout),
here a CI-sized run in-process: each case loads, or raises one ``InputError`` on one line that
names the file; never another exception; and the known-corrupt mutations (a deleted or added
CSV cell, a record cut inside a quoted field, an empty input, a lone surrogate escape, JSON
nested 100,000 deep) are never accepted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = 16  # per target: every mutation of the target's kind at least once


def _harness():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_fuzz", ROOT / "benchmarks" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_fuzz"] = module
    spec.loader.exec_module(module)
    return module


fuzz = _harness()


@pytest.mark.parametrize("name", sorted(fuzz.TARGETS))
def test_every_mutation_loads_or_fails_cleanly(name: str, tmp_path: Path) -> None:
    target = fuzz.TARGETS[name]
    kind = fuzz.seed_kind(name, tmp_path)
    plan = fuzz.case_plan(target, kind, CASES, seed=0)
    assert {m for _, m in plan} == set(fuzz.mutations(target, kind))  # all of them, once or more
    outcomes = [fuzz.run_case(name, case, m, 0, tmp_path) for case, m in plan]
    bad = [o for o in outcomes if o.status in ("unexpected", "accepted_corrupt")]
    assert not bad, "\n".join(f"#{o.case} {o.mutation}: {o.status}: {o.detail}" for o in bad)


def test_the_seeds_load(tmp_path: Path) -> None:
    # Unmutated, every seed is valid input: a rejection above is the mutation's doing.
    for name, target in fuzz.TARGETS.items():
        folder = tmp_path / name
        folder.mkdir()
        target.load(target.make(folder).root)


@pytest.mark.parametrize(
    ("name", "mutation"),
    [
        ("sight_sample", "delete_cell"),
        ("mathdial_csv", "cut_record"),
        ("transcripts_tsv", "extra_cell"),
        ("code_import_csv", "delete_cell"),
        ("bridge", "empty_json"),
        ("cima", "deep"),
        ("mrbench", "surrogate"),
        ("transcripts_jsonl", "deep"),
    ],
)
def test_the_harness_sees_corrupt_input(name: str, mutation: str, tmp_path: Path) -> None:
    # The known-corrupt kinds end as clean errors (the harness would report them accepted).
    outcome = fuzz.run_case(name, 0, mutation, 0, tmp_path)
    assert outcome.status == "clean", outcome
    assert fuzz.TARGETS[name].corrupt(mutation)
