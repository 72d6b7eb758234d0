"""What the streamed JSON readers share: a file decoded a piece at a time, and records gathered
into per-key float64 columns as they are decoded, instead of one Python object per value.

``json.load`` of a big log builds an object per value (a 100,000-entry ``log_history``: ~50 MB;
a million JSON Lines: ~600 MB) next to the file's text. The streamed readers
(:mod:`.hf_stream`, :mod:`.jsonl_stream`) decode a batch of records at a time and hand it to a
:class:`ColumnStore`, which keeps each key's numbers in ``array.array`` buffers that grow in
place, grouped by record shape (its tuple of keys), so that keys of one shape share one array of
record numbers, and their curves one x array. Anything the usual reader would read differently
(text or ``null`` in a curve, invalid JSON...) raises :class:`NotOurs`: the caller then reads the
file the usual way, which gives the same History or the same error.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from curvedoc.errors import InputError
from curvedoc.model import FloatArray, History
from curvedoc.readers._numeric import BoolArray, NumericColumn
from curvedoc.readers._records import IntArray, group_by_shape
from curvedoc.readers._text import _MAX_BYTES, SNIFF_BYTES, binary_kind

#: Bytes read at a time.
CHUNK = 64 * 1024
#: Undecoded text this long means one value (or line) too big to be ours: give up.
MAX_PIECE = 4 * 1024 * 1024

DECODER = json.JSONDecoder()  # what json.loads uses: NaN and Infinity are read
_BLANK = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
NUMBER_TYPES = frozenset({int, float})


class NotOurs(Exception):
    """Not what this reader reads exactly as the usual one: read the file the usual way."""


def stream_file(path: Path, source: str, read: Callable[[Text], History]) -> History | None:
    """``read`` of the file's text as it streams in, or None when the usual reader must read
    it: ``read`` said it is not ours (:class:`NotOurs`), the usual reader's own rules refused it
    (an ``InputError``, which the usual route words, or reads the text another way), or the
    file could not be read (which the usual route reports)."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        with open(path, "rb") as fh:
            return read(Text(fh, os.path.basename(source)))
    except (NotOurs, OSError, InputError):
        return None


class Text:
    """A file's text, decoded a piece at a time; ``buf[pos:]`` is not consumed yet."""

    def __init__(self, fh: BinaryIO, name: str) -> None:
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-8")()  # strict, and a BOM stays text
        self._read = 0
        self.buf = ""
        self.pos = 0
        self.eof = False
        first = fh.read(max(CHUNK, SNIFF_BYTES))  # all the bytes the usual reader sniffs
        if binary_kind(first, name) is not None:
            raise NotOurs  # the usual reader says what it is
        self._add(first)

    def _add(self, data: bytes) -> None:
        self._read += len(data)
        if self._read > _MAX_BYTES:
            raise NotOurs  # it grew while read: the usual reader says so
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise NotOurs from None
        self.eof = not data
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        if len(self.buf) > MAX_PIECE:
            raise NotOurs

    def more(self) -> None:
        """Read on, giving up at the end of the file: as much again as the buffer holds unread
        (a piece at least), so that a value or line reparsed after each read costs, in all,
        twice its length rather than its length times the number of pieces."""
        if self.eof:
            raise NotOurs
        self._add(self._fh.read(max(CHUNK, len(self.buf) - self.pos)))

    def fill(self) -> None:
        """Read the next piece if the buffer holds less than one (and the file has more)."""
        if len(self.buf) - self.pos < CHUNK and not self.eof:
            self._add(self._fh.read(CHUNK))

    def next_char(self) -> str:
        """The next character that is not blank, not consumed ("" at the end of the file)."""
        while True:
            match = _BLANK.match(self.buf, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return ""
            self.more()

    def expect(self, char: str) -> None:
        if self.next_char() != char:
            raise NotOurs
        self.pos += 1

    def value(self, limit: int = MAX_PIECE) -> Any:
        """The next JSON value; the buffer grows until it holds the whole value, or gives up
        past ``limit`` characters."""
        self.next_char()
        while True:
            try:
                obj, end = DECODER.raw_decode(self.buf, self.pos)
                # a number cut by the end of the buffer ("12." of "12.5") may go on in the next
                # piece: only what the buffer holds after a non-number character is whole
                if self.eof or _NUMBER_TAIL.fullmatch(self.buf, end) is None:
                    self.pos = end
                    return obj
            except (ValueError, RecursionError):
                pass
            if len(self.buf) - self.pos > limit:
                raise NotOurs
            self.more()

    def lines(self) -> list[str]:
        """The next whole lines (split on ``\\n`` only, as the usual reader splits them); at the
        end of the file, the rest, the last line included even if empty. Then []."""
        if self.pos > len(self.buf):
            return []  # done
        self.fill()
        while not self.eof and self.buf.find("\n", self.pos) < 0:
            self.more()  # a line longer than the buffer (to MAX_PIECE)
        if self.eof:
            out = self.buf[self.pos :].split("\n")
            self.pos = len(self.buf) + 1
            return out
        end = self.buf.rfind("\n", self.pos)
        out = self.buf[self.pos : end].split("\n")
        self.pos = end + 1
        return out


@dataclass
class ColumnStore:
    """Records as columns: for every key, the records (by number) that carry it and its values;
    for every record, its shape (its tuple of keys). Subclasses say which keys need their values
    (:meth:`stored`) and which records are kept whole instead (:meth:`kept_whole`)."""

    keep_names: tuple[str, ...] = ()  # names the user gave a role: curves even if bookkeeping
    n: int = 0
    shapes: dict[tuple[str, ...], int] = field(default_factory=dict)  # by first appearance
    shape_counts: list[int] = field(default_factory=list)
    shape_records: list[array[int]] = field(default_factory=list)  # per shape, its records
    shape_of: array[int] = field(default_factory=lambda: array("i"))  # per record, its shape
    values: dict[tuple[int, str], array[float]] = field(default_factory=dict)  # (shape, key)
    parts: dict[str, list[tuple[IntArray, FloatArray]]] = field(default_factory=dict)
    whole: list[tuple[int, Mapping[str, object]]] = field(default_factory=list)
    _joined: dict[tuple[int, ...], tuple[list[IntArray], IntArray, IntArray | None]] = field(
        default_factory=dict
    )
    _kept_at: dict[int, tuple[IntArray, IntArray, BoolArray | None]] = field(default_factory=dict)

    def stored(self, key: str) -> bool:
        """Whether a key's values are read (the others may hold anything)."""
        raise NotImplementedError

    def kept_whole(self, shape: tuple[str, ...]) -> bool:
        """Whether records of this shape are kept as they are (few, and not curve points)."""
        return False

    def seen(self, first: int, idx: list[int], members: list[Any]) -> None:
        """Called for every batch of records of one shape (numbered ``first + idx``)."""

    def add(self, records: list[Any]) -> None:
        """A batch of records, grouped by shape so that each key's values are gathered in C.

        Values go into ``array.array`` buffers that grow in place (one per shape and key), not
        into a small numpy array per batch: thousands of those, once freed, would leave the
        allocator's heap holding their memory for the rest of the run."""
        if set(map(type, records)) != {dict}:
            raise NotOurs  # the usual reader names the record that is no object
        shape_of = [0] * len(records)
        for shape, idx in group_by_shape(records).items():
            number = self.shapes.setdefault(shape, len(self.shapes))
            if number == len(self.shape_counts):
                self.shape_counts.append(0)
                self.shape_records.append(array("i"))
            self.shape_counts[number] += len(idx)
            for i in idx:
                shape_of[i] = number
            if self.kept_whole(shape):
                self.whole += [(self.n + i, records[i]) for i in idx]
                continue
            members = records if len(idx) == len(records) else [records[i] for i in idx]
            self.shape_records[number].extend(map(self.n.__add__, idx))
            for key in shape:
                if not self.stored(key):
                    continue  # its values may be anything: the usual reader never reads them
                values = list(map(itemgetter(key), members))
                if not set(map(type, values)) <= NUMBER_TYPES:
                    raise NotOurs  # null, text, true/false: the usual reader's rules apply
                column = self.values.get((number, key))
                if column is None:
                    column = self.values[number, key] = array("d")
                try:
                    column.extend(values)
                except OverflowError:
                    raise NotOurs from None
            self.seen(self.n, idx, members)
        self.shape_of.extend(shape_of)
        self.n += len(records)

    def finish(self) -> None:
        """The buffers as numpy arrays (views, no copies): each key's parts, one per shape."""
        records = [np.frombuffer(e, dtype=np.int32) for e in self.shape_records]
        for (number, key), column in self.values.items():
            self.parts.setdefault(key, []).append(
                (records[number], np.frombuffer(column, dtype=np.float64))
            )
        self.values = {}

    def kept_records(self, kept_shape: BoolArray) -> BoolArray:
        """For every record, whether its shape is kept."""
        return kept_shape[np.frombuffer(self.shape_of, dtype=np.int32)]

    def column(self, key: str, *, pop: bool = False) -> tuple[IntArray, FloatArray]:
        """A key's records and values, in record order (``pop``: and forget them)."""
        chunks = self.parts.pop(key, []) if pop else self.parts.get(key, [])
        at, order = self._records_of(chunks)
        if not chunks:
            return at, np.empty(0)
        values = chunks[0][1] if len(chunks) == 1 else np.concatenate([c[1] for c in chunks])
        return at, (values if order is None else values[order])

    def _records_of(
        self, chunks: list[tuple[IntArray, FloatArray]]
    ) -> tuple[IntArray, IntArray | None]:
        """The records of a key's chunks in order, and the order that sorts its values.

        Keys of the same shapes get the very same array of records, so that their curves share
        one x array downstream (see ``cells_series`` and ``_assemble._XCache``)."""
        if not chunks:
            return np.empty(0, dtype=np.intp), None
        ats = [c[0] for c in chunks]
        ids = tuple(map(id, ats))
        joined = self._joined.get(ids)
        if joined is None:
            at = ats[0] if len(ats) == 1 else np.concatenate(ats)
            order = None
            if at.size > 1 and not bool((at[1:] > at[:-1]).all()):  # a key in several shapes
                order = np.argsort(at, kind="stable")
                at = at[order]
            joined = self._joined[ids] = (ats, at, order)  # (ats: their ids stay theirs)
        return joined[1], joined[2]

    def pop_cells(self, key: str, kept: BoolArray) -> tuple[IntArray, NumericColumn]:
        """A key's cells among the kept records (numbered from 0); its parts are freed."""
        at, values = self.column(key, pop=True)
        renumbered = self._kept_at.get(id(at))
        if renumbered is None:
            on: BoolArray | None = None
            new_at = at
            if at.size and not bool(kept[: int(at[-1]) + 1].all()):
                on = kept[at]
                new_at = (np.cumsum(kept, dtype=np.intp) - 1)[at[on]]
            renumbered = self._kept_at[id(at)] = (at, new_at, on)
        _, new_at, on = renumbered
        if on is not None:
            values = values[on]
        return new_at, NumericColumn(values, np.zeros(new_at.size, dtype=np.bool_), (), None)


class KeptCells(Mapping[str, tuple[IntArray, NumericColumn]]):
    """The cells of ``cells_series``, each built when it is asked for and then freed by the
    caller: only one key's record numbers are alive at a time. A key whose values were not
    read gets no cells at all; ``cells_series`` drops it by name."""

    def __init__(self, store: ColumnStore, keys: list[str], kept: BoolArray) -> None:
        self._store = store
        self._keys = keys
        self._kept = kept

    def __getitem__(self, key: str) -> tuple[IntArray, NumericColumn]:
        if key not in self._keys:
            raise KeyError(key)
        if not self._store.stored(key):  # dropped by name: no values were kept
            empty = np.empty(0)
            return np.empty(0, dtype=np.intp), NumericColumn(empty, empty.astype(bool), (), None)
        return self._store.pop_cells(key, self._kept)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
