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
from typing import NamedTuple

from curvedoc.formatters.scale import fraction

BRAILLE_BASE = 0x2800
#: Dot bit for (dx, dy) in a cell, dy counted from the top (Unicode braille numbering).
_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
#: The bits of the dots from ``dy0`` to ``dy1`` (inclusive) of dot column ``dx``: [dx][dy0][dy1].
_RUN_BITS = tuple(
    tuple(tuple(sum(_BITS[dx][d] for d in range(d0, d1 + 1)) for d1 in range(4)) for d0 in range(4))
    for dx in range(2)
)


class Chart(NamedTuple):
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
    # Each dot column is filled once (the line reaches it once), so its dots are one run of
    # levels: kept as (lowest, highest) and turned into braille bits a cell at a time.
    runs: list[tuple[int, int] | None] = [None] * (2 * width)

    def fill(col: int, a: int, b: int) -> None:
        low, high = min(a, b), max(a, b)
        had = runs[col]
        runs[col] = (low, high) if had is None else (min(had[0], low), max(had[1], high))

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
    for band in range(rows):
        top = height - 1 - 4 * band  # the level of the cells' top dots
        cells = []
        for cell in range(width):
            bits = 0
            for dx in (0, 1):
                run = runs[2 * cell + dx]
                if run is not None:
                    first, last_dy = max(0, top - run[1]), min(3, top - run[0])
                    if first <= last_dy:
                        bits |= _RUN_BITS[dx][first][last_dy]
            cells.append(chr(BRAILLE_BASE + bits) if bits else " ")
        lines.append("".join(cells))
    if log_scale:
        lo, hi = 10.0**lo, 10.0**hi
    return Chart(lines, lo, hi, log_scale)
