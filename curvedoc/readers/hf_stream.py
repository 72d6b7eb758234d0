"""A big ``trainer_state.json`` read a piece at a time, so that memory stays near its curves'.

``json.load`` of a 100,000-entry ``log_history`` builds ~500,000 Python objects (~50 MB) next to
the file's text (~15 MB): several times what the curves take as float64 arrays. This reader goes
through the file ``CHUNK`` bytes at a time. The small top-level fields are decoded one by one;
``log_history`` is decoded a batch of entries at a time, and each batch's values go straight into
float64 buffers (one per entry shape and key) before the batch's objects are dropped. Only what
the History needs is kept: bookkeeping keys (``epoch``, ``eval_runtime``...) by name, the summary
entries whole. A 100,000-entry log is read in about 9 MB over the interpreter, against ~60 MB
for ``json.load`` alone, and faster.

It takes only what it reads exactly as :mod:`.hf` does: a top-level object whose
``log_history`` entries hold plain numbers (bookkeeping keys and the end-of-training summary may
hold anything). Anything else - a BOM, a string or null in a curve, invalid JSON, a second
``log_history``, a huge field before it - makes it give up (None), and the caller reads the file
the usual way, which gives the same History or the same error. The tests compare both routes on
every JSON log of real runs, cut into pieces as small as one byte.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from curvedoc.model import FloatArray, History
from curvedoc.readers import hf, roles
from curvedoc.readers._numeric import BoolArray, NumericColumn
from curvedoc.readers._records import IntArray, cells_series, group_by_shape
from curvedoc.readers._text import _MAX_BYTES, binary_kind

#: Bytes read at a time.
CHUNK = 64 * 1024
#: Undecoded text this long means one value (or entry) too big to be ours: give up.
_MAX_PIECE = 4 * 1024 * 1024

_DECODER = json.JSONDecoder()  # what json.loads uses: NaN and Infinity are read
_BLANK = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
_NUMBER_TYPES = frozenset({int, float})


class _NotOurs(Exception):
    """Not a plain trainer_state.json: the caller reads the file the usual way."""


def read_trainer_state_file(
    path: Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History | None:
    """The History of a ``trainer_state.json`` (the caller streams only big ones), or None when
    the usual reader must read it: not this format, anything unusual, or a read error (which
    the usual reader then reports)."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        with open(path, "rb") as fh:
            text = _Text(fh, os.path.basename(source))
            state, log = _read_state(text, tuple((columns or {}).keys()))
        return log.history(state, source=source, columns=columns, directions=directions)
    except (_NotOurs, OSError):
        return None


class _Text:
    """The file's text, decoded a piece at a time; ``buf[pos:]`` is not consumed yet."""

    def __init__(self, fh: BinaryIO, name: str) -> None:
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-8")()  # strict, and a BOM stays text
        self._read = 0
        self.buf = ""
        self.pos = 0
        self.eof = False
        first = fh.read(CHUNK)
        if binary_kind(first, name) is not None:
            raise _NotOurs  # the usual reader says what it is
        self._add(first)

    def _add(self, data: bytes) -> None:
        self._read += len(data)
        if self._read > _MAX_BYTES:
            raise _NotOurs  # it grew while read: the usual reader says so
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise _NotOurs from None
        self.eof = not data
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        if len(self.buf) > _MAX_PIECE:
            raise _NotOurs

    def more(self) -> None:
        """Read the next piece; give up at the end of the file."""
        if self.eof:
            raise _NotOurs
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
            raise _NotOurs
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value; the buffer grows until it holds the whole value."""
        self.next_char()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
                # a number cut by the end of the buffer ("12." of "12.5") may go on in the next
                # piece: only what the buffer holds after a non-number character is whole
                if self.eof or _NUMBER_TAIL.fullmatch(self.buf, end) is None:
                    self.pos = end
                    return obj
            except (ValueError, RecursionError):
                pass
            self.more()

    def entries(self) -> list[Any]:
        """The next batch of ``log_history`` entries: every whole entry in the buffer at once
        (one ``json.loads``), or the next one alone when the buffer holds no whole entry."""
        if len(self.buf) - self.pos < CHUNK and not self.eof:
            self._add(self._fh.read(CHUNK))
        end = self.buf.find("]", self.pos)
        cut = self.buf.rfind("}", self.pos, end if end >= 0 else len(self.buf)) + 1
        if cut > self.pos:
            # Only a cut between two entries parses: a cut inside a string leaves it open, one
            # inside a nested object leaves a brace open. A bad cut reads one entry instead.
            try:
                batch = json.loads("[" + self.buf[self.pos : cut] + "]")
            except (ValueError, RecursionError):
                pass
            else:
                self.pos = cut
                return list(batch)
        return [self.value()]


def _read_state(
    text: _Text, keep_names: tuple[str, ...] = ()
) -> tuple[dict[str, Any], _LogHistory]:
    """The top-level fields, and ``log_history`` as columns."""
    text.expect("{")
    state: dict[str, Any] = {}
    log: _LogHistory | None = None
    while True:
        if text.next_char() != '"':
            raise _NotOurs
        key = text.value()
        text.expect(":")
        if key == "log_history":
            if log is not None:
                raise _NotOurs  # json.load keeps the last one; so does the usual reader
            log = _read_log_history(text, keep_names)
        else:
            state[key] = text.value()
        end = text.next_char()
        text.pos += 1
        if end == "}":
            break
        if end != ",":
            raise _NotOurs
    if text.next_char() != "" or log is None:
        raise _NotOurs  # extra data after the object (an error), or no log_history at all
    return state, log


def _read_log_history(text: _Text, keep_names: tuple[str, ...]) -> _LogHistory:
    text.expect("[")
    log = _LogHistory(keep_names)
    if text.next_char() == "]":
        raise _NotOurs  # empty: the usual reader says so
    while True:
        log.add(text.entries())
        end = text.next_char()
        text.pos += 1
        if end == "]":
            return log
        if end != ",":
            raise _NotOurs
        text.next_char()


@dataclass
class _LogHistory:
    """``log_history`` as columns: for every key, the entries (by number) that carry it and its
    values; for every entry, its shape (its tuple of keys).

    Only what the History needs is kept: the summary entries whole (they are notes), and
    bookkeeping keys (``epoch``, ``eval_runtime``..., not curves) by name alone - the one thing
    read from ``epoch``, the steps per epoch, is found batch by batch."""

    keep_names: tuple[str, ...] = ()  # names the user gave a role: curves even if bookkeeping
    n: int = 0
    shapes: dict[tuple[str, ...], int] = field(default_factory=dict)  # by first appearance
    shape_counts: list[int] = field(default_factory=list)
    shape_entries: list[array[int]] = field(default_factory=list)  # per shape, its entries
    shape_of: array[int] = field(default_factory=lambda: array("i"))  # per entry, its shape
    values: dict[tuple[int, str], array[float]] = field(default_factory=dict)  # (shape, key)
    parts: dict[str, list[tuple[IntArray, FloatArray]]] = field(default_factory=dict)
    summaries: list[tuple[int, Mapping[str, object]]] = field(default_factory=list)
    #: (step, entry, epoch) of the first kept entry with the highest step and a positive epoch
    last_epoch: tuple[float, int, float] | None = None
    _joined: dict[tuple[int, ...], tuple[list[IntArray], IntArray, IntArray | None]] = field(
        default_factory=dict
    )
    _kept_at: dict[int, tuple[IntArray, IntArray, BoolArray | None]] = field(default_factory=dict)

    def stored(self, key: str) -> bool:
        """Whether a key's values are needed: ``cells_series`` drops bookkeeping by name."""
        return key == "step" or key in self.keep_names or not roles.is_bookkeeping(key)

    @staticmethod
    def kept(shape: tuple[str, ...]) -> bool:
        """Entries of this shape are curve points: not the summary, and with a step."""
        return "step" in shape and not hf.is_summary(shape)

    def add(self, entries: list[Any]) -> None:
        """A batch of entries, grouped by shape so that each key's values are gathered in C.

        Values go into ``array.array`` buffers that grow in place (one per shape and key), not
        into a small numpy array per batch: thousands of those, once freed, would leave the
        allocator's heap holding their memory for the rest of the run."""
        if set(map(type, entries)) != {dict}:
            raise _NotOurs  # the usual reader names the entry that is no object
        shape_of = [0] * len(entries)
        for shape, idx in group_by_shape(entries).items():
            number = self.shapes.setdefault(shape, len(self.shapes))
            if number == len(self.shape_counts):
                self.shape_counts.append(0)
                self.shape_entries.append(array("i"))
            self.shape_counts[number] += len(idx)
            for i in idx:
                shape_of[i] = number
            if hf.is_summary(shape):
                self.summaries += [(self.n + i, entries[i]) for i in idx]
                continue
            members = entries if len(idx) == len(entries) else [entries[i] for i in idx]
            self.shape_entries[number].extend(map(self.n.__add__, idx))
            for key in shape:
                if not self.stored(key):
                    continue  # its values may be anything: the usual reader never reads them
                values = list(map(itemgetter(key), members))
                if not set(map(type, values)) <= _NUMBER_TYPES:
                    raise _NotOurs  # null, text, true/false: the usual reader's rules apply
                column = self.values.get((number, key))
                if column is None:
                    column = self.values[number, key] = array("d")
                try:
                    column.extend(values)
                except OverflowError:
                    raise _NotOurs from None
                if key == "step" and "epoch" in shape:
                    self._last_epoch(idx, values, members)
        self.shape_of.extend(shape_of)
        self.n += len(entries)

    def _finish(self) -> None:
        """The buffers as numpy arrays (views, no copies): each key's parts, one per shape."""
        entries = [np.frombuffer(e, dtype=np.int32) for e in self.shape_entries]
        for (number, key), column in self.values.items():
            self.parts.setdefault(key, []).append(
                (entries[number], np.frombuffer(column, dtype=np.float64))
            )
        self.values = {}

    def _last_epoch(self, idx: list[int], steps: list[Any], members: list[Any]) -> None:
        """Keep the candidate of :func:`hf.steps_per_epoch` among these entries, if better."""
        step = np.fromiter(steps, dtype=np.float64, count=len(steps))
        epoch = hf.numbers(list(map(itemgetter("epoch"), members)))
        ok = np.flatnonzero((epoch > 0) & np.isfinite(step))
        if ok.size == 0:
            return
        i = int(ok[np.argmax(step[ok])])
        found = (float(step[i]), self.n + idx[i], float(epoch[i]))
        best = self.last_epoch
        if best is None or found[0] > best[0] or (found[0] == best[0] and found[1] < best[1]):
            self.last_epoch = found

    def _column(self, key: str, *, pop: bool = False) -> tuple[IntArray, FloatArray]:
        """A key's entries and values, in entry order (``pop``: and forget them)."""
        chunks = self.parts.pop(key, []) if pop else self.parts.get(key, [])
        at, order = self._entries(chunks)
        if not chunks:
            return at, np.empty(0)
        values = chunks[0][1] if len(chunks) == 1 else np.concatenate([c[1] for c in chunks])
        return at, (values if order is None else values[order])

    def _entries(
        self, chunks: list[tuple[IntArray, FloatArray]]
    ) -> tuple[IntArray, IntArray | None]:
        """The entries of a key's chunks in order, and the order that sorts its values.

        Keys of the same shapes get the very same array of entries, so that their curves share
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

    def history(
        self,
        state: Mapping[str, Any],
        *,
        source: str,
        columns: Mapping[str, str] | None,
        directions: Mapping[str, str] | None,
    ) -> History:
        """What :func:`hf.read_log_history` makes of the same entries, step for step."""
        self._finish()
        notes = [hf.summary_note(entry) for _, entry in self.summaries]
        masked = self._unmask_nan_filter()
        if masked:
            notes.append(hf.masked_note(masked))
        shapes = list(self.shapes)
        kept_shape = np.array([self.kept(s) for s in shapes], dtype=np.bool_)
        without = sum(
            count
            for s, count in zip(shapes, self.shape_counts, strict=True)
            if "step" not in s and not hf.is_summary(s)
        )
        if without:
            notes.append(hf.without_step_note(without))
        if not kept_shape.any():
            raise _NotOurs  # the usual reader says there is nothing to read
        kept = kept_shape[np.frombuffer(self.shape_of, dtype=np.int32)]
        # keys in order of first appearance among the kept entries, as _records gathers them:
        # whether an entry is kept depends on its shape, so the shapes' own order is theirs
        keys = list(dict.fromkeys(k for s in shapes if self.kept(s) for k in s))
        best = self.last_epoch
        spe = None if best is None else hf.steps_per_epoch(np.array(best[:1]), np.array(best[2:]))
        keep_names = tuple((columns or {}).keys())
        series, more = cells_series(
            int(kept.sum()),
            _KeptCells(self, keys, kept),
            source=source,
            x_key="step",
            keep_names=keep_names,
        )
        return hf.history_of(
            series,
            [*notes, *more],
            state=state,
            spe=spe,
            source=source,
            fmt="hf-trainer-state",
            columns=columns,
            directions=directions,
        )

    def _unmask_nan_filter(self) -> int:
        """:func:`hf._unmask_nan_filter` over the columns: how many losses became NaN."""
        norms = self.parts.get("grad_norm", [])
        if "loss" not in self.parts or all(np.isfinite(c[1]).all() for c in norms):
            return 0  # no non-finite grad_norm: nothing was masked (the usual case)
        at, loss = self._column("loss")
        at_norm, norm = self._column("grad_norm")
        if at is at_norm:  # the same entries (the usual case)
            where = np.flatnonzero((loss == 0) & ~np.isfinite(norm))
        else:
            _, i, j = np.intersect1d(at, at_norm, assume_unique=True, return_indices=True)
            where = i[(loss[i] == 0) & ~np.isfinite(norm[j])]
        if where.size:
            loss = loss.copy()
            loss[where] = np.nan
            self.parts["loss"] = [(at, loss)]
        return int(where.size)

    def pop_cells(self, key: str, kept: BoolArray) -> tuple[IntArray, NumericColumn]:
        """A key's cells among the kept entries (numbered from 0); its parts are freed."""
        at, values = self._column(key, pop=True)
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


class _KeptCells(Mapping[str, tuple[IntArray, NumericColumn]]):
    """The cells of :func:`cells_series`, each built when it is asked for and then freed by the
    caller: only one key's entry numbers are alive at a time. A bookkeeping key (not a curve)
    gets no cells at all; ``cells_series`` drops it by name."""

    def __init__(self, log: _LogHistory, keys: list[str], kept: BoolArray) -> None:
        self._log = log
        self._keys = keys
        self._kept = kept

    def __getitem__(self, key: str) -> tuple[IntArray, NumericColumn]:
        if key not in self._keys:
            raise KeyError(key)
        if not self._log.stored(key):  # dropped by name: no values were kept
            empty = np.empty(0)
            return np.empty(0, dtype=np.intp), NumericColumn(empty, empty.astype(bool), (), None)
        return self._log.pop_cells(key, self._kept)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
