"""``agreement()``: every coefficient, interval and human-model comparison for each scheme."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from scipy import stats as sstats

from eval.bootstrap import BootstrapResult, percentile_ci, replicate
from eval.coefficients import (
    WEIGHTS,
    Stat,
    alpha_stat,
    conger_stat,
    family_stat,
    pair_joint,
    pair_stat,
    pair_value,
    weight_matrix,
)
from eval.data import LEVELS, RatingTable, ratings_table
from eval.icc import icc
from eval.result import AgreementResult, Metric, SchemeResult
from eval.variance import cohen_se, gwet_alpha_se, gwet_family_se, t_interval, wald_interval
from toolkit.errors import InputError

__all__ = ["MISSING_POLICY", "TIE_RULE", "agreement", "kripp_alpha", "scheme_agreement"]

MISSING_POLICY = (
    "missing ratings are not a category; two-rater coefficients use pairwise deletion (units "
    "rated by both); multi-rater coefficients use all units with >= 2 ratings for observed "
    "agreement and >= 1 rating for prevalences (Gwet); Krippendorff's alpha uses pairable values "
    "(units with >= 2 ratings); ICC uses units rated by every rater"
)
TIE_RULE = (
    "majority = the most frequent human label (strict plurality) among the humans who rated the "
    "unit; ties -> unit dropped (counted in n_ties)"
)
MAX_BOOT_CELLS = 60_000_000  # units x statistic columns kept in the bootstrap


def _per_scheme(value: Any, scheme: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(scheme)
    return value


def _scheme_meta(sub: pd.DataFrame, key: str) -> Any:
    if "meta" not in sub.columns or len(sub) == 0:
        return None
    meta = sub["meta"].iloc[0]
    return meta.get(key) if isinstance(meta, dict) else None


def _analytic(est: float, se: float, ci: tuple[float, float], method: str) -> dict[str, Any]:
    return {"method": method, "se": se, "ci": list(ci)}


class _Builder:
    """Collects statistics for one scheme so they share bootstrap replicates."""

    def __init__(self, table: RatingTable, confidence: float) -> None:
        self.table = table
        self.confidence = confidence
        self.stats: list[Stat] = []
        self.metrics: dict[str, Metric] = {}

    def add(self, key: str, stat: Stat | None) -> None:
        if stat is not None:
            stat.name = key
            self.stats.append(stat)


def _metric(name: str, est: float, n: int, **info: Any) -> Metric:
    return Metric(name=name, estimate=float(est), n=int(n), info=info)


def _set_analytic(m: Metric, se: float, method: str, n: int, kind: str, conf: float) -> None:
    if not np.isfinite(se):
        return
    ci = (
        wald_interval(m.estimate, se, conf)
        if kind == "wald"
        else t_interval(m.estimate, se, n, conf)
    )
    m.se = float(se)
    m.intervals["analytic"] = _analytic(m.estimate, se, ci, method)


def kripp_alpha(
    counts: np.ndarray, level: str, scores: np.ndarray | None
) -> tuple[float, str | None]:
    """Alpha from the ``krippendorff`` package (value counts, declared domain, explicit level)."""
    pairable = counts[counts.sum(axis=1) >= 2]
    q = counts.shape[1]
    if q < 2:
        return float("nan"), "only one declared category: alpha is undefined"
    if len(pairable) == 0:
        return float("nan"), "no unit has two or more ratings: alpha is undefined"
    if (pairable.sum(axis=0) > 0).sum() < 2:
        return float("nan"), "only one category was used: alpha is undefined (no variation)"
    domain = scores if level in ("interval", "ratio") and scores is not None else np.arange(q)
    try:
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = krippendorff.alpha(
                value_counts=pairable,
                value_domain=domain,
                level_of_measurement=level,  # type: ignore[arg-type]
            )
    except ValueError as exc:
        return float("nan"), f"alpha undefined: {exc}"
    return float(value), None


def _binary_indices(joint: np.ndarray) -> dict[str, Any]:
    """Prevalence and bias indices (Byrt, Bishop & Carlin 1993) of a 2 x 2 table (1 = positive)."""
    n = joint.sum()
    if n == 0:
        return {}
    a, b, c, d = joint[1, 1], joint[1, 0], joint[0, 1], joint[0, 0]
    return {
        "prevalence_index": float((a - d) / n),
        "bias_index": float((b - c) / n),
        "positive_rate": [float((a + b) / n), float((a + c) / n)],
        "pabak": float(2 * (a + d) / n - 1),
    }


def _pair_entry(
    t: RatingTable, a: str, b: str, ordered: bool, conf: float
) -> tuple[dict[str, Any], dict[str, Metric]]:
    ia, ib = t.raters.index(a), t.raters.index(b)
    ca, cb = t.codes[:, ia], t.codes[:, ib]
    q = t.q
    joint = pair_joint(ca, cb, q).sum(axis=0).reshape(q, q)
    n = int(joint.sum())
    metrics: dict[str, Metric] = {}
    eye = np.eye(q)
    k, se = cohen_se(joint, eye)
    m = _metric("cohen_kappa", k, n, weights="identity")
    _set_analytic(m, se, "Fleiss-Cohen-Everitt 1969 asymptotic SE, Wald", n, "wald", conf)
    metrics["cohen_kappa"] = m
    pa = float(pair_value("percent_agreement", joint.reshape(1, -1), eye)[0]) if n else np.nan
    metrics["percent_agreement"] = _metric("percent_agreement", pa, n)
    if n:
        z = sstats.norm.ppf(0.5 + conf / 2)  # Wilson score interval
        centre = (pa + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(pa * (1 - pa) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        metrics["percent_agreement"].intervals["analytic"] = {
            "method": "Wilson score",
            "se": None,
            "ci": [centre - half, centre + half],
        }
    if ordered:
        for wt in ("linear", "quadratic"):
            kw, sew = cohen_se(joint, weight_matrix(q, wt))
            mw = _metric(f"cohen_kappa_{wt}", kw, n, weights=wt)
            _set_analytic(mw, sew, "Fleiss-Cohen-Everitt 1969 asymptotic SE, Wald", n, "wald", conf)
            metrics[f"cohen_kappa_{wt}"] = mw
    entry: dict[str, Any] = {
        "raters": [a, b],
        "n": n,
        "confusion": {
            "rows": a,
            "columns": b,
            "categories": t.categories,
            "counts": joint.astype(int).tolist(),
        },
    }
    if q == 2:
        entry.update(_binary_indices(joint))
    return entry, metrics


def _finish(
    metrics: Mapping[str, Metric],
    boot: dict[str, BootstrapResult],
    conf: float,
    key_of: Mapping[str, str],
) -> None:
    """Attach bootstrap intervals (statistic key ``key_of[name]``) and pick primary CIs."""
    for name, m in metrics.items():
        key = key_of.get(name)
        for label, res in boot.items():
            if key is None or key not in res.values:
                continue
            m.intervals[label] = _boot_ci(res.values[key], res, conf)
        m.choose_primary()


def _boot_ci(values: np.ndarray, res: BootstrapResult, conf: float) -> dict[str, Any]:
    lo, hi, bad = percentile_ci(values, conf)
    iv: dict[str, Any] = {
        "method": "percentile bootstrap over "
        + ("clusters (dialogues)" if res.method == "cluster" else "units"),
        "ci": [lo, hi],
        "B": res.B,
        "seed": res.seed,
        "degenerate": bad,
    }
    if res.method == "cluster":
        iv["n_clusters"] = res.n_clusters
    return iv


def _primary(intervals: Mapping[str, dict[str, Any]]) -> tuple[list[float] | None, str | None]:
    for key in ("cluster_bootstrap", "bootstrap", "analytic"):
        iv = intervals.get(key)
        if iv and iv.get("ci") and all(v is not None and np.isfinite(v) for v in iv["ci"]):
            return list(iv["ci"]), iv["method"]
    return None, None


def _majority(codes: np.ndarray, q: int) -> tuple[np.ndarray, int]:
    """Plurality label per unit (-1 when no rating or a tie) and the number of ties."""
    counts = np.zeros((len(codes), q), dtype=int)
    rows, cols = np.nonzero(codes >= 0)
    np.add.at(counts, (rows, codes[rows, cols]), 1)
    top = counts.max(axis=1) if q else np.zeros(len(codes), dtype=int)
    n_top = (counts == top[:, None]).sum(axis=1)
    rated = top > 0
    tie = rated & (n_top > 1)
    out = np.where(rated & ~tie, counts.argmax(axis=1), -1)
    return out, int(tie.sum())


def scheme_agreement(
    table: RatingTable,
    *,
    humans: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    weights: str = "quadratic",
    bootstrap: int = 1000,
    seed: int = 0,
    use_clusters: bool = True,
    confidence: float = 0.95,
    icc_form: str = "ICC(A,1)",
) -> SchemeResult:
    """All coefficients, intervals, pairwise tables and the human-model comparison of one table.

    See :func:`agreement` for the parameters.
    """
    if weights not in WEIGHTS[1:]:
        raise InputError(f"weights must be linear or quadratic, got {weights!r}")
    t = table
    notes: list[str] = []
    kinds = t.rater_kinds
    hum = list(humans) if humans else [r for r in t.raters if kinds.get(r) == "human"]
    if models:
        mod = list(models)
    elif humans:
        mod = [r for r in t.raters if r not in hum and kinds.get(r, "model") != "human"]
    else:
        mod = [r for r in t.raters if kinds.get(r) in ("model", "rule")]
    for r in [*hum, *mod]:
        if r not in t.raters:
            raise InputError(
                f"scheme {t.scheme!r} has no rater {r!r}; raters: {', '.join(t.raters)}"
            )
    if len(hum) == 1 and mod:
        irr = [*hum, *mod]
        notes.append(
            f"only one human ({hum[0]}): scheme-level metrics use all raters (the human "
            "and the models); see human_model for the model-by-model comparison"
        )
    else:
        irr = hum if hum else [r for r in t.raters if r not in mod] or list(t.raters)
    if not hum:
        mod = []
    keep = list(dict.fromkeys([*irr, *mod]))
    t = t.select(keep)
    # every statistic needs a rating by a metric rater (human): drop units rated only by models
    t = t.subset_units(np.asarray((t.select(irr).codes >= 0).any(axis=1)))
    q = t.q
    ordered = t.level != "nominal"
    conf = confidence
    ti = t.select(irr)
    counts = ti.counts()
    eye = np.eye(q)
    wq = weight_matrix(q, weights)
    R = len(irr)
    metrics: dict[str, Metric] = {}
    stats: list[Stat] = []
    key_of: dict[str, str] = {}

    def add(name: str, stat: Stat | None, metric: Metric) -> None:
        metrics[name] = metric
        if stat is not None:
            stat.name = name
            stats.append(stat)
            key_of[name] = name

    if t.n_units == 0:
        notes.append("no ratings")
    if R < 2:
        notes.append(f"only one rater ({', '.join(irr)}): agreement coefficients need two or more")
    if q < 2:
        notes.append(
            f"only one declared category ({', '.join(t.categories)}): chance-corrected "
            "coefficients are undefined (NaN)"
        )
    n2 = int((counts.sum(axis=1) >= 2).sum())
    if R >= 2 and n2 == 0:
        notes.append("no unit is rated by two or more raters: coefficients are undefined (NaN)")
    used = counts.sum(axis=0)
    if q >= 2 and (used > 0).sum() == 1:
        notes.append(
            "only one category was used: kappa-type coefficients are undefined (NaN); "
            "percent agreement, AC1 and Brennan-Prediger remain defined"
        )

    if R >= 2:
        fam = [
            ("percent_agreement", "percent_agreement", eye),
            ("fleiss_kappa", "fleiss_kappa", eye),
            ("gwet_ac1", "gwet_ac", eye),
            ("brennan_prediger", "brennan_prediger", eye),
        ]
        if ordered:
            fam.append(("gwet_ac2", "gwet_ac", wq))
        for name, kind, w in fam:
            st = family_stat(kind, counts, w)
            est, se, n1 = gwet_family_se(kind, counts, w)
            m = _metric(name, st.value(), st.n, raters=R)
            if name == "gwet_ac2":
                m.info["weights"] = weights
            _set_analytic(m, se, "Gwet design-based variance, t interval", n1, "t", conf)
            add(name, st, m)
        if q == 2:
            st = family_stat("brennan_prediger", counts, eye)
            m = _metric("pabak", st.value(), st.n, raters=R)
            m.info["definition"] = "2 p_o - 1 (binary scheme; equals Brennan-Prediger)"
            est, se, n1 = gwet_family_se("brennan_prediger", counts, eye)
            _set_analytic(m, se, "Gwet design-based variance, t interval", n1, "t", conf)
            add("pabak", st, m)
        st = conger_stat(ti, eye)
        add("conger_kappa", st, _metric("conger_kappa", st.value(), st.n, raters=R))
        # Krippendorff's alpha: point estimate from the krippendorff package
        ka, why = kripp_alpha(counts, t.level, t.scores)
        st_a = alpha_stat(counts, t.level, t.scores)
        m = _metric(
            "krippendorff_alpha",
            ka,
            int((counts.sum(axis=1) >= 2).sum()),
            level=t.level,
            n_values=st_a.n,
        )
        if why:
            m.note = why
        else:
            _, se, n1 = gwet_alpha_se(counts, t.level, t.scores)
            _set_analytic(m, se, "Gwet design-based variance, t interval", n1, "t", conf)
        add("krippendorff_alpha", st_a, m)
        if R == 2:
            entry, pm = _pair_entry(ti, irr[0], irr[1], ordered, conf)
            ca, cb = ti.codes[:, 0], ti.codes[:, 1]
            for name, m2 in pm.items():
                if name == "percent_agreement":
                    continue
                w = eye if name == "cohen_kappa" else weight_matrix(q, name.rsplit("_", 1)[1])
                add(name, pair_stat("cohen_kappa", ca, cb, w), m2)
            sp = pair_stat("scott_pi", ca, cb, eye)
            m = _metric("scott_pi", sp.value(), sp.n)
            both = (ca >= 0) & (cb >= 0)
            _, se, n1 = gwet_family_se("fleiss_kappa", counts[both], eye)
            _set_analytic(m, se, "Gwet design-based variance, t interval", n1, "t", conf)
            add("scott_pi", sp, m)
    if t.level in ("interval", "ratio") and R >= 2 and t.scores is not None:
        x = np.where(ti.codes >= 0, t.scores[np.clip(ti.codes, 0, None)], np.nan)
        forms = icc(x, conf)
        f = forms[icc_form]
        m = _metric(
            "icc",
            f.estimate,
            f.n,
            form=f.form,
            shrout_fleiss=f.shrout_fleiss,
            raters=f.k,
            forms={k: v.to_dict() for k, v in forms.items()},
        )
        m.intervals["analytic"] = {
            "method": "exact F (Shrout & Fleiss 1979; McGraw & Wong 1996)",
            "se": None,
            "ci": list(f.ci),
        }
        metrics["icc"] = m
        if f.n < t.n_units:
            m.note = f"listwise deletion: {f.n} of {t.n_units} units are rated by all raters"

    # ---------------------------------------------------------------- pairwise
    pairs = list(
        dict.fromkeys(list(itertools.combinations(irr, 2)) + [(h, mm) for mm in mod for h in hum])
    )
    pair_rows: list[dict[str, Any]] = []
    pair_metrics: dict[tuple[str, str], dict[str, Metric]] = {}
    boot_pairs = len(pairs) * q * q * max(t.n_units, 1) <= MAX_BOOT_CELLS
    if not boot_pairs:
        notes.append("too many rater pairs for the pairwise bootstrap: pairwise CIs are analytic")
    for a, b in pairs:
        entry, pm = _pair_entry(t, a, b, ordered, conf)
        pair_metrics[(a, b)] = pm
        pair_rows.append(entry)
        if boot_pairs:
            ia, ib = t.raters.index(a), t.raters.index(b)
            stat = pair_stat("cohen_kappa", t.codes[:, ia], t.codes[:, ib], eye)
            stat.name = f"pair:{a}|{b}"
            stats.append(stat)

    # ---------------------------------------------------------------- human-model
    hm_alpha: dict[str, tuple[float, float]] = {}
    if hum and mod:
        th = t.select(hum)
        ch = th.counts()
        if len(hum) >= 2:
            st = alpha_stat(ch, t.level, t.scores)
            st.name = "alpha:humans"
            stats.append(st)
        for mm in mod:
            cm = t.select([*hum, mm]).counts()
            st = alpha_stat(cm, t.level, t.scores)
            st.name = f"alpha:+{mm}"
            stats.append(st)
            hm_alpha[mm] = (
                kripp_alpha(ch, t.level, t.scores)[0],
                kripp_alpha(cm, t.level, t.scores)[0],
            )

    # ---------------------------------------------------------------- bootstrap
    boot: dict[str, BootstrapResult] = {}
    width = sum(s.S.shape[1] for s in stats)
    if bootstrap and stats and t.n_units >= 2:
        if width * t.n_units > 4 * MAX_BOOT_CELLS:
            notes.append("too many statistics for the bootstrap: analytic intervals only")
        else:
            boot["bootstrap"] = replicate(stats, B=bootstrap, seed=seed)
            if use_clusters and t.clusters is not None:
                n_cl = len(set(t.clusters.tolist()))
                if n_cl < t.n_units:
                    boot["cluster_bootstrap"] = replicate(
                        stats, B=bootstrap, seed=seed, clusters=t.clusters
                    )
                    if n_cl < 30:
                        notes.append(
                            f"only {n_cl} clusters: cluster-bootstrap intervals are "
                            "unreliable with fewer than about 20-30 clusters"
                        )
                else:
                    notes.append(
                        "every unit is its own cluster: the cluster bootstrap equals "
                        "the unit bootstrap and is not repeated"
                    )
    _finish(metrics, boot, conf, key_of)
    for (a, b), pm in pair_metrics.items():
        _finish(pm, boot, conf, {"cohen_kappa": f"pair:{a}|{b}"})
    for entry, (_, pm) in zip(pair_rows, pair_metrics.items(), strict=True):
        entry["metrics"] = {k: v.to_dict() for k, v in pm.items()}

    def kappa_of(a: str, b: str) -> Metric:
        return pair_metrics[(a, b)]["cohen_kappa"]

    human_model: dict[str, Any] | None = None
    if hum and mod:
        hh_pairs = list(itertools.combinations(hum, 2))
        hh_vals = [kappa_of(a, b).estimate for a, b in hh_pairs]
        hh_finite = [v for v in hh_vals if np.isfinite(v)]
        hh_mean = float(np.mean(hh_finite)) if hh_finite else float("nan")
        human_model = {
            "humans": hum,
            "models": mod,
            "definition": "human_model_kappa = mean over humans of Cohen's kappa(H_i, M) with "
            "pairwise deletion (SIGHT); human_human_kappa = mean pairwise kappa "
            "among humans",
            "tie_rule": TIE_RULE,
            "human_human": {
                "pairs": [
                    {"raters": [a, b], "kappa": v, "n": kappa_of(a, b).n}
                    for (a, b), v in zip(hh_pairs, hh_vals, strict=True)
                ],
                "kappa_mean": hh_mean,
                "kappa_min": min(hh_finite) if hh_finite else None,
                "kappa_max": max(hh_finite) if hh_finite else None,
            },
            "by_model": {},
        }
        hm_h = human_model["human_human"]
        iv = {}
        for label, res in boot.items():
            keys = [f"pair:{a}|{b}" for a, b in hh_pairs]
            if keys and all(k in res.values for k in keys):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    v = np.nanmean(np.column_stack([res.values[k] for k in keys]), axis=1)
                iv[label] = _boot_ci(v, res, conf)
        hm_h["intervals"] = iv
        hm_h["ci"], hm_h["ci_method"] = _primary(iv)
        idx_h = [t.raters.index(h) for h in hum]
        for mm in mod:
            per = {h: kappa_of(h, mm) for h in hum}
            vals = [m.estimate for m in per.values() if np.isfinite(m.estimate)]
            mean_k = float(np.mean(vals)) if vals else float("nan")
            entry_m: dict[str, Any] = {
                "kappa_by_human": {
                    h: {"estimate": m.estimate, "n": m.n, "ci": m.ci, "ci_method": m.ci_method}
                    for h, m in per.items()
                },
                "human_model_kappa": {"estimate": mean_k, "n": [m.n for m in per.values()]},
            }
            ivs: dict[str, Any] = {}
            div: dict[str, Any] = {}
            dalpha: dict[str, Any] = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                for label, res in boot.items():
                    keys = [f"pair:{h}|{mm}" for h in hum]
                    if not all(k in res.values for k in keys):
                        continue
                    hm_rep = np.nanmean(np.column_stack([res.values[k] for k in keys]), axis=1)
                    ivs[label] = _boot_ci(hm_rep, res, conf)
                    if hh_pairs:
                        hh_rep = np.nanmean(
                            np.column_stack([res.values[f"pair:{a}|{b}"] for a, b in hh_pairs]),
                            axis=1,
                        )
                        div[label] = _boot_ci(hm_rep - hh_rep, res, conf)
                    if "alpha:humans" in res.values:
                        dalpha[label] = _boot_ci(
                            res.values[f"alpha:+{mm}"] - res.values["alpha:humans"], res, conf
                        )
            hmk = entry_m["human_model_kappa"]
            hmk["intervals"] = ivs
            hmk["ci"], hmk["ci_method"] = _primary(ivs)
            if hh_pairs:
                diff = mean_k - hh_mean
                dci, dmethod = _primary(div)
                verdict = None
                if dci is not None:
                    verdict = (
                        "below the human-human level"
                        if dci[1] < 0
                        else "above the human-human level"
                        if dci[0] > 0
                        else "comparable to the human-human level"
                    )
                lo_h, hi_h = hm_h["kappa_min"], hm_h["kappa_max"]
                within = None
                if lo_h is not None and np.isfinite(mean_k):
                    within = (
                        bool(lo_h <= mean_k <= hi_h)
                        if len(hh_finite) > 1
                        else (None if dci is None else bool(dci[0] <= 0 <= dci[1]))
                    )
                entry_m["difference"] = {
                    "estimate": diff,
                    "ci": dci,
                    "ci_method": dmethod,
                    "intervals": div,
                    "definition": "human_model_kappa - human_human_kappa (same replicates)",
                    "verdict": verdict,
                }
                entry_m["within_human_range"] = within
            # majority label
            maj, n_ties = _majority(t.codes[:, idx_h], q)
            cm_codes = t.codes[:, t.raters.index(mm)]
            joint = pair_joint(cm_codes, maj, q).sum(axis=0).reshape(q, q)
            km, sem = cohen_se(joint, eye)
            entry_m["majority_kappa"] = {
                "estimate": km,
                "n": int(joint.sum()),
                "n_ties": n_ties,
                "se": sem,
                "ci": list(wald_interval(km, sem, conf)),
                "ci_method": "Fleiss-Cohen-Everitt 1969 asymptotic SE, Wald",
                "tie_rule": TIE_RULE,
            }
            a_h, a_m = hm_alpha[mm]
            entry_m["alpha"] = {
                "humans": a_h,
                "humans_plus_model": a_m,
                "delta": a_m - a_h,
                "intervals": dalpha,
            }
            entry_m["alpha"]["ci"], entry_m["alpha"]["ci_method"] = _primary(dalpha)
            if ordered:
                sc = t.scores if t.scores is not None else np.arange(q, dtype=float)
                hx = np.where(
                    t.codes[:, idx_h] >= 0, sc[np.clip(t.codes[:, idx_h], 0, None)], np.nan
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    hmean = np.nanmean(hx, axis=1)
                mx = np.where(cm_codes >= 0, sc[np.clip(cm_codes, 0, None)], np.nan)
                ok = np.isfinite(hmean) & np.isfinite(mx)
                rho = float("nan")
                if ok.sum() >= 3 and np.ptp(hmean[ok]) > 0 and np.ptp(mx[ok]) > 0:
                    rho = float(sstats.spearmanr(hmean[ok], mx[ok]).statistic)
                entry_m["spearman_rho"] = {
                    "estimate": rho,
                    "n": int(ok.sum()),
                    "against": "mean human score",
                }
                qw = [pair_metrics[(h, mm)]["cohen_kappa_quadratic"].estimate for h in hum]
                qf = [v for v in qw if np.isfinite(v)]
                entry_m["quadratic_kappa"] = {
                    "estimate": float(np.mean(qf)) if qf else float("nan"),
                    "by_human": dict(zip(hum, qw, strict=True)),
                }
            human_model["by_model"][mm] = entry_m

    # ---------------------------------------------------------------- one-vs-rest
    per_category: list[dict[str, Any]] = []
    if q > 2 and R >= 2:
        for k, cat in enumerate(t.categories):
            binm = np.where(ti.codes < 0, -1, (ti.codes == k).astype(int))
            cb_ = np.zeros((len(binm), 2), dtype=int)
            rows, cols = np.nonzero(binm >= 0)
            np.add.at(cb_, (rows, binm[rows, cols]), 1)
            row: dict[str, Any] = {"category": cat}
            est, se, n1 = gwet_family_se("fleiss_kappa", cb_, np.eye(2))
            row["fleiss_kappa"] = {
                "estimate": est,
                "n": n1,
                "ci": list(t_interval(est, se, n1, conf)),
            }
            est, se, n1 = gwet_family_se("gwet_ac", cb_, np.eye(2))
            row["gwet_ac1"] = {"estimate": est, "n": n1, "ci": list(t_interval(est, se, n1, conf))}
            ka, _ = kripp_alpha(cb_, "nominal", None)
            row["krippendorff_alpha"] = {"estimate": ka}
            row["prevalence"] = {
                r: (
                    float((binm[:, j] == 1).sum() / (binm[:, j] >= 0).sum())
                    if (binm[:, j] >= 0).any()
                    else None
                )
                for j, r in enumerate(irr)
            }
            if R == 2:
                joint = pair_joint(binm[:, 0], binm[:, 1], 2).sum(axis=0).reshape(2, 2)
                kc, sec = cohen_se(joint, np.eye(2))
                row["cohen_kappa"] = {
                    "estimate": kc,
                    "n": int(joint.sum()),
                    "ci": list(wald_interval(kc, sec, conf)),
                }
                row.update(_binary_indices(joint))
            per_category.append(row)

    conventions = {
        "level": t.level,
        "categories": t.categories,
        "categories_source": t.categories_source,
        "weights": {
            "unweighted": "identity",
            "weighted": weights,
            "on": "category positions in the declared order",
        },
        "missing_policy": MISSING_POLICY,
        "metrics_raters": irr,
        "confidence": conf,
        "bootstrap": {"B": bootstrap, "seed": seed, "methods": sorted(boot)} if boot else None,
    }
    if t.categories_source.startswith("observed"):
        notes.append(
            "categories were inferred from the observed labels; declare the codebook "
            "(--categories) so unused categories count"
        )
    return SchemeResult(
        scheme=t.scheme,
        n_units=t.n_units,
        raters=list(t.raters),
        humans=hum,
        models=mod,
        categories=list(t.categories),
        level=t.level,
        metrics=metrics,
        pairwise=pair_rows,
        per_category=per_category,
        human_model=human_model,
        conventions=conventions,
        notes=notes,
    )


def agreement(
    annotations: Any,
    schemes: str | Sequence[str] | None = None,
    *,
    humans: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    level: str | Mapping[str, str] | None = None,
    categories: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    weights: str = "quadratic",
    bootstrap: int = 1000,
    cluster: str | None = "dialogue",
    clusters: Mapping[Any, Any] | None = None,
    seed: int = 0,
    confidence: float = 0.95,
    icc_form: str = "ICC(A,1)",
) -> AgreementResult:
    """Inter-rater reliability and human-model agreement for each scheme.

    Parameters
    ----------
    annotations : pandas.DataFrame or toolkit.Corpus
        Long annotations (``unit_id, scheme, label, rater[, rater_kind, corpus]``). A corpus also
        provides the dialogue of each unit for the cluster bootstrap.
    schemes : str or list of str, optional
        Schemes to analyse (default: all, in order of appearance).
    humans, models : list of str, optional
        Rater names; default from ``rater_kind``. Scheme-level metrics use the humans when there
        are any (IRR); models are compared with them in ``human_model``.
    level : str or dict, optional
        Level of measurement (``nominal``, ``ordinal``, ``interval``, ``ratio``), one for all
        schemes or per scheme. Default: the scheme's ``meta["level"]``, else ``nominal``.
    categories : list or dict, optional
        Declared categories in codebook order (all schemes or per scheme). Default: the scheme's
        ``meta["categories"]``, else ``["0", "1"]`` for 0/1 labels, numeric labels in numeric
        order, or (nominal only) the sorted observed labels -- recorded in the conventions.
    weights : {"quadratic", "linear"}
        Weights of AC2 for ordered levels (weighted Cohen's kappa is reported with both).
    bootstrap : int
        Replicates B of the percentile bootstraps (0 = analytic intervals only).
    cluster : {"dialogue", None}
        Also resample whole dialogues (needs ``clusters`` or a corpus).
    clusters : mapping, optional
        ``unit_id`` or ``(corpus, unit_id)`` -> cluster id.
    seed : int
        Seed: the same seed gives the same intervals.
    confidence : float
        Confidence level of every interval.
    icc_form : str
        ICC form reported as ``icc`` (interval/ratio levels); all forms are kept in its info.

    Returns
    -------
    AgreementResult

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(u, r, l) for u, labs in enumerate(["aab", "bbb", "aaa", "abb", "aaa"])
    ...         for r, l in zip("XYZ", labs)]
    >>> a = pd.DataFrame(rows, columns=["unit_id", "rater", "label"]).assign(scheme="s")
    >>> res = agreement(a, bootstrap=200, seed=1)
    >>> round(res["s"].metrics["fleiss_kappa"].estimate, 4)
    0.4444
    """
    corpus_map = None
    if hasattr(annotations, "annotations") and hasattr(annotations, "unit_dialogues"):
        corpus_map = annotations.unit_dialogues() if cluster == "dialogue" else None
        annotations = annotations.annotations
    if not isinstance(annotations, pd.DataFrame):
        raise InputError("annotations must be a pandas DataFrame or a toolkit.Corpus")
    if cluster not in ("dialogue", None, "none"):
        raise InputError(f"cluster must be 'dialogue' or None, got {cluster!r}")
    if bootstrap < 0:
        raise InputError("bootstrap must be 0 or a positive number of replicates")
    if not 0 < confidence < 1:
        raise InputError("confidence must lie between 0 and 1")
    for col in ("unit_id", "scheme", "label", "rater"):
        if col not in annotations.columns:
            raise InputError(f"annotations lack column {col!r}", field=col)
    all_schemes = [str(s) for s in pd.unique(annotations["scheme"].dropna())]
    if schemes is None:
        chosen = all_schemes
    else:
        chosen = [schemes] if isinstance(schemes, str) else list(schemes)
        unknown = [s for s in chosen if s not in all_schemes]
        if unknown:
            raise InputError(
                f"unknown scheme(s) {', '.join(unknown)}; available: {', '.join(all_schemes[:20])}"
            )
    if not chosen:
        raise InputError("no annotations to analyse")
    use_clusters = cluster == "dialogue"
    cmap = clusters if clusters is not None else corpus_map
    if cmap is None and use_clusters and "dialogue_id" in annotations.columns:
        known = annotations.dropna(subset=["dialogue_id"])
        cmap = dict(
            zip(known["unit_id"].astype(str), known["dialogue_id"].astype(str), strict=True)
        )
    results = []
    no_cluster_note = False
    for s in chosen:
        sub = annotations[annotations["scheme"] == s]
        lv = _per_scheme(level, s) or _scheme_meta(sub, "level") or "nominal"
        if lv not in LEVELS:
            raise InputError(
                f"unknown level {lv!r} for scheme {s!r}; use one of {', '.join(LEVELS)}"
            )
        cats = _per_scheme(categories, s) if categories is not None else None
        if cats is None:
            cats = _scheme_meta(sub, "categories")
        raters = None
        if humans or models:
            present = set(sub["rater"].astype(str))
            raters = [r for r in [*(humans or []), *(models or [])] if r in present]
            missing_h = [r for r in (humans or []) if r not in present]
            if missing_h:
                raise InputError(f"scheme {s!r} has no ratings by {', '.join(missing_h)}")
            if not models:
                raters = None
        table = ratings_table(
            sub,
            s,
            categories=cats,
            level=lv,
            raters=raters,
            clusters=cmap if use_clusters else None,
        )
        m_s = [r for r in (models or []) if r in table.raters] if models else None
        if models and not m_s:
            raise InputError(f"scheme {s!r} has none of the models {', '.join(models)}")
        if use_clusters and cmap is None and bootstrap:
            no_cluster_note = True
        results.append(
            scheme_agreement(
                table,
                humans=humans,
                models=m_s,
                weights=weights,
                bootstrap=bootstrap,
                seed=seed,
                use_clusters=use_clusters,
                confidence=confidence,
                icc_form=icc_form,
            )
        )
    if no_cluster_note:
        for r in results:
            r.notes.append(
                "no dialogue of each unit is known (pass a corpus, a dialogue_id "
                "column or clusters=): intervals resample units only"
            )
    conventions = {
        "missing_policy": MISSING_POLICY,
        "tie_rule": TIE_RULE,
        "ci": {
            "primary": "cluster bootstrap over dialogues when clusters are known, else "
            "percentile bootstrap over units, else analytic",
            "analytic": "Cohen: Fleiss-Cohen-Everitt 1969 (Wald); Gwet family and alpha: Gwet "
            "design-based variance (t); ICC: exact F",
            "B": bootstrap,
            "seed": seed,
            "confidence": confidence,
            "cluster": "dialogue" if use_clusters and cmap is not None else None,
        },
        "level": level if isinstance(level, str) else (dict(level) if level else "nominal"),
        "categories": (
            list(categories)
            if categories is not None and not isinstance(categories, Mapping)
            else dict(categories)
            if categories
            else "per scheme (see schemes)"
        ),
        "weights": weights,
    }
    return AgreementResult(results, conventions)
