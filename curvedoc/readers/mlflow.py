"""MLflow file-store runs: ``<run>/metrics/<key>`` files and ``<run>/params/<name>`` files.

Each metric file holds one line per ``log_metric`` call, ``"<timestamp_ms> <value> <step>"`` (the
old form has no step; it then defaults to 0, as MLflow's own reader does). Keys containing ``/``
are subfolders (``metrics/train/loss`` is the key ``train/loss``). A resumed run appends to the same
files, so repeated steps are merged, the last line winning. The value is Python's ``str()`` of a
float, so ``nan``/``inf`` occur and are kept. ``params/`` files (one value each) become meta.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._meta import meta_key, scalar
from curvedoc.readers._numeric import parse_strings
from curvedoc.readers._text import read_text

FORMATS: tuple[tuple[str, str], ...] = (
    ("mlflow", "MLflow file-store run folder (metrics/<key>: 'timestamp value step' lines)"),
)

_LINE = re.compile(r"^\s*-?\d+\s+\S+(\s+-?\d+)?\s*$")


def looks_like_metric_file(text: str) -> bool:
    """Every non-blank line is ``<int> <value> [<int>]``."""
    head = [ln for ln in text[:8192].splitlines()[:50] if ln.strip()]
    tail = [ln for ln in text[-1024:].splitlines()[1:] if ln.strip()]
    return bool(head) and all(_LINE.match(ln) for ln in head + tail)


def is_run_folder(path: Path) -> bool:
    metrics = path / "metrics"
    return metrics.is_dir() and any(p.is_file() for p in metrics.rglob("*"))


def metric_series(text: str, key: str, source: str) -> Series:
    """The series of one metric file."""
    steps: list[str] = []
    values: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            raise InputError(
                "expected '<timestamp> <value> <step>'", path=source, line=lineno, field=key
            )
        values.append(parts[1])
        steps.append(parts[2] if len(parts) == 3 else "0")
    x = parse_strings(steps)
    y = parse_strings(values)
    for col, what in ((x, "step"), (y, "value")):
        if col.text_rows:
            raise InputError(
                f"the {what} is not a number: {col.first_text!r}", path=source, field=key
            )
    return Series(key, x.values, y.values, y.missing)


def read_run_folder(
    path: Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    metrics_dir = path / "metrics"
    series: list[Series] = []
    for file in sorted(p for p in metrics_dir.rglob("*") if p.is_file()):
        key = file.relative_to(metrics_dir).as_posix()
        text = _read_or_empty(file)
        if text is None:
            continue
        series.append(metric_series(text, key, str(file)))
    meta: dict[str, Any] = {}
    params_dir = path / "params"
    if params_dir.is_dir():
        for file in sorted(p for p in params_dir.rglob("*") if p.is_file()):
            name = file.relative_to(params_dir).as_posix()
            text = _read_or_empty(file)
            if text is None:
                continue
            meta[meta_key(name)] = scalar(text)
    return assemble(
        source=source,
        fmt="mlflow",
        series=series,
        x_unit="step",
        meta=meta,
        columns=columns,
        directions=directions,
    )


def _read_or_empty(file: Path) -> str | None:
    """A metric/param file's text; an empty file (a metric never logged) is None."""
    try:
        return read_text(file, str(file))
    except InputError as exc:
        if exc.message == "empty file":
            return None
        raise


def read_metric_text(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """A single MLflow metric file; the key is its path below ``metrics/`` (or its name)."""
    parts = Path(source).parts
    key = Path(source).name
    if "metrics" in parts:
        at = len(parts) - 1 - parts[::-1].index("metrics")
        key = "/".join(parts[at + 1 :]) or key
    return assemble(
        source=source,
        fmt="mlflow",
        series=[metric_series(text, key, source)],
        x_unit="step",
        columns=columns,
        directions=directions,
    )
