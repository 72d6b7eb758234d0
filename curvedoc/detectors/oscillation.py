"""CD303 oscillation."""

from __future__ import annotations

import math

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import DetectorParams, Observation, PerLossDetector
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.model import Curve, FloatArray
from curvedoc.record import Field


class Oscillation(PerLossDetector):
    """Large step-to-step bouncing with no progress: the learning rate is too high for the batch.

    What it detects:
        Over the last part of the run, the loss bounces around its own running level (median
        absolute deviation from a rolling median) by a large fraction of that level *and* by a
        large fraction of everything the run had learned, it changes direction at most steps,
        and it makes no significant progress (Mann–Kendall) while doing so. Ordinary mini-batch
        noise on a run that is still improving, or whose bounce is small next to what it
        learned, is not oscillation.

        A training loss logged once per epoch is the mean over the epoch's batches, so its
        point-to-point changes are not sampling noise: they are the model itself moving. There
        the bounce is measured around the window's own trend (Theil–Sen), and the window counts
        as "no progress" when its best point improves on the best before it by less than one
        bounce (``max_new_best``): a few lucky epochs in a long swing do not make a trend. The
        bounce must then reach ``min_rel_amplitude_means`` of the level; how much the first
        epochs learned does not excuse it.

    Why it matters:
        The optimiser keeps overshooting the valley it should settle into: each update undoes the
        last. Training longer buys nothing; the loss it reaches is set by the learning rate, not
        by the model.

    Example:
        ``loss`` 2.3 → 1.6 by epoch 5, then 1.2, 2.1, 1.4, 2.3, 1.3, 2.0 … for 20 epochs → bouncing
        ±0.4 (29% of its level) with no trend.

    What to try:
        Lower the learning rate (×0.3), or raise the batch size; add a decaying schedule so the
        late steps are small; with Adam, a lower beta2 or gradient clipping can calm it.

    Parameters:
        window_fraction: the share of the run, at its end, that is examined.
        min_points: fewest points in that window.
        min_rel_amplitude: bounce (1.48 × MAD of the residuals) as a fraction of the level
            (default 0.2: the loss of single batches in a language-model fine-tune varies by
            about ±15% around its level at a healthy learning rate).
        min_vs_learned: bounce as a fraction of what the run learned before the window.
        min_rel_amplitude_means: the same, for epoch means of the training loss (bounce around
            the window's Theil–Sen trend, 1.48 × MAD).
        max_new_best: epoch means: the window's best may improve on the best before it by at
            most this many bounces.
        min_turns: share of steps where the direction changes.
        progress_z: the window counts as "no progress" when its Mann–Kendall z is above
            ``-progress_z``.
        lr_factor: the factor the advice proposes for the learning rate.
        annealed_ratio: not reported when the logged learning rate is already below this
            fraction of its peak half-way through the window (a ReduceLROnPlateau run cut from
            1e-3 to 8e-6 while it bounced): what bounces there is not the rate's doing. (A
            cosine schedule is at 15% of its peak three quarters of the way.)
        min_left: not reported when the loss is already closer to zero than this fraction of
            the distance it came (a Keras loss from 21 down to 0.011: its bounce is in the last
            digits; see ``not-converged``).
    """

    code = "CD303"
    name = "oscillation"
    summary = "large bouncing with no progress: the learning rate is too high for the batch"
    needs = (("train_loss", "val_loss"),)
    evidence_keys = (
        "start_x",
        "end_x",
        "level",
        "amplitude",
        "rel_amplitude_pct",
        "turns_pct",
        "lr_factor",
    )
    optional_evidence_keys = ("learning_rate", "suggested_lr")

    class Params(DetectorParams):
        window_fraction: float = Field(gt=0, le=1)
        min_points: int = Field(ge=6)
        min_rel_amplitude: float = Field(gt=0)
        min_vs_learned: float = Field(gt=0)
        min_rel_amplitude_means: float = Field(gt=0)
        max_new_best: float = Field(ge=0)
        min_turns: float = Field(ge=0, le=1)
        progress_z: float = Field(gt=0)
        lr_factor: float = Field(gt=0, lt=1)
        min_left: float = Field(ge=0, lt=1)
        annealed_ratio: float = Field(ge=0, le=1)

    def _curve(self, ctx: Context, curve: Curve, p: Params) -> Observation | None:
        mean = ctx.epoch_mean(curve)  # judge epoch means, not single batches
        averaged = mean is not None or (curve.role == "train_loss" and curve.x_unit == "epoch")
        curve = mean or curve
        s = ctx.series(curve)
        if s.n == 0 or float(np.min(s.y)) <= 0:
            return None  # bounce "relative to the level" needs a positive loss (not RL surrogates)
        k = math.ceil(p.window_fraction * s.n)
        if k < p.min_points or s.n - k < 2:
            return None
        y = signal.oriented(s.y, curve.direction)
        win = y[-k:]
        w = signal.odd(max(3, min(s.window, k // 3)))
        level = float(signal.median(win))
        if level == 0:
            return None
        if signal.in_last_digits(y[:3], level, p.min_left):
            return None  # a loss in its last digits bounces by a large share of almost nothing
        d = np.diff(win)
        d = d[d != 0]
        turns = float(np.mean(np.sign(d[1:]) != np.sign(d[:-1]))) if d.size > 2 else 0.0
        if turns < p.min_turns:
            return None
        x0, x1 = float(s.x[-k]), float(s.x[-1])
        if ctx.lr_annealed_at(0.5 * (x0 + x1), p.annealed_ratio):
            return None  # bouncing at a tenth of the peak rate: not a rate too high for the batch
        amp = self._bounce_of_means(s.x[-k:], win, y[:-k], level, p) if averaged else None
        if amp is None:
            amp = signal.mad(win - signal.rolling_median(win, w))
            if amp <= 0 or amp / abs(level) < p.min_rel_amplitude:
                return None
            learned = max(float(signal.median(y[: max(1, min(3, s.n - k))])) - level, 0.0)
            if learned > 0 and amp < p.min_vs_learned * learned:
                return None
            if signal.mann_kendall_z(win) < -p.progress_z:
                return None  # still making progress through the noise
        rel = amp / abs(level)
        sign = -1.0 if curve.direction == "max" else 1.0
        lr = ctx.lr_at(x1)
        evidence: dict[str, float | int | str | bool | None] = {
            "start_x": x0,
            "end_x": x1,
            "level": sign * level,
            "amplitude": amp,
            "rel_amplitude_pct": round(rel * 100, 2),
            "turns_pct": round(turns * 100, 1),
            "lr_factor": p.lr_factor,
        }
        if lr is not None:
            evidence["learning_rate"] = lr
            evidence["suggested_lr"] = float(f"{lr * p.lr_factor:.2g}")
        unit = curve.x_unit
        msg = (
            f"{curve.name} bounces by ±{fmt_value(amp)} ({fmt_pct(rel)} of its level "
            f"{fmt_value(sign * level)}) from {unit} {fmt_x(x0)} to {fmt_x(x1)}, changing "
            f"direction at {fmt_pct(turns)} of the steps, without making progress"
        )
        if lr is not None:
            msg += f" (learning rate {lr:.3g})"
        return Observation(
            curves=(curve.name,),
            start=x0,
            end=x1,
            x_unit=unit,
            message=msg,
            confidence="high" if rel >= 2 * p.min_rel_amplitude and turns >= 0.6 else "medium",
            evidence=evidence,
        )

    @staticmethod
    def _bounce_of_means(
        x: FloatArray, win: FloatArray, before: FloatArray, level: float, p: Oscillation.Params
    ) -> float | None:
        """The bounce of epoch means around the window's trend, when it is large and the window
        brings no new best beyond it; None otherwise (the general test then decides)."""
        slope = signal.theil_sen_slope(x, win)
        trend = float(signal.median(win - slope * x)) + slope * x
        amp = signal.mad(win - trend)
        if amp <= 0 or amp / abs(level) < p.min_rel_amplitude_means or before.size == 0:
            return None
        new_best = (float(np.min(before)) - float(np.min(win))) / amp
        return amp if new_best < p.max_new_best else None
