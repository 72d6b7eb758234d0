"""The terminal report, drawn with rich.

Everything that comes from a log (metric names, messages, the source path, meta values) goes in as
:class:`rich.text.Text`, never as a markup string: a column named ``[bold]loss[/]`` is shown as
written and cannot restyle or break the output. The console is built with markup, emoji and
highlighting switched off for the same reason.

Color is the caller's decision (``color=``): the CLI applies ``--color``, ``NO_COLOR``,
``FORCE_COLOR`` and TTY detection; here ``color=False`` means no escape codes at all.

Start-up cost shapes this module: ``curvedoc diagnose`` on a small log should start within twice
``import numpy``, and importing :mod:`rich.console` and :mod:`rich.table` plus rendering through
``Table``'s width measurement cost about as much as everything else the command does. So one
report is laid out here as a list of styled lines (:class:`~rich.text.Text`, wrapped by rich's own
``Text.wrap``), in the same columns the rich ``Rule``/``Table``/``Padding`` layout it replaces
gave (``tests/test_terminal_layout.py`` holds that layout and compares). Plain output is those
lines' text, with no Console at all; colored output prints them through a Console. Rich's
``Table`` is still used, imported on demand, where its layout is not simple: the sparkline grid of
narrow consoles, the summary of several runs, and widths too cramped for the columns below.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Literal, cast

from rich.cells import cell_len, set_cell_size
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

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.table import Table

DEFAULT_WIDTH = 100

SEVERITY_STYLES: dict[str, str] = {"error": "bold red", "warning": "yellow", "info": "cyan"}
CONFIDENCE_STYLES: dict[str, str] = {"high": "bold", "medium": "", "low": "dim"}

#: At most this many hyperparameters from the log's meta in the header line.
META_SHOWN = 8

#: The style rich's default theme gives table headers ("table.header").
HEADER_STYLE = "bold"

#: The horizontal line of rules and of the findings table's header (rich's ``box.SIMPLE_HEAD``).
LINE = "─"

Lines = list[Text]


def wrap(
    text: Text,
    width: int,
    *,
    justify: Literal["default", "left", "right"] = "default",
    overflow: Literal["fold", "ellipsis"] | None = None,
    no_wrap: bool | None = None,
) -> Lines:
    """``text`` as rich shows it ``width`` cells wide: ``Text.wrap``'s words, folds and ellipses.

    ``Console.print(text)`` lays a text out with exactly this call. ``Text.wrap`` consults its
    console only to justify "full", which is never asked for here, so no Console is passed: the
    plain report then needs no Console at all (importing :mod:`rich.console` would cost more than
    the rest of the report). ``justify``/``overflow``/``no_wrap`` are a table column's settings,
    as rich applies them to a cell: the text's own settings win.
    """
    if width < 1:
        return []  # what rich renders in no room at all (Console.render)
    how = text.justify or justify
    plain = text.plain
    if how == "default" and "\n" not in plain and "\t" not in plain and text.cell_len <= width:
        # An unjustified line that fits comes back from Text.wrap as a copy of itself; most lines
        # fit, and skipping the word division for them is a good part of the rendering time.
        return [text]
    lines = text.wrap(
        cast("Console", None),
        width,
        justify=how,
        overflow=text.overflow or overflow,
        no_wrap=text.no_wrap if text.no_wrap is not None else no_wrap,
    )
    return list(lines)


def _after_blank(lines: Lines) -> Lines:
    return [Text(""), *lines]


def _table_lines(renderable: RenderableType, width: int) -> Lines:
    """Lines of a renderable laid out by rich itself (a ``Table``), for the layouts not done here.

    Imports :mod:`rich.console` on first use; the styles stay on the lines, so they print in color
    when the report does.
    """
    buf = io.StringIO()
    console = make_console(buf, color=False, width=width)
    out: Lines = []
    for segments in console.render_lines(renderable, console.options, pad=False):
        line = Text()
        for segment in segments:
            line.append(segment.text, segment.style)
        out.append(line)
    return out


def _header(report: Report, width: int) -> Lines:
    """The source as a left-aligned rule (as ``rich.rule.Rule(align="left")`` draws it), then
    the run's facts and hyperparameters."""
    title = Text(report.source.replace("\n", " "), style="bold")
    title.expand_tabs()
    rule = Text()
    if width > 2:
        title.truncate(width - 2, overflow="ellipsis")
        rule.append_text(title)
        rule.append(" ")
    rule.append(LINE * (width - rule.cell_len), style="dim")
    rule.plain = set_cell_size(rule.plain, width)
    out = wrap(rule, width)
    out += wrap(Text(" · ".join(run_facts(report)), style="dim"), width)
    if report.meta:
        items = list(report.meta.items())
        shown = " · ".join(
            f"{k} {fmt_num(v) if isinstance(v, float) else v}" for k, v in items[:META_SHOWN]
        )
        more = f" · +{len(items) - META_SHOWN} more" if len(items) > META_SHOWN else ""
        out += wrap(Text(shown + more, style="dim"), width)
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
    column by column. The pictures narrow (columns merge buckets) to leave room for the numbers;
    the marks use the same columns.
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
        self.extent = x_extent(self.shown)

    def _axis(self, curve: CurveSummary, width: int) -> Axis | None:
        extent = self.extent
        if extent is not None and curve.x_unit == extent[0]:
            return Axis(extent[1], extent[2], width, extent[0])
        return Axis.of(curve, width)

    def lines(self, width: int) -> Lines:
        """The pictures laid out ``width`` cells wide."""
        if width >= self.CHART_MIN_WIDTH:
            out = [line for text in self._charts(width) for line in wrap(text, width)]
        else:
            out = _table_lines(self._sparklines(width), width)
        if self.left_out:
            n = self.left_out
            out += wrap(Text(f"+{n} more {plural('curve', n)} not pictured", style="dim"), width)
        return out

    def _marks_row(self, curve: CurveSummary, axis: Axis | None) -> Text | None:
        return _marks_text(curve, self.report, axis) if axis else None

    def _charts(self, max_width: int) -> Iterator[Text]:
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

    def _sparklines(self, max_width: int) -> Table:
        from rich.table import Table

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
        return grid


def _text_width(text: Text) -> int:
    """The widest line of ``text`` in cells (how rich measures a table cell's natural width)."""
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


def _row(
    cells: Sequence[Text],
    widths: Sequence[int],
    pads: Sequence[int],
    *,
    separator: str = "",
    justify: Sequence[Literal["left", "right"]] | None = None,
    no_wrap: Sequence[bool] = (),
) -> Lines:
    """One table row: each cell wrapped in its column (rich's column defaults: left-justified,
    overflow "ellipsis"), followed by its right padding, the cells joined by ``separator``. The
    cells of shorter columns are blank below their text, as rich's top-aligned cells are."""
    wrapped = [
        wrap(
            cell,
            width,
            justify=justify[i] if justify else "left",
            overflow="ellipsis",
            no_wrap=no_wrap[i] if no_wrap else False,
        )
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    out: Lines = []
    for k in range(max(len(w) for w in wrapped)):
        line = Text()
        for i, (cell_lines, width, pad) in enumerate(zip(wrapped, widths, pads, strict=True)):
            if i:
                line.append(separator)
            if k < len(cell_lines):
                line.append_text(cell_lines[k])
                line.append(" " * (width - cell_lines[k].cell_len + pad))
            else:
                line.append(" " * (width + pad))
        out.append(line)
    return out


class FindingsTable:
    """The findings as a table, or as stacked entries when the console is too narrow for one.

    The table keeps the short columns at their natural width and lets only the message wrap;
    when that would leave the message fewer than :attr:`MESSAGE_MIN_WIDTH` columns it would read
    as a ribbon, so each finding gets a title line and its message underneath instead.

    The table is rich's ``Table(box=SIMPLE_HEAD, show_edge=False, pad_edge=False,
    padding=(0, 1, 0, 0), expand=True)`` with the message as its one flexible column, laid out
    directly: the short columns take their widest cell plus one blank of padding (the last
    none), one blank separates columns, and the message takes what is left.
    """

    MESSAGE_MIN_WIDTH = 32
    HEADERS = ("severity", "code", "rule", "where", "message", "confidence")
    NO_WRAP = (True, True, True, False, False, True)

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

    def lines(self, width: int) -> Lines:
        """The findings laid out ``width`` cells wide."""
        if width - self._short_columns_width() < self.MESSAGE_MIN_WIDTH:
            return self._stacked(width)
        rows = [
            [
                Text(f.severity, style=SEVERITY_STYLES.get(f.severity, "")),
                Text(f.code),
                Text(f.rule),
                Text(fmt_span(f.span.start, f.span.end, f.span.x_unit)),
                Text(f.message),
                Text(f.confidence, style=CONFIDENCE_STYLES.get(f.confidence, "")),
            ]
            for f in self.report.findings
        ]
        header = [Text(h, style=HEADER_STYLE) for h in self.HEADERS]
        columns = len(header)
        pads = [1] * (columns - 1) + [0]
        widths = [max(_text_width(row[i]) for row in [header, *rows]) for i in range(columns)]
        message = self.HEADERS.index("message")
        fixed = sum(
            w + p for i, (w, p) in enumerate(zip(widths, pads, strict=True)) if i != message
        )
        widths[message] = width - (columns - 1) - fixed - pads[message]
        out = _row(header, widths, pads, separator=" ", no_wrap=self.NO_WRAP)
        out.append(Text(LINE * width))
        for row in rows:
            out += _row(row, widths, pads, separator=" ", no_wrap=self.NO_WRAP)
        return out

    def _stacked(self, width: int) -> Lines:
        out: Lines = []
        for f in self.report.findings:
            title = Text(f.severity, style=SEVERITY_STYLES.get(f.severity, ""))
            title.append(f" {f.code} {f.rule}", style="bold")
            title.append(f" · {fmt_span(f.span.start, f.span.end, f.span.x_unit)}")
            title.append(f" · {f.confidence} confidence", style="dim")
            out += wrap(title, width)
            # The message indented by two, as under ``rich.padding.Padding(message, (0, 0, 0, 2))``.
            for line in wrap(Text(f.message), width - 2):
                indented = Text("  ")
                indented.append_text(line)
                out.append(indented)
        return out


def _hanging(
    rows: Sequence[tuple[Text, Text]],
    width: int,
    gap: int,
    justify: Literal["left", "right"] = "left",
) -> Lines | None:
    """Labels in a column of their own, each text wrapped beside its label (a hanging indent).

    This is ``Table.grid(padding=(0, gap))`` with a no-wrap label column and a text column, laid
    out directly: the label column is the widest label plus ``gap`` blanks, the text column the
    widest text or what is left of the line, whichever is less. None when the labels leave no
    room for the text (rich's own layout then decides).
    """
    label_width = max(_text_width(label) for label, _ in rows)
    room = width - label_width - gap
    if room < 1:
        return None
    text_width = min(room, max(_text_width(text) for _, text in rows))
    out: Lines = []
    for label, text in rows:
        out += _row(
            [label, text],
            [label_width, text_width],
            [gap, 0],
            justify=[justify, "left"],
            no_wrap=[True, False],
        )
    return out


def _grid(rows: Sequence[tuple[Text, Text]], gap: int, justify: Literal["left", "right"]) -> Table:
    """The rich grid :func:`_hanging` stands for, for widths it does not handle."""
    from rich.table import Table

    grid = Table.grid(padding=(0, gap))
    grid.add_column(no_wrap=True, justify=justify)
    grid.add_column()
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def _advice(report: Report, width: int) -> Lines:
    rows: list[tuple[Text, Text]] = []
    for i, advice in enumerate(report.advice, start=1):
        text = Text(advice.text)
        text.append(f"  ({advice.rule})", style="dim")
        rows.append((Text(f"{i}."), text))
    grid = _hanging(rows, width, 1, "right")
    if grid is None:
        grid = _table_lines(_grid(rows, 1, "right"), width)
    return wrap(Text("What to try", style="bold"), width) + grid


def _trailer(report: Report, width: int) -> Lines:
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
        return []
    grid = _hanging(rows, width, 2)
    return grid if grid is not None else _table_lines(_grid(rows, 2, "left"), width)


def report_lines(report: Report, width: int) -> Lines:
    """One report laid out ``width`` cells wide, one styled :class:`~rich.text.Text` a line."""
    if report.error is not None:
        line = Text("error: ", style="bold red")
        line.append(error_line(report))
        return wrap(line, width)
    out = _header(report, width)
    pictures = CurvePictures(report)
    if pictures.shown:
        out += _after_blank(pictures.lines(width))
    out.append(Text(""))
    if report.findings:
        out += wrap(Text(findings_count(report), style="bold"), width)
        out += FindingsTable(report).lines(width)
    else:
        out += wrap(Text("✓ " + clean_message(report), style="bold green"), width)
    if report.advice:
        out += _after_blank(_advice(report, width))
    trailer = _trailer(report, width)
    if trailer:
        out += _after_blank(trailer)
    return out


class ReportView:
    """A report as a rich renderable, laid out at the width rich offers it."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from report_lines(self.report, options.max_width)


def render_report(report: Report) -> RenderableType:
    """The rich renderable of one report (what ``rich.print(report)`` shows)."""
    return ReportView(report)


def make_console(file: io.StringIO, *, color: bool, width: int | None) -> Console:
    """A console that writes what it is told: no markup, emoji, highlighting or env sniffing."""
    from rich.console import Console

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
    from rich import box
    from rich.table import Table

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
    width = width or DEFAULT_WIDTH
    lines: Lines = []
    for i, report in enumerate(reports):
        if i:
            lines.append(Text(""))
        lines += report_lines(report, width)
    if len(reports) > 1:
        lines.append(Text(""))
        lines += _table_lines(summary_table(reports), width)
        lines += wrap(Text(total_line(reports), style="bold"), width)
    if color:
        buf = io.StringIO()
        # The lines already fit: soft_wrap prints them as they are.
        make_console(buf, color=True, width=width).print(Text("\n").join(lines), soft_wrap=True)
        text = buf.getvalue()
    else:
        text = "\n".join(line.plain for line in lines) + "\n"
    # Table cells are padded to the column width; trailing blanks only get in the way of diffs.
    return "\n".join(line.rstrip() for line in text.split("\n"))
