"""Shared measurements for the end-of-run progress rules (not-converged, slow-convergence).

Both rules ask the same questions of the same curve — is it still improving at the end, and
where is it heading — so the answer is computed once per run and cached on the context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.model import Curve, FloatArray
from curvedoc.projection import Projection, project


@dataclass(frozen=True)
class Progress:
    """How a loss curve ends: its trend, its level, and (when it fits) its projection."""

    curve: Curve
    final_x: float
    final_value: float
    start_x: float
    first: FloatArray  # its first points, oriented (lower is better)
    trend_z: float
    best_near_end: bool
    rate: float
    linearity: float
    projection: Projection | None

    @property
    def run_length(self) -> float:
        return self.final_x - self.start_x


def judged_curves(ctx: Context) -> tuple[Curve, ...]:
    """The curves whose end decides "train longer?": validation losses when logged (more
    training only helps if *they* still improve), else training losses (a logged sum, not its
    terms)."""
    return ctx.curves("val_loss") or ctx.train_losses()


def progress(ctx: Context, curve: Curve, tail_fraction: float, within: float) -> Progress | None:
    """Measure ``curve``'s end (cached per run and parameters)."""
    key = ("progress", curve.name, f"{tail_fraction:.6g}", f"{within:.6g}")
    return ctx.memo(key, lambda: _measure(ctx, curve, tail_fraction, within))


def _measure(ctx: Context, curve: Curve, tail_fraction: float, within: float) -> Progress | None:
    s = ctx.series(curve)
    if s.n < 5:
        return None
    y = signal.oriented(s.y, curve.direction)
    n = s.n
    k = min(n, max(4, math.ceil(tail_fraction * n)))
    # Judge only the current regime: after the last learning-rate drop, or after a step-like
    # drop that explains most of the tail's decline (a step decay the log does not show).
    lo = tail_start = n - k
    drops = ctx.lr_drops
    if drops.size:
        after = int(np.searchsorted(s.x, float(drops[-1])))
        lo = max(lo, after)
    seg = s.smooth[lo:] if curve.direction == "min" else -s.smooth[lo:]
    if seg.size > 3:
        jumps = seg[:-1] - seg[1:]
        j = int(np.argmax(jumps))
        total = float(seg[0] - seg[-1])
        if total > 0 and jumps[j] >= 0.5 * total and jumps[j] > 3 * signal.noise_level(y):
            lo = lo + j + 1
    if n - lo < 4:
        return None
    tail_x, tail_y = s.x[lo:], y[lo:]
    k = n - lo
    z = signal.mann_kendall_z(tail_y)
    smooth = signal.oriented(s.smooth, curve.direction)
    best_i = int(np.argmin(smooth))
    best_near_end = best_i >= n - max(2, math.ceil(0.1 * n))
    level = max(abs(float(signal.median(tail_y[-max(2, k // 3) :]))), signal.tiny(y))
    length = float(s.x[-1] - s.x[0])
    slope = signal.theil_sen_slope(tail_x, tail_y)
    # Pace now against pace since the first tenth: ~1 for a straight crawl (a learning rate too
    # low), well below 1 for a curve that is saturating (converging).
    early = n // 10
    slope_all = signal.theil_sen_slope(s.x[early:], y[early:])
    linearity = slope / slope_all if slope_all < 0 else 0.0
    # Relative improvement the current pace would buy over another tenth of the run.
    rate = -slope * 0.1 * length / level if length > 0 else 0.0
    # Fit from the end of any warmup / initial transient (the first tenth), after the last LR
    # drop or step-like drop; if that long stretch fits poorly (an earlier stall bends it),
    # fit the current regime alone (at least six points).
    start = int(n // 10)
    warm = ctx.warmup_end
    if warm is not None:
        start = max(start, int(np.searchsorted(s.x, warm)))
    if lo > tail_start:  # the current regime began inside the tail: fit it alone
        start = max(start, lo)
    start = max(0, min(start, n - 6))
    wanted = best_near_end and z < -1.0 and n - start >= 6
    proj = None
    if wanted:
        proj = project(s.x[start:], y[start:], within=within)
        short = max(0, min(lo, n - 6))
        if (proj is None or proj.r2 < 0.9) and short > start:
            proj = project(s.x[short:], y[short:], within=within)
    sign = -1.0 if curve.direction == "max" else 1.0
    if proj is not None and sign < 0:
        proj = Projection(
            model=proj.model,
            fitted_final=-proj.fitted_final,
            asymptote=-proj.asymptote,
            asymptote_low=-proj.asymptote_high,
            asymptote_high=-proj.asymptote_low,
            extra_x=proj.extra_x,
            extra_x_low=proj.extra_x_low,
            extra_x_high=proj.extra_x_high,
            r2=proj.r2,
        )
    return Progress(
        curve=curve,
        final_x=float(s.x[-1]),
        # The current level: the median of the last smoothing window of raw points (the edge
        # of a smoothed curve still leans on its last, noisy point).
        final_value=float(signal.median(s.y[-max(3, s.window) :])),
        start_x=float(s.x[0]),
        first=y[:3],
        trend_z=z,
        best_near_end=best_near_end,
        rate=rate,
        linearity=linearity,
        projection=proj,
    )


def remaining_gain(p: Progress) -> float:
    """Projected improvement still to come, as a fraction of the current level (0 if none).

    Measured from both the fit's current value and the last logged points, and the smaller
    is kept: a curve whose recent points already sit at the projected limit is done.
    """
    if p.projection is None:
        return 0.0
    gains = []
    for now in (p.projection.fitted_final, p.final_value):
        gap = now - p.projection.asymptote
        if p.curve.direction == "max":
            gap = -gap
        gains.append(max(gap, 0.0) / max(abs(now), 1e-300))
    return min(gains)


def nearly_zero(p: Progress, min_left: float) -> bool:
    """A loss in its last digits (:func:`~curvedoc.signal.in_last_digits`): nothing that more
    training, or a higher learning rate, would change for the user."""
    return p.curve.direction == "min" and signal.in_last_digits(p.first, p.final_value, min_left)


def reliable(p: Progress, max_spread: float) -> bool:
    """The projection's asymptote is pinned down: its bootstrap 10–90% range is narrower than
    ``max_spread`` of the current level (a fit that could head anywhere promises nothing)."""
    if p.projection is None:
        return False
    spread = p.projection.asymptote_high - p.projection.asymptote_low
    return spread <= max_spread * max(abs(p.final_value), 1e-300)
