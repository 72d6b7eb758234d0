"""The saturating fits behind not-converged and slow-convergence (curvedoc.projection)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from curvedoc.projection import _fit, project


@pytest.mark.parametrize(("a", "b", "c"), [(0.2, 1.5, 3.0), (0.05, 0.8, 0.4), (1.3, 0.2, 12.0)])
def test_an_exact_exponential_is_recovered(a: float, b: float, c: float) -> None:
    t = np.linspace(0.0, 1.0, 80)
    fit = _fit(t, a + b * np.exp(-c * t), only="exponential")
    assert fit is not None
    got = fit[1]
    assert got == pytest.approx((a, b, c), rel=1e-3)


def test_an_exact_power_law_is_recovered() -> None:
    t = np.linspace(0.0, 1.0, 120)
    y = 0.1 + 2.0 * (t + 1.0) ** -1.7
    fit = _fit(t, y, only="power-law")
    assert fit is not None
    assert fit[1] == pytest.approx((0.1, 2.0, 1.7), rel=1e-3)


def test_a_positive_curve_is_never_projected_below_zero() -> None:
    x = np.arange(40.0)
    y = 1.0 - 0.02 * x  # a straight line would cross zero at x = 50
    proj = project(x, y)
    assert proj is not None
    assert proj.asymptote >= 0.0
    assert proj.asymptote_low >= 0.0


def test_the_extrapolation_and_its_range_for_a_noisy_run() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(1.0, 61.0)
    y = (0.3 + 1.2 * np.exp(-x / 25.0)) * (1 + rng.normal(0, 0.01, x.size))
    proj = project(x, y, within=0.01)
    assert proj is not None
    assert proj.asymptote == pytest.approx(0.3, rel=0.1)
    assert proj.asymptote_low <= proj.asymptote <= proj.asymptote_high
    # truth: the gap 1.2·exp(-x/25) falls to 0.003 at x = 25·ln(400) ≈ 150, i.e. ~90 more
    assert 50 < proj.extra_x < 150
    assert proj.extra_x_low <= proj.extra_x <= proj.extra_x_high
    assert math.isfinite(proj.r2)
    assert proj.r2 > 0.95


def test_no_projection_for_a_curve_that_does_not_decay() -> None:
    rng = np.random.default_rng(0)
    assert project(np.arange(50.0), 1.0 + rng.normal(0, 0.05, 50)) is None


def test_time_to_a_gap_is_inf_not_an_overflow_for_a_huge_slow_decay() -> None:
    """A CSV of values near 1e308 fitted with a slow power-law decay once raised OverflowError
    (found by the reader fuzz test): the time to close such a gap is inf."""
    from curvedoc.projection import _time_to

    assert _time_to("power", 0.0, 1e308, 1e-3, 1e-300) == math.inf
    assert _time_to("exponential", 0.0, 1e308, 1e-3, 1e-300) > 1e5
    assert _time_to("power", 0.0, 1.0, 1.0, 0.5) == pytest.approx(1.0)
    assert _time_to("exponential", 0.0, 1.0, 1.0, 0.5) == pytest.approx(math.log(2.0))
