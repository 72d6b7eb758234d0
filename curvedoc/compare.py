"""``curvedoc compare BASELINE CANDIDATE``: a regression gate for training pipelines.

Two runs of the same training job side by side: per metric the best and the final value of each
run, and whether the candidate is worse beyond a relative tolerance (direction-aware: a loss that
went up, an accuracy that went down); and the findings that appeared or went away (matched by rule
and curve, like ``--baseline``).

What counts as a regression (exit code 1):

* a *gating* metric whose best or final value is worse by more than ``tolerance`` (relative to
  the baseline's value; 2% by default). Gating metrics are those named with ``--metric``, else the
  validation losses and metrics, else (a log without validation) the training ones. The learning
  rate, gradient norm and other curves are shown but never gate;
* a gating metric the candidate does not have at all;
* a finding at or above ``--fail-on`` that the baseline did not have.

Either input may be a training log or a curvedoc JSON report (``diagnose --format json``), so a
pipeline can keep the report of its main branch as an artifact and compare against it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from curvedoc.errors import ConfigError, InputError
from curvedoc.formatters.common import fmt_num, subject_curve
from curvedoc.model import SEVERITY_RANK, CurveSummary, Finding, Report

DEFAULT_TOLERANCE = 0.02
GATING_ROLES = (("val_loss", "val_metric"), ("train_loss", "train_metric"))
#: Schedules and diagnostics, not results: their values are shown, never called better or worse.
UNJUDGED_ROLES = ("lr", "grad_norm")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MetricChange(_Frozen):
    """One metric in both runs. ``*_change`` is relative and signed so that positive = worse."""

    name: str
    role: str
    direction: str
    judged: bool
    gates: bool
    baseline_best: float | None
    candidate_best: float | None
    best_change: float | None
    baseline_final: float | None
    candidate_final: float | None
    final_change: float | None
    worse: bool
    better: bool


class Comparison(_Frozen):
    """The result of comparing a candidate run with a baseline run."""

    baseline: str
    candidate: str
    tolerance: float
    fail_on: str
    baseline_extent: str
    candidate_extent: str
    metrics: list[MetricChange]
    only_in_baseline: list[str]
    only_in_candidate: list[str]
    appeared: list[Finding]
    resolved: list[Finding]
    regressions: list[str]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def worse_by(base: float | None, cand: float | None, direction: str) -> float | None:
    """How much worse ``cand`` is than ``base``, relative to ``|base|`` (negative = better).

    ``None`` when the baseline has no value; ``inf`` when only the baseline has one (a candidate
    that never produced a finite value is worse than any); a zero baseline gives ±inf for any
    change.
    """
    if base is None or not math.isfinite(base):
        return None
    if cand is None or not math.isfinite(cand):
        return math.inf
    diff = cand - base if direction == "min" else base - cand
    if base == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / abs(base)


def _extent(report: Report) -> str:
    xs = [c for c in report.curves if c.x_end is not None]
    if not xs:
        return "no curves"
    unit = xs[0].x_unit
    end = max(c.x_end for c in xs if c.x_end is not None and c.x_unit == unit)
    return f"{fmt_num(end)} {unit}s"


def _gating(
    base: dict[str, CurveSummary], cand: dict[str, CurveSummary], metrics: Sequence[str]
) -> set[str]:
    if metrics:
        unknown = [m for m in metrics if m not in base]
        if unknown:
            raise ConfigError(
                f"no curve named {unknown[0]!r} in the baseline; it has {', '.join(base)}",
                field="--metric",
            )
        return set(metrics)
    for roles in GATING_ROLES:
        chosen = {name for name, c in base.items() if c.role in roles}
        if chosen:
            return chosen
    return set()


def _match(old: Sequence[Finding], new: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(appeared, resolved): findings of ``new`` not in ``old`` and vice versa, by rule and
    subject curve with multiplicity (the latest extra ones along the x axis are the new ones)."""

    def key(f: Finding) -> tuple[str, str]:
        return f.rule, subject_curve(f.curves)

    def extra(a: Sequence[Finding], b: Sequence[Finding]) -> list[Finding]:
        budget = Counter(key(f) for f in b)
        out = []
        for f in sorted(a, key=lambda f: (f.span.start, f.span.end)):
            if budget[key(f)] > 0:
                budget[key(f)] -= 1
            else:
                out.append(f)
        return out

    return extra(new, old), extra(old, new)


def compare_reports(
    baseline: Report,
    candidate: Report,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    fail_on: str = "error",
    metrics: Sequence[str] = (),
) -> Comparison:
    """Compare two diagnosed runs (see the module docstring for what is a regression)."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ConfigError("must be a non-negative number", field="--tolerance")
    base = {c.name: c for c in baseline.curves}
    cand = {c.name: c for c in candidate.curves}
    gating = _gating(base, cand, metrics)
    changes: list[MetricChange] = []
    regressions: list[str] = []
    for name, b in base.items():
        c = cand.get(name)
        if c is None:
            if name in gating:
                regressions.append(f"{name}: missing from the candidate")
            continue
        best = worse_by(b.best, c.best, b.direction)
        final = worse_by(b.final, c.final, b.direction)
        judged = b.role not in UNJUDGED_ROLES or name in metrics
        worse = judged and any(v is not None and v > tolerance for v in (best, final))
        better = (
            judged and not worse and any(v is not None and v < -tolerance for v in (best, final))
        )
        changes.append(
            MetricChange(
                name=name,
                role=b.role,
                direction=b.direction,
                judged=judged,
                gates=name in gating,
                baseline_best=b.best,
                candidate_best=c.best,
                best_change=best,
                baseline_final=b.final,
                candidate_final=c.final,
                final_change=final,
                worse=worse,
                better=better,
            )
        )
        if name in gating:
            for what, change, old, new in (
                ("best", best, b.best, c.best),
                ("final", final, b.final, c.final),
            ):
                if change is not None and change > tolerance:
                    regressions.append(
                        f"{name}: {what} {fmt_num(old)} → {fmt_num(new)} "
                        f"({fmt_change(change)} worse; tolerance {tolerance:.0%})"
                    )
    appeared, resolved = _match(baseline.findings, candidate.findings)
    if fail_on != "never":
        for f in appeared:
            if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on]:
                regressions.append(
                    f"new {f.severity}: {f.code} {f.rule} on {subject_curve(f.curves)}"
                )
    return Comparison(
        baseline=baseline.source,
        candidate=candidate.source,
        tolerance=tolerance,
        fail_on=fail_on,
        baseline_extent=_extent(baseline),
        candidate_extent=_extent(candidate),
        metrics=changes,
        only_in_baseline=[n for n in base if n not in cand],
        only_in_candidate=[n for n in cand if n not in base],
        appeared=appeared,
        resolved=resolved,
        regressions=regressions,
    )


def fmt_change(change: float | None) -> str:
    """``+4.1%`` / ``-12%`` / ``+∞`` (positive = worse)."""
    if change is None:
        return "–"
    if math.isinf(change):
        return "+∞" if change > 0 else "-∞"
    return f"{change * 100:+.3g}%"


def _looks_like_report(data: Any) -> bool:
    return isinstance(data, dict) and "curvedoc_version" in data and "findings" in data


def read_report_file(path: Path) -> Report | None:
    """A curvedoc JSON report at ``path``, or None when the file is something else (a log)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        if b"curvedoc_version" not in head:
            return None
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not _looks_like_report(data):
        if isinstance(data, list) and data and all(_looks_like_report(d) for d in data):
            raise InputError("holds several reports; compare takes one run", path=str(path))
        return None
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"not a valid curvedoc report: {where}: {first['msg']}", path=str(path)
        ) from None
