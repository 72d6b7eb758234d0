"""Where is this curve heading? Saturating learning-curve fits and their extrapolation.

Learning curves of a loss against training time are well described by a constant plus a decaying
term; the two standard families are the exponential ``a + b·exp(-c·t)`` and the power law
``a + b·(t + 1)^(-c)`` (see e.g. Domhan et al., "Speeding up automatic hyperparameter
optimization ... by extrapolation of learning curves", 2015). We fit both on normalised time
(t in [0, 1] over the fitted stretch) and normalised values (divided by the last level, so the fit
is scale-free), keep the better one, and bootstrap the residuals for an uncertainty band on the
asymptote and on the time needed to get close to it.

``scipy.optimize`` is imported here, lazily, only when a detector needs a projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from curvedoc import signal
from curvedoc.model import FloatArray


@dataclass(frozen=True)
class Projection:
    """A fitted saturating curve, in the curve's own units.

    ``fitted_final`` is the fit's value at the last point: a level estimate that uses the whole
    stretch, steadier than any window of noisy points. ``model`` is ``"exponential"`` or
    ``"power-law"``. ``extra_x`` is how much more x (epochs or steps) the fit needs to get within
    ``within`` (a fraction) of the asymptote, measured from the last point; ``extra_x_low`` and
    ``extra_x_high`` bound it (bootstrap 10th–90th percentiles); ``math.inf`` when the fit never
    gets there.
    """

    model: str
    fitted_final: float
    asymptote: float
    asymptote_low: float
    asymptote_high: float
    extra_x: float
    extra_x_low: float
    extra_x_high: float
    r2: float


def _exp(t: FloatArray, a: float, b: float, c: float) -> FloatArray:
    return a + b * np.exp(-c * t)


def _power(t: FloatArray, a: float, b: float, c: float) -> FloatArray:
    return a + b * np.power(t + 1.0, -c)


def _time_to(model: str, a: float, b: float, c: float, target_gap: float) -> float:
    """Normalised time at which the fitted gap above the asymptote falls to ``target_gap``."""
    if b <= 0 or c <= 0 or target_gap <= 0:
        return math.inf
    if target_gap >= b:
        return 0.0
    if model == "exponential":
        return math.log(b / target_gap) / c
    return float((b / target_gap) ** (1.0 / c)) - 1.0


def _fit(
    t: FloatArray, y: FloatArray, only: str | None = None
) -> tuple[str, tuple[float, float, float], FloatArray] | None:
    from scipy.optimize import curve_fit

    # A curve that is positive everywhere (almost every loss) cannot head below zero.
    a_min = 0.0 if float(np.min(y)) > 0 else -np.inf
    fits: list[tuple[str, tuple[float, float, float], FloatArray, float]] = []
    span = float(y[0] - y[-1])
    for name, fn, p0 in (
        ("exponential", _exp, (float(y[-1]) - 0.1 * abs(span), abs(span) + 1e-12, 3.0)),
        ("power-law", _power, (float(y[-1]) - 0.5 * abs(span), abs(span) + 1e-12, 1.0)),
    ):
        if only is not None and name != only:
            continue
        p0 = (max(p0[0], a_min + 1e-9 * abs(float(y[-1]))), p0[1], p0[2])
        try:
            popt, _ = curve_fit(
                fn,
                t,
                y,
                p0=p0,
                bounds=([a_min, 0.0, 1e-3], [np.inf, np.inf, 50.0]),
                maxfev=2000,
            )
        except (RuntimeError, ValueError, TypeError):
            continue
        resid = y - fn(t, *popt)
        sse = float(np.sum(resid**2))
        if math.isfinite(sse):
            fits.append((name, (float(popt[0]), float(popt[1]), float(popt[2])), resid, sse))
    if not fits:
        return None
    fits.sort(key=lambda f: f[3])
    chosen = fits[0]
    # When the data cannot tell the families apart (noisy tails), promise less: take the fit
    # with the higher asymptote, i.e. the smaller improvement still to come.
    for other in fits[1:]:
        if other[3] <= 1.25 * chosen[3] and other[1][0] > chosen[1][0]:
            chosen = other
    return chosen[0], chosen[1], chosen[2]


def project(
    x: FloatArray,
    y: FloatArray,
    *,
    within: float = 0.01,
    bootstrap: int = 20,
    max_points: int = 200,
    seed: int = 0,
) -> Projection | None:
    """Fit a decreasing saturating curve to ``(x, y)`` and extrapolate it.

    Returns None when the data cannot support a fit (too few points, not decreasing, a fit that
    explains little of the variance).
    """
    if y.size < 5 or not np.all(np.isfinite(y)):
        return None
    xs, ys = signal.bin_reduce(x, y, max_points)
    x0, x1 = float(xs[0]), float(xs[-1])
    if x1 <= x0:
        return None
    level = abs(float(np.median(ys[-max(2, ys.size // 10) :])))
    if level <= 0:
        level = max(float(np.max(np.abs(ys))), 1e-300)
    t = (xs - x0) / (x1 - x0)
    yn = ys / level
    fitted = _fit(t, yn)
    if fitted is None:
        return None
    model, (a, b, c), resid = fitted
    total = float(np.sum((yn - np.mean(yn)) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / total if total > 0 else 0.0
    if r2 < 0.5:
        return None
    fn = _exp if model == "exponential" else _power

    def extra(a_: float, b_: float, c_: float) -> float:
        # "Within 1% of the asymptote"; for an asymptote near zero, 1% of the current level.
        target = within * max(abs(a_), float(yn[-1]) if yn[-1] > 0 else 1e-12)
        return max(_time_to(model, a_, b_, c_, target) - 1.0, 0.0)

    rng = np.random.default_rng(seed)
    fit_y = fn(t, a, b, c)
    asym: list[float] = []
    extras: list[float] = []
    for _ in range(bootstrap):
        yb = fit_y + rng.choice(resid, size=resid.size, replace=True)
        refit = _fit(t, yb, only=model)
        if refit is None:
            continue
        ab, bb, cb = refit[1]
        asym.append(ab)
        extras.append(extra(ab, bb, cb))
    scale_x = x1 - x0
    e = extra(a, b, c)
    if asym:
        a_lo, a_hi = np.percentile(asym, [10, 90])
        e_lo, e_hi = np.percentile(extras, [10, 90])
    else:
        a_lo = a_hi = a
        e_lo = e_hi = e
    return Projection(
        model=model,
        fitted_final=float(fn(np.array([1.0]), a, b, c)[0]) * level,
        asymptote=a * level,
        asymptote_low=float(a_lo) * level,
        asymptote_high=float(a_hi) * level,
        extra_x=e * scale_x,
        extra_x_low=float(e_lo) * scale_x,
        extra_x_high=float(e_hi) * scale_x,
        r2=r2,
    )
