"""Keras ``History.history``: a dict of metric name -> list of per-epoch values.

* There is no epoch column: epochs are numbered from 1 (Keras prints "Epoch 1/…" for index 0 and
  names checkpoints 1-based), and a note says so.
* A key can start late (``learning_rate`` appears once a callback first sets it): ``History`` uses
  ``setdefault(k, []).append(v)``, so a shorter list belongs to the *last* epochs and is aligned
  to the end.
* Two models saved into one file with name prefixes (``reg_loss``... and ``cls_loss``...) are two
  runs of different lengths; each prefix group is aligned and numbered on its own.
* The wrapper some people save, ``{"history": {...}, "params": {...}}``, is unwrapped and
  ``params`` (``epochs``, ``steps``) goes to meta.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from curvedoc.errors import InputError
from curvedoc.model import FloatArray, History
from curvedoc.readers import roles
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._meta import meta_key
from curvedoc.readers._numeric import BoolArray, parse_objects

FORMATS: tuple[tuple[str, str], ...] = (
    ("keras-json", "Keras History saved as JSON: {name: [value per epoch]}, epochs from 1"),
    ("keras-history", "Keras History object or dict of lists passed from Python"),
)


def is_list_like(value: object) -> bool:
    """A list, tuple or 1-D array (anything ``np.ndarray``-like with ``tolist``)."""
    if isinstance(value, list | tuple):
        return True
    ndim = getattr(value, "ndim", None)
    return ndim == 1 and hasattr(value, "tolist")


def as_list(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    out = value.tolist()  # type: ignore[attr-defined]
    return list(out)


def is_dict_of_lists(value: object) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(is_list_like(v) for v in value.values())
    )


def _groups(names: Sequence[str]) -> dict[str, list[str]]:
    """Prefix groups for two models in one file; one group ("") otherwise."""
    prefixes = sorted({n[: -len("_loss")] for n in names if n.endswith("_loss") and "_" in n})
    prefixes = [p for p in prefixes if p and roles.split_of(p) == "none" and f"{p}_loss" in names]
    if len(prefixes) >= 2:
        groups: dict[str, list[str]] = {p: [] for p in prefixes}
        for n in names:
            owner = next((p for p in prefixes if n.startswith(p + "_")), None)
            if owner is None:
                return {"": list(names)}
            groups[owner].append(n)
        return groups
    return {"": list(names)}


def read_dict_of_lists(
    history: Mapping[str, object],
    *,
    source: str,
    fmt: str,
    meta: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    notes = list(notes or [])
    parsed: dict[str, tuple[FloatArray, BoolArray]] = {}
    text_keys: list[str] = []
    keep = tuple((columns or {}).keys())
    for key, raw in history.items():
        name = str(key)
        if not is_list_like(raw):
            raise InputError("expected a list of values", path=source, field=name)
        values = as_list(raw)
        if roles.is_bookkeeping(name) and name not in keep:
            continue
        col = parse_objects(values)
        if col.text_rows:
            if col.mostly_text:
                text_keys.append(name)
                continue
            raise InputError(
                f"epoch {col.text_rows[0] + 1}: not a number: {col.first_text!r}",
                path=source,
                field=name,
            )
        parsed[name] = (col.values, col.missing)
    if text_keys:
        notes.append(f"not numeric, dropped: {', '.join(text_keys)}")

    groups = _groups(list(parsed))
    if len(groups) > 1:
        notes.append(
            f"{len(groups)} models in one file ({', '.join(p + '_*' for p in groups)}): "
            "epochs numbered from 1 for each"
        )
    else:
        notes.append("no epoch column: epochs numbered from 1")
    series: list[Series] = []
    for members in groups.values():
        n = max((parsed[m][0].shape[0] for m in members), default=0)
        for name in members:
            y, missing = parsed[name]
            k = y.shape[0]
            if 0 < k < n:
                notes.append(
                    f"{name}: {k} values for {n} epochs, aligned to the last epochs "
                    "(the key started late)"
                )
            x = np.arange(n - k + 1, n + 1, dtype=np.float64)
            series.append(Series(name, x, y, missing))
    return assemble(
        source=source,
        fmt=fmt,
        series=series,
        x_unit="epoch",
        notes=notes,
        meta=meta,
        columns=columns,
        directions=directions,
    )


def split_lists_and_scalars(
    value: Mapping[str, object],
) -> tuple[dict[str, object], dict[str, Any]] | None:
    """A dict of lists with a few scalar entries beside them (``{"loss": [..], "epochs": 10}``):
    the lists, and the scalars as meta. None when it is not that shape."""
    lists: dict[str, object] = {}
    scalars: dict[str, Any] = {}
    for key, v in value.items():
        if is_list_like(v):
            lists[str(key)] = v
        elif v is None or isinstance(v, str | int | float | bool):
            scalars[meta_key(str(key))] = v
        else:
            return None
    return (lists, scalars) if lists else None


def keras_params_meta(params: object) -> dict[str, Any]:
    """``History.params`` (``epochs``, ``steps``) as meta."""
    meta: dict[str, Any] = {}
    if isinstance(params, Mapping):
        for key, meta_key in (("epochs", "epochs"), ("steps", "steps_per_epoch")):
            value = params.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                meta[meta_key] = value
    return meta
