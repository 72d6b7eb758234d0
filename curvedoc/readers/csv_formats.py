"""The CSV flavours, told apart by their header (never by the file name).

===================  =========================================================  ==============
format               header signature                                           x axis
===================  =========================================================  ==============
tensorboard-csv      exactly ``Wall time,Step,Value``                           ``Step``
wandb-csv            ``"<run> - <key>"`` columns, ``__MIN``/``__MAX`` envelopes   first column
ultralytics          ``epoch`` + ``train/*`` + ``metrics/*``/``lr/pg*``/``x/lr*``  ``epoch``
lightning-csv        ``step`` + ``epoch`` (blank cells, or ``epoch`` first as the    ``step``
                     sorted header has it) or ``*_step``/``*_epoch`` columns
fastai-csv           ``epoch`` first, with ``train_loss`` and ``valid_loss``     ``epoch``
keras-csv            ``epoch`` first (Keras ``CSVLogger``)                      ``epoch``
keras-pandas-csv     empty first field (the pandas index), or a bare ``loss``   row number
                     column and no x column (``to_csv(index=False)``)
csv                  anything else; x is a column named step/epoch/iteration/    that column,
                     iter/round/global_step (any case), else the row number     or row number
===================  =========================================================  ==============

The x values are kept as written (Keras and fastai epochs are 0-based, Ultralytics 1-based); only
when a log has no x column are epochs numbered from 1, as Keras prints "Epoch 1/…" for index 0.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from curvedoc.errors import InputError
from curvedoc.model import FloatArray, History
from curvedoc.readers import roles
from curvedoc.readers._assemble import RunSpan, Series, assemble, read_each_run
from curvedoc.readers._meta import simple_yaml
from curvedoc.readers._table import (
    Table,
    parse_column,
    parse_delimited,
    row_slice,
    table_series,
    x_from_column,
)
from curvedoc.readers.wandb_csv import looks_like_wandb, read_wandb_runs, read_wandb_table

FORMATS: tuple[tuple[str, str], ...] = (
    ("keras-csv", "Keras CSVLogger file (epoch first, NA for missing, appended runs split)"),
    ("keras-pandas-csv", "Keras History saved with pandas to_csv (index column or bare loss)"),
    ("lightning-csv", "PyTorch Lightning CSVLogger metrics.csv (sparse rows, x = step)"),
    ("ultralytics", "Ultralytics YOLOv5/v8/11 results.csv (padded headers, x = epoch)"),
    ("fastai-csv", "fastai CSVLogger history.csv (epoch, train_loss, valid_loss, ..., time)"),
    ("tensorboard-csv", "TensorBoard scalar CSV export (Wall time,Step,Value), file or folder"),
    ("csv", "generic CSV/TSV: one column per series, x from a step/epoch column or the row"),
)

_X_CANDIDATES = ("global_step", "step", "steps", "iteration", "iter", "round", "_step", "epoch")
_EPOCH_NAMES = ("epoch", "epochs")
_TB_NAME = re.compile(r"(?:^|[_\W])run-(?P<run>.*)-tag-(?P<tag>.+?)(?:-\d+)?\.csv$", re.IGNORECASE)


def sniff(table: Table) -> str:
    """The CSV flavour of ``table`` (see the module docstring)."""
    names = table.names
    lower = [n.lower() for n in names]
    if lower == ["wall time", "step", "value"]:
        return "tensorboard-csv"
    if looks_like_wandb(names):
        return "wandb-csv"
    if (
        "epoch" in lower
        and any(n.startswith("train/") for n in lower)
        and any(n.startswith(("metrics/", "lr/pg", "x/lr")) for n in lower)
    ):
        return "ultralytics"
    # Lightning adds ``epoch`` to every row it logs (or forks names into _step/_epoch); a
    # ``step`` column with blank cells alone is any sparse log, read the same way as "csv"
    if "step" in names and (
        ("epoch" in names and table.has_blank_cells())
        or any(n.endswith(("_step", "_epoch")) for n in names)
        or ("epoch" in names and names.index("epoch") < names.index("step"))
    ):
        return "lightning-csv"
    if names and names[0] == "epoch":
        if "train_loss" in names and "valid_loss" in names:
            return "fastai-csv"
        if _keras_order(names[1:]):
            return "keras-csv"
        return "csv"
    if names and names[0] in ("", "Unnamed: 0") and len(names) > 1:
        return "keras-pandas-csv"
    if "loss" in names and table.find(*_X_CANDIDATES) is None:
        return "keras-pandas-csv"
    return "csv"


def _keras_order(keys: list[str]) -> bool:
    """Keras' CSVLogger writes ``epoch`` then the sorted metric names, with any ``val_*`` name
    first seen after epoch 0 appended at the end: a log whose columns are in another order was
    written by something else (a hand-rolled loop), and is read as a generic CSV."""
    head = list(keys)
    while head and head[-1].startswith("val_") and head != sorted(head):
        head.pop()
    return head == sorted(head)


def _row_numbers(n: int) -> FloatArray:
    return np.arange(1, n + 1, dtype=np.float64)


def _per_epoch_step(table: Table, step: FloatArray, source: str) -> bool:
    """True when ``step`` restarts every time the epoch column advances (a within-epoch counter)."""
    epoch_name = table.find(*_EPOCH_NAMES)
    if epoch_name is None or step.shape[0] < 2:
        return False
    epoch = x_from_column(table, epoch_name, source)
    back = np.flatnonzero(np.diff(step) < 0)
    if back.shape[0] == 0:
        return False
    return bool(np.all(np.diff(epoch)[back] > 0) and np.all(np.diff(epoch) >= 0))


def read_table(
    table: Table,
    fmt: str,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    """Read a sniffed table into a History."""
    if fmt == "tensorboard-csv":
        return assemble(
            source=source,
            fmt=fmt,
            series=[tensorboard_series(table, source)],
            x_unit="step",
            notes=table.notes,
            columns=columns,
            directions=directions,
        )
    if fmt == "wandb-csv":
        return read_wandb_table(table, source=source, columns=columns, directions=directions)
    notes = list(table.notes)
    keep = tuple((columns or {}).keys())
    skip: list[int] = []
    x_name: str | None = None
    x_unit = "epoch"
    if fmt in ("ultralytics", "fastai-csv", "keras-csv"):
        x_name = "epoch"
    elif fmt == "lightning-csv":
        x_name, x_unit = "step", "step"
    elif fmt == "keras-pandas-csv":
        if table.names[0] in ("", "Unnamed: 0"):
            skip.append(0)
            notes.append("the unnamed first column is the pandas row index; not a curve")
    else:
        x_name = table.find(*_X_CANDIDATES)
        if x_name is not None and x_name.lower() not in _EPOCH_NAMES:
            x_unit = "step"

    x: FloatArray
    if x_name is None:
        x = _row_numbers(table.rows)
        notes.append("no epoch/step column: epochs numbered from 1")
    else:
        x = x_from_column(table, x_name, source)
        if fmt == "csv" and x_unit == "step" and _per_epoch_step(table, x, source):
            x = _row_numbers(table.rows)
            notes.append(
                f"{x_name!r} restarts every epoch; x is the row number (1 = first logged row)"
            )
        skip.append(table.names.index(x_name))
    # the x column is skipped: it is the axis, not a curve, and needs no note
    series, more = table_series(table, source, x=x, skip=skip, keep_names=keep)
    meta: dict[str, Any] = {}
    # The hyperparameters the framework saves beside its log: Lightning's hparams.yaml,
    # Ultralytics' args.yaml (lr0, batch, weight_decay, epochs, warmup_epochs, optimizer).
    beside = {"lightning-csv": "hparams.yaml", "ultralytics": "args.yaml"}.get(fmt)
    hparams = Path(source).parent / beside if beside else None
    if hparams is not None and hparams.is_file():
        meta = simple_yaml(hparams)
        if meta:
            notes.append(f"hyperparameters from {hparams.name}: {', '.join(meta)}")
    return assemble(
        source=source,
        fmt=fmt,
        series=series,
        x_unit=x_unit,
        meta=meta,
        notes=[*notes, *more],
        columns=columns,
        directions=directions,
    )


def tensorboard_name(source: str) -> tuple[str, str, str]:
    """(run, tag, split) from TensorBoard's export name ``run-<run>-tag-<tag>.csv``.

    A trailing ``-<digits>`` after the tag (added by hand, e.g. ``-20`` for 20 epochs) is dropped.
    The run's last path part decides the split (``validation`` -> val, ``test`` -> test, else
    train); TensorBoard writes ``/`` in run and tag names as ``_``.
    """
    base = os.path.basename(source)
    base = base[:-3] if base.lower().endswith(".gz") else base
    m = _TB_NAME.search(base)
    if m is None:
        stem = os.path.splitext(base)[0]
        return ".", stem or "value", "train"
    run, tag = m.group("run"), m.group("tag")
    last = re.split(r"[/_\\]", run)[-1] if run not in ("", ".") else ""
    split = roles.split_of(last) if last else "none"
    return run, tag, "train" if split == "none" else split


def tensorboard_series(table: Table, source: str, *, name: str | None = None) -> Series:
    """The single curve of a TensorBoard CSV export, named and classified from the file name."""
    _, tag, split = tensorboard_name(source)
    x = x_from_column(table, table.names[1], source)
    col = parse_column(table, 2, source)
    if col is None:
        raise InputError("the Value column holds text, not numbers", path=source, field="Value")
    role, _, direction = roles.classify(tag)
    if role in ("train_loss", "val_loss"):
        role = roles.role_for_split("loss", split)
    elif role in ("train_metric", "val_metric") or (role == "other" and split != "train"):
        role = roles.role_for_split("metric", split)
    unit = "epoch" if tag.lower().startswith("epoch_") else "step"
    return Series(
        name or tag,
        x,
        col.values,
        col.missing,
        role=role,
        split=roles.split_for_role(role, split),
        direction=direction,
        x_unit=unit,
    )


def _run_starts(table: Table, fmt: str, source: str) -> list[tuple[int, str]]:
    """Where each run of an appended Keras/fastai log starts: (row, why).

    A new run starts at a repeated header (fastai writes one per ``fit()``) or where the epoch
    goes back to (or below) the epoch its run started at (Keras ``CSVLogger(append=True)`` across
    restarts from scratch). An epoch going back to a later epoch is a *resume* from a checkpoint
    (``initial_epoch=k``): the same run, whose repeated epochs the assembler merges.
    """
    if fmt not in ("keras-csv", "fastai-csv") or table.rows < 2:
        return [(0, "")]
    breaks = set(table.header_breaks)
    x = x_from_column(table, "epoch", source)
    back = {int(i) + 1 for i in np.flatnonzero(np.diff(x) < 0)}
    if not breaks and not back:
        return [(0, "")]
    starts = [(0, "")]
    first = x[0]
    for i in sorted(breaks | back):
        if i in breaks:
            starts.append((i, "a repeated header"))
        elif x[i] <= first:
            starts.append((i, f"the epoch went back to {x[i]:g}"))
        else:
            continue
        first = x[i]
    return starts


def read_csv_runs(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> list[History]:
    """Every run in a delimited log: usually one; several when a Keras or fastai log was appended
    to across restarts (see :func:`_run_starts`) or a W&B export holds several runs. The runs'
    sources are ``<file>#run<k>`` (k from 1, in file order) or ``<file>#<W&B run name>``."""
    return read_table_runs(
        parse_delimited(text, source), source=source, columns=columns, directions=directions
    )


def read_table_runs(
    table: Table,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> list[History]:
    """:func:`read_csv_runs` of a table already parsed (from text, or from the bytes of a big
    numeric log by :func:`~curvedoc.readers._table.parse_numeric_bytes`)."""
    if not table.names or all(not n for n in table.names):
        raise InputError("no header line", path=source)
    if table.rows == 0:
        raise InputError("a header but no data rows", path=source)
    fmt = sniff(table)
    if fmt == "wandb-csv":
        return read_wandb_runs(table, source=source, columns=columns, directions=directions)
    starts = _run_starts(table, fmt, source)
    if len(starts) == 1:
        return [read_table(table, fmt, source=source, columns=columns, directions=directions)]
    kept_notes = [n for n in table.notes if not n.startswith("header repeated mid-file")]
    bounds = [s for s, _ in starts] + [table.rows]
    parts = [row_slice(table, start, bounds[k + 1]) for k, (start, _) in enumerate(starts)]
    spans = [
        RunSpan(part.lines[0], part.lines[-1], why)
        for part, (_, why) in zip(parts, starts, strict=True)
    ]

    def read(k: int, run_source: str, notes: list[str]) -> History:
        part = parts[k]
        part.notes = [*notes, *kept_notes]
        return read_table(part, fmt, source=run_source, columns=columns, directions=directions)

    return read_each_run(spans, source, read)


def read_csv_text(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    """The last run of a delimited log (see :func:`read_csv_runs`)."""
    return read_csv_runs(text, source=source, columns=columns, directions=directions)[-1]
