"""Positions on an axis, safe for any finite values.

A blown-up run logs values near ±1.8e308; ``(v - lo) / (hi - lo)`` then overflows to inf/NaN and
the drawing code crashes exactly when the user most needs the picture. Every formatter that maps
values or x positions to rows, columns or pixels goes through these two helpers.
"""

from __future__ import annotations

import math


def fraction(v: float, lo: float, hi: float) -> float:
    """Where ``v`` lies on ``[lo, hi]``, clamped to [0, 1], without overflow: halving first keeps
    ``hi - lo`` finite for values up to ±1.8e308 (a blown-up log is exactly when it matters)."""
    span = hi / 2 - lo / 2
    if not span > 0:
        return 0.5
    f = (v / 2 - lo / 2) / span
    return min(1.0, max(0.0, f)) if math.isfinite(f) else 0.5


def lerp(lo: float, hi: float, t: float) -> float:
    """The point a fraction ``t`` of the way from ``lo`` to ``hi``, without overflow (a weighted
    mean never exceeds its larger end, where ``lo + t * (hi - lo)`` can)."""
    return lo * (1.0 - t) + hi * t
