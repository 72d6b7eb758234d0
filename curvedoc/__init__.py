"""curvedoc: rule-based learning-curve diagnosis.

>>> from curvedoc import diagnose
>>> report = diagnose({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]})
"""

from curvedoc._version import __version__
from curvedoc.api import diagnose, load
from curvedoc.errors import ConfigError, CurvedocError, InputError
from curvedoc.model import Advice, Curve, Finding, History, Report

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
    "load",
]
