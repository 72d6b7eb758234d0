"""The detector registry: one module and one class per rule, listed here explicitly.

The order of :data:`DETECTORS` is the order rules run and are listed in ``curvedoc rules``.
"""

from __future__ import annotations

from curvedoc.detectors.base import Detector
from curvedoc.detectors.divergence import Divergence
from curvedoc.detectors.frozen import Frozen
from curvedoc.detectors.gradient_explosion import GradientExplosion
from curvedoc.detectors.non_finite import NonFinite
from curvedoc.detectors.not_converged import NotConverged
from curvedoc.detectors.oscillation import Oscillation
from curvedoc.detectors.overconfidence import Overconfidence
from curvedoc.detectors.overfitting import Overfitting
from curvedoc.detectors.plateau import Plateau
from curvedoc.detectors.slow_convergence import SlowConvergence
from curvedoc.detectors.underfitting import Underfitting
from curvedoc.detectors.val_better import ValBetterThanTrain
from curvedoc.detectors.warmup_instability import WarmupInstability
from curvedoc.errors import UnknownRuleError

DETECTORS: tuple[type[Detector], ...] = (
    NonFinite,
    Overfitting,
    Underfitting,
    Overconfidence,
    ValBetterThanTrain,
    Divergence,
    GradientExplosion,
    Oscillation,
    WarmupInstability,
    Plateau,
    NotConverged,
    SlowConvergence,
    Frozen,
)

_BY_KEY: dict[str, type[Detector]] = {}
for _d in DETECTORS:
    _BY_KEY[_d.name] = _d
    _BY_KEY[_d.code.lower()] = _d


def get_detector(rule_or_code: str) -> type[Detector]:
    """Look a detector up by kebab-case name (``overfitting``) or code (``CD201``)."""
    det = _BY_KEY.get(rule_or_code.strip().lower())
    if det is None:
        names = ", ".join(f"{d.code} {d.name}" for d in DETECTORS)
        raise UnknownRuleError(f"unknown rule {rule_or_code!r}; known rules: {names}")
    return det


__all__ = ["DETECTORS", "Detector", "get_detector"]
