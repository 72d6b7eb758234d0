"""Numeric helpers: the fast paths agree with the reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import median_filter
from scipy.stats import kendalltau, theilslopes

from curvedoc import signal


@pytest.mark.parametrize("n", [3, 4, 5, 10, 101, 1000])
@pytest.mark.parametrize("w", [3, 5, 51])
def test_rolling_median_matches_scipy_away_from_the_edges(n: int, w: int) -> None:
    y = np.random.default_rng(n * w).normal(size=n)
    size = min(w, n if n % 2 else n - 1)
    half = size // 2
    got = signal.rolling_median(y, w)
    want = median_filter(y, size=size, mode="nearest")
    assert got.shape == y.shape
    np.testing.assert_allclose(got[half : n - half], want[half : n - half])


def test_rolling_median_edges_shrug_off_an_outlier_first_point() -> None:
    y = np.ones(200)
    y[0] = 50.0  # one wild first mini-batch
    smoothed = signal.rolling_median(y, 21)
    assert np.all(smoothed == 1.0)


def test_rolling_median_large_input_uses_the_same_definition() -> None:
    y = np.random.default_rng(0).normal(size=300_000)
    got = signal.rolling_median(y, 11)
    np.testing.assert_allclose(got[5:-5], median_filter(y, 11, mode="nearest")[5:-5])
    small = signal.rolling_median(y[:1000], 11)
    np.testing.assert_allclose(got[:5], small[:5])


def test_theil_sen_matches_scipy_on_short_series() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(50, dtype=float)
    y = 0.3 * x + rng.normal(size=50)
    y[7] = 100.0  # an outlier Theil–Sen must shrug off
    assert signal.theil_sen_slope(x, y) == pytest.approx(theilslopes(y, x)[0])


def test_mann_kendall_sign_and_scale() -> None:
    rising = np.arange(30, dtype=float)
    assert signal.mann_kendall_z(rising) > 5
    assert signal.mann_kendall_z(-rising) < -5
    noise = np.random.default_rng(1).normal(size=200)
    tau = kendalltau(np.arange(200), noise)[0]
    assert np.sign(signal.mann_kendall_z(noise)) == np.sign(tau)


def test_noise_level_ignores_a_linear_trend() -> None:
    rng = np.random.default_rng(2)
    y = np.linspace(10, 0, 2000) + rng.normal(0, 0.1, 2000)
    assert signal.noise_level(y) == pytest.approx(0.1, rel=0.1)


def test_bin_reduce_keeps_short_series_and_bounds_long_ones() -> None:
    x = np.arange(100, dtype=float)
    assert signal.bin_reduce(x, x, 200)[1] is x
    xs, ys = signal.bin_reduce(np.arange(10_000, dtype=float), np.arange(10_000, dtype=float), 100)
    assert xs.size == ys.size == 100
    assert np.all(np.diff(ys) > 0)


def test_runs_of_true() -> None:
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype=bool)
    assert signal.runs_of_true(mask) == [(1, 2), (4, 4), (7, 7)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(min_value=-1e300, max_value=1e300), st.just(float("nan"))),
        min_size=0,
        max_size=40,
    ),
    st.floats(min_value=0, max_value=100),
)
def test_median_and_percentile_agree_with_numpy(values: list[float], q: float) -> None:
    """signal.median / signal.percentile stand in for numpy's (which import numpy.ma)."""
    import warnings

    y = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_med = np.median(y) if y.size else np.nan
        want_pct = np.percentile(y, q) if y.size else np.nan
    got_med = signal.median(y)
    assert (np.isnan(want_med) and np.isnan(got_med)) or got_med == want_med
    got_pct = signal.percentile(y, q)
    if np.isnan(want_pct):
        assert np.isnan(got_pct)
    else:
        assert got_pct == pytest.approx(float(want_pct), rel=1e-12, abs=1e-300)


def test_median_along_an_axis_marks_rows_with_nan() -> None:
    m = np.array([[3.0, 1.0, 2.0], [1.0, np.nan, 5.0], [4.0, 2.0, 8.0]])
    out = signal.median(m, axis=1)
    assert out[0] == 2.0
    assert np.isnan(out[1])
    assert out[2] == 4.0
    windows = np.lib.stride_tricks.sliding_window_view(np.arange(10.0) ** 2, 4)
    assert np.array_equal(signal.median(windows, axis=1), np.median(windows, axis=1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=40))
def test_mad_matches_its_definition(values: list[float]) -> None:
    y = np.asarray(values)
    want = signal.MAD_TO_SD * np.median(np.abs(y - np.median(y)))
    assert signal.mad(y) == pytest.approx(float(want), rel=1e-12, abs=1e-12)
    assert np.array_equal(y, np.asarray(values))  # the input is left alone
