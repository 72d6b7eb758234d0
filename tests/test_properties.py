"""Property tests: invariants that must hold for any series, not just the ones we thought of."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from curvedoc import engine
from curvedoc.model import Curve, History, Report
from curvedoc.packs import resolve_settings

SETTINGS = resolve_settings(config=None)

finite_or_nan = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
)
series = st.integers(min_value=0, max_value=300).flatmap(
    lambda n: arrays(np.float64, n, elements=finite_or_nan)
)
positive_series = st.integers(min_value=3, max_value=400).flatmap(
    lambda n: arrays(np.float64, n, elements=st.floats(1e-3, 1e3, allow_nan=False))
)


def history(**curves: np.ndarray) -> History:
    built = []
    for name, y in curves.items():
        role = {"loss": "train_loss", "val_loss": "val_loss", "grad_norm": "grad_norm", "lr": "lr"}[
            name
        ]
        x = np.arange(y.size, dtype=np.float64)
        built.append(Curve(name, role, "val" if name == "val_loss" else "train", x, y, "step"))
    return History("prop", "test", tuple(built), {})


def signature(report: Report) -> set[tuple[str, str, float, float]]:
    return {(f.rule, f.curves[0], f.span.start, f.span.end) for f in report.findings}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loss=series, val=series, grad=series)
def test_no_detector_crashes_on_any_series(
    loss: np.ndarray, val: np.ndarray, grad: np.ndarray
) -> None:
    report = engine.run(history(loss=loss, val_loss=val, grad_norm=grad), SETTINGS)
    assert report.errors == []
    # And whatever came out is valid output: it serialises to JSON.
    assert Report.model_validate_json(report.to_json()) == report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loss=positive_series,
    shape=st.sampled_from(["decay", "overfit", "diverge", "raw"]),
    exponent=st.integers(-12, 12),
)
def test_scaling_a_loss_changes_no_finding(loss: np.ndarray, shape: str, exponent: int) -> None:
    n = loss.size
    t = np.arange(n, dtype=np.float64)
    noise = loss / np.mean(loss)
    if shape == "decay":
        train = (np.exp(-t / max(n / 5, 1)) + 0.1) * noise
        val = train * 1.1
    elif shape == "overfit":
        train = np.exp(-t / max(n / 5, 1)) + 0.05
        val = 0.3 + ((t - n / 3) / n) ** 2 * noise
    elif shape == "diverge":
        train = np.where(t < n / 2, 1.0 - t / n, 0.5 + ((t - n / 2) / n) * 4) * noise
        val = train + 0.1
    else:
        train, val = loss, loss[::-1].copy()
    c = 2.0**exponent  # a power of two scales floats exactly, so any difference is the code's
    base = engine.run(history(loss=train, val_loss=val), SETTINGS)
    scaled = engine.run(history(loss=train * c, val_loss=val * c), SETTINGS)
    # The one documented absolute check: underfitting's chance level (ln C nats, 0.25 MSE) is a
    # fact about the loss's units, so a scaled loss may match or stop matching it.
    if any("chance_level" in f.evidence for r in (base, scaled) for f in r.findings):
        base, scaled = (
            r.model_copy(update={"findings": [f for f in r.findings if f.rule != "underfitting"]})
            for r in (base, scaled)
        )
    assert signature(base) == signature(scaled)
    for f_base, f_scaled in zip(base.findings, scaled.findings, strict=True):
        assert f_base.confidence == f_scaled.confidence
