"""Run folders: a directory that holds one run as several files, or one log in a known place.

Checked in this order:

1. an MLflow run folder (``metrics/`` with metric files) -> ``mlflow``;
2. TensorBoard scalar CSV exports (``run-<run>-tag-<tag>.csv`` files with the header
   ``Wall time,Step,Value``) -> one ``tensorboard-csv`` history with one curve per file. With
   several runs (``train``, ``validation``) the curves are named ``<run>/<tag>`` so the pair
   ``train/epoch_loss`` / ``validation/epoch_loss`` stays apart;
3. a Hugging Face output folder: ``trainer_state.json``, else the ``checkpoint-<N>/`` with the
   largest N (checkpoints hold nested prefixes of one history, so they are never concatenated);
4. a Lightning ``version_<N>/`` folder (``metrics.csv``) or an Ultralytics run (``results.csv``).

Anything else is an :class:`~curvedoc.errors.InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers import mlflow
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._table import parse_delimited
from curvedoc.readers._text import read_text
from curvedoc.readers.csv_formats import sniff, tensorboard_name, tensorboard_series

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")

ReadFile = Callable[..., History]


def _tensorboard_exports(path: Path) -> list[Path]:
    found = []
    for file in sorted(path.glob("*.csv")):
        if not file.is_file():
            continue
        try:
            with open(file, encoding="utf-8-sig", errors="replace") as fh:
                head = fh.readline()
        except OSError:
            continue
        if [h.strip().lower() for h in head.split(",")] == ["wall time", "step", "value"]:
            found.append(file)
    return found


def read_tensorboard_folder(
    path: Path,
    files: list[Path],
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    runs = {tensorboard_name(str(f))[0] for f in files}
    series: list[Series] = []
    for file in files:
        fsource = str(file)
        table = parse_delimited(read_text(file, fsource), fsource)
        if sniff(table) != "tensorboard-csv":
            continue
        run, tag, _ = tensorboard_name(fsource)
        name = tag if len(runs) == 1 or run in ("", ".") else f"{run}/{tag}"
        series.append(tensorboard_series(table, fsource, name=name))
    others = sorted(p.name for p in path.glob("*.csv") if p not in files)
    notes = [f"{len(series)} TensorBoard CSV export(s) read as one run"]
    if others:
        notes.append(f"not TensorBoard exports, ignored: {', '.join(others)}")
    return assemble(
        source=source,
        fmt="tensorboard-csv",
        series=series,
        x_unit="step",
        notes=notes,
        columns=columns,
        directions=directions,
    )


def _largest_checkpoint(path: Path) -> Path | None:
    best: tuple[int, Path] | None = None
    for child in path.iterdir():
        m = _CHECKPOINT.match(child.name)
        state = child / "trainer_state.json"
        if m and state.is_file() and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), state)
    return None if best is None else best[1]


def find_log_file(path: Path) -> Path | None:
    """The one log file a known run folder is about, if any."""
    for name in ("trainer_state.json", "metrics.csv", "results.csv", "history.csv"):
        if (path / name).is_file():
            return path / name
    return _largest_checkpoint(path)


def read_directory(
    path: Path,
    *,
    source: str,
    read_file: ReadFile,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """Read a run folder (see the module docstring); ``read_file`` reads a single log file."""
    try:
        if mlflow.is_run_folder(path):
            return mlflow.read_run_folder(
                path, source=source, columns=columns, directions=directions
            )
        exports = _tensorboard_exports(path)
        if exports:
            return read_tensorboard_folder(
                path, exports, source=source, columns=columns, directions=directions
            )
        log = find_log_file(path)
    except PermissionError:
        raise InputError("permission denied", path=source) from None
    if log is not None:
        history = read_file(log, columns=columns, directions=directions)
        return _with_note(history, f"read {log.relative_to(path).as_posix()} in the folder")
    runs = _child_runs(path)
    if len(runs) == 1:
        history = read_directory(
            runs[0],
            source=str(runs[0]),
            read_file=read_file,
            columns=columns,
            directions=directions,
        )
        return _with_note(history, f"the folder holds one run: {runs[0].name}")
    if runs:
        names = ", ".join(r.name for r in runs[:5]) + (", ..." if len(runs) > 5 else "")
        raise InputError(
            f"is a directory holding {len(runs)} runs ({names}); pass one run folder",
            path=source,
        )
    raise InputError("is a directory; no known run layout in it", path=source)


def _is_run(path: Path) -> bool:
    return (
        mlflow.is_run_folder(path)
        or bool(_tensorboard_exports(path))
        or find_log_file(path) is not None
    )


def _child_runs(path: Path) -> list[Path]:
    """Sub-folders that are runs (``mlruns/<exp>/`` holds runs, ``lightning_logs/`` versions)."""
    try:
        children = sorted(c for c in path.iterdir() if c.is_dir() and not c.name.startswith("."))
    except OSError:
        return []
    return [c for c in children[:1000] if _is_run(c)]


def _with_note(history: History, note: str) -> History:
    return History(
        source=history.source,
        format=history.format,
        curves=history.curves,
        meta=history.meta,
        notes=(note, *history.notes),
    )
