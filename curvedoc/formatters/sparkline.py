"""Unicode sparklines of a curve's sketch, and the finding spans marked under them.

``CurveSummary.sketch`` holds bucket means over evenly spaced buckets of ``[x_start, x_end]``;
one character per bucket gives a picture that fits on a line. A second line, aligned to the same
buckets, marks where findings lie, so "overfitting from epoch 14" can be *seen* under the
validation curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from curvedoc.model import SEVERITY_RANK, CurveSummary, Finding

BLOCKS = "▁▂▃▄▅▆▇█"

#: One glyph per severity, so overlapping spans stay tellable apart without color.
MARKS: dict[str, str] = {"error": "━", "warning": "─", "info": "╌"}

#: A curve whose positive values span at least this ratio is drawn on a log scale: a loss that
#: diverges to 1e6 would otherwise flatten everything before the blow-up into one row of "▁".
LOG_SCALE_RATIO = 100.0


@dataclass(frozen=True)
class Sparkline:
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
            chars.append(BLOCKS[round((scaled(v) - s_lo) / (s_hi - s_lo) * top)])
    return Sparkline("".join(chars), log_scale=log_scale)


def _bucket(x: float, start: float, end: float, n: int) -> int:
    if end <= start:
        return 0
    return min(n - 1, max(0, math.floor((x - start) / (end - start) * n)))


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
    curve: CurveSummary, findings: Sequence[Finding], buckets: int | None = None
) -> list[str | None]:
    """Per bucket, the worst severity of a finding on this curve covering it (else None).

    ``buckets`` defaults to the length of the sketch (pass the resampled width when the sparkline
    was resampled). Spans outside the curve's x range are not drawn; a point span marks the one
    bucket holding it.
    """
    n = len(curve.sketch) if buckets is None else buckets
    marks: list[str | None] = [None] * n
    if n == 0 or curve.x_start is None or curve.x_end is None:
        return marks
    lo_x, hi_x = curve.x_start, curve.x_end
    for f in findings_on(curve, findings):
        start, end = sorted((f.span.start, f.span.end))
        if end < lo_x or start > hi_x:
            continue
        first, last = _bucket(start, lo_x, hi_x, n), _bucket(end, lo_x, hi_x, n)
        for i in range(first, last + 1):
            held = marks[i]
            if held is None or SEVERITY_RANK[f.severity] > SEVERITY_RANK[held]:
                marks[i] = f.severity
    return marks


def mark_line(marks: Sequence[str | None]) -> str:
    """The marks as text: a severity glyph under each marked bucket, spaces elsewhere."""
    return "".join(" " if m is None else MARKS[m] for m in marks)


def resample(values: Sequence[float | None], n: int) -> list[float | None]:
    """Merge ``values`` into ``n`` evenly spaced groups (means of their finite values).

    Used when a terminal is too narrow for one character per sketch bucket; with ``n`` at least
    ``len(values)`` the values come back unchanged.
    """
    if n >= len(values) or n <= 0:
        return list(values)
    out: list[float | None] = []
    for i in range(n):
        lo, hi = i * len(values) // n, (i + 1) * len(values) // n
        group = [v for v in values[lo:hi] if v is not None and math.isfinite(v)]
        out.append(sum(group) / len(group) if group else None)
    return out
