"""CD403 slow-convergence."""

from __future__ import annotations

import math
from collections.abc import Iterator

from curvedoc.context import Context
from curvedoc.detectors.base import Detector, DetectorParams, Observation
from curvedoc.detectors.format import fmt_pct, fmt_value, fmt_x
from curvedoc.detectors.progress import judged_curves, nearly_zero, progress, remaining_gain
from curvedoc.record import Field


class SlowConvergence(Detector):
    """Improving steadily, but far too slowly for the learning rate in use.

    What it detects:
        The judged loss (validation when logged, else training) is still falling at the end with
        a clear trend, at about the same pace as over the whole run (a crawl, not a curve that is
        levelling off), yet so slowly that either the saturating fit needs many more run-lengths
        to get close to where it is heading, or the pace is a near-straight line that no fit
        bends. It is not reported while the schedule is annealing the learning rate (slow
        progress at a small learning rate is the schedule's design), and not when the run is
        merely short (that is ``not-converged``).

    Why it matters:
        At this pace the run needs several times its budget to finish: the learning rate is
        most likely too low (or the schedule decays too early), and raising it would get the same
        result in a fraction of the time.

    Example:
        ``loss`` falls steadily from 2.31 to 2.05 over 20 epochs at learning rate 1e-4; at this
        pace it needs about 10× as long again → raise the learning rate ×3 to about 3e-4.

    What to try:
        Raise the learning rate (×3 is a safe step; run a short LR range test to find the edge),
        check that the schedule does not decay too early, and check input normalisation.

    Parameters:
        tail_fraction: the share of the run whose trend is tested.
        trend_z: Mann–Kendall z-score (negative = falling) the tail must reach.
        min_slow_extra: the fit must need at least this many run-lengths more to get within
            ``within`` of its asymptote (or fail to bend at all).
        within: "close to the asymptote" means within this fraction of it.
        min_gain: the projected (or straight-line, over one more run) improvement must be at least
            this fraction of the current value.
        max_rate: the recent pace (relative improvement per tenth of the run) must be below this.
        min_linearity: the recent pace must be at least this fraction of the pace since the
            first tenth of the run (a crawl keeps its pace; a converging curve slows down).
        annealed_ratio: the learning rate counts as annealed below this fraction of its peak.
        min_left: not reported when the loss is already closer to zero than this fraction of
            the distance it came (see ``not-converged``).
        lr_factor: the factor the advice proposes for the learning rate.
    """

    code = "CD403"
    name = "slow-convergence"
    summary = "improving, but far too slowly: the learning rate is likely too low"
    needs = (("train_loss", "val_loss"),)
    evidence_keys = (
        "final_x",
        "final_value",
        "rate_pct",
        "run_length",
        "lr_factor",
    )
    optional_evidence_keys = ("learning_rate", "suggested_lr", "extra", "asymptote")

    class Params(DetectorParams):
        tail_fraction: float = Field(gt=0, le=1)
        trend_z: float = Field(gt=0)
        min_slow_extra: float = Field(gt=0)
        within: float = Field(gt=0, lt=1)
        min_gain: float = Field(gt=0)
        annealed_ratio: float = Field(ge=0, le=1)
        min_left: float = Field(ge=0, lt=1)
        max_rate: float = Field(gt=0)
        min_linearity: float = Field(ge=0)
        lr_factor: float = Field(gt=1)

    def detect(self, ctx: Context, params: Params) -> Iterator[Observation]:
        for curve in judged_curves(ctx):
            p = progress(ctx, curve, params.tail_fraction, params.within)
            if p is None or not p.best_near_end or p.trend_z > -params.trend_z:
                continue
            if nearly_zero(p, params.min_left):
                continue  # what is left to gain is in the last digits
            if ctx.lr_annealed_at(p.final_x, params.annealed_ratio):
                continue
            if p.rate > params.max_rate:
                continue  # improving briskly: whatever the fit says, this is not slow
            if p.linearity < params.min_linearity:
                continue  # the pace has fallen off: a curve converging, not one crawling
            proj = p.projection
            if proj is not None:
                too_slow = proj.extra_x > params.min_slow_extra * p.run_length
                gain = remaining_gain(p)
            else:
                # No saturating fit: a straight line. Slow if one more run buys little.
                too_slow = 0 < p.rate * 10 < 0.5
                gain = p.rate * 10
            if not too_slow or gain < params.min_gain:
                continue
            unit = curve.x_unit
            evidence: dict[str, float | int | str | bool | None] = {
                "final_x": p.final_x,
                "final_value": p.final_value,
                "rate_pct": round(p.rate * 100, 3),
                "run_length": p.run_length,
                "lr_factor": params.lr_factor,
            }
            if proj is not None and math.isfinite(proj.extra_x):
                evidence["extra"] = float(f"{proj.extra_x:.2g}")
                evidence["asymptote"] = proj.asymptote
            lr = ctx.lr_at(p.final_x)
            if lr is not None:
                evidence["learning_rate"] = lr
                evidence["suggested_lr"] = float(f"{lr * params.lr_factor:.2g}")
            if proj is not None and math.isfinite(proj.extra_x):
                times = fmt_x(float(f"{proj.extra_x / max(p.run_length, 1e-300):.2g}"))
                if abs(proj.asymptote) < 1e-3 * abs(p.final_value):
                    goal = f"{fmt_pct(params.within)} of today's level from its limit near 0"
                else:
                    goal = f"within {fmt_pct(params.within)} of {fmt_value(proj.asymptote)}"
                pace = f"about {times}× the run so far to get {goal}"
            else:
                pace = "a straight-line pace that no saturating fit bends"
            msg = (
                f"{curve.name} is still falling at {unit} {fmt_x(p.final_x)} "
                f"({fmt_value(p.final_value)}) but only about {fmt_pct(p.rate)} per tenth of "
                f"the run: {pace}"
            )
            if lr is not None:
                msg += f" (learning rate {lr:.3g})"
            yield Observation(
                curves=(curve.name,),
                start=p.start_x,
                end=p.final_x,
                x_unit=unit,
                message=msg,
                confidence="medium",
                evidence=evidence,
            )
            return
