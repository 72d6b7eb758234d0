"""CD203 overconfidence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from curvedoc import signal
from curvedoc.context import Context, group_of
from curvedoc.detectors.base import Detector, Observation
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.detectors.overfitting import Overfitting
from curvedoc.model import Curve
from curvedoc.record import Field


class _MetricChange(NamedTuple):
    """A validation metric from the loss's best to the end, oriented so that lower is better
    (``sign`` turns its values back)."""

    metric: Curve
    sign: float
    at_best: float
    final: float
    gain: float  # relative improvement at the end over the loss's best (< 0: worse)
    best: float  # its best since the loss's best
    best_x: float


class Overconfidence(Detector):
    """Validation loss rises while a validation accuracy-like metric still improves.

    What it detects:
        The ``overfitting`` pattern on a validation loss (it rose from its best and stays up
        while training improves), but the validation metrics logged beside it — accuracy, F1,
        WER, mAP, … each in its own direction — are at least as good at the end as at the
        loss's best, and one of them is better. Beside it means of the same model or phase
        (``fine_tune_val_loss`` is read with ``fine_tune_val_accuracy``, not ``val_accuracy``);
        if any of them got worse (recall falling while precision rises), the model did too,
        and the rise stays ``overfitting``.
        This rule then replaces ``overfitting`` for that curve: it is the same rise, read
        correctly.

    Why it matters:
        The model's *decisions* are still getting better; what degrades is its *confidence*: it
        grows overconfident on the examples it gets wrong, so the loss (which punishes confident
        mistakes) rises. Picking the checkpoint by validation loss would throw away a better
        model; shipping the last one gives worse-calibrated probabilities.

    Example:
        ``eval_loss`` 0.307 at step 1000 → 0.468 at step 5000 while ``eval_wer`` improves from
        34.6 to 32.1 → choose checkpoints by WER; recalibrate if probabilities matter.

    What to try:
        Select checkpoints by the metric you care about (``metric_for_best_model``); if you need
        calibrated probabilities, add label smoothing or fit a temperature on held-out data;
        regularise (weight decay, dropout) if both should improve together.

    Parameters:
        min_metric_gain: a metric at the end must be at least this much better (relative) than
            at the loss's best to count as "still improving", and none may be this much worse.
        (and the ``overfitting`` parameters, which decide the loss side.)
    """

    code = "CD203"
    name = "overconfidence"
    summary = "validation loss rises while a validation metric still improves"
    needs = (("train_loss",), ("val_loss",), ("val_metric",))
    evidence_keys = (
        *Overfitting.evidence_keys,
        "metric",
        "metric_at_best",
        "metric_final",
        "metric_best_x",
    )
    optional_evidence_keys = ()

    class Params(Overfitting.Params):
        min_metric_gain: float = Field(ge=0)

    @staticmethod
    def _metrics_since(
        ctx: Context, val: Curve, best_x: float, end: float
    ) -> Iterator[_MetricChange]:
        """How each validation metric of ``val``'s group moved from the loss's best to the end
        (those logged across that whole stretch, with at least three points)."""
        group = group_of(val.name)
        for metric in ctx.curves("val_metric"):
            if group_of(metric.name) != group or not metric.direction_known:
                continue
            ms = ctx.series(metric)
            if ms.n < 3 or ms.x[0] > best_x or ms.x[-1] < end:
                continue
            m = signal.oriented(ms.y, metric.direction)
            at_best = float(np.interp(best_x, ms.x, m))
            final = float(signal.median(m[-max(1, min(3, ms.n // 3)) :]))
            since = np.flatnonzero(ms.x >= best_x)
            bi = int(since[np.argmin(m[since])])
            yield _MetricChange(
                metric=metric,
                sign=-1.0 if metric.direction == "max" else 1.0,
                at_best=at_best,
                final=final,
                gain=(at_best - final) / max(abs(at_best), signal.tiny(m)),
                best=float(m[bi]),
                best_x=float(ms.x[bi]),
            )

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        for train, val in ctx.pairs():
            obs = Overfitting.observe(ctx, train, val, params)
            if obs is None:
                continue
            best_x = float(obs.evidence["best_x"] or 0.0)
            judged = list(self._metrics_since(ctx, val, best_x, float(obs.end)))
            # "Not worse" must hold for every metric of the loss's own group: one that got
            # worse (recall falling while precision rises) says the model did too.
            if not judged or any(j.gain < -params.min_metric_gain for j in judged):
                continue
            pick = next((j for j in judged if j.gain >= params.min_metric_gain), None)
            if pick is None:
                continue
            metric, sign = pick.metric, pick.sign
            ev = dict(obs.evidence)
            ev.update(
                {
                    "metric": metric.name,
                    "metric_at_best": sign * pick.at_best,
                    "metric_final": sign * pick.final,
                    "metric_best_x": pick.best_x,
                }
            )
            unit = val.x_unit
            msg = (
                f"{val.name} rose {fmt_pct(float(ev['rise_pct'] or 0) / 100)} from its best "
                f"at {unit} {fmt_x(best_x)}, but {metric.name} kept improving "
                f"({fmt_value(sign * pick.at_best)} → {fmt_value(sign * pick.final)}; best "
                f"{fmt_value(sign * pick.best)} at {unit} {fmt_x(pick.best_x)}): the "
                "model is growing overconfident, not worse"
            )
            yield Observation(
                curves=(val.name, metric.name, train.name),
                start=obs.start,
                end=obs.end,
                x_unit=obs.x_unit,
                message=msg,
                confidence=obs.confidence,
                evidence=ev,
            )
