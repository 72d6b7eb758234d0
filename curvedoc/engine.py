"""The engine: run the selected detectors on one history and assemble the report.

Steps: check each rule's needs (a rule whose curves are missing is *skipped* with a reason, not
silently passed); run it with its pack parameters, isolating crashes (a crashing detector becomes
an entry in ``Report.errors`` and the others still run); apply severity from the pack; drop
observations another rule already explains (supersession, below); render advice; sort.

Supersession — one pathology is reported once. Each entry reads "winner hides loser":

* ``non-finite`` hides any finding on the same curve that starts at or after the first NaN/Inf:
  what follows a NaN is its consequence, not a new problem.
* ``divergence`` hides ``gradient-explosion``, ``plateau``, ``overfitting``, ``overconfidence``,
  ``underfitting``, ``oscillation``, ``frozen``, ``not-converged`` and ``slow-convergence``
  findings of the same run whose spans overlap it: a run that blows up spikes, stops improving
  and loses its validation on the way.
* ``overconfidence`` hides ``overfitting`` on the same validation curve: the same rise in the
  loss, read correctly because a validation metric still improves.
* ``overfitting`` hides a ``plateau`` on its validation curve: a validation loss that stalls while
  training improves is the overfitting, told once.
* ``warmup-instability`` hides ``gradient-explosion`` spikes inside its early span: the early
  blow-up is one event with one cure (a warmup).
* ``frozen`` hides ``underfitting`` and ``plateau`` on the same curve: a curve that does not move
  at all is the more specific diagnosis.
* ``oscillation`` hides ``underfitting`` and ``plateau`` on the same curve: a loss that bounces
  without progress is told by its cause (the learning rate), not by its level.
* ``slow-convergence`` hides ``underfitting`` anywhere in the run: a loss still crawling down is
  not one that "stopped improving"; the cure (a higher learning rate) is the same.
* ``slow-convergence`` hides ``not-converged`` (both judge the end of the same curve; the
  detectors already split the cases by pace, this keeps the pair exclusive).

The table is :data:`SUPERSEDES`; a test checks that every rule named there exists.
"""

from __future__ import annotations

import math
import traceback
from dataclasses import replace
from typing import cast

import numpy as np

from curvedoc._version import __version__
from curvedoc.advice import merge_advice, render_advice
from curvedoc.context import Context
from curvedoc.detectors import get_detector
from curvedoc.detectors.base import Observation
from curvedoc.model import (
    CONFIDENCE_RANK,
    SEVERITY_RANK,
    Confidence,
    Curve,
    CurveSummary,
    DetectorError,
    Finding,
    History,
    Report,
    Severity,
    Skip,
    Span,
)
from curvedoc.packs import Settings

#: (winner, loser, scope): "curve" = same subject curve, "run" = anywhere in the run.
SUPERSEDES: tuple[tuple[str, str, str], ...] = (
    ("divergence", "gradient-explosion", "run"),
    ("divergence", "plateau", "run"),
    ("divergence", "overfitting", "run"),
    ("divergence", "overconfidence", "run"),
    ("divergence", "underfitting", "run"),
    ("divergence", "not-converged", "run"),
    ("divergence", "slow-convergence", "run"),
    ("divergence", "oscillation", "run"),
    ("divergence", "frozen", "run"),
    ("oscillation", "underfitting", "curve"),
    ("slow-convergence", "underfitting", "run"),
    ("oscillation", "plateau", "curve"),
    # a run that barely learned has no stall-then-escape worth its own finding: the "escape"
    # is a share of almost nothing
    ("underfitting", "plateau", "curve"),
    ("overconfidence", "overfitting", "curve"),
    ("overfitting", "plateau", "curve"),
    ("warmup-instability", "gradient-explosion", "run"),
    ("frozen", "underfitting", "curve"),
    ("frozen", "plateau", "curve"),
    ("slow-convergence", "not-converged", "curve"),
)
SKETCH_BUCKETS = 48
_META_TYPES = (int, float, str, bool)


def run(history: History, settings: Settings) -> Report:
    """Diagnose one history with the resolved settings."""
    if settings.hparams:
        history = replace(history, meta={**history.meta, **settings.hparams})
    ctx = Context(history)
    roles = {c.role for c in history.curves}
    skipped: list[Skip] = []
    errors: list[DetectorError] = []
    observed: list[tuple[str, Observation]] = []
    for name in settings.selected:
        det = get_detector(name)
        missing = det.missing_roles(roles)
        if missing:
            wanted = " and ".join(" or ".join(g).replace("_", " ") for g in missing)
            skipped.append(Skip(rule=det.name, code=det.code, reason=f"needs a {wanted} curve"))
            continue
        try:
            params = settings.params_for(name)
            # Overflow on 1e308-sized values is expected and handled (inf compares fine).
            with np.errstate(all="ignore"):
                obs = list(det().detect(ctx, params))
        except Exception as exc:  # isolation: one broken detector must not sink the report
            tb = traceback.extract_tb(exc.__traceback__)
            where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
            errors.append(
                DetectorError(
                    rule=det.name, code=det.code, error=f"{type(exc).__name__}: {exc}{where}"
                )
            )
            continue
        observed.extend((det.name, o) for o in obs)

    kept = _supersede(observed, ctx)
    findings = [_finding(rule, o, settings, history) for rule, o in kept]
    findings.sort(
        key=lambda f: (
            -SEVERITY_RANK[f.severity],
            f.span.start,
            f.code,
            -CONFIDENCE_RANK[f.confidence],
        )
    )
    advice, conflict_notes = merge_advice(findings)
    return Report(
        curvedoc_version=__version__,
        source=history.source,
        format=history.format,
        curves=[summarize(c) for c in history.curves],
        findings=findings,
        advice=advice,
        skipped=skipped,
        errors=errors,
        notes=[*history.notes, *conflict_notes],
        meta={k: v for k, v in history.meta.items() if isinstance(v, _META_TYPES) or v is None},
    )


def _first_nonfinite(ctx: Context) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in ctx.history.curves:
        bad = np.flatnonzero(~np.isfinite(c.y))
        if bad.size:
            out[c.name] = float(c.x[bad[0]])
    return out


def _overlaps(a: Observation, b: Observation) -> bool:
    return a.start <= b.end and b.start <= a.end


def _supersede(
    observed: list[tuple[str, Observation]], ctx: Context
) -> list[tuple[str, Observation]]:
    first_bad = _first_nonfinite(ctx)
    nonfinite_subjects = {o.subject_curve for r, o in observed if r == "non-finite"}
    kept: list[tuple[str, Observation]] = []
    for rule, o in observed:
        if rule != "non-finite" and o.subject_curve in nonfinite_subjects:
            x_bad = first_bad.get(o.subject_curve)
            if x_bad is not None and o.start >= x_bad:
                continue
        hidden = False
        for winner, loser, scope in SUPERSEDES:
            if rule != loser:
                continue
            for r2, o2 in observed:
                if r2 != winner:
                    continue
                # Same subject curve, as documented: overfitting's curves also name the train
                # loss, and a stall there is a separate problem, not the overfitting.
                if scope == "curve" and o2.subject_curve != o.subject_curve:
                    continue
                if scope == "run" and not _overlaps(o, o2):
                    continue
                hidden = True
                break
            if hidden:
                break
        if not hidden:
            kept.append((rule, o))
    return kept


def _finding(rule: str, o: Observation, settings: Settings, history: History) -> Finding:
    det = get_detector(rule)
    cfg = settings.pack.rules[det.name]
    evidence = {k: _clean(v) for k, v in o.evidence.items()}
    advice = render_advice(
        cfg.advice,
        rule=det.name,
        severity=cfg.severity,
        evidence=evidence,
        meta=history.meta,
        context={"x_unit": o.x_unit, "curve": o.subject_curve},
    )
    return Finding(
        code=det.code,
        rule=det.name,
        severity=cast(Severity, cfg.severity),  # checked when the pack was loaded
        confidence=cast(Confidence, o.confidence),
        curves=list(o.curves),
        span=Span(start=_num(o.start), end=_num(o.end), x_unit=o.x_unit),
        message=o.message,
        evidence=evidence,
        advice=advice,
    )


def _num(v: float) -> float:
    return float(v) if math.isfinite(v) else 0.0


def _clean(v: object) -> float | int | str | bool | None:
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    return str(v)


def summarize(curve: Curve) -> CurveSummary:
    """Per-curve facts and a sketch for the report header."""
    finite = np.isfinite(curve.y)
    all_finite = bool(finite.all())
    xs, ys = (curve.x, curve.y) if all_finite else (curve.x[finite], curve.y[finite])
    best = best_x = first = final = None
    if ys.size:
        idx = int(np.argmax(ys)) if curve.direction == "max" else int(np.argmin(ys))
        best, best_x = float(ys[idx]), float(xs[idx])
        first, final = float(ys[0]), float(ys[-1])
    return CurveSummary(
        name=curve.name,
        role=curve.role,
        split=curve.split,
        direction=curve.direction,
        x_unit=curve.x_unit,
        points=len(curve),
        non_finite=0 if all_finite else int((~finite).sum()),
        x_start=float(curve.x[0]) if len(curve) else None,
        x_end=float(curve.x[-1]) if len(curve) else None,
        first=first,
        best=best,
        best_x=best_x,
        final=final,
        sketch=_sketch(curve.x, curve.y),
    )


def _sketch(x: np.ndarray, y: np.ndarray) -> list[float | None]:
    if x.size == 0:
        return []
    lo, hi = float(x[0]), float(x[-1])
    n = min(SKETCH_BUCKETS, int(x.size))
    if hi <= lo:
        v = y[np.isfinite(y)]
        return [float(np.mean(v)) if v.size else None]
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    with np.errstate(all="ignore"):
        # x/span rather than (x - lo)/(hi - lo): the difference can overflow near ±1e308.
        # In place: a 10^7-point curve makes one float and one int temporary, not seven.
        pos = x / 2 - lo / 2
        pos /= hi / 2 - lo / 2
        pos *= n
        np.nan_to_num(pos, copy=False, nan=0.0)
        np.clip(pos, 0, n - 1, out=pos)
        idx = pos.astype(np.int64)
        del pos
        if not all_finite:
            idx = idx[finite]
        sums = np.bincount(idx, weights=y if all_finite else y[finite], minlength=n)
        counts = np.bincount(idx, minlength=n)
        means = sums / counts
    return [
        float(m) if c > 0 and math.isfinite(m) else None for m, c in zip(means, counts, strict=True)
    ]
