"""Run folders: a directory that holds one run as several files, or one log in a known place.

Checked in this order:

1. an MLflow run folder (``metrics/`` with metric files) -> ``mlflow``;
2. TensorBoard scalar CSV exports (``run-<run>-tag-<tag>.csv`` files with the header
   ``Wall time,Step,Value``) -> one ``tensorboard-csv`` history with one curve per file. With
   several runs (``train``, ``validation``) the curves are named ``<run>/<tag>`` so the pair
   ``train/epoch_loss`` / ``validation/epoch_loss`` stays apart;
3. a Hugging Face output folder: ``trainer_state.json``, else the ``checkpoint-<N>/`` with the
   largest N (checkpoints hold nested prefixes of one history, so they are never concatenated);
4. a Lightning ``version_<N>/`` folder (``metrics.csv``) or an Ultralytics run (``results.csv``);
5. a TensorBoard run folder (event files, or ``train/``/``validation/`` sub-folders holding
   them; :mod:`.tensorboard`).

A folder that is none of these is searched for the runs beneath it (:mod:`curvedoc.discover`):
an MLflow experiment or ``mlruns/`` root, ``lightning_logs/``, a sweep folder.
:func:`read_directory_runs` reads them all; :func:`read_directory` wants exactly one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers import mlflow, tensorboard
from curvedoc.readers._assemble import Series, assemble, with_notes
from curvedoc.readers._table import parse_delimited
from curvedoc.readers._text import read_text
from curvedoc.readers.csv_formats import sniff, tensorboard_name, tensorboard_series

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


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


def run_kind(path: Path) -> str | None:
    """What kind of run folder ``path`` is, or None when it is not one run."""
    if mlflow.is_run_folder(path):
        return "mlflow-run"
    if _tensorboard_exports(path):
        return "tensorboard-csv"
    if find_log_file(path) is not None:
        return "log-file"
    if tensorboard.is_run_folder(path):
        return "tensorboard"
    return None


ReadRuns = Callable[..., list[History]]


def read_run(
    path: Path,
    kind: str,
    *,
    source: str,
    read_file_runs: ReadRuns,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> list[History]:
    """The run(s) of a run folder of ``kind`` (a log file in it may hold several runs)."""
    kw: dict[str, Any] = {"columns": columns, "directions": directions}
    if kind == "mlflow-run":
        return [mlflow.read_run_folder(path, source=source, **kw)]
    if kind == "tensorboard-csv":
        return [read_tensorboard_folder(path, _tensorboard_exports(path), source=source, **kw)]
    if kind == "tensorboard":
        return [tensorboard.read_run_folder(path, source=source, **kw)]
    log = find_log_file(path)
    if log is None:
        raise InputError("is a directory; no known run layout in it", path=source)
    note = f"read {log.relative_to(path).as_posix()} in the folder"
    return [_with_note(h, note) for h in read_file_runs(log, **kw)]


def read_directory_runs(
    path: Path,
    *,
    source: str,
    read_file_runs: ReadRuns,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> list[History]:
    """Every run in or beneath the folder ``path`` (see the module docstring)."""
    from curvedoc.discover import discover

    try:
        kind = run_kind(path)
    except PermissionError:
        raise InputError("permission denied", path=source) from None
    kw: dict[str, Any] = {"read_file_runs": read_file_runs, "columns": columns}
    kw["directions"] = directions
    if kind is not None:
        return read_run(path, kind, source=source, **kw)
    found = discover(path)
    if not found.runs:
        raise InputError("is a directory; no known run layout in it", path=source)
    out: list[History] = []
    for ref in found.runs:
        ref_path = Path(ref.path)
        if ref_path.is_dir():
            runs = read_run(ref_path, ref.kind, source=ref.path, **kw)
        else:
            runs = read_file_runs(ref_path, columns=columns, directions=directions)
        out += runs
    return out


def read_directory(
    path: Path,
    *,
    source: str,
    read_file_runs: ReadRuns,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """The one run in the folder ``path``; several runs are an error that names them."""
    from curvedoc.discover import discover

    try:
        kind = run_kind(path)
    except PermissionError:
        raise InputError("permission denied", path=source) from None
    kw: dict[str, Any] = {"read_file_runs": read_file_runs, "columns": columns}
    kw["directions"] = directions
    if kind is not None:
        runs = read_run(path, kind, source=source, **kw)
        return runs[-1] if len(runs) == 1 else _one_of(runs, source)
    refs = discover(path).runs
    if len(refs) == 1:
        ref = refs[0]
        ref_path = Path(ref.path)
        if ref_path.is_dir():
            runs = read_run(ref_path, ref.kind, source=ref.path, **kw)
        else:
            runs = read_file_runs(ref_path, columns=columns, directions=directions)
        history = runs[0] if len(runs) == 1 else _one_of(runs, ref.path)
        return _with_note(history, f"the folder holds one run: {ref.name}")
    if refs:
        names = ", ".join(r.name for r in refs[:5]) + (", ..." if len(refs) > 5 else "")
        raise InputError(
            f"is a directory holding {len(refs)} runs ({names}); pass one run folder, or "
            "diagnose them all (curvedoc diagnose FOLDER, curvedoc.readers.read_runs)",
            path=source,
        )
    raise InputError("is a directory; no known run layout in it", path=source)


def _one_of(runs: list[History], source: str) -> History:
    from curvedoc.readers.multi import one_run

    return one_run(runs, source)


def _with_note(history: History, note: str) -> History:
    return with_notes(history, [note], first=True)
