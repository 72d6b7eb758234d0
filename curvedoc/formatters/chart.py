"""Small braille line charts for the terminal: a few rows that show a curve's shape, not just its
trend.

Each character cell holds a 2×4 grid of braille dots, so a chart ``w`` characters wide and ``r``
rows high has ``2w × 4r`` dots: a 48-bucket sketch on 60 columns and 4 rows is drawn at 120×16.
Consecutive points are joined (vertical runs filled), so a sparse evaluation curve on the shared
axis still reads as a line. Braille is in every common monospace font and degrades to nothing
worse than odd glyphs; the sparkline remains for narrow terminals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from curvedoc.formatters.scale import fraction

BRAILLE_BASE = 0x2800
#: Dot bit for (dx, dy) in a cell, dy counted from the top (Unicode braille numbering).
_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


@dataclass(frozen=True)
class Chart:
    """The drawn rows (top first) and the value range they span (``lo`` at the bottom)."""

    rows: list[str]
    lo: float
    hi: float
    log_scale: bool


def _level(v: float, lo: float, hi: float, height: int) -> int:
    if hi == lo:
        return height // 2
    return round(fraction(v, lo, hi) * (height - 1))


def braille_chart(
    values: Sequence[float | None], *, rows: int = 4, log_scale: bool = False
) -> Chart | None:
    """Draw one value per dot column (``len(values)`` should be even: two dot columns a cell).

    ``None``/non-finite values are gaps bridged by the line; ``None`` is returned when nothing
    is finite. ``log_scale`` is dropped when a value is not positive.
    """
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not points:
        return None
    log_scale = log_scale and min(v for _, v in points) > 0
    scaled = [(i, math.log10(v) if log_scale else v) for i, v in points]
    lo, hi = min(s for _, s in scaled), max(s for _, s in scaled)
    height, width = rows * 4, max(1, math.ceil(len(values) / 2))
    dots = [[False] * (2 * width) for _ in range(height)]

    def fill(col: int, a: int, b: int) -> None:
        for level in range(min(a, b), max(a, b) + 1):
            dots[height - 1 - level][col] = True

    previous: tuple[int, int] | None = None
    for i, s in scaled:
        level = _level(s, lo, hi, height)
        if previous is None:
            fill(i, level, level)
        else:
            i0, l0 = previous
            last = l0
            for col in range(i0 + 1, i + 1):
                here = round(l0 + (level - l0) * (col - i0) / (i - i0))
                fill(col, last, here)
                last = here
        previous = (i, level)
    lines = []
    for top in range(0, height, 4):
        cells = []
        for cell in range(width):
            bits = 0
            for dx in range(2):
                for dy in range(4):
                    if dots[top + dy][2 * cell + dx]:
                        bits |= _BITS[dx][dy]
            cells.append(chr(BRAILLE_BASE + bits) if bits else " ")
        lines.append("".join(cells))
    if log_scale:
        lo, hi = 10.0**lo, 10.0**hi
    return Chart(lines, lo, hi, log_scale)
