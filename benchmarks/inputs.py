"""The benchmark's inputs: where :mod:`generate` wrote each log.

A module of its own, without numpy, so that :mod:`run` (whose own memory every child's measured
peak starts from) can name the inputs without importing the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Inputs:
    """Where each generated input is."""

    keras_20: Path
    keras_20_improving: Path
    keras_1000: Path
    hf_100k: Path
    plain_1e6: Path
    lightning_1e6: Path
    runs: Path
    plain_1e7: Path | None = None
    lightning_1e7: Path | None = None
    jsonl_1e6: Path | None = None
