"""Where is this curve heading? Saturating learning-curve fits and their extrapolation.

Learning curves of a loss against training time are well described by a constant plus a decaying
term; the two standard families are the exponential ``a + b·exp(-c·t)`` and the power law
``a + b·(t + 1)^(-c)`` (see e.g. Domhan et al., "Speeding up automatic hyperparameter
optimization ... by extrapolation of learning curves", 2015). We fit both on normalised time
(t in [0, 1] over the fitted stretch) and normalised values (divided by the last level, so the fit
is scale-free), keep the better one, and bootstrap the residuals for an uncertainty band on the
asymptote and on the time needed to get close to it.

Both families are linear in (a, b) once the decay rate c is fixed, so the fit is a search over
c alone with a and b in closed form (variable projection), done on a grid in numpy for the
fit and all its bootstrap resamples at once. It is global (no starting guess to get stuck
near) and needs no ``scipy.optimize``, whose import alone used to cost a still-improving run
more than the whole diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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


def _basis_time(model: str, t: FloatArray) -> FloatArray:
    """Both families are ``a + b·exp(-c·u)``: u = t (exponential) or u = ln(1 + t) (power law,
    since ``(t + 1)^(-c) = exp(-c·ln(1 + t))``)."""
    return t if model == "exponential" else np.log1p(t)


def _curve(model: str, t: FloatArray, a: float, b: float, c: float) -> FloatArray:
    out: FloatArray = a + b * np.exp(-c * _basis_time(model, t))
    return out


def _time_to(model: str, a: float, b: float, c: float, target_gap: float) -> float:
    """Normalised time at which the fitted gap above the asymptote falls to ``target_gap``."""
    if b <= 0 or c <= 0 or target_gap <= 0:
        return math.inf
    if target_gap >= b:
        return 0.0
    log_time = math.log(b / target_gap) / c  # b / target_gap may be inf: then so is the time
    if model == "exponential":
        return log_time
    # (t + 1)^(-c) = gap / b; in logs, so that a slow decay of a huge gap is inf, not an error
    return math.exp(log_time) - 1.0 if log_time < 700.0 else math.inf


# The decay rate c is searched in [C_MIN, C_MAX] (normalised time): a coarse log grid, then three
# finer grids around the best point, each REFINE points across two steps of the previous one.
C_MIN, C_MAX = 1e-3, 50.0
_COARSE = np.geomspace(C_MIN, C_MAX, 241)
_REFINE = 33
_ROUNDS = 3


def _best_ab(
    sp: FloatArray,
    spp: FloatArray,
    sy: FloatArray,
    syp: FloatArray,
    syy: FloatArray,
    n: int,
    a_min: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Least-squares ``a`` and ``b`` for fixed basis sums, with ``b >= 0`` and ``a >= a_min``.

    For a fixed decay rate the model is linear in (a, b), so the constrained optimum is one of
    three closed forms: the free solution, ``a`` on its bound, or no decay (``b = 0``). Each
    is scored and the best feasible one kept. All arguments broadcast (samples × rates).
    """

    def sse(a: FloatArray, b: FloatArray) -> FloatArray:
        out: FloatArray = syy - 2 * a * sy - 2 * b * syp + n * a * a + 2 * a * b * sp + b * b * spp
        return out

    var = spp - sp * sp / n
    b_free = np.where(var > 0, (syp - sy * sp / n) / np.where(var > 0, var, 1.0), 0.0)
    a_free = (sy - b_free * sp) / n
    a_bnd = np.broadcast_to(a_min, a_free.shape)
    b_bnd = np.maximum(0.0, (syp - np.where(np.isfinite(a_bnd), a_bnd, 0.0) * sp) / spp)
    a_flat = np.maximum(sy / n, a_min)
    b_flat = np.zeros_like(a_free)
    s_free = np.where((b_free >= 0) & (a_free >= a_min), sse(a_free, b_free), np.inf)
    s_bnd = np.where(
        np.isfinite(a_bnd), sse(np.where(np.isfinite(a_bnd), a_bnd, 0.0), b_bnd), np.inf
    )
    s_flat = sse(a_flat, b_flat)
    a = np.where(s_free <= s_bnd, a_free, a_bnd)
    b = np.where(s_free <= s_bnd, b_free, b_bnd)
    s = np.minimum(s_free, s_bnd)
    flat = s_flat < s
    return np.where(flat, a_flat, a), np.where(flat, b_flat, b), np.where(flat, s_flat, s)


def _scan(
    u: FloatArray, ys: FloatArray, a_min: FloatArray, rates: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Best (a, b, sse) for every sample (rows of ``ys``) at every rate (``rates``: one row of
    rates per sample, or one shared row)."""
    phi = np.exp(-rates[..., None] * u)  # (..., rates, points)
    n = u.shape[0]
    sp = phi.sum(axis=-1)
    spp = (phi * phi).sum(axis=-1)
    syp = ys @ phi.T if rates.ndim == 1 else np.einsum("sn,srn->sr", ys, phi)
    sy = ys.sum(axis=-1, keepdims=True)
    syy = (ys * ys).sum(axis=-1, keepdims=True)
    return _best_ab(sp, spp, sy, syp, syy, n, a_min[:, None])


def _fit_family(
    model: str, t: FloatArray, ys: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Least-squares fit of ``a + b·exp(-c·u)`` to every row of ``ys`` (variable projection:
    a grid search over c, with a and b in closed form at each c). Returns a, b, c, sse."""
    u = _basis_time(model, t)
    # A curve that is positive everywhere (almost every loss) cannot head below zero. Centre
    # the values so that the sums below keep their precision.
    mean = ys.mean(axis=1)
    a_min = np.where(ys.min(axis=1) > 0, 0.0, -np.inf) - mean
    yc = ys - mean[:, None]
    rows = np.arange(ys.shape[0])
    _, _, s = _scan(u, yc, a_min, _COARSE)
    k = np.argmin(s, axis=1)
    lo = _COARSE[np.maximum(k - 1, 0)]
    hi = _COARSE[np.minimum(k + 1, _COARSE.size - 1)]
    for _ in range(_ROUNDS):
        rates = np.geomspace(lo, hi, _REFINE, axis=1)  # (samples, REFINE)
        a, b, s = _scan(u, yc, a_min, rates)
        k = np.argmin(s, axis=1)
        best_c = rates[rows, k]
        step = (hi / lo) ** (1.0 / (_REFINE - 1))
        lo, hi = np.maximum(best_c / step, C_MIN), np.minimum(best_c * step, C_MAX)
    return a[rows, k] + mean, b[rows, k], best_c, s[rows, k]


def _fit(
    t: FloatArray, y: FloatArray, only: str | None = None
) -> tuple[str, tuple[float, float, float], FloatArray] | None:
    fits: list[tuple[str, tuple[float, float, float], FloatArray, float]] = []
    for name in ("exponential", "power-law"):
        if only is not None and name != only:
            continue
        with np.errstate(all="ignore"):
            a, b, c, _ = _fit_family(name, t, y[None, :])
            params = (float(a[0]), float(b[0]), float(c[0]))
            resid = y - _curve(name, t, *params)
            sse = float(np.sum(resid**2))
        if math.isfinite(sse) and all(math.isfinite(v) for v in params):
            fits.append((name, params, resid, sse))
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


def _resample_indices(rows: int, n: int, seed: int) -> npt.NDArray[np.intp]:
    """``rows`` bootstrap draws of ``n`` indices in ``[0, n)``, with replacement.

    A SplitMix64 hash of the draw number rather than ``numpy.random``: the draws only need to be
    well spread and reproducible, and importing ``numpy.random`` costs a still-improving run a
    twentieth of its start-up.
    """
    z = np.arange(rows * n, dtype=np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15) % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    out: npt.NDArray[np.intp] = (z % np.uint64(n)).astype(np.intp).reshape(rows, n)
    return out


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
    level = abs(float(signal.median(ys[-max(2, ys.size // 10) :])))
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

    def extra(a_: float, b_: float, c_: float) -> float:
        # "Within 1% of the asymptote"; for an asymptote near zero, 1% of the current level.
        target = within * max(abs(a_), float(yn[-1]) if yn[-1] > 0 else 1e-12)
        return max(_time_to(model, a_, b_, c_, target) - 1.0, 0.0)

    fit_y = _curve(model, t, a, b, c)
    asym: list[float] = []
    extras: list[float] = []
    if bootstrap > 0:
        ys_b = fit_y + resid[_resample_indices(bootstrap, resid.size, seed)]
        with np.errstate(all="ignore"):
            ab, bb, cb, sb = _fit_family(model, t, ys_b)
        for i in range(bootstrap):
            if not all(math.isfinite(float(v[i])) for v in (ab, bb, cb, sb)):
                continue
            asym.append(float(ab[i]))
            extras.append(extra(float(ab[i]), float(bb[i]), float(cb[i])))
    scale_x = x1 - x0
    e = extra(a, b, c)
    if asym:
        a_lo, a_hi = (
            signal.percentile(np.asarray(asym), 10),
            signal.percentile(np.asarray(asym), 90),
        )
        e_lo, e_hi = (
            signal.percentile(np.asarray(extras), 10),
            signal.percentile(np.asarray(extras), 90),
        )
    else:
        a_lo = a_hi = a
        e_lo = e_hi = e
    return Projection(
        model=model,
        fitted_final=float(_curve(model, np.array([1.0]), a, b, c)[0]) * level,
        asymptote=a * level,
        asymptote_low=float(a_lo) * level,
        asymptote_high=float(a_hi) * level,
        extra_x=e * scale_x,
        extra_x_low=float(e_lo) * scale_x,
        extra_x_high=float(e_hi) * scale_x,
        r2=r2,
    )
