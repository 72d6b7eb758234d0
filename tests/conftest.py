"""Shared test helpers: build a :class:`History` from plain lists, and the default settings.

``make_history(loss=[...], val_loss=[...])`` infers each curve's role, split and direction from
its name the way a reader would for the common Keras names, so tests stay short; pass a
:class:`Curve` positionally when a test needs full control.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from curvedoc.model import Curve, History
from curvedoc.packs import Settings, resolve_settings

#: name → (role, split, direction) for the names tests use.
KNOWN_NAMES: dict[str, tuple[str, str, str]] = {
    "loss": ("train_loss", "train", "min"),
    "train_loss": ("train_loss", "train", "min"),
    "val_loss": ("val_loss", "val", "min"),
    "eval_loss": ("val_loss", "val", "min"),
    "accuracy": ("train_metric", "train", "max"),
    "acc": ("train_metric", "train", "max"),
    "val_accuracy": ("val_metric", "val", "max"),
    "val_acc": ("val_metric", "val", "max"),
    "lr": ("lr", "train", "min"),
    "learning_rate": ("lr", "train", "min"),
    "grad_norm": ("grad_norm", "train", "min"),
}

Values = Sequence[float | None] | np.ndarray


def make_curve(
    name: str,
    y: Values,
    *,
    x: Values | None = None,
    role: str | None = None,
    direction: str | None = None,
    x_unit: str = "epoch",
    start: float = 1.0,
) -> Curve:
    """One curve; ``None`` in ``y`` becomes NaN; ``x`` defaults to ``start, start+1, ...``."""
    known_role, split, known_dir = KNOWN_NAMES.get(name, ("other", "none", "min"))
    ya = np.array([math.nan if v is None else v for v in y], dtype=np.float64)
    xa = (
        np.arange(ya.size, dtype=np.float64) + start
        if x is None
        else np.asarray(x, dtype=np.float64)
    )
    role = role or known_role
    if role != known_role:
        split = "val" if role.startswith("val") else "train"
    return Curve(
        name=name,
        role=role,
        split=split,
        x=xa,
        y=ya,
        x_unit=x_unit,
        direction=direction or known_dir,
    )


def build_history(
    *extra: Curve,
    meta: dict[str, Any] | None = None,
    x_unit: str = "epoch",
    start: float = 1.0,
    source: str = "test-run",
    **curves: Values,
) -> History:
    """A history from keyword lists (``loss=[...]``) plus any ready-made curves."""
    built = tuple(make_curve(n, y, x_unit=x_unit, start=start) for n, y in curves.items())
    return History(source=source, format="test", curves=(*built, *extra), meta=dict(meta or {}))


@pytest.fixture
def make_history() -> Callable[..., History]:
    return build_history


@pytest.fixture(scope="session")
def default_settings() -> Settings:
    """The default pack with every rule selected and no project config (``--isolated``)."""
    return resolve_settings(config=None)
