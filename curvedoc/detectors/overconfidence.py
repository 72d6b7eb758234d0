"""CD203 overconfidence."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from curvedoc import signal
from curvedoc.context import Context
from curvedoc.detectors.base import Detector, Observation
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.detectors.overfitting import Overfitting
from curvedoc.record import Field


class Overconfidence(Detector):
    """Validation loss rises while a validation accuracy-like metric still improves.

    What it detects:
        The ``overfitting`` pattern on a validation loss (it rose from its best and stays up
        while training improves), but a validation metric logged beside it — accuracy, F1, WER,
        mAP, … in its own direction — is as good or better at the end than at the loss's best.
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
        min_metric_gain: the metric at the end must be at least this much better (relative) than
            at the loss's best to count as "still improving"; 0 means "not worse".
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

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        for train, val in ctx.pairs():
            obs = Overfitting.observe(ctx, train, val, params)
            if obs is None:
                continue
            best_x = float(obs.evidence["best_x"] or 0.0)
            for metric in ctx.curves("val_metric"):
                ms = ctx.series(metric)
                if ms.n < 3 or ms.x[0] > best_x or ms.x[-1] < float(obs.end):
                    continue
                m = signal.oriented(ms.y, metric.direction)
                at_best = float(np.interp(best_x, ms.x, m))
                final = float(signal.median(m[-max(1, min(3, ms.n // 3)) :]))
                gain = (at_best - final) / max(abs(at_best), signal.tiny(m))
                if gain < params.min_metric_gain:
                    continue
                sign = -1.0 if metric.direction == "max" else 1.0
                bi = int(np.argmin(m))
                ev = dict(obs.evidence)
                ev.update(
                    {
                        "metric": metric.name,
                        "metric_at_best": sign * at_best,
                        "metric_final": sign * final,
                        "metric_best_x": float(ms.x[bi]),
                    }
                )
                unit = val.x_unit
                msg = (
                    f"{val.name} rose {fmt_pct(float(ev['rise_pct'] or 0) / 100)} from its best "
                    f"at {unit} {fmt_x(best_x)}, but {metric.name} kept improving "
                    f"({fmt_value(sign * at_best)} → {fmt_value(sign * final)}; best "
                    f"{fmt_value(sign * float(m[bi]))} at {unit} {fmt_x(float(ms.x[bi]))}): the "
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
                break
