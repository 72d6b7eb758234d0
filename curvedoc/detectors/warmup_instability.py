"""CD304 warmup-instability."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_value, fmt_x
from curvedoc.record import Field


class WarmupInstability(Detector):
    """The loss jumps above where it started in the first steps: a warmup would prevent it.

    What it detects:
        Within the first ``early_fraction`` of the run, the training loss climbs to at least
        ``min_ratio`` times its first logged value and then comes back below it (a blow-up that
        never comes back is a ``divergence``). The climb must also stand out of the curve's own
        point-to-point noise by ``noise_z`` (a rolling median of noisy mini-batch losses drifts
        by chance, more so on small or imbalanced batches). Not reported when the logged
        learning rate already ramps up (a warmup is in place).

    Why it matters:
        At the start, weights and optimiser statistics (Adam's second moments) are
        uncalibrated, so the full learning rate throws the model far off; it often recovers,
        but the spike can leave lasting damage (dead units, a worse basin) and wastes the first
        steps. A short linear warmup is the standard cure.

    Example:
        ``loss`` 12.4 at step 0, 18.4 at step 1, then 5.6 at step 2 → the loss rose 48% above
        its start before training settled.

    What to try:
        Add a linear learning-rate warmup over the first few percent of training (the Tuning
        Playbook suggests up to ~10%); the suggested length covers the unstable stretch.

    Parameters:
        early_fraction: the share of the run, at the start, that is searched.
        min_ratio: how far above its first value the loss must climb.
        spike_ratio: in long logs, how far above its first value a single raw point must jump to
            count on its own (the smoothed curve decides otherwise).
        noise_z: how many standard deviations of the curve's own noise (a robust estimate, for
            the smoothed curve scaled to the smoothing window) the climb above the start must be.
        min_points: fewest logged points in the run.
    """

    code = "CD304"
    name = "warmup-instability"
    summary = "early loss blow-up above its starting value that a warmup would prevent"
    needs = (("train_loss",),)
    evidence_keys = ("first_value", "peak_value", "peak_x", "ratio", "recovered_x", "warmup")
    optional_evidence_keys = ("learning_rate",)

    class Params(DetectorParams):
        early_fraction: float = Field(gt=0, le=0.5)
        min_ratio: float = Field(gt=1)
        spike_ratio: float = Field(gt=1)
        noise_z: float = Field(ge=0)
        min_points: int = Field(ge=3)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        if ctx.warmup_end is not None:
            return
        for curve in ctx.train_losses():
            s = ctx.series(curve)
            if s.n < params.min_points or s.y[0] <= 0:
                continue
            # Long (step-level) logs are judged on the smoothed curve, so one noisy mini-batch
            # is not a blow-up; short ones point by point. A blow-up of a few steps vanishes in
            # the smoothing, so in long logs a raw point far above the start (spike_ratio, beyond
            # what mini-batch noise reaches) counts too.
            m = max(2, math.ceil(params.early_fraction * s.n))
            smoothed = s.n >= 40
            y = s.smooth if smoothed else s.y
            if y[0] <= 0:
                continue
            early = y[: m + 1]
            peak_i = int(np.argmax(early))
            ratio = float(early[peak_i] / y[0])
            batches = ctx.epoch_mean(curve) is not None  # single batches: only the smoothed view
            if s.n >= 40 and not batches and (peak_i == 0 or ratio < params.min_ratio):
                raw = s.y[: m + 1]
                raw_peak = int(np.argmax(raw))
                raw_ratio = float(raw[raw_peak] / s.y[0])
                # ... far above the start *and* above the early stretch's typical level, so an
                # unluckily low first mini-batch does not make an ordinary one look like a jump.
                typical = float(signal.median(raw))
                if (
                    raw_peak > 0
                    and raw_ratio >= params.spike_ratio
                    and raw[raw_peak] >= params.spike_ratio * typical
                ):
                    y, early, peak_i, ratio = s.y, raw, raw_peak, raw_ratio
                    smoothed = False
            if peak_i == 0 or ratio < params.min_ratio:
                continue
            # The climb against what noise alone moves a point (the rise is the difference of
            # two points, hence sqrt 2); a median of w points has 1.25/sqrt(w) of the point noise.
            noise = signal.noise_level(s.y)
            if smoothed:
                noise *= 1.2533 / math.sqrt(s.window)
            if float(early[peak_i] - y[0]) < params.noise_z * math.sqrt(2.0) * noise:
                continue
            below = np.flatnonzero(y[peak_i:] < y[0])
            if below.size == 0:
                continue
            rec = peak_i + int(below[0])
            x0 = float(s.x[0])
            x_rec = float(s.x[rec])
            unit = curve.x_unit
            span = max(x_rec - x0, 1.0)
            warmup = float(math.ceil(span * 2)) if unit == "epoch" else float(f"{span * 2:.2g}")
            lr = ctx.lr_at(x0)
            evidence: dict[str, float | int | str | bool | None] = {
                "first_value": float(y[0]),
                "peak_value": float(early[peak_i]),
                "peak_x": float(s.x[peak_i]),
                "ratio": round(ratio, 3),
                "recovered_x": x_rec,
                "warmup": warmup,
            }
            if lr is not None:
                evidence["learning_rate"] = lr
            msg = (
                f"{curve.name} rose from {fmt_value(float(y[0]))} at {unit} {fmt_x(x0)} to "
                f"{fmt_value(float(early[peak_i]))} at {unit} {fmt_x(float(s.x[peak_i]))} "
                f"({ratio:.2g}× its start) and only fell back below its start at {unit} "
                f"{fmt_x(x_rec)}"
            )
            yield Observation(
                curves=(curve.name,),
                start=x0,
                end=x_rec,
                x_unit=unit,
                message=msg,
                confidence="high" if ratio >= 2 * params.min_ratio else "medium",
                evidence=evidence,
            )
