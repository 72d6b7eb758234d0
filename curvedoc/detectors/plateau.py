"""CD401 plateau."""

from __future__ import annotations

import math

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import DetectorParams, Observation, PerLossDetector
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.model import Curve, FloatArray
from curvedoc.record import Field

#: The most logged points the stall's slope test reads from one stretch (see ``_raw_pace``).
_PACE_POINTS = 50_000


class Plateau(PerLossDetector):
    """Learning stalled for a long stretch at a level that was not the end of the road.

    What it detects:
        A stretch of at least ``min_fraction`` of the run where the (smoothed) loss stays inside
        a narrow band — ``flat_tol`` of everything the run learned — and after which it improves
        again by a meaningful amount. A flat stretch that *ends* the run is convergence (or
        underfitting), not a plateau; a flat stretch that ends at a learning-rate drop, or
        with a single step-like drop where no learning rate is logged, is a step-decay schedule
        doing its job; a flat start during the LR warmup is expected; a multi-epoch fine-tune's
        loss, flat within each epoch and dropping where the next begins (the model sees its
        examples again), is a staircase of epochs; and a steady, noisy decline is flat for a
        while somewhere by chance, which the logged points' slopes tell apart (``stall_z``).
        None of those are reported.

    Why it matters:
        The steps spent on the plateau bought nothing: on a long run that is a large share of
        the compute. A stall that the run escaped on its own usually means the learning rate
        was too low for that phase, a poor initialisation, or a saddle that a different
        schedule would cross faster.

    Example:
        ``loss`` drops to 234 by epoch 1, stays within 233–235 until epoch 4, then falls to 171
        by epoch 24 → plateau over epochs 1–4 (20% of the run).

    What to try:
        Cut the stall short: a higher learning rate or a warmup-then-cosine schedule for that
        phase, ReduceLROnPlateau with a patience shorter than the stall, or a better
        initialisation / normalisation if the stall is at the start.

    Parameters:
        min_fraction: shortest stall worth reporting, as a fraction of the run's x range.
        min_points: fewest logged points in the stall.
        flat_tol: the band the stall stays within, as a fraction of the total improvement.
        min_escape: how much the curve must improve after the stall, as a fraction of the total
            improvement, for the stall not to be the end of the road.
        escape_vs_stall: the improvement after the stall must also be this many times the
            stall's own spread, so a noisy converged curve is not cut into stall-and-escape.
        max_stall_pace: the stall's rate of improvement may be at most this fraction of the rate
            after it.
        max_bins: long runs are reduced to this many bins before the search (keeps it O(n)).
        stall_z: the logged points of the stall must fall slower than those of as long a
            stretch after it by this many standard errors of the difference (least-squares
            slopes, with the noise of the whole curve's points): a steady, noisy decline is
            flat for a while somewhere by chance.
    """

    code = "CD401"
    name = "plateau"
    summary = "learning stalled for a long stretch, then improved again"
    needs = (("train_loss", "val_loss"),)
    evidence_keys = (
        "start_x",
        "end_x",
        "level",
        "length",
        "length_pct",
        "escape_pct",
        "patience",
    )
    optional_evidence_keys = ("learning_rate", "lr_raised_x")

    class Params(DetectorParams):
        min_fraction: float = Field(gt=0, le=1)
        min_points: int = Field(ge=2)
        flat_tol: float = Field(gt=0, le=1)
        min_escape: float = Field(gt=0, le=1)
        escape_vs_stall: float = Field(ge=0)
        max_stall_pace: float = Field(gt=0, le=1)
        max_bins: int = Field(ge=20)
        stall_z: float = Field(ge=0)

    @staticmethod
    def _raw_pace(x: FloatArray, y: FloatArray, x0: float, x1: float) -> tuple[float, float]:
        """How fast the logged points between ``x0`` and ``x1`` fall (least-squares slope), and
        the variance of that pace per unit of point noise (0 and inf for fewer than three).

        ``x`` is sorted, so the stretch is a slice (a view); a stretch of more than
        :data:`_PACE_POINTS` points is read every k-th point, which keeps the temporaries of a
        10^7-step log small and only widens the variance (the test stays conservative).
        """
        i0 = int(np.searchsorted(x, x0, side="left"))
        i1 = int(np.searchsorted(x, x1, side="right"))
        if i1 - i0 < 3:
            return 0.0, math.inf
        k = max(1, (i1 - i0) // _PACE_POINTS)
        xi, yi = x[i0:i1:k], y[i0:i1:k]
        dx = xi - np.mean(xi)
        sxx = float(np.dot(dx, dx))
        if sxx <= 0:
            return 0.0, math.inf
        return -float(np.dot(dx, yi - np.mean(yi))) / sxx, 1.0 / sxx

    def _curve(self, ctx: Context, curve: Curve, p: Params) -> Observation | None:
        series = ctx.series(curve)
        if series.n < max(6, p.min_points + 2):
            return None
        sign = -1.0 if curve.direction == "max" else 1.0
        x_raw = series.x
        xs, s = signal.bin_reduce(x_raw, sign * series.smooth, p.max_bins)
        m = int(s.size)
        start = float(s[0])
        best = float(np.min(s))
        learned = start - best
        if learned <= signal.tiny(s) * 1e3:
            return None
        # The band is a share of what the run learned, widened to the binned curve's own noise
        # so that mini-batch jitter cannot cut a stall into pieces.
        band = max(p.flat_tol * learned, 4.0 * signal.noise_level(s))
        raw_noise = signal.noise_level(series.y)
        span = float(xs[-1] - xs[0])
        if span <= 0:
            return None
        candidates: list[tuple[float, int, int]] = []
        for i in range(m - 2):
            tail = s[i:]
            rng = np.maximum.accumulate(tail) - np.minimum.accumulate(tail)
            over = np.flatnonzero(rng > band)
            j = i + (int(over[0]) - 1 if over.size else m - 1 - i)
            if j >= m - 2 or j <= i:
                continue  # reaches the end: convergence, not a plateau
            # The stall lasts until the next logged point shows the change.
            length = float(xs[j + 1] - xs[i])
            if length < p.min_fraction * span:
                continue
            candidates.append((length, i, j))
        candidates.sort(reverse=True)
        warm = ctx.warmup_end
        for length, i, j in candidates:
            x0, x1 = float(xs[i]), float(xs[j])
            npts = int(np.count_nonzero((x_raw >= x0) & (x_raw <= x1)))
            if npts < p.min_points:
                continue
            if warm is not None and x1 <= warm:
                continue
            level = float(signal.median(s[i : j + 1]))
            lo, hi = float(np.min(s[i : j + 1])), float(np.max(s[i : j + 1]))
            after = s[j + 1 :]
            k_best = int(np.argmin(after))
            escape = level - float(after[k_best])
            if escape < p.min_escape * learned or escape < p.escape_vs_stall * (hi - lo):
                continue
            if escape < p.escape_vs_stall * raw_noise:
                continue  # within the logged points' own noise: no real escape
            # A stall is slow *compared with what follows*: a curve that keeps its pace
            # (only its early drop was steep) has no plateau, however flat it looks overall.
            pace_stall = max(float(s[i] - s[j]), 0.0) / max(float(xs[j] - xs[i]), 1e-300)
            pace_after = escape / max(float(xs[j + 1 + k_best] - xs[j]), 1e-300)
            if pace_stall > p.max_stall_pace * pace_after:
                continue
            # And on the logged points themselves: a noisy curve falling at an even pace looks
            # flat for a while somewhere (the stretch is picked among many), so the stall must
            # be flatter than the pace after it by more than the points' noise allows.
            slow, var_slow = self._raw_pace(x_raw, series.y, x0, x1)
            # right after it, over as long a stretch (a window that ended at the best point
            # after it would lean towards a steep pace)
            x_after = min(x1 + (x1 - x0), float(xs[j + 1 + k_best]))
            fast, var_fast = self._raw_pace(x_raw, series.y, x1, x_after)
            slow, fast = sign * slow, sign * fast  # (paces of the curve read as a loss)
            # with the noise of the whole curve: the stall was picked for its narrow band, so
            # its own spread would understate it
            se = raw_noise * math.sqrt(var_slow + var_fast)
            if math.isfinite(se) and fast - slow < p.stall_z * se:
                continue
            # An escape climbs down from the stall; a curve that first jumps *above* the stall
            # (an augmentation switch, a restart) has changed regime, it did not escape.
            if float(np.max(after[: k_best + 1])) > hi + 0.5 * (hi - lo):
                continue
            x_next = float(xs[min(j + 2, m - 1)])
            # An escape at a learning-rate *drop* is a step decay working; one at a *raise* is
            # the opposite: the stall was a learning rate too low, which is this rule's point.
            drops = ctx.lr_drops
            if drops.size and bool(np.any((drops >= x0 + 0.8 * (x1 - x0)) & (drops <= x_next))):
                continue
            # An escape right where the learning rate was *raised* says the stall was a rate too
            # low: a plateau with its cause in the log. Otherwise a step-like drop (most of the
            # escape within two bins) is a regime change — a step decay we may not see in the
            # log, an augmentation switch such as Ultralytics' close_mosaic, an unfreeze — not the
            # optimiser escaping a plateau.
            rises = ctx.lr_rises
            raised = rises[(rises >= x0 + 0.8 * (x1 - x0)) & (rises <= x_next)]
            if raised.size == 0:
                seg = s[j:]
                falls = seg[:-2] - seg[2:] if seg.size > 2 else None
                steepest = float(np.max(falls)) if falls is not None else escape
                if steepest >= 0.6 * escape:
                    continue
                # A multi-epoch fine-tune's loss is flat within an epoch and drops where the
                # next begins (the model sees the same examples again): a staircase of
                # epochs, not a stall the optimiser escaped.
                if (
                    falls is not None
                    and curve.x_unit == "step"
                    and ctx.at_epoch_start(float(xs[j + 1 + int(np.argmax(falls))]), span / m)
                ):
                    continue
            unit = curve.x_unit
            frac = length / span
            evidence: dict[str, float | int | str | bool | None] = {
                "start_x": x0,
                "end_x": x1,
                "level": sign * level,
                "length": length,
                "length_pct": round(frac * 100, 1),
                "escape_pct": round(escape / learned * 100, 1),
                "patience": max(2, int(npts // 2)),
            }
            lr = ctx.lr_at(x0)
            if lr is not None:
                evidence["learning_rate"] = lr
            if raised.size:
                evidence["lr_raised_x"] = float(raised[0])
            lo_v, hi_v = (sign * lo, sign * hi) if sign > 0 else (sign * hi, sign * lo)
            msg = (
                f"{curve.name} stalled between {fmt_value(lo_v)} and {fmt_value(hi_v)} from {unit} "
                f"{fmt_x(x0)} to {fmt_x(x1)} ({fmt_pct(frac)} of the run), then improved again "
                f"by {fmt_pct(escape / learned)} of its total improvement"
            )
            if raised.size:
                msg += (
                    f"; it ended when the learning rate was raised at {unit} "
                    f"{fmt_x(float(raised[0]))}"
                )
            strong = frac >= 2 * p.min_fraction and escape >= 2 * p.min_escape * learned
            return Observation(
                curves=(curve.name,),
                start=x0,
                end=x1,
                x_unit=unit,
                message=msg,
                confidence="high" if strong else "medium",
                evidence=evidence,
            )
        return None
