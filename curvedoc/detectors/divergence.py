"""CD301 divergence."""

from __future__ import annotations

import math

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import DetectorParams, Observation, PerLossDetector
from curvedoc.detectors.format import fmt_value, fmt_x
from curvedoc.model import Curve
from curvedoc.record import Field


class Divergence(PerLossDetector):
    """The loss blows up, or trends upward away from its best and does not come back.

    What it detects:
        A training loss (or, with no training loss logged, a validation loss) whose current level
        — the median of the last part of the run, or the last finite value before it turned
        NaN/Inf — sits far above the best level it reached, after a sustained climb. The climb is
        measured against the curve's own scale: the loss it started from and the best it reached.
        When the log has a loss and its terms (a physics-informed network's dynamics and
        boundary losses beside their sum; found from the numbers adding up), the sum is judged:
        one term rising while another falls is the trade-off the optimiser makes.

    Why it matters:
        A diverging run is broken: the optimiser is stepping out of the basin it found, usually
        because the learning rate is too high for the batch size or the gradients are not clipped.
        Training longer only makes it worse.

    Example:
        ``loss`` falls to 0.41 at step 800, then climbs to 2.9 by step 2000 while the learning
        rate is 3e-3 → divergence from step 800.

    What to try:
        Restart from the checkpoint at the best point with the learning rate lowered (×0.3 is a
        good first step; ×0.1 if it blew up fast), add gradient clipping, and add or lengthen
        the warmup.

    Parameters:
        min_rise: how far the current level must be above the best, as a fraction of the
            reference scale (the larger of the best value and the improvement made before it).
        tail_fraction: the share of the run whose median is the "current" level.
        min_points: fewest finite points needed to judge a trend.
        persistence: share of the points in the tail that must stay above the best by half the
            rise threshold (a single spike is a gradient explosion, not a divergence).
        lr_factor: the factor the advice proposes for the learning rate.
    """

    code = "CD301"
    name = "divergence"
    summary = "loss climbs away from its best (or blows up to NaN/Inf) and stays there"
    needs = (("train_loss", "val_loss"),)
    evidence_keys = (
        "best_x",
        "best_value",
        "onset_x",
        "final_x",
        "final_value",
        "rise_ratio",
        "lr_factor",
        "went_non_finite",
    )
    optional_evidence_keys = ("learning_rate", "suggested_lr", "non_finite_x")

    class Params(DetectorParams):
        min_rise: float = Field(gt=0)
        tail_fraction: float = Field(gt=0, le=1)
        min_points: int = Field(ge=3)
        persistence: float = Field(gt=0, le=1)
        lr_factor: float = Field(gt=0, lt=1)

    def _curve(self, ctx: Context, curve: Curve, p: Params) -> Observation | None:
        bad = np.flatnonzero(~np.isfinite(curve.y))
        cut = int(bad[0]) if bad.size else len(curve)
        x = curve.x[:cut]
        y = curve.y[:cut]
        if y.size < p.min_points:
            return None
        y = signal.oriented(y, curve.direction)
        if bad.size == 0:
            # The whole curve is finite: the context's cached smoothing is this very filter
            # (same points, same window; a median commutes with negation), so reuse it.
            smooth = ctx.series(curve).smooth
            s = -smooth if curve.direction == "max" else smooth
        else:
            s = signal.rolling_median(y, signal.smoothing_window(int(y.size)))
        b = int(np.argmin(s))
        best = float(s[b])
        n = int(y.size)
        k = max(2, math.ceil(p.tail_fraction * n))
        if n - 1 - b < 2:
            return None
        # Current level: the tail median, but never before the best point itself.
        tail = y[max(b + 1, n - k) :]
        current = float(signal.median(tail))
        start = float(signal.median(y[: max(1, min(3, b + 1))]))
        learned = max(start - best, 0.0)
        scale = max(abs(best), learned, signal.tiny(y))
        rise = (current - best) / scale
        went_nan = bad.size > 0
        threshold = p.min_rise * (0.5 if went_nan else 1.0)
        if rise < threshold:
            return None
        above = float(np.mean(tail > best + 0.5 * threshold * scale))
        if above < p.persistence:
            return None
        # The climb must be a trend, not the noise floor of a long flat run.
        noise = signal.noise_level(y)
        if current - best < 3 * noise:
            return None
        # Onset: the last time the smoothed curve was near its best before the climb.
        near = np.flatnonzero(s[:n] <= best + 0.25 * threshold * scale)
        onset_i = int(near[near >= b][-1]) if np.any(near >= b) else b
        onset_i = min(onset_i, n - 2)
        xo = float(x[onset_i])
        xb = float(x[b])
        xe = float(x[n - 1])
        lr = ctx.lr_at(xo)
        sign = -1.0 if curve.direction == "max" else 1.0
        evidence: dict[str, float | int | str | bool | None] = {
            "best_x": xb,
            "best_value": sign * best,
            "onset_x": xo,
            "final_x": xe,
            "final_value": sign * current,
            "rise_ratio": round(rise, 4),
            "lr_factor": p.lr_factor,
            "went_non_finite": went_nan,
        }
        if lr is not None:
            evidence["learning_rate"] = lr
            evidence["suggested_lr"] = float(f"{lr * p.lr_factor:.2g}")
        unit = curve.x_unit
        msg = (
            f"{curve.name} climbed from its best {fmt_value(sign * best)} at {unit} {fmt_x(xb)} "
            f"to {fmt_value(sign * current)} by {unit} {fmt_x(xe)}"
        )
        if went_nan:
            xn = float(curve.x[cut])
            evidence["non_finite_x"] = xn
            msg += f", then became non-finite at {unit} {fmt_x(xn)}"
            xe = xn
        else:
            msg += " and did not come back"
        if lr is not None:
            msg += f" (learning rate {lr:.3g})"
        confidence = "high" if (rise >= 3 * threshold or went_nan) and n >= 6 else "medium"
        if n < 6:
            confidence = "low"
        return Observation(
            curves=(curve.name,),
            start=xo,
            end=xe,
            x_unit=unit,
            message=msg,
            confidence=confidence,
            evidence=evidence,
        )
