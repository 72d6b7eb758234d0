"""XGBoost / LightGBM ``evals_result``: ``{data set: {metric: [value per boosting round]}}``.

Which data set is the training data? The names are the user's (native API: ``"train"``,
``"eval"``...) or the library's defaults (XGBoost sklearn API: ``validation_0``, ``validation_1``
in ``eval_set`` order; LightGBM: ``training``, ``valid_0``...). So:

* a data set named like training (``train``, ``training``, ``dtrain``...) is the training data;
* otherwise **the first of several data sets is the training data, even when it is named
  ``validation_0``**: ``fit(X, y, eval_set=[(X_train, y_train), (X_val, y_val)])`` is by far the
  common pattern;
* a data set on its own is the training data unless its name says held-out (``valid``,
  ``validation_0``, ``eval``, ``test``...): ``valid_sets=[dvalid]`` alone reports validation
  only, and calling it training data would read its plateau as the model failing to fit;
* every other data set is validation (``test`` in its name gives split ``test``).

Roles: a metric named like a loss (``logloss``, ``binary_logloss``) is a loss; otherwise the
*first* metric of a data set, when lower is better (``rmse``, ``l2``, ``mae``, ``error``), is taken
as its loss, since the first metric is the objective's default. Other metrics are metrics; cv
``*-stdv``/``*-std`` spreads are ``other``. x is the boosting round counted from 1 (the number of
trees), ``x_unit="step"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from curvedoc.errors import InputError
from curvedoc.model import History
from curvedoc.readers import roles
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._numeric import parse_objects
from curvedoc.readers.keras_history import as_list, is_dict_of_lists

FORMATS: tuple[tuple[str, str], ...] = (
    ("xgboost-json", "XGBoost/LightGBM evals_result {data set: {metric: [per round]}}"),
)

_HELD_OUT = re.compile(r"val|eval|test|holdout|dev")
_TRAIN_NAMES = frozenset({"train", "training", "dtrain", "train_set", "trainset", "training_set"})


def is_evals_result(value: object) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(is_dict_of_lists(v) for v in value.values())
    )


def _train_set(names: list[str]) -> str:
    for n in names:
        if n.strip().lower() in _TRAIN_NAMES:
            return n
    return names[0]


def dataset_splits(datasets: list[str]) -> dict[str, str]:
    """The split of each data set: the training one (see the module docstring), else ``val``
    (``test`` when the name says test). LightGBM's ``cv()`` aggregate, ``cv_agg``, is held-out
    data, never the training set."""
    held_out = [d for d in datasets if d.strip().lower() == "cv_agg"]
    rest = [d for d in datasets if d not in held_out]
    train = _train_set(rest) if rest else None
    if len(rest) == 1 and train is not None and _HELD_OUT.search(train.lower()):
        train = None  # one data set, named held-out: validation only
    return {
        d: "train" if d == train else ("test" if "test" in d.lower() else "val") for d in datasets
    }


def metric_role(metric: str, split: str, *, first: bool) -> tuple[str, str]:
    """(role, direction) of one metric of a data set; ``first``: the data set's first metric."""
    _, _, direction = roles.classify(metric)
    low = metric.lower()
    if low.endswith(("-stdv", "-std")):
        return "other", direction
    if low.endswith("loss") or (first and direction == "min"):
        return roles.role_for_split("loss", split), "min"
    if roles.direction_of(metric) is None:
        direction = "min"
    return roles.role_for_split("metric", split), direction


def read_evals_result(
    evals: Mapping[str, Any],
    *,
    source: str,
    fmt: str = "xgboost-json",
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    datasets = [str(k) for k in evals]
    splits = dataset_splits(datasets)
    train = next((d for d, sp in splits.items() if sp == "train"), None)
    if train is None:
        notes = ["cross-validation aggregate (held-out folds); x is the boosting round, from 1"]
    else:
        notes = [
            f"{train!r} is taken as the training data"
            + (" (the first data set)" if train.strip().lower() not in _TRAIN_NAMES else "")
            + "; x is the boosting round, from 1"
        ]
    series: list[Series] = []
    for dataset, metrics in evals.items():
        split = splits[str(dataset)]
        for k, (metric, raw) in enumerate(metrics.items()):
            name = f"{dataset}-{metric}"
            col = parse_objects(as_list(raw))
            if col.text_rows:
                raise InputError(
                    f"round {col.text_rows[0] + 1}: not a number: {col.first_text!r}",
                    path=source,
                    field=name,
                )
            role, direction = metric_role(str(metric), split, first=k == 0)
            x = np.arange(1, col.values.shape[0] + 1, dtype=np.float64)
            series.append(
                Series(
                    name,
                    x,
                    col.values,
                    col.missing,
                    role=role,
                    split=split if role != "other" else "none",
                    direction=direction,
                )
            )
    return assemble(
        source=source,
        fmt=fmt,
        series=series,
        x_unit="step",
        notes=notes,
        columns=columns,
        directions=directions,
    )
