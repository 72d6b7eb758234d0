"""Number formatting shared by detector messages, so every message reads the same way."""

from __future__ import annotations

import math


def fmt_x(x: float) -> str:
    """An x position: integers without a decimal point (epoch 14, step 1200)."""
    xf = float(x)
    if math.isfinite(xf) and xf == round(xf):
        return str(round(xf))
    return f"{xf:.4g}"


def fmt_value(v: float) -> str:
    """A curve value with four significant digits (0.4123, 3.2e+05)."""
    vf = float(v)
    if not math.isfinite(vf):
        return str(vf)
    return f"{vf:.4g}"


def fmt_pct(ratio: float) -> str:
    """A ratio as a percentage (0.38 → 38%)."""
    return f"{ratio * 100:.0f}%" if abs(ratio) >= 0.1 else f"{ratio * 100:.1f}%"


def article(word: str) -> str:
    """``a`` or ``an`` for a word read aloud (an exponential fit, a power-law fit)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
