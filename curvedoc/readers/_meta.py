"""Hyperparameters found beside or inside a log, under the names advice templates quote.

Loggers spell the same knob many ways (``lr``, ``learning_rate``, ``max_epochs``...). Known
spellings are mapped to curvedoc's meta keys (``learning_rate``, ``batch_size``, ``epochs``,
``weight_decay``, ``max_steps``, ``warmup_steps``, ``dropout``); other names are kept as written.
Values stay plain JSON scalars.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ALIASES = {
    "lr": "learning_rate",
    "lr0": "learning_rate",  # Ultralytics args.yaml
    "learning_rate": "learning_rate",
    "learning-rate": "learning_rate",
    "learningrate": "learning_rate",
    "batch_size": "batch_size",
    "batch": "batch_size",  # Ultralytics args.yaml
    "batchsize": "batch_size",
    "train_batch_size": "batch_size",
    "per_device_train_batch_size": "batch_size",
    "epochs": "epochs",
    "num_epochs": "epochs",
    "n_epochs": "epochs",
    "num_train_epochs": "epochs",
    "max_epochs": "epochs",
    "weight_decay": "weight_decay",
    "wd": "weight_decay",
    "max_steps": "max_steps",
    "warmup_steps": "warmup_steps",
    "warmup_epochs": "warmup_epochs",
    "dropout": "dropout",
}

_YAML_SCALAR = re.compile(r"^([A-Za-z_][\w.\-]*):[ \t]+([^#{}\[\]&*!|>][^#]*?)\s*(?:#.*)?$")


def meta_key(name: str) -> str:
    return ALIASES.get(name.strip().lower(), name.strip())


def scalar(text: str) -> Any:
    """``"0.001"`` -> 0.001, ``"True"`` -> True, anything else -> the (trimmed) string."""
    s = text.strip().strip("'\"")
    if s in ("True", "true"):
        return True
    if s in ("False", "false"):
        return False
    if s in ("null", "None", "~"):
        return None
    for cast in (int, float):
        try:
            value = cast(s)
        except ValueError:
            continue
        if isinstance(value, float) and value != value:  # NaN is no hyperparameter
            return s
        return value
    return s[:200]


def simple_yaml(path: Path) -> dict[str, Any]:
    """Top-level ``key: scalar`` lines of a YAML file (Lightning's ``hparams.yaml``,
    Ultralytics' ``args.yaml``).

    Nested mappings, lists and tags are skipped: a full YAML parser is not worth a dependency for
    a handful of hyperparameters. Unreadable files give an empty dict (meta is a bonus).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, Any] = {}
    for line in text.splitlines()[:2000]:
        m = _YAML_SCALAR.match(line)
        if m:
            out[meta_key(m.group(1))] = scalar(m.group(2))
    return out
