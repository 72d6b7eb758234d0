"""Whatever the bytes or the object, a reader returns a valid History or raises InputError."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curvedoc.errors import InputError
from curvedoc.model import ROLES, History
from curvedoc.readers import from_object, read_path, read_runs
from curvedoc.readers.tfrecord import masked_crc32c, split_records

DATA = Path(__file__).resolve().parent / "data"

SEEDS = [
    b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,NA\n2,0.4,0.6\n",
    b"epoch,step,train_loss_step,val_loss\n0,9,0.5,\n0,9,,0.6\n1,19,0.4,\n1,19,,0.5\n",
    b'{"loss": [1.0, 0.5, NaN], "val_loss": [1.2, 0.9, 0.8]}',
    b'{"log_history": [{"loss": 2.0, "step": 10}, {"eval_loss": 1.0, "step": 10},'
    b' {"loss": 1.0, "step": 20}, {"train_runtime": 1.0, "train_loss": 1.5, "step": 20}]}',
    b"Wall time,Step,Value\n1,0,0.9\n2,1,0.5\n",
    b'{"validation_0": {"logloss": [0.6, 0.5]}, "validation_1": {"logloss": [0.7, 0.6]}}',
    b"iter 0: loss 3.1, time 10ms\niter 10: loss 2.5, time 10ms\n"
    b"step 10: train loss 2.4, val loss 2.6\n",
    b"[0]\teval-logloss:0.6\ttrain-logloss:0.5\n[1]\teval-logloss:0.5\ttrain-logloss:0.4\n",
    gzip.compress(b"epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.7\n0,0.9,1.0\n1,0.4,0.6\n"),
    next((DATA / "tensorboard" / "tb_writer").iterdir()).read_bytes(),
]

TOKENS = [b",", b"\n", b'"', b"{", b"}", b"[", b"]", b"NaN", b"NA", b"\r", b";", b"\t", b"1e999"]


def check(h: History) -> None:
    assert isinstance(h, History)
    assert any(len(c) >= 2 for c in h.curves)
    for c in h.curves:
        assert c.role in ROLES
        assert c.x_unit in ("epoch", "step")
        assert c.direction in ("min", "max")
        assert bool((c.x[1:] > c.x[:-1]).all())
    assert all("\n" not in n for n in h.notes)


def check_outcome(read: Callable[[], History]) -> None:
    """A valid History, or an InputError whose text is one line; nothing else may escape."""
    result: History | InputError
    try:
        result = read()
    except InputError as err:
        result = err
    if isinstance(result, InputError):
        assert "\n" not in str(result)
    else:
        check(result)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.integers(0, 2))
        if action == 0:
            data[pos] = draw(st.integers(0, 255))
        elif action == 1:
            del data[pos : pos + draw(st.integers(1, 20))]
        else:
            data[pos:pos] = draw(st.sampled_from(TOKENS))
    return bytes(data)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=mutated())
def test_mutated_files(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "log"
    p.write_bytes(data)
    check_outcome(lambda: read_path(p))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.sampled_from(["1.5", "NA", "", "x", "a\nb"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["loss", "val_loss", "step", "epoch", "lr", "log_history", "a\nb"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_arbitrary_objects(value: object) -> None:
    check_outcome(lambda: from_object(value))


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_reads(tmp_path: Path, seed: bytes) -> None:
    p = tmp_path / "log"
    p.write_bytes(seed)
    check(read_path(p))


def _frame(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


_EVENTS = b"".join(
    sorted(p.read_bytes() for p in (DATA / "tensorboard" / "pytorch_style").iterdir())
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_event_records_with_valid_checksums(tmp_path: Path, data: st.DataObject) -> None:
    """Mutations *inside* records, re-framed with correct CRCs, reach the protobuf walker."""
    recs = split_records(_EVENTS)
    bodies = [_EVENTS[s : s + n] for s, n in zip(recs.starts, recs.lengths, strict=True)]
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(bodies) - 1))
        body = bytearray(bodies[i])
        if not body:
            continue
        pos = data.draw(st.integers(0, len(body) - 1))
        if data.draw(st.booleans()):
            body[pos] = data.draw(st.integers(0, 255))
        else:
            del body[pos : pos + data.draw(st.integers(1, 8))]
        bodies[i] = bytes(body)
    p = tmp_path / "events.out.tfevents.1.fuzz"
    p.write_bytes(b"".join(_frame(b) for b in bodies))
    check_outcome(lambda: read_path(p))


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_reads_as_runs(tmp_path: Path, seed: bytes) -> None:
    p = tmp_path / "log"
    p.write_bytes(seed)
    runs = read_runs(p)
    assert runs
    for h in runs:
        check(h)
