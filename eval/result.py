"""Plain result containers with ``to_dict()`` (JSON-ready: NaN becomes ``None``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["AgreementResult", "Metric", "SchemeResult", "families", "jsonable"]


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and NaN/inf into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return value


@dataclass
class Metric:
    """One coefficient with its intervals.

    ``ci`` is the primary interval (cluster bootstrap when clusters are known, else the unit
    bootstrap, else the analytic interval); ``intervals`` keeps every interval computed, keyed
    ``analytic``, ``bootstrap`` and ``cluster_bootstrap``.
    """

    name: str
    estimate: float
    n: int
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    se: float | None = None
    intervals: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    def choose_primary(self) -> None:
        for key in ("cluster_bootstrap", "bootstrap", "analytic"):
            iv = self.intervals.get(key)
            if (
                iv is not None
                and iv.get("ci") is not None
                and all(v is not None and math.isfinite(v) for v in iv["ci"])
            ):
                self.ci = (float(iv["ci"][0]), float(iv["ci"][1]))
                self.ci_method = iv["method"]
                return
        self.ci, self.ci_method = None, None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "ci": None if self.ci is None else list(self.ci),
            "ci_method": self.ci_method,
            "se": self.se,
            "n": self.n,
        }
        out.update(self.info)
        out["intervals"] = self.intervals
        if self.note:
            out["note"] = self.note
        return jsonable(out)


@dataclass
class SchemeResult:
    """Agreement results of one scheme (see ``docs/eval.md`` for the JSON layout)."""

    scheme: str
    n_units: int
    raters: list[str]
    humans: list[str]
    models: list[str]
    categories: list[str]
    level: str
    metrics: dict[str, Metric]
    pairwise: list[dict[str, Any]]
    per_category: list[dict[str, Any]]
    human_model: dict[str, Any] | None
    conventions: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "scheme": self.scheme,
                "n_units": self.n_units,
                "raters": self.raters,
                "humans": self.humans,
                "models": self.models,
                "categories": self.categories,
                "level": self.level,
                "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
                "pairwise": self.pairwise,
                "per_category": self.per_category,
                "human_model": self.human_model,
                "conventions": self.conventions,
                "notes": self.notes,
            }
        )


def _main_metric(s: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("cohen_kappa", "krippendorff_alpha", "fleiss_kappa"):
        if key in s["metrics"]:
            m = s["metrics"][key]
            return {"name": key, "estimate": m["estimate"], "ci": m["ci"], "n": m["n"]}
    return None


def families(schemes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per-category summaries of scheme families ``<family>/<category>`` (e.g. ``sight/*``).

    Each row: category, scheme, n_units, human IRR (Cohen's kappa for two raters, else alpha),
    AC1, positive rates of the first pair (binary schemes) and human-model kappa per model.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for s in schemes:
        if "/" not in s["scheme"]:
            continue
        fam, cat = s["scheme"].split("/", 1)
        hm = s.get("human_model") or {}
        row = {
            "category": cat,
            "scheme": s["scheme"],
            "n_units": s["n_units"],
            "irr": _main_metric(s),
            "gwet_ac1": s["metrics"].get("gwet_ac1", {}).get("estimate"),
            "positive_rate": (
                s["pairwise"][0].get("positive_rate")
                if s["pairwise"] and len(s["categories"]) == 2
                else None
            ),
            "human_model_kappa": {
                m: {
                    "estimate": e["human_model_kappa"]["estimate"],
                    "ci": e["human_model_kappa"]["ci"],
                }
                for m, e in (hm.get("by_model") or {}).items()
            },
        }
        out.setdefault(fam, []).append(row)
    return {k: v for k, v in out.items() if len(v) >= 2}


@dataclass
class AgreementResult:
    """Results for every scheme plus the conventions used."""

    schemes: list[SchemeResult]
    conventions: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        schemes = [s.to_dict() for s in self.schemes]
        return jsonable(
            {
                "schemes": schemes,
                "families": families(schemes),
                "conventions": self.conventions,
            }
        )

    def __getitem__(self, scheme: str) -> SchemeResult:
        for s in self.schemes:
            if s.scheme == scheme:
                return s
        raise KeyError(scheme)
