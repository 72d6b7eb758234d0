"""TensorBoard event files (``events.out.tfevents.*``), read without TensorFlow or protobuf.

What is read: every *scalar* summary, whoever wrote it --

* PyTorch ``SummaryWriter``/tensorboardX/TF1: ``Summary.Value.simple_value`` (float32);
* TF2/Keras ``tf.summary.scalar``: a rank-0 ``TensorProto`` with 4 bytes in ``tensor_content``;
* tensorboard's own ``scalar_pb`` and PyTorch ``new_style=True``: ``float_val``;
  ``double_precision=True``: ``double_val``; also ``int_val``/``int64_val``/``half_val`` and the
  dtypes FLOAT, DOUBLE, HALF, BFLOAT16, INT32, INT64.

A tag is classified by its *first* event's plugin, as TensorBoard does: ``scalars`` (or no
plugin) is read, anything else (``histograms``, ``images``, ``text``, ``hparams``...) and
any tensor with more than one element is skipped and noted.

Restarts: when a tag's step goes backwards, the points already read at a step >= the new step
are dropped (and noted) -- TensorBoard's own "purge orphaned data" rule -- and a
``SessionLog.START`` does the same for every tag. Several event files in one folder are read in
file-name order (their names start with a 10-digit timestamp, so that is time order), as one
stream. A cut-off last record is read up to the last whole record (:mod:`.tfrecord`).

Layouts: a folder of event files is one run; sub-folders named by a split (Keras writes
``train/`` and ``validation/``, PyTorch ``add_scalars`` writes ``<tag>_train/``, ``<tag>_val/``)
belong to it, their curves named ``<sub-folder>/<tag>`` so ``train/epoch_loss`` is the training
loss and ``validation/epoch_loss`` the validation loss. Hugging Face's ``train/loss`` and
``eval/loss`` tags classify by their prefix; its end-of-training summary tags
(``train/train_loss``, ``train/train_runtime``...) and Keras' duplicate
``evaluation_*_vs_iterations`` tags are not curves. Lightning's ``hp_metric`` is bookkeeping.

Decision: our own reader, not the ``tensorboard`` package as an optional extra. Measured on
the project machine (2 shared cores) with tensorboard 2.21, on one event file of 200 000 scalar
events (two tags, 9.8 MB, written by tensorboard's own ``RecordWriter``):

=====================================================  =========  ================================
reader                                                 read time  weight
=====================================================  =========  ================================
this module (bulk numpy decode, :mod:`._tb_batch`)     ~0.4 s     ~850 lines with docs, no deps
this module, record by record (TF2 tensors, mixed)     ~2.1 s
tensorboard ``EventAccumulator`` (size_guidance 0)     ~20 s      ~59 MB installed (grpcio,
tensorboard ``EventFileLoader`` (no accumulation)      ~60-120 s  protobuf, a platform binary,
                                                                  werkzeug...), ~1.2 s import
=====================================================  =========  ================================

(The bulk decode takes the records PyTorch/TF1 write, ``simple_value`` scalars; files whose
scalars are tensors (TF2, Keras) or come with session restarts are walked record by record.)
Without TensorFlow, tensorboard's record reader is pure Python (CRCs byte by byte), and its
accumulators keep a reservoir *sample* of the scalars unless told to keep everything; it also
cannot decode a bfloat16 ``half_val``. So ``tensorboard`` is only a *test* dependency: it (with
tensorboardX) wrote the files in tests/data/tensorboard (tests/data/make_tensorboard.py), and
tests/test_tensorboard.py checks every value we read against what it reads.
"""

from __future__ import annotations

import bisect
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from curvedoc.errors import InputError
from curvedoc.model import FloatArray, History
from curvedoc.readers import _tb_batch, roles
from curvedoc.readers._assemble import Series, assemble
from curvedoc.readers._meta import simple_yaml
from curvedoc.readers._text import read_bytes
from curvedoc.readers.tfrecord import signed64, split_records, varint, walk

FORMATS: tuple[tuple[str, str], ...] = (
    ("tensorboard", "TensorBoard event files (events.out.tfevents.*), a file or a run folder"),
)

_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64, _DT_BFLOAT16, _DT_HALF = 1, 2, 3, 9, 14, 19
_CONTENT = {_DT_FLOAT: "<f", _DT_DOUBLE: "<d", _DT_INT32: "<i", _DT_INT64: "<q", _DT_HALF: "<e"}
_SESSION_START = 1
# Event{wall_time(1), step(2), summary(5){value(1){tag(1)...}}}: the prefix every PyTorch/TF1
# scalar event has; groups: step varint, summary length, value length, tag length.
_FAST = re.compile(
    rb"(?:\x09.{8})?\x10([\x80-\xff]{0,9}[\x00-\x7f])"
    rb"\x2a([\x00-\x7f])\x0a[\x00-\x7f]\x0a[\x00-\x7f]",
    re.DOTALL,
)
_unpack_f = struct.Struct("<f").unpack_from
_BATCH_MIN = 64  # records; below this the per-record walk is as fast

# Hugging Face's end-of-training summary, rewritten by its TensorBoardCallback as train/<key>.
_HF_SUMMARY = frozenset(
    {
        "train/train_loss",
        "train/train_runtime",
        "train/train_samples_per_second",
        "train/train_steps_per_second",
        "train/train_tokens_per_second",
        "train/total_flos",
    }
)
_SPLIT_DIRS = frozenset(
    {"train", "training", "validation", "val", "valid", "eval", "evaluation", "test"}
)


def is_event_file_name(name: str) -> bool:
    """TensorBoard's own test for an event file: ``"tfevents" in basename``."""
    return "tfevents" in name


class _Unsupported(Exception):
    """A value that is not a scalar (a tensor with several elements, a string...)."""


def _half(bits: int) -> float:
    return float(struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0])


def _bfloat16(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", (bits & 0xFFFF) << 16))[0])


def _packed(buf: bytes, a: int, b: int, wt: int, fmt: str) -> list[float]:
    if wt == 2:
        size = struct.calcsize(fmt)
        return [float(v) for v in struct.unpack_from(f"<{(b - a) // size}{fmt}", buf, a)]
    return [float(struct.unpack_from(f"<{fmt}", buf, a)[0])]


def _varints(buf: bytes, a: int, b: int, wt: int, value: int) -> list[int]:
    if wt == 0:
        return [value]
    out = []
    i = a
    while i < b:
        v, i = varint(buf, i)
        out.append(v)
    return out


def tensor_scalar(buf: bytes, start: int, end: int) -> float:
    """The value of a one-element ``TensorProto``; :class:`_Unsupported` for anything else."""
    dtype = 0
    size = 1
    content: tuple[int, int] | None = None
    values: list[float] = []
    raw_ints: list[int] = []
    for f, wt, a, b in walk(buf, start, end):
        if f == 1 and wt == 0:
            dtype = a
        elif f == 2 and wt == 2:  # TensorShapeProto: dim (2) -> Dim.size (1)
            for df, dwt, da, db in walk(buf, a, b):
                if df == 2 and dwt == 2:
                    for sf, swt, sa, _ in walk(buf, da, db):
                        if sf == 1 and swt == 0:
                            size *= signed64(sa)
        elif f == 4 and wt == 2:
            content = (a, b)
        elif f == 5 and wt in (2, 5):
            values += _packed(buf, a, b, wt, "f")
        elif f == 6 and wt in (1, 2):
            values += _packed(buf, a, b, wt, "d")
        elif f in (7, 10) and wt in (0, 2):
            ints = _varints(buf, a, b, wt, a)
            values += [float(signed64(v) if f == 10 else _int32(v)) for v in ints]
        elif f == 13 and wt in (0, 2):
            raw_ints += _varints(buf, a, b, wt, a)
    if size != 1:
        raise _Unsupported("a tensor with several elements")
    if content is not None and content[1] > content[0]:
        a, b = content
        if dtype == _DT_BFLOAT16 and b - a == 2:
            return _bfloat16(int.from_bytes(buf[a:b], "little"))
        fmt = _CONTENT.get(dtype)
        if fmt is None or struct.calcsize(fmt) != b - a:
            raise _Unsupported(f"tensor content of dtype {dtype}")
        return float(struct.unpack_from(fmt, buf, a)[0])
    if raw_ints:
        return _bfloat16(raw_ints[0]) if dtype == _DT_BFLOAT16 else _half(raw_ints[0])
    if len(values) == 1:
        return values[0]
    raise _Unsupported("a tensor with no numeric value")


def _int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _plugin_name(buf: bytes, start: int, end: int) -> str:
    for f, wt, a, b in walk(buf, start, end):
        if f == 1 and wt == 2:
            for pf, pwt, pa, pb in walk(buf, a, b):
                if pf == 1 and pwt == 2:
                    return buf[pa:pb].decode("utf-8", "replace")
    return ""


@dataclass
class _Tag:
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass
class EventStream:
    """Scalars of one run folder (or file), accumulated over its event files in order."""

    tags: dict[str, _Tag] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # tag -> why
    purged: dict[str, int] = field(default_factory=dict)
    restarts: list[tuple[str, int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: int = 0
    bad_records: int = 0
    session_starts: int = 0
    _names: dict[bytes, str] = field(default_factory=dict)

    def _add(self, tag: str, step: int, value: float) -> None:
        t = self.tags.get(tag)
        if t is None:
            t = self.tags[tag] = _Tag()
        elif t.steps and step < t.steps[-1]:
            cut = bisect.bisect_left(t.steps, step)
            self.purged[tag] = self.purged.get(tag, 0) + len(t.steps) - cut
            self.restarts.append((tag, t.steps[-1], step))
            del t.steps[cut:], t.values[cut:]
        t.steps.append(step)
        t.values.append(value)

    def _session_start(self, step: int) -> None:
        self.session_starts += 1
        for tag, t in self.tags.items():
            cut = bisect.bisect_left(t.steps, step)
            if cut < len(t.steps):
                self.purged[tag] = self.purged.get(tag, 0) + len(t.steps) - cut
                del t.steps[cut:], t.values[cut:]

    def _tag_name(self, raw: bytes) -> str:
        name = self._names.get(raw)
        if name is None:
            name = self._names[raw] = raw.decode("utf-8", "replace")
        return name

    def read_event(self, buf: bytes, start: int, end: int) -> None:
        m = _FAST.match(buf, start, end)
        if m is not None:
            # The common shape, one simple_value of a known tag (PyTorch, TF1): no field walk.
            i = m.end()
            tl = buf[i - 1]
            if i + tl + 5 == end and m.group(2)[0] == end - m.start(2) - 1 and buf[i + tl] == 0x15:
                tag = self._names.get(buf[i : i + tl])
                if tag is not None and tag in self.tags:
                    step = 0
                    for k, b in enumerate(m.group(1)):
                        step |= (b & 0x7F) << (7 * k)
                    self.events += 1
                    self._add(tag, signed64(step), _unpack_f(buf, i + tl + 1)[0])
                    return
        self._read_event(buf, start, end)

    def _read_event(self, buf: bytes, start: int, end: int) -> None:
        step = 0
        summary: tuple[int, int] | None = None
        i = start
        while i < end:
            key, i = varint(buf, i)
            f, wt = key >> 3, key & 7
            if wt == 0:
                v, i = varint(buf, i)
                if f == 2:
                    step = signed64(v)
            elif wt == 2:
                ln, i = varint(buf, i)
                if f == 5:
                    summary = (i, i + ln)
                elif f == 7:
                    for sf, swt, sa, _ in walk(buf, i, i + ln):
                        if sf == 1 and swt == 0 and sa == _SESSION_START:
                            self._session_start(step)
                i += ln
            elif wt == 1:
                i += 8
            elif wt == 5:
                i += 4
            else:
                raise ValueError(f"unsupported protobuf wire type {wt}")
        if i != end:
            raise ValueError("event runs past its record")
        if summary is None:
            return
        self.events += 1
        for f, wt, a, b in walk(buf, summary[0], summary[1]):
            if f == 1 and wt == 2:
                self._read_value(buf, a, b, step)

    def _read_value(self, buf: bytes, start: int, end: int, step: int) -> None:
        tag = ""
        node = ""
        simple: float | None = None
        tensor: tuple[int, int] | None = None
        plugin: str | None = None
        for f, wt, a, b in walk(buf, start, end):
            if f == 1 and wt == 2:
                tag = self._tag_name(buf[a:b])
            elif f == 2 and wt == 5:
                simple = struct.unpack_from("<f", buf, a)[0]
            elif f == 7 and wt == 2:
                node = self._tag_name(buf[a:b])
            elif f == 8 and wt == 2:
                tensor = (a, b)
            elif f == 9 and wt == 2:
                plugin = _plugin_name(buf, a, b)
        tag = tag or node
        if not tag or tag in self.skipped:
            return
        known = tag in self.tags
        if plugin and not known and plugin != "scalars":
            self.skipped[tag] = f"{plugin} plugin"
            return
        if simple is not None:
            self._add(tag, step, float(simple))
        elif tensor is not None:
            try:
                value = tensor_scalar(buf, tensor[0], tensor[1])
            except _Unsupported as exc:
                if not known:
                    self.skipped[tag] = str(exc)
                return
            self._add(tag, step, value)
        elif not known:
            self.skipped[tag] = "no scalar value (image, audio or histogram)"

    def read_file(self, data: bytes, source: str) -> None:
        recs = split_records(data)
        prefix = f"{os.path.basename(source)}: "
        self.notes += [prefix + n for n in recs.notes]
        if len(recs.starts) >= _BATCH_MIN and self._read_batch(data, recs.starts, recs.lengths):
            return
        self._read_records(data, recs.starts, recs.lengths)

    def _read_records(self, data: bytes, starts: list[int], lengths: list[int]) -> None:
        for s, ln in zip(starts, lengths, strict=True):
            try:
                self.read_event(data, s, s + ln)
            except (ValueError, IndexError, struct.error, UnicodeDecodeError):
                self.bad_records += 1

    def _read_batch(self, data: bytes, starts: list[int], lengths: list[int]) -> bool:
        """Decode the file's simple-value records in bulk (:mod:`._tb_batch`); False (nothing
        done) when the other records hold scalars or restarts too, which need file order."""
        st = np.asarray(starts, dtype=np.int64)
        ln = np.asarray(lengths, dtype=np.int64)
        batch = _tb_batch.decode(data, st, ln)
        n_fast = int(batch.fast.sum())
        if n_fast == 0:
            return False
        probe = EventStream(_names=self._names)
        slow = np.flatnonzero(~batch.fast).tolist()
        probe._read_records(data, [starts[i] for i in slow], [lengths[i] for i in slow])
        names = [self._tag_name(t) for t in batch.tags]
        if probe.tags or probe.session_starts or any(n in probe.skipped for n in names):
            return False
        for tag, why in probe.skipped.items():
            self.skipped.setdefault(tag, why)
        self.bad_records += probe.bad_records
        self.events += probe.events + n_fast
        order = np.argsort(batch.tag_of, kind="stable")
        bounds = np.searchsorted(batch.tag_of[order], np.arange(len(names) + 1))
        for k, name in enumerate(names):
            if name in self.skipped:
                continue
            sel = order[bounds[k] : bounds[k + 1]]
            self._add_many(name, batch.steps[sel], batch.values[sel])
        return True

    def _add_many(self, tag: str, steps: npt.NDArray[np.int64], values: FloatArray) -> None:
        t = self.tags.get(tag)
        if t is None:
            t = self.tags[tag] = _Tag()
        all_steps = np.concatenate((np.asarray(t.steps, dtype=np.int64), steps))
        all_values = np.concatenate((np.asarray(t.values, dtype=np.float64), values))
        keep, jumps = _tb_batch.apply_restarts(all_steps)
        dropped = int(keep.shape[0] - keep.sum())
        if dropped:
            self.purged[tag] = self.purged.get(tag, 0) + dropped
        self.restarts += [(tag, old, new) for old, new in jumps]
        t.steps = all_steps[keep].tolist()
        t.values = all_values[keep].tolist()


def event_files(folder: Path) -> list[Path]:
    """The event files directly in ``folder``, in TensorBoard's (file name) order."""
    try:
        return sorted(p for p in folder.iterdir() if is_event_file_name(p.name) and p.is_file())
    except OSError:
        return []


def split_subfolders(folder: Path) -> list[Path]:
    """Sub-folders of ``folder`` that hold one split of its run (``train/``, ``Loss_val/``)."""
    try:
        children = sorted(c for c in folder.iterdir() if c.is_dir())
    except OSError:
        return []
    out = []
    for c in children:
        words = roles.tokens(c.name)
        if words and words[-1] in _SPLIT_DIRS and event_files(c):
            out.append(c)
    return out


def is_run_folder(folder: Path) -> bool:
    """Event files in the folder itself or in split sub-folders (Keras ``train``/``validation``)."""
    return bool(event_files(folder)) or bool(split_subfolders(folder))


def _series(stream: EventStream, prefix: str, split: str | None, notes: list[str]) -> list[Series]:
    out: list[Series] = []
    dropped: list[str] = []
    for tag, t in stream.tags.items():
        name = f"{prefix}{tag}"
        last = tag.rsplit("/", 1)[-1]
        if tag in _HF_SUMMARY or (last.startswith("evaluation_") and "_vs_iter" in last):
            dropped.append(name)
            continue
        x = np.asarray(t.steps, dtype=np.float64)
        y = np.asarray(t.values, dtype=np.float64)
        unit = "epoch" if last.startswith("epoch_") or last == "epoch" else "step"
        classify_as = last if roles.is_bookkeeping(last) else None
        s = Series(name, x, y, x_unit=unit, classify_as=classify_as)
        if split is not None and classify_as is None:
            role, _, direction = roles.classify(name)
            kind = "loss" if role.endswith("_loss") else "metric"
            if role in ("train_loss", "val_loss", "train_metric", "val_metric"):
                s.role = roles.role_for_split(kind, split)
                s.split = roles.split_for_role(s.role, split)
                s.direction = direction
        out.append(s)
    if dropped:
        notes.append(
            f"not curves (end-of-training summary or duplicate tags): {', '.join(dropped)}"
        )
    return out


def _stream_notes(stream: EventStream, where: str) -> list[str]:
    notes = list(stream.notes)
    if stream.bad_records:
        notes.append(f"{where}{stream.bad_records} malformed event(s) skipped")
    if stream.restarts:
        shown = ", ".join(f"{tag} {old} -> {new}" for tag, old, new in stream.restarts[:3])
        more = f" and {len(stream.restarts) - 3} more" if len(stream.restarts) > 3 else ""
        total = sum(stream.purged.values())
        notes.append(
            f"{where}the step went back (a restart: {shown}{more}); the {total} earlier "
            "point(s) at or after the new step dropped, as TensorBoard does"
        )
    elif stream.purged:
        notes.append(
            f"{where}a session restart dropped {sum(stream.purged.values())} earlier point(s) "
            "at or after its step, as TensorBoard does"
        )
    if stream.skipped:
        kinds = sorted(set(stream.skipped.values()))
        notes.append(
            f"{where}not scalars, skipped: {len(stream.skipped)} tag(s) ({'; '.join(kinds)})"
        )
    return notes


def _read_stream(files: list[Path]) -> EventStream:
    stream = EventStream()
    for file in files:
        stream.read_file(read_bytes(file, str(file)), str(file))
    return stream


def read_event_data(
    data: bytes,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """One event file's bytes (already read, maybe decompressed) into a History."""
    stream = EventStream()
    stream.read_file(data, source)
    notes = _stream_notes(stream, "")
    series = _series(stream, "", None, notes)
    if not stream.events:
        raise InputError("a TensorBoard event file with no summaries", path=source)
    return _assemble(series, notes, source, columns, directions, meta={})


def read_run_folder(
    folder: Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> History:
    """A run folder: event files in it, plus split sub-folders (see the module docstring)."""
    notes: list[str] = []
    series: list[Series] = []
    top = event_files(folder)
    subs = split_subfolders(folder)
    if top:
        stream = _read_stream(top)
        notes += _stream_notes(stream, "")
        series += _series(stream, "", None, notes)
    for sub in subs:
        stream = _read_stream(event_files(sub))
        where = f"{sub.name}/: "
        notes += _stream_notes(stream, where)
        split = roles.split_of(roles.tokens(sub.name)[-1])
        series += _series(stream, f"{sub.name}/", split, notes)
    n_files = len(top) + sum(len(event_files(s)) for s in subs)
    if not n_files:
        raise InputError("no TensorBoard event files in the folder", path=source)
    head = f"{n_files} event file(s) read as one run"
    if subs:
        head += f" (splits from sub-folders: {', '.join(s.name for s in subs)})"
    meta: dict[str, Any] = {}
    hparams = folder / "hparams.yaml"
    if hparams.is_file():
        meta = simple_yaml(hparams)
        if meta:
            notes.append(f"hyperparameters from {hparams.name}: {', '.join(meta)}")
    return _assemble(series, [head, *notes], source, columns, directions, meta=meta)


def _assemble(
    series: list[Series],
    notes: list[str],
    source: str,
    columns: Mapping[str, str] | None,
    directions: Mapping[str, str] | None,
    *,
    meta: Mapping[str, Any],
) -> History:
    if not series:
        raise InputError("no scalar summaries in the TensorBoard event file(s)", path=source)
    units = {s.x_unit for s in series if s.classify_as is None}
    x_unit = "epoch" if units == {"epoch"} else "step"
    return assemble(
        source=source,
        fmt="tensorboard",
        series=series,
        x_unit=x_unit,
        notes=notes,
        meta=meta,
        columns=columns,
        directions=directions,
    )
