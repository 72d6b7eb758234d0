"""Big JSON Lines logs read a piece at a time, so that memory stays near the curves'.

A million JSON Lines records read the usual way are the file's text, its list of lines and a
dict per record: ~950 MB and 11 s for a 92 MB log of four metrics. Here the lines are decoded a
batch at a time and their numbers go straight into per-key float64 buffers
(:class:`~curvedoc.readers._streaming.ColumnStore`); bookkeeping keys that are not the x axis
are kept by name alone.

It reads only what it reads exactly as :mod:`.json_formats` does (``_try_jsonl`` and
``read_records``): the first two non-blank lines start with ``{``, every line is one object of
numbers, a broken *last* line is dropped with the same note, HF-shaped records lose their final
summary record with the same note, and x is the same key. Anything else - text or ``null`` in a
curve, a broken line elsewhere, a BOM, an error of the usual reader's - makes it give up (None),
and the caller reads the file the usual way, with the same History or the same error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curvedoc.model import History
from curvedoc.readers import hf, roles
from curvedoc.readers._assemble import assemble, with_notes
from curvedoc.readers._records import X_KEYS, cells_series, x_axis, x_key_among
from curvedoc.readers._streaming import ColumnStore, KeptCells, NotOurs, Text, stream_file

_X_NAMES = frozenset(X_KEYS)


def read_jsonl_file(
    path: Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History | None:
    """The History of a JSON Lines log (the caller streams only big ones), or None when the
    usual reader must read it: not JSON Lines, anything unusual, an error it reports in its own
    words, or a read error."""

    def read(text: Text) -> History:
        store, notes = _read_lines(text, columns)
        return store.history(notes, source=source, columns=columns, directions=directions)

    return stream_file(path, source, read)


def _read_lines(text: Text, columns: Mapping[str, str] | None) -> tuple[_Records, list[str]]:
    """Every record, into columns; the notes of the lines (a broken last line)."""
    store = _Records(tuple((columns or {}).keys()))
    lineno = 0  # lines read so far
    seen = 0  # non-blank lines so far
    while lines := text.lines():
        numbered = [(lineno + i + 1, line) for i, line in enumerate(lines) if line.strip()]
        lineno += len(lines)
        if seen < 2 and not all(line.lstrip().startswith("{") for _, line in numbered[: 2 - seen]):
            raise NotOurs  # not JSON Lines
        before, seen = seen, seen + len(numbered)
        try:
            records = list(map(json.loads, (line for _, line in numbered)))
        except (ValueError, RecursionError):
            records, broken = _up_to_the_broken_line(numbered)
            if before + len(records) == 0:
                raise NotOurs from None  # a broken first line: no JSON Lines at all
            if records:
                store.add(records)
            if seen < 2 or not _rest_is_blank(text, numbered, broken):
                raise NotOurs from None  # a broken line inside: the usual reader names it
            # the usual reader drops a broken last line, with this note
            return store, [f"line {broken}: incomplete last record (still being written?): dropped"]
        if records:
            store.add(records)
    if seen < 2:
        raise NotOurs  # one record is no JSON Lines (the usual reader reads it as JSON)
    return store, []


def _up_to_the_broken_line(numbered: list[tuple[int, str]]) -> tuple[list[object], int]:
    """The records before the first line that is no JSON, and that line's number."""
    records: list[object] = []
    for lineno, line in numbered:
        try:
            records.append(json.loads(line))
        except (ValueError, RecursionError):
            return records, lineno
    raise AssertionError("no broken line")  # pragma: no cover (the batch failed on one)


def _rest_is_blank(text: Text, numbered: list[tuple[int, str]], broken: int) -> bool:
    """Whether nothing but blank lines follows the broken line."""
    if any(lineno > broken for lineno, _ in numbered):
        return False
    while lines := text.lines():
        if any(line.strip() for line in lines):
            return False
    return True


@dataclass
class _Records(ColumnStore):
    """JSON Lines records as columns (see :class:`ColumnStore`): the values of every key that
    may be a curve or the x axis; other bookkeeping keys by name."""

    def stored(self, key: str) -> bool:
        return key.lower() in _X_NAMES or key in self.keep_names or not roles.is_bookkeeping(key)

    def history(
        self,
        notes: list[str],
        *,
        source: str,
        columns: Mapping[str, str] | None,
        directions: Mapping[str, str] | None,
    ) -> History:
        """What ``json_formats.read_records`` makes of the same records, step for step."""
        self.finish()
        shapes = list(self.shapes)
        hf_shaped = hf.has_log_history_keys({k for s in shapes for k in s})
        kept_shape = np.array([not (hf_shaped and hf.is_summary(s)) for s in shapes], dtype=bool)
        more: list[str] = []
        if not kept_shape.all():
            more.append("final summary record (train_runtime, train_loss) is not a curve point")
        kept = self.kept_records(kept_shape)
        on = kept_shape.tolist()
        ordered = list(
            dict.fromkeys(k for s, keep in zip(shapes, on, strict=True) if keep for k in s)
        )
        x_key = x_key_among(ordered)
        x_unit, note = x_axis(x_key)
        more += [note] if note else []
        series, parsed = cells_series(
            int(kept.sum()),
            KeptCells(self, ordered, kept),
            source=source,
            x_key=x_key,
            keep_names=self.keep_names,
        )
        history = assemble(
            source=source,
            fmt="jsonl",
            series=series,
            x_unit=x_unit,
            notes=[*more, *parsed],
            columns=columns,
            directions=directions,
        )
        return with_notes(history, notes, first=True)
