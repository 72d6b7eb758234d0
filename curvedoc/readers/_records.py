"""A list of records (dicts) into series: JSON arrays, JSON Lines, HF ``log_history``, W&B dumps.

Records are sparse by nature (a training entry has ``loss``, an evaluation entry ``eval_loss``), so
each key becomes its own series over the records that carry it, against the record's x value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from curvedoc.errors import InputError
from curvedoc.model import FloatArray
from curvedoc.readers import roles
from curvedoc.readers._assemble import Series
from curvedoc.readers._numeric import NumericColumn, parse_objects

#: Keys that can serve as the x axis, most specific first.
X_KEYS = ("global_step", "step", "steps", "iteration", "iter", "round", "_step", "epoch", "epochs")


def find_x_key(records: Sequence[Mapping[str, object]]) -> str | None:
    """The first x-like key (case-insensitive) that any record carries."""
    return x_key_among(str(k) for rec in records for k in rec)


def x_key_among(keys: Iterable[str]) -> str | None:
    """The first x-like key of ``keys`` (case-insensitive; of several spellings, the first)."""
    seen: dict[str, str] = {}
    for k in keys:
        seen.setdefault(k.lower(), k)
    return next((seen[c] for c in X_KEYS if c in seen), None)


def x_unit_of(x_name: str) -> str:
    """The x unit an x column's name says: ``epoch`` for epoch(s), else ``step``."""
    return "epoch" if x_name.lower() in ("epoch", "epochs") else "step"


def x_axis(x_key: str | None) -> tuple[str, str | None]:
    """The x unit of records whose x is ``x_key``, and the note to give when there is none."""
    if x_key is None:
        return "epoch", "no step/epoch key: records numbered from 1 as epochs"
    return x_unit_of(x_key), None


def check_records(value: Sequence[object], source: str) -> list[Mapping[str, object]]:
    """The records as a list, or an InputError naming the first that is not an object."""
    if set(map(type, value)) == {dict}:  # parsed JSON: checked in C, no isinstance per record
        return list(value)  # type: ignore[arg-type]
    out: list[Mapping[str, object]] = []
    for i, rec in enumerate(value):
        if not isinstance(rec, Mapping):
            raise InputError(
                f"record {i + 1} is {type(rec).__name__}, expected an object", path=source
            )
        out.append(rec)
    return out


def _where(i: int, lines: Sequence[int] | None) -> tuple[int | None, str]:
    if lines is not None:
        return lines[i], ""
    return None, f"record {i + 1}: "


def group_by_shape(records: Sequence[Mapping[str, object]]) -> dict[tuple[str, ...], list[int]]:
    """The records' numbers by their tuple of keys, in order of first appearance."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, shape in enumerate(map(tuple, records)):
        group = groups.get(shape)
        if group is None:
            groups[shape] = [i]
        else:
            group.append(i)
    return groups


def _cells_by_key(
    records: Sequence[Mapping[str, object]],
) -> dict[str, tuple[list[int], list[object]]]:
    """For every key, in order of first appearance: the records that carry it and its values.

    Logs repeat a handful of record shapes (a training entry, an evaluation entry...), so the
    records are grouped by their tuple of keys and each key's values are gathered per group
    with ``itemgetter`` (in C), instead of a Python step per cell: a 100,000-entry
    ``log_history`` is read several times faster.
    """
    groups = group_by_shape(records)
    parts: dict[str, list[tuple[list[int], list[object]]]] = {}
    for keys, idx in groups.items():
        members = [records[i] for i in idx] if len(idx) < len(records) else records
        for k in keys:
            vals = list(map(itemgetter(k), members))
            parts.setdefault(str(k), []).append((idx, vals))
    out: dict[str, tuple[list[int], list[object]]] = {}
    for key, chunks in parts.items():
        if len(chunks) == 1:
            out[key] = chunks[0]
            continue
        idx_all = [i for c in chunks for i in c[0]]
        vals_all = [v for c in chunks for v in c[1]]
        order = np.argsort(np.asarray(idx_all, dtype=np.intp), kind="stable").tolist()
        out[key] = (list(map(idx_all.__getitem__, order)), list(map(vals_all.__getitem__, order)))
    return out


def records_series(
    records: Sequence[Mapping[str, object]],
    *,
    source: str,
    x_key: str | None,
    lines: Sequence[int] | None = None,
    keep_names: Sequence[str] = (),
) -> tuple[list[Series], list[str]]:
    """One series per key; ``x_key`` values are x (records without one are dropped by the
    assembler), or the record number from 1 when ``x_key`` is None."""
    return cells_series(
        len(records),
        _cells_by_key(records),
        source=source,
        x_key=x_key,
        lines=lines,
        keep_names=keep_names,
    )


IntArray = npt.NDArray[np.signedinteger[Any]]

#: For every key, the records (by number) that carry it and its values: raw JSON values, or a
#: column already parsed (the streamed readers, :mod:`._streaming`).
Cells = Mapping[str, tuple[Sequence[int] | IntArray, Sequence[object] | NumericColumn]]


def _index(idx: Sequence[int] | IntArray) -> IntArray:
    """Record numbers as an index array (an int32 array as it is: no intp copy of it)."""
    return idx if isinstance(idx, np.ndarray) else np.asarray(idx, dtype=np.intp)


def _parsed(values: Sequence[object] | NumericColumn) -> NumericColumn:
    return values if isinstance(values, NumericColumn) else parse_objects(values)


def cells_series(
    n: int,
    cells: Cells,
    *,
    source: str,
    x_key: str | None,
    lines: Sequence[int] | None = None,
    keep_names: Sequence[str] = (),
) -> tuple[list[Series], list[str]]:
    """:func:`records_series` of ``n`` records already split into cells by key."""
    x_all: FloatArray
    if x_key is None:
        x_all = np.arange(1, n + 1, dtype=np.float64)
    else:
        idx, vals = cells.get(x_key, ([], []))
        col = _parsed(vals)
        if col.text_rows:
            line, prefix = _where(idx[col.text_rows[0]], lines)
            raise InputError(
                f"{prefix}x value is not a number: {col.first_text!r}",
                path=source,
                line=line,
                field=x_key,
            )
        if len(idx) == n:  # every record has x (numbered in order): the column is the axis
            x_all = col.values
        else:
            x_all = np.full(n, np.nan)
            x_all[_index(idx)] = col.values

    out: list[Series] = []
    notes: list[str] = []
    text_keys: list[str] = []
    empty = np.empty(0, dtype=np.float64)
    xs: dict[int, tuple[object, FloatArray]] = {}  # id(idx) -> (idx, kept alive: ids stay, x)
    for name, (idx, vals) in cells.items():
        if name == x_key:
            continue
        if roles.is_bookkeeping(name) and name not in keep_names:
            out.append(Series(name, empty, empty))
            continue
        col = _parsed(vals)
        if col.text_rows:
            if col.mostly_text:
                text_keys.append(name)
                continue
            line, prefix = _where(idx[col.text_rows[0]], lines)
            raise InputError(
                f"{prefix}not a number: {col.first_text!r}", path=source, line=line, field=name
            )
        # keys of one record shape share their records, and then one x array (the assembler
        # keeps one cleaned copy per x array: a long log is not held once per curve)
        shared = xs.get(id(idx))
        if shared is None:
            x = x_all if len(idx) == n else x_all[_index(idx)]
            shared = xs[id(idx)] = (idx, x)
        out.append(Series(name, shared[1], col.values, col.missing))
    if text_keys:
        notes.append(f"not numeric, dropped: {', '.join(text_keys)}")
    return out, notes
