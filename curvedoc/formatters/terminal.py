"""The terminal report, drawn with rich.

Everything that comes from a log (metric names, messages, the source path, meta values) goes in as
:class:`rich.text.Text`, never as a markup string: a column named ``[bold]loss[/]`` is shown as
written and cannot restyle or break the output. The console is built with markup, emoji and
highlighting switched off for the same reason.

Color is the caller's decision (``color=``): the CLI applies ``--color``, ``NO_COLOR``,
``FORCE_COLOR`` and TTY detection; here ``color=False`` means no escape codes at all.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from itertools import groupby

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from curvedoc.formatters.chart import braille_chart
from curvedoc.formatters.common import (
    RenderContext,
    clean_message,
    error_line,
    findings_count,
    fmt_num,
    fmt_span,
    fmt_x,
    main_curves,
    plural,
    run_facts,
    summary_rows,
    total_line,
    x_extent,
)
from curvedoc.formatters.sparkline import (
    MARKS,
    Axis,
    draw,
    findings_on,
    place,
    span_marks,
    wants_log_scale,
)
from curvedoc.model import CurveSummary, Report

DEFAULT_WIDTH = 100

SEVERITY_STYLES: dict[str, str] = {"error": "bold red", "warning": "yellow", "info": "cyan"}
CONFIDENCE_STYLES: dict[str, str] = {"high": "bold", "medium": "", "low": "dim"}

#: At most this many hyperparameters from the log's meta in the header line.
META_SHOWN = 8


def _header(report: Report) -> list[RenderableType]:
    out: list[RenderableType] = [Rule(Text(report.source, style="bold"), align="left", style="dim")]
    out.append(Text(" · ".join(run_facts(report)), style="dim"))
    if report.meta:
        items = list(report.meta.items())
        shown = " · ".join(
            f"{k} {fmt_num(v) if isinstance(v, float) else v}" for k, v in items[:META_SHOWN]
        )
        more = f" · +{len(items) - META_SHOWN} more" if len(items) > META_SHOWN else ""
        out.append(Text(shown + more, style="dim"))
    return out


def _curve_stats(curve: CurveSummary, log_scale: bool) -> Text:
    stats = Text(f"{fmt_num(curve.first)} → {fmt_num(curve.final)}")
    if curve.best is not None:
        where = f" @ {curve.x_unit} {fmt_x(curve.best_x)}" if curve.best_x is not None else ""
        stats.append(f"  best {fmt_num(curve.best)}{where}", style="dim")
    if curve.non_finite:
        stats.append(f"  {curve.non_finite} non-finite", style="red")
    if log_scale:
        stats.append("  (log scale)", style="dim")
    return stats


def _marks_text(curve: CurveSummary, report: Report, axis: Axis) -> Text | None:
    marks = span_marks(curve, report.findings, axis)
    if not any(marks):
        return None
    line = Text()
    for mark, run in groupby(marks):
        n = len(list(run))
        if mark is None:
            line.append(" " * n)
        else:
            line.append(MARKS[mark] * n, style=SEVERITY_STYLES[mark])
    return line


class CurvePictures:
    """A picture per main curve with its numbers, and finding spans marked underneath.

    On a console at least :attr:`CHART_MIN_WIDTH` wide each curve gets a small braille chart
    (:attr:`CHART_ROWS` rows, its top and bottom values labelled); narrower, a one-line sparkline
    beside its numbers. All curves in the run's x unit share one axis, so the pictures line up
    column by column. It is a renderable rather than a fixed table because the pictures narrow
    (columns merge buckets) to leave room for the numbers; the marks use the same columns.
    """

    MIN_SPARK = 16
    NAME_WIDTH = 28
    CHART_MIN_WIDTH = 100
    CHART_ROWS = 4
    CHART_MAX = 72
    LABEL_WIDTH = 9

    def __init__(self, report: Report) -> None:
        self.report = report
        self.shown, self.left_out = main_curves(report)

    def _axis(self, curve: CurveSummary, width: int) -> Axis | None:
        extent = x_extent(self.shown)
        if extent is not None and curve.x_unit == extent[0]:
            return Axis(extent[1], extent[2], width, extent[0])
        return Axis.of(curve, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= self.CHART_MIN_WIDTH:
            yield from self._charts(options.max_width)
        else:
            yield from self._sparklines(options.max_width)
        if self.left_out:
            n = self.left_out
            yield Text(f"+{n} more {plural('curve', n)} not pictured", style="dim")

    def _marks_row(self, curve: CurveSummary, axis: Axis | None) -> Text | None:
        return _marks_text(curve, self.report, axis) if axis else None

    def _charts(self, max_width: int) -> Iterator[RenderableType]:
        label_w = self.LABEL_WIDTH
        width = max(self.MIN_SPARK, min(self.CHART_MAX, max_width - label_w - 2 - 16))
        for curve in self.shown:
            log = wants_log_scale(curve.sketch)
            head = Text(curve.name, style="bold", no_wrap=True, overflow="ellipsis")
            head.append("  ")
            head.append_text(_curve_stats(curve, log))
            yield head
            dots = self._axis(curve, 2 * width)
            chart = braille_chart(
                place(curve, dots) if dots else [], rows=self.CHART_ROWS, log_scale=log
            )
            if chart is None:
                yield Text(" " * (label_w + 2) + "no finite values", style="dim")
                continue
            last = len(chart.rows) - 1
            for k, row in enumerate(chart.rows):
                label = fmt_num(chart.hi) if k == 0 else fmt_num(chart.lo) if k == last else ""
                line = Text(f"{label:>{label_w}} {'┤' if label else '│'}", style="dim")
                line.append(row, style="blue")
                yield line
            marks = self._marks_row(curve, self._axis(curve, width))
            if marks is not None:
                codes = dict.fromkeys(f.code for f in findings_on(curve, self.report.findings))
                bottom = Text(" " * (label_w + 2))
                bottom.append_text(marks)
                bottom.append(" " + ", ".join(codes), style="dim")
                yield bottom

    def _sparklines(self, max_width: int) -> Iterator[RenderableType]:
        logs = [wants_log_scale(c.sketch) for c in self.shown]
        stats = [_curve_stats(c, log) for c, log in zip(self.shown, logs, strict=True)]
        name_w = min(self.NAME_WIDTH, max(len(c.name) for c in self.shown))
        stats_w = max(t.cell_len for t in stats)
        longest = max(len(c.sketch) for c in self.shown)
        room = max_width - name_w - stats_w - 4
        width = max(1, min(longest, max(self.MIN_SPARK, room)))

        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, overflow="ellipsis", max_width=self.NAME_WIDTH)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for curve, log, stat in zip(self.shown, logs, stats, strict=True):
            axis = self._axis(curve, width)
            spark = draw(place(curve, axis) if axis else [], log_scale=log)
            grid.add_row(Text(curve.name, style="bold"), Text(spark.chars, style="blue"), stat)
            marks = self._marks_row(curve, axis)
            if marks is not None:
                codes = dict.fromkeys(f.code for f in findings_on(curve, self.report.findings))
                grid.add_row(Text(""), marks, Text(", ".join(codes), style="dim"))
        yield grid


class FindingsTable:
    """The findings as a table, or as stacked entries when the console is too narrow for one.

    The table keeps the short columns at their natural width and lets only the message wrap;
    when that would leave the message fewer than :attr:`MESSAGE_MIN_WIDTH` columns it would read
    as a ribbon, so each finding gets a title line and its message underneath instead.
    """

    MESSAGE_MIN_WIDTH = 32

    def __init__(self, report: Report) -> None:
        self.report = report

    def _short_columns_width(self) -> int:
        findings = self.report.findings
        cells = [
            ["severity", *(f.severity for f in findings)],
            ["code", *(f.code for f in findings)],
            ["rule", *(f.rule for f in findings)],
            ["where", *(fmt_span(f.span.start, f.span.end, f.span.x_unit) for f in findings)],
            ["confidence"],
        ]
        # Each column is followed by one blank of padding and one of separator.
        return sum(max(len(c) for c in column) + 2 for column in cells)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width - self._short_columns_width() < self.MESSAGE_MIN_WIDTH:
            yield from self._stacked()
            return
        table = Table(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
            expand=True,
        )
        table.add_column("severity", no_wrap=True)
        table.add_column("code", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("where")
        table.add_column("message", ratio=1, min_width=16)
        table.add_column("confidence", no_wrap=True)
        for f in self.report.findings:
            table.add_row(
                Text(f.severity, style=SEVERITY_STYLES.get(f.severity, "")),
                Text(f.code),
                Text(f.rule),
                Text(fmt_span(f.span.start, f.span.end, f.span.x_unit)),
                Text(f.message),
                Text(f.confidence, style=CONFIDENCE_STYLES.get(f.confidence, "")),
            )
        yield table

    def _stacked(self) -> Iterator[RenderableType]:
        for f in self.report.findings:
            title = Text(f.severity, style=SEVERITY_STYLES.get(f.severity, ""))
            title.append(f" {f.code} {f.rule}", style="bold")
            title.append(f" · {fmt_span(f.span.start, f.span.end, f.span.x_unit)}")
            title.append(f" · {f.confidence} confidence", style="dim")
            yield title
            yield Padding(Text(f.message), (0, 0, 0, 2))


def _advice(report: Report) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column()
    for i, advice in enumerate(report.advice, start=1):
        text = Text(advice.text)
        text.append(f"  ({advice.rule})", style="dim")
        grid.add_row(Text(f"{i}."), text)
    return Group(Text("What to try", style="bold"), grid)


def _trailer(report: Report) -> RenderableType | None:
    """Crashed rules, skipped rules and reader notes, each under a label with a hanging indent."""
    rows: list[tuple[Text, Text]] = []
    for err in report.errors:
        rows.append(
            (
                Text("crashed", style="bold red"),
                Text(f"{err.rule} ({err.code}), its results are missing: {err.error}"),
            )
        )
    for skip in report.skipped:
        rows.append(
            (Text("skipped", style="dim"), Text(f"{skip.rule} ({skip.code}): {skip.reason}"))
        )
    for note in report.notes:
        rows.append((Text("note", style="dim"), Text(note, style="dim")))
    if not rows:
        return None
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def render_report(report: Report) -> RenderableType:
    """The rich renderable of one report (what ``rich.print(report)`` shows)."""
    if report.error is not None:
        line = Text("error: ", style="bold red")
        line.append(error_line(report))
        return line
    parts: list[RenderableType] = _header(report)
    pictures = CurvePictures(report)
    if pictures.shown:
        parts += [Text(""), pictures]
    parts.append(Text(""))
    if report.findings:
        parts.append(Text(findings_count(report), style="bold"))
        parts.append(FindingsTable(report))
    else:
        parts.append(Text("✓ " + clean_message(report), style="bold green"))
    if report.advice:
        parts += [Text(""), _advice(report)]
    trailer = _trailer(report)
    if trailer is not None:
        parts += [Text(""), trailer]
    return Group(*parts)


def make_console(file: io.StringIO, *, color: bool, width: int | None) -> Console:
    """A console that writes what it is told: no markup, emoji, highlighting or env sniffing."""
    return Console(
        file=file,
        width=width or DEFAULT_WIDTH,
        force_terminal=color,
        color_system="auto" if color else None,
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
        force_jupyter=False,
        force_interactive=False,
        soft_wrap=False,
    )


def summary_table(reports: Sequence[Report]) -> Table:
    """Several runs at a glance, worst first: status, findings, the main finding."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("run", overflow="fold", ratio=2)
    table.add_column("status", no_wrap=True)
    table.add_column("findings", justify="right", no_wrap=True)
    table.add_column("main finding", overflow="fold", ratio=5)
    styles = {**SEVERITY_STYLES, "unreadable": "bold red", "clean": "green"}
    for row in summary_rows(reports):
        table.add_row(
            Text(row.source),
            Text(row.status, style=styles.get(row.status, "")),
            Text(str(row.findings)),
            Text(row.main),
        )
    return table


def render_terminal(
    reports: Sequence[Report],
    *,
    fail_on: str = "error",
    color: bool = False,
    width: int | None = None,
    context: RenderContext | None = None,
) -> str:
    """One block per report and, for several, a one-line total. ``fail_on`` is not shown here."""
    buf = io.StringIO()
    console = make_console(buf, color=color, width=width)
    for i, report in enumerate(reports):
        if i:
            console.print()
        console.print(render_report(report))
    if len(reports) > 1:
        console.print()
        console.print(summary_table(reports))
        console.print(Text(total_line(reports), style="bold"))
    # Table cells are padded to the column width; trailing blanks only get in the way of diffs.
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
