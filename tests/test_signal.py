"""Numeric helpers: the fast paths agree with the reference implementations."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import example, given, settings
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


def _padded_reference(y: np.ndarray, window: int) -> np.ndarray:
    """The rolling median's definition by brute force (numpy's median of every padded window)."""
    half = window // 2
    padded = np.concatenate(
        (np.full(half, np.median(y[: half + 1])), y, np.full(half, np.median(y[-half - 1 :])))
    )
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


def _scipy_reference(y: np.ndarray, window: int) -> np.ndarray:
    """The same definition through scipy's exact filter (what ``rolling_median`` used to call)."""
    half = window // 2
    padded = np.concatenate(
        (np.full(half, np.median(y[: half + 1])), y, np.full(half, np.median(y[-half - 1 :])))
    )
    return median_filter(padded, size=window, mode="nearest")[half : half + y.size]


@pytest.mark.parametrize(("n", "w"), [(20_000, 201), (20_001, 201), (9_000, 999), (4_097, 501)])
def test_rolling_median_sampled_path_is_exact_at_its_centres(n: int, w: int) -> None:
    rng = np.random.default_rng(n + w)
    y = np.cumsum(rng.normal(size=n)) + rng.standard_t(2, size=n)  # a wandering, heavy-tailed walk
    step = signal.rolling_median_step(n, w)
    assert n * w > signal.ROLLING_EXACT_MAX
    assert step == w // 12 > 1
    got = signal.rolling_median(y, w)
    want = _padded_reference(y, w)
    centres = np.union1d(np.arange(0, n, step), [n - 1])
    np.testing.assert_array_equal(got[centres], want[centres])
    # between the centres: on the chord of the two neighbouring centres
    between = np.setdiff1d(np.arange(n), centres)
    right = np.searchsorted(centres, between)
    a, b = want[centres[right - 1]], want[centres[right]]
    assert np.all((got[between] >= np.minimum(a, b)) & (got[between] <= np.maximum(a, b)))


@pytest.mark.parametrize(
    ("n", "w"), [(3, 3), (4, 3), (5, 5), (10, 9), (11, 11), (40, 21), (50, 23), (51, 49), (99, 97)]
)
def test_rolling_median_sampled_path_edges_match_the_padded_curve(
    monkeypatch: pytest.MonkeyPatch, n: int, w: int
) -> None:
    """The sampled path takes its edge windows from two short padded ends instead of a padded
    copy of the curve: forced on short curves (every centre, when windows are under 24), where
    the ends overlap, it gives the padded curve's medians exactly."""
    monkeypatch.setattr(signal, "ROLLING_EXACT_MAX", 0)
    rng = np.random.default_rng(n * 1000 + w)
    y = np.cumsum(rng.normal(size=n)) + rng.standard_t(2, size=n)
    got = signal.rolling_median(y, w)
    want = _padded_reference(y, min(w, n if n % 2 else n - 1))
    step = signal.rolling_median_step(n, w)
    centres = np.union1d(np.arange(0, n, step), [n - 1])
    np.testing.assert_array_equal(got[centres], want[centres])
    if step == 1:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sd", [0.01, 0.3])
def test_rolling_median_sampled_path_is_close_to_the_exact_filter(seed: int, sd: float) -> None:
    """A decaying loss plus noise, 200k steps, window 501: the sampled medians stay within a
    small fraction of the noise of the exact ones (the exact filter's own standard error on
    white noise is 1.25 * sd / sqrt(501) = 0.056 sd)."""
    n, w = 200_000, 501
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    y = 0.5 + 2.5 * np.exp(-t / 20_000) + rng.normal(0.0, sd, n)
    got = signal.rolling_median(y, w)
    want = _scipy_reference(y, w)
    err = np.abs(got - want)
    assert float(err.max()) < 0.15 * sd
    assert float(np.sqrt(np.mean(err**2))) < 0.02 * sd


def test_rolling_median_sampled_path_shrugs_off_a_spike_and_keeps_a_step() -> None:
    n, w = 100_000, 501
    step = signal.rolling_median_step(n, w)
    assert step > 1
    y = np.where(np.arange(n) < 60_000, 2.0, 1.0)  # a clean step down at 60000
    spiked = y.copy()
    spiked[30_000] = 1e12  # one blown-up mini-batch (the value itself, not NaN)
    spiked[60_003] = -1e12
    got = signal.rolling_median(spiked, w)
    assert np.array_equal(got, signal.rolling_median(y, w))
    # the step stays a step: sharp to within one sampling interval of where it is
    assert np.all(got[: 60_000 - step] == 2.0)
    assert np.all(got[60_000 + step :] == 1.0)
    assert np.all(np.diff(got) <= 0)
    # on a noisy curve a single spike moves nothing by more than a sliver of the noise
    rng = np.random.default_rng(5)
    noisy = 1.0 + rng.normal(0.0, 0.1, n)
    hit = noisy.copy()
    hit[50_000] = 1e30
    delta = np.abs(signal.rolling_median(hit, w) - signal.rolling_median(noisy, w))
    assert float(delta.max()) < 0.01 * 0.1
    assert np.all(delta[: 50_000 - w // 2 - step] == 0)
    assert np.all(delta[50_000 + w // 2 + step :] == 0)


@pytest.mark.parametrize("n", [3, 4, 40, 4_000, 50_001, 300_000])
@pytest.mark.parametrize("w", [1, 3, 21, 501, 20_001])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_rolling_median_length_and_dtype(n: int, w: int, dtype: type) -> None:
    y = (np.random.default_rng(n).normal(size=n) * 100).astype(dtype)
    before = y.copy()
    got = signal.rolling_median(y, w)
    assert got.shape == (n,)
    assert got.dtype == np.float64
    assert np.all(np.isfinite(got))
    assert got is not y
    assert np.array_equal(y, before)  # the input is left alone
    # every smoothed value is one the window could give: inside the data's range
    assert float(got.min()) >= float(y.min())
    assert float(got.max()) <= float(y.max())


def test_rolling_median_nan_marks_the_windows_it_is_in() -> None:
    """NaN behaves as it always did where the median is exact: a window holding a NaN has a
    NaN median (callers pass finite values; the sampled path spreads it by at most a step)."""
    n, w = 100_000, 501
    step = signal.rolling_median_step(n, w)
    y = np.random.default_rng(7).normal(size=n)
    y[40_000] = np.nan
    got = signal.rolling_median(y, w)
    nan = np.flatnonzero(np.isnan(got))
    assert nan.min() >= 40_000 - w // 2 - step
    assert nan.max() <= 40_000 + w // 2 + step
    assert np.all(np.isnan(got[40_000 - w // 2 : 40_000 + w // 2 + 1]))
    small = signal.rolling_median(y[39_000:41_000], 21)
    assert np.array_equal(np.flatnonzero(np.isnan(small)), np.arange(990, 1011))


def test_long_runs_never_import_scipy_ndimage() -> None:
    """Importing scipy.ndimage costs about 0.25 s and 26 MB; the engine must not need it, even
    on a 10^6-step log (every rolling median there is on the large, sampled path)."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import curvedoc
        from curvedoc import signal

        n = 1_000_000
        rng = np.random.default_rng(0)
        t = np.arange(n, dtype=float)
        loss = 0.5 + 2.5 * np.exp(-t / 100_000) + rng.normal(0, 0.2, n)
        grad = np.abs(1 + rng.normal(0, 0.2, n))
        grad[[123_456, 654_321]] = 40.0
        loss[[123_457, 654_322]] += 5.0  # spikes the loss feels (the rule asks)
        assert n * signal.smoothing_window(n) > signal.ROLLING_EXACT_MAX
        report = curvedoc.diagnose({"loss": loss.tolist(), "grad_norm": grad.tolist()})
        assert "gradient-explosion" in {f.rule for f in report.findings}, report.findings
        print(sorted(m for m in sys.modules if m.startswith("scipy.ndimage")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


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
@example([0.0, -2.5942404768265563e-32], 99.99609375)  # numpy interpolates from the nearer end
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
    before = y.copy()
    in_place = signal.percentile(y, q, overwrite=True)  # partitions y itself
    assert (np.isnan(got_pct) and np.isnan(in_place)) or in_place == got_pct
    assert np.array_equal(np.sort(y), np.sort(before), equal_nan=True)  # reordered, not changed
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
