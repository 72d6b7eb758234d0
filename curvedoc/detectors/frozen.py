"""CD404 frozen."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_value, fmt_x
from curvedoc.model import Curve
from curvedoc.record import Field


class Frozen(Detector):
    """A loss, gradient norm or validation metric that stops changing at all.

    What it detects:
        A stretch at the end of the run, at least ``min_fraction`` of it and ``min_points``
        points long, where the curve does not change beyond floating-point noise (``rtol``, as
        SageMaker Debugger's UnchangedTensor uses ``allclose``) — a gradient norm of exactly
        zero, a training loss stuck to the last digit, a validation accuracy that is the same
        number at every evaluation.

        Not frozen: a curve that got there after a large improvement (a loss converged to ~0
        and printed with four decimals is finished); a validation metric pinned at its best
        possible value (an accuracy or recall of 1.0, or 100%, a WER of 0 at every evaluation:
        the validation set is solved, or too easy to tell anything); a loss that is zero
        throughout while the run's other losses move (a term the model does not use, such as a
        one-class detector's class loss).

    Why it matters:
        Nothing is being learned: the optimiser is not updating the weights (a frozen or
        detached model, a zero learning rate, dead ReLUs, an all-constant batch) or the model
        predicts the same thing for every input (a validation accuracy equal to the majority
        class share at every evaluation).

    Example:
        ``cls_val_accuracy`` = 0.5268 at 18 of 19 evaluations → the classifier predicts the
        majority class.

    What to try:
        Check that the parameters require gradients and are in the optimiser, that the learning
        rate is not zero, that inputs vary across the batch; for a constant accuracy, look at the
        prediction distribution and the class balance.

    Parameters:
        min_fraction: the frozen stretch must be at least this share of the run.
        min_points: and at least this many points.
        rtol: relative change below which two values are "the same".
        max_prior_improvement: a curve that improved by more than this fraction before it froze
            is converged, not frozen.
    """

    code = "CD404"
    name = "frozen"
    summary = "a loss, gradient norm or validation metric that stopped changing entirely"
    needs = (("train_loss", "grad_norm", "val_metric", "val_loss"),)
    evidence_keys = ("value", "start_x", "end_x", "points", "share")
    optional_evidence_keys = ()

    class Params(DetectorParams):
        min_fraction: float = Field(gt=0, le=1)
        min_points: int = Field(ge=2)
        rtol: float = Field(ge=0)
        max_prior_improvement: float = Field(gt=0)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        for curve in ctx.curves("train_loss", "grad_norm", "val_metric", "val_loss"):
            s = ctx.series(curve)
            if s.n < params.min_points + 1:
                continue
            y = s.y
            # "Same as the last value" within a relative tolerance (numpy's allclose with no
            # absolute part: a last value of exactly 0 matches only exact zeros), walking back
            # from the end; a rare one-off blip (one evaluation of 19) does not unfreeze a curve.
            last = float(y[-1])
            # (in place: two full-length temporaries instead of five on a long log)
            dev = np.subtract(y, last)
            np.abs(dev, out=dev)
            tol = np.abs(y)
            np.maximum(tol, abs(last), out=tol)
            tol *= params.rtol
            same = dev <= tol
            del dev, tol
            if not same[-1]:
                continue
            run_start = s.n - 1
            misses = 0
            for i in range(s.n - 2, -1, -1):
                if same[i]:
                    run_start = i
                elif misses == 0 and i > 0 and same[i - 1]:
                    misses += 1
                else:
                    break
            count = int(same[run_start:].sum())
            share = count / s.n
            if count < params.min_points or share < params.min_fraction:
                continue
            value = float(y[-1])
            if curve.role == "val_metric" and run_start > 1:
                continue  # a validation metric that moved, then settled, converged (quantised)
            if (
                curve.role == "val_metric"
                and curve.direction_known
                and _at_its_best_possible(value, curve.direction, y)
            ):
                continue  # recall 1.0 at every evaluation: solved (or too easy), not stuck
            if curve.role == "grad_norm" and value != 0:
                continue  # a constant non-zero norm is a clipped, logged-after-clipping norm
            if value == 0 and count == s.n and _a_switched_off_term(ctx, curve):
                continue  # YOLOv5's class loss with one class: zero by construction
            if run_start > 0 and curve.role != "grad_norm":  # a norm does not "improve" to 0
                first = signal.oriented(y[:1], curve.direction)[0]
                now = signal.oriented(np.array([value]), curve.direction)[0]
                prior = (first - now) / max(abs(first), signal.tiny(y))
                if prior > params.max_prior_improvement:
                    continue
            x0, x1 = float(s.x[run_start]), float(s.x[-1])
            unit = curve.x_unit
            what = "exactly zero" if value == 0 else f"stuck at {fmt_value(value)}"
            msg = (
                f"{curve.name} is {what} at {count} of {s.n} points from {unit} {fmt_x(x0)} to "
                f"{fmt_x(x1)}"
            )
            yield Observation(
                curves=(curve.name,),
                start=x0,
                end=x1,
                x_unit=unit,
                message=msg,
                confidence="high" if share >= 0.5 else "medium",
                evidence={
                    "value": value,
                    "start_x": x0,
                    "end_x": x1,
                    "points": count,
                    "share": round(share, 3),
                },
            )


def _a_switched_off_term(ctx: Context, curve: Curve) -> bool:
    """``curve`` is a loss that is exactly zero at every point while another loss of the run
    moves: a term its model does not use (the class loss of a one-class detector), not a
    run that stopped learning, which would leave every loss still."""
    if curve.role not in ("train_loss", "val_loss"):
        return False
    for other in ctx.curves("train_loss", "val_loss"):
        if other is curve:
            continue
        y = ctx.series(other).y
        if y.size >= 2 and float(np.max(y)) > float(np.min(y)):
            return True
    return False


def _at_its_best_possible(value: float, direction: str, y: np.ndarray) -> bool:
    """``value`` is the metric's ceiling (1 or 100 for a score, never exceeded) or its floor (0
    for an error rate, never undercut)."""
    if direction == "max":
        return value in (1.0, 100.0) and value >= float(np.max(y))
    return value == 0.0 and float(np.min(y)) >= 0.0
