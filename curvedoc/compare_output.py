"""How ``curvedoc compare`` shows a :class:`~curvedoc.compare.Comparison`: terminal, markdown, JSON.

The same words everywhere: a metric is *worse* or *better* only beyond the tolerance, a gating
metric is marked, and the verdict line lists every reason for a regression.
"""

from __future__ import annotations

import io
import json
from typing import Literal

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from curvedoc.compare import Comparison, MetricChange, fmt_change
from curvedoc.formatters.common import fmt_num, fmt_span, plural, subject_curve
from curvedoc.formatters.markdown import md_escape
from curvedoc.formatters.terminal import SEVERITY_STYLES, make_console
from curvedoc.model import Finding

COMPARE_FORMATS = ("terminal", "json", "markdown")


def verdict(c: Comparison) -> str:
    if c.regressed:
        n = len(c.regressions)
        return f"Regression: {n} {plural('reason', n)}"
    return f"No regression (tolerance {c.tolerance:.0%}, fails on new {c.fail_on} findings)"


def _state(m: MetricChange) -> str:
    if not m.judged:
        return ""
    if m.worse:
        return "worse"
    return "better" if m.better else "same"


def _arrow(m: MetricChange) -> str:
    return "↓" if m.direction == "min" else "↑"


def _finding_line(f: Finding) -> str:
    where = fmt_span(f.span.start, f.span.end, f.span.x_unit)
    return f"{f.severity} {f.code} {f.rule} on {subject_curve(f.curves)} ({where}): {f.message}"


# --- terminal --------------------------------------------------------------------------------


def _table(c: Comparison) -> Table:
    """Numbers keep their full width; only a long metric name is shortened on a narrow console."""
    rows = [
        [
            m.name,
            _arrow(m),
            fmt_num(m.baseline_best),
            fmt_num(m.candidate_best),
            fmt_change(m.best_change),
            fmt_num(m.baseline_final),
            fmt_num(m.candidate_final),
            fmt_change(m.final_change),
            _state(m),
        ]
        for m in c.metrics
    ]
    header = ["metric", "", "best: base", "cand", "change", "final: base", "cand", "change", ""]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for i, title in enumerate(header):
        if i == 0:
            table.add_column(title, no_wrap=True, overflow="ellipsis", min_width=12)
            continue
        width = max([len(title), *(len(row[i]) for row in rows)])
        justify: Literal["left", "right"] = "left" if i in (1, 8) else "right"
        table.add_column(title, no_wrap=True, min_width=width, justify=justify)
    styles = {"better": "green", "same": "dim"}
    for m, row in zip(c.metrics, rows, strict=True):
        cells = [Text(cell) for cell in row]
        if m.gates:
            cells[0].stylize("bold")
        cells[1].stylize("dim")
        if row[8] == "worse":
            cells[8].stylize("bold red" if m.gates else "yellow")
        elif row[8]:
            cells[8].stylize(styles[row[8]])
        table.add_row(*cells)
    return table


def _findings_block(title: str, findings: list[Finding]) -> list[RenderableType]:
    if not findings:
        return []
    out: list[RenderableType] = [Text(""), Text(f"{title} ({len(findings)})", style="bold")]
    for f in findings:
        line = Text("  ")
        line.append(f.severity, style=SEVERITY_STYLES.get(f.severity, ""))
        line.append(" " + _finding_line(f)[len(f.severity) + 1 :])
        out.append(line)
    return out


def render_terminal(c: Comparison, *, color: bool = False, width: int | None = None) -> str:
    parts: list[RenderableType] = [
        Text(f"baseline   {c.baseline}  ({c.baseline_extent})", style="dim"),
        Text(f"candidate  {c.candidate}  ({c.candidate_extent})", style="dim"),
        Text(""),
    ]
    if c.metrics:
        parts.append(_table(c))
        parts.append(
            Text(
                "bold: gating metric · change is relative to the baseline, + is worse · "
                "learning rate and gradient norm are shown, not judged",
                style="dim",
            )
        )
    else:
        parts.append(Text("No curve appears in both runs.", style="yellow"))
    for label, names in (
        ("only in the baseline", c.only_in_baseline),
        ("only in the candidate", c.only_in_candidate),
    ):
        if names:
            parts.append(Text(f"{label}: {', '.join(names)}", style="dim"))
    parts += _findings_block("Findings that appeared", c.appeared)
    parts += _findings_block("Findings that went away", c.resolved)
    parts.append(Text(""))
    parts.append(Text(verdict(c), style="bold red" if c.regressed else "bold green"))
    parts += [Text(f"  - {reason}") for reason in c.regressions]
    buf = io.StringIO()
    make_console(buf, color=color, width=width).print(Group(*parts))
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


# --- markdown / json -------------------------------------------------------------------------


def render_markdown(c: Comparison) -> str:
    icon = "❌" if c.regressed else "✅"
    lines = [
        f"### {icon} curvedoc compare: {md_escape(verdict(c))}",
        "",
        f"Baseline {md_escape(c.baseline, newline=' ')} ({md_escape(c.baseline_extent)}) · "
        f"candidate {md_escape(c.candidate, newline=' ')} ({md_escape(c.candidate_extent)})",
        "",
    ]
    if c.regressions:
        lines += [f"- {md_escape(r)}" for r in c.regressions] + [""]
    if c.metrics:
        lines += [
            "| Metric | Better | Best: baseline | Best: candidate | Change | Final: baseline "
            "| Final: candidate | Change | |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for m in c.metrics:
            name = f"**{md_escape(m.name)}**" if m.gates else md_escape(m.name)
            lines.append(
                f"| {name} | {_arrow(m)} | {fmt_num(m.baseline_best)} | {fmt_num(m.candidate_best)}"
                f" | {fmt_change(m.best_change)} | {fmt_num(m.baseline_final)}"
                f" | {fmt_num(m.candidate_final)} | {fmt_change(m.final_change)} | {_state(m)} |"
            )
        lines += ["", "Bold: gating metric. Change is relative to the baseline; + is worse.", ""]
    for title, findings in (("Appeared", c.appeared), ("Went away", c.resolved)):
        if findings:
            lines += [f"**{title}**", ""]
            lines += [f"- {md_escape(_finding_line(f))}" for f in findings]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(c: Comparison) -> str:
    # Through pydantic's JSON: an infinite change (a value that went non-finite) becomes null.
    data = json.loads(c.model_dump_json())
    data["regressed"] = c.regressed
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def render_comparison(
    fmt: str, c: Comparison, *, color: bool = False, width: int | None = None
) -> str:
    if fmt == "json":
        return render_json(c)
    if fmt == "markdown":
        return render_markdown(c)
    return render_terminal(c, color=color, width=width)
