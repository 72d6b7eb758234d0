"""CD101 non-finite."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_value, fmt_x
from curvedoc.record import Field


class NonFinite(Detector):
    """NaN or ±Inf in a loss, a metric or the gradient norm.

    What it detects:
        Any logged value of a loss, metric, learning rate or gradient norm that is NaN, +Inf or
        -Inf. It reports where the first one appeared, the last finite value before it, how many
        points are affected, and whether the curve ever came back.

    Why it matters:
        Once the loss is NaN the weights are almost always NaN too: every step after it is wasted
        compute, and a checkpoint saved after it is useless. Keras ``TerminateOnNaN`` and
        Lightning ``EarlyStopping(check_finite=True)`` stop at the first one.

    Example:
        ``loss`` 0.81, 0.64, 3.2e+05, NaN, NaN, ... → "train loss became NaN at epoch 4; last
        finite value 3.2e+05 at epoch 3".

    What to try:
        Restart from the last checkpoint before the first non-finite value with a lower learning
        rate and gradient clipping; check the data for NaN/Inf inputs and the loss for log(0) or
        division by zero; with fp16, use bf16 or a loss scaler.

    Parameters:
        amp_tolerance: a gradient norm that is non-finite at a few isolated points while the loss
            stays finite is normal with fp16 dynamic loss scaling (the scaler skips those steps);
            up to this fraction of grad-norm points is tolerated in that situation.
    """

    code = "CD101"
    name = "non-finite"
    summary = "NaN or ±Inf in a loss, metric or gradient norm"
    needs = ()
    evidence_keys = (
        "first_x",
        "kind",
        "count",
        "points",
        "fraction",
        "recovered",
    )
    optional_evidence_keys = ("last_finite_x", "last_finite_value", "checkpoint_x")

    class Params(DetectorParams):
        amp_tolerance: float = Field(ge=0, le=1)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        losses_finite = all(
            bool(np.all(np.isfinite(c.y))) for c in ctx.curves("train_loss", "val_loss")
        )
        for curve in ctx.history.curves:
            if curve.role == "other" or len(curve) == 0:
                continue
            bad = ~np.isfinite(curve.y)
            count = int(bad.sum())
            if count == 0:
                continue
            fraction = count / len(curve)
            isolated = count == 1 or not bool(np.any(bad[1:] & bad[:-1]))
            if (
                curve.role == "grad_norm"
                and losses_finite
                and isolated
                and fraction <= params.amp_tolerance
            ):
                continue
            idx = np.flatnonzero(bad)
            first = int(idx[0])
            y0 = curve.y[first]
            kind = "NaN" if np.isnan(y0) else ("+Inf" if y0 > 0 else "-Inf")
            recovered = bool(np.any(np.isfinite(curve.y[idx[-1] + 1 :])))
            evidence: dict[str, float | int | str | bool | None] = {
                "first_x": float(curve.x[first]),
                "kind": kind,
                "count": count,
                "points": len(curve),
                "fraction": round(fraction, 4),
                "recovered": recovered,
            }
            where = f"{curve.x_unit} {fmt_x(curve.x[first])}"
            msg = f"{curve.name} became {kind} at {where}"
            if first > 0:
                prev = curve.y[:first]
                ok = np.flatnonzero(np.isfinite(prev))
                if ok.size:
                    j = int(ok[-1])
                    evidence["last_finite_x"] = float(curve.x[j])
                    evidence["last_finite_value"] = float(curve.y[j])
                    evidence["checkpoint_x"] = float(curve.x[j])
                    msg += (
                        f"; last finite value {fmt_value(curve.y[j])} at {curve.x_unit} "
                        f"{fmt_x(curve.x[j])}"
                    )
            msg += f"; {count} of {len(curve)} points are non-finite"
            msg += " (it recovered later)" if recovered else ", and it never recovered"
            yield Observation(
                curves=(curve.name,),
                start=float(curve.x[first]),
                end=float(curve.x[idx[-1]]),
                x_unit=curve.x_unit,
                message=msg,
                confidence="high",
                evidence=evidence,
            )
