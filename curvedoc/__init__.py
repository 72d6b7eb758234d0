"""curvedoc: rule-based learning-curve diagnosis.

>>> from curvedoc import diagnose
>>> report = diagnose({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]})

The public names are imported lazily (PEP 562), so ``curvedoc --version`` and ``curvedoc rules``
start without loading numpy, scipy and the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curvedoc._version import __version__

if TYPE_CHECKING:
    from curvedoc.api import diagnose, load, load_runs
    from curvedoc.discover import discover_runs
    from curvedoc.errors import ConfigError, CurvedocError, InputError
    from curvedoc.model import Advice, Curve, Finding, History, Report
    from curvedoc.sweep import diagnose_many

__all__ = [
    "Advice",
    "ConfigError",
    "Curve",
    "CurvedocError",
    "Finding",
    "History",
    "InputError",
    "Report",
    "__version__",
    "diagnose",
    "diagnose_many",
    "discover_runs",
    "load",
    "load_runs",
]

_LAZY = {
    "diagnose": "curvedoc.api",
    "load": "curvedoc.api",
    "load_runs": "curvedoc.api",
    "diagnose_many": "curvedoc.sweep",
    "discover_runs": "curvedoc.discover",
    "ConfigError": "curvedoc.errors",
    "CurvedocError": "curvedoc.errors",
    "InputError": "curvedoc.errors",
    "Advice": "curvedoc.model",
    "Curve": "curvedoc.model",
    "Finding": "curvedoc.model",
    "History": "curvedoc.model",
    "Report": "curvedoc.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'curvedoc' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
