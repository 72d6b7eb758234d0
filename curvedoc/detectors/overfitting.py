"""CD201 overfitting."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.model import Curve
from curvedoc.record import Field


class Overfitting(Detector):
    """Validation loss gets worse from its best while training loss keeps improving.

    What it detects:
        For each pair of training and validation loss curves: the validation loss reached its
        best at some point, has since risen by a meaningful fraction and stayed up, while the
        training loss kept falling over the same stretch, so the train/validation gap grew. It
        reports the best epoch/step of the validation curve and how far it has drifted.

    Why it matters:
        Past that point the model memorises the training set: every further epoch makes the
        model you would ship worse, and the last checkpoint is not the best one.

    Example:
        ``val_loss`` bottoms out at epoch 14 (0.412) and rises 38% by epoch 30 while ``loss``
        falls from 0.30 to 0.11 → overfitting from epoch 14.

    What to try:
        Keep the checkpoint of the best epoch (``restore_best_weights=True`` /
        ``load_best_model_at_end=True``) and stop there with early stopping; then regularise:
        more weight decay or dropout, data augmentation, more data, or a smaller model.

    Parameters:
        min_rise: how much the validation loss must have risen above its best, as a fraction of
            the best value (0.05 = 5%).
        min_points_after_best: validation points needed after the best before calling it a trend.
        noise_z: the rise must also exceed this many times the validation curve's own
            point-to-point noise, so a noisy but flat validation curve is not called overfitting.
        trend_z: the Mann–Kendall z-score the stretch from the best to the end must reach (a
            rising trend, not a wander).
        min_train_improvement: how much the training loss must have kept improving after the
            validation best, as a fraction of its value there.
        tail_fraction: the share of post-best validation points whose median is the "current"
            level.
    """

    code = "CD201"
    name = "overfitting"
    summary = "validation loss rises from its best while training loss keeps falling"
    needs = (("train_loss",), ("val_loss",))
    evidence_keys = (
        "best_x",
        "best_value",
        "final_x",
        "final_value",
        "rise",
        "rise_pct",
        "points_after_best",
        "train_change_pct",
        "gap_at_best",
        "gap_final",
        "patience",
    )
    optional_evidence_keys = ()

    class Params(DetectorParams):
        min_rise: float = Field(gt=0)
        min_points_after_best: int = Field(ge=1)
        noise_z: float = Field(ge=0)
        trend_z: float = Field(ge=0)
        min_train_improvement: float = Field(ge=0)
        tail_fraction: float = Field(gt=0, le=1)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        for train, val in ctx.pairs():
            obs = self.observe(ctx, train, val, params)
            if obs is not None:
                yield obs

    @classmethod
    def observe(cls, ctx: Context, train: Curve, val: Curve, p: Params) -> Observation | None:
        """The overfitting observation for one train/validation pair, or None (shared with
        ``overconfidence``, which reads the same rise differently)."""
        vs = ctx.series(val)
        ts = ctx.series(train)
        if vs.n < 3 or ts.n < 2:
            return None
        # Where the best is: the minimum of a rolling median (the raw minimum of a noisy curve
        # is a lucky point, not a level).
        v = signal.rolling_median(vs.y, max(3, vs.window)) if vs.n >= 5 else vs.y
        b_s = int(np.argmin(v))
        # The checkpoint to keep is a real logged point: the best logged value, as a
        # save-best-only checkpoint callback would have kept it.
        b = int(np.argmin(vs.y))
        start = min(b, b_s)
        after = vs.n - 1 - start
        if after < p.min_points_after_best:
            return None
        best = float(vs.y[b])
        post = vs.y[start + 1 :]
        # Compare like with like: the median of the last k points against the median of the k
        # points around the best, k being a share of the stretch since the best.
        k = max(1, math.ceil(p.tail_fraction * post.size))
        if b >= vs.n - k:
            return None  # the best logged point is among the latest: nothing to roll back to
        tail = float(signal.median(post[-k:]))
        around = vs.y[max(0, b_s - k // 2) : b_s + k // 2 + 1]
        best_level = float(signal.median(around))
        scale = max(abs(best_level), signal.tiny(vs.y))
        if (tail - best_level) / scale < p.min_rise:
            return None
        rise = (tail - best) / max(abs(best), signal.tiny(vs.y))
        # The difference of the two medians must stand out from the noise near and after the
        # best (the steep early descent would inflate a global estimate): noise_z standard
        # errors, a median of k points having about 1.25/sqrt(k) of one point's noise.
        noise = signal.noise_level(vs.y[max(0, b_s - 3) :])
        if tail - best_level < p.noise_z * noise * 1.25 * math.sqrt(2.0 / k):
            return None
        # ... and the stretch from the best on must trend upward (Mann–Kendall), so a noisy
        # curve that merely wanders above its luckiest stretch is not called overfitting.
        if signal.mann_kendall_z(vs.y[start:]) < p.trend_z:
            return None
        # The rise must persist: most post-best points sit above the best level.
        if float(np.mean(post > best_level)) < 0.6:
            return None
        # Training must still be improving after the validation best.
        xb = float(vs.x[b])
        xe = float(vs.x[-1])
        if ts.x[0] > xb or ts.x[-1] < xb:
            return None
        t_at_best = float(np.interp(xb, ts.x, ts.smooth))
        t_end = float(np.interp(min(xe, float(ts.x[-1])), ts.x, ts.smooth))
        t_scale = max(abs(t_at_best), signal.tiny(ts.y))
        train_change = (t_end - t_at_best) / t_scale
        if train_change > -p.min_train_improvement:
            return None
        gap_best = best - t_at_best
        gap_end = tail - t_end
        if gap_end <= gap_best:
            return None
        strong = rise >= 3 * p.min_rise and after >= 3
        few = vs.n < 5
        confidence = "low" if few else ("high" if strong else "medium")
        unit = val.x_unit
        patience = max(2, min(10, round(0.1 * vs.n)))
        last = "the last point" if k == 1 else f"the last {k} points"
        msg = (
            f"{val.name} bottomed out at {unit} {fmt_x(float(vs.x[b]))} ({fmt_value(best)}) and "
            f"has risen {fmt_pct(rise)} since (median of {last}: {fmt_value(tail)} by {unit} "
            f"{fmt_x(xe)}), while {train.name} kept falling ({fmt_pct(-train_change)} lower)"
        )
        return Observation(
            curves=(val.name, train.name),
            start=xb,
            end=xe,
            x_unit=unit,
            message=msg,
            confidence=confidence,
            evidence={
                "best_x": xb,
                "best_value": best,
                "final_x": xe,
                "final_value": tail,
                "rise": tail - best,
                "rise_pct": round(rise * 100, 2),
                "points_after_best": after,
                "train_change_pct": round(train_change * 100, 2),
                "gap_at_best": gap_best,
                "gap_final": gap_end,
                "patience": patience,
            },
        )
