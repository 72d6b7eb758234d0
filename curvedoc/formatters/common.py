"""Wording and arithmetic shared by every human-readable formatter.

The terminal and markdown formatters must say the same thing in the same words (a run that "fails"
in the terminal must fail in the step summary too), so the verdicts, number formats, spans and the
one-line totals live here, once. Nothing here knows about rich or markdown syntax.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from curvedoc.model import SEVERITY_RANK, CurveSummary, History, Report

#: Accepted values of ``--fail-on``: a severity, or ``never`` (the exit code ignores findings).
FAIL_ON_CHOICES: tuple[str, ...] = ("error", "warning", "info", "never")

#: Roles drawn as sparklines even when no finding names them: the curves a person looks at first.
MAIN_ROLES: tuple[str, ...] = ("train_loss", "val_loss", "train_metric", "val_metric")


@dataclass(frozen=True)
class RuleRef:
    """A rule as the CI formats describe it (formatters may not import the detector registry).

    ``summary`` is the one-line description, ``help`` the long one (``curvedoc explain``), and
    ``severity`` the severity the active pack gives the rule.
    """

    code: str
    name: str
    summary: str = ""
    help: str = ""
    severity: str | None = None


@dataclass(frozen=True)
class RenderContext:
    """What some formats need beyond the reports.

    ``histories`` runs parallel to the reports (``None`` where an input could not be read); the
    HTML report and the plots draw from it, and fall back to each curve's sketch without it.
    ``rules`` are the rules that were selected for the run, in registry order.
    """

    histories: tuple[History | None, ...] = ()
    rules: tuple[RuleRef, ...] = ()

    def history_of(self, index: int) -> History | None:
        return self.histories[index] if index < len(self.histories) else None


def rules_of(reports: Sequence[Report], context: RenderContext | None) -> list[RuleRef]:
    """The selected rules from ``context``, else every rule the reports mention, by code."""
    if context is not None and context.rules:
        return list(context.rules)
    seen: dict[str, RuleRef] = {}
    for report in reports:
        for f in report.findings:
            seen.setdefault(f.code, RuleRef(f.code, f.rule, severity=f.severity))
        for skip in report.skipped:
            seen.setdefault(skip.code, RuleRef(skip.code, skip.rule))
        for crash in report.errors:
            seen.setdefault(crash.code, RuleRef(crash.code, crash.rule))
    return [seen[code] for code in sorted(seen)]


def subject_curve(finding_curves: Sequence[str]) -> str:
    """The curve a finding is about: the first it names (the engine's subject), or ``""``."""
    return finding_curves[0] if finding_curves else ""


def fails(report: Report, fail_on: str) -> bool:
    """Whether ``report`` holds a finding at or above ``fail_on`` (``never`` never fails).

    An unreadable input is not "failing" in this sense: the CLI maps it to exit code 2 on its own.
    """
    if fail_on == "never":
        return False
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings)


def fmt_num(value: float | None) -> str:
    """A metric value in at most four significant digits (``0.4123``, ``1.2e+04``, ``nan``)."""
    if value is None:
        return "–"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def fmt_x(value: float) -> str:
    """A position on the x axis: whole numbers without a decimal point (epochs and steps are)."""
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return fmt_num(value)


def plural(unit: str, count: int = 2) -> str:
    """``epoch`` → ``epochs`` unless ``count`` is one."""
    return unit if count == 1 or unit.endswith("s") else unit + "s"


def fmt_span(start: float, end: float, x_unit: str) -> str:
    """``epoch 14`` for a point, ``epochs 14–30`` for a stretch."""
    if start == end:
        return f"{x_unit} {fmt_x(start)}"
    return f"{plural(x_unit)} {fmt_x(start)}–{fmt_x(end)}"


def x_extent(curves: Sequence[CurveSummary]) -> tuple[str, float, float, int] | None:
    """The run's dominant x unit, its x range over the curves in that unit, and the longest curve.

    ``None`` when no curve has any x values (an empty log).
    """
    with_x = [c for c in curves if c.x_start is not None and c.x_end is not None]
    if not with_x:
        return None
    unit = Counter(c.x_unit for c in with_x).most_common(1)[0][0]
    same = [c for c in with_x if c.x_unit == unit]
    start = min(c.x_start for c in same if c.x_start is not None)
    end = max(c.x_end for c in same if c.x_end is not None)
    points = max(c.points for c in same)
    return unit, start, end, points


def run_facts(report: Report) -> list[str]:
    """The header facts of a run: format, number of curves, x range and length."""
    facts: list[str] = []
    if report.format:
        facts.append(report.format)
    n = len(report.curves)
    facts.append(f"{n} {plural('curve', n)}")
    extent = x_extent(report.curves)
    if extent is not None:
        unit, start, end, points = extent
        facts.append(f"{fmt_span(start, end, unit)} ({points} {plural('point', points)})")
    return facts


def clean_message(report: Report) -> str:
    """The plain statement of a clean run."""
    n = len(report.curves)
    return f"No problems found in {n} {plural('curve', n)}"


def findings_count(report: Report) -> str:
    """``2 findings: 1 error, 1 warning``."""
    by = Counter(f.severity for f in report.findings)
    n = len(report.findings)
    parts = [
        f"{by[s]} {plural(s, by[s])}"
        for s in sorted(by, key=SEVERITY_RANK.__getitem__, reverse=True)
    ]
    return f"{n} {plural('finding', n)}: " + ", ".join(parts)


def run_status(report: Report) -> str:
    """The state of a run: ``unreadable``, ``error``, ``warning``, ``info`` or ``clean``."""
    if report.error is not None:
        return "unreadable"
    return report.worst_severity or "clean"


_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("unreadable", "unreadable"),
    ("error", "with errors"),
    ("warning", "with warnings"),
    ("info", "with info only"),
    ("clean", "clean"),
)


def total_line(reports: Sequence[Report]) -> str:
    """``3 runs: 1 with errors, 1 with warnings, 1 clean`` (empty groups left out)."""
    by = Counter(run_status(r) for r in reports)
    n = len(reports)
    parts = [f"{by[key]} {words}" for key, words in _STATUS_WORDS if by[key]]
    return f"{n} {plural('run', n)}: " + ", ".join(parts)


def rank(reports: Sequence[Report]) -> list[Report]:
    """Reports ordered for a summary table: unreadable first, then by worst severity, then by
    the number of findings (most first); ties keep their input order."""

    def key(item: tuple[int, Report]) -> tuple[int, int, int, int]:
        i, r = item
        unreadable = 0 if r.error is not None else 1
        worst = SEVERITY_RANK.get(r.worst_severity or "", -1)
        return (unreadable, -worst, -len(r.findings), i)

    return [r for _, r in sorted(enumerate(reports), key=key)]


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary table of several runs."""

    source: str
    status: str  # "error" | "warning" | "info" | "clean" | "unreadable"
    findings: int
    main: str  # the main finding ("overfitting: val_loss rose 38% ...") or the read error


def summary_rows(reports: Sequence[Report]) -> list[SummaryRow]:
    """One row per run, ranked by :func:`rank`; the main finding is the report's first (the
    engine sorts findings by severity, position and confidence)."""
    rows = []
    for r in rank(reports):
        if r.error is not None:
            rows.append(SummaryRow(r.source, "unreadable", 0, r.error))
            continue
        main = f"{r.findings[0].rule}: {r.findings[0].message}" if r.findings else ""
        rows.append(SummaryRow(r.source, r.worst_severity or "clean", len(r.findings), main))
    return rows


def error_line(report: Report) -> str:
    """The message of an unreadable input, naming the file even if the reader's message did not."""
    message = report.error or ""
    if report.source and report.source not in message:
        message = f"{report.source}: {message}"
    return message


def main_curves(report: Report, limit: int = 8) -> tuple[list[CurveSummary], int]:
    """The curves worth a picture, in log order, and how many others were left out.

    Losses and metrics come first to mind; any curve a finding names is included too (a gradient
    norm that exploded must be seen). A log of only unusual columns still gets its first curves.
    """
    named = {name for f in report.findings for name in f.curves}
    chosen = [c for c in report.curves if c.role in MAIN_ROLES or c.name in named]
    if not chosen:
        chosen = list(report.curves)
    return chosen[:limit], len(report.curves) - min(len(chosen), limit)
