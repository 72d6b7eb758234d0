"""The Python API: ``diagnose()`` and ``load()``.

>>> from curvedoc import diagnose
>>> report = diagnose(history.history)          # a Keras History dict
>>> report = diagnose("runs/exp1/metrics.csv")  # any supported log file
>>> report.findings[0].rule
'overfitting'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from curvedoc import engine
from curvedoc._version import __version__
from curvedoc.errors import CurvedocError
from curvedoc.model import History, Report
from curvedoc.packs import Settings, resolve_settings


def load(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """Read a training log (a path, or an in-memory object) into a :class:`History`.

    ``source`` may be a file or run-folder path, a dict of lists (Keras ``history.history``), an
    object with a ``.history`` dict (a Keras ``History``), a list of dicts (Hugging Face
    ``log_history``), a pandas DataFrame, or a :class:`History`. ``columns`` maps a column name to
    a role (``train_loss``, ``val_loss``, ``train_metric``, ``val_metric``, ``lr``, ``grad_norm``,
    ``other``, ``ignore``); ``directions`` maps a column to ``min`` or ``max``.
    Raises :class:`~curvedoc.errors.InputError` when the input cannot be read.
    """
    from curvedoc import readers

    if isinstance(source, (str, os.PathLike)):
        return readers.read_path(source, columns=columns, directions=directions)
    return readers.from_object(source, columns=columns, directions=directions)


def load_runs(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    pattern: str | None = None,
) -> list[History]:
    """Every run a file or folder holds (a Keras CSV appended across restarts, a W&B export of
    several runs, an MLflow store...), each a :class:`History` whose ``source`` names it
    (``log.csv#run2``). :func:`load` returns one of them (see its notes)."""
    from curvedoc import readers

    return readers.read_runs(path, columns=columns, directions=directions, pattern=pattern)


def diagnose(
    source: Any,
    *,
    rules: str | Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> Report:
    """Diagnose a training log and return a :class:`Report`.

    ``rules`` is a rule pack (a built-in name or a TOML path); ``select``/``ignore`` take rule
    names or codes; ``params`` sets parameters as ``{"overfitting.min_rise": 0.1}`` (also
    ``"rule.severity"``/``"rule.enabled"``). ``hparams`` states hyperparameters the log does not
    hold (``{"learning_rate": 3e-4, "batch_size": 64}``) so advice can quote them. Project
    config (``[tool.curvedoc]``) is read only when ``config`` is given (``"auto"`` searches
    upward from the working directory), so a notebook gets the same answer wherever it runs.
    Raises
    :class:`~curvedoc.errors.CurvedocError` on bad input or configuration.
    """
    settings = settings_for(
        rules=rules,
        select=select,
        ignore=ignore,
        params=params,
        columns=columns,
        directions=directions,
        config=config,
        hparams=hparams,
    )
    history = load(source, columns=settings.columns, directions=settings.directions)
    return engine.run(history, settings)


def settings_for(
    *,
    rules: str | Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> Settings:
    """The :class:`Settings` for the Python API's keyword arguments (shared by :func:`diagnose`
    and :func:`curvedoc.sweep.diagnose_many`, so both read them the same way)."""
    return resolve_settings(
        rules=rules,
        select=select,
        ignore=ignore,
        set_params=dict(params or {}),
        columns=columns,
        directions=directions,
        config=config,
        hparams=dict(hparams or {}),
    )


def diagnose_history(history: History, settings: Settings) -> Report:
    """Run the engine on an already loaded history."""
    return engine.run(history, settings)


def diagnose_path(path: str | os.PathLike[str], settings: Settings) -> Report:
    """Diagnose one path; an unreadable input becomes a report with ``error`` set (never raises
    for bad input), so a command over many files reports every one of them."""
    return diagnose_path_with_history(path, settings)[0]


def diagnose_path_with_history(
    path: str | os.PathLike[str], settings: Settings
) -> tuple[Report, History | None]:
    """:func:`diagnose_path`, also returning the loaded history (``None`` when unreadable), for
    outputs that draw the curves themselves (the HTML report, ``curvedoc plot``)."""
    try:
        history = load(path, columns=settings.columns, directions=settings.directions)
    except CurvedocError as exc:
        return error_report(str(path), str(exc)), None
    return engine.run(history, settings), history


def error_report(source: str, message: str) -> Report:
    return Report(curvedoc_version=__version__, source=source, error=message)
