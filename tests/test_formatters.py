"""Output formatters on hand-built reports: JSON contract, terminal and markdown rendering."""

from __future__ import annotations

import json
import math
import re

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from curvedoc.formatters import FORMATTERS, render
from curvedoc.formatters.chart import BRAILLE_BASE, braille_chart
from curvedoc.formatters.common import fails, total_line
from curvedoc.formatters.markdown import md_escape, render_markdown
from curvedoc.formatters.sparkline import BLOCKS, MARKS, Axis, draw, place, span_marks
from curvedoc.formatters.terminal import CurvePictures, render_report, render_terminal
from curvedoc.model import (
    Advice,
    CurveSummary,
    DetectorError,
    Finding,
    Report,
    Skip,
    Span,
)

ANSI = re.compile(r"\x1b\[")
N = 48


def ramp(a: float, b: float, n: int = N) -> list[float | None]:
    return [a + (b - a) * i / (n - 1) for i in range(n)]


def summary(name: str, role: str, sketch: list[float | None], **kw: object) -> CurveSummary:
    fields: dict[str, object] = {
        "name": name,
        "role": role,
        "split": "val" if role.startswith("val") else "train",
        "direction": "min",
        "x_unit": "epoch",
        "points": 40,
        "non_finite": 0,
        "x_start": 1.0,
        "x_end": 40.0,
        "first": sketch[0],
        "best": min(v for v in sketch if v is not None),
        "best_x": 10.0,
        "final": sketch[-1],
        "sketch": sketch,
    }
    fields.update(kw)
    return CurveSummary.model_validate(fields)


def finding(
    severity: str = "error",
    start: float = 20.0,
    end: float = 40.0,
    curves: tuple[str, ...] = ("val_loss", "loss"),
    message: str = "val_loss rose 38% from its best at epoch 20 while loss kept falling",
    code: str = "CD201",
    rule: str = "overfitting",
) -> Finding:
    return Finding(
        code=code,
        rule=rule,
        severity=severity,
        confidence="high",
        curves=list(curves),
        span=Span(start=start, end=end, x_unit="epoch"),
        message=message,
        evidence={"best_x": 20, "rise": 0.38, "note": "x", "flag": True, "missing": None},
    )


ADVICE = Advice(
    text="Stop at epoch 20 or enable early stopping (patience 3).",
    param="early_stopping",
    action="enable",
    rule="overfitting",
    severity="error",
)


def problem_report(source: str = "runs/exp1/history.json", **kw: object) -> Report:
    fields: dict[str, object] = {
        "curvedoc_version": "0.1.0",
        "source": source,
        "format": "keras-history",
        "curves": [
            summary("loss", "train_loss", ramp(2.0, 0.1)),
            summary("val_loss", "val_loss", ramp(2.0, 0.5)),
            summary("lr", "lr", ramp(1e-3, 1e-3)),
        ],
        "findings": [finding()],
        "advice": [ADVICE],
        "skipped": [Skip(rule="plateau", code="CD401", reason="fewer than 10 points")],
        "errors": [DetectorError(rule="divergence", code="CD301", error="ValueError: boom")],
        "notes": ["merged 2 repeated steps"],
        "meta": {"learning_rate": 0.001, "batch_size": 32},
    }
    fields.update(kw)
    return Report.model_validate(fields)


def clean_report(source: str = "runs/clean.csv") -> Report:
    return Report(
        curvedoc_version="0.1.0",
        source=source,
        format="keras-csv",
        curves=[
            summary("loss", "train_loss", ramp(1, 0.2)),
            summary("val_loss", "val_loss", [0.9]),
        ],
    )


def unreadable_report(source: str = "runs/broken.csv") -> Report:
    return Report(curvedoc_version="0.1.0", source=source, error="line 3: not a number: 'abc'")


# --- registry -------------------------------------------------------------------------------


def test_registry_has_the_documented_formats_and_render_dispatches() -> None:
    assert {"terminal", "json", "markdown"} <= set(FORMATTERS)
    for name in FORMATTERS:
        assert isinstance(render(name, [problem_report()]), str)


def test_render_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="terminal"):
        render("yaml", [clean_report()])


def test_fails_respects_the_threshold() -> None:
    warn = problem_report(findings=[finding(severity="warning")])
    assert fails(warn, "warning")
    assert fails(warn, "info")
    assert not fails(warn, "error")
    assert not fails(warn, "never")
    assert not fails(clean_report(), "info")


# --- json -----------------------------------------------------------------------------------


def test_json_one_report_is_an_object_that_round_trips_and_validates() -> None:
    report = problem_report()
    text = render("json", [report])
    data = json.loads(text)
    assert isinstance(data, dict)
    jsonschema.validate(data, Report.model_json_schema())
    assert Report.model_validate_json(text) == report
    assert data["findings"][0]["rule"] == "overfitting"
    assert data["findings"][0]["severity"] == "error"


def test_json_several_reports_are_an_array_in_input_order() -> None:
    reports = [clean_report("a.csv"), unreadable_report("b.csv"), problem_report("c.json")]
    data = json.loads(render("json", reports))
    assert isinstance(data, list)
    assert [d["source"] for d in data] == ["a.csv", "b.csv", "c.json"]
    schema = Report.model_json_schema()
    for item in data:
        jsonschema.validate(item, schema)
    assert data[1]["error"]
    assert data[1]["findings"] == []
    assert [Report.model_validate(d) for d in data] == reports


def test_json_writes_non_finite_numbers_as_null_not_invalid_json() -> None:
    report = problem_report(
        curves=[summary("loss", "train_loss", [1.0, None, 0.5], final=float("nan"))]
    )
    text = render("json", [report])
    assert "NaN" not in text
    assert "Infinity" not in text
    assert json.loads(text)["curves"][0]["final"] is None


# --- sparkline ------------------------------------------------------------------------------


def test_draw_maps_min_and_max_to_the_lowest_and_highest_block() -> None:
    spark = draw([0.0, 0.5, 1.0, None])
    assert spark.chars == BLOCKS[0] + BLOCKS[4] + BLOCKS[-1] + " "
    assert not spark.log_scale
    assert draw([3.0, 3.0]).chars == BLOCKS[3] * 2
    assert draw([None, None]).chars == "  "


def test_draw_uses_a_log_scale_for_values_spanning_decades() -> None:
    spark = draw([1.0, 10.0, 100.0, 1000.0])
    assert spark.log_scale
    # Evenly spaced in log10, so the middle values land on the middle blocks, not on the floor.
    assert spark.chars == BLOCKS[0] + BLOCKS[2] + BLOCKS[5] + BLOCKS[7]
    assert not draw([-1.0, 1000.0]).log_scale


def step_curve(name: str, role: str, sketch: list[float | None], **kw: object) -> CurveSummary:
    return summary(name, role, sketch, x_unit="step", **kw)


def test_place_on_own_axis_is_the_identity_and_narrower_axes_merge_by_mean() -> None:
    curve = summary("loss", "train_loss", ramp(0, 47), x_start=0.0, x_end=47.0, points=48)
    axis = Axis.of(curve)
    assert axis is not None
    assert place(curve, axis) == pytest.approx(ramp(0, 47))
    half = place(curve, Axis(0.0, 47.0, 24, "epoch"))
    assert half == pytest.approx([2 * i + 0.5 for i in range(24)])


def test_place_puts_a_sparse_curve_on_the_shared_axis_with_gaps() -> None:
    # Evaluated every 1000 steps (one point per sketch bucket) next to a loss logged from step 0.
    evals = step_curve(
        "eval_loss", "val_loss", [1.0, 2.0, 3.0, 4.0, 5.0], x_start=1000.0, x_end=5000.0, points=5
    )
    row = place(evals, Axis(0.0, 5000.0, 50, "step"))
    assert {i: v for i, v in enumerate(row) if v is not None} == {
        10: 1.0,
        20: 2.0,
        30: 3.0,
        40: 4.0,
        49: 5.0,
    }


def test_span_marks_cover_the_buckets_of_the_span() -> None:
    # x from 0 to 47 over 48 buckets: bucket i holds x == i.
    curve = summary("val_loss", "val_loss", ramp(1, 2), x_start=0.0, x_end=47.0)
    marks = span_marks(curve, [finding(start=10, end=19)])
    assert [i for i, m in enumerate(marks) if m] == list(range(10, 20))
    # A point span marks one bucket; a warning under an error keeps the error.
    marks = span_marks(
        curve, [finding(start=10, end=19), finding(severity="warning", start=15, end=30)]
    )
    assert marks[12] == "error"
    assert marks[25] == "warning"
    assert marks[31] is None
    assert sum(m is not None for m in span_marks(curve, [finding(start=5, end=5)])) == 1


def test_span_marks_on_a_shared_axis() -> None:
    evals = step_curve("val_loss", "val_loss", [1.0, 2.0, 3.0], x_start=1000.0, x_end=3000.0)
    marks = span_marks(
        evals,
        [finding(start=2000, end=3000).model_copy(update={"span": step_span(2000, 3000)})],
        Axis(0.0, 4000.0, 40, "step"),
    )
    assert [i for i, m in enumerate(marks) if m] == list(range(20, 31))


def step_span(start: float, end: float) -> Span:
    return Span(start=start, end=end, x_unit="step")


def test_span_marks_ignore_other_curves_units_and_out_of_range_spans() -> None:
    curve = summary("val_loss", "val_loss", ramp(1, 2), x_start=0.0, x_end=47.0)
    assert not any(span_marks(curve, [finding(curves=("loss",))]))
    assert not any(span_marks(curve, [finding(start=100, end=200)]))
    step = Finding.model_validate(
        {**finding().model_dump(), "span": {"start": 1, "end": 5, "x_unit": "step"}}
    )
    assert not any(span_marks(curve, [step]))


# --- terminal -------------------------------------------------------------------------------


def test_terminal_plain_has_no_ansi_and_shows_every_section() -> None:
    out = render_terminal([problem_report()], color=False)
    assert not ANSI.search(out)
    for expected in (
        "runs/exp1/history.json",
        "keras-history",
        "3 curves",
        "epochs 1–40",
        "CD201",
        "overfitting",
        "epochs 20–40",
        "high",
        "1. Stop at epoch 20",
        "skipped  plateau (CD401): fewer than 10 points",
        "crashed  divergence (CD301), its results are missing: ValueError: boom",
        "note     merged 2 repeated steps",
        "learning_rate 0.001",
    ):
        assert expected in out, expected
    assert "No problems found" not in out


def test_terminal_color_emits_ansi() -> None:
    assert ANSI.search(render_terminal([problem_report()], color=True))


def test_terminal_sparkline_with_span_marks_aligned_under_it() -> None:
    # Below 100 columns the pictures are sparklines (wider consoles get charts).
    out = render_terminal([problem_report()], width=99).splitlines()
    row = next(i for i, line in enumerate(out) if line.startswith("val_loss "))
    spark_line, mark_line = out[row], out[row + 1]
    spark_start = next(i for i, ch in enumerate(spark_line) if ch in BLOCKS)
    marked = [i - spark_start for i, ch in enumerate(mark_line) if ch == MARKS["error"]]
    # Span 20–40 on x 1–40 over 48 buckets: from bucket floor(19/39*48) = 23 to the last one.
    assert marked == list(range(23, 48))
    assert "CD201" in mark_line
    # The lr curve is not a main curve and no finding names it: no picture.
    assert not any(line.startswith("lr ") for line in out)
    assert "+1 more curve not pictured" in "\n".join(out)


def test_terminal_curves_of_a_run_share_one_x_axis() -> None:
    loss = step_curve("loss", "train_loss", ramp(2.0, 0.1), x_start=0.0, x_end=4800.0, points=200)
    evals = step_curve(
        "eval_loss", "val_loss", [0.5, 0.6, 0.7, 0.8], x_start=1200.0, x_end=4800.0, points=4
    )
    out = render_terminal([problem_report(curves=[loss, evals], findings=[])], width=99)
    lines = out.splitlines()
    loss_line = next(line for line in lines if line.startswith("loss "))
    eval_line = next(line for line in lines if line.startswith("eval_loss "))
    first = next(i for i, ch in enumerate(loss_line) if ch in BLOCKS)
    columns = [i - first for i, ch in enumerate(eval_line) if ch in BLOCKS]
    # 48 columns over steps 0–4800: 100 steps a column; evaluations at 1200, 2400, 3600, 4800.
    assert columns == [12, 24, 36, 47]


def dots(row: str) -> list[int]:
    """The braille dot bits of each cell (0 for a blank)."""
    return [ord(ch) - BRAILLE_BASE if ch != " " else 0 for ch in row]


def test_braille_chart_puts_the_minimum_at_the_bottom_and_the_maximum_on_top() -> None:
    chart = braille_chart([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], rows=2)
    assert chart is not None
    assert (chart.lo, chart.hi) == (1.0, 8.0)
    top, bottom = chart.rows
    assert len(top) == len(bottom) == 4
    assert dots(bottom)[0] & 0x40  # first value: bottom-left dot of the bottom row
    assert dots(top)[-1] & 0x08  # last value: top-right dot of the top row
    assert top[0] == " "  # a rising line: nothing in the top-left cell
    assert bottom[-1] == " "


def test_braille_chart_bridges_gaps_and_handles_flat_and_empty_input() -> None:
    chart = braille_chart([0.0, None, None, None, None, 1.0], rows=1)
    assert chart is not None
    assert all(ch != " " for ch in chart.rows[0])  # the line is joined across the gap
    flat = braille_chart([5.0, 5.0, 5.0, 5.0], rows=2)
    assert flat is not None
    assert flat.rows == ["⣀⣀", "  "]  # a level line across the middle of the 8 dot rows
    assert braille_chart([None, float("nan")]) is None
    logged = braille_chart([1.0, 10.0, 100.0, 1000.0], rows=1, log_scale=True)
    assert logged is not None
    assert logged.log_scale
    assert (logged.lo, logged.hi) == pytest.approx((1.0, 1000.0))
    assert not (braille_chart([-1.0, 10.0], log_scale=True) or flat).log_scale


def test_terminal_wide_console_draws_a_chart_per_main_curve_with_marks() -> None:
    out = render_terminal([problem_report()], width=120).splitlines()
    head = next(i for i, line in enumerate(out) if line.startswith("val_loss "))
    rows = out[head + 1 : head + 5]
    assert rows[0].strip().startswith("2 ┤")  # the top value labels the top row
    assert rows[3].strip().startswith("0.5 ┤")
    assert all(any(0x2800 <= ord(ch) <= 0x28FF for ch in row) for row in rows)
    chart_start = rows[0].index("┤") + 1
    width = CurvePictures.CHART_MAX  # 120 columns leave room for the widest chart
    marks = out[head + 5]
    marked = [i - chart_start for i, ch in enumerate(marks) if ch == MARKS["error"]]
    # Span 20–40 on x 1–40 over `width` columns: from floor(19/39*width) to the last column.
    assert marked == list(range(19 * width // 39, width))
    assert marks.rstrip().endswith("CD201")
    assert not any(ch in BLOCKS for ch in "\n".join(out))  # no sparklines at this width
    assert max(len(line) for line in out) <= 120


def test_terminal_shows_markup_from_logs_literally() -> None:
    hostile = "[bold red]val[/] [link=http://x]loss[/link] :smile:"
    report = problem_report(
        curves=[summary(hostile, "val_loss", ramp(1, 2))],
        findings=[finding(curves=(hostile,), message=f"{hostile} rose [/]")],
        source="runs/[b]x[/b].json",
    )
    for color in (False, True):
        out = render_terminal([report], color=color, width=160)
        assert hostile in out
        assert f"{hostile} rose [/]" in out
        assert "runs/[b]x[/b].json" in out
    # The same holds when a user prints the report with their own (markup-enabled) console.
    console = Console(width=200, record=True, color_system=None)
    console.print(report)
    assert hostile in console.export_text()


def test_terminal_clean_run_says_so_plainly() -> None:
    out = render_terminal([clean_report()])
    assert "No problems found in 2 curves" in out
    assert "severity" not in out


def test_terminal_unreadable_input_is_one_error_line_naming_the_file() -> None:
    out = render_terminal([unreadable_report()])
    assert out.strip() == "error: runs/broken.csv: line 3: not a number: 'abc'"


def test_terminal_several_reports_end_with_a_total() -> None:
    warn = problem_report("w.json", findings=[finding(severity="warning")])
    out = render_terminal([problem_report("e.json"), warn, clean_report("c.csv")])
    assert out.rstrip().splitlines()[-1] == "3 runs: 1 with errors, 1 with warnings, 1 clean"
    assert out.index("e.json") < out.index("w.json") < out.index("c.csv")


def test_total_line_counts_unreadable_and_info_runs() -> None:
    info = problem_report(findings=[finding(severity="info")])
    line = total_line([unreadable_report(), info, clean_report()])
    assert line == "3 runs: 1 unreadable, 1 with info only, 1 clean"


def test_terminal_narrow_console_stacks_findings_without_losing_text() -> None:
    long = "val_loss " + "rose and kept rising " * 5 + "END"
    out = render_terminal([problem_report(findings=[finding(message=long)])], width=60)
    assert max(len(line) for line in out.splitlines()) <= 60
    flat = " ".join(out.split())
    assert "error CD201 overfitting · epochs 20–40 · high confidence" in flat
    assert " ".join(long.split()) in flat


def test_render_report_is_what_rich_prints() -> None:
    console = Console(width=100, record=True, color_system=None)
    console.print(render_report(clean_report()))
    assert "No problems found in 2 curves" in console.export_text()


# --- markdown -------------------------------------------------------------------------------


def test_md_escape_neutralises_html_tables_code_and_links() -> None:
    assert md_escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("`rm -rf`") == "&#96;rm -rf&#96;"
    assert md_escape("[x](http://e)") == "\\[x\\](http://e)"
    assert md_escape("a & b\nc\r\nd") == "a &amp; b<br>c<br>d"
    assert md_escape("x_y*z") == "x\\_y\\*z"


def test_markdown_escapes_hostile_names_everywhere() -> None:
    hostile = "<script>x</script>|`code`\n## heading"
    report = problem_report(
        source=f"runs/{hostile}.json",
        curves=[summary(hostile, "val_loss", ramp(1, 2))],
        findings=[finding(curves=(hostile,), message=f"{hostile} rose")],
        advice=[ADVICE.model_copy(update={"text": hostile})],
        skipped=[Skip(rule="plateau", code="CD401", reason=hostile)],
        notes=[hostile],
    )
    out = render_markdown([report])
    assert "<script>" not in out
    assert "`code`" not in out
    assert "\n## heading" not in out
    # Every table row keeps its cell count: no unescaped pipe split a cell.
    for line in out.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 7, line


def test_markdown_has_heading_table_and_advice_and_verdict_icons() -> None:
    out = render_markdown([problem_report()], fail_on="error")
    assert out.startswith("### ❌ curvedoc: runs/exp1/history.json")
    assert "| Severity | Code | Rule | Where | Message | Confidence |" in out
    assert "| 🔴 error | CD201 | overfitting | epochs 20–40 |" in out
    assert "1. Stop at epoch 20" in out
    # Below the threshold a run with findings is a warning, not a failure.
    assert render_markdown([problem_report()], fail_on="never").startswith("### ⚠️")


def test_markdown_clean_unreadable_and_several_runs() -> None:
    out = render_markdown([clean_report(), unreadable_report()])
    assert out.startswith("## curvedoc: 2 runs: 1 unreadable, 1 clean")
    assert "### ✅ runs/clean.csv" in out
    assert "✅ No problems found in 2 curves." in out
    assert "### ❌ runs/broken.csv" in out
    assert "**error:** runs/broken.csv: line 3: not a number: 'abc'" in out


def test_report_repr_markdown_uses_the_markdown_formatter() -> None:
    assert clean_report()._repr_markdown_() == render_markdown([clean_report()])


def _braille_by_dots(values: list[float | None], rows: int) -> list[str]:
    """The braille chart's definition, dot by dot: a grid of dots, the line drawn into it (runs
    between consecutive points filled), then each 2×4 cell read into its braille character."""
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    height, width = rows * 4, max(1, math.ceil(len(values) / 2))
    dots = [[False] * (2 * width) for _ in range(height)]

    def level(v: float) -> int:
        return height // 2 if hi == lo else round((v - lo) / (hi - lo) * (height - 1))

    def fill(col: int, a: int, b: int) -> None:
        for lv in range(min(a, b), max(a, b) + 1):
            dots[height - 1 - lv][col] = True

    previous: tuple[int, int] | None = None
    for i, v in points:
        lv = level(v)
        if previous is None:
            fill(i, lv, lv)
        else:
            i0, l0 = previous
            last = l0
            for col in range(i0 + 1, i + 1):
                here = round(l0 + (lv - l0) * (col - i0) / (i - i0))
                fill(col, last, here)
                last = here
        previous = (i, lv)
    bits_of = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
    lines = []
    for top in range(0, height, 4):
        cells = []
        for cell in range(width):
            bits = sum(
                bits_of[dx][dy]
                for dx in range(2)
                for dy in range(4)
                if dots[top + dy][2 * cell + dx]
            )
            cells.append(chr(BRAILLE_BASE + bits) if bits else " ")
        lines.append("".join(cells))
    return lines


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6)), min_size=1, max_size=60
    ),
    rows=st.integers(min_value=1, max_value=5),
)
def test_braille_chart_is_its_dot_by_dot_definition(values: list[float | None], rows: int) -> None:
    chart = braille_chart(values, rows=rows)
    if all(v is None for v in values):
        assert chart is None
        return
    assert chart is not None
    assert chart.rows == _braille_by_dots(values, rows)
