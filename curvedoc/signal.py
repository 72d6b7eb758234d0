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


def rolling_median(y: FloatArray, window: int) -> FloatArray:
    """Centred rolling median, robust to single outliers even at the edges.

    The edges are padded with the median of the nearest half-window rather than the edge value
    repeated (scipy's ``mode="nearest"``): a noisy first mini-batch repeated half a window long
    would otherwise *be* the smoothed start of the run. Small problems use numpy's sliding
    windows; large ones scipy's O(n log w) filter, imported only then, because importing
    ``scipy.ndimage`` costs more than diagnosing a 20-epoch log.
    """
    window = odd(window)
    if window <= 1 or y.size < 3:
        return y.astype(np.float64, copy=True)
    window = min(window, odd(y.size) if y.size % 2 else y.size - 1)
    half = window // 2
    yf = y.astype(np.float64, copy=False)
    left = np.full(half, median(yf[: half + 1]))
    right = np.full(half, median(yf[-half - 1 :]))
    padded = np.concatenate((left, yf, right))
    if y.size * window <= 2_000_000:
        view = np.lib.stride_tricks.sliding_window_view(padded, window)
        return np.asarray(median(view, axis=1), dtype=np.float64)
    from scipy.ndimage import median_filter

    out = median_filter(padded, size=window, mode="nearest")
    return np.asarray(out[half : half + y.size], np.float64)


def mad(y: FloatArray) -> float:
    """Median absolute deviation scaled to a normal standard deviation (0.0 for empty input)."""
    if y.size == 0:
        return 0.0
    med = float(median(y))
    # one full-length temporary, partitioned in place
    return float(MAD_TO_SD * median(np.abs(y - med), overwrite=True))


def noise_level(y: FloatArray) -> float:
    """Point-to-point noise of a series, with any smooth trend removed.

    Second differences cancel a locally linear trend, so a steadily falling loss does not count
    as noise: sd(diff2) = sqrt(6) * sd(noise) for white noise.
    """
    if y.size < 4:
        return 0.0
    return mad(np.diff(y, n=2)) / math.sqrt(6.0)


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


def percentile(y: FloatArray, q: float) -> float:
    """``np.percentile(y, q)`` (linear interpolation; NaN if any value is NaN or y is empty)."""
    if y.size == 0:
        return math.nan
    s = np.sort(y.reshape(-1))
    if math.isnan(float(s[-1])):
        return math.nan
    pos = (s.size - 1) * min(max(q, 0.0), 100.0) / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, s.size - 1)
    a, b = float(s[lo]), float(s[hi])
    return a if a == b else a + (b - a) * (pos - lo)


def median(y: npt.ArrayLike, axis: int | None = None, *, overwrite: bool = False) -> Any:
    """``np.median`` (NaN where a NaN is in the data), by ``np.partition``.

    Why not ``np.median``: its NaN check touches ``np.ma``, whose import costs about a tenth of
    the start-up of a 20-epoch diagnosis; and on the rolling windows of a smoothed curve the
    plain partition is several times faster. ``overwrite`` partitions a float64 array in place
    instead of a copy (like numpy's ``overwrite_input``).
    """
    a = np.asarray(y, dtype=np.float64)
    inplace = overwrite and a is y and a.ndim == 1  # its reshape below is a view of y
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
