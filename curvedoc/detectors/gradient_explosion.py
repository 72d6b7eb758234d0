"""CD302 gradient-explosion."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_value, fmt_x
from curvedoc.model import Curve, FloatArray
from curvedoc.record import Field


class _LossReaction:
    """Whether the training loss jumped right after a step: z_threshold robust standard
    deviations above its running level (the context's smoothing) at one of the first points
    logged from that step on, within three of its logging intervals."""

    def __init__(self, ctx: Context, z_threshold: float) -> None:
        losses = ctx.train_losses()
        self.series = ctx.series(losses[0]) if losses else None
        self.z = z_threshold
        self.scale = 0.0
        self.spacing = 0.0
        s = self.series
        if s is not None and s.n >= 20:
            resid = s.y - s.smooth
            self.scale = signal.mad(resid)
            self.spacing = float(np.median(np.diff(s.x)))

    def at(self, x0: float) -> bool | None:
        """True or False, or None when no loss is logged near ``x0`` to tell."""
        s = self.series
        if s is None or self.scale <= 0 or self.spacing <= 0:
            return None
        i0 = int(np.searchsorted(s.x, x0 - 0.5 * self.spacing, side="left"))
        i1 = int(np.searchsorted(s.x, x0 + 3 * self.spacing, side="right"))
        if i1 <= i0:
            return None
        jump = float(np.max(s.y[i0:i1] - s.smooth[i0:i1]))
        return jump >= self.z * self.scale


class GradientExplosion(Detector):
    """Sharp, transient spikes in the gradient norm or the training loss.

    What it detects:
        Points that jump far above the curve's own running level and come back down: at least
        ``min_ratio`` times the rolling median *and* ``z_threshold`` robust standard deviations
        above it (median/MAD of the residuals, so ordinary mini-batch noise does not count). It
        uses ``grad_norm`` when the log has it and the training loss otherwise. A spike must
        also stand out from the curve's usual range:

        * a gradient-norm spike reaches twice the norm's 90th percentile (``min_vs_p90``), and
          shows in the training loss where the loss is logged around it (``z_threshold``
          robust standard deviations above its level within three logging intervals): a norm
          spike the loss did not feel was absorbed, by clipping or by Adam;
        * a loss spike reaches ``min_ratio`` times the 90th percentile of the points around
          it: a loss whose batches often reach that high has no spike there.

        Spikes during the learning-rate warmup and right after a warm restart are expected and
        ignored; a spike that never comes back down is a divergence, not a spike.

    Why it matters:
        Each spike is an update that threw the weights far from where they were: at best it
        wastes the steps spent recovering, at worst the run never recovers. Spikes are the
        early warning of a learning rate at the edge of stability or of bad batches.

    Example:
        ``grad_norm`` runs around 1.2 and jumps to 48 at step 3150 and 96 at step 5210 → 2
        spikes, up to 80× the running level; the 90th percentile of the norm is 2.1.

    What to try:
        Clip gradients near the 90th percentile of the logged gradient norm (the Deep Learning
        Tuning Playbook's rule of thumb); if more than about half the steps would be clipped,
        lower the learning rate instead. Check the batches at the spike steps for bad data.

    Parameters:
        z_threshold: robust z-score a point must exceed to be a spike.
        min_ratio: how many times the running median a point must reach (2× for the loss, as
            LLM-scale spike detectors use).
        min_ratio_grad_norm: the same for the gradient norm, which is naturally heavier-tailed.
        window_fraction: the rolling window as a fraction of the run (at least 5 points).
        min_points: fewest points needed before looking for spikes at all.
        recovery_points: a spike must come back under the threshold within this many points.
        min_height: for a loss, a spike must also rise by this fraction of the loss's whole range
            (its start minus its best): a loss near zero, logged with 4 decimals, jumping from
            0.0003 to 0.0008 is a ratio of 2.7 but not an event.
        min_vs_p90: for a gradient norm, a spike must also reach this many times the 90th
            percentile of the norm's other points (the clip value the advice proposes): a
            heavy-tailed norm (a DPO or LoRA run) reaches 30 one step in ten, and a 34 among
            them is not an event.
    """

    code = "CD302"
    name = "gradient-explosion"
    summary = "transient spikes in the gradient norm or training loss"
    needs = (("train_loss", "grad_norm"),)
    evidence_keys = (
        "spikes",
        "first_spike_x",
        "max_spike_x",
        "max_spike_value",
        "max_ratio",
        "baseline",
        "source",
    )
    optional_evidence_keys = ("clip_value", "clip_fraction", "learning_rate", "suggested_lr")

    class Params(DetectorParams):
        z_threshold: float = Field(gt=0)
        min_ratio: float = Field(gt=1)
        min_ratio_grad_norm: float = Field(gt=1)
        window_fraction: float = Field(gt=0, le=1)
        min_points: int = Field(ge=5)
        recovery_points: int = Field(ge=1)
        min_height: float = Field(ge=0)
        min_vs_p90: float = Field(ge=0)

    @staticmethod
    def _usual_top(y: FloatArray, events: list[tuple[int, int]]) -> float:
        """The 90th percentile of ``y`` without the spikes' points: where the usual range ends."""
        spike_mask = np.zeros(y.size, dtype=bool)
        for i, j in events:
            spike_mask[i : j + 1] = True
        return signal.percentile(y[~spike_mask], 90, overwrite=True)  # our own copy

    @staticmethod
    def _stands_out(y: FloatArray, k: int, ratio: float) -> bool:
        """Point ``k`` of a loss reaches ``ratio`` times the 90th percentile of the points
        around it (a tenth of the run, 20 to 2,000 points). Spikes are left in: when they are
        more than one point in ten, they are the loss's usual range. A loss that is not
        positive everywhere has no such ratio, and its spikes stand."""
        half = min(max(10, y.size // 20), 1000)
        near = y[max(0, k - half) : k + half + 1]
        if near.size < 5 or not bool(np.all(near > 0)):
            return True
        return float(y[k]) >= ratio * signal.percentile(near, 90)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        grads = ctx.curves("grad_norm")
        # Without a gradient norm, the loss: but not single mini-batches that the log also
        # averages per epoch (one hard batch is not an explosion, and nothing else tells).
        # Nor the terms of a logged sum: a spike in one term is a spike in the sum.
        curves = grads or tuple(c for c in ctx.train_losses() if ctx.epoch_mean(c) is None)
        for curve in curves:
            obs = self._curve(ctx, curve, params)
            if obs is not None:
                yield obs

    def _curve(self, ctx: Context, curve: Curve, p: Params) -> Observation | None:
        series = ctx.series(curve)
        n = series.n
        if n < p.min_points:
            return None
        # The schedule's step changes, asked for below, are found now: their temporaries do
        # not then add to this curve's (a long log's peak memory is the sum of both).
        ctx.lr_rises  # noqa: B018 (a cached property, filled here on purpose)
        x, y = series.x, signal.oriented(series.y, curve.direction)
        if curve.role == "grad_norm":
            # Some trainers (DeepSpeed, LLaMA-Factory) log a norm of exactly 0 at the steps where
            # they measured none (an overflow skipped, an accumulation step). A real gradient is
            # never exactly zero beside non-zero ones: those points are not the norm's level.
            measured = int(np.count_nonzero(y))  # (no full-length temporary on a long log)
            if 0 < measured < n:
                keep = y != 0
                x, y = x[keep], y[keep]
                del keep
                n = measured
                if n < p.min_points:
                    return None
        positive = bool(np.all(y > 0))
        # Ratios only mean something for a positive quantity; work in logs then, so the test
        # is the same whatever the loss's units.
        z_in = np.log(y) if positive else y
        w = signal.odd(max(5, int(p.window_fraction * n)))
        base = signal.rolling_median(z_in, w)
        # in place when z_in is our own array (a 10^7-step log keeps few full-length temporaries)
        resid = np.subtract(z_in, base, out=z_in) if positive else z_in - base
        del z_in
        scale = signal.mad(resid)
        if scale <= 0:
            scale = float(np.mean(np.abs(resid - signal.median(resid)))) * 1.2533
        if scale <= 0:
            return None
        is_grad = curve.role == "grad_norm"
        min_ratio = p.min_ratio_grad_norm if is_grad else p.min_ratio
        if positive:
            big = resid >= math.log(min_ratio)
        else:  # here base is the rolling median of y itself
            level = np.abs(base)
            big = (y - base) >= (min_ratio - 1) * np.maximum(level, 1e-300)
        # z in place of resid (resid = z * scale below): one full-length temporary fewer
        z = np.divide(resid, scale, out=resid)
        del resid
        hot = (z >= p.z_threshold) & big
        # base holds the running level in log units (positive) or in y's units; for the height
        # test it is turned into y's units in place (a 10^7-point curve keeps one array fewer)
        in_y_units = not positive
        if not is_grad:
            level_now = np.exp(base, out=base) if positive else base
            in_y_units = True
            whole = float(np.max(y[: max(3, n // 20)]) - np.min(y))
            hot &= (y - level_now) >= p.min_height * max(whole, signal.tiny(y))
        if not np.any(hot):
            return None
        warm = ctx.warmup_end
        events: list[tuple[int, int]] = []
        for i, j in signal.runs_of_true(hot):
            if warm is not None and x[i] <= warm:
                continue
            # A spike comes *up* from the running level: the first point of a run (usually its
            # highest loss) and a point that follows another high one are not spikes.
            if i == 0 or z[i - 1] >= p.z_threshold / 2:
                continue
            lo = float(x[max(i - 2, 0)])
            if ctx.lr_rises.size and bool(np.any((ctx.lr_rises >= lo) & (ctx.lr_rises <= x[j]))):
                continue
            # Transient: the curve must come back near its running level soon after.
            after = z[j + 1 : j + 1 + p.recovery_points]
            if after.size == 0 or not bool(np.any(after < p.z_threshold / 2)):
                continue
            if j - i + 1 > max(3, p.recovery_points):
                continue
            events.append((i, j))
        if not events:
            return None
        peaks = [i + int(np.argmax(z[i : j + 1])) for i, j in events]
        # (for a curve that is not all positive, such as a negative SI-SDR loss, the same
        # measure as the test above: 1 + the rise over the level's size)
        ratios = (
            np.exp(z[peaks] * scale)
            if positive
            else 1 + (y[peaks] - base[peaks]) / np.maximum(np.abs(base[peaks]), 1e-300)
        )
        baselines = base[peaks] if in_y_units else np.exp(base[peaks])
        del z, base, hot  # full-length, and no longer needed: the percentile needs room
        clip = None
        if is_grad:
            # A norm's spike must also stand out from the range the norm usually reaches: one
            # step in ten reaches its 90th percentile (without the spikes), so a point near it
            # is ordinary (and clipping there, the advice, would not even touch it).
            clip = self._usual_top(y, events)
            kept = [n for n, k in enumerate(peaks) if float(y[k]) >= p.min_vs_p90 * clip]
            # ... and the training loss must have felt it, where it is logged around it: a
            # norm spike the loss does not notice was absorbed (by clipping, or by Adam's
            # normalisation), not an update that threw the weights off. (GPT-2 pre-training
            # logs: norm spikes 4-15x, the loss within 3.4 robust sd of its level; the corrupted
            # batches of the spike fixtures: 8-160 sd.)
            felt = _LossReaction(ctx, p.z_threshold) if kept else None
            kept = [n for n in kept if felt is None or felt.at(float(x[peaks[n]])) is not False]
        else:
            # A loss falls over the run, so its usual range is a local one: the top decile of
            # the points around the spike. A classifier near zero loss whose batches sit at
            # 0.0005 or, one in five, at 0.03-0.06 has no spike at 0.04, however far above its
            # running median.
            kept = [n for n, k in enumerate(peaks) if self._stands_out(y, k, min_ratio)]
        if not kept:
            return None
        if len(kept) < len(events):
            events = [events[n] for n in kept]
            peaks = [peaks[n] for n in kept]
            ratios, baselines = ratios[kept], baselines[kept]
        top = int(np.argmax(ratios))
        k = peaks[top]
        sign = -1.0 if curve.direction == "max" else 1.0
        baseline = float(baselines[top])
        evidence: dict[str, float | int | str | bool | None] = {
            "spikes": len(events),
            "first_spike_x": float(x[peaks[0]]),
            "max_spike_x": float(x[k]),
            "max_spike_value": sign * float(y[k]),
            "max_ratio": round(float(ratios[top]), 3),
            "baseline": sign * baseline,
            "source": curve.name,
        }
        if clip is not None:
            evidence["clip_value"] = float(f"{clip:.2g}")
            evidence["clip_fraction"] = round(float(np.mean(y > clip)), 3)
        lr = ctx.lr_at(float(x[peaks[0]]))
        if lr is not None:
            evidence["learning_rate"] = lr
            evidence["suggested_lr"] = float(f"{lr * 0.5:.2g}")
        unit = curve.x_unit
        where = ", ".join(f"{fmt_x(x[i])}" for i in peaks[:5])
        more = f" and {len(peaks) - 5} more" if len(peaks) > 5 else ""
        noun = "spike" if len(events) == 1 else "spikes"
        msg = (
            f"{curve.name} has {len(events)} {noun} at {unit} {where}{more}; the largest reaches "
            f"{fmt_value(sign * float(y[k]))} at {unit} {fmt_x(x[k])}, "
            + (
                f"{float(ratios[top]):.1f}× its running level of {fmt_value(sign * baseline)}"
                if positive
                else f"{fmt_value(float(y[k]) - baseline)} {'above' if sign > 0 else 'below'} "
                "its running level of "
                f"{fmt_value(sign * baseline)}"
            )
        )
        if is_grad and "clip_value" in evidence:
            msg += f"; 90% of steps stay below {fmt_value(float(evidence['clip_value'] or 0))}"
        confidence = "high" if len(events) >= 3 or float(ratios[top]) >= 2 * min_ratio else "medium"
        return Observation(
            curves=(curve.name,),
            start=float(x[events[0][0]]),
            end=float(x[events[-1][1]]),
            x_unit=unit,
            message=msg,
            confidence=confidence,
            evidence=evidence,
        )
