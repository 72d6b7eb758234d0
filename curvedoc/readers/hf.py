"""Hugging Face ``Trainer`` state: ``trainer_state.json`` (or its bare ``log_history`` list).

``log_history`` mixes three kinds of entries, all keyed by the optimizer ``step``:

1. training logs (``loss``, ``grad_norm``, ``learning_rate``) every ``logging_steps``;
2. evaluations (``eval_loss``, ``eval_<metric>``, and ``eval_runtime``/``*_per_second``, which are
   bookkeeping, not curves);
3. one final summary (``train_runtime``, ``train_loss`` = the mean over the whole run). The summary
   is *not* a curve point: its ``train_loss`` would look like a last training log and fake a jump,
   so it is dropped and noted.

x is the ``step`` (``x_unit="step"``); the fractional ``epoch`` becomes ``meta["steps_per_epoch"]``.
Python's ``json`` writes and reads bare ``NaN``/``Infinity`` tokens, and so do we.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, Sequence
from operator import methodcaller
from typing import Any

import numpy as np

from curvedoc.errors import InputError
from curvedoc.model import FloatArray, History
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._records import check_records, records_series

FORMATS: tuple[tuple[str, str], ...] = (
    ("hf-trainer-state", "Hugging Face Trainer trainer_state.json (log_history; x = step)"),
)

# trainer_state.json key -> meta key
_META_KEYS = {
    "train_batch_size": "batch_size",
    "max_steps": "max_steps",
    "num_train_epochs": "epochs",
    "logging_steps": "logging_steps",
    "eval_steps": "eval_steps",
    "save_steps": "save_steps",
    "global_step": "global_step",
}


def is_summary(entry: Container[str]) -> bool:
    """The end-of-training summary entry (``train_runtime``, ``train_loss``, ``total_flos``).

    It depends on the entry's keys alone, so an entry or its set of keys may be passed."""
    return "train_runtime" in entry or ("train_loss" in entry and "loss" not in entry)


def looks_like_log_history(records: Sequence[Mapping[str, object]]) -> bool:
    """Records with HF's shape: a ``step`` key and HF-specific keys."""
    return has_log_history_keys({k for rec in records for k in rec})


def has_log_history_keys(keys: set[str]) -> bool:
    """:func:`looks_like_log_history` of records whose keys, all together, are ``keys``."""
    return "step" in keys and bool(
        keys & {"train_runtime", "eval_runtime", "eval_loss"}
        or ("loss" in keys and "learning_rate" in keys and "epoch" in keys)
    )


def _steps_per_epoch(records: Sequence[Mapping[str, object]]) -> int | float | None:
    steps = list(map(_GET_STEP, records))
    epochs = list(map(_GET_EPOCH, records))
    return steps_per_epoch(numbers(steps), numbers(epochs))


def steps_per_epoch(steps: FloatArray, epochs: FloatArray) -> int | float | None:
    """Steps per epoch from the entry with the highest finite step among those with a positive
    epoch (NaN where an entry has no number)."""
    ok = np.flatnonzero((epochs > 0) & np.isfinite(steps))
    if ok.size == 0:
        return None
    i = int(ok[np.argmax(steps[ok])])
    spe = float(steps[i]) / float(epochs[i])
    if not math.isfinite(spe):
        return None
    # HF rounds the logged epoch (to 2 decimals in old versions): snap to the nearest whole step.
    return round(spe) if abs(spe - round(spe)) <= 0.01 * spe else round(spe, 2)


def numbers(values: list[object]) -> FloatArray:
    """The values as floats, NaN where one is no number (None: the key was absent)."""
    if set(map(type, values)) <= _NUMBER_TYPES:  # in C, the usual case
        try:
            return np.fromiter(values, dtype=np.float64, count=len(values))
        except OverflowError:
            pass
    return np.array([_number(v) for v in values], dtype=np.float64)


def _number(value: object) -> float:
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            pass
    return math.nan


_GET_STEP = methodcaller("get", "step")
_GET_EPOCH = methodcaller("get", "epoch")
_NUMBER_TYPES = frozenset({int, float})
_GET_GRAD_NORM = methodcaller("get", "grad_norm")
_SUMMARY_KEYS = ("train_runtime", "train_loss")


def _summary_indices(records: list[Mapping[str, object]]) -> list[int]:
    """Where the end-of-training summaries are (usually one, at the end).

    The records that carry neither summary key are ruled out with C-level ``map`` calls: a
    100,000-entry ``log_history`` takes no Python step per record here.
    """
    maybe = np.zeros(len(records), dtype=np.bool_)
    for key in _SUMMARY_KEYS:
        maybe |= np.fromiter(
            map(methodcaller("__contains__", key), records), dtype=np.bool_, count=len(records)
        )
    return [i for i in np.flatnonzero(maybe).tolist() if is_summary(records[i])]


def _unmask_nan_filter(
    entries: list[Mapping[str, object]],
) -> tuple[list[Mapping[str, object]], int]:
    """Undo the Trainer's NaN filter where the log proves it was at work.

    With ``logging_nan_inf_filter=True`` (the default) a non-finite step loss is replaced by the
    window's running mean, which is exactly 0.0 once every step of the window was non-finite: a
    run that blew up then logs ``loss: 0.0`` for ever, which reads as a perfect model. A 0.0
    loss logged with a non-finite ``grad_norm`` is that artefact, so it becomes NaN again.
    """
    norms = [g for g in map(_GET_GRAD_NORM, entries) if g.__class__ is float]
    if bool(np.isfinite(np.fromiter(norms, dtype=np.float64, count=len(norms))).all()):
        return entries, 0  # no non-finite grad_norm: nothing was masked (the usual case)
    out: list[Mapping[str, object]] = []
    masked = 0
    for rec in entries:
        loss, gn = rec.get("loss"), rec.get("grad_norm")
        if (
            isinstance(loss, int | float)
            and not isinstance(loss, bool)
            and loss == 0
            and isinstance(gn, float)
            and not math.isfinite(gn)
        ):
            rec = {**rec, "loss": math.nan}
            masked += 1
        out.append(rec)
    return out, masked


def read_log_history(
    log_history: object,
    *,
    source: str,
    fmt: str,
    state: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    if not isinstance(log_history, list):
        raise InputError("'log_history' is not a list", path=source, field="log_history")
    records = check_records(log_history, source)
    notes: list[str] = []
    entries: list[Mapping[str, object]] = []
    start = 0
    for i in _summary_indices(records):
        notes.append(summary_note(records[i]))
        entries.extend(records[start:i])
        start = i + 1
    entries.extend(records[start:])
    entries, masked = _unmask_nan_filter(entries)
    if masked:
        notes.append(masked_note(masked))
    plain = set(map(type, map(_GET_STEP, entries))) <= _NUMBER_TYPES  # in C; not bool
    without_step = (
        [] if plain else [r for r in entries if not isinstance(r.get("step"), int | float)]
    )
    if without_step:
        notes.append(without_step_note(len(without_step)))
        entries = [r for r in entries if isinstance(r.get("step"), int | float)]
    if not entries:
        raise InputError("log_history has no training or evaluation entries", path=source)
    series, more = records_series(
        entries, source=source, x_key="step", keep_names=tuple((columns or {}).keys())
    )
    return history_of(
        series,
        [*notes, *more],
        state=state,
        spe=_steps_per_epoch(entries),
        source=source,
        fmt=fmt,
        columns=columns,
        directions=directions,
    )


def summary_note(entry: Mapping[str, object]) -> str:
    tl = entry.get("train_loss")
    shown = f" (train_loss={tl:.4g})" if isinstance(tl, float | int) else ""
    return f"final summary entry at step {entry.get('step')}{shown} is not a curve point"


def masked_note(masked: int) -> str:
    return (
        f"loss: {masked} logged 0.0 values read as NaN (the Trainer's default "
        "logging_nan_inf_filter writes 0.0 once every step of a logging window was NaN/Inf; "
        "grad_norm is non-finite there)"
    )


def without_step_note(count: int) -> str:
    return f"{count} log entries without a step: dropped"


def history_of(
    series: list[Series],
    notes: list[str],
    *,
    state: Mapping[str, Any] | None,
    spe: int | float | None,
    source: str,
    fmt: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    """The History of a ``log_history`` already split into series (by either reader)."""
    meta: dict[str, Any] = {}
    for key, meta_key in _META_KEYS.items():
        value = (state or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            meta[meta_key] = value
    if spe:
        meta["steps_per_epoch"] = spe
    return assemble(
        source=source,
        fmt=fmt,
        series=series,
        x_unit="step",
        notes=notes,
        meta=meta,
        columns=columns,
        directions=directions,
    )


def read_trainer_state(
    state: Mapping[str, Any],
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    return read_log_history(
        state.get("log_history"),
        source=source,
        fmt="hf-trainer-state",
        state=state,
        columns=columns,
        directions=directions,
    )
