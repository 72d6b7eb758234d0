"""Readers: every supported training log (a file, a run folder, or a Python object) -> History.

``read_path`` detects the format by *content*, never by file name:

1. a directory -> a run folder (:mod:`.directories`: MLflow run, TensorBoard CSV exports,
   HF output/checkpoint, Lightning/Ultralytics run);
2. binary data -> a clear error naming what it is (TensorBoard event file, W&B run, archive...);
3. text starting with ``{`` or ``[`` -> JSON by its shape (:mod:`.json_formats`);
4. lines of ``<timestamp> <value> <step>`` -> a single MLflow metric file;
5. anything else -> delimited text, the flavour told by its header (:mod:`.csv_formats`:
   Keras, Lightning, Ultralytics, fastai, TensorBoard and W&B exports, generic CSV/TSV).

Every reader hands its raw columns to one assembler (:mod:`._assemble`), so cleaning, role
classification (:mod:`.roles`), user overrides and the notes are the same for all formats. Bad
input of any kind is an :class:`~curvedoc.errors.InputError` naming the file and, where it
applies, the line and field. Inputs are only ever opened for reading.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from pathlib import Path

from curvedoc.errors import CurvedocError, InputError
from curvedoc.model import History
from curvedoc.readers import (
    boosting,
    csv_formats,
    hf,
    json_formats,
    keras_history,
    mlflow,
    objects,
    wandb_csv,
)
from curvedoc.readers._assemble import clean_error
from curvedoc.readers._text import read_text
from curvedoc.readers.directories import read_directory
from curvedoc.readers.objects import from_object

#: (format id, one-line description) of every reader, for the docs and ``--help``.
FORMATS: tuple[tuple[str, str], ...] = (
    *keras_history.FORMATS,
    *csv_formats.FORMATS,
    *hf.FORMATS,
    *json_formats.FORMATS,
    *boosting.FORMATS,
    *mlflow.FORMATS,
    *wandb_csv.FORMATS,
    *objects.FORMATS,
)

_FIRST_CHAR = re.compile(r"\s*[\[{]")

# Exceptions that mean "this input is malformed" when they escape a parser; they become
# InputError so that bad input never surfaces as a traceback.
_BAD_INPUT_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    UnicodeError,
    csv.Error,
    OSError,
)


def read_text_log(
    text: str,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """Read a log already decoded to text; ``source`` names it in notes and errors."""
    if _FIRST_CHAR.match(text) is not None:
        return json_formats.read_json_text(
            text, source=source, columns=columns, directions=directions
        )
    if "\n" not in text.strip() and json_formats.is_json_scalar(text):
        raise InputError(
            f"unknown JSON layout: a lone JSON value ({text.strip()[:40]})", path=source
        )
    if mlflow.looks_like_metric_file(text):
        return mlflow.read_metric_text(text, source=source, columns=columns, directions=directions)
    return csv_formats.read_csv_text(text, source=source, columns=columns, directions=directions)


def _read_file(
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    source = str(path)
    return read_text_log(
        read_text(path, source), source=source, columns=columns, directions=directions
    )


def read_path(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """Read a training log file or run folder into a :class:`~curvedoc.model.History`.

    ``columns`` maps a column name to a role (``train_loss``, ``val_loss``, ``train_metric``,
    ``val_metric``, ``lr``, ``grad_norm``, ``other``) or to ``ignore``; ``directions`` maps a column
    name to ``min``/``max``. Raises :class:`~curvedoc.errors.InputError` for unreadable input.
    """
    source = os.fspath(path)
    p = Path(source)
    try:
        if p.is_dir():
            return read_directory(
                p, source=source, read_file=_read_file, columns=columns, directions=directions
            )
        return _read_file(p, columns=columns, directions=directions)
    except CurvedocError as err:
        raise clean_error(err) from None
    except RecursionError:
        raise InputError("nested too deeply to be a training log", path=source) from None
    except MemoryError:
        raise InputError("too large to read into memory", path=source) from None
    except _BAD_INPUT_ERRORS as exc:
        raise InputError(f"cannot read ({type(exc).__name__}: {exc})", path=source) from None


__all__ = ["FORMATS", "from_object", "read_path", "read_text_log"]
