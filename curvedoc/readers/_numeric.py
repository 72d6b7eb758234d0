"""Turning cells (CSV strings or JSON values) into a float column, fast when the column is clean.

A clean column (every cell a number) is converted by ``map(float, ...)`` into numpy, with no
Python-level loop, so a million-row CSV stays fast. A column with blanks or ``NA`` finds them with
numpy string functions; only a column with text falls back to a loop that tells *missing* cells
(dropped from the curve) from *text* cells (an error, or a non-numeric column to drop).
``nan``/``inf`` spellings are numbers, not missing: a NaN loss is a finding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from curvedoc.model import FloatArray

#: Cell spellings that mean "no value here" (compared stripped and lowercased).
MISSING_TOKENS = frozenset({"", "na", "n/a", "none", "null", "nil", "<na>"})

BoolArray = npt.NDArray[np.bool_]

# The usual case variants, so that no per-cell lowercasing is needed on big columns.
_MISSING_SPELLINGS = sorted(
    {v for t in MISSING_TOKENS for v in (t, t.upper(), t.capitalize(), t.title())}
)


@dataclass(frozen=True)
class NumericColumn:
    """A parsed column: ``values`` is NaN wherever ``missing`` is set or the cell was text."""

    values: FloatArray
    missing: BoolArray
    text_rows: tuple[int, ...]  # indices of cells that are neither numbers nor missing
    first_text: str | None

    @property
    def numeric_count(self) -> int:
        return int(self.values.shape[0]) - int(self.missing.sum()) - len(self.text_rows)

    @property
    def mostly_text(self) -> bool:
        """More text than numbers: a label/time column, not a numeric one with a typo."""
        return len(self.text_rows) > 0 and len(self.text_rows) >= self.numeric_count


def _floats(cells: Sequence[str]) -> FloatArray:
    """``float()`` of every cell in C (``map``); raises ValueError on the first bad cell.

    ``float`` ignores surrounding spaces and reads ``nan``/``inf``/``Infinity``; it is several
    times faster than numpy's string-to-float cast.
    """
    return np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))


def parse_strings(cells: Sequence[str]) -> NumericColumn:
    """Parse text cells; surrounding spaces are ignored."""
    n = len(cells)
    try:
        return NumericColumn(_floats(cells), np.zeros(n, dtype=np.bool_), (), None)
    except (ValueError, TypeError, OverflowError):
        pass
    # Empty cells (Lightning's sparse rows, the common case): found by length in C and read as
    # "nan", so float still runs in C over the whole column.
    empty = np.fromiter(map(len, cells), dtype=np.intp, count=n) == 0
    if empty.any():
        try:
            return NumericColumn(_floats([c or "nan" for c in cells]), empty, (), None)
        except (ValueError, TypeError, OverflowError):
            pass
    # Padded blanks or NA (Keras' NA): find them with numpy string ufuncs.
    arr = np.char.strip(np.asarray(cells, dtype=np.str_))
    missing = np.isin(arr, _MISSING_SPELLINGS)
    values = np.full(n, np.nan)
    present = np.flatnonzero(~missing)
    try:
        values[present] = _floats(arr[present].tolist())
        return NumericColumn(values, missing, (), None)
    except (ValueError, TypeError, OverflowError):
        pass
    # Some cell is text: find which, one by one.
    text: list[int] = []
    first: str | None = None
    for i in present.tolist():
        try:
            values[i] = float(cells[i])
        except (ValueError, TypeError):
            values[i] = math.nan
            text.append(i)
            if first is None:
                first = cells[i].strip()
    return NumericColumn(values, missing, tuple(text), first)


def parse_objects(cells: Sequence[object]) -> NumericColumn:
    """Parse JSON/Python values: None is missing, numbers and numeric strings are numbers."""
    n = len(cells)
    if set(map(type, cells)) <= _PLAIN_NUMBERS:  # the usual column: converted in C
        try:
            return NumericColumn(
                np.fromiter(cells, dtype=np.float64, count=n), np.zeros(n, dtype=np.bool_), (), None
            )
        except OverflowError:  # an integer beyond float range: the loop below says which
            pass
    values = np.empty(n, dtype=np.float64)
    missing = np.zeros(n, dtype=np.bool_)
    text: list[int] = []
    first: str | None = None
    for i, cell in enumerate(cells):
        if cell is None:
            values[i] = math.nan
            missing[i] = True
            continue
        if isinstance(cell, str):
            try:
                values[i] = float(cell)
                continue
            except ValueError:
                if cell.strip().lower() in MISSING_TOKENS:
                    values[i] = math.nan
                    missing[i] = True
                    continue
        elif not isinstance(cell, bool | list | dict | tuple):
            try:
                values[i] = float(cell)  # type: ignore[arg-type]
                continue
            except (TypeError, ValueError, OverflowError):
                pass
        values[i] = math.nan
        text.append(i)
        if first is None:
            first = _short(cell)
    return NumericColumn(values, missing, tuple(text), first)


_PLAIN_NUMBERS = frozenset({float, int})


def _short(value: object) -> str:
    if isinstance(value, list | dict | tuple):
        # never repr() a container: it may be nested deeper than the recursion limit
        return f"<a JSON {'object' if isinstance(value, dict) else 'list'}>"
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."
