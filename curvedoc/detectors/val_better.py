"""CD204 val-better-than-train."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.record import Field


class ValBetterThanTrain(Detector):
    """Validation loss stays clearly below training loss.

    What it detects:
        Over the second half of the run, the validation loss is below the training loss (read
        at the same x) at nearly every evaluation, by more than ``min_margin``. A ratio far
        below 1 (under ``mismatch_ratio``) is called out as a likely unit mismatch — one curve
        summed over batches, the other averaged.

    Why it matters:
        Usually benign and worth knowing: dropout, data augmentation or other train-time
        regularisation make the training loss pessimistic, and Keras/Lightning average the
        training loss over an epoch during which the model improved. But it is also the
        signature of a leak (validation examples also in the training set, an easier
        validation split) and of losses computed differently (sum vs mean, different
        weighting): then every comparison between the two is meaningless.

    Example:
        ``reg_val_loss`` ≈ 0.345 for 30 epochs while ``reg_loss`` falls 1.17 → 1.01: validation
        at 34% of training.

    What to try:
        If you use neither dropout nor augmentation, check the splits for duplicates or
        leakage and check that both losses use the same reduction and weighting; otherwise
        compare train and validation loss in eval mode for an apples-to-apples gap.

    Parameters:
        min_margin: validation must be below training by more than this fraction.
        min_share: the share of second-half evaluations where that holds.
        mismatch_ratio: below this validation/training ratio, suspect a unit mismatch.
        min_points: fewest validation points in the second half.
    """

    code = "CD204"
    name = "val-better-than-train"
    summary = "validation loss consistently below training loss (regularisation, leak, units)"
    needs = (("train_loss",), ("val_loss",))
    evidence_keys = ("ratio", "share", "points", "start_x", "end_x", "train_value", "val_value")
    optional_evidence_keys = ()

    class Params(DetectorParams):
        min_margin: float = Field(ge=0, lt=1)
        min_share: float = Field(gt=0, le=1)
        mismatch_ratio: float = Field(gt=0, lt=1)
        min_points: int = Field(ge=1)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        for train_curve, val in ctx.pairs():
            train = ctx.epoch_mean(train_curve) or train_curve  # compare means with means
            ts, vs = ctx.series(train), ctx.series(val)
            if ts.n < 2 or vs.n < 2:
                continue
            mid = 0.5 * (ctx.x_span[0] + ctx.x_span[1])
            m = (vs.x >= max(mid, float(ts.x[0]))) & (vs.x <= float(ts.x[-1]))
            if int(m.sum()) < params.min_points:
                continue
            vx, vy = vs.x[m], vs.y[m]
            ty = np.interp(vx, ts.x, ts.smooth)
            if np.any(ty <= 0) or np.any(vy <= 0):
                continue  # ratios of losses that cross zero mean nothing
            ratio = vy / ty
            share = float(np.mean(ratio < 1 - params.min_margin))
            if share < params.min_share:
                continue
            med = float(signal.median(ratio))
            unit = val.x_unit
            msg = (
                f"{val.name} is below {train.name} at {fmt_pct(share)} of the evaluations from "
                f"{unit} {fmt_x(float(vx[0]))} to {fmt_x(float(vx[-1]))}, at a median "
                f"{fmt_value(med)}× of it ({fmt_value(float(signal.median(vy)))} vs "
                f"{fmt_value(float(signal.median(ty)))})"
            )
            if med < params.mismatch_ratio:
                msg += "; a gap this large suggests the two are computed differently (sum vs mean?)"
            yield Observation(
                curves=(val.name, train.name),
                start=float(vx[0]),
                end=float(vx[-1]),
                x_unit=unit,
                message=msg,
                confidence="high" if share >= 0.95 and vx.size >= 5 else "medium",
                evidence={
                    "ratio": round(med, 4),
                    "share": round(share, 3),
                    "points": int(vx.size),
                    "start_x": float(vx[0]),
                    "end_x": float(vx[-1]),
                    "train_value": float(signal.median(ty)),
                    "val_value": float(signal.median(vy)),
                },
            )
