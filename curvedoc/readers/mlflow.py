"""MLflow: file-store runs (a run, an experiment, an ``mlruns/`` root) and the SQLite store.

File store: ``mlruns/<experiment>/<run>/metrics/<key>`` and ``.../params/<name>`` files.

Each metric file holds one line per ``log_metric`` call, ``"<timestamp_ms> <value> <step>"`` (the
old form has no step; it then defaults to 0, as MLflow's own reader does). Keys containing ``/``
are subfolders (``metrics/train/loss`` is the key ``train/loss``). A resumed run appends to the same
files, so repeated steps are merged, the last line winning. The value is Python's ``str()`` of a
float, so ``nan``/``inf`` occur and are kept. ``params/`` files (one value each) become meta, and
the run's name (``meta.yaml``'s ``run_name`` or the ``mlflow.runName`` tag) becomes
``meta["run_name"]``. An experiment folder holds runs (deleted runs, ``lifecycle_stage:
deleted``, are skipped) and an ``mlruns/`` root holds experiments (``.trash`` is skipped).

SQLite store (``mlflow.db``, MLflow's default since 3.7), read with the standard library's
:mod:`sqlite3`, read-only: table ``metrics(key, value, timestamp, run_uuid, step, is_nan)``.
MLflow stores NaN as ``value=0, is_nan=1`` and +-Inf as +-1.7976931348623157e308 (the largest
double); both are turned back. Runs come from ``runs`` (deleted ones skipped), their names and
experiments from ``runs.name``/``experiments.name``, hyperparameters from ``params``. Each run
is one history whose source is ``<db>#<run id>``. Within a metric key the points are taken in
timestamp order, so a resumed run's re-logged step keeps its latest value.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._meta import meta_key, scalar
from curvedoc.readers._numeric import parse_strings
from curvedoc.readers._text import SQLITE_MAGIC, read_text

if TYPE_CHECKING:  # sqlite3 is imported when a store is read, not on every run
    import sqlite3

FORMATS: tuple[tuple[str, str], ...] = (
    ("mlflow", "MLflow file store: a run, an experiment or an mlruns/ folder (metrics/<key>)"),
    ("mlflow-sqlite", "MLflow SQLite store (mlflow.db): one history per run"),
)

_DOUBLE_MAX = sys.float_info.max

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


def numbered_if_stepless(series: list[Series]) -> list[str]:
    """Number in logging order the metrics logged without a step, and say so.

    ``mlflow.log_metric(key, value)`` without ``step=`` records step 0 every time: thirty epochs
    of a loss arrive as thirty values at step 0, which read by step would collapse to one
    point. The files (and the store, ordered by timestamp) keep them in the order logged.
    """
    stepless = []
    for s in series:
        x = s.x
        if x.size > 1 and bool(np.all(x == x[0])):
            s.x = np.arange(x.size, dtype=np.float64)
            stepless.append(s.name)
    if not stepless:
        return []
    names = ", ".join(stepless)
    return [f"logged without a step (all at step 0), numbered in the order logged: {names}"]


def _yaml_value(path: Path, key: str) -> str | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(rf"^{key}:[ \t]*(.*?)\s*$", text, re.MULTILINE)
    return m.group(1).strip("'\"") if m else None


def is_deleted(run: Path) -> bool:
    return _yaml_value(run / "meta.yaml", "lifecycle_stage") == "deleted"


def run_name(run: Path) -> str | None:
    name = _yaml_value(run / "meta.yaml", "run_name")
    if not name:
        tag = run / "tags" / "mlflow.runName"
        try:
            name = tag.read_text(encoding="utf-8").strip() if tag.is_file() else None
        except (OSError, UnicodeDecodeError):
            name = None
    return name or None


def experiment_runs(path: Path) -> list[Path]:
    """The live run folders of an experiment folder, in name order."""
    try:
        children = sorted(c for c in path.iterdir() if c.is_dir() and not c.name.startswith("."))
    except OSError:
        return []
    return [c for c in children if is_run_folder(c) and not is_deleted(c)]


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
    label = run_name(path)
    if label:
        meta.setdefault("run_name", label)
    return assemble(
        source=source,
        fmt="mlflow",
        series=series,
        x_unit="step",
        notes=numbered_if_stepless(series),
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
    series = [metric_series(text, key, source)]
    return assemble(
        source=source,
        fmt="mlflow",
        series=series,
        x_unit="step",
        notes=numbered_if_stepless(series),
        columns=columns,
        directions=directions,
    )


# --- SQLite store ------------------------------------------------------------------------------


def is_sqlite_store(data_head: bytes) -> bool:
    return data_head.startswith(SQLITE_MAGIC)


def has_store_tables(path: Path) -> bool:
    """The SQLite file at ``path`` has MLflow's ``metrics`` and ``runs`` tables."""
    import sqlite3

    try:
        with _connect(path) as con:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    except (sqlite3.Error, OSError):
        return False
    return {"metrics", "runs"} <= names


@contextmanager
def _connect(data: bytes | Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a database file, or to database bytes (stdin, gzip)."""
    import sqlite3
    import tempfile

    tmp: str | None = None
    if isinstance(data, Path):
        target = data
    else:
        fd, tmp = tempfile.mkstemp(suffix=".db")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        target = Path(tmp)
    con = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield con
    finally:
        con.close()
        if tmp is not None:
            os.unlink(tmp)


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in con.execute(f"PRAGMA table_info({table})")}


def read_sqlite_runs(
    data: bytes | Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> list[History]:
    """Every live run of an MLflow SQLite store (see the module docstring)."""
    import sqlite3

    try:
        with _connect(data) as con:
            return _read_store(con, source, columns, directions)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"cannot read the SQLite database ({exc})", path=source) from None


def _read_store(
    con: sqlite3.Connection,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> list[History]:
    metric_cols = _columns(con, "metrics")
    if not {"key", "value", "run_uuid", "step"} <= metric_cols or not _columns(con, "runs"):
        raise InputError("an SQLite database without MLflow's metrics and runs tables", path=source)
    run_cols = _columns(con, "runs")
    name_col = "r.name" if "name" in run_cols else "NULL"
    live = "WHERE r.lifecycle_stage IS NULL OR r.lifecycle_stage != 'deleted'"
    if "lifecycle_stage" not in run_cols:
        live = ""
    has_exp = bool(_columns(con, "experiments")) and "experiment_id" in run_cols
    exp_join = "LEFT JOIN experiments e ON e.experiment_id = r.experiment_id" if has_exp else ""
    exp_name = "e.name" if has_exp else "NULL"
    order = "r.start_time, r.run_uuid" if "start_time" in run_cols else "r.run_uuid"
    runs = con.execute(
        f"SELECT r.run_uuid, {name_col}, {exp_name} FROM runs r {exp_join} {live} ORDER BY {order}"
    ).fetchall()
    is_nan = "is_nan" if "is_nan" in metric_cols else "0"
    ts = "timestamp" if "timestamp" in metric_cols else "0"
    params: dict[str, dict[str, Any]] = {}
    if {"key", "value", "run_uuid"} <= _columns(con, "params"):
        for run_id, key, value in con.execute("SELECT run_uuid, key, value FROM params"):
            params.setdefault(run_id, {})[meta_key(str(key))] = scalar(str(value))
    out: list[History] = []
    failed: list[str] = []
    for run_id, name, experiment in runs:
        rows = con.execute(
            f"SELECT key, step, value, {is_nan} FROM metrics WHERE run_uuid = ? "
            f"ORDER BY key, {ts}, step",
            (run_id,),
        ).fetchall()
        meta: dict[str, Any] = dict(params.get(run_id, {}))
        if name:
            meta["run_name"] = str(name)
        if experiment:
            meta["experiment"] = str(experiment)
        run_source = f"{source}#{run_id}"
        label = f"run {name!r} ({run_id})" if name else f"run {run_id}"
        notes = [f"{label} of experiment {experiment!r}" if experiment else label]
        run_series = _store_series(rows)
        notes += numbered_if_stepless(run_series)
        try:
            out.append(
                assemble(
                    source=run_source,
                    fmt="mlflow-sqlite",
                    series=run_series,
                    x_unit="step",
                    notes=notes,
                    meta=meta,
                    columns=columns,
                    directions=directions,
                )
            )
        except InputError as exc:
            failed.append(f"{label}: {exc.message}")
    if not out:
        detail = f" ({'; '.join(failed[:3])})" if failed else ""
        raise InputError(f"no run with a metric curve in the MLflow store{detail}", path=source)
    return out


def _store_series(rows: list[tuple[Any, ...]]) -> list[Series]:
    series: list[Series] = []
    start = 0
    n = len(rows)
    while start < n:
        key = rows[start][0]
        stop = start
        while stop < n and rows[stop][0] == key:
            stop += 1
        chunk = rows[start:stop]
        x = np.array([r[1] for r in chunk], dtype=np.float64)
        y = np.array([r[2] for r in chunk], dtype=np.float64)
        nan = np.array([bool(r[3]) for r in chunk], dtype=np.bool_)
        y[nan] = np.nan
        y[y >= _DOUBLE_MAX] = np.inf
        y[y <= -_DOUBLE_MAX] = -np.inf
        series.append(Series(str(key), x, y))
        start = stop
    return series
