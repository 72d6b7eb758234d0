"""GitHub-flavoured markdown: for ``$GITHUB_STEP_SUMMARY``, pull-request comments and notebooks.

Every piece of text that comes from a log goes through :func:`md_escape` first. A metric called
``<script>`` or ``a|b`` or ``[click](http://x)`` must neither inject HTML, nor split a table cell,
nor turn into a link: the summary is rendered on a page other people open.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from curvedoc.formatters.common import (
    RenderContext,
    clean_message,
    error_line,
    fails,
    findings_count,
    fmt_num,
    fmt_span,
    fmt_x,
    run_facts,
    total_line,
)
from curvedoc.formatters.sparkline import draw
from curvedoc.model import Report

SEVERITY_ICONS: dict[str, str] = {"error": "🔴", "warning": "🟡", "info": "🔵"}

#: ASCII punctuation that changes how GFM renders inline text (emphasis, links, tables, math,
#: strikethrough, headings); each is neutralised with a backslash, which GFM allows for all of them.
_BACKSLASHED = frozenset("\\*_[]|~#$")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def md_escape(text: str, *, newline: str = "<br>") -> str:
    """Make text from a log inert in GFM inline context, table cells included.

    ``&``, ``<`` and ``>`` become entities (no HTML gets in), the backtick becomes ``&#96;`` (a
    backslash does not escape inside code spans, an entity cannot open one), markdown punctuation
    gets a backslash and line breaks become ``newline`` (``<br>`` keeps a table row on one line).
    """
    escaped = html.escape(text, quote=False)
    out = ["&#96;" if ch == "`" else "\\" + ch if ch in _BACKSLASHED else ch for ch in escaped]
    return _NEWLINES.sub(newline, "".join(out))


def _icon(report: Report, fail_on: str) -> str:
    if report.error is not None or fails(report, fail_on):
        return "❌"
    return "⚠️" if report.findings else "✅"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _curves(report: Report) -> list[str]:
    rows = []
    for c in report.curves:
        best = fmt_num(c.best)
        if c.best is not None and c.best_x is not None:
            best += f" @ {c.x_unit} {fmt_x(c.best_x)}"
        sketch = draw(c.sketch).chars
        rows.append(
            [
                md_escape(c.name),
                f"`{sketch}`" if sketch.strip() else "",
                str(c.points),
                fmt_num(c.first),
                best,
                fmt_num(c.final),
            ]
        )
    body = _table(["Curve", "Sketch", "Points", "First", "Best", "Final"], rows)
    return _details(f"Curves ({len(report.curves)})", body)


def _report(report: Report, fail_on: str, title: str) -> list[str]:
    lines = [f"### {_icon(report, fail_on)} {title}", ""]
    if report.error is not None:
        return [*lines, f"**error:** {md_escape(error_line(report))}", ""]
    lines += [md_escape(" · ".join(run_facts(report))), ""]
    if report.findings:
        lines += [f"**{findings_count(report)}**", ""]
        rows = [
            [
                f"{SEVERITY_ICONS.get(f.severity, '')} {f.severity}",
                md_escape(f.code),
                md_escape(f.rule),
                md_escape(fmt_span(f.span.start, f.span.end, f.span.x_unit)),
                md_escape(f.message),
                f.confidence,
            ]
            for f in report.findings
        ]
        lines += _table(["Severity", "Code", "Rule", "Where", "Message", "Confidence"], rows)
        lines.append("")
    else:
        lines += [f"✅ {clean_message(report)}.", ""]
    if report.advice:
        lines += ["**What to try**", ""]
        lines += [
            f"{i}. {md_escape(a.text)} _({md_escape(a.rule)})_"
            for i, a in enumerate(report.advice, start=1)
        ]
        lines.append("")
    if report.errors:
        lines += ["**Rules that crashed** (their results are missing):", ""]
        lines += [f"- {md_escape(e.rule)} ({e.code}): {md_escape(e.error)}" for e in report.errors]
        lines.append("")
    if report.curves:
        lines += _curves(report)
    if report.skipped:
        body = [f"- {md_escape(s.rule)} ({s.code}): {md_escape(s.reason)}" for s in report.skipped]
        lines += _details(f"Skipped rules ({len(report.skipped)})", body)
    if report.notes:
        lines += _details(
            f"Notes ({len(report.notes)})", [f"- {md_escape(n)}" for n in report.notes]
        )
    return lines


def render_markdown(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """A heading per run (❌ fails ``fail_on`` or unreadable, ⚠️ findings below it, ✅ clean)."""
    lines: list[str] = []
    if len(reports) == 1:
        report = reports[0]
        lines += _report(report, fail_on, f"curvedoc: {md_escape(report.source, newline=' ')}")
    else:
        lines += [f"## curvedoc: {total_line(reports)}", ""]
        for report in reports:
            lines += _report(report, fail_on, md_escape(report.source, newline=" "))
    return "\n".join(lines).rstrip("\n") + "\n"
