"""TensorBoard event files: files written by real writers (tests/data/make_tensorboard.py), the
framing and protobuf edge cases, restarts, truncation, and a cross-check of every value against
the ``tensorboard`` package itself (a test dependency; those tests skip without it)."""

from __future__ import annotations

import gzip
import math
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from curvedoc.errors import InputError
from curvedoc.model import Curve, History
from curvedoc.readers import read_path, read_runs
from curvedoc.readers.tfrecord import crc32c, looks_like_tfrecord, masked_crc32c, split_records

DATA = Path(__file__).resolve().parent / "data" / "tensorboard"


def curve(h: History, name: str) -> Curve:
    c = h.get(name)
    assert c is not None, f"{name} not in {[c.name for c in h.curves]}"
    return c


def record(data: bytes) -> bytes:
    """One TFRecord, framed as the writers frame it."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def scalar_event(tag: str, value: float, step: int) -> bytes:
    """An Event{step, summary{value{tag, simple_value}}} built by hand (no protobuf needed)."""
    val = _field(1, tag.encode()) + b"\x15" + struct.pack("<f", value)
    return b"\x10" + _varint(step) + _field(5, _field(1, val))


def session_start(step: int) -> bytes:
    return b"\x10" + _varint(step) + _field(7, b"\x08\x01")


def event_file(tmp_path: Path, events: list[bytes], name: str = "events.out.tfevents.1.h") -> Path:
    p = tmp_path / name
    p.write_bytes(b"".join(record(e) for e in events))
    return p


# --- framing -----------------------------------------------------------------------------------


def test_crc32c_test_vectors() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert masked_crc32c(b"\x1a\x11CRC test, one two") == 0x5794D08A


def test_every_writer_starts_with_the_tfrecord_magic() -> None:
    files = sorted(DATA.rglob("events.out.tfevents.*"))
    assert len(files) == 8
    for f in files:
        assert looks_like_tfrecord(f.read_bytes()[:12]), f
    assert not looks_like_tfrecord(b"epoch,loss\n0,1.0\n")


def test_framing_checks_both_crcs(tmp_path: Path) -> None:
    good = [record(scalar_event("loss", 1.0 / (i + 1), i)) for i in range(5)]
    data = bytearray(b"".join(good))
    recs = split_records(bytes(data))
    assert len(recs.starts) == 5
    assert not recs.notes
    # flip a byte in the third record's data: that record alone is skipped
    third = sum(len(r) for r in good[:2]) + 14
    data[third] ^= 0xFF
    recs = split_records(bytes(data))
    assert len(recs.starts) == 4
    assert recs.notes == ["1 record(s) with a bad checksum skipped"]
    # corrupt the fourth record's length: framing is lost from there on
    data = bytearray(b"".join(good))
    fourth = sum(len(r) for r in good[:3])
    data[fourth] ^= 0x01
    recs = split_records(bytes(data))
    assert len(recs.starts) == 3
    assert "record 4" in recs.notes[0]
    assert "corrupt length" in recs.notes[0]


# --- files written by the real writers ---------------------------------------------------------


def test_pytorch_style_simple_values_with_a_restart() -> None:
    h = read_path(DATA / "pytorch_style")
    assert h.format == "tensorboard"
    roles = {c.name: c.role for c in h.curves}
    assert roles == {
        "Loss/train": "train_loss",
        "Loss/val": "val_loss",
        "Accuracy/val": "val_metric",
    }
    train = curve(h, "Loss/train")
    # session 1 logged steps 0-39, session 2 restarted at step 30 and logged 30-49:
    # TensorBoard drops the first session's steps 30-39, so 30-49 are the second session's
    assert train.x.tolist() == list(range(50))
    assert train.y[30] == pytest.approx(1.9 * math.exp(-30 / 15) + 0.1, rel=1e-6)
    assert train.y[29] == pytest.approx(2.0 * math.exp(-29 / 15) + 0.1, rel=1e-6)
    assert curve(h, "Loss/val").x.tolist() == [4, 9, 14, 19, 24, 29, 34, 39, 44, 49]
    assert any("the step went back (a restart: Loss/train 39 -> 30" in n for n in h.notes)
    assert any("14 earlier point(s)" in n for n in h.notes)
    # the histogram and the text summary are not scalars
    assert any("not scalars, skipped: 2 tag(s)" in n for n in h.notes)


def test_keras_train_and_validation_subfolders_are_one_run() -> None:
    h = read_path(DATA / "keras_tf2")
    roles = {c.name: (c.role, c.x_unit) for c in h.curves}
    assert roles == {
        "train/epoch_loss": ("train_loss", "epoch"),
        "train/epoch_accuracy": ("train_metric", "epoch"),
        "train/epoch_learning_rate": ("lr", "epoch"),
        "validation/epoch_loss": ("val_loss", "epoch"),
        "validation/epoch_accuracy": ("val_metric", "epoch"),
    }
    assert curve(h, "validation/epoch_accuracy").direction == "max"
    # TF2 tensors: 4 bytes of tensor_content (float32)
    assert curve(h, "train/epoch_loss").y[0] == pytest.approx(1.05, rel=1e-6)
    assert curve(h, "train/epoch_learning_rate").y[-1] == pytest.approx(1e-4, rel=1e-6)
    assert "splits from sub-folders: train, validation" in h.notes[0]
    assert any("validation/evaluation_loss_vs_iterations" in n for n in h.notes)


def test_tensorboard_writer_float_val_tensors() -> None:
    h = read_path(DATA / "tb_writer")
    assert curve(h, "loss").y.tolist()[:3] == pytest.approx([1.0, 0.5, 1 / 3], rel=1e-6)
    assert curve(h, "val_loss").role == "val_loss"


def test_hugging_face_tags() -> None:
    h = read_path(DATA / "hf_style")
    roles = {c.name: c.role for c in h.curves}
    assert roles == {
        "train/loss": "train_loss",
        "train/learning_rate": "lr",
        "train/grad_norm": "grad_norm",
        "eval/loss": "val_loss",
        "eval/accuracy": "val_metric",
    }
    assert curve(h, "eval/loss").x.tolist() == [50, 100, 150, 200]
    summary = next(n for n in h.notes if "end-of-training summary" in n)
    assert "train/train_loss" in summary
    assert "train/total_flos" in summary
    assert any("train/epoch" in n and "bookkeeping" in n for n in h.notes)


def test_lightning_version_folder_ignores_hp_metric_and_reads_hparams() -> None:
    h = read_path(DATA / "lightning" / "version_0")
    assert {c.name for c in h.curves} == {"train_loss_step", "val_loss", "val_acc"}
    assert h.meta == {"learning_rate": 0.002, "batch_size": 64}
    assert any("hp_metric" in n and "bookkeeping" in n for n in h.notes)
    # the lightning_logs folder holding one version reads as that run
    assert read_path(DATA / "lightning").get("val_loss") is not None


def test_every_dtype_encoding() -> None:
    h = read_path(DATA / "dtypes")
    expect = [1.0, 0.5, 1 / 3, 0.25, 0.2]
    for name in ("double", "double_content"):
        assert curve(h, name).y.tolist() == pytest.approx(expect, rel=1e-15)
    for name in ("half", "half_content"):
        assert curve(h, name).y.tolist() == pytest.approx(expect, rel=1e-3)
    for name in ("bf16", "bf16_content"):
        assert curve(h, name).y.tolist() == pytest.approx(expect, rel=1e-2)
    assert curve(h, "int32").y.tolist() == [10, 20, 30, 40, 50]
    assert curve(h, "int64").y.tolist() == [-(10**12) * s for s in range(1, 6)]
    assert h.get("vector") is None
    assert any("a tensor with several elements" in n for n in h.notes)


def test_single_event_file_and_gzip(tmp_path: Path) -> None:
    src = next((DATA / "tb_writer").iterdir())
    h = read_path(src)
    assert h.format == "tensorboard"
    assert len(curve(h, "loss")) == 20
    gz = tmp_path / (src.name + ".gz")
    gz.write_bytes(gzip.compress(src.read_bytes()))
    hz = read_path(gz)
    assert hz.notes[0] == "gzip-compressed input, decompressed"
    assert curve(hz, "loss").y.tolist() == curve(h, "loss").y.tolist()


def test_folder_of_tensorboard_runs_gives_each_run() -> None:
    runs = read_runs(DATA)
    assert sorted(Path(r.source).name for r in runs) == [
        "dtypes",
        "hf_style",
        "keras_tf2",
        "pytorch_style",
        "tb_writer",
        "version_0",
    ]
    with pytest.raises(InputError, match="holding 6 runs"):
        read_path(DATA)


# --- broken and hand-made files -----------------------------------------------------------------


def test_truncated_last_record_is_read_up_to_the_last_whole_record(tmp_path: Path) -> None:
    data = b"".join(record(scalar_event("loss", 1.0 / (i + 1), i)) for i in range(6))
    p = tmp_path / "events.out.tfevents.2.h"
    p.write_bytes(data[:-7])
    h = read_path(p)
    assert curve(h, "loss").x.tolist() == [0, 1, 2, 3, 4]
    assert any("the last record is cut short (still being written?)" in n for n in h.notes)


def test_truncated_real_file(tmp_path: Path) -> None:
    src = sorted((DATA / "pytorch_style").iterdir())[0]
    p = tmp_path / src.name
    p.write_bytes(src.read_bytes()[:-30])
    h = read_path(p)
    assert len(curve(h, "Loss/train")) >= 38
    assert any("cut short" in n for n in h.notes)


def test_session_log_start_purges_later_steps(tmp_path: Path) -> None:
    events = [scalar_event("loss", 1.0, s) for s in range(10)]
    events += [session_start(5), scalar_event("loss", 0.5, 5), scalar_event("loss", 0.4, 6)]
    h = read_path(event_file(tmp_path, events))
    c = curve(h, "loss")
    assert c.x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert c.y.tolist() == [1.0] * 5 + [0.5, pytest.approx(0.4)]
    assert any("a session restart dropped 5 earlier point(s)" in n for n in h.notes)


def test_negative_steps_and_malformed_event(tmp_path: Path) -> None:
    events = [scalar_event("loss", 2.0, -1), scalar_event("loss", 1.0, 0), b"\x10\xff"]
    events.append(scalar_event("loss", 0.5, 1))
    h = read_path(event_file(tmp_path, events))
    assert curve(h, "loss").x.tolist() == [-1, 0, 1]
    assert any("1 malformed event(s) skipped" in n for n in h.notes)


def test_no_scalars_is_a_clear_error(tmp_path: Path) -> None:
    version = b"\x1a\rbrain.Event:2"
    with pytest.raises(InputError, match="no summaries"):
        read_path(event_file(tmp_path, [version]))
    only_text = _field(5, _field(1, _field(1, b"notes") + _field(9, _field(1, _field(1, b"text")))))
    with pytest.raises(InputError, match="no scalar summaries"):
        read_path(event_file(tmp_path, [version, only_text], "events.out.tfevents.3.h"))


def test_corrupt_first_record_names_the_file_kind(tmp_path: Path) -> None:
    p = tmp_path / "events.out.tfevents.4.h"
    p.write_bytes(b"\x18\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + bytes(40))
    with pytest.raises(InputError, match="TensorBoard event file whose first record is corrupt"):
        read_path(p)


def test_pytorch_add_scalars_subfolders(tmp_path: Path) -> None:
    run = tmp_path / "run"
    for sub, base in (("Loss_train", 1.0), ("Loss_val", 1.2)):
        (run / sub).mkdir(parents=True)
        event_file(run / sub, [scalar_event("Loss", base / (s + 1), s) for s in range(5)])
    h = read_path(run)
    assert {c.name: c.role for c in h.curves} == {
        "Loss_train/Loss": "train_loss",
        "Loss_val/Loss": "val_loss",
    }


# --- cross-check against the tensorboard package ------------------------------------------------


def _tensorboard_scalars(folder: Path) -> dict[str, dict[int, float]]:
    """Every scalar as the tensorboard package reads it (all points, restarts purged)."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.util import tensor_util

    acc = pea.EventAccumulator(str(folder), size_guidance={pea.TENSORS: 0})
    acc.Reload()
    out: dict[str, dict[int, float]] = {}
    for tag in acc.Tags()["tensors"]:
        events = acc.Tensors(tag)
        try:
            arrays = [tensor_util.make_ndarray(e.tensor_proto) for e in events]
        except TypeError:  # bfloat16 half_val: tensorboard cannot decode it (numpy has no bf16)
            continue
        if any(a.size != 1 or a.dtype.kind not in "fiu" for a in arrays):
            continue
        out[tag] = {e.step: float(a.reshape(())) for e, a in zip(events, arrays, strict=True)}
    return out


@pytest.mark.parametrize("folder", ["pytorch_style", "tb_writer", "hf_style", "dtypes"])
def test_values_match_the_tensorboard_package(folder: str) -> None:
    expected = _tensorboard_scalars(DATA / folder)
    h = read_path(DATA / folder, columns={"train/epoch": "other", "eval/runtime": "other"})
    ours = {
        c.name: dict(zip(c.x.astype(int).tolist(), c.y.tolist(), strict=True)) for c in h.curves
    }
    compared = 0
    for tag, points in expected.items():
        if tag in ours:
            assert ours[tag] == pytest.approx(points, rel=1e-6), tag
            compared += 1
    assert compared >= 2


@pytest.mark.parametrize("sub", ["train", "validation"])
def test_keras_values_match_the_tensorboard_package(sub: str) -> None:
    expected = _tensorboard_scalars(DATA / "keras_tf2" / sub)
    h = read_path(DATA / "keras_tf2")
    for tag, points in expected.items():
        c = h.get(f"{sub}/{tag}")
        if c is None:
            continue
        assert dict(zip(c.x.astype(int).tolist(), c.y.tolist(), strict=True)) == pytest.approx(
            points, rel=1e-6
        )


def test_large_file_reads_fast(tmp_path: Path) -> None:
    """20 000 events in well under a second or two (the pure-Python tensorboard loader takes
    seconds for this; see the module docstring of curvedoc.readers.tensorboard)."""
    import time

    one = [record(scalar_event("loss", 1.0 / (i + 1), i)) for i in range(20_000)]
    p = tmp_path / "events.out.tfevents.5.h"
    p.write_bytes(b"".join(one))
    start = time.perf_counter()
    h = read_path(p)
    elapsed = time.perf_counter() - start
    assert len(curve(h, "loss")) == 20_000
    assert np.all(np.diff(curve(h, "loss").y) < 0)
    assert elapsed < 5.0


def test_readers_never_modify_the_folder(tmp_path: Path) -> None:
    copy = tmp_path / "pytorch_style"
    shutil.copytree(DATA / "pytorch_style", copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    read_path(copy)
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


# --- the bulk decoder agrees with the record-by-record walk ---------------------------------------


def _sequential(steps: list[int]) -> tuple[list[int], int]:
    """TensorBoard's rule applied one point at a time: (kept steps, dropped count)."""
    kept: list[int] = []
    dropped = 0
    for s in steps:
        if kept and s < kept[-1]:
            cut = next(i for i, k in enumerate(kept) if k >= s)
            dropped += len(kept) - cut
            del kept[cut:]
        kept.append(s)
    return kept, dropped


def test_apply_restarts_matches_the_sequential_rule() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from curvedoc.readers._tb_batch import apply_restarts

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.integers(-3, 12), max_size=40))
    def check(steps: list[int]) -> None:
        keep, _ = apply_restarts(np.asarray(steps, dtype=np.int64))
        kept = [s for s, k in zip(steps, keep.tolist(), strict=True) if k]
        assert (kept, len(steps) - len(kept)) == _sequential(steps)

    check()


@pytest.mark.parametrize("bulk", [True, False])
def test_bulk_and_record_by_record_reads_agree(
    tmp_path: Path, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from curvedoc.readers import tensorboard as tb

    monkeypatch.setattr(tb, "_BATCH_MIN", 1 if bulk else 10**9)
    rnd = random.Random(7)
    tags = ["loss", "val/loss", "a-rather-long-tag-name/with/parts"]
    written: list[tuple[str, int, float]] = []
    step = 0
    for _ in range(400):
        step = rnd.choice([step + 1, step + 1, step + 1, max(-2, step - rnd.randint(1, 20))])
        written.append((rnd.choice(tags), step, float(np.float32(rnd.random()))))
    events = [b"\x1a\rbrain.Event:2"] + [scalar_event(t, v, s) for t, s, v in written]
    events.insert(50, _field(5, _field(1, _field(1, b"weights") + _field(5, b"\x09" + bytes(8)))))
    p = event_file(tmp_path, events, f"events.out.tfevents.9.{int(bulk)}")
    walked: list[int] = []
    walk_records = tb.EventStream._read_records

    def spy(self: tb.EventStream, data: bytes, starts: list[int], lengths: list[int]) -> None:
        walked.append(len(starts))
        walk_records(self, data, starts, lengths)

    monkeypatch.setattr(tb.EventStream, "_read_records", spy)
    stream = tb.EventStream()
    stream.read_file(p.read_bytes(), str(p))
    # in bulk, only the file-version and histogram records are walked one by one
    assert walked == ([2] if bulk else [402])
    for tag in tags:
        steps = [s for t, s, _ in written if t == tag]
        kept, dropped = _sequential(steps)
        assert stream.tags[tag].steps == kept, tag
        assert stream.purged.get(tag, 0) == dropped
        # the values follow their steps: the last write of each kept step
        by_step = {s: v for t, s, v in written if t == tag}
        assert stream.tags[tag].values[-1] == by_step[kept[-1]]
    assert stream.skipped == {"weights": "no scalar value (image, audio or histogram)"}
    assert stream.events == 401
