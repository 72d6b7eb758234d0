"""Decoding the common TensorBoard scalar event in bulk, with numpy instead of a loop per record.

Nearly every event that PyTorch's ``SummaryWriter.add_scalar`` (or tensorboardX, or TF1) writes
has the same bytes::

    09 <wall_time: 8 bytes>  10 <step: varint>  2a <len>  0a <len>  0a <tag len> <tag>  15 <float32>

i.e. ``Event{wall_time, step, summary{value{tag, simple_value}}}`` with nothing else (a zero
wall time or step is left out, as proto3 does). Such records
are recognised and decoded for all records at once (the step varint byte by byte across all
records, the tag bytes as fixed-width rows grouped with ``np.unique``, the float32 by a view).
Every other record (file version, graphs, histograms, TF2 tensors, metadata...) is left to the
field walker in :mod:`.tensorboard`.

:func:`apply_restarts` applies TensorBoard's restart rule to a whole sequence of steps at once:
a point is dropped when a *later* point goes back (its step is below the step before it) to a
step at or below its own -- exactly what dropping "the points at step >= the new step" at each
backwards jump does, one jump at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from curvedoc.model import FloatArray

IntArray = npt.NDArray[np.int64]
_MAX_TAG = 64


@dataclass
class Batch:
    """The simple-value records of one file: which records they are, and their contents."""

    fast: npt.NDArray[np.bool_]  # per record
    tags: list[bytes]  # the distinct tags
    tag_of: IntArray  # per fast record, an index into ``tags``
    steps: IntArray
    values: FloatArray


def decode(data: bytes, starts: IntArray, lengths: IntArray) -> Batch:
    """Find and decode the simple-value records among ``starts``/``lengths``."""
    n = starts.shape[0]
    buf = np.frombuffer(data, dtype=np.uint8)
    last = buf.shape[0] - 1
    ends = starts + lengths

    def at(idx: IntArray) -> npt.NDArray[np.uint8]:
        out: npt.NDArray[np.uint8] = buf[np.minimum(idx, last)]
        return out

    # wall_time and step are optional (proto3 leaves out zeros: step 0 has no step field)
    p = np.where(at(starts) == 0x09, starts + 9, starts)
    has_step = at(p) == 0x10
    p = p + has_step
    step = np.zeros(n, dtype=np.uint64)
    vlen = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    for k in range(10):
        byte = at(p + k).astype(np.uint64)
        active = ~done
        step |= np.where(active, (byte & np.uint64(0x7F)) << np.uint64(7 * k), np.uint64(0))
        stop = active & (byte < 0x80)
        vlen[stop] = k + 1
        done |= stop
    ok = (lengths >= 9) & (done | ~has_step)
    step[~has_step] = 0
    q = p + np.where(has_step, vlen, 0)
    len1 = at(q + 1).astype(np.int64)
    len2 = at(q + 3).astype(np.int64)
    tag_len = at(q + 5).astype(np.int64)
    ok &= (at(q) == 0x2A) & (len1 < 0x80) & (q + 2 + len1 == ends)
    ok &= (at(q + 2) == 0x0A) & (len2 < 0x80) & (q + 4 + len2 == ends)
    ok &= (at(q + 4) == 0x0A) & (tag_len < 0x80) & (tag_len <= _MAX_TAG)
    r = q + 6 + tag_len
    ok &= (at(r) == 0x15) & (r + 5 == ends)
    idx = np.flatnonzero(ok)
    empty_i = np.empty(0, dtype=np.int64)
    if idx.shape[0] == 0:
        return Batch(ok, [], empty_i, empty_i, np.empty(0, dtype=np.float64))
    tq, tl, tr = q[idx] + 6, tag_len[idx], r[idx]
    width = int(tl.max())
    cols = np.arange(width, dtype=np.int64)
    tag_bytes = at(tq[:, None] + cols[None, :])
    tag_bytes[cols[None, :] >= tl[:, None]] = 0
    key = np.ascontiguousarray(np.concatenate([tl[:, None].astype(np.uint8), tag_bytes], axis=1))
    keys, tag_of = np.unique(key.view(f"V{width + 1}").ravel(), return_inverse=True)
    tags = [bytes(k)[1 : 1 + bytes(k)[0]] for k in keys.tolist()]
    raw = at(tr[:, None] + 1 + np.arange(4, dtype=np.int64)[None, :])
    values = np.ascontiguousarray(raw).view("<f4").ravel().astype(np.float64)
    steps = step[idx].view(np.int64)
    return Batch(ok, tags, tag_of.astype(np.int64).ravel(), steps, values)


def apply_restarts(steps: IntArray) -> tuple[npt.NDArray[np.bool_], list[tuple[int, int]]]:
    """(which points survive, the backwards jumps as (old, new)) for steps in write order."""
    n = steps.shape[0]
    if n < 2:
        return np.ones(n, dtype=np.bool_), []
    back = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    if back.shape[0] == 0:
        return np.ones(n, dtype=np.bool_), []
    trigger = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    trigger[back] = steps[back]
    # the lowest step any *later* backwards jump returns to
    later = np.minimum.accumulate(trigger[::-1])[::-1]
    later = np.concatenate((later[1:], [np.iinfo(np.int64).max]))
    keep = steps < later
    jumps = [(int(steps[i - 1]), int(steps[i])) for i in back.tolist()]
    return keep, jumps
