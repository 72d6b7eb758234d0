"""CD202 underfitting."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context, stem
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.model import Curve
from curvedoc.record import Field


def chance_level(value: float, tol: float) -> tuple[str, int | None] | None:
    """Name the "predict the prior" loss ``value`` matches, if any.

    Cross-entropy of a uniform guess over C classes is ln C (C = 2 → 0.693); the mean squared
    error of predicting 0.5 for balanced 0/1 targets is 0.25. These are absolute facts about the
    loss, so they are the one place a detector compares a loss with a fixed number.
    """
    if not math.isfinite(value) or value <= 0 or value > 12:
        return None
    # Only class counts whose ln C stands clear of its neighbours (up to 10 classes, where ln C
    # and ln(C+1) differ by 4% or more), and the famous 100 and 1000 matched tightly: for C in
    # the dozens a loss lands within 1% of *some* ln C by chance.
    for c, t in ((round(math.exp(value)), tol), (100, tol / 5), (1000, tol / 5)):
        if (2 <= c <= 10 or c in (100, 1000)) and abs(value - math.log(c)) <= t * math.log(c):
            return (
                f"ln {c} = {math.log(c):.4g}, the cross-entropy of a uniform guess over "
                f"{c} classes",
                c,
            )
    if abs(value - 0.25) <= tol * 0.25:
        return "0.25, the squared error of always predicting 0.5 for balanced 0/1 targets", None
    return None


_ACCURACY = re.compile(r"acc", re.IGNORECASE)
_HEAD_WORDS = re.compile(r"(^|_)(loss|accuracy|acc)(?=$|_)")


def _head(name: str) -> str:
    """The part of a curve name that says which output it belongs to (``cls_loss`` and
    ``cls_accuracy`` → ``cls``; ``loss`` and ``accuracy`` → empty)."""
    return _HEAD_WORDS.sub("", stem(name)).strip("_")


def _change(improvement: float) -> str:
    """``7.2% better``, ``15% worse``, or ``no better`` when the change rounds to nothing."""
    if abs(improvement) < 0.0005:
        return "no better"
    return f"{fmt_pct(abs(improvement))} {'better' if improvement > 0 else 'worse'}"


def training_accuracy(ctx: Context, loss: Curve) -> Curve | None:
    """The accuracy-like training metric logged beside ``loss`` (Keras ``accuracy``,
    ``cls_accuracy`` for a ``cls_loss``), when its values are fractions in [0, 1]."""
    found = [
        c
        for c in ctx.curves("train_metric")
        if c.direction == "max" and _ACCURACY.search(c.name) and _head(c.name) == _head(loss.name)
    ]
    if len(found) != 1:
        return None
    y = ctx.series(found[0]).y
    if y.size < 4 or float(np.min(y)) < 0 or float(np.max(y)) > 1:
        return None  # percentages, or something else that is not a share of examples
    return found[0]


class Underfitting(Detector):
    """The model cannot fit even the training data.

    What it detects:
        A training loss that has stopped improving (no clear downward trend over the last part
        of the run) while it is still high: either it improved by less than ``max_improvement``
        of where it started, or it settled on a chance level — ln C for a classifier guessing
        uniformly among C classes (the number of classes is inferred from the loss itself), 0.25
        for squared error on balanced 0/1 targets, or a training accuracy logged beside it has
        stopped rising while it still gets more than ``1 - max_accuracy`` of the training
        examples wrong (the loss's own start says nothing when something else inflates it at
        first, e.g. the L2 penalty of a freshly initialised network). Training and validation
        losses must stay together (no generalisation gap either way).

    Why it matters:
        More epochs will not help a model that has stopped learning at this level: it lacks
        capacity, is over-regularised, has a learning rate too low to move or so high it cannot
        settle, or cannot see the signal (labels shuffled, inputs not normalised, a bug).

    Example:
        ``cls_loss`` 0.726 → 0.702 over 19 epochs, flat for the last 8; ``cls_val_loss`` stays
        at 0.693 (ln 2) and ``cls_val_accuracy`` at 0.527 → the classifier predicts the prior.
        ``loss`` 8.2 → 1.1 on digits with an L2 penalty of 0.5, flat for 20 epochs while
        ``accuracy`` stays at 0.80 and ``val_loss`` with the loss → it cannot fit its training
        set.

    What to try:
        Check the data pipeline first (labels aligned with inputs, inputs normalised, no
        constant features); then a larger model, less regularisation (weight decay, dropout), and
        a learning rate search.

    Parameters:
        max_improvement: the loss counts as high if it improved by less than this fraction of its
            starting value.
        chance_tol: relative tolerance for matching a chance level.
        tail_fraction: the share of the run whose trend must be flat.
        flat_z: the tail counts as flat when its Mann–Kendall z-score is above ``-flat_z``.
        max_gap: train and validation count as "together" when their final levels differ by
            less than this fraction.
        max_accuracy: a training accuracy (a fraction in [0, 1]) that stopped rising below this
            level counts as "cannot fit the training data". Labels that are noisier than
            ``1 - max_accuracy`` look the same: the finding then says the task's ceiling is low.
    """

    code = "CD202"
    name = "underfitting"
    summary = "training loss stays high (or at chance level) and stopped improving"
    needs = (("train_loss",),)
    evidence_keys = ("start_value", "final_value", "final_x", "improvement_pct")
    optional_evidence_keys = (
        "chance_level",
        "classes",
        "val_gap_pct",
        "val_curve",
        "accuracy_curve",
        "train_accuracy",
    )

    class Params(DetectorParams):
        max_improvement: float = Field(gt=0, lt=1)
        chance_tol: float = Field(ge=0, lt=0.5)
        tail_fraction: float = Field(gt=0, le=1)
        flat_z: float = Field(gt=0)
        max_gap: float = Field(gt=0)
        max_accuracy: float = Field(gt=0, lt=1)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        pairs = {t.name: v for t, v in ctx.pairs()}
        for curve in ctx.train_losses():
            obs = self._curve(ctx, curve, pairs.get(curve.name), params)
            if obs is not None:
                yield obs

    def _curve(
        self, ctx: Context, curve: Curve, val: Curve | None, p: Params
    ) -> Observation | None:
        s = ctx.series(curve)
        if s.n < 5 or float(np.min(s.y)) <= 0:
            return None  # "high relative to its start" needs a positive loss (not an RL surrogate)
        k = min(s.n, max(4, math.ceil(p.tail_fraction * s.n)))
        tail = s.y[-k:]
        third = max(1, tail.size // 3)
        tail_change = (
            float(signal.median(tail[:third])) - float(signal.median(tail[-third:]))
        ) / max(abs(float(signal.median(tail))), signal.tiny(s.y))
        if signal.mann_kendall_z(tail) < -p.flat_z and tail_change > 0.01:
            return None  # still learning: not-converged or slow-convergence territory
        start = float(s.smooth[0])
        final = float(signal.median(tail))
        if start == 0:
            return None
        improvement = (start - final) / abs(start)
        chance = chance_level(final, p.chance_tol)
        stuck = None
        if improvement >= p.max_improvement and chance is None:
            stuck = self._stuck_accuracy(ctx, curve, p)
            if stuck is None:
                return None
        evidence: dict[str, float | int | str | bool | None] = {
            "start_value": start,
            "final_value": final,
            "final_x": float(s.x[-1]),
            "improvement_pct": round(improvement * 100, 2),
        }
        unit = curve.x_unit
        msg = (
            f"{curve.name} went from {fmt_value(start)} to {fmt_value(final)} "
            f"({_change(improvement)}) and has stopped improving by {unit} "
            f"{fmt_x(float(s.x[-1]))}"
        )
        confidence = "medium"
        if chance is not None:
            evidence["chance_level"] = chance[0]
            if chance[1] is not None:
                evidence["classes"] = chance[1]
            msg += f"; it sits at {chance[0]}"
            confidence = "high"
        if stuck is not None:
            evidence["accuracy_curve"] = stuck[0]
            evidence["train_accuracy"] = round(stuck[1], 4)
            msg += (
                f"; {stuck[0]} stopped rising at {fmt_value(stuck[1])}: the model does not fit "
                f"{fmt_pct(1 - stuck[1])} of its own training examples"
            )
        if val is not None:
            vs = ctx.series(val)
            if vs.n >= 2:
                v_final = float(signal.median(vs.y[-max(1, min(vs.n, k)) :]))
                gap = (v_final - final) / max(abs(final), signal.tiny(s.y))
                evidence["val_gap_pct"] = round(gap * 100, 2)
                evidence["val_curve"] = val.name
                if abs(gap) > p.max_gap:
                    return None  # a real gap either way: not (only) a capacity problem
                msg += f"; {val.name} stays with it ({fmt_value(v_final)})"
        return Observation(
            curves=(curve.name,)
            + ((val.name,) if val is not None else ())
            + ((stuck[0],) if stuck is not None else ()),
            start=float(s.x[0]),
            end=float(s.x[-1]),
            x_unit=unit,
            message=msg,
            confidence=confidence,
            evidence=evidence,
        )

    def _stuck_accuracy(self, ctx: Context, curve: Curve, p: Params) -> tuple[str, float] | None:
        """(name, level) of a training accuracy that stopped rising below ``max_accuracy``."""
        acc = training_accuracy(ctx, curve)
        if acc is None:
            return None
        s = ctx.series(acc)
        tail = s.y[-min(s.n, max(4, math.ceil(p.tail_fraction * s.n))) :]
        level = float(signal.median(tail))
        if level >= p.max_accuracy or signal.mann_kendall_z(tail) > p.flat_z:
            return None
        return acc.name, level
