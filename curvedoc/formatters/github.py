"""GitHub Actions workflow commands: one annotation per finding (FORMATS.md B5).

``::error file=runs/a.csv,title=curvedoc CD301 divergence (loss)::loss climbed ...``. Severities
map to ``error``/``warning``/``notice``. Text from logs is escaped the way ``@actions/core``
does it: in the message ``%``, CR and LF become ``%25``, ``%0D`` and ``%0A``; in a property value
``:`` and ``,`` are escaped too. So a metric name or message cannot end the command early or start
a new one, and multi-line messages stay one annotation.

GitHub shows at most 10 error and 10 warning annotations per step (and drops the rest silently),
so at most :data:`MAX_PER_LEVEL` are written per level, the most severe first, and a final notice
says how many were left out. The full list belongs in the job summary: with ``--format github``
the CLI also appends the markdown report to ``$GITHUB_STEP_SUMMARY`` when that variable is set.
The plain lines after the annotations always start with ``curvedoc:``, so no text from a log
can begin a line with ``::``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from curvedoc.formatters.common import (
    RenderContext,
    error_line,
    findings_count,
    fmt_span,
    run_status,
    total_line,
)
from curvedoc.formatters.locations import finding_title, repo_path, single_line
from curvedoc.model import SEVERITY_RANK, Report

#: GitHub displays at most this many annotations of one level per step.
MAX_PER_LEVEL = 10
LEVELS: dict[str, str] = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """``@actions/core`` ``escapeData``: for the message after ``::``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """``@actions/core`` ``escapeProperty``: for ``file=``, ``title=`` and the other values."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    message: str
    title: str
    file: str | None = None

    def command(self) -> str:
        props = []
        if self.file:
            props.append(f"file={escape_property(self.file)}")
        props.append(f"title={escape_property(self.title)}")
        return f"::{self.level} {','.join(props)}::{escape_data(self.message)}"


def github_annotations(reports: Sequence[Report]) -> list[Annotation]:
    """Every annotation the reports call for, most severe first (input order within a level)."""
    out: list[tuple[int, Annotation]] = []
    for report in reports:
        path = repo_path(report.source)
        if report.error is not None:
            title = "curvedoc: cannot read this log"
            out.append((3, Annotation("error", error_line(report), title, path)))
            continue
        for f in report.findings:
            lines = [f.message, f"{fmt_span(f.span.start, f.span.end, f.span.x_unit)}"]
            lines[-1] += f" · {f.confidence} confidence"
            lines += [f"Try: {a.text}" for a in f.advice]
            out.append(
                (
                    SEVERITY_RANK[f.severity],
                    Annotation(
                        LEVELS[f.severity], "\n".join(lines), f"curvedoc {finding_title(f)}", path
                    ),
                )
            )
        for crash in report.errors:
            message = f"rule {crash.rule} ({crash.code}) crashed; its results are missing: "
            out.append(
                (
                    SEVERITY_RANK["warning"],
                    Annotation("warning", message + crash.error, "curvedoc: rule crashed", path),
                )
            )
    out.sort(key=lambda item: -item[0])  # stable: input order within a level
    return [a for _, a in out]


def capped(items: Sequence[Annotation]) -> tuple[list[Annotation], Counter[str]]:
    """At most :data:`MAX_PER_LEVEL` per level, and how many of each level were left out.

    When anything is left out, one notice slot is kept free for the note that says so.
    """
    total = Counter(a.level for a in items)
    overflow = any(n > MAX_PER_LEVEL for n in total.values())
    limit = dict.fromkeys(total, MAX_PER_LEVEL)
    if overflow and total["notice"] >= MAX_PER_LEVEL:
        limit["notice"] = MAX_PER_LEVEL - 1
    kept: list[Annotation] = []
    used: Counter[str] = Counter()
    for a in items:
        if used[a.level] < limit[a.level]:
            kept.append(a)
            used[a.level] += 1
    return kept, total - used


def render_github(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """Annotations (capped per level), then a plain ``curvedoc:`` line per run and a total."""
    kept, omitted = capped(github_annotations(reports))
    lines = [a.command() for a in kept]
    if omitted:
        parts = [f"{n} {level}" for level, n in omitted.items() if n]
        lines.append(
            Annotation(
                "notice",
                f"{', '.join(parts)} annotation(s) not shown: GitHub shows at most "
                f"{MAX_PER_LEVEL} per level and step. The job summary lists every finding.",
                "curvedoc: more findings",
            ).command()
        )
    for report in reports:
        status = run_status(report)
        if status == "unreadable":
            detail = "unreadable"
        elif report.findings:
            detail = findings_count(report)
        else:
            detail = "clean"
        lines.append(f"curvedoc: {single_line(report.source)}: {detail}")
    if len(reports) > 1:
        lines.append(f"curvedoc: {total_line(reports)}")
    return "\n".join(lines) + "\n"
