"""In-memory inputs: what a notebook has at hand right after training.

* a :class:`~curvedoc.model.History` -> returned as is;
* a dict of lists (Keras ``history.history``) or an object with a ``.history`` dict (the Keras
  ``History`` callback itself; its ``.params`` become meta) -> ``keras-history``;
* a list of dicts (HF ``trainer.state.log_history`` -> ``hf-log-history``; other records ->
  ``records``);
* a ``trainer_state``-like dict or an ``evals_result`` dict of dicts, as in the JSON readers;
* a pandas ``DataFrame``, duck-typed (``.columns`` + ``.to_dict``; pandas is not imported) ->
  ``dataframe``. pandas marks a missing cell with NaN, so in a *sparse* frame (Lightning's
  ``metrics.csv`` loaded with pandas: a ``step`` column and many NaN cells) NaN means "not logged
  on this row" and is dropped; in a dense frame NaN is kept, since it is then a real NaN value;
* a fitted scikit-learn MLP (``loss_curve_``, ``validation_scores_``) -> ``sklearn-mlp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from curvedoc.errors import CurvedocError, InputError
from curvedoc.model import History
from curvedoc.readers._assemble import Series, assemble, clean_error
from curvedoc.readers._numeric import parse_objects
from curvedoc.readers._records import X_KEYS, x_unit_of
from curvedoc.readers.json_formats import read_value
from curvedoc.readers.keras_history import (
    as_list,
    is_dict_of_lists,
    is_list_like,
    keras_params_meta,
    read_dict_of_lists,
)

FORMATS: tuple[tuple[str, str], ...] = (
    ("records", "a list of dicts passed from Python (generic records)"),
    ("hf-log-history", "Hugging Face trainer.state.log_history (list of dicts)"),
    ("dataframe", "a pandas DataFrame (duck-typed): one column per series"),
    ("sklearn-mlp", "a fitted scikit-learn MLPClassifier/MLPRegressor (loss_curve_)"),
)

_SPARSE_NAN_SHARE = 1 / 3


def _is_dataframe(obj: object) -> bool:
    return hasattr(obj, "columns") and callable(getattr(obj, "to_dict", None))


def read_dataframe(
    frame: Any,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    data = frame.to_dict(orient="list")
    if not isinstance(data, Mapping) or not data:
        raise InputError("an empty DataFrame", path=source)
    cols: dict[str, list[object]] = {str(k): list(v) for k, v in data.items()}
    index = getattr(frame, "index", None)
    index_name = getattr(index, "name", None)
    if index_name is not None and str(index_name).lower() in X_KEYS and str(index_name) not in cols:
        cols = {str(index_name): as_list(index), **cols}
    lowered = {k.lower(): k for k in reversed(list(cols))}
    x_name = next((lowered[c] for c in X_KEYS if c in lowered), None)
    n = max(len(v) for v in cols.values())
    notes: list[str] = []
    x_unit = "epoch"
    if x_name is None:
        x = np.arange(1, n + 1, dtype=np.float64)
        notes.append("no epoch/step column: epochs numbered from 1")
    else:
        xcol = parse_objects(cols[x_name])
        if xcol.text_rows:
            raise InputError("the x column holds text, not numbers", path=source, field=x_name)
        x = xcol.values
        x_unit = x_unit_of(x_name)
    parsed = {k: parse_objects(v) for k, v in cols.items() if k != x_name}
    text = [k for k, c in parsed.items() if c.text_rows]
    if text:
        notes.append(f"not numeric, dropped: {', '.join(text)}")
    numeric = {k: c for k, c in parsed.items() if not c.text_rows}
    total = sum(c.values.shape[0] for c in numeric.values())
    nans = sum(int(np.isnan(c.values).sum()) for c in numeric.values())
    sparse = x_name is not None and total > 0 and nans / total >= _SPARSE_NAN_SHARE
    if sparse:
        notes.append("sparse frame: NaN cells read as 'not logged on this row'")
    series = []
    for name, col in numeric.items():
        missing = col.missing | np.isnan(col.values) if sparse else col.missing
        series.append(Series(name, x, col.values, missing))
    return assemble(
        source=source,
        fmt="dataframe",
        series=series,
        x_unit=x_unit,
        notes=notes,
        columns=columns,
        directions=directions,
    )


def _read_sklearn(
    model: Any,
    *,
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
) -> History:
    loss = parse_objects(as_list(model.loss_curve_))
    series = [Series("loss", np.arange(1, loss.values.shape[0] + 1.0), loss.values, loss.missing)]
    scores = getattr(model, "validation_scores_", None)
    if scores is not None and is_list_like(scores):
        col = parse_objects(as_list(scores))
        x = np.arange(1, col.values.shape[0] + 1.0)
        # accuracy (classifier) or R² (regressor): a score, higher is better, not a loss
        series.append(
            Series(
                "val_score",
                x,
                col.values,
                col.missing,
                role="val_metric",
                split="val",
                direction="max",
            )
        )
    meta: dict[str, Any] = {}
    for attr, key in (
        ("learning_rate_init", "learning_rate"),
        ("batch_size", "batch_size"),
        ("alpha", "weight_decay"),
        ("max_iter", "epochs"),
    ):
        value = getattr(model, attr, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            meta[key] = value
    return assemble(
        source=source,
        fmt="sklearn-mlp",
        series=series,
        x_unit="epoch",
        notes=["iterations (epochs) numbered from 1"],
        meta=meta,
        columns=columns,
        directions=directions,
    )


def from_object(
    obj: object,
    *,
    source: str = "<object>",
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """Read an in-memory training history (see the module docstring)."""
    if isinstance(obj, History):
        return obj
    kw: dict[str, Any] = {"source": source, "columns": columns, "directions": directions}
    try:
        if isinstance(obj, Mapping | list | tuple):
            return read_value(obj, in_memory=True, **kw)
        history = getattr(obj, "history", None)
        if is_dict_of_lists(history) and isinstance(history, Mapping):
            meta = keras_params_meta(getattr(obj, "params", None))
            return read_dict_of_lists(history, fmt="keras-history", meta=meta, **kw)
        if _is_dataframe(obj):
            return read_dataframe(obj, **kw)
        if is_list_like(getattr(obj, "loss_curve_", None)):
            return _read_sklearn(obj, **kw)
    except CurvedocError as err:
        raise clean_error(err) from None
    except RecursionError:
        raise InputError("nested too deeply to be a training history", path=source) from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        raise InputError(f"cannot read this {type(obj).__name__}: {exc}", path=source) from None
    raise InputError(
        f"cannot read a {type(obj).__name__}: expected a dict of lists (Keras history.history), "
        "a Keras History, a list of dicts, a DataFrame or a curvedoc History",
        path=source,
    )
