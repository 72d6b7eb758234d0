"""Unicode sparklines of a curve's sketch, and the finding spans marked under them.

``CurveSummary.sketch`` holds bucket means over evenly spaced buckets of ``[x_start, x_end]``.
The curves of a run are laid out on one shared x axis (:class:`Axis`), one character per column,
so a validation curve evaluated every 1000 steps lines up with a training loss logged every 25. A
second line, on the same columns, marks where findings lie, so "overfitting from epoch 14" can be
*seen* under the validation curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from curvedoc.formatters.scale import fraction, lerp
from curvedoc.model import SEVERITY_RANK, CurveSummary, Finding

BLOCKS = "▁▂▃▄▅▆▇█"

#: One glyph per severity, so overlapping spans stay tellable apart without color.
MARKS: dict[str, str] = {"error": "━", "warning": "─", "info": "╌"}

#: A curve whose positive values span at least this ratio is drawn on a log scale: a loss that
#: diverges to 1e6 would otherwise flatten everything before the blow-up into one row of "▁".
LOG_SCALE_RATIO = 100.0


class Sparkline(NamedTuple):
    """The drawn line (one character per bucket, a space where a bucket is empty)."""

    chars: str
    log_scale: bool


def wants_log_scale(values: Sequence[float | None]) -> bool:
    """Whether the finite values are all positive and span at least :data:`LOG_SCALE_RATIO`."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= LOG_SCALE_RATIO


def draw(values: Sequence[float | None], *, log_scale: bool | None = None) -> Sparkline:
    """Draw bucket values as block characters scaled between their minimum and maximum.

    ``log_scale`` defaults to :func:`wants_log_scale` of ``values``; a log scale needs positive
    values and is dropped otherwise.
    """
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return Sparkline(" " * len(values), log_scale=False)
    lo, hi = min(finite), max(finite)
    log_scale = (wants_log_scale(values) if log_scale is None else log_scale) and lo > 0

    def scaled(v: float) -> float:
        return math.log10(v) if log_scale else v

    s_lo, s_hi = scaled(lo), scaled(hi)
    top = len(BLOCKS) - 1
    chars: list[str] = []
    for v in values:
        if v is None or not math.isfinite(v):
            chars.append(" ")
        elif s_hi == s_lo:
            chars.append(BLOCKS[top // 2])
        else:
            chars.append(BLOCKS[round(fraction(scaled(v), s_lo, s_hi) * top)])
    return Sparkline("".join(chars), log_scale=log_scale)


def _column(x: float, start: float, end: float, width: int) -> int:
    """The column of position ``x`` on an axis ``[start, end]`` drawn ``width`` columns wide."""
    if end <= start:
        return 0
    return min(width - 1, math.floor(fraction(x, start, end) * width))


class Axis(NamedTuple):
    """A shared x axis: every curve of a run drawn on it lines up, and so do the span marks."""

    start: float
    end: float
    width: int
    x_unit: str

    @classmethod
    def of(cls, curve: CurveSummary, width: int | None = None) -> Axis | None:
        """The curve's own axis (one column per sketch bucket by default); None if it has none."""
        if curve.x_start is None or curve.x_end is None or not curve.sketch:
            return None
        return cls(curve.x_start, curve.x_end, width or len(curve.sketch), curve.x_unit)

    def column(self, x: float) -> int:
        return _column(x, self.start, self.end, self.width)


def bucket_positions(curve: CurveSummary) -> list[float]:
    """Where on the x axis each sketch bucket lies.

    When every point has its own bucket (``points == len(sketch)``, short logs), the points are
    taken as evenly spaced from ``x_start`` to ``x_end``, which puts each one exactly on its x for
    the usual every-epoch or every-N-steps logging. Otherwise a bucket stands at its centre.
    """
    n = len(curve.sketch)
    if curve.x_start is None or curve.x_end is None or n == 0:
        return []
    lo, hi = curve.x_start, curve.x_end
    if n == 1:
        return [lo]
    if curve.points == n:
        return [lerp(lo, hi, i / (n - 1)) for i in range(n)]
    return [lerp(lo, hi, (i + 0.5) / n) for i in range(n)]


def place(curve: CurveSummary, axis: Axis) -> list[float | None]:
    """The curve's sketch laid out on ``axis``: the mean of the buckets falling in each column.

    A curve logged less often than the others (an evaluation every 1000 steps next to a training
    loss every 25) gets gaps rather than being stretched, so all curves of a run line up.
    """
    sums = [0.0] * axis.width
    counts = [0] * axis.width
    for x, v in zip(bucket_positions(curve), curve.sketch, strict=True):
        if v is not None and math.isfinite(v):
            col = axis.column(x)
            sums[col] += v
            counts[col] += 1
    return [t / c if c else None for t, c in zip(sums, counts, strict=True)]


def findings_on(curve: CurveSummary, findings: Sequence[Finding]) -> list[Finding]:
    """The findings that name ``curve`` and whose span can be placed on its x axis."""
    return [
        f
        for f in findings
        if curve.name in f.curves
        and f.span.x_unit == curve.x_unit
        and math.isfinite(f.span.start)
        and math.isfinite(f.span.end)
    ]


def span_marks(
    curve: CurveSummary, findings: Sequence[Finding], axis: Axis | None = None
) -> list[str | None]:
    """Per column of ``axis``, the worst severity of a finding on this curve covering it.

    ``axis`` defaults to the curve's own (one column per sketch bucket). Spans outside the
    curve's x range are not drawn; a point span marks the one column holding it.
    """
    axis = axis or Axis.of(curve)
    if axis is None or curve.x_start is None or curve.x_end is None:
        return [None] * (axis.width if axis else 0)
    marks: list[str | None] = [None] * axis.width
    for f in findings_on(curve, findings):
        start, end = sorted((f.span.start, f.span.end))
        if end < curve.x_start or start > curve.x_end:
            continue
        for i in range(axis.column(start), axis.column(end) + 1):
            held = marks[i]
            if held is None or SEVERITY_RANK[f.severity] > SEVERITY_RANK[held]:
                marks[i] = f.severity
    return marks
