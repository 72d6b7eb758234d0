"""A big ``trainer_state.json`` read a piece at a time, so that memory stays near its curves'.

``json.load`` of a 100,000-entry ``log_history`` builds ~500,000 Python objects (~50 MB) next to
the file's text (~15 MB): several times what the curves take as float64 arrays. This reader goes
through the file a piece at a time (:mod:`._streaming`). The small top-level fields are decoded
one by one; ``log_history`` is decoded a batch of entries at a time, and each batch's values go
straight into float64 buffers (one per entry shape and key) before the batch's objects are
dropped. Only what the History needs is kept: bookkeeping keys (``epoch``, ``eval_runtime``...)
by name, the summary entries whole. A 100,000-entry log is read in about 9 MB over the
interpreter, against ~60 MB for ``json.load`` alone, and faster.

It takes only what it reads exactly as :mod:`.hf` does: a top-level object whose
``log_history`` entries hold plain numbers (bookkeeping keys and the end-of-training summary may
hold anything). Anything else - a BOM, a string or null in a curve, invalid JSON, a second
``log_history``, a huge field before it - makes it give up (None), and the caller reads the file
the usual way, which gives the same History or the same error. The tests compare both routes on
every JSON log of real runs, cut into pieces as small as one byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from curvedoc.model import History
from curvedoc.readers import hf, roles
from curvedoc.readers._records import cells_series
from curvedoc.readers._streaming import ColumnStore, KeptCells, NotOurs, Text, stream_file

#: Characters a top-level field other than ``log_history`` may take.
_FIELD_MAX = 256 * 1024


def read_trainer_state_file(
    path: Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History | None:
    """The History of a ``trainer_state.json`` (the caller streams only big ones), or None when
    the usual reader must read it: not this format, anything unusual, an error it reports in
    its own words, or a read error."""

    def read(text: Text) -> History:
        state, log = _read_state(text, tuple((columns or {}).keys()))
        return log.history(state, source=source, columns=columns, directions=directions)

    return stream_file(path, source, read)


def _entries(text: Text) -> list[Any]:
    """The next batch of ``log_history`` entries: every whole entry in the buffer at once
    (one ``json.loads``), or the next one alone when the buffer holds no whole entry."""
    text.fill()
    end = text.buf.find("]", text.pos)
    cut = text.buf.rfind("}", text.pos, end if end >= 0 else len(text.buf)) + 1
    if cut > text.pos:
        # Only a cut between two entries parses: a cut inside a string leaves it open, one
        # inside a nested object leaves a brace open. A bad cut reads one entry instead.
        try:
            batch = json.loads("[" + text.buf[text.pos : cut] + "]")
        except (ValueError, RecursionError):
            pass
        else:
            text.pos = cut
            return list(batch)
    return [text.value()]


def _read_state(text: Text, keep_names: tuple[str, ...] = ()) -> tuple[dict[str, Any], _LogHistory]:
    """The top-level fields, and ``log_history`` as columns."""
    text.expect("{")
    state: dict[str, Any] = {}
    log: _LogHistory | None = None
    while True:
        if text.next_char() != '"':
            raise NotOurs
        key = text.value()
        text.expect(":")
        if key == "log_history":
            if log is not None:
                raise NotOurs  # json.load keeps the last one; so does the usual reader
            log = _read_log_history(text, keep_names)
        else:
            # the other fields are a few numbers and names: a big one (a Keras history's "loss"
            # list) is no trainer_state.json, and is not read to its end to find that out
            state[key] = text.value(limit=_FIELD_MAX)
        end = text.next_char()
        text.pos += 1
        if end == "}":
            break
        if end != ",":
            raise NotOurs
    if text.next_char() != "" or log is None:
        raise NotOurs  # extra data after the object (an error), or no log_history at all
    return state, log


def _read_log_history(text: Text, keep_names: tuple[str, ...]) -> _LogHistory:
    text.expect("[")
    log = _LogHistory(keep_names)
    if text.next_char() == "]":
        raise NotOurs  # empty: the usual reader says so
    while True:
        log.add(_entries(text))
        end = text.next_char()
        text.pos += 1
        if end == "]":
            return log
        if end != ",":
            raise NotOurs
        text.next_char()


@dataclass
class _LogHistory(ColumnStore):
    """``log_history`` as columns (see :class:`ColumnStore`). Only what the History needs is
    kept: the summary entries whole (they are notes), and bookkeeping keys (``epoch``,
    ``eval_runtime``..., not curves) by name alone - the one thing read from ``epoch``, the
    steps per epoch, is found batch by batch."""

    #: (step, entry, epoch) of the first kept entry with the highest step and a positive epoch
    last_epoch: tuple[float, int, float] | None = None

    def stored(self, key: str) -> bool:
        """Whether a key's values are needed: ``cells_series`` drops bookkeeping by name."""
        return key == "step" or key in self.keep_names or not roles.is_bookkeeping(key)

    def kept_whole(self, shape: tuple[str, ...]) -> bool:
        return hf.is_summary(shape)

    @staticmethod
    def kept(shape: tuple[str, ...]) -> bool:
        """Entries of this shape are curve points: not the summary, and with a step."""
        return "step" in shape and not hf.is_summary(shape)

    def seen(self, first: int, idx: list[int], members: list[Any]) -> None:
        """Keep the candidate of :func:`hf.steps_per_epoch` among these entries, if better."""
        if not members or "step" not in members[0] or "epoch" not in members[0]:
            return
        step = hf.numbers(list(map(itemgetter("step"), members)))
        epoch = hf.numbers(list(map(itemgetter("epoch"), members)))
        ok = np.flatnonzero((epoch > 0) & np.isfinite(step))
        if ok.size == 0:
            return
        i = int(ok[np.argmax(step[ok])])
        found = (float(step[i]), first + idx[i], float(epoch[i]))
        best = self.last_epoch
        if best is None or found[0] > best[0] or (found[0] == best[0] and found[1] < best[1]):
            self.last_epoch = found

    def history(
        self,
        state: Mapping[str, Any],
        *,
        source: str,
        columns: Mapping[str, str] | None,
        directions: Mapping[str, str] | None,
    ) -> History:
        """What :func:`hf.read_log_history` makes of the same entries, step for step."""
        self.finish()
        notes = [hf.summary_note(entry) for _, entry in self.whole]
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
            raise NotOurs  # the usual reader says there is nothing to read
        kept = self.kept_records(kept_shape)
        # keys in order of first appearance among the kept entries, as _records gathers them:
        # whether an entry is kept depends on its shape, so the shapes' own order is theirs
        keys = list(dict.fromkeys(k for s in shapes if self.kept(s) for k in s))
        best = self.last_epoch
        spe = None if best is None else hf.steps_per_epoch(np.array(best[:1]), np.array(best[2:]))
        series, more = cells_series(
            int(kept.sum()),
            KeptCells(self, keys, kept),
            source=source,
            x_key="step",
            keep_names=self.keep_names,
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
        at, loss = self.column("loss")
        at_norm, norm = self.column("grad_norm")
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
