"""CD402 not-converged."""

from __future__ import annotations

import math
from collections.abc import Iterator

from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import article, fmt_pct, fmt_value, fmt_x
from curvedoc.detectors.progress import (
    Progress,
    judged_curves,
    nearly_zero,
    progress,
    reliable,
    remaining_gain,
)
from curvedoc.record import Field


class NotConverged(Detector):
    """Still clearly improving at the end: training stopped too early.

    What it detects:
        The loss that decides whether more training helps — the validation loss when one is
        logged, the training loss otherwise — is still falling over the last part of the run
        (a Mann–Kendall trend test on the tail, best value at the very end), and a saturating
        learning-curve fit (exponential or power law, whichever fits better) projects a
        meaningful further improvement within a reasonable extra time. It reports the projected
        asymptote, how many more epochs/steps it would take to get within ``within`` of it, and
        a bootstrap range for both. Not reported when the learning-rate schedule has annealed
        to near zero by the end (see ``annealed_ratio``), nor when the loss is already a
        thousandth of the way from zero it started at (see ``min_left``).

    Why it matters:
        The run ended while it was still paying off: the model you have is worse than what the
        same recipe gives with a longer schedule. The Deep Learning Tuning Playbook's rule: if
        the best checkpoint is consistently in the last ~25% of training, train longer.

    Example:
        ``val_loss`` 0.41 → 0.262 over 30 epochs and still falling; the exponential fit heads to
        0.214 → "about 30 more epochs (20–45) to get within 1% of the projected 0.214".

    What to try:
        Train for the suggested extra epochs/steps (lengthen the whole schedule if it decays
        the learning rate), or resume from the last checkpoint with the same learning rate.

    Parameters:
        tail_fraction: the share of the run whose trend is tested.
        trend_z: Mann–Kendall z-score (negative = falling) the tail must reach.
        min_gain: projected further improvement, as a fraction of the current value, below
            which the run counts as converged (default 5%: a smaller gain is within what a
            different seed moves a validation loss, and two healthy runs of the corpus end
            2–5% above their fitted limit with a flat validation accuracy).
        within: "close to the asymptote" means within this fraction of it.
        max_spread: the projection counts only when its asymptote's bootstrap range is narrower
            than this fraction of the current value.
        annealed_ratio: not reported when the logged learning rate ends below this fraction of
            its peak: an annealing schedule makes the loss fall at the end by design, and the
            log cannot tell that apart from training that stopped early.
        min_left: not reported when the loss is already closer to zero than this fraction of
            the distance it came: a cross-entropy from 1.57 down to 0.0007 still halves every few
            evaluations, but what is left is in its last digits (default 0.001).
        min_rate: without a pinned-down projection (the fit heads to its bound), the run is
            still reported when it improves by at least this fraction per tenth of the run.
        max_extra: beyond this many run-lengths of extra training the curve is not "nearly
            there" but slow — that is ``slow-convergence``'s call.
    """

    code = "CD402"
    name = "not-converged"
    summary = "still clearly improving at the end: train longer"
    needs = (("train_loss", "val_loss"),)
    evidence_keys = ("final_x", "final_value", "extra", "total", "gain_pct")
    optional_evidence_keys = (
        "asymptote",
        "asymptote_low",
        "asymptote_high",
        "target_value",
        "within_pct",
        "extra_low",
        "extra_high",
        "model",
        "rate_pct",
    )

    class Params(DetectorParams):
        tail_fraction: float = Field(gt=0, le=1)
        trend_z: float = Field(gt=0)
        min_gain: float = Field(gt=0)
        within: float = Field(gt=0, lt=1)
        max_extra: float = Field(gt=0)
        max_spread: float = Field(gt=0)
        annealed_ratio: float = Field(ge=0, le=1)
        min_left: float = Field(ge=0, lt=1)
        min_rate: float = Field(gt=0)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        best: tuple[float, Observation] | None = None
        for curve in judged_curves(ctx):
            p = progress(ctx, curve, params.tail_fraction, params.within)
            if p is None or not p.best_near_end or p.trend_z > -params.trend_z:
                continue
            if nearly_zero(p, params.min_left):
                continue  # what is left to gain is in the last digits
            if ctx.lr_annealed_at(p.final_x, params.annealed_ratio):
                continue  # the schedule annealed: the late gains are its doing, not unused time
            obs = self._projected(p, params) or self._brisk(p, params)
            if obs is not None:
                gain = float(obs.evidence.get("gain_pct") or 0)
                if best is None or gain > best[0]:
                    best = (gain, obs)
        if best is not None:
            yield best[1]

    @staticmethod
    def _projected(p: Progress, params: Params) -> Observation | None:
        """The fit pins down where the curve is heading, and it is within reach."""
        proj = p.projection
        if proj is None or not reliable(p, params.max_spread):
            return None
        gain = remaining_gain(p)
        if gain < params.min_gain or not math.isfinite(proj.extra_x):
            return None
        if proj.extra_x > params.max_extra * p.run_length or proj.extra_x <= 0:
            return None
        if abs(proj.asymptote) < 1e-3 * abs(p.final_value):
            return None  # heading to the fit's bound (zero): no level in sight, see _brisk
        curve = p.curve
        unit = curve.x_unit
        extra = _round_extra(proj.extra_x, unit)
        target = (
            proj.asymptote * (1 + params.within)
            if curve.direction == "min"
            else (proj.asymptote * (1 - params.within))
        )
        msg = (
            f"{curve.name} is still improving at {unit} {fmt_x(p.final_x)} "
            f"({fmt_value(p.final_value)}); {article(proj.model)} {proj.model} fit heads to "
            f"{fmt_value(proj.asymptote)} ({fmt_value(proj.asymptote_low)}–"
            f"{fmt_value(proj.asymptote_high)}), about {fmt_pct(gain)} better: about "
            f"{fmt_x(extra)} more {unit}s "
            f"({fmt_x(_round_extra(proj.extra_x_low, unit))}–"
            f"{fmt_x(_round_extra(proj.extra_x_high, unit))}) to get within "
            f"{fmt_pct(params.within)} of it"
        )
        return Observation(
            curves=(curve.name,),
            start=float(curve.x[max(0, len(curve) - 1 - 2)]),
            end=p.final_x,
            x_unit=unit,
            message=msg,
            confidence="high" if proj.r2 >= 0.95 and p.trend_z <= -2 * params.trend_z else "medium",
            evidence={
                "final_x": p.final_x,
                "final_value": p.final_value,
                "asymptote": proj.asymptote,
                "asymptote_low": proj.asymptote_low,
                "asymptote_high": proj.asymptote_high,
                "target_value": target,
                "within_pct": round(params.within * 100, 3),
                "extra": extra,
                "extra_low": _round_extra(proj.extra_x_low, unit),
                "extra_high": _round_extra(proj.extra_x_high, unit),
                "total": p.final_x + extra,
                "gain_pct": round(gain * 100, 2),
                "model": proj.model,
            },
        )

    @staticmethod
    def _brisk(p: Progress, params: Params) -> Observation | None:
        """No level in sight yet, but the pace is brisk: the run was simply cut short. Advise
        half as much again and a re-check, rather than a number the data cannot support."""
        if p.rate < params.min_rate:
            return None
        curve = p.curve
        unit = curve.x_unit
        extra = _round_extra(0.5 * p.run_length, unit)
        gain = p.rate * 5  # the current pace over another half run, as a fraction
        msg = (
            f"{curve.name} is still falling briskly at {unit} {fmt_x(p.final_x)} "
            f"({fmt_value(p.final_value)}): about {fmt_pct(p.rate)} per tenth of the run, with no "
            "level in sight yet; the run was cut short"
        )
        return Observation(
            curves=(curve.name,),
            start=float(curve.x[max(0, len(curve) - 1 - 2)]),
            end=p.final_x,
            x_unit=unit,
            message=msg,
            confidence="medium",
            evidence={
                "final_x": p.final_x,
                "final_value": p.final_value,
                "extra": extra,
                "total": p.final_x + extra,
                "gain_pct": round(gain * 100, 2),
                "rate_pct": round(p.rate * 100, 2),
            },
        )


def _round_extra(v: float, unit: str) -> float:
    """Whole epochs; steps to two significant digits (nobody schedules 12,347 more steps)."""
    if not math.isfinite(v):
        return v
    if unit == "epoch":
        return float(max(1, math.ceil(v)))
    return float(f"{max(v, 1.0):.2g}")
