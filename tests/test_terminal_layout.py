"""The terminal report laid out line by line looks exactly as rich's own layout of it did.

``curvedoc.formatters.terminal`` builds one report as styled lines, in place of a rich ``Group`` of
a ``Rule``, ``Table``s and ``Padding`` (those cost more start-up than the rest of the command). The
reference below is that rich layout, rendered by rich; the report must match it character for
character and, in color, style for style on every visible character, at every width.
"""

from __future__ import annotations

import glob
import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.style import Style
from rich.table import Table
from rich.text import Text
from test_formatters import ADVICE, finding, problem_report, ramp, summary, unreadable_report

from curvedoc import api
from curvedoc.formatters import terminal
from curvedoc.formatters.common import (
    clean_message,
    error_line,
    findings_count,
    fmt_num,
    fmt_span,
    run_facts,
)
from curvedoc.formatters.terminal import (
    CONFIDENCE_STYLES,
    SEVERITY_STYLES,
    CurvePictures,
    FindingsTable,
    make_console,
    render_terminal,
    summary_table,
)
from curvedoc.model import Report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- the rich layout the line-by-line one replaces ------------------------------------------


class _RichPictures:
    """The pictures as rich laid them out: chart lines wrapped by rich, the sparkline grid."""

    def __init__(self, report: Report) -> None:
        self.pictures = CurvePictures(report)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        p = self.pictures
        if options.max_width >= p.CHART_MIN_WIDTH:
            yield from p._charts(options.max_width)
        else:
            yield p._sparklines(options.max_width)
        if p.left_out:
            yield Text(
                f"+{p.left_out} more curve{'s' * (p.left_out != 1)} not pictured", style="dim"
            )


class _RichFindings:
    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        findings = FindingsTable(self.report)
        narrow = options.max_width - findings._short_columns_width() < findings.MESSAGE_MIN_WIDTH
        if narrow:
            for f in self.report.findings:
                title = Text(f.severity, style=SEVERITY_STYLES.get(f.severity, ""))
                title.append(f" {f.code} {f.rule}", style="bold")
                title.append(f" · {fmt_span(f.span.start, f.span.end, f.span.x_unit)}")
                title.append(f" · {f.confidence} confidence", style="dim")
                yield title
                yield Padding(Text(f.message), (0, 0, 0, 2))
            return
        table = Table(
            box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), expand=True
        )
        for name in ("severity", "code", "rule"):
            table.add_column(name, no_wrap=True)
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


def _rich_grid(rows: list[tuple[Text, Text]], gap: int, justify: str) -> Table:
    grid = Table.grid(padding=(0, gap))
    grid.add_column(no_wrap=True, justify=justify)  # type: ignore[arg-type]
    grid.add_column()
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def rich_layout(report: Report) -> RenderableType:
    """One report as a rich ``Group``: the layout before it was built line by line."""
    if report.error is not None:
        line = Text("error: ", style="bold red")
        line.append(error_line(report))
        return line
    parts: list[RenderableType] = [
        Rule(Text(report.source, style="bold"), align="left", style="dim"),
        Text(" · ".join(run_facts(report)), style="dim"),
    ]
    if report.meta:
        items = list(report.meta.items())
        shown = " · ".join(
            f"{k} {fmt_num(v) if isinstance(v, float) else v}"
            for k, v in items[: terminal.META_SHOWN]
        )
        more = len(items) - terminal.META_SHOWN
        parts.append(Text(shown + (f" · +{more} more" if more > 0 else ""), style="dim"))
    if CurvePictures(report).shown:
        parts += [Text(""), _RichPictures(report)]
    parts.append(Text(""))
    if report.findings:
        parts += [Text(findings_count(report), style="bold"), _RichFindings(report)]
    else:
        parts.append(Text("✓ " + clean_message(report), style="bold green"))
    if report.advice:
        rows = []
        for i, advice in enumerate(report.advice, start=1):
            text = Text(advice.text)
            text.append(f"  ({advice.rule})", style="dim")
            rows.append((Text(f"{i}."), text))
        parts += [Text(""), Group(Text("What to try", style="bold"), _rich_grid(rows, 1, "right"))]
    trailer = [
        *(
            (
                Text("crashed", style="bold red"),
                Text(f"{e.rule} ({e.code}), its results are missing: {e.error}"),
            )
            for e in report.errors
        ),
        *(
            (Text("skipped", style="dim"), Text(f"{s.rule} ({s.code}): {s.reason}"))
            for s in report.skipped
        ),
        *((Text("note", style="dim"), Text(n, style="dim")) for n in report.notes),
    ]
    if trailer:
        parts += [Text(""), _rich_grid(trailer, 2, "left")]
    return Group(*parts)


def rich_render(reports: list[Report], *, color: bool, width: int) -> str:
    buf = io.StringIO()
    console = make_console(buf, color=color, width=width)
    for i, report in enumerate(reports):
        if i:
            console.print()
        console.print(rich_layout(report))
    if len(reports) > 1:
        console.print()
        console.print(summary_table(reports))
        console.print(Text(terminal.total_line(reports), style="bold"))
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


def visible(ansi: str) -> list[tuple[str, list[tuple[int, str, str]]]]:
    """Each line's text, and the style of each visible (non-blank) character on it."""
    out = []
    for line in ansi.split("\n"):
        text = Text.from_ansi(line)
        styles = [Style.null()] * len(text.plain)
        for span in text.spans:
            style = span.style if isinstance(span.style, Style) else Style.parse(span.style)
            for i in range(span.start, min(span.end, len(styles))):
                styles[i] += style
        out.append(
            (
                text.plain,
                [(i, c, str(styles[i])) for i, c in enumerate(text.plain) if not c.isspace()],
            )
        )
    return out


# --- reports --------------------------------------------------------------------------------


def _reports() -> Iterator[tuple[str, list[Report]]]:
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "keras-json", "*.json")))[:4]:
        yield os.path.basename(path), [api.diagnose(path)]
    long = "word " * 40 + "x" * 70 + " end"
    wide = "損失関数の値" * 3
    findings = [
        finding(message=long),
        finding(severity="warning", code="CD9", rule="r", message="short"),
        finding(severity="info", message="a\nb newline", rule="some-very-long-rule-name-here"),
    ]
    advice = [
        ADVICE.model_copy(update={"text": long if i % 3 == 0 else f"advice {i} " + "w" * (i * 7)})
        for i in range(12)
    ]
    yield "problem", [problem_report()]
    yield (
        "crowded",
        [
            problem_report(
                source="[bold]x[/] " + "p" * 130,
                findings=findings,
                advice=advice,
                notes=["note " * 30, "n2"],
                meta={f"k{i}": i * 1.5 for i in range(12)},
            )
        ],
    )
    yield (
        "wide characters",
        [
            problem_report(
                source=wide,
                curves=[
                    summary(wide, "train_loss", ramp(3, 1)),
                    summary("val_" + "z" * 50, "val_loss", ramp(3e-3, 5)),
                ],
                findings=[finding(curves=(wide,), message=wide * 4)],
            )
        ],
    )
    yield "bare", [problem_report(findings=[], advice=[], errors=[], skipped=[], notes=[])]
    yield (
        "tab and long word",
        [problem_report(findings=[finding(message="tab\there " + "y" * 200)])],
    )
    yield (
        "several",
        [problem_report("a.json"), unreadable_report(), problem_report("b.json", findings=[])],
    )


REPORTS = list(_reports())
WIDTHS = [1, 2, 3, 8, 20, 33, 40, 59, 60, 61, 79, 80, 99, 100, 101, 120, 160, 200]


@pytest.mark.parametrize(("name", "reports"), REPORTS, ids=[name for name, _ in REPORTS])
def test_plain_report_is_rich_layout_character_for_character(
    name: str, reports: list[Report]
) -> None:
    for width in WIDTHS:
        expected = rich_render(reports, color=False, width=width)
        assert render_terminal(reports, width=width) == expected, (name, width)


@pytest.mark.parametrize(("name", "reports"), REPORTS, ids=[name for name, _ in REPORTS])
def test_color_report_styles_every_character_as_rich_layout(
    name: str, reports: list[Report]
) -> None:
    for width in WIDTHS:
        expected = visible(rich_render(reports, color=True, width=width))
        assert visible(render_terminal(reports, color=True, width=width)) == expected, (name, width)


def test_visible_tells_styles_apart() -> None:
    """The color comparison would notice a restyled character (and ignores styled blanks only)."""
    assert visible("\x1b[1mab\x1b[0m") != visible("\x1b[3mab\x1b[0m")
    assert visible("\x1b[1ma\x1b[0m \x1b[1mb\x1b[0m") == visible("\x1b[1ma \x1b[0m\x1b[1mb\x1b[0m")


def test_plain_report_builds_no_console() -> None:
    """The plain report is the lines' text: rich.console (and rich.table) are never imported."""
    path = os.path.join(ROOT, "fixtures", "keras-json", "overfit_digits_150_samples_big_mlp.json")
    code = (
        "import sys; from curvedoc import api; from curvedoc.formatters import render; "
        f"out = render('terminal', [api.diagnose({path!r})], width=100); "
        "assert 'overfitting' in out, out; "
        "print(sorted(m for m in sys.modules if m in ('rich.console', 'rich.table')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
