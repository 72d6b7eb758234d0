"""JSON logs, told apart by their shape.

* an object with a ``log_history`` list -> Hugging Face ``trainer_state.json`` (:mod:`.hf`);
* an object of lists -> Keras ``History`` (:mod:`.keras_history`), also inside a
  ``{"history": {...}, "params": {...}}`` wrapper or alone under one key (``{"0": {...}}``,
  told from a one-data-set ``evals_result`` by its ``val_`` names);
* an object of objects of lists -> XGBoost/LightGBM ``evals_result`` (:mod:`.boosting`);
* a list of objects -> generic records (``json-records``); HF-shaped records get HF's treatment
  (the final summary entry is dropped);
* one object per line -> JSON Lines (``jsonl``); a broken *last* line (a job still writing) is
  dropped with a note, a broken line elsewhere is an error naming it.

Bare ``NaN``/``Infinity`` tokens are accepted (Python writes them). Nesting deeper than the
interpreter's recursion limit is an :class:`~curvedoc.errors.InputError`, not a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers import hf
from curvedoc.readers._assemble import assemble, with_notes
from curvedoc.readers._records import check_records, find_x_key, records_series, x_axis
from curvedoc.readers.boosting import is_evals_result, read_evals_result
from curvedoc.readers.keras_history import (
    is_dict_of_lists,
    keras_params_meta,
    read_dict_of_lists,
    split_lists_and_scalars,
)

FORMATS: tuple[tuple[str, str], ...] = (
    ("json-records", "a JSON list of records [{step: .., loss: ..}, ...]"),
    ("jsonl", "JSON Lines: one record object per line"),
)


def _loads(text: str, source: str, line_offset: int = 0) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg} (column {exc.colno})",
            path=source,
            line=exc.lineno + line_offset,
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to be a training log", path=source) from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise InputError(f"invalid JSON: {exc}", path=source) from None


def read_records(
    records: Sequence[object],
    *,
    source: str,
    fmt: str,
    lines: Sequence[int] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    recs = check_records(records, source)
    if not recs:
        raise InputError("an empty list of records", path=source)
    if lines is None and hf.looks_like_log_history(recs):
        return hf.read_log_history(
            list(recs), source=source, fmt="hf-log-history", columns=columns, directions=directions
        )
    notes: list[str] = []
    if lines is not None and hf.looks_like_log_history(recs):
        keep = [i for i, r in enumerate(recs) if not hf.is_summary(r)]
        if len(keep) != len(recs):
            notes.append("final summary record (train_runtime, train_loss) is not a curve point")
            recs = [recs[i] for i in keep]
            lines = [lines[i] for i in keep]
    x_key = find_x_key(recs)
    x_unit, note = x_axis(x_key)
    notes += [note] if note else []
    series, more = records_series(
        recs, source=source, x_key=x_key, lines=lines, keep_names=tuple((columns or {}).keys())
    )
    return assemble(
        source=source,
        fmt=fmt,
        series=series,
        x_unit=x_unit,
        notes=[*notes, *more],
        columns=columns,
        directions=directions,
    )


def is_json_scalar(text: str) -> bool:
    """A number, string, true/false/null on its own: valid JSON, but no training log."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return not isinstance(value, dict | list)


def _keras_history_under_one_key(value: Mapping[Any, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """``{"0": {"loss": [...], "val_loss": [...]}}``: a Keras history saved inside a dict (of
    folds, of runs), which by shape is also an XGBoost ``evals_result`` of one data set. Keras's
    own names tell it apart: a ``val_`` key beside the same name without it, which no boosting
    library's metric list has (their data sets are the outer keys)."""
    if len(value) != 1:
        return None
    ((key, inner),) = value.items()
    if not (isinstance(inner, Mapping) and is_dict_of_lists(inner)):
        return None
    names = {str(k) for k in inner}
    if not any(k.startswith("val_") and k[4:] in names for k in names):
        return None
    return str(key), inner


def _describe(value: object) -> str:
    if isinstance(value, Mapping):
        keys = ", ".join(repr(str(k))[:30] for k in list(value)[:5])
        return f"an object with keys {keys}" + (", ..." if len(value) > 5 else "")
    if isinstance(value, list):
        return "a list that is not a list of records"
    return f"a JSON {type(value).__name__}"


def read_value(
    value: object,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
    in_memory: bool = False,
) -> History:
    """Read a parsed JSON value (or the same shape from Python) by its shape."""
    kw: dict[str, Any] = {"source": source, "columns": columns, "directions": directions}
    if isinstance(value, Mapping):
        if "log_history" in value:
            return hf.read_trainer_state(value, **kw)
        inner = value.get("history")
        if is_dict_of_lists(inner) and isinstance(inner, Mapping):
            meta = keras_params_meta(value.get("params"))
            fmt = "keras-history" if in_memory else "keras-json"
            return read_dict_of_lists(inner, fmt=fmt, meta=meta, **kw)
        if is_dict_of_lists(value):
            fmt = "keras-history" if in_memory else "keras-json"
            return read_dict_of_lists(value, fmt=fmt, **kw)
        nested = _keras_history_under_one_key(value)
        if nested is not None:
            key, inner = nested
            fmt = "keras-history" if in_memory else "keras-json"
            note = f"a Keras history under the key {key!r}"
            return read_dict_of_lists(inner, fmt=fmt, notes=[note], **kw)
        if is_evals_result(value):
            return read_evals_result(value, **kw)
        mixed = split_lists_and_scalars(value)
        if mixed is not None:
            lists, meta = mixed
            fmt = "keras-history" if in_memory else "keras-json"
            note = f"not lists, read as hyperparameters: {', '.join(meta)}"
            return read_dict_of_lists(lists, fmt=fmt, meta=meta, notes=[note], **kw)
        if not value:
            raise InputError("an empty JSON object", path=source)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
        fmt = "records" if in_memory else "json-records"
        return read_records(value, fmt=fmt, **kw)
    raise InputError(f"unknown JSON layout: {_describe(value)}", path=source)


def read_json_text(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    try:
        value = _loads(text, source)
    except InputError as first_error:
        jsonl = _try_jsonl(text, source)
        if jsonl is None:
            raise first_error from None
        records, lines, notes = jsonl
        history = read_records(
            records, source=source, fmt="jsonl", lines=lines, columns=columns, directions=directions
        )
        return with_notes(history, notes, first=True)
    return read_value(value, source=source, columns=columns, directions=directions)


def _try_jsonl(text: str, source: str) -> tuple[list[object], list[int], list[str]] | None:
    """Records and their line numbers if ``text`` is JSON Lines, else None."""
    raw = text.split("\n")
    numbered = [(i + 1, line) for i, line in enumerate(raw) if line.strip()]
    if len(numbered) < 2 or not all(line.lstrip().startswith("{") for _, line in numbered[:2]):
        return None
    records: list[object] = []
    lines: list[int] = []
    notes: list[str] = []
    for k, (lineno, line) in enumerate(numbered):
        try:
            rec = _loads(line, source, line_offset=lineno - 1)
        except InputError:
            if k == 0:
                return None
            if k == len(numbered) - 1:
                notes.append(
                    f"line {lineno}: incomplete last record (still being written?): dropped"
                )
                break
            raise
        if not isinstance(rec, dict):
            raise InputError("expected one JSON object per line", path=source, line=lineno)
        records.append(rec)
        lines.append(lineno)
    return records, lines, notes
