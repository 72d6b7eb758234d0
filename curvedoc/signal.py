"""Numeric helpers shared by the detectors.

Everything here is scale-free and vectorised: thresholds elsewhere are ratios and robust z-scores,
so these helpers return medians, MADs, ranks and slopes rather than anything in loss units. Long
series (10^6 points and more) are reduced to at most a few hundred bins before any O(n^2) test
(Theil–Sen, Mann–Kendall, plateau search) so every detector stays O(n log n).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from curvedoc.model import FloatArray

MAD_TO_SD = 1.4826


def odd(n: int) -> int:
    """The odd integer at or above ``n`` (and at least 1): median windows must be centred."""
    n = max(1, int(n))
    return n if n % 2 == 1 else n + 1


def smoothing_window(n: int) -> int:
    """A rolling-median window that suits a series of ``n`` points.

    Epoch-level logs (tens of points) are nearly noise-free per point, so they get a window of 1–3;
    step-level logs (thousands of noisy mini-batch losses) get about 2% of the run, capped so the
    filter stays cheap and the schedule's shape survives.
    """
    if n < 12:
        return 1
    if n < 40:
        return 3
    return odd(min(max(5, n // 50), 501))


#: Above this many window elements (points × window) ``rolling_median`` samples its centres.
ROLLING_EXACT_MAX = 2_000_000
#: Float64 elements per block of windows in the sampled path (256 KB of temporaries, or one
#: window when a window is longer) and per block of the interpolation between its centres.
ROLLING_BLOCK = 32_768


def rolling_median_step(n: int, window: int) -> int:
    """The spacing of the exact medians ``rolling_median`` interpolates between (1 = exact).

    About 12 centres per window: the sampled path partitions 12–18 × n window elements
    whatever the window (windows under 24 are small enough to take every centre), against
    ``n × window`` for every centre.
    """
    if n * window <= ROLLING_EXACT_MAX:
        return 1
    return max(1, window // 12)


def rolling_median(y: FloatArray, window: int) -> FloatArray:
    """Centred rolling median, robust to single outliers even at the edges.

    The edges are padded with the median of the nearest half-window rather than the edge value
    repeated (scipy's ``mode="nearest"``): a noisy first mini-batch repeated half a window long
    would otherwise *be* the smoothed start of the run.

    Small problems (``n × window`` up to ``ROLLING_EXACT_MAX``) take the exact median of every
    window. Large ones take the exact median of the window centred at every ``s``-th point
    (``s = window // 12``, see :func:`rolling_median_step`, and always the last point) and
    interpolate linearly between those centres, in blocks of windows that keep the temporaries
    near 256 KB (a fixed cost, which would weigh on a 10^5-step log if it were larger). Why not
    ``scipy.ndimage.median_filter``, as before: importing ``scipy.ndimage`` costs about 0.25 s
    and 26 MB of resident memory, and the filter itself about 0.1 s per call on 10^6 points (a
    10^6-step log calls it about four times); the sampled path is numpy only.
    Neighbouring centres' windows share all but ``s`` of their ``window`` points, so their
    medians differ by a small fraction of the point-to-point noise the window is there to
    average out, and the chord between them stays that close to the exact filter: on a
    decaying loss with white noise of sd σ, 200k steps, window 501, at most about 0.09σ from it
    (0.011σ rms), where the exact median's own standard error is 0.056σ. Where neighbouring
    centres agree (a flat stretch) it is exact.

    NaN: a window holding a NaN has a NaN median (as :func:`median`); on the sampled path the
    points interpolated next to such a centre are NaN too, so the NaN spreads up to ``s``
    points further. Callers pass finite values (``Context.series`` drops the others).
    """
    window = odd(window)
    if window <= 1 or y.size < 3:
        return y.astype(np.float64, copy=True)
    window = min(window, odd(y.size) if y.size % 2 else y.size - 1)
    half = window // 2
    n = int(y.size)
    yf = y.astype(np.float64, copy=False)
    left = np.full(half, median(yf[: half + 1]))
    right = np.full(half, median(yf[-half - 1 :]))
    windows = np.lib.stride_tricks.sliding_window_view
    if n * window <= ROLLING_EXACT_MAX:
        padded = np.concatenate((left, yf, right))
        return np.asarray(median(windows(padded, window), axis=1), dtype=np.float64)
    # The padded curve is never built: the windows of the first and last ``half`` centres come
    # from two short padded ends, the others are views of y itself (a long log, one copy less).
    head = windows(np.concatenate((left, yf[: window - 1])), window)  # centres 0 .. half-1
    inner = windows(yf, window)  # centres half .. n-half-1
    tail = windows(np.concatenate((yf[n - window + 1 :], right)), window)  # n-half .. n-1
    step = rolling_median_step(n, window)
    centres = np.arange(0, n, step)
    if centres[-1] != n - 1:
        centres = np.append(centres, n - 1)
    at = np.empty(centres.size, dtype=np.float64)
    rows = max(1, ROLLING_BLOCK // window)
    for i in range(0, centres.size, rows):
        c = centres[i : i + rows]
        block = np.empty((c.size, window), dtype=np.float64)  # ours to partition in place
        first, last = c < half, c >= n - half
        mid = ~(first | last)
        block[first] = head[c[first]]
        block[mid] = inner[c[mid] - half]
        block[last] = tail[c[last] - (n - half)]
        at[i : i + rows] = median(block, axis=1, overwrite=True)
    if step == 1:
        return at
    del head, inner, tail
    xp = centres.astype(np.float64)
    out = np.empty(n, dtype=np.float64)
    for i in range(0, n, ROLLING_BLOCK):
        j = min(n, i + ROLLING_BLOCK)
        out[i:j] = np.interp(np.arange(i, j, dtype=np.float64), xp, at)
    return out


def mad(y: FloatArray) -> float:
    """Median absolute deviation scaled to a normal standard deviation (0.0 for empty input)."""
    if y.size == 0:
        return 0.0
    med = float(median(y))
    # one full-length temporary, made absolute and partitioned in place
    dev = y - med
    return float(MAD_TO_SD * median(np.abs(dev, out=dev), overwrite=True))


def noise_level(y: FloatArray) -> float:
    """Point-to-point noise of a series, with any smooth trend removed.

    Second differences cancel a locally linear trend, so a steadily falling loss does not count
    as noise: sd(diff2) = sqrt(6) * sd(noise) for white noise.
    """
    if y.size < 4:
        return 0.0
    return mad(np.diff(y, n=2)) / math.sqrt(6.0)


def in_last_digits(first: FloatArray, level: float, min_left: float) -> bool:
    """A curve (lower is better) already closer to zero than ``min_left`` of the distance it
    came: from its highest ``first`` point down to ``level``.

    Such a curve can still halve every few points (a cross-entropy from 1.57 to 0.0007, its
    accuracy at 1.0 for half the run), so its trend, pace and bounce look large next to its
    level; but all there is left is below a thousandth of what the run already did.
    """
    came = float(np.max(first)) - level if first.size else 0.0
    return came > 0 and abs(level) < min_left * came


def tiny(y: FloatArray) -> float:
    """A scale-relative epsilon for divisions (never an absolute loss value).

    Relative to the series' *typical* magnitude (the median of |y|), not its largest: one
    blown-up value of 4e30 must not make every ordinary difference look like zero.
    """
    finite = np.abs(y[np.isfinite(y)])
    if finite.size == 0:
        return 1e-300
    typical = float(median(finite))
    if typical == 0:
        typical = float(np.max(finite))
    return max(typical * 1e-12, 1e-300)


def bin_reduce(x: FloatArray, y: FloatArray, max_bins: int) -> tuple[FloatArray, FloatArray]:
    """Reduce a long series to at most ``max_bins`` bins of equal point count (bin medians).

    Keeps short series as they are. Equal *counts* (not equal x widths) keep sparse regions honest.
    """
    n = y.size
    if n <= max_bins:
        return x, y
    edges = np.linspace(0, n, max_bins + 1).astype(np.int64)
    starts = edges[:-1]
    counts = np.diff(edges)
    # Bins hold one of (at most) a few point counts; each group of equal-sized bins is one 2-D
    # array whose rows are partitioned around their middle: O(n), where sorting every bin's
    # values was O(n log n) and the slowest step of a 10^7-point run.
    ym = np.empty(max_bins, dtype=np.float64)
    for c in np.unique(counts).tolist():
        rows = np.flatnonzero(counts == c)
        lo, hi = (c - 1) // 2, c // 2
        block = y[starts[rows, None] + np.arange(c)]
        block.partition(sorted({lo, hi}), axis=1)
        ym[rows] = 0.5 * (block[:, lo] + block[:, hi])
    xm = x[starts + counts // 2]
    return xm.astype(np.float64), ym


def theil_sen_slope(x: FloatArray, y: FloatArray, max_points: int = 200) -> float:
    """Median of pairwise slopes: a trend estimate that shrugs off outliers."""
    if y.size < 2:
        return 0.0
    xs, ys = bin_reduce(x, y, max_points)
    i, j = np.triu_indices(xs.size, k=1)
    dx = xs[j] - xs[i]
    ok = dx != 0
    if not np.any(ok):
        return 0.0
    return float(median((ys[j] - ys[i])[ok] / dx[ok]))


def mann_kendall_z(y: FloatArray, max_points: int = 200) -> float:
    """Mann–Kendall trend statistic as a z-score (positive = rising), ties ignored.

    Used to ask "is this segment really going up?" without assuming linearity or normal noise.
    """
    n0 = y.size
    if n0 < 3:
        return 0.0
    _, ys = bin_reduce(np.arange(n0, dtype=np.float64), y, max_points)
    n = ys.size
    i, j = np.triu_indices(n, k=1)
    s = float(np.sum(np.sign(ys[j] - ys[i])))
    var = n * (n - 1) * (2 * n + 5) / 18.0
    if var <= 0:
        return 0.0
    if s > 0:
        return (s - 1) / math.sqrt(var)
    if s < 0:
        return (s + 1) / math.sqrt(var)
    return 0.0


def oriented(y: FloatArray, direction: str) -> FloatArray:
    """Flip a maximised metric so that "lower is better" holds for every series."""
    return -y if direction == "max" else y


def percentile(y: FloatArray, q: float, *, overwrite: bool = False) -> float:
    """``np.percentile(y, q)`` (linear interpolation; NaN if any value is NaN or y is empty).

    Two order statistics by ``np.partition``, not a full sort; ``overwrite`` partitions ``y``
    itself (an array the caller made and will not read in order again) instead of a copy."""
    if y.size == 0:
        return math.nan
    if bool(np.isnan(y).any()):
        return math.nan
    pos = (y.size - 1) * (min(max(q, 0.0), 100.0) / 100.0)  # numpy's order of operations
    lo = math.floor(pos)
    hi = min(lo + 1, y.size - 1)
    s = y.reshape(-1) if overwrite else np.array(y, dtype=np.float64).reshape(-1)
    s.partition((lo, hi))
    a, b = float(s[lo]), float(s[hi])
    if a == b:
        return a
    t = pos - lo
    # numpy's lerp: from the nearer end, so a point near b is not a - a + tiny (cancellation)
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t


def median(y: npt.ArrayLike, axis: int | None = None, *, overwrite: bool = False) -> Any:
    """``np.median`` (NaN where a NaN is in the data), by ``np.partition``.

    Why not ``np.median``: its NaN check touches ``np.ma``, whose import costs about a tenth of
    the start-up of a 20-epoch diagnosis; and on the rolling windows of a smoothed curve the
    plain partition is several times faster. ``overwrite`` partitions a float64 array in place
    instead of a copy (like numpy's ``overwrite_input``).
    """
    a = np.asarray(y, dtype=np.float64)
    # in place along an axis, or whole when 1-D (its reshape below is then a view of y)
    inplace = overwrite and a is y and (axis is not None or a.ndim == 1)
    if axis is None:
        a, axis = a.reshape(-1), 0
    n = a.shape[axis]
    if n == 0:
        shape = a.shape[:axis] + a.shape[axis + 1 :]
        return np.full(shape, np.nan)[()] if shape else np.float64(np.nan)
    nan = np.isnan(a).any(axis=axis)
    k = n // 2
    kth = k if n % 2 else (k - 1, k)
    if inplace:
        a.partition(kth, axis=axis)
        part = a
    else:
        part = np.partition(a, kth, axis=axis)
    if n % 2:
        mid = np.take(part, k, axis=axis)
    else:
        mid = (np.take(part, k - 1, axis=axis) + np.take(part, k, axis=axis)) / 2.0
    if np.ndim(mid) == 0:
        return np.float64(np.nan) if bool(nan) else np.float64(mid)
    out: FloatArray = np.where(nan, np.nan, mid)
    return out


def runs_of_true(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) index pairs of the runs of True in a boolean mask."""
    if mask.size == 0:
        return []
    m = np.concatenate(([False], mask.astype(bool), [False]))
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
